#include "modules.h"

#include <string.h>

static const qcam_module_entry modules[] = {
    {"qcam:app", qcam_mod_app_init},
    {"qcam:time", qcam_mod_time_init},
    {"qcam:image", qcam_mod_image_init},
    {"qcam:camera", qcam_mod_camera_init},
    {"qcam:fs", qcam_mod_fs_init},
    {"qcam:link", qcam_mod_link_init},
    {"qcam:video", qcam_mod_video_init},
    {"qcam:audio", qcam_mod_audio_init},
    {"qcam:mp4", qcam_mod_mp4_init},
    {"qcam:ts", qcam_mod_ts_init},
    {"qcam:overlay", qcam_mod_overlay_init},
    {"qcam:rtsp", qcam_mod_rtsp_init},
    {"qcam:display", qcam_mod_display_init},
    {"qcam:input", qcam_mod_input_init},
    {"qcam:publish", qcam_mod_publish_init},
    {"qcam:mqtt", qcam_mod_mqtt_init},
    {NULL, NULL},
};

const qcam_module_entry *qcam_module_list(void) { return modules; }

const qcam_module_entry *qcam_find_module(const char *name)
{
    for (const qcam_module_entry *m = modules; m->name; m++)
        if (strcmp(m->name, name) == 0) return m;
    return NULL;
}
