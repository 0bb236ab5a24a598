/* What this build of the runtime is: the facts an image must match (engine,
 * bytecode, target, host-module ABI), as the runtime checks them. */
#ifndef QCAM_BUILD_FACTS_H
#define QCAM_BUILD_FACTS_H

#include "image.h"

void qcam_build_expect(qcam_image_expect *ex);

#endif
