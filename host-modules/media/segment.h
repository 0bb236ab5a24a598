/* What the recording writers (Mp4Writer, TsWriter) share: a finished file,
 * as the writer reports it for each segment and for the last file on close,
 * and the configuration a writer is opened with. Plain C. */
#ifndef QCAM_SEGMENT_H
#define QCAM_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../video/video.h"

typedef struct {
    char path[512];    /* board path of the finished file */
    unsigned index;    /* segment number, 0, 1, ... */
    double duration;   /* seconds of media */
    uint64_t size;     /* bytes on storage */
    uint64_t frames;   /* video frames (samples) in it */
    bool full;         /* segments: ended early because the card was full */
} qcam_segment_info;

typedef void qcam_segment_fn(void *opaque, const qcam_segment_info *info);
typedef void qcam_writer_error_fn(void *opaque, int err, const char *path);
typedef void qcam_writer_full_fn(void *opaque, const char *path);

/* A recording writer's configuration (mp4_write.h, ts_write.h). */
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
    /* audio track (codec 0: none; MP4 only) */
    qcam_codec audio_codec;
    uint32_t sample_rate;
    uint16_t channels;
    unsigned fragment_ms;   /* MP4: 100..10000 */
    bool finalize;          /* MP4: on close (and per finished segment) */
    double segment_seconds; /* 0: no limit */
    uint64_t segment_bytes; /* 0: no limit */
    qcam_segment_fn *on_segment;
    qcam_writer_error_fn *on_error; /* called once, for the first error */
    qcam_writer_full_fn *on_full;   /* segments: the card was full (the file affected) */
    void *opaque;
    /* true: an error goes to on_error only and later writes return 0
     * (the writer has stopped); false: writes return the error */
    bool errors_handled;
} qcam_writer_config;

/* remux(): a finished H.264 / H.265 elementary stream (Annex B) into a
 * container file (mp4_remux.h, ts_remux.h). */
typedef struct {
    qcam_codec codec; /* QCAM_CODEC_H264 or QCAM_CODEC_H265 */
    double fps;       /* frames per second (an elementary stream has no timestamps); > 0 */
} qcam_remux_options;

typedef struct {
    uint64_t frames;    /* access units written */
    uint64_t keyframes; /* of which sync samples (IDR / IRAP) */
    uint64_t dropped;   /* access units before the first keyframe (not decodable: left out) */
    double duration;    /* seconds: frames / fps */
    uint64_t size;      /* bytes of the output */
    int width, height;  /* from the SPS */
} qcam_remux_result;

struct qcam_fs_card;
/* Remux board path `input` into board path `output`: 0 and *res, or -errno
 * (-EBADMSG: no keyframe with usable parameter sets; *what, when set, says
 * more). A failure leaves no output behind. */
typedef int qcam_remux_fn(struct qcam_fs_card *card, const char *input, const char *output,
                          const qcam_remux_options *opts, qcam_remux_result *res, const char **what);

#endif
