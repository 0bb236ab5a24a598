/* The table of host modules a build contains. `qcam:<name>` imports resolve
 * here lazily: a module's init runs the first time an app imports it. */
#ifndef QCAM_MODULES_H
#define QCAM_MODULES_H

#include "quickjs.h"

typedef JSModuleDef *qcam_module_init_fn(JSContext *ctx, const char *name);

typedef struct {
    const char *name; /* "qcam:app" */
    qcam_module_init_fn *init;
} qcam_module_entry;

const qcam_module_entry *qcam_find_module(const char *name);
/* NULL-terminated list of every module in this build. */
const qcam_module_entry *qcam_module_list(void);

/* One init per module. */
JSModuleDef *qcam_mod_app_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_time_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_image_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_camera_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_fs_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_link_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_video_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_audio_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_mp4_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_ts_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_overlay_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_rtsp_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_display_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_input_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_publish_init(JSContext *ctx, const char *name);
JSModuleDef *qcam_mod_mqtt_init(JSContext *ctx, const char *name);

/* Shared between modules: qcam:app re-exports qcam:time's `time` object. */
JSValue qcam_time_object(JSContext *ctx);
/* The Image class, needed by every module that hands out pictures. */
int qcam_image_class_init(JSContext *ctx);

#endif
