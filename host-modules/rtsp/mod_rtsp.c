/* qcam:rtsp — placeholder until the module lands: exports nothing. */
#include "../modules.h"

static int rtsp_module_init(JSContext *ctx, JSModuleDef *m)
{
    (void)ctx;
    (void)m;
    return 0;
}

JSModuleDef *qcam_mod_rtsp_init(JSContext *ctx, const char *name)
{
    return JS_NewCModule(ctx, name, rtsp_module_init);
}
