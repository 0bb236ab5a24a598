/* What a host module may use from the runtime: the running app, the one error
 * helper, the event queue and the resource list that unloading walks. */
#ifndef QCAM_HOST_H
#define QCAM_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "quickjs.h"

typedef struct qcam_app qcam_app;

/* Options one app runs with (from the command line or the dev link). */
typedef struct {
    const char *sdcard_dir; /* host folder standing in for the SD card (sim) */
    int argc;               /* start parameters after "--" */
    char **argv;
    int log_level;          /* QCAM_LOG_* */
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

/* The loop. */
/* One non-blocking turn: promise jobs, due timers, host events. */
void qcam_app_turn(qcam_app *app);
bool qcam_app_exit_requested(qcam_app *app);
void qcam_app_set_exit_flag(qcam_app *app, bool on);
void qcam_app_set_exit_message(qcam_app *app, int code, const char *msg);
/* A host module hit an error the app cannot continue from: print it, make
 * needExit() true and the process exit non-zero. */
void qcam_app_fatal(qcam_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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
int qcam_resource_count(qcam_app *app);

#endif
