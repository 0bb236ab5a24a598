/* The MP4 writer behind Mp4Writer: a qcam_sink (link.h) that records H.264 /
 * H.265 access units and G.711 frames into a fragmented MP4 on the card,
 * one fsync'ed write per fragment, optionally split into segments and
 * finalized into regular MP4s. Plain C, no engine types.
 *
 * Files, errors and a full card are the segmenting core's
 * (media/segmenter.h); this writer is its MP4 part.
 *
 * Threads. Every entry point takes the writer's mutex (the core's): one video link, one
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

typedef qcam_writer_config qcam_mp4_writer_config; /* media/segment.h */

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

#endif
