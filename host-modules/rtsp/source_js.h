/* RtspSource's class, exported by qcam:rtsp's module init (mod_rtsp.c). */
#ifndef QCAM_RTSP_SOURCE_JS_H
#define QCAM_RTSP_SOURCE_JS_H

#include "quickjs.h"

/* Register the class and export "RtspSource" from m. 0 or -1. */
int qcam_rtsp_source_init(JSContext *ctx, JSModuleDef *m);

#endif
