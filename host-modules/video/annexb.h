/* Annex B elementary streams (H.264 / H.265): NAL units, access units, frame
 * types and parameter sets. Pure C over memory — no I/O, no engine, no
 * allocation — because it parses untrusted input (files on the SD card,
 * bytes from JavaScript). Every read is bounds-checked; fuzz_annexb.c
 * fuzzes it.
 *
 * Access units follow H.264 7.4.1.2.3 and H.265 7.4.2.4.4: a new AU starts
 * at the first AUD / parameter set / prefix SEI / first slice of a picture
 * that follows a picture's slices. "First slice" is first_mb_in_slice == 0
 * (H.264) or first_slice_segment_in_pic_flag (H.265); streams with arbitrary
 * slice order are outside what we split. Bytes before the first start code
 * are skipped. */
#ifndef QCAM_ANNEXB_H
#define QCAM_ANNEXB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../media/media.h"

/* What slice headers need from the picture parameter sets seen so far. */
typedef struct {
    qcam_codec codec;
    uint8_t pps_known[64];       /* H.265: 1 when pps_pic_parameter_set_id i was seen */
    uint8_t pps_extra_bits[64];  /* H.265 num_extra_slice_header_bits */
} qcam_annexb_state;

void qcam_annexb_init(qcam_annexb_state *st, qcam_codec codec);

/* The next NAL unit in buf[0..len) at or after *pos: on true, *nal / *nal_len
 * are its bytes after the start code (NAL header first, trailing zero bytes
 * removed), *start the offset of its start code (incl. a leading zero byte of a
 * 4-byte code) and *pos moves past it. False when there is none. */
bool qcam_annexb_next_nal(const uint8_t *buf, size_t len, size_t *pos, size_t *start,
                          const uint8_t **nal, size_t *nal_len);

/* Find the access unit at the front of buf[0..len).
 *   1: buf[*skip .. *skip + *au_len) is one AU (bytes before *skip are junk).
 *   0: the AU's end is not in sight yet; call again with more bytes. With
 *      `eof` true this never happens: the rest is the last AU.
 *  -1: no NAL unit at all in buf (with eof: nothing left; *skip = len). */
int qcam_annexb_next_au(qcam_annexb_state *st, const uint8_t *buf, size_t len, bool eof,
                        size_t *skip, size_t *au_len);

/* Access units NAL unit by NAL unit, for a caller that walks the NAL units
 * itself (one scan of a stream: qcam_annexb_find_start_code from one start
 * code to the next): the rule qcam_annexb_next_au applies. Feed every NAL
 * unit in stream order, each complete (its bytes after the start code,
 * trailing zero bytes removed, as qcam_annexb_next_nal gives them). */
typedef struct {
    qcam_codec codec;
    bool in_au, seen_vcl;
} qcam_annexb_splitter;

enum {
    QCAM_AU_SKIP = -1, /* junk before the first access unit (no NAL header after the start code) */
    QCAM_AU_SAME = 0,  /* part of the current access unit */
    QCAM_AU_NEW = 1,   /* starts an access unit; the one before (if any) ended before this NAL's start code */
};

void qcam_annexb_splitter_init(qcam_annexb_splitter *s, qcam_codec codec);
int qcam_annexb_split(qcam_annexb_splitter *s, const uint8_t *nal, size_t len);

/* Index of the first 00 00 01 in buf[from .. len), or len. */
size_t qcam_annexb_find_start_code(const uint8_t *buf, size_t len, size_t from);

typedef struct {
    qcam_pkt_type type; /* QCAM_PKT_HEADER when the AU has no slice */
    bool keyframe;      /* H.264 IDR, H.265 IRAP */
    bool has_params;    /* carries parameter sets (SPS, and VPS for H.265) */
} qcam_au_info;

/* Classify one AU (updates the PPS table in st). */
void qcam_annexb_classify(qcam_annexb_state *st, const uint8_t *au, size_t len, qcam_au_info *info);

/* The parameter sets an AU carries, as NAL units without start codes (the
 * first of each kind). Pointers into `au`; NULL / 0 when absent. */
typedef struct {
    const uint8_t *vps, *sps, *pps;
    size_t vps_len, sps_len, pps_len;
} qcam_annexb_params;
void qcam_annexb_find_params(qcam_codec codec, const uint8_t *au, size_t len,
                             qcam_annexb_params *out);

/* NAL unit type of a NAL (header first); -1 when too short. */
int qcam_annexb_nal_type(qcam_codec codec, const uint8_t *nal, size_t len);

#endif
