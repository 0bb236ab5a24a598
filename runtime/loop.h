/* The event queue that native threads post into, and the wake-up the loop
 * sleeps on. POSIX only; knows nothing about the engine. */
#ifndef QCAM_LOOP_H
#define QCAM_LOOP_H

#include <stdbool.h>

typedef struct qcam_loop qcam_loop;

/* run() is called on the loop's thread with the owner given to drain();
 * discard() (may be NULL) frees data for events that never ran. */
typedef void qcam_loop_run_fn(void *owner, void *data);
typedef void qcam_loop_discard_fn(void *data);

qcam_loop *qcam_loop_new(void);
/* Discards events still queued. */
void qcam_loop_free(qcam_loop *loop);

/* Thread-safe. Returns 0, or -1 when out of memory (the event is not queued). */
int qcam_loop_post(qcam_loop *loop, qcam_loop_run_fn *run, qcam_loop_discard_fn *discard,
                   void *data);
/* Run every event queued so far; returns how many ran. */
int qcam_loop_drain(qcam_loop *loop, void *owner);
bool qcam_loop_has_events(qcam_loop *loop);
/* Sleep until an event is posted, a signal arrives or timeout_ms passes
 * (-1: no timeout, 0: just poll). */
void qcam_loop_wait(qcam_loop *loop, int timeout_ms);

/* SIGINT/SIGTERM: the first of each asks the app to exit; a second SIGINT
 * exits the process at once with status 130. */
void qcam_signals_install(qcam_loop *loop);
int qcam_signals_count(void);
void qcam_signals_reset(void);

/* Monotonic clock in microseconds. */
long long qcam_now_us(void);

#endif
