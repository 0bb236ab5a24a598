/* qcam:publish's RTSP push layer (host-modules/publish/rtsp_push_proto.h),
 * table-driven: push URLs (credentials, %-escapes, ports, IPv6, masking,
 * refusals), replies (status, CSeq, Session and its timeout, challenges,
 * bodies, incomplete and malformed ones), challenges (Digest with and
 * without qop, Basic, refusals) and Authorization answers checked against
 * RFC 2617's own example. Prints "ok: N checks, 0 failed" and exits 0, or
 * "FAIL ..." lines and exits 1 (test/integration/rtsp-push.test.ts runs it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../host-modules/publish/rtsp_push_proto.h"
#include "../../host-modules/rtsp/rtsp_proto.h"

static int failures, checks;

#define CHECK(cond, ...)                                     \
    do {                                                     \
        checks++;                                            \
        if (!(cond)) {                                       \
            failures++;                                      \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                             \
            printf("\n");                                    \
        }                                                    \
    } while (0)

static void urls(void)
{
    static const struct {
        const char *url;
        int rc;
        const char *host;
        int port;
        const char *uri, *user, *pass, *masked;
    } t[] = {
        {"rtsp://127.0.0.1:8554/live/cam", 0, "127.0.0.1", 8554, "rtsp://127.0.0.1:8554/live/cam", "", "", "rtsp://127.0.0.1:8554/live/cam"},
        {"rtsp://cam.local/x?y=1", 0, "cam.local", 554, "rtsp://cam.local/x?y=1", "", "", "rtsp://cam.local/x?y=1"},
        {"rtsp://bob:pw@h:9/cam", 0, "h", 9, "rtsp://h:9/cam", "bob", "pw", "rtsp://bob:***@h:9/cam"},
        {"rtsp://b%40x:p%3Aw%2f@h/cam", 0, "h", 554, "rtsp://h/cam", "b@x", "p:w/", "rtsp://b%40x:***@h/cam"},
        {"rtsp://bob@h/cam", 0, "h", 554, "rtsp://h/cam", "bob", "", "rtsp://bob@h/cam"},
        {"rtsp://a:b@c@h/cam", 0, "h", 554, "rtsp://h/cam", "a", "b@c", "rtsp://a:***@h/cam"},
        {"RTSP://[::1]:8554/cam", 0, "::1", 8554, "rtsp://[::1]:8554/cam", "", "", "rtsp://[::1]:8554/cam"},
        {"rtsps://h/cam", -ENOTSUP, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtmp://h/live/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://h", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://h/", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp:///cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://h:0/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://h:65536/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://h:/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://h:8a/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://h/c am", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://:pw@h/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://u:%4@h/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://u:%00@h/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://[::1/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
        {"rtsp://[::1]x/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        qcam_rtsp_push_url u;
        int rc = qcam_rtsp_push_parse_url(t[i].url, &u);
        CHECK(rc == t[i].rc, "%s: %d", t[i].url, rc);
        if (rc || t[i].rc) continue;
        CHECK(!strcmp(u.host, t[i].host), "%s: host %s", t[i].url, u.host);
        CHECK(u.port == t[i].port, "%s: port %d", t[i].url, u.port);
        CHECK(!strcmp(u.uri, t[i].uri), "%s: uri %s", t[i].url, u.uri);
        CHECK(!strcmp(u.user, t[i].user), "%s: user %s", t[i].url, u.user);
        CHECK(!strcmp(u.pass, t[i].pass), "%s: pass %s", t[i].url, u.pass);
        CHECK(!strcmp(u.masked, t[i].masked), "%s: masked %s", t[i].url, u.masked);
    }
    char big[1200];
    memset(big, 'a', sizeof big);
    memcpy(big, "rtsp://h/", 9);
    big[sizeof big - 1] = 0;
    qcam_rtsp_push_url u;
    CHECK(qcam_rtsp_push_parse_url(big, &u) == -EINVAL, "a path longer than a request line takes");
}

static int reply(const char *s, qcam_rtsp_push_reply *r) { return qcam_rtsp_push_parse_reply((const uint8_t *)s, strlen(s), r); }

static void replies(void)
{
    qcam_rtsp_push_reply r;
    const char *ok = "RTSP/1.0 200 OK\r\nCSeq: 3\r\nsession:  1fVSeRvLqJ2c;timeout=30 \r\n"
                     "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\nContent-Length: 4\r\n\r\nabcdRTSP/1.0";
    CHECK(reply(ok, &r) == (int)strlen(ok) - 8, "consumed");
    CHECK(r.code == 200 && r.cseq == 3, "%d %d", r.code, r.cseq);
    CHECK(!strcmp(r.session, "1fVSeRvLqJ2c") && r.timeout == 30, "%s %u", r.session, r.timeout);
    CHECK(!strcmp(r.transport, "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"), "%s", r.transport);
    CHECK(r.body_len == 4, "%zu", r.body_len);
    const char *unauth = "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
                         "WWW-Authenticate: Basic realm=\"r\"\r\n\r\n";
    CHECK(reply(unauth, &r) == (int)strlen(unauth), "401");
    CHECK(r.code == 401 && !strcmp(r.auth[0], "Digest realm=\"r\", nonce=\"n\"") && !strcmp(r.auth[1], "Basic realm=\"r\""),
          "%s | %s", r.auth[0], r.auth[1]);
    CHECK(r.timeout == 60 && !r.session[0], "defaults");
    CHECK(reply("RTSP/1.0 200 OK\r\nCSeq: 3\r\n", &r) == 0, "no blank line yet");
    CHECK(reply("RTSP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nabc", &r) == 0, "body not all here");
    CHECK(reply("RTSP/1.0 200", &r) == 0, "a start");
    CHECK(reply("HTTP/1.1 200 OK\r\n\r\n", &r) == -EPROTO, "not RTSP");
    CHECK(reply("HTTP/1.1 200", &r) == -EPROTO, "not RTSP, early");
    CHECK(reply("RTSP/1.0 2x0 OK\r\n\r\n", &r) == -EPROTO, "bad status");
    CHECK(reply("RTSP/1.0 200 OK\r\nno colon\r\n\r\n", &r) == -EPROTO, "bad header");
    CHECK(reply("RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n", &r) == -EPROTO, "bad length");
    CHECK(reply("RTSP/1.0 200 OK\r\nContent-Length: 9999999\r\n\r\n", &r) == -EPROTO, "body too big");
    CHECK(reply("RTSP/1.0 200 OK\r\nCSeq: x\r\n\r\n", &r) > 0 && r.cseq == -1, "bad CSeq: not a match for any request");
    static char huge[QCAM_RTSP_MAX_RESPONSE + 64];
    memset(huge, 'a', sizeof huge - 1);
    memcpy(huge, "RTSP/1.0 200 OK\r\nX: ", 20);
    CHECK(reply(huge, &r) == -EPROTO, "headers too long");
}

static void auth(void)
{
    qcam_rtsp_challenge c;
    CHECK(qcam_rtsp_parse_challenge("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                                    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
                                    &c) == 0,
          "RFC 2617's challenge");
    CHECK(c.digest && c.qop_auth && !strcmp(c.realm, "testrealm@host.com") && !strcmp(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41"),
          "fields");
    char out[1200];
    int n = qcam_rtsp_authorization(out, sizeof out, &c, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1, "0a4f113b");
    CHECK(n > 0 && strstr(out, "response=\"6629fae49393a05397450978507c4ef1\""), "RFC 2617's answer: %s", out);
    CHECK(strstr(out, "qop=auth, nc=00000001, cnonce=\"0a4f113b\"") && strstr(out, "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
          "%s", out);
    CHECK(!strncmp(out, "Authorization: Digest username=\"Mufasa\"", 39) && out[n - 2] == '\r' && out[n - 1] == '\n', "%s", out);
    char small[64];
    CHECK(qcam_rtsp_authorization(small, sizeof small, &c, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1, "0a4f113b") == -1,
          "does not fit");
    /* without qop (what GStreamer's RTSP server offers): MD5(HA1:nonce:HA2) */
    CHECK(qcam_rtsp_parse_challenge("Digest realm=\"r\", nonce=\"n\"", &c) == 0 && !c.qop_auth, "no qop");
    n = qcam_rtsp_authorization(out, sizeof out, &c, "u", "p", "ANNOUNCE", "rtsp://h/x", 1, "c");
    /* MD5(MD5("u:r:p") ":n:" MD5("ANNOUNCE:rtsp://h/x")), worked out with Python's hashlib */
    CHECK(n > 0 && strstr(out, "response=\"34bea099993fc93ecdc5146eda3fb678\"") && !strstr(out, "qop") && !strstr(out, "opaque"), "%s", out);
    CHECK(qcam_rtsp_parse_challenge("Basic realm=\"r\"", &c) == 0 && !c.digest, "Basic");
    n = qcam_rtsp_authorization(out, sizeof out, &c, "Aladdin", "open sesame", "ANNOUNCE", "rtsp://h/x", 1, "c");
    CHECK(n > 0 && !strcmp(out, "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"), "%s", out);
    CHECK(qcam_rtsp_parse_challenge("Digest realm=\"r\"", &c) == -1, "no nonce");
    CHECK(qcam_rtsp_parse_challenge("Negotiate abc", &c) == -1, "unknown scheme");
    CHECK(qcam_rtsp_parse_challenge("Digest nonce=\"n\", algorithm=SHA-256", &c) == -1, "SHA-256");
    CHECK(qcam_rtsp_parse_challenge("Digest nonce=\"n\", qop=\"auth-int\"", &c) == -1, "auth-int only");
    CHECK(qcam_rtsp_parse_challenge("Digest nonce=n, algorithm=md5", &c) == 0 && !strcmp(c.nonce, "n"), "tokens");
}

int main(void)
{
    urls();
    replies();
    auth();
    printf("ok: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
