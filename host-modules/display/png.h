/* PNG writing for screenshots: RGBA 8-bit, deflate's stored blocks (no
 * compression: the sim's screenshots are for tests and tools on localhost). */
#ifndef QCAM_DISPLAY_PNG_H
#define QCAM_DISPLAY_PNG_H

#include <stddef.h>
#include <stdint.h>

/* A malloc'd PNG of w x h RGBA pixels into *out, its size into *len. -ENOMEM. */
int qcam_png_rgba(const uint8_t *rgba, int w, int h, uint8_t **out, size_t *len);

#endif
