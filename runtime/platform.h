/* The few things that are Linux- or glibc-specific live behind this header,
 * in platform_linux.c. Everything else in the runtime is plain POSIX. */
#ifndef QCAM_PLATFORM_H
#define QCAM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Peak resident set size of this process in KiB, or -1 if unknown. */
long qcam_platform_peak_rss_kb(void);
/* Name the calling thread (shows in top/ps); best effort. */
void qcam_platform_name_thread(const char *name);
/* The folder of this process's executable into out (n bytes). 0, or -1. */
int qcam_platform_exe_dir(char *out, size_t n);
/* Start writing fd's bytes [off, off + len) to storage without waiting, so
 * that a long sequential write is on its way while the writer goes on and
 * the fsync at its end waits for the tail only. Best effort. */
void qcam_platform_writeback(int fd, uint64_t off, uint64_t len);
/* Fill buf with n bytes from the kernel's cryptographically secure random
 * source (getrandom(), else /dev/urandom). 0, or -1 with errno set. */
int qcam_platform_random(void *buf, size_t n);

#endif
