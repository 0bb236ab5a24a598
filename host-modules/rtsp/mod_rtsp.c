/* qcam:rtsp — RtspServer and RtspStream: glue over server.c. The server runs
 * on its own thread; JavaScript is never involved per packet. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../runtime/qcam_host.h"
#include "../link/link_js.h"
#include "../modules.h"
#include "../video/video_js.h"
#include "server.h"
#include "source_js.h"

typedef struct stream_handle stream_handle;

typedef struct {
    qcam_rtsp_server *srv; /* NULL once closed */
    qcam_resource res;
    JSContext *ctx;
    JSValue self;          /* a running server is never garbage */
    stream_handle *streams;
    char host[64];
    int refs;              /* the JS object + each stream handle */
} server_handle;

struct stream_handle {
    qcam_rtsp_stream *st; /* NULL once closed (or its server closed) */
    server_handle *owner;
    stream_handle *next;
};

static JSClassID server_class, stream_class;

static void server_unref(server_handle *h)
{
    if (--h->refs == 0) free(h);
}

/* ---- stats --------------------------------------------------------------------- */

static JSValue latency_obj(JSContext *ctx, double p50, double p99)
{
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "p50", JS_NewFloat64(ctx, p50));
    JS_SetPropertyStr(ctx, o, "p99", JS_NewFloat64(ctx, p99));
    return o;
}

static JSValue stats_object(JSContext *ctx, const qcam_rtsp_server_stats *st)
{
    JSValue o = JS_NewObject(ctx);
    JSValue clients = JS_NewArray(ctx), streams = JS_NewArray(ctx);
    for (unsigned i = 0; i < st->n_clients; i++) {
        const qcam_rtsp_client_stats *c = &st->clients[i];
        JSValue x = JS_NewObject(ctx);
        JS_SetPropertyStr(ctx, x, "address", JS_NewString(ctx, c->address));
        JS_SetPropertyStr(ctx, x, "path", JS_NewString(ctx, c->path));
        JS_SetPropertyStr(ctx, x, "transport", JS_NewString(ctx, c->tcp ? "tcp" : "udp"));
        JS_SetPropertyStr(ctx, x, "state", JS_NewString(ctx, c->state));
        JS_SetPropertyStr(ctx, x, "framesSent", JS_NewInt64(ctx, (int64_t)c->frames));
        JS_SetPropertyStr(ctx, x, "bytesSent", JS_NewInt64(ctx, (int64_t)c->bytes));
        JS_SetPropertyStr(ctx, x, "drops", JS_NewInt64(ctx, (int64_t)c->drops));
        JS_SetPropertyStr(ctx, x, "queued", JS_NewInt32(ctx, (int32_t)c->queued));
        JS_SetPropertyUint32(ctx, clients, i, x);
    }
    for (unsigned i = 0; i < st->n_streams; i++) {
        const qcam_rtsp_stream_stats *s = &st->streams[i];
        JSValue x = JS_NewObject(ctx);
        JS_SetPropertyStr(ctx, x, "path", JS_NewString(ctx, s->path));
        JS_SetPropertyStr(ctx, x, "clients", JS_NewInt32(ctx, (int32_t)s->clients));
        JS_SetPropertyStr(ctx, x, "videoFrames", JS_NewInt64(ctx, (int64_t)s->video_frames));
        JS_SetPropertyStr(ctx, x, "audioFrames", JS_NewInt64(ctx, (int64_t)s->audio_frames));
        JS_SetPropertyStr(ctx, x, "bytesIn", JS_NewInt64(ctx, (int64_t)s->bytes));
        JS_SetPropertyStr(ctx, x, "latencyUs", latency_obj(ctx, s->latency_p50_us, s->latency_p99_us));
        JS_SetPropertyUint32(ctx, streams, i, x);
    }
    JS_SetPropertyStr(ctx, o, "clients", clients);
    JS_SetPropertyStr(ctx, o, "streams", streams);
    JS_SetPropertyStr(ctx, o, "sessions", JS_NewInt64(ctx, (int64_t)st->sessions));
    JS_SetPropertyStr(ctx, o, "rejected", JS_NewInt64(ctx, (int64_t)st->rejected));
    JS_SetPropertyStr(ctx, o, "droppedClients", JS_NewInt64(ctx, (int64_t)st->dropped_clients));
    JS_SetPropertyStr(ctx, o, "latencyUs", latency_obj(ctx, st->latency_p50_us, st->latency_p99_us));
    return o;
}

/* ---- options ------------------------------------------------------------------- */

static int opt_uint(JSContext *ctx, JSValueConst obj, const char *name, unsigned def, unsigned min,
                    unsigned max, unsigned *out)
{
    int v;
    if (qcam_opt_range(ctx, obj, name, false, (int)def, (int)min, (int)max, &v) < 0) return -1;
    *out = (unsigned)v;
    return 0;
}

/* A string option into out[cap]; absent: def. 0, or -1 after throwing. */
static int opt_string(JSContext *ctx, JSValueConst obj, const char *name, const char *def, char *out, size_t cap)
{
    JSValue v = JS_GetPropertyStr(ctx, obj, name);
    if (JS_IsException(v)) return -1;
    if (JS_IsUndefined(v)) {
        snprintf(out, cap, "%s", def);
        return 0;
    }
    if (!JS_IsString(v)) {
        JS_FreeValue(ctx, v);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `%s` must be a string", name);
        return -1;
    }
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, v);
    JS_FreeValue(ctx, v);
    if (!s) return -1;
    int r = 0;
    if (len >= cap || strlen(s) != len) {
        qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "option `%s` is too long (at most %zu characters)", name,
                   cap - 1);
        r = -1;
    } else {
        memcpy(out, s, len + 1);
    }
    JS_FreeCString(ctx, s);
    return r;
}

/* ---- RtspServer ------------------------------------------------------------------ */

/* Stop the server and close every stream handle. The caller checked that no
 * stream is linked (or the app is unloading, after its links). */
static void server_shutdown(server_handle *h, qcam_rtsp_server_stats *final)
{
    if (!h->srv) return;
    for (stream_handle *s = h->streams; s; s = s->next) s->st = NULL; /* freed by the stop */
    qcam_rtsp_server_stop(h->srv, final);
    h->srv = NULL;
    qcam_resource_remove(qcam_app_of(h->ctx), &h->res);
}

static void server_release_res(qcam_resource *res)
{
    server_handle *h = (server_handle *)((char *)res - offsetof(server_handle, res));
    server_shutdown(h, NULL);
    JSValue self = h->self;
    h->self = JS_UNDEFINED;
    JS_FreeValue(h->ctx, self); /* may finalize: h is not touched after */
}

static void server_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    server_handle *h = JS_GetOpaque(val, server_class);
    if (!h) return;
    /* Only reached once closed: a running server holds its own object. */
    server_shutdown(h, NULL);
    server_unref(h);
}

static const JSClassDef server_def = {"RtspServer", .finalizer = server_finalizer};

static server_handle *server_get(JSContext *ctx, JSValueConst obj)
{
    server_handle *h = qcam_handle(ctx, obj, server_class, "RtspServer");
    return h && !h->srv ? qcam_closed(ctx, "RtspServer") : h;
}

static JSValue server_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    JSValueConst o = argc > 0 ? argv[0] : JS_UNDEFINED;
    if (!JS_IsUndefined(o) && !JS_IsObject(o))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "new RtspServer(options?: {port, host, auth, maxClients, sessionTimeoutS})");
    qcam_rtsp_server_config cfg = {0};
    unsigned port = 8554, max_clients = 16, timeout = 60, stall = 10000;
    char host[64] = "0.0.0.0", user[128] = "", password[128] = "";
    if (JS_IsObject(o)) {
        static const char *const keys[] = {"port",           "host",           "auth", "maxClients",
                                           "sessionTimeoutS", "stallTimeoutMs", NULL};
        static const char *const auth_keys[] = {"user", "password", NULL};
        if (qcam_opt_keys(ctx, o, "RtspServer", keys) || opt_uint(ctx, o, "port", 8554, 0, 65535, &port) < 0 ||
            opt_string(ctx, o, "host", "0.0.0.0", host, sizeof host) < 0 ||
            opt_uint(ctx, o, "maxClients", 16, 1, 1024, &max_clients) < 0 ||
            opt_uint(ctx, o, "sessionTimeoutS", 60, 1, 86400, &timeout) < 0 ||
            opt_uint(ctx, o, "stallTimeoutMs", 10000, 100, 600000, &stall) < 0)
            return JS_EXCEPTION;
        JSValue a = JS_GetPropertyStr(ctx, o, "auth");
        if (JS_IsException(a)) return JS_EXCEPTION;
        if (!JS_IsUndefined(a)) {
            int r = 0;
            if (!JS_IsObject(a)) {
                qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `auth` must be {user, password}");
                r = -1;
            } else if (qcam_opt_keys(ctx, a, "RtspServer auth", auth_keys) ||
                       opt_string(ctx, a, "user", "", user, sizeof user) < 0 ||
                       opt_string(ctx, a, "password", "", password, sizeof password) < 0) {
                r = -1;
            } else if (!user[0]) {
                qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `auth.user` must be a non-empty string");
                r = -1;
            } else if (strpbrk(user, "\":\r\n") || strpbrk(password, "\"\r\n")) {
                qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "auth.user/password must not contain quotes, ':' (user) or line breaks");
                r = -1;
            }
            JS_FreeValue(ctx, a);
            if (r < 0) return JS_EXCEPTION;
        }
    }
    cfg.host = host;
    cfg.port = (int)port;
    cfg.user = user[0] ? user : NULL;
    cfg.password = password;
    cfg.max_clients = max_clients;
    cfg.session_timeout_s = timeout;
    cfg.stall_timeout_ms = stall;
    server_handle *h = calloc(1, sizeof *h);
    if (!h) return qcam_throw_errno(ctx, ENOMEM, "RtspServer");
    int err = qcam_rtsp_server_start(&cfg, &h->srv);
    if (err < 0) {
        free(h);
        if (err == -EINVAL)
            return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "option `host` must be a numeric IPv4 or IPv6 address, got \"%s\"", host);
        return qcam_throw_errno(ctx, -err, "RtspServer: cannot listen on %s:%u", host, port);
    }
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, server_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        qcam_rtsp_server_stop(h->srv, NULL);
        free(h);
        return obj;
    }
    snprintf(h->host, sizeof h->host, "%s", host);
    h->ctx = ctx;
    h->refs = 1;
    h->res.kind = "RtspServer";
    h->res.keeps_alive = true;
    h->res.release = server_release_res;
    qcam_resource_add(qcam_app_of(ctx), &h->res);
    JS_SetOpaque(obj, h);
    h->self = JS_DupValue(ctx, obj);
    return obj;
}

/* The address clients reach us at: the host given, or for a wildcard the
 * address of the interface the default route uses (no packet is sent). */
static void public_host(const server_handle *h, char *out, size_t cap)
{
    if (strcmp(h->host, "0.0.0.0") && strcmp(h->host, "::")) {
        snprintf(out, cap, strchr(h->host, ':') ? "[%s]" : "%s", h->host);
        return;
    }
    snprintf(out, cap, "127.0.0.1");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, "192.0.2.1", &a.sin_addr); /* TEST-NET-1: only the route matters */
    struct sockaddr_in me;
    socklen_t l = sizeof me;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&me, &l) == 0 &&
        me.sin_addr.s_addr != htonl(INADDR_ANY))
        inet_ntop(AF_INET, &me.sin_addr, out, (socklen_t)cap);
    close(fd);
}

static JSValue server_url(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    server_handle *h = server_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "url(path: string)");
    const char *p = JS_ToCString(ctx, argv[0]);
    if (!p) return JS_EXCEPTION;
    const char *q = p;
    while (*q == '/') q++;
    char host[80], buf[400];
    public_host(h, host, sizeof host);
    snprintf(buf, sizeof buf, "rtsp://%s:%d/%s", host, qcam_rtsp_server_port(h->srv), q);
    JS_FreeCString(ctx, p);
    return JS_NewString(ctx, buf);
}

static JSValue server_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    server_handle *h = server_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_rtsp_server_stats st;
    if (qcam_rtsp_server_stats_get(h->srv, &st) < 0) return qcam_throw_errno(ctx, ENOMEM, "stats");
    JSValue o = stats_object(ctx, &st);
    qcam_rtsp_stats_free(&st);
    return o;
}

static bool stream_linked(const stream_handle *s)
{
    return s->st && atomic_load(&qcam_rtsp_stream_sink(s->st)->busy);
}

static JSValue server_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, server_class, "RtspServer", &opaque) < 0) return JS_EXCEPTION;
    server_handle *h = opaque;
    if (!h || !h->srv) return JS_UNDEFINED;
    for (stream_handle *s = h->streams; s; s = s->next)
        if (stream_linked(s))
            return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link feeding %s first",
                              qcam_rtsp_stream_path(s->st));
    qcam_rtsp_server_stats st = {0};
    server_shutdown(h, &st);
    JSValue o = stats_object(ctx, &st);
    qcam_rtsp_stats_free(&st);
    JSValue self = h->self;
    h->self = JS_UNDEFINED;
    JS_FreeValue(ctx, self);
    return o;
}

enum { SRV_PORT, SRV_HOST };

static JSValue server_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    server_handle *h = server_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (magic == SRV_PORT) return JS_NewInt32(ctx, qcam_rtsp_server_port(h->srv));
    return JS_NewString(ctx, h->host);
}

/* ---- RtspStream --------------------------------------------------------------------- */

static void stream_unlink(stream_handle *s)
{
    if (!s->owner) return;
    for (stream_handle **pp = &s->owner->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    server_unref(s->owner);
    s->owner = NULL;
}

static void stream_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    stream_handle *s = JS_GetOpaque(val, stream_class);
    if (!s) return;
    if (s->st) qcam_rtsp_stream_remove(s->st);
    s->st = NULL;
    stream_unlink(s);
    free(s);
}

static const JSClassDef stream_def = {"RtspStream", .finalizer = stream_finalizer};

static stream_handle *stream_get(JSContext *ctx, JSValueConst obj)
{
    stream_handle *s = qcam_handle(ctx, obj, stream_class, "RtspStream");
    return s && !s->st ? qcam_closed(ctx, "RtspStream") : s;
}

static int parse_codec(JSContext *ctx, JSValueConst obj, const char *what, bool audio, qcam_codec *out)
{
    char name[16];
    if (opt_string(ctx, obj, "codec", "", name, sizeof name) < 0) return -1;
    if (!audio && !strcmp(name, "h264")) *out = QCAM_CODEC_H264;
    else if (!audio && !strcmp(name, "h265")) *out = QCAM_CODEC_H265;
    else if (audio && !strcmp(name, "alaw")) *out = QCAM_CODEC_ALAW;
    else if (audio && !strcmp(name, "ulaw")) *out = QCAM_CODEC_ULAW;
    else {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s.codec must be %s", what,
                   audio ? "\"alaw\" or \"ulaw\"" : "\"h264\" or \"h265\"");
        return -1;
    }
    return 0;
}

/* One parameter set from ParameterSets: an ArrayBuffer or a typed array; absent is fine. */
static int param_bytes(JSContext *ctx, JSValueConst ps, const char *name, JSValue *keep, const uint8_t **data,
                       size_t *len)
{
    *keep = JS_GetPropertyStr(ctx, ps, name);
    *data = NULL;
    *len = 0;
    if (JS_IsException(*keep)) return -1;
    if (JS_IsUndefined(*keep)) return 0;
    size_t n = 0;
    uint8_t *p = JS_GetArrayBuffer(ctx, &n, *keep);
    if (!p) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        size_t off = 0, bl = 0, per = 0;
        JSValue buf = JS_GetTypedArrayBuffer(ctx, *keep, &off, &bl, &per);
        if (!JS_IsException(buf)) {
            p = JS_GetArrayBuffer(ctx, &n, buf);
            JS_FreeValue(ctx, buf);
            if (p) {
                p += off;
                n = bl;
            }
        } else {
            JS_FreeValue(ctx, JS_GetException(ctx));
        }
    }
    if (!p || !n) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "parameterSets.%s must be a non-empty ArrayBuffer", name);
        return -1;
    }
    *data = p;
    *len = n;
    return 0;
}

static JSValue server_stream(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    server_handle *h = server_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (argc < 2 || !JS_IsString(argv[0]) || !JS_IsObject(argv[1]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "stream(path: string, {video: Encoder | {codec, parameterSets?}, audio?, fastStart?})");
    static const char *const keys[] = {"video", "audio", "fastStart", NULL};
    static const char *const video_keys[] = {"codec", "parameterSets", NULL};
    static const char *const audio_keys[] = {"codec", "sampleRate", NULL};
    static const char *const ps_keys[] = {"vps", "sps", "pps", NULL};
    JSValueConst o = argv[1];
    if (qcam_opt_keys(ctx, o, "stream", keys)) return JS_EXCEPTION;
    qcam_rtsp_stream_config cfg = {.fast_start = true};
    JSValue keep[3] = {JS_UNDEFINED, JS_UNDEFINED, JS_UNDEFINED};
    JSValue video = JS_GetPropertyStr(ctx, o, "video"), audio = JS_UNDEFINED, ps = JS_UNDEFINED;
    JSValue ret = JS_EXCEPTION;
    const char *path = NULL;
    if (JS_IsException(video)) return JS_EXCEPTION;
    if (!JS_IsObject(video)) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `video` must be an Encoder or {codec, parameterSets?}");
        goto out;
    }
    JSClassID id = 0;
    if (JS_GetAnyOpaque(video, &id) && id != 0) {
        qcam_encoder *enc = qcam_js_encoder(ctx, video);
        if (!enc) {
            JS_FreeValue(ctx, JS_GetException(ctx));
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `video` must be an open Encoder or {codec, parameterSets?}");
            goto out;
        }
        JSValue c = JS_GetPropertyStr(ctx, video, "codec");
        const char *cs = JS_ToCString(ctx, c);
        JS_FreeValue(ctx, c);
        if (!cs) goto out;
        cfg.video = !strcmp(cs, "h265") ? QCAM_CODEC_H265 : QCAM_CODEC_H264;
        JS_FreeCString(ctx, cs);
        cfg.encoder = enc;
    } else {
        if (qcam_opt_keys(ctx, video, "stream video", video_keys) ||
            parse_codec(ctx, video, "video", false, &cfg.video) < 0)
            goto out;
        ps = JS_GetPropertyStr(ctx, video, "parameterSets");
        if (JS_IsException(ps)) goto out;
        if (!JS_IsUndefined(ps)) {
            if (!JS_IsObject(ps)) {
                qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "video.parameterSets must be {vps?, sps, pps}");
                goto out;
            }
            if (qcam_opt_keys(ctx, ps, "video.parameterSets", ps_keys) ||
                param_bytes(ctx, ps, "vps", &keep[0], &cfg.vps, &cfg.vps_len) < 0 ||
                param_bytes(ctx, ps, "sps", &keep[1], &cfg.sps, &cfg.sps_len) < 0 ||
                param_bytes(ctx, ps, "pps", &keep[2], &cfg.pps, &cfg.pps_len) < 0)
                goto out;
            if (!cfg.sps || !cfg.pps || (cfg.video == QCAM_CODEC_H265 && !cfg.vps)) {
                qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "video.parameterSets needs sps and pps%s",
                           cfg.video == QCAM_CODEC_H265 ? " and vps" : "");
                goto out;
            }
        }
    }
    audio = JS_GetPropertyStr(ctx, o, "audio");
    if (JS_IsException(audio)) goto out;
    if (!JS_IsUndefined(audio)) {
        unsigned rate;
        if (!JS_IsObject(audio)) {
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `audio` must be {codec, sampleRate}");
            goto out;
        }
        if (qcam_opt_keys(ctx, audio, "stream audio", audio_keys) ||
            parse_codec(ctx, audio, "audio", true, &cfg.audio) < 0 ||
            opt_uint(ctx, audio, "sampleRate", 8000, 8000, 16000, &rate) < 0)
            goto out;
        if (rate != 8000 && rate != 16000) {
            qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "audio.sampleRate must be 8000 or 16000");
            goto out;
        }
        cfg.audio_rate = rate;
    }
    JSValue fs = JS_GetPropertyStr(ctx, o, "fastStart");
    if (JS_IsException(fs)) goto out;
    if (!JS_IsUndefined(fs)) {
        if (!JS_IsBool(fs)) {
            JS_FreeValue(ctx, fs);
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `fastStart` must be a boolean");
            goto out;
        }
        cfg.fast_start = JS_ToBool(ctx, fs);
    }
    path = JS_ToCString(ctx, argv[0]);
    if (!path) goto out;
    stream_handle *s = calloc(1, sizeof *s);
    if (!s) {
        qcam_throw_errno(ctx, ENOMEM, "stream");
        goto out;
    }
    if (cfg.encoder) qcam_encoder_ref(cfg.encoder);
    int err = qcam_rtsp_stream_add(h->srv, path, &cfg, &s->st);
    if (err < 0) {
        if (cfg.encoder) qcam_encoder_close(cfg.encoder);
        free(s);
        if (err == -EEXIST) qcam_throw(ctx, QCAM_ERROR, "ERR_EXISTS", "a stream \"%s\" exists already", path);
        else if (err == -EINVAL)
            qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG",
                       "bad stream path \"%s\" (1..126 characters, no spaces, '?', '#' or '%%')", path);
        else qcam_throw_errno(ctx, -err, "stream %s", path);
        goto out;
    }
    JSValue obj = JS_NewObjectClass(ctx, (int)stream_class);
    if (JS_IsException(obj)) {
        qcam_rtsp_stream_remove(s->st);
        free(s);
        goto out;
    }
    s->owner = h;
    h->refs++;
    s->next = h->streams;
    h->streams = s;
    JS_SetOpaque(obj, s);
    ret = obj;
out:
    if (path) JS_FreeCString(ctx, path);
    for (int i = 0; i < 3; i++) JS_FreeValue(ctx, keep[i]);
    JS_FreeValue(ctx, ps);
    JS_FreeValue(ctx, audio);
    JS_FreeValue(ctx, video);
    return ret;
}

static qcam_sink *stream_sink_of(JSContext *ctx, JSValueConst obj)
{
    stream_handle *s = stream_get(ctx, obj);
    return s ? qcam_rtsp_stream_sink(s->st) : NULL;
}

static JSValue stream_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    stream_handle *s = stream_get(ctx, this_val);
    if (!s) return JS_EXCEPTION;
    qcam_sink *sink = qcam_rtsp_stream_sink(s->st);
    if (atomic_load(&sink->busy))
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this stream is fed by a link; write() is for pull mode");
    qcam_packet *pkt = argc > 0 ? qcam_link_frame_packet(ctx, argv[0]) : NULL;
    if (!pkt) {
        if (argc == 0 || !JS_HasException(ctx))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "write(frame: Frame)");
        return JS_EXCEPTION;
    }
    int r = sink->ops->write(sink, pkt);
    if (r == -EINVAL)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "this stream has no track for that frame's codec");
    if (r < 0) return qcam_throw_errno(ctx, -r, "write %s", qcam_rtsp_stream_path(s->st));
    return JS_UNDEFINED;
}

static JSValue stream_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, stream_class, "RtspStream", &opaque) < 0) return JS_EXCEPTION;
    stream_handle *s = opaque;
    if (!s || !s->st) return JS_UNDEFINED;
    if (stream_linked(s)) return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link feeding this stream first");
    qcam_rtsp_stream_remove(s->st);
    s->st = NULL;
    return JS_UNDEFINED;
}

enum { ST_PATH, ST_URL };

static JSValue stream_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    stream_handle *s = stream_get(ctx, this_val);
    if (!s) return JS_EXCEPTION;
    if (magic == ST_PATH) return JS_NewString(ctx, qcam_rtsp_stream_path(s->st));
    char host[80], buf[400];
    public_host(s->owner, host, sizeof host);
    snprintf(buf, sizeof buf, "rtsp://%s:%d%s", host, qcam_rtsp_server_port(s->owner->srv), qcam_rtsp_stream_path(s->st));
    return JS_NewString(ctx, buf);
}

static const JSCFunctionListEntry server_proto[] = {
    JS_CFUNC_DEF("stream", 2, server_stream),
    JS_CFUNC_DEF("url", 1, server_url),
    JS_CFUNC_DEF("stats", 0, server_stats),
    JS_CFUNC_DEF("close", 0, server_close),
    JS_CGETSET_MAGIC_DEF("port", server_getter, NULL, SRV_PORT),
    JS_CGETSET_MAGIC_DEF("host", server_getter, NULL, SRV_HOST),
};

static const JSCFunctionListEntry stream_proto[] = {
    JS_CFUNC_DEF("write", 1, stream_write),
    JS_CFUNC_DEF("close", 0, stream_close),
    JS_CGETSET_MAGIC_DEF("path", stream_getter, NULL, ST_PATH),
    JS_CGETSET_MAGIC_DEF("url", stream_getter, NULL, ST_URL),
    JS_PROP_STRING_DEF("kind", "rtsp", JS_PROP_CONFIGURABLE),
};

static JSValue stream_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    (void)new_target; (void)argc; (void)argv;
    return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_ILLEGAL_CONSTRUCTOR", "RtspStream: use server.stream(path, options)");
}

static int rtsp_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_video_class_init(ctx) < 0) return -1;
    if (qcam_class_init(ctx, &server_class, &server_def, server_proto, sizeof server_proto / sizeof server_proto[0],
                        "close") < 0 ||
        qcam_class_init(ctx, &stream_class, &stream_def, stream_proto, sizeof stream_proto / sizeof stream_proto[0],
                        "close") < 0)
        return -1;
    qcam_link_provide_sink(stream_class, stream_sink_of);
    qcam_export_class(ctx, m, "RtspServer", server_class, server_ctor, 1, JS_CFUNC_constructor);
    qcam_export_class(ctx, m, "RtspStream", stream_class, stream_ctor, 0, JS_CFUNC_constructor);
    return qcam_rtsp_source_init(ctx, m) < 0 ? -1 : 0;
}

JSModuleDef *qcam_mod_rtsp_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, rtsp_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "RtspServer");
    JS_AddModuleExport(ctx, m, "RtspStream");
    JS_AddModuleExport(ctx, m, "RtspSource");
    return m;
}
