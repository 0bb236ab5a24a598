/* qcam:ts's muxer: H.264 / H.265 access units as an MPEG-2 transport stream
 * (ISO/IEC 13818-1), one program, one video elementary stream.
 *
 * The model. A file is a run of 188-byte packets; nothing refers to what
 * comes later, so every prefix cut at a packet boundary is a valid stream.
 *   - PAT (PID 0) and PMT (PID 0x1000, program 1) go out before every
 *     keyframe, so a reader can start at any keyframe.
 *   - The video is PID 0x100, stream type 0x1B (H.264) or 0x24 (H.265): one
 *     PES packet (stream id 0xE0, data_alignment_indicator, PTS only: no
 *     B-frames, DTS = PTS) per access unit. PES_packet_length is the real
 *     one when it fits in 16 bits, else 0 (unbounded, allowed for video).
 *   - The PES's first TS packet carries an adaptation field with the PCR
 *     (PCR_PID is the video PID) and, on keyframes, random_access_indicator.
 *   - An access unit delimiter is put in front of an AU that does not start
 *     with one (H.264: 09 F0; H.265: 46 01 50); parameter sets the caller
 *     passes go right after it (the writer gives them to keyframes that lack
 *     in-band ones).
 *   - The last packet of a PES is filled with adaptation-field stuffing.
 *   - continuity_counter counts per PID, modulo 16, every packet.
 *   - PTS = 90 kHz time + QCAM_TS_PTS_OFFSET; PCR (27 MHz, extension 0) =
 *     (PTS - QCAM_TS_PCR_LEAD) * 300, both modulo 2^33.
 *
 * G.711 has no standard mapping in MPEG-TS (no stream type nor registration
 * that ffmpeg or GStreamer read), so there is no audio here.
 *
 * Pure functions over memory: no I/O, no allocation, no threads. */
#ifndef QCAM_TS_MUX_H
#define QCAM_TS_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../media/media.h"

#define QCAM_TS_PACKET 188
#define QCAM_TS_PMT_PID 0x1000
#define QCAM_TS_VIDEO_PID 0x0100
#define QCAM_TS_PTS_OFFSET 126000u /* 1.4 s, as ffmpeg's muxer starts */
#define QCAM_TS_PCR_LEAD 63000u    /* the PCR runs 0.7 s behind the PTS */

typedef struct {
    qcam_codec codec; /* QCAM_CODEC_H264 or QCAM_CODEC_H265 */
    uint8_t cc_pat, cc_pmt, cc_video;
} qcam_ts_mux;

/* 0, or -EINVAL for a codec other than H.264 / H.265. Counters start at 0. */
int qcam_ts_mux_init(qcam_ts_mux *m, qcam_codec codec);

/* The PAT and PMT packets: writes 2 * 188 bytes to out, returns that. */
size_t qcam_ts_mux_psi(qcam_ts_mux *m, uint8_t *out);

/* The most bytes qcam_ts_mux_au writes for an AU of au_len bytes with
 * ps_len bytes of parameter sets (PAT/PMT included). */
size_t qcam_ts_mux_au_bound(size_t au_len, size_t ps_len);

/* One access unit (Annex B) at `pts90` (90 kHz since the file's origin):
 * PAT + PMT first when `key`, then its PES. `ps` (Annex B, may be NULL) goes
 * after the AUD. Returns the bytes written to out (a multiple of 188). */
size_t qcam_ts_mux_au(qcam_ts_mux *m, const uint8_t *au, size_t au_len, const uint8_t *ps, size_t ps_len,
                      uint64_t pts90, bool key, uint8_t *out);

/* CRC-32/MPEG-2 (PSI sections). */
uint32_t qcam_ts_crc32(const uint8_t *p, size_t n);

#endif
