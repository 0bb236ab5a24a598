/* qcam:mp4 — reading MP4 files into a qcam_mp4_index (mp4.h).
 *
 * A bounds-checked parser of regular and fragmented MP4 (and QuickTime .mov,
 * the same box structure): ftyp, moov (mvhd, trak: tkhd, mdia: mdhd, hdlr,
 * minf/stbl: stsd with avc1/avc3 + avcC, hvc1/hev1 + hvcC, alaw/ulaw; stts,
 * ctts, stss, stsz/stz2, stsc, stco/co64; mvex/trex), moof (mfhd, traf: tfhd,
 * tfdt, trun), mdat, free/skip and anything else skipped. Pure C over a read
 * callback: no engine, no file system. It parses untrusted input (files on
 * the SD card), so every read is checked against the box it is in, every
 * count against the bytes that would hold it, and every allocation is bounded
 * by the file's size. fuzz_mp4.c fuzzes it.
 *
 * Torn files. A fragmented file being written (or cut by a power failure)
 * ends in a fragment that is not complete. The reader keeps every fragment
 * whose moof box and sample bytes lie wholly inside the complete top-level
 * boxes, stops at the first one that does not, and says where that torn tail
 * starts (info.end) — repair truncates there. A regular file whose samples
 * are not all in the file is an error.
 *
 * Tracks kept: H.264, H.265, A-law and µ-law, at most QCAM_MP4_MAX_TRACKS
 * (the first of each kind); other tracks (AAC, timecode, ...) are skipped.
 * Audio tracks whose samples are single audio frames (PCM-style: one byte
 * per channel for G.711, as a .mov stores it) become records of 1024 frames
 * (each chunk's last one shorter).
 *
 * Edit lists (edts/elst): the common cases are applied. Leading empty edits
 * delay the track: they are added to its base_dts, so a regular file whose
 * audio starts later reads as the fragmented file it was finalized from (a
 * tfdt there). The first normal edit's media_time (ffmpeg's B-frame reorder
 * delay) is the media time presented first: info.media_start, which
 * Mp4Reader subtracts from the times it reports. Later edits are ignored. */
#ifndef QCAM_MP4_READ_H
#define QCAM_MP4_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mp4.h"

typedef struct {
    /* Read up to len bytes at pos into buf: the bytes read (fewer only at the
     * end of the file) or -errno. */
    ssize_t (*read)(void *opaque, uint64_t pos, void *buf, size_t len);
    void *opaque;
    uint64_t size; /* bytes in the file */
} qcam_mp4_source;

typedef struct {
    bool fragmented;    /* the moov has an mvex */
    unsigned fragments; /* complete fragments (moof + their samples) read */
    uint64_t end;       /* the index covers bytes [0, end): a torn tail starts here */
    bool torn;          /* end < size */
    char torn_why[160]; /* what is torn, when torn ("truncated moof at offset N") */
    char error[192];    /* why reading failed (-EBADMSG): "mp4: ..." */
    /* Per index track: the media time the edit list presents first
     * (timescale units; 0 without one). Presentation time = decode or
     * composition time - media_start. */
    uint64_t media_start[QCAM_MP4_MAX_TRACKS];
} qcam_mp4_read_info;

/* Build `idx` (zeroed by the caller, or cleared) from the file. 0 on success
 * (possibly with info->torn); -EBADMSG with info->error for a file that is
 * not an MP4 this reads, -ENOMEM, or the read callback's -errno. On failure
 * idx is cleared. */
int qcam_mp4_read(const qcam_mp4_source *src, qcam_mp4_index *idx, qcam_mp4_read_info *info);

/* Length of the NAL unit length fields of a video track (1, 2 or 4), from
 * its avcC / hvcC; 0 when the configuration is unusable. */
unsigned qcam_mp4_nal_length_size(const qcam_mp4_track *t);

/* One video sample (length-prefixed NAL units) as an Annex B access unit
 * (4-byte start codes). With `params`, the parameter sets of the track's
 * configuration go first unless the sample carries an SPS itself. out may be
 * NULL to ask for the size. Returns the bytes written (or needed), or
 * -EBADMSG when a NAL length runs past the sample, or -ENOSPC when `cap` is
 * too small. */
ssize_t qcam_mp4_to_annexb(const qcam_mp4_track *t, const uint8_t *sample, size_t len,
                           bool params, uint8_t *out, size_t cap);

/* ---- files on the card (mp4_repair.c) ------------------------------------ */

/* qcam_mp4_read over an open file descriptor (qcam_fs_open). */
int qcam_mp4_read_fd(int fd, qcam_mp4_index *idx, qcam_mp4_read_info *info);

typedef enum {
    QCAM_MP4_REPAIR_OK = 0,        /* nothing to do */
    QCAM_MP4_REPAIR_REPAIRED,      /* torn tail dropped and/or finalized */
    QCAM_MP4_REPAIR_UNRECOVERABLE, /* left as it was */
} qcam_mp4_repair_status;

typedef struct {
    qcam_mp4_repair_status status;
    uint64_t dropped_bytes;            /* cut off the end */
    uint64_t video_frames, audio_frames; /* samples in the mended file */
    double duration;                   /* seconds, the longest track */
    bool finalized;                    /* rewritten as a regular MP4 */
    char reason[256];                  /* unrecoverable: why; repaired: what was torn */
} qcam_mp4_repair_result;

/* Make a recording cut short playable: read it (stopping before a torn
 * tail); a fragmented file is finalized into a regular MP4 when `finalize`
 * (which leaves the torn tail out), otherwise the torn tail is truncated.
 * A file that is fine (regular, or fragmented with !finalize, and not torn)
 * is left alone, and so is one that cannot be mended (not an MP4 this reads,
 * no complete fragment). Returns 0 with `out` filled, or -errno for a
 * storage error (ENOENT, ENOSPC while finalizing, ...), the file then left
 * as it was. */
int qcam_mp4_repair(qcam_fs_card *card, const char *board_path, bool finalize, qcam_mp4_repair_result *out);

#endif
