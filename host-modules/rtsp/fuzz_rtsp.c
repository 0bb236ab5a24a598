/* libFuzzer target for qcam:rtsp's protocol layer (host-modules/rtsp/): the
 * code that reads bytes from the network — the RTSP request parser, the
 * Transport header, the interleaved '$' reader, the Digest check — and the
 * RTP depacketizer, plus a packetize/depacketize round trip.
 *
 * The server's side; what a camera sends to RtspSource is fuzz_client.c's.
 * Not part of the runtime (CMake leaves fuzz_* out). Built and driven by
 * test/fuzz.ts (bounded run: test/integration/fuzz.test.ts, long run:
 * test/fuzz-long.ts); seeds from test/fuzz-rtsp.ts.
 *
 * Input: one control byte, then the data. mode = control & 7, p = control >> 3.
 *   0 request      a TCP byte stream of RTSP requests: parsed as a server
 *                  would, whole and again read max(p + 1, size / 64) bytes at
 *                  a time (the two must agree); every prefix of a request is "incomplete";
 *                  pointers stay inside the request; Transport and
 *                  Authorization headers go on to their parsers
 *   1 transport    the data as a Transport header value
 *   2 interleaved  a TCP stream of '$' frames and requests, whole and in
 *                  chunks as for requests
 *   3 digest       the data as an Authorization header, checked against
 *                  admin / secret / realm "qcam" / a fixed nonce
 *   4, 5 depack    length-prefixed (16-bit big-endian) RTP packets into the
 *                  H.264 (4) / H.265 (5) depacketizer; output buffer of
 *                  64 KiB >> (p & 7)
 *   6, 7 roundtrip the data as one Annex B access unit of H.264 (6) / H.265 (7),
 *                  packetized at MTU 16 + 23 * p and depacketized: every NAL
 *                  unit RTP carries comes back, every packet within the MTU,
 *                  the marker on the last one only
 * Every buffer the code reads is a heap block of exactly its size, so
 * AddressSanitizer reports a read past its end. A violated invariant aborts.
 *
 * Set QCAM_FUZZ_TRACE=1 to print one line per input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp_proto.h"
#include "../video/annexb.h"

#define FUZZ_NAME "fuzz_rtsp"
#include "fuzz_common.h"

static int trace;
static volatile size_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace = fuzz_trace_enabled();
    return 0;
}

static char *dup_str(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    CHECK(s != NULL);
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static qcam_rtsp_request req, req2;

static bool in_text(const qcam_rtsp_request *r, const void *p)
{
    const char *c = p;
    return c >= r->text && c <= r->text + QCAM_RTSP_MAX_REQUEST;
}

static void check_transport(const char *v, int *result)
{
    qcam_rtsp_transport t;
    int r = qcam_rtsp_parse_transport(v, &t);
    CHECK(r == 0 || r == -400 || r == -461);
    if (r == 0) {
        CHECK(!t.multicast);
        for (int i = 0; i < 2; i++) {
            CHECK(t.client_port[i] == -1 || (t.client_port[i] >= 1 && t.client_port[i] <= 65535));
            CHECK(t.interleaved[i] == -1 || (t.interleaved[i] >= 0 && t.interleaved[i] <= 255));
        }
    }
    if (result) *result = r;
}

static const char NONCE[] = "0123456789abcdef0123456789abcdef";

static int check_digest(const char *auth)
{
    int ok = qcam_digest_check(auth, "DESCRIBE", "admin", "secret", "qcam", NONCE);
    CHECK(ok == 0 || ok == 1);
    if (ok) {
        /* The response covers the method and the password. */
        CHECK(qcam_digest_check(auth, "SETUP", "admin", "secret", "qcam", NONCE) == 0);
        CHECK(qcam_digest_check(auth, "DESCRIBE", "admin", "secreT", "qcam", NONCE) == 0);
    }
    return ok;
}

/* The invariants of one parsed request; then what a server does with it. */
static void check_request(const qcam_rtsp_request *r, int consumed, const uint8_t *buf)
{
    CHECK(consumed > 0 && consumed <= QCAM_RTSP_MAX_REQUEST);
    CHECK(in_text(r, r->method_name) && r->method_name[0] != '\0');
    CHECK(in_text(r, r->uri) && r->uri[0] != '\0');
    CHECK(r->cseq >= -1);
    CHECK(r->n_headers <= QCAM_RTSP_MAX_HEADERS);
    CHECK(r->method >= QCAM_RTSP_UNKNOWN && r->method <= QCAM_RTSP_RECORD);
    for (unsigned i = 0; i < r->n_headers; i++) {
        CHECK(in_text(r, r->headers[i].name) && in_text(r, r->headers[i].value));
        CHECK(r->headers[i].name[0] != '\0');
        const char *v = qcam_rtsp_header_get(r, r->headers[i].name);
        CHECK(v != NULL);
        sink += strlen(v);
    }
    if (r->body) {
        CHECK(r->body_len > 0 && in_text(r, r->body) && in_text(r, r->body + r->body_len));
        CHECK(memcmp(r->body, buf + consumed - r->body_len, r->body_len) == 0);
    } else {
        CHECK(r->body_len == 0);
    }
    const char *t = qcam_rtsp_header_get(r, "Transport");
    if (t) check_transport(t, NULL);
    const char *a = qcam_rtsp_header_get(r, "Authorization");
    if (a) check_digest(a);
    char out[512];
    int n = qcam_rtsp_response(out, sizeof out, r->method == QCAM_RTSP_UNKNOWN ? 501 : 200, r->cseq,
                               NULL, NULL, 0);
    CHECK(n > 0 && (size_t)n < sizeof out);
}

/* Parse requests back to back from b[0..n) as a server would. Returns how
 * many; *end the offset where it stopped, *last the final result. */
static unsigned parse_stream(const uint8_t *b, size_t n, size_t *end, int *last, bool deep)
{
    size_t at = 0;
    unsigned count = 0;
    int r = 0;
    while (at < n) {
        r = qcam_rtsp_parse_request(b + at, n - at, &req);
        if (r <= 0) break;
        CHECK((size_t)r <= n - at);
        if (deep) {
            check_request(&req, r, b + at);
            /* Every proper prefix is incomplete (a few of them: the cost is quadratic). */
            size_t probes[4] = {0, (size_t)r / 2, (size_t)r - 1, (size_t)r * 7 / 8};
            for (int k = 0; k < 4; k++) {
                uint8_t *pre = fuzz_dup(b + at, probes[k]);
                CHECK(qcam_rtsp_parse_request(pre, probes[k], &req2) == 0);
                free(pre);
            }
        }
        at += (size_t)r;
        count++;
    }
    *end = at;
    *last = at == n ? 0 : r;
    return count;
}

/* The same stream read `chunk` bytes at a time into a window. */
static unsigned parse_chunked(const uint8_t *b, size_t n, size_t chunk, size_t *end, int *last)
{
    size_t start = 0, have = 0;
    unsigned count = 0;
    int r = 0;
    for (;;) {
        uint8_t *w = fuzz_dup(b + start, have - start);
        r = have > start ? qcam_rtsp_parse_request(w, have - start, &req2) : 0;
        free(w);
        if (r > 0) {
            start += (size_t)r;
            count++;
            continue;
        }
        if (r < 0 || have == n) break;
        have = have + chunk > n ? n : have + chunk;
    }
    *end = start;
    *last = r;
    return count;
}

static void fuzz_request(const uint8_t *b, size_t n, size_t chunk)
{
    size_t end, end2;
    int last, last2;
    unsigned count = parse_stream(b, n, &end, &last, true);
    unsigned count2 = parse_chunked(b, n, chunk, &end2, &last2);
    CHECK(count == count2 && end == end2);
    CHECK(last == last2 || (last == 0 && end == n && last2 == 0));
    CHECK(last >= 0 || last == -400 || last == -413 || last == -505);
    if (n - end >= QCAM_RTSP_MAX_REQUEST) CHECK(last != 0);
    if (trace) fprintf(stderr, "qcam-fuzz: mode=request requests=%u last=%d\n", count, last);
}

/* A server's read loop over interleaved frames and requests. */
static void walk_interleaved(const uint8_t *b, size_t n, unsigned *frames, unsigned *requests,
                             size_t *end, int *stop)
{
    size_t at = 0;
    *frames = *requests = 0;
    *stop = 0;
    while (at < n) {
        uint8_t ch;
        const uint8_t *pl;
        size_t pn, used;
        int k = qcam_rtsp_next_interleaved(b + at, n - at, &ch, &pl, &pn, &used);
        CHECK(k == 0 || k == 1 || k == 2);
        if (k == 0) break;
        if (k == 1) {
            CHECK(used == pn + 4 && used <= n - at && pl == b + at + 4 && ch == b[at + 1]);
            for (size_t i = 0; i < pn; i++) sink += pl[i];
            (*frames)++;
            at += used;
            continue;
        }
        int r = qcam_rtsp_parse_request(b + at, n - at, &req);
        if (r <= 0) {
            *stop = r;
            break;
        }
        (*requests)++;
        at += (size_t)r;
    }
    *end = at;
}

static void fuzz_interleaved(const uint8_t *b, size_t n, size_t chunk)
{
    unsigned frames, requests;
    size_t end;
    int stop;
    walk_interleaved(b, n, &frames, &requests, &end, &stop);
    /* In chunks: a growing window, consumed from the front. */
    size_t start = 0, have = 0;
    unsigned f2 = 0, q2 = 0;
    int stop2 = 0;
    for (;;) {
        uint8_t *w = fuzz_dup(b + start, have - start);
        unsigned f, q;
        size_t used;
        int s;
        walk_interleaved(w, have - start, &f, &q, &used, &s);
        free(w);
        f2 += f, q2 += q;
        start += used;
        stop2 = s;
        if (s < 0 || have == n) break;
        have = have + chunk > n ? n : have + chunk;
    }
    CHECK(f2 == frames && q2 == requests && start == end && stop2 == stop);
    if (trace)
        fprintf(stderr, "qcam-fuzz: mode=interleaved frames=%u requests=%u stop=%d\n", frames,
                requests, stop);
}

static void fuzz_depack(qcam_codec codec, const uint8_t *b, size_t n, unsigned shift)
{
    size_t cap = (size_t)65536 >> shift;
    uint8_t *out = malloc(cap);
    CHECK(out != NULL);
    qcam_rtp_depack d;
    qcam_rtp_depack_init(&d, codec, out, cap);
    unsigned aus = 0, bad = 0, packets = 0;
    size_t at = 0;
    while (n - at >= 2) {
        size_t len = (size_t)b[at] << 8 | b[at + 1];
        at += 2;
        if (len > n - at) len = n - at;
        uint8_t *pk = fuzz_dup(b + at, len);
        int r = qcam_rtp_depack_push(&d, pk, len);
        free(pk);
        at += len;
        packets++;
        CHECK(r == -1 || r == 0 || r == 1);
        CHECK(d.len <= d.cap);
        if (r == 1) {
            CHECK(d.len >= 5 && memcmp(d.out, "\0\0\0\1", 4) == 0);
            for (size_t i = 0; i < d.len; i++) sink += d.out[i];
            aus++;
        }
        bad += r == -1;
    }
    if (trace)
        fprintf(stderr, "qcam-fuzz: mode=depack codec=%s packets=%u aus=%u malformed=%u dropped=%u\n",
                codec == QCAM_CODEC_H264 ? "h264" : "h265", packets, aus, bad, d.dropped);
    free(out);
}

typedef struct {
    qcam_rtp_depack *d;
    size_t mtu;
    unsigned packets, markers;
    int last;
    uint16_t next_seq;
} loop_back;

static int loop_packet(void *opaque, const qcam_rtp_packet *p)
{
    loop_back *lb = opaque;
    size_t n = p->head_len + p->body_len;
    CHECK(n <= lb->mtu && p->head_len >= QCAM_RTP_HEADER && p->head_len <= QCAM_RTP_HEADER + 3);
    CHECK(p->body_len > 0);
    uint8_t *pk = malloc(n);
    CHECK(pk != NULL);
    memcpy(pk, p->head, p->head_len);
    memcpy(pk + p->head_len, p->body, p->body_len);
    CHECK((uint16_t)(pk[2] << 8 | pk[3]) == lb->next_seq);
    lb->next_seq++;
    lb->markers += (pk[1] & 0x80) != 0;
    CHECK(lb->last != 1); /* nothing after a complete AU */
    lb->last = qcam_rtp_depack_push(lb->d, pk, n);
    CHECK(lb->last == 0 || lb->last == 1);
    free(pk);
    lb->packets++;
    return 0;
}

static void fuzz_roundtrip(qcam_codec codec, const uint8_t *b, size_t n, size_t mtu)
{
    /* What must come back: the NAL units RTP carries, 4-byte start codes. */
    uint8_t *want = malloc(n * 2 + 16);
    CHECK(want != NULL);
    size_t wl = 0, pos = 0, start, nl;
    const uint8_t *nal;
    unsigned nals = 0;
    while (qcam_annexb_next_nal(b, n, &pos, &start, &nal, &nl)) {
        bool ok;
        if (codec == QCAM_CODEC_H264) ok = nl >= 1 && (nal[0] & 0x1f) >= 1 && (nal[0] & 0x1f) <= 23;
        else ok = nl >= 2 && ((nal[0] >> 1) & 0x3f) < 48;
        if (!ok) continue;
        memcpy(want + wl, "\0\0\0\1", 4);
        memcpy(want + wl + 4, nal, nl);
        wl += 4 + nl;
        nals++;
    }
    uint8_t *out = malloc(wl + 1);
    CHECK(out != NULL);
    qcam_rtp_depack d;
    qcam_rtp_depack_init(&d, codec, out, wl + 1);
    qcam_rtp_stream s = {.payload_type = 96, .ssrc = 1, .seq = 65530, .mtu = mtu, .codec = codec};
    loop_back lb = {.d = &d, .mtu = mtu, .next_seq = 65530};
    int r = qcam_rtp_packetize_video(&s, b, n, 1234, loop_packet, &lb);
    CHECK(r >= 0 && (unsigned)r == lb.packets && s.packets == lb.packets);
    if (nals == 0) {
        CHECK(r == 0);
    } else {
        CHECK(lb.markers == 1 && lb.last == 1);
        CHECK(d.len == wl && memcmp(d.out, want, wl) == 0);
        CHECK(d.dropped == 0);
    }
    if (trace)
        fprintf(stderr, "qcam-fuzz: mode=roundtrip codec=%s mtu=%zu nals=%u packets=%d\n",
                codec == QCAM_CODEC_H264 ? "h264" : "h265", mtu, nals, r);
    free(out);
    free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned mode = data[0] & 7, p = data[0] >> 3;
    const uint8_t *b0 = data + 1;
    size_t n = size - 1;
    uint8_t *b = fuzz_dup(b0, n);
    /* Reading a big input a byte at a time costs time and memory quadratic
     * in its size: big inputs are read in at least n / 64 bytes at a time. */
    size_t chunk = p + 1u > n / 64 ? p + 1u : n / 64;
    switch (mode) {
    case 0:
        fuzz_request(b, n, chunk);
        break;
    case 1: {
        char *s = dup_str(b, n);
        int r;
        check_transport(s, &r);
        if (trace) fprintf(stderr, "qcam-fuzz: mode=transport result=%d\n", r);
        free(s);
        break;
    }
    case 2:
        fuzz_interleaved(b, n, chunk);
        break;
    case 3: {
        char *s = dup_str(b, n);
        int ok = check_digest(s);
        if (trace) fprintf(stderr, "qcam-fuzz: mode=digest ok=%d\n", ok);
        free(s);
        break;
    }
    case 4:
    case 5:
        fuzz_depack(mode == 4 ? QCAM_CODEC_H264 : QCAM_CODEC_H265, b, n, p & 7);
        break;
    default:
        fuzz_roundtrip(mode == 6 ? QCAM_CODEC_H264 : QCAM_CODEC_H265, b, n, 16 + 23 * (size_t)p);
        break;
    }
    free(b);
    return 0;
}
