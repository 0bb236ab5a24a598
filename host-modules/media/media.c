#include "media.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct qcam_pool {
    pthread_mutex_t lock;
    qcam_picture *free_list;
    unsigned count, free;
    bool closed;
    qcam_picture pics[];
};

static atomic_ullong pixel_copies;

void qcam_media_count_copy(size_t bytes)
{
    (void)bytes;
    atomic_fetch_add(&pixel_copies, 1);
}

uint64_t qcam_media_copy_count(void) { return atomic_load(&pixel_copies); }

static const char *const fmt_names[] = {NULL, "nv21", "nv12", "yuv420p", "rgb888", "gray", "s16"};

const char *qcam_pixfmt_name(qcam_pixfmt fmt)
{
    return fmt >= QCAM_FMT_NV21 && fmt <= QCAM_FMT_S16 ? fmt_names[fmt] : NULL;
}

qcam_pixfmt qcam_pixfmt_parse(const char *name)
{
    for (int i = QCAM_FMT_NV21; name && i <= QCAM_FMT_S16; i++)
        if (strcmp(name, fmt_names[i]) == 0) return (qcam_pixfmt)i;
    return 0;
}

size_t qcam_pixfmt_size(qcam_pixfmt fmt, int width, int height)
{
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384) return 0;
    size_t px = (size_t)width * (size_t)height;
    switch (fmt) {
    case QCAM_FMT_NV21:
    case QCAM_FMT_NV12:
    case QCAM_FMT_YUV420P:
        if (width % 2 || height % 2) return 0;
        return px + px / 2;
    case QCAM_FMT_RGB888: return px * 3;
    case QCAM_FMT_GRAY: return px;
    case QCAM_FMT_S16: return px * 2; /* width samples x height channels */
    default: return 0;
    }
}

static void pool_free(qcam_pool *pool)
{
    for (unsigned i = 0; i < pool->count; i++) free(pool->pics[i].data);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

qcam_pool *qcam_pool_new(unsigned count, int width, int height, qcam_pixfmt fmt)
{
    size_t size = qcam_pixfmt_size(fmt, width, height);
    if (!size || count == 0 || count > 64) return NULL;
    qcam_pool *pool = calloc(1, sizeof *pool + count * sizeof(qcam_picture));
    if (!pool) return NULL;
    pthread_mutex_init(&pool->lock, NULL);
    pool->count = count;
    for (unsigned i = 0; i < count; i++) {
        qcam_picture *p = &pool->pics[i];
        p->data = malloc(size);
        if (!p->data) {
            pool_free(pool);
            return NULL;
        }
        p->width = width;
        p->height = height;
        p->format = fmt;
        p->size = size;
        p->pool = pool;
        p->next_free = pool->free_list;
        pool->free_list = p;
    }
    pool->free = count;
    return pool;
}

qcam_picture *qcam_pool_acquire(qcam_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    qcam_picture *p = pool->closed ? NULL : pool->free_list;
    if (p) {
        pool->free_list = p->next_free;
        pool->free--;
        p->next_free = NULL;
        atomic_store(&p->refs, 1);
        p->pts_us = 0;
        p->seq = 0;
    }
    pthread_mutex_unlock(&pool->lock);
    return p;
}

unsigned qcam_pool_free_count(qcam_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    unsigned n = pool->free;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

void qcam_pool_close(qcam_pool *pool)
{
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    pool->closed = true;
    bool all_back = pool->free == pool->count;
    pthread_mutex_unlock(&pool->lock);
    if (all_back) pool_free(pool);
}

static void pool_return(qcam_picture *p)
{
    qcam_pool *pool = p->pool;
    pthread_mutex_lock(&pool->lock);
    p->next_free = pool->free_list;
    pool->free_list = p;
    pool->free++;
    bool done = pool->closed && pool->free == pool->count;
    pthread_mutex_unlock(&pool->lock);
    if (done) pool_free(pool);
}

qcam_picture *qcam_picture_new(int width, int height, qcam_pixfmt fmt)
{
    size_t size = qcam_pixfmt_size(fmt, width, height);
    if (!size) return NULL;
    qcam_picture *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->data = malloc(size);
    if (!p->data) {
        free(p);
        return NULL;
    }
    p->width = width;
    p->height = height;
    p->format = fmt;
    p->size = size;
    atomic_store(&p->refs, 1);
    return p;
}

qcam_picture *qcam_picture_ref(qcam_picture *pic)
{
    atomic_fetch_add(&pic->refs, 1);
    return pic;
}

void qcam_picture_unref(qcam_picture *pic)
{
    if (!pic || atomic_fetch_sub(&pic->refs, 1) != 1) return;
    if (pic->pool) {
        pool_return(pic);
    } else {
        free(pic->data);
        free(pic);
    }
}

qcam_packet *qcam_packet_new(size_t size)
{
    qcam_packet *pkt = calloc(1, sizeof *pkt + size + 1);
    if (!pkt) return NULL;
    pkt->data = (uint8_t *)(pkt + 1);
    pkt->size = size;
    atomic_store(&pkt->refs, 1);
    return pkt;
}

qcam_packet *qcam_packet_ref(qcam_packet *pkt)
{
    atomic_fetch_add(&pkt->refs, 1);
    return pkt;
}

void qcam_packet_unref(qcam_packet *pkt)
{
    if (pkt && atomic_fetch_sub(&pkt->refs, 1) == 1) free(pkt);
}
