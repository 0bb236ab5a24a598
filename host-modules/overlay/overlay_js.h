/* The Overlay class (qcam:overlay) as other bindings see it: link() takes
 * one in its options and draws with it on the link's encode thread. */
#ifndef QCAM_OVERLAY_JS_H
#define QCAM_OVERLAY_JS_H

#include "quickjs.h"

#include "overlay.h"

/* 1 with *out (borrowed; NULL once closed) when `val` is an Overlay, else 0. */
int qcam_js_overlay_of(JSValueConst val, qcam_overlay **out);

#endif
