/* placeholder until this half of qcam:mp4 lands */
#include "mp4_js.h"

void qcam_mp4_writer_declare(JSContext *ctx, JSModuleDef *m)
{
    (void)ctx;
    (void)m;
}

int qcam_mp4_writer_init(JSContext *ctx, JSModuleDef *m)
{
    (void)ctx;
    (void)m;
    return 0;
}
