/* The reader half of qcam:ts's binding (ts_reader_js.c: TsReader, probe()),
 * registered by mod_ts.c beside TsWriter and remux(). */
#ifndef QCAM_TS_JS_H
#define QCAM_TS_JS_H

#include "quickjs.h"

/* Export names it adds (declared before the module is instantiated). */
void qcam_ts_reader_declare(JSContext *ctx, JSModuleDef *m);
/* Create the class and set the exports: 0, or -1 after throwing. */
int qcam_ts_reader_init(JSContext *ctx, JSModuleDef *m);

#endif
