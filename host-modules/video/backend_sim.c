/* sim: encoders and decoders from libavcodec (libx264, libx265, and FFmpeg's
 * own h264/hevc decoders) when the build has it (QCAM_HAVE_AVCODEC, host
 * target), and the replay encoder everywhere: it plays an Annex B file one
 * access unit per picture, looping, so an app runs unchanged under qemu.
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
 * pooled buffer (counted with qcam_media_count_copy) and the luma is shared.
 * Parameter sets are taken from the stream (every IDR carries them), not
 * from extradata: the encoders run without AV_CODEC_FLAG_GLOBAL_HEADER. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "annexb.h"
#include "es_reader.h"
#include "video.h"

#ifdef QCAM_HAVE_AVCODEC
#include <stdio.h>

#include <libavcodec/avcodec.h>
#include <libavutil/buffer.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#endif

enum { PTS_RING = 64 };

struct qcam_encoder {
    atomic_int refs;
    qcam_encoder_config cfg; /* replay_path not kept */
    uint64_t seq;
    atomic_bool idr;
    qcam_annexb_state st;
    pthread_mutex_t ps_lock;
    qcam_param_sets ps;
    qcam_es_reader *replay;
#ifdef QCAM_HAVE_AVCODEC
    AVCodecContext *av;
    AVFrame *frame;
    AVPacket *pkt;
    AVBufferPool *chroma;
    qcam_pixfmt av_format; /* what the codec was opened with */
    int64_t next_pts;
    int64_t pts_ring[PTS_RING];
#endif
};

/* ---- shared by both kinds ----------------------------------------------- */

static bool config_ok(const qcam_encoder_config *c)
{
    if (c->codec != QCAM_CODEC_H264 && c->codec != QCAM_CODEC_H265) return false;
    if (c->width < QCAM_VIDEO_MIN_SIZE || c->width > QCAM_VIDEO_MAX_SIZE || c->width % 2) return false;
    if (c->height < QCAM_VIDEO_MIN_SIZE || c->height > QCAM_VIDEO_MAX_SIZE || c->height % 2) return false;
    if (c->fps < 1 || c->fps > 240 || c->gop < 1 || c->bitrate < 1000) return false;
    if (c->rate_control != QCAM_RC_CBR && c->rate_control != QCAM_RC_VBR) return false;
    if (c->profile < QCAM_PROFILE_AUTO || c->profile > QCAM_PROFILE_HIGH) return false;
    if (c->codec == QCAM_CODEC_H265 && c->profile != QCAM_PROFILE_AUTO && c->profile != QCAM_PROFILE_MAIN)
        return false;
    return c->input_format == QCAM_FMT_NV21 || c->input_format == QCAM_FMT_NV12 ||
           c->input_format == QCAM_FMT_YUV420P;
}

static bool picture_ok(const qcam_encoder *e, const qcam_picture *p)
{
    return p->width == e->cfg.width && p->height == e->cfg.height &&
           (p->format == QCAM_FMT_NV21 || p->format == QCAM_FMT_NV12 ||
            p->format == QCAM_FMT_YUV420P) &&
           p->size >= qcam_pixfmt_size(p->format, p->width, p->height);
}

static qcam_packet *bytes_packet(qcam_codec codec, const uint8_t *data, size_t len)
{
    qcam_packet *p = qcam_packet_new(len);
    if (!p) return NULL;
    memcpy(p->data, data, len);
    p->codec = codec;
    p->type = QCAM_PKT_HEADER;
    return p;
}

void qcam_param_sets_release(qcam_param_sets *ps)
{
    qcam_packet_unref(ps->vps);
    qcam_packet_unref(ps->sps);
    qcam_packet_unref(ps->pps);
    ps->vps = ps->sps = ps->pps = NULL;
}

/* Keep the parameter sets of a keyframe for parameter_sets(). */
static void capture_params(qcam_encoder *e, const qcam_packet *pkt)
{
    qcam_annexb_params found;
    qcam_annexb_find_params(e->cfg.codec, pkt->data, pkt->size, &found);
    if (!found.sps || !found.pps || (e->cfg.codec == QCAM_CODEC_H265 && !found.vps)) return;
    qcam_param_sets ps = {0};
    ps.sps = bytes_packet(e->cfg.codec, found.sps, found.sps_len);
    ps.pps = bytes_packet(e->cfg.codec, found.pps, found.pps_len);
    if (found.vps) ps.vps = bytes_packet(e->cfg.codec, found.vps, found.vps_len);
    if (!ps.sps || !ps.pps || (found.vps && !ps.vps)) {
        qcam_param_sets_release(&ps);
        return;
    }
    pthread_mutex_lock(&e->ps_lock);
    qcam_param_sets old = e->ps;
    e->ps = ps;
    pthread_mutex_unlock(&e->ps_lock);
    qcam_param_sets_release(&old);
}

int qcam_encoder_parameter_sets(qcam_encoder *enc, qcam_param_sets *out)
{
    pthread_mutex_lock(&enc->ps_lock);
    int r = enc->ps.sps ? 0 : -EAGAIN;
    if (r == 0) {
        out->sps = qcam_packet_ref(enc->ps.sps);
        out->pps = qcam_packet_ref(enc->ps.pps);
        out->vps = enc->ps.vps ? qcam_packet_ref(enc->ps.vps) : NULL;
    }
    pthread_mutex_unlock(&enc->ps_lock);
    return r;
}

/* Stamp and classify an access unit on its way out. */
static void finish_packet(qcam_encoder *e, qcam_packet *pkt, int64_t pts_us)
{
    qcam_au_info info;
    qcam_annexb_classify(&e->st, pkt->data, pkt->size, &info);
    pkt->codec = e->cfg.codec;
    pkt->type = info.type;
    pkt->keyframe = info.keyframe;
    pkt->pts_us = pkt->dts_us = pts_us;
    pkt->seq = e->seq++;
    if (info.keyframe && info.has_params) capture_params(e, pkt);
}

void qcam_encoder_request_idr(qcam_encoder *enc) { atomic_store(&enc->idr, true); }

bool qcam_encoder_is_replay(qcam_encoder *enc) { return enc->replay != NULL; }

qcam_encoder *qcam_encoder_ref(qcam_encoder *enc)
{
    atomic_fetch_add(&enc->refs, 1);
    return enc;
}

/* ---- replay ------------------------------------------------------------- */

static int replay_next(qcam_encoder *e, qcam_packet **out)
{
    int r = qcam_es_read(e->replay, out);
    if (r != 0) return r < 0 ? r : 0;
    /* End of the file: loop. */
    if ((r = qcam_es_rewind(e->replay)) < 0) return r;
    r = qcam_es_read(e->replay, out);
    if (r == 0) return -EIO; /* not one access unit in the whole file */
    return r < 0 ? r : 0;
}

static int replay_encode(qcam_encoder *e, qcam_picture *pic, qcam_packet **out)
{
    qcam_packet *pkt = NULL;
    int r = replay_next(e, &pkt);
    if (r == 0 && atomic_exchange(&e->idr, false)) {
        /* Skip ahead to the next keyframe; give up after going once round. */
        uint64_t first = pkt->seq;
        bool wrapped = false;
        while (r == 0 && !pkt->keyframe) {
            uint64_t prev = pkt->seq;
            qcam_packet_unref(pkt);
            pkt = NULL;
            r = replay_next(e, &pkt);
            if (r == 0 && pkt->seq <= prev) wrapped = true;
            if (r == 0 && wrapped && pkt->seq >= first) break;
        }
    }
    if (r < 0) {
        qcam_packet_unref(pkt);
        return r;
    }
    finish_packet(e, pkt, pic->pts_us);
    *out = pkt;
    return 0;
}

/* ---- libavcodec --------------------------------------------------------- */

#ifdef QCAM_HAVE_AVCODEC

#ifdef __SANITIZE_ADDRESS__
/* libx265 3.5 leaks on every x265_encoder_open: the zone parameters are never
 * freed (x265 issue #656, Bitbucket #616), plus the frame filter's rows when
 * SAO is off, as with preset ultrafast. Not ours to fix, so LeakSanitizer is
 * told about that library only. These hooks are LSan's documented ones and
 * apply to every ASan executable that links this backend. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libx265.so\n"; }
/* ...without a report of it on stderr at every exit (LSAN_OPTIONS overrides). */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void) { return "print_suppressions=0"; }
#endif

static pthread_once_t av_once = PTHREAD_ONCE_INIT;

static void av_setup(void)
{
    /* Quiet unless asked: errors come back as error codes. QCAM_AV_LOG=info|warning|error|debug */
    const char *lv = getenv("QCAM_AV_LOG");
    int level = AV_LOG_QUIET;
    if (lv && strcmp(lv, "error") == 0) level = AV_LOG_ERROR;
    else if (lv && strcmp(lv, "warning") == 0) level = AV_LOG_WARNING;
    else if (lv && strcmp(lv, "info") == 0) level = AV_LOG_INFO;
    else if (lv && strcmp(lv, "debug") == 0) level = AV_LOG_DEBUG;
    av_log_set_level(level);
}

static int av_err(int e)
{
    if (e == AVERROR(ENOMEM)) return -ENOMEM;
    if (e == AVERROR_INVALIDDATA) return -EBADMSG;
    if (e == AVERROR(EINVAL)) return -EINVAL;
    return -EIO;
}

static const char *encoder_name(qcam_codec c) { return c == QCAM_CODEC_H264 ? "libx264" : "libx265"; }

static enum AVPixelFormat av_pix(qcam_pixfmt f)
{
    switch (f) {
    case QCAM_FMT_NV21: return AV_PIX_FMT_NV21;
    case QCAM_FMT_NV12: return AV_PIX_FMT_NV12;
    default: return AV_PIX_FMT_YUV420P;
    }
}

bool qcam_encoder_available(qcam_codec codec)
{
    return avcodec_find_encoder_by_name(encoder_name(codec)) != NULL;
}

static int av_open(qcam_encoder *e)
{
    const qcam_encoder_config *c = &e->cfg;
    const AVCodec *codec = avcodec_find_encoder_by_name(encoder_name(c->codec));
    if (!codec) return -ENOTSUP;
    /* libx264 takes NV21/NV12 as they are; libx265 only planar 4:2:0. */
    e->av_format = c->codec == QCAM_CODEC_H264 ? c->input_format : QCAM_FMT_YUV420P;
    AVCodecContext *av = avcodec_alloc_context3(codec);
    e->frame = av_frame_alloc();
    e->pkt = av_packet_alloc();
    e->chroma = av_buffer_pool_init((size_t)c->width * c->height / 2, NULL);
    if (!av || !e->frame || !e->pkt || !e->chroma) {
        avcodec_free_context(&av);
        return -ENOMEM;
    }
    e->av = av;
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
    /* No AV_CODEC_FLAG_GLOBAL_HEADER: parameter sets stay in-band. */
    char params[256];
    int r;
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
    if ((r = avcodec_open2(av, codec, NULL)) < 0) return av_err(r);
    return 0;
}

static void av_close(qcam_encoder *e)
{
    avcodec_free_context(&e->av);
    av_frame_free(&e->frame);
    av_packet_free(&e->pkt);
    av_buffer_pool_uninit(&e->chroma);
}

static void picture_buffer_free(void *opaque, uint8_t *data)
{
    (void)data;
    qcam_picture_unref(opaque);
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

static int av_encode(qcam_encoder *e, qcam_picture *pic, qcam_packet **out)
{
    AVFrame *f = e->frame;
    const int w = e->cfg.width, h = e->cfg.height;
    const size_t luma = (size_t)w * h;
    av_frame_unref(f);
    f->format = av_pix(e->av_format);
    f->width = w;
    f->height = h;
    /* The picture's memory itself, held by a reference while libavcodec has it. */
    f->buf[0] = av_buffer_create(pic->data, pic->size, picture_buffer_free, qcam_picture_ref(pic),
                                 AV_BUFFER_FLAG_READONLY);
    if (!f->buf[0]) {
        qcam_picture_unref(pic);
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
        qcam_media_count_copy(luma / 2);
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
    f->pict_type = atomic_exchange(&e->idr, false) ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    int r = avcodec_send_frame(e->av, f);
    av_frame_unref(f);
    if (r < 0) return av_err(r);
    r = avcodec_receive_packet(e->av, e->pkt);
    if (r == AVERROR(EAGAIN)) return -EAGAIN; /* never with zero-latency settings */
    if (r < 0) return av_err(r);
    qcam_packet *pkt = qcam_packet_new((size_t)e->pkt->size);
    if (!pkt) {
        av_packet_unref(e->pkt);
        return -ENOMEM;
    }
    memcpy(pkt->data, e->pkt->data, (size_t)e->pkt->size);
    int64_t pts = e->pkt->pts >= 0 ? e->pkt->pts : f->pts;
    av_packet_unref(e->pkt);
    /* Zero latency: nothing else may be waiting. */
    while (avcodec_receive_packet(e->av, e->pkt) == 0) av_packet_unref(e->pkt);
    finish_packet(e, pkt, e->pts_ring[pts % PTS_RING]);
    *out = pkt;
    return 0;
}

#else /* no libavcodec: replay only */

bool qcam_encoder_available(qcam_codec codec)
{
    (void)codec;
    return false;
}

#endif

/* ---- the encoder HAL ---------------------------------------------------- */

int qcam_encoder_open(const qcam_encoder_config *cfg, qcam_encoder **out)
{
    if (!config_ok(cfg)) return -EINVAL;
#ifndef QCAM_HAVE_AVCODEC
    if (!cfg->replay_path) return -ENOTSUP;
#endif
    qcam_encoder *e = calloc(1, sizeof *e);
    if (!e) return -ENOMEM;
    atomic_store(&e->refs, 1);
    e->cfg = *cfg;
    e->cfg.replay_path = NULL;
    qcam_annexb_init(&e->st, cfg->codec);
    pthread_mutex_init(&e->ps_lock, NULL);
    int r;
    if (cfg->replay_path) {
        r = qcam_es_open(cfg->replay_path, cfg->codec, &e->replay);
    } else {
#ifdef QCAM_HAVE_AVCODEC
        pthread_once(&av_once, av_setup);
        r = av_open(e);
#else
        r = -ENOTSUP;
#endif
    }
    if (r < 0) {
        qcam_encoder_close(e);
        return r;
    }
    *out = e;
    return 0;
}

int qcam_encoder_encode(qcam_encoder *enc, qcam_picture *pic, qcam_packet **out)
{
    if (!picture_ok(enc, pic)) return -EINVAL;
    if (enc->replay) return replay_encode(enc, pic, out);
#ifdef QCAM_HAVE_AVCODEC
    return av_encode(enc, pic, out);
#else
    return -ENOTSUP;
#endif
}

void qcam_encoder_close(qcam_encoder *enc)
{
    if (!enc || atomic_fetch_sub(&enc->refs, 1) != 1) return;
    qcam_es_close(enc->replay);
#ifdef QCAM_HAVE_AVCODEC
    av_close(enc);
#endif
    qcam_param_sets_release(&enc->ps);
    pthread_mutex_destroy(&enc->ps_lock);
    free(enc);
}

/* ---- decoder ------------------------------------------------------------ */

struct qcam_decoder {
    atomic_int refs;
    uint64_t seq;
#ifdef QCAM_HAVE_AVCODEC
    AVCodecContext *av;
    AVPacket *pkt;
    AVFrame *frame;
#endif
};

#ifdef QCAM_HAVE_AVCODEC

static enum AVCodecID codec_id(qcam_codec c) { return c == QCAM_CODEC_H264 ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC; }

bool qcam_decoder_available(qcam_codec codec)
{
    return (codec == QCAM_CODEC_H264 || codec == QCAM_CODEC_H265) &&
           avcodec_find_decoder(codec_id(codec)) != NULL;
}

int qcam_decoder_open(const qcam_decoder_config *cfg, qcam_decoder **out)
{
    if (cfg->codec != QCAM_CODEC_H264 && cfg->codec != QCAM_CODEC_H265) return -EINVAL;
    pthread_once(&av_once, av_setup);
    const AVCodec *codec = avcodec_find_decoder(codec_id(cfg->codec));
    if (!codec) return -ENOTSUP;
    qcam_decoder *d = calloc(1, sizeof *d);
    if (!d) return -ENOMEM;
    atomic_store(&d->refs, 1);
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
        qcam_decoder_close(d);
        return r;
    }
    *out = d;
    return 0;
}

int qcam_decoder_send(qcam_decoder *dec, const uint8_t *data, size_t size, int64_t pts_us)
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

int qcam_decoder_receive(qcam_decoder *dec, qcam_picture **out)
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
    qcam_picture *p = qcam_picture_new(f->width, f->height, QCAM_FMT_YUV420P);
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
    qcam_media_count_copy(p->size);
    int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    p->pts_us = pts == AV_NOPTS_VALUE ? 0 : pts;
    p->seq = dec->seq++;
    av_frame_unref(f);
    *out = p;
    return 0;
}

void qcam_decoder_close(qcam_decoder *dec)
{
    if (!dec || atomic_fetch_sub(&dec->refs, 1) != 1) return;
    avcodec_free_context(&dec->av);
    av_packet_free(&dec->pkt);
    av_frame_free(&dec->frame);
    free(dec);
}

#else /* no libavcodec: no decoder */

bool qcam_decoder_available(qcam_codec codec)
{
    (void)codec;
    return false;
}

int qcam_decoder_open(const qcam_decoder_config *cfg, qcam_decoder **out)
{
    (void)cfg; (void)out;
    return -ENOTSUP;
}

int qcam_decoder_send(qcam_decoder *dec, const uint8_t *data, size_t size, int64_t pts_us)
{
    (void)dec; (void)data; (void)size; (void)pts_us;
    return -ENOTSUP;
}

int qcam_decoder_receive(qcam_decoder *dec, qcam_picture **out)
{
    (void)dec; (void)out;
    return -ENOTSUP;
}

void qcam_decoder_close(qcam_decoder *dec)
{
    if (dec && atomic_fetch_sub(&dec->refs, 1) == 1) free(dec);
}

#endif

qcam_decoder *qcam_decoder_ref(qcam_decoder *dec)
{
    atomic_fetch_add(&dec->refs, 1);
    return dec;
}
