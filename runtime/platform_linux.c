#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "platform.h"

long qcam_platform_peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

void qcam_platform_name_thread(const char *name)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%s", name);
    pthread_setname_np(pthread_self(), buf);
}

int qcam_platform_exe_dir(char *out, size_t n)
{
    if (n < 2) return -1;
    ssize_t len = readlink("/proc/self/exe", out, n - 1);
    if (len <= 0 || (size_t)len >= n - 1) return -1;
    out[len] = 0;
    char *slash = strrchr(out, '/');
    if (!slash) return -1;
    if (slash == out) slash[1] = 0;
    else *slash = 0;
    return 0;
}

void qcam_platform_writeback(int fd, uint64_t off, uint64_t len)
{
    (void)sync_file_range(fd, (off64_t)off, (off64_t)len, SYNC_FILE_RANGE_WRITE);
}
