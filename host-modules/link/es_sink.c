#include "es_sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct qcam_es_sink {
    qcam_sink base; /* first: the link sees a qcam_sink */
    qcam_fs_card *card;
    pthread_mutex_t lock; /* a video and an audio link may write at once */
    int fd;
    _Atomic uint64_t frames, bytes;
    bool started; /* the first packet written was a keyframe */
};

static int es_write(qcam_sink *sink, qcam_packet *pkt)
{
    qcam_es_sink *s = (qcam_es_sink *)sink;
    pthread_mutex_lock(&s->lock);
    /* A stream must start at a keyframe (with its parameter sets): skip
     * anything before it, as a player could not decode it. */
    if (!s->started && !pkt->keyframe && pkt->type != QCAM_PKT_HEADER) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    s->started = true;
    size_t written = 0;
    int r = qcam_fs_write_all(s->card, s->fd, pkt->data, pkt->size, -1, &written);
    s->bytes += written;
    if (r == 0) s->frames++;
    pthread_mutex_unlock(&s->lock);
    return r < 0 ? r : 0;
}

static int es_flush(qcam_sink *sink)
{
    qcam_es_sink *s = (qcam_es_sink *)sink;
    int r = qcam_fs_sync(s->fd);
    return r == -EINVAL ? 0 : r;
}

static const qcam_sink_ops es_ops = {"es", es_write, es_flush};

qcam_es_sink *qcam_es_sink_open(qcam_fs_card *card, const char *board_path, int *err)
{
    qcam_es_sink *s = calloc(1, sizeof *s);
    if (!s) {
        *err = -ENOMEM;
        return NULL;
    }
    s->fd = qcam_fs_open(card, board_path, QCAM_FS_WRITE);
    if (s->fd < 0) {
        *err = s->fd;
        free(s);
        return NULL;
    }
    s->card = card;
    pthread_mutex_init(&s->lock, NULL);
    s->base.ops = &es_ops;
    return s;
}

qcam_sink *qcam_es_sink_base(qcam_es_sink *s) { return &s->base; }
uint64_t qcam_es_sink_frames(qcam_es_sink *s) { return s->frames; }
uint64_t qcam_es_sink_bytes(qcam_es_sink *s) { return s->bytes; }

int qcam_es_sink_close(qcam_es_sink *s)
{
    if (!s) return 0;
    int r = es_flush(&s->base);
    int c = qcam_fs_close(s->fd);
    if (r == 0) r = c;
    qcam_fs_card_close(s->card);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return r;
}
