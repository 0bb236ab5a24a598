/* qcam:app HAL: where an app's files live on the board. Apps always see board
 * paths (/sdcard/...); a backend says what those are and where they really
 * are (the sim keeps them inside the folder given by --sdcard). */
#ifndef QCAM_APP_HAL_H
#define QCAM_APP_HAL_H

#include <stddef.h>

typedef enum {
    QCAM_PATH_SDCARD,  /* root of removable storage */
    QCAM_PATH_DATA,    /* this app's private data */
    QCAM_PATH_VIDEO,   /* recordings, shared between apps */
    QCAM_PATH_PICTURE, /* snapshots, shared between apps */
    QCAM_PATH_TMP,     /* scratch, may be wiped at boot */
} qcam_path_kind;

/* Platform name, e.g. "sim", "maixcam", "k230". */
const char *qcam_board_platform(void);
/* Board path of `kind` for app `app_id`. Returns 0, or -ENAMETOOLONG. */
int qcam_board_path(qcam_path_kind kind, const char *app_id, char *out, size_t n);
/* Real location of a board path; `root` is the sim's SD card folder (ignored
 * on boards). Returns 0, -EINVAL for a path outside the board's storage, or
 * -ENAMETOOLONG. */
int qcam_board_host_path(const char *root, const char *board_path, char *out, size_t n);
/* mkdir -p on a real path. Returns 0 or -errno. */
int qcam_board_mkdirs(const char *host_path);

#endif
