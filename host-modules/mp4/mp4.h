/* qcam:mp4 — the shared vocabulary of the MP4 writer, reader and repair.
 * Plain C, no engine types.
 *
 * An index is what a regular MP4's moov says: per track, its sample entry
 * (codec configuration) and one record per sample (where the bytes are in
 * the file, how big, how long, keyframe or not). The writer keeps one while
 * recording fragments; the reader builds one from a regular or fragmented
 * file; qcam_mp4_finalize() turns a fragmented file plus its index into a
 * regular MP4 with the moov at the front. Repair = read (stopping before a
 * torn tail) + finalize. */
#ifndef QCAM_MP4_H
#define QCAM_MP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../fs/fs.h"
#include "../media/media.h"

typedef enum {
    QCAM_MP4_AVC = 1, /* avc1 + avcC */
    QCAM_MP4_HEVC,    /* hvc1 + hvcC */
    QCAM_MP4_ALAW,    /* alaw */
    QCAM_MP4_ULAW,    /* ulaw */
} qcam_mp4_codec;

typedef struct {
    uint64_t offset;   /* of the sample's bytes in the file */
    uint32_t size;
    uint32_t duration; /* in the track's timescale */
    int32_t cts;       /* composition offset (pts - dts), timescale units */
    bool key;
} qcam_mp4_sample;

typedef struct {
    uint32_t id;        /* track_ID, 1-based */
    qcam_mp4_codec codec;
    uint32_t timescale; /* video 90000; audio the sample rate */
    /* video */
    int width, height;
    uint8_t *config;    /* avcC / hvcC payload (without the box header), malloc'd */
    size_t config_len;
    /* audio */
    uint32_t sample_rate;
    uint16_t channels;
    /* samples, decode order */
    qcam_mp4_sample *samples;
    size_t n_samples, cap_samples;
    uint64_t base_dts;  /* decode time of the first sample (timescale units) */
} qcam_mp4_track;

#define QCAM_MP4_MAX_TRACKS 2

typedef struct {
    qcam_mp4_track tracks[QCAM_MP4_MAX_TRACKS];
    unsigned n_tracks;
    uint32_t movie_timescale; /* mvhd timescale (1000) */
    uint64_t creation_time;   /* seconds since 1904-01-01 (0: unknown) */
} qcam_mp4_index;

/* Room for `need` elements of `size` bytes in arr, whose capacity is *cap
 * (doubling, from `first`): arr, moved if it had to grow, or NULL (no
 * memory, or a size past SIZE_MAX; arr and *cap are left as they were).
 * The growable arrays of the index, the reader, the writer and remux. */
void *qcam_mp4_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first);
/* Append a sample; 0 or -ENOMEM. */
int qcam_mp4_track_push(qcam_mp4_track *t, const qcam_mp4_sample *s);
/* Free every track's samples and config; the index is empty afterwards. */
void qcam_mp4_index_clear(qcam_mp4_index *idx);
/* Track duration in its timescale (sum of sample durations). */
uint64_t qcam_mp4_track_duration(const qcam_mp4_track *t);

/* Make `board_path` (a fragmented MP4 whose samples `idx` describes) a
 * regular MP4 with the moov at the front, crash-safely: the new file is
 * written beside it and renamed over it only when complete and synced, so
 * a cut at any moment leaves either the playable fragmented file or the
 * finished one. 0 or -errno (-ENOSPC: the card has no room for the copy;
 * the fragmented file is left as it was). */
int qcam_mp4_finalize(qcam_fs_card *card, const char *board_path, const qcam_mp4_index *idx);

/* Where a file is written before it is renamed over board_path:
 * ".<name><suffix>" in the same folder (finalize: ".final", remux:
 * ".remux"). The folder goes to dir (dir_n bytes) when dir is not NULL.
 * 0, -EISDIR (board_path ends in '/'), -ENAMETOOLONG. */
int qcam_mp4_beside(const char *board_path, const char *suffix, char *out, size_t n, char *dir, size_t dir_n);
/* Make a rename in board_path's folder durable (fsync of the folder); best effort. */
void qcam_mp4_sync_dir(qcam_fs_card *card, const char *board_path);

#endif
