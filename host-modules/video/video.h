/* qcam:video HAL: H.264 / H.265 encoders and decoders over qcam_picture and
 * qcam_packet (media.h). Plain C, no engine types, negative errno returns.
 *
 * Threads. An encoder or decoder has one user at a time: any one thread
 * (the app's, or a qcam:link worker) may call encode / decode / close, and
 * nothing here ever calls into JavaScript. request_idr and parameter_sets
 * may also be called from another thread while that user encodes.
 * Several encoders and decoders may run at once, each on its own thread.
 *
 * Lifetimes. open() hands out one reference; ref() adds one (e.g. a link
 * that keeps encoding while the app drops its Encoder) and close() drops
 * one: the last close releases the codec. Packets and pictures coming out
 * carry one reference for the caller; pictures going in are only borrowed
 * (a backend takes its own reference if it keeps one past the call).
 *
 * Encoders emit exactly one access unit per picture (no B-frames, no
 * look-ahead: zero latency). The first one is an IDR that carries the
 * parameter sets in-band (SPS/PPS; VPS/SPS/PPS for H.265), and so does every
 * later IDR: a stream can be cut at any keyframe.
 *
 * How the boards' encoders map onto this (backend_maixcam.c, backend_k230.c):
 *
 *   HAL                     MaixCAM (CVI MMF, SG2002)          K230 (kd_mpi)
 *   encoder_open            CVI_VENC_CreateChn(chn, attr)      kd_mpi_venc_create_chn(chn, attr)
 *                           (stVencAttr: PT_H264/PT_H265,      (k_venc_chn_attr: K_PT_H264/H265,
 *                           u32PicWidth/Height, profile;        pic_width/height, profile;
 *                           stRcAttr: H264CBR/VBR u32Gop,       rc_attr: CBR/VBR gop, bit_rate,
 *                           u32BitRate, fps; stGopAttr NORMALP)  src/dst frame rate)
 *                           + CVI_VENC_StartRecvFrame           + kd_mpi_venc_start_chn
 *   encode                  CVI_VENC_SendFrame(chn, frame)     kd_mpi_venc_send_frame(chn, frame)
 *                           then CVI_VENC_GetStream(chn, st,   then kd_mpi_venc_get_stream(chn, st,
 *                           timeout) and ReleaseStream: the     timeout) and release_stream: the
 *                           stream's packs (NALs) are copied    packs are copied into one qcam_packet;
 *                           into one qcam_packet                 the picture's VB block is the frame
 *   request_idr             CVI_VENC_RequestIDR(chn, true)     kd_mpi_venc_request_idr(chn)
 *   parameter_sets          from the first IDR's packs (SPS/   the same, from the stream
 *                           PPS/VPS are separate packs)
 *   close                   StopRecvFrame, ResetChn, DestroyChn  stop_chn, destroy_chn
 *   decoder_open/send/      CVI_VDEC_CreateChn / SendStream /  kd_mpi_vdec_create_chn / send_stream /
 *   receive                 GetFrame + ReleaseFrame            get_frame + release_frame
 *
 * Pictures handed to a board encoder must live in the media pool's physical
 * memory (the camera's VB blocks); a picture from elsewhere is copied into a
 * VB block first, through qcam_media_count_copy. */
#ifndef QCAM_VIDEO_H
#define QCAM_VIDEO_H

#include <stdbool.h>
#include <stdint.h>

#include "../media/media.h"

typedef enum { QCAM_RC_CBR = 0, QCAM_RC_VBR } qcam_rate_control;
typedef enum {
    QCAM_PROFILE_AUTO = 0, /* the encoder's choice (H.264: high, H.265: main) */
    QCAM_PROFILE_BASELINE,
    QCAM_PROFILE_MAIN,
    QCAM_PROFILE_HIGH,
} qcam_video_profile;

typedef struct {
    qcam_codec codec;
    int width, height;             /* even, QCAM_VIDEO_MIN_SIZE .. QCAM_VIDEO_MAX_SIZE */
    int fps;                       /* 1 .. 240 */
    int bitrate;                   /* bits per second */
    qcam_rate_control rate_control;
    int gop;                       /* frames from one keyframe to the next, >= 1 */
    qcam_video_profile profile;
    /* The format pictures will come in: fed without a copy when the encoder
     * takes it; any of NV21, NV12, YUV420P is accepted at every call. */
    qcam_pixfmt input_format;
    /* A real path of an Annex B file to play instead of encoding (the replay
     * encoder); NULL to encode. */
    const char *replay_path;
} qcam_encoder_config;

enum { QCAM_VIDEO_MIN_SIZE = 16, QCAM_VIDEO_MAX_SIZE = 8192 };

typedef struct qcam_encoder qcam_encoder;

/* Whether this build can encode `codec` without a replay file. */
bool qcam_encoder_available(qcam_codec codec);
/* 0 and *out, or -EINVAL (bad config), -ENOTSUP (no such encoder in this
 * build), -ENOENT / -EIO (replay file), -ENOMEM. */
int qcam_encoder_open(const qcam_encoder_config *cfg, qcam_encoder **out);
/* Encode one picture of the configured size, in NV21, NV12 or YUV420P.
 * 0 and *out (one access unit; pts/dts = pic->pts_us, seq = 0, 1, 2 ... per
 * encoder), or -EINVAL (wrong size/format), -EIO. */
int qcam_encoder_encode(qcam_encoder *enc, qcam_picture *pic, qcam_packet **out);
/* The next access unit will be an IDR (replay: the next keyframe in the file). */
void qcam_encoder_request_idr(qcam_encoder *enc);

/* Parameter sets as NAL units without start codes, each in a packet of its
 * own (codec set, type HEADER). vps is NULL for H.264. */
typedef struct {
    qcam_packet *vps, *sps, *pps;
} qcam_param_sets;
/* 0 with one reference on each, or -EAGAIN before the first keyframe. */
int qcam_encoder_parameter_sets(qcam_encoder *enc, qcam_param_sets *out);
void qcam_param_sets_release(qcam_param_sets *ps);

qcam_encoder *qcam_encoder_ref(qcam_encoder *enc);
void qcam_encoder_close(qcam_encoder *enc);
/* True when this encoder plays a file. */
bool qcam_encoder_is_replay(qcam_encoder *enc);

typedef struct {
    qcam_codec codec;
} qcam_decoder_config;

typedef struct qcam_decoder qcam_decoder;

bool qcam_decoder_available(qcam_codec codec);
/* 0 and *out, or -ENOTSUP (no decoder in this build), -ENOMEM. */
int qcam_decoder_open(const qcam_decoder_config *cfg, qcam_decoder **out);
/* Feed one access unit (Annex B); size 0 ends the stream (flush). The bytes
 * are borrowed for the call. 0, or -EBADMSG (undecodable), -EIO. */
int qcam_decoder_send(qcam_decoder *dec, const uint8_t *data, size_t size, int64_t pts_us);
/* A decoded picture (YUV420P, pts from the AU it came from, seq 0, 1, 2 ...),
 * or -EAGAIN (feed more), -EPIPE (flushed and drained: the decoder is reset
 * and takes a new stream), -ENOTSUP (a picture format we do not convert, e.g.
 * 10-bit), -ENOMEM. */
int qcam_decoder_receive(qcam_decoder *dec, qcam_picture **out);
qcam_decoder *qcam_decoder_ref(qcam_decoder *dec);
void qcam_decoder_close(qcam_decoder *dec);

#endif
