/* qcam:input on the sim: events come from the browser page (sim_page.c). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "input.h"

#define MAX_LISTENERS 16

struct qcam_input {
    qcam_input_fn *fn;
    void *opaque;
    bool app;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* held while delivering */
static qcam_input *listeners[MAX_LISTENERS];
static struct {
    bool down, long_sent;
    int64_t since_us;
} keys[QCAM_KEY_COUNT];

static const char *const key_names[] = {"ok", "option", "next", "prev", "left", "right"};
static const char *const kind_names[] = {"press", "release", "longpress", "down", "move", "up"};

int qcam_key_parse(const char *name)
{
    for (int i = 0; name && i < QCAM_KEY_COUNT; i++)
        if (strcmp(name, key_names[i]) == 0) return i;
    return -1;
}

const char *qcam_key_name(int key) { return key >= 0 && key < QCAM_KEY_COUNT ? key_names[key] : NULL; }
const char *qcam_input_kind_name(qcam_input_kind kind) { return kind_names[kind]; }

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int qcam_input_open(qcam_input_fn *fn, void *opaque, bool app, qcam_input **out)
{
    qcam_input *in = malloc(sizeof *in);
    if (!in) return -ENOMEM;
    *in = (qcam_input){fn, opaque, app};
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < MAX_LISTENERS && listeners[i]) i++;
    if (i < MAX_LISTENERS) listeners[i] = in;
    pthread_mutex_unlock(&lock);
    if (i == MAX_LISTENERS) {
        free(in);
        return -ENOSPC;
    }
    *out = in;
    return 0;
}

void qcam_input_close(qcam_input *in)
{
    if (!in) return;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_LISTENERS; i++)
        if (listeners[i] == in) listeners[i] = NULL;
    pthread_mutex_unlock(&lock);
    free(in);
}

int qcam_input_app_listeners(void)
{
    int n = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_LISTENERS; i++) n += listeners[i] && listeners[i]->app;
    pthread_mutex_unlock(&lock);
    return n;
}

/* Caller holds lock. */
static void deliver(const qcam_input_event *ev)
{
    for (int i = 0; i < MAX_LISTENERS; i++)
        if (listeners[i]) listeners[i]->fn(listeners[i]->opaque, ev);
}

void qcam_input_sim_key(qcam_key key, bool down)
{
    if ((int)key < 0 || key >= QCAM_KEY_COUNT) return;
    pthread_mutex_lock(&lock);
    if (keys[key].down != down) {
        int64_t t = now_us();
        keys[key].down = down;
        keys[key].since_us = t;
        keys[key].long_sent = false;
        deliver(&(qcam_input_event){.kind = down ? QCAM_IN_PRESS : QCAM_IN_RELEASE, .key = key, .t_us = t});
    }
    pthread_mutex_unlock(&lock);
}

void qcam_input_sim_touch(qcam_input_kind kind, int x, int y)
{
    pthread_mutex_lock(&lock);
    deliver(&(qcam_input_event){.kind = kind, .x = x, .y = y, .t_us = now_us()});
    pthread_mutex_unlock(&lock);
}

void qcam_input_sim_tick(void)
{
    pthread_mutex_lock(&lock);
    int64_t t = now_us();
    for (int k = 0; k < QCAM_KEY_COUNT; k++)
        if (keys[k].down && !keys[k].long_sent && t - keys[k].since_us >= QCAM_LONGPRESS_MS * 1000) {
            keys[k].long_sent = true;
            deliver(&(qcam_input_event){.kind = QCAM_IN_LONGPRESS, .key = (qcam_key)k, .t_us = t});
        }
    pthread_mutex_unlock(&lock);
}
