/* The sim's libavcodec codecs as a plugin: plugin_avcodec.c is built into
 * qcam-avcodec.so beside the executables and loaded by backend_sim.c on the
 * first use of a real encoder or decoder. An app that never encodes does
 * not map libavcodec, libx264 and libx265 at all: they weigh about 17 MiB of
 * resident memory and a few milliseconds of start-up in every process that
 * links them (docs/benchmarks.md).
 *
 * The plugin calls nothing in the executable by name: the media functions
 * it needs come in through qcam_sim_av_host, so one copy of media.c (its
 * pools and copy counter) serves both. Everything else the encoder HAL does
 * (checking configurations, classifying access units, keeping parameter
 * sets, the replay encoder) stays in backend_sim.c. */
#ifndef QCAM_SIM_AV_H
#define QCAM_SIM_AV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "video.h"

/* Bumped whenever anything below changes: a stale plugin is refused. */
#define QCAM_SIM_AV_VERSION 1
#define QCAM_SIM_AV_FILE "qcam-avcodec.so"
#define QCAM_SIM_AV_ENTRY "qcam_sim_av_entry"

typedef struct {
    qcam_packet *(*packet_new)(size_t size);
    qcam_picture *(*picture_new)(int width, int height, qcam_pixfmt fmt);
    qcam_picture *(*picture_ref)(qcam_picture *pic);
    void (*picture_unref)(qcam_picture *pic);
    void (*count_copy)(size_t bytes);
} qcam_sim_av_host;

typedef struct qcam_sim_av_enc qcam_sim_av_enc;
typedef struct qcam_sim_av_dec qcam_sim_av_dec;

typedef struct {
    int version; /* QCAM_SIM_AV_VERSION */
    bool (*encoder_available)(qcam_codec codec);
    /* cfg is already checked (backend_sim.c). 0, -ENOTSUP, -ENOMEM, -EINVAL, -EIO. */
    int (*encoder_open)(const qcam_encoder_config *cfg, qcam_sim_av_enc **out);
    /* One picture in (borrowed), one access unit out (Annex B; codec, type
     * and stamps left to the caller) with the pts_us of the picture it came
     * from. idr forces a keyframe. */
    int (*encode)(qcam_sim_av_enc *enc, qcam_picture *pic, bool idr, qcam_packet **out, int64_t *pts_us);
    void (*encoder_close)(qcam_sim_av_enc *enc);
    bool (*decoder_available)(qcam_codec codec);
    int (*decoder_open)(qcam_codec codec, qcam_sim_av_dec **out);
    /* As qcam_decoder_send / qcam_decoder_receive (video.h), seq left to the caller. */
    int (*decoder_send)(qcam_sim_av_dec *dec, const uint8_t *data, size_t size, int64_t pts_us);
    int (*decoder_receive)(qcam_sim_av_dec *dec, qcam_picture **out);
    void (*decoder_close)(qcam_sim_av_dec *dec);
} qcam_sim_av_api;

/* The plugin's one exported symbol, QCAM_SIM_AV_ENTRY. */
typedef const qcam_sim_av_api *qcam_sim_av_entry_fn(const qcam_sim_av_host *host);

#endif
