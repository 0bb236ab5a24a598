/* Changes since the first version of this header (signatures unchanged):
 *   qcam_rtp_depack gained `done` and `dropped`; QCAM_RTP_MIN_MTU (a smaller
 *   mtu makes the packetizers return -1); which NAL units the video
 *   packetizer leaves out; qcam_rtp_depack_push's loss rules spelled out. */

/* qcam:rtsp's protocol layer: RTSP/1.0 messages (RFC 2326), SDP, Digest
 * authentication (RFC 2617), RTP packetization (RFC 3550, RFC 6184 H.264,
 * RFC 7798 H.265, RFC 3551 PCMA/PCMU) and RTCP sender reports.
 *
 * Pure functions over memory: no I/O, no threads, no engine, no allocation
 * unless stated. Everything that reads network bytes is bounds-checked and
 * fuzzed (fuzz_rtsp.c). The server (server.c) does the I/O. */
#ifndef QCAM_RTSP_PROTO_H
#define QCAM_RTSP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../media/media.h"

/* ---- text helpers (locale-free; rtsp_msg.c, for this layer's files) -------- */

int qcam_rtsp_lower(int c); /* ASCII A-Z only */
bool qcam_rtsp_is_digit(int c);
bool qcam_rtsp_is_tchar(int c); /* an RFC 2616 token character */
bool qcam_rtsp_eq_nocase(const char *a, const char *b);
bool qcam_rtsp_eq_nocase_n(const char *a, size_t n, const char *b); /* a[0..n) is b, case aside */
/* A decimal number of at most 9 digits that makes up all of s[0..n) after
 * trimming spaces and tabs; -1 otherwise. */
long qcam_rtsp_small_uint(const char *s, size_t n);

/* ---- requests -------------------------------------------------------------- */

#define QCAM_RTSP_MAX_REQUEST 8192 /* request line + headers + body: more is 413 */
#define QCAM_RTSP_MAX_HEADERS 32   /* more is 400 */

typedef enum {
    QCAM_RTSP_UNKNOWN = 0,
    QCAM_RTSP_OPTIONS,
    QCAM_RTSP_DESCRIBE,
    QCAM_RTSP_SETUP,
    QCAM_RTSP_PLAY,
    QCAM_RTSP_PAUSE,
    QCAM_RTSP_TEARDOWN,
    QCAM_RTSP_GET_PARAMETER,
    QCAM_RTSP_SET_PARAMETER,
    QCAM_RTSP_ANNOUNCE,
    QCAM_RTSP_RECORD,
} qcam_rtsp_method;

typedef struct {
    const char *name, *value; /* NUL-terminated, inside the parser's copy */
} qcam_rtsp_header;

typedef struct {
    qcam_rtsp_method method;
    const char *method_name; /* as sent (for 501 replies) */
    const char *uri;
    int cseq;                /* -1 when missing or not a number */
    const qcam_rtsp_header *headers;
    unsigned n_headers;
    const uint8_t *body;     /* Content-Length bytes, or NULL */
    size_t body_len;
    /* private: the parsed copy the pointers point into */
    char text[QCAM_RTSP_MAX_REQUEST + 1];
    qcam_rtsp_header header_store[QCAM_RTSP_MAX_HEADERS];
} qcam_rtsp_request;

/* Parse one request at the front of buf[0..len):
 *   > 0: bytes consumed; *req filled.
 *     0: incomplete, read more (never when len >= QCAM_RTSP_MAX_REQUEST).
 *   < 0: the status to reply before closing: -400 (malformed line, header,
 *        too many headers, bad Content-Length), -413 (too big), -505 (not
 *        RTSP/1.0). */
int qcam_rtsp_parse_request(const uint8_t *buf, size_t len, qcam_rtsp_request *req);

/* The value of header `name` (case-insensitive), or NULL. */
const char *qcam_rtsp_header_get(const qcam_rtsp_request *req, const char *name);

/* What comes next on a TCP connection that also carries interleaved data:
 *   1: a '$' frame: *channel, *payload (pointer into buf), *payload_len; *consumed its size.
 *   0: need more bytes.
 *   2: not a '$' frame (an RTSP message: parse it with qcam_rtsp_parse_request). */
int qcam_rtsp_next_interleaved(const uint8_t *buf, size_t len, uint8_t *channel,
                               const uint8_t **payload, size_t *payload_len, size_t *consumed);

/* Transport header (first acceptable entry). */
typedef struct {
    bool tcp;                 /* RTP/AVP/TCP */
    int interleaved[2];       /* tcp: channels, -1 when not given */
    int client_port[2];       /* udp: client's RTP/RTCP ports, -1 when not given */
    bool multicast;           /* asked for multicast (refused: 461) */
} qcam_rtsp_transport;
/* 0, or -461 (unsupported transport) / -400 (malformed). */
int qcam_rtsp_parse_transport(const char *value, qcam_rtsp_transport *out);

/* ---- responses -------------------------------------------------------------- */

/* "RTSP/1.0 <code> <reason>\r\nCSeq: n\r\n<extra>Content-Length..\r\n\r\n<body>"
 * into out[0..cap). `extra` holds whole header lines ("Session: ..\r\n"), may
 * be NULL; so may body. CSeq is left out when cseq < 0. Returns the length,
 * or -1 when it does not fit. */
int qcam_rtsp_response(char *out, size_t cap, int code, int cseq, const char *extra,
                       const char *body, size_t body_len);
const char *qcam_rtsp_reason(int code);

/* ---- SDP --------------------------------------------------------------------- */

typedef struct {
    qcam_codec codec;         /* 0: no video */
    const uint8_t *vps, *sps, *pps; /* NAL units without start codes (vps: H.265) */
    size_t vps_len, sps_len, pps_len;
    int audio;                /* 0 none, QCAM_SDP_PCMA, QCAM_SDP_PCMU */
    uint32_t audio_rate;      /* 8000 / 16000 */
} qcam_sdp_stream;
#define QCAM_SDP_PCMA 1
#define QCAM_SDP_PCMU 2

/* The session description for a stream: video as track 0 (payload type 96,
 * H264 with packetization-mode=1, profile-level-id and sprop-parameter-sets;
 * H265 with sprop-vps/sps/pps), audio as track 1 (PCMA/PCMU, static type 8/0
 * at 8000 Hz, dynamic 97 otherwise), a=control:track0/track1. `origin_ip` for
 * o= and c=. Returns the length, or -1 when it does not fit. */
int qcam_sdp_build(char *out, size_t cap, const qcam_sdp_stream *s, uint64_t session_id,
                   const char *origin_ip);

/* Standard base64 of in[0..len) into out (NUL-terminated); -1 when it does not fit. */
int qcam_base64(char *out, size_t cap, const uint8_t *in, size_t len);

/* ---- Digest (RFC 2617, MD5, qop absent or "auth") ----------------------------- */

void qcam_md5(const void *data, size_t len, uint8_t out[16]);
/* A nonce: 32 hex digits of secret-keyed data (the caller gives the randomness). */
void qcam_digest_nonce(char out[33], const uint8_t secret[16], uint64_t counter);
/* The WWW-Authenticate header line for realm and nonce ("WWW-Authenticate: Digest ...\r\n"). */
int qcam_digest_challenge(char *out, size_t cap, const char *realm, const char *nonce);
/* 1 when `authorization` (the header's value) is a valid Digest response for
 * user/password/realm/nonce and this method; 0 when not (wrong user, password,
 * nonce, realm, malformed); never reads past the string. */
int qcam_digest_check(const char *authorization, const char *method, const char *user,
                      const char *password, const char *realm, const char *nonce);

/* ---- RTP --------------------------------------------------------------------- */

#define QCAM_RTP_HEADER 12
#define QCAM_RTP_MIN_MTU 16 /* header + FU header bytes + one payload byte */

typedef struct {
    uint8_t payload_type;
    uint32_t ssrc;
    uint16_t seq;        /* next sequence number; advances per packet */
    size_t mtu;          /* max RTP packet size (header + payload), e.g. 1400 */
    qcam_codec codec;    /* H264 / H265 (video) */
    uint64_t packets, octets; /* sent so far: for RTCP SR */
} qcam_rtp_stream;

/* One RTP packet as two pieces, so payload bytes are sent from the access
 * unit without a copy: head[0..head_len) = RTP header + FU/aggregation
 * header bytes, then body[0..body_len) (a pointer into the access unit). */
typedef struct {
    uint8_t head[QCAM_RTP_HEADER + 3];
    size_t head_len;
    const uint8_t *body;
    size_t body_len;
} qcam_rtp_packet;

typedef int qcam_rtp_emit_fn(void *opaque, const qcam_rtp_packet *p); /* non-zero stops */

/* Packetize one Annex B access unit (H.264: single NAL / FU-A per RFC 6184;
 * H.265: single NAL / FU per RFC 7798), every packet at most s->mtu bytes,
 * marker bit on the last packet of the access unit, all with timestamp
 * `rtp_ts`. Calls emit once per packet in order. Returns the number of
 * packets (0 for an AU without NAL units), the emitter's non-zero value
 * negated, or -1 without emitting when s->mtu < QCAM_RTP_MIN_MTU.
 * NAL units whose types RTP uses for its own packets are left out (H.264:
 * 0 and 24..31; H.265: 48..63), as are ones too short for a NAL header. */
int qcam_rtp_packetize_video(qcam_rtp_stream *s, const uint8_t *au, size_t len, uint32_t rtp_ts,
                             qcam_rtp_emit_fn *emit, void *opaque);
/* G.711 frames: split into packets of at most s->mtu, one timestamp tick per
 * sample (a packet's timestamp is rtp_ts + the samples before it), no marker.
 * Returns as qcam_rtp_packetize_video. */
int qcam_rtp_packetize_audio(qcam_rtp_stream *s, const uint8_t *data, size_t len, uint32_t rtp_ts,
                             qcam_rtp_emit_fn *emit, void *opaque);

/* The reverse, for tests and tools: feed RTP packets of one stream in order;
 * when a packet with the marker bit completes an access unit it is appended
 * to out as Annex B (4-byte start codes). Pure over caller buffers.
 * Understands single NAL units, FU-A / FU and STAP-A / AP packets.
 * An access unit is dropped (counted in `dropped`) when a sequence number is
 * missing before or inside it, when one of its packets is malformed or does
 * not fit in `cap`, or when the next timestamp begins before its marker. */
typedef struct {
    qcam_codec codec;
    uint8_t *out;
    size_t cap, len;     /* the access unit being rebuilt */
    bool in_fu;          /* inside a fragmented NAL */
    bool broken;         /* a packet was missing or malformed: drop this AU */
    int32_t last_seq;    /* -1 before the first */
    uint32_t ts;
    bool done;           /* out holds a whole AU: the next push starts over */
    uint32_t dropped;    /* access units dropped so far */
} qcam_rtp_depack;
void qcam_rtp_depack_init(qcam_rtp_depack *d, qcam_codec codec, uint8_t *buf, size_t cap);
/* 1: out[0..len) is a whole access unit (consume it, then it restarts);
 * 0: more packets needed; -1: this packet was malformed (ignored; its AU
 * is dropped). */
int qcam_rtp_depack_push(qcam_rtp_depack *d, const uint8_t *pkt, size_t len);

/* ---- RTCP -------------------------------------------------------------------- */

/* A sender report (RFC 3550 6.4.1) with an SDES CNAME, compound, into out:
 * the NTP time `ntp` (seconds since 1900 in 32.32 fixed point) maps to
 * `rtp_ts`. Returns the length, -1 if it does not fit. */
int qcam_rtcp_sender_report(uint8_t *out, size_t cap, const qcam_rtp_stream *s, uint64_t ntp,
                            uint32_t rtp_ts, const char *cname);

/* ---- the client side (RtspSource, client.c) ----------------------------------
 * The reverse of the server's half: responses are parsed, requests built,
 * challenges answered, session descriptions read. Pure, bounded, no
 * allocation; fuzzed by fuzz_client.c; tested by the same
 * tables as the server half (test/c/test_rtsp_proto.c: what one side builds
 * the other side parses). */

#define QCAM_RTSP_MAX_RESPONSE 16384 /* status line + headers + body (SDP) */

typedef struct {
    int status;              /* 100..999 */
    const char *reason;
    int cseq;                /* -1 when missing or not a number */
    const qcam_rtsp_header *headers;
    unsigned n_headers;
    const uint8_t *body;     /* Content-Length bytes (NUL-terminated copy), or NULL */
    size_t body_len;
    /* private */
    char text[QCAM_RTSP_MAX_RESPONSE + 1];
    qcam_rtsp_header header_store[QCAM_RTSP_MAX_HEADERS];
} qcam_rtsp_reply;

/* Parse one response at the front of buf[0..len):
 *   > 0 bytes consumed, *res filled; 0 incomplete (never when len >=
 *   QCAM_RTSP_MAX_RESPONSE); -1 malformed (not "RTSP/1.0 nnn ..", a bad
 *   header line, too many headers, a bad Content-Length); -2 too big. */
int qcam_rtsp_parse_reply(const uint8_t *buf, size_t len, qcam_rtsp_reply *res);
/* The value of header `name` (case-insensitive), the `nth` one (0: first), or NULL. */
const char *qcam_rtsp_reply_header(const qcam_rtsp_reply *res, const char *name, unsigned nth);

/* "<METHOD> <uri> RTSP/1.0\r\nCSeq: n\r\nUser-Agent: qcam\r\n<extra>\r\n" into
 * out[0..cap). `extra`: whole header lines, may be NULL. Length or -1 (does
 * not fit, or a CR/LF/space in method or uri). */
int qcam_rtsp_build_request(char *out, size_t cap, const char *method, const char *uri, int cseq,
                            const char *extra);

/* An rtsp:// URL: rtsp://[user[:password]@]host[:port][/path]. Userinfo is
 * percent-decoded; host may be [v6]. `clean` is the URL without the userinfo
 * (what goes on the wire), `masked` the URL with the password as "***" (what
 * goes in logs and stats). 0, or -1 when it is not such a URL or does not fit. */
typedef struct {
    char user[128], password[128];
    char host[256];
    int port; /* 554 when not given */
    char clean[1024], masked[1024];
} qcam_rtsp_url;
int qcam_rtsp_url_parse(const char *url, qcam_rtsp_url *out);

/* A WWW-Authenticate value. */
typedef struct {
    bool digest;          /* false: Basic */
    bool qop_auth;        /* qop offered and includes "auth" */
    bool stale;
    char realm[128], nonce[128], opaque[128];
} qcam_rtsp_challenge;
/* 0, or -1: malformed, or a scheme / algorithm we cannot answer (Digest with
 * an algorithm other than MD5; qop without "auth"). */
int qcam_rtsp_parse_challenge(const char *value, qcam_rtsp_challenge *out);
/* The whole "Authorization: ...\r\n" line answering `c` for method and uri
 * (RFC 7617 Basic; RFC 2617/7616 Digest, MD5, qop=auth with nc and cnonce
 * when offered). Length, or -1 when it does not fit or a field cannot be quoted. */
int qcam_rtsp_authorization(char *out, size_t cap, const qcam_rtsp_challenge *c, const char *user,
                            const char *password, const char *method, const char *uri, uint32_t nc,
                            const char *cnonce);

/* What a client needs from a session description: the first H.264/H.265
 * video track and the first PCMA/PCMU audio track. */
#define QCAM_SDP_MAX_PARAMS 1024
typedef struct {
    qcam_codec video;         /* 0: none */
    int video_pt;
    uint32_t video_clock;     /* 90000 */
    char video_control[512];
    /* sprop parameter sets, decoded: each NAL unit without start code, in params[] */
    uint8_t params[QCAM_SDP_MAX_PARAMS];
    size_t vps_at, vps_len, sps_at, sps_len, pps_at, pps_len;
    int audio;                /* 0, QCAM_SDP_PCMA, QCAM_SDP_PCMU */
    int audio_pt;
    uint32_t audio_rate;
    char audio_control[512];
    char session_control[512]; /* session-level a=control, "" when absent */
} qcam_sdp_info;
/* 0, or -1 when there is no video track we can take (or the text is malformed). */
int qcam_sdp_parse(const char *sdp, size_t len, qcam_sdp_info *out);
/* Standard base64 (padding optional) into out[0..cap): length or -1. */
int qcam_base64_decode(uint8_t *out, size_t cap, const char *in, size_t len);

/* A track's URL from the base (Content-Base / Content-Location / the request
 * URL) and its a=control (RFC 2326 C.1.1): absolute, "*", or relative. -1 when it does not fit. */
int qcam_rtsp_control_url(char *out, size_t cap, const char *base, const char *control);

/* "Session: <id>[;timeout=<s>]": the id into id[cap], *timeout_s (60 when
 * absent). 0 or -1. */
int qcam_rtsp_parse_session(const char *value, char *id, size_t cap, unsigned *timeout_s);

/* The reply's Transport: what the server chose. */
typedef struct {
    bool tcp;
    int interleaved[2];  /* -1 when absent */
    int server_port[2];  /* -1 when absent */
    bool has_ssrc;
    uint32_t ssrc;
} qcam_rtsp_transport_reply;
int qcam_rtsp_parse_transport_reply(const char *value, qcam_rtsp_transport_reply *out);

/* The first sender report in a compound RTCP packet: 1 (filled), 0 (none), -1 malformed. */
int qcam_rtcp_parse_sr(const uint8_t *pkt, size_t len, uint32_t *ssrc, uint64_t *ntp, uint32_t *rtp_ts);

#endif
