/* qcam:image — Image: a picture in native memory. JavaScript sees its shape
 * and, only when it asks, a read-only zero-copy ArrayBuffer over the pixels. */
#include "../../runtime/engine.h"
#include "../../runtime/qcam_host.h"
#include "../modules.h"
#include "image_js.h"

static JSClassID image_class;

static void image_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    qcam_picture_unref(JS_GetOpaque(val, image_class));
}

static const JSClassDef image_def = {"Image", .finalizer = image_finalizer};

JSValue qcam_js_image_new(JSContext *ctx, qcam_picture *pic)
{
    JSValue obj = JS_NewObjectClass(ctx, (int)image_class);
    if (JS_IsException(obj)) {
        qcam_picture_unref(pic);
        return obj;
    }
    JS_SetOpaque(obj, pic);
    return obj;
}

qcam_picture *qcam_js_image_picture(JSContext *ctx, JSValueConst val)
{
    return qcam_handle(ctx, val, image_class, "Image");
}

enum { P_WIDTH, P_HEIGHT, P_FORMAT, P_TIMESTAMP, P_SEQ, P_SIZE };

static JSValue image_get(JSContext *ctx, JSValueConst this_val, int magic)
{
    qcam_picture *p = qcam_js_image_picture(ctx, this_val);
    if (!p) return JS_EXCEPTION;
    switch (magic) {
    case P_WIDTH: return JS_NewInt32(ctx, p->width);
    case P_HEIGHT: return JS_NewInt32(ctx, p->height);
    case P_FORMAT: return JS_NewString(ctx, qcam_pixfmt_name(p->format));
    case P_TIMESTAMP: return JS_NewInt64(ctx, p->pts_us);
    case P_SEQ: return JS_NewInt64(ctx, (int64_t)p->seq);
    default: return JS_NewInt64(ctx, (int64_t)p->size);
    }
}

static void release_view(void *opaque, void *ptr)
{
    (void)ptr;
    qcam_picture_unref(opaque);
}

static JSValue image_to_array_buffer(JSContext *ctx, JSValueConst this_val, int argc,
                                     JSValueConst *argv)
{
    (void)argc; (void)argv;
    qcam_picture *p = qcam_js_image_picture(ctx, this_val);
    if (!p) return JS_EXCEPTION;
    /* The view holds its own reference: it outlives close() safely. */
    qcam_picture_ref(p);
    JSValue ab = qcam_engine_external_buffer(ctx, p->data, p->size, release_view, p);
    if (JS_IsException(ab)) qcam_picture_unref(p);
    return ab;
}

static JSValue image_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, image_class, "Image", &opaque) < 0) return JS_EXCEPTION;
    qcam_picture *p = opaque;
    JS_SetOpaque(this_val, NULL);
    qcam_picture_unref(p); /* idempotent: NULL the second time */
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry image_proto[] = {
    JS_CGETSET_MAGIC_DEF("width", image_get, NULL, P_WIDTH),
    JS_CGETSET_MAGIC_DEF("height", image_get, NULL, P_HEIGHT),
    JS_CGETSET_MAGIC_DEF("format", image_get, NULL, P_FORMAT),
    JS_CGETSET_MAGIC_DEF("timestampUs", image_get, NULL, P_TIMESTAMP),
    JS_CGETSET_MAGIC_DEF("seq", image_get, NULL, P_SEQ),
    JS_CGETSET_MAGIC_DEF("size", image_get, NULL, P_SIZE),
    JS_CFUNC_DEF("toArrayBuffer", 0, image_to_array_buffer),
    JS_CFUNC_DEF("close", 0, image_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Image", JS_PROP_CONFIGURABLE),
};

/* Images are created by other modules, so the class must exist even when an
 * app never imports qcam:image: they call this from their own init. */
int qcam_image_class_init(JSContext *ctx)
{
    if (JS_IsRegisteredClass(JS_GetRuntime(ctx), image_class)) {
        JSValue proto = JS_GetClassProto(ctx, image_class);
        bool ready = JS_IsObject(proto);
        JS_FreeValue(ctx, proto);
        if (ready) return 0;
    }
    return qcam_class_init(ctx, &image_class, &image_def, image_proto,
                           sizeof image_proto / sizeof image_proto[0], "close");
}

static JSValue image_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    (void)new_target; (void)argc; (void)argv;
    return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_ILLEGAL_CONSTRUCTOR",
                      "Images come from a Camera or a Decoder");
}

static int image_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_image_class_init(ctx) < 0) return -1;
    return qcam_export_class(ctx, m, "Image", image_class, image_ctor, 0, JS_CFUNC_constructor);
}

JSModuleDef *qcam_mod_image_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, image_module_init);
    if (m) JS_AddModuleExport(ctx, m, "Image");
    return m;
}
