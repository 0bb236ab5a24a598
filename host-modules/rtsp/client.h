/* qcam:rtsp's client (RtspSource): input from an IP camera. Plain C, no
 * engine types, negative errno returns.
 *
 * The model. One I/O thread per client speaks RTSP/1.0 (RFC 2326) to the
 * camera — OPTIONS, DESCRIBE, SETUP per track, PLAY, a keepalive
 * (GET_PARAMETER when the server offers it, else OPTIONS) every half session
 * timeout, TEARDOWN on close — with RTP over the RTSP connection
 * (interleaved) or over UDP. Basic and Digest (MD5) authentication are
 * answered when challenged. RTP is depacketized by the pure functions of
 * rtsp_proto.h (H.264 RFC 6184, H.265 RFC 7798; G.711 as it comes) into
 * access units, which wait in a bounded queue for the reader: a link's
 * capture thread (the client is a source of encoded frames, no encoder) or
 * the app in pull mode. A full queue drops the newest frames up to the next
 * keyframe, counted; the camera is never slowed.
 *
 * Frames. Video access units are Annex B; a keyframe always carries its
 * parameter sets in-band (the SDP's sprop-* or the last in-band ones are put
 * in front when the camera sends them out of band). Nothing is delivered
 * before the first keyframe of a session. Timestamps come from RTP: a
 * session's first frame is stamped with the local monotonic clock and the
 * rest follow the camera's RTP clock (90 kHz), so the spacing of frames is
 * the camera's, not the network's. A new session after a reconnect starts
 * again from the local clock (never before the last timestamp handed out),
 * so the gap in a recording is as long as the camera was away. RTCP sender
 * reports (when the camera sends them) give the camera's wall clock, kept in
 * the stats.
 *
 * Reconnects. A connection that fails, closes, or brings no media for
 * `stall_ms` is dropped and made again with back-off (reconnect_min_ms
 * doubling to reconnect_max_ms; reset by a session that delivered frames).
 * Meanwhile reads time out (-ETIMEDOUT), so a link keeps its sinks open and
 * the recording continues, with a gap in time, from the next keyframe.
 *
 * Credentials never leave this file except on the wire: logs and stats use
 * the masked URL. */
#ifndef QCAM_RTSP_CLIENT_H
#define QCAM_RTSP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "../media/media.h"

typedef struct qcam_rtsp_client qcam_rtsp_client;

typedef struct {
    const char *url;              /* rtsp://[user[:password]@]host[:port]/path */
    const char *user, *password;  /* override the URL's (NULL: the URL's) */
    bool tcp;                     /* RTP interleaved on the RTSP connection; false: UDP */
    bool audio;                   /* also set up a G.711 track when there is one */
    unsigned timeout_ms;          /* connect and each reply (default 5000) */
    unsigned stall_ms;            /* no media for this long: reconnect (default 5000) */
    unsigned reconnect_min_ms, reconnect_max_ms; /* back-off (500, 8000) */
    unsigned queue;               /* frames waiting for the reader (default 64) */
} qcam_rtsp_client_config;

/* What the camera sends, known once open returned. */
typedef struct {
    qcam_codec video;             /* H264 / H265 */
    int width, height;            /* from the SPS; 0 when not known */
    uint8_t vps[256], sps[256], pps[256]; /* NAL units without start codes */
    size_t vps_len, sps_len, pps_len;
    qcam_codec audio;             /* 0, ALAW, ULAW */
    uint32_t audio_rate;
} qcam_rtsp_client_info;

typedef struct {
    bool connected;               /* a session is playing now */
    bool tcp;
    uint64_t frames;              /* video access units delivered to the queue */
    uint64_t audio_frames;
    uint64_t bytes;               /* RTP payload bytes received */
    uint64_t dropped;             /* access units lost (RTP loss, malformed, full queue) */
    uint64_t reconnects;          /* sessions made after the first */
    uint64_t sender_reports;
    int64_t camera_time_us;       /* the camera's wall clock (µs since 1970) at the last sender report; 0 before */
    int last_error;               /* -errno of the last failure, 0 when none */
    char url[1024];               /* masked */
} qcam_rtsp_client_stats;

/* Connect and start playing, waiting up to timeout_ms (2x for the parameter
 * sets when the SDP has none: the first keyframe brings them). 0 and *out,
 * or -errno with a reason in why[]: EINVAL (not an rtsp:// URL), ENOENT (no
 * such host or 404), ECONNREFUSED, ETIMEDOUT, EACCES (401 / 403: the
 * credentials were refused), EPROTO (a malformed reply, an unexpected status),
 * ENOTSUP (no H.264 / H.265 track, transport refused). */
int qcam_rtsp_client_open(const qcam_rtsp_client_config *cfg, qcam_rtsp_client **out, char *why, size_t why_cap);
void qcam_rtsp_client_get_info(qcam_rtsp_client *c, qcam_rtsp_client_info *out);
/* The next video access unit (*out, one reference), waiting up to
 * timeout_us: 0, -ETIMEDOUT, or -ENODATA once closed. Any thread. */
int qcam_rtsp_client_read(qcam_rtsp_client *c, int64_t timeout_us, qcam_packet **out);
/* The next G.711 block, the same way (-ETIMEDOUT at once without an audio track when timeout_us is 0). */
int qcam_rtsp_client_read_audio(qcam_rtsp_client *c, int64_t timeout_us, qcam_packet **out);
void qcam_rtsp_client_stats_get(qcam_rtsp_client *c, qcam_rtsp_client_stats *out);
/* Frames the client dropped (for qcam_link_source.dropped). */
uint64_t qcam_rtsp_client_dropped(qcam_rtsp_client *c);
/* TEARDOWN, stop the thread, free. Readers blocked in read get -ENODATA first. */
void qcam_rtsp_client_close(qcam_rtsp_client *c);

#endif
