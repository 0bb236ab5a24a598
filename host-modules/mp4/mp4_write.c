/* The MP4 writer (mp4_write.h).
 *
 * A file is ftyp + moov (tracks with empty sample tables, mvex) written at
 * the first keyframe, then one moof+mdat per fragment. Samples collect in
 * per-track buffers until a fragment is cut; the fragment then goes out as
 * one write and is fsync'ed, and its samples join the file's index (for
 * finalize). A video sample's duration is the distance to the next one's
 * decode time, so the newest video sample is held back until the next
 * arrives (the last one of a file takes its predecessor's duration).
 *
 * Decode times count from the file's origin: the pts of its first video
 * keyframe (the first audio frame's without video). Video runs at 90 kHz,
 * audio at its sample rate, starting where its first frame's pts puts it. */
#include "mp4_write.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../video/annexb.h"
#include "../video/sps.h"
#include "../media/segmenter.h"
#include "mp4_box.h"

#define VIDEO_TIMESCALE 90000u
#define FLAGS_SYNC 0x02000000u     /* sample_depends_on = 2 (no other) */
#define FLAGS_NON_SYNC 0x01010000u /* depends on others, non-sync */

#define EARLY_AUDIO 64

typedef struct {
    uint32_t size, duration;
    bool key;
} frag_sample;

typedef struct {
    bool on;
    bool video;
    qcam_mp4_track *t;         /* in the file's index */
    qcam_mp4_buf data;         /* sample bytes of the fragment in progress */
    frag_sample *fs;           /* its samples */
    size_t n_fs, cap_fs;
    uint64_t frag_dts;         /* decode time of the fragment's first sample */
    uint64_t next_dts;         /* video: the held-back sample's; audio: after the last */
    bool pending;              /* video: the last sample's duration is not known yet */
    bool provisional;          /* video: the last sample went out with a guessed duration */
    bool started;              /* has a sample in this file */
    uint32_t last_dur;
    uint64_t written;          /* samples in complete fragments, all files */
} wtrack;

struct qcam_mp4_writer {
    qcam_segmenter seg; /* first (the link sees its qcam_sink): files, errors, a full card, the mutex (media/segmenter.h) */
    uint8_t *params[3]; /* vps, sps, pps given in the config */
    size_t params_len[3];
    uint8_t *config;    /* avcC / hvcC once known */
    size_t config_len;
    int width, height;
    size_t mehd_at;     /* where the mehd's fragment_duration is in the file */
    uint32_t seq;       /* moof sequence number */
    qcam_mp4_index idx;
    wtrack tracks[2];   /* [0] video, [1] audio */
    qcam_mp4_buf out;   /* the fragment being assembled */
    uint64_t fragments;
    qcam_packet *early[EARLY_AUDIO]; /* audio that came before the first keyframe */
    unsigned n_early;
};

static qcam_mp4_writer *writer_of(qcam_segmenter *s) { return (qcam_mp4_writer *)((char *)s - offsetof(qcam_mp4_writer, seg)); }

/* ---- errors --------------------------------------------------------------- */

static bool segmented(const qcam_mp4_writer *w) { return qcam_segmenter_segmented(&w->seg); }
static int fail(qcam_mp4_writer *w, int err) { return qcam_segmenter_fail(&w->seg, err); }

/* ---- files ------------------------------------------------------------------ */

/* A new file: an empty index, no fragments (the segmenter's reset op). */
static void reset_file_state(qcam_segmenter *s)
{
    qcam_mp4_writer *w = writer_of(s);
    qcam_mp4_index_clear(&w->idx);
    w->idx.movie_timescale = 1000;
    w->seq = 0;
    w->fragments = 0;
    unsigned n = 0;
    for (int i = 0; i < 2; i++) {
        wtrack *k = &w->tracks[i];
        k->data.len = 0;
        k->n_fs = 0;
        k->frag_dts = k->next_dts = 0;
        k->pending = k->provisional = k->started = false;
        k->last_dur = 0;
        k->t = NULL;
        if (!k->on) continue;
        qcam_mp4_track *t = &w->idx.tracks[n];
        t->id = n + 1;
        if (k->video) {
            t->codec = w->seg.cfg.video_codec == QCAM_CODEC_H264 ? QCAM_MP4_AVC : QCAM_MP4_HEVC;
            t->timescale = VIDEO_TIMESCALE;
            t->width = w->seg.cfg.width;
            t->height = w->seg.cfg.height;
        } else {
            t->codec = w->seg.cfg.audio_codec == QCAM_CODEC_ALAW ? QCAM_MP4_ALAW : QCAM_MP4_ULAW;
            t->timescale = w->seg.cfg.sample_rate;
            t->sample_rate = w->seg.cfg.sample_rate;
            t->channels = w->seg.cfg.channels ? w->seg.cfg.channels : 1;
        }
        k->t = t;
        n++;
    }
    w->idx.n_tracks = n;
}

static int write_out(qcam_mp4_writer *w, const void *p, size_t len)
{
    size_t done = 0;
    int r = qcam_fs_write_all(w->seg.card, w->seg.fd, p, len, (int64_t)w->seg.file_len, &done);
    if (r < 0) {
        /* cut back to the last complete fragment: the file stays playable */
        if (done) qcam_fs_truncate(w->seg.card, w->seg.fd, w->seg.file_len);
        return r;
    }
    w->seg.file_len += len;
    r = qcam_fs_sync(w->seg.fd);
    return r == -EINVAL ? 0 : r;
}

/* ftyp + moov with mvex: written when the file's first keyframe comes. */
static int write_init(qcam_mp4_writer *w)
{
    qcam_mp4_buf *b = &w->out;
    b->len = 0;
    qcam_mp4_write_ftyp(b, &w->idx);
    size_t moov = qcam_mp4_box(b, "moov");
    qcam_mp4_write_mvhd(b, &w->idx, 0);
    for (unsigned i = 0; i < w->idx.n_tracks; i++)
        qcam_mp4_write_trak(b, &w->idx, &w->idx.tracks[i], NULL, 0, 0);
    size_t mvex = qcam_mp4_box(b, "mvex");
    /* the recording's length, filled in when a file is closed fragmented */
    size_t mehd = qcam_mp4_full_box(b, "mehd", 1, 0);
    w->mehd_at = b->len;
    qcam_mp4_put64(b, 0);
    qcam_mp4_box_end(b, mehd);
    for (unsigned i = 0; i < w->idx.n_tracks; i++) {
        size_t at = qcam_mp4_full_box(b, "trex", 0, 0);
        qcam_mp4_put32(b, w->idx.tracks[i].id);
        qcam_mp4_put32(b, 1); /* sample description */
        qcam_mp4_put32(b, 0);
        qcam_mp4_put32(b, 0);
        qcam_mp4_put32(b, 0);
        qcam_mp4_box_end(b, at);
    }
    qcam_mp4_box_end(b, mvex);
    qcam_mp4_box_end(b, moov);
    if (b->oom) {
        qcam_mp4_buf_free(b);
        return -ENOMEM;
    }
    return write_out(w, b->p, b->len);
}

/* ---- fragments ----------------------------------------------------------------- */

static int push_frag_sample(wtrack *k, uint32_t size, bool key)
{
    frag_sample *p = qcam_mp4_grow(k->fs, &k->cap_fs, k->n_fs + 1, sizeof *p, 64);
    if (!p) return -ENOMEM;
    k->fs = p;
    k->fs[k->n_fs++] = (frag_sample){size, 0, key};
    return 0;
}

/* Write the fragment in progress. The held-back video sample goes with it
 * when `with_pending` (taking its predecessor's duration for now). */
static int emit_fragment(qcam_mp4_writer *w, bool with_pending)
{
    if (w->seg.error) return w->seg.error;
    if (!w->seg.started) return 0;
    size_t n[2] = {0, 0};
    size_t bytes[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        wtrack *k = &w->tracks[i];
        if (!k->on) continue;
        n[i] = k->n_fs;
        if (k->pending && n[i] > 0) {
            if (with_pending) k->fs[n[i] - 1].duration = k->last_dur ? k->last_dur : 3000;
            else n[i]--;
        }
        for (size_t s = 0; s < n[i]; s++) bytes[i] += k->fs[s].size;
    }
    if (n[0] == 0 && n[1] == 0) return 0;

    qcam_mp4_buf *b = &w->out;
    b->len = 0;
    size_t moof = qcam_mp4_box(b, "moof");
    size_t at = qcam_mp4_full_box(b, "mfhd", 0, 0);
    qcam_mp4_put32(b, ++w->seq);
    qcam_mp4_box_end(b, at);
    size_t data_off_at[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        wtrack *k = &w->tracks[i];
        if (!n[i]) continue;
        size_t traf = qcam_mp4_box(b, "traf");
        at = qcam_mp4_full_box(b, "tfhd", 0, k->video ? 0x020000 : 0x020020);
        qcam_mp4_put32(b, k->t->id);
        if (!k->video) qcam_mp4_put32(b, FLAGS_SYNC);
        qcam_mp4_box_end(b, at);
        at = qcam_mp4_full_box(b, "tfdt", 1, 0);
        qcam_mp4_put64(b, k->frag_dts);
        qcam_mp4_box_end(b, at);
        at = qcam_mp4_full_box(b, "trun", 0, k->video ? 0x000701 : 0x000301);
        qcam_mp4_put32(b, (uint32_t)n[i]);
        data_off_at[i] = b->len;
        qcam_mp4_put32(b, 0);
        if (qcam_mp4_buf_reserve(b, n[i] * 12))
            for (size_t s = 0; s < n[i]; s++) {
                qcam_mp4_put32(b, k->fs[s].duration);
                qcam_mp4_put32(b, k->fs[s].size);
                if (k->video) qcam_mp4_put32(b, k->fs[s].key ? FLAGS_SYNC : FLAGS_NON_SYNC);
            }
        qcam_mp4_box_end(b, at);
        qcam_mp4_box_end(b, traf);
    }
    qcam_mp4_box_end(b, moof);
    size_t moof_len = b->len;
    uint64_t mdat_len = 8 + (uint64_t)bytes[0] + bytes[1];
    if (mdat_len > UINT32_MAX) return fail(w, -EFBIG);
    qcam_mp4_put32(b, (uint32_t)mdat_len);
    qcam_mp4_put_fourcc(b, "mdat");
    uint64_t off[2];
    off[0] = moof_len + 8;
    off[1] = off[0] + bytes[0];
    for (int i = 0; i < 2; i++) {
        if (!n[i]) continue;
        qcam_mp4_patch32(b, data_off_at[i], (uint32_t)off[i]);
        qcam_mp4_put_bytes(b, w->tracks[i].data.p, bytes[i]);
    }
    if (b->oom) {
        qcam_mp4_buf_free(b);
        return fail(w, -ENOMEM);
    }
    uint64_t base = w->seg.file_len;
    int r = write_out(w, b->p, b->len);
    if (r < 0) return fail(w, r);
    w->fragments++;

    /* the index, for finalize */
    for (int i = 0; i < 2; i++) {
        wtrack *k = &w->tracks[i];
        if (!n[i]) continue;
        uint64_t o = base + off[i];
        if (k->t->n_samples == 0) k->t->base_dts = k->frag_dts;
        for (size_t s = 0; s < n[i]; s++) {
            qcam_mp4_sample smp = {o, k->fs[s].size, k->fs[s].duration, 0, k->fs[s].key};
            if (qcam_mp4_track_push(k->t, &smp) < 0) return fail(w, -ENOMEM);
            o += k->fs[s].size;
            k->frag_dts += k->fs[s].duration;
        }
        k->written += n[i];
        /* what stays: the held-back sample */
        size_t rest = k->n_fs - n[i];
        if (rest) {
            memmove(k->data.p, k->data.p + bytes[i], k->data.len - bytes[i]);
            memmove(k->fs, k->fs + n[i], rest * sizeof *k->fs);
        }
        k->data.len -= bytes[i];
        k->n_fs = rest;
        if (k->pending && with_pending) {
            k->pending = false;
            k->provisional = true;
        }
    }
    return 0;
}

/* ---- finishing a file ------------------------------------------------------------ */

/* A file kept fragmented: its mehd gets the movie's duration (players show
 * it without reading every fragment). One 8-byte write in place. */
static void patch_duration(qcam_mp4_writer *w)
{
    uint64_t dur = 0;
    for (unsigned i = 0; i < w->idx.n_tracks; i++) {
        const qcam_mp4_track *t = &w->idx.tracks[i];
        uint64_t d = qcam_mp4_movie_units(&w->idx, t, t->base_dts + qcam_mp4_track_duration(t));
        if (d > dur) dur = d;
    }
    uint8_t be[8];
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)(dur >> (56 - 8 * i));
    int fd = qcam_fs_open(w->seg.card, w->seg.path, QCAM_FS_READ_WRITE);
    if (fd < 0) return;
    size_t done;
    if (qcam_fs_write_all(w->seg.card, fd, be, sizeof be, (int64_t)w->mehd_at, &done) == 0) qcam_fs_sync(fd);
    qcam_fs_close(fd);
}

/* Forget the samples of the fragment in progress (a full card). */
static void drop_fragment(qcam_segmenter *s)
{
    qcam_mp4_writer *w = writer_of(s);
    for (int i = 0; i < 2; i++) {
        wtrack *k = &w->tracks[i];
        if (k->video) w->seg.dropped += k->n_fs;
        k->data.len = 0;
        k->n_fs = 0;
        k->pending = false;
    }
}

/* A file is kept once it has its origin (and init segment); it has media on
 * the card once a fragment went out. */
static bool started(qcam_segmenter *s) { return s->started; }
static bool has_fragments(qcam_segmenter *s) { return writer_of(s)->fragments > 0; }

/* The closed file: finalize it (or give its mehd the duration) and describe
 * it. */
static int finished(qcam_segmenter *s, qcam_mp4_segment_info *info, uint64_t end, bool kept)
{
    (void)end; /* a file's duration is its main track's */
    qcam_mp4_writer *w = writer_of(s);
    int r = 0;
    if (!kept) {
        /* nothing was recorded: no file to keep (removed) */
    } else if (s->cfg.finalize && w->fragments > 0) {
        int f = qcam_mp4_finalize(s->card, s->path, &w->idx);
        if (f < 0) {
            /* it stays fragmented (and playable); segments on a full card
             * carry on, repair finalizes it later */
            if (!s->error && !(f == -ENOSPC && segmented(w))) r = fail(w, f);
            patch_duration(w);
        }
    } else if (w->fragments > 0) {
        patch_duration(w);
    }
    if (info) {
        info->size = kept ? qcam_segmenter_file_size(s) : 0;
        wtrack *main = w->tracks[0].on ? &w->tracks[0] : &w->tracks[1];
        if (main->t && main->t->timescale)
            info->duration = (double)qcam_mp4_track_duration(main->t) / main->t->timescale;
        info->frames = w->tracks[0].t ? w->tracks[0].t->n_samples : 0;
    }
    return r;
}

/* ---- samples ----------------------------------------------------------------------- */

static int set_config(qcam_mp4_writer *w, const qcam_packet *pkt)
{
    qcam_codec codec = w->seg.cfg.video_codec;
    const uint8_t *p[3] = {w->params[0], w->params[1], w->params[2]};
    size_t l[3] = {w->params_len[0], w->params_len[1], w->params_len[2]};
    qcam_annexb_params inband;
    qcam_param_sets enc_ps = {0};
    if (!p[1]) {
        qcam_annexb_find_params(codec, pkt->data, pkt->size, &inband);
        if (inband.sps && inband.pps && (codec == QCAM_CODEC_H264 || inband.vps)) {
            p[0] = inband.vps, l[0] = inband.vps_len;
            p[1] = inband.sps, l[1] = inband.sps_len;
            p[2] = inband.pps, l[2] = inband.pps_len;
        } else if (w->seg.encoder && qcam_encoder_parameter_sets(w->seg.encoder, &enc_ps) == 0) {
            if (enc_ps.vps) p[0] = enc_ps.vps->data, l[0] = enc_ps.vps->size;
            p[1] = enc_ps.sps->data, l[1] = enc_ps.sps->size;
            p[2] = enc_ps.pps->data, l[2] = enc_ps.pps->size;
        }
    }
    uint8_t *cfg = NULL;
    size_t cfg_len = 0;
    qcam_sps_info si;
    int r = p[1] ? qcam_sps_make_config(codec, p[0], l[0], p[1], l[1], p[2], l[2], &cfg, &cfg_len, &si) : -EINVAL;
    qcam_param_sets_release(&enc_ps);
    if (r < 0) return r;
    free(w->config);
    w->config = cfg;
    w->config_len = cfg_len;
    w->width = si.width;
    w->height = si.height;
    return 0;
}

/* The file's origin (the first keyframe, or audio frame without video):
 * the video track's configuration and the init segment. */
static int begin_file(qcam_segmenter *s)
{
    qcam_mp4_writer *w = writer_of(s);
    w->idx.creation_time = (uint64_t)time(NULL) + 2082844800u; /* since 1904 */
    if (w->tracks[0].on) {
        qcam_mp4_track *t = w->tracks[0].t;
        t->config = malloc(w->config_len);
        if (!t->config) return fail(w, -ENOMEM);
        memcpy(t->config, w->config, w->config_len);
        t->config_len = w->config_len;
        t->width = w->width;
        t->height = w->height;
    }
    s->started = true; /* before the write: an init segment that did not fit ends a started file */
    int r = write_init(w);
    return r < 0 ? fail(w, r) : 0;
}

static bool segment_due(qcam_mp4_writer *w, const wtrack *k, uint64_t dts)
{
    return qcam_segmenter_due(&w->seg, dts, k->t->timescale, w->tracks[0].data.len + w->tracks[1].data.len);
}

/* The next 00 00 01 at or after p, or end. memchr finds the zero bytes (rare
 * in slice data), so this runs at memory speed rather than byte by byte. */
static const uint8_t *find_start_code(const uint8_t *p, const uint8_t *end)
{
    while (end - p >= 3) {
        const uint8_t *z = memchr(p, 0, (size_t)(end - p - 2));
        if (!z) return end;
        if (z[1] != 0) p = z + 2;
        else if (z[2] == 1) return z;
        else p = z[2] == 0 ? z + 1 : z + 3;
    }
    return end;
}

/* Annex B → 4-byte length-prefixed NAL units, without the parameter sets and
 * access unit delimiters (they live in the sample entry). */
static int append_video(qcam_mp4_writer *w, wtrack *k, const qcam_packet *pkt, uint32_t *size)
{
    bool h264 = w->seg.cfg.video_codec == QCAM_CODEC_H264;
    size_t before = k->data.len;
    const uint8_t *end = pkt->data + pkt->size;
    /* every NAL gains at most one byte (a 3-byte start code becomes a 4-byte length) */
    if (!qcam_mp4_buf_reserve(&k->data, pkt->size + pkt->size / 3 + 8)) return -ENOMEM;
    const uint8_t *sc = find_start_code(pkt->data, end);
    while (sc < end) {
        const uint8_t *nal = sc + 3;
        const uint8_t *next = find_start_code(nal, end);
        const uint8_t *stop = next;
        while (stop > nal && stop[-1] == 0) stop--; /* trailing_zero_8bits, a 4-byte code's zero_byte */
        size_t n = (size_t)(stop - nal);
        sc = next;
        if (n == 0) continue;
        int t = h264 ? (nal[0] & 0x1f) : ((nal[0] >> 1) & 0x3f);
        if (h264 ? (t == 7 || t == 8 || t == 9 || t == 13) : (t >= 32 && t <= 35)) continue;
        uint8_t *o = k->data.p + k->data.len;
        o[0] = (uint8_t)(n >> 24);
        o[1] = (uint8_t)(n >> 16);
        o[2] = (uint8_t)(n >> 8);
        o[3] = (uint8_t)n;
        memcpy(o + 4, nal, n);
        k->data.len += 4 + n;
    }
    *size = (uint32_t)(k->data.len - before);
    return 0;
}

static int write_audio(qcam_mp4_writer *w, qcam_packet *pkt);
static void drop_early(qcam_mp4_writer *w);

static int write_video(qcam_mp4_writer *w, qcam_packet *pkt)
{
    wtrack *k = &w->tracks[0];
    if (!w->seg.started || !k->started) {
        if (!pkt->keyframe || set_config(w, pkt) < 0) {
            w->seg.dropped++;
            return 0;
        }
        if (!w->seg.started) {
            int r = qcam_segmenter_start(&w->seg, pkt->pts_us);
            for (unsigned i = 0; i < w->n_early && r == 0; i++) r = write_audio(w, w->early[i]);
            drop_early(w);
            if (r < 0) return r;
        }
    }
    int64_t rel = pkt->pts_us - w->seg.origin_us;
    uint64_t dts = rel <= 0 ? 0 : (uint64_t)((rel * (int64_t)VIDEO_TIMESCALE + 500000) / 1000000);
    if (k->started && dts <= k->next_dts) dts = k->next_dts + 1;
    if (k->pending) {
        uint32_t d = (uint32_t)(dts - k->next_dts);
        k->fs[k->n_fs - 1].duration = d;
        k->last_dur = d;
        k->pending = false;
    } else if (k->provisional) {
        /* the previous sample went out with a guessed duration: the index
         * (and so the finalized file) gets the real one */
        uint32_t d = (uint32_t)(dts - k->next_dts);
        if (k->t->n_samples) k->t->samples[k->t->n_samples - 1].duration = d;
        k->last_dur = d;
        k->frag_dts = dts;
        k->provisional = false;
    }
    if (pkt->keyframe && k->started && segmented(w) && segment_due(w, k, dts)) {
        int r = qcam_segmenter_next(&w->seg, pkt->pts_us, 0);
        if (r < 0) return r;
        dts = 0;
    } else if (k->n_fs > 0) {
        uint64_t limit = (uint64_t)w->seg.cfg.fragment_ms * (VIDEO_TIMESCALE / 1000);
        uint64_t elapsed = dts - k->frag_dts;
        if (elapsed >= limit || (pkt->keyframe && elapsed + k->last_dur / 2 >= limit)) {
            int r = emit_fragment(w, false);
            if (r < 0) return r;
        }
    }
    uint32_t size;
    int r = append_video(w, k, pkt, &size);
    if (r < 0) return fail(w, r);
    if (push_frag_sample(k, size, pkt->keyframe) < 0) return fail(w, -ENOMEM);
    if (k->n_fs == 1) k->frag_dts = dts;
    k->next_dts = dts;
    k->pending = true;
    k->started = true;
    return 0;
}

static void drop_early(qcam_mp4_writer *w)
{
    for (unsigned i = 0; i < w->n_early; i++) qcam_packet_unref(w->early[i]);
    w->n_early = 0;
}

static int write_audio(qcam_mp4_writer *w, qcam_packet *pkt)
{
    wtrack *k = &w->tracks[1];
    if (!w->seg.started) {
        if (w->tracks[0].on) {
            /* audio waits for the first video keyframe: keep the newest few
             * (those at or after the keyframe's pts go in then) */
            if (w->n_early == EARLY_AUDIO) {
                qcam_packet_unref(w->early[0]);
                memmove(w->early, w->early + 1, (EARLY_AUDIO - 1) * sizeof *w->early);
                w->n_early--;
            }
            w->early[w->n_early++] = qcam_packet_ref(pkt);
            return 0;
        }
        int r = qcam_segmenter_start(&w->seg, pkt->pts_us);
        if (r < 0) return r;
    }
    uint32_t rate = w->seg.cfg.sample_rate;
    uint16_t ch = w->seg.cfg.channels ? w->seg.cfg.channels : 1;
    uint32_t n = pkt->samples ? pkt->samples : (uint32_t)(pkt->size / ch);
    if (n == 0 || pkt->size != (size_t)n * ch) return 0;
    int64_t rel = pkt->pts_us - w->seg.origin_us;
    if (!k->started) {
        if (rel < 0) return 0; /* before the file's origin */
        k->next_dts = (uint64_t)((rel * (int64_t)rate + 500000) / 1000000);
    }
    bool video = w->tracks[0].on;
    if (!video && k->started && segmented(w) && segment_due(w, k, k->next_dts)) {
        int r = qcam_segmenter_next(&w->seg, pkt->pts_us, 0);
        if (r < 0) return r;
        k->next_dts = 0;
    } else if (k->n_fs > 0) {
        /* fragments follow the video; alone (or with video stalled) audio cuts its own */
        uint64_t limit = (uint64_t)w->seg.cfg.fragment_ms * rate / 1000;
        if (video) limit *= 2;
        if (k->next_dts - k->frag_dts >= limit) {
            int r = emit_fragment(w, false);
            if (r < 0) return r;
        }
    }
    if (!qcam_mp4_buf_reserve(&k->data, pkt->size)) return fail(w, -ENOMEM);
    qcam_mp4_put_bytes(&k->data, pkt->data, pkt->size);
    if (push_frag_sample(k, (uint32_t)pkt->size, true) < 0) return fail(w, -ENOMEM);
    k->fs[k->n_fs - 1].duration = n;
    if (k->n_fs == 1) k->frag_dts = k->next_dts;
    k->next_dts += n;
    k->started = true;
    return 0;
}

/* ---- the sink ------------------------------------------------------------------------ */

static int track_of(qcam_segmenter *s, const qcam_packet *pkt)
{
    qcam_mp4_writer *w = writer_of(s);
    if (pkt->codec == s->cfg.video_codec && w->tracks[0].on) return 1;
    return pkt->codec == s->cfg.audio_codec && w->tracks[1].on ? 2 : 0;
}

static int write_packet(qcam_segmenter *s, qcam_packet *pkt, bool video)
{
    qcam_mp4_writer *w = writer_of(s);
    return video ? write_video(w, pkt) : write_audio(w, pkt);
}

/* Out with the fragment in progress, the held-back video sample too. */
static int emit_all(qcam_segmenter *s) { return emit_fragment(writer_of(s), true); }

static void writer_free(qcam_segmenter *s);

static const qcam_segmenter_ops seg_ops = {
    .track = track_of,
    .write = write_packet,
    .emit = emit_all,
    .drop = drop_fragment,
    .reset = reset_file_state,
    .begin = begin_file,
    .has_media = has_fragments,
    .kept = started,
    .finished = finished,
    .free = writer_free,
};

int qcam_mp4_writer_write(qcam_mp4_writer *w, qcam_packet *pkt) { return qcam_segmenter_write(&w->seg, pkt); }
int qcam_mp4_writer_flush(qcam_mp4_writer *w) { return qcam_segmenter_flush(&w->seg); }

static const qcam_sink_ops mp4_ops = {"mp4", qcam_segmenter_sink_write, qcam_segmenter_sink_flush};

qcam_sink *qcam_mp4_writer_sink(qcam_mp4_writer *w) { return &w->seg.sink; }
qcam_mp4_writer *qcam_mp4_writer_of(qcam_sink *sink) { return (qcam_mp4_writer *)sink; }

void qcam_mp4_writer_stats_get(qcam_mp4_writer *w, qcam_mp4_writer_stats *out)
{
    pthread_mutex_lock(&w->seg.lock);
    out->video_frames = w->tracks[0].written;
    out->audio_frames = w->tracks[1].written;
    out->fragments = w->fragments;
    out->bytes = w->seg.file_len;
    out->segments = w->seg.segments;
    out->dropped = w->seg.dropped;
    pthread_mutex_unlock(&w->seg.lock);
}

void qcam_mp4_writer_path(qcam_mp4_writer *w, char *out, size_t n) { qcam_segmenter_path(&w->seg, out, n); }

int qcam_mp4_writer_error(qcam_mp4_writer *w)
{
    pthread_mutex_lock(&w->seg.lock);
    int e = w->seg.error;
    pthread_mutex_unlock(&w->seg.lock);
    return e;
}

/* ---- lifetime --------------------------------------------------------------------------- */

static void writer_free(qcam_segmenter *s)
{
    qcam_mp4_writer *w = writer_of(s);
    qcam_segmenter_release(&w->seg);
    drop_early(w);
    for (int i = 0; i < 2; i++) {
        qcam_mp4_buf_free(&w->tracks[i].data);
        free(w->tracks[i].fs);
    }
    for (int i = 0; i < 3; i++) free(w->params[i]);
    qcam_mp4_buf_free(&w->out);
    qcam_mp4_index_clear(&w->idx);
    free(w->config);
    free(w);
}

int qcam_mp4_writer_open(qcam_fs_card *card, const qcam_mp4_writer_config *cfg, qcam_mp4_writer **out)
{
    *out = NULL;
    bool video = cfg->video_codec == QCAM_CODEC_H264 || cfg->video_codec == QCAM_CODEC_H265;
    bool audio = QCAM_CODEC_IS_AUDIO(cfg->audio_codec);
    if ((!video && cfg->video_codec) || (!audio && cfg->audio_codec) || (!video && !audio)) return -EINVAL;
    if (audio && (cfg->sample_rate == 0 || cfg->channels > 8)) return -EINVAL;
    if (cfg->fragment_ms < 100 || cfg->fragment_ms > 10000 || !cfg->path) return -EINVAL;
    qcam_mp4_writer *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    int r = qcam_segmenter_init(&w->seg, &seg_ops, cfg);
    if (r < 0) {
        free(w);
        return r;
    }
    w->seg.sink.ops = &mp4_ops;
    w->tracks[0].on = video;
    w->tracks[0].video = true;
    w->tracks[1].on = audio;
    const uint8_t *p[3] = {cfg->vps, cfg->sps, cfg->pps};
    size_t l[3] = {cfg->vps_len, cfg->sps_len, cfg->pps_len};
    for (int i = 0; i < 3 && video; i++) {
        if (!p[i] || !l[i]) continue;
        w->params[i] = malloc(l[i]);
        if (!w->params[i]) r = -ENOMEM;
        else memcpy(w->params[i], p[i], l[i]);
        w->params_len[i] = l[i];
    }
    if (r == 0 && video && w->params[1]) {
        /* given parameter sets must make a configuration record */
        qcam_packet none = {0};
        none.codec = cfg->video_codec;
        r = set_config(w, &none);
        if (r < 0) r = -EINVAL;
    }
    r = qcam_segmenter_open_first(&w->seg, cfg, card, r);
    if (r == 0) *out = w;
    return r;
}

int qcam_mp4_writer_close(qcam_mp4_writer *w, qcam_mp4_segment_info *last)
{
    return w ? qcam_segmenter_close(&w->seg, last) : 0;
}
