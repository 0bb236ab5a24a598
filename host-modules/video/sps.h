/* H.264 and H.265 sequence parameter sets: what a container needs from
 * them (picture size after cropping, profile/tier/level, chroma format, bit
 * depths), and the decoder configuration records MP4 carries in its sample
 * entries (avcC, ISO/IEC 14496-15 5.3.3; hvcC, 8.3.3). Pure C over memory,
 * untrusted input: every read is bounds-checked. */
#ifndef QCAM_SPS_H
#define QCAM_SPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../media/media.h"

typedef struct {
    qcam_codec codec;
    int width, height;   /* luma samples, after the cropping / conformance window */
    unsigned profile_idc, level_idc;
    unsigned constraint_flags; /* H.264: constraint_set0..5 flags byte */
    unsigned chroma_format_idc; /* 0 mono, 1 4:2:0, 2 4:2:2, 3 4:4:4 */
    unsigned bit_depth_luma, bit_depth_chroma;
    /* H.265 profile_tier_level */
    unsigned profile_space, tier_flag;
    uint32_t profile_compat_flags;
    uint64_t constraint_indicator_flags; /* 48 bits */
    unsigned max_sub_layers;   /* sps_max_sub_layers_minus1 + 1 */
    bool temporal_id_nesting;
} qcam_sps_info;

/* Parse an SPS NAL unit (NAL header first, emulation prevention bytes
 * still in). 0, or -EBADMSG for one that is cut short or out of range,
 * -ENOTSUP for what we do not read (H.265 multi-layer extensions). */
int qcam_sps_parse(qcam_codec codec, const uint8_t *nal, size_t len, qcam_sps_info *out);

/* Copy `len` bytes of an RBSP-encoded NAL removing emulation prevention
 * bytes (00 00 03 → 00 00); returns the new length (<= len). */
size_t qcam_sps_unescape(const uint8_t *in, size_t len, uint8_t *out);

/* The decoder configuration record (the avcC / hvcC box payload), malloc'd in
 * *out. vps is ignored for H.264 (and required for H.265). 0, -EBADMSG (an
 * SPS we cannot read), -EINVAL (missing parameter set), -ENOMEM. */
int qcam_sps_make_config(qcam_codec codec, const uint8_t *vps, size_t vps_len, const uint8_t *sps,
                         size_t sps_len, const uint8_t *pps, size_t pps_len, uint8_t **out,
                         size_t *out_len, qcam_sps_info *info);

#endif
