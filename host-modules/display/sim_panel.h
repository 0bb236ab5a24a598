/* The sim's panel: the RGBA pixels a board's panel would get, the record of
 * which regions changed, and the page server that shows them in a browser.
 *
 * The display (backend_sim.c) composes into `rgba` under `lock`, pushes the
 * changed panel rectangle with a new seq and broadcasts `changed`. The page
 * server's connection threads wait on `changed` and copy out what changed
 * since the seq their page has (sim_page.c). `epoch` tells one display from
 * the next (an app restarted on the same port): a page with another epoch
 * gets a whole frame. */
#ifndef QCAM_SIM_PANEL_H
#define QCAM_SIM_PANEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "draw.h"

#define QCAM_PANEL_HISTORY 64

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int w, h;
    uint8_t *rgba;
    uint64_t seq; /* 1 after the first composition */
    uint32_t epoch;
    struct {
        uint64_t seq;
        qcam_rect r;
    } hist[QCAM_PANEL_HISTORY];
    bool closing;
    const char *board;
} qcam_sim_panel;

/* What changed since `after` (a whole frame when `after` is 0, too old, from
 * another epoch or from the future): the rectangle into *r. Caller holds lock. */
void qcam_sim_panel_since(qcam_sim_panel *p, uint64_t after, uint32_t epoch, qcam_rect *r);

/* Input the page sends (sim_page.c → the input HAL; exit requests to the app). */
typedef struct qcam_sim_page qcam_sim_page;

/* Listen on 127.0.0.1:port (0: any free one) and serve the page; prints
 * "qcam: display http://127.0.0.1:<port>/" on stderr unless quiet.
 * -errno on failure (err says why). */
int qcam_sim_page_start(qcam_sim_panel *panel, int port, bool quiet, qcam_sim_page **out, char *err, size_t n);
int qcam_sim_page_port(qcam_sim_page *pg);
/* Close every connection and join the threads. */
void qcam_sim_page_stop(qcam_sim_page *pg);

#endif
