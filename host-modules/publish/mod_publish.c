/* qcam:publish — the RtmpPublisher and RtspPublisher classes (one binding,
 * the publisher core tells them apart only by the session it speaks): options, pull-mode write(), the link
 * sink provider, stats, and state changes posted from the I/O thread to the
 * app's loop (onState). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../link/link_js.h"
#include "../modules.h"
#include "../video/video_js.h"
#include "publish.h"
#include "rtmp_proto.h"
#include "rtsp_push_proto.h"

/* The state reports: shared by the handle and the events in flight. */
typedef struct {
    qcam_app *app;
    JSValue on_state; /* owned while the JS object lives */
    bool alive;
    atomic_int refs;
} reports;

typedef struct {
    reports *rep;
    qcam_pub_state state;
    int err;
    char reason[128];
} report;

typedef struct {
    qcam_rtmp_publisher *p;
    qcam_resource res;
    reports *rep;
    qcam_rtmp_stats final; /* after close() */
    bool closed;
} pub_handle;

static JSClassID pub_class, rtsp_class;

/* The class of `obj` (RTSP or, for anything else, RTMP) and its name. */
static JSClassID class_of(JSValueConst obj, const char **name)
{
    bool rtsp = JS_GetClassID(obj) == rtsp_class;
    *name = rtsp ? "RtspPublisher" : "RtmpPublisher";
    return rtsp ? rtsp_class : pub_class;
}

static void reports_unref(reports *r)
{
    if (atomic_fetch_sub(&r->refs, 1) == 1) free(r);
}

static void report_run(void *app, void *data)
{
    (void)app;
    report *e = data;
    reports *r = e->rep;
    JSContext *ctx = qcam_app_context(r->app);
    if (r->alive && JS_IsFunction(ctx, r->on_state)) {
        JSValue args[2] = {JS_NewString(ctx, qcam_pub_state_name(e->state)),
                           e->err ? JS_NewString(ctx, e->reason) : JS_UNDEFINED};
        JSValue fn = JS_DupValue(ctx, r->on_state);
        JSValue v = JS_Call(ctx, fn, JS_UNDEFINED, 2, (JSValueConst *)args);
        JS_FreeValue(ctx, fn);
        JS_FreeValue(ctx, args[0]);
        JS_FreeValue(ctx, args[1]);
        if (JS_IsException(v)) qcam_app_uncaught(r->app);
        JS_FreeValue(ctx, v);
    }
    reports_unref(r);
    free(e);
}

static void report_discard(void *data)
{
    report *e = data;
    reports_unref(e->rep);
    free(e);
}

/* on the I/O thread */
static void on_state(void *opaque, qcam_pub_state state, int err, const char *reason)
{
    reports *r = opaque;
    if (state == QCAM_PUB_CLOSED) return; /* the app closed it: nothing to hear */
    report *e = calloc(1, sizeof *e);
    if (!e) return;
    e->rep = r;
    e->state = state;
    e->err = err;
    if (snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "") >= (int)sizeof e->reason) {
        /* cut */
    }
    atomic_fetch_add(&r->refs, 1);
    if (qcam_app_post(r->app, report_run, report_discard, e) != 0) report_discard(e);
}

/* ---- class ----------------------------------------------------------------------------- */

static void close_native(pub_handle *h)
{
    qcam_rtmp_publisher *p = h->p;
    h->p = NULL;
    qcam_rtmp_close(p, &h->final);
    h->closed = true;
    reports_unref(h->rep); /* the publisher's: its last report was posted before close returned */
}

static void release_res(qcam_resource *res)
{
    pub_handle *h = (pub_handle *)((char *)res - offsetof(pub_handle, res));
    close_native(h);
}

static void pub_finalizer(JSRuntime *rt, JSValue val)
{
    const char *name;
    pub_handle *h = JS_GetOpaque(val, class_of(val, &name));
    if (!h) return;
    if (h->p) {
        qcam_resource_remove(JS_GetRuntimeOpaque(rt), &h->res);
        close_native(h);
    }
    JS_FreeValueRT(rt, h->rep->on_state);
    h->rep->on_state = JS_UNDEFINED;
    h->rep->alive = false;
    reports_unref(h->rep);
    free(h);
}

static void pub_mark(JSRuntime *rt, JSValueConst val, JS_MarkFunc *mark)
{
    const char *name;
    pub_handle *h = JS_GetOpaque(val, class_of(val, &name));
    if (h) JS_MarkValue(rt, h->rep->on_state, mark);
}

static const JSClassDef pub_def = {"RtmpPublisher", .finalizer = pub_finalizer, .gc_mark = pub_mark};
static const JSClassDef rtsp_def = {"RtspPublisher", .finalizer = pub_finalizer, .gc_mark = pub_mark};

static pub_handle *pub_get(JSContext *ctx, JSValueConst obj)
{
    const char *name;
    JSClassID id = class_of(obj, &name);
    pub_handle *h = qcam_handle(ctx, obj, id, name);
    return h && !h->p ? qcam_closed(ctx, name) : h;
}

/* ---- options --------------------------------------------------------------------------- */

static int bad(JSContext *ctx, qcam_error_kind kind, const char *msg)
{
    qcam_throw(ctx, kind, "ERR_INVALID_ARG", "%s", msg);
    return -1;
}

static int codec_prop(JSContext *ctx, JSValueConst v, char *buf, size_t size)
{
    JSValue c = JS_GetPropertyStr(ctx, v, "codec");
    if (JS_IsException(c)) return -1;
    const char *s = JS_IsString(c) ? JS_ToCString(ctx, c) : NULL;
    snprintf(buf, size, "%s", s ? s : "");
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, c);
    return 0;
}

static bool native(JSValueConst v)
{
    JSClassID id = 0;
    return JS_GetAnyOpaque(v, &id) != NULL;
}

static int video_option(JSContext *ctx, JSValueConst v, qcam_rtmp_config *cfg, const char *who)
{
    char what[48];
    snprintf(what, sizeof what, "%s video", who);
    char msg[128];
    snprintf(msg, sizeof msg, "%s video must be an Encoder or {codec, width?, height?, fps?}", who);
    if (!JS_IsObject(v)) return bad(ctx, QCAM_TYPE_ERROR, msg);
    static const char *const keys[] = {"codec", "width", "height", "fps", NULL};
    if (!native(v) && qcam_opt_keys(ctx, v, what, keys)) return -1;
    char codec[16];
    if (codec_prop(ctx, v, codec, sizeof codec) < 0) return -1;
    cfg->video = !strcmp(codec, "h264") ? QCAM_CODEC_H264 : !strcmp(codec, "h265") ? QCAM_CODEC_H265 : 0;
    snprintf(msg, sizeof msg, "%s video codec must be \"h264\" or \"h265\"", who);
    if (!cfg->video) return bad(ctx, QCAM_TYPE_ERROR, msg);
    int fps = 0;
    if (qcam_opt_int(ctx, v, what, "width", 16, 8192, 1, "", 0, &cfg->width) < 0 ||
        qcam_opt_int(ctx, v, what, "height", 16, 8192, 1, "", 0, &cfg->height) < 0 ||
        qcam_opt_int(ctx, v, what, "fps", 1, 240, 1, "", 0, &fps) < 0)
        return -1;
    cfg->fps = fps;
    return 0;
}

static int audio_option(JSContext *ctx, JSValueConst v, qcam_rtmp_config *cfg, const char *who)
{
    char what[48], msg[128];
    snprintf(what, sizeof what, "%s audio", who);
    snprintf(msg, sizeof msg, "%s audio must be an AudioEncoder or {codec, sampleRate?}", who);
    if (!JS_IsObject(v)) return bad(ctx, QCAM_TYPE_ERROR, msg);
    static const char *const keys[] = {"codec", "sampleRate", NULL};
    if (!native(v) && qcam_opt_keys(ctx, v, what, keys)) return -1;
    char codec[16];
    if (codec_prop(ctx, v, codec, sizeof codec) < 0) return -1;
    cfg->audio = !strcmp(codec, "alaw") ? QCAM_CODEC_ALAW : !strcmp(codec, "ulaw") ? QCAM_CODEC_ULAW : 0;
    snprintf(msg, sizeof msg, "%s audio codec must be \"alaw\" or \"ulaw\"", who);
    if (!cfg->audio) return bad(ctx, QCAM_TYPE_ERROR, msg);
    int rate = 0;
    bool rtsp = !strcmp(who, "RtspPublisher");
    if (qcam_opt_int(ctx, v, what, "sampleRate", 8000, 8000, 1,
                     rtsp ? " (the RTSP publisher sends G.711 at 8 kHz only)" : " (FLV carries G.711 at 8 kHz only)", 8000,
                     &rate) < 0)
        return -1;
    return 0;
}

typedef struct {
    qcam_rtmp_config cfg;
    char url[2048];
    JSValue on_state;
} options;

static int parse_options(JSContext *ctx, JSValueConst opts, options *o, const char *who)
{
    char msg[96];
    static const char *const keys[] = {"video", "audio", "queueBytes", "maxBackoffMs", "connectTimeoutMs", "onState", NULL};
    if (qcam_opt_keys(ctx, opts, who, keys)) return -1;
    JSValue v;
    int r = qcam_opt_get(ctx, opts, "video", &v);
    if (r < 0) return -1;
    if (r > 0) r = video_option(ctx, v, &o->cfg, who);
    JS_FreeValue(ctx, v);
    if (r < 0) return -1;
    r = qcam_opt_get(ctx, opts, "audio", &v);
    if (r < 0) return -1;
    if (r > 0) r = audio_option(ctx, v, &o->cfg, who);
    JS_FreeValue(ctx, v);
    if (r < 0) return -1;
    snprintf(msg, sizeof msg, "%s needs a video or an audio track", who);
    if (!o->cfg.video && !o->cfg.audio) return bad(ctx, QCAM_TYPE_ERROR, msg);
    int kib = 0, backoff = 0, connect = 0;
    if (qcam_opt_int(ctx, opts, who, "queueBytes", 65536, 268435456, 1, "", 4 << 20, &kib) < 0 ||
        qcam_opt_int(ctx, opts, who, "maxBackoffMs", 500, 600000, 1, "", 8000, &backoff) < 0 ||
        qcam_opt_int(ctx, opts, who, "connectTimeoutMs", 100, 600000, 1, "", 5000, &connect) < 0)
        return -1;
    o->cfg.queue_bytes = (size_t)kib;
    o->cfg.max_backoff_ms = (unsigned)backoff;
    o->cfg.connect_timeout_ms = (unsigned)connect;
    r = qcam_opt_get(ctx, opts, "onState", &v);
    if (r < 0) return -1;
    if (r > 0 && !JS_IsFunction(ctx, v)) {
        JS_FreeValue(ctx, v);
        snprintf(msg, sizeof msg, "%s onState must be a function", who);
        return bad(ctx, QCAM_TYPE_ERROR, msg);
    }
    o->on_state = r > 0 ? v : JS_UNDEFINED;
    return 0;
}

static JSValue ctor_common(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv, bool rtsp)
{
    const char *who = rtsp ? "RtspPublisher" : "RtmpPublisher";
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new %s(url: string, options)", who);
    if (argc < 2 || !qcam_opt_is_object(ctx, argv[1]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new %s(url, {video?, audio?, ...})", who);
    options o = {.on_state = JS_UNDEFINED};
    const char *url = JS_ToCString(ctx, argv[0]);
    if (!url) return JS_EXCEPTION;
    bool long_url = strlen(url) >= sizeof o.url;
    snprintf(o.url, sizeof o.url, "%s", url);
    JS_FreeCString(ctx, url);
    if (long_url) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s url is too long", who);
    char masked[900];
    if (rtsp) {
        qcam_rtsp_push_url probe;
        int ur = qcam_rtsp_push_parse_url(o.url, &probe);
        memset(probe.pass, 0, sizeof probe.pass);
        if (ur == -ENOTSUP)
            return qcam_throw(ctx, QCAM_ERROR, "ERR_UNSUPPORTED", "rtsps:// (RTSP over TLS) is not supported; use rtsp://");
        if (ur < 0)
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                              "RtspPublisher url must be rtsp://[user[:pass]@]host[:port]/path");
        snprintf(masked, sizeof masked, "%s", probe.masked);
    } else {
        qcam_rtmp_url probe;
        int ur = qcam_rtmp_parse_url(o.url, &probe);
        if (ur == -ENOTSUP)
            return qcam_throw(ctx, QCAM_ERROR, "ERR_UNSUPPORTED", "rtmps:// (RTMP over TLS) is not supported; use rtmp://");
        if (ur < 0)
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                              "RtmpPublisher url must be rtmp://[user:pass@]host[:port]/app/stream[?query]");
        snprintf(masked, sizeof masked, "%s", probe.masked);
    }
    if (parse_options(ctx, argv[1], &o, who) < 0) {
        JS_FreeValue(ctx, o.on_state);
        return JS_EXCEPTION;
    }
    qcam_app *app = qcam_app_of(ctx);
    pub_handle *h = calloc(1, sizeof *h);
    reports *rep = calloc(1, sizeof *rep);
    if (!h || !rep) {
        free(h);
        free(rep);
        JS_FreeValue(ctx, o.on_state);
        return JS_ThrowOutOfMemory(ctx);
    }
    rep->app = app;
    rep->on_state = JS_UNDEFINED;
    atomic_store(&rep->refs, 1);
    h->rep = rep;
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, rtsp ? rtsp_class : pub_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        free(h);
        free(rep);
        JS_FreeValue(ctx, o.on_state);
        return obj;
    }
    o.cfg.url = o.url;
    o.cfg.on_state = on_state;
    o.cfg.opaque = rep;
    rep->on_state = o.on_state;
    rep->alive = true;
    atomic_fetch_add(&rep->refs, 1); /* the publisher's reports */
    int err = rtsp ? qcam_rtsp_push_open(&o.cfg, &h->p) : qcam_rtmp_open(&o.cfg, &h->p);
    memset(o.url, 0, sizeof o.url);
    if (err < 0) {
        reports_unref(rep);
        JS_SetOpaque(obj, h); /* the finalizer frees h, rep and the callback */
        JS_FreeValue(ctx, obj);
        return qcam_throw_errno(ctx, -err, "cannot start publishing to %s", masked);
    }
    h->res.kind = who;
    h->res.release = release_res;
    qcam_resource_add(app, &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue pub_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    return ctor_common(ctx, new_target, argc, argv, false);
}

static JSValue rtsp_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    return ctor_common(ctx, new_target, argc, argv, true);
}

static JSValue pub_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    pub_handle *h = pub_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (atomic_load(&qcam_rtmp_sink(h->p)->busy))
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this publisher is fed by a link; write() is for pull mode");
    qcam_packet *pkt = argc > 0 ? qcam_link_frame_packet(ctx, argv[0]) : NULL;
    if (!pkt) {
        if (argc == 0 || !JS_HasException(ctx))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "write(frame: Frame)");
        return JS_EXCEPTION;
    }
    if (qcam_rtmp_write(h->p, pkt) < 0) {
        static const char *const names[] = {"?", "h264", "h265", "alaw", "ulaw"};
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "this publisher has no track for %s frames",
                          pkt->codec <= QCAM_CODEC_ULAW ? names[pkt->codec] : "?");
    }
    return JS_UNDEFINED;
}

static JSValue stats_object(JSContext *ctx, const qcam_rtmp_stats *st)
{
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "state", JS_NewString(ctx, qcam_pub_state_name(st->state)));
    JS_SetPropertyStr(ctx, o, "url", JS_NewString(ctx, st->url));
    JS_SetPropertyStr(ctx, o, "bytes", JS_NewInt64(ctx, (int64_t)st->bytes_sent));
    JS_SetPropertyStr(ctx, o, "videoFrames", JS_NewInt64(ctx, (int64_t)st->video_sent));
    JS_SetPropertyStr(ctx, o, "audioFrames", JS_NewInt64(ctx, (int64_t)st->audio_sent));
    JS_SetPropertyStr(ctx, o, "dropped", JS_NewInt64(ctx, (int64_t)st->dropped));
    JS_SetPropertyStr(ctx, o, "connects", JS_NewInt64(ctx, (int64_t)st->connects));
    JS_SetPropertyStr(ctx, o, "reconnects", JS_NewInt64(ctx, (int64_t)st->reconnects));
    JS_SetPropertyStr(ctx, o, "queuedFrames", JS_NewInt64(ctx, (int64_t)st->queue_packets));
    JS_SetPropertyStr(ctx, o, "queuedBytes", JS_NewInt64(ctx, (int64_t)st->queue_bytes));
    JS_SetPropertyStr(ctx, o, "lastError", st->last_error ? JS_NewString(ctx, st->last_reason) : JS_NULL);
    return o;
}

static JSValue pub_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    pub_handle *h = pub_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_rtmp_stats st;
    qcam_rtmp_stats_get(h->p, &st);
    return stats_object(ctx, &st);
}

static JSValue pub_state(JSContext *ctx, JSValueConst this_val)
{
    const char *name;
    JSClassID id = class_of(this_val, &name);
    pub_handle *h = qcam_handle(ctx, this_val, id, name);
    if (!h) return JS_EXCEPTION;
    if (!h->p) return JS_NewString(ctx, "closed");
    qcam_rtmp_stats st;
    qcam_rtmp_stats_get(h->p, &st);
    return JS_NewString(ctx, qcam_pub_state_name(st.state));
}

static JSValue pub_url(JSContext *ctx, JSValueConst this_val)
{
    pub_handle *h = pub_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_rtmp_stats st;
    qcam_rtmp_stats_get(h->p, &st);
    return JS_NewString(ctx, st.url);
}

static JSValue pub_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    const char *name;
    JSClassID id = class_of(this_val, &name);
    if (qcam_handle_closing(ctx, this_val, id, name, &opaque) < 0) return JS_EXCEPTION;
    pub_handle *h = opaque;
    if (!h || !h->p) return JS_UNDEFINED;
    if (atomic_load(&qcam_rtmp_sink(h->p)->busy))
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link feeding this publisher first");
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    close_native(h);
    return stats_object(ctx, &h->final);
}

static const JSCFunctionListEntry pub_proto[] = {
    JS_CFUNC_DEF("write", 1, pub_write),
    JS_CFUNC_DEF("stats", 0, pub_stats),
    JS_CFUNC_DEF("close", 0, pub_close),
    JS_CGETSET_DEF("state", pub_state, NULL),
    JS_CGETSET_DEF("url", pub_url, NULL),
    JS_PROP_STRING_DEF("kind", "rtmp", JS_PROP_CONFIGURABLE),
};

static const JSCFunctionListEntry rtsp_proto_funcs[] = {
    JS_CFUNC_DEF("write", 1, pub_write),
    JS_CFUNC_DEF("stats", 0, pub_stats),
    JS_CFUNC_DEF("close", 0, pub_close),
    JS_CGETSET_DEF("state", pub_state, NULL),
    JS_CGETSET_DEF("url", pub_url, NULL),
    JS_PROP_STRING_DEF("kind", "rtsp", JS_PROP_CONFIGURABLE),
};

static qcam_sink *pub_sink_of(JSContext *ctx, JSValueConst obj)
{
    pub_handle *h = pub_get(ctx, obj);
    return h ? qcam_rtmp_sink(h->p) : NULL;
}

static int publish_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_video_class_init(ctx) < 0) return -1;
    if (qcam_class_init(ctx, &pub_class, &pub_def, pub_proto, sizeof pub_proto / sizeof pub_proto[0], "close") < 0)
        return -1;
    if (qcam_class_init(ctx, &rtsp_class, &rtsp_def, rtsp_proto_funcs, sizeof rtsp_proto_funcs / sizeof rtsp_proto_funcs[0],
                        "close") < 0)
        return -1;
    qcam_link_provide_sink(pub_class, pub_sink_of);
    qcam_link_provide_sink(rtsp_class, pub_sink_of);
    if (qcam_export_class(ctx, m, "RtmpPublisher", pub_class, pub_ctor, 2, JS_CFUNC_constructor) < 0) return -1;
    return qcam_export_class(ctx, m, "RtspPublisher", rtsp_class, rtsp_ctor, 2, JS_CFUNC_constructor);
}

JSModuleDef *qcam_mod_publish_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, publish_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "RtmpPublisher");
    JS_AddModuleExport(ctx, m, "RtspPublisher");
    return m;
}
