/* ISO BMFF boxes (ISO/IEC 14496-12) for the writer and finalize. */
#include "mp4_box.h"

#include <stdlib.h>
#include <string.h>

void qcam_mp4_buf_free(qcam_mp4_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

bool qcam_mp4_buf_reserve(qcam_mp4_buf *b, size_t n)
{
    if (b->oom) return false;
    if (b->cap - b->len >= n) return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void qcam_mp4_put8(qcam_mp4_buf *b, uint8_t v)
{
    if (qcam_mp4_buf_reserve(b, 1)) b->p[b->len++] = v;
}

void qcam_mp4_put16(qcam_mp4_buf *b, uint16_t v)
{
    if (!qcam_mp4_buf_reserve(b, 2)) return;
    b->p[b->len++] = (uint8_t)(v >> 8);
    b->p[b->len++] = (uint8_t)v;
}

void qcam_mp4_put24(qcam_mp4_buf *b, uint32_t v)
{
    if (!qcam_mp4_buf_reserve(b, 3)) return;
    b->p[b->len++] = (uint8_t)(v >> 16);
    b->p[b->len++] = (uint8_t)(v >> 8);
    b->p[b->len++] = (uint8_t)v;
}

void qcam_mp4_put32(qcam_mp4_buf *b, uint32_t v)
{
    if (!qcam_mp4_buf_reserve(b, 4)) return;
    uint8_t *p = b->p + b->len;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    b->len += 4;
}

void qcam_mp4_put64(qcam_mp4_buf *b, uint64_t v)
{
    qcam_mp4_put32(b, (uint32_t)(v >> 32));
    qcam_mp4_put32(b, (uint32_t)v);
}

void qcam_mp4_put_bytes(qcam_mp4_buf *b, const void *p, size_t n)
{
    if (!n || !qcam_mp4_buf_reserve(b, n)) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void qcam_mp4_put_zeros(qcam_mp4_buf *b, size_t n)
{
    if (!n || !qcam_mp4_buf_reserve(b, n)) return;
    memset(b->p + b->len, 0, n);
    b->len += n;
}

void qcam_mp4_put_fourcc(qcam_mp4_buf *b, const char *fourcc) { qcam_mp4_put_bytes(b, fourcc, 4); }

void qcam_mp4_patch32(qcam_mp4_buf *b, size_t at, uint32_t v)
{
    if (b->oom || at + 4 > b->len) return;
    b->p[at] = (uint8_t)(v >> 24);
    b->p[at + 1] = (uint8_t)(v >> 16);
    b->p[at + 2] = (uint8_t)(v >> 8);
    b->p[at + 3] = (uint8_t)v;
}

size_t qcam_mp4_box(qcam_mp4_buf *b, const char *type)
{
    size_t at = b->len;
    qcam_mp4_put32(b, 0);
    qcam_mp4_put_fourcc(b, type);
    return at;
}

size_t qcam_mp4_full_box(qcam_mp4_buf *b, const char *type, uint8_t version, uint32_t flags)
{
    size_t at = qcam_mp4_box(b, type);
    qcam_mp4_put32(b, (uint32_t)version << 24 | (flags & 0xffffff));
    return at;
}

void qcam_mp4_box_end(qcam_mp4_buf *b, size_t at) { qcam_mp4_patch32(b, at, (uint32_t)(b->len - at)); }

static void put_matrix(qcam_mp4_buf *b)
{
    static const uint32_t unity[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
    for (int i = 0; i < 9; i++) qcam_mp4_put32(b, unity[i]);
}

static bool has_codec(const qcam_mp4_index *idx, qcam_mp4_codec c)
{
    for (unsigned i = 0; i < idx->n_tracks; i++)
        if (idx->tracks[i].codec == c) return true;
    return false;
}

void qcam_mp4_write_ftyp(qcam_mp4_buf *b, const qcam_mp4_index *idx)
{
    size_t at = qcam_mp4_box(b, "ftyp");
    qcam_mp4_put_fourcc(b, "isom");
    qcam_mp4_put32(b, 0x200);
    qcam_mp4_put_fourcc(b, "isom");
    qcam_mp4_put_fourcc(b, "iso6");
    qcam_mp4_put_fourcc(b, "iso2");
    if (has_codec(idx, QCAM_MP4_AVC)) qcam_mp4_put_fourcc(b, "avc1");
    qcam_mp4_put_fourcc(b, "mp41");
    qcam_mp4_box_end(b, at);
}

uint64_t qcam_mp4_movie_units(const qcam_mp4_index *idx, const qcam_mp4_track *t, uint64_t v)
{
    if (!t->timescale) return 0;
    uint64_t ms = idx->movie_timescale ? idx->movie_timescale : 1000;
    return (v * ms + t->timescale - 1) / t->timescale;
}

void qcam_mp4_write_mvhd(qcam_mp4_buf *b, const qcam_mp4_index *idx, uint64_t duration)
{
    bool v1 = duration > UINT32_MAX || idx->creation_time > UINT32_MAX;
    size_t at = qcam_mp4_full_box(b, "mvhd", v1, 0);
    if (v1) {
        qcam_mp4_put64(b, idx->creation_time);
        qcam_mp4_put64(b, idx->creation_time);
        qcam_mp4_put32(b, idx->movie_timescale ? idx->movie_timescale : 1000);
        qcam_mp4_put64(b, duration);
    } else {
        qcam_mp4_put32(b, (uint32_t)idx->creation_time);
        qcam_mp4_put32(b, (uint32_t)idx->creation_time);
        qcam_mp4_put32(b, idx->movie_timescale ? idx->movie_timescale : 1000);
        qcam_mp4_put32(b, (uint32_t)duration);
    }
    qcam_mp4_put32(b, 0x00010000); /* rate 1.0 */
    qcam_mp4_put16(b, 0x0100);     /* volume 1.0 */
    qcam_mp4_put_zeros(b, 10);
    put_matrix(b);
    qcam_mp4_put_zeros(b, 24); /* pre_defined */
    uint32_t next = 1;
    for (unsigned i = 0; i < idx->n_tracks; i++)
        if (idx->tracks[i].id >= next) next = idx->tracks[i].id + 1;
    qcam_mp4_put32(b, next);
    qcam_mp4_box_end(b, at);
}

static bool is_video(const qcam_mp4_track *t) { return t->codec == QCAM_MP4_AVC || t->codec == QCAM_MP4_HEVC; }

static void write_sample_entry(qcam_mp4_buf *b, const qcam_mp4_track *t)
{
    static const char *const names[] = {NULL, "avc1", "hvc1", "alaw", "ulaw"};
    size_t at = qcam_mp4_box(b, names[t->codec]);
    qcam_mp4_put_zeros(b, 6);
    qcam_mp4_put16(b, 1); /* data_reference_index */
    if (is_video(t)) {
        qcam_mp4_put_zeros(b, 16); /* pre_defined, reserved */
        qcam_mp4_put16(b, (uint16_t)t->width);
        qcam_mp4_put16(b, (uint16_t)t->height);
        qcam_mp4_put32(b, 0x00480000); /* 72 dpi */
        qcam_mp4_put32(b, 0x00480000);
        qcam_mp4_put32(b, 0);
        qcam_mp4_put16(b, 1); /* frame_count */
        uint8_t name[32] = {0};
        static const char label[] = "qcam";
        name[0] = sizeof label - 1;
        memcpy(name + 1, label, sizeof label - 1);
        qcam_mp4_put_bytes(b, name, sizeof name);
        qcam_mp4_put16(b, 0x0018);
        qcam_mp4_put16(b, 0xffff);
        size_t c = qcam_mp4_box(b, t->codec == QCAM_MP4_AVC ? "avcC" : "hvcC");
        qcam_mp4_put_bytes(b, t->config, t->config_len);
        qcam_mp4_box_end(b, c);
    } else {
        qcam_mp4_put_zeros(b, 8); /* version 0 sound description */
        qcam_mp4_put16(b, t->channels ? t->channels : 1);
        qcam_mp4_put16(b, 16); /* samplesize: 16 (the decoded sample) */
        qcam_mp4_put16(b, 0);
        qcam_mp4_put16(b, 0);
        qcam_mp4_put32(b, t->sample_rate << 16);
    }
    qcam_mp4_box_end(b, at);
}

/* G.711 in a regular file, as QuickTime lays out uncompressed sound and as
 * ffmpeg and GStreamer's qtdemux both read it: one sample per audio sample
 * (stsz 1 byte per channel, stts delta 1), chunks counted in audio samples.
 * (In fragments each frame is one sample: that is what both read there.) */
static void write_g711_tables(qcam_mp4_buf *b, const qcam_mp4_track *t, const qcam_mp4_chunks *ch)
{
    uint32_t per = t->channels ? t->channels : 1; /* bytes per audio sample */
    uint64_t total = 0;
    for (size_t i = 0; i < t->n_samples; i++) total += t->samples[i].size / per;
    size_t at = qcam_mp4_full_box(b, "stts", 0, 0);
    qcam_mp4_put32(b, 1);
    qcam_mp4_put32(b, (uint32_t)total);
    qcam_mp4_put32(b, 1);
    qcam_mp4_box_end(b, at);
    at = qcam_mp4_full_box(b, "stsc", 0, 0);
    size_t count_at = b->len;
    qcam_mp4_put32(b, 0);
    uint32_t runs = 0, prev = 0;
    for (size_t c = 0; c < ch->n_chunks; c++) {
        size_t end = c + 1 < ch->n_chunks ? ch->chunk_first[c + 1] : t->n_samples;
        uint64_t bytes = 0;
        for (size_t i = ch->chunk_first[c]; i < end; i++) bytes += t->samples[i].size;
        uint32_t samples = (uint32_t)(bytes / per);
        if (samples != prev) {
            qcam_mp4_put32(b, (uint32_t)(c + 1));
            qcam_mp4_put32(b, samples);
            qcam_mp4_put32(b, 1);
            runs++;
            prev = samples;
        }
    }
    qcam_mp4_patch32(b, count_at, runs);
    qcam_mp4_box_end(b, at);
    at = qcam_mp4_full_box(b, "stsz", 0, 0);
    qcam_mp4_put32(b, per);
    qcam_mp4_put32(b, (uint32_t)total);
    qcam_mp4_box_end(b, at);
    at = qcam_mp4_full_box(b, ch->co64 ? "co64" : "stco", 0, 0);
    qcam_mp4_put32(b, (uint32_t)ch->n_chunks);
    for (size_t c = 0; c < ch->n_chunks; c++) {
        if (ch->co64) qcam_mp4_put64(b, ch->chunk_offset[c]);
        else qcam_mp4_put32(b, (uint32_t)ch->chunk_offset[c]);
    }
    qcam_mp4_box_end(b, at);
}

/* Sample tables. A fragmented file's are empty (the samples are in the
 * fragments). */
static void write_stbl(qcam_mp4_buf *b, const qcam_mp4_track *t, const qcam_mp4_chunks *ch)
{
    size_t stbl = qcam_mp4_box(b, "stbl");
    size_t at = qcam_mp4_full_box(b, "stsd", 0, 0);
    qcam_mp4_put32(b, 1);
    write_sample_entry(b, t);
    qcam_mp4_box_end(b, at);
    size_t n = ch ? t->n_samples : 0;
    const qcam_mp4_sample *s = t->samples;
    if (!is_video(t) && n) {
        write_g711_tables(b, t, ch);
        qcam_mp4_box_end(b, stbl);
        return;
    }

    /* stts: runs of equal durations */
    at = qcam_mp4_full_box(b, "stts", 0, 0);
    size_t count_at = b->len;
    qcam_mp4_put32(b, 0);
    uint32_t runs = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && s[j].duration == s[i].duration) j++;
        qcam_mp4_put32(b, (uint32_t)(j - i));
        qcam_mp4_put32(b, s[i].duration);
        runs++;
        i = j;
    }
    qcam_mp4_patch32(b, count_at, runs);
    qcam_mp4_box_end(b, at);

    /* ctts only when some sample has a composition offset */
    bool any_cts = false;
    for (size_t i = 0; i < n && !any_cts; i++) any_cts = s[i].cts != 0;
    if (any_cts) {
        at = qcam_mp4_full_box(b, "ctts", 1, 0);
        count_at = b->len;
        qcam_mp4_put32(b, 0);
        runs = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && s[j].cts == s[i].cts) j++;
            qcam_mp4_put32(b, (uint32_t)(j - i));
            qcam_mp4_put32(b, (uint32_t)s[i].cts);
            runs++;
            i = j;
        }
        qcam_mp4_patch32(b, count_at, runs);
        qcam_mp4_box_end(b, at);
    }

    /* stss: only when not every sample is a sync sample */
    if (is_video(t)) {
        size_t keys = 0;
        for (size_t i = 0; i < n; i++) keys += s[i].key;
        if (keys < n || n == 0) {
            at = qcam_mp4_full_box(b, "stss", 0, 0);
            qcam_mp4_put32(b, (uint32_t)keys);
            for (size_t i = 0; i < n; i++)
                if (s[i].key) qcam_mp4_put32(b, (uint32_t)(i + 1));
            qcam_mp4_box_end(b, at);
        }
    }

    /* stsc: runs of chunks with the same number of samples */
    at = qcam_mp4_full_box(b, "stsc", 0, 0);
    count_at = b->len;
    qcam_mp4_put32(b, 0);
    runs = 0;
    size_t nch = ch ? ch->n_chunks : 0;
    uint32_t prev = 0;
    for (size_t c = 0; c < nch; c++) {
        size_t end = c + 1 < nch ? ch->chunk_first[c + 1] : n;
        uint32_t per = (uint32_t)(end - ch->chunk_first[c]);
        if (per != prev) {
            qcam_mp4_put32(b, (uint32_t)(c + 1));
            qcam_mp4_put32(b, per);
            qcam_mp4_put32(b, 1);
            runs++;
            prev = per;
        }
    }
    qcam_mp4_patch32(b, count_at, runs);
    qcam_mp4_box_end(b, at);

    /* stsz: one size for all when they agree */
    at = qcam_mp4_full_box(b, "stsz", 0, 0);
    bool same = n > 0;
    for (size_t i = 1; i < n && same; i++) same = s[i].size == s[0].size;
    qcam_mp4_put32(b, same ? s[0].size : 0);
    qcam_mp4_put32(b, (uint32_t)n);
    if (!same && n && qcam_mp4_buf_reserve(b, n * 4))
        for (size_t i = 0; i < n; i++) qcam_mp4_put32(b, s[i].size);
    qcam_mp4_box_end(b, at);

    bool co64 = ch && ch->co64;
    at = qcam_mp4_full_box(b, co64 ? "co64" : "stco", 0, 0);
    qcam_mp4_put32(b, (uint32_t)nch);
    for (size_t c = 0; c < nch; c++) {
        if (co64) qcam_mp4_put64(b, ch->chunk_offset[c]);
        else qcam_mp4_put32(b, (uint32_t)ch->chunk_offset[c]);
    }
    qcam_mp4_box_end(b, at);
    qcam_mp4_box_end(b, stbl);
}

void qcam_mp4_write_trak(qcam_mp4_buf *b, const qcam_mp4_index *idx, const qcam_mp4_track *t,
                         const qcam_mp4_chunks *chunks, uint64_t duration, uint64_t edit_delay)
{
    bool video = is_video(t);
    size_t trak = qcam_mp4_box(b, "trak");
    bool v1 = duration + edit_delay > UINT32_MAX;
    size_t at = qcam_mp4_full_box(b, "tkhd", v1, 3); /* enabled, in movie */
    if (v1) {
        qcam_mp4_put64(b, idx->creation_time);
        qcam_mp4_put64(b, idx->creation_time);
        qcam_mp4_put32(b, t->id);
        qcam_mp4_put32(b, 0);
        qcam_mp4_put64(b, duration + edit_delay);
    } else {
        qcam_mp4_put32(b, (uint32_t)idx->creation_time);
        qcam_mp4_put32(b, (uint32_t)idx->creation_time);
        qcam_mp4_put32(b, t->id);
        qcam_mp4_put32(b, 0);
        qcam_mp4_put32(b, (uint32_t)(duration + edit_delay));
    }
    qcam_mp4_put_zeros(b, 8);
    qcam_mp4_put16(b, 0); /* layer */
    qcam_mp4_put16(b, 0); /* alternate_group */
    qcam_mp4_put16(b, video ? 0 : 0x0100);
    qcam_mp4_put16(b, 0);
    put_matrix(b);
    qcam_mp4_put32(b, video ? (uint32_t)t->width << 16 : 0);
    qcam_mp4_put32(b, video ? (uint32_t)t->height << 16 : 0);
    qcam_mp4_box_end(b, at);

    if (edit_delay > 0 && chunks) {
        size_t edts = qcam_mp4_box(b, "edts");
        at = qcam_mp4_full_box(b, "elst", 1, 0);
        qcam_mp4_put32(b, 2);
        qcam_mp4_put64(b, edit_delay); /* empty edit: the track starts later */
        qcam_mp4_put64(b, UINT64_MAX); /* media_time -1 */
        qcam_mp4_put32(b, 0x00010000);
        qcam_mp4_put64(b, duration);
        qcam_mp4_put64(b, 0);
        qcam_mp4_put32(b, 0x00010000);
        qcam_mp4_box_end(b, at);
        qcam_mp4_box_end(b, edts);
    }

    size_t mdia = qcam_mp4_box(b, "mdia");
    uint64_t media_dur = chunks ? qcam_mp4_track_duration(t) : 0;
    v1 = media_dur > UINT32_MAX;
    at = qcam_mp4_full_box(b, "mdhd", v1, 0);
    if (v1) {
        qcam_mp4_put64(b, idx->creation_time);
        qcam_mp4_put64(b, idx->creation_time);
        qcam_mp4_put32(b, t->timescale);
        qcam_mp4_put64(b, media_dur);
    } else {
        qcam_mp4_put32(b, (uint32_t)idx->creation_time);
        qcam_mp4_put32(b, (uint32_t)idx->creation_time);
        qcam_mp4_put32(b, t->timescale);
        qcam_mp4_put32(b, (uint32_t)media_dur);
    }
    qcam_mp4_put16(b, 0x55c4); /* "und" */
    qcam_mp4_put16(b, 0);
    qcam_mp4_box_end(b, at);

    at = qcam_mp4_full_box(b, "hdlr", 0, 0);
    qcam_mp4_put32(b, 0);
    qcam_mp4_put_fourcc(b, video ? "vide" : "soun");
    qcam_mp4_put_zeros(b, 12);
    const char *name = video ? "VideoHandler" : "SoundHandler";
    qcam_mp4_put_bytes(b, name, strlen(name) + 1);
    qcam_mp4_box_end(b, at);

    size_t minf = qcam_mp4_box(b, "minf");
    if (video) {
        at = qcam_mp4_full_box(b, "vmhd", 0, 1);
        qcam_mp4_put_zeros(b, 8);
    } else {
        at = qcam_mp4_full_box(b, "smhd", 0, 0);
        qcam_mp4_put_zeros(b, 4);
    }
    qcam_mp4_box_end(b, at);
    size_t dinf = qcam_mp4_box(b, "dinf");
    size_t dref = qcam_mp4_full_box(b, "dref", 0, 0);
    qcam_mp4_put32(b, 1);
    at = qcam_mp4_full_box(b, "url ", 0, 1); /* data in this file */
    qcam_mp4_box_end(b, at);
    qcam_mp4_box_end(b, dref);
    qcam_mp4_box_end(b, dinf);
    write_stbl(b, t, chunks);
    qcam_mp4_box_end(b, minf);
    qcam_mp4_box_end(b, mdia);
    qcam_mp4_box_end(b, trak);
}
