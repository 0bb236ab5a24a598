/* The sim's real encoders and decoders, from libavcodec: libx264, libx265,
 * and FFmpeg's own h264/hevc decoders. Built as qcam-avcodec.so and loaded
 * by backend_sim.c when an app first opens one (sim_av.h says why).
 *
 * Encoder settings (documented in docs/api/video.md):
 *   libx264  preset veryfast, tune zerolatency (no B-frames, no look-ahead,
 *            sliced threads), scenecut off, keyint = min-keyint = gop,
 *            repeat-headers, forced-idr. veryfast rather than ultrafast
 *            because ultrafast turns CABAC and the 8x8 transform off, which
 *            would make profile "main"/"high" meaningless.
 *   libx265  preset ultrafast, tune zerolatency, bframes 0, scenecut off,
 *            closed GOP (IDR, not CRA), keyint = min-keyint = gop,
 *            repeat-headers, forced-idr, no info SEI.
 *   cbr      bitrate with a VBV capped at the bitrate over one second (no
 *            filler data); vbr: average bitrate, peaks up to twice as high.
 * Pictures go in without a copy when the encoder takes their format (x264:
 * NV21, NV12, YUV420P); otherwise only the chroma is rearranged into a
 * pooled buffer (counted as a copy) and the luma is shared. Parameter sets
 * stay in the stream (every IDR carries them): the encoders run without
 * AV_CODEC_FLAG_GLOBAL_HEADER. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/buffer.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>

#include "sim_av.h"

enum { PTS_RING = 64 };

static const qcam_sim_av_host *host;

static int av_err(int e)
{
    if (e == AVERROR(ENOMEM)) return -ENOMEM;
    if (e == AVERROR_INVALIDDATA) return -EBADMSG;
    if (e == AVERROR(EINVAL)) return -EINVAL;
    return -EIO;
}

/* ---- encoder ------------------------------------------------------------ */

struct qcam_sim_av_enc {
    qcam_encoder_config cfg;
    AVCodecContext *av;
    AVFrame *frame;
    AVPacket *pkt;
    AVBufferPool *chroma;
    qcam_pixfmt av_format; /* what the codec was opened with */
    int64_t next_pts;
    int64_t pts_ring[PTS_RING];
};

static const char *encoder_name(qcam_codec c) { return c == QCAM_CODEC_H264 ? "libx264" : "libx265"; }

static enum AVPixelFormat av_pix(qcam_pixfmt f)
{
    switch (f) {
    case QCAM_FMT_NV21: return AV_PIX_FMT_NV21;
    case QCAM_FMT_NV12: return AV_PIX_FMT_NV12;
    default: return AV_PIX_FMT_YUV420P;
    }
}

static bool encoder_available(qcam_codec codec)
{
    return (codec == QCAM_CODEC_H264 || codec == QCAM_CODEC_H265) &&
           avcodec_find_encoder_by_name(encoder_name(codec)) != NULL;
}

static void encoder_close(qcam_sim_av_enc *e)
{
    if (!e) return;
    avcodec_free_context(&e->av);
    av_frame_free(&e->frame);
    av_packet_free(&e->pkt);
    av_buffer_pool_uninit(&e->chroma);
    free(e);
}

static int configure(qcam_sim_av_enc *e, const AVCodec *codec)
{
    const qcam_encoder_config *c = &e->cfg;
    AVCodecContext *av = e->av;
    av->width = c->width;
    av->height = c->height;
    av->pix_fmt = av_pix(e->av_format);
    av->time_base = (AVRational){1, c->fps};
    av->framerate = (AVRational){c->fps, 1};
    av->gop_size = c->gop;
    av->keyint_min = c->gop;
    av->max_b_frames = 0;
    av->bit_rate = c->bitrate;
    int64_t peak = c->rate_control == QCAM_RC_CBR ? c->bitrate : 2LL * c->bitrate;
    av->rc_max_rate = peak;
    av->rc_buffer_size = (int)(peak > INT32_MAX ? INT32_MAX : peak);
    av->thread_count = 0; /* auto */
    char params[256];
    void *priv = av->priv_data;
    if (c->codec == QCAM_CODEC_H264) {
        av_opt_set(priv, "preset", "veryfast", 0);
        av_opt_set(priv, "tune", "zerolatency", 0);
        static const char *const names[] = {NULL, "baseline", "main", "high"};
        if (c->profile != QCAM_PROFILE_AUTO) av_opt_set(priv, "profile", names[c->profile], 0);
        snprintf(params, sizeof params, "scenecut=0:repeat-headers=1:bframes=0");
        av_opt_set(priv, "x264-params", params, 0);
    } else {
        av_opt_set(priv, "preset", "ultrafast", 0);
        av_opt_set(priv, "tune", "zerolatency", 0);
        if (c->profile != QCAM_PROFILE_AUTO) av_opt_set(priv, "profile", "main", 0);
        snprintf(params, sizeof params,
                 "keyint=%d:min-keyint=%d:scenecut=0:open-gop=0:bframes=0:repeat-headers=1:"
                 "info=0:frame-threads=1:log-level=error:vbv-maxrate=%d:vbv-bufsize=%d",
                 c->gop, c->gop, (int)(peak / 1000), (int)(peak / 1000));
        av_opt_set(priv, "x265-params", params, 0);
    }
    av_opt_set_int(priv, "forced-idr", 1, 0);
    int r = avcodec_open2(av, codec, NULL);
    return r < 0 ? av_err(r) : 0;
}

static int encoder_open(const qcam_encoder_config *cfg, qcam_sim_av_enc **out)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(encoder_name(cfg->codec));
    if (!codec) return -ENOTSUP;
    qcam_sim_av_enc *e = calloc(1, sizeof *e);
    if (!e) return -ENOMEM;
    e->cfg = *cfg;
    e->cfg.replay_path = NULL;
    /* libx264 takes NV21/NV12 as they are; libx265 only planar 4:2:0. */
    e->av_format = cfg->codec == QCAM_CODEC_H264 ? cfg->input_format : QCAM_FMT_YUV420P;
    e->av = avcodec_alloc_context3(codec);
    e->frame = av_frame_alloc();
    e->pkt = av_packet_alloc();
    e->chroma = av_buffer_pool_init((size_t)cfg->width * cfg->height / 2, NULL);
    int r = e->av && e->frame && e->pkt && e->chroma ? configure(e, codec) : -ENOMEM;
    if (r < 0) {
        encoder_close(e);
        return r;
    }
    *out = e;
    return 0;
}

static void picture_buffer_free(void *opaque, uint8_t *data)
{
    (void)data;
    host->picture_unref(opaque);
}

/* Chroma of `p` (after its luma) rearranged into `to`'s layout at dst. */
static void convert_chroma(const qcam_picture *p, qcam_pixfmt to, uint8_t *dst)
{
    size_t n = (size_t)p->width / 2 * (size_t)(p->height / 2); /* samples per chroma plane */
    const uint8_t *c = p->data + (size_t)p->width * p->height;
    const uint8_t *u, *v;
    size_t step;
    if (p->format == QCAM_FMT_YUV420P) {
        u = c, v = c + n, step = 1;
    } else if (p->format == QCAM_FMT_NV12) {
        u = c, v = c + 1, step = 2;
    } else {
        v = c, u = c + 1, step = 2;
    }
    if (to == QCAM_FMT_YUV420P) {
        for (size_t i = 0; i < n; i++) dst[i] = u[i * step], dst[n + i] = v[i * step];
    } else {
        size_t uo = to == QCAM_FMT_NV21, vo = to == QCAM_FMT_NV12; /* NV21 is V first */
        for (size_t i = 0; i < n; i++) dst[2 * i + uo] = u[i * step], dst[2 * i + vo] = v[i * step];
    }
}

static int encode(qcam_sim_av_enc *e, qcam_picture *pic, bool idr, qcam_packet **out, int64_t *pts_us)
{
    AVFrame *f = e->frame;
    const int w = e->cfg.width, h = e->cfg.height;
    const size_t luma = (size_t)w * h;
    av_frame_unref(f);
    f->format = av_pix(e->av_format);
    f->width = w;
    f->height = h;
    /* The picture's memory itself, held by a reference while libavcodec has it. */
    f->buf[0] = av_buffer_create(pic->data, pic->size, picture_buffer_free, host->picture_ref(pic),
                                 AV_BUFFER_FLAG_READONLY);
    if (!f->buf[0]) {
        host->picture_unref(pic);
        return -ENOMEM;
    }
    uint8_t *chroma = pic->data + luma;
    if (pic->format != e->av_format) {
        f->buf[1] = av_buffer_pool_get(e->chroma);
        if (!f->buf[1]) {
            av_frame_unref(f);
            return -ENOMEM;
        }
        chroma = f->buf[1]->data;
        convert_chroma(pic, e->av_format, chroma);
        host->count_copy(luma / 2);
    }
    f->data[0] = pic->data;
    f->linesize[0] = w;
    if (e->av_format == QCAM_FMT_YUV420P) {
        f->data[1] = chroma;
        f->data[2] = chroma + luma / 4;
        f->linesize[1] = f->linesize[2] = w / 2;
    } else {
        f->data[1] = chroma;
        f->linesize[1] = w;
    }
    f->pts = e->next_pts++;
    e->pts_ring[f->pts % PTS_RING] = pic->pts_us;
    f->pict_type = idr ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    int r = avcodec_send_frame(e->av, f);
    av_frame_unref(f);
    if (r < 0) return av_err(r);
    r = avcodec_receive_packet(e->av, e->pkt);
    if (r == AVERROR(EAGAIN)) return -EAGAIN; /* never with zero-latency settings */
    if (r < 0) return av_err(r);
    qcam_packet *pkt = host->packet_new((size_t)e->pkt->size);
    if (!pkt) {
        av_packet_unref(e->pkt);
        return -ENOMEM;
    }
    memcpy(pkt->data, e->pkt->data, (size_t)e->pkt->size);
    int64_t pts = e->pkt->pts >= 0 ? e->pkt->pts : f->pts;
    av_packet_unref(e->pkt);
    /* Zero latency: nothing else may be waiting. */
    while (avcodec_receive_packet(e->av, e->pkt) == 0) av_packet_unref(e->pkt);
    *pts_us = e->pts_ring[pts % PTS_RING];
    *out = pkt;
    return 0;
}

/* ---- decoder ------------------------------------------------------------ */

struct qcam_sim_av_dec {
    AVCodecContext *av;
    AVPacket *pkt;
    AVFrame *frame;
};

static enum AVCodecID codec_id(qcam_codec c) { return c == QCAM_CODEC_H264 ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC; }

static bool decoder_available(qcam_codec codec)
{
    return (codec == QCAM_CODEC_H264 || codec == QCAM_CODEC_H265) &&
           avcodec_find_decoder(codec_id(codec)) != NULL;
}

static void decoder_close(qcam_sim_av_dec *d)
{
    if (!d) return;
    avcodec_free_context(&d->av);
    av_packet_free(&d->pkt);
    av_frame_free(&d->frame);
    free(d);
}

static int decoder_open(qcam_codec c, qcam_sim_av_dec **out)
{
    const AVCodec *codec = avcodec_find_decoder(codec_id(c));
    if (!codec) return -ENOTSUP;
    qcam_sim_av_dec *d = calloc(1, sizeof *d);
    if (!d) return -ENOMEM;
    d->av = avcodec_alloc_context3(codec);
    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();
    int r = -ENOMEM;
    if (d->av && d->pkt && d->frame) {
        /* Slice threads only: frame threads would hold pictures back. Not
         * AV_CODEC_FLAG_LOW_DELAY: it would put a B-frame stream's pictures
         * out in decoding order. Streams without reordering (ours) come out
         * at once anyway. */
        d->av->thread_type = FF_THREAD_SLICE;
        d->av->thread_count = 0;
        r = avcodec_open2(d->av, codec, NULL);
        r = r < 0 ? av_err(r) : 0;
    }
    if (r < 0) {
        decoder_close(d);
        return r;
    }
    *out = d;
    return 0;
}

static int decoder_send(qcam_sim_av_dec *dec, const uint8_t *data, size_t size, int64_t pts_us)
{
    int r;
    if (size == 0) {
        r = avcodec_send_packet(dec->av, NULL);
        return r < 0 && r != AVERROR_EOF ? av_err(r) : 0;
    }
    if (size > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE) return -EFBIG;
    if ((r = av_new_packet(dec->pkt, (int)size)) < 0) return av_err(r);
    memcpy(dec->pkt->data, data, size);
    dec->pkt->pts = dec->pkt->dts = pts_us;
    r = avcodec_send_packet(dec->av, dec->pkt);
    av_packet_unref(dec->pkt);
    return r < 0 ? av_err(r) : 0;
}

static int decoder_receive(qcam_sim_av_dec *dec, qcam_picture **out)
{
    int r = avcodec_receive_frame(dec->av, dec->frame);
    if (r == AVERROR(EAGAIN)) return -EAGAIN;
    if (r == AVERROR_EOF) {
        avcodec_flush_buffers(dec->av); /* ready for a new stream */
        return -EPIPE;
    }
    if (r < 0) return av_err(r);
    AVFrame *f = dec->frame;
    bool planar = f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVJ420P;
    if (!planar || f->width % 2 || f->height % 2) {
        av_frame_unref(f);
        return -ENOTSUP;
    }
    qcam_picture *p = host->picture_new(f->width, f->height, QCAM_FMT_YUV420P);
    if (!p) {
        av_frame_unref(f);
        return -ENOMEM;
    }
    /* Unpad the planes: the one copy of the decode path. */
    uint8_t *dst = p->data;
    for (int plane = 0; plane < 3; plane++) {
        int pw = plane ? f->width / 2 : f->width, ph = plane ? f->height / 2 : f->height;
        for (int y = 0; y < ph; y++, dst += pw)
            memcpy(dst, f->data[plane] + (ptrdiff_t)y * f->linesize[plane], (size_t)pw);
    }
    host->count_copy(p->size);
    int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    p->pts_us = pts == AV_NOPTS_VALUE ? 0 : pts;
    av_frame_unref(f);
    *out = p;
    return 0;
}

/* ---- the entry point ---------------------------------------------------- */

static const qcam_sim_av_api api = {
    .version = QCAM_SIM_AV_VERSION,
    .encoder_available = encoder_available,
    .encoder_open = encoder_open,
    .encode = encode,
    .encoder_close = encoder_close,
    .decoder_available = decoder_available,
    .decoder_open = decoder_open,
    .decoder_send = decoder_send,
    .decoder_receive = decoder_receive,
    .decoder_close = decoder_close,
};

qcam_sim_av_entry_fn qcam_sim_av_entry;

const qcam_sim_av_api *qcam_sim_av_entry(const qcam_sim_av_host *h)
{
    host = h;
    /* Quiet unless asked: errors come back as error codes. QCAM_AV_LOG=info|warning|error|debug */
    const char *lv = getenv("QCAM_AV_LOG");
    int level = AV_LOG_QUIET;
    if (lv && strcmp(lv, "error") == 0) level = AV_LOG_ERROR;
    else if (lv && strcmp(lv, "warning") == 0) level = AV_LOG_WARNING;
    else if (lv && strcmp(lv, "info") == 0) level = AV_LOG_INFO;
    else if (lv && strcmp(lv, "debug") == 0) level = AV_LOG_DEBUG;
    av_log_set_level(level);
    return &api;
}
