/* The segmenting core of the recording writers (mp4_write.h, ts_write.h):
 * what a writer does with files, whatever the container. Plain C, no engine
 * types, negative errno returns.
 *
 * Model. A writer begins with a qcam_segmenter (whose own first member is
 * the writer's qcam_sink, link.h) and hands it a table of
 * qcam_segmenter_ops, the container's part: take a packet, write out what is
 * buffered, forget it, begin and end a file. The core owns the files: it
 * names each one from the path pattern (segments: qcam_segment_expand_path),
 * opens it at the first keyframe, ends it when a segment is due or on close,
 * reports it to on_segment and starts the next one. Buffered media goes out
 * as whole writes; a file's length (file_len) is the end of what is on the
 * card and playable.
 *
 * A full card. Without segments, -ENOSPC stops the writer like any other
 * error (on_error; what was written stays playable). With segments it does
 * not: on_full hears of it, what is buffered is dropped (and its video frames
 * counted), the file ends at its last complete write (reported to on_segment
 * with `full` set; a file without media on the card is removed, not
 * reported) and the next file starts at the first keyframe a second or more
 * later for which there is room. Until then packets are dropped (video ones
 * counted).
 *
 * Errors. The first error (-errno) stops the writer: on_error hears of it
 * once, and every later write and flush returns stopped() (0 when the app
 * handles errors, else the error). close() returns an error only when nobody
 * heard of it before.
 *
 * Lifetimes. init() before anything else; open_first() opens the first file
 * and takes over the card (when it fails, it frees the writer and the caller
 * keeps the card). close() finishes the last file, frees the writer (the
 * free op, which calls release()) and closes the card.
 *
 * Threads. write(), flush(), close() and path() take the core's mutex
 * (`lock`), which is the writer's: a writer's other entry points take it too.
 * Every op and every callback in the config runs with it held, on the
 * calling thread; the callbacks must only hand their data to the app's loop
 * (qcam_app_post). The other functions are for the ops, with the mutex
 * held. */
#ifndef QCAM_SEGMENTER_H
#define QCAM_SEGMENTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../fs/fs.h"
#include "../link/link.h"
#include "../video/video.h"
#include "segment.h"

typedef struct qcam_segmenter qcam_segmenter;

/* The container's part. Every op runs with the mutex held; one that fails
 * returns the error through qcam_segmenter_fail(). */
typedef struct {
    /* What a packet is for: 0 nothing (write() says -EINVAL), 1 the video
     * track, 2 another track (audio). */
    int (*track)(qcam_segmenter *s, const qcam_packet *pkt);
    /* Add one packet of that track (the file may not have begun). */
    int (*write)(qcam_segmenter *s, qcam_packet *pkt, bool video);
    /* Write out and sync all that is buffered (flush(), a file's end). */
    int (*emit)(qcam_segmenter *s);
    /* Forget what is buffered (a full card), counting its video frames in
     * `dropped`. */
    void (*drop)(qcam_segmenter *s);
    /* A new file is open: its own state from zero. */
    void (*reset)(qcam_segmenter *s);
    /* The file has its origin: write what a file begins with (NULL:
     * nothing). It may set `started` itself before a write that can fail,
     * so that a file whose beginning did not fit is ended as a started one. */
    int (*begin)(qcam_segmenter *s);
    /* Whether the file has media on the card (a full card removes one that
     * has none instead of reporting it). */
    bool (*has_media)(qcam_segmenter *s);
    /* Whether the file, its buffer written out, is worth keeping (else it
     * is removed). */
    bool (*kept)(qcam_segmenter *s);
    /* The file is closed (and removed when not `kept`): finish it on the
     * card, fill in `info` (may be NULL) from its media; 0 or an error.
     * `end` is where the next file starts in this one's clock (0: not
     * known). */
    int (*finished)(qcam_segmenter *s, qcam_segment_info *info, uint64_t end, bool kept);
    /* Free the writer: release() and the container's own memory. */
    void (*free)(qcam_segmenter *s);
} qcam_segmenter_ops;

struct qcam_segmenter {
    qcam_sink sink; /* first; the writer's first member is its segmenter */
    const qcam_segmenter_ops *ops;
    pthread_mutex_t lock;
    qcam_writer_config cfg; /* path: `pattern`; parameter sets and encoder cleared */
    char pattern[512];
    char path[512];          /* the current file */
    qcam_fs_card *card;
    qcam_encoder *encoder;   /* the writer's own reference, or NULL */
    int fd;                  /* the current file, -1 when none */
    bool started;            /* the current file has its origin */
    int64_t origin_us;       /* the pts its times count from */
    uint64_t file_len;       /* bytes on the card (the end of the playable part) */
    unsigned seg_index;
    uint64_t segments;       /* files finished */
    uint64_t dropped;        /* video frames not written */
    int error;               /* the first error, 0 */
    bool error_reported;     /* somebody heard of it */
    bool closed;
    bool full;               /* segments: the card was full; waiting for room */
    int64_t retry_us;        /* the pts from which the next file may start */
    int64_t last_pts_us;     /* of the newest packet */
};

/* Set up `s` for `cfg`: -ENAMETOOLONG for a path that does not fit,
 * else 0 (the mutex is then live: release() it). */
/* Expand a segment path pattern (%i, %03i, %Y %m %d %H %M %S, %%) for `index`
 * at wall-clock time `when` (seconds since the epoch, written as UTC).
 * 0 or -ENAMETOOLONG / -EINVAL. */
int qcam_segment_expand_path(const char *pattern, unsigned index, int64_t when, char *out, size_t n);

int qcam_segmenter_init(qcam_segmenter *s, const qcam_segmenter_ops *ops, const qcam_writer_config *cfg);
/* Take a reference on cfg->encoder (when `r` is 0) and the card, and open
 * the first file: 0, or `r` or the error of the open, the writer freed. */
int qcam_segmenter_open_first(qcam_segmenter *s, const qcam_writer_config *cfg, qcam_fs_card *card, int r);
/* Close the file (not finished), drop the encoder, destroy the mutex. */
void qcam_segmenter_release(qcam_segmenter *s);

/* The entry points: each takes the mutex. write(): 0, -EINVAL (no track
 * for the packet), -EBADF (closed) or stopped(). */
int qcam_segmenter_write(qcam_segmenter *s, qcam_packet *pkt);
int qcam_segmenter_flush(qcam_segmenter *s);
/* The same for the writer's sink (qcam_sink_ops, link.h; the class binding's
 * path and close, writer_js.h). */
int qcam_segmenter_sink_write(qcam_sink *sink, qcam_packet *pkt);
int qcam_segmenter_sink_flush(qcam_sink *sink);
void qcam_segmenter_sink_path(qcam_sink *sink, char *out, size_t n);
int qcam_segmenter_sink_close(qcam_sink *sink, qcam_segment_info *last);
void qcam_segmenter_path(qcam_segmenter *s, char *out, size_t n);
/* Finish the last file (*last, may be NULL, describes it), free the writer
 * and close the card: 0, or an error nobody heard of. */
int qcam_segmenter_close(qcam_segmenter *s, qcam_segment_info *last);

/* For the ops, with the mutex held. */
bool qcam_segmenter_segmented(const qcam_segmenter *s);
/* Stop on `err` (the first error is kept and reported): the writer's error.
 * -ENOSPC with segments does not stop it and is returned as is. */
int qcam_segmenter_fail(qcam_segmenter *s, int err);
/* What a write returns once the writer has stopped. */
int qcam_segmenter_stopped(const qcam_segmenter *s);
/* The file's size on the card (file_len when it cannot be asked). */
uint64_t qcam_segmenter_file_size(qcam_segmenter *s);
/* Begin a file at `pts_us` (opened first when there is none). */
int qcam_segmenter_start(qcam_segmenter *s, int64_t pts_us);
/* Whether a segment is due at time `t` (in `timescale` units from the
 * origin) with `buffered` bytes not written yet. */
bool qcam_segmenter_due(const qcam_segmenter *s, uint64_t t, uint32_t timescale, uint64_t buffered);
/* End this file (on_segment hears of it) and begin the next at `pts_us`;
 * `end` as for finished(). */
int qcam_segmenter_next(qcam_segmenter *s, int64_t pts_us, uint64_t end);

#endif
