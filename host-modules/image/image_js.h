/* The Image class (qcam:image) as other bindings use it: camera and decoder
 * hand out pictures wrapped in Images; the encoder and sinks take them back. */
#ifndef QCAM_IMAGE_JS_H
#define QCAM_IMAGE_JS_H

#include "quickjs.h"

#include "../media/media.h"

/* Wrap `pic`, taking over the caller's reference. */
JSValue qcam_js_image_new(JSContext *ctx, qcam_picture *pic);
/* The picture inside an Image (borrowed), or NULL after throwing
 * ERR_WRONG_THIS / ERR_CLOSED. */
qcam_picture *qcam_js_image_picture(JSContext *ctx, JSValueConst val);

#endif
