/* qcam:time HAL: clocks and sleeping. Every board runs a POSIX libc, so one
 * backend (backend_posix.c) serves all platforms. */
#ifndef QCAM_TIME_H
#define QCAM_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* Microseconds since this runtime process started (never goes back). */
int64_t qcam_time_ticks_us(void);
/* CLOCK_MONOTONIC in microseconds (since boot on Linux). */
int64_t qcam_time_monotonic_us(void);
/* Wall clock: microseconds since the Unix epoch. */
int64_t qcam_time_wall_us(void);
/* Sleep `us`; returns early (true) when stop(arg) turns true, checked after
 * every interruption by a signal. */
bool qcam_time_sleep_us(int64_t us, bool (*stop)(void *arg), void *arg);

#endif
