#include <errno.h>
#include <time.h>

#include "time.h"

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t qcam_time_monotonic_us(void) { return clock_us(CLOCK_MONOTONIC); }
int64_t qcam_time_wall_us(void) { return clock_us(CLOCK_REALTIME); }

int64_t qcam_time_ticks_us(void)
{
    static int64_t base = -1;
    int64_t now = clock_us(CLOCK_MONOTONIC);
    if (base < 0) base = now;
    return now - base;
}

bool qcam_time_sleep_us(int64_t us, bool (*stop)(void *arg), void *arg)
{
    if (us <= 0) return false;
    struct timespec req = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    struct timespec rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) {
        if (stop && stop(arg)) return true;
        req = rem;
    }
    return false;
}
