/* App lifecycle: one app = one JS runtime + context + loop + the native
 * resources it opened. Load, run, unload; the process can then load the next. */
#ifndef QCAM_APP_H
#define QCAM_APP_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "image.h"
#include "qcam_host.h"

/* Exit codes beyond the image ones (image.h, 10..19). */
enum {
    QCAM_EXIT_OK = 0,
    QCAM_EXIT_UNCAUGHT = 1,   /* uncaught exception, unhandled rejection, fatal host error */
    QCAM_EXIT_USAGE = 2,      /* bad command line */
    QCAM_EXIT_LOAD = 20,      /* a verified image the engine could not instantiate */
    QCAM_EXIT_STALLED = 21,   /* top-level await that can never settle */
    QCAM_EXIT_NOMEM = 22,
    QCAM_EXIT_INTERRUPTED = 130,
};

/* Run a verified image to completion and free everything it held. */
int qcam_app_run_image(const qcam_run_options *opts, const qcam_image *img);
/* Run ES module source (development and benchmarks: the same path minus
 * the bytecode reader). src[len] must be 0. */
int qcam_app_run_source(const qcam_run_options *opts, const char *src, size_t len,
                        const char *name);

/* Resolves qcam:* to host modules; anything else is not in the image. The
 * compiler uses it too, so a missing export fails the build, not the board. */
JSModuleDef *qcam_module_loader(JSContext *ctx, const char *name, void *opaque);

/* Globals installed in every app context (console.c, timers in app.c). */
int qcam_console_init(JSContext *ctx);
void qcam_print_exception(JSContext *ctx, JSValueConst exc, const char *prefix); /* to stderr */
void qcam_print_exception_to(FILE *out, JSContext *ctx, JSValueConst exc, const char *prefix);

#endif
