/* A sink that writes packets back to back: a raw Annex-B elementary stream
 * (.h264/.h265) that ffmpeg, VLC and GStreamer read directly. */
#ifndef QCAM_ES_SINK_H
#define QCAM_ES_SINK_H

#include "../fs/fs.h"
#include "link.h"

typedef struct qcam_es_sink qcam_es_sink;

/* Open (create/truncate) `board_path` on `card` — writes go through the fs
 * HAL, so a full card is -ENOSPC with what fitted on the file. On success the
 * sink takes over the caller's reference to the card (closed with the sink);
 * on failure the caller keeps it. NULL and *err (-errno) on failure. */
qcam_es_sink *qcam_es_sink_open(qcam_fs_card *card, const char *board_path, int *err);
qcam_sink *qcam_es_sink_base(qcam_es_sink *s);
/* Frames and bytes written so far. */
uint64_t qcam_es_sink_frames(qcam_es_sink *s);
uint64_t qcam_es_sink_bytes(qcam_es_sink *s);
/* Flush to storage and close; returns 0 or the first error (-errno). */
int qcam_es_sink_close(qcam_es_sink *s);

#endif
