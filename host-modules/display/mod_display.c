/* qcam:display — Display: the board's panel, its video layer and the overlay
 * the app draws on. QuickJS glue only: arguments, the class, errors; the
 * pixels are the HAL's (display.h) and draw.c's.
 *
 * One Display at a time (the panel is one): a second throws EBUSY. Closing it
 * (close(), its finalizer, the app unloading through its qcam_resource)
 * unbinds a camera it shows and stops the panel (on the sim: the page).
 *
 * show(camera): the camera (or channel) becomes the video layer's source
 * through qcam:link's source registry, as link() would take it: its frames go
 * camera → display on the display's thread, no JavaScript per frame, and the
 * camera is busy (read()/close() throw ERR_BUSY) until hide(), another
 * show() or close(). While it shows a camera the Display holds itself, so a
 * dropped reference does not blank the screen.
 *
 * The default key: while a Display is open on the sim, a long press of `ok`
 * requests exit (app.needExit() turns true) unless an Input of the app is
 * open (qcam:input: an Input decides itself). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../image/image_js.h"
#include "../input/input.h"
#include "../link/link_js.h"
#include "../modules.h"
#include "display.h"
#include "png.h"

static JSClassID display_class;
static const int font_sizes[] = {QCAM_FONT_SIZES};
#define N_FONT_SIZES (int)(sizeof font_sizes / sizeof font_sizes[0])

typedef struct {
    qcam_display *d;
    qcam_resource res;
    qcam_app *app;
    JSContext *ctx;
    qcam_input *keys; /* the default key's listener */
    JSValue source;   /* a Camera/Channel shown (claimed from qcam:link), or undefined */
    JSValue self;     /* held while a camera is shown */
} disp_js;

/* ---- the default key ------------------------------------------------------ */

static void default_key_run(void *app, void *data)
{
    (void)data;
    if (qcam_input_app_listeners() == 0) qcam_app_set_exit_flag(app, true);
}

static void default_key(void *opaque, const qcam_input_event *ev)
{
    if (ev->kind == QCAM_IN_LONGPRESS && ev->key == QCAM_KEY_OK) qcam_app_post(opaque, default_key_run, NULL, NULL);
}

/* ---- lifetime ----------------------------------------------------------------- */

/* Let go of a shown camera. Returns the Display's hold on itself, for the
 * caller to free when it is done with h (freeing it may finalize the object,
 * and the finalizer frees h). */
static JSValue unshow(disp_js *h)
{
    if (!JS_IsUndefined(h->source)) {
        qcam_display_unbind(h->d);
        qcam_link_release_source(h->ctx, h->source);
        JS_FreeValue(h->ctx, h->source);
        h->source = JS_UNDEFINED;
    }
    JSValue self = h->self;
    h->self = JS_UNDEFINED;
    return self;
}

static void disp_close(disp_js *h)
{
    if (!h->d) return;
    JSContext *ctx = h->ctx;
    JSValue self = unshow(h);
    qcam_input_close(h->keys);
    h->keys = NULL;
    qcam_resource_remove(h->app, &h->res);
    qcam_display_close(h->d);
    h->d = NULL;
    JS_FreeValue(ctx, self); /* last: it may finalize the object and free h */
}

static void release_resource(qcam_resource *res)
{
    disp_close((disp_js *)((char *)res - offsetof(disp_js, res)));
}

static void display_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    disp_js *h = JS_GetOpaque(val, display_class);
    if (!h) return;
    disp_close(h);
    free(h);
}

static void display_mark(JSRuntime *rt, JSValueConst val, JS_MarkFunc *mark)
{
    disp_js *h = JS_GetOpaque(val, display_class);
    if (h) JS_MarkValue(rt, h->source, mark);
}

static const JSClassDef display_def = {"Display", .finalizer = display_finalizer, .gc_mark = display_mark};

static disp_js *this_display(JSContext *ctx, JSValueConst this_val)
{
    disp_js *h = qcam_handle(ctx, this_val, display_class, "Display");
    return h && !h->d ? qcam_closed(ctx, "Display") : h;
}

/* ---- arguments ------------------------------------------------------------------- */

/* An integer argument in [lo, hi]: "<fn> <name> must be an integer from <lo>
 * to <hi>, not <value>" (TypeError for a non-number, else RangeError). */
static int arg_int(JSContext *ctx, const char *fn, const char *name, JSValueConst v, double lo, double hi,
                   const char *note, double *out)
{
    double d = 0;
    if (!JS_IsNumber(v)) {
        char given[64];
        qcam_opt_describe(ctx, v, given, sizeof given);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s %s must be an integer from %.0f to %.0f%s, not %s", fn,
                   name, lo, hi, note, given);
        return -1;
    }
    JS_ToFloat64(ctx, &d, v);
    if (!(d >= lo && d <= hi) || d != floor(d)) {
        qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "%s %s must be an integer from %.0f to %.0f%s, not %g", fn,
                   name, lo, hi, note, d);
        return -1;
    }
    *out = d;
    return 0;
}

#define COORD_MAX 32767
static int coord(JSContext *ctx, const char *fn, const char *name, JSValueConst v, int *out)
{
    double d;
    if (arg_int(ctx, fn, name, v, -COORD_MAX, COORD_MAX, "", &d)) return -1;
    *out = (int)d;
    return 0;
}

static int extent(JSContext *ctx, const char *fn, const char *name, JSValueConst v, int *out)
{
    double d;
    if (arg_int(ctx, fn, name, v, 0, COORD_MAX, "", &d)) return -1;
    *out = (int)d;
    return 0;
}

static int color(JSContext *ctx, const char *fn, JSValueConst v, uint32_t *out)
{
    double d;
    if (arg_int(ctx, fn, "color", v, 0, 4294967295.0, " (0xAARRGGBB)", &d)) return -1;
    *out = (uint32_t)d;
    return 0;
}

static int font_size(JSContext *ctx, const char *fn, int argc, JSValueConst *argv, int i, const qcam_font_size **out)
{
    int px = 16;
    if (argc > i && !JS_IsUndefined(argv[i])) {
        double d = 0;
        bool num = JS_IsNumber(argv[i]);
        if (num) JS_ToFloat64(ctx, &d, argv[i]);
        bool found = false;
        for (int k = 0; k < N_FONT_SIZES; k++) found |= num && d == font_sizes[k];
        if (!found) {
            char given[64];
            qcam_opt_describe(ctx, argv[i], given, sizeof given);
            qcam_throw(ctx, num ? QCAM_RANGE_ERROR : QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                       "%s size must be one of 12, 14, 16, 20, 24, 32, 40, 48, not %s", fn, given);
            return -1;
        }
        px = (int)d;
    }
    *out = qcam_font_find(px);
    if (!*out) {
        qcam_throw(ctx, QCAM_ERROR, "ERR_NO_FONT", "%s: this build has no %d px font", fn, px);
        return -1;
    }
    return 0;
}

static const char *text_arg(JSContext *ctx, const char *fn, JSValueConst v, size_t *len)
{
    if (!JS_IsString(v)) {
        char given[64];
        qcam_opt_describe(ctx, v, given, sizeof given);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s text must be a string, not %s", fn, given);
        return NULL;
    }
    return JS_ToCStringLen(ctx, len, v);
}

static JSValueConst arg(int argc, JSValueConst *argv, int i) { return i < argc ? argv[i] : JS_UNDEFINED; }

/* ---- Display ----------------------------------------------------------------------- */

static JSValue display_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"rotation", "backlight", NULL};
    if (JS_IsUndefined(new_target))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CONSTRUCT_CALL_REQUIRED", "Display must be called with new");
    JSValueConst opts = arg(argc, argv, 0);
    qcam_app *app = qcam_app_of(ctx);
    const qcam_run_options *ro = qcam_app_options(app);
    qcam_display_config cfg = {.board = ro->board, .backlight = 100, .port = ro->display_port,
                               .quiet = ro->display_quiet};
    if (!JS_IsUndefined(opts)) {
        if (!qcam_opt_is_object(ctx, opts))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "Display options must be an object");
        if (qcam_opt_keys(ctx, opts, "Display", keys) ||
            qcam_opt_int(ctx, opts, "Display", "rotation", 0, 270, 90, "", 0, &cfg.rotation) ||
            qcam_opt_int(ctx, opts, "Display", "backlight", 0, 100, 1, "", 100, &cfg.backlight))
            return JS_EXCEPTION;
    }
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    if (JS_IsException(proto)) return JS_EXCEPTION;
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, display_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) return obj;
    disp_js *h = calloc(1, sizeof *h);
    if (!h) {
        JS_FreeValue(ctx, obj);
        return JS_ThrowOutOfMemory(ctx);
    }
    char err[256];
    int r = qcam_display_open(&cfg, &h->d, err, sizeof err);
    if (r < 0) {
        free(h);
        JS_FreeValue(ctx, obj);
        if (r == -EBUSY) return qcam_throw_errno(ctx, EBUSY, "the display is already open (close() the other Display first)");
        if (r == -EINVAL) return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "Display: %s", err);
        return qcam_throw_errno(ctx, -r, "cannot open the display: %s", err);
    }
    h->app = app;
    h->ctx = ctx;
    h->source = JS_UNDEFINED;
    h->self = JS_UNDEFINED;
    qcam_input_open(default_key, app, false, &h->keys);
    h->res.kind = "display";
    h->res.release = release_resource;
    qcam_resource_add(app, &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue display_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, display_class, "Display", &opaque) < 0) return JS_EXCEPTION;
    disp_js *h = opaque;
    if (h) {
        JS_SetOpaque(this_val, NULL);
        disp_close(h);
        free(h);
    }
    return JS_UNDEFINED;
}

enum { G_WIDTH, G_HEIGHT, G_BOARD, G_PANEL_W, G_PANEL_H, G_TOUCH, G_ROTATION, G_BACKLIGHT, G_URL };

static JSValue display_get(JSContext *ctx, JSValueConst this_val, int magic)
{
    disp_js *h = this_display(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_display_info in;
    qcam_display_get_info(h->d, &in);
    switch (magic) {
    case G_WIDTH: return JS_NewInt32(ctx, in.width);
    case G_HEIGHT: return JS_NewInt32(ctx, in.height);
    case G_BOARD: return JS_NewString(ctx, in.panel.board);
    case G_PANEL_W: return JS_NewInt32(ctx, in.panel.width);
    case G_PANEL_H: return JS_NewInt32(ctx, in.panel.height);
    case G_TOUCH: return JS_NewBool(ctx, in.panel.touch);
    case G_ROTATION: return JS_NewInt32(ctx, in.rotation);
    case G_BACKLIGHT: return JS_NewInt32(ctx, in.backlight);
    default: {
        char url[64] = "";
        if (in.port) snprintf(url, sizeof url, "http://127.0.0.1:%d/", in.port);
        return JS_NewString(ctx, url);
    }
    }
}

static JSValue display_set_rotation(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    disp_js *h = this_display(ctx, this_val);
    double d;
    if (!h) return JS_EXCEPTION;
    JSValueConst v = arg(argc, argv, 0);
    if (arg_int(ctx, "setRotation", "degrees", v, 0, 270, "", &d)) return JS_EXCEPTION;
    if ((int)d % 90)
        return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "setRotation degrees must be 0, 90, 180 or 270, not %g", d);
    qcam_display_set_rotation(h->d, (int)d);
    return JS_UNDEFINED;
}

static JSValue display_set_backlight(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    disp_js *h = this_display(ctx, this_val);
    double d;
    if (!h || arg_int(ctx, "setBacklight", "percent", arg(argc, argv, 0), 0, 100, "", &d)) return JS_EXCEPTION;
    qcam_display_set_backlight(h->d, (int)d);
    return JS_UNDEFINED;
}

static JSValue display_clear(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    disp_js *h = this_display(ctx, this_val);
    uint32_t c = 0;
    if (!h) return JS_EXCEPTION;
    if (argc > 0 && !JS_IsUndefined(argv[0]) && color(ctx, "clear", argv[0], &c)) return JS_EXCEPTION;
    qcam_draw_clear(qcam_display_canvas(h->d), c);
    return JS_UNDEFINED;
}

/* fillRect(x, y, w, h, color, radius?) */
static JSValue display_fill_rect(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    disp_js *h = this_display(ctx, this_val);
    int x, y, w, hh, radius = 0;
    uint32_t c;
    if (!h || coord(ctx, "fillRect", "x", arg(argc, argv, 0), &x) || coord(ctx, "fillRect", "y", arg(argc, argv, 1), &y) ||
        extent(ctx, "fillRect", "width", arg(argc, argv, 2), &w) ||
        extent(ctx, "fillRect", "height", arg(argc, argv, 3), &hh) || color(ctx, "fillRect", arg(argc, argv, 4), &c) ||
        (argc > 5 && !JS_IsUndefined(argv[5]) && extent(ctx, "fillRect", "radius", argv[5], &radius)))
        return JS_EXCEPTION;
    qcam_draw_fill_rect(qcam_display_canvas(h->d), x, y, w, hh, radius, c);
    return JS_UNDEFINED;
}

/* strokeRect(x, y, w, h, color, { radius, thickness }?) */
static JSValue display_stroke_rect(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"radius", "thickness", NULL};
    disp_js *h = this_display(ctx, this_val);
    int x, y, w, hh, radius = 0, thickness = 1;
    uint32_t c;
    if (!h || coord(ctx, "strokeRect", "x", arg(argc, argv, 0), &x) ||
        coord(ctx, "strokeRect", "y", arg(argc, argv, 1), &y) ||
        extent(ctx, "strokeRect", "width", arg(argc, argv, 2), &w) ||
        extent(ctx, "strokeRect", "height", arg(argc, argv, 3), &hh) ||
        color(ctx, "strokeRect", arg(argc, argv, 4), &c))
        return JS_EXCEPTION;
    JSValueConst opts = arg(argc, argv, 5);
    if (!JS_IsUndefined(opts)) {
        if (!qcam_opt_is_object(ctx, opts))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "strokeRect options must be an object");
        if (qcam_opt_keys(ctx, opts, "strokeRect", keys) ||
            qcam_opt_int(ctx, opts, "strokeRect", "radius", 0, COORD_MAX, 1, "", 0, &radius) ||
            qcam_opt_int(ctx, opts, "strokeRect", "thickness", 1, 255, 1, "", 1, &thickness))
            return JS_EXCEPTION;
    }
    qcam_draw_stroke_rect(qcam_display_canvas(h->d), x, y, w, hh, radius, thickness, c);
    return JS_UNDEFINED;
}

/* line(x0, y0, x1, y1, color, thickness?) */
static JSValue display_line(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    disp_js *h = this_display(ctx, this_val);
    int x0, y0, x1, y1, t = 1;
    uint32_t c;
    double d;
    if (!h || coord(ctx, "line", "x0", arg(argc, argv, 0), &x0) || coord(ctx, "line", "y0", arg(argc, argv, 1), &y0) ||
        coord(ctx, "line", "x1", arg(argc, argv, 2), &x1) || coord(ctx, "line", "y1", arg(argc, argv, 3), &y1) ||
        color(ctx, "line", arg(argc, argv, 4), &c))
        return JS_EXCEPTION;
    if (argc > 5 && !JS_IsUndefined(argv[5])) {
        if (arg_int(ctx, "line", "thickness", argv[5], 1, 255, "", &d)) return JS_EXCEPTION;
        t = (int)d;
    }
    qcam_draw_line(qcam_display_canvas(h->d), x0, y0, x1, y1, t, c);
    return JS_UNDEFINED;
}

static JSValue metrics_object(JSContext *ctx, const qcam_text_metrics *m)
{
    JSValue o = JS_NewObject(ctx);
    JS_DefinePropertyValueStr(ctx, o, "width", JS_NewInt32(ctx, m->width), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "height", JS_NewInt32(ctx, m->height), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "ascent", JS_NewInt32(ctx, m->ascent), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "descent", JS_NewInt32(ctx, m->descent), JS_PROP_C_W_E);
    return o;
}

/* text(text, x, y, color, size?) → width */
static JSValue display_text(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    disp_js *h = this_display(ctx, this_val);
    int x, y;
    uint32_t c;
    const qcam_font_size *fs;
    size_t len;
    if (!h) return JS_EXCEPTION;
    const char *s = text_arg(ctx, "text", arg(argc, argv, 0), &len);
    if (!s) return JS_EXCEPTION;
    if (coord(ctx, "text", "x", arg(argc, argv, 1), &x) || coord(ctx, "text", "y", arg(argc, argv, 2), &y) ||
        color(ctx, "text", arg(argc, argv, 3), &c) || font_size(ctx, "text", argc, argv, 4, &fs)) {
        JS_FreeCString(ctx, s);
        return JS_EXCEPTION;
    }
    int w = qcam_draw_text(qcam_display_canvas(h->d), fs, x, y, s, len, c);
    JS_FreeCString(ctx, s);
    return JS_NewInt32(ctx, w);
}

/* measureText(text, size?) */
static JSValue display_measure_text(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    disp_js *h = this_display(ctx, this_val);
    const qcam_font_size *fs;
    size_t len;
    if (!h) return JS_EXCEPTION;
    const char *s = text_arg(ctx, "measureText", arg(argc, argv, 0), &len);
    if (!s) return JS_EXCEPTION;
    if (font_size(ctx, "measureText", argc, argv, 1, &fs)) {
        JS_FreeCString(ctx, s);
        return JS_EXCEPTION;
    }
    qcam_text_metrics m;
    qcam_font_measure(fs, s, len, &m);
    JS_FreeCString(ctx, s);
    return metrics_object(ctx, &m);
}

/* The Image argument, or NULL after throwing. */
static qcam_picture *image_arg(JSContext *ctx, const char *what, JSValueConst v)
{
    qcam_picture *pic = qcam_js_image_picture(ctx, v);
    if (pic) return pic;
    JSValue exc = JS_GetException(ctx);
    JSValue code = JS_GetPropertyStr(ctx, exc, "code");
    const char *cs = JS_ToCString(ctx, code);
    bool closed = cs && strcmp(cs, "ERR_CLOSED") == 0;
    JS_FreeCString(ctx, cs);
    JS_FreeValue(ctx, code);
    if (closed) return JS_Throw(ctx, exc), NULL;
    JS_FreeValue(ctx, exc);
    char given[64];
    qcam_opt_describe(ctx, v, given, sizeof given);
    qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s, not %s", what, given);
    return NULL;
}

/* drawImage(image, x, y, { width, height }?) */
static JSValue display_draw_image(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"width", "height", NULL};
    disp_js *h = this_display(ctx, this_val);
    int x, y;
    if (!h) return JS_EXCEPTION;
    qcam_picture *pic = image_arg(ctx, "drawImage image must be an Image", arg(argc, argv, 0));
    if (!pic || coord(ctx, "drawImage", "x", arg(argc, argv, 1), &x) ||
        coord(ctx, "drawImage", "y", arg(argc, argv, 2), &y))
        return JS_EXCEPTION;
    int w = pic->width, hh = pic->height;
    JSValueConst opts = arg(argc, argv, 3);
    if (!JS_IsUndefined(opts)) {
        if (!qcam_opt_is_object(ctx, opts))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "drawImage options must be an object");
        if (qcam_opt_keys(ctx, opts, "drawImage", keys) ||
            qcam_opt_int(ctx, opts, "drawImage", "width", 1, COORD_MAX, 1, "", pic->width, &w) ||
            qcam_opt_int(ctx, opts, "drawImage", "height", 1, COORD_MAX, 1, "", pic->height, &hh))
            return JS_EXCEPTION;
    }
    if (pic->format == QCAM_FMT_S16)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "drawImage image must hold pixels, not audio");
    qcam_rect src = {0, 0, pic->width, pic->height}, dst = {x, y, w, hh};
    qcam_draw_picture(qcam_display_canvas(h->d), pic, &src, &dst);
    return JS_UNDEFINED;
}

static JSValue rect_object(JSContext *ctx, const qcam_rect *r)
{
    if (qcam_rect_empty(r)) return JS_NULL;
    JSValue o = JS_NewObject(ctx);
    JS_DefinePropertyValueStr(ctx, o, "x", JS_NewInt32(ctx, r->x), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "y", JS_NewInt32(ctx, r->y), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "width", JS_NewInt32(ctx, r->w), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "height", JS_NewInt32(ctx, r->h), JS_PROP_C_W_E);
    return o;
}

static JSValue display_flush(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    disp_js *h = this_display(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_rect r;
    qcam_display_flush(h->d, &r);
    return rect_object(ctx, &r);
}

/* show(source, { fit: "fit" | "fill" }?) */
static JSValue display_show(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"fit", NULL};
    disp_js *h = this_display(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    JSValueConst src = arg(argc, argv, 0), opts = arg(argc, argv, 1);
    bool fill = false;
    if (!JS_IsUndefined(opts)) {
        if (!qcam_opt_is_object(ctx, opts))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "show options must be an object");
        if (qcam_opt_keys(ctx, opts, "show", keys)) return JS_EXCEPTION;
        JSValue v;
        int r = qcam_opt_get(ctx, opts, "fit", &v);
        if (r < 0) return JS_EXCEPTION;
        if (r > 0) {
            const char *s = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
            bool ok = s && (strcmp(s, "fit") == 0 || strcmp(s, "fill") == 0);
            fill = s && strcmp(s, "fill") == 0;
            char given[64];
            if (!ok) qcam_opt_describe(ctx, v, given, sizeof given);
            JS_FreeCString(ctx, s);
            JS_FreeValue(ctx, v);
            if (!ok)
                return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "show fit must be \"fit\" or \"fill\", not %s",
                                  given);
        }
    }
    JSValue old = JS_UNDEFINED;
    if (JS_IsSameValue(ctx, src, h->source)) old = unshow(h); /* shown again (another fit): take it anew */
    qcam_link_source ls;
    int claimed = qcam_link_claim_source(ctx, src, &ls);
    if (claimed < 0) {
        JS_FreeValue(ctx, old);
        return JS_EXCEPTION;
    }
    if (claimed == 0) {
        JS_FreeValue(ctx, old); /* `this` is alive: no finalizer runs here */
        qcam_picture *pic = image_arg(ctx, "show source must be a Camera, a Channel or an Image", src);
        if (!pic) return JS_EXCEPTION;
        if (pic->format == QCAM_FMT_S16)
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "show source must hold pixels, not audio");
        JS_FreeValue(ctx, unshow(h));
        qcam_display_show_picture(h->d, pic, fill);
        return JS_UNDEFINED;
    }
    JSValue prev = unshow(h);
    if (JS_IsUndefined(old)) old = prev;
    else JS_FreeValue(ctx, prev);
    int r = qcam_display_bind(h->d, &ls, fill);
    if (r < 0) {
        qcam_link_release_source(ctx, src);
        JS_FreeValue(ctx, old);
        return qcam_throw_errno(ctx, -r, "show");
    }
    h->source = JS_DupValue(ctx, src);
    h->self = JS_IsUndefined(old) ? JS_DupValue(ctx, this_val) : old;
    return JS_UNDEFINED;
}

static JSValue display_hide(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    disp_js *h = this_display(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    JSValue self = unshow(h);
    qcam_display_hide_video(h->d);
    JS_FreeValue(ctx, self); /* `this` is alive: no finalizer runs here */
    return JS_UNDEFINED;
}

static JSValue display_screenshot(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    disp_js *h = this_display(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_display_info in;
    qcam_display_get_info(h->d, &in);
    uint8_t *rgba = malloc((size_t)in.panel.width * (size_t)in.panel.height * 4), *png = NULL;
    size_t len = 0;
    if (!rgba) return JS_ThrowOutOfMemory(ctx);
    qcam_display_read_panel(h->d, rgba);
    int r = qcam_png_rgba(rgba, in.panel.width, in.panel.height, &png, &len);
    free(rgba);
    if (r < 0) return JS_ThrowOutOfMemory(ctx);
    JSValue ab = JS_NewArrayBufferCopy(ctx, png, len);
    free(png);
    return ab;
}

static JSValue display_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    disp_js *h = this_display(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_display_stats st;
    qcam_display_get_stats(h->d, &st);
    JSValue o = JS_NewObject(ctx);
    JS_DefinePropertyValueStr(ctx, o, "flushes", JS_NewInt64(ctx, (int64_t)st.flushes), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "flushedPixels", JS_NewInt64(ctx, (int64_t)st.flushed_px), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "videoFrames", JS_NewInt64(ctx, (int64_t)st.video_frames), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "panelFrames", JS_NewInt64(ctx, (int64_t)st.panel_frames), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "videoCpuUs", JS_NewInt64(ctx, (int64_t)st.video_cpu_us), JS_PROP_C_W_E);
    return o;
}

static const JSCFunctionListEntry display_proto[] = {
    JS_CGETSET_MAGIC_DEF("width", display_get, NULL, G_WIDTH),
    JS_CGETSET_MAGIC_DEF("height", display_get, NULL, G_HEIGHT),
    JS_CGETSET_MAGIC_DEF("board", display_get, NULL, G_BOARD),
    JS_CGETSET_MAGIC_DEF("panelWidth", display_get, NULL, G_PANEL_W),
    JS_CGETSET_MAGIC_DEF("panelHeight", display_get, NULL, G_PANEL_H),
    JS_CGETSET_MAGIC_DEF("touch", display_get, NULL, G_TOUCH),
    JS_CGETSET_MAGIC_DEF("rotation", display_get, NULL, G_ROTATION),
    JS_CGETSET_MAGIC_DEF("backlight", display_get, NULL, G_BACKLIGHT),
    JS_CGETSET_MAGIC_DEF("url", display_get, NULL, G_URL),
    JS_CFUNC_DEF("setRotation", 1, display_set_rotation),
    JS_CFUNC_DEF("setBacklight", 1, display_set_backlight),
    JS_CFUNC_DEF("clear", 0, display_clear),
    JS_CFUNC_DEF("fillRect", 5, display_fill_rect),
    JS_CFUNC_DEF("strokeRect", 5, display_stroke_rect),
    JS_CFUNC_DEF("line", 5, display_line),
    JS_CFUNC_DEF("text", 4, display_text),
    JS_CFUNC_DEF("measureText", 1, display_measure_text),
    JS_CFUNC_DEF("drawImage", 3, display_draw_image),
    JS_CFUNC_DEF("flush", 0, display_flush),
    JS_CFUNC_DEF("show", 1, display_show),
    JS_CFUNC_DEF("hide", 0, display_hide),
    JS_CFUNC_DEF("screenshot", 0, display_screenshot),
    JS_CFUNC_DEF("stats", 0, display_stats),
    JS_CFUNC_DEF("close", 0, display_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Display", JS_PROP_CONFIGURABLE),
};

static int display_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_image_class_init(ctx) < 0 ||
        qcam_class_init(ctx, &display_class, &display_def, display_proto,
                        sizeof display_proto / sizeof display_proto[0], "close") < 0)
        return -1;
    return qcam_export_class(ctx, m, "Display", display_class, display_ctor, 1, JS_CFUNC_constructor_or_func);
}

JSModuleDef *qcam_mod_display_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, display_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "Display");
    return m;
}
