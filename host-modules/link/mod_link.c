/* qcam:link — link(source, encoder, sinks) and the raw elementary-stream
 * sink. The threads live in backend_posix.c; this file is glue. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../modules.h"
#include "../image/image_js.h"
#include "../overlay/overlay_js.h"
#include "es_sink.h"
#include "link_js.h"

/* ---- providers --------------------------------------------------------- */

#define MAX_PROVIDERS 16

typedef struct {
    JSClassID id;
    qcam_link_source_fn *source;
    qcam_link_encoder_fn *encoder;
    qcam_link_sink_fn *sink;
    qcam_link_packet_fn *packet;
    qcam_link_release_fn *release;
} provider;

static provider providers[MAX_PROVIDERS];
static int n_providers;
static pthread_mutex_t providers_lock = PTHREAD_MUTEX_INITIALIZER;

static void provide(provider p)
{
    pthread_mutex_lock(&providers_lock);
    int i = 0;
    while (i < n_providers && providers[i].id != p.id) i++;
    if (i < MAX_PROVIDERS) {
        providers[i] = p;
        if (i == n_providers) n_providers++;
    }
    pthread_mutex_unlock(&providers_lock);
}

void qcam_link_provide_source(JSClassID id, qcam_link_source_fn *get, qcam_link_release_fn *release)
{
    provide((provider){.id = id, .source = get, .release = release});
}

void qcam_link_provide_encoder(JSClassID id, qcam_link_encoder_fn *get, qcam_link_release_fn *release)
{
    provide((provider){.id = id, .encoder = get, .release = release});
}

void qcam_link_provide_sink(JSClassID id, qcam_link_sink_fn *get)
{
    provide((provider){.id = id, .sink = get});
}

void qcam_link_provide_packet(JSClassID id, qcam_link_packet_fn *get)
{
    provide((provider){.id = id, .packet = get});
}

static const provider *provider_of(JSValueConst obj)
{
    JSClassID id = 0;
    JS_GetAnyOpaque(obj, &id);
    const provider *found = NULL;
    pthread_mutex_lock(&providers_lock);
    for (int i = 0; i < n_providers && id; i++)
        if (providers[i].id == id) found = &providers[i];
    pthread_mutex_unlock(&providers_lock);
    return found;
}

int qcam_link_claim_source(JSContext *ctx, JSValueConst obj, qcam_link_source *out)
{
    const provider *p = provider_of(obj);
    if (!p || !p->source) return 0;
    return p->source(ctx, obj, out) < 0 ? -1 : 1;
}

void qcam_link_release_source(JSContext *ctx, JSValueConst obj)
{
    const provider *p = provider_of(obj);
    if (p && p->release) p->release(ctx, obj);
}

qcam_packet *qcam_link_frame_packet(JSContext *ctx, JSValueConst frame)
{
    const provider *p = provider_of(frame);
    return p && p->packet ? p->packet(ctx, frame) : NULL;
}

/* ---- EsFileSink ------------------------------------------------------------- */

typedef struct {
    qcam_es_sink *es;
    qcam_resource res;
    char board_path[512];
} es_handle;

static JSClassID es_class;

static void es_release_res(qcam_resource *res)
{
    es_handle *h = (es_handle *)((char *)res - offsetof(es_handle, res));
    qcam_es_sink_close(h->es);
    h->es = NULL;
}

static void es_finalizer(JSRuntime *rt, JSValue val)
{
    es_handle *h = JS_GetOpaque(val, es_class);
    if (!h) return;
    qcam_app *app = JS_GetRuntimeOpaque(rt);
    qcam_resource_remove(app, &h->res);
    qcam_es_sink_close(h->es);
    free(h);
}

static const JSClassDef es_def = {"EsFileSink", .finalizer = es_finalizer};

static es_handle *es_get(JSContext *ctx, JSValueConst obj)
{
    return qcam_handle(ctx, obj, es_class, "EsFileSink");
}

static JSValue es_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new EsFileSink(path: string)");
    qcam_app *app = qcam_app_of(ctx);
    const char *path = JS_ToCString(ctx, argv[0]);
    if (!path) return JS_EXCEPTION;
    const qcam_run_options *o = qcam_app_options(app);
    qcam_fs_card *card = qcam_fs_card_open(o->sdcard_dir, o->sdcard_cap);
    es_handle *h = card ? calloc(1, sizeof *h) : NULL;
    int err = card ? 0 : -errno;
    if (h) h->es = qcam_es_sink_open(card, path, &err);
    else if (card) err = -ENOMEM;
    if (!h || !h->es) {
        if (card) qcam_fs_card_close(card);
        free(h);
        JSValue e = qcam_throw_errno(ctx, -err, "cannot open %s", path);
        JS_FreeCString(ctx, path);
        return e;
    }
    snprintf(h->board_path, sizeof h->board_path, "%s", path);
    JS_FreeCString(ctx, path);
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, es_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        qcam_es_sink_close(h->es);
        free(h);
        return obj;
    }
    h->res.kind = "EsFileSink";
    h->res.release = es_release_res;
    qcam_resource_add(app, &h->res);
    JS_SetOpaque(obj, h);
    return obj;
}

static qcam_sink *es_sink_of(JSContext *ctx, JSValueConst obj)
{
    es_handle *h = es_get(ctx, obj);
    return h ? qcam_es_sink_base(h->es) : NULL;
}

/* Pull mode: the app writes frames itself. Frames come from qcam:video; the
 * packet behind one is fetched through the registered sink glue of the
 * frame's class (qcam_link_frame_packet). */
static JSValue es_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    es_handle *h = es_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (atomic_load(&qcam_es_sink_base(h->es)->busy))
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "this sink is fed by a link; write() is for pull mode");
    qcam_packet *pkt = argc > 0 ? qcam_link_frame_packet(ctx, argv[0]) : NULL;
    if (!pkt) {
        if (argc == 0 || !JS_HasException(ctx))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "write(frame: Frame)");
        return JS_EXCEPTION;
    }
    int r = qcam_es_sink_base(h->es)->ops->write(qcam_es_sink_base(h->es), pkt);
    if (r < 0) return qcam_throw_errno(ctx, -r, "cannot write %s", h->board_path);
    return JS_UNDEFINED;
}

enum { ES_FRAMES, ES_BYTES, ES_PATH };

static JSValue es_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    es_handle *h = es_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    switch (magic) {
    case ES_FRAMES: return JS_NewInt64(ctx, (int64_t)qcam_es_sink_frames(h->es));
    case ES_BYTES: return JS_NewInt64(ctx, (int64_t)qcam_es_sink_bytes(h->es));
    default: return JS_NewString(ctx, h->board_path);
    }
}

static JSValue es_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, es_class, "EsFileSink", &opaque) < 0) return JS_EXCEPTION;
    es_handle *h = opaque;
    if (!h) return JS_UNDEFINED;
    if (atomic_load(&qcam_es_sink_base(h->es)->busy))
        return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "close the link feeding this sink first");
    JS_SetOpaque(this_val, NULL);
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    int r = qcam_es_sink_close(h->es);
    char path[512];
    snprintf(path, sizeof path, "%s", h->board_path);
    free(h);
    if (r < 0) return qcam_throw_errno(ctx, -r, "cannot finish %s", path);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry es_proto[] = {
    JS_CFUNC_DEF("write", 1, es_write),
    JS_CFUNC_DEF("close", 0, es_close),
    JS_CGETSET_MAGIC_DEF("frames", es_getter, NULL, ES_FRAMES),
    JS_CGETSET_MAGIC_DEF("bytes", es_getter, NULL, ES_BYTES),
    JS_CGETSET_MAGIC_DEF("path", es_getter, NULL, ES_PATH),
    JS_PROP_STRING_DEF("kind", "es", JS_PROP_CONFIGURABLE),
};

/* ---- Pipe: a running link ------------------------------------------------------ */

typedef struct pipe_handle {
    qcam_link *link;
    qcam_resource res;
    qcam_app *app;
    JSContext *ctx;
    JSValue source, encoder, on_error; /* kept alive while linked */
    JSValue self; /* a running link is never garbage: it holds its own object */
    JSValue sinks[QCAM_LINK_MAX_SINKS];
    unsigned n_sinks;
    qcam_link_release_fn *release_source, *release_encoder;
    bool keep_last;
    atomic_int refs; /* the JS object + error events in flight */
} pipe_handle;

static JSClassID pipe_class;

typedef struct {
    pipe_handle *pipe;
    int err;
    char what[32];
} pipe_error_event;

static void pipe_unref(pipe_handle *p)
{
    if (atomic_fetch_sub(&p->refs, 1) == 1) free(p);
}

static JSValue stats_object(JSContext *ctx, const qcam_link_stats *st)
{
    JSValue o = JS_NewObject(ctx);
    JSValue drops = JS_NewObject(ctx), queues = JS_NewObject(ctx);
    JSValue sink_drops = JS_NewArray(ctx), sink_depths = JS_NewArray(ctx), sink_written = JS_NewArray(ctx);
    for (unsigned i = 0; i < st->sinks; i++) {
        JS_SetPropertyUint32(ctx, sink_drops, i, JS_NewInt64(ctx, (int64_t)st->sink_dropped[i]));
        JS_SetPropertyUint32(ctx, sink_depths, i, JS_NewInt32(ctx, (int32_t)st->sink_depth[i]));
        JS_SetPropertyUint32(ctx, sink_written, i, JS_NewInt64(ctx, (int64_t)st->sink_written[i]));
    }
    JS_SetPropertyStr(ctx, o, "fps", JS_NewFloat64(ctx, st->fps));
    JS_SetPropertyStr(ctx, o, "framesIn", JS_NewInt64(ctx, (int64_t)st->frames_in));
    JS_SetPropertyStr(ctx, o, "framesEncoded", JS_NewInt64(ctx, (int64_t)st->frames_encoded));
    JS_SetPropertyStr(ctx, o, "framesOut", JS_NewInt64(ctx, (int64_t)(st->sinks ? st->frames_out : 0)));
    JS_SetPropertyStr(ctx, drops, "source", JS_NewInt64(ctx, (int64_t)st->drops_source));
    JS_SetPropertyStr(ctx, drops, "queue", JS_NewInt64(ctx, (int64_t)st->drops_queue));
    JS_SetPropertyStr(ctx, drops, "encoder", JS_NewInt64(ctx, (int64_t)st->drops_encoder));
    JS_SetPropertyStr(ctx, drops, "sinks", sink_drops);
    JS_SetPropertyStr(ctx, o, "drops", drops);
    JS_SetPropertyStr(ctx, queues, "encode", JS_NewInt32(ctx, (int32_t)st->encode_depth));
    JS_SetPropertyStr(ctx, queues, "sinks", sink_depths);
    JS_SetPropertyStr(ctx, o, "queues", queues);
    JS_SetPropertyStr(ctx, o, "sinkFrames", sink_written);
    JSValue enc = JS_NewObject(ctx), lat = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, enc, "p50", JS_NewFloat64(ctx, st->encode_p50_us));
    JS_SetPropertyStr(ctx, enc, "p99", JS_NewFloat64(ctx, st->encode_p99_us));
    JS_SetPropertyStr(ctx, lat, "p50", JS_NewFloat64(ctx, st->latency_p50_us));
    JS_SetPropertyStr(ctx, lat, "p99", JS_NewFloat64(ctx, st->latency_p99_us));
    JS_SetPropertyStr(ctx, o, "encodeUs", enc);
    JS_SetPropertyStr(ctx, o, "latencyUs", lat);
    JSValue cpu = JS_NewObject(ctx), sink_cpu = JS_NewArray(ctx);
    for (unsigned i = 0; i < st->sinks; i++)
        JS_SetPropertyUint32(ctx, sink_cpu, i, JS_NewInt64(ctx, (int64_t)st->sink_cpu_us[i]));
    JS_SetPropertyStr(ctx, cpu, "capture", JS_NewInt64(ctx, (int64_t)st->cpu_capture_us));
    JS_SetPropertyStr(ctx, cpu, "encode", JS_NewInt64(ctx, (int64_t)st->cpu_encode_us));
    JS_SetPropertyStr(ctx, cpu, "sinks", sink_cpu);
    JS_SetPropertyStr(ctx, o, "cpuUs", cpu);
    JS_SetPropertyStr(ctx, o, "pixelCopies", JS_NewInt64(ctx, (int64_t)st->pixel_copies));
    JS_SetPropertyStr(ctx, o, "finished", JS_NewBool(ctx, st->finished));
    return o;
}

/* Stop the threads and let go of everything linked. Safe to call twice.
 * May free `p` (dropping the self reference can finalize the pipe): callers
 * must not touch it afterwards. */
static void pipe_stop(pipe_handle *p, qcam_link_stats *final)
{
    if (!p->link) return;
    /* A dev-link reload: the next version waits; what the encoder has not
     * begun need not be encoded (link.h). */
    const char *why = qcam_app_exit_reason(p->app);
    if (why && strcmp(why, "reload") == 0) qcam_link_discard_queued(p->link);
    qcam_link_stop(p->link, final);
    p->link = NULL;
    qcam_resource_remove(p->app, &p->res);
    JSContext *ctx = p->ctx;
    if (p->release_source) p->release_source(ctx, p->source);
    if (p->release_encoder) p->release_encoder(ctx, p->encoder);
    JS_FreeValue(ctx, p->source);
    JS_FreeValue(ctx, p->encoder);
    for (unsigned i = 0; i < p->n_sinks; i++) JS_FreeValue(ctx, p->sinks[i]);
    p->source = p->encoder = JS_UNDEFINED;
    p->n_sinks = 0;
    JSValue self = p->self;
    p->self = JS_UNDEFINED;
    JS_FreeValue(ctx, self);
}

static void pipe_release_res(qcam_resource *res)
{
    pipe_handle *p = (pipe_handle *)((char *)res - offsetof(pipe_handle, res));
    qcam_link_stats st;
    pipe_stop(p, &st);
}

static void pipe_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    pipe_handle *p = JS_GetOpaque(val, pipe_class);
    if (!p) return;
    /* Only reached once stopped: a running pipe holds its own object. */
    JS_FreeValueRT(rt, p->on_error);
    p->on_error = JS_UNDEFINED;
    pipe_unref(p);
}

static void pipe_mark(JSRuntime *rt, JSValueConst val, JS_MarkFunc *mark)
{
    pipe_handle *p = JS_GetOpaque(val, pipe_class);
    if (!p) return;
    JS_MarkValue(rt, p->source, mark);
    JS_MarkValue(rt, p->encoder, mark);
    JS_MarkValue(rt, p->on_error, mark);
    for (unsigned i = 0; i < p->n_sinks; i++) JS_MarkValue(rt, p->sinks[i], mark);
}

static const JSClassDef pipe_def = {"Pipe", .finalizer = pipe_finalizer, .gc_mark = pipe_mark};

static void run_error_event(void *app_ptr, void *data)
{
    qcam_app *app = app_ptr;
    pipe_error_event *ev = data;
    pipe_handle *p = ev->pipe;
    JSContext *ctx = qcam_app_context(app);
    if (JS_IsFunction(ctx, p->on_error)) {
        qcam_throw_errno(ctx, -ev->err, "link: %s failed", ev->what);
        JSValue err = JS_GetException(ctx);
        JSValue fn = JS_DupValue(ctx, p->on_error);
        JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 1, (JSValueConst *)&err);
        JS_FreeValue(ctx, fn);
        JS_FreeValue(ctx, err);
        if (JS_IsException(r)) qcam_app_uncaught(app);
        JS_FreeValue(ctx, r);
    } else {
        qcam_app_fatal(app, "link: %s failed: %s", ev->what, strerror(-ev->err));
    }
    pipe_unref(p);
    free(ev);
}

static void discard_error_event(void *data)
{
    pipe_error_event *ev = data;
    pipe_unref(ev->pipe);
    free(ev);
}

/* On a link thread: hand the error to the app's loop. */
static void on_link_error(void *opaque, int err, const char *what)
{
    pipe_handle *p = opaque;
    pipe_error_event *ev = calloc(1, sizeof *ev);
    if (!ev) return;
    atomic_fetch_add(&p->refs, 1);
    ev->pipe = p;
    ev->err = err;
    snprintf(ev->what, sizeof ev->what, "%s", what);
    if (qcam_app_post(p->app, run_error_event, discard_error_event, ev) != 0) discard_error_event(ev);
}

static pipe_handle *pipe_get(JSContext *ctx, JSValueConst obj)
{
    pipe_handle *p = qcam_handle(ctx, obj, pipe_class, "Pipe");
    return p && !p->link ? qcam_closed(ctx, "Pipe") : p;
}

static int get_uint_opt(JSContext *ctx, JSValueConst opts, const char *name, unsigned lo, unsigned hi,
                        unsigned *out)
{
    JSValue v = JS_GetPropertyStr(ctx, opts, name);
    int r = 0;
    if (!JS_IsUndefined(v)) {
        double d;
        if (JS_ToFloat64(ctx, &d, v) || !(d >= lo && d <= hi) || d != (unsigned)d) {
            qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "%s must be an integer %u..%u", name, lo, hi);
            r = -1;
        } else *out = (unsigned)d;
    }
    JS_FreeValue(ctx, v);
    return r;
}

/* link()'s options; the first bad one throws. 0, or -1 after throwing. */
static int link_options(JSContext *ctx, JSValueConst o, qcam_link_config *cfg, JSValue *on_error)
{
    static const char *const keys[] = {"encodeQueue", "sinkQueue", "frames", "capture", "overlay", "onError", NULL};
    if (qcam_opt_keys(ctx, o, "link", keys) || get_uint_opt(ctx, o, "encodeQueue", 1, 64, &cfg->encode_queue) ||
        get_uint_opt(ctx, o, "sinkQueue", 1, 4096, &cfg->sink_queue))
        return -1;
    JSValue v = JS_GetPropertyStr(ctx, o, "frames");
    if (!JS_IsUndefined(v)) {
        double frames;
        int r = JS_ToFloat64(ctx, &frames, v);
        JS_FreeValue(ctx, v);
        if (r < 0) return -1;
        if (!(frames >= 1 && frames <= 1e15) || frames != floor(frames)) {
            qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "frames must be an integer >= 1");
            return -1;
        }
        cfg->max_frames = (uint64_t)frames;
    }
    v = JS_GetPropertyStr(ctx, o, "capture");
    cfg->keep_last = JS_ToBool(ctx, v);
    JS_FreeValue(ctx, v);
    v = JS_GetPropertyStr(ctx, o, "overlay");
    if (!JS_IsUndefined(v)) { /* borrowed: the link takes its own reference */
        int is = qcam_js_overlay_of(v, &cfg->overlay);
        JS_FreeValue(ctx, v);
        if (!is) {
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "link: overlay must be an Overlay (qcam:overlay)");
            return -1;
        }
        if (!cfg->overlay) {
            qcam_closed(ctx, "Overlay");
            return -1;
        }
    }
    *on_error = JS_GetPropertyStr(ctx, o, "onError");
    if (!JS_IsUndefined(*on_error) && !JS_IsFunction(ctx, *on_error)) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "onError must be a function");
        return -1;
    }
    return 0;
}

static JSValue js_link(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    if (argc < 2)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "link(source, encoder, sinks, options?) or link(encodedSource, sinks, options?)");
    const provider *ps = provider_of(argv[0]);
    if (!ps || !ps->source)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "link: the source must be a Camera, a Channel, an AudioIn or an RtspSource");
    /* link(source, sinks, options?): a source of encoded frames, no encoder. */
    const provider *p1 = provider_of(argv[1]);
    bool encoded_form = JS_IsArray(argv[1]) || (p1 && p1->sink);
    JSValueConst sinks_arg = encoded_form ? argv[1] : (argc > 2 ? argv[2] : JS_UNDEFINED);
    JSValueConst opts_arg = encoded_form ? (argc > 2 ? argv[2] : JS_UNDEFINED) : (argc > 3 ? argv[3] : JS_UNDEFINED);
    const provider *pe = encoded_form ? NULL : p1;
    if (!encoded_form && argc < 3)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "link(source, encoder, sinks, options?)");
    if (!encoded_form && (!pe || !pe->encoder))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "link: the encoder must be an Encoder or an AudioEncoder");
    JSValue sink_vals[QCAM_LINK_MAX_SINKS];
    qcam_sink *sinks[QCAM_LINK_MAX_SINKS];
    unsigned n = 0;
    if (JS_IsArray(sinks_arg)) {
        int64_t len = 0;
        JS_GetLength(ctx, sinks_arg, &len);
        if (len < 1 || len > QCAM_LINK_MAX_SINKS)
            return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "link: 1..%d sinks", QCAM_LINK_MAX_SINKS);
        for (; n < (unsigned)len; n++) sink_vals[n] = JS_GetPropertyUint32(ctx, sinks_arg, n);
    } else {
        sink_vals[n++] = JS_DupValue(ctx, sinks_arg);
    }
    qcam_link_config cfg = {.encode_queue = 4, .sink_queue = 64};
    JSValue on_error = JS_UNDEFINED;
    JSValue fail = JS_UNDEFINED;
    for (unsigned i = 0; i < n && JS_IsUndefined(fail); i++) {
        const provider *pk = provider_of(sink_vals[i]);
        if (!pk || !pk->sink)
            fail = qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "link: sink %u is not a sink", i);
        else if (!(sinks[i] = pk->sink(ctx, sink_vals[i])))
            fail = JS_EXCEPTION;
    }
    if (JS_IsUndefined(fail) && JS_IsObject(opts_arg) && link_options(ctx, opts_arg, &cfg, &on_error) < 0)
        fail = JS_EXCEPTION;
    if (!JS_IsUndefined(fail)) {
        for (unsigned i = 0; i < n; i++) JS_FreeValue(ctx, sink_vals[i]);
        JS_FreeValue(ctx, on_error);
        return JS_EXCEPTION;
    }
    pipe_handle *p = calloc(1, sizeof *p);
    qcam_link_source src = {0}; /* providers may leave `media` unset: video */
    qcam_link_encoder enc = {0};
    if (!p || ps->source(ctx, argv[0], &src) < 0) goto fail_early;
    if ((src.read_packet != NULL) != encoded_form) {
        if (ps->release) ps->release(ctx, argv[0]);
        if (src.read_packet)
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                       "link: this source gives encoded frames: link(source, sinks, options?), no encoder");
        else
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "link: this source needs an encoder: link(source, encoder, sinks, options?)");
        goto fail_early;
    }
    if (encoded_form && (cfg.keep_last || cfg.overlay)) {
        if (ps->release) ps->release(ctx, argv[0]);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                   "link: %s needs pictures; decode the source's frames in pull mode (qcam:video Decoder)",
                   cfg.keep_last ? "capture" : "overlay");
        goto fail_early;
    }
    if (pe && pe->encoder(ctx, argv[1], &enc) < 0) {
        if (ps->release) ps->release(ctx, argv[0]);
        goto fail_early;
    }
    bool audio = src.media == QCAM_LINK_AUDIO;
    if (pe && (audio != (enc.media == QCAM_LINK_AUDIO) || (audio && (cfg.keep_last || cfg.overlay)))) {
        if (ps->release) ps->release(ctx, argv[0]);
        if (pe->release) pe->release(ctx, argv[1]);
        if (audio && enc.media == QCAM_LINK_AUDIO)
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "link: %s is for video links",
                       cfg.keep_last ? "capture" : "overlay");
        else
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "link: %s",
                       audio ? "an audio source needs an AudioEncoder" : "a video source needs an Encoder");
        goto fail_early;
    }
    p->app = qcam_app_of(ctx);
    p->ctx = ctx;
    atomic_store(&p->refs, 1);
    p->source = JS_DupValue(ctx, argv[0]);
    p->encoder = pe ? JS_DupValue(ctx, argv[1]) : JS_UNDEFINED;
    p->release_source = ps->release;
    p->release_encoder = pe ? pe->release : NULL;
    p->keep_last = cfg.keep_last;
    p->on_error = on_error;
    p->n_sinks = n;
    memcpy(p->sinks, sink_vals, n * sizeof(JSValue));
    int err = 0;
    p->link = qcam_link_start(&src, pe ? &enc : NULL, sinks, n, &cfg, on_link_error, p, &err);
    if (!p->link) {
        ps->release ? ps->release(ctx, argv[0]) : (void)0;
        pe && pe->release ? pe->release(ctx, argv[1]) : (void)0;
        JS_FreeValue(ctx, p->source);
        JS_FreeValue(ctx, p->encoder);
        for (unsigned i = 0; i < n; i++) JS_FreeValue(ctx, p->sinks[i]);
        JS_FreeValue(ctx, on_error);
        free(p);
        if (err == -EBUSY)
            return qcam_throw(ctx, QCAM_ERROR, "ERR_BUSY", "link: a sink is already fed by another %s link",
                              audio ? "audio" : "video");
        return qcam_throw_errno(ctx, -err, "link: cannot start");
    }
    JSValue obj = JS_NewObjectClass(ctx, (int)pipe_class);
    if (JS_IsException(obj)) {
        qcam_link_stats st;
        pipe_stop(p, &st);
        JS_FreeValue(ctx, p->on_error);
        free(p);
        return obj;
    }
    p->res.kind = "Pipe";
    p->res.keeps_alive = true;
    p->res.release = pipe_release_res;
    qcam_resource_add(p->app, &p->res);
    JS_SetOpaque(obj, p);
    p->self = JS_DupValue(ctx, obj);
    return obj;

fail_early:
    free(p);
    for (unsigned i = 0; i < n; i++) JS_FreeValue(ctx, sink_vals[i]);
    JS_FreeValue(ctx, on_error);
    return JS_EXCEPTION;
}

static JSValue pipe_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    pipe_handle *p = pipe_get(ctx, this_val);
    if (!p) return JS_EXCEPTION;
    qcam_link_stats st;
    qcam_link_stats_get(p->link, &st);
    return stats_object(ctx, &st);
}

/* capture(): the picture most recently encoded, as an Image (null before the
 * first). Needs link(..., { capture: true }). */
static JSValue pipe_capture(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    pipe_handle *p = pipe_get(ctx, this_val);
    if (!p) return JS_EXCEPTION;
    if (!p->keep_last)
        return qcam_throw(ctx, QCAM_ERROR, "ERR_NO_CAPTURE", "start the link with { capture: true } to use capture()");
    qcam_picture *pic = qcam_link_last_picture(p->link);
    return pic ? qcam_js_image_new(ctx, pic) : JS_NULL;
}

/* close(): flush everything and return the final stats; a second close()
 * returns undefined. */
static JSValue pipe_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    pipe_handle *p = qcam_handle(ctx, this_val, pipe_class, "Pipe");
    if (!p) return JS_EXCEPTION;
    if (!p->link) return JS_UNDEFINED; /* closed before: idempotent */
    qcam_link_stats st;
    pipe_stop(p, &st);
    return stats_object(ctx, &st);
}

static const JSCFunctionListEntry pipe_proto[] = {
    JS_CFUNC_DEF("stats", 0, pipe_stats),
    JS_CFUNC_DEF("capture", 0, pipe_capture),
    JS_CFUNC_DEF("close", 0, pipe_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Pipe", JS_PROP_CONFIGURABLE),
};

static const JSCFunctionListEntry link_funcs[] = {
    JS_CFUNC_DEF("link", 3, js_link),
};

static int link_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_image_class_init(ctx) < 0) return -1;
    if (qcam_class_init(ctx, &es_class, &es_def, es_proto, sizeof es_proto / sizeof es_proto[0], "close") < 0 ||
        qcam_class_init(ctx, &pipe_class, &pipe_def, pipe_proto, sizeof pipe_proto / sizeof pipe_proto[0], "close") < 0)
        return -1;
    qcam_link_provide_sink(es_class, es_sink_of);
    qcam_export_class(ctx, m, "EsFileSink", es_class, es_ctor, 1, JS_CFUNC_constructor);
    JS_SetModuleExportList(ctx, m, link_funcs, 1);
    return 0;
}

JSModuleDef *qcam_mod_link_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, link_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "EsFileSink");
    JS_AddModuleExportList(ctx, m, link_funcs, 1);
    return m;
}
