/* qcam:publish's RTMP layer (host-modules/publish/rtmp_proto.h), table-driven:
 * URLs, the handshake, chunking (every message of one table written by the
 * chunker and read back by the reader, for several chunk sizes), the
 * reader on server-style headers (fmt 1/2/3, extended timestamps, Set
 * Chunk Size, Abort), AMF0 commands as nginx-rtmp sends them, and FLV tag
 * bodies byte for byte. Prints "ok N" per passing check, "FAIL ..." and
 * exits 1 otherwise (test/integration/publish.test.ts runs it). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../host-modules/publish/rtmp_proto.h"

static int failures, checks;

static bool has(const uint8_t *p, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; p && i + n <= len; i++)
        if (!memcmp(p + i, s, n)) return true;
    return false;
}

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        checks++;                                                        \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                  \
            printf(__VA_ARGS__);                                         \
            printf("\n");                                                \
        }                                                                \
    } while (0)

/* ---- URLs ------------------------------------------------------------------------------ */

static const struct {
    const char *url;
    int rc;
    const char *host;
    int port;
    const char *app, *stream, *tc_url, *masked;
    bool secret;
} urls[] = {
    {"rtmp://127.0.0.1/live/cam", 0, "127.0.0.1", 1935, "live", "cam", "rtmp://127.0.0.1/live", "rtmp://127.0.0.1/live/cam", false},
    {"rtmp://example.com:19350/live/cam", 0, "example.com", 19350, "live", "cam", "rtmp://example.com:19350/live",
     "rtmp://example.com:19350/live/cam", false},
    {"rtmp://h/app/inst/stream", 0, "h", 1935, "app/inst", "stream", "rtmp://h/app/inst", "rtmp://h/app/inst/stream", false},
    {"rtmp://h/live/cam?key=s3cret&x", 0, "h", 1935, "live", "cam?key=s3cret&x", "rtmp://h/live", "rtmp://h/live/cam?key=***&x", true},
    {"rtmp://bob:pw@h:1936/live/cam", 0, "h", 1936, "live", "cam?user=bob&pass=pw", "rtmp://h:1936/live",
     "rtmp://h:1936/live/cam?user=***&pass=***", true},
    {"rtmp://bob:pw@h/live/cam?token=t", 0, "h", 1935, "live", "cam?token=t&user=bob&pass=pw", "rtmp://h/live",
     "rtmp://h/live/cam?token=***&user=***&pass=***", true},
    {"rtmp://[::1]:1936/live/cam", 0, "::1", 1936, "live", "cam", "rtmp://[::1]:1936/live", "rtmp://[::1]:1936/live/cam", false},
    {"rtmps://h/live/cam", -ENOTSUP, NULL, 0, NULL, NULL, NULL, NULL, false},
    {"http://h/live/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},
    {"rtmp://h/live", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},        /* no stream name */
    {"rtmp://h/live/", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},
    {"rtmp://h", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},
    {"rtmp:///live/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},     /* no host */
    {"rtmp://h:0/live/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},
    {"rtmp://h:65536/live/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},
    {"rtmp://h:12a/live/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},
    {"rtmp://h/live/c am", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false},
    {"rtmp://:pw@h/live/cam", -EINVAL, NULL, 0, NULL, NULL, NULL, NULL, false}, /* no user */
};

static void test_urls(void)
{
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        qcam_rtmp_url u;
        int rc = qcam_rtmp_parse_url(urls[i].url, &u);
        CHECK(rc == urls[i].rc, "url %s: rc %d, expected %d", urls[i].url, rc, urls[i].rc);
        if (rc || urls[i].rc) continue;
        CHECK(!strcmp(u.host, urls[i].host), "url %s: host %s", urls[i].url, u.host);
        CHECK(u.port == urls[i].port, "url %s: port %d", urls[i].url, u.port);
        CHECK(!strcmp(u.app, urls[i].app), "url %s: app %s", urls[i].url, u.app);
        CHECK(!strcmp(u.stream, urls[i].stream), "url %s: stream %s", urls[i].url, u.stream);
        CHECK(!strcmp(u.tc_url, urls[i].tc_url), "url %s: tcUrl %s", urls[i].url, u.tc_url);
        CHECK(!strcmp(u.masked, urls[i].masked), "url %s: masked %s", urls[i].url, u.masked);
        CHECK(u.has_secret == urls[i].secret, "url %s: secret", urls[i].url);
        CHECK(!strstr(u.masked, "s3cret") && !strstr(u.masked, "pw") && !strstr(u.masked, "bob"), "url %s: masked leaks", urls[i].url);
    }
}

/* ---- handshake --------------------------------------------------------------------------- */

static void test_handshake(void)
{
    uint8_t c0c1[1537], s0s1[1537], c2[1536];
    const uint8_t rnd[3] = {1, 2, 3};
    qcam_rtmp_c0c1(c0c1, 0x01020304, rnd, 3);
    CHECK(c0c1[0] == 3 && c0c1[1] == 1 && c0c1[4] == 4, "C0/C1 time");
    CHECK(!c0c1[5] && !c0c1[6] && !c0c1[7] && !c0c1[8], "C1 zero field (plain handshake)");
    CHECK(c0c1[9] == 1 && c0c1[10] == 2 && c0c1[11] == 3 && c0c1[12] == 1, "C1 random");
    memcpy(s0s1, c0c1, sizeof s0s1);
    s0s1[100] = 0xAB;
    CHECK(qcam_rtmp_c2(s0s1, 7, c2) == 0 && c2[99] == 0xAB && c2[7] == 7 && c2[0] == 1, "C2 echoes S1 with our time");
    s0s1[0] = 6;
    CHECK(qcam_rtmp_c2(s0s1, 7, c2) == -EPROTO, "S0 version 6 (encrypted) refused");
}

/* ---- chunks: one table, written then read back ------------------------------------------- */

static const struct {
    unsigned csid;
    uint8_t type;
    uint32_t msid, ts;
    size_t len;
} msgs[] = {
    {3, 20, 0, 0, 0},
    {3, 20, 0, 0, 1},
    {6, 9, 1, 40, 127},
    {6, 9, 1, 80, 128},
    {6, 9, 1, 120, 129},
    {4, 8, 1, 1000, 4096},
    {6, 9, 1, 0xFFFFFE, 4097},
    {6, 9, 1, 0xFFFFFF, 300},       /* extended timestamp, repeated in fmt 3 chunks */
    {6, 9, 1, 0x12345678, 70000},
    {63, 18, 0x01020304, 5, 3},
};

static void test_chunks(void)
{
    static const size_t sizes[] = {1, 128, 4096, 65536};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        qcam_rtmp_buf b = {0};
        size_t expect = 0;
        uint8_t *payloads[sizeof msgs / sizeof msgs[0]];
        /* the reader starts at 128: tell it the size first, as a server would */
        uint8_t scs[16];
        qcam_rtmp_buf c = {0};
        qcam_rtmp_set_chunk_size(&c, (uint32_t)sizes[s]);
        CHECK(c.len == 16, "Set Chunk Size is 16 bytes");
        memcpy(scs, c.p, 16);
        qcam_rtmp_buf_free(&c);
        qcam_rtmp_put(&b, scs, 16);
        for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
            payloads[i] = malloc(msgs[i].len + 1);
            for (size_t k = 0; k < msgs[i].len; k++) payloads[i][k] = (uint8_t)(k * 31 + i);
            size_t before = b.len;
            qcam_rtmp_chunk_message(&b, msgs[i].csid, msgs[i].type, msgs[i].msid, msgs[i].ts, payloads[i], msgs[i].len, sizes[s]);
            size_t want = qcam_rtmp_chunked_size(msgs[i].len, sizes[s], msgs[i].ts);
            CHECK(b.len - before == want, "chunked size %zu (chunk %zu): %zu, expected %zu", msgs[i].len, sizes[s], b.len - before, want);
            expect += want;
        }
        CHECK(!b.oom, "no oom");
        /* read back, fed in pieces of 7 bytes to exercise "need more" */
        qcam_rtmp_reader r;
        qcam_rtmp_reader_init(&r);
        size_t pos = 0, avail = 0, got_n = 0;
        uint8_t *acc = malloc(b.len);
        size_t acc_len = 0;
        while (pos < b.len || acc_len) {
            size_t n = b.len - pos < 7 ? b.len - pos : 7;
            memcpy(acc + acc_len, b.p + pos, n);
            acc_len += n;
            pos += n;
            avail = 0;
            for (;;) {
                qcam_rtmp_message m;
                int got = 0;
                int rc = qcam_rtmp_reader_feed(&r, acc + avail, acc_len - avail, &m, &got);
                CHECK(rc >= 0, "reader rc %d", rc);
                if (rc <= 0) break;
                avail += (size_t)rc;
                if (!got) continue;
                if (got_n == 0) {
                    CHECK(m.type == QCAM_RTMP_SET_CHUNK_SIZE && r.chunk_size == sizes[s], "Set Chunk Size applied");
                } else {
                    size_t i = got_n - 1;
                    CHECK(m.type == msgs[i].type && m.stream_id == msgs[i].msid && m.timestamp == msgs[i].ts && m.len == msgs[i].len &&
                              (m.len == 0 || !memcmp(m.payload, payloads[i], m.len)),
                          "message %zu (chunk %zu) read back: type %u msid %u ts %u len %zu", i, sizes[s], m.type, m.stream_id,
                          m.timestamp, m.len);
                }
                got_n++;
            }
            memmove(acc, acc + avail, acc_len - avail);
            acc_len -= avail;
            if (pos >= b.len && avail == 0) break;
        }
        CHECK(got_n == 1 + sizeof msgs / sizeof msgs[0], "all messages read back (chunk %zu): %zu", sizes[s], got_n);
        CHECK(r.bytes == expect + 16, "reader counted every byte");
        qcam_rtmp_reader_free(&r);
        free(acc);
        for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) free(payloads[i]);
        qcam_rtmp_buf_free(&b);
    }
}

/* Server-style headers the publisher never writes itself. */
static void test_reader_headers(void)
{
    static const uint8_t in[] = {
        /* fmt 0, csid 3, ts 1000, len 2, type 20, msid 0 */
        0x03, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x02, 0x14, 0, 0, 0, 0, 'a', 'b',
        /* fmt 2 (delta 10), same length/type */
        0x83, 0x00, 0x00, 0x0A, 'c', 'd',
        /* fmt 3: a new message, the same delta again */
        0xC3, 'e', 'f',
        /* fmt 1 (delta 5, len 1, type 18) */
        0x43, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0x12, 'g',
        /* csid 64+6 in the two-byte form, extended timestamp 0x01000000 */
        0x00, 0x06, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x09, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 'h',
        /* csid 64+256*1+2 in the three-byte form */
        0x01, 0x02, 0x01, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0,
    };
    static const struct { uint8_t type; uint32_t ts; size_t len; char first; } want[] = {
        {20, 1000, 2, 'a'}, {20, 1010, 2, 'c'}, {20, 1020, 2, 'e'}, {18, 1025, 1, 'g'}, {9, 0x01000000, 1, 'h'}, {8, 7, 0, 0},
    };
    qcam_rtmp_reader r;
    qcam_rtmp_reader_init(&r);
    size_t pos = 0, n = 0;
    while (pos < sizeof in) {
        qcam_rtmp_message m;
        int got = 0;
        int rc = qcam_rtmp_reader_feed(&r, in + pos, sizeof in - pos, &m, &got);
        CHECK(rc > 0, "server headers: rc %d at %zu", rc, pos);
        if (rc <= 0) break;
        pos += (size_t)rc;
        if (got && n < sizeof want / sizeof want[0]) {
            CHECK(m.type == want[n].type && m.timestamp == want[n].ts && m.len == want[n].len && (!m.len || m.payload[0] == want[n].first),
                  "server message %zu: type %u ts %u len %zu", n, m.type, m.timestamp, m.len);
            n++;
        }
    }
    CHECK(n == 6, "six server messages, got %zu", n);
    qcam_rtmp_reader_free(&r);

    /* refusals */
    static const struct { const char *what; uint8_t b[16]; size_t len; } bad[] = {
        {"fmt 1 on an unknown chunk stream", {0x45, 0, 0, 0, 0, 0, 1, 20, 'x'}, 9},
        {"a message over 1 MiB", {0x03, 0, 0, 0, 0x20, 0, 0, 20, 0, 0, 0, 0}, 12},
        {"Set Chunk Size 0", {0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 16},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        qcam_rtmp_reader_init(&r);
        qcam_rtmp_message m;
        int got = 0;
        int rc = qcam_rtmp_reader_feed(&r, bad[i].b, bad[i].len, &m, &got);
        CHECK(rc == -EPROTO, "%s: rc %d", bad[i].what, rc);
        qcam_rtmp_reader_free(&r);
    }
    /* more chunk streams than the reader follows */
    qcam_rtmp_reader_init(&r);
    int last = 0;
    for (unsigned c = 3; c < 3 + QCAM_RTMP_READER_STREAMS + 1; c++) {
        uint8_t b[12] = {(uint8_t)c, 0, 0, 0, 0, 0, 9, 9, 0, 0, 0, 0}; /* 9 bytes announced, none sent */
        qcam_rtmp_message m;
        int got = 0;
        uint8_t full[21];
        memcpy(full, b, 12);
        memset(full + 12, 0, 9);
        last = qcam_rtmp_reader_feed(&r, full, 12, &m, &got); /* header only: waits */
        if (last == 0) last = qcam_rtmp_reader_feed(&r, full, 21, &m, &got);
    }
    CHECK(last > 0, "whole messages free their stream slot");
    qcam_rtmp_reader_free(&r);
    /* a header announcing 1 MiB with one chunk of it: the reader holds that chunk, not the MiB */
    qcam_rtmp_reader_init(&r);
    {
        uint8_t b[12 + 128] = {0x03, 0, 0, 0, 0x10, 0, 0, 20, 0, 0, 0, 0};
        qcam_rtmp_message m;
        int got = 0;
        int rc = qcam_rtmp_reader_feed(&r, b, sizeof b, &m, &got);
        CHECK(rc == (int)sizeof b && !got, "the first chunk of a long message: rc %d got %d", rc, got);
        CHECK(r.cs[0].have == 128 && r.cs[0].cap <= 4096, "a long message's buffer grows as it comes: %zu held, %zu allocated", r.cs[0].have,
              r.cs[0].cap);
    }
    qcam_rtmp_reader_free(&r);
}

/* ---- AMF0 ------------------------------------------------------------------------------------ */

static size_t hex(uint8_t *out, const char *s)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void test_amf(void)
{
    qcam_rtmp_buf b = {0};
    qcam_amf_string(&b, "connect");
    qcam_amf_number(&b, 1);
    qcam_amf_null(&b);
    qcam_amf_bool(&b, true);
    uint8_t want[64];
    size_t wl = hex(want, "02 0007 636f6e6e656374 00 3ff0000000000000 05 0101");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "AMF0 string, number, null, bool bytes");
    qcam_rtmp_buf_free(&b);

    /* _result for connect as nginx-rtmp sends it: properties, then information */
    qcam_amf_string(&b, "_result");
    qcam_amf_number(&b, 1);
    qcam_amf_object_begin(&b);
    qcam_amf_key(&b, "fmsVer");
    qcam_amf_string(&b, "FMS/3,0,1,123");
    qcam_amf_key(&b, "capabilities");
    qcam_amf_number(&b, 31);
    qcam_amf_object_end(&b);
    qcam_amf_object_begin(&b);
    qcam_amf_key(&b, "level");
    qcam_amf_string(&b, "status");
    qcam_amf_key(&b, "code");
    qcam_amf_string(&b, "NetConnection.Connect.Success");
    qcam_amf_key(&b, "description");
    qcam_amf_string(&b, "Connection succeeded.");
    qcam_amf_key(&b, "objectEncoding");
    qcam_amf_number(&b, 0);
    qcam_amf_object_end(&b);
    qcam_rtmp_command c;
    CHECK(qcam_rtmp_parse_command(b.p, b.len, &c) == 0, "parse _result");
    CHECK(!strcmp(c.name, "_result") && c.txn == 1 && !strcmp(c.code, "NetConnection.Connect.Success") &&
              !strcmp(c.level, "status") && !strcmp(c.description, "Connection succeeded.") && !c.has_number,
          "connect _result: %s %g %s", c.name, c.txn, c.code);
    for (size_t cut = 0; cut < b.len; cut++) /* every truncation is refused, none read past the end */
    {
        int rc = qcam_rtmp_parse_command(b.p, cut, &c);
        CHECK(rc == -EPROTO || (rc == 0 && c.code[0] == 0), "truncated at %zu: rc %d", cut, rc);
    }
    qcam_rtmp_buf_free(&b);

    /* createStream's _result: null, stream id */
    qcam_amf_string(&b, "_result");
    qcam_amf_number(&b, 4);
    qcam_amf_null(&b);
    qcam_amf_number(&b, 1);
    CHECK(qcam_rtmp_parse_command(b.p, b.len, &c) == 0 && c.txn == 4 && c.has_number && c.number == 1, "createStream _result");
    qcam_rtmp_buf_free(&b);

    /* onStatus error */
    qcam_amf_string(&b, "onStatus");
    qcam_amf_number(&b, 0);
    qcam_amf_null(&b);
    qcam_amf_object_begin(&b);
    qcam_amf_key(&b, "level");
    qcam_amf_string(&b, "error");
    qcam_amf_key(&b, "code");
    qcam_amf_string(&b, "NetStream.Publish.BadName");
    qcam_amf_object_end(&b);
    CHECK(qcam_rtmp_parse_command(b.p, b.len, &c) == 0 && !strcmp(c.level, "error") && !strcmp(c.code, "NetStream.Publish.BadName"),
          "onStatus error");
    qcam_rtmp_buf_free(&b);

    /* values the publisher only skips */
    static const char *const skips[] = {
        "0c 00000003 616263",                 /* long string */
        "0b 0000000000000000 0000",           /* date */
        "08 00000001 0001 61 00 0000000000000000 000009", /* ECMA array */
        "0a 00000002 05 06",                  /* strict array */
        "10 0001 43 0001 61 05 000009",       /* typed object */
        "07 0001",                            /* reference */
    };
    for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++) {
        uint8_t v[64];
        size_t n = hex(v, skips[i]);
        CHECK(qcam_amf_skip(v, n, 16) == (long)n, "skip %s", skips[i]);
        CHECK(qcam_amf_skip(v, n - 1, 16) == -1, "skip truncated %s", skips[i]);
    }
    /* nesting past the limit */
    uint8_t deep[200];
    size_t dn = 0;
    for (int i = 0; i < 40; i++) {
        deep[dn++] = 0x03;
        deep[dn++] = 0;
        deep[dn++] = 1;
        deep[dn++] = 'k';
    }
    deep[dn++] = 0x05;
    CHECK(qcam_amf_skip(deep, dn, 16) == -1, "nesting deeper than 16 refused");
    uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x05};
    CHECK(qcam_amf_skip(huge, sizeof huge, 16) == -1, "a strict array longer than its bytes refused");
}

/* ---- commands and tags ----------------------------------------------------------------------- */

/* the payload of the single message in b */
static const uint8_t *payload_of(qcam_rtmp_buf *b, size_t *len, uint8_t *type, uint32_t *msid)
{
    static qcam_rtmp_reader r;
    qcam_rtmp_reader_free(&r);
    qcam_rtmp_reader_init(&r);
    r.chunk_size = 4096;
    qcam_rtmp_message m;
    int got = 0;
    int rc = qcam_rtmp_reader_feed(&r, b->p, b->len, &m, &got);
    if (rc != (int)b->len || !got) return NULL;
    *len = m.len;
    *type = m.type;
    *msid = m.stream_id;
    return m.payload;
}

static void test_commands(void)
{
    qcam_rtmp_url u;
    qcam_rtmp_parse_url("rtmp://bob:pw@h/live/cam", &u);
    qcam_rtmp_buf b = {0};
    qcam_rtmp_cmd_connect(&b, &u, true, 4096);
    size_t len;
    uint8_t type;
    uint32_t msid;
    const uint8_t *p = payload_of(&b, &len, &type, &msid);
    qcam_rtmp_command c;
    CHECK(p && type == 20 && msid == 0 && qcam_rtmp_parse_command(p, len, &c) == 0 && !strcmp(c.name, "connect") && c.txn == 1,
          "connect");
    CHECK(p && has(p, len, "rtmp://h/live") && has(p, len, "hvc1") && !has(p, len, "pw"),
          "connect: tcUrl, fourCcList, no password");
    qcam_rtmp_buf_free(&b);
    qcam_rtmp_cmd_publish(&b, 1, 5, u.stream, 4096);
    p = payload_of(&b, &len, &type, &msid);
    CHECK(p && msid == 1 && has(p, len, "cam?user=bob&pass=pw") && has(p, len, "live"), "publish carries the credentials");
    qcam_rtmp_buf_free(&b);
    qcam_rtmp_meta meta = {QCAM_CODEC_H264, 320, 240, 25, QCAM_CODEC_ALAW};
    qcam_rtmp_cmd_metadata(&b, 1, &meta, 4096);
    p = payload_of(&b, &len, &type, &msid);
    CHECK(p && type == 18 && qcam_amf_skip(p, len, 16) > 0, "metadata");
    long off = p ? qcam_amf_skip(p, len, 16) : 0;
    off += p ? qcam_amf_skip(p + off, len - (size_t)off, 16) : 0;
    CHECK(p && qcam_amf_skip(p + off, len - (size_t)off, 16) == (long)len - off, "metadata: an ECMA array to the end");
    qcam_rtmp_buf_free(&b);
    qcam_rtmp_pong(&b, 0x01020304);
    uint8_t want[32];
    size_t wl = hex(want, "02 000000 000006 04 00000000 0007 01020304");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "ping response bytes");
    qcam_rtmp_buf_free(&b);
}

static void test_flv(void)
{
    /* AUD, SPS, PPS, SEI, IDR slice (Annex B, mixed start codes) */
    uint8_t au[64];
    size_t n = hex(au, "00000001 0910 00000001 6742c01e 000001 68ce3c80 000001 0605 00000001 65888480");
    qcam_rtmp_buf b = {0};
    CHECK(qcam_flv_video_frame(&b, QCAM_CODEC_H264, true, au, n) == 2, "H.264: SEI + IDR kept");
    uint8_t want[64];
    size_t wl = hex(want, "17 01 000000 00000002 0605 00000004 65888480");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "H.264 keyframe tag body");
    qcam_rtmp_buf_free(&b);
    n = hex(au, "00000001 4101");
    qcam_flv_video_frame(&b, QCAM_CODEC_H264, false, au, n);
    wl = hex(want, "27 01 000000 00000002 4101");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "H.264 inter frame tag body");
    qcam_rtmp_buf_free(&b);
    n = hex(au, "00000001 0910 00000001 6742c01e");
    CHECK(qcam_flv_video_frame(&b, QCAM_CODEC_H264, true, au, n) == 0 && b.len == 0, "parameter sets alone: nothing");
    /* H.265: AUD 35, VPS 32, SPS 33, PPS 34 left out; IDR_W_RADL (19) kept */
    n = hex(au, "00000001 4601 50 00000001 40010c 00000001 42010a 00000001 44010b 00000001 2601af");
    CHECK(qcam_flv_video_frame(&b, QCAM_CODEC_H265, true, au, n) == 1, "H.265: one NAL");
    wl = hex(want, "93 68766331 00000003 2601af");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "H.265 keyframe (Enhanced RTMP CodedFramesX)");
    qcam_rtmp_buf_free(&b);
    uint8_t cfg[3] = {1, 2, 3};
    qcam_flv_video_config(&b, QCAM_CODEC_H264, cfg, 3);
    wl = hex(want, "17 00 000000 010203");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "AVC sequence header");
    qcam_rtmp_buf_free(&b);
    qcam_flv_video_config(&b, QCAM_CODEC_H265, cfg, 3);
    wl = hex(want, "90 68766331 010203");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "HEVC SequenceStart");
    qcam_rtmp_buf_free(&b);
    uint8_t s[2] = {0xd5, 0x55};
    qcam_flv_audio(&b, QCAM_CODEC_ALAW, s, 2);
    CHECK(b.len == 3 && b.p[0] == 0x72 && b.p[1] == 0xd5, "A-law: sound format 7");
    qcam_rtmp_buf_free(&b);
    qcam_flv_audio(&b, QCAM_CODEC_ULAW, s, 2);
    CHECK(b.len == 3 && b.p[0] == 0x82, "mu-law: sound format 8");
    qcam_rtmp_buf_free(&b);
}

int main(void)
{
    test_urls();
    test_handshake();
    test_chunks();
    test_reader_headers();
    test_amf();
    test_commands();
    test_flv();
    printf("%s: %d checks, %d failed\n", failures ? "FAIL" : "ok", checks, failures);
    return failures ? 1 : 0;
}
