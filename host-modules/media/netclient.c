/* The network client core (netclient.h): the I/O thread with its back-off
 * and reconnect, the wake pipe, the connect. POSIX sockets, poll(). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netclient.h"

int64_t qcam_net_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void qcam_net_poke(qcam_netclient *n)
{
    char x = 1;
    ssize_t r = write(n->wake[1], &x, 1);
    (void)r; /* a full pipe already wakes the thread */
}

void qcam_net_drain_wake(qcam_netclient *n)
{
    char buf[256];
    ssize_t r = read(n->wake[0], buf, sizeof buf);
    (void)r;
}

bool qcam_net_stopping(qcam_netclient *n)
{
    pthread_mutex_lock(&n->lock);
    bool s = n->stopping;
    pthread_mutex_unlock(&n->lock);
    return s;
}

qcam_net_state qcam_net_tally(const qcam_netclient *n, uint64_t *connects, uint64_t *reconnects, int *last_error,
                              char last_reason[128])
{
    *connects = n->connects;
    *reconnects = n->reconnects;
    *last_error = n->last_error;
    memcpy(last_reason, n->last_reason, sizeof n->last_reason);
    return n->state;
}

int qcam_net_fail(qcam_netclient *n, int err, const char *fmt, const char *arg)
{
    if (snprintf(n->reason, sizeof n->reason, fmt, arg ? arg : "") >= (int)sizeof n->reason) {
        /* cut: reasons are for people, the start says it */
    }
    return err;
}

int qcam_net_poll(qcam_netclient *n, int fd, short events, int ms)
{
    struct pollfd fds[2] = {{fd, events, 0}, {n->wake[0], POLLIN, 0}};
    int r = poll(fds, 2, ms);
    if (r < 0) return errno == EINTR ? 0 : -errno;
    if (r > 0 && (fds[1].revents & POLLIN)) qcam_net_drain_wake(n);
    return r > 0 ? fds[0].revents : 0;
}

static void set_state(qcam_netclient *n, qcam_net_state s, int err, const char *reason)
{
    pthread_mutex_lock(&n->lock);
    bool changed = n->state != s;
    n->state = s;
    if (n->ops->entered) n->ops->entered(n->owner, s);
    if (err) {
        n->last_error = err;
        if (snprintf(n->last_reason, sizeof n->last_reason, "%s", reason ? reason : "") >= (int)sizeof n->last_reason) {
            /* cut */
        }
    }
    if (s == QCAM_NET_UP) {
        if (n->connects) n->reconnects++;
        n->connects++;
    }
    pthread_mutex_unlock(&n->lock);
    if ((changed || err) && n->ops->report) n->ops->report(n->owner, s, err, err ? reason : NULL);
}

static void *io_thread(void *arg)
{
    qcam_netclient *n = arg;
    unsigned backoff = QCAM_NET_FIRST_BACKOFF_MS;
    while (!qcam_net_stopping(n)) {
        set_state(n, QCAM_NET_CONNECTING, 0, NULL);
        n->reason[0] = 0;
        int r = n->ops->start(n->owner);
        if (r == 0) {
            set_state(n, QCAM_NET_UP, 0, NULL);
            backoff = QCAM_NET_FIRST_BACKOFF_MS;
            r = n->ops->run(n->owner);
        }
        if (n->fd >= 0) close(n->fd);
        n->fd = -1;
        n->ops->end(n->owner);
        if (r == 0 || qcam_net_stopping(n)) break;
        set_state(n, QCAM_NET_WAITING, r, n->reason);
        int64_t until = qcam_net_now_us() + (int64_t)backoff * 1000;
        while (!qcam_net_stopping(n)) {
            int64_t t = qcam_net_now_us();
            if (t >= until) break;
            struct pollfd fd = {n->wake[0], POLLIN, 0};
            if (poll(&fd, 1, (int)((until - t) / 1000) + 1) > 0) qcam_net_drain_wake(n);
        }
        backoff = backoff * 2 > n->max_backoff_ms ? n->max_backoff_ms : backoff * 2;
    }
    set_state(n, QCAM_NET_CLOSED, 0, NULL);
    return NULL;
}

int qcam_net_start(qcam_netclient *n, const qcam_net_ops *ops, void *owner, unsigned max_backoff_ms)
{
    n->ops = ops;
    n->owner = owner;
    n->max_backoff_ms = max_backoff_ms < QCAM_NET_FIRST_BACKOFF_MS ? QCAM_NET_FIRST_BACKOFF_MS : max_backoff_ms;
    n->fd = -1;
    n->state = QCAM_NET_CONNECTING;
    if (pipe(n->wake) < 0) return -errno;
    for (int i = 0; i < 2; i++) {
        fcntl(n->wake[i], F_SETFL, fcntl(n->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(n->wake[i], F_SETFD, FD_CLOEXEC);
    }
    pthread_mutex_init(&n->lock, NULL);
    if (pthread_create(&n->thread, NULL, io_thread, n) != 0) {
        qcam_net_free(n);
        return -EAGAIN;
    }
    return 0;
}

void qcam_net_stop(qcam_netclient *n, unsigned drain_ms)
{
    pthread_mutex_lock(&n->lock);
    n->stopping = true;
    n->drain_until_us = qcam_net_now_us() + (int64_t)drain_ms * 1000;
    pthread_mutex_unlock(&n->lock);
    qcam_net_poke(n);
    pthread_join(n->thread, NULL);
}

void qcam_net_free(qcam_netclient *n)
{
    close(n->wake[0]);
    close(n->wake[1]);
    pthread_mutex_destroy(&n->lock);
}

int qcam_net_connect(qcam_netclient *n, const char *host, int port_no, int64_t deadline)
{
    char port[16];
    snprintf(port, sizeof port, "%d", port_no);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0) return qcam_net_fail(n, -EHOSTUNREACH, "cannot resolve the host: %s", gai_strerror(g));
    int err = -ECONNREFUSED;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            err = -errno;
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            for (;;) {
                int64_t t = qcam_net_now_us();
                if (t >= deadline || qcam_net_stopping(n)) {
                    errno = t >= deadline ? ETIMEDOUT : ECANCELED;
                    break;
                }
                int ev = qcam_net_poll(n, fd, POLLOUT, 100);
                if (ev > 0) {
                    int so = 0;
                    socklen_t sl = sizeof so;
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
                    r = so ? -1 : 0;
                    errno = so;
                    break;
                }
            }
        }
        if (r == 0) {
            freeaddrinfo(ai);
            n->fd = fd;
            return 0;
        }
        err = -errno;
        close(fd);
    }
    freeaddrinfo(ai);
    return qcam_net_fail(n, err, "%s", strerror(-err));
}

int qcam_net_send_all(qcam_netclient *n, const uint8_t *buf, size_t len, unsigned timeout_ms, const char *peer,
                      int (*pump)(void *owner), uint64_t *sent)
{
    size_t off = 0;
    int64_t last = qcam_net_now_us();
    while (off < len) {
        ssize_t k = send(n->fd, buf + off, len - off, MSG_NOSIGNAL);
        if (k > 0) {
            off += (size_t)k;
            last = qcam_net_now_us();
            if (sent) {
                pthread_mutex_lock(&n->lock);
                *sent += (uint64_t)k;
                pthread_mutex_unlock(&n->lock);
            }
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return qcam_net_fail(n, -errno, "%s", strerror(errno));
        int64_t t = qcam_net_now_us();
        pthread_mutex_lock(&n->lock);
        bool stop = n->stopping;
        int64_t until = n->drain_until_us;
        pthread_mutex_unlock(&n->lock);
        if (stop && t >= until) return qcam_net_fail(n, -ECANCELED, "closed%s", NULL);
        if (t - last >= (int64_t)timeout_ms * 1000) return qcam_net_fail(n, -ETIMEDOUT, "the %s took nothing for a while", peer);
        int ev = qcam_net_poll(n, n->fd, pump ? POLLOUT | POLLIN : POLLOUT, 100);
        if (ev < 0) return qcam_net_fail(n, ev, "%s", strerror(-ev));
        if (pump && (ev & (POLLIN | POLLHUP | POLLERR))) {
            int e = pump(n->owner);
            if (e < 0) return e;
        }
    }
    return 0;
}
