/* The dev link's REPL channel (docs/dev-link.md, section 3.4): evaluate an
 * expression in the running app.
 *
 * The model. The agent never touches the engine: an `eval` request is posted
 * to the running app's event queue (qcam_control_post), and the app's own
 * thread evaluates it the next time its loop turns (a needExit() call, a
 * timer, a host event) and sends the reply itself. One eval is in flight at a
 * time per request: a request sent again while its answer is pending is
 * ignored, one sent again after it is answered from memory, so an expression
 * never runs twice. No app running: status `idle`.
 *
 * Threads: qcam_repl_frame on the agent; the evaluation on the app's thread. */
#ifndef QCAM_DEVLINK_REPL_H
#define QCAM_DEVLINK_REPL_H

#include "serve.h"

#define QCAM_REPL_MAX_RESULT 3800 /* bytes of a result's text; longer is cut */

typedef struct qcam_repl qcam_repl;

qcam_repl *qcam_repl_new(qcam_serve *s);
void qcam_repl_free(qcam_repl *r);
/* A frame on QCAM_DL_CH_REPL (not a reply). */
void qcam_repl_frame(qcam_repl *r, const qcam_dl_frame *f);

#endif
