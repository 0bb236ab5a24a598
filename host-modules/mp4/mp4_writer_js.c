/* qcam:mp4 — Mp4Writer (its calls, for the writers' class binding in
 * media/writer_js.c) and remux(). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../media/segmenter.h"
#include "../media/writer_js.h"
#include "mp4_js.h"
#include "mp4_remux.h"
#include "mp4_write.h"

/* ---- Mp4Writer: the class binding is media/writer_js.c ------------------------------- */

static int mp4_open(qcam_fs_card *card, const qcam_writer_config *cfg, qcam_sink **out)
{
    qcam_mp4_writer *w = NULL;
    int r = qcam_mp4_writer_open(card, cfg, &w);
    *out = w ? qcam_mp4_writer_sink(w) : NULL;
    return r;
}

static JSValue mp4_stats(JSContext *ctx, qcam_sink *w)
{
    qcam_mp4_writer_stats st;
    qcam_mp4_writer_stats_get(qcam_mp4_writer_of(w), &st);
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "videoFrames", JS_NewInt64(ctx, (int64_t)st.video_frames));
    JS_SetPropertyStr(ctx, o, "audioFrames", JS_NewInt64(ctx, (int64_t)st.audio_frames));
    JS_SetPropertyStr(ctx, o, "fragments", JS_NewInt64(ctx, (int64_t)st.fragments));
    JS_SetPropertyStr(ctx, o, "bytes", JS_NewInt64(ctx, (int64_t)st.bytes));
    JS_SetPropertyStr(ctx, o, "segments", JS_NewInt64(ctx, (int64_t)st.segments));
    JS_SetPropertyStr(ctx, o, "dropped", JS_NewInt64(ctx, (int64_t)st.dropped));
    return o;
}

static const qcam_writer_class mp4_writer_class = {
    .name = "Mp4Writer",
    .usage = "new Mp4Writer(path, {video?, audio?, ...})",
    .keys = (const char *const[]){"video", "audio", "fragmentMs", "finalize", "segment", "onSegment", "onFull", "onError", NULL},
    .fragments = true,
    .open = mp4_open,
    .path = qcam_segmenter_sink_path,   /* the writer's sink is its segmenter's */
    .stats = mp4_stats,
    .close = qcam_segmenter_sink_close,
};

/* ---- remux(input, output, {fps, codec}) ------------------------------------------- */

static int bad(JSContext *ctx, qcam_error_kind kind, const char *msg)
{
    qcam_throw(ctx, kind, "ERR_INVALID_ARG", "%s", msg);
    return -1;
}

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

static int remux_options(JSContext *ctx, JSValueConst o, qcam_mp4_remux_options *ro)
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

static JSValue js_remux(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    const char *usage = "remux(input: string, output: string, options?: {fps?: number, codec?: \"h264\" | \"h265\"})";
    if (argc < 2) return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s", usage);
    qcam_mp4_remux_options ro = {.codec = 0, .fps = 30};
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
    qcam_mp4_remux_result res;
    const char *what = NULL;
    int r = qcam_mp4_remux(card, in, out, &ro, &res, &what);
    qcam_fs_card_close(card);
    if (r == -EBADMSG && what) {
        qcam_throw(ctx, QCAM_ERROR, "EBADMSG", "%s in %s (not an %s elementary stream, or cut before its first picture)",
                   what, in, ro.codec == QCAM_CODEC_H264 ? "H.264" : "H.265");
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

static const JSCFunctionListEntry writer_funcs[] = {
    JS_CFUNC_DEF("remux", 2, js_remux),
};

void qcam_mp4_writer_declare(JSContext *ctx, JSModuleDef *m)
{
    JS_AddModuleExport(ctx, m, "Mp4Writer");
    JS_AddModuleExportList(ctx, m, writer_funcs, (int)(sizeof writer_funcs / sizeof writer_funcs[0]));
}

int qcam_mp4_writer_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_writer_class_init(ctx, m, QCAM_WRITER_MP4, &mp4_writer_class) < 0) return -1;
    return JS_SetModuleExportList(ctx, m, writer_funcs, (int)(sizeof writer_funcs / sizeof writer_funcs[0]));
}
