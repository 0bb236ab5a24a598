/* qcam:mp4 — the MP4 reader: a regular or fragmented file into a
 * qcam_mp4_index. See mp4_read.h for what it reads and how torn files end.
 *
 * Two passes over the top-level boxes. The first reads only box headers and
 * finds where the complete boxes end (the first box that runs past the end
 * of the file, or whose header is cut). The second reads each moov / moof
 * whole into memory (both are bounded by the file's size) and parses it
 * there with bounds-checked cursors; mdat and everything else is skipped.
 * A fragment's samples are collected on the side and only added to the
 * index once all of them are known to lie in the complete part of the file. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp4_read.h"

#define FOURCC(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* PCM-style audio chunks are read as records of at most this many frames. */
#define MERGE_MAX 1024u

/* A moov or moof bigger than this is refused (a real one is a few MiB at most). */
#define MAX_META_BOX (256u << 20)

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* A box type for messages: 'moov', or its hex value when not printable. */
typedef struct {
    char s[12];
} fourcc_str;
static fourcc_str fcc(uint32_t t)
{
    fourcc_str f;
    char c[4] = {(char)(t >> 24), (char)(t >> 16), (char)(t >> 8), (char)t};
    bool ok = true;
    for (int i = 0; i < 4; i++)
        if (c[i] < 0x20 || c[i] > 0x7e || c[i] == '\'') ok = false;
    if (ok)
        snprintf(f.s, sizeof f.s, "'%c%c%c%c'", c[0], c[1], c[2], c[3]);
    else
        snprintf(f.s, sizeof f.s, "0x%08x", t);
    return f;
}

/* ---- bytes in memory ------------------------------------------------------ */

/* A span of a box read into memory; `off` is the file offset of p[0]. */
typedef struct {
    const uint8_t *p;
    size_t n;
    uint64_t off;
} span;

typedef struct {
    uint32_t type;
    span body;   /* payload, after the header */
    uint64_t at; /* file offset of the header */
} box;

/* Per track of the index: what fragments need. */
typedef struct {
    uint32_t sdi, dur, size, flags; /* trex defaults */
    uint64_t next_dts;              /* decode time after the last sample */
    bool has_samples;
    uint64_t edit_delay;            /* edit list: leading empty edits, timescale units */
    uint64_t edit_media;            /* edit list: the first normal edit's media_time */
} track_state;

typedef struct {
    qcam_mp4_sample *v;
    size_t n, cap;
} sample_list;

typedef struct {
    const qcam_mp4_source *src;
    qcam_mp4_index *idx;
    qcam_mp4_read_info *info;
    uint64_t size;     /* file size */
    uint64_t end;      /* complete top-level boxes end here */
    uint64_t records;  /* samples in the index and pending */
    bool have_moov;
    track_state ts[QCAM_MP4_MAX_TRACKS];
} reader;

static int fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->info->error, sizeof r->info->error, fmt, ap);
    va_end(ap);
    return -EBADMSG;
}

typedef unsigned long long ull;

/* The next child box of `parent` at *pos: 1, 0 at the end, or -EBADMSG.
 * Fewer than 8 bytes left are ignored (QuickTime ends some lists with a
 * 32-bit zero). */
static int next_box(reader *r, const span *parent, size_t *pos, box *b)
{
    if (*pos >= parent->n || parent->n - *pos < 8) return 0;
    size_t left = parent->n - *pos;
    const uint8_t *h = parent->p + *pos;
    uint64_t size = be32(h);
    size_t hdr = 8;
    uint32_t type = be32(h + 4);
    uint64_t at = parent->off + *pos;
    if (size == 1) {
        if (left < 16) return fail(r, "mp4: truncated header of box %s at offset %llu", fcc(type).s, (ull)at);
        size = be64(h + 8);
        hdr = 16;
    } else if (size == 0) {
        size = left;
    }
    if (size < hdr || size > left)
        return fail(r, "mp4: box %s at offset %llu has a bad size %llu (%zu bytes left in its parent)",
                    fcc(type).s, (ull)at, (ull)size, left);
    b->type = type;
    b->body.p = h + hdr;
    b->body.n = (size_t)size - hdr;
    b->body.off = at + hdr;
    b->at = at;
    *pos += (size_t)size;
    return 1;
}

/* The first child of `type`: 1 (in *out), 0 when absent, or -EBADMSG. */
static int find_box(reader *r, const span *parent, uint32_t type, box *out)
{
    size_t pos = 0;
    box b;
    int k;
    while ((k = next_box(r, parent, &pos, &b)) > 0)
        if (b.type == type) {
            *out = b;
            return 1;
        }
    return k;
}

/* A full box's payload must hold version/flags plus `need` bytes. */
static int full_box(reader *r, const box *b, size_t need, unsigned *version, uint32_t *flags)
{
    if (b->body.n < 4 + need)
        return fail(r, "mp4: box %s at offset %llu is too short (%zu bytes)", fcc(b->type).s, (ull)b->at,
                    b->body.n);
    if (version) *version = b->body.p[0];
    if (flags) *flags = be32(b->body.p) & 0xffffff;
    return 0;
}

/* ---- reading the file ------------------------------------------------------ */

static int read_at(reader *r, uint64_t pos, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t k = r->src->read(r->src->opaque, pos + done, (uint8_t *)buf + done, len - done);
        if (k < 0) return (int)k;
        if (k == 0) return -EIO; /* the file shrank under us */
        done += (size_t)k;
    }
    return 0;
}

/* A top-level box header at pos: 1 complete, 0 runs past the end of the file
 * (or its header is cut), -EBADMSG / -errno. */
static int top_box(reader *r, uint64_t pos, uint32_t *type, uint64_t *size, size_t *hdr)
{
    uint8_t h[16];
    uint64_t left = r->size - pos;
    if (left < 8) {
        *type = 0;
        *size = left;
        *hdr = 0;
        return 0;
    }
    int e = read_at(r, pos, h, left < 16 ? 8 : 16);
    if (e < 0) return e;
    *type = be32(h + 4);
    uint64_t s = be32(h);
    *hdr = 8;
    if (s == 1) {
        if (left < 16) {
            *size = 0;
            *hdr = 0; /* the header itself is cut */
            return 0;
        }
        s = be64(h + 8);
        *hdr = 16;
    } else if (s == 0) {
        s = left;
    }
    if (s < *hdr)
        return fail(r, "mp4: box %s at offset %llu has a bad size %llu", fcc(*type).s, (ull)pos, (ull)s);
    *size = s;
    return s <= left ? 1 : 0;
}

/* ---- sample entries and codec configuration ------------------------------- */

/* Walk an avcC / hvcC: with `emit`, write each parameter set of `want` kinds
 * (bit per NAL type) through it. Returns the NAL length size (1, 2, 4), or 0
 * when the configuration is malformed. */
typedef void emit_fn(void *ctx, const uint8_t *nal, size_t n);

static unsigned walk_config(qcam_mp4_codec codec, const uint8_t *p, size_t n, int want_type,
                            emit_fn *emit, void *ctx)
{
    if (codec == QCAM_MP4_AVC) {
        if (n < 7) return 0;
        unsigned ls = (p[4] & 3u) + 1;
        size_t at = 6;
        unsigned count = p[5] & 0x1f;
        for (int list = 0; list < 2; list++) {
            if (list == 1) {
                if (at >= n) return 0;
                count = p[at++];
            }
            for (unsigned i = 0; i < count; i++) {
                if (n - at < 2) return 0;
                size_t len = be16(p + at);
                at += 2;
                if (n - at < len) return 0;
                if (emit && len > 0 && (p[at] & 0x1f) == want_type) emit(ctx, p + at, len);
                at += len;
            }
        }
        return ls == 3 ? 0 : ls;
    }
    if (n < 23) return 0;
    unsigned ls = (p[21] & 3u) + 1;
    unsigned arrays = p[22];
    size_t at = 23;
    for (unsigned a = 0; a < arrays; a++) {
        if (n - at < 3) return 0;
        unsigned type = p[at] & 0x3f;
        unsigned count = be16(p + at + 1);
        at += 3;
        for (unsigned i = 0; i < count; i++) {
            if (n - at < 2) return 0;
            size_t len = be16(p + at);
            at += 2;
            if (n - at < len) return 0;
            if (emit && len > 0 && (int)type == want_type) emit(ctx, p + at, len);
            at += len;
        }
    }
    return ls == 3 ? 0 : ls;
}

unsigned qcam_mp4_nal_length_size(const qcam_mp4_track *t)
{
    if (!t || (t->codec != QCAM_MP4_AVC && t->codec != QCAM_MP4_HEVC) || !t->config) return 0;
    return walk_config(t->codec, t->config, t->config_len, -1, NULL, NULL);
}

typedef struct {
    uint8_t *out;
    size_t cap, len;
    bool over;
} wbuf;

static void put_nal(void *ctx, const uint8_t *nal, size_t n)
{
    wbuf *w = ctx;
    if (w->out) {
        if (w->over || w->cap - w->len < 4 || w->cap - w->len - 4 < n) {
            w->over = true;
            return;
        }
        static const uint8_t sc[4] = {0, 0, 0, 1};
        memcpy(w->out + w->len, sc, 4);
        memcpy(w->out + w->len + 4, nal, n);
    }
    w->len += 4 + n;
}

static int nal_type(qcam_mp4_codec c, const uint8_t *nal) { return c == QCAM_MP4_AVC ? nal[0] & 0x1f : (nal[0] >> 1) & 0x3f; }

ssize_t qcam_mp4_to_annexb(const qcam_mp4_track *t, const uint8_t *sample, size_t len, bool params,
                           uint8_t *out, size_t cap)
{
    unsigned ls = qcam_mp4_nal_length_size(t);
    if (ls == 0) return -EBADMSG;
    int sps = t->codec == QCAM_MP4_AVC ? 7 : 33;
    /* Check the NAL lengths first (and look for an SPS). */
    bool has_sps = false;
    for (size_t at = 0; at < len;) {
        if (len - at < ls) return -EBADMSG;
        size_t n = 0;
        for (unsigned i = 0; i < ls; i++) n = n << 8 | sample[at + i];
        at += ls;
        if (len - at < n) return -EBADMSG;
        if (n > 0 && nal_type(t->codec, sample + at) == sps) has_sps = true;
        at += n;
    }
    wbuf w = {out, cap, 0, false};
    if (params && !has_sps) {
        if (t->codec == QCAM_MP4_HEVC) walk_config(t->codec, t->config, t->config_len, 32, put_nal, &w);
        walk_config(t->codec, t->config, t->config_len, sps, put_nal, &w);
        walk_config(t->codec, t->config, t->config_len, t->codec == QCAM_MP4_AVC ? 8 : 34, put_nal, &w);
    }
    for (size_t at = 0; at < len;) {
        size_t n = 0;
        for (unsigned i = 0; i < ls; i++) n = n << 8 | sample[at + i];
        at += ls;
        if (n > 0) put_nal(&w, sample + at, n);
        at += n;
    }
    if (w.over) return -ENOSPC;
    return (ssize_t)w.len;
}

/* The first sample entry of an stsd: codec (0: one we do not read) and what it says. */
static int parse_stsd(reader *r, const box *stsd, qcam_mp4_track *t, uint32_t *entry_type)
{
    int e = full_box(r, stsd, 4, NULL, NULL);
    if (e < 0) return e;
    uint32_t count = be32(stsd->body.p + 4);
    *entry_type = 0;
    if (count == 0) return fail(r, "mp4: stsd at offset %llu has no sample entry", (ull)stsd->at);
    span list = {stsd->body.p + 8, stsd->body.n - 8, stsd->body.off + 8};
    size_t pos = 0;
    box en = {0};
    int k = next_box(r, &list, &pos, &en);
    if (k < 0) return k;
    if (k == 0) return fail(r, "mp4: stsd at offset %llu has no sample entry", (ull)stsd->at);
    *entry_type = en.type;
    const uint8_t *p = en.body.p;
    switch (en.type) {
    case FOURCC('a', 'v', 'c', '1'):
    case FOURCC('a', 'v', 'c', '3'):
    case FOURCC('h', 'v', 'c', '1'):
    case FOURCC('h', 'e', 'v', '1'): {
        bool avc = en.type == FOURCC('a', 'v', 'c', '1') || en.type == FOURCC('a', 'v', 'c', '3');
        if (en.body.n < 78)
            return fail(r, "mp4: %s sample entry at offset %llu is too short (%zu bytes)", fcc(en.type).s,
                        (ull)en.at, en.body.n);
        t->codec = avc ? QCAM_MP4_AVC : QCAM_MP4_HEVC;
        t->width = be16(p + 24);
        t->height = be16(p + 26);
        span kids = {p + 78, en.body.n - 78, en.body.off + 78};
        box cfg = {0};
        uint32_t want = avc ? FOURCC('a', 'v', 'c', 'C') : FOURCC('h', 'v', 'c', 'C');
        k = find_box(r, &kids, want, &cfg);
        if (k < 0) return k;
        if (k == 0) return fail(r, "mp4: %s sample entry at offset %llu has no %s", fcc(en.type).s, (ull)en.at, fcc(want).s);
        if (walk_config(t->codec, cfg.body.p, cfg.body.n, -1, NULL, NULL) == 0)
            return fail(r, "mp4: malformed %s at offset %llu", fcc(want).s, (ull)cfg.at);
        t->config = malloc(cfg.body.n ? cfg.body.n : 1);
        if (!t->config) return -ENOMEM;
        memcpy(t->config, cfg.body.p, cfg.body.n);
        t->config_len = cfg.body.n;
        return 0;
    }
    case FOURCC('a', 'l', 'a', 'w'):
    case FOURCC('u', 'l', 'a', 'w'): {
        if (en.body.n < 28)
            return fail(r, "mp4: %s sample entry at offset %llu is too short (%zu bytes)", fcc(en.type).s,
                        (ull)en.at, en.body.n);
        t->codec = en.type == FOURCC('a', 'l', 'a', 'w') ? QCAM_MP4_ALAW : QCAM_MP4_ULAW;
        unsigned version = be16(p + 8);
        t->channels = be16(p + 16);
        t->sample_rate = be32(p + 24) >> 16;
        if (version == 2) { /* QuickTime sound description v2: rate as a double */
            if (en.body.n < 64)
                return fail(r, "mp4: %s sample entry v2 at offset %llu is too short (%zu bytes)",
                            fcc(en.type).s, (ull)en.at, en.body.n);
            uint64_t bits = be64(p + 32);
            double rate;
            memcpy(&rate, &bits, sizeof rate);
            t->sample_rate = rate >= 1 && rate <= 1e6 ? (uint32_t)rate : 0;
            uint32_t ch = be32(p + 40);
            t->channels = ch <= 0xffff ? (uint16_t)ch : 0;
        }
        if (t->channels == 0) t->channels = 1;
        return 0;
    }
    default:
        t->codec = 0;
        return 0;
    }
}

/* ---- sample tables (regular files) ---------------------------------------- */

/* Runs of (count, value) pairs: stts and ctts. */
typedef struct {
    const uint8_t *p;
    uint32_t entries, at;
    uint32_t left; /* of the current entry */
} runs;

static void runs_init(runs *w, const uint8_t *p, uint32_t entries)
{
    w->p = p;
    w->entries = entries;
    w->at = 0;
    w->left = entries ? be32(p) : 0;
}

/* The value for the next sample (0 past the end). */
static uint32_t runs_next(runs *w)
{
    while (w->left == 0) {
        if (w->at + 1 >= w->entries) {
            w->at = w->entries;
            return 0;
        }
        w->at++;
        w->left = be32(w->p + 8 * (size_t)w->at);
    }
    w->left--;
    return be32(w->p + 8 * (size_t)w->at + 4);
}

/* Sum of the next k values (stts: durations of k samples). */
static uint64_t runs_take(runs *w, uint64_t k)
{
    uint64_t sum = 0;
    while (k > 0 && w->at < w->entries) {
        if (w->left == 0) {
            if (w->at + 1 >= w->entries) {
                w->at = w->entries;
                break;
            }
            w->at++;
            w->left = be32(w->p + 8 * (size_t)w->at);
            continue;
        }
        uint64_t n = k < w->left ? k : w->left;
        sum += n * be32(w->p + 8 * (size_t)w->at + 4);
        w->left -= (uint32_t)n;
        k -= n;
    }
    return sum;
}

/* Add one sample to `t`, within the file and the bound on records. */
static int push_sample(reader *r, qcam_mp4_track *t, const qcam_mp4_sample *s, uint64_t i)
{
    if (s->offset > r->end || s->size > r->end - s->offset)
        return fail(r, "mp4: sample %llu of track %u (offset %llu, %u bytes) lies past the end of the %s (%llu bytes)",
                    (ull)i, t->id, (ull)s->offset, s->size, r->end < r->size ? "complete boxes" : "file",
                    (ull)r->end);
    if (r->records >= r->size)
        return fail(r, "mp4: more samples than the file has bytes (track %u)", t->id);
    r->records++;
    return qcam_mp4_track_push(t, s);
}

typedef struct {
    box stts, ctts, stss, stsz, stsc, stco;
    bool has_ctts, has_stss, has_stts, has_stsz, has_stsc, has_stco;
    bool z2, co64;
} stbl_boxes;

static int build_samples(reader *r, qcam_mp4_track *t, const stbl_boxes *s, bool fragmented)
{
    const char *missing = !s->has_stts ? "stts" : !s->has_stsz ? "stsz" : !s->has_stsc ? "stsc" : !s->has_stco ? "stco" : NULL;
    if (missing) {
        if (fragmented) return 0;
        return fail(r, "mp4: track %u has no %s box", t->id, missing);
    }
    int e;
    /* stsz / stz2 */
    uint32_t const_size = 0, count, field = 32;
    const uint8_t *sizes;
    if ((e = full_box(r, &s->stsz, 8, NULL, NULL)) < 0) return e;
    const uint8_t *zp = s->stsz.body.p;
    if (s->z2) {
        field = zp[7];
        if (field != 4 && field != 8 && field != 16)
            return fail(r, "mp4: stz2 at offset %llu has field size %u", (ull)s->stsz.at, field);
    } else {
        const_size = be32(zp + 4);
    }
    count = be32(zp + 8);
    sizes = zp + 12;
    uint64_t table = s->stsz.body.n - 12;
    if (s->z2 || const_size == 0) {
        uint64_t need = ((uint64_t)count * field + 7) / 8;
        if (need > table)
            return fail(r, "mp4: %s sample count %u at offset %llu is more than its %llu bytes hold",
                        s->z2 ? "stz2" : "stsz", count, (ull)s->stsz.at, (ull)table);
    } else if ((uint64_t)count * const_size > r->size) {
        return fail(r, "mp4: stsz says %u samples of %u bytes at offset %llu, more than the file holds", count,
                    const_size, (ull)s->stsz.at);
    }
    /* stts */
    if ((e = full_box(r, &s->stts, 4, NULL, NULL)) < 0) return e;
    uint32_t stts_n = be32(s->stts.body.p + 4);
    if ((uint64_t)stts_n * 8 > s->stts.body.n - 8)
        return fail(r, "mp4: stts entry count %u at offset %llu is more than its box holds", stts_n, (ull)s->stts.at);
    uint64_t stts_total = 0;
    for (uint32_t i = 0; i < stts_n; i++) stts_total += be32(s->stts.body.p + 8 + 8 * (size_t)i);
    if (stts_total != count)
        return fail(r, "mp4: stsz sample count %u does not match stts %llu (track %u)", count, (ull)stts_total, t->id);
    /* ctts */
    uint32_t ctts_n = 0;
    if (s->has_ctts) {
        if ((e = full_box(r, &s->ctts, 4, NULL, NULL)) < 0) return e;
        ctts_n = be32(s->ctts.body.p + 4);
        if ((uint64_t)ctts_n * 8 > s->ctts.body.n - 8)
            return fail(r, "mp4: ctts entry count %u at offset %llu is more than its box holds", ctts_n, (ull)s->ctts.at);
    }
    /* stss */
    uint32_t stss_n = 0;
    if (s->has_stss) {
        if ((e = full_box(r, &s->stss, 4, NULL, NULL)) < 0) return e;
        stss_n = be32(s->stss.body.p + 4);
        if ((uint64_t)stss_n * 4 > s->stss.body.n - 8)
            return fail(r, "mp4: stss entry count %u at offset %llu is more than its box holds", stss_n, (ull)s->stss.at);
    }
    /* stsc */
    if ((e = full_box(r, &s->stsc, 4, NULL, NULL)) < 0) return e;
    uint32_t stsc_n = be32(s->stsc.body.p + 4);
    if ((uint64_t)stsc_n * 12 > s->stsc.body.n - 8)
        return fail(r, "mp4: stsc entry count %u at offset %llu is more than its box holds", stsc_n, (ull)s->stsc.at);
    const uint8_t *sc = s->stsc.body.p + 8;
    for (uint32_t i = 0; i < stsc_n; i++) {
        uint32_t first = be32(sc + 12 * (size_t)i);
        if (i == 0 ? first != 1 : first <= be32(sc + 12 * (size_t)(i - 1)))
            return fail(r, "mp4: stsc at offset %llu: entry %u starts at chunk %u", (ull)s->stsc.at, i, first);
    }
    /* stco / co64 */
    if ((e = full_box(r, &s->stco, 4, NULL, NULL)) < 0) return e;
    uint32_t chunks = be32(s->stco.body.p + 4);
    unsigned osz = s->co64 ? 8 : 4;
    if ((uint64_t)chunks * osz > s->stco.body.n - 8)
        return fail(r, "mp4: %s entry count %u at offset %llu is more than its box holds", s->co64 ? "co64" : "stco",
                    chunks, (ull)s->stco.at);
    const uint8_t *co = s->stco.body.p + 8;

    /* PCM-style tables (QuickTime: one sample per audio frame, one byte per
     * channel for G.711) become one record per chunk. */
    bool merge = (t->codec == QCAM_MP4_ALAW || t->codec == QCAM_MP4_ULAW) && const_size > 0 && !s->z2 &&
                 const_size <= t->channels;
    runs dur, cts;
    runs_init(&dur, s->stts.body.p + 8, stts_n);
    runs_init(&cts, s->has_ctts ? s->ctts.body.p + 8 : NULL, ctts_n);
    uint32_t si = 0; /* stss cursor */
    uint64_t i = 0;  /* samples placed */
    uint32_t e_at = 0;
    for (uint32_t c = 0; c < chunks && i < count; c++) {
        while (e_at + 1 < stsc_n && c + 1 >= be32(sc + 12 * (size_t)(e_at + 1))) e_at++;
        uint32_t spc = stsc_n ? be32(sc + 12 * (size_t)e_at + 4) : 0;
        uint64_t off = s->co64 ? be64(co + 8 * (size_t)c) : be32(co + 4 * (size_t)c);
        if (spc == 0) continue;
        if (merge) {
            /* The chunk's frames in records of MERGE_MAX, the rest in a last one. */
            uint64_t k = count - i < spc ? count - i : spc;
            for (uint64_t left = k; left > 0;) {
                uint64_t n = left < MERGE_MAX ? left : MERGE_MAX;
                left -= n;
                uint64_t bytes = n * const_size, d = runs_take(&dur, n);
                if (d > UINT32_MAX)
                    return fail(r, "mp4: chunk %u of track %u lasts too long (%llu units)", c + 1, t->id, (ull)d);
                qcam_mp4_sample smp = {off, (uint32_t)bytes, (uint32_t)d, 0, true};
                if ((e = push_sample(r, t, &smp, t->n_samples)) < 0) return e;
                off += bytes;
            }
            i += k;
            continue;
        }
        for (uint32_t k = 0; k < spc && i < count; k++, i++) {
            uint32_t sz;
            if (!s->z2)
                sz = const_size ? const_size : be32(sizes + 4 * (size_t)i);
            else if (field == 16)
                sz = be16(sizes + 2 * (size_t)i);
            else if (field == 8)
                sz = sizes[i];
            else
                sz = (sizes[i / 2] >> (i % 2 ? 0 : 4)) & 0xf;
            while (si < stss_n && be32(s->stss.body.p + 8 + 4 * (size_t)si) < i + 1) si++;
            bool key = !s->has_stss || (si < stss_n && be32(s->stss.body.p + 8 + 4 * (size_t)si) == i + 1);
            qcam_mp4_sample smp = {off, sz, runs_next(&dur), (int32_t)runs_next(&cts), key};
            if ((e = push_sample(r, t, &smp, i)) < 0) return e;
            if (off + sz < off) return fail(r, "mp4: chunk offsets of track %u overflow", t->id);
            off += sz;
        }
    }
    if (i < count)
        return fail(r, "mp4: stsc and %s place %llu of the %u samples of track %u", s->co64 ? "co64" : "stco",
                    (ull)i, count, t->id);
    return 0;
}

/* ---- moov ------------------------------------------------------------------- */

static int find_required(reader *r, const span *parent, uint32_t type, const char *where, box *out)
{
    int k = find_box(r, parent, type, out);
    if (k == 0) return fail(r, "mp4: %s has no %s box", where, fcc(type).s);
    return k < 0 ? k : 0;
}

/* The trak's edit list (edts/elst), if any: the common cases of what it
 * does to presentation times. Leading empty edits (media_time -1) delay the
 * track by their segment_duration (movie timescale, converted to the
 * track's, rounded to the nearest unit); the first normal edit's media_time
 * is the media time presented first (an ffmpeg file with B-frames starts at
 * its reorder delay), so times are reported that much earlier. Later edits
 * (cuts, repeats, dwells) are not applied. */
static int parse_edts(reader *r, const box *trak, const qcam_mp4_track *t, track_state *ts)
{
    box edts = {0}, elst = {0};
    int k = find_box(r, &trak->body, FOURCC('e', 'd', 't', 's'), &edts);
    if (k <= 0) return k;
    if ((k = find_box(r, &edts.body, FOURCC('e', 'l', 's', 't'), &elst)) <= 0) return k;
    unsigned v = 0;
    int e;
    if ((e = full_box(r, &elst, 4, &v, NULL)) < 0) return e;
    if (v > 1) return fail(r, "mp4: elst at offset %llu has version %u", (ull)elst.at, v);
    uint32_t n = be32(elst.body.p + 4);
    size_t esz = v == 1 ? 20 : 12;
    if ((uint64_t)n * esz > elst.body.n - 8)
        return fail(r, "mp4: elst entry count %u at offset %llu is more than its box holds", n, (ull)elst.at);
    uint64_t delay = 0; /* movie timescale */
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = elst.body.p + 8 + esz * (size_t)i;
        uint64_t dur = v == 1 ? be64(p) : be32(p);
        int64_t media = v == 1 ? (int64_t)be64(p + 8) : (int64_t)(int32_t)be32(p + 4);
        if (media == -1) {
            if (dur > UINT64_MAX - delay)
                return fail(r, "mp4: elst at offset %llu: empty edits too long", (ull)elst.at);
            delay += dur;
            continue;
        }
        if (media < 0)
            return fail(r, "mp4: elst at offset %llu: entry %u has media time %lld", (ull)elst.at, i, (long long)media);
        ts->edit_media = (uint64_t)media;
        break;
    }
    uint32_t mts = r->idx->movie_timescale;
    if (delay > 0 && mts > 0) {
        if (delay / mts > UINT32_MAX)
            return fail(r, "mp4: elst at offset %llu delays track %u by %llu units of 1/%u s", (ull)elst.at, t->id,
                        (ull)delay, mts);
        ts->edit_delay = delay / mts * t->timescale + ((delay % mts) * t->timescale + mts / 2) / mts;
    }
    return 0;
}

static int parse_trak(reader *r, const box *trak, bool fragmented)
{
    box tkhd = {0}, mdia = {0}, mdhd = {0}, hdlr = {0}, minf = {0}, stbl = {0}, stsd = {0};
    int e;
    unsigned v = 0;
    char where[48];
    snprintf(where, sizeof where, "the trak at offset %llu", (ull)trak->at);
    if ((e = find_required(r, &trak->body, FOURCC('t', 'k', 'h', 'd'), where, &tkhd)) < 0) return e;
    if ((e = full_box(r, &tkhd, 20, &v, NULL)) < 0) return e;
    if (v == 1 && (e = full_box(r, &tkhd, 28, NULL, NULL)) < 0) return e;
    uint32_t id = be32(tkhd.body.p + (v == 1 ? 20 : 12));
    if ((e = find_required(r, &trak->body, FOURCC('m', 'd', 'i', 'a'), where, &mdia)) < 0) return e;
    if ((e = find_required(r, &mdia.body, FOURCC('h', 'd', 'l', 'r'), where, &hdlr)) < 0) return e;
    if ((e = full_box(r, &hdlr, 8, NULL, NULL)) < 0) return e;
    uint32_t handler = be32(hdlr.body.p + 8);
    if (handler != FOURCC('v', 'i', 'd', 'e') && handler != FOURCC('s', 'o', 'u', 'n')) return 0;
    if ((e = find_required(r, &mdia.body, FOURCC('m', 'd', 'h', 'd'), where, &mdhd)) < 0) return e;
    if ((e = full_box(r, &mdhd, 20, &v, NULL)) < 0) return e;
    if (v == 1 && (e = full_box(r, &mdhd, 32, NULL, NULL)) < 0) return e;
    uint32_t timescale = be32(mdhd.body.p + (v == 1 ? 20 : 12));
    if ((e = find_required(r, &mdia.body, FOURCC('m', 'i', 'n', 'f'), where, &minf)) < 0) return e;
    if ((e = find_required(r, &minf.body, FOURCC('s', 't', 'b', 'l'), where, &stbl)) < 0) return e;
    if ((e = find_required(r, &stbl.body, FOURCC('s', 't', 's', 'd'), where, &stsd)) < 0) return e;

    qcam_mp4_index *idx = r->idx;
    qcam_mp4_track tmp;
    memset(&tmp, 0, sizeof tmp);
    uint32_t entry;
    if ((e = parse_stsd(r, &stsd, &tmp, &entry)) < 0) {
        free(tmp.config);
        return e;
    }
    bool video = tmp.codec == QCAM_MP4_AVC || tmp.codec == QCAM_MP4_HEVC;
    bool keep = tmp.codec != 0 && idx->n_tracks < QCAM_MP4_MAX_TRACKS &&
                (handler == FOURCC('v', 'i', 'd', 'e')) == video;
    for (unsigned i = 0; keep && i < idx->n_tracks; i++) {
        bool v2 = idx->tracks[i].codec == QCAM_MP4_AVC || idx->tracks[i].codec == QCAM_MP4_HEVC;
        if (v2 == video) keep = false; /* the first of each kind */
    }
    if (!keep) {
        free(tmp.config);
        return 0;
    }
    for (unsigned i = 0; i < idx->n_tracks; i++)
        if (idx->tracks[i].id == id) {
            free(tmp.config);
            return fail(r, "mp4: two tracks with ID %u", id);
        }
    if (id == 0) {
        free(tmp.config);
        return fail(r, "mp4: track ID 0 in the tkhd at offset %llu", (ull)tkhd.at);
    }
    if (timescale == 0) {
        free(tmp.config);
        return fail(r, "mp4: track %u has timescale 0", id);
    }
    tmp.id = id;
    tmp.timescale = timescale;
    if (!video && tmp.sample_rate == 0) tmp.sample_rate = timescale;
    qcam_mp4_track *t = &idx->tracks[idx->n_tracks++];
    *t = tmp;
    if ((e = parse_edts(r, trak, t, &r->ts[idx->n_tracks - 1])) < 0) return e;

    stbl_boxes sb;
    memset(&sb, 0, sizeof sb);
    size_t pos = 0;
    box b = {0};
    int k;
    while ((k = next_box(r, &stbl.body, &pos, &b)) > 0) {
        switch (b.type) {
        case FOURCC('s', 't', 't', 's'): if (!sb.has_stts) { sb.stts = b; sb.has_stts = true; } break;
        case FOURCC('c', 't', 't', 's'): if (!sb.has_ctts) { sb.ctts = b; sb.has_ctts = true; } break;
        case FOURCC('s', 't', 's', 's'): if (!sb.has_stss) { sb.stss = b; sb.has_stss = true; } break;
        case FOURCC('s', 't', 's', 'c'): if (!sb.has_stsc) { sb.stsc = b; sb.has_stsc = true; } break;
        case FOURCC('s', 't', 's', 'z'):
        case FOURCC('s', 't', 'z', '2'):
            if (!sb.has_stsz) { sb.stsz = b; sb.has_stsz = true; sb.z2 = b.type == FOURCC('s', 't', 'z', '2'); }
            break;
        case FOURCC('s', 't', 'c', 'o'):
        case FOURCC('c', 'o', '6', '4'):
            if (!sb.has_stco) { sb.stco = b; sb.has_stco = true; sb.co64 = b.type == FOURCC('c', 'o', '6', '4'); }
            break;
        default: break;
        }
    }
    if (k < 0) return k;
    return build_samples(r, t, &sb, fragmented);
}

static int parse_moov(reader *r, const span *moov)
{
    box mvhd = {0}, mvex = {0};
    int e;
    unsigned v = 0;
    if ((e = find_required(r, moov, FOURCC('m', 'v', 'h', 'd'), "the moov", &mvhd)) < 0) return e;
    if ((e = full_box(r, &mvhd, 16, &v, NULL)) < 0) return e;
    if (v == 1 && (e = full_box(r, &mvhd, 28, NULL, NULL)) < 0) return e;
    r->idx->creation_time = v == 1 ? be64(mvhd.body.p + 4) : be32(mvhd.body.p + 4);
    r->idx->movie_timescale = be32(mvhd.body.p + (v == 1 ? 20 : 12));
    int k = find_box(r, moov, FOURCC('m', 'v', 'e', 'x'), &mvex);
    if (k < 0) return k;
    r->info->fragmented = k == 1;
    size_t pos = 0;
    box b = {0};
    while ((k = next_box(r, moov, &pos, &b)) > 0)
        if (b.type == FOURCC('t', 'r', 'a', 'k') && (e = parse_trak(r, &b, r->info->fragmented)) < 0) return e;
    if (k < 0) return k;
    if (r->idx->n_tracks == 0) return fail(r, "mp4: no H.264, H.265, A-law or mu-law track");
    for (unsigned i = 0; i < r->idx->n_tracks; i++) {
        qcam_mp4_track *t = &r->idx->tracks[i];
        r->ts[i].next_dts = qcam_mp4_track_duration(t);
        r->ts[i].has_samples = t->n_samples > 0;
        r->ts[i].sdi = 1;
    }
    if (!r->info->fragmented) return 0;
    pos = 0;
    while ((k = next_box(r, &mvex.body, &pos, &b)) > 0) {
        if (b.type != FOURCC('t', 'r', 'e', 'x')) continue;
        if ((e = full_box(r, &b, 20, NULL, NULL)) < 0) return e;
        uint32_t id = be32(b.body.p + 4);
        for (unsigned i = 0; i < r->idx->n_tracks; i++)
            if (r->idx->tracks[i].id == id) {
                track_state *ts = &r->ts[i];
                ts->sdi = be32(b.body.p + 8);
                ts->dur = be32(b.body.p + 12);
                ts->size = be32(b.body.p + 16);
                ts->flags = be32(b.body.p + 20);
            }
    }
    return k < 0 ? k : 0;
}

/* ---- moof ------------------------------------------------------------------- */

static int list_push(sample_list *l, const qcam_mp4_sample *s)
{
    qcam_mp4_sample *v = qcam_mp4_grow(l->v, &l->cap, l->n + 1, sizeof *v, 64);
    if (!v) return -ENOMEM;
    l->v = v;
    l->v[l->n++] = *s;
    return 0;
}

typedef struct {
    sample_list s[QCAM_MP4_MAX_TRACKS];
    bool started[QCAM_MP4_MAX_TRACKS]; /* a traf of this track was seen */
    uint64_t first_dts[QCAM_MP4_MAX_TRACKS]; /* track had no samples: its first decode time */
    uint64_t gap[QCAM_MP4_MAX_TRACKS];       /* extend the last committed sample by this */
    uint64_t next_dts[QCAM_MP4_MAX_TRACKS];  /* decode time after the pending samples */
    uint64_t pending;                        /* samples in all lists */
    bool beyond;                             /* a sample lies past the complete boxes */
} fragment;

/* A traf's tfdt says its first sample decodes at `dts`: fill a gap. */
static void apply_tfdt(reader *r, fragment *f, unsigned ti, uint64_t dts)
{
    sample_list *l = &f->s[ti];
    if (!r->ts[ti].has_samples && l->n == 0) {
        f->first_dts[ti] = dts;
        f->next_dts[ti] = dts;
        return;
    }
    if (dts <= f->next_dts[ti]) return; /* overlaps: keep the durations */
    uint64_t gap = dts - f->next_dts[ti];
    if (l->n > 0) {
        qcam_mp4_sample *last = &l->v[l->n - 1];
        if (gap <= UINT32_MAX - last->duration) {
            last->duration += (uint32_t)gap;
            f->next_dts[ti] = dts;
        }
    } else {
        const qcam_mp4_track *t = &r->idx->tracks[ti];
        uint32_t d = t->n_samples ? t->samples[t->n_samples - 1].duration : 0;
        if (t->n_samples && gap <= UINT32_MAX - d - f->gap[ti]) {
            f->gap[ti] += gap;
            f->next_dts[ti] = dts;
        }
    }
}

static int parse_traf(reader *r, fragment *f, const box *traf, uint64_t moof_at, bool first_traf,
                      uint64_t *data_end)
{
    box tfhd = {0}, tfdt = {0};
    int e;
    uint32_t flags = 0;
    if ((e = find_required(r, &traf->body, FOURCC('t', 'f', 'h', 'd'), "a traf", &tfhd)) < 0) return e;
    if ((e = full_box(r, &tfhd, 4, NULL, &flags)) < 0) return e;
    uint32_t id = be32(tfhd.body.p + 4);
    size_t need = 4 + ((flags & 1) ? 8 : 0) + ((flags & 2) ? 4 : 0) + ((flags & 8) ? 4 : 0) +
                  ((flags & 0x10) ? 4 : 0) + ((flags & 0x20) ? 4 : 0);
    if ((e = full_box(r, &tfhd, need, NULL, NULL)) < 0) return e;
    int ti = -1;
    for (unsigned i = 0; i < r->idx->n_tracks; i++)
        if (r->idx->tracks[i].id == id) ti = (int)i;
    if (ti < 0) return 0; /* a track we do not keep */
    track_state *ts = &r->ts[ti];
    const uint8_t *p = tfhd.body.p + 8;
    uint64_t base;
    if (flags & 1) {
        base = be64(p);
        p += 8;
    } else {
        base = (flags & 0x20000) || first_traf ? moof_at : *data_end;
    }
    if (flags & 2) p += 4;
    uint32_t def_dur = ts->dur, def_size = ts->size, def_flags = ts->flags;
    if (flags & 8) { def_dur = be32(p); p += 4; }
    if (flags & 0x10) { def_size = be32(p); p += 4; }
    if (flags & 0x20) { def_flags = be32(p); p += 4; }

    if (!f->started[ti]) {
        f->started[ti] = true;
        f->next_dts[ti] = ts->next_dts;
    }
    int k = find_box(r, &traf->body, FOURCC('t', 'f', 'd', 't'), &tfdt);
    if (k < 0) return k;
    if (k == 1) {
        unsigned v = 0;
        if ((e = full_box(r, &tfdt, 4, &v, NULL)) < 0) return e;
        if (v == 1 && (e = full_box(r, &tfdt, 8, NULL, NULL)) < 0) return e;
        apply_tfdt(r, f, (unsigned)ti, v == 1 ? be64(tfdt.body.p + 4) : be32(tfdt.body.p + 4));
    } else if (!ts->has_samples && f->s[ti].n == 0) {
        f->first_dts[ti] = f->next_dts[ti];
    }

    uint64_t pos_data = base;
    bool first_trun = true;
    size_t pos = 0;
    box b = {0};
    while ((k = next_box(r, &traf->body, &pos, &b)) > 0) {
        if (b.type != FOURCC('t', 'r', 'u', 'n')) continue;
        unsigned v = 0;
        uint32_t tf = 0;
        if ((e = full_box(r, &b, 4, &v, &tf)) < 0) return e;
        uint32_t count = be32(b.body.p + 4);
        size_t hdr = 8 + ((tf & 1) ? 4 : 0) + ((tf & 4) ? 4 : 0);
        if ((e = full_box(r, &b, hdr - 4, NULL, NULL)) < 0) return e;
        const uint8_t *q = b.body.p + 8;
        if (tf & 1) {
            int32_t off = (int32_t)be32(q);
            q += 4;
            if (off < 0 && (uint64_t)(-(int64_t)off) > base) {
                f->beyond = true; /* points before the file: not a fragment we can use */
                return 0;
            }
            pos_data = base + (uint64_t)(int64_t)off;
            if (off >= 0 && pos_data < base) f->beyond = true;
        } else if (first_trun) {
            pos_data = base;
        }
        first_trun = false;
        uint32_t first_flags = def_flags;
        bool has_first = tf & 4;
        if (has_first) {
            first_flags = be32(q);
            q += 4;
        }
        unsigned per = 4u * (((tf & 0x100) != 0) + ((tf & 0x200) != 0) + ((tf & 0x400) != 0) + ((tf & 0x800) != 0));
        uint64_t room = b.body.n - hdr;
        if ((per && (uint64_t)count * per > room) || r->records + f->pending + count > r->size)
            return fail(r, "mp4: trun sample count %u at offset %llu is more than %s holds", count, (ull)b.at,
                        per && (uint64_t)count * per > room ? "its box" : "the file");
        for (uint32_t i = 0; i < count; i++) {
            uint32_t dur = def_dur, size = def_size, sf = (i == 0 && has_first) ? first_flags : def_flags;
            int32_t cts = 0;
            if (tf & 0x100) { dur = be32(q); q += 4; }
            if (tf & 0x200) { size = be32(q); q += 4; }
            if (tf & 0x400) { sf = be32(q); q += 4; }
            if (tf & 0x800) { cts = (int32_t)be32(q); q += 4; }
            qcam_mp4_sample s = {pos_data, size, dur, cts, !(sf & 0x10000)};
            if (pos_data > r->end || size > r->end - pos_data) f->beyond = true;
            if ((e = list_push(&f->s[ti], &s)) < 0) return e;
            f->pending++;
            f->next_dts[ti] += dur;
            pos_data += size;
            if (pos_data < size) f->beyond = true; /* wrapped */
        }
    }
    if (k < 0) return k;
    *data_end = pos_data;
    return 0;
}

/* Parse the moof whose payload is `body` (its header at `at`); commit its
 * samples unless some lie past the complete boxes (*torn = true then). */
static int parse_moof(reader *r, const span *body, uint64_t at, bool *torn)
{
    fragment f;
    memset(&f, 0, sizeof f);
    int e = 0;
    size_t pos = 0;
    box b = {0};
    int k;
    bool first = true;
    uint64_t data_end = at;
    while ((k = next_box(r, body, &pos, &b)) > 0) {
        if (b.type != FOURCC('t', 'r', 'a', 'f')) continue;
        if ((e = parse_traf(r, &f, &b, at, first, &data_end)) < 0) goto out;
        first = false;
        if (f.beyond) break;
    }
    if (k < 0) {
        e = k;
        goto out;
    }
    *torn = f.beyond;
    if (f.beyond) goto out;
    for (unsigned i = 0; i < r->idx->n_tracks; i++) {
        if (!f.started[i]) continue;
        qcam_mp4_track *t = &r->idx->tracks[i];
        if (f.gap[i] && t->n_samples) t->samples[t->n_samples - 1].duration += (uint32_t)f.gap[i];
        if (!r->ts[i].has_samples && f.s[i].n > 0) t->base_dts = f.first_dts[i];
        for (size_t j = 0; j < f.s[i].n; j++) {
            if ((e = qcam_mp4_track_push(t, &f.s[i].v[j])) < 0) goto out;
            r->records++;
        }
        if (f.s[i].n > 0) r->ts[i].has_samples = true;
        r->ts[i].next_dts = f.next_dts[i];
    }
    r->info->fragments++;
out:
    for (unsigned i = 0; i < QCAM_MP4_MAX_TRACKS; i++) free(f.s[i].v);
    return e;
}

/* ---- the file ---------------------------------------------------------------- */

/* Read a top-level box's payload into memory. */
static int load_box(reader *r, uint64_t at, uint64_t size, size_t hdr, uint32_t type, uint8_t **out)
{
    if (size - hdr > MAX_META_BOX)
        return fail(r, "mp4: %s box at offset %llu is too big (%llu bytes)", fcc(type).s, (ull)at, (ull)size);
    uint8_t *buf = malloc(size - hdr ? (size_t)(size - hdr) : 1);
    if (!buf) return -ENOMEM;
    int e = read_at(r, at + hdr, buf, (size_t)(size - hdr));
    if (e < 0) {
        free(buf);
        return e;
    }
    *out = buf;
    return 0;
}

static int read_file(reader *r)
{
    qcam_mp4_read_info *info = r->info;
    uint32_t type;
    uint64_t size;
    size_t hdr = 0;
    if (r->size == 0) return fail(r, "mp4: the file is empty");
    if (r->size < 8) return fail(r, "mp4: not an MP4 file (%llu bytes, no ftyp box)", (ull)r->size);
    /* An MP4 opens with its ftyp box; anything else is named by its first bytes
     * (what `file` or a hex dump shows), not by where a box type would be. */
    uint8_t head[8];
    int e0 = read_at(r, 0, head, sizeof head);
    if (e0 < 0) return e0;
    if (be32(head + 4) != FOURCC('f', 't', 'y', 'p'))
        return fail(r, "mp4: not an MP4 file (it starts with %s, not an ftyp box)", fcc(be32(head)).s);
    /* Pass 1: where the complete boxes end. */
    uint64_t pos = 0;
    uint32_t torn_type = 0;
    int k;
    while (pos < r->size) {
        if ((k = top_box(r, pos, &type, &size, &hdr)) < 0) return k;
        if (k == 0) {
            torn_type = type;
            break;
        }
        pos += size;
    }
    r->end = pos;
    if (r->end < r->size) {
        fourcc_str name = fcc(torn_type);
        const char *bare = name.s[0] == '\'' ? name.s + 1 : "box"; /* 'moof' -> moof */
        if (hdr == 0)
            snprintf(info->torn_why, sizeof info->torn_why, "truncated box header at offset %llu", (ull)pos);
        else
            snprintf(info->torn_why, sizeof info->torn_why, "truncated %.4s at offset %llu (%llu of %llu bytes)",
                     bare, (ull)pos, (ull)(r->size - pos), (ull)size);
    }

    /* Pass 2: the moov and the fragments. */
    pos = 0;
    while (pos < r->end) {
        if ((k = top_box(r, pos, &type, &size, &hdr)) < 0) return k;
        if (k == 0) break; /* cannot happen: pass 1 saw it complete */
        if (type == FOURCC('m', 'o', 'o', 'v')) {
            if (r->have_moov && info->fragmented) {
                /* an in-place finalize cut before its last write
                 * (mp4_finalize.c): the fragments are whole, the new moov goes */
                snprintf(info->torn_why, sizeof info->torn_why, "an unfinished finalize: a second moov at offset %llu",
                         (ull)pos);
                r->end = pos;
                break;
            }
            if (r->have_moov) return fail(r, "mp4: a second moov box at offset %llu", (ull)pos);
            uint8_t *buf;
            int e = load_box(r, pos, size, hdr, type, &buf);
            if (e < 0) return e;
            span s = {buf, (size_t)(size - hdr), pos + hdr};
            e = parse_moov(r, &s);
            free(buf);
            if (e < 0) return e;
            r->have_moov = true;
        } else if (type == FOURCC('m', 'o', 'o', 'f')) {
            if (!r->have_moov) return fail(r, "mp4: moof at offset %llu before the moov", (ull)pos);
            if (!info->fragmented) return fail(r, "mp4: moof at offset %llu, but the moov has no mvex", (ull)pos);
            uint8_t *buf;
            int e = load_box(r, pos, size, hdr, type, &buf);
            if (e < 0) return e;
            span s = {buf, (size_t)(size - hdr), pos + hdr};
            bool torn = false;
            e = parse_moof(r, &s, pos, &torn);
            free(buf);
            if (e < 0) return e;
            if (torn) {
                char why[sizeof info->torn_why];
                snprintf(why, sizeof why, "%s", info->torn_why);
                if (why[0])
                    snprintf(info->torn_why, sizeof info->torn_why, "incomplete fragment at offset %llu: %.100s",
                             (ull)pos, why);
                else
                    snprintf(info->torn_why, sizeof info->torn_why,
                             "incomplete fragment at offset %llu: its samples are not all in the file", (ull)pos);
                r->end = pos;
                break;
            }
        }
        pos += size;
    }
    if (!r->have_moov) {
        if (r->end < r->size)
            return fail(r, "mp4: no moov box before the end of the file (%s)", info->torn_why);
        return fail(r, "mp4: no moov box");
    }
    /* The edit lists: a delayed track starts later (as a fragmented file's
     * tfdt says it), and presentation starts at the first edit's media time. */
    for (unsigned i = 0; i < r->idx->n_tracks; i++) {
        qcam_mp4_track *t = &r->idx->tracks[i];
        if (r->ts[i].edit_delay > UINT64_MAX - t->base_dts)
            return fail(r, "mp4: track %u starts too late", t->id);
        t->base_dts += r->ts[i].edit_delay;
        info->media_start[i] = r->ts[i].edit_media;
    }
    /* Everything indexed lies before the torn tail, so cutting it keeps them all. */
    for (unsigned i = 0; i < r->idx->n_tracks; i++) {
        const qcam_mp4_track *t = &r->idx->tracks[i];
        for (size_t j = 0; j < t->n_samples; j++)
            if (t->samples[j].offset + t->samples[j].size > r->end)
                return fail(r, "mp4: sample %zu of track %u lies in the torn tail at offset %llu", j, t->id,
                            (ull)r->end);
    }
    info->end = r->end;
    info->torn = r->end < r->size;
    if (!info->torn) info->torn_why[0] = 0;
    return 0;
}

int qcam_mp4_read(const qcam_mp4_source *src, qcam_mp4_index *idx, qcam_mp4_read_info *info)
{
    memset(info, 0, sizeof *info);
    reader r;
    memset(&r, 0, sizeof r);
    r.src = src;
    r.idx = idx;
    r.info = info;
    r.size = src->size;
    int e = read_file(&r);
    if (e < 0) {
        qcam_mp4_index_clear(idx);
        if (e != -EBADMSG) info->error[0] = 0;
        info->fragments = 0;
        memset(info->media_start, 0, sizeof info->media_start);
        info->end = 0;
        info->torn = false;
    }
    return e;
}
