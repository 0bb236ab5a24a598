/* qcam:rtsp's server: RTSP/1.0 over TCP with RTP over TCP (interleaved) or
 * UDP unicast, on one thread of its own (POSIX sockets + poll()). Plain C, no
 * engine types, negative errno returns.
 *
 * Objects: a server owns streams ("/live", "/sub"); a stream is a qcam_sink
 * (kind "rtsp") that a link or the app writes access units to; clients are
 * TCP connections, each with at most one session on one stream.
 *
 * Data path. write() packetizes an access unit once per stream into one
 * buffer (each packet's interleaved framing, RTP header and payload back to
 * back: the only copy of the payload, shared by every client),
 * appends one reference to each playing client's bounded send queue and
 * sends what each socket takes right away without blocking — one writev
 * per client per frame over TCP, with any RTCP sender report that is due in
 * the same call; the server thread sends the rest when the sockets drain
 * and is not woken when write() sent everything. A client whose queue is full
 * loses whole frames up to the next keyframe; one that makes no progress for
 * stall_timeout_ms is disconnected. write() never waits for a client.
 *
 * Fast start. A stream keeps references to the access units since the last
 * keyframe; a client that starts playing gets them first, so its first
 * picture is complete as soon as that burst is through. With nothing cached
 * the encoder (if the stream has one) is asked for an IDR.
 *
 * Locking: one mutex per server guards streams, clients and queues; it is
 * held for short, non-blocking work only. */
#ifndef QCAM_RTSP_SERVER_H
#define QCAM_RTSP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "../link/link.h"
#include "../media/media.h"
#include "../video/video.h"

typedef struct qcam_rtsp_server qcam_rtsp_server;
typedef struct qcam_rtsp_stream qcam_rtsp_stream;

typedef struct {
    const char *host;            /* address to listen on ("0.0.0.0") */
    int port;                    /* 0: any free port (see qcam_rtsp_server_port) */
    const char *user, *password; /* Digest authentication; NULL user: none */
    unsigned max_clients;        /* connections; one more is answered 503 */
    unsigned session_timeout_s;  /* no request / RTCP from a client for this long ends its session */
    unsigned stall_timeout_ms;   /* a client whose socket takes nothing for this long is dropped */
} qcam_rtsp_server_config;

/* 0 and *out, or -errno (EADDRINUSE, EACCES, EINVAL for a bad host, ...). */
int qcam_rtsp_server_start(const qcam_rtsp_server_config *cfg, qcam_rtsp_server **out);
int qcam_rtsp_server_port(const qcam_rtsp_server *srv);

typedef struct {
    qcam_codec video;          /* H264 / H265 */
    qcam_encoder *encoder;     /* may be NULL; the stream takes a reference (ref'd by the caller) */
    /* Parameter sets given up front (NAL units without start codes); may be
     * NULL. Copied. Otherwise they come from the encoder or the first keyframe. */
    const uint8_t *vps, *sps, *pps;
    size_t vps_len, sps_len, pps_len;
    qcam_codec audio;          /* 0, ALAW or ULAW */
    uint32_t audio_rate;       /* 8000 / 16000 */
    bool fast_start;           /* cache the GOP and send it to new clients (default true) */
} qcam_rtsp_stream_config;

/* path: "/live" (a leading '/' is added when missing). 0 and *out, or
 * -EEXIST (path taken), -EINVAL, -ENOMEM. On failure the encoder reference
 * stays with the caller. */
int qcam_rtsp_stream_add(qcam_rtsp_server *srv, const char *path, const qcam_rtsp_stream_config *cfg,
                         qcam_rtsp_stream **out);
qcam_sink *qcam_rtsp_stream_sink(qcam_rtsp_stream *st);
const char *qcam_rtsp_stream_path(const qcam_rtsp_stream *st);
/* Disconnect the stream's clients and free it. The sink must not be linked. */
void qcam_rtsp_stream_remove(qcam_rtsp_stream *st);

typedef struct {
    char address[64];  /* "ip:port" */
    char path[128];    /* the stream, "" before SETUP */
    bool tcp;          /* interleaved; false: UDP */
    const char *state; /* "init", "ready", "playing", "paused" */
    uint64_t frames;   /* video frames whose last RTP packet was written */
    uint64_t bytes;    /* bytes written (RTP + RTCP + RTSP) */
    uint64_t drops;    /* video frames skipped (full queue, waiting for a keyframe) */
    unsigned queued;   /* frames waiting in its send queue */
} qcam_rtsp_client_stats;

typedef struct {
    char path[128];
    unsigned clients;           /* playing */
    uint64_t frames, bytes;     /* access units written to the stream (video + audio) */
    uint64_t video_frames, audio_frames;
    double latency_p50_us, latency_p99_us; /* write() → last RTP packet written, per client */
} qcam_rtsp_stream_stats;

typedef struct {
    unsigned n_clients, n_streams;
    qcam_rtsp_client_stats *clients; /* malloc'd: qcam_rtsp_stats_free */
    qcam_rtsp_stream_stats *streams;
    uint64_t sessions;          /* sessions ever set up */
    uint64_t rejected;          /* connections answered 503 (maxClients) or refused */
    uint64_t dropped_clients;   /* disconnected for stalling */
    double latency_p50_us, latency_p99_us; /* over every stream */
} qcam_rtsp_server_stats;

/* 0, or -ENOMEM. */
int qcam_rtsp_server_stats_get(qcam_rtsp_server *srv, qcam_rtsp_server_stats *out);
void qcam_rtsp_stats_free(qcam_rtsp_server_stats *st);

/* Stop accepting, send what the clients' queues hold (at most ~2 s), close
 * every connection, free every stream and the server. *final (may be NULL)
 * gets the stats as they were at the end (free with qcam_rtsp_stats_free).
 * No stream may be linked. */
void qcam_rtsp_server_stop(qcam_rtsp_server *srv, qcam_rtsp_server_stats *final);

#endif
