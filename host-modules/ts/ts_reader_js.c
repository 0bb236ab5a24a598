/* qcam:ts — TsReader and probe() (ts.d.ts). The parsing is ts_read.c; this file is
 * argument checks, objects and errors, in the shape of qcam:mp4's Mp4Reader. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../fs/fs.h"
#include "../video/annexb.h"
#include "../video/video_js.h"
#include "ts_js.h"
#include "ts_read.h"

#define PATH_LEN 512

static JSClassID reader_class;

typedef struct {
    qcam_resource res; /* first: the resource is the struct */
    qcam_fs_card *card;
    int fd;
    qcam_ts_source src;
    qcam_ts_index idx;
    size_t cursor; /* next frame read() hands out */
    qcam_annexb_state annexb;
    char path[PATH_LEN];
} ts_reader;

static ssize_t fd_read(void *opaque, uint64_t pos, void *buf, size_t len)
{
    if (pos > INT64_MAX) return -EINVAL;
    return qcam_fs_read(*(int *)opaque, buf, len, (int64_t)pos);
}

static void reader_free_native(ts_reader *h)
{
    if (h->fd >= 0) qcam_fs_close(h->fd);
    h->fd = -1;
    qcam_ts_index_clear(&h->idx);
    qcam_fs_card_close(h->card);
    h->card = NULL;
}

static void reader_release_res(qcam_resource *res) { reader_free_native((ts_reader *)res); }

static void reader_finalizer(JSRuntime *rt, JSValue val)
{
    ts_reader *h = JS_GetOpaque(val, reader_class);
    if (!h) return;
    qcam_resource_remove(JS_GetRuntimeOpaque(rt), &h->res);
    reader_free_native(h);
    free(h);
}

static const JSClassDef reader_def = {"TsReader", .finalizer = reader_finalizer};

static ts_reader *reader_get(JSContext *ctx, JSValueConst obj)
{
    ts_reader *h = qcam_handle(ctx, obj, reader_class, "TsReader");
    return h && !h->card ? qcam_closed(ctx, "TsReader") : h;
}

/* 90 kHz → µs (floor, as the stub) */
static int64_t to_us(int64_t v)
{
    int64_t q = v * 100;
    return q >= 0 ? q / 9 : -((-q + 8) / 9);
}

/* The optional track argument: undefined or the video track's id. false after throwing. */
static bool track_ok(JSContext *ctx, ts_reader *h, int argc, JSValueConst *argv, int i, const char *fn)
{
    if (i >= argc || JS_IsUndefined(argv[i])) return true;
    double d;
    if (!JS_IsNumber(argv[i]) || JS_ToFloat64(ctx, &d, argv[i]) < 0) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s: track must be a track id (a number)", fn);
        return false;
    }
    if (d == h->idx.pid) return true;
    qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "%s: %s has no track %g", fn, h->path, d);
    return false;
}

/* ---- new TsReader(path) ------------------------------------------------------ */

static JSValue reader_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    if (argc < 1 || !JS_IsString(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "new TsReader(path: string)");
    size_t len;
    const char *path = JS_ToCStringLen(ctx, &len, argv[0]);
    if (!path) return JS_EXCEPTION;
    if (strlen(path) != len || len >= PATH_LEN) {
        JS_FreeCString(ctx, path);
        return qcam_throw_errno(ctx, len >= PATH_LEN ? ENAMETOOLONG : EINVAL, "new TsReader: bad path");
    }
    ts_reader *h = calloc(1, sizeof *h);
    if (!h) {
        JS_FreeCString(ctx, path);
        return JS_ThrowOutOfMemory(ctx);
    }
    h->fd = -1;
    memcpy(h->path, path, len + 1);
    JS_FreeCString(ctx, path);
    const qcam_run_options *o = qcam_app_options(qcam_app_of(ctx));
    if (!(h->card = qcam_fs_card_open(o->sdcard_dir, o->sdcard_cap))) {
        free(h);
        return qcam_throw_errno(ctx, errno, "cannot open the SD card");
    }
    JSValue err = JS_UNDEFINED;
    h->fd = qcam_fs_open(h->card, h->path, QCAM_FS_READ);
    if (h->fd < 0) {
        err = qcam_throw_errno(ctx, -h->fd, "open %s", h->path);
        goto fail;
    }
    qcam_fs_stat_info st;
    int r = qcam_fs_fstat(h->fd, &st);
    if (r == 0 && !st.is_file) r = -EISDIR;
    if (r == 0) {
        h->src = (qcam_ts_source){fd_read, &h->fd, st.size};
        r = qcam_ts_read(&h->src, &h->idx);
    }
    if (r == -EBADMSG) {
        err = qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "%s, in %s", h->idx.error, h->path);
        goto fail;
    }
    if (r < 0) {
        err = qcam_throw_errno(ctx, -r, "read %s", h->path);
        goto fail;
    }
    qcam_annexb_init(&h->annexb, h->idx.codec);
    JSValue proto = JS_GetPropertyStr(ctx, new_target, "prototype");
    JSValue obj = JS_NewObjectProtoClass(ctx, proto, reader_class);
    JS_FreeValue(ctx, proto);
    if (JS_IsException(obj)) {
        err = obj;
        goto fail;
    }
    h->res.kind = "TsReader";
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

enum { G_PATH, G_DURATION, G_TRACKS };

static JSValue reader_getter(JSContext *ctx, JSValueConst this_val, int magic)
{
    ts_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    const qcam_ts_index *x = &h->idx;
    double seconds = (double)x->duration / 90000;
    switch (magic) {
    case G_PATH: return JS_NewString(ctx, h->path);
    case G_DURATION: return JS_NewFloat64(ctx, seconds);
    default: {
        JSValue a = JS_NewArray(ctx), t = JS_NewObject(ctx);
        if (JS_IsException(a) || JS_IsException(t) || set_num(ctx, t, "id", x->pid) < 0 ||
            JS_DefinePropertyValueStr(ctx, t, "kind", JS_NewString(ctx, "video"), JS_PROP_C_W_E) < 0 ||
            JS_DefinePropertyValueStr(ctx, t, "codec", JS_NewString(ctx, x->codec == QCAM_CODEC_H265 ? "h265" : "h264"),
                                      JS_PROP_C_W_E) < 0 ||
            set_num(ctx, t, "width", x->width) < 0 || set_num(ctx, t, "height", x->height) < 0 ||
            set_num(ctx, t, "timescale", 90000) < 0 || set_num(ctx, t, "duration", seconds) < 0 ||
            set_num(ctx, t, "samples", (double)x->n_frames) < 0 ||
            set_num(ctx, t, "keyframes", (double)x->keyframes) < 0) {
            JS_FreeValue(ctx, a);
            JS_FreeValue(ctx, t);
            return JS_EXCEPTION;
        }
        if (JS_SetPropertyUint32(ctx, a, 0, t) < 0) {
            JS_FreeValue(ctx, a);
            return JS_EXCEPTION;
        }
        return a;
    }
    }
}

/* ---- read() and seek() ------------------------------------------------------------ */

static JSValue reader_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ts_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    if (!track_ok(ctx, h, argc, argv, 0, "read")) return JS_EXCEPTION;
    size_t k = h->cursor;
    if (k >= h->idx.n_frames) return JS_NULL;
    const qcam_ts_frame *f = &h->idx.frames[k];
    qcam_packet *pkt = qcam_packet_new(f->size);
    if (!pkt) return JS_ThrowOutOfMemory(ctx);
    int r = qcam_ts_read_frame(&h->src, &h->idx, k, pkt->data);
    if (r < 0) {
        qcam_packet_unref(pkt);
        if (r == -EBADMSG)
            return qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "ts: frame %zu is no longer where the file had it, in %s", k,
                              h->path);
        return qcam_throw_errno(ctx, -r, "read frame %zu of %s", k, h->path);
    }
    pkt->codec = h->idx.codec;
    qcam_au_info ai;
    qcam_annexb_classify(&h->annexb, pkt->data, pkt->size, &ai);
    pkt->type = ai.type == QCAM_PKT_HEADER && f->key ? QCAM_PKT_I : ai.type;
    pkt->keyframe = f->key;
    pkt->pts_us = to_us(f->pts);
    pkt->dts_us = to_us(f->dts);
    pkt->seq = k;
    h->cursor = k + 1;
    return qcam_js_frame_new(ctx, pkt);
}

static JSValue reader_seek(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ts_reader *h = reader_get(ctx, this_val);
    if (!h) return JS_EXCEPTION;
    double sec;
    if (argc < 1 || !JS_IsNumber(argv[0]) || JS_ToFloat64(ctx, &sec, argv[0]) < 0 || !isfinite(sec))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "seek(seconds: number, track?: number)");
    if (!track_ok(ctx, h, argc, argv, 1, "seek")) return JS_EXCEPTION;
    /* The last keyframe (decode order) presented at or before `sec`; else the first one. */
    double target = sec * 1e6;
    size_t best = 0;
    bool found = false;
    for (size_t k = 0; k < h->idx.n_frames; k++) {
        if (!h->idx.frames[k].key) continue;
        if (!found || (double)to_us(h->idx.frames[k].pts) <= target) best = k;
        found = true;
    }
    h->cursor = best;
    return JS_NewFloat64(ctx, (double)to_us(h->idx.frames[best].pts) / 1e6);
}

static JSValue reader_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc;
    (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, reader_class, "TsReader", &opaque) < 0) return JS_EXCEPTION;
    ts_reader *h = opaque;
    if (!h) return JS_UNDEFINED;
    JS_SetOpaque(this_val, NULL);
    qcam_resource_remove(qcam_app_of(ctx), &h->res);
    reader_free_native(h);
    free(h);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry reader_proto[] = {
    JS_CFUNC_DEF("read", 0, reader_read),
    JS_CFUNC_DEF("seek", 1, reader_seek),
    JS_CFUNC_DEF("close", 0, reader_close),
    JS_CGETSET_MAGIC_DEF("path", reader_getter, NULL, G_PATH),
    JS_CGETSET_MAGIC_DEF("duration", reader_getter, NULL, G_DURATION),
    JS_CGETSET_MAGIC_DEF("tracks", reader_getter, NULL, G_TRACKS),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "TsReader", JS_PROP_CONFIGURABLE),
};

/* ---- probe(path) ------------------------------------------------------------------- */

static JSValue js_probe(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    if (argc < 1 || !JS_IsString(argv[0])) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "probe(path: string)");
    size_t len;
    const char *path = JS_ToCStringLen(ctx, &len, argv[0]);
    if (!path) return JS_EXCEPTION;
    if (strlen(path) != len) {
        JS_FreeCString(ctx, path);
        return qcam_throw_errno(ctx, EINVAL, "probe: path contains a NUL byte");
    }
    const qcam_run_options *o = qcam_app_options(qcam_app_of(ctx));
    qcam_fs_card *card = qcam_fs_card_open(o->sdcard_dir, o->sdcard_cap);
    if (!card) {
        JS_FreeCString(ctx, path);
        return qcam_throw_errno(ctx, errno, "cannot open the SD card");
    }
    JSValue ret;
    int fd = qcam_fs_open(card, path, QCAM_FS_READ);
    qcam_ts_index idx;
    memset(&idx, 0, sizeof idx);
    int r = fd;
    if (fd >= 0) {
        qcam_fs_stat_info st;
        r = qcam_fs_fstat(fd, &st);
        if (r == 0 && !st.is_file) r = -EISDIR;
        if (r == 0) {
            qcam_ts_source src = {fd_read, &fd, st.size};
            r = qcam_ts_probe(&src, &idx);
        }
        qcam_fs_close(fd);
    }
    qcam_fs_card_close(card);
    if (r == -EBADMSG && fd >= 0) {
        ret = qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "%s, in %s", idx.error, path);
    } else if (r < 0) {
        ret = qcam_throw_errno(ctx, -r, "%s %s", fd < 0 ? "open" : "read", path);
    } else {
        ret = JS_NewObject(ctx);
        if (!JS_IsException(ret) &&
            (JS_DefinePropertyValueStr(ctx, ret, "codec", JS_NewString(ctx, idx.codec == QCAM_CODEC_H265 ? "h265" : "h264"),
                                       JS_PROP_C_W_E) < 0 ||
             set_num(ctx, ret, "width", idx.width) < 0 || set_num(ctx, ret, "height", idx.height) < 0 ||
             set_num(ctx, ret, "duration", (double)idx.duration / 90000) < 0)) {
            JS_FreeValue(ctx, ret);
            ret = JS_EXCEPTION;
        }
    }
    qcam_ts_index_clear(&idx);
    JS_FreeCString(ctx, path);
    return ret;
}

static const JSCFunctionListEntry reader_funcs[] = {
    JS_CFUNC_DEF("probe", 1, js_probe),
};

void qcam_ts_reader_declare(JSContext *ctx, JSModuleDef *m)
{
    JS_AddModuleExport(ctx, m, "TsReader");
    JS_AddModuleExportList(ctx, m, reader_funcs, (int)(sizeof reader_funcs / sizeof reader_funcs[0]));
}

int qcam_ts_reader_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_video_class_init(ctx) < 0) return -1; /* read() hands out Frames */
    if (qcam_class_init(ctx, &reader_class, &reader_def, reader_proto,
                        (int)(sizeof reader_proto / sizeof reader_proto[0]), "close") < 0)
        return -1;
    if (qcam_export_class(ctx, m, "TsReader", reader_class, reader_ctor, 1, JS_CFUNC_constructor) < 0) return -1;
    return JS_SetModuleExportList(ctx, m, reader_funcs, (int)(sizeof reader_funcs / sizeof reader_funcs[0]));
}
