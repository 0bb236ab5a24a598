/* qcam:publish's RTSP client side for pushing (ANNOUNCE + RECORD, RFC 2326
 * §10.11): the push URL, the server's replies, its authentication
 * challenges, and the Authorization header we answer them with (Basic,
 * RFC 2617 Digest). The request side, SDP and RTP come from
 * host-modules/rtsp/rtsp_proto.h.
 *
 * Pure functions over memory: no I/O, no allocation. Everything that reads
 * the server's bytes is bounds-checked and fuzzed (fuzz_rtsp_push.c). */
#ifndef QCAM_RTSP_PUSH_PROTO_H
#define QCAM_RTSP_PUSH_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- URL ---------------------------------------------------------------------- */

typedef struct {
    char host[256];
    int port;            /* 554 when not given */
    char uri[1024];      /* the URL without credentials: what requests name */
    char user[128], pass[128]; /* percent-decoded; "" when not given */
    char masked[900];    /* for logs and stats: the password replaced by "***" */
} qcam_rtsp_push_url;

/* rtsp://[user[:pass]@]host[:port]/path[?query]. 0, or -EINVAL (not
 * rtsp://, no host, no path, bad port, too long, bad %-escape), -ENOTSUP
 * (rtsps://). */
int qcam_rtsp_push_parse_url(const char *url, qcam_rtsp_push_url *out);

/* ---- replies ------------------------------------------------------------------ */

typedef struct {
    int code;            /* the status */
    int cseq;            /* -1 when missing */
    char session[128];   /* the Session header without ";timeout=" ("" when none) */
    unsigned timeout;    /* its timeout in seconds (60 when not given) */
    char auth[2][512];   /* WWW-Authenticate values, the first two ("" when none) */
    char transport[256]; /* the Transport header ("" when none) */
    size_t body_len;     /* the body was skipped: replies to a publisher have nothing we use */
} qcam_rtsp_push_reply;

/* One reply at the front of buf[0..len), read by qcam_rtsp_parse_reply
 * (../rtsp/rtsp_proto.h): > 0 bytes consumed (headers and body), 0
 * incomplete, -EPROTO malformed or too big. */
int qcam_rtsp_push_parse_reply(const uint8_t *buf, size_t len, qcam_rtsp_push_reply *out);

/* Authentication: qcam_rtsp_parse_challenge and qcam_rtsp_authorization in
 * ../rtsp/rtsp_proto.h, shared with RtspSource. */

#endif
