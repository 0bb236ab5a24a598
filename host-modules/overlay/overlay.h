/* qcam:overlay — text burned into pictures: a template with strftime fields
 * (%Y %m %d %H %M %S, UTC) and tokens ({frame} {fps} {seq}), drawn with the
 * display's font atlas (host-modules/display/font.h: one font, one
 * rasterizer) over an optional shaded box, straight into the planes of an
 * NV21, NV12, YUV420P or GRAY picture. Plain C, no engine types: a link's
 * encode thread draws with it (link.h), and so does Overlay.draw(image).
 * An overlay is reference counted; draw() is safe from several threads. */
#ifndef QCAM_OVERLAY_H
#define QCAM_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../media/media.h"

#define QCAM_OVERLAY_TEXT_MAX 255 /* bytes of template and of expanded text */

typedef enum {
    QCAM_OVERLAY_TOP_LEFT,
    QCAM_OVERLAY_TOP_RIGHT,
    QCAM_OVERLAY_BOTTOM_LEFT,
    QCAM_OVERLAY_BOTTOM_RIGHT,
    QCAM_OVERLAY_XY, /* x, y: the box's top-left corner */
} qcam_overlay_anchor;

typedef struct {
    char text[QCAM_OVERLAY_TEXT_MAX + 1];
    qcam_overlay_anchor anchor;
    int x, y, margin;   /* margin: from the picture's edges, for the corners */
    int size, scale;    /* atlas pixel size; whole-number magnification 1..8 */
    uint8_t color[3];   /* R, G, B */
    bool box;           /* a shaded box behind the text */
    uint8_t box_color[3];
    int opacity;        /* of the box, percent */
    int padding;        /* around the text inside the box */
} qcam_overlay_config;

typedef struct qcam_overlay qcam_overlay;

/* -EINVAL for a template with an unknown field (`%x`, `{name}`) or a size
 * the atlas lacks; -ENOMEM. */
int qcam_overlay_check(const char *tmpl);
qcam_overlay *qcam_overlay_new(const qcam_overlay_config *cfg, int *err);
qcam_overlay *qcam_overlay_ref(qcam_overlay *ov);
void qcam_overlay_unref(qcam_overlay *ov);
const qcam_overlay_config *qcam_overlay_config_of(const qcam_overlay *ov);

/* The template expanded for wall time `time_ms` (UTC), frame number, fps
 * (printed with one decimal, rounded half up) and sequence number. Returns
 * the length written into out[QCAM_OVERLAY_TEXT_MAX + 1] (cut at that). */
size_t qcam_overlay_expand(const char *tmpl, int64_t time_ms, uint64_t frame, double fps, uint64_t seq,
                           char *out);

/* Draw onto `pic` for the wall clock now: {frame} is the number of pictures
 * this overlay drew before, {fps} their rate over the last whole second of
 * capture time (pts), {seq} the picture's. 0, or -ENOTSUP for a format
 * without a Y plane (rgb888, audio), which is left as it was. */
int qcam_overlay_draw(qcam_overlay *ov, qcam_picture *pic);
/* The same at a given time: what draw() uses. */
int qcam_overlay_draw_at(qcam_overlay *ov, qcam_picture *pic, int64_t time_ms);
uint64_t qcam_overlay_frames(qcam_overlay *ov);

#endif
