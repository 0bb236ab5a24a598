#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct qcam_event {
    struct qcam_event *next;
    qcam_loop_run_fn *run;
    qcam_loop_discard_fn *discard;
    void *data;
} qcam_event;

struct qcam_loop {
    pthread_mutex_t lock;
    qcam_event *head, *tail;
    int wake[2]; /* self-pipe: [0] polled, [1] written by posters and signals */
};

static volatile sig_atomic_t sig_count;
static volatile sig_atomic_t sigint_count;
static volatile int sig_wake_fd = -1;

long long qcam_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void set_flags(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

qcam_loop *qcam_loop_new(void)
{
    qcam_loop *loop = calloc(1, sizeof *loop);
    if (!loop) return NULL;
    if (pipe(loop->wake) != 0) {
        free(loop);
        return NULL;
    }
    set_flags(loop->wake[0]);
    set_flags(loop->wake[1]);
    pthread_mutex_init(&loop->lock, NULL);
    return loop;
}

void qcam_loop_free(qcam_loop *loop)
{
    if (!loop) return;
    if (sig_wake_fd == loop->wake[1]) sig_wake_fd = -1;
    for (qcam_event *e = loop->head, *n; e; e = n) {
        n = e->next;
        if (e->discard) e->discard(e->data);
        free(e);
    }
    close(loop->wake[0]);
    close(loop->wake[1]);
    pthread_mutex_destroy(&loop->lock);
    free(loop);
}

static void wake(int fd)
{
    char c = 1;
    ssize_t r = write(fd, &c, 1); /* a full pipe already means "wake up" */
    (void)r;
}

int qcam_loop_post(qcam_loop *loop, qcam_loop_run_fn *run, qcam_loop_discard_fn *discard,
                   void *data)
{
    qcam_event *e = malloc(sizeof *e);
    if (!e) return -1;
    e->next = NULL;
    e->run = run;
    e->discard = discard;
    e->data = data;
    pthread_mutex_lock(&loop->lock);
    if (loop->tail) loop->tail->next = e;
    else loop->head = e;
    loop->tail = e;
    pthread_mutex_unlock(&loop->lock);
    wake(loop->wake[1]);
    return 0;
}

bool qcam_loop_has_events(qcam_loop *loop)
{
    pthread_mutex_lock(&loop->lock);
    bool any = loop->head != NULL;
    pthread_mutex_unlock(&loop->lock);
    return any;
}

int qcam_loop_drain(qcam_loop *loop, void *owner)
{
    char buf[64];
    while (read(loop->wake[0], buf, sizeof buf) > 0) {}
    pthread_mutex_lock(&loop->lock);
    qcam_event *e = loop->head;
    loop->head = loop->tail = NULL;
    pthread_mutex_unlock(&loop->lock);
    int n = 0;
    while (e) {
        qcam_event *next = e->next;
        e->run(owner, e->data);
        free(e);
        e = next;
        n++;
    }
    return n;
}

void qcam_loop_wait(qcam_loop *loop, int timeout_ms)
{
    struct pollfd p = {.fd = loop->wake[0], .events = POLLIN};
    if (sig_count) return;
    if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR) return;
}

static void on_signal(int sig)
{
    if (sig == SIGINT && ++sigint_count >= 2) _exit(130);
    sig_count++;
    if (sig_wake_fd >= 0) wake(sig_wake_fd);
}

void qcam_signals_install(qcam_loop *loop)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sig_wake_fd = loop->wake[1];
}

int qcam_signals_count(void) { return sig_count; }

void qcam_signals_reset(void)
{
    sig_count = 0;
    sigint_count = 0;
}
