/* qcam:ts — the transport stream reader (ts_read.h). */
#include "ts_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../video/annexb.h"
#include "../video/sps.h"
#include "ts_mux.h"

#define PKT QCAM_TS_PACKET
#define CHUNK_PACKETS 64
#define MOD33 (1ull << 33)

/* What one TS packet says (pointers into it). */
typedef struct {
    unsigned pid;
    bool pusi, rai, padded;
    const uint8_t *pl; /* payload, NULL when none */
    size_t pl_len;
} pkt_view;

static void view_packet(const uint8_t *p, pkt_view *v)
{
    v->pid = ((unsigned)(p[1] & 0x1f) << 8) | p[2];
    v->pusi = p[1] & 0x40;
    v->rai = v->padded = false;
    v->pl = NULL;
    v->pl_len = 0;
    unsigned afc = (p[3] >> 4) & 3;
    size_t at = 4;
    if (afc & 2) {
        unsigned af = p[4];
        if (5 + (size_t)af > PKT) return; /* an adaptation field longer than the packet: no payload */
        if (af > 0) v->rai = p[5] & 0x40;
        /* stuffing: one byte (an empty field) or 0xFF bytes at its end */
        v->padded = af == 0 || p[4 + af] == 0xff;
        at = 5 + (size_t)af;
    }
    if ((afc & 1) && at < PKT) {
        v->pl = p + at;
        v->pl_len = PKT - at;
    }
}

/* A PSI section at the start of a payload (pointer field first): its bytes,
 * CRC checked; NULL when it is not whole in this packet or damaged. */
static const uint8_t *psi_section(const pkt_view *v, unsigned table_id, size_t *len)
{
    if (!v->pusi || !v->pl || v->pl_len < 1) return NULL;
    size_t at = 1 + (size_t)v->pl[0];
    if (at + 3 > v->pl_len) return NULL;
    const uint8_t *s = v->pl + at;
    size_t n = 3 + (((size_t)(s[1] & 0x0f) << 8) | s[2]);
    if (s[0] != table_id || n < 12 || at + n > v->pl_len) return NULL;
    uint32_t crc = ((uint32_t)s[n - 4] << 24) | ((uint32_t)s[n - 3] << 16) | ((uint32_t)s[n - 2] << 8) | s[n - 1];
    if (qcam_ts_crc32(s, n - 4) != crc) return NULL;
    *len = n;
    return s;
}

static uint64_t read_ts(const uint8_t *p)
{
    return ((uint64_t)((p[0] >> 1) & 7) << 30) | ((uint64_t)p[1] << 22) | ((uint64_t)(p[2] >> 1) << 15) |
           ((uint64_t)p[3] << 7) | (uint64_t)(p[4] >> 1);
}

/* a - b modulo 2^33 as a signed step (wraps: |step| < 2^32) */
static int64_t step33(uint64_t a, uint64_t b)
{
    uint64_t d = (a - b) & (MOD33 - 1);
    return d >= (MOD33 >> 1) ? (int64_t)d - (int64_t)MOD33 : (int64_t)d;
}

/* The PES header at the start of a payload: its length (9 + header data),
 * PTS / DTS, and the ES bytes it announces (0: unbounded). false when it is
 * not one we read (no start code, not whole in this packet, no PTS). */
typedef struct {
    size_t head;
    uint64_t pts, dts;
    uint32_t expect;
} pes_head;

static bool parse_pes(const pkt_view *v, pes_head *h)
{
    const uint8_t *p = v->pl;
    if (!p || v->pl_len < 9 || p[0] || p[1] || p[2] != 1) return false;
    size_t head = 9 + (size_t)p[8];
    if (head > v->pl_len) return false;
    unsigned flags = p[7] >> 6;
    if (!(flags & 2) || p[8] < 5) return false;
    h->pts = read_ts(p + 9);
    h->dts = flags == 3 && p[8] >= 10 ? read_ts(p + 14) : h->pts;
    h->head = head;
    unsigned len = ((unsigned)p[4] << 8) | p[5];
    if (len && len < 3 + (unsigned)p[8]) return false;
    h->expect = len ? len - 3 - p[8] : 0;
    return true;
}

/* The PES being collected. */
typedef struct {
    bool active;
    uint64_t offset, end;
    int64_t pts, dts;
    uint64_t size;
    uint32_t expect;
    bool rai, padded;
    uint8_t prefix[QCAM_TS_PREFIX];
    size_t prefix_len;
} pes_state;

static void fail(qcam_ts_index *idx, const char *why)
{
    snprintf(idx->error, sizeof idx->error, "ts: %s", why);
}

/* Keyframe by NAL types and the picture size from an SPS, in the prefix. */
static bool look_at_nals(qcam_ts_index *idx, const uint8_t *p, size_t len)
{
    bool key = false;
    size_t pos = 0, start;
    const uint8_t *nal;
    size_t n;
    while (qcam_annexb_next_nal(p, len, &pos, &start, &nal, &n)) {
        int t = qcam_annexb_nal_type(idx->codec, nal, n);
        if (idx->codec == QCAM_CODEC_H264 ? t == 5 : t >= 16 && t <= 23) key = true;
        if (!idx->width && t == (idx->codec == QCAM_CODEC_H264 ? 7 : 33)) {
            qcam_sps_info si;
            if (qcam_sps_parse(idx->codec, nal, n, &si) == 0 && si.width > 0 && si.height > 0) {
                idx->width = si.width;
                idx->height = si.height;
            }
        }
    }
    return key;
}

static int push_frame(qcam_ts_index *idx, pes_state *c)
{
    c->active = false;
    if (!c->size || c->size > UINT32_MAX) return 0; /* nothing in it, or not a frame we hand out */
    if (idx->n_frames == idx->cap_frames) {
        size_t cap = idx->cap_frames ? idx->cap_frames * 2 : 256;
        qcam_ts_frame *f = realloc(idx->frames, cap * sizeof *f);
        if (!f) return -ENOMEM;
        idx->frames = f;
        idx->cap_frames = cap;
    }
    qcam_ts_frame *f = &idx->frames[idx->n_frames++];
    f->offset = c->offset;
    f->end = c->end;
    f->pts = c->pts;
    f->dts = c->dts;
    f->size = (uint32_t)c->size;
    f->key = look_at_nals(idx, c->prefix, c->prefix_len) || c->rai;
    if (f->key) idx->keyframes++;
    return 0;
}

static void add_bytes(pes_state *c, const uint8_t *p, size_t n)
{
    if (c->expect && c->size + n > c->expect) n = (size_t)(c->expect - c->size); /* past its length: not its bytes */
    size_t room = QCAM_TS_PREFIX - c->prefix_len;
    if (room) {
        size_t k = n < room ? n : room;
        memcpy(c->prefix + c->prefix_len, p, k);
        c->prefix_len += k;
    }
    c->size += n;
}

/* Last PTS - `first` + the last frame interval (3000 when there is one
 * frame), over frames whose times share an origin. */
static int64_t span(const qcam_ts_frame *f, size_t n, int64_t first)
{
    int64_t max = f[0].pts;
    for (size_t k = 1; k < n; k++)
        if (f[k].pts > max) max = f[k].pts;
    int64_t step = n > 1 ? f[n - 1].dts - f[n - 2].dts : 0;
    return max - first + (step > 0 ? step : 3000);
}

void qcam_ts_index_clear(qcam_ts_index *idx)
{
    free(idx->frames);
    idx->frames = NULL;
    idx->n_frames = idx->cap_frames = idx->keyframes = 0;
}

/* Fill buf with up to `want` bytes at pos: bytes read, or -errno. */
static ssize_t read_full(const qcam_ts_source *src, uint64_t pos, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = src->read(src->opaque, pos + got, buf + got, want - got);
        if (r < 0) return r;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* One pass over packets [from, to) (whole packets from offset 0). With
 * `video_pid` already known (a tail scan) the PAT / PMT are not looked for.
 * Stops after `stop_after` frames when not 0. */
typedef struct {
    int pmt_pid, video_pid;
    bool have_origin;
    uint64_t origin_raw, last_raw; /* PTS of the first PES start seen, and of the last */
    int64_t last_pts;
    size_t stop_after;
    pes_state *c;
    uint8_t *buf;
} scan_state;

static int scan(const qcam_ts_source *src, qcam_ts_index *idx, scan_state *s, uint64_t from, uint64_t to)
{
    pes_state *c = s->c;
    uint8_t *buf = s->buf;
    int r = 0;
    uint64_t pos = from;
    while (pos < to) {
        size_t want = to - pos < CHUNK_PACKETS * PKT ? (size_t)(to - pos) : CHUNK_PACKETS * PKT;
        ssize_t got = read_full(src, pos, buf, want);
        if (got < 0) return (int)got;
        size_t n = (size_t)got - (size_t)got % PKT;
        if (!n) break; /* the file shrank */
        bool lost = false;
        for (size_t i = 0; i < n; i += PKT, pos += PKT) {
            const uint8_t *p = buf + i;
            if (p[0] != 0x47) {
                lost = true;
                break;
            }
            pkt_view v;
            view_packet(p, &v);
            if (s->video_pid < 0) {
                size_t len;
                const uint8_t *t;
                if (v.pid == 0 && (t = psi_section(&v, 0x00, &len))) {
                    for (size_t k = 8; k + 4 <= len - 4; k += 4) {
                        unsigned prog = ((unsigned)t[k] << 8) | t[k + 1];
                        if (prog) {
                            s->pmt_pid = (int)((((unsigned)t[k + 2] & 0x1f) << 8) | t[k + 3]);
                            break;
                        }
                    }
                } else if (s->pmt_pid > 0 && v.pid == (unsigned)s->pmt_pid && (t = psi_section(&v, 0x02, &len))) {
                    size_t k = 12 + ((((size_t)t[10] & 0x0f) << 8) | t[11]);
                    for (; k + 5 <= len - 4; k += 5 + ((((size_t)t[k + 3] & 0x0f) << 8) | t[k + 4])) {
                        unsigned pid = (((unsigned)t[k + 1] & 0x1f) << 8) | t[k + 2];
                        if ((t[k] == 0x1b || t[k] == 0x24) && pid != 0 && pid != (unsigned)s->pmt_pid && pid != 0x1fff) {
                            s->video_pid = (int)pid;
                            idx->pid = (uint16_t)pid;
                            idx->codec = t[k] == 0x1b ? QCAM_CODEC_H264 : QCAM_CODEC_H265;
                            break;
                        }
                    }
                }
                continue;
            }
            if (v.pid != (unsigned)s->video_pid) continue;
            if (v.pusi) {
                if (c->active && !c->expect && (r = push_frame(idx, c)) < 0) return r; /* unbounded: ends here */
                c->active = false;                                                 /* bounded and short: dropped */
                if (s->stop_after && idx->n_frames >= s->stop_after) {
                    idx->end = pos;
                    return 0;
                }
                pes_head h;
                if (!parse_pes(&v, &h)) continue;
                int64_t pts;
                if (!s->have_origin) {
                    pts = 0;
                    s->have_origin = true;
                    s->origin_raw = h.pts;
                } else {
                    pts = s->last_pts + step33(h.pts, s->last_raw);
                }
                s->last_raw = h.pts;
                s->last_pts = pts;
                c->active = true;
                c->offset = pos;
                c->pts = pts;
                c->dts = pts - step33(h.pts, h.dts);
                c->size = 0;
                c->prefix_len = 0;
                c->expect = h.expect;
                c->rai = v.rai;
                add_bytes(c, v.pl + h.head, v.pl_len - h.head);
            } else if (c->active && v.pl) {
                add_bytes(c, v.pl, v.pl_len);
            } else {
                continue;
            }
            c->end = pos + PKT;
            c->padded = v.padded;
            if (c->expect && c->size == c->expect) {
                if ((r = push_frame(idx, c)) < 0) return r;
                if (s->stop_after && idx->n_frames >= s->stop_after) {
                    idx->end = pos + PKT;
                    return 0;
                }
            }
        }
        if (lost) break;
        if ((size_t)got < want) break;
    }
    idx->end = pos;
    idx->torn = pos < src->size;
    /* An unbounded PES at the end: whole when its last packet was padded. */
    if (c->active && !c->expect && c->padded && (r = push_frame(idx, c)) < 0) return r;
    if (c->active) idx->torn = true;
    return 0;
}

static int scan_begin(scan_state *s)
{
    memset(s, 0, sizeof *s);
    s->pmt_pid = s->video_pid = -1;
    s->c = calloc(1, sizeof *s->c);
    s->buf = malloc(CHUNK_PACKETS * PKT);
    return s->c && s->buf ? 0 : -ENOMEM;
}

static void scan_end(scan_state *s)
{
    free(s->c);
    free(s->buf);
    s->c = NULL;
    s->buf = NULL;
}

/* After a scan from offset 0: the errors, or times from the first frame and the duration. */
static int scan_finish(const qcam_ts_source *src, qcam_ts_index *idx, const scan_state *s)
{
    if (idx->end == 0 && idx->n_frames == 0 && s->video_pid < 0 && s->pmt_pid < 0) {
        fail(idx, src->size < PKT ? "not an MPEG transport stream (shorter than one packet)"
                                  : "not an MPEG transport stream (no sync byte at offset 0)");
        return -EBADMSG;
    }
    if (s->pmt_pid < 0) {
        fail(idx, "no program (no PAT naming a PMT)");
        return -EBADMSG;
    }
    if (s->video_pid < 0) {
        fail(idx, "no H.264 or H.265 video stream (the PMT names none)");
        return -EBADMSG;
    }
    if (!idx->n_frames) {
        fail(idx, "no complete video frame");
        return -EBADMSG;
    }
    /* times from the first frame's PTS */
    int64_t origin = idx->frames[0].pts;
    for (size_t k = 0; k < idx->n_frames; k++) {
        idx->frames[k].pts -= origin;
        idx->frames[k].dts -= origin;
    }
    idx->duration = span(idx->frames, idx->n_frames, 0);
    return 0;
}

int qcam_ts_read(const qcam_ts_source *src, qcam_ts_index *idx)
{
    memset(idx, 0, sizeof *idx);
    scan_state s;
    int r = scan_begin(&s);
    if (r == 0) r = scan(src, idx, &s, 0, src->size - src->size % PKT);
    if (r == 0) r = scan_finish(src, idx, &s);
    if (r < 0) qcam_ts_index_clear(idx);
    scan_end(&s);
    return r;
}

/* the first tail window; x4 while it holds fewer than two frames (the fuzz target makes it small) */
#ifndef QCAM_TS_PROBE_TAIL
#define QCAM_TS_PROBE_TAIL (256u * 1024u)
#endif
#define PROBE_TAIL QCAM_TS_PROBE_TAIL

int qcam_ts_probe(const qcam_ts_source *src, qcam_ts_index *idx)
{
    memset(idx, 0, sizeof *idx);
    uint64_t whole = src->size - src->size % PKT;
    if (whole <= 4 * (uint64_t)PROBE_TAIL) return qcam_ts_read(src, idx);
    scan_state s;
    int r = scan_begin(&s);
    if (r == 0) {
        s.stop_after = 1;
        r = scan(src, idx, &s, 0, whole);
    }
    /* the first frame's raw PTS (before scan_finish counts times from it) */
    uint64_t first_raw = r == 0 && idx->n_frames ? (s.origin_raw + (uint64_t)idx->frames[0].pts) & (MOD33 - 1) : 0;
    if (r == 0) r = scan_finish(src, idx, &s);
    uint64_t head_end = idx->end;
    scan_end(&s);
    if (r < 0) {
        qcam_ts_index_clear(idx);
        return r;
    }
    for (uint64_t w = PROBE_TAIL;; w *= 4) {
        uint64_t from = whole > w ? whole - w : 0;
        from -= from % PKT;
        if (from <= head_end) {
            qcam_ts_index_clear(idx);
            return qcam_ts_read(src, idx);
        }
        qcam_ts_index tail;
        memset(&tail, 0, sizeof tail);
        tail.codec = idx->codec;
        tail.pid = idx->pid;
        scan_state t;
        r = scan_begin(&t);
        if (r == 0) {
            t.pmt_pid = 0;
            t.video_pid = idx->pid;
            r = scan(src, &tail, &t, from, whole);
        }
        if (r == 0 && tail.n_frames >= 2) {
            /* the tail's times from its origin; that origin from the first frame's raw PTS */
            int64_t shift = step33(t.origin_raw, first_raw);
            qcam_ts_index_clear(idx); /* not counted: only the duration is known */
            idx->duration = shift + span(tail.frames, tail.n_frames, 0);
            idx->end = tail.end;
            idx->torn = tail.torn;
        }
        bool done = r < 0 || tail.n_frames >= 2;
        qcam_ts_index_clear(&tail);
        scan_end(&t);
        if (r < 0) {
            qcam_ts_index_clear(idx);
            return r;
        }
        if (done) return 0;
    }
}

int qcam_ts_read_frame(const qcam_ts_source *src, const qcam_ts_index *idx, size_t k, uint8_t *out)
{
    if (k >= idx->n_frames) return -EINVAL;
    const qcam_ts_frame *f = &idx->frames[k];
    uint8_t buf[16 * PKT];
    size_t done = 0;
    bool first = true;
    for (uint64_t pos = f->offset; pos < f->end && done < f->size;) {
        size_t want = f->end - pos < sizeof buf ? (size_t)(f->end - pos) : sizeof buf;
        ssize_t got = read_full(src, pos, buf, want);
        if (got < 0) return (int)got;
        if ((size_t)got < want) return -EBADMSG;
        for (size_t i = 0; i < want && done < f->size; i += PKT) {
            const uint8_t *p = buf + i;
            if (p[0] != 0x47) return -EBADMSG;
            pkt_view v;
            view_packet(p, &v);
            if (v.pid != idx->pid || !v.pl) continue;
            const uint8_t *d = v.pl;
            size_t n = v.pl_len;
            if (first) {
                pes_head h;
                if (!v.pusi || !parse_pes(&v, &h)) return -EBADMSG;
                d += h.head;
                n -= h.head;
                first = false;
            } else if (v.pusi) {
                return -EBADMSG;
            }
            if (n > f->size - done) n = f->size - done;
            memcpy(out + done, d, n);
            done += n;
        }
        pos += want;
    }
    return done == f->size ? 0 : -EBADMSG;
}
