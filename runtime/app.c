#include "app.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host-modules/modules.h"
#include "devlink/control.h"
#include "engine.h"
#include "loop.h"
#include "platform.h"
#include "store/store.h"

typedef struct qcam_timer {
    struct qcam_timer *next;
    int64_t id;
    long long due_us;
    long long interval_us; /* < 0: one-shot */
    JSValue fn;
    int argc;
    JSValue *argv;
} qcam_timer;

typedef struct qcam_rejection {
    struct qcam_rejection *next;
    JSValue promise, reason;
} qcam_rejection;

struct qcam_app {
    const qcam_run_options *opts;
    JSRuntime *rt;
    JSContext *ctx;
    qcam_loop *loop;
    qcam_timer *timers; /* sorted by due time */
    int64_t next_timer_id;
    qcam_timer *firing; /* the timer whose callback runs now */
    bool firing_cleared; /* ...and it called clearInterval on itself */
    qcam_rejection *rejections;
    qcam_resource resources; /* list head */
    bool exit_flag;
    bool fatal;
    bool in_turn;
    int exit_code;
    char *exit_msg;
    int log_level;
    char *id, *name, *version;
};

/* ---- accessors ---------------------------------------------------------- */

qcam_app *qcam_app_of(JSContext *ctx) { return JS_GetContextOpaque(ctx); }
const qcam_run_options *qcam_app_options(qcam_app *app) { return app->opts; }
JSContext *qcam_app_context(qcam_app *app) { return app->ctx; }
const char *qcam_app_id(qcam_app *app) { return app->id ? app->id : ""; }
const char *qcam_app_name(qcam_app *app) { return app->name ? app->name : ""; }
const char *qcam_app_version(qcam_app *app) { return app->version ? app->version : ""; }
void qcam_app_set_log_level(qcam_app *app, int level) { app->log_level = level; }
int qcam_app_log_level(qcam_app *app) { return app->log_level; }

/* ---- errors ------------------------------------------------------------- */

static JSValue throw_with_code(JSContext *ctx, qcam_error_kind kind, const char *code,
                               const char *msg)
{
    JSValue err;
    switch (kind) {
    case QCAM_TYPE_ERROR: err = JS_NewTypeError(ctx, "%s", msg); break;
    case QCAM_RANGE_ERROR: err = JS_NewRangeError(ctx, "%s", msg); break;
    default: err = JS_NewPlainError(ctx, "%s", msg); break;
    }
    if (JS_IsException(err)) return err;
    JS_DefinePropertyValueStr(ctx, err, "code", JS_NewString(ctx, code),
                              JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    return JS_Throw(ctx, err);
}

JSValue qcam_throw(JSContext *ctx, qcam_error_kind kind, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return throw_with_code(ctx, kind, code, msg);
}

static const char *errno_name(int err)
{
    switch (err) {
#define E(x) case x: return #x
        E(EPERM); E(ENOENT); E(EIO); E(EBADF); E(EAGAIN); E(ENOMEM); E(EACCES); E(EBUSY);
        E(EEXIST); E(ENOTDIR); E(EISDIR); E(EINVAL); E(EMFILE); E(ENOSPC); E(EROFS);
        E(EPIPE); E(ERANGE); E(ENAMETOOLONG); E(ENOTEMPTY); E(ETIMEDOUT); E(ECONNREFUSED);
        E(ECONNRESET); E(EADDRINUSE); E(ENODEV); E(EFBIG); E(EDQUOT); E(ENOTSUP);
        E(ELOOP); E(EXDEV); E(EMLINK); E(ETXTBSY); E(EOVERFLOW); E(ENXIO); E(EINTR); E(EBADMSG);
        E(EPROTO);
#undef E
    default: return "EIO";
    }
}

JSValue qcam_throw_errno(JSContext *ctx, int err, const char *fmt, ...)
{
    char what[400], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
    JSValue r = throw_with_code(ctx, QCAM_ERROR, errno_name(err), msg);
    JSValue exc = JS_GetException(ctx);
    JS_DefinePropertyValueStr(ctx, exc, "errno", JS_NewInt32(ctx, err), JS_PROP_CONFIGURABLE);
    JS_Throw(ctx, exc);
    return r;
}

/* Print a thrown value: "<prefix>Error: msg" then the stack frames. */
void qcam_print_exception_to(FILE *out, JSContext *ctx, JSValueConst exc, const char *prefix)
{
    if (out == stderr) fflush(stdout);
    const char *s = JS_ToCString(ctx, exc);
    fprintf(out, "%s%s\n", prefix, s ? s : "(unprintable value)");
    JS_FreeCString(ctx, s);
    if (JS_IsError(exc)) {
        JSValue stack = JS_GetPropertyStr(ctx, exc, "stack");
        const char *st = JS_IsString(stack) ? JS_ToCString(ctx, stack) : NULL;
        if (st) {
            /* quickjs-ng's stack may repeat the "Name: message" line first. */
            const char *frames = strstr(st, "    at ");
            fputs(frames ? frames : st, out);
            if (*st && st[strlen(st) - 1] != '\n') fputc('\n', out);
        }
        JS_FreeCString(ctx, st);
        JS_FreeValue(ctx, stack);
    }
    fflush(out);
}

void qcam_print_exception(JSContext *ctx, JSValueConst exc, const char *prefix)
{
    qcam_print_exception_to(stderr, ctx, exc, prefix);
}

static void report_exception(qcam_app *app, const char *prefix)
{
    JSValue exc = JS_GetException(app->ctx);
    if (JS_IsUncatchableError(exc)) prefix = "Interrupted: ";
    qcam_print_exception(app->ctx, exc, prefix);
    JS_FreeValue(app->ctx, exc);
    app->fatal = true;
}

/* ---- native handle classes ------------------------------------------------ */

int qcam_class_init(JSContext *ctx, JSClassID *id, const JSClassDef *def,
                    const JSCFunctionListEntry *methods, int n_methods, const char *close_name)
{
    JSRuntime *rt = JS_GetRuntime(ctx);
    JS_NewClassID(rt, id);
    if (!JS_IsRegisteredClass(rt, *id) && JS_NewClass(rt, *id, def) < 0) return -1;
    JSValue proto = JS_NewObject(ctx);
    if (JS_IsException(proto)) return -1;
    JS_SetPropertyFunctionList(ctx, proto, methods, n_methods);
    if (close_name) {
        JSValue global = JS_GetGlobalObject(ctx);
        JSValue symbol = JS_GetPropertyStr(ctx, global, "Symbol");
        JSValue dispose = JS_GetPropertyStr(ctx, symbol, "dispose");
        JSAtom atom = JS_ValueToAtom(ctx, dispose);
        JS_DefinePropertyValue(ctx, proto, atom, JS_GetPropertyStr(ctx, proto, close_name),
                               JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
        JS_FreeAtom(ctx, atom);
        JS_FreeValue(ctx, dispose);
        JS_FreeValue(ctx, symbol);
        JS_FreeValue(ctx, global);
    }
    JS_SetClassProto(ctx, *id, proto);
    return 0;
}

int qcam_export_class(JSContext *ctx, JSModuleDef *m, const char *name, JSClassID id,
                      JSCFunction *ctor, int length, JSCFunctionEnum kind)
{
    JSValue fn = JS_NewCFunction2(ctx, ctor, name, length, kind, 0);
    JSValue proto = JS_GetClassProto(ctx, id);
    JS_SetConstructor(ctx, fn, proto);
    JS_FreeValue(ctx, proto);
    return JS_SetModuleExport(ctx, m, name, fn);
}

int qcam_handle_closing(JSContext *ctx, JSValueConst obj, JSClassID id, const char *what,
                        void **opaque)
{
    JSClassID got = 0;
    *opaque = JS_GetAnyOpaque(obj, &got);
    if (got == id) return 0;
    *opaque = NULL;
    qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_WRONG_THIS", "expected a %s", what);
    return -1;
}

void *qcam_handle(JSContext *ctx, JSValueConst obj, JSClassID id, const char *what)
{
    void *p;
    if (qcam_handle_closing(ctx, obj, id, what, &p) < 0) return NULL;
    return p ? p : qcam_closed(ctx, what);
}

void *qcam_closed(JSContext *ctx, const char *what)
{
    qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CLOSED", "%s is closed", what);
    return NULL;
}

void qcam_app_uncaught(qcam_app *app) { report_exception(app, "Uncaught "); }

/* ---- exit state --------------------------------------------------------- */

bool qcam_app_exit_requested(qcam_app *app)
{
    return app->exit_flag || app->fatal || qcam_signals_count() > 0 ||
           qcam_trial_hung(app->opts->trial) ||
           (app->opts->control && qcam_control_should_exit(app->opts->control));
}

const char *qcam_app_exit_reason(qcam_app *app)
{
    if (app->fatal) return "fatal";
    switch (app->opts->control ? qcam_control_reason(app->opts->control) : QCAM_STOP_NONE) {
    case QCAM_STOP_STOP: return "stop";
    case QCAM_STOP_RELOAD: return "reload";
    case QCAM_STOP_QUIT: return "signal";
    default: break;
    }
    if (qcam_signals_count() > 0) return "signal";
    return app->exit_flag ? "exit" : NULL;
}

/* The engine asks this every few thousand steps of JavaScript: non-zero ends
 * the running code with an uncatchable error (a dev-link stop of an app that
 * does not call needExit()). */
static int interrupt_handler(JSRuntime *rt, void *opaque)
{
    (void)rt;
    qcam_app *app = opaque;
    /* A version on trial that hangs: the watchdog (runtime/store/store.h). */
    if (qcam_trial_hung(app->opts->trial)) return 1;
    return app->opts->control && qcam_control_interrupt_due(app->opts->control);
}

void qcam_app_set_exit_flag(qcam_app *app, bool on) { app->exit_flag = on; }

void qcam_app_set_exit_message(qcam_app *app, int code, const char *msg)
{
    free(app->exit_msg);
    app->exit_msg = msg && *msg ? strdup(msg) : NULL;
    app->exit_code = code;
}

void qcam_app_fatal(qcam_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fputs("Fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    app->fatal = true;
}

/* ---- host events and resources ------------------------------------------ */

int qcam_app_post(qcam_app *app, qcam_event_fn *run, void (*discard)(void *), void *data)
{
    return qcam_loop_post(app->loop, run, discard, data);
}

void qcam_resource_add(qcam_app *app, qcam_resource *res)
{
    qcam_resource *head = &app->resources;
    res->next = head->next;
    res->prev = head;
    head->next->prev = res;
    head->next = res;
}

void qcam_resource_remove(qcam_app *app, qcam_resource *res)
{
    (void)app;
    if (!res->next) return;
    res->prev->next = res->next;
    res->next->prev = res->prev;
    res->next = res->prev = NULL;
}

static bool resources_keep_alive(qcam_app *app)
{
    for (qcam_resource *r = app->resources.next; r != &app->resources; r = r->next)
        if (r->keeps_alive) return true;
    return false;
}

/* ---- timers ------------------------------------------------------------- */

static void timer_free(JSContext *ctx, qcam_timer *t)
{
    JS_FreeValue(ctx, t->fn);
    for (int i = 0; i < t->argc; i++) JS_FreeValue(ctx, t->argv[i]);
    js_free(ctx, t->argv);
    js_free(ctx, t);
}

static void timer_insert(qcam_app *app, qcam_timer *t)
{
    qcam_timer **p = &app->timers;
    while (*p && (*p)->due_us <= t->due_us) p = &(*p)->next;
    t->next = *p;
    *p = t;
}

static JSValue js_set_timer(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                            int repeat)
{
    (void)this_val;
    qcam_app *app = qcam_app_of(ctx);
    if (argc < 1 || !JS_IsFunction(ctx, argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "callback must be a function");
    double ms = 0;
    if (argc > 1 && JS_ToFloat64(ctx, &ms, argv[1])) return JS_EXCEPTION;
    if (!(ms >= 1)) ms = repeat ? 1 : 0; /* NaN, negative, < 1 */
    qcam_timer *t = js_mallocz(ctx, sizeof *t);
    if (!t) return JS_EXCEPTION;
    t->argc = argc > 2 ? argc - 2 : 0;
    if (t->argc) {
        t->argv = js_malloc(ctx, sizeof(JSValue) * t->argc);
        if (!t->argv) {
            js_free(ctx, t);
            return JS_EXCEPTION;
        }
        for (int i = 0; i < t->argc; i++) t->argv[i] = JS_DupValue(ctx, argv[i + 2]);
    }
    t->id = ++app->next_timer_id;
    t->fn = JS_DupValue(ctx, argv[0]);
    t->interval_us = repeat ? (long long)(ms * 1000) : -1;
    t->due_us = qcam_now_us() + (long long)(ms * 1000);
    timer_insert(app, t);
    return JS_NewInt64(ctx, t->id);
}

static JSValue js_clear_timer(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    qcam_app *app = qcam_app_of(ctx);
    int64_t id;
    if (argc < 1 || !JS_IsNumber(argv[0]) || JS_ToInt64(ctx, &id, argv[0])) return JS_UNDEFINED;
    if (app->firing && app->firing->id == id) {
        app->firing_cleared = true;
        return JS_UNDEFINED;
    }
    for (qcam_timer **p = &app->timers; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            qcam_timer *t = *p;
            *p = t->next;
            timer_free(ctx, t);
            break;
        }
    }
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry timer_funcs[] = {
    JS_CFUNC_MAGIC_DEF("setTimeout", 2, js_set_timer, 0),
    JS_CFUNC_MAGIC_DEF("setInterval", 2, js_set_timer, 1),
    JS_CFUNC_DEF("clearTimeout", 1, js_clear_timer),
    JS_CFUNC_DEF("clearInterval", 1, js_clear_timer),
};

/* ---- crypto.getRandomValues ---------------------------------------------- */

/* Web Crypto's limit for one call, in bytes. */
#define QCAM_RANDOM_MAX 65536

/* crypto.getRandomValues(typedArray): fills an integer typed array with bytes
 * from the kernel's secure source and returns it. As the Web's: float arrays,
 * DataViews and the rest are refused (TypeMismatchError there, ERR_TYPE_MISMATCH
 * here), and so are more than 65536 bytes (QuotaExceededError there,
 * ERR_QUOTA_EXCEEDED here), leaving the array as it was. */
static JSValue js_get_random_values(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    int type = argc < 1 ? -1 : JS_GetTypedArrayType(argv[0]);
    if (type < 0 || type == JS_TYPED_ARRAY_FLOAT16 || type == JS_TYPED_ARRAY_FLOAT32 ||
        type == JS_TYPED_ARRAY_FLOAT64)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_TYPE_MISMATCH",
                          "getRandomValues needs an integer typed array (Uint8Array, Int32Array, ...)");
    size_t off = 0, len = 0, per = 1;
    JSValue buffer = JS_GetTypedArrayBuffer(ctx, argv[0], &off, &len, &per);
    if (JS_IsException(buffer)) {
        /* detached, or a fixed view out of its resized buffer: no bytes (the Web's byteLength 0) */
        JS_FreeValue(ctx, JS_GetException(ctx));
        return JS_DupValue(ctx, argv[0]);
    }
    size_t size = 0;
    uint8_t *bytes = JS_GetArrayBuffer(ctx, &size, buffer);
    JS_FreeValue(ctx, buffer); /* the typed array keeps it alive */
    if (!bytes) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        size = 0;
    }
    /* A view that tracks a resizable buffer's length has what is left of it, in whole elements. */
    if (off > size) len = 0;
    else if (len > size - off) len = (size - off) / per * per;
    if (len > QCAM_RANDOM_MAX)
        return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_QUOTA_EXCEEDED",
                          "getRandomValues: %zu bytes asked, at most %d at a time", len, QCAM_RANDOM_MAX);
    if (len && qcam_platform_random(bytes + off, len) != 0)
        return qcam_throw_errno(ctx, errno, "getRandomValues: no random bytes from the system");
    return JS_DupValue(ctx, argv[0]);
}

static const JSCFunctionListEntry crypto_funcs[] = {
    JS_CFUNC_DEF("getRandomValues", 1, js_get_random_values),
};

/* Fire the timers due now; each callback is followed by its promise jobs. */
static void run_jobs(qcam_app *app);

static void run_timers(qcam_app *app)
{
    long long now = qcam_now_us();
    /* Fire only timers due at entry, so an interval of 0 cannot starve the loop. */
    int budget = 0;
    for (qcam_timer *t = app->timers; t && t->due_us <= now; t = t->next) budget++;
    while (budget-- > 0 && app->timers && app->timers->due_us <= now && !app->fatal) {
        qcam_timer *t = app->timers;
        app->timers = t->next;
        app->firing = t;
        app->firing_cleared = false;
        JSValue ret = JS_Call(app->ctx, t->fn, JS_UNDEFINED, t->argc, t->argv);
        app->firing = NULL;
        if (t->interval_us >= 0 && !app->firing_cleared) {
            t->due_us = now + t->interval_us;
            timer_insert(app, t);
        } else {
            timer_free(app->ctx, t);
        }
        if (JS_IsException(ret)) report_exception(app, "Uncaught ");
        JS_FreeValue(app->ctx, ret);
        run_jobs(app);
    }
}

/* ---- promise jobs and rejections ----------------------------------------- */

static void rejection_tracker(JSContext *ctx, JSValueConst promise, JSValueConst reason,
                              bool is_handled, void *opaque)
{
    qcam_app *app = opaque;
    if (!is_handled) {
        qcam_rejection *r = js_malloc(ctx, sizeof *r);
        if (!r) return;
        r->promise = JS_DupValue(ctx, promise);
        r->reason = JS_DupValue(ctx, reason);
        r->next = app->rejections;
        app->rejections = r;
        return;
    }
    for (qcam_rejection **p = &app->rejections; *p; p = &(*p)->next) {
        if (JS_VALUE_GET_PTR((*p)->promise) == JS_VALUE_GET_PTR(promise)) {
            qcam_rejection *r = *p;
            *p = r->next;
            JS_FreeValue(ctx, r->promise);
            JS_FreeValue(ctx, r->reason);
            js_free(ctx, r);
            return;
        }
    }
}

static void free_rejections(qcam_app *app, bool report)
{
    while (app->rejections) {
        qcam_rejection *r = app->rejections;
        app->rejections = r->next;
        if (report) {
            qcam_print_exception(app->ctx, r->reason, "Uncaught (in promise) ");
            app->fatal = true;
        }
        JS_FreeValue(app->ctx, r->promise);
        JS_FreeValue(app->ctx, r->reason);
        js_free(app->ctx, r);
    }
}

static void run_jobs(qcam_app *app)
{
    JSContext *jctx;
    for (;;) {
        int r = JS_ExecutePendingJob(app->rt, &jctx);
        if (r == 0) break;
        if (r < 0) report_exception(app, "Uncaught ");
    }
    /* Rejections still unhandled once the job queue is empty are errors. */
    free_rejections(app, true);
}

/* ---- the loop turn ------------------------------------------------------- */

void qcam_app_turn(qcam_app *app)
{
    qcam_trial_alive(app->opts->trial);
    if (app->in_turn) return; /* needExit() from inside a timer callback */
    app->in_turn = true;
    run_jobs(app);
    qcam_loop_drain(app->loop, app);
    run_jobs(app);
    run_timers(app);
    app->in_turn = false;
}

/* Block until the next timer, host event or signal. */
static void wait_for_work(qcam_app *app)
{
    int timeout = -1;
    if (app->timers) {
        long long d = app->timers->due_us - qcam_now_us();
        timeout = d <= 0 ? 0 : (int)((d + 999) / 1000);
    }
    if (JS_IsJobPending(app->rt)) timeout = 0;
    qcam_trial_waiting(app->opts->trial, true); /* waiting for work is not hanging */
    qcam_loop_wait(app->loop, timeout);
    qcam_trial_waiting(app->opts->trial, false);
}

/* ---- modules -------------------------------------------------------------- */

JSModuleDef *qcam_module_loader(JSContext *ctx, const char *name, void *opaque)
{
    (void)opaque;
    if (strncmp(name, "qcam:", 5) == 0) {
        const qcam_module_entry *m = qcam_find_module(name);
        if (!m) {
            qcam_throw(ctx, QCAM_ERROR, "ERR_UNKNOWN_MODULE", "unknown host module '%s'", name);
            return NULL;
        }
        return m->init(ctx, name);
    }
    /* Apps are bundled into one module; anything else is a packaging error. */
    qcam_throw(ctx, QCAM_ERROR, "ERR_MODULE_NOT_FOUND",
               "module '%s' is not in the app image (imports other than qcam:* are bundled)",
               name);
    return NULL;
}

/* ---- lifecycle ----------------------------------------------------------- */

static char *manifest_string(JSContext *ctx, JSValueConst obj, const char *key)
{
    JSValue v = JS_GetPropertyStr(ctx, obj, key);
    char *out = NULL;
    if (JS_IsString(v)) {
        const char *s = JS_ToCString(ctx, v);
        if (s) out = strdup(s);
        JS_FreeCString(ctx, s);
    }
    JS_FreeValue(ctx, v);
    return out;
}

static void read_manifest(qcam_app *app, const uint8_t *json, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) return;
    memcpy(copy, json, len);
    copy[len] = 0;
    JSValue m = JS_ParseJSON(app->ctx, copy, len, "manifest");
    free(copy);
    if (JS_IsException(m)) {
        JS_FreeValue(app->ctx, JS_GetException(app->ctx));
        return;
    }
    app->id = manifest_string(app->ctx, m, "id");
    app->name = manifest_string(app->ctx, m, "name");
    app->version = manifest_string(app->ctx, m, "version");
    JS_FreeValue(app->ctx, m);
}

static qcam_app *app_new(const qcam_run_options *opts)
{
    qcam_app *app = calloc(1, sizeof *app);
    if (!app) return NULL;
    app->opts = opts;
    app->log_level = opts->log_level;
    app->resources.next = app->resources.prev = &app->resources;
    app->loop = qcam_loop_new();
    app->rt = app->loop ? JS_NewRuntime() : NULL;
    app->ctx = app->rt ? JS_NewContext(app->rt) : NULL;
    if (!app->ctx) {
        if (app->rt) JS_FreeRuntime(app->rt);
        qcam_loop_free(app->loop);
        free(app);
        return NULL;
    }
    JS_SetRuntimeOpaque(app->rt, app);
    JS_SetContextOpaque(app->ctx, app);
    JS_SetModuleLoaderFunc(app->rt, NULL, qcam_module_loader, app);
    JS_SetHostPromiseRejectionTracker(app->rt, rejection_tracker, app);
    JSValue global = JS_GetGlobalObject(app->ctx);
    JS_SetPropertyFunctionList(app->ctx, global, timer_funcs,
                               sizeof timer_funcs / sizeof timer_funcs[0]);
    JSValue crypto = JS_NewObject(app->ctx);
    if (!JS_IsException(crypto)) {
        JS_SetPropertyFunctionList(app->ctx, crypto, crypto_funcs, sizeof crypto_funcs / sizeof crypto_funcs[0]);
        JS_DefinePropertyValueStr(app->ctx, global, "crypto", crypto, JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    }
    JS_FreeValue(app->ctx, global);
    qcam_console_init(app->ctx);
    qcam_signals_install(app->loop);
    if (opts->control) qcam_control_attach(opts->control, app->loop);
    if (opts->control || opts->trial) JS_SetInterruptHandler(app->rt, interrupt_handler, app);
    return app;
}

static void app_free(qcam_app *app)
{
    if (app->opts->control) qcam_control_detach(app->opts->control);
    /* Native resources first (their threads may still post events), newest first. */
    while (app->resources.next != &app->resources) {
        qcam_resource *r = app->resources.next;
        qcam_resource_remove(app, r);
        r->release(r);
    }
    qcam_loop_free(app->loop); /* discards events that never ran */
    while (app->timers) {
        qcam_timer *t = app->timers;
        app->timers = t->next;
        timer_free(app->ctx, t);
    }
    free_rejections(app, false);
    JS_FreeContext(app->ctx);
    JS_FreeRuntime(app->rt);
    free(app->exit_msg);
    free(app->id);
    free(app->name);
    free(app->version);
    free(app);
}

/* Drive the app after its module started evaluating: run the loop until the
 * module settled and nothing can call back into JavaScript any more. */
static int app_main(qcam_app *app, JSValue module_fn)
{
    if (JS_ResolveModule(app->ctx, module_fn) < 0) {
        JS_FreeValue(app->ctx, module_fn);
        report_exception(app, "Uncaught ");
        return QCAM_EXIT_UNCAUGHT;
    }
    JSValue done = JS_EvalFunction(app->ctx, module_fn); /* takes module_fn */
    if (JS_IsException(done)) {
        report_exception(app, "Uncaught ");
        return QCAM_EXIT_UNCAUGHT;
    }
    int code = QCAM_EXIT_OK;
    for (;;) {
        /* The module's own rejection is reported here, not as "in promise". */
        JSPromiseStateEnum st = JS_PromiseState(app->ctx, done);
        if (st == JS_PROMISE_REJECTED) {
            rejection_tracker(app->ctx, done, JS_UNDEFINED, true, app);
            JSValue reason = JS_PromiseResult(app->ctx, done);
            qcam_print_exception(app->ctx, reason, "Uncaught ");
            JS_FreeValue(app->ctx, reason);
            app->fatal = true;
            break;
        }
        qcam_app_turn(app);
        if (app->fatal) break;
        st = JS_PromiseState(app->ctx, done);
        if (st == JS_PROMISE_REJECTED) continue;
        bool settled = st != JS_PROMISE_PENDING;
        bool busy = app->timers || JS_IsJobPending(app->rt) || resources_keep_alive(app) ||
                    qcam_loop_has_events(app->loop);
        if (qcam_app_exit_requested(app)) {
            if (!settled) code = QCAM_EXIT_INTERRUPTED;
            break;
        }
        if (!busy) {
            if (!settled) {
                fflush(stdout);
                fprintf(stderr, "Error: the app's top-level await can never settle\n");
                code = QCAM_EXIT_STALLED;
            }
            break;
        }
        wait_for_work(app);
    }
    JS_FreeValue(app->ctx, done);
    return code;
}

static int finish(qcam_app *app, int code)
{
    if (app->fatal) code = QCAM_EXIT_UNCAUGHT;
    else if (app->exit_code) code = app->exit_code;
    if (app->exit_msg) {
        fflush(stdout);
        fprintf(stderr, "app exit (%d): %s\n", app->exit_code, app->exit_msg);
    }
    fflush(stdout);
    fflush(stderr);
    app_free(app);
    return code;
}

int qcam_app_run_image(const qcam_run_options *opts, const qcam_image *img)
{
    qcam_app *app = app_new(opts);
    if (!app) return QCAM_EXIT_NOMEM;
    const qcam_image_section *man = qcam_image_find(img, QCAM_SECTION_MANIFEST);
    if (man) read_manifest(app, man->data, man->size);
    const qcam_image_section *bc = &img->sections[img->entry_section];
    JSValue fn = qcam_engine_read_module(app->ctx, bc->data, bc->size);
    if (JS_IsException(fn)) {
        report_exception(app, "Cannot load app bytecode: ");
        app->fatal = false;
        return finish(app, QCAM_EXIT_LOAD);
    }
    return finish(app, app_main(app, fn));
}

int qcam_app_run_source(const qcam_run_options *opts, const char *src, size_t len,
                        const char *name)
{
    qcam_app *app = app_new(opts);
    if (!app) return QCAM_EXIT_NOMEM;
    JSValue fn = JS_Eval(app->ctx, src, len, name, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(fn)) {
        report_exception(app, "");
        return finish(app, QCAM_EXIT_UNCAUGHT);
    }
    return finish(app, app_main(app, fn));
}
