/* qcam:rtsp — RtspSource: glue over client.c. A link source of encoded
 * frames (link(src, sinks)) and a pull-mode reader of Frames. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../link/link_js.h"
#include "../video/video_js.h"
#include "client.h"
#include "source_js.h"

typedef struct {
    qcam_rtsp_client *cl; /* NULL once closed */
    qcam_resource res;
    bool linked;
    char url[1024];       /* masked */
} source_handle;

static JSClassID source_class;

static void source_shutdown(source_handle *h)
{
    if (!h->cl) return;
    qcam_rtsp_client_close(h->cl);
    h->cl = NULL;
}

static void source_release_res(qcam_resource *res)
{
    source_handle *h = (source_handle *)((char *)res - offsetof(source_handle, res));
    source_shutdown(h); /* links were stopped before */
}

static void source_finalizer(JSRuntime *rt, JSValue val)
{
    source_handle *h = JS_GetOpaque(val, source_class);
    if (!h) return;
    if (h->cl) qcam_resource_remove(JS_GetRuntimeOpaque(rt), &h->res);
    source_shutdown(h);
    free(h);
}

static const JSClassDef source_def = {"RtspSource", .finalizer = source_finalizer};

static source_handle *source_get(JSContext *ctx, JSValueConst obj)
{
    source_handle *h = qcam_handle(ctx, obj, source_class, "RtspSource");
    return h && !h->cl ? qcam_closed(ctx, "RtspSource") : h;
}

static int opt_uint(JSContext *ctx, JSValueConst o, const char *name, int def, int lo, int hi, unsigned *out)
{
    int v;
    if (qcam_opt_range(ctx, o, name, false, def, lo, hi, &v) < 0) return -1;
    *out = (unsigned)v;
    return 0;
}

static int opt_str(JSContext *ctx, JSValueConst o, const char *name, char *out, size_t cap)
{
    JSValue v = JS_GetPropertyStr(ctx, o, name);
    if (JS_IsException(v)) return -1;
    if (JS_IsUndefined(v)) return 0;
    if (!JS_IsString(v)) {
        JS_FreeValue(ctx, v);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `%s` must be a string", name);
        return -1;
    }
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, v);
    JS_FreeValue(ctx, v);
    if (!s) return -1;
    int r = 1;
    if (len >= cap || strlen(s) != len || strpbrk(s, "\r\n")) {
        qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "option `%s` must be at most %zu characters, no line breaks",
                   name, cap - 1);
        r = -1;
    } else {
        memcpy(out, s, len + 1);
    }
    JS_FreeCString(ctx, s);
    return r;
}

static JSValue source_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    static const char usage[] =
        "new RtspSource(url: string, options?: {transport, user, password, timeoutMs, stallTimeoutMs, reconnectMinMs, reconnectMaxMs, queue, audio})";
    if (argc < 1 || !JS_IsString(argv[0])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    JSValueConst o = argc > 1 ? argv[1] : JS_UNDEFINED;
    if (!JS_IsUndefined(o) && !qcam_opt_is_object(ctx, o))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    qcam_rtsp_client_config cfg = {.tcp = true, .audio = true};
    char transport[8] = "tcp", user[128] = "", password[128] = "";
    int has_user = 0, has_password = 0;
    if (!JS_IsUndefined(o)) {
        static const char *const keys[] = {"transport", "user", "password", "timeoutMs", "stallTimeoutMs",
                                           "reconnectMinMs", "reconnectMaxMs", "queue", "audio", NULL};
        if (qcam_opt_keys(ctx, o, "RtspSource", keys) < 0 || opt_str(ctx, o, "transport", transport, sizeof transport) < 0 ||
            (has_user = opt_str(ctx, o, "user", user, sizeof user)) < 0 ||
            (has_password = opt_str(ctx, o, "password", password, sizeof password)) < 0 ||
            opt_uint(ctx, o, "timeoutMs", 5000, 100, 600000, &cfg.timeout_ms) < 0 ||
            opt_uint(ctx, o, "stallTimeoutMs", 5000, 100, 600000, &cfg.stall_ms) < 0 ||
            opt_uint(ctx, o, "reconnectMinMs", 500, 10, 600000, &cfg.reconnect_min_ms) < 0 ||
            opt_uint(ctx, o, "reconnectMaxMs", 8000, 10, 600000, &cfg.reconnect_max_ms) < 0 ||
            opt_uint(ctx, o, "queue", 64, 1, 4096, &cfg.queue) < 0 ||
            qcam_opt_bool(ctx, o, "RtspSource", "audio", &cfg.audio) < 0)
            return JS_EXCEPTION;
        if (strcmp(transport, "tcp") && strcmp(transport, "udp"))
            return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "option `transport` must be \"tcp\" or \"udp\"");
        if (cfg.reconnect_max_ms < cfg.reconnect_min_ms)
            return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "option `reconnectMaxMs` must be at least reconnectMinMs");
    } else {
        cfg.timeout_ms = cfg.stall_ms = 5000;
        cfg.reconnect_min_ms = 500;
        cfg.reconnect_max_ms = 8000;
        cfg.queue = 64;
    }
    cfg.tcp = strcmp(transport, "udp") != 0;
    if (has_user > 0) cfg.user = user;
    if (has_password > 0) cfg.password = password;
    const char *url = JS_ToCString(ctx, argv[0]);
    if (!url) return JS_EXCEPTION;
    cfg.url = url;
    source_handle *h = calloc(1, sizeof *h);
    if (!h) {
        JS_FreeCString(ctx, url);
        return qcam_throw_errno(ctx, ENOMEM, "RtspSource");
    }
    char why[300];
    int err = qcam_rtsp_client_open(&cfg, &h->cl, why, sizeof why);
    JS_FreeCString(ctx, url);
    memset(password, 0, sizeof password);
    if (err < 0) {
        free(h);
        if (err == -EINVAL)
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                              "RtspSource: the URL must be rtsp://[user[:password]@]host[:port]/path");
        return qcam_throw_errno(ctx, -err, "RtspSource: %s", why);
    }
    qcam_rtsp_client_stats st;
    qcam_rtsp_client_stats_get(h->cl, &st);
    snprintf(h->url, sizeof h->url, "%s", st.url);
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, source_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        source_shutdown(h);
        free(h);
        return obj;
    }
    h->res.kind = "RtspSource";
    h->res.release = source_release_res;
    qcam_resource_add(qcam_app_of(ctx), &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static JSValue read_common(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, bool audio)
{
    source_handle *h = source_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (h->linked) return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "RtspSource is linked; read() is for pull mode");
    double ms = audio ? 0 : 1000;
    if (argc > 0 && !JS_IsUndefined(argv[0])) {
        if (JS_ToFloat64(ctx, &ms, argv[0]) < 0) return JS_EXCEPTION;
        if (!(ms >= 0 && ms <= 600000))
            return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "timeoutMs must be 0..600000");
    }
    qcam_packet *pkt = NULL;
    int r = audio ? qcam_rtsp_client_read_audio(h->cl, (int64_t)(ms * 1000), &pkt)
                  : qcam_rtsp_client_read(h->cl, (int64_t)(ms * 1000), &pkt);
    if (r == -ETIMEDOUT || r == -ENODATA || !pkt) return JS_NULL;
    return qcam_js_frame_new(ctx, pkt);
}

static JSValue source_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return read_common(ctx, this_val, argc, argv, false);
}

static JSValue source_read_audio(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return read_common(ctx, this_val, argc, argv, true);
}

static const char *errno_name(int err)
{
    switch (err) {
    case 0: return NULL;
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case EPROTO: return "EPROTO";
    case ECANCELED: return NULL;
    case ENOTSUP: return "ENOTSUP";
    case EPIPE: return "EPIPE";
    default: return "EIO";
    }
}

static JSValue source_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    source_handle *h = source_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_rtsp_client_stats st;
    qcam_rtsp_client_stats_get(h->cl, &st);
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "url", JS_NewString(ctx, st.url));
    JS_SetPropertyStr(ctx, o, "connected", JS_NewBool(ctx, st.connected));
    JS_SetPropertyStr(ctx, o, "transport", JS_NewString(ctx, st.tcp ? "tcp" : "udp"));
    JS_SetPropertyStr(ctx, o, "frames", JS_NewInt64(ctx, (int64_t)st.frames));
    JS_SetPropertyStr(ctx, o, "audioFrames", JS_NewInt64(ctx, (int64_t)st.audio_frames));
    JS_SetPropertyStr(ctx, o, "bytes", JS_NewInt64(ctx, (int64_t)st.bytes));
    JS_SetPropertyStr(ctx, o, "dropped", JS_NewInt64(ctx, (int64_t)st.dropped));
    JS_SetPropertyStr(ctx, o, "reconnects", JS_NewInt64(ctx, (int64_t)st.reconnects));
    JS_SetPropertyStr(ctx, o, "senderReports", JS_NewInt64(ctx, (int64_t)st.sender_reports));
    JS_SetPropertyStr(ctx, o, "cameraTimeMs", st.camera_time_us ? JS_NewFloat64(ctx, (double)st.camera_time_us / 1000) : JS_NULL);
    const char *e = errno_name(-st.last_error);
    JS_SetPropertyStr(ctx, o, "lastError", e ? JS_NewString(ctx, e) : JS_NULL);
    return o;
}

static JSValue params_object(JSContext *ctx, const qcam_rtsp_client_info *i)
{
    if (!i->sps_len || !i->pps_len) return JS_UNDEFINED;
    JSValue ps = JS_NewObject(ctx);
    if (i->video == QCAM_CODEC_H265 && i->vps_len)
        JS_SetPropertyStr(ctx, ps, "vps", JS_NewArrayBufferCopy(ctx, i->vps, i->vps_len));
    JS_SetPropertyStr(ctx, ps, "sps", JS_NewArrayBufferCopy(ctx, i->sps, i->sps_len));
    JS_SetPropertyStr(ctx, ps, "pps", JS_NewArrayBufferCopy(ctx, i->pps, i->pps_len));
    return ps;
}

enum { SRC_URL, SRC_CODEC, SRC_WIDTH, SRC_HEIGHT, SRC_VIDEO, SRC_AUDIO };

static JSValue source_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    source_handle *h = source_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (magic == SRC_URL) return JS_NewString(ctx, h->url);
    qcam_rtsp_client_info i;
    qcam_rtsp_client_get_info(h->cl, &i);
    const char *codec = i.video == QCAM_CODEC_H265 ? "h265" : "h264";
    switch (magic) {
    case SRC_CODEC: return JS_NewString(ctx, codec);
    case SRC_WIDTH: return JS_NewInt32(ctx, i.width);
    case SRC_HEIGHT: return JS_NewInt32(ctx, i.height);
    case SRC_VIDEO: {
        JSValue v = JS_NewObject(ctx);
        JS_SetPropertyStr(ctx, v, "codec", JS_NewString(ctx, codec));
        JS_SetPropertyStr(ctx, v, "width", JS_NewInt32(ctx, i.width));
        JS_SetPropertyStr(ctx, v, "height", JS_NewInt32(ctx, i.height));
        JSValue ps = params_object(ctx, &i);
        if (!JS_IsUndefined(ps)) JS_SetPropertyStr(ctx, v, "parameterSets", ps);
        return v;
    }
    default: {
        if (!i.audio) return JS_NULL;
        JSValue a = JS_NewObject(ctx);
        JS_SetPropertyStr(ctx, a, "codec", JS_NewString(ctx, i.audio == QCAM_CODEC_ALAW ? "alaw" : "ulaw"));
        JS_SetPropertyStr(ctx, a, "sampleRate", JS_NewInt32(ctx, (int32_t)i.audio_rate));
        return a;
    }
    }
}

static JSValue source_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, source_class, "RtspSource", &opaque) < 0) return JS_EXCEPTION;
    source_handle *h = opaque;
    if (!h || !h->cl) return JS_UNDEFINED;
    if (h->linked) return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link fed by this RtspSource first");
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    source_shutdown(h);
    return JS_UNDEFINED;
}

/* ---- link() -------------------------------------------------------------------------- */

static int link_read(void *ctx, int64_t timeout_us, qcam_packet **out)
{
    return qcam_rtsp_client_read(ctx, timeout_us, out);
}

static uint64_t link_dropped(void *ctx)
{
    return qcam_rtsp_client_dropped(ctx);
}

static int source_link(JSContext *ctx, JSValueConst obj, qcam_link_source *out)
{
    source_handle *h = source_get(ctx, obj);
    if (!h) return -1;
    if (h->linked) {
        qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this RtspSource already feeds a link");
        return -1;
    }
    h->linked = true;
    *out = (qcam_link_source){.ctx = h->cl, .read_packet = link_read, .dropped = link_dropped, .media = QCAM_LINK_VIDEO};
    return 0;
}

static void source_unlink(JSContext *ctx, JSValueConst obj)
{
    (void)ctx;
    source_handle *h = JS_GetOpaque(obj, source_class);
    if (h) h->linked = false;
}

static const JSCFunctionListEntry source_proto[] = {
    JS_CFUNC_DEF("read", 1, source_read),
    JS_CFUNC_DEF("readAudio", 1, source_read_audio),
    JS_CFUNC_DEF("stats", 0, source_stats),
    JS_CFUNC_DEF("close", 0, source_close),
    JS_CGETSET_MAGIC_DEF("url", source_getter, NULL, SRC_URL),
    JS_CGETSET_MAGIC_DEF("codec", source_getter, NULL, SRC_CODEC),
    JS_CGETSET_MAGIC_DEF("width", source_getter, NULL, SRC_WIDTH),
    JS_CGETSET_MAGIC_DEF("height", source_getter, NULL, SRC_HEIGHT),
    JS_CGETSET_MAGIC_DEF("video", source_getter, NULL, SRC_VIDEO),
    JS_CGETSET_MAGIC_DEF("audio", source_getter, NULL, SRC_AUDIO),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "RtspSource", JS_PROP_CONFIGURABLE),
};

int qcam_rtsp_source_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_class_init(ctx, &source_class, &source_def, source_proto, sizeof source_proto / sizeof source_proto[0],
                        "close") < 0)
        return -1;
    qcam_link_provide_source(source_class, source_link, source_unlink);
    return qcam_export_class(ctx, m, "RtspSource", source_class, source_ctor, 2, JS_CFUNC_constructor);
}
