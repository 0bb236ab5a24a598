/* The recording writers' segmenting core (segmenter.h). */
#include "segmenter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


/* ---- errors ------------------------------------------------------------------ */

bool qcam_segmenter_segmented(const qcam_segmenter *s) { return s->cfg.segment_seconds > 0 || s->cfg.segment_bytes > 0; }

/* The first error stops the writer; a full card does not stop a segmented
 * one (card_full() answers it). */
int qcam_segmenter_fail(qcam_segmenter *s, int err)
{
    if (err == -ENOSPC && qcam_segmenter_segmented(s)) return err;
    if (!s->error) {
        s->error = err;
        if (s->cfg.on_error) s->cfg.on_error(s->cfg.opaque, err, s->path);
        s->error_reported = s->cfg.errors_handled; /* the app heard of it: close() need not say it again */
    }
    return s->error;
}

int qcam_segmenter_stopped(const qcam_segmenter *s) { return s->cfg.errors_handled ? 0 : s->error; }

/* ---- files ------------------------------------------------------------------- */

static int open_file(qcam_segmenter *s)
{
    if (qcam_segmenter_segmented(s)) {
        int r = qcam_segment_expand_path(s->pattern, s->seg_index, (int64_t)time(NULL), s->path, sizeof s->path);
        if (r < 0) return r;
    } else {
        snprintf(s->path, sizeof s->path, "%s", s->pattern);
    }
    /* a writer's open makes missing folders (a pattern may name a new one
     * per day); what cannot be made shows in its error */
    int fd = qcam_fs_open(s->card, s->path, QCAM_FS_WRITE);
    if (fd < 0) return fd;
    s->fd = fd;
    s->started = false;
    s->file_len = 0;
    s->ops->reset(s);
    return 0;
}

uint64_t qcam_segmenter_file_size(qcam_segmenter *s)
{
    qcam_fs_stat_info st;
    return qcam_fs_stat(s->card, s->path, &st) == 0 ? st.size : s->file_len;
}

/* Write the rest and close the file; one not worth keeping is removed.
 * Without an open file (a next segment that could not be created) there is
 * nothing to finish. */
static int finish_file(qcam_segmenter *s, qcam_segment_info *info, uint64_t end)
{
    if (info) {
        memset(info, 0, sizeof *info);
        snprintf(info->path, sizeof info->path, "%s", s->path);
        info->index = s->seg_index;
    }
    if (s->fd < 0) return 0;
    int r = s->error ? 0 : s->ops->emit(s);
    if (r < 0) end = 0; /* the next file's start is where the last write ended: not known */
    if (r == -ENOSPC && qcam_segmenter_segmented(s)) {
        /* what is buffered did not fit: the file ends before it */
        s->ops->drop(s);
        r = 0;
        if (info) info->full = true;
    }
    qcam_fs_close(s->fd);
    s->fd = -1;
    bool kept = s->ops->kept(s);
    if (!kept) qcam_fs_remove(s->card, s->path);
    int f = s->ops->finished(s, info, end, kept);
    if (f < 0) r = f;
    if (kept) s->segments++;
    s->started = false;
    return r;
}

/* The file's origin: the first keyframe (or audio frame without video). */
int qcam_segmenter_start(qcam_segmenter *s, int64_t pts_us)
{
    if (s->fd < 0) {
        int r = open_file(s);
        if (r < 0) return qcam_segmenter_fail(s, r);
    }
    s->origin_us = pts_us;
    if (s->ops->begin) {
        int r = s->ops->begin(s);
        if (r < 0) return r;
    }
    s->started = true;
    s->full = false;
    return 0;
}

bool qcam_segmenter_due(const qcam_segmenter *s, uint64_t t, uint32_t timescale, uint64_t buffered)
{
    if (s->cfg.segment_seconds > 0 && (double)t >= s->cfg.segment_seconds * timescale - 0.5) return true;
    return s->cfg.segment_bytes > 0 && s->file_len + buffered >= s->cfg.segment_bytes;
}

int qcam_segmenter_next(qcam_segmenter *s, int64_t pts_us, uint64_t end)
{
    qcam_segment_info info;
    int r = finish_file(s, &info, end);
    if (r < 0) return r;
    if (s->cfg.on_segment) s->cfg.on_segment(s->cfg.opaque, &info);
    s->seg_index++;
    r = open_file(s);
    if (r < 0) return qcam_segmenter_fail(s, r);
    return qcam_segmenter_start(s, pts_us);
}

/* Segments on a full card (segmenter.h): tell on_full, end this file at its
 * last complete write and wait for room from `pts_us` + 1 s on. A file
 * without media on the card is removed, not reported. */
static void card_full(qcam_segmenter *s, int64_t pts_us)
{
    s->ops->drop(s);
    s->full = true;
    s->retry_us = pts_us + 1000000;
    if (s->cfg.on_full) s->cfg.on_full(s->cfg.opaque, s->path);
    if (s->fd < 0) return;
    if (!s->ops->has_media(s)) {
        qcam_fs_close(s->fd);
        s->fd = -1;
        qcam_fs_remove(s->card, s->path);
        s->started = false;
        return;
    }
    qcam_segment_info info;
    finish_file(s, &info, 0);
    info.full = true;
    if (s->cfg.on_segment) s->cfg.on_segment(s->cfg.opaque, &info);
    s->seg_index++;
}

/* ---- entry points -------------------------------------------------------------- */

int qcam_segmenter_write(qcam_segmenter *s, qcam_packet *pkt)
{
    pthread_mutex_lock(&s->lock);
    int track = s->ops->track(s, pkt);
    bool video = track == 1;
    bool waiting = s->full && pkt->pts_us < s->retry_us; /* for room on a full card */
    int r = 0;
    if (s->closed) r = -EBADF;
    else if (s->error) r = qcam_segmenter_stopped(s);
    else if (!track) r = -EINVAL;
    else if (waiting) s->dropped += video;
    else {
        s->last_pts_us = pkt->pts_us;
        r = s->ops->write(s, pkt, video);
        if (r == -ENOSPC && qcam_segmenter_segmented(s)) {
            s->dropped += video; /* a packet that meets a full card is not kept */
            card_full(s, pkt->pts_us);
            r = 0;
        }
    }
    if (r < 0 && r != -EINVAL && r != -EBADF) r = qcam_segmenter_stopped(s);
    pthread_mutex_unlock(&s->lock);
    return r;
}

int qcam_segmenter_flush(qcam_segmenter *s)
{
    pthread_mutex_lock(&s->lock);
    int r = s->closed ? -EBADF : s->error ? qcam_segmenter_stopped(s) : s->ops->emit(s);
    if (r == -ENOSPC && qcam_segmenter_segmented(s)) {
        card_full(s, s->last_pts_us);
        r = 0;
    }
    if (r < 0 && r != -EBADF) r = qcam_segmenter_stopped(s);
    pthread_mutex_unlock(&s->lock);
    return r;
}

int qcam_segmenter_sink_write(qcam_sink *sink, qcam_packet *pkt) { return qcam_segmenter_write((qcam_segmenter *)sink, pkt); }
int qcam_segmenter_sink_flush(qcam_sink *sink) { return qcam_segmenter_flush((qcam_segmenter *)sink); }
void qcam_segmenter_sink_path(qcam_sink *sink, char *out, size_t n) { qcam_segmenter_path((qcam_segmenter *)sink, out, n); }
int qcam_segmenter_sink_close(qcam_sink *sink, qcam_segment_info *last)
{
    return sink ? qcam_segmenter_close((qcam_segmenter *)sink, last) : 0;
}

void qcam_segmenter_path(qcam_segmenter *s, char *out, size_t n)
{
    pthread_mutex_lock(&s->lock);
    snprintf(out, n, "%s", s->path);
    pthread_mutex_unlock(&s->lock);
}

int qcam_segmenter_close(qcam_segmenter *s, qcam_segment_info *last)
{
    pthread_mutex_lock(&s->lock);
    int before = s->error;
    qcam_segment_info info;
    int r = finish_file(s, &info, 0);
    if (last) *last = info;
    /* an error that came up now and that nobody has heard of */
    bool unheard = r < 0 && before == 0 && !s->error_reported;
    s->closed = true;
    pthread_mutex_unlock(&s->lock);
    qcam_fs_card *card = s->card;
    s->ops->free(s);
    qcam_fs_card_close(card);
    return unheard ? r : 0;
}

/* ---- lifetime ---------------------------------------------------------------------- */

int qcam_segmenter_init(qcam_segmenter *s, const qcam_segmenter_ops *ops, const qcam_writer_config *cfg)
{
    if (strlen(cfg->path) >= sizeof s->pattern) return -ENAMETOOLONG;
    pthread_mutex_init(&s->lock, NULL);
    s->ops = ops;
    s->cfg = *cfg;
    s->fd = -1;
    snprintf(s->pattern, sizeof s->pattern, "%s", cfg->path);
    s->cfg.path = s->pattern;
    s->cfg.vps = s->cfg.sps = s->cfg.pps = NULL;
    s->cfg.encoder = NULL;
    return 0;
}

int qcam_segmenter_open_first(qcam_segmenter *s, const qcam_writer_config *cfg, qcam_fs_card *card, int r)
{
    if (r == 0 && cfg->encoder) s->encoder = qcam_encoder_ref(cfg->encoder);
    s->card = card;
    if (r == 0) r = open_file(s);
    if (r < 0) s->ops->free(s); /* the caller keeps the card */
    return r;
}

void qcam_segmenter_release(qcam_segmenter *s)
{
    if (s->fd >= 0) qcam_fs_close(s->fd);
    if (s->encoder) qcam_encoder_close(s->encoder);
    pthread_mutex_destroy(&s->lock);
}

/* ---- paths --------------------------------------------------------------- */

int qcam_segment_expand_path(const char *pattern, unsigned index, int64_t when, char *out, size_t n)
{
    time_t tt = (time_t)when;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) memset(&tm, 0, sizeof tm);
    size_t o = 0;
    for (const char *p = pattern; *p; p++) {
        char piece[32];
        const char *add = piece;
        if (*p != '%') {
            piece[0] = *p;
            piece[1] = 0;
        } else {
            p++;
            int width = 0;
            bool zero = false;
            if (*p == '0') zero = true;
            while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
            if (width > 20) return -EINVAL;
            switch (*p) {
            case 'i': snprintf(piece, sizeof piece, zero ? "%0*u" : "%*u", width, index); break;
            case 'Y': snprintf(piece, sizeof piece, "%04d", tm.tm_year + 1900); break;
            case 'm': snprintf(piece, sizeof piece, "%02d", tm.tm_mon + 1); break;
            case 'd': snprintf(piece, sizeof piece, "%02d", tm.tm_mday); break;
            case 'H': snprintf(piece, sizeof piece, "%02d", tm.tm_hour); break;
            case 'M': snprintf(piece, sizeof piece, "%02d", tm.tm_min); break;
            case 'S': snprintf(piece, sizeof piece, "%02d", tm.tm_sec); break;
            case '%': add = "%"; break;
            default: return -EINVAL;
            }
        }
        size_t l = strlen(add);
        if (o + l >= n) return -ENAMETOOLONG;
        memcpy(out + o, add, l);
        o += l;
    }
    if (o >= n) return -ENAMETOOLONG;
    out[o] = 0;
    return 0;
}
