/* The shared sample index (mp4.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mp4.h"

void *qcam_mp4_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap) return arr;
    size_t n = *cap ? *cap : first;
    while (n < need) {
        if (n > SIZE_MAX / 2) return NULL;
        n *= 2;
    }
    if (n > SIZE_MAX / size) return NULL;
    void *p = realloc(arr, n * size);
    if (p) *cap = n;
    return p;
}

int qcam_mp4_track_push(qcam_mp4_track *t, const qcam_mp4_sample *s)
{
    qcam_mp4_sample *p = qcam_mp4_grow(t->samples, &t->cap_samples, t->n_samples + 1, sizeof *p, 256);
    if (!p) return -ENOMEM;
    t->samples = p;
    t->samples[t->n_samples++] = *s;
    return 0;
}

void qcam_mp4_index_clear(qcam_mp4_index *idx)
{
    for (unsigned i = 0; i < QCAM_MP4_MAX_TRACKS; i++) {
        free(idx->tracks[i].samples);
        free(idx->tracks[i].config);
    }
    uint32_t ts = idx->movie_timescale;
    memset(idx, 0, sizeof *idx);
    idx->movie_timescale = ts;
}

uint64_t qcam_mp4_track_duration(const qcam_mp4_track *t)
{
    uint64_t d = 0;
    for (size_t i = 0; i < t->n_samples; i++) d += t->samples[i].duration;
    return d;
}
