/* The shared sample index (mp4.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mp4.h"

int qcam_mp4_track_push(qcam_mp4_track *t, const qcam_mp4_sample *s)
{
    if (t->n_samples == t->cap_samples) {
        size_t cap = t->cap_samples ? t->cap_samples * 2 : 256;
        qcam_mp4_sample *p = realloc(t->samples, cap * sizeof *p);
        if (!p) return -ENOMEM;
        t->samples = p;
        t->cap_samples = cap;
    }
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
