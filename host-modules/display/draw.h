/* Software drawing on a display layer: the overlay the UI draws on and the
 * sim's video layer. Plain C, no engine types, no platform: the boards' OSD
 * layers are ARGB buffers too (MaixCAM's OSD region, K230's OSD layers), so
 * the same code fills them.
 *
 * A canvas is w x h pixels of premultiplied ARGB8888 (0xAARRGGBB with R, G, B
 * already multiplied by A), row after row. Colors given to the functions are
 * straight (not premultiplied) 0xAARRGGBB; each shape is drawn "source over"
 * what is there, antialiased on its edges (coverage scales the alpha), clipped
 * to the canvas, and adds its bounding box to the canvas' damage: the region
 * a flush must carry to the panel. Coordinates are pixels, (0,0) top left. */
#ifndef QCAM_DISPLAY_DRAW_H
#define QCAM_DISPLAY_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include "../media/media.h"
#include "font.h"

typedef struct {
    int x, y, w, h; /* w or h 0: empty */
} qcam_rect;

typedef struct {
    uint32_t *px;
    int w, h;
    qcam_rect damage; /* union of what changed since the last take */
} qcam_canvas;

bool qcam_rect_empty(const qcam_rect *r);
/* a := the smallest rectangle holding a and b. */
void qcam_rect_union(qcam_rect *a, const qcam_rect *b);
/* a := a ∩ b (may become empty). */
void qcam_rect_clip(qcam_rect *a, const qcam_rect *b);

/* Every pixel := color (replaced, not blended); damages the whole canvas. */
void qcam_draw_clear(qcam_canvas *c, uint32_t color);
/* A filled rectangle, corners rounded with `radius` (0: square). */
void qcam_draw_fill_rect(qcam_canvas *c, int x, int y, int w, int h, int radius, uint32_t color);
/* Its outline, `thickness` pixels inside the rectangle. */
void qcam_draw_stroke_rect(qcam_canvas *c, int x, int y, int w, int h, int radius, int thickness, uint32_t color);
/* A line between pixel centers, `thickness` pixels wide, round caps. */
void qcam_draw_line(qcam_canvas *c, int x0, int y0, int x1, int y1, int thickness, uint32_t color);
/* Text with its line box's top-left corner at (x, y): the baseline is at
 * y + ascent. Returns the width drawn (qcam_font_measure's). */
int qcam_draw_text(qcam_canvas *c, const qcam_font_size *fs, int x, int y, const char *text, size_t len,
                   uint32_t color);
/* A picture (nv21, nv12, yuv420p, rgb888, gray; BT.601 limited range for
 * YUV) scaled (nearest) from its region `src` into `dst`, opaque. */
void qcam_draw_picture(qcam_canvas *c, const qcam_picture *pic, const qcam_rect *src, const qcam_rect *dst);

/* The same picture, a row at a time, for a caller that composes rows as it
 * goes (the sim's display, straight onto its panel): the columns [x, x + w),
 * which lie inside dst. NULL on OOM, or when there is nothing to draw (w < 1,
 * src or dst empty). */
typedef struct qcam_picture_rows qcam_picture_rows;
qcam_picture_rows *qcam_picture_rows_new(const qcam_picture *pic, const qcam_rect *src, const qcam_rect *dst, int x,
                                         int w);
/* Row y (dst.y <= y < dst.y + dst.h) into out[0..w), opaque 0xffRRGGBB. */
void qcam_picture_rows_get(qcam_picture_rows *pr, int y, uint32_t *out);
void qcam_picture_rows_free(qcam_picture_rows *pr);

/* Where a w x h picture goes in a box: fit (letterboxed, all of it shown) or
 * fill (cropped, the box covered). *src is the part of the picture shown,
 * *dst where it lands. */
void qcam_fit(int pic_w, int pic_h, const qcam_rect *box, bool fill, qcam_rect *src, qcam_rect *dst);

#endif
