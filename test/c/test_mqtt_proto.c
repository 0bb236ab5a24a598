/* qcam:mqtt's protocol layer (host-modules/mqtt/mqtt_proto.h), table-driven:
 * URLs, topic names and filters, filter matching (MQTT 3.1.1 §4.7), packets
 * written byte for byte, PUBLISH written then parsed back across the
 * remaining-length boundaries, and the parser's refusals. Prints "ok: N
 * checks" or "FAIL ..." lines and exits 1 (test/integration/mqtt.test.ts). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../host-modules/mqtt/mqtt_proto.h"

static int failures, checks;

#define CHECK(cond, ...)                                \
    do {                                                \
        checks++;                                       \
        if (!(cond)) {                                  \
            failures++;                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

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

static const struct { const char *url; int rc; const char *host; int port; const char *user, *pass, *masked; } urls[] = {
    {"mqtt://127.0.0.1", 0, "127.0.0.1", 1883, "", "", "mqtt://127.0.0.1"},
    {"mqtt://broker.lan:18830/", 0, "broker.lan", 18830, "", "", "mqtt://broker.lan:18830"},
    {"mqtt://board1:s3cret@h", 0, "h", 1883, "board1", "s3cret", "mqtt://***@h"},
    {"mqtt://board1@h:1", 0, "h", 1, "board1", "", "mqtt://***@h:1"},
    {"mqtt://[::1]:1884", 0, "::1", 1884, "", "", "mqtt://[::1]:1884"},
    {"mqtts://h", -ENOTSUP, NULL, 0, NULL, NULL, NULL},
    {"tcp://h", -EINVAL, NULL, 0, NULL, NULL, NULL},
    {"mqtt://", -EINVAL, NULL, 0, NULL, NULL, NULL},
    {"mqtt://h/topic", -EINVAL, NULL, 0, NULL, NULL, NULL},
    {"mqtt://h:0", -EINVAL, NULL, 0, NULL, NULL, NULL},
    {"mqtt://h:99999", -EINVAL, NULL, 0, NULL, NULL, NULL},
    {"mqtt://:pw@h", -EINVAL, NULL, 0, NULL, NULL, NULL},
    {"mqtt://h h", -EINVAL, NULL, 0, NULL, NULL, NULL},
};

static const struct { const char *s; bool topic, filter; } topics[] = {
    {"a", true, true}, {"a/b/c", true, true}, {"/", true, true}, {"a//b", true, true}, {"$SYS/x", true, true},
    {"+", false, true}, {"#", false, true}, {"a/+/c", false, true}, {"a/#", false, true}, {"+/+", false, true},
    {"a+", false, false}, {"a/#/b", false, false}, {"a#", false, false}, {"", false, false}, {"caf\xc3\xa9", true, true},
    {"bad\xc3", false, false}, {"\xed\xa0\x80", false, false},
};

static const struct { const char *f, *t; bool m; } matches[] = {
    {"a/b", "a/b", true}, {"a/b", "a/c", false}, {"a/+", "a/b", true}, {"a/+", "a/b/c", false}, {"a/#", "a/b/c", true},
    {"a/#", "a", true}, {"#", "a/b", true}, {"+/b", "a/b", true}, {"+", "a", true}, {"+", "a/b", false},
    {"#", "$SYS/x", false}, {"+/x", "$SYS/x", false}, {"$SYS/#", "$SYS/x", true}, {"a/+/c", "a//c", true},
    {"a", "a/b", false}, {"a/b", "a", false}, {"cmd/+/start", "cmd/board7/start", true}, {"ab", "a", false},
};

int main(void)
{
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        qcam_mqtt_url u;
        int rc = qcam_mqtt_parse_url(urls[i].url, &u);
        CHECK(rc == urls[i].rc, "url %s: rc %d", urls[i].url, rc);
        if (rc || urls[i].rc) continue;
        CHECK(!strcmp(u.host, urls[i].host) && u.port == urls[i].port && !strcmp(u.user, urls[i].user) &&
                  !strcmp(u.pass, urls[i].pass) && !strcmp(u.masked, urls[i].masked),
              "url %s: %s %d %s %s", urls[i].url, u.host, u.port, u.user, u.masked);
    }
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
        CHECK(qcam_mqtt_topic_ok(topics[i].s, strlen(topics[i].s)) == topics[i].topic, "topic %s", topics[i].s);
        CHECK(qcam_mqtt_filter_ok(topics[i].s, strlen(topics[i].s)) == topics[i].filter, "filter %s", topics[i].s);
    }
    for (size_t i = 0; i < sizeof matches / sizeof matches[0]; i++)
        CHECK(qcam_mqtt_match(matches[i].f, matches[i].t) == matches[i].m, "match %s %s", matches[i].f, matches[i].t);

    /* packets out, byte for byte */
    uint8_t want[256];
    size_t wl;
    qcam_mqtt_buf b = {0};
    qcam_mqtt_connect_opts o = {.client_id = "qc", .keepalive_s = 30, .clean_session = true, .user = "u", .pass = "p",
                                .will_topic = "w", .will_payload = (const uint8_t *)"x", .will_len = 1, .will_qos = 1, .will_retain = true};
    qcam_mqtt_connect(&b, &o);
    wl = hex(want, "10 1a 0004 4d515454 04 ee 001e 0002 7163 0001 77 0001 78 0001 75 0001 70");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "CONNECT with will, user, password");
    qcam_mqtt_buf_free(&b);
    qcam_mqtt_connect_opts plain = {.client_id = "a", .keepalive_s = 60, .clean_session = true};
    qcam_mqtt_connect(&b, &plain);
    wl = hex(want, "10 0d 0004 4d515454 04 02 003c 0001 61");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "CONNECT plain");
    qcam_mqtt_buf_free(&b);
    qcam_mqtt_publish(&b, "a/b", (const uint8_t *)"hi", 2, 1, true, true, 7);
    wl = hex(want, "3b 09 0003 612f62 0007 6869");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "PUBLISH QoS 1 retain dup");
    qcam_mqtt_buf_free(&b);
    qcam_mqtt_subscribe(&b, 2, "a/#", 1);
    wl = hex(want, "82 08 0002 0003 612f23 01");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "SUBSCRIBE");
    qcam_mqtt_buf_free(&b);
    qcam_mqtt_unsubscribe(&b, 3, "a");
    wl = hex(want, "a2 05 0003 0001 61");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "UNSUBSCRIBE");
    qcam_mqtt_buf_free(&b);
    qcam_mqtt_puback(&b, 0x1234);
    qcam_mqtt_pingreq(&b);
    qcam_mqtt_disconnect(&b);
    wl = hex(want, "40 02 1234 c0 00 e0 00");
    CHECK(b.len == wl && !memcmp(b.p, want, wl), "PUBACK, PINGREQ, DISCONNECT");
    qcam_mqtt_buf_free(&b);

    /* PUBLISH written and parsed back across the remaining-length sizes */
    static const size_t sizes[] = {0, 1, 120, 121, 122, 16378, 16379, 16380, 100000, 1u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *pl = malloc(sizes[i] + 1);
        for (size_t k = 0; k < sizes[i]; k++) pl[k] = (uint8_t)(k * 13);
        for (int qos = 0; qos <= 1; qos++) {
            qcam_mqtt_publish(&b, "t/x", pl, sizes[i], qos, qos == 0, false, 9);
            qcam_mqtt_packet k;
            int n = qcam_mqtt_parse(b.p, b.len, &k);
            size_t rem = 5 + (qos ? 2 : 0) + sizes[i];
            if (rem > QCAM_MQTT_MAX_PACKET) {
                CHECK(n == -EPROTO, "over the limit refused: %zu", sizes[i]);
            } else {
                CHECK(n == (int)b.len && k.type == 3 && k.qos == qos && k.retain == (qos == 0) && k.topic_len == 3 &&
                          !memcmp(k.topic, "t/x", 3) && k.payload_len == sizes[i] && !memcmp(k.payload, pl, sizes[i]) &&
                          (!qos || k.id == 9),
                      "PUBLISH %zu QoS %d back: n %d", sizes[i], qos, n);
                for (size_t cut = 0; cut < b.len && cut < 8; cut++)
                    CHECK(qcam_mqtt_parse(b.p, cut, &k) == 0, "PUBLISH %zu cut at %zu: wait", sizes[i], cut);
                CHECK(qcam_mqtt_parse(b.p, b.len - 1, &k) == 0, "PUBLISH %zu one byte short: wait", sizes[i]);
            }
            qcam_mqtt_buf_free(&b);
        }
        free(pl);
    }

    /* what a broker sends */
    static const struct { const char *bytes; int rc; uint8_t type; } in[] = {
        {"20 02 00 00", 4, 2}, {"20 02 01 05", 4, 2}, {"90 03 0002 01", 5, 9}, {"90 03 0002 80", 5, 9}, {"b0 02 0003", 4, 11},
        {"40 02 0007", 4, 4}, {"d0 00", 2, 13}, {"30 05 0003 612f62", 7, 3},
        {"20 03 00 00 00", -EPROTO, 0},   /* CONNACK of 3 bytes */
        {"20 02 02 00", -EPROTO, 0},      /* reserved ack flags */
        {"34 05 0003 612f62", -EPROTO, 0}, /* QoS 2 */
        {"36 05 0003 612f62", -EPROTO, 0}, /* QoS 3 */
        {"32 05 0003 612f62", -EPROTO, 0}, /* QoS 1 without room for an id */
        {"32 07 0003 612f62 0000", -EPROTO, 0}, /* id 0 */
        {"30 05 0003 612f2b", -EPROTO, 0}, /* a wildcard in a topic name */
        {"30 05 0009 612f62", -EPROTO, 0}, /* topic longer than the packet */
        {"10 00", -EPROTO, 0},            /* CONNECT: a client's packet */
        {"82 00", -EPROTO, 0}, {"f0 00", -EPROTO, 0}, {"00 00", -EPROTO, 0},
        {"90 03 0002 03", -EPROTO, 0},    /* SUBACK code 3 */
        {"d1 00", -EPROTO, 0},            /* flags on PINGRESP */
        {"30 ff ff ff ff 01", -EPROTO, 0}, /* five length bytes */
        {"30 80 80 80 01", -EPROTO, 0},   /* 2 MiB */
        {"30 80", 0, 0},                  /* the length continues */
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        uint8_t p[64];
        size_t n = hex(p, in[i].bytes);
        qcam_mqtt_packet k;
        int rc = qcam_mqtt_parse(p, n, &k);
        CHECK(rc == in[i].rc && (rc <= 0 || k.type == in[i].type), "parse %s: %d", in[i].bytes, rc);
    }
    uint8_t ca[4];
    hex(ca, "20 02 01 05");
    qcam_mqtt_packet k;
    qcam_mqtt_parse(ca, 4, &k);
    CHECK(k.session_present && k.return_code == 5 && !strcmp(qcam_mqtt_connack_reason(5), "refused: not authorized"), "CONNACK fields");
    printf("%s: %d checks, %d failed\n", failures ? "FAIL" : "ok", checks, failures);
    return failures ? 1 : 0;
}
