/* The MPEG-TS writer (ts_write.h).
 *
 * Times count from the file's origin, the pts of its first keyframe, in
 * 90 kHz units; a frame whose time is not after the one before gets the one
 * before's + 1. */
#include "ts_write.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../media/segmenter.h"
#include "../video/annexb.h"
#include "../video/sps.h"
#include "ts_mux.h"

#define CLOCK 90000u

struct qcam_ts_writer {
    qcam_segmenter seg; /* first (the link sees its qcam_sink): files, errors, a full card, the mutex (media/segmenter.h) */
    uint8_t *ps;        /* Annex B parameter sets for keyframes without them */
    size_t ps_len;
    qcam_ts_mux mux;
    uint8_t *buf;       /* packets not written yet */
    size_t buf_len, buf_cap;
    unsigned buf_frames;
    uint64_t buf_dts;   /* the first buffered frame's */
    uint64_t last_dts;  /* the newest frame's (buffered or not) */
    uint32_t last_dur;  /* the distance between the newest two */
    uint64_t file_frames;   /* on storage, this file */
    uint64_t written_dts;   /* the last frame on storage's */
    uint32_t written_dur;   /* and its distance to the one before (0: first) */
    uint64_t video_frames;
};

static qcam_ts_writer *writer_of(qcam_segmenter *s) { return (qcam_ts_writer *)((char *)s - offsetof(qcam_ts_writer, seg)); }

static int fail(qcam_ts_writer *w, int err) { return qcam_segmenter_fail(&w->seg, err); }

/* ---- files (the segmenter's ops) -------------------------------------------- */

static void reset_file(qcam_segmenter *s)
{
    qcam_ts_writer *w = writer_of(s);
    w->buf_len = 0;
    w->buf_frames = 0;
    w->file_frames = 0;
    w->written_dts = 0;
    w->written_dur = 0;
    w->last_dur = 0;
    qcam_ts_mux_init(&w->mux, s->cfg.video_codec);
}

/* The buffer to storage: one write and an fsync. A partial write is cut back. */
static int write_buffer(qcam_segmenter *s)
{
    qcam_ts_writer *w = writer_of(s);
    if (s->error) return s->error;
    if (s->fd < 0 || !w->buf_len) return 0;
    size_t done = 0;
    int r = qcam_fs_write_all(s->card, s->fd, w->buf, w->buf_len, (int64_t)s->file_len, &done);
    if (r < 0) {
        if (done) qcam_fs_truncate(s->card, s->fd, s->file_len);
        return fail(w, r);
    }
    r = qcam_fs_sync(s->fd);
    if (r < 0 && r != -EINVAL) return fail(w, r);
    s->file_len += w->buf_len;
    w->file_frames += w->buf_frames;
    w->video_frames += w->buf_frames;
    w->written_dts = w->last_dts;
    w->written_dur = w->last_dur;
    w->buf_len = 0;
    w->buf_frames = 0;
    return 0;
}

static void drop_buffer(qcam_segmenter *s)
{
    qcam_ts_writer *w = writer_of(s);
    s->dropped += w->buf_frames;
    w->buf_len = 0;
    w->buf_frames = 0;
}

/* A file is kept when a write reached the card. */
static bool has_packets(qcam_segmenter *s) { return s->file_len > 0; }

/* `end` is where the next segment starts (its first frame's time in this
 * file's clock), or 0 for the last frame's time + the interval before it. */
static int finished(qcam_segmenter *s, qcam_ts_segment_info *info, uint64_t end, bool kept)
{
    qcam_ts_writer *w = writer_of(s);
    if (info && kept) {
        info->size = qcam_segmenter_file_size(s);
        info->frames = w->file_frames;
        uint32_t d = w->written_dur ? w->written_dur : 3000;
        info->duration = (double)(end ? end : w->written_dts + d) / CLOCK;
    }
    return 0;
}

/* ---- frames ----------------------------------------------------------------- */

static int append_nal(uint8_t **p, size_t *len, const uint8_t *nal, size_t n)
{
    if (!nal || !n) return 0;
    uint8_t *q = realloc(*p, *len + 4 + n);
    if (!q) return -ENOMEM;
    memcpy(q + *len, "\0\0\0\1", 4);
    memcpy(q + *len + 4, nal, n);
    *p = q;
    *len += 4 + n;
    return 0;
}

/* Keep parameter sets (NAL units) as Annex B for keyframes without them. */
static int set_params(qcam_ts_writer *w, const uint8_t *vps, size_t vps_len, const uint8_t *sps, size_t sps_len,
                      const uint8_t *pps, size_t pps_len)
{
    uint8_t *p = NULL;
    size_t len = 0;
    if (append_nal(&p, &len, vps, vps_len) < 0 || append_nal(&p, &len, sps, sps_len) < 0 ||
        append_nal(&p, &len, pps, pps_len) < 0) {
        free(p);
        return -ENOMEM;
    }
    free(w->ps);
    w->ps = p;
    w->ps_len = len;
    return 0;
}

/* A keyframe's parameter sets: in-band ones are kept for later keyframes
 * (nothing to add: *add = false); else the known ones (given, or from the
 * encoder). -EAGAIN when there are none. */
static int keyframe_params(qcam_ts_writer *w, const qcam_packet *pkt, bool *add)
{
    qcam_codec codec = w->seg.cfg.video_codec;
    qcam_annexb_params inband;
    qcam_annexb_find_params(codec, pkt->data, pkt->size, &inband);
    *add = false;
    if (inband.sps && inband.pps && (codec == QCAM_CODEC_H264 || inband.vps))
        return set_params(w, inband.vps, inband.vps_len, inband.sps, inband.sps_len, inband.pps, inband.pps_len);
    if (!w->ps && w->seg.encoder) {
        qcam_param_sets ps = {0};
        if (qcam_encoder_parameter_sets(w->seg.encoder, &ps) == 0) {
            int r = set_params(w, ps.vps ? ps.vps->data : NULL, ps.vps ? ps.vps->size : 0, ps.sps->data, ps.sps->size,
                               ps.pps->data, ps.pps->size);
            qcam_param_sets_release(&ps);
            if (r < 0) return r;
        }
    }
    if (!w->ps) return -EAGAIN;
    *add = true;
    return 0;
}

static int write_video(qcam_segmenter *s, qcam_packet *pkt, bool video)
{
    (void)video; /* the only track */
    qcam_ts_writer *w = writer_of(s);
    bool add = false;
    if (!s->started) {
        if (!pkt->keyframe || keyframe_params(w, pkt, &add) < 0) {
            s->dropped++;
            return 0;
        }
        int r = qcam_segmenter_start(s, pkt->pts_us);
        if (r < 0) return r;
    } else if (pkt->keyframe) {
        int r = keyframe_params(w, pkt, &add);
        if (r == -ENOMEM) return fail(w, r);
    }
    bool first = s->file_len == 0 && w->buf_frames == 0;
    int64_t rel = pkt->pts_us - s->origin_us;
    uint64_t dts = rel <= 0 ? 0 : (uint64_t)((rel * (int64_t)CLOCK + 500000) / 1000000);
    if (!first && dts <= w->last_dts) dts = w->last_dts + 1;
    if (!first && pkt->keyframe && qcam_segmenter_segmented(s) && qcam_segmenter_due(s, dts, CLOCK, w->buf_len)) {
        int r = qcam_segmenter_next(s, pkt->pts_us, dts);
        if (r < 0) return r;
        dts = 0;
        first = true;
    } else if (w->buf_frames && dts - w->buf_dts >= CLOCK) {
        int r = write_buffer(s);
        if (r < 0) return r;
    }
    size_t need = qcam_ts_mux_au_bound(pkt->size, add ? w->ps_len : 0);
    if (w->buf_len + need > w->buf_cap) {
        size_t cap = w->buf_cap ? w->buf_cap : 65536;
        while (cap < w->buf_len + need) cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) return fail(w, -ENOMEM);
        w->buf = b;
        w->buf_cap = cap;
    }
    w->buf_len += qcam_ts_mux_au(&w->mux, pkt->data, pkt->size, add ? w->ps : NULL, add ? w->ps_len : 0, dts,
                                 pkt->keyframe, w->buf + w->buf_len);
    if (w->buf_frames == 0) w->buf_dts = dts;
    w->buf_frames++;
    w->last_dur = first ? 0 : (uint32_t)(dts - w->last_dts);
    w->last_dts = dts;
    return 0;
}

/* ---- the sink ------------------------------------------------------------------- */

static int track_of(qcam_segmenter *s, const qcam_packet *pkt) { return pkt->codec == s->cfg.video_codec; }

static void writer_free(qcam_segmenter *s);

static const qcam_segmenter_ops seg_ops = {
    .track = track_of,
    .write = write_video,
    .emit = write_buffer,
    .drop = drop_buffer,
    .reset = reset_file,
    .begin = NULL,
    .has_media = has_packets,
    .kept = has_packets,
    .finished = finished,
    .free = writer_free,
};

int qcam_ts_writer_write(qcam_ts_writer *w, qcam_packet *pkt) { return qcam_segmenter_write(&w->seg, pkt); }
int qcam_ts_writer_flush(qcam_ts_writer *w) { return qcam_segmenter_flush(&w->seg); }

static const qcam_sink_ops ts_ops = {"ts", qcam_segmenter_sink_write, qcam_segmenter_sink_flush};

qcam_sink *qcam_ts_writer_sink(qcam_ts_writer *w) { return &w->seg.sink; }
qcam_ts_writer *qcam_ts_writer_of(qcam_sink *sink) { return (qcam_ts_writer *)sink; }

void qcam_ts_writer_stats_get(qcam_ts_writer *w, qcam_ts_writer_stats *out)
{
    pthread_mutex_lock(&w->seg.lock);
    out->video_frames = w->video_frames;
    out->bytes = w->seg.file_len;
    out->segments = w->seg.segments;
    out->dropped = w->seg.dropped;
    pthread_mutex_unlock(&w->seg.lock);
}

void qcam_ts_writer_path(qcam_ts_writer *w, char *out, size_t n) { qcam_segmenter_path(&w->seg, out, n); }

/* ---- lifetime ---------------------------------------------------------------------- */

static void writer_free(qcam_segmenter *s)
{
    qcam_ts_writer *w = writer_of(s);
    qcam_segmenter_release(&w->seg);
    free(w->buf);
    free(w->ps);
    free(w);
}

int qcam_ts_writer_open(qcam_fs_card *card, const qcam_ts_writer_config *cfg, qcam_ts_writer **out)
{
    *out = NULL;
    if (cfg->video_codec != QCAM_CODEC_H264 && cfg->video_codec != QCAM_CODEC_H265) return -EINVAL;
    if (!cfg->path || cfg->audio_codec) return -EINVAL;
    qcam_ts_writer *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    int r = qcam_segmenter_init(&w->seg, &seg_ops, cfg);
    if (r < 0) {
        free(w);
        return r;
    }
    w->seg.sink.ops = &ts_ops;
    if (cfg->sps) {
        /* given parameter sets must parse */
        uint8_t *c = NULL;
        size_t c_len = 0;
        qcam_sps_info si;
        r = qcam_sps_make_config(cfg->video_codec, cfg->vps, cfg->vps_len, cfg->sps, cfg->sps_len, cfg->pps,
                                 cfg->pps_len, &c, &c_len, &si);
        free(c);
        r = r < 0 ? -EINVAL : set_params(w, cfg->vps, cfg->vps_len, cfg->sps, cfg->sps_len, cfg->pps, cfg->pps_len);
    }
    r = qcam_segmenter_open_first(&w->seg, cfg, card, r);
    if (r == 0) *out = w;
    return r;
}

int qcam_ts_writer_close(qcam_ts_writer *w, qcam_ts_segment_info *last)
{
    return w ? qcam_segmenter_close(&w->seg, last) : 0;
}
