/* The portable link: three kinds of POSIX threads joined by bounded queues.
 * A board backend may instead bind camera and encoder in hardware (CVI MMF
 * SYS_Bind VI→VENC, K230 kd_mpi_sys_bind) and run only the sink side here. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../runtime/platform.h"
#include "link.h"

/* ---- a bounded FIFO of pointers -------------------------------------------- */

typedef struct {
    void **items;
    unsigned cap, head, count;
    bool closed; /* no more pushes; pops drain what is left */
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
} fifo;

static int fifo_init(fifo *q, unsigned cap)
{
    memset(q, 0, sizeof *q);
    q->items = calloc(cap, sizeof(void *));
    if (!q->items) return -ENOMEM;
    q->cap = cap;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    return 0;
}

static void fifo_destroy(fifo *q)
{
    free(q->items);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->nonempty);
}

/* false when full or closed: the caller drops the item. */
static bool fifo_push(fifo *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    bool ok = !q->closed && q->count < q->cap;
    if (ok) {
        q->items[(q->head + q->count) % q->cap] = item;
        q->count++;
        pthread_cond_signal(&q->nonempty);
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

/* Blocks; NULL once closed and empty. */
static void *fifo_pop(fifo *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed) pthread_cond_wait(&q->nonempty, &q->lock);
    void *item = NULL;
    if (q->count) {
        item = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    pthread_mutex_unlock(&q->lock);
    return item;
}

static void fifo_close(fifo *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
}

static unsigned fifo_depth(fifo *q)
{
    pthread_mutex_lock(&q->lock);
    unsigned n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* ---- latency samples --------------------------------------------------------- */

#define SAMPLES 1024

typedef struct {
    double v[SAMPLES];
    unsigned n, next;
} samples;

static void sample_add(samples *s, double v)
{
    s->v[s->next] = v;
    s->next = (s->next + 1) % SAMPLES;
    if (s->n < SAMPLES) s->n++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void sample_percentiles(const samples *s, double *p50, double *p99)
{
    double tmp[SAMPLES];
    *p50 = *p99 = 0;
    if (!s->n) return;
    memcpy(tmp, s->v, s->n * sizeof(double));
    qsort(tmp, s->n, sizeof(double), cmp_double);
    *p50 = tmp[(s->n - 1) / 2];
    *p99 = tmp[(s->n - 1) * 99 / 100];
}

/* ---- thread CPU time -------------------------------------------------------------- */

/* A link thread's CPU clock (POSIX thread CPU-time clocks). While the thread
 * runs, stats read its clock; as it returns it stores its own final figure,
 * since the clock of a thread that has ended cannot be read. Both sides hold
 * the link's stats_lock, so a live read never meets an ended thread. */
typedef struct {
    clockid_t clock;
    bool has_clock; /* pthread_getcpuclockid() gave one */
    bool ended;     /* final_us is the figure */
    uint64_t final_us;
} thread_cpu;

static uint64_t cpu_clock_us(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- the link ------------------------------------------------------------------ */

typedef struct {
    struct qcam_link *link;
    qcam_sink *sink;
    fifo queue;
    pthread_t thread;
    thread_cpu cpu; /* under the link's stats_lock */
    bool gated; /* dropping until the next keyframe (encode thread only) */
    _Atomic uint64_t written, dropped;
} sink_slot;

struct qcam_link {
    qcam_link_source src;
    /* The source's drop count when the capture thread began reading (first
     * taken by link()) and when it stopped (set before `finished`); both
     * under stats_lock: drops before or after are not the link's. */
    uint64_t src_dropped0, src_dropped1;
    qcam_link_encoder enc;
    qcam_link_error_fn *on_error;
    void *opaque;
    fifo encode_q;
    pthread_t capture_thread, encode_thread;
    sink_slot sinks[QCAM_LINK_MAX_SINKS];
    unsigned n_sinks;
    atomic_bool stopping;
    atomic_bool discard; /* qcam_link_discard_queued */
    pthread_mutex_t stats_lock; /* guards everything below */
    uint64_t frames_in, frames_encoded, drops_queue, drops_encoder;
    samples encode_us, latency_us;
    int64_t window_start_us;
    uint64_t window_count;
    double fps;
    int error;
    bool keep_last;
    qcam_link_media media; /* the bit this link holds in each sink's busy */
    uint64_t max_frames;
    atomic_bool finished;
    qcam_picture *last; /* most recently encoded, for capture() */
    qcam_overlay *overlay; /* burned in before encode() (video only) */
    thread_cpu capture_cpu, encode_cpu;
    bool encoded; /* the source gives packets: no encode thread */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* After pthread_create: where the new thread's CPU clock is. */
static void thread_cpu_start(qcam_link *l, thread_cpu *c, pthread_t thread)
{
    pthread_mutex_lock(&l->stats_lock);
    c->has_clock = pthread_getcpuclockid(thread, &c->clock) == 0;
    pthread_mutex_unlock(&l->stats_lock);
}

/* The last thing a link thread does: keep its CPU time. */
static void thread_cpu_end(qcam_link *l, thread_cpu *c)
{
    pthread_mutex_lock(&l->stats_lock);
    c->final_us = cpu_clock_us(CLOCK_THREAD_CPUTIME_ID);
    c->ended = true;
    pthread_mutex_unlock(&l->stats_lock);
}

/* Under stats_lock. */
static uint64_t thread_cpu_us(const thread_cpu *c)
{
    if (c->ended) return c->final_us;
    return c->has_clock ? cpu_clock_us(c->clock) : 0;
}

static void report(qcam_link *l, int err, const char *what)
{
    pthread_mutex_lock(&l->stats_lock);
    bool first = l->error == 0;
    if (first) l->error = err;
    pthread_mutex_unlock(&l->stats_lock);
    if (first && l->on_error) l->on_error(l->opaque, err, what);
}

static void deliver(qcam_link *l, qcam_packet *pkt);

/* The capture thread's first act: the link's first frame is the newest one
 * when it begins to read, so what the source dropped until then (while the
 * threads started) is not the link's. */
static void begin_reading(qcam_link *l)
{
    if (!l->src.dropped) return;
    uint64_t d = l->src.dropped(l->src.ctx);
    pthread_mutex_lock(&l->stats_lock);
    l->src_dropped0 = d;
    pthread_mutex_unlock(&l->stats_lock);
}

/* Its last act before `finished`: frames that fall due once it no longer
 * reads (while the encoder drains, until the link is closed) are not the
 * link's drops. */
static void end_reading(qcam_link *l)
{
    uint64_t d = l->src.dropped ? l->src.dropped(l->src.ctx) : 0;
    pthread_mutex_lock(&l->stats_lock);
    l->src_dropped1 = d;
    pthread_mutex_unlock(&l->stats_lock);
}

/* An encoded source: packets go straight to the sinks. */
static void *passthrough_main(void *arg)
{
    qcam_link *l = arg;
    qcam_platform_name_thread("qcam-capture");
    begin_reading(l);
    uint64_t taken = 0;
    while (!atomic_load(&l->stopping) && (!l->max_frames || taken < l->max_frames)) {
        qcam_packet *pkt = NULL;
        int r = l->src.read_packet(l->src.ctx, 100000, &pkt);
        if (r == -ETIMEDOUT || r == -ENOBUFS || (r == 0 && !pkt)) continue;
        if (r == -ENODATA) break;
        if (r < 0) {
            report(l, r, "source");
            break;
        }
        taken++;
        pthread_mutex_lock(&l->stats_lock);
        l->frames_in++;
        l->frames_encoded++;
        pthread_mutex_unlock(&l->stats_lock);
        if (!pkt->sample_rate) pkt->sample_rate = l->src.sample_rate;
        deliver(l, pkt);
        qcam_packet_unref(pkt);
    }
    for (unsigned i = 0; i < l->n_sinks; i++) fifo_close(&l->sinks[i].queue);
    end_reading(l);
    atomic_store(&l->finished, true);
    thread_cpu_end(l, &l->capture_cpu);
    return NULL;
}

static void *capture_main(void *arg)
{
    qcam_link *l = arg;
    qcam_platform_name_thread("qcam-capture");
    begin_reading(l);
    uint64_t taken = 0;
    while (!atomic_load(&l->stopping) && (!l->max_frames || taken < l->max_frames)) {
        qcam_picture *pic = NULL;
        int r = l->src.read(l->src.ctx, 100000, &pic);
        if (r == -ETIMEDOUT || r == -ENOBUFS || (r == 0 && !pic)) continue;
        if (r == -ENODATA) break; /* the source ended: finish normally */
        if (r < 0) {
            report(l, r, l->media == QCAM_LINK_AUDIO ? "microphone" : "camera");
            break;
        }
        taken++;
        pthread_mutex_lock(&l->stats_lock);
        l->frames_in++;
        pthread_mutex_unlock(&l->stats_lock);
        if (!fifo_push(&l->encode_q, pic)) { /* the camera never waits */
            qcam_picture_unref(pic);
            pthread_mutex_lock(&l->stats_lock);
            l->drops_queue++;
            pthread_mutex_unlock(&l->stats_lock);
        }
    }
    end_reading(l);
    fifo_close(&l->encode_q);
    atomic_store(&l->finished, true);
    thread_cpu_end(l, &l->capture_cpu);
    return NULL;
}

static void deliver(qcam_link *l, qcam_packet *pkt)
{
    for (unsigned i = 0; i < l->n_sinks; i++) {
        sink_slot *s = &l->sinks[i];
        if (s->gated && !pkt->keyframe) {
            s->dropped++;
            continue;
        }
        s->gated = false;
        if (!fifo_push(&s->queue, qcam_packet_ref(pkt))) {
            qcam_packet_unref(pkt);
            s->dropped++;
            s->gated = true;
        }
    }
}

static void *encode_main(void *arg)
{
    qcam_link *l = arg;
    qcam_platform_name_thread("qcam-encode");
    qcam_picture *pic;
    while ((pic = fifo_pop(&l->encode_q)) != NULL) {
        if (atomic_load(&l->discard)) {
            qcam_picture_unref(pic);
            pthread_mutex_lock(&l->stats_lock);
            l->drops_queue++;
            pthread_mutex_unlock(&l->stats_lock);
            continue;
        }
        qcam_packet *pkt = NULL;
        if (l->overlay) qcam_overlay_draw(l->overlay, pic); /* a format it cannot draw on stays as it is */
        int64_t t0 = now_us();
        int r = l->enc.encode(l->enc.ctx, pic, &pkt);
        int64_t t1 = now_us();
        pthread_mutex_lock(&l->stats_lock);
        qcam_picture *drop = pic;
        if (r >= 0 && l->keep_last) { /* keep it for capture(), let the previous go */
            drop = l->last;
            l->last = pic;
        }
        if (r < 0 || !pkt) l->drops_encoder++;
        else {
            l->frames_encoded++;
            sample_add(&l->encode_us, (double)(t1 - t0));
        }
        pthread_mutex_unlock(&l->stats_lock);
        qcam_picture_unref(drop);
        if (r < 0) {
            report(l, r, "encoder");
            continue;
        }
        if (pkt) {
            if (!pkt->sample_rate) pkt->sample_rate = l->src.sample_rate;
            deliver(l, pkt);
            qcam_packet_unref(pkt);
        }
    }
    for (unsigned i = 0; i < l->n_sinks; i++) fifo_close(&l->sinks[i].queue);
    thread_cpu_end(l, &l->encode_cpu);
    return NULL;
}

static void *sink_main(void *arg)
{
    sink_slot *s = arg;
    qcam_link *l = s->link;
    qcam_platform_name_thread("qcam-sink");
    qcam_packet *pkt;
    bool failed = false;
    while ((pkt = fifo_pop(&s->queue)) != NULL) {
        int r = failed ? -EIO : s->sink->ops->write(s->sink, pkt);
        int64_t done = now_us();
        if (r < 0) {
            if (!failed) report(l, r, s->sink->ops->kind);
            failed = true;
            s->dropped++;
        } else {
            s->written++;
            pthread_mutex_lock(&l->stats_lock);
            if (s == &l->sinks[l->n_sinks - 1]) {
                sample_add(&l->latency_us, (double)(done - pkt->pts_us));
                if (done - l->window_start_us >= 1000000) {
                    l->fps = (double)l->window_count * 1e6 / (double)(done - l->window_start_us);
                    l->window_start_us = done;
                    l->window_count = 0;
                }
                l->window_count++;
            }
            pthread_mutex_unlock(&l->stats_lock);
        }
        qcam_packet_unref(pkt);
    }
    if (!failed) {
        int r = s->sink->ops->flush ? s->sink->ops->flush(s->sink) : 0;
        if (r < 0) report(l, r, s->sink->ops->kind);
    }
    thread_cpu_end(l, &s->cpu);
    return NULL;
}

qcam_link *qcam_link_start(const qcam_link_source *src, const qcam_link_encoder *enc,
                           qcam_sink *const *sinks, unsigned n_sinks, const qcam_link_config *cfg,
                           qcam_link_error_fn *on_error, void *opaque, int *err)
{
    *err = 0;
    qcam_link_media media = src->media ? src->media : QCAM_LINK_VIDEO;
    bool encoded = src->read_packet != NULL;
    if (n_sinks == 0 || n_sinks > QCAM_LINK_MAX_SINKS || encoded != (enc == NULL) ||
        (enc && media != (enc->media ? enc->media : QCAM_LINK_VIDEO))) {
        *err = -EINVAL;
        return NULL;
    }
    /* Claim each sink for this media (the same sink twice: busy the second time). */
    for (unsigned i = 0; i < n_sinks; i++) {
        int old = atomic_fetch_or(&sinks[i]->busy, (int)media);
        if (old & (int)media) {
            for (unsigned j = 0; j < i; j++) atomic_fetch_and(&sinks[j]->busy, ~(int)media);
            *err = -EBUSY;
            return NULL;
        }
    }
    qcam_link *l = calloc(1, sizeof *l);
    unsigned eq = cfg && cfg->encode_queue ? cfg->encode_queue : 4;
    unsigned sq = cfg && cfg->sink_queue ? cfg->sink_queue : 64;
    if (!l || fifo_init(&l->encode_q, eq) != 0) {
        free(l);
        for (unsigned j = 0; j < n_sinks; j++) atomic_fetch_and(&sinks[j]->busy, ~(int)media);
        *err = -ENOMEM;
        return NULL;
    }
    l->media = media;
    l->keep_last = cfg && cfg->keep_last;
    l->max_frames = cfg ? cfg->max_frames : 0;
    l->overlay = cfg && media == QCAM_LINK_VIDEO ? qcam_overlay_ref(cfg->overlay) : NULL;
    l->src = *src;
    l->src_dropped0 = src->dropped ? src->dropped(src->ctx) : 0;
    if (enc) l->enc = *enc;
    l->encoded = encoded;
    l->on_error = on_error;
    l->opaque = opaque;
    l->n_sinks = n_sinks;
    l->window_start_us = now_us();
    pthread_mutex_init(&l->stats_lock, NULL);
    for (unsigned i = 0; i < n_sinks; i++) {
        l->sinks[i].link = l;
        l->sinks[i].sink = sinks[i];
        fifo_init(&l->sinks[i].queue, sq);
        pthread_create(&l->sinks[i].thread, NULL, sink_main, &l->sinks[i]);
        thread_cpu_start(l, &l->sinks[i].cpu, l->sinks[i].thread);
    }
    if (!encoded) {
        pthread_create(&l->encode_thread, NULL, encode_main, l);
        thread_cpu_start(l, &l->encode_cpu, l->encode_thread);
    }
    pthread_create(&l->capture_thread, NULL, encoded ? passthrough_main : capture_main, l);
    thread_cpu_start(l, &l->capture_cpu, l->capture_thread);
    return l;
}

void qcam_link_stats_get(qcam_link *l, qcam_link_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&l->stats_lock);
    out->frames_in = l->frames_in;
    out->frames_encoded = l->frames_encoded;
    out->drops_queue = l->drops_queue;
    out->drops_encoder = l->drops_encoder;
    out->fps = l->fps;
    out->error = l->error;
    out->finished = atomic_load(&l->finished);
    sample_percentiles(&l->encode_us, &out->encode_p50_us, &out->encode_p99_us);
    sample_percentiles(&l->latency_us, &out->latency_p50_us, &out->latency_p99_us);
    out->cpu_capture_us = thread_cpu_us(&l->capture_cpu);
    out->cpu_encode_us = thread_cpu_us(&l->encode_cpu);
    for (unsigned i = 0; i < l->n_sinks; i++) out->sink_cpu_us[i] = thread_cpu_us(&l->sinks[i].cpu);
    uint64_t dropped0 = l->src_dropped0, dropped1 = l->src_dropped1;
    pthread_mutex_unlock(&l->stats_lock);
    out->drops_source = !l->src.dropped ? 0 : (out->finished ? dropped1 : l->src.dropped(l->src.ctx)) - dropped0;
    out->sinks = l->n_sinks;
    out->frames_out = UINT64_MAX;
    for (unsigned i = 0; i < l->n_sinks; i++) {
        out->sink_written[i] = l->sinks[i].written;
        out->sink_dropped[i] = l->sinks[i].dropped;
        out->sink_depth[i] = fifo_depth(&l->sinks[i].queue);
        if (l->sinks[i].written < out->frames_out) out->frames_out = l->sinks[i].written;
    }
    out->encode_depth = fifo_depth(&l->encode_q);
    out->pixel_copies = qcam_media_copy_count();
}

qcam_picture *qcam_link_last_picture(qcam_link *l)
{
    pthread_mutex_lock(&l->stats_lock);
    qcam_picture *p = l->last ? qcam_picture_ref(l->last) : NULL;
    pthread_mutex_unlock(&l->stats_lock);
    return p;
}

void qcam_link_discard_queued(qcam_link *l)
{
    if (l) atomic_store(&l->discard, true);
}

void qcam_link_stop(qcam_link *l, qcam_link_stats *final)
{
    if (!l) return;
    atomic_store(&l->stopping, true);
    pthread_join(l->capture_thread, NULL);
    if (!l->encoded) pthread_join(l->encode_thread, NULL);
    for (unsigned i = 0; i < l->n_sinks; i++) pthread_join(l->sinks[i].thread, NULL);
    if (final) qcam_link_stats_get(l, final);
    for (unsigned i = 0; i < l->n_sinks; i++) {
        fifo_destroy(&l->sinks[i].queue);
        atomic_fetch_and(&l->sinks[i].sink->busy, ~(int)l->media);
    }
    fifo_destroy(&l->encode_q);
    qcam_picture_unref(l->last);
    qcam_overlay_unref(l->overlay);
    pthread_mutex_destroy(&l->stats_lock);
    free(l);
}
