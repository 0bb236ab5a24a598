/* qcam:input — Input: the board's keys and touch panel, as callbacks on the
 * app's loop (onKey, onTouch) and pollable (poll(), isPressed(), touch()).
 * QuickJS glue only; the events come from the HAL (input.h) on its thread
 * and reach JavaScript through qcam_app_post, at the loop's next turn.
 *
 * A long press of `ok` requests exit (app.needExit() turns true) as MaixPy's
 * default does, unless the app takes it: onKey returns true for it, or the
 * Input was made with exitOnLongOk: false.
 *
 * Ownership. The handle is shared by the object and the events in flight
 * (refs); close() (or the finalizer, or unloading through the resource)
 * closes the HAL listener, after which no event is posted, and events
 * already posted find the handle closed and are dropped. */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../modules.h"
#include "input.h"

#define QUEUE_MAX 64

static JSClassID input_class;

typedef struct {
    atomic_int refs;
    qcam_input *in; /* NULL once closed */
    qcam_app *app;
    JSContext *ctx;
    qcam_resource res;
    JSValue on_key, on_touch;
    bool exit_on_long_ok;
    bool pressed[QCAM_KEY_COUNT];
    int tx, ty;
    bool tdown;
    qcam_input_event queue[QUEUE_MAX];
    int q_head, q_len;
    uint64_t dropped;
} in_js;

typedef struct {
    in_js *h;
    qcam_input_event ev;
} posted;

static void in_unref(in_js *h)
{
    if (atomic_fetch_sub(&h->refs, 1) == 1) free(h);
}

static JSValue event_object(JSContext *ctx, const qcam_input_event *ev)
{
    JSValue o = JS_NewObject(ctx);
    bool key = ev->kind <= QCAM_IN_LONGPRESS;
    JS_DefinePropertyValueStr(ctx, o, "type", JS_NewString(ctx, key ? "key" : "touch"), JS_PROP_C_W_E);
    if (key) JS_DefinePropertyValueStr(ctx, o, "key", JS_NewString(ctx, qcam_key_name(ev->key)), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "action", JS_NewString(ctx, qcam_input_kind_name(ev->kind)), JS_PROP_C_W_E);
    if (!key) {
        JS_DefinePropertyValueStr(ctx, o, "x", JS_NewInt32(ctx, ev->x), JS_PROP_C_W_E);
        JS_DefinePropertyValueStr(ctx, o, "y", JS_NewInt32(ctx, ev->y), JS_PROP_C_W_E);
        JS_DefinePropertyValueStr(ctx, o, "id", JS_NewInt32(ctx, ev->id), JS_PROP_C_W_E);
    }
    JS_DefinePropertyValueStr(ctx, o, "timestampUs", JS_NewInt64(ctx, ev->t_us), JS_PROP_C_W_E);
    return o;
}

static void enqueue(in_js *h, const qcam_input_event *ev)
{
    if (h->q_len == QUEUE_MAX) { /* the oldest goes */
        h->q_head = (h->q_head + 1) % QUEUE_MAX;
        h->q_len--;
        h->dropped++;
    }
    h->queue[(h->q_head + h->q_len) % QUEUE_MAX] = *ev;
    h->q_len++;
}

/* On the app's thread. */
static void deliver(void *app, void *data)
{
    posted *p = data;
    in_js *h = p->h;
    const qcam_input_event *ev = &p->ev;
    if (h->in) {
        JSContext *ctx = h->ctx;
        bool key = ev->kind <= QCAM_IN_LONGPRESS, taken = false;
        if (key && ev->kind != QCAM_IN_LONGPRESS) h->pressed[ev->key] = ev->kind == QCAM_IN_PRESS;
        if (!key) {
            h->tx = ev->x;
            h->ty = ev->y;
            h->tdown = ev->kind != QCAM_IN_TOUCH_UP;
        }
        JSValue fn = key ? h->on_key : h->on_touch;
        if (JS_IsFunction(ctx, fn)) {
            JSValue f = JS_DupValue(ctx, fn), o = event_object(ctx, ev);
            JSValue r = JS_Call(ctx, f, JS_UNDEFINED, 1, (JSValueConst *)&o);
            JS_FreeValue(ctx, o);
            JS_FreeValue(ctx, f);
            if (JS_IsException(r)) qcam_app_uncaught(app);
            else taken = JS_IsBool(r) && JS_ToBool(ctx, r);
            JS_FreeValue(ctx, r);
        } else {
            enqueue(h, ev);
        }
        if (h->in && ev->kind == QCAM_IN_LONGPRESS && ev->key == QCAM_KEY_OK && !taken && h->exit_on_long_ok)
            qcam_app_set_exit_flag(app, true);
    }
    in_unref(h);
    free(p);
}

static void discard(void *data)
{
    posted *p = data;
    in_unref(p->h);
    free(p);
}

/* On the HAL's thread. */
static void on_event(void *opaque, const qcam_input_event *ev)
{
    in_js *h = opaque;
    posted *p = malloc(sizeof *p);
    if (!p) return;
    atomic_fetch_add(&h->refs, 1);
    *p = (posted){h, *ev};
    if (qcam_app_post(h->app, deliver, discard, p) < 0) discard(p);
}

static void in_close(in_js *h)
{
    if (!h->in) return;
    qcam_input_close(h->in);
    h->in = NULL;
    qcam_resource_remove(h->app, &h->res);
    JS_FreeValue(h->ctx, h->on_key);
    JS_FreeValue(h->ctx, h->on_touch);
    h->on_key = h->on_touch = JS_UNDEFINED;
}

static void release_resource(qcam_resource *res)
{
    in_close((in_js *)((char *)res - offsetof(in_js, res)));
}

static void input_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    in_js *h = JS_GetOpaque(val, input_class);
    if (!h) return;
    in_close(h);
    in_unref(h);
}

static void input_mark(JSRuntime *rt, JSValueConst val, JS_MarkFunc *mark)
{
    in_js *h = JS_GetOpaque(val, input_class);
    if (!h) return;
    JS_MarkValue(rt, h->on_key, mark);
    JS_MarkValue(rt, h->on_touch, mark);
}

static const JSClassDef input_def = {"Input", .finalizer = input_finalizer, .gc_mark = input_mark};

static in_js *this_input(JSContext *ctx, JSValueConst this_val)
{
    in_js *h = qcam_handle(ctx, this_val, input_class, "Input");
    return h && !h->in ? qcam_closed(ctx, "Input") : h;
}

static int fn_opt(JSContext *ctx, JSValueConst opts, const char *name, JSValue *out)
{
    JSValue v;
    int r = qcam_opt_get(ctx, opts, name, &v);
    if (r < 0) return -1;
    if (r == 0) return 0;
    if (!JS_IsFunction(ctx, v)) {
        char given[64];
        qcam_opt_describe(ctx, v, given, sizeof given);
        JS_FreeValue(ctx, v);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "Input %s must be a function, not %s", name, given);
        return -1;
    }
    *out = v;
    return 0;
}

static JSValue input_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"onKey", "onTouch", "exitOnLongOk", NULL};
    if (JS_IsUndefined(new_target))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CONSTRUCT_CALL_REQUIRED", "Input must be called with new");
    JSValueConst opts = argc > 0 ? argv[0] : JS_UNDEFINED;
    JSValue on_key = JS_UNDEFINED, on_touch = JS_UNDEFINED;
    bool exit_ok = true;
    if (!JS_IsUndefined(opts)) {
        if (!qcam_opt_is_object(ctx, opts))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "Input options must be an object");
        if (qcam_opt_keys(ctx, opts, "Input", keys) || fn_opt(ctx, opts, "onKey", &on_key) ||
            fn_opt(ctx, opts, "onTouch", &on_touch) || qcam_opt_bool(ctx, opts, "Input", "exitOnLongOk", &exit_ok) < 0) {
            JS_FreeValue(ctx, on_key);
            JS_FreeValue(ctx, on_touch);
            return JS_EXCEPTION;
        }
    }
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_IsException(proto) ? proto : JS_NewObjectProtoClass(ctx, proto, input_class);
    JS_FreeValue(ctx, proto);
    in_js *h = JS_IsException(obj) ? NULL : calloc(1, sizeof *h);
    if (!h) {
        JS_FreeValue(ctx, obj);
        JS_FreeValue(ctx, on_key);
        JS_FreeValue(ctx, on_touch);
        return JS_IsException(obj) ? obj : JS_ThrowOutOfMemory(ctx);
    }
    atomic_init(&h->refs, 1);
    h->app = qcam_app_of(ctx);
    h->ctx = ctx;
    h->on_key = on_key;
    h->on_touch = on_touch;
    h->exit_on_long_ok = exit_ok;
    int r = qcam_input_open(on_event, h, true, &h->in);
    if (r < 0) {
        JS_FreeValue(ctx, on_key);
        JS_FreeValue(ctx, on_touch);
        free(h);
        JS_FreeValue(ctx, obj);
        return qcam_throw_errno(ctx, -r, "cannot open the keys");
    }
    h->res.kind = "input";
    h->res.release = release_resource;
    qcam_resource_add(h->app, &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue input_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, input_class, "Input", &opaque) < 0) return JS_EXCEPTION;
    in_js *h = opaque;
    if (h) {
        JS_SetOpaque(this_val, NULL);
        in_close(h);
        in_unref(h);
    }
    return JS_UNDEFINED;
}

static JSValue input_poll(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    in_js *h = this_input(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    JSValue arr = JS_NewArray(ctx);
    for (int i = 0; i < h->q_len; i++)
        JS_SetPropertyUint32(ctx, arr, (uint32_t)i, event_object(ctx, &h->queue[(h->q_head + i) % QUEUE_MAX]));
    h->q_head = h->q_len = 0;
    return arr;
}

static JSValue input_is_pressed(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    in_js *h = this_input(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    JSValueConst v = argc > 0 ? argv[0] : JS_UNDEFINED;
    const char *s = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
    int k = qcam_key_parse(s);
    JS_FreeCString(ctx, s);
    if (k < 0) {
        char given[64];
        qcam_opt_describe(ctx, v, given, sizeof given);
        return qcam_throw(ctx, JS_IsString(v) ? QCAM_RANGE_ERROR : QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "isPressed key must be one of \"ok\", \"option\", \"next\", \"prev\", \"left\", \"right\", not %s",
                          given);
    }
    return JS_NewBool(ctx, h->pressed[k]);
}

static JSValue input_touch(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    in_js *h = this_input(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    JSValue o = JS_NewObject(ctx);
    JS_DefinePropertyValueStr(ctx, o, "x", JS_NewInt32(ctx, h->tx), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "y", JS_NewInt32(ctx, h->ty), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, o, "down", JS_NewBool(ctx, h->tdown), JS_PROP_C_W_E);
    return o;
}

static JSValue input_dropped(JSContext *ctx, JSValueConst this_val)
{
    in_js *h = this_input(ctx, this_val);
    return h ? JS_NewInt64(ctx, (int64_t)h->dropped) : JS_EXCEPTION;
}

static const JSCFunctionListEntry input_proto[] = {
    JS_CGETSET_DEF("dropped", input_dropped, NULL),
    JS_CFUNC_DEF("poll", 0, input_poll),
    JS_CFUNC_DEF("isPressed", 1, input_is_pressed),
    JS_CFUNC_DEF("touch", 0, input_touch),
    JS_CFUNC_DEF("close", 0, input_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Input", JS_PROP_CONFIGURABLE),
};

static int input_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_class_init(ctx, &input_class, &input_def, input_proto, sizeof input_proto / sizeof input_proto[0],
                        "close") < 0)
        return -1;
    return qcam_export_class(ctx, m, "Input", input_class, input_ctor, 1, JS_CFUNC_constructor_or_func);
}

JSModuleDef *qcam_mod_input_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, input_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "Input");
    return m;
}
