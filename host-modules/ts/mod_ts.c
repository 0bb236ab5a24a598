/* qcam:ts — TsWriter: its calls, for the writers' class binding in
 * media/writer_js.c (the options, errors and methods it shares with
 * Mp4Writer); remux(); TsReader (ts_reader_js.c). */
#include "../modules.h"
#include "../media/segmenter.h"
#include "../media/writer_js.h"
#include "ts_js.h"
#include "ts_remux.h"
#include "ts_write.h"

static int ts_open(qcam_fs_card *card, const qcam_writer_config *cfg, qcam_sink **out)
{
    qcam_ts_writer *w = NULL;
    int r = qcam_ts_writer_open(card, cfg, &w);
    *out = w ? qcam_ts_writer_sink(w) : NULL;
    return r;
}

static JSValue ts_stats(JSContext *ctx, qcam_sink *w)
{
    qcam_ts_writer_stats st;
    qcam_ts_writer_stats_get(qcam_ts_writer_of(w), &st);
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "videoFrames", JS_NewInt64(ctx, (int64_t)st.video_frames));
    JS_SetPropertyStr(ctx, o, "bytes", JS_NewInt64(ctx, (int64_t)st.bytes));
    JS_SetPropertyStr(ctx, o, "segments", JS_NewInt64(ctx, (int64_t)st.segments));
    JS_SetPropertyStr(ctx, o, "dropped", JS_NewInt64(ctx, (int64_t)st.dropped));
    return o;
}

static const qcam_writer_class ts_writer_class = {
    .name = "TsWriter",
    .usage = "new TsWriter(path, {video, segment?, ...})",
    .keys = (const char *const[]){"video", "audio", "segment", "onSegment", "onFull", "onError", NULL},
    /* G.711 has no standard MPEG-TS mapping */
    .no_audio = "TsWriter has no audio: G.711 has no standard MPEG-TS mapping (record audio with Mp4Writer)",
    .open = ts_open,
    .path = qcam_segmenter_sink_path,   /* the writer's sink is its segmenter's */
    .stats = ts_stats,
    .close = qcam_segmenter_sink_close,
};

/* remux(input, output, {fps, codec}): as qcam:mp4's, into MPEG-TS (media/writer_js.c). */
static JSValue js_remux(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    return qcam_remux_js(ctx, argc, argv, qcam_ts_remux);
}

static const JSCFunctionListEntry ts_funcs[] = {
    JS_CFUNC_DEF("remux", 2, js_remux),
};

static int ts_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (JS_SetModuleExportList(ctx, m, ts_funcs, 1) < 0 || qcam_ts_reader_init(ctx, m) < 0) return -1;
    return qcam_writer_class_init(ctx, m, QCAM_WRITER_TS, &ts_writer_class);
}

JSModuleDef *qcam_mod_ts_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, ts_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "TsWriter");
    JS_AddModuleExportList(ctx, m, ts_funcs, 1);
    qcam_ts_reader_declare(ctx, m);
    return m;
}
