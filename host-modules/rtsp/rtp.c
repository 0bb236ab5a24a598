/* RTP packetization (RFC 3550): H.264 (RFC 6184, packetization-mode 1:
 * single NAL unit and FU-A packets), H.265 (RFC 7798: single NAL unit and FU
 * packets, no DONL) and G.711 (RFC 3551), and the depacketizer that undoes
 * the video side. Pure functions: packets go to a caller's emitter, nothing
 * is sent or allocated here. The depacketizer reads untrusted packets and is
 * fuzzed by fuzz_rtsp.c. */
#include <string.h>

#include "../video/annexb.h"
#include "rtsp_proto.h"

/* ---- packetizers ------------------------------------------------------------------ */

static void rtp_header(uint8_t h[QCAM_RTP_HEADER], const qcam_rtp_stream *s, bool marker,
                       uint32_t ts)
{
    h[0] = 0x80; /* version 2, no padding, no extension, no CSRC */
    h[1] = (uint8_t)((marker ? 0x80 : 0) | (s->payload_type & 0x7f));
    h[2] = (uint8_t)(s->seq >> 8);
    h[3] = (uint8_t)s->seq;
    h[4] = (uint8_t)(ts >> 24);
    h[5] = (uint8_t)(ts >> 16);
    h[6] = (uint8_t)(ts >> 8);
    h[7] = (uint8_t)ts;
    h[8] = (uint8_t)(s->ssrc >> 24);
    h[9] = (uint8_t)(s->ssrc >> 16);
    h[10] = (uint8_t)(s->ssrc >> 8);
    h[11] = (uint8_t)s->ssrc;
}

/* One packet: RTP header + `extra` payload header bytes, then body. */
static int send_one(qcam_rtp_stream *s, bool marker, uint32_t ts, const uint8_t *extra,
                    size_t extra_len, const uint8_t *body, size_t body_len, qcam_rtp_emit_fn *emit,
                    void *opaque)
{
    qcam_rtp_packet p;
    rtp_header(p.head, s, marker, ts);
    if (extra_len) memcpy(p.head + QCAM_RTP_HEADER, extra, extra_len);
    p.head_len = QCAM_RTP_HEADER + extra_len;
    p.body = body;
    p.body_len = body_len;
    int r = emit(opaque, &p);
    if (r != 0) return r;
    s->seq++;
    s->packets++;
    s->octets += extra_len + body_len;
    return 0;
}

/* A NAL unit RTP can carry as it is. */
static bool sendable(qcam_codec codec, const uint8_t *nal, size_t len)
{
    if (codec == QCAM_CODEC_H264) {
        if (len < 1) return false;
        int t = nal[0] & 0x1f;
        return t >= 1 && t <= 23;
    }
    if (len < 2) return false;
    return ((nal[0] >> 1) & 0x3f) < 48;
}

static bool next_sendable(qcam_codec codec, const uint8_t *au, size_t len, size_t *pos,
                          const uint8_t **nal, size_t *nal_len)
{
    size_t start;
    while (qcam_annexb_next_nal(au, len, pos, &start, nal, nal_len))
        if (sendable(codec, *nal, *nal_len)) return true;
    return false;
}

/* One NAL unit: a single NAL unit packet when it fits, else fragments. */
static int send_nal(qcam_rtp_stream *s, const uint8_t *nal, size_t len, bool last, uint32_t ts,
                    qcam_rtp_emit_fn *emit, void *opaque, int *count)
{
    int r;
    if (QCAM_RTP_HEADER + len <= s->mtu) {
        r = send_one(s, last, ts, NULL, 0, nal, len, emit, opaque);
        if (r != 0) return r;
        (*count)++;
        return 0;
    }
    uint8_t fu[3];
    size_t hdr, skip; /* FU header bytes; NAL header bytes not sent as payload */
    uint8_t type_bits;
    if (s->codec == QCAM_CODEC_H264) {
        fu[0] = (uint8_t)((nal[0] & 0xe0) | 28); /* FU indicator: F, NRI, type FU-A */
        type_bits = nal[0] & 0x1f;
        hdr = 2;
        skip = 1;
    } else {
        fu[0] = (uint8_t)((nal[0] & 0x81) | (49 << 1)); /* PayloadHdr: F, type 49, LayerId */
        fu[1] = nal[1];                                 /* LayerId (low bit), TID */
        type_bits = (nal[0] >> 1) & 0x3f;
        hdr = 3;
        skip = 2;
    }
    size_t chunk = s->mtu - QCAM_RTP_HEADER - hdr;
    const uint8_t *p = nal + skip;
    size_t left = len - skip;
    bool first = true;
    while (left > 0) {
        size_t n = left < chunk ? left : chunk;
        bool end = n == left;
        fu[hdr - 1] = (uint8_t)((first ? 0x80 : 0) | (end ? 0x40 : 0) | type_bits);
        r = send_one(s, last && end, ts, fu, hdr, p, n, emit, opaque);
        if (r != 0) return r;
        (*count)++;
        p += n;
        left -= n;
        first = false;
    }
    return 0;
}

int qcam_rtp_packetize_video(qcam_rtp_stream *s, const uint8_t *au, size_t len, uint32_t rtp_ts,
                             qcam_rtp_emit_fn *emit, void *opaque)
{
    if (s->mtu < QCAM_RTP_MIN_MTU) return -1;
    if (s->codec != QCAM_CODEC_H264 && s->codec != QCAM_CODEC_H265) return -1;
    int count = 0;
    size_t pos = 0;
    const uint8_t *nal, *next;
    size_t nal_len, next_len;
    if (!next_sendable(s->codec, au, len, &pos, &nal, &nal_len)) return 0;
    for (;;) {
        bool more = next_sendable(s->codec, au, len, &pos, &next, &next_len);
        int r = send_nal(s, nal, nal_len, !more, rtp_ts, emit, opaque, &count);
        if (r != 0) return r > 0 ? -r : r;
        if (!more) break;
        nal = next;
        nal_len = next_len;
    }
    return count;
}

int qcam_rtp_packetize_audio(qcam_rtp_stream *s, const uint8_t *data, size_t len, uint32_t rtp_ts,
                             qcam_rtp_emit_fn *emit, void *opaque)
{
    if (s->mtu < QCAM_RTP_MIN_MTU) return -1;
    size_t chunk = s->mtu - QCAM_RTP_HEADER;
    int count = 0;
    for (size_t at = 0; at < len; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        int r = send_one(s, false, rtp_ts + (uint32_t)at, NULL, 0, data + at, n, emit, opaque);
        if (r != 0) return r > 0 ? -r : r;
        count++;
    }
    return count;
}

/* ---- depacketizer ------------------------------------------------------------------- */

void qcam_rtp_depack_init(qcam_rtp_depack *d, qcam_codec codec, uint8_t *buf, size_t cap)
{
    memset(d, 0, sizeof *d);
    d->codec = codec;
    d->out = buf;
    d->cap = cap;
    d->last_seq = -1;
}

static bool put_bytes(qcam_rtp_depack *d, const void *p, size_t n)
{
    if (d->cap - d->len < n) return false;
    if (n) memcpy(d->out + d->len, p, n);
    d->len += n;
    return true;
}

/* A whole NAL unit as Annex B with a 4-byte start code. */
static bool put_nal(qcam_rtp_depack *d, const uint8_t *nal, size_t n)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    if (d->cap - d->len < 4 || d->cap - d->len - 4 < n) return false;
    return put_bytes(d, sc, 4) && put_bytes(d, nal, n);
}

static void start_over(qcam_rtp_depack *d)
{
    d->len = 0;
    d->in_fu = false;
    d->broken = false;
}

/* The payload of one packet into the AU: 0, MALFORMED or FULL (does not fit). */
enum { MALFORMED = -1, FULL = -2 };

static int take_payload(qcam_rtp_depack *d, const uint8_t *p, size_t n)
{
    bool h264 = d->codec == QCAM_CODEC_H264;
    size_t nal_hdr = h264 ? 1 : 2;
    if (n < nal_hdr) return MALFORMED;
    int type = h264 ? p[0] & 0x1f : (p[0] >> 1) & 0x3f;
    bool single = h264 ? type >= 1 && type <= 23 : type < 48;
    bool aggregate = h264 ? type == 24 : type == 48;
    bool fragment = h264 ? type == 28 : type == 49;
    if (!fragment && d->in_fu) return MALFORMED; /* a fragmented NAL never ended */
    if (single) return put_nal(d, p, n) ? 0 : FULL;
    if (aggregate) { /* STAP-A / AP: 16-bit size, NAL unit; repeated */
        size_t at = nal_hdr;
        if (at >= n) return MALFORMED;
        while (at < n) {
            if (n - at < 2) return MALFORMED;
            size_t sz = (size_t)p[at] << 8 | p[at + 1];
            at += 2;
            if (sz < nal_hdr || sz > n - at) return MALFORMED;
            if (!put_nal(d, p + at, sz)) return FULL;
            at += sz;
        }
        return 0;
    }
    if (!fragment) return MALFORMED;
    if (n < nal_hdr + 2) return MALFORMED; /* FU header + at least one byte */
    uint8_t fh = p[nal_hdr];
    bool s = fh & 0x80, e = fh & 0x40;
    if (s && e) return MALFORMED;
    const uint8_t *body = p + nal_hdr + 1;
    size_t body_len = n - nal_hdr - 1;
    if (s) {
        if (d->in_fu) return MALFORMED;
        uint8_t hdr[2];
        if (h264) {
            hdr[0] = (uint8_t)((p[0] & 0xe0) | (fh & 0x1f));
        } else {
            hdr[0] = (uint8_t)((p[0] & 0x81) | ((fh & 0x3f) << 1));
            hdr[1] = p[1];
        }
        static const uint8_t sc[4] = {0, 0, 0, 1};
        if (!put_bytes(d, sc, 4) || !put_bytes(d, hdr, nal_hdr)) return FULL;
        d->in_fu = true;
    } else if (!d->in_fu) {
        return MALFORMED;
    }
    if (!put_bytes(d, body, body_len)) return FULL;
    if (e) d->in_fu = false;
    return 0;
}

int qcam_rtp_depack_push(qcam_rtp_depack *d, const uint8_t *pkt, size_t len)
{
    if (d->done) {
        d->done = false;
        start_over(d);
    }
    /* The fixed header, CSRCs, extension and padding (RFC 3550 5.1, 5.3.1). */
    if (len < QCAM_RTP_HEADER || (pkt[0] >> 6) != 2) return -1;
    size_t at = QCAM_RTP_HEADER + 4u * (pkt[0] & 0x0f);
    if (at > len) return -1;
    if (pkt[0] & 0x10) {
        if (len - at < 4) return -1;
        size_t ext = 4 + 4 * ((size_t)pkt[at + 2] << 8 | pkt[at + 3]);
        if (len - at < ext) return -1;
        at += ext;
    }
    size_t end = len;
    if (pkt[0] & 0x20) {
        size_t pad = pkt[len - 1];
        if (pad == 0 || pad > end - at) return -1;
        end -= pad;
    }
    bool marker = pkt[1] & 0x80;
    uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    uint32_t ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];

    bool gap = d->last_seq >= 0 && seq != (uint16_t)(d->last_seq + 1);
    d->last_seq = seq;
    bool pending = d->len > 0 || d->broken || d->in_fu;
    if (pending && ts != d->ts) {
        /* The previous AU's marker never came. */
        d->dropped++;
        start_over(d);
    }
    d->ts = ts;
    if (gap) d->broken = true;

    int ret = 0;
    if (!d->broken) {
        int t = take_payload(d, pkt + at, end - at);
        if (t != 0) d->broken = true;
        if (t == MALFORMED) ret = -1;
    }
    if (!marker) return ret;
    if (d->in_fu) d->broken = true; /* the AU ends inside a fragmented NAL */
    if (d->broken) {
        d->dropped++;
        start_over(d);
        return ret;
    }
    if (d->len == 0) return ret;
    d->done = true;
    return 1;
}
