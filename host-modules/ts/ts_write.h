/* The MPEG-TS writer behind TsWriter: a qcam_sink (link.h) that records
 * H.264 / H.265 access units into a transport stream on the card (ts_mux.h),
 * optionally split into segments. Plain C, no engine types.
 *
 * Output. Packets collect in memory and go out as one write followed by an
 * fsync when the buffered frames span a second or more of stream time (and
 * on flush(), at a segment's end and on close), so a power cut loses at most
 * about the last second. Every write is a whole number of 188-byte packets;
 * a write the card takes only part of is cut back to where it began, so the
 * file is always a run of whole packets, every prefix of it playable.
 *
 * Files, errors and a full card are the segmenting core's
 * (media/segmenter.h); this writer is its MPEG-TS part.
 *
 * Threads. Every entry point takes the writer's mutex (the core's). The callbacks run on
 * the calling thread with the mutex held: they must only hand their data to
 * the app's loop (qcam_app_post).
 *
 * A full card: as media/segmenter.h. Without segments -ENOSPC stops the writer
 * (on_error; what was written stays playable). With segments on_full hears
 * of it, the buffered frames are dropped, the file ends at its last complete
 * write (reported to on_segment with `full` set; a file with nothing in it
 * is removed) and the next segment starts at the first keyframe a second or
 * more later for which there is room. */
#ifndef QCAM_TS_WRITE_H
#define QCAM_TS_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "../fs/fs.h"
#include "../link/link.h"
#include "../media/segment.h"
#include "../video/video.h"

typedef struct qcam_ts_writer qcam_ts_writer;

typedef qcam_segment_info qcam_ts_segment_info; /* the finished file (media/segment.h) */

typedef struct {
    uint64_t video_frames; /* frames on storage, all files */
    uint64_t bytes;        /* the current file */
    uint64_t segments;     /* files finished */
    uint64_t dropped;      /* frames not written: before a file's first keyframe, or lost to a full card */
} qcam_ts_writer_stats;

/* media/segment.h; the audio and MP4 fields are not used (an audio codec is -EINVAL) */
typedef qcam_writer_config qcam_ts_writer_config;

/* Create the first file. On success the writer takes over the caller's
 * reference to `card`. -EINVAL for a bad config or parameter sets that do
 * not parse. */
int qcam_ts_writer_open(qcam_fs_card *card, const qcam_ts_writer_config *cfg, qcam_ts_writer **out);
qcam_sink *qcam_ts_writer_sink(qcam_ts_writer *w);
qcam_ts_writer *qcam_ts_writer_of(qcam_sink *sink);
/* One packet: 0, -EINVAL (not the video codec), or the writer's error. */
int qcam_ts_writer_write(qcam_ts_writer *w, qcam_packet *pkt);
/* Write out and sync what is buffered. */
int qcam_ts_writer_flush(qcam_ts_writer *w);
void qcam_ts_writer_stats_get(qcam_ts_writer *w, qcam_ts_writer_stats *out);
void qcam_ts_writer_path(qcam_ts_writer *w, char *out, size_t n);
/* Write the rest, close and free; *last (may be NULL) describes the last
 * file. 0, or an error not reported before. */
int qcam_ts_writer_close(qcam_ts_writer *w, qcam_ts_segment_info *last);

#endif
