/* sim: the board's storage is a folder on the PC. /sdcard/x -> <root>/x and
 * /tmp/x -> <root>/.tmp/x, so the same app runs unchanged on board and PC. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"

const char *qcam_board_platform(void) { return "sim"; }

int qcam_board_path(qcam_path_kind kind, const char *app_id, char *out, size_t n)
{
    int r;
    const char *id = app_id && *app_id ? app_id : "app";
    switch (kind) {
    case QCAM_PATH_SDCARD: r = snprintf(out, n, "/sdcard"); break;
    case QCAM_PATH_DATA: r = snprintf(out, n, "/sdcard/apps/%s/data", id); break;
    case QCAM_PATH_VIDEO: r = snprintf(out, n, "/sdcard/video"); break;
    case QCAM_PATH_PICTURE: r = snprintf(out, n, "/sdcard/picture"); break;
    case QCAM_PATH_TMP: r = snprintf(out, n, "/tmp/qcam/%s", id); break;
    default: return -EINVAL;
    }
    return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

static int under(const char *path, const char *prefix, const char **rest)
{
    size_t len = strlen(prefix);
    if (strncmp(path, prefix, len) != 0 || (path[len] != 0 && path[len] != '/')) return 0;
    *rest = path + len;
    return 1;
}

int qcam_board_host_path(const char *root, const char *board_path, char *out, size_t n)
{
    const char *rest;
    int r;
    /* No ".." components: a board path never escapes the card. */
    for (const char *p = board_path; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == board_path || p[-1] == '/') && (p[2] == 0 || p[2] == '/')) return -EINVAL;
    if (under(board_path, "/sdcard", &rest)) r = snprintf(out, n, "%s%s", root, rest);
    else if (under(board_path, "/tmp", &rest)) r = snprintf(out, n, "%s/.tmp%s", root, rest);
    else return -EINVAL;
    return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

int qcam_board_mkdirs(const char *host_path)
{
    char buf[4096];
    size_t len = strlen(host_path);
    if (len == 0 || len >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, host_path, len + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -errno;
            *p = c;
            if (c == 0) break;
        }
    }
    return 0;
}
