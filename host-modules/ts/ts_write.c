/* The MPEG-TS writer (ts_write.h).
 *
 * Times count from the file's origin, the pts of its first keyframe, in
 * 90 kHz units; a frame whose time is not after the one before gets the one
 * before's + 1. */
#include "ts_write.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../mp4/mp4_write.h"
#include "../video/annexb.h"
#include "../video/sps.h"
#include "ts_mux.h"

#define CLOCK 90000u

struct qcam_ts_writer {
    qcam_sink base; /* first: the link sees a qcam_sink */
    pthread_mutex_t lock;
    qcam_ts_writer_config cfg;
    char pattern[512];
    char path[512];
    qcam_fs_card *card;
    qcam_encoder *encoder;
    uint8_t *ps;        /* Annex B parameter sets for keyframes without them */
    size_t ps_len;
    qcam_ts_mux mux;
    int fd;             /* -1 when none */
    bool started;       /* the current file has its origin */
    int64_t origin_us;
    uint64_t file_len;  /* bytes on storage (whole packets) */
    uint8_t *buf;       /* packets not written yet */
    size_t buf_len, buf_cap;
    unsigned buf_frames;
    uint64_t buf_dts;   /* the first buffered frame's */
    uint64_t last_dts;  /* the newest frame's (buffered or not) */
    uint32_t last_dur;  /* the distance between the newest two */
    uint64_t file_frames;   /* on storage, this file */
    uint64_t written_dts;   /* the last frame on storage's */
    uint32_t written_dur;   /* and its distance to the one before (0: first) */
    unsigned seg_index;
    uint64_t video_frames, segments, dropped;
    int error;
    bool error_reported;
    bool closed;
    bool full;
    int64_t retry_us;
    int64_t last_pts_us;
};

static bool segmented(const qcam_ts_writer *w) { return w->cfg.segment_seconds > 0 || w->cfg.segment_bytes > 0; }

static int fail(qcam_ts_writer *w, int err)
{
    if (err == -ENOSPC && segmented(w)) return err;
    if (!w->error) {
        w->error = err;
        if (w->cfg.on_error) w->cfg.on_error(w->cfg.opaque, err, w->path);
        w->error_reported = w->cfg.errors_handled; /* an app's onError heard of it */
    }
    return w->error;
}

static int stopped_result(qcam_ts_writer *w) { return w->cfg.errors_handled ? 0 : w->error; }

/* ---- files ---------------------------------------------------------------- */

static int open_file(qcam_ts_writer *w)
{
    if (segmented(w)) {
        int r = qcam_mp4_expand_path(w->pattern, w->seg_index, (int64_t)time(NULL), w->path, sizeof w->path);
        if (r < 0) return r;
    } else {
        snprintf(w->path, sizeof w->path, "%s", w->pattern);
    }
    int fd = qcam_fs_open(w->card, w->path, QCAM_FS_WRITE); /* makes missing folders */
    if (fd < 0) return fd;
    w->fd = fd;
    w->started = false;
    w->file_len = 0;
    w->buf_len = 0;
    w->buf_frames = 0;
    w->file_frames = 0;
    w->written_dts = 0;
    w->written_dur = 0;
    w->last_dur = 0;
    qcam_ts_mux_init(&w->mux, w->cfg.video_codec);
    return 0;
}

/* The buffer to storage: one write and an fsync. A partial write is cut back. */
static int write_buffer(qcam_ts_writer *w)
{
    if (w->error) return w->error;
    if (w->fd < 0 || !w->buf_len) return 0;
    size_t done = 0;
    int r = qcam_fs_write_all(w->card, w->fd, w->buf, w->buf_len, (int64_t)w->file_len, &done);
    if (r < 0) {
        if (done) qcam_fs_truncate(w->card, w->fd, w->file_len);
        return fail(w, r);
    }
    r = qcam_fs_sync(w->fd);
    if (r < 0 && r != -EINVAL) return fail(w, r);
    w->file_len += w->buf_len;
    w->file_frames += w->buf_frames;
    w->video_frames += w->buf_frames;
    w->written_dts = w->last_dts;
    w->written_dur = w->last_dur;
    w->buf_len = 0;
    w->buf_frames = 0;
    return 0;
}

static void drop_buffer(qcam_ts_writer *w)
{
    w->dropped += w->buf_frames;
    w->buf_len = 0;
    w->buf_frames = 0;
}

static uint64_t file_size(qcam_ts_writer *w)
{
    qcam_fs_stat_info st;
    return qcam_fs_stat(w->card, w->path, &st) == 0 ? st.size : w->file_len;
}

/* Write the rest and close the file; one with nothing in it is removed.
 * `end` is where the next segment starts (its first frame's time in this
 * file's clock), or 0 for the last frame's time + the interval before it. */
static int finish_file(qcam_ts_writer *w, qcam_ts_segment_info *info, uint64_t end)
{
    if (info) {
        memset(info, 0, sizeof *info);
        snprintf(info->path, sizeof info->path, "%s", w->path);
        info->index = w->seg_index;
    }
    if (w->fd < 0) return 0;
    int r = w->error ? 0 : write_buffer(w);
    if (r < 0 || w->buf_frames) end = 0;
    if (r == -ENOSPC && segmented(w)) {
        drop_buffer(w);
        r = 0;
        if (info) info->full = true;
    }
    qcam_fs_close(w->fd);
    w->fd = -1;
    bool kept = w->file_len > 0;
    if (!kept) qcam_fs_remove(w->card, w->path);
    if (info && kept) {
        info->size = file_size(w);
        info->frames = w->file_frames;
        uint32_t d = w->written_dur ? w->written_dur : 3000;
        info->duration = (double)(end ? end : w->written_dts + d) / CLOCK;
    }
    if (kept) w->segments++;
    w->started = false;
    return r;
}

static int start_file(qcam_ts_writer *w, int64_t pts_us)
{
    if (w->fd < 0) {
        int r = open_file(w);
        if (r < 0) return fail(w, r);
    }
    w->origin_us = pts_us;
    w->started = true;
    w->full = false;
    return 0;
}

static bool segment_due(qcam_ts_writer *w, uint64_t dts)
{
    if (w->cfg.segment_seconds > 0 && (double)dts >= w->cfg.segment_seconds * CLOCK - 0.5) return true;
    return w->cfg.segment_bytes > 0 && w->file_len + w->buf_len >= w->cfg.segment_bytes;
}

static int next_segment(qcam_ts_writer *w, int64_t pts_us, uint64_t end)
{
    qcam_ts_segment_info info;
    int r = finish_file(w, &info, end);
    if (r < 0) return r;
    if (w->cfg.on_segment) w->cfg.on_segment(w->cfg.opaque, &info);
    w->seg_index++;
    r = open_file(w);
    if (r < 0) return fail(w, r);
    return start_file(w, pts_us);
}

static void card_full(qcam_ts_writer *w, int64_t pts_us)
{
    drop_buffer(w);
    w->full = true;
    w->retry_us = pts_us + 1000000;
    if (w->cfg.on_full) w->cfg.on_full(w->cfg.opaque, w->path);
    if (w->fd < 0) return;
    if (w->file_len == 0) {
        qcam_fs_close(w->fd);
        w->fd = -1;
        qcam_fs_remove(w->card, w->path);
        w->started = false;
        return;
    }
    qcam_ts_segment_info info;
    finish_file(w, &info, 0);
    info.full = true;
    if (w->cfg.on_segment) w->cfg.on_segment(w->cfg.opaque, &info);
    w->seg_index++;
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
    qcam_codec codec = w->cfg.video_codec;
    qcam_annexb_params inband;
    qcam_annexb_find_params(codec, pkt->data, pkt->size, &inband);
    *add = false;
    if (inband.sps && inband.pps && (codec == QCAM_CODEC_H264 || inband.vps))
        return set_params(w, inband.vps, inband.vps_len, inband.sps, inband.sps_len, inband.pps, inband.pps_len);
    if (!w->ps && w->encoder) {
        qcam_param_sets ps = {0};
        if (qcam_encoder_parameter_sets(w->encoder, &ps) == 0) {
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

static int write_video(qcam_ts_writer *w, qcam_packet *pkt)
{
    bool add = false;
    if (!w->started) {
        if (!pkt->keyframe || keyframe_params(w, pkt, &add) < 0) {
            w->dropped++;
            return 0;
        }
        int r = start_file(w, pkt->pts_us);
        if (r < 0) return r;
    } else if (pkt->keyframe) {
        int r = keyframe_params(w, pkt, &add);
        if (r == -ENOMEM) return fail(w, r);
    }
    bool first = w->file_len == 0 && w->buf_frames == 0;
    int64_t rel = pkt->pts_us - w->origin_us;
    uint64_t dts = rel <= 0 ? 0 : (uint64_t)((rel * (int64_t)CLOCK + 500000) / 1000000);
    if (!first && dts <= w->last_dts) dts = w->last_dts + 1;
    if (!first && pkt->keyframe && segmented(w) && segment_due(w, dts)) {
        int r = next_segment(w, pkt->pts_us, dts);
        if (r < 0) return r;
        dts = 0;
        first = true;
    } else if (w->buf_frames && dts - w->buf_dts >= CLOCK) {
        int r = write_buffer(w);
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

int qcam_ts_writer_write(qcam_ts_writer *w, qcam_packet *pkt)
{
    pthread_mutex_lock(&w->lock);
    bool video = pkt->codec == w->cfg.video_codec;
    int r = 0;
    if (w->closed) r = -EBADF;
    else if (w->error) r = stopped_result(w);
    else if (!video) r = -EINVAL;
    else if (w->full && pkt->pts_us < w->retry_us) w->dropped++;
    else {
        w->last_pts_us = pkt->pts_us;
        r = write_video(w, pkt);
        if (r == -ENOSPC && segmented(w)) {
            w->dropped++; /* the frame that met a full card is not kept */
            card_full(w, pkt->pts_us);
            r = 0;
        }
    }
    if (r < 0 && r != -EINVAL && r != -EBADF) r = stopped_result(w);
    pthread_mutex_unlock(&w->lock);
    return r;
}

int qcam_ts_writer_flush(qcam_ts_writer *w)
{
    pthread_mutex_lock(&w->lock);
    int r = w->closed ? -EBADF : w->error ? stopped_result(w) : write_buffer(w);
    if (r == -ENOSPC && segmented(w)) {
        card_full(w, w->last_pts_us);
        r = 0;
    }
    if (r < 0 && r != -EBADF) r = stopped_result(w);
    pthread_mutex_unlock(&w->lock);
    return r;
}

static int sink_write(qcam_sink *sink, qcam_packet *pkt) { return qcam_ts_writer_write(qcam_ts_writer_of(sink), pkt); }
static int sink_flush(qcam_sink *sink) { return qcam_ts_writer_flush(qcam_ts_writer_of(sink)); }

static const qcam_sink_ops ts_ops = {"ts", sink_write, sink_flush};

qcam_sink *qcam_ts_writer_sink(qcam_ts_writer *w) { return &w->base; }
qcam_ts_writer *qcam_ts_writer_of(qcam_sink *sink) { return (qcam_ts_writer *)sink; }

void qcam_ts_writer_stats_get(qcam_ts_writer *w, qcam_ts_writer_stats *out)
{
    pthread_mutex_lock(&w->lock);
    out->video_frames = w->video_frames;
    out->bytes = w->file_len;
    out->segments = w->segments;
    out->dropped = w->dropped;
    pthread_mutex_unlock(&w->lock);
}

void qcam_ts_writer_path(qcam_ts_writer *w, char *out, size_t n)
{
    pthread_mutex_lock(&w->lock);
    snprintf(out, n, "%s", w->path);
    pthread_mutex_unlock(&w->lock);
}

/* ---- lifetime ---------------------------------------------------------------------- */

static void writer_free(qcam_ts_writer *w)
{
    if (w->fd >= 0) qcam_fs_close(w->fd);
    free(w->buf);
    free(w->ps);
    if (w->encoder) qcam_encoder_close(w->encoder);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int qcam_ts_writer_open(qcam_fs_card *card, const qcam_ts_writer_config *cfg, qcam_ts_writer **out)
{
    *out = NULL;
    if (cfg->video_codec != QCAM_CODEC_H264 && cfg->video_codec != QCAM_CODEC_H265) return -EINVAL;
    if (!cfg->path || cfg->audio_codec) return -EINVAL;
    if (strlen(cfg->path) >= sizeof ((qcam_ts_writer *)0)->pattern) return -ENAMETOOLONG;
    qcam_ts_writer *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    pthread_mutex_init(&w->lock, NULL);
    w->base.ops = &ts_ops;
    w->cfg = *cfg;
    w->fd = -1;
    snprintf(w->pattern, sizeof w->pattern, "%s", cfg->path);
    w->cfg.path = w->pattern;
    int r = 0;
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
    if (r == 0 && cfg->encoder) w->encoder = qcam_encoder_ref(cfg->encoder);
    w->cfg.vps = w->cfg.sps = w->cfg.pps = NULL;
    w->cfg.encoder = NULL;
    w->card = card;
    if (r == 0) r = open_file(w);
    if (r < 0) {
        writer_free(w);
        return r;
    }
    *out = w;
    return 0;
}

int qcam_ts_writer_close(qcam_ts_writer *w, qcam_ts_segment_info *last)
{
    if (!w) return 0;
    pthread_mutex_lock(&w->lock);
    int before = w->error;
    qcam_ts_segment_info info;
    int r = finish_file(w, &info, 0);
    if (last) *last = info;
    bool unheard = r < 0 && before == 0 && !w->error_reported;
    w->closed = true;
    pthread_mutex_unlock(&w->lock);
    qcam_fs_card *card = w->card;
    writer_free(w);
    qcam_fs_card_close(card);
    return unheard ? r : 0;
}
