/* qcam:ts — the TsWriter class: options, pull-mode write(), the link sink
 * provider, and the events the writer's threads post to the app's loop.
 * Shaped like ts_writer_js.c (TsWriter): the same options where they mean
 * the same, the same errors. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../link/link_js.h"
#include "../video/video_js.h"
#include "../modules.h"
#include "../mp4/mp4_write.h" /* qcam_mp4_expand_path */
#include "../media/writer_events_js.h"
#include "ts_remux.h"
#include "ts_write.h"

typedef struct {
    qcam_ts_writer *w;
    qcam_resource res;
    qcam_writer_events *ev; /* onSegment / onError / onFull (media/writer_events_js.h) */
} ts_handle;

static JSClassID ts_class;

/* ---- class ------------------------------------------------------------------------ */

static void release_res(qcam_resource *res)
{
    ts_handle *h = (ts_handle *)((char *)res - offsetof(ts_handle, res));
    qcam_ts_writer *w = h->w;
    h->w = NULL;
    qcam_ts_writer_close(w, NULL);
}

static void ts_finalizer(JSRuntime *rt, JSValue val)
{
    ts_handle *h = JS_GetOpaque(val, ts_class);
    if (!h) return;
    qcam_app *app = JS_GetRuntimeOpaque(rt);
    if (h->w) {
        qcam_resource_remove(app, &h->res);
        qcam_ts_writer *w = h->w;
        h->w = NULL;
        qcam_ts_writer_close(w, NULL);
    }
    qcam_writer_events_release(rt, h->ev);
    free(h);
}

static void ts_mark(JSRuntime *rt, JSValueConst val, JS_MarkFunc *mark)
{
    ts_handle *h = JS_GetOpaque(val, ts_class);
    if (h) qcam_writer_events_mark(rt, h->ev, mark);
}

static const JSClassDef ts_def = {"TsWriter", .finalizer = ts_finalizer, .gc_mark = ts_mark};

static ts_handle *ts_get(JSContext *ctx, JSValueConst obj)
{
    ts_handle *h = qcam_handle(ctx, obj, ts_class, "TsWriter");
    return h && !h->w ? qcam_closed(ctx, "TsWriter") : h;
}

/* ---- options ------------------------------------------------------------------------- */

typedef struct {
    qcam_ts_writer_config cfg;
    JSValue on_segment, on_error, on_full;
    JSValue ps[3]; /* ArrayBuffers kept while the config points into them */
} options;

static void options_free(JSContext *ctx, options *o)
{
    JS_FreeValue(ctx, o->on_segment);
    JS_FreeValue(ctx, o->on_error);
    JS_FreeValue(ctx, o->on_full);
    for (int i = 0; i < 3; i++) JS_FreeValue(ctx, o->ps[i]);
}

static int bad(JSContext *ctx, qcam_error_kind kind, const char *msg)
{
    qcam_throw(ctx, kind, "ERR_INVALID_ARG", "%s", msg);
    return -1;
}

/* An integer property in lo..hi; absent keeps *out. */
static int int_prop(JSContext *ctx, JSValueConst obj, const char *name, double lo, double hi, double *out,
                    const char *msg)
{
    JSValue v = JS_GetPropertyStr(ctx, obj, name);
    if (JS_IsException(v)) return -1;
    if (JS_IsUndefined(v)) return 0;
    if (!JS_IsNumber(v)) {
        JS_FreeValue(ctx, v);
        return bad(ctx, QCAM_TYPE_ERROR, msg);
    }
    double d;
    JS_ToFloat64(ctx, &d, v);
    JS_FreeValue(ctx, v);
    if (!(d >= lo && d <= hi) || d != floor(d)) return bad(ctx, QCAM_RANGE_ERROR, msg);
    *out = d;
    return 0;
}

static qcam_codec video_codec_of(const char *s)
{
    return !s ? 0 : !strcmp(s, "h264") ? QCAM_CODEC_H264 : !strcmp(s, "h265") ? QCAM_CODEC_H265 : 0;
}

static int video_option(JSContext *ctx, JSValueConst v, options *o)
{
    if (!JS_IsObject(v))
        return bad(ctx, QCAM_TYPE_ERROR, "video must be an Encoder or {codec, width, height, parameterSets?}");
    static const char *const keys[] = {"codec", "width", "height", "parameterSets", NULL};
    if (qcam_opt_keys(ctx, v, "TsWriter video", keys)) return -1;
    JSClassID id = 0;
    if (JS_GetAnyOpaque(v, &id) != NULL) {
        /* an Encoder (a closed one has no opaque: its getters throw ERR_CLOSED
         * below); any other native object is read as a track description */
        qcam_encoder *enc = qcam_js_encoder(ctx, v);
        if (enc) o->cfg.encoder = enc;
        else JS_FreeValue(ctx, JS_GetException(ctx));
    }
    JSValue c = JS_GetPropertyStr(ctx, v, "codec");
    if (JS_IsException(c)) return -1;
    const char *cs = JS_IsString(c) ? JS_ToCString(ctx, c) : NULL;
    o->cfg.video_codec = video_codec_of(cs);
    JS_FreeCString(ctx, cs);
    JS_FreeValue(ctx, c);
    if (!o->cfg.video_codec) return bad(ctx, QCAM_TYPE_ERROR, "video.codec must be \"h264\" or \"h265\"");
    double w = -1, hh = -1;
    if (int_prop(ctx, v, "width", 16, 8192, &w, "video.width must be an integer 16..8192") < 0 ||
        int_prop(ctx, v, "height", 16, 8192, &hh, "video.height must be an integer 16..8192") < 0)
        return -1;
    if (w < 0 || hh < 0) return bad(ctx, QCAM_TYPE_ERROR, "video needs width and height");
    o->cfg.width = (int)w;
    o->cfg.height = (int)hh;
    if (o->cfg.encoder) return 0;
    JSValue ps = JS_GetPropertyStr(ctx, v, "parameterSets");
    if (JS_IsException(ps)) return -1;
    if (JS_IsUndefined(ps) || JS_IsNull(ps)) return 0;
    int r = 0;
    if (!JS_IsObject(ps)) {
        r = bad(ctx, QCAM_TYPE_ERROR, "video.parameterSets must be {vps?, sps, pps}");
    } else if (qcam_opt_keys(ctx, ps, "video.parameterSets", (const char *const[]){"vps", "sps", "pps", NULL})) {
        r = -1;
    } else {
        static const char *const names[3] = {"vps", "sps", "pps"};
        const uint8_t **ptr[3] = {&o->cfg.vps, &o->cfg.sps, &o->cfg.pps};
        size_t *len[3] = {&o->cfg.vps_len, &o->cfg.sps_len, &o->cfg.pps_len};
        for (int i = 0; i < 3 && r == 0; i++) {
            JSValue b = JS_GetPropertyStr(ctx, ps, names[i]);
            if (JS_IsUndefined(b) && (i > 0 || o->cfg.video_codec == QCAM_CODEC_H264)) {
                if (i == 0) continue;
                r = bad(ctx, QCAM_TYPE_ERROR, "video.parameterSets needs sps and pps (and vps for h265)");
                break;
            }
            size_t n = 0;
            uint8_t *p = JS_IsUndefined(b) ? NULL : JS_GetArrayBuffer(ctx, &n, b);
            if (!p || !n) {
                JS_FreeValue(ctx, b);
                JS_FreeValue(ctx, JS_GetException(ctx));
                r = bad(ctx, QCAM_TYPE_ERROR, "video.parameterSets: each one an ArrayBuffer with a NAL unit");
                break;
            }
            *ptr[i] = p;
            *len[i] = n;
            o->ps[i] = b;
        }
    }
    JS_FreeValue(ctx, ps);
    return r;
}

/* G.711 has no standard MPEG-TS mapping: an audio track is refused. */
static int audio_option(JSContext *ctx)
{
    return bad(ctx, QCAM_TYPE_ERROR,
               "TsWriter has no audio: G.711 has no standard MPEG-TS mapping (record audio with Mp4Writer)");
}

static int segment_option(JSContext *ctx, JSValueConst v, options *o)
{
    if (!JS_IsObject(v)) return bad(ctx, QCAM_TYPE_ERROR, "segment must be {seconds?, bytes?}");
    static const char *const keys[] = {"seconds", "bytes", NULL};
    if (qcam_opt_keys(ctx, v, "TsWriter segment", keys)) return -1;
    JSValue s = JS_GetPropertyStr(ctx, v, "seconds");
    if (JS_IsException(s)) return -1;
    if (!JS_IsUndefined(s)) {
        double d = NAN;
        bool num = JS_IsNumber(s);
        if (num) JS_ToFloat64(ctx, &d, s);
        JS_FreeValue(ctx, s);
        if (!num) return bad(ctx, QCAM_TYPE_ERROR, "segment.seconds must be a number > 0");
        if (!(d > 0 && d <= 86400 * 7)) return bad(ctx, QCAM_RANGE_ERROR, "segment.seconds must be a number > 0");
        o->cfg.segment_seconds = d;
    }
    double bytes = 0;
    if (int_prop(ctx, v, "bytes", 1, 9007199254740991.0, &bytes, "segment.bytes must be an integer >= 1") < 0)
        return -1;
    o->cfg.segment_bytes = (uint64_t)bytes;
    if (o->cfg.segment_seconds <= 0 && o->cfg.segment_bytes == 0)
        return bad(ctx, QCAM_TYPE_ERROR, "segment needs seconds or bytes");
    return 0;
}

static int fn_option(JSContext *ctx, JSValueConst opts, const char *name, JSValue *out)
{
    JSValue f = JS_GetPropertyStr(ctx, opts, name);
    if (JS_IsException(f)) return -1;
    if (!JS_IsUndefined(f) && !JS_IsFunction(ctx, f)) {
        JS_FreeValue(ctx, f);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s must be a function", name);
        return -1;
    }
    *out = f;
    return 0;
}

/* The options in their declared order; the first bad one throws. */
static int parse_options(JSContext *ctx, JSValueConst opts, options *o)
{
    static const char *const keys[] = {"video", "audio", "segment", "onSegment", "onFull", "onError", NULL};
    if (qcam_opt_keys(ctx, opts, "TsWriter", keys)) return -1;
    JSValue v = JS_GetPropertyStr(ctx, opts, "video");
    if (JS_IsException(v)) return -1;
    int r = JS_IsUndefined(v) ? 0 : video_option(ctx, v, o);
    JS_FreeValue(ctx, v);
    if (r < 0) return -1;
    v = JS_GetPropertyStr(ctx, opts, "audio");
    if (JS_IsException(v)) return -1;
    bool audio = !JS_IsUndefined(v);
    JS_FreeValue(ctx, v);
    if (audio) return audio_option(ctx);
    if (!o->cfg.video_codec) return bad(ctx, QCAM_TYPE_ERROR, "TsWriter needs a video track");
    v = JS_GetPropertyStr(ctx, opts, "segment");
    if (JS_IsException(v)) return -1;
    r = JS_IsUndefined(v) ? 0 : segment_option(ctx, v, o);
    JS_FreeValue(ctx, v);
    if (r < 0) return -1;
    if (fn_option(ctx, opts, "onSegment", &o->on_segment) < 0 || fn_option(ctx, opts, "onError", &o->on_error) < 0 ||
        fn_option(ctx, opts, "onFull", &o->on_full) < 0)
        return -1;
    return 0;
}

static JSValue ts_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new TsWriter(path: string, options)");
    if (argc < 2 || !JS_IsObject(argv[1]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new TsWriter(path, {video, segment?, ...})");
    options o = {.on_segment = JS_UNDEFINED, .on_error = JS_UNDEFINED, .on_full = JS_UNDEFINED, .ps = {JS_UNDEFINED, JS_UNDEFINED, JS_UNDEFINED}};
    if (parse_options(ctx, argv[1], &o) < 0) {
        options_free(ctx, &o);
        return JS_EXCEPTION;
    }
    const char *path = JS_ToCString(ctx, argv[0]);
    if (!path) {
        options_free(ctx, &o);
        return JS_EXCEPTION;
    }
    bool segmented = o.cfg.segment_seconds > 0 || o.cfg.segment_bytes > 0;
    char probe[512];
    if (segmented && qcam_mp4_expand_path(path, 0, 0, probe, sizeof probe) < 0) {
        JS_FreeCString(ctx, path);
        options_free(ctx, &o);
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "path pattern: %%i, %%03i, %%Y %%m %%d %%H %%M %%S or %%%% only");
    }
    qcam_app *app = qcam_app_of(ctx);
    ts_handle *h = calloc(1, sizeof *h);
    if (h) h->ev = qcam_writer_events_new(app);
    if (!h || !h->ev) {
        free(h);
        JS_FreeCString(ctx, path);
        options_free(ctx, &o);
        return JS_ThrowOutOfMemory(ctx);
    }
    o.cfg.path = path;
    o.cfg.on_segment = qcam_writer_events_segment;
    o.cfg.on_error = qcam_writer_events_error;
    o.cfg.on_full = qcam_writer_events_full;
    o.cfg.opaque = h->ev;
    o.cfg.errors_handled = JS_IsFunction(ctx, o.on_error);
    const qcam_run_options *ro = qcam_app_options(app);
    qcam_fs_card *card = qcam_fs_card_open(ro->sdcard_dir, ro->sdcard_cap);
    int err = card ? qcam_ts_writer_open(card, &o.cfg, &h->w) : -errno;
    if (err < 0) {
        if (card) qcam_fs_card_close(card);
        qcam_writer_events_release(JS_GetRuntime(ctx), h->ev);
        free(h);
        options_free(ctx, &o);
        JSValue e = err == -EINVAL && o.cfg.sps
                        ? qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "video.parameterSets: not a usable SPS/PPS")
                        : qcam_throw_errno(ctx, -err, "cannot open %s", path);
        JS_FreeCString(ctx, path);
        return e;
    }
    JS_FreeCString(ctx, path);
    qcam_writer_events_set(h->ev, o.on_segment, o.on_error, o.on_full);
    o.on_segment = o.on_error = o.on_full = JS_UNDEFINED;
    options_free(ctx, &o);
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, ts_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        qcam_ts_writer_close(h->w, NULL);
        qcam_writer_events_release(JS_GetRuntime(ctx), h->ev); /* events posted meanwhile hold their own reference */
        free(h);
        return obj;
    }
    h->res.kind = "TsWriter";
    h->res.release = release_res;
    qcam_resource_add(app, &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue write_error(JSContext *ctx, ts_handle *h, int r)
{
    char path[512];
    qcam_ts_writer_path(h->w, path, sizeof path);
    return qcam_throw_errno(ctx, -r, "cannot write %s", path);
}

static JSValue ts_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ts_handle *h = ts_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (atomic_load(&qcam_ts_writer_sink(h->w)->busy))
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this writer is fed by a link; write() is for pull mode");
    qcam_packet *pkt = argc > 0 ? qcam_link_frame_packet(ctx, argv[0]) : NULL;
    if (!pkt) {
        if (argc == 0 || !JS_HasException(ctx))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "write(frame: Frame)");
        return JS_EXCEPTION;
    }
    int r = qcam_ts_writer_write(h->w, pkt);
    if (r == -EINVAL) {
        static const char *const names[] = {"?", "h264", "h265", "alaw", "ulaw"};
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "this writer has no track for %s frames",
                          pkt->codec <= QCAM_CODEC_ULAW ? names[pkt->codec] : "?");
    }
    if (r < 0) return write_error(ctx, h, r);
    return JS_UNDEFINED;
}

static JSValue ts_flush(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    ts_handle *h = ts_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    int r = qcam_ts_writer_flush(h->w);
    if (r < 0) return write_error(ctx, h, r);
    return JS_UNDEFINED;
}

static JSValue ts_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    ts_handle *h = ts_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_ts_writer_stats st;
    qcam_ts_writer_stats_get(h->w, &st);
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "videoFrames", JS_NewInt64(ctx, (int64_t)st.video_frames));
    JS_SetPropertyStr(ctx, o, "bytes", JS_NewInt64(ctx, (int64_t)st.bytes));
    JS_SetPropertyStr(ctx, o, "segments", JS_NewInt64(ctx, (int64_t)st.segments));
    JS_SetPropertyStr(ctx, o, "dropped", JS_NewInt64(ctx, (int64_t)st.dropped));
    return o;
}

static JSValue ts_path(JSContext *ctx, JSValueConst this_val)
{
    ts_handle *h = ts_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    char path[512];
    qcam_ts_writer_path(h->w, path, sizeof path);
    return JS_NewString(ctx, path);
}

static JSValue ts_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, ts_class, "TsWriter", &opaque) < 0) return JS_EXCEPTION;
    ts_handle *h = opaque;
    if (!h || !h->w) return JS_UNDEFINED;
    if (atomic_load(&qcam_ts_writer_sink(h->w)->busy))
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link feeding this writer first");
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    qcam_ts_writer *w = h->w;
    qcam_ts_segment_info info;
    int r = qcam_ts_writer_close(w, &info);
    h->w = NULL;                      /* the handle stays until the finalizer */
    qcam_writer_events_drain(h->ev); /* what the app has not heard yet, before close() returns */
    if (r < 0) return qcam_throw_errno(ctx, -r, "cannot finish %s", info.path);
    return qcam_segment_object(ctx, &info);
}

static const JSCFunctionListEntry ts_proto[] = {
    JS_CFUNC_DEF("stats", 0, ts_stats),
    JS_CFUNC_DEF("write", 1, ts_write),
    JS_CFUNC_DEF("flush", 0, ts_flush),
    JS_CFUNC_DEF("close", 0, ts_close),
    JS_CGETSET_DEF("path", ts_path, NULL),
    JS_PROP_STRING_DEF("kind", "ts", JS_PROP_CONFIGURABLE),
};

static qcam_sink *ts_sink_of(JSContext *ctx, JSValueConst obj)
{
    ts_handle *h = ts_get(ctx, obj);
    return h ? qcam_ts_writer_sink(h->w) : NULL;
}

/* ---- remux(input, output, {fps, codec}) (as qcam:mp4's, into MPEG-TS) ------------------ */

static qcam_codec codec_of_extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return 0;
    if (!strcmp(dot, ".h264") || !strcmp(dot, ".264") || !strcmp(dot, ".avc")) return QCAM_CODEC_H264;
    if (!strcmp(dot, ".h265") || !strcmp(dot, ".265") || !strcmp(dot, ".hevc")) return QCAM_CODEC_H265;
    return 0;
}

/* A path argument without NUL bytes; NULL after throwing. */
static const char *remux_path(JSContext *ctx, JSValueConst v, const char *usage)
{
    if (!JS_IsString(v)) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
        return NULL;
    }
    size_t len;
    const char *p = JS_ToCStringLen(ctx, &len, v);
    if (p && strlen(p) != len) {
        JS_FreeCString(ctx, p);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "remux: a path contains a NUL byte");
        return NULL;
    }
    return p;
}

static int remux_options(JSContext *ctx, JSValueConst o, qcam_ts_remux_options *ro)
{
    static const char *const keys[] = {"fps", "codec", NULL};
    if (qcam_opt_keys(ctx, o, "remux", keys)) return -1;
    JSValue v = JS_GetPropertyStr(ctx, o, "fps");
    if (JS_IsException(v)) return -1;
    if (!JS_IsUndefined(v)) {
        double d = NAN;
        bool num = JS_IsNumber(v);
        if (num) JS_ToFloat64(ctx, &d, v);
        JS_FreeValue(ctx, v);
        if (!num || !(d > 0 && d <= 240)) {
            qcam_throw(ctx, num ? QCAM_RANGE_ERROR : QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "remux: fps must be a number (0 < fps <= 240)");
            return -1;
        }
        ro->fps = d;
    }
    v = JS_GetPropertyStr(ctx, o, "codec");
    if (JS_IsException(v)) return -1;
    if (!JS_IsUndefined(v)) {
        const char *cs = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
        ro->codec = cs && !strcmp(cs, "h264") ? QCAM_CODEC_H264 : cs && !strcmp(cs, "h265") ? QCAM_CODEC_H265 : 0;
        JS_FreeCString(ctx, cs);
        JS_FreeValue(ctx, v);
        if (!ro->codec) {
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "remux: codec must be \"h264\" or \"h265\"");
            return -1;
        }
    }
    return 0;
}

static JSValue js_remux(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    const char *usage = "remux(input: string, output: string, options?: {fps?: number, codec?: \"h264\" | \"h265\"})";
    if (argc < 2) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    qcam_ts_remux_options ro = {.codec = 0, .fps = 30};
    if (argc > 2 && !JS_IsUndefined(argv[2])) {
        if (!JS_IsObject(argv[2])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
        if (remux_options(ctx, argv[2], &ro) < 0) return JS_EXCEPTION;
    }
    const char *in = remux_path(ctx, argv[0], usage);
    if (!in) return JS_EXCEPTION;
    const char *out = remux_path(ctx, argv[1], usage);
    if (!out) {
        JS_FreeCString(ctx, in);
        return JS_EXCEPTION;
    }
    JSValue ret = JS_EXCEPTION;
    if (!ro.codec) ro.codec = codec_of_extension(in);
    if (!ro.codec) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                   "remux: cannot tell the codec from the file name: pass {codec: \"h264\" | \"h265\"}");
        goto done;
    }
    const qcam_run_options *opts = qcam_app_options(qcam_app_of(ctx));
    qcam_fs_card *card = qcam_fs_card_open(opts->sdcard_dir, opts->sdcard_cap);
    if (!card) {
        qcam_throw_errno(ctx, errno, "cannot open the SD card");
        goto done;
    }
    qcam_ts_remux_result res;
    int r = qcam_ts_remux(card, in, out, &ro, &res);
    qcam_fs_card_close(card);
    if (r == -EBADMSG) {
        qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "no keyframe with usable parameter sets in %s (not an %s elementary stream, or cut before its first picture)",
                   in, ro.codec == QCAM_CODEC_H264 ? "H.264" : "H.265");
        goto done;
    }
    if (r < 0) {
        qcam_throw_errno(ctx, -r, "cannot remux %s to %s", in, out);
        goto done;
    }
    ret = JS_NewObject(ctx);
    if (JS_IsException(ret)) goto done;
    JS_SetPropertyStr(ctx, ret, "frames", JS_NewInt64(ctx, (int64_t)res.frames));
    JS_SetPropertyStr(ctx, ret, "keyframes", JS_NewInt64(ctx, (int64_t)res.keyframes));
    JS_SetPropertyStr(ctx, ret, "dropped", JS_NewInt64(ctx, (int64_t)res.dropped));
    JS_SetPropertyStr(ctx, ret, "duration", JS_NewFloat64(ctx, res.duration));
    JS_SetPropertyStr(ctx, ret, "size", JS_NewInt64(ctx, (int64_t)res.size));
    JS_SetPropertyStr(ctx, ret, "codec", JS_NewString(ctx, ro.codec == QCAM_CODEC_H264 ? "h264" : "h265"));
    JS_SetPropertyStr(ctx, ret, "width", JS_NewInt32(ctx, res.width));
    JS_SetPropertyStr(ctx, ret, "height", JS_NewInt32(ctx, res.height));
done:
    JS_FreeCString(ctx, in);
    JS_FreeCString(ctx, out);
    return ret;
}

static const JSCFunctionListEntry ts_funcs[] = {
    JS_CFUNC_DEF("remux", 2, js_remux),
};

static int ts_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_video_class_init(ctx) < 0) return -1;
    if (qcam_class_init(ctx, &ts_class, &ts_def, ts_proto, sizeof ts_proto / sizeof ts_proto[0], "close") < 0)
        return -1;
    qcam_link_provide_sink(ts_class, ts_sink_of);
    if (JS_SetModuleExportList(ctx, m, ts_funcs, 1) < 0) return -1;
    return qcam_export_class(ctx, m, "TsWriter", ts_class, ts_ctor, 2, JS_CFUNC_constructor);
}

JSModuleDef *qcam_mod_ts_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, ts_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "TsWriter");
    JS_AddModuleExportList(ctx, m, ts_funcs, 1);
    return m;
}
