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

/* ---- remux(input, output, {fps, codec}) (media/writer_js.c) ------------------------- */

static JSValue js_remux(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    return qcam_remux_js(ctx, argc, argv, qcam_mp4_remux);
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
