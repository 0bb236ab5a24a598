/* qcam:mqtt — the MqttClient class: options, publish/subscribe, stats, and
 * what the I/O thread hears (state changes, messages) posted to the app's
 * loop (onState, onMessage). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../modules.h"
#include "mqtt.h"
#include "mqtt_proto.h"

#define MAX_PENDING 1024 /* messages waiting for the loop; more are dropped (counted) */

typedef struct {
    qcam_app *app;
    JSValue on_state, on_message; /* owned while the JS object lives */
    bool alive;
    atomic_int refs;
    atomic_int pending;
    atomic_uint_fast64_t dropped_in;
} reports;

typedef struct {
    reports *rep;
    bool is_message;
    qcam_mqtt_state state;
    int err;
    char reason[128];
    char *topic;
    uint8_t *payload;
    size_t len;
    int qos;
    bool retain;
} event;

typedef struct {
    qcam_mqtt_client *c;
    qcam_resource res;
    reports *rep;
    qcam_mqtt_stats final;
} mqtt_handle;

static JSClassID mqtt_class;

static void reports_unref(reports *r)
{
    if (atomic_fetch_sub(&r->refs, 1) == 1) free(r);
}

static void event_free(event *e)
{
    if (e->is_message) atomic_fetch_sub(&e->rep->pending, 1);
    reports_unref(e->rep);
    free(e->topic);
    free(e->payload);
    free(e);
}

static void event_run(void *app, void *data)
{
    (void)app;
    event *e = data;
    reports *r = e->rep;
    JSContext *ctx = qcam_app_context(r->app);
    JSValue fn = e->is_message ? r->on_message : r->on_state;
    if (r->alive && JS_IsFunction(ctx, fn)) {
        JSValue args[2];
        int argc;
        if (e->is_message) {
            JSValue m = JS_NewObject(ctx);
            JS_SetPropertyStr(ctx, m, "topic", JS_NewString(ctx, e->topic));
            JS_SetPropertyStr(ctx, m, "payload", JS_NewStringLen(ctx, (const char *)e->payload, e->len));
            JS_SetPropertyStr(ctx, m, "data", JS_NewArrayBufferCopy(ctx, e->payload, e->len));
            JS_SetPropertyStr(ctx, m, "qos", JS_NewInt32(ctx, e->qos));
            JS_SetPropertyStr(ctx, m, "retain", JS_NewBool(ctx, e->retain));
            args[0] = m;
            args[1] = JS_UNDEFINED;
            argc = 1;
        } else {
            args[0] = JS_NewString(ctx, qcam_mqtt_state_name(e->state));
            args[1] = e->err ? JS_NewString(ctx, e->reason) : JS_UNDEFINED;
            argc = 2;
        }
        fn = JS_DupValue(ctx, fn);
        JSValue v = JS_Call(ctx, fn, JS_UNDEFINED, argc, (JSValueConst *)args);
        JS_FreeValue(ctx, fn);
        JS_FreeValue(ctx, args[0]);
        JS_FreeValue(ctx, args[1]);
        if (JS_IsException(v)) qcam_app_uncaught(r->app);
        JS_FreeValue(ctx, v);
    }
    event_free(e);
}

static void event_discard(void *data) { event_free(data); }

static void post(reports *r, event *e)
{
    e->rep = r;
    atomic_fetch_add(&r->refs, 1);
    if (qcam_app_post(r->app, event_run, event_discard, e) != 0) event_free(e);
}

/* on the I/O thread */
static void on_state(void *opaque, qcam_mqtt_state state, int err, const char *reason)
{
    if (state == QCAM_MQTT_CLOSED) return; /* the app closed it: nothing to hear */
    event *e = calloc(1, sizeof *e);
    if (!e) return;
    e->state = state;
    e->err = err;
    if (snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "") >= (int)sizeof e->reason) {
        /* cut */
    }
    post(opaque, e);
}

static void on_message(void *opaque, const char *topic, size_t topic_len, const uint8_t *payload, size_t len, int qos,
                       bool retain)
{
    reports *r = opaque;
    if (atomic_fetch_add(&r->pending, 1) >= MAX_PENDING) {
        atomic_fetch_sub(&r->pending, 1);
        atomic_fetch_add(&r->dropped_in, 1);
        return;
    }
    event *e = calloc(1, sizeof *e);
    if (e) {
        e->topic = malloc(topic_len + 1);
        e->payload = malloc(len ? len : 1);
    }
    if (!e || !e->topic || !e->payload) {
        if (e) {
            free(e->topic);
            free(e->payload);
            free(e);
        }
        atomic_fetch_sub(&r->pending, 1);
        atomic_fetch_add(&r->dropped_in, 1);
        return;
    }
    e->is_message = true;
    memcpy(e->topic, topic, topic_len);
    e->topic[topic_len] = 0;
    if (len) memcpy(e->payload, payload, len);
    e->len = len;
    e->qos = qos;
    e->retain = retain;
    post(r, e);
}

/* ---- class ------------------------------------------------------------------------------- */

static void close_native(mqtt_handle *h)
{
    qcam_mqtt_client *c = h->c;
    h->c = NULL;
    qcam_mqtt_close(c, &h->final);
    reports_unref(h->rep); /* the client's */
}

static void release_res(qcam_resource *res)
{
    close_native((mqtt_handle *)((char *)res - offsetof(mqtt_handle, res)));
}

static void mqtt_finalizer(JSRuntime *rt, JSValue val)
{
    mqtt_handle *h = JS_GetOpaque(val, mqtt_class);
    if (!h) return;
    if (h->c) {
        qcam_resource_remove(JS_GetRuntimeOpaque(rt), &h->res);
        close_native(h);
    }
    JS_FreeValueRT(rt, h->rep->on_state);
    JS_FreeValueRT(rt, h->rep->on_message);
    h->rep->on_state = h->rep->on_message = JS_UNDEFINED;
    h->rep->alive = false;
    reports_unref(h->rep);
    free(h);
}

static void mqtt_mark(JSRuntime *rt, JSValueConst val, JS_MarkFunc *mark)
{
    mqtt_handle *h = JS_GetOpaque(val, mqtt_class);
    if (!h) return;
    JS_MarkValue(rt, h->rep->on_state, mark);
    JS_MarkValue(rt, h->rep->on_message, mark);
}

static const JSClassDef mqtt_def = {"MqttClient", .finalizer = mqtt_finalizer, .gc_mark = mqtt_mark};

static mqtt_handle *mqtt_get(JSContext *ctx, JSValueConst obj)
{
    mqtt_handle *h = qcam_handle(ctx, obj, mqtt_class, "MqttClient");
    return h && !h->c ? qcam_closed(ctx, "MqttClient") : h;
}

/* ---- options ----------------------------------------------------------------------------- */

static int bad(JSContext *ctx, qcam_error_kind kind, const char *msg)
{
    qcam_throw(ctx, kind, "ERR_INVALID_ARG", "%s", msg);
    return -1;
}

/* A string or bytes (ArrayBuffer, typed array, DataView) as a malloc'd copy. */
static int bytes_of(JSContext *ctx, JSValueConst v, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (JS_IsString(v)) {
        size_t n;
        const char *s = JS_ToCStringLen(ctx, &n, v);
        if (!s) return -1;
        *out = malloc(n ? n : 1);
        if (*out) memcpy(*out, s, n);
        *len = n;
        JS_FreeCString(ctx, s);
        return *out ? 0 : (JS_ThrowOutOfMemory(ctx), -1);
    }
    size_t n = 0;
    uint8_t *p = JS_IsObject(v) ? JS_GetArrayBuffer(ctx, &n, v) : NULL;
    if (!p && JS_IsObject(v)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        size_t off = 0, bpe = 0;
        JSValue ab = JS_GetTypedArrayBuffer(ctx, v, &off, &n, &bpe);
        if (JS_IsException(ab)) {
            JS_FreeValue(ctx, JS_GetException(ctx));
        } else {
            size_t total = 0;
            uint8_t *base = JS_GetArrayBuffer(ctx, &total, ab);
            JS_FreeValue(ctx, ab);
            if (base && off + n <= total) p = base + off;
            else JS_FreeValue(ctx, JS_GetException(ctx));
        }
    }
    if (!p && n == 0 && JS_IsObject(v)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return 1; /* not bytes */
    }
    if (!p) return 1;
    *out = malloc(n ? n : 1);
    if (!*out) return JS_ThrowOutOfMemory(ctx), -1;
    if (n) memcpy(*out, p, n);
    *len = n;
    return 0;
}

typedef struct {
    qcam_mqtt_config cfg;
    char url[1024], client_id[64], user[256], pass[256], will_topic[1024];
    uint8_t *will_payload;
    JSValue on_state, on_message;
} options;

static void options_free(JSContext *ctx, options *o)
{
    free(o->will_payload);
    JS_FreeValue(ctx, o->on_state);
    JS_FreeValue(ctx, o->on_message);
}

static int fn_opt(JSContext *ctx, JSValueConst opts, const char *name, JSValue *out)
{
    JSValue v;
    int r = qcam_opt_get(ctx, opts, name, &v);
    if (r < 0) return -1;
    if (r > 0 && !JS_IsFunction(ctx, v)) {
        JS_FreeValue(ctx, v);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "MqttClient %s must be a function", name);
        return -1;
    }
    *out = r > 0 ? v : JS_UNDEFINED;
    return 0;
}

static int will_option(JSContext *ctx, JSValueConst w, options *o)
{
    if (!qcam_opt_is_object(ctx, w)) return bad(ctx, QCAM_TYPE_ERROR, "MqttClient will must be {topic, payload, qos?, retain?}");
    static const char *const keys[] = {"topic", "payload", "qos", "retain", NULL};
    if (qcam_opt_keys(ctx, w, "MqttClient will", keys)) return -1;
    int r = qcam_opt_string(ctx, w, "MqttClient will", "topic", "a topic name", o->will_topic, sizeof o->will_topic);
    if (r < 0) return -1;
    if (r == 0 || !qcam_mqtt_topic_ok(o->will_topic, strlen(o->will_topic)))
        return bad(ctx, QCAM_TYPE_ERROR, "MqttClient will topic must be a topic name without + or #");
    JSValue p;
    r = qcam_opt_get(ctx, w, "payload", &p);
    if (r < 0) return -1;
    int b = r > 0 ? bytes_of(ctx, p, &o->will_payload, &o->cfg.will_len) : 1;
    JS_FreeValue(ctx, p);
    if (b < 0) return -1;
    if (b > 0) return bad(ctx, QCAM_TYPE_ERROR, "MqttClient will payload must be a string or bytes");
    int qos = 0;
    bool retain = false;
    if (qcam_opt_int(ctx, w, "MqttClient will", "qos", 0, 1, 1, "", 0, &qos) < 0 ||
        qcam_opt_bool(ctx, w, "MqttClient will", "retain", &retain) < 0)
        return -1;
    o->cfg.will_topic = o->will_topic;
    o->cfg.will_payload = o->will_payload;
    o->cfg.will_qos = qos;
    o->cfg.will_retain = retain;
    return 0;
}

static int parse_options(JSContext *ctx, JSValueConst opts, options *o)
{
    static const char *const keys[] = {"clientId", "username", "password", "keepaliveS", "cleanSession", "will",
                                       "queueBytes", "maxBackoffMs", "connectTimeoutMs", "onMessage", "onState", NULL};
    if (qcam_opt_keys(ctx, opts, "MqttClient", keys)) return -1;
    int r = qcam_opt_string(ctx, opts, "MqttClient", "clientId", "a string of 1..23 letters and digits (or up to 63 bytes)",
                            o->client_id, sizeof o->client_id);
    if (r < 0) return -1;
    if (r > 0) o->cfg.client_id = o->client_id;
    if ((r = qcam_opt_string(ctx, opts, "MqttClient", "username", "a string", o->user, sizeof o->user)) < 0) return -1;
    if (r > 0) o->cfg.user = o->user;
    JSValue v;
    r = qcam_opt_get(ctx, opts, "password", &v); /* may be "" */
    if (r < 0) return -1;
    if (r > 0) {
        const char *s = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
        bool ok = s && strlen(s) < sizeof o->pass;
        if (ok) snprintf(o->pass, sizeof o->pass, "%s", s);
        JS_FreeCString(ctx, s);
        JS_FreeValue(ctx, v);
        if (!ok) return bad(ctx, QCAM_TYPE_ERROR, "MqttClient password must be a string (at most 255 bytes)");
        o->cfg.pass = o->pass;
    }
    int ka = 30, qb = 1 << 20, backoff = 8000, connect = 5000;
    bool clean = true;
    if (qcam_opt_int(ctx, opts, "MqttClient", "keepaliveS", 1, 65535, 1, "", 30, &ka) < 0 ||
        qcam_opt_bool(ctx, opts, "MqttClient", "cleanSession", &clean) < 0)
        return -1;
    r = qcam_opt_get(ctx, opts, "will", &v);
    if (r < 0) return -1;
    if (r > 0) r = will_option(ctx, v, o);
    JS_FreeValue(ctx, v);
    if (r < 0) return -1;
    if (qcam_opt_int(ctx, opts, "MqttClient", "queueBytes", 4096, 268435456, 1, "", 1 << 20, &qb) < 0 ||
        qcam_opt_int(ctx, opts, "MqttClient", "maxBackoffMs", 500, 600000, 1, "", 8000, &backoff) < 0 ||
        qcam_opt_int(ctx, opts, "MqttClient", "connectTimeoutMs", 100, 600000, 1, "", 5000, &connect) < 0)
        return -1;
    if (fn_opt(ctx, opts, "onMessage", &o->on_message) < 0 || fn_opt(ctx, opts, "onState", &o->on_state) < 0) return -1;
    o->cfg.keepalive_s = (unsigned)ka;
    o->cfg.clean_session = clean;
    o->cfg.queue_bytes = (size_t)qb;
    o->cfg.max_backoff_ms = (unsigned)backoff;
    o->cfg.connect_timeout_ms = (unsigned)connect;
    return 0;
}

static JSValue mqtt_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new MqttClient(url: string, options?)");
    if (argc >= 2 && !JS_IsUndefined(argv[1]) && !qcam_opt_is_object(ctx, argv[1]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new MqttClient(url, {clientId?, will?, onMessage?, ...})");
    options o = {.on_state = JS_UNDEFINED, .on_message = JS_UNDEFINED};
    const char *url = JS_ToCString(ctx, argv[0]);
    if (!url) return JS_EXCEPTION;
    bool too_long = strlen(url) >= sizeof o.url;
    snprintf(o.url, sizeof o.url, "%s", url);
    JS_FreeCString(ctx, url);
    qcam_mqtt_url probe;
    int ur = too_long ? -EINVAL : qcam_mqtt_parse_url(o.url, &probe);
    if (ur == -ENOTSUP)
        return qcam_throw(ctx, QCAM_ERROR, "ERR_UNSUPPORTED", "mqtts:// (MQTT over TLS) is not supported; use mqtt://");
    if (ur < 0) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "MqttClient url must be mqtt://[user[:pass]@]host[:port]");
    if (argc >= 2 && !JS_IsUndefined(argv[1]) && parse_options(ctx, argv[1], &o) < 0) {
        options_free(ctx, &o);
        return JS_EXCEPTION;
    }
    if (!o.cfg.keepalive_s) { /* no options object */
        o.cfg.keepalive_s = 30;
        o.cfg.clean_session = true;
    }
    mqtt_handle *h = calloc(1, sizeof *h);
    reports *rep = calloc(1, sizeof *rep);
    if (!h || !rep) {
        free(h);
        free(rep);
        options_free(ctx, &o);
        return JS_ThrowOutOfMemory(ctx);
    }
    rep->app = qcam_app_of(ctx);
    rep->on_state = rep->on_message = JS_UNDEFINED;
    atomic_store(&rep->refs, 1);
    h->rep = rep;
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, mqtt_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        free(h);
        free(rep);
        options_free(ctx, &o);
        return obj;
    }
    rep->on_state = o.on_state;
    rep->on_message = o.on_message;
    o.on_state = o.on_message = JS_UNDEFINED;
    rep->alive = true;
    o.cfg.url = o.url;
    o.cfg.on_state = on_state;
    o.cfg.on_message = on_message;
    o.cfg.opaque = rep;
    atomic_fetch_add(&rep->refs, 1); /* the client's */
    int err = qcam_mqtt_open(&o.cfg, &h->c);
    options_free(ctx, &o);
    if (err < 0) {
        reports_unref(rep);
        JS_SetOpaque(obj, h);
        JS_FreeValue(ctx, obj);
        if (err == -EINVAL) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "MqttClient: bad options");
        return qcam_throw_errno(ctx, -err, "cannot start the MQTT client for %s", probe.masked);
    }
    h->res.kind = "MqttClient";
    h->res.release = release_res;
    qcam_resource_add(rep->app, &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

/* ---- methods ------------------------------------------------------------------------------- */

static int qos_retain(JSContext *ctx, int argc, JSValueConst *argv, int at, const char *what, int *qos, bool *retain)
{
    *qos = 0;
    if (retain) *retain = false;
    if (argc <= at || JS_IsUndefined(argv[at])) return 0;
    if (!qcam_opt_is_object(ctx, argv[at])) return bad(ctx, QCAM_TYPE_ERROR, retain ? "publish options must be {qos?, retain?}" : "subscribe options must be {qos?}");
    static const char *const kp[] = {"qos", "retain", NULL}, *const ks[] = {"qos", NULL};
    if (qcam_opt_keys(ctx, argv[at], what, retain ? kp : ks)) return -1;
    if (qcam_opt_int(ctx, argv[at], what, "qos", 0, 1, 1, "", 0, qos) < 0) return -1;
    if (retain && qcam_opt_bool(ctx, argv[at], what, "retain", retain) < 0) return -1;
    return 0;
}

static JSValue mqtt_publish(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    mqtt_handle *h = mqtt_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (argc < 2 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "publish(topic: string, payload: string | bytes, {qos?, retain?}?)");
    size_t tl;
    const char *topic = JS_ToCStringLen(ctx, &tl, argv[0]);
    if (!topic) return JS_EXCEPTION;
    bool ok = tl == strlen(topic) && qcam_mqtt_topic_ok(topic, tl);
    if (!ok) {
        JS_FreeCString(ctx, topic);
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "publish: a topic name is 1..65535 bytes without +, # or NUL");
    }
    int qos;
    bool retain;
    uint8_t *payload;
    size_t len;
    int b = qos_retain(ctx, argc, argv, 2, "publish", &qos, &retain);
    if (b == 0) b = bytes_of(ctx, argv[1], &payload, &len);
    if (b != 0) {
        JS_FreeCString(ctx, topic);
        if (b > 0) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "publish: the payload must be a string or bytes");
        return JS_EXCEPTION;
    }
    int r = qcam_mqtt_pub(h->c, topic, payload, len, qos, retain);
    JS_FreeCString(ctx, topic);
    free(payload);
    if (r == -E2BIG) return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "publish: the message is larger than queueBytes");
    if (r < 0) return qcam_throw_errno(ctx, -r, "publish");
    return JS_UNDEFINED;
}

static JSValue mqtt_sub(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    mqtt_handle *h = mqtt_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    const char *name = magic ? "unsubscribe" : "subscribe";
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s(filter: string%s)", name, magic ? "" : ", {qos?}?");
    size_t fl;
    const char *f = JS_ToCStringLen(ctx, &fl, argv[0]);
    if (!f) return JS_EXCEPTION;
    int qos = 0;
    if (!(fl == strlen(f) && qcam_mqtt_filter_ok(f, fl))) {
        JS_FreeCString(ctx, f);
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s: a filter is 1..65535 bytes; + and # stand for whole levels, # last", name);
    }
    if (!magic && qos_retain(ctx, argc, argv, 1, "subscribe", &qos, NULL) < 0) {
        JS_FreeCString(ctx, f);
        return JS_EXCEPTION;
    }
    int r = magic ? qcam_mqtt_unsub(h->c, f) : qcam_mqtt_sub(h->c, f, qos);
    JS_FreeCString(ctx, f);
    if (r < 0) return qcam_throw_errno(ctx, -r, "%s", name);
    return JS_UNDEFINED;
}

static JSValue stats_object(JSContext *ctx, const qcam_mqtt_stats *st, reports *rep)
{
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "state", JS_NewString(ctx, qcam_mqtt_state_name(st->state)));
    JS_SetPropertyStr(ctx, o, "url", JS_NewString(ctx, st->url));
    JS_SetPropertyStr(ctx, o, "clientId", JS_NewString(ctx, st->client_id));
    JS_SetPropertyStr(ctx, o, "sent", JS_NewInt64(ctx, (int64_t)st->sent));
    JS_SetPropertyStr(ctx, o, "acked", JS_NewInt64(ctx, (int64_t)st->acked));
    JS_SetPropertyStr(ctx, o, "received", JS_NewInt64(ctx, (int64_t)st->received));
    JS_SetPropertyStr(ctx, o, "dropped", JS_NewInt64(ctx, (int64_t)st->dropped));
    JS_SetPropertyStr(ctx, o, "droppedIn", JS_NewInt64(ctx, (int64_t)atomic_load(&rep->dropped_in)));
    JS_SetPropertyStr(ctx, o, "queued", JS_NewInt64(ctx, (int64_t)st->queued));
    JS_SetPropertyStr(ctx, o, "connects", JS_NewInt64(ctx, (int64_t)st->connects));
    JS_SetPropertyStr(ctx, o, "reconnects", JS_NewInt64(ctx, (int64_t)st->reconnects));
    JS_SetPropertyStr(ctx, o, "lastError", st->last_error ? JS_NewString(ctx, st->last_reason) : JS_NULL);
    return o;
}

static JSValue mqtt_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    mqtt_handle *h = mqtt_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_mqtt_stats st;
    qcam_mqtt_stats_get(h->c, &st);
    return stats_object(ctx, &st, h->rep);
}

static JSValue mqtt_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    if (magic == 0) { /* state: "closed" after close */
        mqtt_handle *h = qcam_handle(ctx, this_val, mqtt_class, "MqttClient");
        if (!h) return JS_EXCEPTION;
        if (!h->c) return JS_NewString(ctx, "closed");
        qcam_mqtt_stats st;
        qcam_mqtt_stats_get(h->c, &st);
        return JS_NewString(ctx, qcam_mqtt_state_name(st.state));
    }
    mqtt_handle *h = mqtt_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    qcam_mqtt_stats st;
    qcam_mqtt_stats_get(h->c, &st);
    return JS_NewString(ctx, magic == 1 ? st.url : st.client_id);
}

static JSValue mqtt_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, mqtt_class, "MqttClient", &opaque) < 0) return JS_EXCEPTION;
    mqtt_handle *h = opaque;
    if (!h || !h->c) return JS_UNDEFINED;
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    close_native(h);
    return stats_object(ctx, &h->final, h->rep);
}

static const JSCFunctionListEntry mqtt_proto[] = {
    JS_CFUNC_DEF("publish", 2, mqtt_publish),
    JS_CFUNC_MAGIC_DEF("subscribe", 1, mqtt_sub, 0),
    JS_CFUNC_MAGIC_DEF("unsubscribe", 1, mqtt_sub, 1),
    JS_CFUNC_DEF("stats", 0, mqtt_stats),
    JS_CFUNC_DEF("close", 0, mqtt_close),
    JS_CGETSET_MAGIC_DEF("state", mqtt_getter, NULL, 0),
    JS_CGETSET_MAGIC_DEF("url", mqtt_getter, NULL, 1),
    JS_CGETSET_MAGIC_DEF("clientId", mqtt_getter, NULL, 2),
};

static int mqtt_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_class_init(ctx, &mqtt_class, &mqtt_def, mqtt_proto, sizeof mqtt_proto / sizeof mqtt_proto[0], "close") < 0)
        return -1;
    return qcam_export_class(ctx, m, "MqttClient", mqtt_class, mqtt_ctor, 2, JS_CFUNC_constructor);
}

JSModuleDef *qcam_mod_mqtt_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, mqtt_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "MqttClient");
    return m;
}
