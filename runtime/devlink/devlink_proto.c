/* The dev link's frame codec: see devlink_proto.h and docs/dev-link.md. */
#include "devlink_proto.h"

#include <string.h>

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    crc_ready = 1;
}

uint32_t qcam_dl_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    if (!crc_ready) crc_init(); /* idempotent: a race writes the same values */
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

const char *qcam_dl_junk_name(qcam_dl_junk why)
{
    switch (why) {
    case QCAM_DL_JUNK_TOOLONG: return "toolong";
    case QCAM_DL_JUNK_COBS: return "cobs";
    case QCAM_DL_JUNK_SHORT: return "short";
    case QCAM_DL_JUNK_CRC: return "crc";
    case QCAM_DL_JUNK_VERSION: return "version";
    case QCAM_DL_JUNK_LENGTH: return "length";
    }
    return "?";
}

/* COBS-encode src[0..n) into dst (room for n + n / 254 + 1 bytes). */
static size_t cobs_encode(const uint8_t *src, size_t n, uint8_t *dst)
{
    size_t out = 1, code_at = 0;
    uint8_t code = 1;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            code_at = out++;
            code = 1;
        } else {
            dst[out++] = src[i];
            if (++code == 0xff) {
                dst[code_at] = code;
                code_at = out++;
                code = 1;
            }
        }
    }
    dst[code_at] = code;
    return out;
}

size_t qcam_dl_encode(const qcam_dl_frame *f, uint8_t *out, size_t cap)
{
    if (f->len > QCAM_DL_MAX_PAYLOAD) return 0;
    size_t raw_len = QCAM_DL_HEADER + (size_t)f->len + QCAM_DL_CRC;
    size_t need = raw_len + raw_len / 254 + 1 + 2;
    if (cap < need) return 0;
    uint8_t raw[QCAM_DL_MAX_RAW];
    raw[0] = f->version;
    raw[1] = f->channel;
    raw[2] = f->flags;
    qcam_dl_put16(raw + 3, f->seq);
    qcam_dl_put16(raw + 5, f->len);
    if (f->len) memcpy(raw + QCAM_DL_HEADER, f->payload, f->len);
    qcam_dl_put32(raw + QCAM_DL_HEADER + f->len, qcam_dl_crc32(0, raw, QCAM_DL_HEADER + f->len));
    out[0] = 0;
    size_t n = cobs_encode(raw, raw_len, out + 1);
    out[1 + n] = 0;
    return n + 2;
}

void qcam_dl_decoder_init(qcam_dl_decoder *d)
{
    d->n = 0;
    d->total = 0;
}

/* COBS-decode span[0..n) (no zero bytes in it) into raw; -1 when malformed
 * or longer than cap. */
static long cobs_decode(const uint8_t *span, size_t n, uint8_t *raw, size_t cap)
{
    size_t i = 0, out = 0;
    while (i < n) {
        uint8_t code = span[i++];
        if ((size_t)code - 1 > n - i) return -1;
        if ((size_t)code - 1 > cap - out) return -1;
        memcpy(raw + out, span + i, (size_t)code - 1);
        out += (size_t)code - 1;
        i += (size_t)code - 1;
        if (code != 0xff && i < n) {
            if (out == cap) return -1;
            raw[out++] = 0;
        }
    }
    return (long)out;
}

static qcam_dl_event_kind junk(qcam_dl_decoder *d, qcam_dl_junk why, qcam_dl_event *ev)
{
    ev->kind = QCAM_DL_JUNK;
    ev->why = why;
    ev->junk_len = d->total;
    ev->junk = d->span;
    return QCAM_DL_JUNK;
}

/* The span just ended: what was it? */
static qcam_dl_event_kind finish_span(qcam_dl_decoder *d, qcam_dl_event *ev)
{
    if (d->total > QCAM_DL_MAX_SPAN) return junk(d, QCAM_DL_JUNK_TOOLONG, ev);
    long m = cobs_decode(d->span, d->n, d->raw, sizeof d->raw);
    if (m < 0) return junk(d, QCAM_DL_JUNK_COBS, ev);
    size_t raw_len = (size_t)m;
    if (raw_len < QCAM_DL_HEADER + QCAM_DL_CRC) return junk(d, QCAM_DL_JUNK_SHORT, ev);
    size_t body = raw_len - QCAM_DL_CRC;
    if (qcam_dl_crc32(0, d->raw, body) != qcam_dl_get32(d->raw + body))
        return junk(d, QCAM_DL_JUNK_CRC, ev);
    if (d->raw[0] != QCAM_DL_VERSION) return junk(d, QCAM_DL_JUNK_VERSION, ev);
    uint16_t len = qcam_dl_get16(d->raw + 5);
    if ((size_t)len != body - QCAM_DL_HEADER) return junk(d, QCAM_DL_JUNK_LENGTH, ev);
    ev->kind = QCAM_DL_FRAME;
    ev->frame.version = d->raw[0];
    ev->frame.channel = d->raw[1];
    ev->frame.flags = d->raw[2];
    ev->frame.seq = qcam_dl_get16(d->raw + 3);
    ev->frame.len = len;
    ev->frame.payload = d->raw + QCAM_DL_HEADER;
    return QCAM_DL_FRAME;
}

qcam_dl_event_kind qcam_dl_decode(qcam_dl_decoder *d, const uint8_t *in, size_t n, size_t *used,
                                  qcam_dl_event *ev)
{
    ev->kind = QCAM_DL_NONE;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != 0) {
            if (d->n < sizeof d->span) d->span[d->n++] = in[i];
            d->total++;
            continue;
        }
        *used = i + 1;
        if (d->total == 0) continue; /* an empty span: two delimiters in a row */
        qcam_dl_event_kind k = finish_span(d, ev);
        d->n = 0;
        d->total = 0;
        return k;
    }
    *used = n;
    return QCAM_DL_NONE;
}

int qcam_dl_apply_delta(const uint8_t *base, size_t base_len, const uint8_t *delta, size_t delta_len,
                        uint8_t *out, size_t out_len)
{
    size_t at = 0, made = 0;
    while (at < delta_len) {
        uint8_t op = delta[at++];
        if (op == 1) {
            if (delta_len - at < 8) return -1;
            uint32_t off = qcam_dl_get32(delta + at), len = qcam_dl_get32(delta + at + 4);
            at += 8;
            if (off > base_len || len > base_len - off || len > out_len - made) return -1;
            memcpy(out + made, base + off, len);
            made += len;
        } else if (op == 2) {
            if (delta_len - at < 4) return -1;
            uint32_t len = qcam_dl_get32(delta + at);
            at += 4;
            if (len > delta_len - at || len > out_len - made) return -1;
            memcpy(out + made, delta + at, len);
            at += len;
            made += len;
        } else {
            return -1;
        }
    }
    return made == out_len ? 0 : -1;
}
