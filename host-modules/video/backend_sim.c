/* sim: the replay encoder everywhere (it plays an Annex B file one access
 * unit per picture, looping, so an app runs unchanged under qemu), and real
 * encoders and decoders from libavcodec when the build has them
 * (QCAM_HAVE_AVCODEC, host target): plugin_avcodec.c, a plugin loaded on
 * first use (sim_av.h). Their settings are described there. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "annexb.h"
#include "es_reader.h"
#include "video.h"

#ifdef QCAM_HAVE_AVCODEC
#include <dlfcn.h>
#include <stdio.h>

#include "platform.h"
#include "sim_av.h"
#endif

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
    qcam_sim_av_enc *av;
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

/* ---- libavcodec, loaded on first use -------------------------------------- */

#ifdef QCAM_HAVE_AVCODEC

#ifdef __SANITIZE_ADDRESS__
/* libx265 3.5 leaks on every x265_encoder_open: the zone parameters are never
 * freed (x265 issue #656, Bitbucket #616), plus the frame filter's rows when
 * SAO is off, as with preset ultrafast. Not ours to fix, so LeakSanitizer is
 * told about that library only. These hooks are LSan's documented ones and
 * apply to every ASan executable that links this backend (they must be in
 * the executable, not in the plugin). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libx265.so\n"; }
/* ...without a report of it on stderr at every exit (LSAN_OPTIONS overrides). */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void) { return "print_suppressions=0"; }
#endif

static pthread_once_t av_once = PTHREAD_ONCE_INIT;
static const qcam_sim_av_api *av_api;

static const qcam_sim_av_host av_host = {
    .packet_new = qcam_packet_new,
    .picture_new = qcam_picture_new,
    .picture_ref = qcam_picture_ref,
    .picture_unref = qcam_picture_unref,
    .count_copy = qcam_media_count_copy,
};

/* The plugin beside the executable, or at $QCAM_AVCODEC_PLUGIN. Never
 * unloaded. Without it the build has no real encoder or decoder, which
 * mod_video reports as ENOTSUP; why is said once on stderr. */
static void av_load(void)
{
    char path[4096];
    const char *env = getenv("QCAM_AVCODEC_PLUGIN");
    if (env && *env) {
        snprintf(path, sizeof path, "%s", env);
    } else {
        char dir[4000];
        if (qcam_platform_exe_dir(dir, sizeof dir) < 0) {
            fprintf(stderr, "qcam: the sim's video codecs are not available: cannot tell where the executable is\n");
            return;
        }
        snprintf(path, sizeof path, "%s/%s", dir, QCAM_SIM_AV_FILE);
    }
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        fprintf(stderr, "qcam: the sim's video codecs are not available: %s\n", why ? why : path);
        return;
    }
    qcam_sim_av_entry_fn *entry;
    *(void **)&entry = dlsym(lib, QCAM_SIM_AV_ENTRY); /* POSIX's way from an object to a function pointer */
    const qcam_sim_av_api *api = entry ? entry(&av_host) : NULL;
    if (!api || api->version != QCAM_SIM_AV_VERSION) {
        fprintf(stderr, "qcam: the sim's video codecs are not available: %s is not a qcam plugin of version %d\n",
                path, QCAM_SIM_AV_VERSION);
        return;
    }
    av_api = api;
}

static const qcam_sim_av_api *plugin(void)
{
    pthread_once(&av_once, av_load);
    return av_api;
}

bool qcam_encoder_available(qcam_codec codec) { return plugin() && plugin()->encoder_available(codec); }

static int av_encode(qcam_encoder *e, qcam_picture *pic, qcam_packet **out)
{
    qcam_packet *pkt = NULL;
    int64_t pts_us = pic->pts_us;
    int r = av_api->encode(e->av, pic, atomic_exchange(&e->idr, false), &pkt, &pts_us);
    if (r < 0) return r;
    finish_packet(e, pkt, pts_us);
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
        r = plugin() ? av_api->encoder_open(&e->cfg, &e->av) : -ENOTSUP;
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
    if (enc->av) av_api->encoder_close(enc->av);
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
    qcam_sim_av_dec *av;
#endif
};

#ifdef QCAM_HAVE_AVCODEC

bool qcam_decoder_available(qcam_codec codec) { return plugin() && plugin()->decoder_available(codec); }

int qcam_decoder_open(const qcam_decoder_config *cfg, qcam_decoder **out)
{
    if (cfg->codec != QCAM_CODEC_H264 && cfg->codec != QCAM_CODEC_H265) return -EINVAL;
    if (!plugin()) return -ENOTSUP;
    qcam_decoder *d = calloc(1, sizeof *d);
    if (!d) return -ENOMEM;
    atomic_store(&d->refs, 1);
    int r = av_api->decoder_open(cfg->codec, &d->av);
    if (r < 0) {
        free(d);
        return r;
    }
    *out = d;
    return 0;
}

int qcam_decoder_send(qcam_decoder *dec, const uint8_t *data, size_t size, int64_t pts_us)
{
    return av_api->decoder_send(dec->av, data, size, pts_us);
}

int qcam_decoder_receive(qcam_decoder *dec, qcam_picture **out)
{
    int r = av_api->decoder_receive(dec->av, out);
    if (r == 0) (*out)->seq = dec->seq++;
    return r;
}

void qcam_decoder_close(qcam_decoder *dec)
{
    if (!dec || atomic_fetch_sub(&dec->refs, 1) != 1) return;
    av_api->decoder_close(dec->av);
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
