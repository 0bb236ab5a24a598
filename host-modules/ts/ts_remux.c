/* qcam_ts_remux (ts_remux.h). */
#include "ts_remux.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../mp4/mp4.h"
#include "../video/annexb.h"
#include "../video/es_reader.h"
#include "../video/sps.h"
#include "platform.h"
#include "ts_mux.h"

enum { OUT_BUF = 1 << 20 };

typedef struct {
    qcam_fs_card *card;
    int fd;
    uint8_t *buf;
    size_t cap, len;
    uint64_t at; /* bytes on storage */
} out_file;

static int out_flush(out_file *o)
{
    if (!o->len) return 0;
    size_t done = 0;
    int r = qcam_fs_write_all(o->card, o->fd, o->buf, o->len, (int64_t)o->at, &done);
    if (r == 0) qcam_platform_writeback(o->fd, o->at, done); /* on its way while the next MiB is muxed */
    o->at += done;
    o->len = 0;
    return r;
}

/* Room for n more bytes in the buffer (it grows for one big access unit). */
static int out_room(out_file *o, size_t n)
{
    if (o->cap - o->len >= n) return 0;
    int r = out_flush(o);
    if (r < 0) return r;
    if (o->cap >= n) return 0;
    uint8_t *b = realloc(o->buf, n);
    if (!b) return -ENOMEM;
    o->buf = b;
    o->cap = n;
    return 0;
}

/* Annex B parameter sets (4-byte start codes) into ps[cap]; its length. */
static size_t put_params(uint8_t *ps, size_t cap, const qcam_annexb_params *p)
{
    const uint8_t *n[3] = {p->vps, p->sps, p->pps};
    size_t l[3] = {p->vps_len, p->sps_len, p->pps_len}, len = 0;
    for (int i = 0; i < 3; i++) {
        if (!n[i] || !l[i] || len + 4 + l[i] > cap) continue;
        memcpy(ps + len, "\0\0\0\1", 4);
        memcpy(ps + len + 4, n[i], l[i]);
        len += 4 + l[i];
    }
    return len;
}

int qcam_ts_remux(qcam_fs_card *card, const char *input, const char *output, const qcam_ts_remux_options *opts,
                  qcam_ts_remux_result *res, const char **what)
{
    if (what) *what = NULL;
    if (!opts || (opts->codec != QCAM_CODEC_H264 && opts->codec != QCAM_CODEC_H265) || !(opts->fps > 0))
        return -EINVAL;
    char host[1100], tmp[1100];
    int r = qcam_fs_map(card, input, host, sizeof host);
    if (r < 0) return r;
    r = qcam_mp4_beside(output, ".remux", tmp, sizeof tmp, NULL, 0);
    if (r < 0) return r;
    qcam_es_reader *es = NULL;
    r = qcam_es_open(host, opts->codec, &es);
    if (r < 0) return r;
    out_file o = {.card = card, .fd = -1, .cap = OUT_BUF};
    uint8_t ps[3 * 1024];
    size_t ps_len = 0;
    qcam_ts_mux mux;
    qcam_ts_mux_init(&mux, opts->codec);
    qcam_annexb_state st;
    qcam_annexb_init(&st, opts->codec);
    qcam_ts_remux_result out = {0};
    bool started = false;
    if (!(o.buf = malloc(o.cap))) {
        r = -ENOMEM;
        goto done;
    }
    o.fd = qcam_fs_open(card, tmp, QCAM_FS_WRITE);
    if (o.fd < 0) {
        r = o.fd;
        goto done;
    }
    for (;;) {
        qcam_packet *pkt = NULL;
        r = qcam_es_read(es, &pkt);
        if (r <= 0) break;
        qcam_au_info ai;
        qcam_annexb_classify(&st, pkt->data, pkt->size, &ai);
        if (ai.keyframe && ai.has_params) {
            qcam_annexb_params p;
            qcam_annexb_find_params(opts->codec, pkt->data, pkt->size, &p);
            qcam_sps_info si;
            if (p.sps && p.pps && (opts->codec == QCAM_CODEC_H264 || p.vps) &&
                qcam_sps_parse(opts->codec, p.sps, p.sps_len, &si) == 0 && si.width > 0) {
                ps_len = put_params(ps, sizeof ps, &p);
                out.width = si.width;
                out.height = si.height;
                started = true;
            }
        }
        if (ai.type == QCAM_PKT_HEADER) { /* parameter sets alone: taken above */
            qcam_packet_unref(pkt);
            continue;
        }
        if (!started) {
            out.dropped++;
            qcam_packet_unref(pkt);
            continue;
        }
        const uint8_t *extra = ai.keyframe && !ai.has_params ? ps : NULL;
        size_t extra_len = extra ? ps_len : 0;
        r = out_room(&o, qcam_ts_mux_au_bound(pkt->size, extra_len));
        if (r == 0) {
            uint64_t pts = (uint64_t)llround((double)out.frames * 90000.0 / opts->fps);
            o.len += qcam_ts_mux_au(&mux, pkt->data, pkt->size, extra, extra_len, pts, ai.keyframe, o.buf + o.len);
            out.frames++;
            out.keyframes += ai.keyframe;
        }
        qcam_packet_unref(pkt);
        if (r < 0) break;
    }
    if (r == 0) r = out_flush(&o);
    if (r == 0 && !out.frames) r = -EBADMSG;
    if (r == 0) {
        r = qcam_fs_sync(o.fd);
        if (r == -EINVAL) r = 0; /* storage that cannot sync */
    }
    {
        int c = qcam_fs_close(o.fd);
        o.fd = -1;
        if (r == 0) r = c;
    }
    if (r == 0) r = qcam_fs_rename(card, tmp, output);
    if (r == 0) {
        qcam_mp4_sync_dir(card, output);
        out.size = o.at;
        out.duration = (double)out.frames / opts->fps;
        if (res) *res = out;
    }
done:
    if (o.fd >= 0) qcam_fs_close(o.fd);
    if (r < 0) qcam_fs_remove(card, tmp);
    free(o.buf);
    qcam_es_close(es);
    return r;
}
