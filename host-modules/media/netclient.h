/* The core of a network client that keeps one TCP connection up on its own
 * I/O thread (qcam:mqtt's client, qcam:publish's RTMP and RTSP publishers):
 *
 *   loop: CONNECTING → ops->start() → UP → ops->run() → ops->end()
 *         → WAITING (back-off: 0.5 s doubling up to max_backoff_ms) → again
 *         until close(); then CLOSED.
 *
 * The core owns the lock (the owner guards its own state with it too), the
 * stopping flag, the wake pipe the thread sleeps on, the socket, the state
 * and its counters (connects, reconnects, the last failure), and the
 * resolve + non-blocking connect with a deadline. What a session says on
 * the wire is the owner's. POSIX only, no engine types. */
#ifndef QCAM_NETCLIENT_H
#define QCAM_NETCLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QCAM_NET_FIRST_BACKOFF_MS 500

/* The same numbers as qcam_mqtt_state and qcam_pub_state. */
typedef enum { QCAM_NET_CONNECTING = 0, QCAM_NET_UP, QCAM_NET_WAITING, QCAM_NET_CLOSED } qcam_net_state;

typedef struct {
    /* connect and set up (n->fd): 0 when the session is up, or < 0 */
    int (*start)(void *owner);
    /* the session: 0 when close() has drained it, < 0 when it failed */
    int (*run)(void *owner);
    /* forget the session (the core has closed the socket) */
    void (*end)(void *owner);
    /* a state entered, the lock held (may be NULL) */
    void (*entered)(void *owner, qcam_net_state s);
    /* a state change or a failure (reason NULL unless err), the lock not held (may be NULL) */
    void (*report)(void *owner, qcam_net_state s, int err, const char *reason);
} qcam_net_ops;

typedef struct {
    pthread_mutex_t lock; /* the fields below up to the I/O thread's, and what the owner adds */
    bool stopping;        /* close() was called */
    int64_t drain_until_us;
    qcam_net_state state;
    uint64_t connects;   /* sessions that came up */
    uint64_t reconnects; /* those after the first */
    int last_error;      /* -errno of the last failure, 0 when none */
    char last_reason[128];

    const qcam_net_ops *ops;
    void *owner;
    unsigned max_backoff_ms;
    pthread_t thread;
    int wake[2]; /* the thread sleeps on wake[0]; qcam_net_poke() writes wake[1] */

    /* the I/O thread's own */
    int fd;           /* the connection, or -1 */
    char reason[128]; /* why the session failed (qcam_net_fail) */
} qcam_netclient;

int64_t qcam_net_now_us(void);

/* The wake pipe and the lock, then the I/O thread (state CONNECTING). 0, or
 * -errno with nothing left to undo. max_backoff_ms below the first back-off
 * is raised to it. */
int qcam_net_start(qcam_netclient *n, const qcam_net_ops *ops, void *owner, unsigned max_backoff_ms);
/* Tell the thread to stop (a session may drain for drain_ms) and join it. */
void qcam_net_stop(qcam_netclient *n, unsigned drain_ms);
/* After qcam_net_stop: the pipe and the lock. */
void qcam_net_free(qcam_netclient *n);

/* Wake the thread (a full pipe already wakes it). */
void qcam_net_poke(qcam_netclient *n);
/* Empty the wake pipe (one read: pokes left over wake the next poll, which is harmless). */
void qcam_net_drain_wake(qcam_netclient *n);
bool qcam_net_stopping(qcam_netclient *n);
/* The counters into the owner's stats (the lock held); returns the state. */
qcam_net_state qcam_net_tally(const qcam_netclient *n, uint64_t *connects, uint64_t *reconnects, int *last_error,
                              char last_reason[128]);

/* Fail the session with a reason (fmt takes one %s; arg NULL reads ""). Returns err. */
int qcam_net_fail(qcam_netclient *n, int err, const char *fmt, const char *arg);

/* Poll fd for events and the wake pipe (emptied when it woke) at most ms:
 * fd's revents (0: none), or -errno (EINTR reads 0). */
int qcam_net_poll(qcam_netclient *n, int fd, short events, int ms);

/* Resolve host and connect to port before deadline (TCP_NODELAY, non-blocking,
 * close-on-exec): n->fd. 0, or < 0 with the reason (-EHOSTUNREACH when the
 * name does not resolve, -ETIMEDOUT, -ECANCELED on close(), the connect's
 * -errno). */
int qcam_net_connect(qcam_netclient *n, const char *host, int port, int64_t deadline);

/* Send everything before the peer has taken nothing for timeout_ms (or, at
 * close, past the drain): 0 or < 0 with the reason ("the <peer> took
 * nothing for a while"). With pump, what the peer sends meanwhile is read
 * (pump(owner) 0 or < 0); with sent, the bytes are counted (the lock taken). */
int qcam_net_send_all(qcam_netclient *n, const uint8_t *buf, size_t len, unsigned timeout_ms, const char *peer,
                      int (*pump)(void *owner), uint64_t *sent);

#endif
