/* qcam-runtime --serve DEVICE: the runtime as a board on a serial line
 * (docs/dev-link.md, section 4).
 *
 * The model. Two threads share one qcam_serve:
 *   - the agent (agent.c) owns the tty. It decodes frames, answers control
 *     requests, stages and commits pushed images, and forwards the app's
 *     console (the read ends of the pipes that are the process's stdout and
 *     stderr) as console frames. It never calls into the engine.
 *   - the runner (serve.c, the main thread) runs one app at a time through
 *     the usual load -> run -> unload, then waits for the next run request.
 * They meet under `lock`: the agent sets `pending` (an image to run) and
 * signals `cond`; the runner says what runs in `running`/`current`. A stop
 * goes through `control` (control.h), which the app's needExit() and the
 * engine's interrupt handler read.
 *
 * Output to the tty goes through one queue (qcam_serve_send, any thread);
 * the agent writes it out without ever blocking on the tty. Console output
 * beyond QCAM_SERVE_CONSOLE_MAX queued bytes is dropped and counted, so a
 * host that does not read never stalls the app. */
#ifndef QCAM_DEVLINK_SERVE_H
#define QCAM_DEVLINK_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../qcam_host.h"
#include "control.h"
#include "devlink_proto.h"

#define QCAM_SERVE_CONSOLE_MAX (256u << 10)
#define QCAM_SERVE_WINDOW (64u << 10) /* push credit, bytes */
/* An ack goes out for every frame's worth of bytes taken, so a slow line
 * (115200 baud: 0.36 s a frame) still hears from the board often. */
#define QCAM_SERVE_ACK_STEP (QCAM_DL_MAX_PAYLOAD - 5u)
#define QCAM_SERVE_MAX_IMAGE (64u << 20)

/* Message types (docs/dev-link.md, section 3). */
enum { DL_HELLO = 1, DL_PUSH = 2, DL_RUN = 3, DL_STOP = 4, DL_RELOAD = 5, DL_STATS = 6, DL_EVENT = 7 };
/* The app store over the link (install.c): install a pushed image, list,
 * rollback, remove. Numbered apart from the session messages above. */
enum { DL_STORE = 16 };
enum { DL_DATA = 1, DL_ACK = 2, DL_DONE = 3 };
enum { DL_STDOUT = 1, DL_STDERR = 2, DL_DROPPED = 3 };
enum {
    DL_OK = 0, DL_HAVE = 1, DL_IDLE = 2, DL_BAD = 3, DL_NOENT = 4, DL_REFUSED = 5, DL_NOSPACE = 6,
    DL_UNKNOWN = 7, DL_OUTSIDE = 8, DL_IO = 9, DL_THROWN = 10,
    DL_BUSY = 32, /* store: an app is running; stop it first (apart from the session statuses) */
};
/* Files (channel 4): data, ack and done as on the push channel, then chunk
 * (board -> host) and the requests. REPL (channel 3): eval. */
enum { DL_CHUNK = 4, DL_LS = 16, DL_STAT = 17, DL_HASH = 18, DL_READ = 19, DL_PUT = 20, DL_RM = 21, DL_MKDIR = 22 };
enum { DL_EVAL = 1 };

typedef struct qcam_serve {
    int tty;
    int console_fd[2];  /* read ends: the app's stdout, stderr */
    int echo_fd[2];     /* --echo: copies of the console (-1: none) */
    int wake[2];        /* the agent's self-pipe */
    char images_dir[512];
    qcam_run_options opts;
    qcam_app_control control;
    long long started_us;

    pthread_mutex_t lock; /* guards the fields below down to `out` */
    pthread_cond_t cond;
    bool pending;         /* a run request for `pending_hash` */
    uint8_t pending_hash[32];
    bool running;
    bool have_current;    /* `current`: the running, or last run, image */
    uint8_t current[32];
    unsigned runs;
    bool quit;

    pthread_mutex_t out_lock; /* the output queue */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    size_t console_queued;    /* console bytes in the queue (approximately) */
    uint32_t console_dropped; /* not yet reported */
    uint64_t console_dropped_total;
    uint16_t seq_out;
    uint64_t frames_out;
} qcam_serve;

/* Queue one frame: payload = type, then body. Returns 0, or -1 when it was
 * dropped (console over its limit, out of memory). Any thread. */
int qcam_serve_send(qcam_serve *s, uint8_t channel, uint8_t flags, uint8_t type, const void *body,
                    size_t len, bool console);
/* Queue a text `event` (control channel) from printf-style key=value lines. */
void qcam_serve_event(qcam_serve *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The agent thread (agent.c). */
int qcam_agent_start(qcam_serve *s, pthread_t *thread);

/* A `store` request (install.c): body is text (`op=install|apps|rollback|
 * remove`, ...). Writes the reply body (at most cap bytes) and returns the
 * status. Runs on the agent thread with the runner held idle. */
uint16_t qcam_serve_store(qcam_serve *s, const uint8_t *body, size_t len, char *out, size_t cap,
                          size_t *out_len);

/* The path of the stored image with this hash. */
void qcam_serve_image_path(const qcam_serve *s, const uint8_t hash[32], char *out, size_t n);
void qcam_hex(const uint8_t *b, size_t n, char *out); /* out: 2n + 1 */

/* How the serving process starts: serving only, or first the card's
 * autostart app through trial boot (qcam-runtime --boot --serve), as a board
 * at power-on; skip = the held key. Either way the link stays up after. */
typedef enum { QCAM_SERVE_NO_BOOT, QCAM_SERVE_BOOT, QCAM_SERVE_BOOT_SKIP } qcam_serve_boot;

/* Run the serving process: returns the process exit status. */
int qcam_serve_main(const char *device, const qcam_run_options *opts, bool echo,
                    qcam_serve_boot boot);

#endif
