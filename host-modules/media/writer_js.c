/* The recording writers' class binding (writer_js.h). Each class lives in
 * its slot; the methods find it through their magic number (the slot), the
 * finalizer through the handle. And the containers' shared remux(). */
#include "writer_js.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../link/link_js.h"
#include "segmenter.h" /* qcam_segment_expand_path: the segment path patterns */
#include "../video/video_js.h"
#include "writer_events_js.h"

typedef struct {
    const qcam_writer_class *cls;
    qcam_sink *w;
    qcam_resource res;
    qcam_writer_events *ev; /* onSegment / onError / onFull */
} handle;

/* The slots: registered once, by each module's init (class ids are per
 * process; the class descriptions are constant). */
static const qcam_writer_class *classes[QCAM_WRITER_CLASSES];
static JSClassID class_ids[QCAM_WRITER_CLASSES];

/* ---- class ------------------------------------------------------------------------ */

static void release_res(qcam_resource *res)
{
    handle *h = (handle *)((char *)res - offsetof(handle, res));
    qcam_sink *w = h->w;
    h->w = NULL;
    h->cls->close(w, NULL);
}

static void finalizer(JSRuntime *rt, JSValue val)
{
    JSClassID id;
    handle *h = JS_GetAnyOpaque(val, &id);
    if (!h) return;
    if (h->w) {
        qcam_resource_remove(JS_GetRuntimeOpaque(rt), &h->res);
        release_res(&h->res);
    }
    qcam_writer_events_release(rt, h->ev);
    free(h);
}

static void mark(JSRuntime *rt, JSValueConst val, JS_MarkFunc *mark_fn)
{
    JSClassID id;
    handle *h = JS_GetAnyOpaque(val, &id);
    if (h) qcam_writer_events_mark(rt, h->ev, mark_fn);
}

static handle *get(JSContext *ctx, JSValueConst obj, int slot)
{
    const char *name = classes[slot]->name;
    handle *h = qcam_handle(ctx, obj, class_ids[slot], name);
    return h && !h->w ? qcam_closed(ctx, name) : h;
}

/* ---- options ------------------------------------------------------------------------- */

typedef struct {
    const qcam_writer_class *cls;
    qcam_writer_config cfg;
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

/* qcam_opt_keys for a nested option: "<Class> <what>" in its messages. */
static int nested_keys(JSContext *ctx, JSValueConst v, const options *o, const char *what, const char *const *keys)
{
    char label[64];
    snprintf(label, sizeof label, "%s %s", o->cls->name, what);
    return qcam_opt_keys(ctx, v, label, keys);
}

qcam_codec qcam_video_codec_of(const char *s)
{
    return !s ? 0 : !strcmp(s, "h264") ? QCAM_CODEC_H264 : !strcmp(s, "h265") ? QCAM_CODEC_H265 : 0;
}

static int parameter_sets(JSContext *ctx, JSValueConst ps, options *o)
{
    if (!JS_IsObject(ps)) return bad(ctx, QCAM_TYPE_ERROR, "video.parameterSets must be {vps?, sps, pps}");
    if (qcam_opt_keys(ctx, ps, "video.parameterSets", (const char *const[]){"vps", "sps", "pps", NULL})) return -1;
    static const char *const names[3] = {"vps", "sps", "pps"};
    const uint8_t **ptr[3] = {&o->cfg.vps, &o->cfg.sps, &o->cfg.pps};
    size_t *len[3] = {&o->cfg.vps_len, &o->cfg.sps_len, &o->cfg.pps_len};
    for (int i = 0; i < 3; i++) {
        JSValue b = JS_GetPropertyStr(ctx, ps, names[i]);
        if (JS_IsUndefined(b) && (i > 0 || o->cfg.video_codec == QCAM_CODEC_H264)) {
            if (i == 0) continue;
            return bad(ctx, QCAM_TYPE_ERROR, "video.parameterSets needs sps and pps (and vps for h265)");
        }
        size_t n = 0;
        uint8_t *p = JS_IsUndefined(b) ? NULL : JS_GetArrayBuffer(ctx, &n, b);
        if (!p || !n) {
            JS_FreeValue(ctx, b);
            JS_FreeValue(ctx, JS_GetException(ctx));
            return bad(ctx, QCAM_TYPE_ERROR, "video.parameterSets: each one an ArrayBuffer with a NAL unit");
        }
        *ptr[i] = p;
        *len[i] = n;
        o->ps[i] = b;
    }
    return 0;
}

static int video_option(JSContext *ctx, JSValueConst v, options *o)
{
    if (!JS_IsObject(v))
        return bad(ctx, QCAM_TYPE_ERROR, "video must be an Encoder or {codec, width, height, parameterSets?}");
    static const char *const keys[] = {"codec", "width", "height", "parameterSets", NULL};
    if (nested_keys(ctx, v, o, "video", keys)) return -1;
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
    o->cfg.video_codec = qcam_video_codec_of(cs);
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
    int r = JS_IsUndefined(ps) || JS_IsNull(ps) ? 0 : parameter_sets(ctx, ps, o);
    JS_FreeValue(ctx, ps);
    return r;
}

static int audio_option(JSContext *ctx, JSValueConst v, options *o)
{
    if (o->cls->no_audio) return bad(ctx, QCAM_TYPE_ERROR, o->cls->no_audio);
    if (!JS_IsObject(v)) return bad(ctx, QCAM_TYPE_ERROR, "audio must be {codec, sampleRate, channels?}");
    static const char *const keys[] = {"codec", "sampleRate", "channels", NULL};
    if (nested_keys(ctx, v, o, "audio", keys)) return -1;
    JSValue c = JS_GetPropertyStr(ctx, v, "codec");
    if (JS_IsException(c)) return -1;
    const char *cs = JS_IsString(c) ? JS_ToCString(ctx, c) : NULL;
    o->cfg.audio_codec = !cs ? 0 : !strcmp(cs, "alaw") ? QCAM_CODEC_ALAW : !strcmp(cs, "ulaw") ? QCAM_CODEC_ULAW : 0;
    JS_FreeCString(ctx, cs);
    JS_FreeValue(ctx, c);
    if (!o->cfg.audio_codec) return bad(ctx, QCAM_TYPE_ERROR, "audio.codec must be \"alaw\" or \"ulaw\"");
    double rate = -1, ch = 1;
    if (int_prop(ctx, v, "sampleRate", 8000, 16000, &rate, "audio.sampleRate must be 8000 or 16000") < 0) return -1;
    if (rate != 8000 && rate != 16000) return bad(ctx, rate < 0 ? QCAM_TYPE_ERROR : QCAM_RANGE_ERROR, "audio.sampleRate must be 8000 or 16000");
    if (int_prop(ctx, v, "channels", 1, 1, &ch, "audio.channels must be 1") < 0) return -1;
    o->cfg.sample_rate = (uint32_t)rate;
    o->cfg.channels = 1;
    return 0;
}

/* fragmentMs and finalize (MP4). */
static int fragment_options(JSContext *ctx, JSValueConst opts, options *o)
{
    double ms = 1000;
    if (int_prop(ctx, opts, "fragmentMs", 100, 10000, &ms, "fragmentMs must be an integer 100..10000") < 0)
        return -1;
    o->cfg.fragment_ms = (unsigned)ms;
    JSValue v = JS_GetPropertyStr(ctx, opts, "finalize");
    if (JS_IsException(v)) return -1;
    if (!JS_IsUndefined(v) && !JS_IsBool(v)) {
        JS_FreeValue(ctx, v);
        return bad(ctx, QCAM_TYPE_ERROR, "finalize must be a boolean");
    }
    o->cfg.finalize = JS_IsUndefined(v) || JS_ToBool(ctx, v);
    JS_FreeValue(ctx, v);
    return 0;
}

static int segment_option(JSContext *ctx, JSValueConst v, options *o)
{
    if (!JS_IsObject(v)) return bad(ctx, QCAM_TYPE_ERROR, "segment must be {seconds?, bytes?}");
    static const char *const keys[] = {"seconds", "bytes", NULL};
    if (nested_keys(ctx, v, o, "segment", keys)) return -1;
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

/* Option `name` handed to `parse` when present. */
static int nested(JSContext *ctx, JSValueConst opts, const char *name, options *o,
                  int (*parse)(JSContext *, JSValueConst, options *))
{
    JSValue v = JS_GetPropertyStr(ctx, opts, name);
    if (JS_IsException(v)) return -1;
    int r = JS_IsUndefined(v) ? 0 : parse(ctx, v, o);
    JS_FreeValue(ctx, v);
    return r;
}

/* The options in their declared order; the first bad one throws. */
static int parse_options(JSContext *ctx, JSValueConst opts, options *o)
{
    const qcam_writer_class *cls = o->cls;
    if (qcam_opt_keys(ctx, opts, cls->name, cls->keys)) return -1;
    if (nested(ctx, opts, "video", o, video_option) < 0 || nested(ctx, opts, "audio", o, audio_option) < 0) return -1;
    if (!o->cfg.video_codec && !o->cfg.audio_codec) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s needs a video %s", cls->name,
                   cls->no_audio ? "track" : "or an audio track");
        return -1;
    }
    if (cls->fragments && fragment_options(ctx, opts, o) < 0) return -1;
    if (nested(ctx, opts, "segment", o, segment_option) < 0) return -1;
    if (fn_option(ctx, opts, "onSegment", &o->on_segment) < 0 || fn_option(ctx, opts, "onError", &o->on_error) < 0 ||
        fn_option(ctx, opts, "onFull", &o->on_full) < 0)
        return -1;
    return 0;
}

/* ---- the constructor and methods ------------------------------------------------------- */

/* A handle with a writer open on `path`; NULL after throwing. */
static handle *open_writer(JSContext *ctx, const char *path, options *o)
{
    bool segmented = o->cfg.segment_seconds > 0 || o->cfg.segment_bytes > 0;
    char probe[512];
    if (segmented && qcam_segment_expand_path(path, 0, 0, probe, sizeof probe) < 0) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "path pattern: %%i, %%03i, %%Y %%m %%d %%H %%M %%S or %%%% only");
        return NULL;
    }
    qcam_app *app = qcam_app_of(ctx);
    handle *h = calloc(1, sizeof *h);
    if (h) h->ev = qcam_writer_events_new(app);
    if (!h || !h->ev) {
        free(h);
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    h->cls = o->cls;
    o->cfg.path = path;
    o->cfg.on_segment = qcam_writer_events_segment;
    o->cfg.on_error = qcam_writer_events_error;
    o->cfg.on_full = qcam_writer_events_full;
    o->cfg.opaque = h->ev;
    o->cfg.errors_handled = JS_IsFunction(ctx, o->on_error);
    const qcam_run_options *ro = qcam_app_options(app);
    qcam_fs_card *card = qcam_fs_card_open(ro->sdcard_dir, ro->sdcard_cap);
    int err = card ? o->cls->open(card, &o->cfg, &h->w) : -errno;
    if (err < 0) {
        if (card) qcam_fs_card_close(card);
        qcam_writer_events_release(JS_GetRuntime(ctx), h->ev);
        free(h);
        if (err == -EINVAL && o->cfg.sps)
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "video.parameterSets: not a usable SPS/PPS");
        else qcam_throw_errno(ctx, -err, "cannot open %s", path);
        return NULL;
    }
    qcam_writer_events_set(h->ev, o->on_segment, o->on_error, o->on_full);
    o->on_segment = o->on_error = o->on_full = JS_UNDEFINED;
    return h;
}

static JSValue ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv, int slot)
{
    const qcam_writer_class *cls = classes[slot];
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new %s(path: string, options)", cls->name);
    if (argc < 2 || !JS_IsObject(argv[1])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", cls->usage);
    options o = {.cls = cls, .on_segment = JS_UNDEFINED, .on_error = JS_UNDEFINED, .on_full = JS_UNDEFINED,
                 .ps = {JS_UNDEFINED, JS_UNDEFINED, JS_UNDEFINED}};
    const char *path = NULL;
    handle *h = NULL;
    if (parse_options(ctx, argv[1], &o) == 0 && (path = JS_ToCString(ctx, argv[0]))) h = open_writer(ctx, path, &o);
    JS_FreeCString(ctx, path);
    options_free(ctx, &o);
    if (!h) return JS_EXCEPTION;
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, class_ids[slot]);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        cls->close(h->w, NULL);
        qcam_writer_events_release(JS_GetRuntime(ctx), h->ev); /* events posted meanwhile hold their own reference */
        free(h);
        return obj;
    }
    h->res.kind = cls->name;
    h->res.release = release_res;
    qcam_resource_add(qcam_app_of(ctx), &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue write_error(JSContext *ctx, handle *h, int r)
{
    char path[512];
    h->cls->path(h->w, path, sizeof path);
    return qcam_throw_errno(ctx, -r, "cannot write %s", path);
}

static JSValue w_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int slot)
{
    handle *h = get(ctx, this_val, slot);
    if (!h) return JS_EXCEPTION;
    if (atomic_load(&h->w->busy))
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this writer is fed by a link; write() is for pull mode");
    qcam_packet *pkt = argc > 0 ? qcam_link_frame_packet(ctx, argv[0]) : NULL;
    if (!pkt) {
        if (argc == 0 || !JS_HasException(ctx))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "write(frame: Frame)");
        return JS_EXCEPTION;
    }
    int r = h->w->ops->write(h->w, pkt);
    if (r == -EINVAL) {
        static const char *const names[] = {"?", "h264", "h265", "alaw", "ulaw"};
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "this writer has no track for %s frames",
                          pkt->codec <= QCAM_CODEC_ULAW ? names[pkt->codec] : "?");
    }
    if (r < 0) return write_error(ctx, h, r);
    return JS_UNDEFINED;
}

static JSValue w_flush(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int slot)
{
    (void)argc; (void)argv;
    handle *h = get(ctx, this_val, slot);
    if (!h) return JS_EXCEPTION;
    int r = h->w->ops->flush(h->w);
    if (r < 0) return write_error(ctx, h, r);
    return JS_UNDEFINED;
}

static JSValue w_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int slot)
{
    (void)argc; (void)argv;
    handle *h = get(ctx, this_val, slot);
    return h ? h->cls->stats(ctx, h->w) : JS_EXCEPTION;
}

static JSValue w_path(JSContext *ctx, JSValueConst this_val, int slot)
{
    handle *h = get(ctx, this_val, slot);
    if (!h) return JS_EXCEPTION;
    char path[512];
    h->cls->path(h->w, path, sizeof path);
    return JS_NewString(ctx, path);
}

static JSValue w_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int slot)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, class_ids[slot], classes[slot]->name, &opaque) < 0) return JS_EXCEPTION;
    handle *h = opaque;
    if (!h || !h->w) return JS_UNDEFINED;
    if (atomic_load(&h->w->busy)) return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link feeding this writer first");
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    qcam_sink *w = h->w;
    qcam_segment_info info;
    int r = h->cls->close(w, &info);
    h->w = NULL;                      /* the handle stays until the finalizer */
    qcam_writer_events_drain(h->ev); /* what the app has not heard yet, before close() returns */
    if (r < 0) return qcam_throw_errno(ctx, -r, "cannot finish %s", info.path);
    return qcam_segment_object(ctx, &info);
}

#define WRITER_PROTO(slot, kind)                                                                                      \
    {                                                                                                                 \
        JS_CFUNC_MAGIC_DEF("stats", 0, w_stats, slot), JS_CFUNC_MAGIC_DEF("write", 1, w_write, slot),                 \
            JS_CFUNC_MAGIC_DEF("flush", 0, w_flush, slot), JS_CFUNC_MAGIC_DEF("close", 0, w_close, slot),             \
            JS_CGETSET_MAGIC_DEF("path", w_path, NULL, slot), JS_PROP_STRING_DEF("kind", kind, JS_PROP_CONFIGURABLE), \
    }

static const JSCFunctionListEntry protos[QCAM_WRITER_CLASSES][6] = {
    [QCAM_WRITER_MP4] = WRITER_PROTO(QCAM_WRITER_MP4, "mp4"),
    [QCAM_WRITER_TS] = WRITER_PROTO(QCAM_WRITER_TS, "ts"),
};

static qcam_sink *sink_of(JSContext *ctx, JSValueConst obj)
{
    JSClassID id = 0;
    JS_GetAnyOpaque(obj, &id);
    for (int slot = 0; slot < QCAM_WRITER_CLASSES; slot++) {
        if (classes[slot] && class_ids[slot] == id) {
            handle *h = get(ctx, obj, slot);
            return h ? h->w : NULL;
        }
    }
    return NULL;
}

int qcam_writer_class_init(JSContext *ctx, JSModuleDef *m, int slot, const qcam_writer_class *cls)
{
    static JSClassDef defs[QCAM_WRITER_CLASSES];
    classes[slot] = cls;
    defs[slot] = (JSClassDef){cls->name, .finalizer = finalizer, .gc_mark = mark};
    if (qcam_video_class_init(ctx) < 0) return -1;
    if (qcam_class_init(ctx, &class_ids[slot], &defs[slot], protos[slot], 6, "close") < 0) return -1;
    qcam_link_provide_sink(class_ids[slot], sink_of);
    JSValue fn = JS_NewCFunctionMagic(ctx, ctor, cls->name, 2, JS_CFUNC_constructor_magic, slot);
    JSValue proto = JS_GetClassProto(ctx, class_ids[slot]);
    JS_SetConstructor(ctx, fn, proto);
    JS_FreeValue(ctx, proto);
    return JS_SetModuleExport(ctx, m, cls->name, fn);
}

/* ---- remux(input, output, {fps, codec}) ------------------------------------------------- */

static qcam_codec codec_of_extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return 0;
    if (!strcmp(dot, ".h264") || !strcmp(dot, ".264") || !strcmp(dot, ".avc")) return QCAM_CODEC_H264;
    if (!strcmp(dot, ".h265") || !strcmp(dot, ".265") || !strcmp(dot, ".hevc")) return QCAM_CODEC_H265;
    return 0;
}

/* A path argument without NUL bytes; NULL after throwing. */
static const char *path_arg(JSContext *ctx, JSValueConst v, const char *usage)
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

static int remux_options(JSContext *ctx, JSValueConst o, qcam_remux_options *ro)
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
        if (!num) return bad(ctx, QCAM_TYPE_ERROR, "remux: fps must be a number (0 < fps <= 240)");
        if (!(d > 0 && d <= 240)) return bad(ctx, QCAM_RANGE_ERROR, "remux: fps must be a number (0 < fps <= 240)");
        ro->fps = d;
    }
    v = JS_GetPropertyStr(ctx, o, "codec");
    if (JS_IsException(v)) return -1;
    if (!JS_IsUndefined(v)) {
        const char *cs = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
        ro->codec = qcam_video_codec_of(cs);
        JS_FreeCString(ctx, cs);
        JS_FreeValue(ctx, v);
        if (!ro->codec) return bad(ctx, QCAM_TYPE_ERROR, "remux: codec must be \"h264\" or \"h265\"");
    }
    return 0;
}

JSValue qcam_remux_js(JSContext *ctx, int argc, JSValueConst *argv, qcam_remux_fn *remux)
{
    const char *usage = "remux(input: string, output: string, options?: {fps?: number, codec?: \"h264\" | \"h265\"})";
    if (argc < 2) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    qcam_remux_options ro = {.codec = 0, .fps = 30};
    if (argc > 2 && !JS_IsUndefined(argv[2])) {
        if (!JS_IsObject(argv[2])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
        if (remux_options(ctx, argv[2], &ro) < 0) return JS_EXCEPTION;
    }
    const char *in = path_arg(ctx, argv[0], usage);
    if (!in) return JS_EXCEPTION;
    const char *out = path_arg(ctx, argv[1], usage);
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
    qcam_remux_result res;
    const char *what = NULL;
    int r = remux(card, in, out, &ro, &res, &what);
    qcam_fs_card_close(card);
    if (r == -EBADMSG) {
        qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "%s in %s (not an %s elementary stream, or cut before its first picture)",
                   what ? what : "no keyframe with usable parameter sets", in, ro.codec == QCAM_CODEC_H264 ? "H.264" : "H.265");
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
