/* qcam:publish — pushing a live stream to a media server: RTMP, or RTSP
 * (ANNOUNCE + RECORD, RFC 2326 §10.11, RTP over the RTSP connection).
 *
 * The model: a publisher is a sink (link.h) with a thread of its own. write()
 * never does network I/O: it takes a reference to the packet and puts it on a
 * bounded queue, and returns at once, so a server that is down, slow or
 * restarting never slows the link's other sinks (the card, the RTSP server) or
 * the camera. The publisher's I/O thread connects, handshakes, publishes and
 * sends what is queued; when the connection fails it backs off (1 s, doubling
 * up to `max_backoff_ms`), reconnects, and resumes at the next keyframe.
 *
 * Dropping. A stream may only be resumed at a keyframe, so drops are whole
 * groups of pictures: when the queue is full (bytes or packets) everything
 * queued is dropped and later packets are dropped until the next keyframe;
 * while the publisher is not publishing (connecting, backing off) every
 * packet is dropped the same way. Each dropped packet is counted.
 *
 * Lifetimes. The publisher owns its copies of the URL and the parameter sets
 * it learns from the stream (SPS/PPS/VPS: from header packets and keyframes).
 * Packets on the queue hold a reference. close() stops taking packets, lets
 * the thread send what is queued (at most `drain_ms`), ends the publication
 * (FCUnpublish, deleteStream), joins the thread and frees everything.
 *
 * Threads. write() and stats are safe from any thread (a video and an audio
 * link may write at once); state changes are reported through `on_state`,
 * called on the I/O thread (the binding posts them to the app's loop).
 *
 * Errors: negative errno. Credentials in the URL never leave this module
 * except on the wire: stats and reports carry the masked URL. */
#ifndef QCAM_PUBLISH_H
#define QCAM_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "../link/link.h"
#include "../media/media.h"

typedef enum {
    QCAM_PUB_CONNECTING = 0, /* resolving, TCP, handshake, connect/createStream/publish */
    QCAM_PUB_PUBLISHING,     /* the server said NetStream.Publish.Start */
    QCAM_PUB_WAITING,        /* the last attempt failed: backing off before the next */
    QCAM_PUB_CLOSED,
} qcam_pub_state;

const char *qcam_pub_state_name(qcam_pub_state s);

typedef struct {
    const char *url;          /* rtmp://[user:pass@]host[:port]/app/stream[?query] */
    qcam_codec video;         /* the video track: H264 / H265, or 0 for none */
    qcam_codec audio;         /* ALAW / ULAW, or 0 */
    int width, height;        /* for the metadata (0: unknown) */
    double fps;               /* for the metadata (0: unknown) */
    size_t queue_bytes;       /* bound of the queue (default 4 MiB) */
    unsigned queue_packets;   /* bound of the queue (default 512) */
    unsigned connect_timeout_ms; /* TCP connect + handshake + publish (default 5000) */
    unsigned send_timeout_ms; /* a connection that takes nothing this long is dropped (default 5000) */
    unsigned max_backoff_ms;  /* longest wait between attempts (default 8000); the first is 500 ms */
    unsigned drain_ms;        /* how long close() lets queued packets go out (default 2000) */
    /* called on the I/O thread on every state change, with a short reason
     * for a failure ("connection refused", "NetStream.Publish.BadName", ...)
     * or NULL. */
    void (*on_state)(void *opaque, qcam_pub_state state, int err, const char *reason);
    void *opaque;
} qcam_rtmp_config;

typedef struct {
    qcam_pub_state state;
    uint64_t bytes_sent;       /* to the server, everything (chunk headers included) */
    uint64_t frames_sent;      /* video access units and audio blocks sent */
    uint64_t video_sent, audio_sent;
    uint64_t dropped;          /* packets dropped (queue full, not publishing, waiting for a keyframe) */
    uint64_t reconnects;       /* publications started after the first */
    uint64_t connects;         /* publications started (NetStream.Publish.Start) */
    unsigned queue_packets;
    size_t queue_bytes;
    int last_error;            /* -errno of the last failure, 0 when none */
    char last_reason[128];     /* its reason ("" when none) */
    char url[900];             /* the URL with credentials masked */
} qcam_rtmp_stats;

typedef struct qcam_rtmp_publisher qcam_rtmp_publisher;

/* Parse the URL and start the I/O thread (it connects at once). 0, or
 * -EINVAL (URL, codecs), -ENOTSUP (rtmps://, audio other than G.711),
 * -ENOMEM, -EAGAIN (no thread). */
int qcam_rtmp_open(const qcam_rtmp_config *cfg, qcam_rtmp_publisher **out);
qcam_sink *qcam_rtmp_sink(qcam_rtmp_publisher *p);
/* The sink's write: queue the packet (never blocks on the network). 0, or
 * -EINVAL for a codec the publisher has no track for. */
int qcam_rtmp_write(qcam_rtmp_publisher *p, qcam_packet *pkt);
void qcam_rtmp_stats_get(qcam_rtmp_publisher *p, qcam_rtmp_stats *out);
/* Stop: drain, unpublish, join, free. Fills *final (may be NULL). */
void qcam_rtmp_close(qcam_rtmp_publisher *p, qcam_rtmp_stats *final);

/* The RTSP publisher: the same queue, thread, reconnect, stats and
 * functions (qcam_rtmp_sink / _write / _stats_get / _close take it), with
 * cfg->url = rtsp://[user[:pass]@]host[:port]/path. A session waits for the
 * stream's parameter sets (they go in the SDP), then ANNOUNCE, SETUP per
 * track (RTP/AVP/TCP interleaved, mode=record: video channels 0-1, audio
 * 2-3), RECORD; OPTIONS keeps the session alive; close() sends TEARDOWN.
 * A 401 is answered once with the URL's credentials (Digest MD5 with or
 * without qop=auth, or Basic). 0, or -EINVAL (URL, codecs), -ENOTSUP
 * (rtsps://, audio other than G.711), -ENOMEM, -EAGAIN. */
int qcam_rtsp_push_open(const qcam_rtmp_config *cfg, qcam_rtmp_publisher **out);

#endif
