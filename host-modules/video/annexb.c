/* Annex B parsing (see annexb.h). Untrusted input: every index is checked
 * against the buffer's length before it is read. */
#include "annexb.h"

#include <string.h>

void qcam_annexb_init(qcam_annexb_state *st, qcam_codec codec)
{
    memset(st, 0, sizeof *st);
    st->codec = codec;
}

/* Index of the next 00 00 01 at or after `from`, or len. Eight bytes at a
 * time: a start code begins with two zero bytes in a row, and OR-ing the
 * word at k with the word at k + 1 gives a zero byte exactly where such a
 * pair starts, which the usual has-a-zero-byte test spots. Pairs are rare
 * in slice data (emulation prevention keeps 00 00 out of it but for
 * 00 00 03), so the scan runs at memory speed; the few hits are checked a
 * byte at a time. Unaligned loads go through memcpy. */
size_t qcam_annexb_find_start_code(const uint8_t *buf, size_t len, size_t from)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t k = from;
    while (len >= 3 && k + 2 < len) {
        while (k + 9 <= len) {
            uint64_t a, b;
            memcpy(&a, buf + k, 8);
            memcpy(&b, buf + k + 1, 8);
            uint64_t v = a | b;
            if ((v - ones) & ~v & highs) break; /* a pair starts in buf[k .. k + 8) */
            k += 8;
        }
        size_t stop = k + 8 < len - 2 ? k + 8 : len - 2; /* a code needs its third byte */
        while (k < stop && (buf[k] != 0 || buf[k + 1] != 0)) k++;
        if (k >= stop) { /* (the word loop may have gone past len - 2) */
            if (stop == len - 2) return len;
            continue;
        }
        if (buf[k + 2] == 1) return k;
        k++; /* 00 00 xx: the next pair may start at k + 1 */
    }
    return len;
}

/* *pos moves to the end of the NAL's payload, so the next search sees the
 * zero_byte of a 4-byte start code and puts it in front of that NAL. *last:
 * no start code follows (the NAL may continue past the buffer). */
static bool scan_nal(const uint8_t *buf, size_t len, size_t *pos, size_t *start,
                     const uint8_t **nal, size_t *nal_len, bool *last)
{
    if (*pos >= len) return false;
    size_t i = qcam_annexb_find_start_code(buf, len, *pos);
    if (i >= len) {
        *pos = len;
        return false;
    }
    size_t begin = i + 3;
    size_t next = qcam_annexb_find_start_code(buf, len, begin);
    size_t end = next;
    while (end > begin && buf[end - 1] == 0) end--; /* trailing_zero_8bits / zero_byte */
    *start = i > *pos && buf[i - 1] == 0 ? i - 1 : i;
    *nal = buf + begin;
    *nal_len = end - begin;
    *pos = next >= len ? len : end;
    *last = next >= len;
    return true;
}

bool qcam_annexb_next_nal(const uint8_t *buf, size_t len, size_t *pos, size_t *start,
                          const uint8_t **nal, size_t *nal_len)
{
    bool last;
    return scan_nal(buf, len, pos, start, nal, nal_len, &last);
}

int qcam_annexb_nal_type(qcam_codec codec, const uint8_t *nal, size_t len)
{
    if (codec == QCAM_CODEC_H264) return len >= 1 ? nal[0] & 0x1f : -1;
    return len >= 2 ? (nal[0] >> 1) & 0x3f : -1;
}

/* ---- bits of an RBSP (emulation prevention removed) ------------------- */

typedef struct {
    uint8_t b[48];
    size_t n;    /* bytes in b */
    size_t bit;  /* next bit to read */
} bits;

static void bits_init(bits *r, const uint8_t *p, size_t len)
{
    int zeros = 0;
    r->n = r->bit = 0;
    for (size_t i = 0; i < len && r->n < sizeof r->b; i++) {
        if (zeros >= 2 && p[i] == 3) { /* emulation_prevention_three_byte */
            zeros = 0;
            continue;
        }
        zeros = p[i] == 0 ? zeros + 1 : 0;
        r->b[r->n++] = p[i];
    }
}

static int bit1(bits *r)
{
    if (r->bit >= r->n * 8) return -1;
    int v = (r->b[r->bit / 8] >> (7 - r->bit % 8)) & 1;
    r->bit++;
    return v;
}

/* u(n), n <= 31; -1 when the bits run out. */
static long bitsn(bits *r, int n)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        int b = bit1(r);
        if (b < 0) return -1;
        v = (v << 1) | b;
    }
    return v;
}

/* ue(v); -1 when malformed or out of bits. */
static long ue(bits *r)
{
    int zeros = 0;
    for (;;) {
        int b = bit1(r);
        if (b < 0) return -1;
        if (b) break;
        if (++zeros > 30) return -1;
    }
    long rest = bitsn(r, zeros);
    if (rest < 0) return -1;
    return (1L << zeros) - 1 + rest;
}

/* ---- access units -------------------------------------------------------- */

enum { NAL_NEUTRAL, NAL_VCL_FIRST, NAL_VCL_MORE, NAL_STARTS_AU };

/* How a NAL relates to AU boundaries; -1 when its header is cut off. */
static int nal_role(qcam_codec codec, const uint8_t *nal, size_t len)
{
    if (codec == QCAM_CODEC_H264) {
        if (len < 1) return -1;
        int t = nal[0] & 0x1f;
        if (t == 1 || t == 2 || t == 5) {
            if (len < 2) return -1;
            return nal[1] & 0x80 ? NAL_VCL_FIRST : NAL_VCL_MORE; /* first_mb_in_slice == 0 */
        }
        if (t == 3 || t == 4) return NAL_VCL_MORE;
        if ((t >= 6 && t <= 9) || (t >= 14 && t <= 18)) return NAL_STARTS_AU;
        return NAL_NEUTRAL;
    }
    if (len < 2) return -1;
    int t = (nal[0] >> 1) & 0x3f;
    int layer = ((nal[0] & 1) << 5) | (nal[1] >> 3);
    if (layer > 0) return NAL_NEUTRAL;
    if (t <= 31) {
        if (len < 3) return -1;
        return nal[2] & 0x80 ? NAL_VCL_FIRST : NAL_VCL_MORE; /* first_slice_segment_in_pic_flag */
    }
    if ((t >= 32 && t <= 35) || t == 39 || (t >= 41 && t <= 44) || (t >= 48 && t <= 55))
        return NAL_STARTS_AU;
    return NAL_NEUTRAL;
}

void qcam_annexb_splitter_init(qcam_annexb_splitter *s, qcam_codec codec)
{
    memset(s, 0, sizeof *s);
    s->codec = codec;
}

int qcam_annexb_split(qcam_annexb_splitter *s, const uint8_t *nal, size_t len)
{
    int role = nal_role(s->codec, nal, len);
    if (role < 0) {
        if (!s->in_au) return QCAM_AU_SKIP; /* a start code with no NAL unit after it: junk */
        role = NAL_NEUTRAL;
    }
    int r = QCAM_AU_SAME;
    if (!s->in_au) {
        s->in_au = true;
        r = QCAM_AU_NEW;
    } else if (s->seen_vcl && (role == NAL_VCL_FIRST || role == NAL_STARTS_AU)) {
        s->seen_vcl = false;
        r = QCAM_AU_NEW;
    }
    if (role == NAL_VCL_FIRST || role == NAL_VCL_MORE) s->seen_vcl = true;
    return r;
}

int qcam_annexb_next_au(qcam_annexb_state *st, const uint8_t *buf, size_t len, bool eof,
                        size_t *skip, size_t *au_len)
{
    size_t pos = 0, start;
    const uint8_t *nal;
    size_t nal_len;
    bool first = true;
    bool last;
    qcam_annexb_splitter sp;
    qcam_annexb_splitter_init(&sp, st->codec);
    while (scan_nal(buf, len, &pos, &start, &nal, &nal_len, &last)) {
        /* a header cut off by the end of what has arrived: wait for the rest */
        if (last && !eof && nal_role(st->codec, nal, nal_len) < 0) return 0;
        int r = qcam_annexb_split(&sp, nal, nal_len);
        if (r != QCAM_AU_NEW) continue;
        if (first) {
            *skip = start;
            first = false;
        } else {
            *au_len = start - *skip;
            return 1;
        }
    }
    if (first) {
        /* No start code: all junk, except what may begin one (00 00 00 of a
         * 4-byte code whose 01 has not arrived yet). */
        *skip = eof ? len : len > 3 ? len - 3 : 0;
        return -1;
    }
    if (!eof) return 0;
    *au_len = len - *skip;
    return 1;
}

static qcam_pkt_type h264_slice_type(const uint8_t *nal, size_t len)
{
    bits r;
    bits_init(&r, nal + 1, len - 1);
    if (ue(&r) < 0) return QCAM_PKT_P; /* first_mb_in_slice */
    long t = ue(&r);
    if (t < 0) return QCAM_PKT_P;
    switch (t % 5) {
    case 2: case 4: return QCAM_PKT_I; /* I, SI */
    case 1: return QCAM_PKT_B;
    default: return QCAM_PKT_P;        /* P, SP */
    }
}

static void h265_pps(qcam_annexb_state *st, const uint8_t *nal, size_t len)
{
    bits r;
    bits_init(&r, nal + 2, len - 2);
    long id = ue(&r);
    if (id < 0 || id > 63) return;
    if (ue(&r) < 0) return;                 /* pps_seq_parameter_set_id */
    if (bitsn(&r, 2) < 0) return;           /* dependent_slice_segments_enabled, output_flag_present */
    long extra = bitsn(&r, 3);              /* num_extra_slice_header_bits */
    if (extra < 0) return;
    st->pps_known[id] = 1;
    st->pps_extra_bits[id] = (uint8_t)extra;
}

static qcam_pkt_type h265_slice_type(const qcam_annexb_state *st, int t, const uint8_t *nal,
                                     size_t len)
{
    bits r;
    bits_init(&r, nal + 2, len - 2);
    int first = bit1(&r);
    if (first != 1) return QCAM_PKT_P; /* the address needs the SPS: not worth it */
    if (t >= 16 && t <= 23 && bit1(&r) < 0) return QCAM_PKT_P; /* no_output_of_prior_pics */
    long pps = ue(&r);
    if (pps < 0 || pps > 63) return QCAM_PKT_P;
    if (st->pps_known[pps] && bitsn(&r, st->pps_extra_bits[pps]) < 0) return QCAM_PKT_P;
    switch (ue(&r)) {
    case 0: return QCAM_PKT_B;
    case 2: return QCAM_PKT_I;
    default: return QCAM_PKT_P;
    }
}

void qcam_annexb_classify(qcam_annexb_state *st, const uint8_t *au, size_t len, qcam_au_info *info)
{
    size_t pos = 0, start;
    const uint8_t *nal;
    size_t nal_len;
    bool seen_vcl = false;
    info->type = QCAM_PKT_HEADER;
    info->keyframe = false;
    info->has_params = false;
    while (qcam_annexb_next_nal(au, len, &pos, &start, &nal, &nal_len)) {
        int t = qcam_annexb_nal_type(st->codec, nal, nal_len);
        if (t < 0) continue;
        if (st->codec == QCAM_CODEC_H264) {
            if (t == 7) info->has_params = true;
            if (t == 5) info->keyframe = true;
            if (t >= 1 && t <= 5 && !seen_vcl) {
                seen_vcl = true;
                info->type = t == 5 ? QCAM_PKT_I : h264_slice_type(nal, nal_len);
            }
        } else {
            if (t == 33) info->has_params = true;
            if (t == 34) h265_pps(st, nal, nal_len);
            if (t <= 31) {
                bool irap = t >= 16 && t <= 23;
                if (irap) info->keyframe = true;
                if (!seen_vcl) {
                    seen_vcl = true;
                    info->type = irap ? QCAM_PKT_I : h265_slice_type(st, t, nal, nal_len);
                }
            }
        }
    }
}

void qcam_annexb_find_params(qcam_codec codec, const uint8_t *au, size_t len,
                             qcam_annexb_params *out)
{
    size_t pos = 0, start;
    const uint8_t *nal;
    size_t nal_len;
    memset(out, 0, sizeof *out);
    int vps = codec == QCAM_CODEC_H264 ? -1 : 32;
    int sps = codec == QCAM_CODEC_H264 ? 7 : 33;
    int pps = codec == QCAM_CODEC_H264 ? 8 : 34;
    while (qcam_annexb_next_nal(au, len, &pos, &start, &nal, &nal_len)) {
        int t = qcam_annexb_nal_type(codec, nal, nal_len);
        if (t < 0) continue;
        if (t == vps && !out->vps) out->vps = nal, out->vps_len = nal_len;
        if (t == sps && !out->sps) out->sps = nal, out->sps_len = nal_len;
        if (t == pps && !out->pps) out->pps = nal, out->pps_len = nal_len;
    }
}
