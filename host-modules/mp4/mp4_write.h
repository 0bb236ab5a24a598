/* The MP4 writer behind Mp4Writer: a qcam_sink (link.h) that records H.264 /
 * H.265 access units and G.711 frames into a fragmented MP4 on the card,
 * one fsync'ed write per fragment, optionally split into segments and
 * finalized into regular MP4s. Plain C, no engine types.
 *
 * Threads. Every entry point takes the writer's mutex: one video link, one
 * audio link and the app's thread may call in at the same time. The
 * callbacks run on the calling thread with the mutex held: they must only
 * hand their data to the app's loop (qcam_app_post).
 *
 * A full card. Without segments, -ENOSPC stops the writer like any other
 * error (on_error; what was written stays playable). With segments it does
 * not: on_full hears of it (the app's moment to delete old recordings), the
 * fragment that did not fit is dropped, the file ends at its last complete
 * fragment (finished, and reported to on_segment with `full` set; a file
 * without one is removed), and the next segment starts at the first
 * keyframe a second or more later for which there is room (on_full again
 * each time there is none). Until then video frames are dropped and counted. */
#ifndef QCAM_MP4_WRITE_H
#define QCAM_MP4_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "../fs/fs.h"
#include "../link/link.h"
#include "../media/segment.h"
#include "../video/video.h"
#include "mp4.h"

typedef struct qcam_mp4_writer qcam_mp4_writer;

typedef qcam_segment_info qcam_mp4_segment_info; /* the finished file (media/segment.h) */

typedef struct {
    uint64_t video_frames, audio_frames; /* samples in complete fragments, all files */
    uint64_t fragments, bytes;           /* the current file */
    uint64_t segments;                   /* files finished */
    uint64_t dropped;                    /* video frames not written: before a file's first
                                          * keyframe, or lost to a full card (segments) */
} qcam_mp4_writer_stats;

typedef void qcam_mp4_segment_fn(void *opaque, const qcam_mp4_segment_info *info);
typedef void qcam_mp4_error_fn(void *opaque, int err, const char *path);
typedef void qcam_mp4_full_fn(void *opaque, const char *path);

typedef struct {
    const char *path; /* a board path; with segments a pattern (%i, %03i, %Y %m %d %H %M %S, %%) */
    /* video track (codec 0: none) */
    qcam_codec video_codec;
    int width, height;
    /* parameter sets (NAL units without start codes; copied); NULL: from the
     * encoder, or the first keyframe's in-band ones */
    const uint8_t *vps, *sps, *pps;
    size_t vps_len, sps_len, pps_len;
    qcam_encoder *encoder; /* optional; the writer takes its own reference */
    /* audio track (codec 0: none) */
    qcam_codec audio_codec;
    uint32_t sample_rate;
    uint16_t channels;
    unsigned fragment_ms;   /* 100..10000 */
    bool finalize;          /* on close (and per finished segment) */
    double segment_seconds; /* 0: no limit */
    uint64_t segment_bytes; /* 0: no limit */
    qcam_mp4_segment_fn *on_segment;
    qcam_mp4_error_fn *on_error; /* called once, for the first error */
    qcam_mp4_full_fn *on_full;   /* segments: the card was full (the file affected) */
    void *opaque;
    /* true: an error goes to on_error only and later writes return 0
     * (the writer has stopped); false: writes return the error */
    bool errors_handled;
} qcam_mp4_writer_config;

/* Create the first file (ENOENT, EACCES, ... when it cannot be). On success
 * the writer takes over the caller's reference to `card`. */
int qcam_mp4_writer_open(qcam_fs_card *card, const qcam_mp4_writer_config *cfg, qcam_mp4_writer **out);
qcam_sink *qcam_mp4_writer_sink(qcam_mp4_writer *w);
qcam_mp4_writer *qcam_mp4_writer_of(qcam_sink *sink);
/* Add one packet (video AU or G.711 frame): 0, -EINVAL (no track for its
 * codec), or the writer's error (-ENOSPC...). */
int qcam_mp4_writer_write(qcam_mp4_writer *w, qcam_packet *pkt);
/* Write out the fragment in progress and sync it. */
int qcam_mp4_writer_flush(qcam_mp4_writer *w);
void qcam_mp4_writer_stats_get(qcam_mp4_writer *w, qcam_mp4_writer_stats *out);
/* The file being written now. */
void qcam_mp4_writer_path(qcam_mp4_writer *w, char *out, size_t n);
/* The first error (-errno) or 0. */
int qcam_mp4_writer_error(qcam_mp4_writer *w);
/* Write the last fragment, finalize (when configured), close and free.
 * on_segment is for the files finished before (segments); the last one is
 * described in *last (may be NULL). Returns 0, or an error that
 * was not reported before (the file is left fragmented and playable). */
int qcam_mp4_writer_close(qcam_mp4_writer *w, qcam_mp4_segment_info *last);

/* Expand a segment path pattern for `index` at wall-clock time `when`
 * (seconds since the epoch, written as UTC). 0 or -ENAMETOOLONG / -EINVAL. */
int qcam_mp4_expand_path(const char *pattern, unsigned index, int64_t when, char *out, size_t n);

#endif
