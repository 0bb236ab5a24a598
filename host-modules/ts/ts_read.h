/* qcam:ts — reading MPEG transport streams (TsReader): one pass over the
 * file builds an index of the video stream's access units; each one is then
 * read back from its packets on demand.
 *
 * The model. The file is a run of 188-byte packets from offset 0. The PAT
 * (PID 0) names the first program's PMT; the PMT's first H.264 (stream_type
 * 0x1B) or H.265 (0x24) elementary stream is the video; every other PID is
 * skipped. Each PES packet of the video PID is one frame (one access unit,
 * Annex B, as TsWriter, ffmpeg and GStreamer write them):
 *   - its PES header must lie in its first TS packet and carry a PTS (a PES
 *     without one is skipped); DTS = PTS when absent. Both are 33-bit
 *     counters: a step back by more than 2^32 is a wrap, unwrapped here.
 *   - keyframe: the adaptation field's random_access_indicator, or an IDR
 *     (H.264) / IRAP (H.265) NAL unit among its first QCAM_TS_PREFIX bytes.
 *   - width / height: from the first SPS seen (video/sps.h), 0 without one.
 *   - complete: a PES with a length when its bytes are all there; one
 *     without (length 0, allowed for video) at the next PES start, or at the
 *     end of the file when its last packet is padded with adaptation-field
 *     stuffing (as muxers end a PES). A PES cut short is left out.
 *
 * Cut files. A file cut anywhere (SIGKILL, power cut) reads up to its last
 * complete frame: a partial packet at the end is ignored, and so is
 * everything from the first packet that does not start with the sync byte
 * (info: `end`, `torn`). A file that does not start with one, or with no
 * PAT/PMT naming an H.264/H.265 stream, or without a complete frame of it,
 * is -EBADMSG with `error` saying which.
 *
 * Memory: a fixed scan buffer plus 40 bytes per frame. Pure C over a read
 * callback: no engine, no file system. It parses untrusted input, so every
 * read is bounds-checked; fuzz_ts.c fuzzes it. */
#ifndef QCAM_TS_READ_H
#define QCAM_TS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../media/media.h"

#define QCAM_TS_PREFIX 4096 /* ES bytes of each frame looked at for NAL types and the SPS */

typedef struct {
    /* Read up to len bytes at pos into buf: the bytes read (fewer only at the
     * end of the file) or -errno. */
    ssize_t (*read)(void *opaque, uint64_t pos, void *buf, size_t len);
    void *opaque;
    uint64_t size; /* bytes in the file */
} qcam_ts_source;

typedef struct {
    uint64_t offset; /* the frame's first TS packet */
    uint64_t end;    /* just past its last TS packet */
    int64_t pts, dts; /* 90 kHz, unwrapped, from the file's first PTS (dts may be < 0 with B-frames) */
    uint32_t size;   /* elementary stream bytes (PES payload after its header) */
    bool key;
} qcam_ts_frame;

typedef struct {
    qcam_codec codec;  /* QCAM_CODEC_H264 or QCAM_CODEC_H265 */
    uint16_t pid;      /* the video PID */
    int width, height; /* 0 when no SPS was readable */
    qcam_ts_frame *frames;
    size_t n_frames, cap_frames;
    size_t keyframes;
    int64_t duration; /* 90 kHz: last PTS - first PTS + the last frame interval (3000 for one frame) */
    uint64_t end;     /* the index covers bytes [0, end) */
    bool torn;        /* end < size: a cut or damaged tail */
    char error[160];  /* -EBADMSG: "ts: ..." */
} qcam_ts_index;

/* Build `idx` (zeroed by the caller, or cleared) from the file. 0, or
 * -EBADMSG with idx->error, -ENOMEM, or the callback's -errno. On failure
 * idx is cleared (error kept). */
int qcam_ts_read(const qcam_ts_source *src, qcam_ts_index *idx);

/* What the recordings list needs, without reading the whole file: the
 * first complete frame (codec, PID, width/height from its SPS, its PTS),
 * then the last complete frames from a window at the end (256 KiB, grown
 * x4 while it holds fewer than two) for the duration. `idx` is filled as
 * qcam_ts_read fills it except that it has no frames (n_frames 0); a file
 * of 1 MiB or less, or one whose window reaches its first frame, is read
 * whole (frames then filled). Same errors as qcam_ts_read. The duration
 * equals qcam_ts_read's for a file whose last frames hold its last PTS and
 * that is not damaged in the middle (a sync byte lost), spanning less than
 * 2^32 ticks (13 hours). */
int qcam_ts_probe(const qcam_ts_source *src, qcam_ts_index *idx);

/* Frame k's elementary stream bytes (Annex B) into out[0 .. frames[k].size).
 * 0, -EBADMSG when the file no longer holds them (changed since the scan),
 * or the callback's -errno. */
int qcam_ts_read_frame(const qcam_ts_source *src, const qcam_ts_index *idx, size_t k, uint8_t *out);

void qcam_ts_index_clear(qcam_ts_index *idx);

#endif
