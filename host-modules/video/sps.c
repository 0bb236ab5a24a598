/* SPS parsing (H.264 7.3.2.1.1, H.265 7.3.2.2) and avcC / hvcC records. */
#include "sps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t len; /* bytes */
    size_t pos; /* bits */
    bool bad;   /* read past the end */
} bits;

static unsigned get_bit(bits *b)
{
    if (b->pos >= b->len * 8) {
        b->bad = true;
        return 0;
    }
    unsigned v = (b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1;
    b->pos++;
    return v;
}

static uint64_t get_bits(bits *b, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = v << 1 | get_bit(b);
    return v;
}

/* ue(v); values past 32 bits are refused as bad. */
static uint32_t get_ue(bits *b)
{
    unsigned zeros = 0;
    while (!b->bad && get_bit(b) == 0) {
        if (++zeros > 31) {
            b->bad = true;
            return 0;
        }
    }
    if (b->bad) return 0;
    uint64_t v = ((uint64_t)1 << zeros) - 1 + get_bits(b, zeros);
    if (v > UINT32_MAX) {
        b->bad = true;
        return 0;
    }
    return (uint32_t)v;
}

static int32_t get_se(bits *b)
{
    uint32_t k = get_ue(b);
    return k & 1 ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

size_t qcam_sps_unescape(const uint8_t *in, size_t len, uint8_t *out)
{
    size_t o = 0, zeros = 0;
    for (size_t i = 0; i < len; i++) {
        if (zeros >= 2 && in[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = in[i] == 0 ? zeros + 1 : 0;
        out[o++] = in[i];
    }
    return o;
}

static void skip_scaling_list(bits *b, int size)
{
    int last = 8, next = 8;
    for (int j = 0; j < size && !b->bad; j++) {
        if (next != 0) {
            int32_t delta = get_se(b);
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
}

static int parse_h264(bits *b, qcam_sps_info *o)
{
    if (get_bits(b, 8) & 0x80) return -EBADMSG; /* forbidden_zero_bit */
    o->profile_idc = (unsigned)get_bits(b, 8);
    o->constraint_flags = (unsigned)get_bits(b, 8);
    o->level_idc = (unsigned)get_bits(b, 8);
    if (get_ue(b) > 31) return -EBADMSG;
    o->chroma_format_idc = 1;
    o->bit_depth_luma = o->bit_depth_chroma = 8;
    bool separate = false;
    switch (o->profile_idc) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86: case 118: case 128:
    case 138: case 139: case 134: case 135:
        o->chroma_format_idc = get_ue(b);
        if (o->chroma_format_idc > 3) return -EBADMSG;
        if (o->chroma_format_idc == 3) separate = get_bit(b);
        o->bit_depth_luma = get_ue(b) + 8;
        o->bit_depth_chroma = get_ue(b) + 8;
        if (o->bit_depth_luma > 14 || o->bit_depth_chroma > 14) return -EBADMSG;
        get_bit(b); /* qpprime_y_zero_transform_bypass_flag */
        if (get_bit(b)) { /* seq_scaling_matrix_present_flag */
            int n = o->chroma_format_idc != 3 ? 8 : 12;
            for (int i = 0; i < n && !b->bad; i++)
                if (get_bit(b)) skip_scaling_list(b, i < 6 ? 16 : 64);
        }
        break;
    default:
        break;
    }
    if (get_ue(b) > 12) return -EBADMSG; /* log2_max_frame_num_minus4 */
    uint32_t poc_type = get_ue(b);
    if (poc_type == 0) {
        if (get_ue(b) > 12) return -EBADMSG;
    } else if (poc_type == 1) {
        get_bit(b);
        get_se(b);
        get_se(b);
        uint32_t n = get_ue(b);
        if (n > 255) return -EBADMSG;
        for (uint32_t i = 0; i < n && !b->bad; i++) get_se(b);
    } else if (poc_type > 2) {
        return -EBADMSG;
    }
    get_ue(b); /* max_num_ref_frames */
    get_bit(b); /* gaps_in_frame_num_value_allowed_flag */
    uint32_t w_mbs = get_ue(b) + 1;
    uint32_t h_units = get_ue(b) + 1;
    unsigned frame_mbs_only = get_bit(b);
    if (!frame_mbs_only) get_bit(b); /* mb_adaptive_frame_field_flag */
    get_bit(b); /* direct_8x8_inference_flag */
    uint32_t crop[4] = {0, 0, 0, 0};
    if (get_bit(b))
        for (int i = 0; i < 4; i++) crop[i] = get_ue(b);
    if (b->bad) return -EBADMSG;
    if (w_mbs > 1024 || h_units > 1024) return -EBADMSG;
    unsigned chroma = separate ? 0 : o->chroma_format_idc;
    unsigned sub_w = chroma == 1 || chroma == 2 ? 2 : 1;
    unsigned sub_h = chroma == 1 ? 2 : 1;
    uint64_t crop_x = chroma == 0 ? 1 : sub_w;
    uint64_t crop_y = (chroma == 0 ? 1 : sub_h) * (2 - frame_mbs_only);
    int64_t w = (int64_t)w_mbs * 16 - (int64_t)(crop_x * ((uint64_t)crop[0] + crop[1]));
    int64_t h = (int64_t)(2 - frame_mbs_only) * h_units * 16 - (int64_t)(crop_y * ((uint64_t)crop[2] + crop[3]));
    if (w <= 0 || h <= 0) return -EBADMSG;
    o->width = (int)w;
    o->height = (int)h;
    return 0;
}

static int parse_ptl(bits *b, qcam_sps_info *o, unsigned max_sub_layers_minus1)
{
    o->profile_space = (unsigned)get_bits(b, 2);
    o->tier_flag = get_bit(b);
    o->profile_idc = (unsigned)get_bits(b, 5);
    o->profile_compat_flags = (uint32_t)get_bits(b, 32);
    o->constraint_indicator_flags = get_bits(b, 48);
    o->level_idc = (unsigned)get_bits(b, 8);
    unsigned prof[8] = {0}, lvl[8] = {0};
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        prof[i] = get_bit(b);
        lvl[i] = get_bit(b);
    }
    if (max_sub_layers_minus1 > 0)
        for (unsigned i = max_sub_layers_minus1; i < 8; i++) get_bits(b, 2);
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        if (prof[i]) get_bits(b, 88);
        if (lvl[i]) get_bits(b, 8);
    }
    return b->bad ? -EBADMSG : 0;
}

static int parse_h265(bits *b, qcam_sps_info *o)
{
    uint64_t hdr = get_bits(b, 16);
    if (hdr & 0x8000) return -EBADMSG;
    if ((hdr >> 3) & 0x3f) return -ENOTSUP; /* nuh_layer_id > 0 */
    get_bits(b, 4); /* sps_video_parameter_set_id */
    unsigned max_sub = (unsigned)get_bits(b, 3);
    if (max_sub > 6) return -EBADMSG;
    o->max_sub_layers = max_sub + 1;
    o->temporal_id_nesting = get_bit(b);
    int r = parse_ptl(b, o, max_sub);
    if (r < 0) return r;
    if (get_ue(b) > 15) return -EBADMSG; /* sps_seq_parameter_set_id */
    o->chroma_format_idc = get_ue(b);
    if (o->chroma_format_idc > 3) return -EBADMSG;
    bool separate = o->chroma_format_idc == 3 && get_bit(b);
    uint32_t w = get_ue(b), h = get_ue(b);
    uint32_t win[4] = {0, 0, 0, 0};
    if (get_bit(b))
        for (int i = 0; i < 4; i++) win[i] = get_ue(b);
    o->bit_depth_luma = get_ue(b) + 8;
    o->bit_depth_chroma = get_ue(b) + 8;
    if (b->bad) return -EBADMSG;
    if (o->bit_depth_luma > 16 || o->bit_depth_chroma > 16 || w == 0 || h == 0 || w > 16888 || h > 16888)
        return -EBADMSG;
    unsigned chroma = separate ? 0 : o->chroma_format_idc;
    unsigned sub_w = chroma == 1 || chroma == 2 ? 2 : 1;
    unsigned sub_h = chroma == 1 ? 2 : 1;
    int64_t cw = (int64_t)w - (int64_t)sub_w * ((int64_t)win[0] + win[1]);
    int64_t chh = (int64_t)h - (int64_t)sub_h * ((int64_t)win[2] + win[3]);
    if (cw <= 0 || chh <= 0) return -EBADMSG;
    o->width = (int)cw;
    o->height = (int)chh;
    return 0;
}

int qcam_sps_parse(qcam_codec codec, const uint8_t *nal, size_t len, qcam_sps_info *out)
{
    memset(out, 0, sizeof *out);
    out->codec = codec;
    if (len < 4 || len > 4096) return -EBADMSG;
    uint8_t rbsp[4096];
    size_t n = qcam_sps_unescape(nal, len, rbsp);
    bits b = {rbsp, n, 0, false};
    if (codec == QCAM_CODEC_H264) {
        if ((rbsp[0] & 0x1f) != 7) return -EBADMSG;
        return parse_h264(&b, out);
    }
    if (codec == QCAM_CODEC_H265) {
        if (((rbsp[0] >> 1) & 0x3f) != 33) return -EBADMSG;
        return parse_h265(&b, out);
    }
    return -EINVAL;
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int qcam_sps_make_config(qcam_codec codec, const uint8_t *vps, size_t vps_len, const uint8_t *sps,
                         size_t sps_len, const uint8_t *pps, size_t pps_len, uint8_t **out,
                         size_t *out_len, qcam_sps_info *info)
{
    *out = NULL;
    *out_len = 0;
    if (!sps || !pps || !sps_len || !pps_len || sps_len > 0xffff || pps_len > 0xffff) return -EINVAL;
    if (codec == QCAM_CODEC_H265 && (!vps || !vps_len || vps_len > 0xffff)) return -EINVAL;
    qcam_sps_info si;
    int r = qcam_sps_parse(codec, sps, sps_len, &si);
    if (r < 0) return r;
    if (info) *info = si;
    uint8_t *p;
    size_t n;
    if (codec == QCAM_CODEC_H264) {
        bool ext = si.profile_idc == 100 || si.profile_idc == 110 || si.profile_idc == 122 ||
                   si.profile_idc == 144;
        n = 6 + 2 + sps_len + 1 + 2 + pps_len + (ext ? 4 : 0);
        p = malloc(n);
        if (!p) return -ENOMEM;
        size_t o = 0;
        p[o++] = 1;
        p[o++] = sps[1]; /* profile_idc */
        p[o++] = sps[2]; /* constraint flags (profile_compatibility) */
        p[o++] = sps[3]; /* level_idc */
        p[o++] = 0xfc | 3; /* lengthSizeMinusOne = 3 */
        p[o++] = 0xe0 | 1;
        put16(p + o, sps_len);
        o += 2;
        memcpy(p + o, sps, sps_len);
        o += sps_len;
        p[o++] = 1;
        put16(p + o, pps_len);
        o += 2;
        memcpy(p + o, pps, pps_len);
        o += pps_len;
        if (ext) {
            p[o++] = (uint8_t)(0xfc | (si.chroma_format_idc & 3));
            p[o++] = (uint8_t)(0xf8 | ((si.bit_depth_luma - 8) & 7));
            p[o++] = (uint8_t)(0xf8 | ((si.bit_depth_chroma - 8) & 7));
            p[o++] = 0; /* numOfSequenceParameterSetExt */
        }
    } else {
        n = 23 + 3 * 5 + vps_len + sps_len + pps_len;
        p = malloc(n);
        if (!p) return -ENOMEM;
        size_t o = 0;
        p[o++] = 1;
        p[o++] = (uint8_t)(si.profile_space << 6 | si.tier_flag << 5 | (si.profile_idc & 0x1f));
        for (int i = 3; i >= 0; i--) p[o++] = (uint8_t)(si.profile_compat_flags >> (8 * i));
        for (int i = 5; i >= 0; i--) p[o++] = (uint8_t)(si.constraint_indicator_flags >> (8 * i));
        p[o++] = (uint8_t)si.level_idc;
        p[o++] = 0xf0; /* min_spatial_segmentation_idc = 0 */
        p[o++] = 0x00;
        p[o++] = 0xfc; /* parallelismType = 0 */
        p[o++] = (uint8_t)(0xfc | (si.chroma_format_idc & 3));
        p[o++] = (uint8_t)(0xf8 | ((si.bit_depth_luma - 8) & 7));
        p[o++] = (uint8_t)(0xf8 | ((si.bit_depth_chroma - 8) & 7));
        p[o++] = 0; /* avgFrameRate */
        p[o++] = 0;
        p[o++] = (uint8_t)((si.max_sub_layers & 7) << 3 | (si.temporal_id_nesting ? 1 : 0) << 2 | 3);
        p[o++] = 3; /* numOfArrays */
        const uint8_t *nals[3] = {vps, sps, pps};
        size_t lens[3] = {vps_len, sps_len, pps_len};
        const uint8_t types[3] = {32, 33, 34};
        for (int i = 0; i < 3; i++) {
            p[o++] = (uint8_t)(0x80 | types[i]); /* array_completeness */
            put16(p + o, 1);
            o += 2;
            put16(p + o, lens[i]);
            o += 2;
            memcpy(p + o, nals[i], lens[i]);
            o += lens[i];
        }
    }
    *out = p;
    *out_len = n;
    return 0;
}
