/* The two halves of qcam:mp4's binding, registered by mod_mp4.c:
 *   mp4_writer_js.c  Mp4Writer (a link sink)
 *   mp4_reader_js.c  Mp4Reader and repair() */
#ifndef QCAM_MP4_JS_H
#define QCAM_MP4_JS_H

#include "quickjs.h"

/* Export names each half adds (declared before the module is instantiated). */
void qcam_mp4_writer_declare(JSContext *ctx, JSModuleDef *m);
void qcam_mp4_reader_declare(JSContext *ctx, JSModuleDef *m);
/* Create the classes/functions and set the exports: 0, or -1 after throwing. */
int qcam_mp4_writer_init(JSContext *ctx, JSModuleDef *m);
int qcam_mp4_reader_init(JSContext *ctx, JSModuleDef *m);

#endif
