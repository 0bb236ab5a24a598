/* qcam:camera — Camera (one sensor, its main output) and Channel (another
 * output of the same sensor at its own size, format and rate). QuickJS glue
 * only: options, classes, errors; the frames come from the HAL (camera.h).
 *
 * Ownership. Each Camera object has a cam_js, shared by reference count with
 * the Channel objects made from it, so finalizers may run in any order.
 * Closing the Camera (close(), its finalizer, or the app unloading, through
 * its qcam_resource) drops the app's reference on the HAL camera and closes
 * every Channel made from it.
 *
 * Links. A Camera (its main channel) or a Channel can be a link()'s source
 * (qcam:link's provider registry): the link's capture thread then reads the
 * HAL channel itself, holding its own reference on the HAL camera. While
 * linked, read(), skipFrames() and close() on that object throw ERR_BUSY. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/qcam_host.h"
#include "../app/app.h"
#include "../image/image_js.h"
#include "../link/link_js.h"
#include "../modules.h"
#include "camera.h"

/* How long read() waits with a dry pool before it says ERR_NO_BUFFER. The
 * JavaScript thread is inside read(), so only another thread (an encoder
 * worker) can give a picture back; Images the app holds never will. */
#define DRY_WAIT_US 500000

static JSClassID camera_class, channel_class;

typedef struct chn_js chn_js;

/* What a link's capture thread reads through (owned by the linked object). */
typedef struct {
    qcam_camera *cam; /* the link's own reference */
    qcam_camera_channel *chn;
} link_src;

typedef struct {
    int refs; /* the Camera object + each Channel object (app thread only) */
    qcam_camera *cam; /* NULL once closed */
    qcam_resource res;
    qcam_app *app;
    chn_js *channels;
    link_src *link; /* the main channel feeds a link */
    char source[256]; /* as the app wrote it, for messages ("" = pattern) */
} cam_js;

struct chn_js {
    cam_js *owner;
    qcam_camera_channel *chn; /* NULL once closed (or its Camera was) */
    link_src *link;
    chn_js *next;
};

static void cam_js_close(cam_js *h)
{
    if (!h->cam) return;
    for (chn_js *c = h->channels; c; c = c->next) c->chn = NULL;
    qcam_resource_remove(h->app, &h->res);
    qcam_camera_close(h->cam);
    h->cam = NULL;
}

static void cam_js_unref(JSRuntime *rt, cam_js *h)
{
    if (--h->refs == 0) js_free_rt(rt, h);
}

static void release_resource(qcam_resource *res)
{
    cam_js *h = (cam_js *)((char *)res - offsetof(cam_js, res));
    cam_js_close(h);
}

static void camera_finalizer(JSRuntime *rt, JSValue val)
{
    cam_js *h = JS_GetOpaque(val, camera_class);
    if (!h) return;
    cam_js_close(h);
    cam_js_unref(rt, h);
}

static void channel_drop(JSRuntime *rt, chn_js *c)
{
    for (chn_js **p = &c->owner->channels; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    cam_js_unref(rt, c->owner);
    js_free_rt(rt, c);
}

static void channel_finalizer(JSRuntime *rt, JSValue val)
{
    chn_js *c = JS_GetOpaque(val, channel_class);
    if (c) channel_drop(rt, c);
}

static const JSClassDef camera_def = {"Camera", .finalizer = camera_finalizer};
static const JSClassDef channel_def = {"Channel", .finalizer = channel_finalizer};

/* The HAL channel behind `this` (magic 0: a Camera, 1: a Channel). */
static qcam_camera_channel *this_channel(JSContext *ctx, JSValueConst this_val, int magic,
                                         cam_js **owner)
{
    if (magic == 0) {
        cam_js *h = qcam_handle(ctx, this_val, camera_class, "Camera");
        if (!h) return NULL;
        if (owner) *owner = h;
        return qcam_camera_main(h->cam);
    }
    chn_js *c = qcam_handle(ctx, this_val, channel_class, "Channel");
    if (!c) return NULL;
    if (!c->chn) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CLOSED", "Channel is closed (its Camera was closed)");
        return NULL;
    }
    if (owner) *owner = c->owner;
    return c->chn;
}

/* The link slot of a Camera or Channel object (NULL: neither, or closed). */
static link_src **link_slot(JSValueConst obj)
{
    JSClassID got = 0;
    void *p = JS_GetAnyOpaque(obj, &got);
    if (!p) return NULL;
    if (got == camera_class) return &((cam_js *)p)->link;
    if (got == channel_class) return &((chn_js *)p)->link;
    return NULL;
}

/* this_channel() for the members that read frames: not while linked. */
static qcam_camera_channel *reader_channel(JSContext *ctx, JSValueConst this_val, int magic,
                                           cam_js **owner)
{
    qcam_camera_channel *chn = this_channel(ctx, this_val, magic, owner);
    link_src **slot = chn ? link_slot(this_val) : NULL;
    if (slot && *slot) {
        qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this %s feeds a link: its frames go there (close the link first)",
                   magic ? "Channel" : "Camera");
        return NULL;
    }
    return chn;
}

/* ---- link() source provider ------------------------------------------------ */

static int link_read(void *ctx, int64_t timeout_us, qcam_picture **out)
{
    link_src *s = ctx;
    return qcam_camera_read(s->chn, timeout_us, out); /* -ENOBUFS: the link waits (link.h) */
}

static uint64_t link_dropped(void *ctx)
{
    link_src *s = ctx;
    qcam_camera_stats st;
    qcam_camera_get_stats(s->chn, &st);
    return st.dropped;
}

static int link_source(JSContext *ctx, JSValueConst obj, qcam_link_source *out)
{
    JSClassID got = 0;
    JS_GetAnyOpaque(obj, &got);
    cam_js *h;
    qcam_camera_channel *chn = reader_channel(ctx, obj, got == camera_class ? 0 : 1, &h);
    if (!chn) return -1;
    link_src *s = js_malloc(ctx, sizeof *s);
    if (!s) return -1;
    s->cam = qcam_camera_ref(h->cam);
    s->chn = chn;
    *link_slot(obj) = s;
    *out = (qcam_link_source){.ctx = s, .read = link_read, .dropped = link_dropped};
    return 0;
}

static void link_release(JSContext *ctx, JSValueConst obj)
{
    link_src **slot = link_slot(obj);
    if (!slot || !*slot) return;
    qcam_camera_close((*slot)->cam);
    js_free(ctx, *slot);
    *slot = NULL;
}

/* ---- options ------------------------------------------------------------- */

static const char *const fmt_list = "\"nv21\", \"nv12\", \"yuv420p\", \"rgb888\", \"gray\"";

static int format_opt(JSContext *ctx, JSValueConst opts, const char *what, qcam_pixfmt def,
                      const qcam_camera_caps *caps, qcam_pixfmt *out)
{
    JSValue v;
    int r = qcam_opt_get(ctx, opts, "format", &v);
    if (r < 0) return -1;
    *out = def;
    if (r == 0) return 0;
    const char *s = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
    JS_FreeValue(ctx, v);
    qcam_pixfmt fmt = qcam_pixfmt_parse(s);
    JS_FreeCString(ctx, s);
    if (!fmt || !(caps->formats & 1u << fmt)) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s format must be one of %s", what, fmt_list);
        return -1;
    }
    *out = fmt;
    return 0;
}

/* Width, height, format, fps and buffers. `base` gives the defaults (0 = the
 * HAL's own) and, for a channel, the fps ceiling. */
static int output_opts(JSContext *ctx, JSValueConst opts, const char *what, const qcam_camera_output *base,
                       bool channel, qcam_camera_output *o)
{
    qcam_camera_caps caps;
    qcam_camera_get_caps(&caps);
    char note[64] = "";
    if (channel) snprintf(note, sizeof note, " (the camera's fps)");
    int max_fps = channel ? base->fps : caps.max_fps;
    int w, h, fps, buffers;
    if (qcam_opt_int(ctx, opts, what, "width", caps.min_width, caps.max_width, caps.size_step, "", base->width,
                     &w) ||
        qcam_opt_int(ctx, opts, what, "height", caps.min_height, caps.max_height, caps.size_step, "", base->height,
                     &h) ||
        format_opt(ctx, opts, what, base->format, &caps, &o->format) ||
        qcam_opt_int(ctx, opts, what, "fps", caps.min_fps, max_fps, 1, note, base->fps, &fps) ||
        qcam_opt_int(ctx, opts, what, "buffers", (int)caps.min_buffers, (int)caps.max_buffers, 1, "",
                     (int)base->buffers, &buffers))
        return -1;
    o->width = w;
    o->height = h;
    o->fps = fps;
    o->buffers = (unsigned)buffers;
    return 0;
}

static bool under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* Board paths (/sdcard/..., /tmp/...) live in the sim SD card; any other
 * path is the host's. A /tmp path that is not on the card is the host's /tmp. */
static int resolve_source(qcam_app *app, const char *path, char *out, size_t n)
{
    const char *root = qcam_app_options(app)->sdcard_dir;
    if (under(path, "/sdcard") || under(path, "/tmp")) {
        int r = qcam_board_host_path(root, path, out, n);
        if (r < 0 || under(path, "/sdcard") || access(out, F_OK) == 0) return r;
    }
    if (strlen(path) >= n) return -ENAMETOOLONG;
    memcpy(out, path, strlen(path) + 1);
    return 0;
}

/* ---- Camera ----------------------------------------------------------------- */

static JSValue camera_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"width", "height", "format", "fps", "buffers", "source", "loop", NULL};
    if (JS_IsUndefined(new_target))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CONSTRUCT_CALL_REQUIRED", "Camera must be called with new");
    JSValueConst opts = argc > 0 ? argv[0] : JS_UNDEFINED;
    qcam_camera_config cfg = {.main = {.format = QCAM_FMT_NV21}, .loop = true};
    char source[256] = "", host_path[4096];
    if (!JS_IsUndefined(opts)) {
        if (!qcam_opt_is_object(ctx, opts))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "Camera options must be an object");
        if (qcam_opt_keys(ctx, opts, "Camera", keys)) return JS_EXCEPTION;
        qcam_camera_output base = {.format = QCAM_FMT_NV21};
        if (output_opts(ctx, opts, "Camera", &base, false, &cfg.main)) return JS_EXCEPTION;
        if (qcam_opt_string(ctx, opts, "Camera", "source", "the path of a .y4m file", source, sizeof source) < 0 ||
            qcam_opt_bool(ctx, opts, "Camera", "loop", &cfg.loop) < 0)
            return JS_EXCEPTION;
    }
    qcam_app *app = qcam_app_of(ctx);
    if (*source) {
        int r = resolve_source(app, source, host_path, sizeof host_path);
        if (r < 0) return qcam_throw_errno(ctx, -r, "camera source %s", source);
        cfg.source = host_path;
    }

    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    if (JS_IsException(proto)) return JS_EXCEPTION;
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, camera_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) return obj;
    cam_js *h = js_mallocz(ctx, sizeof *h);
    if (!h) {
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    char err[256];
    int r = qcam_camera_open(&cfg, &h->cam, err, sizeof err);
    if (r < 0) {
        js_free(ctx, h);
        JS_FreeValue(ctx, obj);
        switch (r) {
        case -EBUSY:
            return qcam_throw_errno(ctx, EBUSY, "the camera is already open (close() the other Camera first)");
        case -EILSEQ:
        case -ENOTSUP:
            return qcam_throw(ctx, QCAM_ERROR, "ERR_INVALID_SOURCE", "camera source %s: %s", source, err);
        case -ERANGE:
            return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG",
                              "camera source %s: %s (leave width and height out to use the file's)", source, err);
        default:
            /* With a source, EINVAL is about the file (not a regular file,
             * frames of a size the camera cannot take). */
            if (*source && *err) return qcam_throw_errno(ctx, -r, "camera source %s: %s", source, err);
            if (*source) return qcam_throw_errno(ctx, -r, "camera source %s", source);
            if (r == -EINVAL) return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "Camera: %s", err);
            return qcam_throw_errno(ctx, -r, "cannot open the camera: %s", err);
        }
    }
    h->refs = 1;
    h->app = app;
    memcpy(h->source, source, sizeof source);
    h->res.kind = "camera";
    h->res.release = release_resource;
    qcam_resource_add(app, &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue camera_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, camera_class, "Camera", &opaque) < 0) return JS_EXCEPTION;
    cam_js *h = opaque;
    if (h && h->link)
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this Camera feeds a link (close the link first)");
    for (chn_js *c = h ? h->channels : NULL; c; c = c->next)
        if (c->link)
            return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY",
                              "a Channel of this Camera feeds a link (close the link first)");
    if (h) {
        cam_js_close(h);
        JS_SetOpaque(this_val, NULL);
        cam_js_unref(JS_GetRuntime(ctx), h);
    }
    return JS_UNDEFINED;
}

static JSValue channel_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, channel_class, "Channel", &opaque) < 0) return JS_EXCEPTION;
    chn_js *c = opaque;
    if (c && c->link)
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this Channel feeds a link (close the link first)");
    if (c) {
        JS_SetOpaque(this_val, NULL);
        channel_drop(JS_GetRuntime(ctx), c);
    }
    return JS_UNDEFINED;
}

static JSValue read_error(JSContext *ctx, int r, cam_js *h, qcam_camera_channel *chn, int magic)
{
    const char *what = magic ? "channel" : "camera";
    qcam_camera_output o;
    qcam_camera_channel_output(chn, &o);
    switch (r) {
    case -ENOBUFS:
        return qcam_throw(ctx, QCAM_ERROR, "ERR_NO_BUFFER",
                          "no free buffer: all %u Images of this %s are still open; close() the Images "
                          "you are done with (or declare them with `using`), or ask for more buffers",
                          o.buffers, what);
    case -ENODATA:
        return qcam_throw(ctx, QCAM_ERROR, "ERR_END_OF_STREAM", "camera source %s ended (loop: false)",
                          h->source);
    case -EILSEQ:
        return qcam_throw(ctx, QCAM_ERROR, "ERR_INVALID_SOURCE", "camera source %s: %s", h->source,
                          qcam_camera_error(chn));
    default:
        return qcam_throw_errno(ctx, -r, "%s read: %s", what, qcam_camera_error(chn));
    }
}

/* read(): magic 0 on Camera, 1 on Channel. */
static JSValue js_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    (void)argc; (void)argv;
    cam_js *h;
    qcam_camera_channel *chn = reader_channel(ctx, this_val, magic, &h);
    if (!chn) return JS_EXCEPTION;
    qcam_camera_output o;
    qcam_camera_channel_output(chn, &o);
    int64_t period = 1000000 / o.fps + 1, timeout = 2 * period + 1000000;
    if (qcam_camera_free_buffers(chn) == 0) {
        /* Images nobody can reach any more go back to the pool now. */
        JS_RunGC(JS_GetRuntime(ctx));
        if (qcam_camera_free_buffers(chn) == 0) timeout = period + DRY_WAIT_US;
    }
    qcam_picture *pic = NULL;
    int r = qcam_camera_read(chn, timeout, &pic);
    if (r < 0) return read_error(ctx, r, h, chn, magic);
    return qcam_js_image_new(ctx, pic);
}

static JSValue js_skip_frames(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                              int magic)
{
    cam_js *h;
    qcam_camera_channel *chn = reader_channel(ctx, this_val, magic, &h);
    if (!chn) return JS_EXCEPTION;
    double n;
    if (argc < 1 || !JS_IsNumber(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "skipFrames(n): n must be a number");
    if (JS_ToFloat64(ctx, &n, argv[0])) return JS_EXCEPTION;
    if (!(n >= 0 && n <= 100000) || n != floor(n))
        return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG",
                          "skipFrames(n): n must be an integer from 0 to 100000, not %g", n);
    qcam_camera_output o;
    qcam_camera_channel_output(chn, &o);
    for (int i = 0; i < (int)n; i++) {
        int r = qcam_camera_read(chn, 2 * (1000000 / o.fps + 1) + 1000000, NULL);
        if (r < 0) return read_error(ctx, r, h, chn, magic);
    }
    return JS_UNDEFINED;
}

static JSValue js_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    (void)argc; (void)argv;
    qcam_camera_channel *chn = this_channel(ctx, this_val, magic, NULL);
    if (!chn) return JS_EXCEPTION;
    qcam_camera_stats st;
    qcam_camera_get_stats(chn, &st);
    JSValue obj = JS_NewObject(ctx);
    JS_DefinePropertyValueStr(ctx, obj, "captured", JS_NewInt64(ctx, (int64_t)st.captured), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, obj, "dropped", JS_NewInt64(ctx, (int64_t)st.dropped), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, obj, "delivered", JS_NewInt64(ctx, (int64_t)st.delivered), JS_PROP_C_W_E);
    return obj;
}

enum { G_WIDTH, G_HEIGHT, G_FORMAT, G_FPS, G_BUFFERS };

/* Getters: magic = field * 2 + (0 Camera, 1 Channel). */
static JSValue js_get(JSContext *ctx, JSValueConst this_val, int magic)
{
    qcam_camera_channel *chn = this_channel(ctx, this_val, magic & 1, NULL);
    if (!chn) return JS_EXCEPTION;
    qcam_camera_output o;
    qcam_camera_channel_output(chn, &o);
    switch (magic >> 1) {
    case G_WIDTH: return JS_NewInt32(ctx, o.width);
    case G_HEIGHT: return JS_NewInt32(ctx, o.height);
    case G_FORMAT: return JS_NewString(ctx, qcam_pixfmt_name(o.format));
    case G_FPS: return JS_NewInt32(ctx, o.fps);
    default: return JS_NewInt32(ctx, (int32_t)o.buffers);
    }
}

static JSValue camera_add_channel(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"width", "height", "format", "fps", "buffers", NULL};
    cam_js *h = qcam_handle(ctx, this_val, camera_class, "Camera");
    if (!h) return JS_EXCEPTION;
    JSValueConst opts = argc > 0 ? argv[0] : JS_UNDEFINED;
    qcam_camera_output base, o;
    qcam_camera_channel_output(qcam_camera_main(h->cam), &base);
    base.buffers = 4;
    o = base;
    if (!JS_IsUndefined(opts)) {
        if (!qcam_opt_is_object(ctx, opts))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "addChannel options must be an object");
        if (qcam_opt_keys(ctx, opts, "addChannel", keys) || output_opts(ctx, opts, "channel", &base, true, &o))
            return JS_EXCEPTION;
    }
    chn_js *c = js_mallocz(ctx, sizeof *c);
    if (!c) return JS_EXCEPTION;
    JSValue obj = JS_NewObjectClass(ctx, (int)channel_class);
    if (JS_IsException(obj)) {
        js_free(ctx, c);
        return obj;
    }
    int r = qcam_camera_add_channel(h->cam, &o, &c->chn);
    if (r < 0) {
        js_free(ctx, c);
        JS_FreeValue(ctx, obj);
        qcam_camera_caps caps;
        qcam_camera_get_caps(&caps);
        if (r == -ENOSPC)
            return qcam_throw(ctx, QCAM_ERROR, "ERR_TOO_MANY_CHANNELS",
                              "a camera has at most %d channels (the main one and %d more)",
                              caps.max_channels, caps.max_channels - 1);
        return qcam_throw_errno(ctx, -r, "addChannel");
    }
    c->owner = h;
    h->refs++;
    c->next = h->channels;
    h->channels = c;
    JS_SetOpaque(obj, c);
    return obj;
}

#define OUTPUT_MEMBERS(m)                                                   \
    JS_CGETSET_MAGIC_DEF("width", js_get, NULL, G_WIDTH * 2 + (m)),        \
    JS_CGETSET_MAGIC_DEF("height", js_get, NULL, G_HEIGHT * 2 + (m)),      \
    JS_CGETSET_MAGIC_DEF("format", js_get, NULL, G_FORMAT * 2 + (m)),      \
    JS_CGETSET_MAGIC_DEF("fps", js_get, NULL, G_FPS * 2 + (m)),            \
    JS_CGETSET_MAGIC_DEF("buffers", js_get, NULL, G_BUFFERS * 2 + (m)),    \
    JS_CFUNC_MAGIC_DEF("read", 0, js_read, (m)),                           \
    JS_CFUNC_MAGIC_DEF("skipFrames", 1, js_skip_frames, (m)),              \
    JS_CFUNC_MAGIC_DEF("stats", 0, js_stats, (m))

static const JSCFunctionListEntry camera_proto[] = {
    OUTPUT_MEMBERS(0),
    JS_CFUNC_DEF("addChannel", 1, camera_add_channel),
    JS_CFUNC_DEF("close", 0, camera_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Camera", JS_PROP_CONFIGURABLE),
};

static const JSCFunctionListEntry channel_proto[] = {
    OUTPUT_MEMBERS(1),
    JS_CFUNC_DEF("close", 0, channel_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Channel", JS_PROP_CONFIGURABLE),
};

static JSValue channel_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    (void)new_target; (void)argc; (void)argv;
    return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_ILLEGAL_CONSTRUCTOR", "Channels come from camera.addChannel()");
}

static int camera_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_image_class_init(ctx) < 0 ||
        qcam_class_init(ctx, &camera_class, &camera_def, camera_proto,
                        sizeof camera_proto / sizeof camera_proto[0], "close") < 0 ||
        qcam_class_init(ctx, &channel_class, &channel_def, channel_proto,
                        sizeof channel_proto / sizeof channel_proto[0], "close") < 0)
        return -1;
    qcam_link_provide_source(camera_class, link_source, link_release);
    qcam_link_provide_source(channel_class, link_source, link_release);
    if (qcam_export_class(ctx, m, "Camera", camera_class, camera_ctor, 1, JS_CFUNC_constructor_or_func) < 0) return -1;
    return qcam_export_class(ctx, m, "Channel", channel_class, channel_ctor, 1, JS_CFUNC_constructor_or_func);
}

JSModuleDef *qcam_mod_camera_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, camera_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "Camera");
    JS_AddModuleExport(ctx, m, "Channel");
    return m;
}
