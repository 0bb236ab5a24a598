#include "control.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void qcam_control_init(qcam_app_control *c)
{
    pthread_mutex_init(&c->lock, NULL);
    c->loop = NULL;
    c->attached = false;
    atomic_store(&c->stop, QCAM_STOP_NONE);
    atomic_store(&c->stop_at_us, 0);
    atomic_store(&c->seen, 0);
    c->state_out = c->state_in = NULL;
}

void qcam_control_destroy(qcam_app_control *c)
{
    free(c->state_out);
    free(c->state_in);
    c->state_out = c->state_in = NULL;
    pthread_mutex_destroy(&c->lock);
}

int qcam_control_set_state(qcam_app_control *c, const char *json, size_t len)
{
    char *copy = NULL;
    if (json) {
        if (!(copy = malloc(len + 1))) return -1;
        memcpy(copy, json, len);
        copy[len] = 0;
    }
    pthread_mutex_lock(&c->lock);
    free(c->state_out);
    c->state_out = copy;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

char *qcam_control_state_in(qcam_app_control *c)
{
    pthread_mutex_lock(&c->lock);
    char *s = c->state_in ? strdup(c->state_in) : NULL;
    pthread_mutex_unlock(&c->lock);
    return s;
}

void qcam_control_hand_over(qcam_app_control *c, bool reloaded)
{
    pthread_mutex_lock(&c->lock);
    free(c->state_in);
    c->state_in = reloaded ? c->state_out : NULL;
    if (!reloaded) free(c->state_out);
    c->state_out = NULL;
    pthread_mutex_unlock(&c->lock);
}

static void on_stop_signal(int sig) { (void)sig; }

void qcam_control_install_signal(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(QCAM_STOP_SIGNAL, &sa, NULL);
}

void qcam_control_attach(qcam_app_control *c, qcam_loop *loop)
{
    pthread_mutex_lock(&c->lock);
    c->loop = loop;
    c->thread = pthread_self();
    c->attached = true;
    pthread_mutex_unlock(&c->lock);
}

void qcam_control_detach(qcam_app_control *c)
{
    pthread_mutex_lock(&c->lock);
    c->loop = NULL;
    c->attached = false;
    pthread_mutex_unlock(&c->lock);
}

static void wake_nothing(void *owner, void *data)
{
    (void)owner;
    (void)data;
}

bool qcam_control_request_stop(qcam_app_control *c, qcam_stop_reason why)
{
    int none = QCAM_STOP_NONE;
    if (atomic_compare_exchange_strong(&c->stop, &none, (int)why)) {
        atomic_store(&c->stop_at_us, qcam_now_us());
        atomic_store(&c->seen, 0);
    }
    pthread_mutex_lock(&c->lock);
    bool attached = c->attached;
    if (attached) {
        qcam_loop_post(c->loop, wake_nothing, NULL, NULL); /* needExit() / the loop's wait */
        pthread_kill(c->thread, QCAM_STOP_SIGNAL);         /* a sleep or a blocking poll */
    }
    pthread_mutex_unlock(&c->lock);
    return attached;
}

bool qcam_control_post(qcam_app_control *c, qcam_loop_run_fn *run, qcam_loop_discard_fn *discard, void *data)
{
    pthread_mutex_lock(&c->lock);
    bool ok = c->attached && qcam_loop_post(c->loop, run, discard, data) == 0;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

bool qcam_control_should_exit(qcam_app_control *c)
{
    if (atomic_load(&c->stop) == QCAM_STOP_NONE) return false;
    atomic_store(&c->seen, 1);
    return true;
}

bool qcam_control_interrupt_due(qcam_app_control *c)
{
    if (atomic_load(&c->stop) == QCAM_STOP_NONE) return false;
    long long waited_ms = (qcam_now_us() - atomic_load(&c->stop_at_us)) / 1000;
    return waited_ms >= (atomic_load(&c->seen) ? QCAM_STOP_CLEANUP_MS : QCAM_STOP_GRACE_MS);
}

qcam_stop_reason qcam_control_reason(qcam_app_control *c) { return (qcam_stop_reason)atomic_load(&c->stop); }

void qcam_control_clear(qcam_app_control *c)
{
    atomic_store(&c->stop, QCAM_STOP_NONE);
    atomic_store(&c->seen, 0);
}
