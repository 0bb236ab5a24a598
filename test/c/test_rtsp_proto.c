/* qcam:rtsp's protocol layer (host-modules/rtsp/rtsp_proto.h): RTSP messages,
 * SDP, Digest, RTP packetization and depacketization, RTCP. Driven by
 * test/integration/rtsp-proto.test.ts on the host and ASan+UBSan builds; the
 * same test sends real clips to GStreamer and ffmpeg with the `send` mode.
 *
 *   unit [group...]          the tables below; one "ok <group> <checks>" line
 *                            per group, failures on stderr, exit 1 on any
 *                            groups: md5 digest request interleaved transport
 *                            response sdp base64 rtp-table rtp-loss rtp-depack
 *                            audio rtcp reply client-auth client-sdp
 *                            client-misc (the client half: what one side
 *                            builds, the other parses)
 *   send <h264|h265> <file> <port> [mtu] [fps] [loops]
 *                            an Annex B file, access unit by access unit,
 *                            packetized and sent over UDP to 127.0.0.1:<port>
 *                            (payload type 96), paced at about 4x <fps>
 *                            (default 30), `loops` times over (default 1;
 *                            timestamps and sequence numbers run on):
 *                            "sent aus=<n> packets=<n> max_packet=<bytes> fu=<n>"
 *   send <pcma|pcmu> <file> <port> [mtu] [rate]
 *                            raw G.711 bytes in 20 ms packets (rate default
 *                            8000 Hz: payload type 8 / 0; other rates 97):
 *                            "sent samples=<n> packets=<n>"
 *   roundtrip <h264|h265> <file> <mtu>
 *                            packetize every access unit of the file and
 *                            depacketize it again: the same NAL units must
 *                            come back; "roundtrip aus=<n> nals=<n> packets=<n>"
 *   sdp <h264|h265|none> <file|-> [pcma|pcmu] [rate]
 *                            the session description for the parameter sets
 *                            of the file's first access unit (o= and c= 127.0.0.1;
 *                            "none": audio only) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../host-modules/rtsp/rtsp_proto.h"
#include "../../host-modules/video/annexb.h"

/* ---- a tiny check harness ---------------------------------------------------- */

static int checks, failures;
static const char *group;

#define CHECK(c) check_((c), __LINE__, "%s", #c)
#define CHECKF(c, ...) check_((c), __LINE__, __VA_ARGS__)
#define EQ_INT(a, b)                                                                   \
    do {                                                                               \
        long long a_ = (long long)(a), b_ = (long long)(b);                            \
        check_(a_ == b_, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_);          \
    } while (0)
#define EQ_STR(a, b)                                                                   \
    do {                                                                               \
        const char *a_ = (a), *b_ = (b);                                               \
        check_(a_ && b_ && strcmp(a_, b_) == 0, __LINE__, "%s == %s: '%s' != '%s'", #a, \
               #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                            \
    } while (0)

static bool check_(bool ok, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool check_(bool ok, int line, const char *fmt, ...)
{
    checks++;
    if (ok) return true;
    failures++;
    fprintf(stderr, "FAIL %s (test_rtsp_proto.c:%d): ", group, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return false;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "test_rtsp_proto: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* A copy on the heap of exactly n bytes, so ASan sees reads past the end. */
static uint8_t *dup_exact(const void *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b) die("out of memory");
    if (n) memcpy(b, p, n);
    return b;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

/* ---- md5: RFC 1321 appendix A.5 --------------------------------------------- */

static void t_md5(void)
{
    static const struct {
        const char *in, *md5;
    } v[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t d[16];
        char h[33];
        uint8_t *in = dup_exact(v[i].in, strlen(v[i].in));
        qcam_md5(in, strlen(v[i].in), d);
        free(in);
        hex(h, d, 16);
        EQ_STR(h, v[i].md5);
    }
    /* Lengths around the 56/64-byte padding edges: one million 'a's. */
    static char big[1000000];
    memset(big, 'a', sizeof big);
    uint8_t d[16];
    char h[33];
    qcam_md5(big, sizeof big, d);
    hex(h, d, 16);
    EQ_STR(h, "7707d6ae4e027c70eea2a935c2296f21");
    qcam_md5(big, 55, d);
    hex(h, d, 16);
    EQ_STR(h, "ef1772b6dff9a122358552954ad0df65");
    qcam_md5(big, 56, d);
    hex(h, d, 16);
    EQ_STR(h, "3b0c8ac703f828b04c6c197006d17218");
    qcam_md5(big, 64, d);
    hex(h, d, 16);
    EQ_STR(h, "014842d480b571495a4a0363793f7367");
}

/* ---- digest: RFC 2617 ---------------------------------------------------------- */

static int dcheck(const char *auth, const char *method, const char *user, const char *pass,
                  const char *realm, const char *nonce)
{
    char *a = (char *)dup_exact(auth, strlen(auth) + 1);
    int r = qcam_digest_check(a, method, user, pass, realm, nonce);
    free(a);
    return r;
}

static void t_digest(void)
{
    /* RFC 2617 3.5: the worked example. */
    const char *rfc = "Digest username=\"Mufasa\",\n"
                      "                 realm=\"testrealm@host.com\",\n"
                      "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\n"
                      "                 uri=\"/dir/index.html\",\n"
                      "                 qop=auth,\n"
                      "                 nc=00000001,\n"
                      "                 cnonce=\"0a4f113b\",\n"
                      "                 response=\"6629fae49393a05397450978507c4ef1\",\n"
                      "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    const char *R = "testrealm@host.com", *N = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    EQ_INT(dcheck(rfc, "GET", "Mufasa", "Circle Of Life", R, N), 1);
    EQ_INT(dcheck(rfc, "GET", "Mufasa", "Circle of Life", R, N), 0);
    EQ_INT(dcheck(rfc, "GET", "mufasa", "Circle Of Life", R, N), 0);
    EQ_INT(dcheck(rfc, "POST", "Mufasa", "Circle Of Life", R, N), 0);
    EQ_INT(dcheck(rfc, "GET", "Mufasa", "Circle Of Life", "other@host.com", N), 0);
    EQ_INT(dcheck(rfc, "GET", "Mufasa", "Circle Of Life", R, "dcd98b7102dd2f0e8b11d0f600bfb0c094"), 0);

    /* Without qop (RFC 2069 compatibility), as RTSP clients commonly answer.
     * Expected responses computed independently (Python hashlib). */
    const char *n2 = "0123456789abcdef0123456789abcdef";
    char a[1024];
    snprintf(a, sizeof a,
             "Digest username=\"admin\", realm=\"qcam\", nonce=\"%s\", "
             "uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\"",
             n2);
    EQ_INT(dcheck(a, "DESCRIBE", "admin", "secret", "qcam", n2), 1);
    EQ_INT(dcheck(a, "SETUP", "admin", "secret", "qcam", n2), 0);
    EQ_INT(dcheck(a, "DESCRIBE", "admin", "secret2", "qcam", n2), 0);
    EQ_INT(dcheck(a, "DESCRIBE", "admin", "secret", "qcam", "0123456789abcdef0123456789abcdee"), 0);
    snprintf(a, sizeof a,
             "Digest username=\"admin\", realm=\"qcam\", nonce=\"%s\", "
             "uri=\"rtsp://127.0.0.1:8554/live/track0\", response=\"1856B35CE56F759EBACDFBBDDC8BD79C\", algorithm=md5",
             n2);
    EQ_INT(dcheck(a, "SETUP", "admin", "secret", "qcam", n2), 1); /* hex case, algorithm case */
    /* Tokens instead of quoted strings, odd spacing, extra parameters. */
    snprintf(a, sizeof a,
             "digest   username=admin ,realm=qcam,nonce=%s,uri=\"rtsp://127.0.0.1:8554/live\","
             "response=4d9f239b14f7bf9b6b4c860ea69c7155,opaque=\"x\",stale=false",
             n2);
    EQ_INT(dcheck(a, "DESCRIBE", "admin", "secret", "qcam", n2), 1);
    /* An escaped character in a quoted string. */
    snprintf(a, sizeof a,
             "Digest username=\"ad\\min\", realm=\"qcam\", nonce=\"%s\", "
             "uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\"",
             n2);
    EQ_INT(dcheck(a, "DESCRIBE", "admin", "secret", "qcam", n2), 1);

    /* Answers that are right for what they claim, but claim the wrong thing:
     * another qop, nonce, realm or user (responses from Python's hashlib). */
    static const struct {
        const char *fields, *response;
    } claims[] = {
        {"username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", qop=auth-int, nc=00000001, cnonce=\"abc\"", "65a9cc35772d7ac0a1d486098bbfe120"},
        {"username=\"admin\", realm=\"qcam\", nonce=\"ffffffffffffffffffffffffffffffff\"", "7e6443d55e4cab694961f12db809a60d"},
        {"username=\"admin\", realm=\"other\", nonce=\"0123456789abcdef0123456789abcdef\"", "712565ad77061507cb1bdb17634c6400"},
        {"username=\"root\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\"", "caab21e5fe69b0eae6b1c1974438ca61"},
    };
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        snprintf(a, sizeof a, "Digest %s, uri=\"rtsp://127.0.0.1:8554/live\", response=\"%s\"", claims[i].fields, claims[i].response);
        CHECKF(dcheck(a, "DESCRIBE", "admin", "secret", "qcam", n2) == 0, "claims[%zu] accepted", i);
    }

    /* Refusals. */
    static const char *const bad[] = {
        "",
        "Digest",
        "Digest ",
        "Basic YWRtaW46c2VjcmV0",
        "Digestusername=\"admin\"",
        /* missing response / uri / nonce */
        "Digest username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\"",
        "Digest username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\"",
        "Digest username=\"admin\", realm=\"qcam\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\"",
        /* unterminated quote, escape at the end */
        "Digest username=\"admin, realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\"",
        "Digest username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\\",
        /* a parameter twice */
        "Digest username=\"admin\", username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\"",
        /* qop we do not do, qop without cnonce, bad nc */
        "Digest username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\", qop=auth-int, nc=00000001, cnonce=\"x\"",
        "Digest username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\", qop=auth, nc=00000001",
        "Digest username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\", qop=auth, nc=0001, cnonce=\"x\"",
        /* another algorithm; a short response; a missing '=' */
        "Digest username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\", algorithm=SHA-256",
        "Digest username=\"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c715\"",
        "Digest username \"admin\", realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\", uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(dcheck(bad[i], "DESCRIBE", "admin", "secret", "qcam", n2) == 0, "bad[%zu] accepted", i);
    /* Every prefix of a good header is refused (and read within bounds). */
    snprintf(a, sizeof a,
             "Digest username=\"admin\", realm=\"qcam\", nonce=\"%s\", "
             "uri=\"rtsp://127.0.0.1:8554/live\", response=\"4d9f239b14f7bf9b6b4c860ea69c7155\"",
             n2);
    size_t n = strlen(a);
    int accepted = 0;
    for (size_t k = 0; k <= n; k++) {
        char *p = (char *)dup_exact(a, k + 1);
        p[k] = '\0';
        accepted += qcam_digest_check(p, "DESCRIBE", "admin", "secret", "qcam", n2);
        free(p);
    }
    EQ_INT(accepted, 1); /* only the whole header */
    /* A parameter longer than the parser keeps. */
    char *huge = malloc(5000);
    strcpy(huge, "Digest username=\"");
    memset(huge + strlen(huge), 'x', 4000);
    strcpy(huge + 17 + 4000, "\", realm=\"qcam\"");
    EQ_INT(dcheck(huge, "DESCRIBE", "admin", "secret", "qcam", n2), 0);
    free(huge);

    /* Nonces: MD5(secret || counter as 8 big-endian bytes), hex. */
    uint8_t secret[16];
    for (int i = 0; i < 16; i++) secret[i] = (uint8_t)i;
    char nonce[33];
    qcam_digest_nonce(nonce, secret, 0);
    EQ_STR(nonce, "83ef3431057585639321bbdf2d0e8f98");
    qcam_digest_nonce(nonce, secret, 1);
    EQ_STR(nonce, "a162d560efdd5e6acbf869c38cdfe966");
    qcam_digest_nonce(nonce, secret, 0x0102030405060708ull);
    EQ_STR(nonce, "29d7d3223c28b9deb10d7012530fbad8");

    /* The challenge. */
    char c[256];
    int r = qcam_digest_challenge(c, sizeof c, "qcam", n2);
    EQ_STR(c, "WWW-Authenticate: Digest realm=\"qcam\", nonce=\"0123456789abcdef0123456789abcdef\"\r\n");
    EQ_INT(r, strlen(c));
    EQ_INT(qcam_digest_challenge(c, (size_t)r, "qcam", n2), -1);
    EQ_INT(qcam_digest_challenge(c, (size_t)r + 1, "qcam", n2), r);
    EQ_INT(qcam_digest_challenge(c, sizeof c, "q\"cam", n2), -1);
    EQ_INT(qcam_digest_challenge(c, sizeof c, "q\r\ncam", n2), -1);
}

/* ---- request parser ------------------------------------------------------------ */

static qcam_rtsp_request req;

static int parse(const char *text, size_t len)
{
    uint8_t *b = dup_exact(text, len);
    int r = qcam_rtsp_parse_request(b, len, &req);
    free(b);
    return r;
}

static int parse_s(const char *text)
{
    return parse(text, strlen(text));
}

/* Every proper prefix of text[0..len) is "incomplete". */
static void all_prefixes_incomplete(const char *text, size_t len)
{
    int bad = 0;
    size_t first = 0;
    for (size_t k = 0; k < len; k++) {
        if (parse(text, k) != 0) {
            if (!bad) first = k;
            bad++;
        }
    }
    CHECKF(bad == 0, "%d prefixes of '%.20s...' were not 0 (first at %zu)", bad, text, first);
}

static void t_request(void)
{
    const char *opt = "OPTIONS rtsp://127.0.0.1:8554/live RTSP/1.0\r\n"
                      "CSeq: 1\r\n"
                      "User-Agent: Lavf61.7.100\r\n"
                      "\r\n";
    EQ_INT(parse_s(opt), strlen(opt));
    EQ_INT(req.method, QCAM_RTSP_OPTIONS);
    EQ_STR(req.method_name, "OPTIONS");
    EQ_STR(req.uri, "rtsp://127.0.0.1:8554/live");
    EQ_INT(req.cseq, 1);
    EQ_INT(req.n_headers, 2);
    EQ_STR(req.headers[1].name, "User-Agent");
    EQ_STR(req.headers[1].value, "Lavf61.7.100");
    EQ_STR(qcam_rtsp_header_get(&req, "user-agent"), "Lavf61.7.100");
    EQ_STR(qcam_rtsp_header_get(&req, "CSEQ"), "1");
    CHECK(qcam_rtsp_header_get(&req, "Session") == NULL);
    CHECK(req.body == NULL && req.body_len == 0);
    all_prefixes_incomplete(opt, strlen(opt));

    /* Every method, and unknown ones (case matters: methods are case-sensitive). */
    static const struct {
        const char *name;
        qcam_rtsp_method m;
    } ms[] = {{"OPTIONS", QCAM_RTSP_OPTIONS},   {"DESCRIBE", QCAM_RTSP_DESCRIBE},
              {"SETUP", QCAM_RTSP_SETUP},       {"PLAY", QCAM_RTSP_PLAY},
              {"PAUSE", QCAM_RTSP_PAUSE},       {"TEARDOWN", QCAM_RTSP_TEARDOWN},
              {"GET_PARAMETER", QCAM_RTSP_GET_PARAMETER},
              {"SET_PARAMETER", QCAM_RTSP_SET_PARAMETER},
              {"ANNOUNCE", QCAM_RTSP_ANNOUNCE}, {"RECORD", QCAM_RTSP_RECORD},
              {"REDIRECT", QCAM_RTSP_UNKNOWN},  {"options", QCAM_RTSP_UNKNOWN},
              {"PLAYX", QCAM_RTSP_UNKNOWN},     {"X-Q_1.2", QCAM_RTSP_UNKNOWN}};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        char t[256];
        snprintf(t, sizeof t, "%s rtsp://h/live RTSP/1.0\r\nCSeq: %zu\r\n\r\n", ms[i].name, i + 10);
        EQ_INT(parse_s(t), strlen(t));
        EQ_INT(req.method, ms[i].m);
        EQ_STR(req.method_name, ms[i].name);
        EQ_INT(req.cseq, i + 10);
    }

    /* CSeq: missing, not a number, negative, too long, spaced, twice. */
    static const struct {
        const char *hdr;
        int cseq;
    } cs[] = {{"", -1},
              {"CSeq: abc\r\n", -1},
              {"CSeq: -3\r\n", -1},
              {"CSeq: +3\r\n", -1},
              {"CSeq: 3.0\r\n", -1},
              {"CSeq:\r\n", -1},
              {"CSeq: 99999999999\r\n", -1},
              {"CSeq: 999999999\r\n", 999999999},
              {"cseq:7\r\n", 7},
              {"CSeq: \t 42  \r\n", 42},
              {"CSeq: 5\r\nCSeq: 5\r\n", 5},
              {"CSeq: 5\r\nCSeq: 6\r\n", -1},
              {"CSeq: 0\r\n", 0}};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        char t[256];
        snprintf(t, sizeof t, "PLAY rtsp://h/live RTSP/1.0\r\n%sSession: 1\r\n\r\n", cs[i].hdr);
        EQ_INT(parse_s(t), strlen(t));
        CHECKF(req.cseq == cs[i].cseq, "cseq for '%s': %d, want %d", cs[i].hdr, req.cseq, cs[i].cseq);
    }

    /* A body, split across reads; then a second request right behind it. */
    const char *setp = "SET_PARAMETER rtsp://h/live RTSP/1.0\r\n"
                       "CSeq: 9\r\n"
                       "Content-Type: text/parameters\r\n"
                       "Content-Length: 12\r\n"
                       "\r\n"
                       "barparam: x\n"
                       "OPTIONS * RTSP/1.0\r\nCSeq: 10\r\n\r\n";
    size_t first_len = strlen(setp) - strlen("OPTIONS * RTSP/1.0\r\nCSeq: 10\r\n\r\n");
    all_prefixes_incomplete(setp, first_len);
    EQ_INT(parse(setp, first_len), first_len);
    EQ_INT(req.body_len, 12);
    CHECK(req.body && memcmp(req.body, "barparam: x\n", 12) == 0);
    EQ_INT(parse_s(setp), first_len);
    EQ_INT(req.method, QCAM_RTSP_SET_PARAMETER);
    EQ_INT(parse_s(setp + first_len), strlen(setp + first_len));
    EQ_STR(req.uri, "*");
    EQ_INT(req.cseq, 10);
    /* Content-Length 0, spaced, and the same twice. */
    const char *cl0 = "GET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 0\r\n\r\n";
    EQ_INT(parse_s(cl0), strlen(cl0));
    CHECK(req.body == NULL && req.body_len == 0);
    const char *cl2 = "GET_PARAMETER rtsp://h/ RTSP/1.0\r\nContent-length:  2 \r\nContent-Length: 2\r\n\r\nab";
    EQ_INT(parse_s(cl2), strlen(cl2));
    EQ_INT(req.body_len, 2);

    /* LF-only line ends, and a header continued on the next line. */
    const char *lf = "DESCRIBE rtsp://h/live RTSP/1.0\nCSeq: 3\nAccept: application/sdp,\n  text/plain\n\n";
    EQ_INT(parse_s(lf), strlen(lf));
    EQ_INT(req.cseq, 3);
    EQ_INT(req.n_headers, 2);
    EQ_STR(qcam_rtsp_header_get(&req, "Accept"), "application/sdp,   text/plain");
    all_prefixes_incomplete(lf, strlen(lf));
    const char *fold = "SETUP rtsp://h/live/track0 RTSP/1.0\r\nCSeq: 4\r\nTransport:\r\n\tRTP/AVP;unicast;\r\n client_port=5000-5001\r\nX: y\r\n\r\n";
    EQ_INT(parse_s(fold), strlen(fold));
    EQ_STR(qcam_rtsp_header_get(&req, "Transport"), "RTP/AVP;unicast;   client_port=5000-5001");
    EQ_STR(qcam_rtsp_header_get(&req, "X"), "y");
    EQ_INT(req.n_headers, 3);
    /* Empty values. */
    const char *empty = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nEmpty:\r\nAlso: \r\n\r\n";
    EQ_INT(parse_s(empty), strlen(empty));
    EQ_STR(qcam_rtsp_header_get(&req, "Empty"), "");
    EQ_STR(qcam_rtsp_header_get(&req, "Also"), "");

    /* Malformed request lines: 400; other versions: 505. */
    static const struct {
        const char *text;
        int r;
    } bad[] = {
        {"\r\n\r\n", -400},
        {"OPTIONS\r\n\r\n", -400},
        {"OPTIONS *\r\n\r\n", -400},
        {"OPTIONS * \r\n\r\n", -400},
        {"OPTIONS  * RTSP/1.0\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0 \r\n\r\n", -400},
        {" OPTIONS * RTSP/1.0\r\n\r\n", -400},
        {"OPT(IONS * RTSP/1.0\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0x\r\n\r\n", -400},
        {"OPTIONS * RTSP/1\r\n\r\n", -400},
        {"OPTIONS * rtsp/1.0\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\r\n\r\n", -400},
        {"OPTIONS rtsp://h/\x01 RTSP/1.0\r\n\r\n", -400},
        {"OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n", -505},
        {"OPTIONS * RTSP/1.1\r\nCSeq: 1\r\n\r\n", -505},
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", -505},
        /* headers */
        {"OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\n: 1\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\nC Seq: 1\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\nCSeq : 1\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\n continued\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\nX: a\rb\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\nContent-Length: 1x\r\n\r\nab", -400},
        {"OPTIONS * RTSP/1.0\r\nContent-Length:\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\nContent-Length: 0x10\r\n\r\n", -400},
        {"OPTIONS * RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", -400},
        {"OPTIONS * RTSP/1.0\r\nContent-Length: 9000\r\n\r\n", -413},
        {"OPTIONS * RTSP/1.0\r\nContent-Length: 999999999\r\n\r\n", -413},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = parse_s(bad[i].text);
        CHECKF(r == bad[i].r, "bad[%zu] '%s': %d, want %d", i, bad[i].text, r, bad[i].r);
    }
    /* A bad request line is refused as soon as it is whole. */
    EQ_INT(parse_s("OPTIONS * RTSP/2.0\r\n"), -505);
    EQ_INT(parse_s("OPTIONS * RTSP/2.0"), 0);
    EQ_INT(parse_s("BAD\r\n"), -400);
    /* A NUL byte inside a header or the request line. */
    static const char nul_hdr[] = "OPTIONS * RTSP/1.0\r\nX: a\0b\r\n\r\n";
    EQ_INT(parse(nul_hdr, sizeof nul_hdr - 1), -400);
    static const char nul_line[] = "OPTIONS *\0 RTSP/1.0\r\n\r\n";
    EQ_INT(parse(nul_line, sizeof nul_line - 1), -400);

    /* Header counts: 32 is fine, 33 is not. */
    char many[4096];
    for (int count = 31; count <= 34; count++) {
        size_t at = (size_t)snprintf(many, sizeof many, "OPTIONS * RTSP/1.0\r\nCSeq: 5\r\n");
        for (int i = 1; i < count; i++) at += (size_t)snprintf(many + at, sizeof many - at, "X-%d: %d\r\n", i, i);
        at += (size_t)snprintf(many + at, sizeof many - at, "\r\n");
        int r = parse(many, at);
        if (count <= QCAM_RTSP_MAX_HEADERS) {
            CHECKF(r == (int)at, "%d headers: %d", count, r);
            EQ_INT(req.n_headers, count);
            EQ_INT(req.cseq, 5);
            EQ_STR(qcam_rtsp_header_get(&req, "x-30"), "30");
        } else {
            CHECKF(r == -400, "%d headers: %d, want -400", count, r);
        }
    }

    /* Sizes: a request of exactly the maximum parses; one byte more is 413;
     * a header block that never ends is 0 below the maximum, 413 at it. */
    char *big = malloc(QCAM_RTSP_MAX_REQUEST + 100);
    const char *head = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ";
    size_t hl = strlen(head);
    size_t pad = QCAM_RTSP_MAX_REQUEST - hl - 4;
    memcpy(big, head, hl);
    memset(big + hl, 'p', pad);
    memcpy(big + hl + pad, "\r\n\r\n", 4);
    EQ_INT(parse(big, QCAM_RTSP_MAX_REQUEST), QCAM_RTSP_MAX_REQUEST);
    EQ_INT(strlen(qcam_rtsp_header_get(&req, "X-Pad")), pad);
    memcpy(big + hl, "q", 1);
    memset(big + hl + 1, 'p', pad);
    memcpy(big + hl + 1 + pad, "\r\n\r\n", 4);
    EQ_INT(parse(big, QCAM_RTSP_MAX_REQUEST + 1), -413);
    EQ_INT(parse(big, QCAM_RTSP_MAX_REQUEST), -413);
    EQ_INT(parse(big, QCAM_RTSP_MAX_REQUEST - 1), 0);
    /* Headers and body together over the maximum. */
    size_t at = (size_t)snprintf(big, 200, "ANNOUNCE * RTSP/1.0\r\nContent-Length: %d\r\n\r\n", QCAM_RTSP_MAX_REQUEST - 40);
    EQ_INT(parse(big, at), -413);
    at = (size_t)snprintf(big, 200, "ANNOUNCE * RTSP/1.0\r\nContent-Length: %d\r\n\r\n", QCAM_RTSP_MAX_REQUEST - 45);
    CHECK(at == 45);
    memset(big + at, 'b', QCAM_RTSP_MAX_REQUEST - 45);
    EQ_INT(parse(big, at), 0);
    EQ_INT(parse(big, QCAM_RTSP_MAX_REQUEST - 1), 0);
    EQ_INT(parse(big, QCAM_RTSP_MAX_REQUEST), QCAM_RTSP_MAX_REQUEST);
    EQ_INT(req.body_len, QCAM_RTSP_MAX_REQUEST - 45);
    /* A request line alone that never ends. */
    memset(big, 'A', QCAM_RTSP_MAX_REQUEST + 10);
    EQ_INT(parse(big, 100), 0);
    EQ_INT(parse(big, QCAM_RTSP_MAX_REQUEST), -413);
    EQ_INT(parse(big, QCAM_RTSP_MAX_REQUEST + 10), -413);
    free(big);
}

/* ---- interleaved frames ---------------------------------------------------------- */

static void t_interleaved(void)
{
    /* '$' 0 len=5, payload; then an RTSP request; then '$' 3 len=0; '$' 1 len=300. */
    uint8_t s[600];
    size_t n = 0;
    s[n++] = '$', s[n++] = 0, s[n++] = 0, s[n++] = 5;
    memcpy(s + n, "\x80\x60\x00\x01\x02", 5), n += 5;
    size_t f1 = n;
    const char *rq = "GET_PARAMETER * RTSP/1.0\r\nCSeq: 3\r\n\r\n";
    memcpy(s + n, rq, strlen(rq)), n += strlen(rq);
    size_t f2 = n;
    s[n++] = '$', s[n++] = 3, s[n++] = 0, s[n++] = 0;
    size_t f3 = n;
    s[n++] = '$', s[n++] = 1, s[n++] = 1, s[n++] = 44;
    for (int i = 0; i < 300; i++) s[n++] = (uint8_t)i;
    size_t end = n;

    /* Split at every byte: 0 until the frame is whole. */
    const size_t frames[][3] = {{0, f1, 0}, {f2, f3, 3}, {f3, end, 1}};
    for (size_t f = 0; f < 3; f++) {
        size_t from = frames[f][0], to = frames[f][1];
        int wrong = 0;
        for (size_t k = 0; k <= to - from; k++) {
            uint8_t *b = dup_exact(s + from, k);
            uint8_t ch = 0xee;
            const uint8_t *pl = NULL;
            size_t pn = 0, used = 0;
            int r = qcam_rtsp_next_interleaved(b, k, &ch, &pl, &pn, &used);
            if (k < to - from) {
                wrong += r != 0;
            } else {
                wrong += r != 1 || ch != frames[f][2] || used != to - from || pn != to - from - 4 ||
                         pl != b + 4 || (pn && memcmp(pl, s + from + 4, pn) != 0);
            }
            free(b);
        }
        CHECKF(wrong == 0, "frame %zu: %d wrong answers", f, wrong);
    }
    /* An RTSP message: 2 from its first byte on. */
    uint8_t ch;
    const uint8_t *pl;
    size_t pn, used;
    for (size_t k = 1; k <= f2 - f1; k++)
        CHECKF(qcam_rtsp_next_interleaved(s + f1, k, &ch, &pl, &pn, &used) == 2, "k=%zu", k);
    EQ_INT(qcam_rtsp_next_interleaved(s, 0, &ch, &pl, &pn, &used), 0);
    /* Walk the whole buffer as a server would. */
    size_t at = 0;
    int kinds[8], nk = 0;
    while (at < end && nk < 8) {
        int r = qcam_rtsp_next_interleaved(s + at, end - at, &ch, &pl, &pn, &used);
        kinds[nk++] = r;
        if (r == 1) {
            at += used;
        } else if (r == 2) {
            int q = qcam_rtsp_parse_request(s + at, end - at, &req);
            if (q <= 0) break;
            at += (size_t)q;
        } else {
            break;
        }
    }
    EQ_INT(at, end);
    EQ_INT(nk, 4);
    CHECK(kinds[0] == 1 && kinds[1] == 2 && kinds[2] == 1 && kinds[3] == 1);
}

/* ---- Transport ------------------------------------------------------------------ */

static void t_transport(void)
{
    static const struct {
        const char *v;
        int r;
        bool tcp;
        int il0, il1, cp0, cp1;
        bool mc;
    } t[] = {
        {"RTP/AVP;unicast;client_port=5000-5001", 0, false, -1, -1, 5000, 5001, false},
        {"RTP/AVP/UDP;unicast;client_port=5002-5003;mode=play", 0, false, -1, -1, 5002, 5003, false},
        {"RTP/AVP/TCP;unicast;interleaved=0-1", 0, true, 0, 1, -1, -1, false},
        {"rtp/avp/tcp;interleaved=2-3;mode=\"PLAY\"", 0, true, 2, 3, -1, -1, false},
        {"RTP/AVP;unicast;client_port=6000", 0, false, -1, -1, 6000, 6001, false},
        {"RTP/AVP/TCP;interleaved=4", 0, true, 4, 5, -1, -1, false},
        {"RTP/AVP;unicast", 0, false, -1, -1, -1, -1, false},
        {" RTP/AVP ; unicast ; client_port = 7000-7001 ", 0, false, -1, -1, 7000, 7001, false},
        {"RTP/AVP;unicast;client_port=65535", 0, false, -1, -1, 65535, 65535, false},
        {"RTP/AVP;unicast;client_port=5000-5001;ssrc=1234ABCD;ttl=4;destination=10.0.0.1", 0, false, -1, -1, 5000, 5001, false},
        /* first acceptable entry */
        {"RTP/AVP;multicast,RTP/AVP;unicast;client_port=8000-8001", 0, false, -1, -1, 8000, 8001, false},
        {"RAW/RAW/UDP;unicast,RTP/AVP/TCP;interleaved=0-1", 0, true, 0, 1, -1, -1, false},
        {"RTP/AVP;unicast;client_port=5000-5001;mode=record,RTP/AVP/TCP;interleaved=0-1", 0, true, 0, 1, -1, -1, false},
        /* refused */
        {"RTP/AVP;multicast", -461, false, -1, -1, -1, -1, true},
        {"RTP/AVP;multicast;ttl=127,RTP/SAVP;unicast", -461, false, -1, -1, -1, -1, true},
        {"RTP/SAVP;unicast;client_port=1-2", -461, false, -1, -1, -1, -1, false},
        {"RTP/AVP;unicast;client_port=5000-5001;mode=record", -461, false, -1, -1, -1, -1, false},
        {"x-real-rdt/udp", -461, false, -1, -1, -1, -1, false},
        /* malformed */
        {"", -400, false, -1, -1, -1, -1, false},
        {";unicast", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP;client_port=", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP;client_port=abc", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP;client_port=5000-", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP;client_port=0-1", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP;client_port=65536", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP;client_port=5000-5001-5002", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP;client_port", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP/TCP;interleaved=256-257", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP/TCP;interleaved=-1", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP/TCP;interleaved", -400, false, -1, -1, -1, -1, false},
        {"RTP/AVP;mode", -400, false, -1, -1, -1, -1, false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        qcam_rtsp_transport o;
        memset(&o, 0x5a, sizeof o);
        char *v = (char *)dup_exact(t[i].v, strlen(t[i].v) + 1);
        int r = qcam_rtsp_parse_transport(v, &o);
        free(v);
        if (!CHECKF(r == t[i].r, "'%s': %d, want %d", t[i].v, r, t[i].r)) continue;
        if (r == 0) {
            CHECKF(o.tcp == t[i].tcp && o.interleaved[0] == t[i].il0 && o.interleaved[1] == t[i].il1 &&
                       o.client_port[0] == t[i].cp0 && o.client_port[1] == t[i].cp1 && !o.multicast,
                   "'%s': tcp=%d interleaved=%d-%d client_port=%d-%d", t[i].v, o.tcp,
                   o.interleaved[0], o.interleaved[1], o.client_port[0], o.client_port[1]);
        } else if (r == -461) {
            CHECKF(o.multicast == t[i].mc, "'%s': multicast=%d", t[i].v, o.multicast);
        }
    }
}

/* ---- responses ------------------------------------------------------------------- */

static void t_response(void)
{
    char out[512];
    int n = qcam_rtsp_response(out, sizeof out, 200, 1, "Public: OPTIONS, DESCRIBE\r\n", NULL, 0);
    EQ_STR(out, "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n");
    EQ_INT(n, strlen(out));
    const char *sdp = "v=0\r\n";
    n = qcam_rtsp_response(out, sizeof out, 200, 2, "Content-Type: application/sdp\r\n", sdp, 5);
    EQ_STR(out, "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n");
    EQ_INT(n, strlen(out));
    n = qcam_rtsp_response(out, sizeof out, 400, -1, NULL, NULL, 0);
    EQ_STR(out, "RTSP/1.0 400 Bad Request\r\n\r\n");
    n = qcam_rtsp_response(out, sizeof out, 461, 7, NULL, NULL, 0);
    EQ_STR(out, "RTSP/1.0 461 Unsupported transport\r\nCSeq: 7\r\n\r\n");
    /* Every capacity below what it needs fails; exactly enough works. */
    char ref[512];
    int need = qcam_rtsp_response(ref, sizeof ref, 200, 2, "Content-Type: application/sdp\r\n", sdp, 5);
    int wrong = 0;
    for (int cap = 0; cap <= need; cap++) {
        char *b = malloc((size_t)cap + 1);
        int r = qcam_rtsp_response(b, (size_t)cap, 200, 2, "Content-Type: application/sdp\r\n", sdp, 5);
        wrong += r != -1;
        free(b);
    }
    char *b = malloc((size_t)need + 1);
    wrong += qcam_rtsp_response(b, (size_t)need + 1, 200, 2, "Content-Type: application/sdp\r\n", sdp, 5) != need;
    wrong += memcmp(b, ref, (size_t)need + 1) != 0;
    free(b);
    EQ_INT(wrong, 0);
    /* Reasons (RFC 2326 7.1.1). */
    static const struct {
        int code;
        const char *reason;
    } rs[] = {{200, "OK"},
              {401, "Unauthorized"},
              {404, "Not Found"},
              {405, "Method Not Allowed"},
              {413, "Request Entity Too Large"},
              {454, "Session Not Found"},
              {455, "Method Not Valid in This State"},
              {459, "Aggregate operation not allowed"},
              {461, "Unsupported transport"},
              {500, "Internal Server Error"},
              {501, "Not Implemented"},
              {503, "Service Unavailable"},
              {505, "RTSP Version not supported"},
              {299, "Success"},
              {499, "Client Error"}};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) EQ_STR(qcam_rtsp_reason(rs[i].code), rs[i].reason);
    EQ_INT(qcam_rtsp_response(out, sizeof out, 99, 1, NULL, NULL, 0), -1);
    EQ_INT(qcam_rtsp_response(out, sizeof out, 1000, 1, NULL, NULL, 0), -1);
}

/* ---- base64 (RFC 4648 section 10) and SDP --------------------------------------- */

static void t_base64(void)
{
    static const char *const v[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                       {"foo", "Zm9v"},   {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                       {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        int n = qcam_base64(out, sizeof out, (const uint8_t *)v[i][0], strlen(v[i][0]));
        EQ_STR(out, v[i][1]);
        EQ_INT(n, strlen(v[i][1]));
        EQ_INT(qcam_base64(out, strlen(v[i][1]), (const uint8_t *)v[i][0], strlen(v[i][0])), -1);
    }
    static const uint8_t bin[] = {0xfb, 0xff, 0xbf, 0x00, 0x3e};
    char out[16];
    qcam_base64(out, sizeof out, bin, sizeof bin);
    EQ_STR(out, "+/+/AD4=");
}

static const uint8_t SPS264[] = {0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8};
static const uint8_t PPS264[] = {0x68, 0xce, 0x3c, 0x80};
static const uint8_t VPS265[] = {0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90};
static const uint8_t SPS265[] = {0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90,
                                 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0};
static const uint8_t PPS265[] = {0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40};

static void t_sdp(void)
{
    char out[2048];
    qcam_sdp_stream s = {.codec = QCAM_CODEC_H264,
                         .sps = SPS264, .sps_len = sizeof SPS264,
                         .pps = PPS264, .pps_len = sizeof PPS264,
                         .audio = QCAM_SDP_PCMA, .audio_rate = 8000};
    int n = qcam_sdp_build(out, sizeof out, &s, 1234567890123ull, "192.168.1.5");
    const char *want264 = "v=0\r\n"
                          "o=- 1234567890123 1234567890123 IN IP4 192.168.1.5\r\n"
                          "s=qcam\r\n"
                          "c=IN IP4 192.168.1.5\r\n"
                          "t=0 0\r\n"
                          "a=tool:qcam\r\n"
                          "a=control:*\r\n"
                          "m=video 0 RTP/AVP 96\r\n"
                          "a=rtpmap:96 H264/90000\r\n"
                          "a=fmtp:96 packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtkAoEf+yA==,aM48gA==\r\n"
                          "a=control:track0\r\n"
                          "m=audio 0 RTP/AVP 8\r\n"
                          "a=rtpmap:8 PCMA/8000\r\n"
                          "a=control:track1\r\n";
    EQ_STR(out, want264);
    EQ_INT(n, strlen(want264));
    /* Every capacity below the length fails. */
    int wrong = 0;
    for (int cap = 1; cap <= n; cap++) {
        char *b = malloc((size_t)cap);
        wrong += qcam_sdp_build(b, (size_t)cap, &s, 1234567890123ull, "192.168.1.5") != -1;
        free(b);
    }
    EQ_INT(wrong, 0);
    EQ_INT(qcam_sdp_build(out, (size_t)n + 1, &s, 1234567890123ull, "192.168.1.5"), n);

    qcam_sdp_stream h = {.codec = QCAM_CODEC_H265,
                         .vps = VPS265, .vps_len = sizeof VPS265,
                         .sps = SPS265, .sps_len = sizeof SPS265,
                         .pps = PPS265, .pps_len = sizeof PPS265,
                         .audio = QCAM_SDP_PCMU, .audio_rate = 16000};
    qcam_sdp_build(out, sizeof out, &h, 7, "::1");
    EQ_STR(out, "v=0\r\n"
                "o=- 7 7 IN IP6 ::1\r\n"
                "s=qcam\r\n"
                "c=IN IP6 ::1\r\n"
                "t=0 0\r\n"
                "a=tool:qcam\r\n"
                "a=control:*\r\n"
                "m=video 0 RTP/AVP 96\r\n"
                "a=rtpmap:96 H265/90000\r\n"
                "a=fmtp:96 sprop-vps=QAEMAf//AWAAAAMAkA==;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwA8oA==;sprop-pps=RAHBcrRiQA==\r\n"
                "a=control:track0\r\n"
                "m=audio 0 RTP/AVP 97\r\n"
                "a=rtpmap:97 PCMU/16000\r\n"
                "a=control:track1\r\n");
    /* Audio only (PCMU at 8000: static type 0); video without parameter sets. */
    qcam_sdp_stream a = {.codec = 0, .audio = QCAM_SDP_PCMU, .audio_rate = 8000};
    qcam_sdp_build(out, sizeof out, &a, 1, "10.0.0.2");
    CHECK(strstr(out, "m=video") == NULL);
    CHECK(strstr(out, "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:track1\r\n") != NULL);
    qcam_sdp_stream v = {.codec = QCAM_CODEC_H264};
    qcam_sdp_build(out, sizeof out, &v, 1, "10.0.0.2");
    CHECK(strstr(out, "a=fmtp:96 packetization-mode=1\r\na=control:track0\r\n") != NULL);
    CHECK(strstr(out, "m=audio") == NULL);
    qcam_sdp_stream pa = {.codec = 0, .audio = QCAM_SDP_PCMA, .audio_rate = 16000};
    qcam_sdp_build(out, sizeof out, &pa, 1, "10.0.0.2");
    CHECK(strstr(out, "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 PCMA/16000\r\n") != NULL);
    qcam_sdp_stream odd = {.codec = QCAM_CODEC_ALAW};
    EQ_INT(qcam_sdp_build(out, sizeof out, &odd, 1, "10.0.0.2"), -1);
    EQ_INT(qcam_sdp_build(out, sizeof out, &v, 1, "10.0.0.2\r\nx=1"), -1);
}

/* ---- RTP: one table for the packetizer and the depacketizer ---------------------- */

typedef struct {
    uint8_t h0, h1; /* NAL header (h1: H.265 only) */
    size_t len;     /* bytes of the NAL unit, header included */
    int sc;         /* start code before it: 3 or 4 bytes; 0 ends the list */
    bool skipped;   /* a type RTP does not carry as is: not sent */
} nal_spec;

typedef struct {
    const char *name;
    qcam_codec codec;
    size_t mtu;
    nal_spec nals[6];
    size_t trailing_zeros; /* zero bytes after the last NAL unit */
    /* The packets: kind and size each, '*' for the marker; kinds:
     * "s" single NAL unit, "fs"/"f"/"fe" first/middle/last fragment. */
    const char *expect;
} rtp_row;

#define H264(t) (uint8_t)(t), 0
static const rtp_row rtp_rows[] = {
    {"h264 sps pps idr (4-byte codes)", QCAM_CODEC_H264, 1400,
     {{H264(0x67), 10, 4, false}, {H264(0x68), 4, 4, false}, {H264(0x65), 500, 4, false}}, 0,
     "s22 s16 s512*"},
    {"h264 idr 3000 (3-byte code): three FU-A", QCAM_CODEC_H264, 1400,
     {{H264(0x65), 3000, 3, false}}, 0,
     "fs1400 f1400 fe241*"},
    {"h264 NAL that just fits", QCAM_CODEC_H264, 1400, {{H264(0x41), 1388, 4, false}}, 0,
     "s1400*"},
    {"h264 NAL one byte too big", QCAM_CODEC_H264, 1400, {{H264(0x41), 1389, 4, false}}, 0,
     "fs1400 fe16*"},
    {"h264 aud sei idr x2 at mtu 500", QCAM_CODEC_H264, 500,
     {{H264(0x09), 2, 4, false}, {H264(0x06), 20, 3, false}, {H264(0x65), 2000, 4, false},
      {H264(0x65), 700, 3, false}}, 0,
     "s14 s32 fs500 f500 f500 f500 fe69 fs500 fe227*"},
    {"h264 minimum mtu", QCAM_CODEC_H264, 16, {{H264(0x41), 6, 4, false}}, 0,
     "fs16 f16 fe15*"},
    {"h264 reserved types left out, trailing zeros", QCAM_CODEC_H264, 100,
     {{H264(0x00), 9, 4, true}, {H264(0x41), 50, 3, false}, {H264(0x19), 7, 4, true},
      {H264(0x18), 8, 4, true}, {H264(0x7c), 7, 3, true}}, 3,
     "s62*"},
    {"h264 big IDR at mtu 1200", QCAM_CODEC_H264, 1200,
     {{H264(0x67), 10, 4, false}, {H264(0x68), 4, 4, false}, {H264(0x65), 10000, 4, false}}, 0,
     "s22 s16 fs1200 f1200 f1200 f1200 f1200 f1200 f1200 f1200 fe525*"},
    {"h265 vps sps pps idr", QCAM_CODEC_H265, 1400,
     {{0x40, 0x01, 24, 4, false}, {0x42, 0x01, 40, 4, false}, {0x44, 0x01, 8, 4, false},
      {0x26, 0x01, 4000, 4, false}}, 0,
     "s36 s52 s20 fs1400 f1400 fe1243*"},
    {"h265 fits, then one byte too big (3-byte codes)", QCAM_CODEC_H265, 1200,
     {{0x02, 0x01, 1188, 3, false}, {0x02, 0x01, 1189, 3, false}}, 0,
     "s1200 fs1200 fe17*"},
    {"h265 minimum mtu", QCAM_CODEC_H265, 16, {{0x02, 0x01, 5, 4, false}}, 0,
     "fs16 f16 fe16*"},
    {"h265 layer and temporal id kept in the FU", QCAM_CODEC_H265, 400,
     {{0x03, 0x03, 1000, 4, false}}, 0,
     "fs400 f400 fe243*"},
    {"h265 aud, prefix sei, RTP's own types left out", QCAM_CODEC_H265, 1400,
     {{0x46, 0x01, 3, 4, false}, {0x4e, 0x01, 30, 4, false}, {0x60, 0x01, 9, 3, true},
      {0x62, 0x01, 9, 3, true}, {0x02, 0x01, 100, 4, false}}, 0,
     "s15 s42 s112*"},
    {"h264 no NAL units", QCAM_CODEC_H264, 1400, {{0}}, 8, ""},
};

static uint8_t nal_byte(size_t row, size_t nal, size_t i)
{
    return (uint8_t)(1 + (row * 31 + nal * 7 + i * 13) % 251); /* never 0: no start codes */
}

/* The access unit of a row (Annex B) and its expected NAL units (4-byte start codes). */
static size_t build_au(size_t ri, uint8_t *au, uint8_t *want, size_t *want_len)
{
    const rtp_row *r = &rtp_rows[ri];
    size_t n = 0, w = 0;
    bool h264 = r->codec == QCAM_CODEC_H264;
    for (size_t k = 0; k < 6 && r->nals[k].sc; k++) {
        const nal_spec *ns = &r->nals[k];
        if (ns->sc == 4) au[n++] = 0;
        au[n++] = 0, au[n++] = 0, au[n++] = 1;
        size_t start = n;
        au[n++] = ns->h0;
        if (!h264) au[n++] = ns->h1;
        while (n - start < ns->len) au[n] = nal_byte(ri, k, n - start), n++;
        if (!ns->skipped) {
            memcpy(want + w, "\0\0\0\1", 4);
            memcpy(want + w + 4, au + start, ns->len);
            w += 4 + ns->len;
        }
    }
    if (r->nals[0].sc == 0) { /* start codes with nothing behind them */
        memcpy(au + n, "\0\0\1\0\0\0\1", 7);
        n += 7;
    }
    memset(au + n, 0, r->trailing_zeros);
    n += r->trailing_zeros;
    *want_len = w;
    return n;
}

typedef struct {
    uint8_t data[64][1600];
    size_t len[64];
    size_t head_len[64];
    int n;
    int stop_at; /* emit returns 7 at this packet (-1: never) */
} captured;

static int capture(void *opaque, const qcam_rtp_packet *p)
{
    captured *c = opaque;
    if (c->n == c->stop_at) return 7;
    if (c->n >= 64 || p->head_len + p->body_len > sizeof c->data[0]) return 99;
    memcpy(c->data[c->n], p->head, p->head_len);
    memcpy(c->data[c->n] + p->head_len, p->body, p->body_len);
    c->len[c->n] = p->head_len + p->body_len;
    c->head_len[c->n] = p->head_len;
    c->n++;
    return 0;
}

static uint8_t au_buf[16384], want_buf[16384], depack_buf[16384];

static void t_rtp_table(void)
{
    for (size_t ri = 0; ri < sizeof rtp_rows / sizeof rtp_rows[0]; ri++) {
        const rtp_row *r = &rtp_rows[ri];
        size_t want_len;
        size_t au_len = build_au(ri, au_buf, want_buf, &want_len);
        uint8_t *au = dup_exact(au_buf, au_len);
        qcam_rtp_stream s = {.payload_type = 96, .ssrc = 0xdeadbeef, .seq = 65534, .mtu = r->mtu,
                             .codec = r->codec};
        static captured c;
        c.n = 0;
        c.stop_at = -1;
        uint32_t ts = 0x89abcdef;
        int n = qcam_rtp_packetize_video(&s, au, au_len, ts, capture, &c);

        /* The expected packet list. */
        char exp[512];
        snprintf(exp, sizeof exp, "%s", r->expect);
        int want_n = 0;
        char got[2048] = "";
        size_t gl = 0;
        bool h264 = r->codec == QCAM_CODEC_H264;
        size_t fu_hdr = h264 ? 2 : 3;
        uint64_t payload_octets = 0;
        for (char *tok = strtok(exp, " "); tok; tok = strtok(NULL, " ")) want_n++;
        for (int i = 0; i < c.n; i++) {
            const uint8_t *p = c.data[i];
            int type = h264 ? p[12] & 0x1f : (p[12] >> 1) & 0x3f;
            bool fu = type == (h264 ? 28 : 49);
            const char *kind = "s";
            if (fu) {
                uint8_t fh = p[12 + fu_hdr - 1];
                kind = (fh & 0x80) ? ((fh & 0x40) ? "fse" : "fs") : ((fh & 0x40) ? "fe" : "f");
            }
            gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%s%zu%s", i ? " " : "", kind, c.len[i],
                                   (p[1] & 0x80) ? "*" : "");
            /* Fixed header: version 2, PT, sequence from 65534 (wrapping), timestamp, SSRC. */
            CHECKF(p[0] == 0x80 && (p[1] & 0x7f) == 96, "%s: packet %d header %02x %02x", r->name, i, p[0], p[1]);
            CHECKF((uint16_t)(p[2] << 8 | p[3]) == (uint16_t)(65534 + i), "%s: packet %d seq", r->name, i);
            CHECKF(p[4] == 0x89 && p[5] == 0xab && p[6] == 0xcd && p[7] == 0xef, "%s: packet %d ts", r->name, i);
            CHECKF(p[8] == 0xde && p[9] == 0xad && p[10] == 0xbe && p[11] == 0xef, "%s: packet %d ssrc", r->name, i);
            CHECKF(c.len[i] <= r->mtu, "%s: packet %d is %zu > mtu %zu", r->name, i, c.len[i], r->mtu);
            CHECKF(c.head_len[i] == (fu ? 12 + fu_hdr : 12), "%s: packet %d head %zu", r->name, i, c.head_len[i]);
            payload_octets += c.len[i] - 12;
        }
        CHECKF(strcmp(got, r->expect) == 0, "%s: packets '%s', want '%s'", r->name, got, r->expect);
        EQ_INT(n, want_n);
        EQ_INT(c.n, want_n);
        EQ_INT(s.seq, (uint16_t)(65534 + want_n));
        EQ_INT(s.packets, want_n);
        EQ_INT(s.octets, payload_octets);

        /* Decode: the same NAL units come back, complete on the last packet. */
        qcam_rtp_depack d;
        qcam_rtp_depack_init(&d, r->codec, depack_buf, sizeof depack_buf);
        int ones = 0, last_r = 0;
        for (int i = 0; i < c.n; i++) {
            uint8_t *pk = dup_exact(c.data[i], c.len[i]);
            last_r = qcam_rtp_depack_push(&d, pk, c.len[i]);
            free(pk);
            ones += last_r == 1;
        }
        if (want_n > 0) {
            EQ_INT(ones, 1);
            EQ_INT(last_r, 1);
            CHECKF(d.len == want_len && memcmp(d.out, want_buf, want_len) == 0,
                   "%s: depacketized %zu bytes, want %zu", r->name, d.len, want_len);
        }
        EQ_INT(d.dropped, 0);
        /* An emitter that stops: its value comes back negated, nothing counted after. */
        if (want_n > 1) {
            qcam_rtp_stream s2 = s;
            s2.seq = 10, s2.packets = 0, s2.octets = 0;
            c.n = 0;
            c.stop_at = 1;
            EQ_INT(qcam_rtp_packetize_video(&s2, au, au_len, ts, capture, &c), -7);
            EQ_INT(s2.packets, 1);
            EQ_INT(s2.seq, 11);
        }
        free(au);
    }
    /* The exact FU bytes for two NAL headers. */
    {
        static captured c;
        c.n = 0, c.stop_at = -1;
        uint8_t nal[40] = {0, 0, 0, 1, 0x65};
        for (int i = 5; i < 40; i++) nal[i] = (uint8_t)i;
        qcam_rtp_stream s = {.payload_type = 96, .mtu = 30, .codec = QCAM_CODEC_H264};
        EQ_INT(qcam_rtp_packetize_video(&s, nal, sizeof nal, 0, capture, &c), 3);
        CHECK(c.data[0][12] == 0x7c && c.data[0][13] == 0x85); /* NRI 3, FU-A; S, type 5 */
        CHECK(c.data[1][12] == 0x7c && c.data[1][13] == 0x05);
        CHECK(c.data[2][12] == 0x7c && c.data[2][13] == 0x45);
        CHECK(memcmp(c.data[0] + 14, nal + 5, 16) == 0);
        c.n = 0;
        uint8_t n5[40] = {0, 0, 1, 0x03, 0x03}; /* TRAIL_R, LayerId 32, TID 2 */
        for (int i = 5; i < 40; i++) n5[i] = (uint8_t)i;
        s.codec = QCAM_CODEC_H265;
        EQ_INT(qcam_rtp_packetize_video(&s, n5, sizeof n5, 0, capture, &c), 3);
        CHECK(c.data[0][12] == 0x63 && c.data[0][13] == 0x03 && c.data[0][14] == 0x81);
        CHECK(c.data[1][14] == 0x01 && c.data[2][14] == 0x41);
        CHECK(memcmp(c.data[0] + 15, n5 + 5, 15) == 0);
        /* An mtu too small for a fragment: -1, nothing emitted. */
        c.n = 0;
        s.mtu = QCAM_RTP_MIN_MTU - 1;
        EQ_INT(qcam_rtp_packetize_video(&s, n5, sizeof n5, 0, capture, &c), -1);
        EQ_INT(c.n, 0);
    }
}

/* Packets of rows 1 (3 FU-A), 0 (3 singles) and 2 (1 single), stream in that order. */
typedef struct {
    uint8_t pk[16][1600];
    size_t len[16];
    int n;
    int au_of[16];
} stream_pk;

static void make_stream(stream_pk *sp, const int *rows, int nrows)
{
    static captured c;
    qcam_rtp_stream s = {.payload_type = 96, .ssrc = 1, .seq = 100, .mtu = 1400, .codec = QCAM_CODEC_H264};
    sp->n = 0;
    for (int k = 0; k < nrows; k++) {
        size_t wl;
        size_t al = build_au((size_t)rows[k], au_buf, want_buf, &wl);
        c.n = 0, c.stop_at = -1;
        qcam_rtp_packetize_video(&s, au_buf, al, 3000u * (uint32_t)k, capture, &c);
        for (int i = 0; i < c.n; i++) {
            memcpy(sp->pk[sp->n], c.data[i], c.len[i]);
            sp->len[sp->n] = c.len[i];
            sp->au_of[sp->n] = k;
            sp->n++;
        }
    }
}

/* Feed the stream without packet `lose` (-1: none); which AUs come out (bitmask). */
static unsigned feed(const stream_pk *sp, int lose, int swap, uint32_t *dropped)
{
    qcam_rtp_depack d;
    qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, sizeof depack_buf);
    unsigned got = 0;
    for (int j = 0; j < sp->n; j++) {
        int i = j;
        if (swap >= 0 && j == swap) i = j + 1;
        else if (swap >= 0 && j == swap + 1) i = j - 1;
        if (i == lose) continue;
        uint8_t *p = dup_exact(sp->pk[i], sp->len[i]);
        if (qcam_rtp_depack_push(&d, p, sp->len[i]) == 1) got |= 1u << sp->au_of[i];
        free(p);
    }
    *dropped = d.dropped;
    return got;
}

static void t_rtp_loss(void)
{
    static stream_pk sp;
    const int rows[] = {1, 0, 2, 0};
    make_stream(&sp, rows, 4);
    EQ_INT(sp.n, 3 + 3 + 1 + 3);
    uint32_t dropped;
    EQ_INT(feed(&sp, -1, -1, &dropped), 0xf);
    EQ_INT(dropped, 0);
    /* Losing any packet drops its AU. Losing the last packet of an AU also
     * drops the next one (its start may have gone with it). */
    static const struct {
        int lose;
        unsigned got;
        uint32_t dropped;
    } cases[] = {
        {0, 0xe, 1}, {1, 0xe, 1}, {2, 0xc, 2}, /* AU 0: FU start, middle, end+marker */
        {3, 0xd, 1}, {4, 0xd, 1}, {5, 0x9, 2}, /* AU 1: sps, pps, idr+marker */
        {6, 0x3, 1},                           /* AU 2: its only packet (never seen): AU 3 goes */
        {7, 0x7, 1}, {9, 0x7, 0},              /* AU 3 (its marker lost: still waiting) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned got = feed(&sp, cases[i].lose, -1, &dropped);
        CHECKF(got == cases[i].got && dropped == cases[i].dropped,
               "lose packet %d: AUs %#x dropped %u, want %#x %u", cases[i].lose, got, dropped,
               cases[i].got, cases[i].dropped);
    }
    /* Two packets swapped inside the FU: AU 0 dropped. */
    EQ_INT(feed(&sp, -1, 0, &dropped), 0xe);
    /* Sequence numbers wrap without a loss. */
    qcam_rtp_stream s = {.payload_type = 96, .seq = 65535, .mtu = 1400, .codec = QCAM_CODEC_H264};
    static captured c;
    c.n = 0, c.stop_at = -1;
    size_t wl;
    size_t al = build_au(1, au_buf, want_buf, &wl);
    qcam_rtp_packetize_video(&s, au_buf, al, 0, capture, &c);
    qcam_rtp_depack d;
    qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, sizeof depack_buf);
    int r = 0;
    for (int i = 0; i < c.n; i++) r = qcam_rtp_depack_push(&d, c.data[i], c.len[i]);
    EQ_INT(r, 1);
    CHECK(d.len == wl && memcmp(d.out, want_buf, wl) == 0);
    /* An AU bigger than the buffer is dropped, the next one is fine. */
    qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, 1000);
    int ones = 0, malformed = 0;
    for (int i = 0; i < c.n; i++) {
        int q = qcam_rtp_depack_push(&d, c.data[i], c.len[i]);
        ones += q == 1;
        malformed += q == -1; /* too big is not malformed */
    }
    EQ_INT(ones, 0);
    EQ_INT(malformed, 0);
    EQ_INT(d.dropped, 1);
}

static void t_rtp_depack(void)
{
    qcam_rtp_depack d;
    /* STAP-A with two NAL units (RFC 6184 5.7.1), then a single NAL. */
    qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, sizeof depack_buf);
    static const uint8_t stap[] = {0x80, 0x60, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x78,
                                   0, 3, 0x67, 0xaa, 0xbb, 0, 2, 0x68, 0xcc};
    EQ_INT(qcam_rtp_depack_push(&d, stap, sizeof stap), 0);
    static const uint8_t idr[] = {0x80, 0xe0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 1, 0x65, 0x11};
    EQ_INT(qcam_rtp_depack_push(&d, idr, sizeof idr), 1);
    static const uint8_t want[] = {0, 0, 0, 1, 0x67, 0xaa, 0xbb, 0, 0, 0, 1, 0x68, 0xcc, 0, 0, 0, 1, 0x65, 0x11};
    CHECK(d.len == sizeof want && memcmp(d.out, want, sizeof want) == 0);
    /* The next push starts a new AU. */
    static const uint8_t p3[] = {0x80, 0xe0, 0, 3, 0, 0, 0, 10, 0, 0, 0, 1, 0x41, 0x22};
    EQ_INT(qcam_rtp_depack_push(&d, p3, sizeof p3), 1);
    EQ_INT(d.len, 6);
    /* H.265 AP (RFC 7798 4.4.2). */
    qcam_rtp_depack_init(&d, QCAM_CODEC_H265, depack_buf, sizeof depack_buf);
    static const uint8_t ap[] = {0x80, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x60, 0x01,
                                 0, 3, 0x40, 0x01, 0xaa, 0, 2, 0x42, 0x01};
    EQ_INT(qcam_rtp_depack_push(&d, ap, sizeof ap), 1);
    static const uint8_t want5[] = {0, 0, 0, 1, 0x40, 0x01, 0xaa, 0, 0, 0, 1, 0x42, 0x01};
    CHECK(d.len == sizeof want5 && memcmp(d.out, want5, sizeof want5) == 0);
    /* CSRCs, a header extension and padding are skipped. */
    qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, sizeof depack_buf);
    static const uint8_t fancy[] = {0xb1, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, /* P, X, CC=1 */
                                    9, 9, 9, 9,                               /* CSRC */
                                    0xbe, 0xde, 0, 1, 1, 2, 3, 4,             /* extension */
                                    0x41, 0x77, 0, 0, 3};                     /* 3 bytes padding */
    EQ_INT(qcam_rtp_depack_push(&d, fancy, sizeof fancy), 1);
    CHECK(d.len == 6 && d.out[4] == 0x41 && d.out[5] == 0x77);
    /* Malformed packets: -1 and their AU is dropped. */
    static const struct {
        uint8_t b[24];
        size_t n;
    } bad[] = {
        {{0x80, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0}, 11},                              /* short */
        {{0x40, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x41, 1}, 14},                  /* version 1 */
        {{0x8f, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x41, 1}, 14},                  /* CSRCs past the end */
        {{0x90, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0xbe, 0xde, 0, 9}, 16},         /* extension past the end */
        {{0xa0, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x41, 9}, 14},                  /* padding past the start */
        {{0xa0, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x41, 0}, 14},                  /* padding 0 */
        {{0x80, 0xe0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 1}, 12},                           /* no payload */
        {{0x80, 0xe0, 0, 3, 0, 0, 0, 9, 0, 0, 0, 1, 0x7c, 0x05, 1}, 15},            /* FU without start */
        {{0x80, 0xe0, 0, 4, 0, 0, 0, 9, 0, 0, 0, 1, 0x7c, 0xc5, 1}, 15},            /* FU start and end */
        {{0x80, 0xe0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 1, 0x7c, 0x85}, 14},               /* FU without payload */
        {{0x80, 0xe0, 0, 6, 0, 0, 0, 9, 0, 0, 0, 1, 0x78, 0, 9, 0x67}, 16},         /* STAP-A size past the end */
        {{0x80, 0xe0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 1, 0x78, 0, 0}, 15},               /* STAP-A size 0 */
        {{0x80, 0xe0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 1, 0x78}, 13},                     /* STAP-A empty */
        {{0x80, 0xe0, 0, 9, 0, 0, 0, 9, 0, 0, 0, 1, 0x79, 0, 1, 0x41}, 16},         /* STAP-B */
        {{0x80, 0xe0, 0, 10, 0, 0, 0, 9, 0, 0, 0, 1, 0x1d, 0x85, 1}, 15},           /* FU-B */
        {{0x80, 0xe0, 0, 11, 0, 0, 0, 9, 0, 0, 0, 1, 0x00, 1}, 14},                 /* type 0 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, sizeof depack_buf);
        uint8_t *b = dup_exact(bad[i].b, bad[i].n);
        int r = qcam_rtp_depack_push(&d, b, bad[i].n);
        free(b);
        CHECKF(r == -1, "bad[%zu]: %d", i, r);
        CHECKF(d.len == 0, "bad[%zu]: len %zu", i, d.len);
    }
    /* A malformed packet in the middle of an AU drops it; the stream goes on. */
    qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, sizeof depack_buf);
    static const uint8_t a1[] = {0x80, 0x60, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x67, 1};
    static const uint8_t a2[] = {0x80, 0x60, 0, 2, 0, 0, 0, 9, 0, 0, 0, 1, 0x7c, 0x05, 1}; /* FU without start */
    static const uint8_t a3[] = {0x80, 0xe0, 0, 3, 0, 0, 0, 9, 0, 0, 0, 1, 0x65, 1};
    static const uint8_t b1[] = {0x80, 0xe0, 0, 4, 0, 0, 0, 10, 0, 0, 0, 1, 0x41, 1};
    EQ_INT(qcam_rtp_depack_push(&d, a1, sizeof a1), 0);
    EQ_INT(qcam_rtp_depack_push(&d, a2, sizeof a2), -1);
    EQ_INT(qcam_rtp_depack_push(&d, a3, sizeof a3), 0);
    EQ_INT(d.dropped, 1);
    EQ_INT(qcam_rtp_depack_push(&d, b1, sizeof b1), 1);
    /* A marker inside a fragmented NAL: dropped. */
    qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, sizeof depack_buf);
    static const uint8_t f1[] = {0x80, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x7c, 0x85, 1};
    EQ_INT(qcam_rtp_depack_push(&d, f1, sizeof f1), 0);
    EQ_INT(d.dropped, 1);
    /* A new timestamp before the marker: the unfinished AU is dropped. */
    qcam_rtp_depack_init(&d, QCAM_CODEC_H264, depack_buf, sizeof depack_buf);
    static const uint8_t t1[] = {0x80, 0x60, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0x41, 1};
    static const uint8_t t2[] = {0x80, 0xe0, 0, 2, 0, 0, 0, 10, 0, 0, 0, 1, 0x41, 2};
    EQ_INT(qcam_rtp_depack_push(&d, t1, sizeof t1), 0);
    EQ_INT(qcam_rtp_depack_push(&d, t2, sizeof t2), 1);
    EQ_INT(d.dropped, 1);
    CHECK(d.len == 6 && d.out[5] == 2);
}

/* ---- G.711 ------------------------------------------------------------------------- */

static void t_audio(void)
{
    static captured c;
    c.n = 0, c.stop_at = -1;
    uint8_t pcm[1000];
    for (int i = 0; i < 1000; i++) pcm[i] = (uint8_t)(i * 3);
    qcam_rtp_stream s = {.payload_type = 8, .ssrc = 0x01020304, .seq = 7, .mtu = 412};
    EQ_INT(qcam_rtp_packetize_audio(&s, pcm, sizeof pcm, 1000, capture, &c), 3);
    static const size_t sizes[] = {412, 412, 212};
    static const uint32_t ts[] = {1000, 1400, 1800};
    for (int i = 0; i < 3; i++) {
        const uint8_t *p = c.data[i];
        EQ_INT(c.len[i], sizes[i]);
        CHECK(p[0] == 0x80 && p[1] == 8); /* no marker */
        EQ_INT(p[2] << 8 | p[3], 7 + i);
        EQ_INT((uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7], ts[i]);
        CHECK(memcmp(p + 12, pcm + 400 * i, sizes[i] - 12) == 0);
    }
    EQ_INT(s.seq, 10);
    EQ_INT(s.packets, 3);
    EQ_INT(s.octets, 1000);
    /* 20 ms at 8000 Hz in one packet, and nothing for nothing. */
    c.n = 0;
    s.mtu = 1400;
    EQ_INT(qcam_rtp_packetize_audio(&s, pcm, 160, 0xfffffff0u, capture, &c), 1);
    EQ_INT(c.len[0], 172);
    EQ_INT(qcam_rtp_packetize_audio(&s, pcm, 0, 0, capture, &c), 0);
    s.mtu = 12;
    EQ_INT(qcam_rtp_packetize_audio(&s, pcm, 160, 0, capture, &c), -1);
}

/* ---- RTCP --------------------------------------------------------------------------- */

static void t_rtcp(void)
{
    qcam_rtp_stream s = {.ssrc = 0x11223344, .packets = 5, .octets = 1234};
    uint8_t out[128];
    int n = qcam_rtcp_sender_report(out, sizeof out, &s, 0xe123456789abcdefull, 0x01020304, "qcam");
    static const uint8_t want[] = {
        0x80, 200, 0, 6,                                /* SR, 7 words */
        0x11, 0x22, 0x33, 0x44,                         /* SSRC */
        0xe1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* NTP */
        0x01, 0x02, 0x03, 0x04,                         /* RTP timestamp */
        0, 0, 0, 5,                                     /* packets */
        0, 0, 0x04, 0xd2,                               /* octets */
        0x81, 202, 0, 3,                                /* SDES, one chunk, 4 words */
        0x11, 0x22, 0x33, 0x44,                         /* SSRC */
        1, 4, 'q', 'c', 'a', 'm', 0, 0,                 /* CNAME, END, padding */
    };
    EQ_INT(n, sizeof want);
    CHECK(memcmp(out, want, sizeof want) == 0);
    /* Padding for each CNAME length mod 4: the chunk always ends in a zero
     * byte and a 32-bit boundary. */
    static const struct {
        const char *cname;
        int total, sdes_words;
    } lens[] = {{"", 40, 2}, {"a", 40, 2}, {"ab", 44, 3}, {"abcde", 44, 3}, {"abcdef", 48, 4}};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(out, 0xff, sizeof out);
        n = qcam_rtcp_sender_report(out, sizeof out, &s, 0, 0, lens[i].cname);
        EQ_INT(n, lens[i].total);
        EQ_INT(out[31], lens[i].sdes_words);
        EQ_INT(out[n - 1], 0);
        EQ_INT(out[37], strlen(lens[i].cname));
        EQ_INT(qcam_rtcp_sender_report(out, (size_t)n - 1, &s, 0, 0, lens[i].cname), -1);
    }
    /* The counts wrap at 32 bits. */
    s.packets = 0x100000002ull, s.octets = 0x1ffffffffull;
    n = qcam_rtcp_sender_report(out, sizeof out, &s, 0, 0, "x");
    CHECK(out[23] == 2 && out[20] == 0 && out[24] == 0xff && out[27] == 0xff);
    char long_name[300];
    memset(long_name, 'n', 299);
    long_name[299] = '\0';
    EQ_INT(qcam_rtcp_sender_report(out, sizeof out, &s, 0, 0, long_name), -1);
}

/* ---- the client half: what one side builds, the other parses --------------------------- */

static qcam_rtsp_reply reply;

static int parse_reply_s(const char *text)
{
    size_t n = strlen(text);
    uint8_t *b = dup_exact(text, n);
    int r = qcam_rtsp_parse_reply(b, n, &reply);
    free(b);
    return r;
}

static void t_reply(void)
{
    /* Both directions: the server's responses parse back to what was built. */
    static const struct {
        int code, cseq;
        const char *extra, *body;
    } built[] = {
        {200, 1, "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n", NULL},
        {200, 2, "Content-Type: application/sdp\r\nContent-Base: rtsp://h/live/\r\n", "v=0\r\ns=x\r\n"},
        {401, 3, "WWW-Authenticate: Digest realm=\"qcam\", nonce=\"abc\"\r\nWWW-Authenticate: Basic realm=\"qcam\"\r\n", NULL},
        {404, 999999999, NULL, NULL},
        {461, -1, NULL, NULL},
        {200, 7, "Session: 12345678;timeout=60\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n", NULL},
    };
    char buf[1024];
    for (size_t i = 0; i < sizeof built / sizeof built[0]; i++) {
        size_t bl = built[i].body ? strlen(built[i].body) : 0;
        int n = qcam_rtsp_response(buf, sizeof buf, built[i].code, built[i].cseq, built[i].extra, built[i].body, bl);
        CHECK(n > 0);
        uint8_t *b = dup_exact(buf, (size_t)n);
        EQ_INT(qcam_rtsp_parse_reply(b, (size_t)n, &reply), n);
        EQ_INT(reply.status, built[i].code);
        EQ_INT(reply.cseq, built[i].cseq);
        EQ_STR(reply.reason, qcam_rtsp_reason(built[i].code));
        EQ_INT(reply.body_len, bl);
        if (bl) CHECK(memcmp(reply.body, built[i].body, bl) == 0);
        /* Every prefix is incomplete. */
        for (size_t k = 0; k < (size_t)n; k++) {
            uint8_t *pfx = dup_exact(buf, k);
            int r = qcam_rtsp_parse_reply(pfx, k, &reply);
            CHECKF(r == 0, "prefix %zu of reply %zu: %d", k, i, r);
            free(pfx);
        }
        free(b);
    }
    EQ_INT(parse_reply_s("RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nWWW-Authenticate: Digest realm=\"a\"\r\nwww-authenticate: Basic realm=\"b\"\r\n\r\n") > 0, 1);
    EQ_STR(qcam_rtsp_reply_header(&reply, "WWW-Authenticate", 0), "Digest realm=\"a\"");
    EQ_STR(qcam_rtsp_reply_header(&reply, "WWW-Authenticate", 1), "Basic realm=\"b\"");
    CHECK(qcam_rtsp_reply_header(&reply, "WWW-Authenticate", 2) == NULL);
    /* Malformed and odd replies. */
    static const struct {
        const char *text;
        int want; /* -1 malformed, 0 incomplete, 1 whole */
    } rows[] = {
        {"HTTP/1.1 200 OK\r\n\r\n", -1},
        {"RTSP/1.0 20 OK\r\n\r\n", -1},
        {"RTSP/1.0 2000 OK\r\n\r\n", -1},
        {"RTSP/1.0 099 Low\r\n\r\n", -1},
        {"RTSP/1.0 200\r\n\r\n", 1},
        {"RTSP/1.0 200 OK\r\nBad Header\r\n\r\n", -1},
        {"RTSP/1.0 200 OK\r\n: empty\r\n\r\n", -1},
        {"RTSP/1.0 200 OK\r\nContent-Length: x\r\n\r\n", -1},
        {"RTSP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", -1},
        {"RTSP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nabc", 0},
        {"RTSP/1.0 200 OK\r\nCSeq: 1\r\n folded\r\n\r\n", 1},
        {" folded\r\n\r\n", -1},
        {"RTSP/1.0 200 OK\nCSeq: 4\n\n", 1},
        {"RTSP/1.0 200 OK\r\nX: a\rb\r\n\r\n", -1},
        {"RTSP/1.0 200 OK\r\n", 0},
        {"RTSP/1.0 200 OK\r\nContent-Length: 99999\r\n\r\n", -2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int r = parse_reply_s(rows[i].text);
        int got = r > 0 ? 1 : r;
        CHECKF(got == rows[i].want, "row %zu: %d, want %d", i, r, rows[i].want);
    }
    /* Too many headers; too big. */
    char big[QCAM_RTSP_MAX_RESPONSE + 64];
    size_t bl = (size_t)snprintf(big, sizeof big, "RTSP/1.0 200 OK\r\n");
    for (int i = 0; i <= QCAM_RTSP_MAX_HEADERS; i++) bl += (size_t)snprintf(big + bl, sizeof big - bl, "X%d: y\r\n", i);
    snprintf(big + bl, sizeof big - bl, "\r\n");
    EQ_INT(parse_reply_s(big), -1);
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "RTSP/1.0 200 OK\r\nX: ", 20);
    big[sizeof big - 1] = '\0';
    EQ_INT(parse_reply_s(big), -2);

    /* The client's requests parse as the server parses them. */
    static const char *const methods[] = {"OPTIONS", "DESCRIBE", "SETUP", "PLAY", "GET_PARAMETER", "TEARDOWN"};
    for (size_t i = 0; i < 6; i++) {
        int n = qcam_rtsp_build_request(buf, sizeof buf, methods[i], "rtsp://127.0.0.1:8554/live/track0", (int)i + 1,
                                        "Session: 1234\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
        CHECK(n > 0);
        EQ_INT(parse(buf, (size_t)n), n);
        EQ_INT(req.method, (int)i == 4 ? QCAM_RTSP_GET_PARAMETER : (int)i == 5 ? QCAM_RTSP_TEARDOWN : (int)i + 1);
        EQ_INT(req.cseq, (int)i + 1);
        EQ_STR(req.uri, "rtsp://127.0.0.1:8554/live/track0");
        EQ_STR(qcam_rtsp_header_get(&req, "Session"), "1234");
        qcam_rtsp_transport t;
        EQ_INT(qcam_rtsp_parse_transport(qcam_rtsp_header_get(&req, "Transport"), &t), 0);
        CHECK(t.tcp && t.interleaved[0] == 0 && t.interleaved[1] == 1);
    }
    EQ_INT(qcam_rtsp_build_request(buf, sizeof buf, "PLAY", "rtsp://a b", 1, NULL), -1);
    EQ_INT(qcam_rtsp_build_request(buf, sizeof buf, "PLAY\r\n", "rtsp://a", 1, NULL), -1);
    EQ_INT(qcam_rtsp_build_request(buf, 20, "PLAY", "rtsp://a", 1, NULL), -1);
}

static void t_client_auth(void)
{
    /* The server's challenge, answered by the client, passes the server's check. */
    char line[512], auth[2048];
    const char *nonce = "0123456789abcdef0123456789abcdef";
    int n = qcam_digest_challenge(line, sizeof line, "qcam", nonce);
    CHECK(n > 0);
    const char *v = line + strlen("WWW-Authenticate: ");
    line[n - 2] = '\0';
    qcam_rtsp_challenge c;
    EQ_INT(qcam_rtsp_parse_challenge(v, &c), 0);
    CHECK(c.digest && !c.qop_auth);
    EQ_STR(c.realm, "qcam");
    EQ_STR(c.nonce, nonce);
    static const char *const methods[] = {"DESCRIBE", "SETUP", "PLAY"};
    for (int i = 0; i < 3; i++) {
        n = qcam_rtsp_authorization(auth, sizeof auth, &c, "admin", "pa:ss word", methods[i], "rtsp://h/live", 1, "c0ffee");
        CHECK(n > 0);
        CHECK(strncmp(auth, "Authorization: Digest ", 22) == 0);
        auth[n - 2] = '\0';
        EQ_INT(qcam_digest_check(auth + 15, methods[i], "admin", "pa:ss word", "qcam", nonce), 1);
        EQ_INT(qcam_digest_check(auth + 15, methods[i], "admin", "wrong", "qcam", nonce), 0);
        EQ_INT(qcam_digest_check(auth + 15, "TEARDOWN", "admin", "pa:ss word", "qcam", nonce), 0);
    }
    /* qop=auth (RFC 7616) with nc and cnonce: the server's check takes it. */
    EQ_INT(qcam_rtsp_parse_challenge("Digest realm=\"r\", nonce=\"n1\", qop=\"auth,auth-int\", algorithm=MD5, opaque=\"op\"", &c), 0);
    CHECK(c.qop_auth);
    EQ_STR(c.opaque, "op");
    n = qcam_rtsp_authorization(auth, sizeof auth, &c, "u", "p", "PLAY", "rtsp://h/x", 2, "abcd");
    CHECK(n > 0 && strstr(auth, "nc=00000002") && strstr(auth, "cnonce=\"abcd\"") && strstr(auth, "opaque=\"op\""));
    auth[n - 2] = '\0';
    EQ_INT(qcam_digest_check(auth + 15, "PLAY", "u", "p", "r", "n1"), 1);
    /* RFC 2617 3.5's example response (qop=auth, MD5). */
    EQ_INT(qcam_rtsp_parse_challenge("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                                     "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
                                     &c),
           0);
    n = qcam_rtsp_authorization(auth, sizeof auth, &c, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1, "0a4f113b");
    CHECK(n > 0 && strstr(auth, "response=\"6629fae49393a05397450978507c4ef1\""));
    /* Basic (RFC 7617's example). */
    EQ_INT(qcam_rtsp_parse_challenge("Basic realm=\"WallyWorld\"", &c), 0);
    CHECK(!c.digest);
    n = qcam_rtsp_authorization(auth, sizeof auth, &c, "Aladdin", "open sesame", "DESCRIBE", "rtsp://h/", 1, "x");
    EQ_STR(auth, "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n");
    /* What cannot be answered. */
    static const char *const bad[] = {"Bearer x", "Digest realm=\"r\"", "Digest nonce=\"n\", algorithm=SHA-256",
                                      "Digest nonce=\"n\", qop=\"auth-int\"", "Digest nonce=\"unterminated", "", "Digest nonce=n, =x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECKF(qcam_rtsp_parse_challenge(bad[i], &c) == -1, "bad[%zu]", i);
    /* Fields that cannot be quoted are refused, not sent. */
    EQ_INT(qcam_rtsp_parse_challenge("Digest nonce=\"n\"", &c), 0);
    EQ_INT(qcam_rtsp_authorization(auth, sizeof auth, &c, "us\"er", "p", "PLAY", "rtsp://h/", 1, "x"), -1);
    EQ_INT(qcam_rtsp_authorization(auth, 40, &c, "user", "p", "PLAY", "rtsp://h/", 1, "x"), -1);
}

static void t_client_sdp(void)
{
    /* Our server's session descriptions parse back to their tracks and parameter sets. */
    char sdp[2048];
    for (int codec = QCAM_CODEC_H264; codec <= QCAM_CODEC_H265; codec++) {
        for (int audio = 0; audio <= QCAM_SDP_PCMU; audio++) {
            qcam_sdp_stream st = {.codec = (qcam_codec)codec, .audio = audio, .audio_rate = audio == QCAM_SDP_PCMU ? 16000 : 8000};
            if (codec == QCAM_CODEC_H264) {
                st.sps = SPS264, st.sps_len = sizeof SPS264, st.pps = PPS264, st.pps_len = sizeof PPS264;
            } else {
                st.vps = VPS265, st.vps_len = sizeof VPS265, st.sps = SPS265, st.sps_len = sizeof SPS265;
                st.pps = PPS265, st.pps_len = sizeof PPS265;
            }
            int n = qcam_sdp_build(sdp, sizeof sdp, &st, 42, "127.0.0.1");
            CHECK(n > 0);
            qcam_sdp_info in;
            char *b = (char *)dup_exact(sdp, (size_t)n);
            EQ_INT(qcam_sdp_parse(b, (size_t)n, &in), 0);
            free(b);
            EQ_INT(in.video, codec);
            EQ_INT(in.video_pt, 96);
            EQ_INT(in.video_clock, 90000);
            EQ_STR(in.video_control, "track0");
            EQ_STR(in.session_control, "*");
            EQ_INT(in.sps_len, st.sps_len);
            CHECK(memcmp(in.params + in.sps_at, st.sps, st.sps_len) == 0);
            EQ_INT(in.pps_len, st.pps_len);
            CHECK(memcmp(in.params + in.pps_at, st.pps, st.pps_len) == 0);
            EQ_INT(in.vps_len, st.vps_len);
            if (st.vps_len) CHECK(memcmp(in.params + in.vps_at, st.vps, st.vps_len) == 0);
            EQ_INT(in.audio, audio);
            if (audio) {
                EQ_INT(in.audio_rate, st.audio_rate);
                EQ_INT(in.audio_pt, st.audio_rate == 8000 ? (audio == QCAM_SDP_PCMA ? 8 : 0) : 97);
                EQ_STR(in.audio_control, "track1");
            }
        }
    }
    /* A GStreamer-like description: dynamic type 97, sprop with three sets, absolute control. */
    static const char gst[] =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Session\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n"
        "m=audio 0 RTP/AVP 0\r\na=control:rtsp://h/live/stream=1\r\n"
        "m=video 0 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n"
        "a=fmtp:97 packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=Z0LAHtkAoEf+yA==,aM48gA==,aM48gA==\r\n"
        "a=control:rtsp://h/live/stream=0\r\n";
    qcam_sdp_info in;
    EQ_INT(qcam_sdp_parse(gst, sizeof gst - 1, &in), 0);
    EQ_INT(in.video, QCAM_CODEC_H264);
    EQ_INT(in.video_pt, 97);
    EQ_INT(in.sps_len, sizeof SPS264);
    EQ_INT(in.pps_len, sizeof PPS264);
    EQ_STR(in.video_control, "rtsp://h/live/stream=0");
    EQ_INT(in.audio, QCAM_SDP_PCMU);
    EQ_STR(in.audio_control, "rtsp://h/live/stream=1");
    /* No usable video. */
    static const char *const none[] = {"", "v=0\r\nm=audio 0 RTP/AVP 8\r\n", "v=0\r\nm=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\n",
                                       "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:97 H264/90000\r\n", "v=0\r\nm=video 0 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\n"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        CHECKF(qcam_sdp_parse(none[i], strlen(none[i]), &in) == -1, "none[%zu]", i);
    /* Broken base64 is skipped, not fatal. */
    static const char brk[] = "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 sprop-parameter-sets=!!!,aM48gA==\r\n";
    EQ_INT(qcam_sdp_parse(brk, sizeof brk - 1, &in), 0);
    EQ_INT(in.sps_len, 0);
    EQ_INT(in.pps_len, sizeof PPS264);
    uint8_t dec[8];
    EQ_INT(qcam_base64_decode(dec, sizeof dec, "QWxh", 4), 3);
    EQ_INT(qcam_base64_decode(dec, sizeof dec, "QWx", 3), 2);
    EQ_INT(qcam_base64_decode(dec, sizeof dec, "Q", 1), -1);
    EQ_INT(qcam_base64_decode(dec, 2, "QWxh", 4), -1);
}

static void t_client_misc(void)
{
    static const struct {
        const char *url;
        int ok;
        const char *user, *password, *host;
        int port;
        const char *clean, *masked;
    } urls[] = {
        {"rtsp://127.0.0.1:8554/live", 0, "", "", "127.0.0.1", 8554, "rtsp://127.0.0.1:8554/live", "rtsp://127.0.0.1:8554/live"},
        {"rtsp://cam/stream1", 0, "", "", "cam", 554, "rtsp://cam/stream1", "rtsp://cam/stream1"},
        {"RTSP://admin:se%40cret@10.0.0.2/h264?ch=1", 0, "admin", "se@cret", "10.0.0.2", 554, "rtsp://10.0.0.2/h264?ch=1",
         "rtsp://admin:***@10.0.0.2/h264?ch=1"},
        {"rtsp://admin@[::1]:10554/", 0, "admin", "", "::1", 10554, "rtsp://[::1]:10554/", "rtsp://admin@[::1]:10554/"},
        {"rtsp://u:p:q@h", 0, "u", "p:q", "h", 554, "rtsp://h", "rtsp://u:***@h"},
        {"http://h/x", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://h:0/x", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://h:70000/x", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://h:x/", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://h /x", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://:p@h/", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://u:%zz@h/", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://u:%00@h/", -1, 0, 0, 0, 0, 0, 0},
        {"rtsp://[::1/", -1, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        qcam_rtsp_url u;
        int r = qcam_rtsp_url_parse(urls[i].url, &u);
        CHECKF(r == urls[i].ok, "url %s: %d", urls[i].url, r);
        if (r || urls[i].ok) continue;
        EQ_STR(u.user, urls[i].user);
        EQ_STR(u.password, urls[i].password);
        EQ_STR(u.host, urls[i].host);
        EQ_INT(u.port, urls[i].port);
        EQ_STR(u.clean, urls[i].clean);
        EQ_STR(u.masked, urls[i].masked);
        if (urls[i].password[0]) CHECK(strstr(u.masked, urls[i].password) == NULL);
    }
    char out[256];
    static const struct {
        const char *base, *control, *want;
    } ctl[] = {{"rtsp://h/live", "track0", "rtsp://h/live/track0"}, {"rtsp://h/live/", "track0", "rtsp://h/live/track0"},
               {"rtsp://h/live", "*", "rtsp://h/live"},         {"rtsp://h/live", "", "rtsp://h/live"},
               {"rtsp://h/live", "rtsp://o/x", "rtsp://o/x"},    {"rtsp://h/live/", "/stream=0", "rtsp://h/live/stream=0"}};
    for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++) {
        EQ_INT(qcam_rtsp_control_url(out, sizeof out, ctl[i].base, ctl[i].control), 0);
        EQ_STR(out, ctl[i].want);
    }
    EQ_INT(qcam_rtsp_control_url(out, 8, "rtsp://h/live", "track0"), -1);
    char id[64];
    unsigned t;
    EQ_INT(qcam_rtsp_parse_session("12345678;timeout=30", id, sizeof id, &t), 0);
    EQ_STR(id, "12345678");
    EQ_INT(t, 30);
    EQ_INT(qcam_rtsp_parse_session(" abc", id, sizeof id, &t), 0);
    EQ_STR(id, "abc");
    EQ_INT(t, 60);
    EQ_INT(qcam_rtsp_parse_session(";timeout=3", id, sizeof id, &t), -1);
    EQ_INT(qcam_rtsp_parse_session("0123456789", id, 5, &t), -1);
    qcam_rtsp_transport_reply tr;
    EQ_INT(qcam_rtsp_parse_transport_reply("RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=DEADBEEF;mode=\"PLAY\"", &tr), 0);
    CHECK(tr.tcp && tr.interleaved[0] == 2 && tr.interleaved[1] == 3 && tr.has_ssrc && tr.ssrc == 0xdeadbeef);
    EQ_INT(qcam_rtsp_parse_transport_reply("RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971", &tr), 0);
    CHECK(!tr.tcp && tr.server_port[0] == 6970 && tr.server_port[1] == 6971 && tr.interleaved[0] == -1);
    EQ_INT(qcam_rtsp_parse_transport_reply("RAW/RAW/UDP;unicast", &tr), -1);
    EQ_INT(qcam_rtsp_parse_transport_reply("RTP/AVP/TCP;interleaved=x", &tr), -1);
    EQ_INT(qcam_rtsp_parse_transport_reply("RTP/AVP;ssrc=123456789", &tr), -1);
    /* The server's sender report, read back. */
    qcam_rtp_stream s = {.ssrc = 0x11223344};
    uint8_t sr[128];
    int n = qcam_rtcp_sender_report(sr, sizeof sr, &s, 0xe123456789abcdefull, 0x01020304, "qcam");
    uint32_t ssrc, ts;
    uint64_t ntp;
    EQ_INT(qcam_rtcp_parse_sr(sr, (size_t)n, &ssrc, &ntp, &ts), 1);
    CHECK(ssrc == 0x11223344 && ntp == 0xe123456789abcdefull && ts == 0x01020304);
    EQ_INT(qcam_rtcp_parse_sr(sr + 28, (size_t)n - 28, &ssrc, &ntp, &ts), 0); /* SDES alone */
    EQ_INT(qcam_rtcp_parse_sr(sr, 20, &ssrc, &ntp, &ts), -1);
    sr[0] = 0x40;
    EQ_INT(qcam_rtcp_parse_sr(sr, (size_t)n, &ssrc, &ntp, &ts), -1);
}

/* ---- the modes ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    void (*fn)(void);
} groups[] = {
    {"md5", t_md5},           {"digest", t_digest},       {"request", t_request},
    {"interleaved", t_interleaved}, {"transport", t_transport}, {"response", t_response},
    {"base64", t_base64},     {"sdp", t_sdp},             {"rtp-table", t_rtp_table},
    {"rtp-loss", t_rtp_loss}, {"rtp-depack", t_rtp_depack}, {"audio", t_audio},
    {"rtcp", t_rtcp},         {"reply", t_reply},         {"client-auth", t_client_auth},
    {"client-sdp", t_client_sdp}, {"client-misc", t_client_misc},
};

static int run_unit(int argc, char **argv)
{
    size_t ng = sizeof groups / sizeof groups[0];
    for (size_t i = 0; i < ng; i++) {
        bool pick = argc == 0;
        for (int k = 0; k < argc; k++) pick |= strcmp(argv[k], groups[i].name) == 0;
        if (!pick) continue;
        group = groups[i].name;
        int before = checks, fails = failures;
        groups[i].fn();
        printf("%s %s %d\n", failures == fails ? "ok" : "failed", group, checks - before);
    }
    for (int k = 0; k < argc; k++) {
        bool known = false;
        for (size_t i = 0; i < ng; i++) known |= strcmp(argv[k], groups[i].name) == 0;
        if (!known) die("unknown group %s", argv[k]);
    }
    printf("checks %d failures %d\n", checks, failures);
    return failures ? 1 : 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
            if (!b) die("out of memory");
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    *len = n;
    return b;
}

static qcam_codec video_codec(const char *s)
{
    if (!strcmp(s, "h264")) return QCAM_CODEC_H264;
    if (!strcmp(s, "h265")) return QCAM_CODEC_H265;
    die("codec %s", s);
}

typedef struct {
    int fd;
    struct sockaddr_in to;
    size_t max_packet;
    long fu;
    long packets;
} sender;

static int send_packet(void *opaque, const qcam_rtp_packet *p)
{
    sender *s = opaque;
    uint8_t b[2048];
    size_t n = p->head_len + p->body_len;
    if (n > sizeof b) return 1;
    memcpy(b, p->head, p->head_len);
    memcpy(b + p->head_len, p->body, p->body_len);
    if (sendto(s->fd, b, n, 0, (struct sockaddr *)&s->to, sizeof s->to) != (ssize_t)n) return 2;
    if (n > s->max_packet) s->max_packet = n;
    if (p->head_len > QCAM_RTP_HEADER) s->fu++;
    s->packets++;
    return 0;
}

static void sleep_us(long us)
{
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static int run_send(int argc, char **argv)
{
    if (argc < 3) die("send <h264|h265|pcma|pcmu> <file> <port> [mtu] [fps|rate] [loops]");
    size_t len;
    uint8_t *data = read_file(argv[1], &len);
    sender snd = {.fd = socket(AF_INET, SOCK_DGRAM, 0)};
    if (snd.fd < 0) die("socket: %s", strerror(errno));
    snd.to.sin_family = AF_INET;
    snd.to.sin_port = htons((uint16_t)atoi(argv[2]));
    snd.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t mtu = argc > 3 ? (size_t)atol(argv[3]) : 1400;
    if (!strcmp(argv[0], "pcma") || !strcmp(argv[0], "pcmu")) {
        long rate = argc > 4 ? atol(argv[4]) : 8000;
        if (rate < 50) die("rate %ld", rate);
        size_t per = (size_t)rate / 50; /* 20 ms */
        uint8_t pt = rate != 8000 ? 97 : !strcmp(argv[0], "pcma") ? 8 : 0;
        qcam_rtp_stream s = {.payload_type = pt, .ssrc = 0x5eed0001, .seq = 1000, .mtu = mtu};
        for (size_t at = 0; at < len; at += per) {
            size_t n = len - at < per ? len - at : per;
            if (qcam_rtp_packetize_audio(&s, data + at, n, (uint32_t)at, send_packet, &snd) < 0)
                die("send failed: %s", strerror(errno));
            sleep_us(5000);
        }
        printf("sent samples=%zu packets=%ld\n", len, snd.packets);
        free(data);
        close(snd.fd);
        return 0;
    }
    qcam_codec codec = video_codec(argv[0]);
    int fps = argc > 4 ? atoi(argv[4]) : 30;
    if (fps <= 0) fps = 30;
    int loops = argc > 5 ? atoi(argv[5]) : 1;
    qcam_rtp_stream s = {.payload_type = 96, .ssrc = 0x5eed0002, .seq = 40000, .mtu = mtu, .codec = codec};
    qcam_annexb_state st;
    qcam_annexb_init(&st, codec);
    long aus = 0;
    for (int loop = 0; loop < loops; loop++) {
        size_t at = 0;
        while (at < len) {
            size_t skip, au_len;
            if (qcam_annexb_next_au(&st, data + at, len - at, true, &skip, &au_len) != 1) break;
            uint32_t ts = (uint32_t)(aus * 90000 / fps);
            int r = qcam_rtp_packetize_video(&s, data + at + skip, au_len, ts, send_packet, &snd);
            if (r < 0) die("packetize: %d (%s)", r, strerror(errno));
            at += skip + au_len;
            aus++;
            sleep_us(1000000 / fps / 4);
        }
    }
    printf("sent aus=%ld packets=%ld max_packet=%zu fu=%ld\n", aus, snd.packets, snd.max_packet, snd.fu);
    free(data);
    close(snd.fd);
    return 0;
}

/* Straight from the packetizer into the depacketizer. */
typedef struct {
    qcam_rtp_depack *d;
    size_t mtu;
    int packets, completed_at, last;
} loop_back;

static int loop_packet(void *opaque, const qcam_rtp_packet *p)
{
    loop_back *lb = opaque;
    static uint8_t b[65536];
    size_t n = p->head_len + p->body_len;
    if (n > lb->mtu || n > sizeof b) die("packet of %zu bytes > mtu %zu", n, lb->mtu);
    memcpy(b, p->head, p->head_len);
    memcpy(b + p->head_len, p->body, p->body_len);
    uint8_t *exact = dup_exact(b, n);
    lb->last = qcam_rtp_depack_push(lb->d, exact, n);
    free(exact);
    if (lb->last == 1) lb->completed_at = lb->packets;
    lb->packets++;
    return 0;
}

static int run_roundtrip(int argc, char **argv)
{
    if (argc < 3) die("roundtrip <h264|h265> <file> <mtu>");
    qcam_codec codec = video_codec(argv[0]);
    size_t len;
    uint8_t *data = read_file(argv[1], &len);
    size_t mtu = (size_t)atol(argv[2]);
    qcam_rtp_stream s = {.payload_type = 96, .ssrc = 9, .seq = 65000, .mtu = mtu, .codec = codec};
    qcam_annexb_state st;
    qcam_annexb_init(&st, codec);
    static uint8_t out[1 << 21], want[1 << 21];
    qcam_rtp_depack d;
    qcam_rtp_depack_init(&d, codec, out, sizeof out);
    size_t at = 0;
    long aus = 0, nals = 0, packets = 0;
    while (at < len) {
        size_t skip, au_len;
        if (qcam_annexb_next_au(&st, data + at, len - at, true, &skip, &au_len) != 1) break;
        const uint8_t *au = data + at + skip;
        /* What must come back: every NAL unit, 4-byte start codes. */
        size_t pos = 0, start, nl, wl = 0;
        const uint8_t *nal;
        while (qcam_annexb_next_nal(au, au_len, &pos, &start, &nal, &nl)) {
            if (wl + 4 + nl > sizeof want) die("access unit too big");
            memcpy(want + wl, "\0\0\0\1", 4);
            memcpy(want + wl + 4, nal, nl);
            wl += 4 + nl;
            nals++;
        }
        loop_back lb = {.d = &d, .mtu = mtu, .packets = 0, .completed_at = -1, .last = 0};
        int r = qcam_rtp_packetize_video(&s, au, au_len, (uint32_t)aus * 3000, loop_packet, &lb);
        if (r < 0) die("packetize: %d", r);
        if (r != lb.packets) die("packetize said %d packets, emitted %d", r, lb.packets);
        packets += r;
        if (lb.completed_at != r - 1) die("AU %ld: complete at packet %d of %d (dropped %u)", aus, lb.completed_at, r, d.dropped);
        if (d.len != wl || memcmp(d.out, want, wl) != 0) die("AU %ld differs after the round trip", aus);
        at += skip + au_len;
        aus++;
    }
    if (d.dropped) die("%u access units dropped", d.dropped);
    printf("roundtrip aus=%ld nals=%ld packets=%ld\n", aus, nals, packets);
    free(data);
    return 0;
}

static int run_sdp(int argc, char **argv)
{
    if (argc < 2) die("sdp <h264|h265|none> <file|-> [pcma|pcmu] [rate]");
    qcam_sdp_stream s = {.codec = 0};
    uint8_t *data = NULL;
    if (strcmp(argv[0], "none") != 0) {
        qcam_codec codec = video_codec(argv[0]);
        size_t len;
        data = read_file(argv[1], &len);
        qcam_annexb_state st;
        qcam_annexb_init(&st, codec);
        size_t skip, au_len;
        if (qcam_annexb_next_au(&st, data, len, true, &skip, &au_len) != 1) die("no access unit");
        qcam_annexb_params ps;
        qcam_annexb_find_params(codec, data + skip, au_len, &ps);
        s = (qcam_sdp_stream){.codec = codec, .vps = ps.vps, .vps_len = ps.vps_len, .sps = ps.sps,
                              .sps_len = ps.sps_len, .pps = ps.pps, .pps_len = ps.pps_len};
    }
    if (argc > 2) {
        s.audio = !strcmp(argv[2], "pcma") ? QCAM_SDP_PCMA : QCAM_SDP_PCMU;
        s.audio_rate = argc > 3 ? (uint32_t)atol(argv[3]) : 8000;
    }
    char out[4096];
    if (qcam_sdp_build(out, sizeof out, &s, 1, "127.0.0.1") < 0) die("sdp does not fit");
    fputs(out, stdout);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "unit")) return run_unit(argc > 2 ? argc - 2 : 0, argv + 2);
    if (!strcmp(argv[1], "send")) return run_send(argc - 2, argv + 2);
    if (!strcmp(argv[1], "roundtrip")) return run_roundtrip(argc - 2, argv + 2);
    if (!strcmp(argv[1], "sdp")) return run_sdp(argc - 2, argv + 2);
    die("usage: qcam-test-rtsp [unit [group...] | send ... | roundtrip ... | sdp ...]");
}
