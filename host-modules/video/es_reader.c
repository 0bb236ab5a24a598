/* Annex B files, one access unit at a time (es_reader.h). */
#include "es_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annexb.h"

struct qcam_es_reader {
    int fd;
    qcam_codec codec;
    qcam_annexb_state st;
    uint8_t *buf;
    size_t cap, start, end; /* unread bytes: buf[start .. end) */
    bool eof;
    uint64_t index;
};

enum { CHUNK = 1 << 20 };

int qcam_es_open(const char *path, qcam_codec codec, qcam_es_reader **out)
{
    qcam_es_reader *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->buf = malloc(CHUNK);
    if (!r->buf) {
        free(r);
        return -ENOMEM;
    }
    r->cap = CHUNK;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        int err = errno;
        free(r->buf);
        free(r);
        return -err;
    }
    r->codec = codec;
    qcam_annexb_init(&r->st, codec);
    *out = r;
    return 0;
}

/* Read more bytes after buf[end]: 0, or -errno. Sets eof at the end. */
static int fill(qcam_es_reader *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap) {
        if (r->cap >= QCAM_ES_MAX_AU) return -EFBIG;
        uint8_t *b = realloc(r->buf, r->cap * 2);
        if (!b) return -ENOMEM;
        r->buf = b;
        r->cap *= 2;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -EIO;
        if (n == 0) r->eof = true;
        r->end += (size_t)n;
        return 0;
    }
}

int qcam_es_read(qcam_es_reader *r, qcam_packet **out)
{
    for (;;) {
        size_t skip = 0, len = 0;
        int found = qcam_annexb_next_au(&r->st, r->buf + r->start, r->end - r->start, r->eof,
                                        &skip, &len);
        if (found == 1 && len > QCAM_ES_MAX_AU) return -EFBIG;
        if (found == 1) {
            const uint8_t *au = r->buf + r->start + skip;
            qcam_packet *pkt = qcam_packet_new(len);
            if (!pkt) return -ENOMEM;
            memcpy(pkt->data, au, len);
            qcam_au_info info;
            qcam_annexb_classify(&r->st, au, len, &info);
            pkt->codec = r->codec;
            pkt->type = info.type;
            pkt->keyframe = info.keyframe;
            pkt->seq = r->index++;
            r->start += skip + len;
            *out = pkt;
            return 1;
        }
        if (found < 0) {
            r->start += skip;
            if (r->eof) return 0;
        }
        int err = fill(r);
        if (err) return err;
    }
}

int qcam_es_rewind(qcam_es_reader *r)
{
    if (lseek(r->fd, 0, SEEK_SET) < 0) return -errno;
    r->start = r->end = 0;
    r->eof = false;
    r->index = 0;
    qcam_annexb_init(&r->st, r->codec);
    return 0;
}

void qcam_es_close(qcam_es_reader *r)
{
    if (!r) return;
    close(r->fd);
    free(r->buf);
    free(r);
}
