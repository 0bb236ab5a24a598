/* libFuzzer target for the client half of qcam:rtsp's protocol layer: what
 * an IP camera (or anyone posing as one) sends to RtspSource (the server's
 * side, requests from viewers, is fuzz_rtsp.c's). Not part of the
 * runtime (CMake leaves fuzz_* out); built and run by
 * test/integration/rtsp-client-fuzz.test.ts with clang's ASan, UBSan and
 * libFuzzer.
 *
 * Input: one control byte, then the data. mode = control % 6, p = control / 6.
 *   0 stream   a TCP byte stream as client.c reads it: '$' frames and
 *              replies, whole and again in chunks of p + 1 bytes (the two
 *              must agree); each reply's headers go on to their parsers
 *              (WWW-Authenticate → an answer, Session, Transport) and its
 *              body to the SDP parser
 *   1 sdp      the data as a session description
 *   2 auth     the data as a WWW-Authenticate value, answered for two
 *              methods; a Digest answer must pass the server's own check
 *   3 url      the data as a URL: the masked form never holds the password
 *   4, 5 depack length-prefixed RTP packets into the H.264 (4) / H.265 (5)
 *              depacketizer, each finished access unit classified as
 *              client.c does (key frame, parameter sets); RTCP SR parsing of
 *              the same packets
 * Every buffer the code reads is a heap block of exactly its size, so
 * AddressSanitizer reports a read past its end. A violated invariant aborts. */
#define FUZZ_NAME "fuzz_client"
#include "fuzz_common.h"

#include "../video/annexb.h"
#include "rtsp_proto.h"

static volatile size_t sink;

static qcam_rtsp_reply reply;

static char *cstr(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, d, n);
    s[n] = '\0';
    return s;
}

static void use_reply(const qcam_rtsp_reply *r)
{
    CHECK(r->status >= 100 && r->status <= 999);
    const char *v;
    for (unsigned i = 0; (v = qcam_rtsp_reply_header(r, "WWW-Authenticate", i)); i++) {
        qcam_rtsp_challenge c;
        if (qcam_rtsp_parse_challenge(v, &c) == 0) {
            char out[1024];
            int n = qcam_rtsp_authorization(out, sizeof out, &c, "admin", "secret", "DESCRIBE", "rtsp://h/live", 1, "cn");
            CHECK(n < 0 || (size_t)n == strlen(out));
        }
    }
    if ((v = qcam_rtsp_reply_header(r, "Session", 0))) {
        char id[128];
        unsigned t;
        if (qcam_rtsp_parse_session(v, id, sizeof id, &t) == 0) CHECK(strlen(id) < sizeof id && t > 0);
    }
    if ((v = qcam_rtsp_reply_header(r, "Transport", 0))) {
        qcam_rtsp_transport_reply tr;
        if (qcam_rtsp_parse_transport_reply(v, &tr) == 0) CHECK(tr.interleaved[0] <= 255 && tr.server_port[0] <= 65535);
    }
    if (r->body) {
        qcam_sdp_info in;
        if (qcam_sdp_parse((const char *)r->body, r->body_len, &in) == 0) {
            CHECK(in.video == QCAM_CODEC_H264 || in.video == QCAM_CODEC_H265);
            CHECK(in.sps_at + in.sps_len <= sizeof in.params && in.pps_at + in.pps_len <= sizeof in.params);
            char url[1100];
            if (qcam_rtsp_control_url(url, sizeof url, "rtsp://h/live", in.video_control) == 0) sink += strlen(url);
        }
    }
}

/* Read the stream as client.c does: returns the number of events (frames + replies) or -1. */
static int read_stream(const uint8_t *d, size_t n, size_t chunk, uint32_t *digest)
{
    uint8_t *in = malloc(n ? n : 1);
    if (!in) abort();
    size_t have = 0, fed = 0;
    int events = 0;
    uint32_t h = 2166136261u;
    for (;;) {
        size_t add = chunk && n - fed > chunk ? chunk : n - fed;
        memcpy(in + have, d + fed, add);
        have += add;
        fed += add;
        size_t at = 0;
        int err = 0;
        while (at < have) {
            uint8_t ch;
            const uint8_t *payload;
            size_t plen, used;
            int r = qcam_rtsp_next_interleaved(in + at, have - at, &ch, &payload, &plen, &used);
            if (r == 0) break;
            if (r == 1) {
                CHECK(used == plen + 4 && payload == in + at + 4 && at + used <= have);
                h = (h ^ ch ^ (uint32_t)plen) * 16777619u;
                at += used;
                events++;
                continue;
            }
            int m = qcam_rtsp_parse_reply(in + at, have - at, &reply);
            if (m == 0) break;
            if (m < 0) {
                err = 1;
                break;
            }
            CHECK((size_t)m <= have - at);
            use_reply(&reply);
            h = (h ^ (uint32_t)reply.status ^ (uint32_t)m) * 16777619u;
            at += (size_t)m;
            events++;
        }
        memmove(in, in + at, have - at);
        have -= at;
        if (err) {
            events = -1;
            break;
        }
        if (fed == n) break;
    }
    free(in);
    *digest = h;
    return events;
}

static void depack(const uint8_t *d, size_t n, qcam_codec codec)
{
    size_t cap = 65536;
    uint8_t *out = malloc(cap);
    if (!out) abort();
    qcam_rtp_depack dp;
    qcam_rtp_depack_init(&dp, codec, out, cap);
    qcam_annexb_state st;
    qcam_annexb_init(&st, codec);
    size_t at = 0;
    while (n - at >= 2) {
        size_t len = (size_t)d[at] << 8 | d[at + 1];
        at += 2;
        if (len > n - at) len = n - at;
        uint8_t *pkt = fuzz_dup(d + at, len);
        at += len;
        int r = qcam_rtp_depack_push(&dp, pkt, len);
        CHECK(r >= -1 && r <= 1);
        if (r == 1) {
            CHECK(dp.len > 0 && dp.len <= cap);
            uint8_t *au = malloc(dp.len);
            if (!au) abort();
            memcpy(au, dp.out, dp.len);
            qcam_au_info ai;
            qcam_annexb_classify(&st, au, dp.len, &ai);
            qcam_annexb_params p;
            qcam_annexb_find_params(codec, au, dp.len, &p);
            if (p.sps) CHECK(p.sps >= au && p.sps + p.sps_len <= au + dp.len);
            sink += ai.keyframe + ai.has_params;
            free(au);
        }
        uint32_t ssrc, ts;
        uint64_t ntp;
        int s = qcam_rtcp_parse_sr(pkt, len, &ssrc, &ntp, &ts);
        CHECK(s >= -1 && s <= 1);
        free(pkt);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned mode = data[0] % 6, p = data[0] / 6;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    uint8_t *buf = fuzz_dup(d, n);
    switch (mode) {
    case 0: {
        uint32_t h1, h2;
        int a = read_stream(buf, n, 0, &h1);
        int b = read_stream(buf, n, p + 1, &h2);
        /* Chunked reading sees the same messages, up to the first malformed one. */
        if (a >= 0 && b >= 0) CHECK(a == b && h1 == h2);
        break;
    }
    case 1: {
        qcam_sdp_info in;
        if (qcam_sdp_parse((const char *)buf, n, &in) == 0) {
            CHECK(in.video_clock > 0);
            CHECK(memchr(in.video_control, 0, sizeof in.video_control) && memchr(in.audio_control, 0, sizeof in.audio_control));
        }
        break;
    }
    case 2: {
        char *s = cstr(buf, n);
        qcam_rtsp_challenge c;
        if (qcam_rtsp_parse_challenge(s, &c) == 0) {
            char out[2048];
            int k = qcam_rtsp_authorization(out, sizeof out, &c, "admin", "secret", "PLAY", "rtsp://h/live", 7, "abc");
            if (k > 0 && c.digest && !strchr(c.nonce, '\\')) {
                CHECK(out[k - 2] == '\r' && out[k - 1] == '\n');
                out[k - 2] = '\0';
                CHECK(qcam_digest_check(out + 15, "PLAY", "admin", "secret", c.realm, c.nonce) == 1);
            }
        }
        free(s);
        break;
    }
    case 3: {
        char *s = cstr(buf, n);
        qcam_rtsp_url u;
        if (qcam_rtsp_url_parse(s, &u) == 0) {
            CHECK(u.port >= 1 && u.port <= 65535 && u.host[0]);
            CHECK(strncmp(u.clean, "rtsp://", 7) == 0 && strncmp(u.masked, "rtsp://", 7) == 0);
            if (u.password[0]) { /* "rtsp://<user>:***@<the clean URL's rest>": the user holds no ':' */
                const char *colon = strchr(u.masked + 7, ':');
                CHECK(colon && strncmp(colon, ":***@", 5) == 0 && strcmp(colon + 5, u.clean + 7) == 0);
            }
        }
        free(s);
        break;
    }
    default:
        depack(buf, n, mode == 4 ? QCAM_CODEC_H264 : QCAM_CODEC_H265);
        break;
    }
    free(buf);
    return 0;
}
