#include "es_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct qcam_es_sink {
    qcam_sink base; /* first: the link sees a qcam_sink */
    int fd;
    _Atomic uint64_t frames, bytes;
    bool started; /* the first packet written was a keyframe */
};

static int es_write(qcam_sink *sink, qcam_packet *pkt)
{
    qcam_es_sink *s = (qcam_es_sink *)sink;
    /* A stream must start at a keyframe (with its parameter sets): skip
     * anything before it, as a player could not decode it. */
    if (!s->started && !pkt->keyframe && pkt->type != QCAM_PKT_HEADER) return 0;
    s->started = true;
    const uint8_t *p = pkt->data;
    size_t left = pkt->size;
    while (left) {
        ssize_t n = write(s->fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        left -= (size_t)n;
    }
    s->frames++;
    s->bytes += pkt->size;
    return 0;
}

static int es_flush(qcam_sink *sink)
{
    qcam_es_sink *s = (qcam_es_sink *)sink;
    return fsync(s->fd) == 0 || errno == EINVAL ? 0 : -errno;
}

static const qcam_sink_ops es_ops = {"es", es_write, es_flush};

qcam_es_sink *qcam_es_sink_open(const char *host_path, int *err)
{
    qcam_es_sink *s = calloc(1, sizeof *s);
    if (!s) {
        *err = -ENOMEM;
        return NULL;
    }
    s->fd = open(host_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (s->fd < 0) {
        *err = -errno;
        free(s);
        return NULL;
    }
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
    if (close(s->fd) != 0 && r == 0) r = -errno;
    free(s);
    return r;
}
