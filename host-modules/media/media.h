/* Raw pictures and encoded packets shared by camera, video, image and link.
 * Plain C, no engine types: native threads use all of this.
 *
 * Lifetimes. Both kinds of buffer are reference counted; whoever holds a
 * pointer holds a reference and drops it with *_unref from any thread.
 * Pictures come from a fixed pool per source: when the pool is dry the source
 * drops the frame and counts it — a camera never waits for a consumer. A
 * pool lives until it is closed and its last picture has come back. */
#ifndef QCAM_MEDIA_H
#define QCAM_MEDIA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    QCAM_FMT_NV21 = 1, /* Y plane, then interleaved V/U at half resolution (YVU420SP) */
    QCAM_FMT_NV12,     /* Y plane, then interleaved U/V */
    QCAM_FMT_YUV420P,  /* Y, U, V planes (I420): what software encoders take */
    QCAM_FMT_RGB888,   /* packed R, G, B */
    QCAM_FMT_GRAY,     /* Y only */
    QCAM_FMT_S16,      /* audio: signed 16-bit native-endian samples, interleaved;
                        * width = samples per channel, height = channels */
} qcam_pixfmt;

/* "nv21", "nv12", "yuv420p", "rgb888", "gray"; NULL for an unknown value. */
const char *qcam_pixfmt_name(qcam_pixfmt fmt);
/* 0 when `name` is not a format. */
qcam_pixfmt qcam_pixfmt_parse(const char *name);
/* Bytes of a tightly packed picture; 0 for an odd size where chroma needs even. */
size_t qcam_pixfmt_size(qcam_pixfmt fmt, int width, int height);

typedef struct qcam_pool qcam_pool;

typedef struct qcam_picture {
    int width, height;
    qcam_pixfmt format;
    uint8_t *data; /* planes back to back, no padding */
    size_t size;
    int64_t pts_us; /* capture time, monotonic microseconds */
    uint64_t seq;   /* sequence number at the source */
    /* private */
    atomic_int refs;
    qcam_pool *pool; /* NULL: allocated on its own */
    struct qcam_picture *next_free;
} qcam_picture;

qcam_pool *qcam_pool_new(unsigned count, int width, int height, qcam_pixfmt fmt);
/* A free picture with one reference, or NULL when the pool is dry or closed. */
qcam_picture *qcam_pool_acquire(qcam_pool *pool);
unsigned qcam_pool_free_count(qcam_pool *pool);
/* The owner lets go; memory goes when the last picture is back. */
void qcam_pool_close(qcam_pool *pool);

/* A picture outside any pool (decoder output, conversions). NULL on OOM. */
qcam_picture *qcam_picture_new(int width, int height, qcam_pixfmt fmt);
qcam_picture *qcam_picture_ref(qcam_picture *pic);
void qcam_picture_unref(qcam_picture *pic);

typedef enum {
    QCAM_CODEC_H264 = 1,
    QCAM_CODEC_H265,
    QCAM_CODEC_ALAW, /* G.711 A-law, one byte per sample */
    QCAM_CODEC_ULAW, /* G.711 mu-law */
} qcam_codec;
#define QCAM_CODEC_IS_AUDIO(c) ((c) == QCAM_CODEC_ALAW || (c) == QCAM_CODEC_ULAW)
typedef enum { QCAM_PKT_HEADER = 0, QCAM_PKT_I, QCAM_PKT_P, QCAM_PKT_B, QCAM_PKT_AUDIO } qcam_pkt_type;

/* One encoded unit: a video access unit (Annex B byte stream), or a block of
 * audio samples (G.711: one byte each; keyframe is always true, pts_us is the
 * capture time of the first sample, `samples` how many per channel). */
typedef struct qcam_packet {
    qcam_codec codec;
    qcam_pkt_type type;
    bool keyframe;
    uint8_t *data;
    size_t size;
    int64_t pts_us, dts_us;
    uint64_t seq;
    uint32_t sample_rate, samples; /* audio only */
    atomic_int refs;
} qcam_packet;

/* A packet with `size` bytes of (uninitialised) payload and one reference. */
qcam_packet *qcam_packet_new(size_t size);
qcam_packet *qcam_packet_ref(qcam_packet *pkt);
void qcam_packet_unref(qcam_packet *pkt);

/* Every copy of pixel data a module makes goes through here, so tests can
 * prove a path is zero-copy by counting. */
void qcam_media_count_copy(size_t bytes);
uint64_t qcam_media_copy_count(void);

#endif
