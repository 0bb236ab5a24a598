/* qcam:video — Encoder, Decoder, Frame, EsReader, splitAccessUnits. QuickJS
 * glue only: argument checks, classes, errors; the work is the HAL's
 * (video.h) and the Annex B parser's (annexb.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/engine.h"
#include "../../runtime/qcam_host.h"
#include "../app/app.h"
#include "../image/image_js.h"
#include "../link/link_js.h"
#include "../modules.h"
#include "annexb.h"
#include "es_reader.h"
#include "video.h"
#include "video_js.h"

static JSClassID frame_class, encoder_class, decoder_class, reader_class;

static const char *codec_name(qcam_codec c)
{
    switch (c) {
    case QCAM_CODEC_H264: return "h264";
    case QCAM_CODEC_ALAW: return "alaw";
    case QCAM_CODEC_ULAW: return "ulaw";
    default: return "h265";
    }
}

/* By qcam_pkt_type; audio frames (G.711 blocks from qcam:audio) are "audio". */
static const char *const type_names[] = {"header", "I", "P", "B", "audio"};

/* ---- options ------------------------------------------------------------ */

/* Integer option `name` of `obj`: `def` when absent (required: throw). */
static int opt_int(JSContext *ctx, JSValueConst obj, const char *name, bool required, int def,
                   int min, int max, int *out)
{
    return qcam_opt_range(ctx, obj, name, required, def, min, max, out);
}

/* String option: a fresh C string in *out (NULL when absent), freed with JS_FreeCString. */
static int opt_str(JSContext *ctx, JSValueConst obj, const char *name, const char **out)
{
    JSValue v = JS_GetPropertyStr(ctx, obj, name);
    if (JS_IsException(v)) return -1;
    *out = NULL;
    if (JS_IsUndefined(v)) return 0;
    if (!JS_IsString(v)) {
        JS_FreeValue(ctx, v);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `%s` must be a string", name);
        return -1;
    }
    *out = JS_ToCString(ctx, v);
    JS_FreeValue(ctx, v);
    return *out ? 0 : -1;
}

/* One of `names` (index into it); `def` when absent, -1 = required. `allowed`
 * is how the error lists them. */
static int opt_enum(JSContext *ctx, JSValueConst obj, const char *name, const char *const *names,
                    int n, int def, const char *allowed, int *out)
{
    const char *s;
    if (opt_str(ctx, obj, name, &s) < 0) return -1;
    if (!s) {
        if (def < 0) {
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `%s` is required (%s)", name, allowed);
            return -1;
        }
        *out = def;
        return 0;
    }
    int found = -1;
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(s, names[i]) == 0) found = i;
    if (found < 0)
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `%s` must be %s, got \"%s\"", name, allowed, s);
    JS_FreeCString(ctx, s);
    if (found < 0) return -1;
    *out = found;
    return 0;
}

static const char *const codec_names[] = {NULL, "h264", "h265"};

static int opt_codec(JSContext *ctx, JSValueConst obj, qcam_codec *out)
{
    int c;
    if (opt_enum(ctx, obj, "codec", codec_names, 3, -1, "\"h264\" or \"h265\"", &c) < 0) return -1;
    *out = (qcam_codec)c;
    return 0;
}

/* A board path (/sdcard/..., /tmp/...) to the real file. */
static int host_path(JSContext *ctx, const char *board, char *out, size_t n)
{
    qcam_app *app = qcam_app_of(ctx);
    int r = qcam_board_host_path(qcam_app_options(app)->sdcard_dir, board, out, n);
    if (r < 0) qcam_throw_errno(ctx, -r, "%s is not on the SD card or in /tmp", board);
    return r;
}

/* Another module's getter threw ERR_WRONG_THIS about an argument: say which. */
static void argument_error(JSContext *ctx, const char *fmt, const char *what)
{
    JSValue exc = JS_GetException(ctx);
    JSValue code = JS_IsObject(exc) ? JS_GetPropertyStr(ctx, exc, "code") : JS_UNDEFINED;
    const char *c = JS_IsString(code) ? JS_ToCString(ctx, code) : NULL;
    bool wrong = c && strcmp(c, "ERR_WRONG_THIS") == 0;
    JS_FreeCString(ctx, c);
    JS_FreeValue(ctx, code);
    if (wrong) {
        JS_FreeValue(ctx, exc);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", fmt, what);
    } else {
        JS_Throw(ctx, exc);
    }
}

/* ---- Frame -------------------------------------------------------------- */

static void frame_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    qcam_packet_unref(JS_GetOpaque(val, frame_class));
}

static const JSClassDef frame_def = {"Frame", .finalizer = frame_finalizer};

JSValue qcam_js_frame_new(JSContext *ctx, qcam_packet *pkt)
{
    JSValue obj = JS_NewObjectClass(ctx, (int)frame_class);
    if (JS_IsException(obj)) {
        qcam_packet_unref(pkt);
        return obj;
    }
    JS_SetOpaque(obj, pkt);
    return obj;
}

qcam_packet *qcam_js_frame_packet(JSContext *ctx, JSValueConst val)
{
    return qcam_handle(ctx, val, frame_class, "Frame");
}

enum { F_TYPE, F_KEY, F_PTS, F_DTS, F_SIZE, F_SEQ, F_CODEC };

static JSValue frame_get(JSContext *ctx, JSValueConst this_val, int magic)
{
    qcam_packet *p = qcam_js_frame_packet(ctx, this_val);
    if (!p) return JS_EXCEPTION;
    switch (magic) {
    case F_TYPE: return JS_NewString(ctx, p->type <= QCAM_PKT_AUDIO ? type_names[p->type] : "P");
    case F_KEY: return JS_NewBool(ctx, p->keyframe);
    case F_PTS: return JS_NewInt64(ctx, p->pts_us);
    case F_DTS: return JS_NewInt64(ctx, p->dts_us);
    case F_SIZE: return JS_NewInt64(ctx, (int64_t)p->size);
    case F_SEQ: return JS_NewInt64(ctx, (int64_t)p->seq);
    default: return JS_NewString(ctx, codec_name(p->codec));
    }
}

static void release_packet_view(void *opaque, void *ptr)
{
    (void)ptr;
    qcam_packet_unref(opaque);
}

/* A read-only view of a packet's bytes that holds its own reference. */
static JSValue packet_view(JSContext *ctx, qcam_packet *p)
{
    qcam_packet_ref(p);
    JSValue ab = qcam_engine_external_buffer(ctx, p->data, p->size, release_packet_view, p);
    if (JS_IsException(ab)) qcam_packet_unref(p);
    return ab;
}

static JSValue frame_to_array_buffer(JSContext *ctx, JSValueConst this_val, int argc,
                                     JSValueConst *argv)
{
    (void)argc; (void)argv;
    qcam_packet *p = qcam_js_frame_packet(ctx, this_val);
    return p ? packet_view(ctx, p) : JS_EXCEPTION;
}

static JSValue frame_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, frame_class, "Frame", &opaque) < 0) return JS_EXCEPTION;
    qcam_packet *p = opaque;
    JS_SetOpaque(this_val, NULL);
    qcam_packet_unref(p); /* NULL the second time */
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry frame_proto[] = {
    JS_CGETSET_MAGIC_DEF("type", frame_get, NULL, F_TYPE),
    JS_CGETSET_MAGIC_DEF("keyframe", frame_get, NULL, F_KEY),
    JS_CGETSET_MAGIC_DEF("ptsUs", frame_get, NULL, F_PTS),
    JS_CGETSET_MAGIC_DEF("dtsUs", frame_get, NULL, F_DTS),
    JS_CGETSET_MAGIC_DEF("size", frame_get, NULL, F_SIZE),
    JS_CGETSET_MAGIC_DEF("seq", frame_get, NULL, F_SEQ),
    JS_CGETSET_MAGIC_DEF("codec", frame_get, NULL, F_CODEC),
    JS_CFUNC_DEF("toArrayBuffer", 0, frame_to_array_buffer),
    JS_CFUNC_DEF("close", 0, frame_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Frame", JS_PROP_CONFIGURABLE),
};

/* ---- Encoder ------------------------------------------------------------ */

typedef struct {
    qcam_resource res;
    qcam_encoder *enc;
    qcam_encoder_config cfg;
    bool linked; /* a qcam:link pipe encodes with it: encode/close refuse */
} js_encoder;

static void encoder_release_res(qcam_resource *res)
{
    js_encoder *e = (js_encoder *)((char *)res - offsetof(js_encoder, res));
    qcam_encoder_close(e->enc);
    e->enc = NULL;
}

static void encoder_finalizer(JSRuntime *rt, JSValue val)
{
    js_encoder *e = JS_GetOpaque(val, encoder_class);
    if (!e) return;
    qcam_resource_remove(JS_GetRuntimeOpaque(rt), &e->res);
    qcam_encoder_close(e->enc);
    free(e);
}

static const JSClassDef encoder_def = {"Encoder", .finalizer = encoder_finalizer};

/* The handle behind `this`; also ERR_CLOSED once unloading released it. */
static js_encoder *encoder_get(JSContext *ctx, JSValueConst obj)
{
    js_encoder *e = qcam_handle(ctx, obj, encoder_class, "Encoder");
    return e && !e->enc ? qcam_closed(ctx, "Encoder") : e;
}

qcam_encoder *qcam_js_encoder(JSContext *ctx, JSValueConst val)
{
    js_encoder *e = encoder_get(ctx, val);
    return e ? e->enc : NULL;
}

static const char *const rc_names[] = {"cbr", "vbr"};
static const char *const profile_names[] = {NULL, "baseline", "main", "high"};
static const char *const input_names[] = {NULL, "nv21", "nv12", "yuv420p"};

static JSValue encoder_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    if (argc < 1 || !JS_IsObject(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "new Encoder(options: {codec, width, height, fps?, bitrate?, ...})");
    static const char *const keys[] = {"codec",      "width",   "height", "fps",    "bitrate",
                                       "rateControl", "gop",    "profile", "format", "replay", NULL};
    JSValueConst o = argv[0];
    qcam_encoder_config cfg = {0};
    int rc, profile, fmt;
    const char *replay = NULL;
    if (qcam_opt_keys(ctx, o, "Encoder", keys) || opt_codec(ctx, o, &cfg.codec) < 0 ||
        opt_int(ctx, o, "width", true, 0, QCAM_VIDEO_MIN_SIZE, QCAM_VIDEO_MAX_SIZE, &cfg.width) < 0 ||
        opt_int(ctx, o, "height", true, 0, QCAM_VIDEO_MIN_SIZE, QCAM_VIDEO_MAX_SIZE, &cfg.height) < 0 ||
        opt_int(ctx, o, "fps", false, 30, 1, 240, &cfg.fps) < 0 ||
        opt_int(ctx, o, "bitrate", false, 2000000, 10000, 200000000, &cfg.bitrate) < 0 ||
        opt_enum(ctx, o, "rateControl", rc_names, 2, 0, "\"cbr\" or \"vbr\"", &rc) < 0 ||
        opt_int(ctx, o, "gop", false, cfg.fps, 1, 100000, &cfg.gop) < 0 ||
        opt_enum(ctx, o, "profile", profile_names, 4, 0,
                 cfg.codec == QCAM_CODEC_H264 ? "\"baseline\", \"main\" or \"high\"" : "\"main\"",
                 &profile) < 0 ||
        opt_enum(ctx, o, "format", input_names, 4, QCAM_FMT_NV21, "\"nv21\", \"nv12\" or \"yuv420p\"",
                 &fmt) < 0 ||
        opt_str(ctx, o, "replay", &replay) < 0)
        return JS_EXCEPTION;
    if (cfg.width % 2 || cfg.height % 2) {
        JS_FreeCString(ctx, replay);
        return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "width and height must be even, got %dx%d",
                          cfg.width, cfg.height);
    }
    if (cfg.codec == QCAM_CODEC_H265 && profile != QCAM_PROFILE_AUTO && profile != QCAM_PROFILE_MAIN) {
        JS_FreeCString(ctx, replay);
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `profile` must be \"main\" for h265");
    }
    cfg.rate_control = (qcam_rate_control)rc;
    cfg.profile = (qcam_video_profile)profile;
    cfg.input_format = (qcam_pixfmt)fmt;

    /* Replay: asked for, or the fallback of a build without an encoder. */
    char board[512], host[4096];
    bool use_replay = replay != NULL;
    if (replay) snprintf(board, sizeof board, "%s", replay);
    JS_FreeCString(ctx, replay);
    if (!use_replay && !qcam_encoder_available(cfg.codec)) {
        snprintf(board, sizeof board, "/sdcard/qcam/replay.%s", codec_name(cfg.codec));
        if (host_path(ctx, board, host, sizeof host) < 0) return JS_EXCEPTION;
        if (access(host, R_OK) != 0)
            return qcam_throw(ctx, QCAM_ERROR, "ENOTSUP",
                              "this build has no %s encoder: pass `replay: \"/sdcard/clip.%s\"` or put a "
                              "stream at %s",
                              codec_name(cfg.codec), codec_name(cfg.codec), board);
        use_replay = true;
    }
    if (use_replay) {
        if (host_path(ctx, board, host, sizeof host) < 0) return JS_EXCEPTION;
        cfg.replay_path = host;
    }

    js_encoder *e = calloc(1, sizeof *e);
    if (!e) return JS_ThrowOutOfMemory(ctx);
    int r = qcam_encoder_open(&cfg, &e->enc);
    if (r < 0) {
        free(e);
        if (use_replay) return qcam_throw_errno(ctx, -r, "cannot replay %s", board);
        return qcam_throw_errno(ctx, -r, "cannot open a %dx%d %s encoder", cfg.width, cfg.height,
                                codec_name(cfg.codec));
    }
    cfg.replay_path = NULL;
    e->cfg = cfg;
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, encoder_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        qcam_encoder_close(e->enc);
        free(e);
        return obj;
    }
    e->res.kind = "Encoder";
    e->res.release = encoder_release_res;
    qcam_resource_add(qcam_app_of(ctx), &e->res);
    JS_SetOpaque(obj, e);
    return obj;
}

static JSValue encoder_encode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    js_encoder *e = encoder_get(ctx, this_val);
    if (!e) return JS_EXCEPTION;
    if (e->linked)
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this encoder is fed by a link; close the link first");
    if (argc < 1 || !JS_IsObject(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "encode(image: Image)");
    qcam_picture *pic = qcam_js_image_picture(ctx, argv[0]);
    if (!pic) {
        argument_error(ctx, "encode(image: %s)", "Image");
        return JS_EXCEPTION;
    }
    if (pic->width != e->cfg.width || pic->height != e->cfg.height ||
        (pic->format != QCAM_FMT_NV21 && pic->format != QCAM_FMT_NV12 && pic->format != QCAM_FMT_YUV420P))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "this encoder takes %dx%d images in nv21, nv12 or yuv420p, got %dx%d %s",
                          e->cfg.width, e->cfg.height, pic->width, pic->height,
                          qcam_pixfmt_name(pic->format) ? qcam_pixfmt_name(pic->format) : "?");
    qcam_packet *pkt = NULL;
    int r = qcam_encoder_encode(e->enc, pic, &pkt);
    if (r < 0) return qcam_throw_errno(ctx, -r, "encode failed");
    return qcam_js_frame_new(ctx, pkt);
}

static JSValue encoder_request_idr(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    js_encoder *e = encoder_get(ctx, this_val);
    if (!e) return JS_EXCEPTION;
    qcam_encoder_request_idr(e->enc);
    return JS_UNDEFINED;
}

static JSValue encoder_parameter_sets(JSContext *ctx, JSValueConst this_val, int argc,
                                      JSValueConst *argv)
{
    (void)argc; (void)argv;
    js_encoder *e = encoder_get(ctx, this_val);
    if (!e) return JS_EXCEPTION;
    qcam_param_sets ps;
    if (qcam_encoder_parameter_sets(e->enc, &ps) < 0) return JS_NULL;
    JSValue o = JS_NewObject(ctx);
    if (!JS_IsException(o)) {
        if (ps.vps) JS_SetPropertyStr(ctx, o, "vps", packet_view(ctx, ps.vps));
        JS_SetPropertyStr(ctx, o, "sps", packet_view(ctx, ps.sps));
        JS_SetPropertyStr(ctx, o, "pps", packet_view(ctx, ps.pps));
    }
    qcam_param_sets_release(&ps);
    return o;
}

enum { E_CODEC, E_WIDTH, E_HEIGHT, E_FPS, E_GOP, E_BITRATE, E_REPLAY };

static JSValue encoder_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    js_encoder *e = encoder_get(ctx, this_val);
    if (!e) return JS_EXCEPTION;
    switch (magic) {
    case E_CODEC: return JS_NewString(ctx, codec_name(e->cfg.codec));
    case E_WIDTH: return JS_NewInt32(ctx, e->cfg.width);
    case E_HEIGHT: return JS_NewInt32(ctx, e->cfg.height);
    case E_FPS: return JS_NewInt32(ctx, e->cfg.fps);
    case E_GOP: return JS_NewInt32(ctx, e->cfg.gop);
    case E_BITRATE: return JS_NewInt32(ctx, e->cfg.bitrate);
    default: return JS_NewBool(ctx, qcam_encoder_is_replay(e->enc));
    }
}

static JSValue encoder_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, encoder_class, "Encoder", &opaque) < 0) return JS_EXCEPTION;
    js_encoder *e = opaque;
    if (!e) return JS_UNDEFINED;
    if (e->linked)
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link this encoder feeds first");
    JS_SetOpaque(this_val, NULL);
    qcam_resource_remove(qcam_app_of(ctx), &e->res);
    qcam_encoder_close(e->enc);
    free(e);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry encoder_proto[] = {
    JS_CFUNC_DEF("encode", 1, encoder_encode),
    JS_CFUNC_DEF("requestIdr", 0, encoder_request_idr),
    JS_CFUNC_DEF("parameterSets", 0, encoder_parameter_sets),
    JS_CFUNC_DEF("close", 0, encoder_close),
    JS_CGETSET_MAGIC_DEF("codec", encoder_getter, NULL, E_CODEC),
    JS_CGETSET_MAGIC_DEF("width", encoder_getter, NULL, E_WIDTH),
    JS_CGETSET_MAGIC_DEF("height", encoder_getter, NULL, E_HEIGHT),
    JS_CGETSET_MAGIC_DEF("fps", encoder_getter, NULL, E_FPS),
    JS_CGETSET_MAGIC_DEF("gop", encoder_getter, NULL, E_GOP),
    JS_CGETSET_MAGIC_DEF("bitrate", encoder_getter, NULL, E_BITRATE),
    JS_CGETSET_MAGIC_DEF("replay", encoder_getter, NULL, E_REPLAY),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Encoder", JS_PROP_CONFIGURABLE),
};

/* qcam:link drives the encoder from its encode thread. */
static int link_encode(void *enc, qcam_picture *pic, qcam_packet **out)
{
    return qcam_encoder_encode(enc, pic, out);
}

static int encoder_link_get(JSContext *ctx, JSValueConst obj, qcam_link_encoder *out)
{
    js_encoder *e = encoder_get(ctx, obj);
    if (!e) return -1;
    if (e->linked) {
        qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this encoder already feeds a link");
        return -1;
    }
    e->linked = true;
    out->ctx = e->enc;
    out->encode = link_encode;
    return 0;
}

static void encoder_link_release(JSContext *ctx, JSValueConst obj)
{
    (void)ctx;
    js_encoder *e = JS_GetOpaque(obj, encoder_class);
    if (e) e->linked = false;
}

static qcam_packet *frame_link_packet(JSContext *ctx, JSValueConst obj)
{
    return qcam_js_frame_packet(ctx, obj);
}

/* ---- Decoder ------------------------------------------------------------ */

typedef struct {
    qcam_resource res;
    qcam_decoder *dec;
    qcam_codec codec;
} js_decoder;

static void decoder_release_res(qcam_resource *res)
{
    js_decoder *d = (js_decoder *)((char *)res - offsetof(js_decoder, res));
    qcam_decoder_close(d->dec);
    d->dec = NULL;
}

static void decoder_finalizer(JSRuntime *rt, JSValue val)
{
    js_decoder *d = JS_GetOpaque(val, decoder_class);
    if (!d) return;
    qcam_resource_remove(JS_GetRuntimeOpaque(rt), &d->res);
    qcam_decoder_close(d->dec);
    free(d);
}

static const JSClassDef decoder_def = {"Decoder", .finalizer = decoder_finalizer};

static js_decoder *decoder_get(JSContext *ctx, JSValueConst obj)
{
    js_decoder *d = qcam_handle(ctx, obj, decoder_class, "Decoder");
    return d && !d->dec ? qcam_closed(ctx, "Decoder") : d;
}

static JSValue decoder_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    if (argc < 1 || !JS_IsObject(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new Decoder(options: {codec})");
    static const char *const keys[] = {"codec", NULL};
    qcam_decoder_config cfg;
    if (qcam_opt_keys(ctx, argv[0], "Decoder", keys) || opt_codec(ctx, argv[0], &cfg.codec) < 0) return JS_EXCEPTION;
    js_decoder *d = calloc(1, sizeof *d);
    if (!d) return JS_ThrowOutOfMemory(ctx);
    int r = qcam_decoder_open(&cfg, &d->dec);
    if (r < 0) {
        free(d);
        if (r == -ENOTSUP)
            return qcam_throw(ctx, QCAM_ERROR, "ENOTSUP", "this build has no %s decoder", codec_name(cfg.codec));
        return qcam_throw_errno(ctx, -r, "cannot open a %s decoder", codec_name(cfg.codec));
    }
    d->codec = cfg.codec;
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, decoder_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        qcam_decoder_close(d->dec);
        free(d);
        return obj;
    }
    d->res.kind = "Decoder";
    d->res.release = decoder_release_res;
    qcam_resource_add(qcam_app_of(ctx), &d->res);
    JS_SetOpaque(obj, d);
    return obj;
}

/* Pictures waiting in the decoder, as an array of Images. `flushing`: until
 * the decoder says it is drained. */
static JSValue receive_all(JSContext *ctx, js_decoder *d, bool flushing)
{
    JSValue list = JS_NewArray(ctx);
    if (JS_IsException(list)) return list;
    uint32_t n = 0;
    for (;;) {
        qcam_picture *pic = NULL;
        int r = qcam_decoder_receive(d->dec, &pic);
        if (r == -EAGAIN && !flushing) break;
        if (r == -EPIPE || r == -EAGAIN) break;
        if (r < 0) {
            JS_FreeValue(ctx, list);
            if (r == -ENOTSUP)
                return qcam_throw(ctx, QCAM_ERROR, "ENOTSUP", "decoded pictures are not 8-bit 4:2:0 with an even size");
            if (r == -EBADMSG)
                return qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "the %s decoder rejects the stream", codec_name(d->codec));
            return qcam_throw_errno(ctx, -r, "decode failed");
        }
        JSValue img = qcam_js_image_new(ctx, pic);
        if (JS_IsException(img) || JS_SetPropertyUint32(ctx, list, n++, img) < 0) {
            JS_FreeValue(ctx, list);
            return JS_EXCEPTION;
        }
    }
    return list;
}

/* The bytes of a Frame (of `*codec`), ArrayBuffer or Uint8Array (borrowed for the call). */
static int input_bytes(JSContext *ctx, JSValueConst v, const qcam_codec *codec, const uint8_t **data,
                       size_t *size, int64_t *pts, const char *usage)
{
    JSClassID id = 0;
    void *opaque = JS_IsObject(v) ? JS_GetAnyOpaque(v, &id) : NULL;
    if (JS_IsObject(v) && id == frame_class) {
        qcam_packet *p = opaque;
        if (!p) {
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CLOSED", "Frame is closed");
            return -1;
        }
        if (*codec && p->codec != *codec) {
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "expected a %s frame, got a %s one",
                       codec_name(*codec), codec_name(p->codec));
            return -1;
        }
        *data = p->data;
        *size = p->size;
        *pts = p->pts_us;
        return 0;
    }
    if (JS_IsArrayBuffer(v)) {
        *data = JS_GetArrayBuffer(ctx, size, v);
    } else if (JS_GetTypedArrayType(v) == JS_TYPED_ARRAY_UINT8 ||
               JS_GetTypedArrayType(v) == JS_TYPED_ARRAY_UINT8C) {
        *data = JS_GetUint8Array(ctx, size, v);
    } else {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
        return -1;
    }
    if (!*data && JS_HasException(ctx)) return -1; /* detached */
    if (!*data) *size = 0;
    return 0;
}

static JSValue decoder_decode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    js_decoder *d = decoder_get(ctx, this_val);
    if (!d) return JS_EXCEPTION;
    const uint8_t *data;
    size_t size;
    int64_t pts = 0;
    const char *usage = "decode(frame: Frame | ArrayBuffer | Uint8Array, ptsUs?: number)";
    if (argc < 1 || input_bytes(ctx, argv[0], &d->codec, &data, &size, &pts, usage) < 0) {
        if (argc < 1) qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
        return JS_EXCEPTION;
    }
    if (argc > 1 && !JS_IsUndefined(argv[1])) {
        if (!JS_IsNumber(argv[1]))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "ptsUs must be a number");
        if (JS_ToInt64(ctx, &pts, argv[1])) return JS_EXCEPTION;
    }
    if (size == 0) return JS_NewArray(ctx); /* nothing to decode (not a flush) */
    int r = qcam_decoder_send(d->dec, data, size, pts);
    if (r == -EBADMSG)
        return qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "the %s decoder rejects this access unit", codec_name(d->codec));
    if (r < 0) return qcam_throw_errno(ctx, -r, "cannot decode this %s access unit", codec_name(d->codec));
    return receive_all(ctx, d, false);
}

static JSValue decoder_flush(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    js_decoder *d = decoder_get(ctx, this_val);
    if (!d) return JS_EXCEPTION;
    int r = qcam_decoder_send(d->dec, NULL, 0, 0);
    if (r < 0) return qcam_throw_errno(ctx, -r, "flush failed");
    return receive_all(ctx, d, true);
}

static JSValue decoder_codec(JSContext *ctx, JSValueConst this_val)
{
    js_decoder *d = decoder_get(ctx, this_val);
    return d ? JS_NewString(ctx, codec_name(d->codec)) : JS_EXCEPTION;
}

static JSValue decoder_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, decoder_class, "Decoder", &opaque) < 0) return JS_EXCEPTION;
    js_decoder *d = opaque;
    if (!d) return JS_UNDEFINED;
    JS_SetOpaque(this_val, NULL);
    qcam_resource_remove(qcam_app_of(ctx), &d->res);
    qcam_decoder_close(d->dec);
    free(d);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry decoder_proto[] = {
    JS_CFUNC_DEF("decode", 1, decoder_decode),
    JS_CFUNC_DEF("flush", 0, decoder_flush),
    JS_CFUNC_DEF("close", 0, decoder_close),
    JS_CGETSET_DEF("codec", decoder_codec, NULL),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Decoder", JS_PROP_CONFIGURABLE),
};

/* ---- EsReader ----------------------------------------------------------- */

typedef struct {
    qcam_resource res;
    qcam_es_reader *r;
    qcam_codec codec;
    int fps;
    char path[512];
} js_reader;

static void reader_release_res(qcam_resource *res)
{
    js_reader *h = (js_reader *)((char *)res - offsetof(js_reader, res));
    qcam_es_close(h->r);
    h->r = NULL;
}

static void reader_finalizer(JSRuntime *rt, JSValue val)
{
    js_reader *h = JS_GetOpaque(val, reader_class);
    if (!h) return;
    qcam_resource_remove(JS_GetRuntimeOpaque(rt), &h->res);
    qcam_es_close(h->r);
    free(h);
}

static const JSClassDef reader_def = {"EsReader", .finalizer = reader_finalizer};

static js_reader *reader_get(JSContext *ctx, JSValueConst obj)
{
    js_reader *h = qcam_handle(ctx, obj, reader_class, "EsReader");
    return h && !h->r ? qcam_closed(ctx, "EsReader") : h;
}

/* .h264 .264 .avc .h265 .265 .hevc → codec; 0 when the name does not say. */
static qcam_codec codec_of_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return 0;
    if (!strcmp(dot, ".h264") || !strcmp(dot, ".264") || !strcmp(dot, ".avc")) return QCAM_CODEC_H264;
    if (!strcmp(dot, ".h265") || !strcmp(dot, ".265") || !strcmp(dot, ".hevc")) return QCAM_CODEC_H265;
    return 0;
}

static JSValue reader_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "new EsReader(path: string, options?: {codec?, fps?})");
    js_reader *h = calloc(1, sizeof *h);
    if (!h) return JS_ThrowOutOfMemory(ctx);
    const char *path = JS_ToCString(ctx, argv[0]);
    if (!path) {
        free(h);
        return JS_EXCEPTION;
    }
    snprintf(h->path, sizeof h->path, "%s", path);
    JS_FreeCString(ctx, path);
    h->codec = codec_of_path(h->path);
    h->fps = 30;
    JSValueConst o = argc > 1 && JS_IsObject(argv[1]) ? argv[1] : JS_UNDEFINED;
    if (JS_IsObject(o)) {
        static const char *const keys[] = {"codec", "fps", NULL};
        JSValue c = JS_GetPropertyStr(ctx, o, "codec");
        bool given = !JS_IsUndefined(c);
        JS_FreeValue(ctx, c);
        if (qcam_opt_keys(ctx, o, "EsReader", keys) || (given && opt_codec(ctx, o, &h->codec) < 0) ||
            opt_int(ctx, o, "fps", false, 30, 1, 240, &h->fps) < 0) {
            free(h);
            return JS_EXCEPTION;
        }
    }
    if (!h->codec) {
        free(h);
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "cannot tell the codec from the file name: pass {codec: \"h264\" | \"h265\"}");
    }
    char host[4096];
    if (host_path(ctx, h->path, host, sizeof host) < 0) {
        free(h);
        return JS_EXCEPTION;
    }
    int r = qcam_es_open(host, h->codec, &h->r);
    if (r < 0) {
        JSValue e = qcam_throw_errno(ctx, -r, "cannot open %s", h->path);
        free(h);
        return e;
    }
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, reader_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        qcam_es_close(h->r);
        free(h);
        return obj;
    }
    h->res.kind = "EsReader";
    h->res.release = reader_release_res;
    qcam_resource_add(qcam_app_of(ctx), &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue reader_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    js_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_packet *pkt = NULL;
    int r = qcam_es_read(h->r, &pkt);
    if (r < 0) return qcam_throw_errno(ctx, -r, "cannot read %s", h->path);
    if (r == 0) return JS_NULL;
    pkt->pts_us = pkt->dts_us = (int64_t)(pkt->seq * 1000000 / (uint64_t)h->fps);
    return qcam_js_frame_new(ctx, pkt);
}

static JSValue reader_rewind(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    js_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    int r = qcam_es_rewind(h->r);
    if (r < 0) return qcam_throw_errno(ctx, -r, "cannot rewind %s", h->path);
    return JS_UNDEFINED;
}

enum { R_CODEC, R_PATH };

static JSValue reader_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    js_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    return JS_NewString(ctx, magic == R_CODEC ? codec_name(h->codec) : h->path);
}

static JSValue reader_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, reader_class, "EsReader", &opaque) < 0) return JS_EXCEPTION;
    js_reader *h = opaque;
    if (!h) return JS_UNDEFINED;
    JS_SetOpaque(this_val, NULL);
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    qcam_es_close(h->r);
    free(h);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry reader_proto[] = {
    JS_CFUNC_DEF("read", 0, reader_read),
    JS_CFUNC_DEF("rewind", 0, reader_rewind),
    JS_CFUNC_DEF("close", 0, reader_close),
    JS_CGETSET_MAGIC_DEF("codec", reader_getter, NULL, R_CODEC),
    JS_CGETSET_MAGIC_DEF("path", reader_getter, NULL, R_PATH),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "EsReader", JS_PROP_CONFIGURABLE),
};

/* ---- splitAccessUnits ---------------------------------------------------- */

static JSValue js_split_access_units(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    const char *usage = "splitAccessUnits(bytes: ArrayBuffer | Uint8Array, codec: \"h264\" | \"h265\")";
    const uint8_t *data;
    size_t size;
    int64_t pts;
    if (argc < 2 || !JS_IsString(argv[1]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    const char *c = JS_ToCString(ctx, argv[1]);
    if (!c) return JS_EXCEPTION;
    qcam_codec codec = !strcmp(c, "h264") ? QCAM_CODEC_H264 : !strcmp(c, "h265") ? QCAM_CODEC_H265 : 0;
    JS_FreeCString(ctx, c);
    if (!codec) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    if (input_bytes(ctx, argv[0], &codec, &data, &size, &pts, usage) < 0) return JS_EXCEPTION;
    qcam_annexb_state st;
    qcam_annexb_init(&st, codec);
    JSValue list = JS_NewArray(ctx);
    uint32_t n = 0;
    size_t at = 0;
    while (!JS_IsException(list) && at < size) {
        size_t skip = 0, len = 0;
        if (qcam_annexb_next_au(&st, data + at, size - at, true, &skip, &len) != 1) break;
        JSValue ab = JS_NewArrayBufferCopy(ctx, data + at + skip, len);
        if (JS_IsException(ab) || JS_SetPropertyUint32(ctx, list, n++, ab) < 0) {
            JS_FreeValue(ctx, list);
            return JS_EXCEPTION;
        }
        at += skip + len;
    }
    return list;
}

/* ---- module ------------------------------------------------------------- */

static bool class_ready(JSContext *ctx, JSClassID id)
{
    if (!JS_IsRegisteredClass(JS_GetRuntime(ctx), id)) return false;
    JSValue proto = JS_GetClassProto(ctx, id);
    bool ready = JS_IsObject(proto);
    JS_FreeValue(ctx, proto);
    return ready;
}

#define N(a) ((int)(sizeof a / sizeof a[0]))

int qcam_video_class_init(JSContext *ctx)
{
    if (qcam_image_class_init(ctx) < 0) return -1;
    if (class_ready(ctx, frame_class)) return 0;
    if (qcam_class_init(ctx, &frame_class, &frame_def, frame_proto, N(frame_proto), "close") < 0 ||
        qcam_class_init(ctx, &encoder_class, &encoder_def, encoder_proto, N(encoder_proto), "close") < 0 ||
        qcam_class_init(ctx, &decoder_class, &decoder_def, decoder_proto, N(decoder_proto), "close") < 0 ||
        qcam_class_init(ctx, &reader_class, &reader_def, reader_proto, N(reader_proto), "close") < 0)
        return -1;
    qcam_link_provide_encoder(encoder_class, encoder_link_get, encoder_link_release);
    qcam_link_provide_packet(frame_class, frame_link_packet);
    return 0;
}

static JSValue frame_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    (void)new_target; (void)argc; (void)argv;
    return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_ILLEGAL_CONSTRUCTOR",
                      "Frames come from an Encoder or an EsReader");
}

static const JSCFunctionListEntry video_funcs[] = {
    JS_CFUNC_DEF("splitAccessUnits", 2, js_split_access_units),
};

static int video_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_video_class_init(ctx) < 0) return -1;
    if (qcam_export_class(ctx, m, "Encoder", encoder_class, encoder_ctor, 1, JS_CFUNC_constructor) < 0 ||
        qcam_export_class(ctx, m, "Decoder", decoder_class, decoder_ctor, 1, JS_CFUNC_constructor) < 0 ||
        qcam_export_class(ctx, m, "Frame", frame_class, frame_ctor, 0, JS_CFUNC_constructor) < 0 ||
        qcam_export_class(ctx, m, "EsReader", reader_class, reader_ctor, 1, JS_CFUNC_constructor) < 0)
        return -1;
    return JS_SetModuleExportList(ctx, m, video_funcs, N(video_funcs));
}

JSModuleDef *qcam_mod_video_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, video_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "Encoder");
    JS_AddModuleExport(ctx, m, "Decoder");
    JS_AddModuleExport(ctx, m, "Frame");
    JS_AddModuleExport(ctx, m, "EsReader");
    JS_AddModuleExportList(ctx, m, video_funcs, N(video_funcs));
    return m;
}
