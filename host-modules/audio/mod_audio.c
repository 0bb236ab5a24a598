/* qcam:audio — AudioIn (a microphone: blocks of 16-bit samples), Pcm (one
 * block), AudioEncoder (G.711 into qcam:video Frames), and plain G.711
 * functions. QuickJS glue only: options, classes, errors; the work is the
 * HAL's (audio.h).
 *
 * Links. An AudioIn can be a link()'s source and an AudioEncoder its encoder
 * (qcam:link's provider registry): the capture thread reads the HAL input
 * itself, holding its own reference. While linked, read() and close() on the
 * AudioIn, and encode() and close() on the AudioEncoder, throw ERR_BUSY. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/engine.h"
#include "../../runtime/qcam_host.h"
#include "../link/link_js.h"
#include "../modules.h"
#include "../video/video_js.h"
#include "audio.h"

/* How long read() waits with a dry pool before it says ERR_NO_BUFFER (as the camera). */
#define DRY_WAIT_US 500000

static JSClassID audio_in_class, pcm_class, encoder_class;

/* ---- AudioIn -------------------------------------------------------------------- */

typedef struct {
    qcam_audio_in *in; /* the link's own reference */
} link_src;

typedef struct {
    qcam_audio_in *in; /* NULL once closed */
    qcam_resource res;
    qcam_app *app;
    link_src *link;    /* feeds a link */
    char source[256];  /* "tone" or the board path */
} in_js;

typedef struct {
    qcam_picture *pic;
    int sample_rate;
} pcm_js;

static void in_js_close(in_js *h)
{
    if (!h->in) return;
    qcam_resource_remove(h->app, &h->res);
    qcam_audio_in_close(h->in);
    h->in = NULL;
}

static void in_release_resource(qcam_resource *res)
{
    in_js *h = (in_js *)((char *)res - offsetof(in_js, res));
    in_js_close(h);
}

static void in_finalizer(JSRuntime *rt, JSValue val)
{
    in_js *h = JS_GetOpaque(val, audio_in_class);
    if (!h) return;
    in_js_close(h);
    js_free_rt(rt, h);
}

static const JSClassDef in_def = {"AudioIn", .finalizer = in_finalizer};

static in_js *in_get(JSContext *ctx, JSValueConst obj)
{
    in_js *h = qcam_handle(ctx, obj, audio_in_class, "AudioIn");
    return h && !h->in ? qcam_closed(ctx, "AudioIn") : h;
}

/* in_get() for members that read: not while linked. */
static in_js *in_reader(JSContext *ctx, JSValueConst obj)
{
    in_js *h = in_get(ctx, obj);
    if (h && h->link) {
        qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this AudioIn feeds a link: its blocks go there (close the link first)");
        return NULL;
    }
    return h;
}

/* sampleRate: 8000 or 16000. */
static int rate_opt(JSContext *ctx, JSValueConst opts, const char *what, int def, int *out)
{
    JSValue v;
    int r = qcam_opt_get(ctx, opts, "sampleRate", &v);
    if (r < 0) return -1;
    *out = def;
    if (r == 0) return 0;
    double d = 0;
    bool num = JS_IsNumber(v);
    if (num && JS_ToFloat64(ctx, &d, v)) num = false;
    char given[64];
    if (!num) qcam_opt_describe(ctx, v, given, sizeof given);
    JS_FreeValue(ctx, v);
    if (!num) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s sampleRate must be 8000 or 16000, not %s", what, given);
        return -1;
    }
    if (d != 8000 && d != 16000) {
        qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "%s sampleRate must be 8000 or 16000, not %g", what, d);
        return -1;
    }
    *out = (int)d;
    return 0;
}

static JSValue audio_in_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"sampleRate", "channels", "source", "toneHz", "frameMs", "buffers", "loop", NULL};
    if (JS_IsUndefined(new_target))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CONSTRUCT_CALL_REQUIRED", "AudioIn must be called with new");
    JSValueConst opts = argc > 0 ? argv[0] : JS_UNDEFINED;
    qcam_audio_config cfg = {.sample_rate = 8000, .channels = 1, .frame_ms = 20, .buffers = 8, .tone_hz = 440,
                             .loop = true};
    char source[256] = "tone";
    if (!JS_IsUndefined(opts)) {
        if (!qcam_opt_is_object(ctx, opts))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "AudioIn options must be an object");
        if (qcam_opt_keys(ctx, opts, "AudioIn", keys) || rate_opt(ctx, opts, "AudioIn", 8000, &cfg.sample_rate) ||
            qcam_opt_int(ctx, opts, "AudioIn", "channels", 1, 1, 1, "", 1, &cfg.channels) ||
            qcam_opt_int(ctx, opts, "AudioIn", "frameMs", QCAM_AUDIO_MIN_FRAME_MS, QCAM_AUDIO_MAX_FRAME_MS, 1, "", 20,
                         &cfg.frame_ms))
            return JS_EXCEPTION;
        int buffers;
        if (qcam_opt_int(ctx, opts, "AudioIn", "buffers", QCAM_AUDIO_MIN_BUFFERS, QCAM_AUDIO_MAX_BUFFERS, 1, "", 8,
                         &buffers) ||
            qcam_opt_int(ctx, opts, "AudioIn", "toneHz", 1, cfg.sample_rate / 2, 1, "", 440, &cfg.tone_hz))
            return JS_EXCEPTION;
        cfg.buffers = (unsigned)buffers;
        if (qcam_opt_string(ctx, opts, "AudioIn", "source", "\"tone\" or the board path of a .wav file", source,
                            sizeof source) < 0 ||
            qcam_opt_bool(ctx, opts, "AudioIn", "loop", &cfg.loop) < 0)
            return JS_EXCEPTION;
    }
    qcam_app *app = qcam_app_of(ctx);
    qcam_fs_card *card = NULL;
    if (strcmp(source, "tone") != 0) {
        const qcam_run_options *o = qcam_app_options(app);
        card = qcam_fs_card_open(o->sdcard_dir, o->sdcard_cap);
        if (!card) return qcam_throw_errno(ctx, errno, "audio source %s", source);
        cfg.card = card;
        cfg.wav_path = source;
    }
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    if (JS_IsException(proto)) {
        qcam_fs_card_close(card);
        return JS_EXCEPTION;
    }
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, audio_in_class);
    JS_FreeValue(ctx, proto);
    in_js *h = JS_IsException(obj) ? NULL : js_mallocz(ctx, sizeof *h);
    if (!h) {
        qcam_fs_card_close(card);
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    char err[256];
    int r = qcam_audio_in_open(&cfg, &h->in, err, sizeof err);
    qcam_fs_card_close(card);
    if (r < 0) {
        js_free(ctx, h);
        JS_FreeValue(ctx, obj);
        switch (r) {
        case -EILSEQ:
        case -ENOTSUP: return qcam_throw(ctx, QCAM_ERROR, "ERR_INVALID_SOURCE", "audio source %s: %s", source, err);
        case -ERANGE: return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "audio source %s: %s", source, err);
        default:
            if (r == -EINVAL && !cfg.wav_path) return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "AudioIn: %s", err);
            return qcam_throw_errno(ctx, -r, "audio source %s", source); /* -EINVAL: a path the card refuses */
        }
    }
    h->app = app;
    memcpy(h->source, source, sizeof source);
    h->res.kind = "AudioIn";
    h->res.release = in_release_resource;
    qcam_resource_add(app, &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue pcm_new(JSContext *ctx, qcam_picture *pic, int sample_rate)
{
    JSValue obj = JS_NewObjectClass(ctx, (int)pcm_class);
    pcm_js *p = JS_IsException(obj) ? NULL : js_malloc(ctx, sizeof *p);
    if (!p) {
        JS_FreeValue(ctx, obj);
        qcam_picture_unref(pic);
        return JS_EXCEPTION;
    }
    p->pic = pic;
    p->sample_rate = sample_rate;
    JS_SetOpaque(obj, p);
    return obj;
}

static JSValue audio_in_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    in_js *h = in_reader(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_audio_config cfg;
    qcam_audio_in_config(h->in, &cfg);
    int64_t period = (int64_t)cfg.frame_ms * 1000, timeout = 2 * period + 1000000;
    if (qcam_audio_in_free_buffers(h->in) == 0) {
        /* Blocks nobody can reach any more go back to the pool now. */
        JS_RunGC(JS_GetRuntime(ctx));
        if (qcam_audio_in_free_buffers(h->in) == 0) timeout = period + DRY_WAIT_US;
    }
    qcam_picture *pic = NULL;
    int r = qcam_audio_in_read(h->in, timeout, &pic);
    switch (r) {
    case 0: return pcm_new(ctx, pic, cfg.sample_rate);
    case -ENODATA: return JS_NULL;
    case -ENOBUFS:
        return qcam_throw(ctx, QCAM_ERROR, "ERR_NO_BUFFER",
                          "no free buffer: all %u blocks of this AudioIn are still open; close() the ones you are "
                          "done with (or declare them with `using`), or ask for more buffers",
                          cfg.buffers);
    default: return qcam_throw_errno(ctx, -r, "audio read: %s", qcam_audio_in_error(h->in));
    }
}

static JSValue audio_in_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    in_js *h = in_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_audio_stats st;
    qcam_audio_in_stats(h->in, &st);
    JSValue obj = JS_NewObject(ctx);
    JS_DefinePropertyValueStr(ctx, obj, "captured", JS_NewInt64(ctx, (int64_t)st.captured), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, obj, "dropped", JS_NewInt64(ctx, (int64_t)st.dropped), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, obj, "delivered", JS_NewInt64(ctx, (int64_t)st.delivered), JS_PROP_C_W_E);
    return obj;
}

static JSValue audio_in_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, audio_in_class, "AudioIn", &opaque) < 0) return JS_EXCEPTION;
    in_js *h = opaque;
    if (!h) return JS_UNDEFINED;
    if (h->link) return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this AudioIn feeds a link (close the link first)");
    in_js_close(h);
    JS_SetOpaque(this_val, NULL);
    js_free(ctx, h);
    return JS_UNDEFINED;
}

enum { I_RATE, I_CHANNELS, I_FRAME_MS, I_SAMPLES, I_BUFFERS, I_SOURCE };

static JSValue audio_in_get(JSContext *ctx, JSValueConst this_val, int magic)
{
    in_js *h = in_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_audio_config cfg;
    qcam_audio_in_config(h->in, &cfg);
    switch (magic) {
    case I_RATE: return JS_NewInt32(ctx, cfg.sample_rate);
    case I_CHANNELS: return JS_NewInt32(ctx, cfg.channels);
    case I_FRAME_MS: return JS_NewInt32(ctx, cfg.frame_ms);
    case I_SAMPLES: return JS_NewInt32(ctx, (int32_t)qcam_audio_in_block_samples(h->in));
    case I_BUFFERS: return JS_NewInt32(ctx, (int32_t)cfg.buffers);
    default: return JS_NewString(ctx, h->source);
    }
}

static const JSCFunctionListEntry in_proto[] = {
    JS_CGETSET_MAGIC_DEF("sampleRate", audio_in_get, NULL, I_RATE),
    JS_CGETSET_MAGIC_DEF("channels", audio_in_get, NULL, I_CHANNELS),
    JS_CGETSET_MAGIC_DEF("frameMs", audio_in_get, NULL, I_FRAME_MS),
    JS_CGETSET_MAGIC_DEF("samples", audio_in_get, NULL, I_SAMPLES),
    JS_CGETSET_MAGIC_DEF("buffers", audio_in_get, NULL, I_BUFFERS),
    JS_CGETSET_MAGIC_DEF("source", audio_in_get, NULL, I_SOURCE),
    JS_CFUNC_DEF("read", 0, audio_in_read),
    JS_CFUNC_DEF("stats", 0, audio_in_stats),
    JS_CFUNC_DEF("close", 0, audio_in_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "AudioIn", JS_PROP_CONFIGURABLE),
};

/* ---- link() source provider ------------------------------------------------- */

static int link_read(void *ctx, int64_t timeout_us, qcam_picture **out)
{
    link_src *s = ctx;
    return qcam_audio_in_read(s->in, timeout_us, out); /* -ENOBUFS: the link waits (link.h) */
}

static uint64_t link_dropped(void *ctx)
{
    link_src *s = ctx;
    qcam_audio_stats st;
    qcam_audio_in_stats(s->in, &st);
    return st.dropped;
}

static int link_source(JSContext *ctx, JSValueConst obj, qcam_link_source *out)
{
    in_js *h = in_reader(ctx, obj);
    if (!h) return -1;
    link_src *s = js_malloc(ctx, sizeof *s);
    if (!s) return -1;
    s->in = qcam_audio_in_ref(h->in);
    h->link = s;
    qcam_audio_config cfg;
    qcam_audio_in_config(h->in, &cfg);
    *out = (qcam_link_source){.ctx = s, .read = link_read, .dropped = link_dropped, .media = QCAM_LINK_AUDIO,
                              .sample_rate = (uint32_t)cfg.sample_rate};
    return 0;
}

static void link_release(JSContext *ctx, JSValueConst obj)
{
    in_js *h = JS_GetOpaque(obj, audio_in_class);
    if (!h || !h->link) return;
    qcam_audio_in_close(h->link->in);
    js_free(ctx, h->link);
    h->link = NULL;
}

/* ---- Pcm -------------------------------------------------------------------------- */

static void pcm_finalizer(JSRuntime *rt, JSValue val)
{
    pcm_js *p = JS_GetOpaque(val, pcm_class);
    if (!p) return;
    qcam_picture_unref(p->pic);
    js_free_rt(rt, p);
}

static const JSClassDef pcm_def = {"Pcm", .finalizer = pcm_finalizer};

static pcm_js *pcm_get(JSContext *ctx, JSValueConst obj) { return qcam_handle(ctx, obj, pcm_class, "Pcm"); }

enum { P_RATE, P_CHANNELS, P_SAMPLES, P_TIMESTAMP, P_SEQ };

static JSValue pcm_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    pcm_js *p = pcm_get(ctx, this_val);
    if (!p) return JS_EXCEPTION;
    switch (magic) {
    case P_RATE: return JS_NewInt32(ctx, p->sample_rate);
    case P_CHANNELS: return JS_NewInt32(ctx, p->pic->height);
    case P_SAMPLES: return JS_NewInt32(ctx, p->pic->width);
    case P_TIMESTAMP: return JS_NewInt64(ctx, p->pic->pts_us);
    default: return JS_NewInt64(ctx, (int64_t)p->pic->seq);
    }
}

static void release_view(void *opaque, void *ptr)
{
    (void)ptr;
    qcam_picture_unref(opaque);
}

/* An Int16Array over `ab` (bytes from 0). */
static JSValue int16_view(JSContext *ctx, JSValue ab, size_t samples)
{
    if (JS_IsException(ab)) return ab;
    JSValue args[3] = {ab, JS_NewInt32(ctx, 0), JS_NewInt64(ctx, (int64_t)samples)};
    JSValue ta = JS_NewTypedArray(ctx, 3, (JSValueConst *)args, JS_TYPED_ARRAY_INT16);
    JS_FreeValue(ctx, ab);
    return ta;
}

static JSValue pcm_to_int16(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    pcm_js *p = pcm_get(ctx, this_val);
    if (!p) return JS_EXCEPTION;
    size_t n = (size_t)p->pic->width * (size_t)p->pic->height;
    /* A read-only view that holds its own reference: it outlives close() safely. */
    qcam_picture_ref(p->pic);
    JSValue ab = qcam_engine_external_buffer(ctx, p->pic->data, n * sizeof(int16_t), release_view, p->pic);
    if (JS_IsException(ab)) {
        qcam_picture_unref(p->pic);
        return ab;
    }
    return int16_view(ctx, ab, n);
}

static JSValue pcm_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, pcm_class, "Pcm", &opaque) < 0) return JS_EXCEPTION;
    pcm_js *p = opaque;
    if (!p) return JS_UNDEFINED;
    JS_SetOpaque(this_val, NULL);
    qcam_picture_unref(p->pic);
    js_free(ctx, p);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry pcm_proto[] = {
    JS_CGETSET_MAGIC_DEF("sampleRate", pcm_getter, NULL, P_RATE),
    JS_CGETSET_MAGIC_DEF("channels", pcm_getter, NULL, P_CHANNELS),
    JS_CGETSET_MAGIC_DEF("samples", pcm_getter, NULL, P_SAMPLES),
    JS_CGETSET_MAGIC_DEF("timestampUs", pcm_getter, NULL, P_TIMESTAMP),
    JS_CGETSET_MAGIC_DEF("seq", pcm_getter, NULL, P_SEQ),
    JS_CFUNC_DEF("toInt16Array", 0, pcm_to_int16),
    JS_CFUNC_DEF("close", 0, pcm_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Pcm", JS_PROP_CONFIGURABLE),
};

/* ---- G.711 helpers ------------------------------------------------------------------ */

/* "alaw" / "ulaw" → law; -1 after throwing. */
static int law_arg(JSContext *ctx, JSValueConst v, const char *usage)
{
    const char *s = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
    int law = !s ? -1 : !strcmp(s, "alaw") ? QCAM_G711_ALAW : !strcmp(s, "ulaw") ? QCAM_G711_ULAW : -1;
    JS_FreeCString(ctx, s);
    if (law < 0) qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    return law;
}

/* The samples of an Int16Array (borrowed for the call); -1 after throwing. */
static int int16_arg(JSContext *ctx, JSValueConst v, const int16_t **data, size_t *n, const char *usage)
{
    if (!JS_IsObject(v) || JS_GetTypedArrayType(v) != JS_TYPED_ARRAY_INT16) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
        return -1;
    }
    size_t off = 0, len = 0, el = 0;
    JSValue ab = JS_GetTypedArrayBuffer(ctx, v, &off, &len, &el);
    if (JS_IsException(ab)) return -1;
    size_t size = 0;
    uint8_t *buf = JS_GetArrayBuffer(ctx, &size, ab);
    JS_FreeValue(ctx, ab);
    if (!buf && JS_HasException(ctx)) return -1;
    *data = buf ? (const int16_t *)(const void *)(buf + off) : NULL;
    *n = buf ? len / sizeof(int16_t) : 0;
    return 0;
}

static JSValue js_g711_encode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    const char *usage = "g711Encode(samples: Int16Array, law: \"alaw\" | \"ulaw\")";
    const int16_t *pcm;
    size_t n;
    if (argc < 2) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    if (int16_arg(ctx, argv[0], &pcm, &n, usage) < 0) return JS_EXCEPTION;
    int law = law_arg(ctx, argv[1], usage);
    if (law < 0) return JS_EXCEPTION;
    uint8_t *out = js_malloc(ctx, n ? n : 1);
    if (!out) return JS_EXCEPTION;
    qcam_g711_encode((qcam_g711_law)law, pcm, n, out);
    JSValue r = JS_NewUint8ArrayCopy(ctx, out, n);
    js_free(ctx, out);
    return r;
}

static JSValue decoded(JSContext *ctx, qcam_g711_law law, const uint8_t *in, size_t n)
{
    int16_t *pcm = js_malloc(ctx, n ? n * sizeof *pcm : 1);
    if (!pcm) return JS_EXCEPTION;
    qcam_g711_decode(law, in, n, pcm);
    JSValue ab = JS_NewArrayBufferCopy(ctx, (const uint8_t *)pcm, n * sizeof *pcm);
    js_free(ctx, pcm);
    return int16_view(ctx, ab, n);
}

static JSValue js_g711_decode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    const char *usage = "g711Decode(bytes: Uint8Array | ArrayBuffer, law: \"alaw\" | \"ulaw\")";
    if (argc < 2) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    const uint8_t *data = NULL;
    size_t size = 0;
    if (JS_IsArrayBuffer(argv[0])) {
        data = JS_GetArrayBuffer(ctx, &size, argv[0]);
    } else if (JS_IsObject(argv[0]) && JS_GetTypedArrayType(argv[0]) == JS_TYPED_ARRAY_UINT8) {
        data = JS_GetUint8Array(ctx, &size, argv[0]);
    } else {
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    }
    if (!data && JS_HasException(ctx)) return JS_EXCEPTION;
    if (!data) size = 0;
    int law = law_arg(ctx, argv[1], usage);
    if (law < 0) return JS_EXCEPTION;
    return decoded(ctx, (qcam_g711_law)law, data, size);
}

static JSValue js_decode_frame(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    const char *usage = "decodeFrame(frame: Frame)";
    if (argc < 1 || !JS_IsObject(argv[0])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    qcam_packet *pkt = qcam_link_frame_packet(ctx, argv[0]);
    if (!pkt) {
        if (!JS_HasException(ctx)) qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
        return JS_EXCEPTION;
    }
    if (!QCAM_CODEC_IS_AUDIO(pkt->codec))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "decodeFrame: an alaw or ulaw Frame, got a %s one",
                          pkt->codec == QCAM_CODEC_H264 ? "h264" : "h265");
    return decoded(ctx, pkt->codec == QCAM_CODEC_ALAW ? QCAM_G711_ALAW : QCAM_G711_ULAW, pkt->data, pkt->size);
}

/* ---- AudioEncoder ---------------------------------------------------------------------- */

typedef struct {
    qcam_g711_law law;
    int sample_rate;       /* for Int16Array input */
    atomic_ullong seq;
    bool linked;
} enc_js;

static void encoder_finalizer(JSRuntime *rt, JSValue val)
{
    enc_js *e = JS_GetOpaque(val, encoder_class);
    if (e) js_free_rt(rt, e);
}

static const JSClassDef encoder_def = {"AudioEncoder", .finalizer = encoder_finalizer};

static enc_js *encoder_get(JSContext *ctx, JSValueConst obj) { return qcam_handle(ctx, obj, encoder_class, "AudioEncoder"); }

static JSValue encoder_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    static const char *const keys[] = {"codec", "sampleRate", NULL};
    const char *usage = "new AudioEncoder(options: {codec: \"alaw\" | \"ulaw\", sampleRate?})";
    if (argc < 1 || !qcam_opt_is_object(ctx, argv[0])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    if (qcam_opt_keys(ctx, argv[0], "AudioEncoder", keys)) return JS_EXCEPTION;
    JSValue c = JS_GetPropertyStr(ctx, argv[0], "codec");
    if (JS_IsException(c)) return c;
    int law = -1;
    if (JS_IsString(c)) {
        const char *s = JS_ToCString(ctx, c);
        law = !s ? -1 : !strcmp(s, "alaw") ? QCAM_G711_ALAW : !strcmp(s, "ulaw") ? QCAM_G711_ULAW : -1;
        JS_FreeCString(ctx, s);
    }
    JS_FreeValue(ctx, c);
    if (law < 0) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "AudioEncoder codec must be \"alaw\" or \"ulaw\"");
    int rate;
    if (rate_opt(ctx, argv[0], "AudioEncoder", 8000, &rate)) return JS_EXCEPTION;
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    if (JS_IsException(proto)) return JS_EXCEPTION;
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, encoder_class);
    JS_FreeValue(ctx, proto);
    enc_js *e = JS_IsException(obj) ? NULL : js_mallocz(ctx, sizeof *e);
    if (!e) {
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    e->law = (qcam_g711_law)law;
    e->sample_rate = rate;
    JS_SetOpaque(obj, e);
    return obj;
}

static JSValue encoder_encode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    enc_js *e = encoder_get(ctx, this_val);
    if (!e) return JS_EXCEPTION;
    if (e->linked) return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this encoder is fed by a link; close the link first");
    const char *usage = "encode(samples: Pcm | Int16Array, timestampUs?: number)";
    if (argc < 1 || !JS_IsObject(argv[0])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    int64_t pts = 0;
    bool have_pts = argc > 1 && !JS_IsUndefined(argv[1]);
    if (have_pts) {
        double d;
        if (!JS_IsNumber(argv[1])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "timestampUs must be a number");
        if (JS_ToFloat64(ctx, &d, argv[1])) return JS_EXCEPTION;
        if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) || d != floor(d))
            return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "timestampUs must be an integer");
        pts = (int64_t)d;
    }
    qcam_packet *pkt = NULL;
    JSClassID id = 0;
    void *opaque = JS_GetAnyOpaque(argv[0], &id);
    if (id == pcm_class) {
        pcm_js *p = opaque;
        if (!p) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CLOSED", "Pcm is closed");
        int r = qcam_g711_encode_picture(e->law, p->pic, (uint32_t)p->sample_rate, &pkt);
        if (r < 0) return qcam_throw_errno(ctx, -r, "encode failed");
        if (have_pts) pkt->pts_us = pkt->dts_us = pts;
    } else {
        const int16_t *pcm;
        size_t n;
        if (int16_arg(ctx, argv[0], &pcm, &n, usage) < 0) return JS_EXCEPTION;
        pkt = qcam_packet_new(n);
        if (!pkt) return JS_ThrowOutOfMemory(ctx);
        qcam_g711_encode(e->law, pcm, n, pkt->data);
        pkt->codec = e->law == QCAM_G711_ALAW ? QCAM_CODEC_ALAW : QCAM_CODEC_ULAW;
        pkt->type = QCAM_PKT_AUDIO;
        pkt->keyframe = true;
        pkt->pts_us = pkt->dts_us = pts;
        pkt->sample_rate = (uint32_t)e->sample_rate;
        pkt->samples = (uint32_t)n;
    }
    pkt->seq = atomic_fetch_add(&e->seq, 1);
    return qcam_js_frame_new(ctx, pkt);
}

enum { E_CODEC, E_RATE };

static JSValue encoder_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    enc_js *e = encoder_get(ctx, this_val);
    if (!e) return JS_EXCEPTION;
    if (magic == E_CODEC) return JS_NewString(ctx, e->law == QCAM_G711_ALAW ? "alaw" : "ulaw");
    return JS_NewInt32(ctx, e->sample_rate);
}

static JSValue encoder_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, encoder_class, "AudioEncoder", &opaque) < 0) return JS_EXCEPTION;
    enc_js *e = opaque;
    if (!e) return JS_UNDEFINED;
    if (e->linked) return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link this encoder feeds first");
    JS_SetOpaque(this_val, NULL);
    js_free(ctx, e);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry encoder_proto[] = {
    JS_CGETSET_MAGIC_DEF("codec", encoder_getter, NULL, E_CODEC),
    JS_CGETSET_MAGIC_DEF("sampleRate", encoder_getter, NULL, E_RATE),
    JS_CFUNC_DEF("encode", 1, encoder_encode),
    JS_CFUNC_DEF("close", 0, encoder_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "AudioEncoder", JS_PROP_CONFIGURABLE),
};

/* The link's encode thread: one block in, one G.711 frame out (the link
 * stamps the source's sample rate on it). */
static int link_encode(void *ctx, qcam_picture *pic, qcam_packet **out)
{
    enc_js *e = ctx;
    int r = qcam_g711_encode_picture(e->law, pic, 0, out);
    if (r == 0) (*out)->seq = atomic_fetch_add(&e->seq, 1);
    return r;
}

static int encoder_link_get(JSContext *ctx, JSValueConst obj, qcam_link_encoder *out)
{
    enc_js *e = encoder_get(ctx, obj);
    if (!e) return -1;
    if (e->linked) {
        qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this encoder already feeds a link");
        return -1;
    }
    e->linked = true;
    *out = (qcam_link_encoder){.ctx = e, .encode = link_encode, .media = QCAM_LINK_AUDIO};
    return 0;
}

static void encoder_link_release(JSContext *ctx, JSValueConst obj)
{
    (void)ctx;
    enc_js *e = JS_GetOpaque(obj, encoder_class);
    if (e) e->linked = false;
}

/* ---- module --------------------------------------------------------------------------- */

static JSValue pcm_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    (void)new_target; (void)argc; (void)argv;
    return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_ILLEGAL_CONSTRUCTOR", "Pcm blocks come from an AudioIn");
}

static const JSCFunctionListEntry audio_funcs[] = {
    JS_CFUNC_DEF("g711Encode", 2, js_g711_encode),
    JS_CFUNC_DEF("g711Decode", 2, js_g711_decode),
    JS_CFUNC_DEF("decodeFrame", 1, js_decode_frame),
};

#define N(a) ((int)(sizeof a / sizeof a[0]))

static int audio_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_video_class_init(ctx) < 0 ||
        qcam_class_init(ctx, &audio_in_class, &in_def, in_proto, N(in_proto), "close") < 0 ||
        qcam_class_init(ctx, &pcm_class, &pcm_def, pcm_proto, N(pcm_proto), "close") < 0 ||
        qcam_class_init(ctx, &encoder_class, &encoder_def, encoder_proto, N(encoder_proto), "close") < 0)
        return -1;
    qcam_link_provide_source(audio_in_class, link_source, link_release);
    qcam_link_provide_encoder(encoder_class, encoder_link_get, encoder_link_release);
    if (qcam_export_class(ctx, m, "AudioIn", audio_in_class, audio_in_ctor, 1, JS_CFUNC_constructor_or_func) < 0 ||
        qcam_export_class(ctx, m, "Pcm", pcm_class, pcm_ctor, 0, JS_CFUNC_constructor) < 0 ||
        qcam_export_class(ctx, m, "AudioEncoder", encoder_class, encoder_ctor, 1, JS_CFUNC_constructor) < 0)
        return -1;
    return JS_SetModuleExportList(ctx, m, audio_funcs, N(audio_funcs));
}

JSModuleDef *qcam_mod_audio_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, audio_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "AudioIn");
    JS_AddModuleExport(ctx, m, "Pcm");
    JS_AddModuleExport(ctx, m, "AudioEncoder");
    JS_AddModuleExportList(ctx, m, audio_funcs, N(audio_funcs));
    return m;
}
