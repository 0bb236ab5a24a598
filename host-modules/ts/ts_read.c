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

int qcam_ts_read(const qcam_ts_source *src, qcam_ts_index *idx)
{
    memset(idx, 0, sizeof *idx);
    pes_state *c = calloc(1, sizeof *c);
    uint8_t *buf = malloc(CHUNK_PACKETS * PKT);
    int r = 0;
    if (!c || !buf) {
        r = -ENOMEM;
        goto out;
    }
    int pmt_pid = -1, video_pid = -1;
    bool have_origin = false;
    uint64_t last_raw = 0;
    int64_t last_pts = 0;
    uint64_t whole = src->size - src->size % PKT, pos = 0;
    while (pos < whole) {
        size_t want = whole - pos < CHUNK_PACKETS * PKT ? (size_t)(whole - pos) : CHUNK_PACKETS * PKT;
        ssize_t got = read_full(src, pos, buf, want);
        if (got < 0) {
            r = (int)got;
            goto out;
        }
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
            if (video_pid < 0) {
                size_t len;
                const uint8_t *s;
                if (v.pid == 0 && (s = psi_section(&v, 0x00, &len))) {
                    for (size_t k = 8; k + 4 <= len - 4; k += 4) {
                        unsigned prog = ((unsigned)s[k] << 8) | s[k + 1];
                        if (prog) {
                            pmt_pid = (int)((((unsigned)s[k + 2] & 0x1f) << 8) | s[k + 3]);
                            break;
                        }
                    }
                } else if (pmt_pid > 0 && v.pid == (unsigned)pmt_pid && (s = psi_section(&v, 0x02, &len))) {
                    size_t k = 12 + ((((size_t)s[10] & 0x0f) << 8) | s[11]);
                    for (; k + 5 <= len - 4; k += 5 + ((((size_t)s[k + 3] & 0x0f) << 8) | s[k + 4])) {
                        unsigned pid = (((unsigned)s[k + 1] & 0x1f) << 8) | s[k + 2];
                        if ((s[k] == 0x1b || s[k] == 0x24) && pid != 0 && pid != (unsigned)pmt_pid && pid != 0x1fff) {
                            video_pid = (int)pid;
                            idx->pid = (uint16_t)pid;
                            idx->codec = s[k] == 0x1b ? QCAM_CODEC_H264 : QCAM_CODEC_H265;
                            break;
                        }
                    }
                }
                continue;
            }
            if (v.pid != (unsigned)video_pid) continue;
            if (v.pusi) {
                if (c->active && !c->expect && (r = push_frame(idx, c)) < 0) goto out; /* unbounded: ends here */
                c->active = false;                                                  /* bounded and short: dropped */
                pes_head h;
                if (!parse_pes(&v, &h)) continue;
                int64_t pts;
                if (!have_origin) {
                    pts = 0;
                    have_origin = true;
                } else {
                    pts = last_pts + step33(h.pts, last_raw);
                }
                last_raw = h.pts;
                last_pts = pts;
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
            if (c->expect && c->size == c->expect && (r = push_frame(idx, c)) < 0) goto out;
        }
        if (lost) break;
        if ((size_t)got < want) break;
    }
    idx->end = pos;
    idx->torn = pos < src->size;
    /* An unbounded PES at the end: whole when its last packet was padded. */
    if (c->active && !c->expect && c->padded && (r = push_frame(idx, c)) < 0) goto out;
    if (c->active) idx->torn = true;
    if (pos == 0 && idx->n_frames == 0 && video_pid < 0 && pmt_pid < 0) {
        fail(idx, src->size < PKT ? "not an MPEG transport stream (shorter than one packet)"
                                  : "not an MPEG transport stream (no sync byte at offset 0)");
        r = -EBADMSG;
    } else if (pmt_pid < 0) {
        fail(idx, "no program (no PAT naming a PMT)");
        r = -EBADMSG;
    } else if (video_pid < 0) {
        fail(idx, "no H.264 or H.265 video stream (the PMT names none)");
        r = -EBADMSG;
    } else if (!idx->n_frames) {
        fail(idx, "no complete video frame");
        r = -EBADMSG;
    } else {
        /* times from the first frame's PTS */
        int64_t origin = idx->frames[0].pts;
        for (size_t k = 0; k < idx->n_frames; k++) {
            idx->frames[k].pts -= origin;
            idx->frames[k].dts -= origin;
        }
        int64_t max = idx->frames[0].pts;
        for (size_t k = 1; k < idx->n_frames; k++)
            if (idx->frames[k].pts > max) max = idx->frames[k].pts;
        int64_t step = idx->n_frames > 1 ? idx->frames[idx->n_frames - 1].dts - idx->frames[idx->n_frames - 2].dts : 0;
        idx->duration = max - idx->frames[0].pts + (step > 0 ? step : 3000);
    }
out:
    if (r < 0) qcam_ts_index_clear(idx);
    free(c);
    free(buf);
    return r;
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
