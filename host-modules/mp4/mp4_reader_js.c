/* qcam:mp4 — Mp4Reader and repair() (mp4.d.ts). The parsing is mp4_read.c,
 * the mending mp4_repair.c; this file is argument checks, objects and errors. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../video/annexb.h"
#include "../video/video_js.h"
#include "mp4_js.h"
#include "mp4_read.h"

#define PATH_LEN 512

static JSClassID reader_class;

typedef struct {
    qcam_resource res; /* first: the resource is the struct */
    qcam_fs_card *card;
    int fd;
    qcam_mp4_index idx;
    qcam_mp4_read_info info;
    int64_t *dts_us[QCAM_MP4_MAX_TRACKS]; /* per sample */
    size_t cursor[QCAM_MP4_MAX_TRACKS];   /* next sample read() hands out */
    qcam_annexb_state annexb[QCAM_MP4_MAX_TRACKS];
    char path[PATH_LEN];
} mp4_reader;

/* The app's card (one reference per user), NULL after throwing. */
static qcam_fs_card *open_card(JSContext *ctx)
{
    const qcam_run_options *o = qcam_app_options(qcam_app_of(ctx));
    qcam_fs_card *card = qcam_fs_card_open(o->sdcard_dir, o->sdcard_cap);
    if (!card) qcam_throw_errno(ctx, errno, "cannot open the SD card");
    return card;
}

static void reader_free_native(mp4_reader *h)
{
    if (h->fd >= 0) qcam_fs_close(h->fd);
    h->fd = -1;
    qcam_mp4_index_clear(&h->idx);
    for (unsigned i = 0; i < QCAM_MP4_MAX_TRACKS; i++) {
        free(h->dts_us[i]);
        h->dts_us[i] = NULL;
    }
    qcam_fs_card_close(h->card);
    h->card = NULL;
}

static void reader_release_res(qcam_resource *res)
{
    mp4_reader *h = (mp4_reader *)res;
    reader_free_native(h);
}

static void reader_finalizer(JSRuntime *rt, JSValue val)
{
    mp4_reader *h = JS_GetOpaque(val, reader_class);
    if (!h) return;
    qcam_resource_remove(JS_GetRuntimeOpaque(rt), &h->res);
    reader_free_native(h);
    free(h);
}

static const JSClassDef reader_def = {"Mp4Reader", .finalizer = reader_finalizer};

static mp4_reader *reader_get(JSContext *ctx, JSValueConst obj)
{
    mp4_reader *h = qcam_handle(ctx, obj, reader_class, "Mp4Reader");
    return h && !h->card ? qcam_closed(ctx, "Mp4Reader") : h;
}

static bool is_video(const qcam_mp4_track *t) { return t->codec == QCAM_MP4_AVC || t->codec == QCAM_MP4_HEVC; }

static const char *codec_str(qcam_mp4_codec c)
{
    switch (c) {
    case QCAM_MP4_AVC: return "h264";
    case QCAM_MP4_HEVC: return "h265";
    case QCAM_MP4_ALAW: return "alaw";
    default: return "ulaw";
    }
}

/* value timescale units → microseconds, without overflowing. */
static int64_t to_us(int64_t v, uint32_t timescale)
{
    bool neg = v < 0;
    uint64_t a = neg ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    uint64_t us = a / timescale * 1000000u + a % timescale * 1000000u / timescale;
    return neg ? -(int64_t)us : (int64_t)us;
}

static double track_seconds(const qcam_mp4_track *t)
{
    return (double)qcam_mp4_track_duration(t) / t->timescale;
}

/* Index of the track with `id`, or the default (first video, else first). -1 after throwing. */
static int track_arg(JSContext *ctx, mp4_reader *h, int argc, JSValueConst *argv, int i, const char *fn)
{
    if (i >= argc || JS_IsUndefined(argv[i])) {
        for (unsigned k = 0; k < h->idx.n_tracks; k++)
            if (is_video(&h->idx.tracks[k])) return (int)k;
        return 0;
    }
    double d;
    if (!JS_IsNumber(argv[i]) || JS_ToFloat64(ctx, &d, argv[i]) < 0) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s: track must be a track id (a number)", fn);
        return -1;
    }
    for (unsigned k = 0; k < h->idx.n_tracks; k++)
        if ((double)h->idx.tracks[k].id == d) return (int)k;
    qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "%s: %s has no track %g", fn, h->path, d);
    return -1;
}

/* ---- new Mp4Reader(path) --------------------------------------------------- */

static JSValue reader_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new Mp4Reader(path: string)");
    size_t len;
    const char *path = JS_ToCStringLen(ctx, &len, argv[0]);
    if (!path) return JS_EXCEPTION;
    if (strlen(path) != len || len >= PATH_LEN) {
        JS_FreeCString(ctx, path);
        return qcam_throw_errno(ctx, len >= PATH_LEN ? ENAMETOOLONG : EINVAL, "new Mp4Reader: bad path");
    }
    mp4_reader *h = calloc(1, sizeof *h);
    if (!h) {
        JS_FreeCString(ctx, path);
        return JS_ThrowOutOfMemory(ctx);
    }
    h->fd = -1;
    memcpy(h->path, path, len + 1);
    JS_FreeCString(ctx, path);
    if (!(h->card = open_card(ctx))) {
        free(h);
        return JS_EXCEPTION;
    }
    JSValue err = JS_UNDEFINED;
    h->fd = qcam_fs_open(h->card, h->path, QCAM_FS_READ);
    if (h->fd < 0) {
        err = qcam_throw_errno(ctx, -h->fd, "open %s", h->path);
        goto fail;
    }
    int r = qcam_mp4_read_fd(h->fd, &h->idx, &h->info);
    if (r == -EBADMSG) {
        err = qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "%s, in %s", h->info.error, h->path);
        goto fail;
    }
    if (r < 0) {
        err = qcam_throw_errno(ctx, -r, "read %s", h->path);
        goto fail;
    }
    for (unsigned i = 0; i < h->idx.n_tracks; i++) {
        const qcam_mp4_track *t = &h->idx.tracks[i];
        h->dts_us[i] = malloc((t->n_samples ? t->n_samples : 1) * sizeof(int64_t));
        if (!h->dts_us[i]) {
            err = JS_ThrowOutOfMemory(ctx);
            goto fail;
        }
        /* Decode times from the track's start, the edit list's first media
         * time presented at 0 (mp4_read.h). */
        uint64_t dts = t->base_dts, start = h->info.media_start[i];
        int64_t shift = start > INT64_MAX ? INT64_MAX : (int64_t)start;
        for (size_t k = 0; k < t->n_samples; k++) {
            h->dts_us[i][k] = to_us((dts > INT64_MAX ? INT64_MAX : (int64_t)dts) - shift, t->timescale);
            dts += t->samples[k].duration;
        }
        qcam_annexb_init(&h->annexb[i], t->codec == QCAM_MP4_HEVC ? QCAM_CODEC_H265 : QCAM_CODEC_H264);
    }
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, reader_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        err = obj;
        goto fail;
    }
    h->res.kind = "Mp4Reader";
    h->res.release = reader_release_res;
    qcam_resource_add(qcam_app_of(ctx), &h->res);
    JS_SetOpaque(obj, h);
    return obj;
fail:
    reader_free_native(h);
    free(h);
    return err;
}

/* ---- getters ------------------------------------------------------------------ */

static int set_num(JSContext *ctx, JSValue o, const char *k, double v)
{
    return JS_DefinePropertyValueStr(ctx, o, k, JS_NewFloat64(ctx, v), JS_PROP_C_W_E);
}

static JSValue track_info(JSContext *ctx, const qcam_mp4_track *t)
{
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o)) return o;
    bool v = is_video(t);
    if (set_num(ctx, o, "id", t->id) < 0 ||
        JS_DefinePropertyValueStr(ctx, o, "kind", JS_NewString(ctx, v ? "video" : "audio"), JS_PROP_C_W_E) < 0 ||
        JS_DefinePropertyValueStr(ctx, o, "codec", JS_NewString(ctx, codec_str(t->codec)), JS_PROP_C_W_E) < 0 ||
        (v && (set_num(ctx, o, "width", t->width) < 0 || set_num(ctx, o, "height", t->height) < 0)) ||
        (!v && (set_num(ctx, o, "sampleRate", t->sample_rate) < 0 || set_num(ctx, o, "channels", t->channels) < 0)) ||
        set_num(ctx, o, "timescale", t->timescale) < 0 || set_num(ctx, o, "duration", track_seconds(t)) < 0 ||
        set_num(ctx, o, "samples", (double)t->n_samples) < 0) {
        JS_FreeValue(ctx, o);
        return JS_EXCEPTION;
    }
    return o;
}

enum { G_PATH, G_FRAGMENTED, G_DURATION, G_TRACKS };

static JSValue reader_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    mp4_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    switch (magic) {
    case G_PATH: return JS_NewString(ctx, h->path);
    case G_FRAGMENTED: return JS_NewBool(ctx, h->info.fragmented);
    case G_DURATION: {
        double d = 0;
        for (unsigned i = 0; i < h->idx.n_tracks; i++)
            if (track_seconds(&h->idx.tracks[i]) > d) d = track_seconds(&h->idx.tracks[i]);
        return JS_NewFloat64(ctx, d);
    }
    default: {
        JSValue a = JS_NewArray(ctx);
        for (unsigned i = 0; !JS_IsException(a) && i < h->idx.n_tracks; i++) {
            JSValue t = track_info(ctx, &h->idx.tracks[i]);
            if (JS_IsException(t) || JS_SetPropertyUint32(ctx, a, i, t) < 0) {
                JS_FreeValue(ctx, a);
                return JS_EXCEPTION;
            }
        }
        return a;
    }
    }
}

/* ---- samples() ------------------------------------------------------------------ */

static JSValue sample_obj(JSContext *ctx, mp4_reader *h, unsigned ti, size_t k)
{
    const qcam_mp4_track *t = &h->idx.tracks[ti];
    const qcam_mp4_sample *s = &t->samples[k];
    int64_t dts = h->dts_us[ti][k];
    int64_t pts = dts + to_us(s->cts, t->timescale);
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o)) return o;
    if (set_num(ctx, o, "track", t->id) < 0 || set_num(ctx, o, "index", (double)k) < 0 ||
        set_num(ctx, o, "ptsUs", (double)pts) < 0 || set_num(ctx, o, "dtsUs", (double)dts) < 0 ||
        set_num(ctx, o, "durationUs", (double)to_us(s->duration, t->timescale)) < 0 ||
        JS_DefinePropertyValueStr(ctx, o, "keyframe", JS_NewBool(ctx, s->key), JS_PROP_C_W_E) < 0 ||
        set_num(ctx, o, "size", s->size) < 0 || set_num(ctx, o, "offset", (double)s->offset) < 0) {
        JS_FreeValue(ctx, o);
        return JS_EXCEPTION;
    }
    return o;
}

static JSValue reader_samples(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    mp4_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    bool all = argc < 1 || JS_IsUndefined(argv[0]);
    int only = -1;
    if (!all && (only = track_arg(ctx, h, argc, argv, 0, "samples")) < 0) return JS_EXCEPTION;
    JSValue a = JS_NewArray(ctx);
    if (JS_IsException(a)) return a;
    size_t at[QCAM_MP4_MAX_TRACKS] = {0};
    uint32_t n = 0;
    for (;;) {
        /* The track whose next sample decodes first (ties: the lower track). */
        int pick = -1;
        for (unsigned i = 0; i < h->idx.n_tracks; i++) {
            if ((only >= 0 && (int)i != only) || at[i] >= h->idx.tracks[i].n_samples) continue;
            if (pick < 0 || h->dts_us[i][at[i]] < h->dts_us[pick][at[pick]]) pick = (int)i;
        }
        if (pick < 0) break;
        JSValue o = sample_obj(ctx, h, (unsigned)pick, at[pick]++);
        if (JS_IsException(o) || JS_SetPropertyUint32(ctx, a, n++, o) < 0) {
            JS_FreeValue(ctx, a);
            return JS_EXCEPTION;
        }
    }
    return a;
}

/* ---- read() and seek() ------------------------------------------------------------ */

static JSValue reader_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    mp4_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    int ti = track_arg(ctx, h, argc, argv, 0, "read");
    if (ti < 0) return JS_EXCEPTION;
    const qcam_mp4_track *t = &h->idx.tracks[ti];
    size_t k = h->cursor[ti];
    if (k >= t->n_samples) return JS_NULL;
    const qcam_mp4_sample *s = &t->samples[k];
    uint8_t *raw = malloc(s->size ? s->size : 1);
    if (!raw) return JS_ThrowOutOfMemory(ctx);
    size_t got = 0;
    while (got < s->size) {
        ssize_t r = qcam_fs_read(h->fd, raw + got, s->size - got, (int64_t)(s->offset + got));
        if (r <= 0) {
            free(raw);
            return qcam_throw_errno(ctx, r < 0 ? (int)-r : EIO, "read sample %zu of track %u of %s", k, t->id, h->path);
        }
        got += (size_t)r;
    }
    qcam_packet *pkt;
    if (is_video(t)) {
        ssize_t need = qcam_mp4_to_annexb(t, raw, s->size, s->key, NULL, 0);
        if (need < 0) {
            free(raw);
            return qcam_throw(ctx, QCAM_ERROR, "EBADMSG",
                              "mp4: sample %zu of track %u has a NAL unit length running past its end, in %s", k,
                              t->id, h->path);
        }
        pkt = qcam_packet_new((size_t)need);
        if (!pkt) {
            free(raw);
            return JS_ThrowOutOfMemory(ctx);
        }
        qcam_mp4_to_annexb(t, raw, s->size, s->key, pkt->data, (size_t)need);
        free(raw);
        pkt->codec = t->codec == QCAM_MP4_AVC ? QCAM_CODEC_H264 : QCAM_CODEC_H265;
        qcam_au_info ai;
        qcam_annexb_classify(&h->annexb[ti], pkt->data, pkt->size, &ai);
        pkt->type = ai.type == QCAM_PKT_HEADER && s->key ? QCAM_PKT_I : ai.type;
        pkt->keyframe = s->key;
    } else {
        pkt = qcam_packet_new(s->size);
        if (!pkt) {
            free(raw);
            return JS_ThrowOutOfMemory(ctx);
        }
        memcpy(pkt->data, raw, s->size);
        free(raw);
        pkt->codec = t->codec == QCAM_MP4_ALAW ? QCAM_CODEC_ALAW : QCAM_CODEC_ULAW;
        pkt->type = QCAM_PKT_AUDIO;
        pkt->keyframe = true;
        pkt->sample_rate = t->sample_rate;
        pkt->samples = s->size / (t->channels ? t->channels : 1);
    }
    pkt->dts_us = h->dts_us[ti][k];
    pkt->pts_us = pkt->dts_us + to_us(s->cts, t->timescale);
    pkt->seq = k;
    h->cursor[ti] = k + 1;
    return qcam_js_frame_new(ctx, pkt);
}

static JSValue reader_seek(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    mp4_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    double sec;
    if (argc < 1 || !JS_IsNumber(argv[0]) || JS_ToFloat64(ctx, &sec, argv[0]) < 0 || !isfinite(sec))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "seek(seconds: number, track?: number)");
    int ti = track_arg(ctx, h, argc, argv, 1, "seek");
    if (ti < 0) return JS_EXCEPTION;
    const qcam_mp4_track *t = &h->idx.tracks[ti];
    /* The last keyframe (decode order) presented at or before `sec`; else the first one. */
    double target = sec * 1e6;
    size_t best = 0;
    bool found = false;
    for (size_t k = 0; k < t->n_samples; k++) {
        if (!t->samples[k].key) continue;
        int64_t pts = h->dts_us[ti][k] + to_us(t->samples[k].cts, t->timescale);
        if (!found || (double)pts <= target) best = k;
        found = true;
    }
    int64_t best_pts = t->n_samples ? h->dts_us[ti][best] + to_us(t->samples[best].cts, t->timescale) : 0;
    h->cursor[ti] = t->n_samples ? best : 0;
    return JS_NewFloat64(ctx, (double)best_pts / 1e6);
}

static JSValue reader_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc;
    (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, reader_class, "Mp4Reader", &opaque) < 0) return JS_EXCEPTION;
    mp4_reader *h = opaque;
    if (!h) return JS_UNDEFINED;
    JS_SetOpaque(this_val, NULL);
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    reader_free_native(h);
    free(h);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry reader_proto[] = {
    JS_CFUNC_DEF("samples", 0, reader_samples),
    JS_CFUNC_DEF("read", 0, reader_read),
    JS_CFUNC_DEF("seek", 1, reader_seek),
    JS_CFUNC_DEF("close", 0, reader_close),
    JS_CGETSET_MAGIC_DEF("path", reader_getter, NULL, G_PATH),
    JS_CGETSET_MAGIC_DEF("fragmented", reader_getter, NULL, G_FRAGMENTED),
    JS_CGETSET_MAGIC_DEF("duration", reader_getter, NULL, G_DURATION),
    JS_CGETSET_MAGIC_DEF("tracks", reader_getter, NULL, G_TRACKS),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "Mp4Reader", JS_PROP_CONFIGURABLE),
};

/* ---- repair(path, {finalize}) ------------------------------------------------------- */

static JSValue js_repair(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    const char *usage = "repair(path: string, options?: {finalize?: boolean})";
    if (argc < 1 || !JS_IsString(argv[0])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    bool finalize = true;
    if (argc > 1 && !JS_IsUndefined(argv[1])) {
        if (!JS_IsObject(argv[1])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
        static const char *const keys[] = {"finalize", NULL};
        if (qcam_opt_keys(ctx, argv[1], "repair", keys)) return JS_EXCEPTION;
        JSValue f = JS_GetPropertyStr(ctx, argv[1], "finalize");
        if (JS_IsException(f)) return f;
        if (!JS_IsUndefined(f)) {
            if (!JS_IsBool(f)) {
                JS_FreeValue(ctx, f);
                return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "repair: finalize must be a boolean");
            }
            finalize = JS_ToBool(ctx, f);
        }
        JS_FreeValue(ctx, f);
    }
    size_t len;
    const char *path = JS_ToCStringLen(ctx, &len, argv[0]);
    if (!path) return JS_EXCEPTION;
    if (strlen(path) != len) {
        JS_FreeCString(ctx, path);
        return qcam_throw_errno(ctx, EINVAL, "repair: path contains a NUL byte");
    }
    qcam_fs_card *card = open_card(ctx);
    if (!card) {
        JS_FreeCString(ctx, path);
        return JS_EXCEPTION;
    }
    qcam_mp4_repair_result res;
    int r = qcam_mp4_repair(card, path, finalize, &res);
    qcam_fs_card_close(card);
    if (r < 0) {
        JSValue e = qcam_throw_errno(ctx, -r, "repair %s", path);
        JS_FreeCString(ctx, path);
        return e;
    }
    JS_FreeCString(ctx, path);
    static const char *const status[] = {"ok", "repaired", "unrecoverable"};
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o)) return o;
    if (JS_DefinePropertyValueStr(ctx, o, "status", JS_NewString(ctx, status[res.status]), JS_PROP_C_W_E) < 0 ||
        set_num(ctx, o, "droppedBytes", (double)res.dropped_bytes) < 0 ||
        set_num(ctx, o, "videoFrames", (double)res.video_frames) < 0 ||
        set_num(ctx, o, "audioFrames", (double)res.audio_frames) < 0 ||
        set_num(ctx, o, "duration", res.duration) < 0 ||
        (res.status == QCAM_MP4_REPAIR_UNRECOVERABLE &&
         JS_DefinePropertyValueStr(ctx, o, "reason", JS_NewString(ctx, res.reason), JS_PROP_C_W_E) < 0)) {
        JS_FreeValue(ctx, o);
        return JS_EXCEPTION;
    }
    return o;
}

/* ---- module -------------------------------------------------------------------------- */

static const JSCFunctionListEntry reader_funcs[] = {
    JS_CFUNC_DEF("repair", 1, js_repair),
};

void qcam_mp4_reader_declare(JSContext *ctx, JSModuleDef *m)
{
    JS_AddModuleExport(ctx, m, "Mp4Reader");
    JS_AddModuleExportList(ctx, m, reader_funcs, (int)(sizeof reader_funcs / sizeof reader_funcs[0]));
}

int qcam_mp4_reader_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_video_class_init(ctx) < 0) return -1; /* read() hands out Frames */
    if (qcam_class_init(ctx, &reader_class, &reader_def, reader_proto,
                        (int)(sizeof reader_proto / sizeof reader_proto[0]), "close") < 0 ||
        qcam_export_class(ctx, m, "Mp4Reader", reader_class, reader_ctor, 1, JS_CFUNC_constructor) < 0)
        return -1;
    return JS_SetModuleExportList(ctx, m, reader_funcs, (int)(sizeof reader_funcs / sizeof reader_funcs[0]));
}
