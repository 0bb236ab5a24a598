/* qcam_mp4_remux (mp4_remux.h): an Annex B elementary stream → a regular
 * MP4, one scan of the input to index it, then one sequential copy. */
#include "mp4_remux.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../video/annexb.h"
#include "../video/es_reader.h"
#include "../video/sps.h"
#include "mp4.h"
#include "mp4_box.h"
#include "platform.h"

enum {
    BLOCK = 1 << 20,   /* input window (grows for a bigger NAL unit, or first access unit) */
    OUT_BUF = 1 << 20, /* output write size */
};

/* One NAL unit that goes into a sample: its bytes in the input. */
typedef struct {
    uint64_t off;
    uint32_t len;
} nal_ref;

#define NONE SIZE_MAX /* no start code yet */

typedef struct {
    qcam_fs_card *card;
    qcam_codec codec;
    double fps;
    int in;
    uint64_t size;  /* of the input when it was opened */
    /* The input window: buf[0 .. end), buf[0] at file offset base, read
     * with pread (a mapping would be no faster, and would turn storage that
     * fails or a file cut short under it into SIGBUS instead of an error). */
    uint8_t *buf;
    size_t cap, end;
    uint64_t base;
    bool eof;
    /* the scan: the current NAL unit's start code (00 00 01) at buf[sc]
     * (NONE before the first), and where the search for the next goes on */
    size_t sc, resume;
    qcam_annexb_splitter sp;
    /* the access unit being collected */
    bool in_au, au_vcl, au_key;
    size_t au_begin;   /* buf index of its first start code (kept until configured) */
    size_t au_mark;    /* its first entry in nals */
    uint64_t au_start; /* file offset of its first start code */
    uint64_t au_size;  /* sample bytes so far */
    /* the index */
    nal_ref *nals;
    size_t n_nals, cap_nals;
    size_t *first_nal; /* per sample, its first entry in nals (plus one past the last) */
    size_t cap_first;
    qcam_mp4_index idx;
    qcam_mp4_track *t;
    bool configured;
    bool bad_params; /* a keyframe came whose parameter sets could not be used */
    uint64_t keyframes, dropped, payload;
} remux;

static int push_nal(remux *x, uint64_t off, size_t len)
{
    nal_ref *p = qcam_mp4_grow(x->nals, &x->cap_nals, x->n_nals + 1, sizeof *p, 4096);
    if (!p) return -ENOMEM;
    x->nals = p;
    x->nals[x->n_nals++] = (nal_ref){off, (uint32_t)len};
    return 0;
}

/* Decode time of sample i in the track's timescale: rounded from i / fps
 * each time, so a rate the timescale does not divide does not drift. */
static uint64_t dts_of(const remux *x, uint64_t i)
{
    return (uint64_t)llround((double)i * x->t->timescale / x->fps);
}

static int configure(remux *x, const uint8_t *au, size_t len)
{
    qcam_annexb_params ps;
    qcam_annexb_find_params(x->codec, au, len, &ps);
    if (!ps.sps || !ps.pps || (x->codec == QCAM_CODEC_H265 && !ps.vps)) return -EBADMSG;
    uint8_t *cfg = NULL;
    size_t cfg_len = 0;
    qcam_sps_info si;
    int r = qcam_sps_make_config(x->codec, ps.vps, ps.vps_len, ps.sps, ps.sps_len, ps.pps, ps.pps_len, &cfg,
                                 &cfg_len, &si);
    if (r == -ENOMEM) return r;
    if (r < 0 || si.width <= 0 || si.height <= 0) {
        free(cfg);
        return -EBADMSG;
    }
    x->t->config = cfg;
    x->t->config_len = cfg_len;
    x->t->width = si.width;
    x->t->height = si.height;
    x->configured = true;
    return 0;
}

/* The access unit being collected ends before buf[stop]: a sample, unless
 * it has no picture or comes before the first usable keyframe. */
static int finish_au(remux *x, size_t stop)
{
    if (!x->in_au) return 0;
    x->in_au = false;
    if (x->base + stop - x->au_start > QCAM_ES_MAX_AU) return -EFBIG;
    if (!x->au_vcl) {
        x->n_nals = x->au_mark; /* no picture (e.g. parameter sets alone): not a sample */
        return 0;
    }
    if (!x->configured) {
        int r = x->au_key ? configure(x, x->buf + x->au_begin, stop - x->au_begin) : -EBADMSG;
        if (r == -ENOMEM) return r;
        if (r < 0) {
            if (x->au_key) x->bad_params = true;
            x->n_nals = x->au_mark;
            x->dropped++;
            return 0;
        }
    }
    if (x->au_size > UINT32_MAX) return -EFBIG;
    uint64_t i = x->t->n_samples;
    qcam_mp4_sample s = {
        .offset = x->payload,
        .size = (uint32_t)x->au_size,
        .duration = (uint32_t)(dts_of(x, i + 1) - dts_of(x, i)),
        .key = x->au_key,
    };
    if (qcam_mp4_track_push(x->t, &s) < 0) return -ENOMEM;
    size_t *first = qcam_mp4_grow(x->first_nal, &x->cap_first, x->t->n_samples + 1, sizeof *first, 4096);
    if (!first) return -ENOMEM;
    x->first_nal = first;
    x->first_nal[i] = x->au_mark;
    x->first_nal[i + 1] = x->n_nals;
    x->payload += x->au_size;
    if (x->au_key) x->keyframes++;
    return 0;
}

/* One complete NAL unit, its start code at buf[sc]. */
static int on_nal(remux *x, const uint8_t *nal, size_t len, size_t sc)
{
    bool h264 = x->codec == QCAM_CODEC_H264;
    int split = qcam_annexb_split(&x->sp, nal, len);
    if (split == QCAM_AU_SKIP) return 0;
    if (split == QCAM_AU_NEW) {
        int r = finish_au(x, sc);
        if (r < 0) return r;
        x->in_au = true;
        x->au_vcl = x->au_key = false;
        x->au_begin = sc;
        x->au_mark = x->n_nals;
        x->au_start = x->base + sc;
        x->au_size = 0;
    }
    int t = qcam_annexb_nal_type(x->codec, nal, len);
    if (t < 0) return 0;
    if (h264 ? (t == 7 || t == 8 || t == 9 || t == 13) : (t >= 32 && t <= 35))
        return 0; /* SPS, PPS, (VPS,) AUD: in the sample entry */
    if (h264 ? (t >= 1 && t <= 5) : t <= 31) x->au_vcl = true;
    if (h264 ? t == 5 : (t >= 16 && t <= 23)) x->au_key = true;
    x->au_size += 4 + len;
    return push_nal(x, x->base + (uint64_t)(nal - x->buf), len);
}

/* More input after buf[end]. The bytes still needed stay (from the current
 * start code, or the access unit's first one until the sample entry is
 * known): they are moved to the front. The window grows when they fill it. */
static int fill(remux *x)
{
    size_t keep = x->sc != NONE ? x->sc : x->resume;
    if (x->in_au && !x->configured && x->au_begin < keep) keep = x->au_begin;
    if (keep > 0) {
        memmove(x->buf, x->buf + keep, x->end - keep);
        x->end -= keep;
        x->base += keep;
        if (x->sc != NONE) x->sc -= keep;
        x->resume -= keep;
        if (x->in_au && !x->configured) x->au_begin -= keep;
    }
    if (x->end == x->cap) { /* one NAL unit (or the first access unit) fills the buffer */
        if (x->cap >= QCAM_ES_MAX_AU) return -EFBIG;
        uint8_t *b = realloc(x->buf, x->cap * 2);
        if (!b) return -ENOMEM;
        x->buf = b;
        x->cap *= 2;
    }
    ssize_t n = qcam_fs_read(x->in, x->buf + x->end, x->cap - x->end, -1);
    if (n < 0) return (int)n;
    if (n == 0) x->eof = true;
    x->end += (size_t)n;
    return 0;
}

/* Pass 1: index the whole input, one start code to the next — every byte
 * is searched once; access units split by annexb.c's rule. */
static int scan(remux *x)
{
    x->sc = NONE;
    x->resume = 0;
    qcam_annexb_splitter_init(&x->sp, x->codec);
    for (;;) {
        size_t next = qcam_annexb_find_start_code(x->buf, x->end, x->resume);
        if (next == x->end && !x->eof) {
            /* a start code may straddle what has arrived */
            size_t from = x->end >= 2 ? x->end - 2 : 0;
            if (x->sc != NONE && from < x->sc + 3) from = x->sc + 3;
            if (from > x->resume) x->resume = from;
            int r = fill(x);
            if (r < 0) return r;
            continue;
        }
        if (x->sc != NONE) {
            size_t begin = x->sc + 3, stop = next;
            while (stop > begin && x->buf[stop - 1] == 0) stop--; /* trailing_zero_8bits, a zero_byte */
            int r = on_nal(x, x->buf + begin, stop - begin, x->sc);
            if (r < 0) return r;
        }
        if (next == x->end) return finish_au(x, x->end); /* at the end of the input */
        x->sc = next;
        x->resume = next + 3;
    }
}

/* ---- pass 2: the output ------------------------------------------------------------ */

typedef struct {
    qcam_fs_card *card;
    int fd;
    uint8_t *p;
    size_t len;
    uint64_t at;    /* file offset of the first payload byte */
    uint64_t total; /* payload bytes written */
} out_buf;

static int out_flush(out_buf *o)
{
    if (!o->len) return 0;
    size_t done;
    int r = qcam_fs_write_all(o->card, o->fd, o->p, o->len, (int64_t)(o->at + o->total), &done);
    if (r == 0) qcam_platform_writeback(o->fd, o->at + o->total, o->len); /* on its way during the next */
    o->total += o->len;
    o->len = 0;
    return r;
}

static int out_put(out_buf *o, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t k = OUT_BUF - o->len < n ? OUT_BUF - o->len : n;
        memcpy(o->p + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
        if (o->len == OUT_BUF) {
            int r = out_flush(o);
            if (r < 0) return r;
        }
    }
    return 0;
}

/* Make the window hold file offset `off` (and what follows, up to the
 * window's size). 0 or -errno. */
static int window_at(remux *x, uint64_t off)
{
    if (off >= x->base && off < x->base + x->end) return 0;
    if (off >= x->size) return -EIO; /* the index points past the end */
    x->base = off;
    x->end = 0;
    while (x->end < x->cap) {
        ssize_t n = qcam_fs_read(x->in, x->buf + x->end, x->cap - x->end, (int64_t)(off + x->end));
        if (n < 0) return (int)n;
        if (n == 0) break;
        x->end += (size_t)n;
    }
    return x->end ? 0 : -EIO; /* empty: the input shrank since pass 1 */
}

/* The NAL units, length-prefixed, in input order: the input is read again
 * through the pass-1 window, moving forward. */
static int copy_samples(remux *x, out_buf *o)
{
    for (size_t k = 0; k < x->first_nal[x->t->n_samples]; k++) {
        uint64_t off = x->nals[k].off;
        size_t left = x->nals[k].len;
        uint8_t pre[4] = {(uint8_t)(left >> 24), (uint8_t)(left >> 16), (uint8_t)(left >> 8), (uint8_t)left};
        int r = out_put(o, pre, 4);
        while (r == 0 && left > 0) {
            r = window_at(x, off);
            if (r < 0) return r;
            size_t n = (size_t)(x->base + x->end - off);
            if (n > left) n = left;
            r = out_put(o, x->buf + (off - x->base), n);
            off += n;
            left -= n;
        }
        if (r < 0) return r;
    }
    return out_flush(o);
}

static int write_output(remux *x, const char *output, uint64_t *size)
{
    char dir[1024], tmp[1100];
    int r = qcam_mp4_beside(output, ".remux", tmp, sizeof tmp, dir, sizeof dir);
    if (r < 0) return r;
    /* missing folders of `output` are made by the open below, as for every writer (fs.h) */

    /* chunks of about a second of frames */
    size_t n = x->t->n_samples;
    size_t per = x->fps >= 1.5 ? (size_t)llround(x->fps) : 1;
    size_t n_chunks = (n + per - 1) / per;
    size_t *first = malloc((n_chunks ? n_chunks : 1) * sizeof *first);
    uint64_t *rel = malloc((n_chunks ? n_chunks : 1) * sizeof *rel);
    qcam_mp4_buf head = {0};
    out_buf o = {x->card, -1, NULL, 0, 0, 0};
    if (!first || !rel || !(o.p = malloc(OUT_BUF))) {
        r = -ENOMEM;
        goto done;
    }
    for (size_t c = 0; c < n_chunks; c++) {
        first[c] = c * per;
        rel[c] = x->t->samples[c * per].offset;
    }
    qcam_mp4_layout lay = {.chunk_first = {first}, .chunk_rel = {rel}, .n_chunks = {n_chunks}, .payload = x->payload};
    r = qcam_mp4_write_head(&head, &x->idx, &lay);
    free(first);
    free(rel);
    first = NULL;
    rel = NULL;
    if (r < 0) goto done;

    o.fd = qcam_fs_open(x->card, tmp, QCAM_FS_WRITE);
    if (o.fd < 0) {
        r = o.fd;
        goto done;
    }
    size_t done_bytes;
    r = qcam_fs_write_all(x->card, o.fd, head.p, head.len, 0, &done_bytes);
    o.at = head.len;
    if (r == 0) r = copy_samples(x, &o);
    if (r == 0 && o.total != x->payload) r = -EIO;
    if (r == 0) {
        r = qcam_fs_sync(o.fd);
        if (r == -EINVAL) r = 0; /* storage that cannot sync */
    }
    int c = qcam_fs_close(o.fd);
    o.fd = -1;
    if (r == 0) r = c;
    if (r == 0) r = qcam_fs_rename(x->card, tmp, output);
    if (r == 0) {
        *size = head.len + x->payload;
        qcam_mp4_sync_dir(x->card, output); /* the rename, on storage */
    }
done:
    if (o.fd >= 0) qcam_fs_close(o.fd);
    if (r < 0) qcam_fs_remove(x->card, tmp);
    free(first);
    free(rel);
    free(o.p);
    qcam_mp4_buf_free(&head);
    return r;
}

int qcam_mp4_remux(qcam_fs_card *card, const char *input, const char *output,
                   const qcam_mp4_remux_options *opts, qcam_mp4_remux_result *res, const char **what)
{
    if (what) *what = NULL;
    if (!opts || (opts->codec != QCAM_CODEC_H264 && opts->codec != QCAM_CODEC_H265) || !(opts->fps > 0) ||
        opts->fps > 1000)
        return -EINVAL;
    remux x = {.card = card, .codec = opts->codec, .fps = opts->fps, .in = -1};
    x.idx.n_tracks = 1;
    x.idx.movie_timescale = 1000;
    x.idx.creation_time = (uint64_t)time(NULL) + 2082844800u; /* since 1904 */
    x.t = &x.idx.tracks[0];
    x.t->id = 1;
    x.t->codec = opts->codec == QCAM_CODEC_H264 ? QCAM_MP4_AVC : QCAM_MP4_HEVC;
    /* 90 kHz, or a multiple of an integer rate 90000 does not divide */
    double whole = floor(opts->fps);
    x.t->timescale = opts->fps == whole && fmod(90000, whole) != 0 ? (uint32_t)whole * 1000 : 90000;

    int r = 0;
    x.in = qcam_fs_open(card, input, QCAM_FS_READ);
    if (x.in < 0) return x.in;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(x.in, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    x.cap = BLOCK;
    {
        qcam_fs_stat_info st;
        r = qcam_fs_fstat(x.in, &st);
        if (r < 0) goto done;
        x.size = st.size;
    }
    if (!(x.buf = malloc(x.cap))) {
        r = -ENOMEM;
        goto done;
    }
    r = scan(&x);
    if (r < 0) goto done;
    if (x.t->n_samples == 0) {
        r = -EBADMSG;
        if (what)
            *what = x.bad_params ? "no keyframe with usable parameter sets" : "no keyframe";
        goto done;
    }
    uint64_t size = 0;
    r = write_output(&x, output, &size);
    if (r < 0) goto done;
    if (res) {
        res->frames = x.t->n_samples;
        res->keyframes = x.keyframes;
        res->dropped = x.dropped;
        res->duration = (double)qcam_mp4_track_duration(x.t) / x.t->timescale;
        res->size = size;
        res->width = x.t->width;
        res->height = x.t->height;
    }
done:
    if (x.in >= 0) qcam_fs_close(x.in);
    free(x.buf);
    free(x.nals);
    free(x.first_nal);
    qcam_mp4_index_clear(&x.idx);
    return r;
}
