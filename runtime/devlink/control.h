/* How the dev link stops a running app (docs/dev-link.md, section 3.1).
 *
 * The model. One control block per serving process; the app that runs now
 * is attached to it (qcam_run_options.control) while it is loaded. The
 * agent thread asks for a stop with qcam_control_request_stop(): from then
 * on needExit() is true, the app's loop is woken, and the app's thread gets
 * a signal so a blocking sleep or poll returns early. An app that ignores
 * all of it — a busy `while (true)` — is interrupted by the engine's
 * interrupt handler (qcam_control_interrupt_due): 50 ms after the request
 * if it has not yet seen needExit() true, 2 s after if it has and is still
 * running. The request stays until qcam_control_clear(), before the next app.
 *
 * Threads: request_stop from any thread; attach, detach, should_exit and
 * interrupt_due on the app's thread. Nothing here calls into the engine. */
#ifndef QCAM_DEVLINK_CONTROL_H
#define QCAM_DEVLINK_CONTROL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../loop.h"

#define QCAM_STOP_GRACE_MS 50        /* before an app that never looked is interrupted */
#define QCAM_STOP_CLEANUP_MS 2000    /* before an app that looked but goes on is */
#define QCAM_STOP_SIGNAL SIGUSR2     /* wakes the app's thread from a blocking call */

typedef enum { QCAM_STOP_NONE = 0, QCAM_STOP_STOP, QCAM_STOP_RELOAD, QCAM_STOP_QUIT } qcam_stop_reason;

typedef struct qcam_app_control {
    pthread_mutex_t lock;
    qcam_loop *loop;        /* the attached app's loop, NULL between apps (under lock) */
    pthread_t thread;       /* the attached app's thread (under lock) */
    bool attached;
    atomic_int stop;        /* qcam_stop_reason */
    atomic_llong stop_at_us;
    atomic_int seen;        /* needExit() returned true since the request */
    /* Reload state (app.setReloadState): JSON text, under lock. `state_out`
     * is what the running app handed over, `state_in` what the app before
     * it handed over when it was reloaded. */
    char *state_out, *state_in;
} qcam_app_control;

#define QCAM_RELOAD_STATE_MAX (64u << 10) /* bytes of JSON */

void qcam_control_init(qcam_app_control *c);
void qcam_control_destroy(qcam_app_control *c);
/* Installs the no-op QCAM_STOP_SIGNAL handler (no SA_RESTART). */
void qcam_control_install_signal(void);
void qcam_control_attach(qcam_app_control *c, qcam_loop *loop);
void qcam_control_detach(qcam_app_control *c);
/* Returns whether an app was attached. The first reason asked for stays. */
bool qcam_control_request_stop(qcam_app_control *c, qcam_stop_reason why);
bool qcam_control_should_exit(qcam_app_control *c);
bool qcam_control_interrupt_due(qcam_app_control *c);
qcam_stop_reason qcam_control_reason(qcam_app_control *c);
/* Post an event to the attached app's loop (qcam_loop_post). Returns false,
 * posting nothing, when no app is attached. Any thread. */
bool qcam_control_post(qcam_app_control *c, qcam_loop_run_fn *run, qcam_loop_discard_fn *discard, void *data);
void qcam_control_clear(qcam_app_control *c);
/* The running app's reload state (JSON text, NULL: none); copied. Returns 0
 * or -1 (out of memory). */
int qcam_control_set_state(qcam_app_control *c, const char *json, size_t len);
/* A copy of the state handed to this app (free() it), or NULL. */
char *qcam_control_state_in(qcam_app_control *c);
/* Between two apps: the state the last one handed over goes to the next
 * one when the last was reloaded, and is dropped otherwise. */
void qcam_control_hand_over(qcam_app_control *c, bool reloaded);

#endif
