/* qcam:display HAL: the board's panel, a video layer and an overlay layer.
 * Plain C, no engine types, negative errno returns.
 *
 * Model. A display is one panel (its size fixed by the board) showing two
 * layers: the video layer (a camera channel or a decoded picture, scaled to
 * fit or to fill) and above it the overlay, premultiplied ARGB the UI draws
 * on (draw.h), both in logical coordinates: the panel turned by `rotation`
 * (0, 90, 180, 270 degrees clockwise; 90 and 270 swap width and height). The
 * app draws on the overlay canvas with no lock and no effect on the panel;
 * flush() carries the canvas' damage (the union of what was drawn since the
 * last flush) to the panel, so only changed regions move. A bound video
 * source is read by the display's own thread: each frame is scaled onto the
 * video layer and composed under the last flushed overlay, with no
 * JavaScript per frame. The backlight scales what the panel shows (0 is
 * dark, 100 full).
 *
 * Lifetimes. open() gives the only display (-EBUSY for a second one);
 * close() unbinds, stops the panel and frees everything. A picture shown with
 * show_picture() is referenced until replaced or hidden. A bound source is
 * the caller's: unbind() (or close) returns only after the display's thread
 * has stopped reading it, so the caller may then release it.
 *
 * Threads. The canvas, flush, show/bind/unbind and the setters belong to one
 * thread (the app's); get_info/get_stats may be called from anywhere. The
 * bind thread never calls back into the caller except through src->read.
 *
 * Board mapping (docs/porting.md; no board backend is written yet):
 *  - MaixCAM (SG2002): the panel is the MIPI/RGB LCD behind CVI VO
 *    (CVI_VO_SetPubAttr/Enable, CVI_VO_EnableVideoLayer); the video layer is
 *    a VO channel bound to a VPSS channel of the camera with CVI_SYS_Bind (no
 *    copy, no thread of ours); show_picture sends a frame with
 *    CVI_VO_SendFrame. The overlay is an ARGB8888 region of the OSD (RGN
 *    OVERLAYEX attached to the VO channel, or the fb0 framebuffer), updated
 *    with CVI_RGN_GetCanvasInfo / UpdateCanvas over the flushed rectangle.
 *    Rotation: VO channel rotation (CVI_VO_SetChnRotation) plus the overlay
 *    drawn turned. Backlight: the PWM behind the panel's backlight.
 *  - K230: kd_mpi_vo_init with the ST7701 800x480 or HDMI (LT9611) timing;
 *    the video layer is K_VO_LAYER1 (LAYER_VIDEO1) bound to a vicap channel
 *    with kd_mpi_sys_bind (MPP bind_layer), show_picture =
 *    kd_mpi_vo_chn_insert_frame; the overlay is an OSD layer
 *    (K_VO_OSD0, ARGB8888) whose buffer we fill, kd_mpi_vo_osd_enable.
 *    Rotation: the layer's K_ROTATION_* on video, the overlay drawn turned.
 *  The sim composes both layers in software into an RGBA panel that the
 *  browser page shows (sim_panel.h). */
#ifndef QCAM_DISPLAY_HAL_H
#define QCAM_DISPLAY_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../link/link.h"
#include "../media/media.h"
#include "draw.h"

typedef struct qcam_display qcam_display;

/* A board's panel. */
typedef struct {
    const char *board; /* "maixcam", "maixcam-pro", "k230-lcd", "k230-hdmi" */
    int width, height; /* pixels, as mounted (rotation 0) */
    bool touch;
} qcam_panel;

/* The panel of `board` (NULL: the platform's default), or NULL for an unknown
 * board. qcam_panels() lists every board, NULL-terminated by board. */
const qcam_panel *qcam_panel_of(const char *board);
const qcam_panel *qcam_panels(void);

typedef struct {
    const char *board; /* NULL: the platform's (sim: maixcam) */
    int rotation;      /* 0, 90, 180, 270 */
    int backlight;     /* 0..100 */
    /* sim only: the page server (sim_page.h). port 0: any free port. */
    int port;
    bool quiet; /* do not print the page's URL */
} qcam_display_config;

typedef struct {
    qcam_panel panel;
    int width, height; /* logical: the panel turned by rotation */
    int rotation, backlight;
    int port; /* sim: the page's port (0: none) */
} qcam_display_info;

typedef struct {
    uint64_t flushes;       /* flush() calls that carried damage */
    uint64_t flushed_px;    /* overlay pixels carried by them */
    uint64_t video_frames;  /* frames composed onto the video layer */
    uint64_t panel_frames;  /* times the panel changed */
    uint64_t video_cpu_us;  /* CPU time of the bind thread */
} qcam_display_stats;

/* -EINVAL bad config (err says which), -EBUSY a display is open,
 * -EADDRINUSE/-EACCES the sim page's port, -ENOMEM. */
int qcam_display_open(const qcam_display_config *cfg, qcam_display **out, char *err, size_t err_len);
void qcam_display_close(qcam_display *d);
void qcam_display_get_info(qcam_display *d, qcam_display_info *info);
void qcam_display_get_stats(qcam_display *d, qcam_display_stats *st);

/* -EINVAL for other values. A rotation clears the overlay canvas (its size
 * may change) and redraws the panel. */
int qcam_display_set_rotation(qcam_display *d, int rotation);
int qcam_display_set_backlight(qcam_display *d, int percent);

/* The overlay the app draws on (logical size). */
qcam_canvas *qcam_display_canvas(qcam_display *d);
/* Carry the canvas' damage to the panel; *done (may be NULL) gets what was
 * carried (empty when nothing was drawn). */
void qcam_display_flush(qcam_display *d, qcam_rect *done);

/* Show one picture on the video layer (takes a reference; fill: cover the
 * panel, cropping; else fit, letterboxed on black). Unbinds a bound source. */
int qcam_display_show_picture(qcam_display *d, qcam_picture *pic, bool fill);
/* Read `src` on the display's thread and show every frame it gives. */
int qcam_display_bind(qcam_display *d, const qcam_link_source *src, bool fill);
/* Stop reading the bound source (no-op when none). */
void qcam_display_unbind(qcam_display *d);
/* Black video layer (unbinds). */
void qcam_display_hide_video(qcam_display *d);

/* The panel as shown, RGBA, panel size (sim: what the page gets; boards: a
 * read-back of the composed layers). rgba must hold width*height*4 bytes.
 * Returns the panel's change counter. */
uint64_t qcam_display_read_panel(qcam_display *d, uint8_t *rgba);

#endif
