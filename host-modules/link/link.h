/* qcam:link — frames move source → encoder → sinks on native threads, with no
 * JavaScript per frame and no pixel copies between camera and encoder.
 *
 *   capture thread: source->read() → picture → encode queue (bounded)
 *   encode thread:  encoder->encode() → packet → each sink's queue (bounded)
 *   sink threads:   sink->ops->write() (one thread per sink)
 *
 * Back-pressure never reaches the camera: a full encode queue drops the new
 * picture, a full sink queue drops packets for that sink until its next
 * keyframe (a decoder can resume there; half a GOP would be garbage). Every
 * drop is counted. Plain C, no engine types. */
#ifndef QCAM_LINK_H
#define QCAM_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "../media/media.h"
#include "../overlay/overlay.h"

/* What a link carries: video (camera pictures → access units) or audio
 * (S16 sample blocks → G.711 frames). Also the bits of qcam_sink.busy. */
typedef enum { QCAM_LINK_VIDEO = 1, QCAM_LINK_AUDIO = 2 } qcam_link_media;

/* Where pictures come from (a camera channel, a microphone: S16 blocks).
 * read() blocks until the next frame, at most timeout_us; returns 0,
 * -ETIMEDOUT, -ENOBUFS when its pool is dry (every buffer waits in the link:
 * the source drops and counts what falls due, and the link waits as for
 * -ETIMEDOUT), -ENODATA when the source has ended (a file without loop: the
 * link finishes normally), or another -errno that ends the link with an
 * error. It must be callable from the link's capture thread. */
typedef struct {
    void *ctx;
    int (*read)(void *ctx, int64_t timeout_us, qcam_picture **out);
    uint64_t (*dropped)(void *ctx); /* frames the source itself dropped (may be NULL) */
    qcam_link_media media;          /* 0 means video */
    uint32_t sample_rate;           /* audio: samples per second, stamped on packets that carry none */
    /* A source of encoded frames (an IP camera) sets read_packet instead of
     * read and is linked without an encoder: the capture thread hands each
     * packet straight to the sinks' queues (frames_encoded counts them as
     * they pass). Same returns as read(). */
    int (*read_packet)(void *ctx, int64_t timeout_us, qcam_packet **out);
} qcam_link_source;

/* What turns pictures into packets. encode() consumes nothing: it takes its
 * own reference to the picture if it needs one. *out may be NULL when the
 * encoder produced nothing for this picture. */
typedef struct {
    void *ctx;
    int (*encode)(void *ctx, qcam_picture *pic, qcam_packet **out);
    qcam_link_media media; /* what it takes; 0 means video */
} qcam_link_encoder;

/* A destination for packets: ES file, MP4 writer, RTSP stream. The same sink
 * serves pull mode (the app calls write itself) and link mode (a sink thread
 * calls it). write() takes its own reference if it keeps the packet.
 *
 * A link claims a sink for its media (`busy` |= QCAM_LINK_VIDEO or
 * QCAM_LINK_AUDIO): one video link and one audio link may feed the same sink
 * at once, each from its own thread, so a sink that takes both must make
 * write() safe against itself; a second link of the same media is refused
 * (-EBUSY). Pull-mode writes and close are refused while busy != 0. */
typedef struct qcam_sink qcam_sink;
typedef struct {
    const char *kind;                                 /* "es", "mp4", "rtsp" */
    int (*write)(qcam_sink *sink, qcam_packet *pkt);  /* 0 or -errno */
    int (*flush)(qcam_sink *sink);                    /* 0 or -errno */
} qcam_sink_ops;
struct qcam_sink {
    const qcam_sink_ops *ops;
    atomic_int busy; /* qcam_link_media bits of the links feeding it (0: pull mode) */
};

typedef struct qcam_link qcam_link;

typedef struct {
    unsigned encode_queue; /* pictures waiting for the encoder (default 4) */
    unsigned sink_queue;   /* packets waiting per sink (default 64) */
    bool keep_last;        /* keep the last encoded picture for capture() */
    uint64_t max_frames;   /* stop capturing after this many pictures (0: no limit) */
    qcam_overlay *overlay; /* drawn into each picture on the encode thread, just
                            * before encode() (NULL: none); the link takes its own reference */
} qcam_link_config;

#define QCAM_LINK_MAX_SINKS 8

typedef struct {
    uint64_t frames_in;       /* pictures the link received from the source */
    uint64_t frames_encoded;  /* pictures the encoder turned into packets */
    uint64_t frames_out;      /* packets every sink wrote (minimum over sinks) */
    uint64_t drops_source;    /* dropped by the source itself (pool dry, late) */
    uint64_t drops_queue;     /* pictures dropped because the encode queue was full */
    uint64_t drops_encoder;   /* pictures the encoder failed on or produced nothing for */
    unsigned sinks;
    uint64_t sink_written[QCAM_LINK_MAX_SINKS];
    uint64_t sink_dropped[QCAM_LINK_MAX_SINKS];
    unsigned sink_depth[QCAM_LINK_MAX_SINKS];
    unsigned encode_depth;
    double fps;               /* packets out per second over the last second */
    double encode_p50_us, encode_p99_us; /* time in encode() */
    double latency_p50_us, latency_p99_us; /* capture timestamp → last sink wrote */
    /* CPU time (user + sys, microseconds) the link's threads have used so far,
     * from their POSIX thread CPU clocks; a thread that has ended keeps the
     * figure it had when it returned. */
    uint64_t cpu_capture_us, cpu_encode_us;
    uint64_t sink_cpu_us[QCAM_LINK_MAX_SINKS];
    uint64_t pixel_copies;    /* copies of pixel data counted process-wide since start */
    int error;                /* first error that stopped the link (-errno) or 0 */
    bool finished;            /* capturing ended: max_frames reached, source ended or failed */
} qcam_link_stats;

/* Called on a link thread when a sink or the source fails: the binding posts
 * it to the app's loop. */
typedef void qcam_link_error_fn(void *opaque, int err, const char *what);

/* -EINVAL: no sinks, too many, a source and an encoder of different
 * media, or an encoder missing (a picture source) or given (an encoded
 * source: enc must be NULL); -EBUSY: a sink already fed by a link of this
 * media; -ENOMEM. */
qcam_link *qcam_link_start(const qcam_link_source *src, const qcam_link_encoder *enc,
                           qcam_sink *const *sinks, unsigned n_sinks, const qcam_link_config *cfg,
                           qcam_link_error_fn *on_error, void *opaque, int *err);
void qcam_link_stats_get(qcam_link *link, qcam_link_stats *out);
/* A new reference to the picture most recently encoded (MaixPy's
 * Encoder(capture=True)), or NULL before the first or without keep_last.
 * With keep_last the link holds one picture back from the camera's pool. */
qcam_picture *qcam_link_last_picture(qcam_link *link);
/* Stop capturing, encode what is queued, write and flush every sink, join
 * the threads, fill *final (may be NULL) and free the link. */
void qcam_link_stop(qcam_link *link, qcam_link_stats *final);
/* From now on, pictures waiting for the encoder are dropped (counted in
 * drops.queue) instead of encoded: for a stop that must be quick, the
 * dev link's reload (a new version of the app waits to start). What the
 * encoder has begun and every frame it made still reach the sinks, so the
 * recording ends a few pictures early and stays whole. Any thread. */
void qcam_link_discard_queued(qcam_link *link);

#endif
