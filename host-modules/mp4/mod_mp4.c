/* qcam:mp4 — Mp4Writer, Mp4Reader, repair(). See mp4.d.ts. */
#include "../modules.h"
#include "mp4_js.h"

static int mp4_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_mp4_writer_init(ctx, m) < 0 || qcam_mp4_reader_init(ctx, m) < 0) return -1;
    return 0;
}

JSModuleDef *qcam_mod_mp4_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, mp4_module_init);
    if (!m) return NULL;
    qcam_mp4_writer_declare(ctx, m);
    qcam_mp4_reader_declare(ctx, m);
    return m;
}
