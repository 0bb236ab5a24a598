/* The transport stream muxer (ts_mux.h). */
#include "ts_mux.h"

#include <errno.h>
#include <string.h>

#define PTS_MASK ((1ull << 33) - 1)

int qcam_ts_mux_init(qcam_ts_mux *m, qcam_codec codec)
{
    memset(m, 0, sizeof *m);
    if (codec != QCAM_CODEC_H264 && codec != QCAM_CODEC_H265) return -EINVAL;
    m->codec = codec;
    return 0;
}

uint32_t qcam_ts_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)p[i] << 24;
        for (int b = 0; b < 8; b++) crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

/* One PSI packet: header, pointer_field, the section (CRC appended), 0xFF fill. */
static void psi_packet(uint8_t *out, uint16_t pid, uint8_t *cc, const uint8_t *section, size_t len)
{
    memset(out, 0xff, QCAM_TS_PACKET);
    out[0] = 0x47;
    out[1] = (uint8_t)(0x40 | (pid >> 8));
    out[2] = (uint8_t)pid;
    out[3] = (uint8_t)(0x10 | *cc);
    *cc = (*cc + 1) & 15;
    out[4] = 0; /* pointer_field */
    memcpy(out + 5, section, len);
    uint32_t crc = qcam_ts_crc32(section, len);
    out[5 + len] = (uint8_t)(crc >> 24);
    out[6 + len] = (uint8_t)(crc >> 16);
    out[7 + len] = (uint8_t)(crc >> 8);
    out[8 + len] = (uint8_t)crc;
}

size_t qcam_ts_mux_psi(qcam_ts_mux *m, uint8_t *out)
{
    /* PAT: transport_stream_id 1, version 0, current; program 1 -> PMT PID */
    static const uint8_t pat[] = {0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00,
                                  0x00, 0x01, 0xe0 | (QCAM_TS_PMT_PID >> 8), QCAM_TS_PMT_PID & 0xff};
    psi_packet(out, 0, &m->cc_pat, pat, sizeof pat);
    /* PMT: program 1, PCR on the video PID, no descriptors, one stream */
    uint8_t pmt[] = {0x02, 0xb0, 0x12, 0x00, 0x01, 0xc1, 0x00, 0x00,
                     0xe0 | (QCAM_TS_VIDEO_PID >> 8), QCAM_TS_VIDEO_PID & 0xff, 0xf0, 0x00,
                     m->codec == QCAM_CODEC_H264 ? 0x1b : 0x24,
                     0xe0 | (QCAM_TS_VIDEO_PID >> 8), QCAM_TS_VIDEO_PID & 0xff, 0xf0, 0x00};
    psi_packet(out + QCAM_TS_PACKET, QCAM_TS_PMT_PID, &m->cc_pmt, pmt, sizeof pmt);
    return 2 * QCAM_TS_PACKET;
}

size_t qcam_ts_mux_au_bound(size_t au_len, size_t ps_len)
{
    size_t payload = 14 + 7 + ps_len + au_len;
    return (2 + 1 + payload / 176) * QCAM_TS_PACKET;
}

/* The PES payload as up to four pieces read in order. */
typedef struct {
    const uint8_t *p[4];
    size_t n[4];
    int i;
    size_t at;
} pieces;

static void take(pieces *s, uint8_t *out, size_t len)
{
    while (len) {
        while (s->at == s->n[s->i]) {
            s->i++;
            s->at = 0;
        }
        size_t k = s->n[s->i] - s->at;
        if (k > len) k = len;
        memcpy(out, s->p[s->i] + s->at, k);
        out += k;
        s->at += k;
        len -= k;
    }
}

/* The size of the AUD at the front of au (its start code included), or 0. */
static size_t leading_aud(qcam_codec codec, const uint8_t *au, size_t len)
{
    size_t sc = len >= 4 && !au[0] && !au[1] && !au[2] && au[3] == 1 ? 4 : len >= 3 && !au[0] && !au[1] && au[2] == 1 ? 3 : 0;
    if (!sc || sc >= len) return 0;
    int t = codec == QCAM_CODEC_H264 ? (au[sc] & 0x1f) : ((au[sc] >> 1) & 0x3f);
    if (t != (codec == QCAM_CODEC_H264 ? 9 : 35)) return 0;
    for (size_t i = sc + 1; i + 2 < len; i++)
        if (!au[i] && !au[i + 1] && (au[i + 2] == 1 || (au[i + 2] == 0 && i + 3 < len && au[i + 3] == 1))) return i;
    return len;
}

size_t qcam_ts_mux_au(qcam_ts_mux *m, const uint8_t *au, size_t au_len, const uint8_t *ps, size_t ps_len,
                      uint64_t pts90, bool key, uint8_t *out)
{
    static const uint8_t aud264[] = {0, 0, 0, 1, 0x09, 0xf0};
    static const uint8_t aud265[] = {0, 0, 0, 1, 0x46, 0x01, 0x50};
    size_t o = 0;
    if (key) o += qcam_ts_mux_psi(m, out);

    uint64_t pts = (pts90 + QCAM_TS_PTS_OFFSET) & PTS_MASK;
    uint64_t pcr = (pts - QCAM_TS_PCR_LEAD) & PTS_MASK;
    size_t aud = leading_aud(m->codec, au, au_len);
    pieces s = {{0}, {0}, 0, 0};
    uint8_t head[14];
    s.p[0] = head;
    s.n[0] = sizeof head;
    if (aud) {
        s.p[1] = au, s.n[1] = aud;
    } else if (m->codec == QCAM_CODEC_H264) {
        s.p[1] = aud264, s.n[1] = sizeof aud264;
    } else {
        s.p[1] = aud265, s.n[1] = sizeof aud265;
    }
    s.p[2] = ps, s.n[2] = ps ? ps_len : 0;
    s.p[3] = au + aud, s.n[3] = au_len - aud;
    size_t es = s.n[1] + s.n[2] + s.n[3];
    size_t pes_len = 8 + es <= 0xffff ? 8 + es : 0;
    head[0] = 0, head[1] = 0, head[2] = 1, head[3] = 0xe0;
    head[4] = (uint8_t)(pes_len >> 8), head[5] = (uint8_t)pes_len;
    head[6] = 0x84; /* '10', data_alignment_indicator */
    head[7] = 0x80; /* PTS only */
    head[8] = 5;
    head[9] = (uint8_t)(0x21 | ((pts >> 29) & 0x0e));
    head[10] = (uint8_t)(pts >> 22);
    head[11] = (uint8_t)(((pts >> 14) & 0xfe) | 1);
    head[12] = (uint8_t)(pts >> 7);
    head[13] = (uint8_t)(((pts << 1) & 0xfe) | 1);

    size_t left = sizeof head + es;
    bool first = true;
    while (left) {
        uint8_t *p = out + o;
        size_t af = first ? 8 : 0; /* adaptation field bytes, its length byte included */
        size_t n = QCAM_TS_PACKET - 4 - af;
        if (n > left) {
            af += n - left; /* stuffing */
            n = left;
        }
        p[0] = 0x47;
        p[1] = (uint8_t)((first ? 0x40 : 0) | (QCAM_TS_VIDEO_PID >> 8));
        p[2] = QCAM_TS_VIDEO_PID & 0xff;
        p[3] = (uint8_t)((af ? 0x30 : 0x10) | m->cc_video);
        m->cc_video = (m->cc_video + 1) & 15;
        if (af) {
            p[4] = (uint8_t)(af - 1);
            size_t q = 5;
            if (af > 1) {
                p[5] = first ? (uint8_t)(0x10 | (key ? 0x40 : 0)) : 0;
                q = 6;
                if (first) {
                    p[6] = (uint8_t)(pcr >> 25);
                    p[7] = (uint8_t)(pcr >> 17);
                    p[8] = (uint8_t)(pcr >> 9);
                    p[9] = (uint8_t)(pcr >> 1);
                    p[10] = (uint8_t)(((pcr & 1) << 7) | 0x7e);
                    p[11] = 0;
                    q = 12;
                }
                memset(p + q, 0xff, 4 + af - q);
            }
        }
        take(&s, p + 4 + af, n);
        left -= n;
        o += QCAM_TS_PACKET;
        first = false;
    }
    return o;
}
