/* What a host module may use from the runtime: the running app, the one error
 * helper, the event queue and the resource list that unloading walks. */
#ifndef QCAM_HOST_H
#define QCAM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"

typedef struct qcam_app qcam_app;

/* Options one app runs with (from the command line or the dev link). */
typedef struct {
    const char *sdcard_dir; /* host folder standing in for the SD card (sim) */
    uint64_t sdcard_cap;    /* sim: card size in bytes (0: the host disk's) */
    int argc;               /* start parameters after "--" */
    char **argv;
    int log_level;          /* QCAM_LOG_* */
    const char *board;      /* sim: the board whose panel qcam:display shows (NULL: maixcam) */
    int display_port;       /* sim: the display page's port (0: any free one) */
    bool display_quiet;     /* sim: do not print the display page's URL */
    struct qcam_app_control *control; /* --serve: how the dev link stops the app, or NULL */
    struct qcam_trial *trial; /* --boot: the trial this run is (runtime/store/store.h), or NULL */
} qcam_run_options;

enum { QCAM_LOG_DEBUG = 0, QCAM_LOG_INFO, QCAM_LOG_WARN, QCAM_LOG_ERROR, QCAM_LOG_SILENT };

qcam_app *qcam_app_of(JSContext *ctx);
const qcam_run_options *qcam_app_options(qcam_app *app);
JSContext *qcam_app_context(qcam_app *app);
/* Manifest fields of the running image ("" when absent). */
const char *qcam_app_id(qcam_app *app);
const char *qcam_app_name(qcam_app *app);
const char *qcam_app_version(qcam_app *app);
void qcam_app_set_log_level(qcam_app *app, int level);
int qcam_app_log_level(qcam_app *app);

/* Errors. Every host-module error goes through these: an Error (or TypeError /
 * RangeError) whose `code` property names the problem, e.g. "ERR_CLOSED",
 * "ENOSPC". They return JS_EXCEPTION so a binding can `return qcam_throw(...)`. */
typedef enum { QCAM_ERROR, QCAM_TYPE_ERROR, QCAM_RANGE_ERROR } qcam_error_kind;
JSValue qcam_throw(JSContext *ctx, qcam_error_kind kind, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* code = the errno's symbolic name (ENOENT, ENOSPC, ...) and errno property. */
JSValue qcam_throw_errno(JSContext *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Native handle classes. Every class follows one pattern: a class id, a
 * prototype with its methods plus `close()` aliased as [Symbol.dispose], a
 * finalizer as the fallback, and an opaque pointer that close() sets to NULL.
 * qcam_class_init registers the class in this runtime (once) and sets its
 * prototype in this context; `close_name` names the method to alias (NULL:
 * none). Returns 0 or -1 with an exception. */
int qcam_class_init(JSContext *ctx, JSClassID *id, const JSClassDef *def,
                    const JSCFunctionListEntry *methods, int n_methods, const char *close_name);
/* Export class `id` from module `m` as `name`, constructed by `ctor`
 * (JS_CFUNC_constructor, or JS_CFUNC_constructor_or_func to answer a call
 * without `new` itself). Returns JS_SetModuleExport's result. */
int qcam_export_class(JSContext *ctx, JSModuleDef *m, const char *name, JSClassID id,
                      JSCFunction *ctor, int length, JSCFunctionEnum kind);
/* The handle behind `this`: TypeError ERR_WRONG_THIS if it is not a `what`,
 * TypeError ERR_CLOSED if it was closed. NULL after throwing. */
void *qcam_handle(JSContext *ctx, JSValueConst obj, JSClassID id, const char *what);
/* For close(), which must stay idempotent: the same check for a foreign `this`
 * (-1 after throwing ERR_WRONG_THIS), but a closed handle is no error:
 * 0 with *opaque = NULL. */
int qcam_handle_closing(JSContext *ctx, JSValueConst obj, JSClassID id, const char *what,
                        void **opaque);
/* Throw TypeError ERR_CLOSED "<what> is closed" and return NULL: for a handle
 * that stays while its native object is gone (released at unload), e.g.
 *   return h && !h->enc ? qcam_closed(ctx, "Encoder") : h; */
void *qcam_closed(JSContext *ctx, const char *what);

/* Options objects. Every reader throws ERR_INVALID_ARG with the wording below
 * (part of the modules' contracts) and returns -1 after throwing. `what` names
 * the options' owner ("Camera", "AudioIn", ...), `name` the property. */
/* A plain object: not a function, not an array. */
bool qcam_opt_is_object(JSContext *ctx, JSValueConst v);
/* Property `name`: 1 with *out (the caller frees it), 0 when absent or
 * undefined, -1 on an exception. */
int qcam_opt_get(JSContext *ctx, JSValueConst opts, const char *name, JSValue *out);
/* A value of the wrong type as the messages end it (", not <it>"): a string
 * as JSON when that is at most 42 bytes ("640" with its quotes), else "a
 * string"; true, false, null, undefined; a number as %g; "a bigint", "a
 * symbol", "a function", "an array", "an object". The stubs' describeValue()
 * says the same. */
void qcam_opt_describe(JSContext *ctx, JSValueConst v, char *buf, size_t size);
/* An integer in [lo, hi] that is lo plus a multiple of `step` (1: any), `def`
 * when absent: "<what> <name> must be an integer from <lo> to <hi><note>, not
 * <value>" (TypeError for a non-number, RangeError for a number out of range
 * or not a whole one, <value> as qcam_opt_describe gives it). Step 2 reads
 * "an even integer", other steps "a multiple of <step>". 0 or -1. */
int qcam_opt_int(JSContext *ctx, JSValueConst opts, const char *what, const char *name, int lo, int hi,
                 int step, const char *note, int def, int *out);
/* A boolean: "<what> <name> must be a boolean". 1 (set), 0 (absent) or -1. */
int qcam_opt_bool(JSContext *ctx, JSValueConst opts, const char *what, const char *name, bool *out);
/* A non-empty string copied into buf[size]: "<what> <name> must be <expected>
 * (at most <size - 1> bytes)". 1 (copied), 0 (absent) or -1. */
int qcam_opt_string(JSContext *ctx, JSValueConst opts, const char *what, const char *name, const char *expected,
                    char *buf, size_t size);
/* The plain wording (qcam:video, qcam:rtsp): an integer in [min, max], `def`
 * when absent, or with `required` TypeError "option `<name>` is required";
 * "option `<name>` must be an integer" (TypeError), "option `<name>` must be
 * <min>..<max>, got <value>" (RangeError). 0 or -1. */
int qcam_opt_range(JSContext *ctx, JSValueConst obj, const char *name, bool required, int def, int min, int max,
                   int *out);
/* Refuse own keys not in the NULL-ended `known` (a misspelt option is an
 * error): "unknown <what> option \"<key>\" (known: a, b, c)". 0 or -1. */
int qcam_opt_keys(JSContext *ctx, JSValueConst opts, const char *what, const char *const *known);

/* The loop. */
/* One non-blocking turn: promise jobs, due timers, host events. */
void qcam_app_turn(qcam_app *app);
bool qcam_app_exit_requested(qcam_app *app);
/* Why the app is asked to stop, or NULL while nothing asks: "fatal" (a
 * host-module fatal error or an uncaught error), "stop" / "reload" (the dev
 * link), "signal" (SIGINT/SIGTERM, or the serving runtime quitting), "exit"
 * (setExitFlag(true)). */
const char *qcam_app_exit_reason(qcam_app *app);
void qcam_app_set_exit_flag(qcam_app *app, bool on);
void qcam_app_set_exit_message(qcam_app *app, int code, const char *msg);
/* A host module hit an error the app cannot continue from: print it, make
 * needExit() true and the process exit non-zero. */
void qcam_app_fatal(qcam_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The pending exception is uncaught: print it with its stack and fail the
 * app as an uncaught error does (needExit() turns true, exit status 1). */
void qcam_app_uncaught(qcam_app *app);
/* Thread-safe: run `run(app, data)` on the app's thread at its next turn.
 * If the app unloads first, discard(data) is called instead. */
typedef void qcam_event_fn(void *app, void *data);
int qcam_app_post(qcam_app *app, qcam_event_fn *run, void (*discard)(void *), void *data);

/* Native resources an app holds. Unloading releases every one still listed,
 * newest first, before the JS runtime is freed. A handle that keeps the loop
 * alive (a running link, a server) sets `keeps_alive`. */
typedef struct qcam_resource {
    struct qcam_resource *prev, *next;
    const char *kind;
    bool keeps_alive;
    void (*release)(struct qcam_resource *res);
} qcam_resource;
void qcam_resource_add(qcam_app *app, qcam_resource *res);
void qcam_resource_remove(qcam_app *app, qcam_resource *res);

#endif
