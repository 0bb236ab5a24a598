/* ISO BMFF box writing: a growable big-endian byte buffer, boxes whose size
 * is patched when they are closed, and the boxes the writer and finalize
 * share (ftyp, mvhd, trak with its sample entry). Plain C, no I/O. */
#ifndef QCAM_MP4_BOX_H
#define QCAM_MP4_BOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mp4.h"

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool oom; /* an allocation failed: the contents are incomplete */
} qcam_mp4_buf;

void qcam_mp4_buf_free(qcam_mp4_buf *b);
/* Make room for `n` more bytes; false (and oom set) when out of memory. */
bool qcam_mp4_buf_reserve(qcam_mp4_buf *b, size_t n);
void qcam_mp4_put8(qcam_mp4_buf *b, uint8_t v);
void qcam_mp4_put16(qcam_mp4_buf *b, uint16_t v);
void qcam_mp4_put24(qcam_mp4_buf *b, uint32_t v);
void qcam_mp4_put32(qcam_mp4_buf *b, uint32_t v);
void qcam_mp4_put64(qcam_mp4_buf *b, uint64_t v);
void qcam_mp4_put_bytes(qcam_mp4_buf *b, const void *p, size_t n);
void qcam_mp4_put_zeros(qcam_mp4_buf *b, size_t n);
void qcam_mp4_put_fourcc(qcam_mp4_buf *b, const char *fourcc);
/* Patch a 32-bit value written earlier at `at`. */
void qcam_mp4_patch32(qcam_mp4_buf *b, size_t at, uint32_t v);

/* Start a box (size patched by qcam_mp4_box_end); returns its offset. */
size_t qcam_mp4_box(qcam_mp4_buf *b, const char *type);
size_t qcam_mp4_full_box(qcam_mp4_buf *b, const char *type, uint8_t version, uint32_t flags);
void qcam_mp4_box_end(qcam_mp4_buf *b, size_t at);

/* The file type box both the fragmented and the finalized file start with. */
void qcam_mp4_write_ftyp(qcam_mp4_buf *b, const qcam_mp4_index *idx);
/* mvhd with the movie's duration (movie timescale units). */
void qcam_mp4_write_mvhd(qcam_mp4_buf *b, const qcam_mp4_index *idx, uint64_t duration);

/* The sample table of one track in a regular file: `chunk_first[i]` is the
 * index of the first sample of chunk i, `chunk_offset[i]` its offset in the
 * new file. NULL for a fragmented file's empty table. */
typedef struct {
    const size_t *chunk_first;
    const uint64_t *chunk_offset;
    size_t n_chunks;
    bool co64;
} qcam_mp4_chunks;

/* A whole trak box. `duration` in the movie timescale; `edit_delay` (movie
 * timescale) > 0 puts an empty edit in front (a track that starts later). */
void qcam_mp4_write_trak(qcam_mp4_buf *b, const qcam_mp4_index *idx, const qcam_mp4_track *t,
                         const qcam_mp4_chunks *chunks, uint64_t duration, uint64_t edit_delay);

/* Where the samples of a regular MP4 with one mdat go: per track, chunk c
 * starts at sample chunk_first[t][c] and at byte chunk_rel[t][c] of the
 * mdat's payload (`payload` bytes in all). */
typedef struct {
    const size_t *chunk_first[QCAM_MP4_MAX_TRACKS];
    const uint64_t *chunk_rel[QCAM_MP4_MAX_TRACKS];
    size_t n_chunks[QCAM_MP4_MAX_TRACKS];
    uint64_t payload;
} qcam_mp4_layout;

/* Append the head of a regular MP4 with the moov first: ftyp, moov (chunk
 * offsets from `lay`), and the header of the mdat whose payload follows
 * right after (64-bit sizes and co64 when the payload needs them). One
 * serializer for finalize and remux. 0 or -ENOMEM. */
int qcam_mp4_write_head(qcam_mp4_buf *b, const qcam_mp4_index *idx, const qcam_mp4_layout *lay);

/* Track duration converted to the movie timescale (rounded up). */
uint64_t qcam_mp4_movie_units(const qcam_mp4_index *idx, const qcam_mp4_track *t, uint64_t v);

#endif
