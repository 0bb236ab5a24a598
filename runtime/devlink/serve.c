/* qcam-runtime --serve DEVICE: the tty, the console pipes, and the runner
 * (the main thread, which runs one app at a time). See serve.h. */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../app.h"
#include "../build_facts.h"
#include "../image.h"
#include "../loop.h"
#include "../store/store.h"

void qcam_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

void qcam_serve_image_path(const qcam_serve *s, const uint8_t hash[32], char *out, size_t n)
{
    char hex[65];
    qcam_hex(hash, 32, hex);
    snprintf(out, n, "%s/%s.qcam", s->images_dir, hex);
}

static void wake_agent(qcam_serve *s)
{
    char c = 1;
    ssize_t r = write(s->wake[1], &c, 1);
    (void)r;
}

int qcam_serve_send(qcam_serve *s, uint8_t channel, uint8_t flags, uint8_t type, const void *body,
                    size_t len, bool console)
{
    uint8_t payload[QCAM_DL_MAX_PAYLOAD];
    if (len + 1 > sizeof payload) return -1;
    payload[0] = type;
    if (len) memcpy(payload + 1, body, len);
    pthread_mutex_lock(&s->out_lock);
    if (console && s->console_queued + len > QCAM_SERVE_CONSOLE_MAX) {
        s->console_dropped += (uint32_t)len;
        s->console_dropped_total += len;
        pthread_mutex_unlock(&s->out_lock);
        return -1;
    }
    if (s->out_cap - s->out_len < QCAM_DL_MAX_WIRE) {
        if (s->out_off) { /* compact first */
            memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
            s->out_len -= s->out_off;
            s->out_off = 0;
        }
        if (s->out_cap - s->out_len < QCAM_DL_MAX_WIRE) {
            size_t cap = s->out_cap ? s->out_cap * 2 : 64u << 10;
            uint8_t *p = realloc(s->out, cap);
            if (!p) {
                pthread_mutex_unlock(&s->out_lock);
                return -1;
            }
            s->out = p;
            s->out_cap = cap;
        }
    }
    qcam_dl_frame f = {.version = QCAM_DL_VERSION, .channel = channel, .flags = flags,
                       .seq = s->seq_out++, .len = (uint16_t)(len + 1), .payload = payload};
    s->out_len += qcam_dl_encode(&f, s->out + s->out_len, s->out_cap - s->out_len);
    s->frames_out++;
    if (console) s->console_queued += len;
    pthread_mutex_unlock(&s->out_lock);
    wake_agent(s);
    return 0;
}

/* ---- events: queued in order, sent by the agent after the console so far ---- */

typedef struct qcam_serve_evt {
    struct qcam_serve_evt *next;
    char text[];
} qcam_serve_evt;

static qcam_serve_evt *events_head, **events_tail = &events_head;

void qcam_serve_event(qcam_serve *s, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof text) n = sizeof text - 1;
    qcam_serve_evt *e = malloc(sizeof *e + (size_t)n + 1);
    if (!e) return;
    memcpy(e->text, text, (size_t)n + 1);
    e->next = NULL;
    pthread_mutex_lock(&s->lock);
    *events_tail = e;
    events_tail = &e->next;
    pthread_mutex_unlock(&s->lock);
    wake_agent(s);
}

/* Agent side: send the queued events; wakes a runner waiting for them. */
void qcam_serve_flush_events(qcam_serve *s);
void qcam_serve_flush_events(qcam_serve *s)
{
    pthread_mutex_lock(&s->lock);
    qcam_serve_evt *e = events_head;
    events_head = NULL;
    events_tail = &events_head;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    while (e) {
        qcam_serve_evt *next = e->next;
        qcam_serve_send(s, QCAM_DL_CH_CONTROL, 0, DL_EVENT, e->text, strlen(e->text), false);
        free(e);
        e = next;
    }
}

/* Runner: wait until the agent has sent every queued event (so an app's
 * first output comes after its "started"). Called with s->lock held. */
static void wait_events_sent(qcam_serve *s)
{
    while (events_head && !s->quit) pthread_cond_wait(&s->cond, &s->lock);
}

/* ---- the tty ------------------------------------------------------------------ */

static int open_tty(const char *device)
{
    int fd = open(device, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return -1;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (isatty(fd)) {
        struct termios t;
        if (tcgetattr(fd, &t) == 0) {
            /* Raw, 8N1, no flow control (what cfmakeraw does, in POSIX terms). */
            t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF | IXANY);
            t.c_oflag &= ~(tcflag_t)OPOST;
            t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
            t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
            t.c_cflag |= CS8 | CREAD | CLOCAL;
            t.c_cc[VMIN] = 1;
            t.c_cc[VTIME] = 0;
            tcsetattr(fd, TCSANOW, &t);
        }
    }
    return fd;
}

static int make_dirs(const char *path)
{
    char buf[1024];
    if (strlen(path) >= sizeof buf) return -1;
    memcpy(buf, path, strlen(path) + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void set_nonblock_cloexec(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The process's stdout and stderr become pipes the agent reads. */
static int capture_console(qcam_serve *s, bool echo)
{
    s->echo_fd[0] = s->echo_fd[1] = -1;
    if (echo) {
        fflush(stdout);
        fflush(stderr);
        s->echo_fd[0] = dup(1);
        s->echo_fd[1] = dup(2);
    }
    for (int k = 0; k < 2; k++) {
        int p[2];
        if (pipe(p) != 0) return -1;
        if (dup2(p[1], k + 1) < 0) return -1;
        close(p[1]);
        set_nonblock_cloexec(p[0]);
        s->console_fd[k] = p[0];
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    return 0;
}

/* ---- the runner ----------------------------------------------------------------- */

static uint8_t *read_image(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= QCAM_SERVE_MAX_IMAGE) {
        buf = malloc((size_t)st.st_size);
        size_t got = 0;
        while (buf && got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r <= 0) {
                free(buf);
                buf = NULL;
            } else {
                got += (size_t)r;
            }
        }
        *len = got;
    }
    close(fd);
    return buf;
}

static const char *reason_name(qcam_stop_reason r)
{
    switch (r) {
    case QCAM_STOP_STOP: return "stop";
    case QCAM_STOP_RELOAD: return "reload";
    case QCAM_STOP_QUIT: return "quit";
    default: return "exit";
    }
}

/* Before the exited event goes out, so a hello after it says idle. */
static void mark_idle(qcam_serve *s)
{
    pthread_mutex_lock(&s->lock);
    s->running = false;
    pthread_mutex_unlock(&s->lock);
}

static void run_one(qcam_serve *s, const uint8_t hash[32])
{
    char path[600], hex[65];
    qcam_serve_image_path(s, hash, path, sizeof path);
    qcam_hex(hash, 32, hex);
    size_t len = 0;
    uint8_t *buf = read_image(path, &len);
    qcam_image_expect ex;
    qcam_image img;
    char msg[256] = "cannot read the image";
    qcam_build_expect(&ex);
    int code = buf ? qcam_image_verify(buf, len, &ex, &img, msg, sizeof msg) : QCAM_IMG_ERR_READ;
    if (code != QCAM_IMG_OK) {
        fprintf(stderr, "qcam: refusing %s: %s\n", hex, msg);
        mark_idle(s);
        qcam_serve_event(s, "event=exited\nimage=%s\ncode=%d\nreason=refused\n", hex, code);
    } else {
        qcam_serve_event(s, "event=started\nimage=%s\n", hex);
        pthread_mutex_lock(&s->lock);
        wait_events_sent(s);
        pthread_mutex_unlock(&s->lock);
        code = qcam_app_run_image(&s->opts, &img);
        fflush(stdout);
        fflush(stderr);
        mark_idle(s);
        qcam_serve_event(s, "event=exited\nimage=%s\ncode=%d\nreason=%s\n", hex, code,
                         reason_name(qcam_control_reason(&s->control)));
    }
    free(buf);
}

/* Power-on: the autostart app through trial boot, on the runner, stoppable
 * over the link like any run; safe mode (nothing to run) just serves. */
static void boot_one(qcam_serve *s, bool skip)
{
    pthread_mutex_lock(&s->lock);
    s->running = true;
    s->runs++;
    qcam_control_clear(&s->control);
    pthread_mutex_unlock(&s->lock);
    int code = qcam_store_boot(&s->opts, skip);
    fflush(stdout);
    fflush(stderr);
    mark_idle(s);
    /* Safe mode (nothing ran) says so on the console only: the link just serves. */
    if (code != QCAM_STORE_ERR_NO_APP)
        qcam_serve_event(s, "event=exited\nimage=boot\ncode=%d\nreason=%s\n", code,
                         reason_name(qcam_control_reason(&s->control)));
}

int qcam_serve_main(const char *device, const qcam_run_options *opts, bool echo,
                    qcam_serve_boot boot)
{
    static qcam_serve serve;
    qcam_serve *s = &serve;
    s->started_us = qcam_now_us();
    s->opts = *opts;
    s->opts.argc = 0;
    s->opts.argv = NULL;
    s->tty = open_tty(device);
    if (s->tty < 0) {
        fprintf(stderr, "qcam-runtime: cannot open %s: %s\n", device, strerror(errno));
        return QCAM_EXIT_USAGE;
    }
    snprintf(s->images_dir, sizeof s->images_dir, "%s/.qcam/images", opts->sdcard_dir);
    if (make_dirs(s->images_dir) != 0) {
        fprintf(stderr, "qcam-runtime: cannot make %s: %s\n", s->images_dir, strerror(errno));
        return QCAM_EXIT_USAGE;
    }
    if (pipe(s->wake) != 0 || capture_console(s, echo) != 0) {
        fprintf(stderr, "qcam-runtime: cannot set up the console: %s\n", strerror(errno));
        return QCAM_EXIT_USAGE;
    }
    set_nonblock_cloexec(s->wake[0]);
    set_nonblock_cloexec(s->wake[1]);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_mutex_init(&s->out_lock, NULL);
    qcam_control_init(&s->control);
    qcam_control_install_signal();
    s->opts.control = &s->control;

    pthread_t agent;
    if (qcam_agent_start(s, &agent) != 0) {
        fprintf(stderr, "qcam-runtime: cannot start the dev-link agent\n");
        return QCAM_EXIT_USAGE;
    }
    if (boot != QCAM_SERVE_NO_BOOT) boot_one(s, boot == QCAM_SERVE_BOOT_SKIP);
    /* The runner: one app at a time, until SIGINT/SIGTERM. */
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->pending && qcam_signals_count() == 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 200 * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cond, &s->lock, &until);
        }
        if (qcam_signals_count() > 0) break;
        uint8_t hash[32];
        memcpy(hash, s->pending_hash, 32);
        s->pending = false;
        s->running = true;
        s->have_current = true;
        memcpy(s->current, hash, 32);
        s->runs++;
        qcam_control_clear(&s->control);
        pthread_mutex_unlock(&s->lock);
        run_one(s, hash);
        qcam_control_hand_over(&s->control, qcam_control_reason(&s->control) == QCAM_STOP_RELOAD);
        pthread_mutex_lock(&s->lock);
        s->running = false;
    }
    s->quit = true;
    pthread_mutex_unlock(&s->lock);
    wake_agent(s);
    pthread_join(agent, NULL);
    return 0;
}
