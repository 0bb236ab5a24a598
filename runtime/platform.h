/* The few things that are Linux- or glibc-specific live behind this header,
 * in platform_linux.c. Everything else in the runtime is plain POSIX. */
#ifndef QCAM_PLATFORM_H
#define QCAM_PLATFORM_H

/* Peak resident set size of this process in KiB, or -1 if unknown. */
long qcam_platform_peak_rss_kb(void);
/* Name the calling thread (shows in top/ps); best effort. */
void qcam_platform_name_thread(const char *name);

#endif
