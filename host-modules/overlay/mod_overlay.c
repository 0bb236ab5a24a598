/* qcam:overlay — the Overlay class over overlay.c: options checked here,
 * pixels drawn there (pull mode: draw(image); bound mode: link()'s
 * `overlay` option, drawn on the link's encode thread). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../image/image_js.h"
#include "../modules.h"
#include "../display/font.h"
#include "overlay_js.h"

static JSClassID overlay_class;

static void overlay_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    qcam_overlay_unref(JS_GetOpaque(val, overlay_class));
}

static const JSClassDef overlay_def = {"Overlay", .finalizer = overlay_finalizer};

int qcam_js_overlay_of(JSValueConst val, qcam_overlay **out)
{
    JSClassID got = 0;
    *out = JS_GetAnyOpaque(val, &got);
    if (overlay_class && got == overlay_class) return 1;
    *out = NULL;
    return 0;
}

static int parse_color(const char *s, uint8_t rgb[3])
{
    if (strlen(s) != 7 || s[0] != '#') return -1;
    for (int i = 0; i < 3; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[1 + 2 * i + k];
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                  : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        rgb[i] = (uint8_t)v;
    }
    return 0;
}

/* A "#rrggbb" option: 1 set, 0 absent, -1 thrown. `nullable`: null is 2. */
static int color_opt(JSContext *ctx, JSValueConst o, const char *name, bool nullable, uint8_t rgb[3])
{
    JSValue v;
    int r = qcam_opt_get(ctx, o, name, &v);
    if (r <= 0) return r;
    if (nullable && JS_IsNull(v)) return 2;
    const char *s = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
    JS_FreeValue(ctx, v);
    int bad = !s || parse_color(s, rgb) < 0;
    JS_FreeCString(ctx, s);
    if (bad) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "Overlay %s must be a colour \"#rrggbb\"%s", name,
                   nullable ? " or null" : "");
        return -1;
    }
    return 1;
}

static const char *const POSITIONS[] = {"top-left", "top-right", "bottom-left", "bottom-right"};
static const int SIZES[] = {QCAM_FONT_SIZES};

static JSValue overlay_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    JSValueConst o = argc > 0 ? argv[0] : JS_UNDEFINED;
    if (!qcam_opt_is_object(ctx, o))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new Overlay(options): options must be an object");
    static const char *const keys[] = {"text", "position", "x", "y", "margin", "size", "scale",
                                       "color", "background", "opacity", "padding", NULL};
    qcam_overlay_config cfg = {.color = {255, 255, 255}, .box = true, .box_color = {0, 0, 0}};
    if (qcam_opt_keys(ctx, o, "Overlay", keys) < 0) return JS_EXCEPTION;
    int r = qcam_opt_string(ctx, o, "Overlay", "text", "a non-empty string", cfg.text, sizeof cfg.text);
    if (r < 0) return JS_EXCEPTION;
    if (r == 0)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "Overlay text must be a non-empty string (at most %d bytes)", QCAM_OVERLAY_TEXT_MAX);
    if (qcam_overlay_check(cfg.text) < 0)
        return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG",
                          "Overlay text: unknown field (fields: %%Y %%m %%d %%H %%M %%S %%%%, {frame} {fps} {seq} {{)");
    char pos[16];
    r = qcam_opt_string(ctx, o, "Overlay", "position", "\"top-left\", \"top-right\", \"bottom-left\" or \"bottom-right\"",
                        pos, sizeof pos);
    if (r < 0) return JS_EXCEPTION;
    cfg.anchor = QCAM_OVERLAY_TOP_LEFT;
    if (r == 1) {
        int i = 0;
        while (i < 4 && strcmp(pos, POSITIONS[i]) != 0) i++;
        if (i == 4)
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                              "Overlay position must be \"top-left\", \"top-right\", \"bottom-left\" or "
                              "\"bottom-right\" (at most 15 bytes)");
        cfg.anchor = (qcam_overlay_anchor)i;
    }
    JSValue vx, vy;
    int hx = qcam_opt_get(ctx, o, "x", &vx), hy = hx < 0 ? -1 : qcam_opt_get(ctx, o, "y", &vy);
    if (hx > 0) JS_FreeValue(ctx, vx);
    if (hy > 0) JS_FreeValue(ctx, vy);
    if (hx < 0 || hy < 0) return JS_EXCEPTION;
    if ((hx || hy) && r == 1)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "Overlay takes a position or x and y, not both");
    if (hx || hy) cfg.anchor = QCAM_OVERLAY_XY;
    int size;
    if (qcam_opt_int(ctx, o, "Overlay", "x", 0, 16383, 1, "", 0, &cfg.x) < 0 ||
        qcam_opt_int(ctx, o, "Overlay", "y", 0, 16383, 1, "", 0, &cfg.y) < 0 ||
        qcam_opt_int(ctx, o, "Overlay", "margin", 0, 1024, 1, "", 8, &cfg.margin) < 0 ||
        qcam_opt_int(ctx, o, "Overlay", "size", 12, 48, 1, " (12, 14, 16, 20, 24, 32, 40 or 48)", 24, &size) < 0 ||
        qcam_opt_int(ctx, o, "Overlay", "scale", 1, 8, 1, "", 1, &cfg.scale) < 0)
        return JS_EXCEPTION;
    bool size_ok = false;
    for (size_t i = 0; i < sizeof SIZES / sizeof SIZES[0]; i++) size_ok = size_ok || SIZES[i] == size;
    if (!size_ok)
        return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG",
                          "Overlay size must be an integer from 12 to 48 (12, 14, 16, 20, 24, 32, 40 or 48), not %d",
                          size);
    cfg.size = size;
    if (color_opt(ctx, o, "color", false, cfg.color) < 0) return JS_EXCEPTION;
    r = color_opt(ctx, o, "background", true, cfg.box_color);
    if (r < 0) return JS_EXCEPTION;
    cfg.box = r != 2;
    if (qcam_opt_int(ctx, o, "Overlay", "opacity", 0, 100, 1, " (percent)", 50, &cfg.opacity) < 0 ||
        qcam_opt_int(ctx, o, "Overlay", "padding", 0, 64, 1, "", 4, &cfg.padding) < 0)
        return JS_EXCEPTION;
    int err;
    qcam_overlay *ov = qcam_overlay_new(&cfg, &err);
    if (!ov) return qcam_throw_errno(ctx, -err, "Overlay: cannot create");
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, overlay_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        qcam_overlay_unref(ov);
        return obj;
    }
    JS_SetOpaque(obj, ov);
    return obj;
}

static qcam_overlay *overlay_get(JSContext *ctx, JSValueConst v) { return qcam_handle(ctx, v, overlay_class, "Overlay"); }

enum { G_TEXT, G_FRAMES };

static JSValue overlay_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    qcam_overlay *ov = overlay_get(ctx, this_val);
    if (!ov) return JS_EXCEPTION;
    if (magic == G_TEXT) return JS_NewString(ctx, qcam_overlay_config_of(ov)->text);
    return JS_NewInt64(ctx, (int64_t)qcam_overlay_frames(ov));
}

static JSValue overlay_draw(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    qcam_overlay *ov = overlay_get(ctx, this_val);
    if (!ov) return JS_EXCEPTION;
    qcam_picture *pic = qcam_js_image_picture(ctx, argc > 0 ? argv[0] : JS_UNDEFINED);
    if (!pic) return JS_EXCEPTION;
    int r = qcam_overlay_draw(ov, pic);
    if (r == -ENOTSUP)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "Overlay draw: the image must be nv21, nv12, yuv420p or gray, not %s",
                          qcam_pixfmt_name(pic->format));
    if (r < 0) return qcam_throw_errno(ctx, -r, "Overlay draw");
    return JS_UNDEFINED;
}

/* A whole number in [0, max] (max <= 2^53). */
static int whole_arg(JSContext *ctx, JSValueConst v, const char *name, double max, double *out)
{
    if (!JS_IsNumber(v)) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "Overlay expand: %s must be a number", name);
        return -1;
    }
    JS_ToFloat64(ctx, out, v);
    if (!(*out >= 0 && *out <= max) || *out != floor(*out)) {
        qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "Overlay expand: %s must be a whole number from 0 to %.0f",
                   name, max);
        return -1;
    }
    return 0;
}

static JSValue overlay_expand(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    qcam_overlay *ov = overlay_get(ctx, this_val);
    if (!ov) return JS_EXCEPTION;
    double ms, frame = 0, fps = 0, seq = 0;
    if (whole_arg(ctx, argc > 0 ? argv[0] : JS_UNDEFINED, "timeMs", 253402300799999.0, &ms) < 0) return JS_EXCEPTION;
    if (argc > 1 && !JS_IsUndefined(argv[1]) && whole_arg(ctx, argv[1], "frame", 9007199254740991.0, &frame) < 0)
        return JS_EXCEPTION;
    if (argc > 2 && !JS_IsUndefined(argv[2])) {
        if (!JS_IsNumber(argv[2]))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "Overlay expand: fps must be a number");
        JS_ToFloat64(ctx, &fps, argv[2]);
        if (!(fps >= 0 && fps <= 1e6))
            return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "Overlay expand: fps must be from 0 to 1000000");
    }
    if (argc > 3 && !JS_IsUndefined(argv[3]) && whole_arg(ctx, argv[3], "seq", 9007199254740991.0, &seq) < 0)
        return JS_EXCEPTION;
    char out[QCAM_OVERLAY_TEXT_MAX + 1];
    size_t n = qcam_overlay_expand(qcam_overlay_config_of(ov)->text, (int64_t)ms, (uint64_t)frame, fps, (uint64_t)seq,
                                   out);
    return JS_NewStringLen(ctx, out, n);
}

static JSValue overlay_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, overlay_class, "Overlay", &opaque) < 0) return JS_EXCEPTION;
    JS_SetOpaque(this_val, NULL);
    qcam_overlay_unref(opaque); /* a link drawing with it keeps its own reference */
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry overlay_proto[] = {
    JS_CGETSET_MAGIC_DEF("text", overlay_getter, NULL, G_TEXT),
    JS_CGETSET_MAGIC_DEF("frames", overlay_getter, NULL, G_FRAMES),
    JS_CFUNC_DEF("draw", 1, overlay_draw),
    JS_CFUNC_DEF("expand", 1, overlay_expand),
    JS_CFUNC_DEF("close", 0, overlay_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Overlay", JS_PROP_CONFIGURABLE),
};

static int overlay_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_image_class_init(ctx) < 0 ||
        qcam_class_init(ctx, &overlay_class, &overlay_def, overlay_proto,
                        sizeof overlay_proto / sizeof overlay_proto[0], "close") < 0)
        return -1;
    return qcam_export_class(ctx, m, "Overlay", overlay_class, overlay_ctor, 1, JS_CFUNC_constructor);
}

JSModuleDef *qcam_mod_overlay_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, overlay_module_init);
    if (m) JS_AddModuleExport(ctx, m, "Overlay");
    return m;
}
