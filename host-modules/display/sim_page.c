/* The sim board's page: an HTTP/1.1 server on 127.0.0.1 that shows the
 * panel (sim_panel.h) in a browser and feeds the page's keys and touches to
 * the input HAL. One thread accepts; each connection has its own thread
 * (a page holds two or three). Routes:
 *
 *   GET  /                 the page (page.html)
 *   GET  /info             {"board","width","height","seq","epoch"}
 *   GET  /frame?after=S&epoch=E
 *                          what changed since seq S, waiting up to 5 s for a
 *                          change (204 when none): a 24-byte header
 *                          "QFRM", epoch, seq, x, y, w, h, panel w, panel h
 *                          (u32 u32 u32 u16*6, little-endian), then w*h RGBA
 *   GET  /screenshot.png   the panel as PNG
 *   POST /key?name=K&action=down|up|press
 *   POST /touch?action=down|move|up&x=X&y=Y
 *
 * Only requests whose Host is 127.0.0.1:<port> or localhost:<port> are
 * served (a page elsewhere cannot reach in through DNS rebinding). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../input/input.h"
#include "http.h"
#include "png.h"
#include "sim_panel.h"

#ifndef QCAM_PAGE_HTML
#error "QCAM_PAGE_HTML must name page.html (runtime/CMakeLists.txt)"
#endif
__asm__(".section .rodata\n"
        ".global qcam_page_html\n"
        "qcam_page_html:\n"
        ".incbin \"" QCAM_PAGE_HTML "\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char qcam_page_html[];

#define MAX_CONNS 16
#define WAIT_MS 5000

typedef struct conn {
    int fd;
    pthread_t thread;
    atomic_bool done;
    struct qcam_sim_page *pg;
} conn;

struct qcam_sim_page {
    qcam_sim_panel *panel;
    int fd, port, wake[2];
    pthread_t thread;
    atomic_bool stop;
    conn *conns[MAX_CONNS];
};

static bool send_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool respond(int fd, int code, const char *reason, const char *type, const void *body, size_t n, bool close)
{
    char head[256];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                     "Connection: %s\r\n\r\n",
                     code, reason, type, n, close ? "close" : "keep-alive");
    return send_all(fd, head, (size_t)h) && (!n || send_all(fd, body, n));
}

static bool text(int fd, int code, const char *reason, const char *msg, bool close)
{
    return respond(fd, code, reason, "text/plain; charset=utf-8", msg, strlen(msg), close);
}

static bool frame(struct qcam_sim_page *pg, int fd, const char *query, bool close)
{
    char v[32];
    uint64_t after = qcam_http_query(query, "after", v, sizeof v) ? strtoull(v, NULL, 10) : 0;
    uint32_t epoch = qcam_http_query(query, "epoch", v, sizeof v) ? (uint32_t)strtoul(v, NULL, 10) : 0;
    qcam_sim_panel *p = pg->panel;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&p->lock);
    /* a page of this epoch that has the newest frame waits for the next */
    while (after == p->seq && epoch == p->epoch && !p->closing && !atomic_load(&pg->stop))
        if (pthread_cond_timedwait(&p->changed, &p->lock, &until) == ETIMEDOUT) break;
    if (after == p->seq && epoch == p->epoch) {
        pthread_mutex_unlock(&p->lock);
        return respond(fd, 204, "No Content", "text/plain", NULL, 0, close);
    }
    qcam_rect r;
    qcam_sim_panel_since(p, after, epoch, &r);
    size_t n = 24 + (size_t)r.w * (size_t)r.h * 4;
    uint8_t *buf = malloc(n);
    if (!buf) {
        pthread_mutex_unlock(&p->lock);
        return text(fd, 503, "Service Unavailable", "out of memory\n", true);
    }
    uint32_t hdr32[3] = {0x4d524651u, p->epoch, (uint32_t)p->seq};
    uint16_t hdr16[6] = {(uint16_t)r.x, (uint16_t)r.y, (uint16_t)r.w, (uint16_t)r.h, (uint16_t)p->w, (uint16_t)p->h};
    memcpy(buf, hdr32, 12); /* the sim runs on little-endian hosts (x86-64, riscv64) */
    memcpy(buf + 12, hdr16, 12);
    for (int y = 0; y < r.h; y++)
        memcpy(buf + 24 + (size_t)y * (size_t)r.w * 4, p->rgba + (((size_t)(r.y + y) * (size_t)p->w) + (size_t)r.x) * 4,
               (size_t)r.w * 4);
    pthread_mutex_unlock(&p->lock);
    bool ok = respond(fd, 200, "OK", "application/octet-stream", buf, n, close);
    free(buf);
    return ok;
}

static bool screenshot(struct qcam_sim_page *pg, int fd, bool close)
{
    qcam_sim_panel *p = pg->panel;
    size_t n = (size_t)p->w * (size_t)p->h * 4;
    uint8_t *copy = malloc(n), *png = NULL;
    size_t len = 0;
    if (copy) {
        pthread_mutex_lock(&p->lock);
        memcpy(copy, p->rgba, n);
        pthread_mutex_unlock(&p->lock);
    }
    if (!copy || qcam_png_rgba(copy, p->w, p->h, &png, &len) < 0) {
        free(copy);
        return text(fd, 503, "Service Unavailable", "out of memory\n", true);
    }
    free(copy);
    bool ok = respond(fd, 200, "OK", "image/png", png, len, close);
    free(png);
    return ok;
}

static bool input(int fd, const qcam_http_request *req, bool close)
{
    char name[16], action[16], xs[16], ys[16];
    if (!qcam_http_query(req->query, "action", action, sizeof action))
        return text(fd, 400, "Bad Request", "action is required\n", close);
    if (strcmp(req->path, "/key") == 0) {
        int key = qcam_http_query(req->query, "name", name, sizeof name) ? qcam_key_parse(name) : -1;
        if (key < 0) return text(fd, 400, "Bad Request", "name must be ok, option, next, prev, left or right\n", close);
        if (strcmp(action, "down") == 0) qcam_input_sim_key((qcam_key)key, true);
        else if (strcmp(action, "up") == 0) qcam_input_sim_key((qcam_key)key, false);
        else if (strcmp(action, "press") == 0) {
            qcam_input_sim_key((qcam_key)key, true);
            qcam_input_sim_key((qcam_key)key, false);
        } else
            return text(fd, 400, "Bad Request", "action must be down, up or press\n", close);
        return respond(fd, 204, "No Content", "text/plain", NULL, 0, close);
    }
    qcam_input_kind kind = strcmp(action, "down") == 0   ? QCAM_IN_TOUCH_DOWN
                           : strcmp(action, "move") == 0 ? QCAM_IN_TOUCH_MOVE
                           : strcmp(action, "up") == 0   ? QCAM_IN_TOUCH_UP
                                                         : QCAM_IN_PRESS;
    char *e1 = NULL, *e2 = NULL;
    long x = -1, y = -1;
    if (qcam_http_query(req->query, "x", xs, sizeof xs) && qcam_http_query(req->query, "y", ys, sizeof ys)) {
        x = strtol(xs, &e1, 10);
        y = strtol(ys, &e2, 10);
    }
    if (kind == QCAM_IN_PRESS || !e1 || *e1 || !e2 || *e2 || x < 0 || y < 0 || x >= 65536 || y >= 65536)
        return text(fd, 400, "Bad Request", "touch needs action=down|move|up and x, y in panel pixels\n", close);
    qcam_input_sim_touch(kind, (int)x, (int)y);
    return respond(fd, 204, "No Content", "text/plain", NULL, 0, close);
}

static bool host_ok(const struct qcam_sim_page *pg, const char *host)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "127.0.0.1:%d", pg->port);
    snprintf(b, sizeof b, "localhost:%d", pg->port);
    return strcmp(host, a) == 0 || strcmp(host, b) == 0;
}

/* One request; false: close the connection. */
static bool serve(struct qcam_sim_page *pg, int fd, const qcam_http_request *req)
{
    bool close = req->close;
    if (!host_ok(pg, req->host)) return text(fd, 403, "Forbidden", "wrong Host\n", true) && false;
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    if (get && strcmp(req->path, "/") == 0)
        return respond(fd, 200, "OK", "text/html; charset=utf-8", qcam_page_html, strlen(qcam_page_html), close) && !close;
    if (get && strcmp(req->path, "/frame") == 0) return frame(pg, fd, req->query, close) && !close;
    if (get && strcmp(req->path, "/screenshot.png") == 0) return screenshot(pg, fd, close) && !close;
    if (get && strcmp(req->path, "/info") == 0) {
        char body[256];
        pthread_mutex_lock(&pg->panel->lock);
        snprintf(body, sizeof body, "{\"board\":\"%s\",\"width\":%d,\"height\":%d,\"seq\":%llu,\"epoch\":%u}\n",
                 pg->panel->board, pg->panel->w, pg->panel->h, (unsigned long long)pg->panel->seq, pg->panel->epoch);
        pthread_mutex_unlock(&pg->panel->lock);
        return respond(fd, 200, "OK", "application/json", body, strlen(body), close) && !close;
    }
    if (post && (strcmp(req->path, "/key") == 0 || strcmp(req->path, "/touch") == 0))
        return input(fd, req, close) && !close;
    if (get || post) return text(fd, 404, "Not Found", "not found\n", close) && !close;
    return text(fd, 405, "Method Not Allowed", "GET or POST\n", true) && false;
}

static void *conn_thread(void *arg)
{
    conn *c = arg;
    char buf[QCAM_HTTP_MAX_HEAD + 1];
    size_t len = 0;
    for (;;) {
        qcam_http_request req;
        int head = qcam_http_parse(buf, len, &req);
        if (head < 0 || (head > 0 && req.content_length > 4096)) {
            text(c->fd, 400, "Bad Request", "bad request\n", true);
            break;
        }
        if (head > 0 && len >= (size_t)head + (size_t)req.content_length) {
            /* a body (none is expected) is skipped */
            bool more = serve(c->pg, c->fd, &req);
            size_t used = (size_t)head + (size_t)req.content_length;
            memmove(buf, buf + used, len - used);
            len -= used;
            if (!more) break;
            continue;
        }
        if (len >= sizeof buf - 1) break;
        ssize_t n = recv(c->fd, buf + len, sizeof buf - 1 - len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    shutdown(c->fd, SHUT_RDWR);
    atomic_store(&c->done, true);
    return NULL;
}

static void reap(struct qcam_sim_page *pg, bool all)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        conn *c = pg->conns[i];
        if (!c || (!all && !atomic_load(&c->done))) continue;
        if (all) shutdown(c->fd, SHUT_RDWR);
        pthread_join(c->thread, NULL);
        close(c->fd);
        free(c);
        pg->conns[i] = NULL;
    }
}

static void *accept_thread(void *arg)
{
    struct qcam_sim_page *pg = arg;
    while (!atomic_load(&pg->stop)) {
        struct pollfd fds[2] = {{.fd = pg->fd, .events = POLLIN}, {.fd = pg->wake[0], .events = POLLIN}};
        int r = poll(fds, 2, 50);
        qcam_input_sim_tick();
        reap(pg, false);
        if (r <= 0 || !(fds[0].revents & POLLIN)) continue;
        int fd = accept(pg->fd, NULL, NULL);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int slot = 0;
        while (slot < MAX_CONNS && pg->conns[slot]) slot++;
        conn *c = slot < MAX_CONNS ? calloc(1, sizeof *c) : NULL;
        if (!c) {
            text(fd, 503, "Service Unavailable", "too many connections\n", true);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->pg = pg;
        if (pthread_create(&c->thread, NULL, conn_thread, c)) {
            close(fd);
            free(c);
            continue;
        }
        pg->conns[slot] = c;
    }
    return NULL;
}

int qcam_sim_page_start(qcam_sim_panel *panel, int port, bool quiet, qcam_sim_page **out, char *err, size_t n)
{
    struct qcam_sim_page *pg = calloc(1, sizeof *pg);
    if (!pg) return -ENOMEM;
    pg->panel = panel;
    pg->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1, e;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (pg->fd < 0 || setsockopt(pg->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(pg->fd, (struct sockaddr *)&sa, sizeof sa) || listen(pg->fd, 16) ||
        getsockname(pg->fd, (struct sockaddr *)&sa, &sl) || pipe(pg->wake)) {
        e = errno;
        snprintf(err, n, "the display page cannot listen on 127.0.0.1:%d: %s", port, strerror(e));
        if (pg->fd >= 0) close(pg->fd);
        free(pg);
        return -e;
    }
    pg->port = ntohs(sa.sin_port);
    if ((e = pthread_create(&pg->thread, NULL, accept_thread, pg))) {
        close(pg->fd);
        close(pg->wake[0]);
        close(pg->wake[1]);
        free(pg);
        snprintf(err, n, "cannot start the display page's thread");
        return -e;
    }
    if (!quiet) fprintf(stderr, "qcam: display http://127.0.0.1:%d/\n", pg->port);
    *out = pg;
    return 0;
}

int qcam_sim_page_port(qcam_sim_page *pg) { return pg->port; }

void qcam_sim_page_stop(qcam_sim_page *pg)
{
    atomic_store(&pg->stop, true);
    pthread_mutex_lock(&pg->panel->lock);
    pg->panel->closing = true;
    pthread_cond_broadcast(&pg->panel->changed);
    pthread_mutex_unlock(&pg->panel->lock);
    (void)!write(pg->wake[1], "x", 1);
    pthread_join(pg->thread, NULL);
    reap(pg, true);
    close(pg->fd);
    close(pg->wake[0]);
    close(pg->wake[1]);
    free(pg);
}
