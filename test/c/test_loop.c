/* The event queue under load: native threads post, the loop thread drains.
 * Checks every event arrives once, in order per thread, that a blocked
 * wait() wakes on a post, and that events never run are discarded. Driven by
 * test/integration/lifecycle.test.ts, also under ASan+UBSan. No check reads a
 * clock: a wait without a timeout that returns at all was woken. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define THREADS 4
#define EVENTS 20000

typedef struct {
    int thread, seq;
} ev;

static qcam_loop *loop;
static int last_seq[THREADS];
static long received, discarded, failures;

static void on_event(void *owner, void *data)
{
    ev *e = data;
    if (owner != &received) failures++;
    if (e->seq != last_seq[e->thread] + 1) failures++;
    last_seq[e->thread] = e->seq;
    received++;
    free(e);
}

static void on_discard(void *data)
{
    discarded++;
    free(data);
}

static void *producer(void *arg)
{
    int t = (int)(long)arg;
    for (int i = 1; i <= EVENTS; i++) {
        ev *e = malloc(sizeof *e);
        e->thread = t;
        e->seq = i;
        while (qcam_loop_post(loop, on_event, on_discard, e) != 0) {}
    }
    return NULL;
}

static void *late_poster(void *arg)
{
    (void)arg;
    struct timespec d = {0, 50 * 1000 * 1000};
    nanosleep(&d, NULL);
    ev *e = malloc(sizeof *e);
    e->thread = 0;
    e->seq = last_seq[0] + 1;
    qcam_loop_post(loop, on_event, on_discard, e);
    return NULL;
}

int main(void)
{
    alarm(120); /* SIGALRM's default action ends a run that hangs */
    loop = qcam_loop_new();
    for (int t = 0; t < THREADS; t++) last_seq[t] = 0;
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, producer, (void *)(long)t);
    while (received < (long)THREADS * EVENTS) {
        qcam_loop_wait(loop, 100);
        qcam_loop_drain(loop, &received);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    printf("received %ld of %d, order failures %ld\n", received, THREADS * EVENTS, failures);

    /* A blocking wait without a timeout returns when another thread posts
     * (if it never did, the alarm ends the program: a failure, not a hang). */
    pthread_t lp;
    pthread_create(&lp, NULL, late_poster, NULL);
    qcam_loop_wait(loop, -1);
    pthread_join(lp, NULL);
    int woke = qcam_loop_drain(loop, &received) == 1;
    printf("wait woke on post: %s\n", woke ? "yes" : "no");

    /* Events still queued when the loop goes away are discarded, not leaked. */
    for (int i = 0; i < 10; i++) {
        ev *e = malloc(sizeof *e);
        e->thread = 0;
        e->seq = 0;
        qcam_loop_post(loop, on_event, on_discard, e);
    }
    qcam_loop_free(loop);
    printf("discarded %ld\n", discarded);
    int ok = received == (long)THREADS * EVENTS + 1 && failures == 0 && woke && discarded == 10;
    printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
