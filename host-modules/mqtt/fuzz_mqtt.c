/* libFuzzer target for what qcam:mqtt reads from a broker: the packet parser
 * over a byte stream fed in pieces (sizes from the input's first byte), as
 * the client's I/O thread does (mqtt_client.c pump_input); the filter
 * matcher on a topic from each PUBLISH; and the URL, topic and filter
 * checks on the input as a string. Built and run by
 * test/integration/mqtt-fuzz.test.ts. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t piece = 1 + data[0] % 64;
    data++;
    size--;

    char s[1024];
    size_t sl = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, sl);
    s[sl] = 0;
    qcam_mqtt_url u;
    if (qcam_mqtt_parse_url(s, &u) == 0) {
        if (!u.host[0]) abort();
        /* The password never shows: masked is mqtt://[***@]HOST[:PORT] (user and password
         * hidden), so it may be found only where the host or the port hold the same text. */
        if (u.has_pass) {
            if (u.user[0] && strncmp(u.masked, "mqtt://***@", 11)) abort();
            const char *after = u.masked + (u.user[0] ? 11 : 7);
            char port[16];
            snprintf(port, sizeof port, ":%d", u.port);
            if (strlen(u.pass) > 3 && !strstr(u.host, u.pass) && !strstr(port, u.pass) && strstr(after, u.pass)) abort();
        }
    }
    size_t n = strlen(s);
    bool topic = qcam_mqtt_topic_ok(s, n), filter = qcam_mqtt_filter_ok(s, n);
    if (topic && !filter) abort(); /* every topic name is a filter */
    if (topic && !qcam_mqtt_match(s, s)) abort(); /* and matches itself */

    uint8_t *buf = malloc(size + 1);
    size_t have = 0, pos = 0;
    int rc = 0;
    while (pos < size && rc >= 0) {
        size_t k = size - pos < piece ? size - pos : piece;
        memcpy(buf + have, data + pos, k);
        have += k;
        pos += k;
        size_t off = 0;
        for (;;) {
            qcam_mqtt_packet p;
            rc = qcam_mqtt_parse(buf + off, have - off, &p);
            if (rc <= 0) break;
            off += (size_t)rc;
            if (off > have) abort();
            if (p.type == QCAM_MQTT_PUBLISH) {
                if (p.topic + p.topic_len > buf + have || p.payload + p.payload_len > buf + have) abort();
                char t[256];
                size_t tl = p.topic_len < sizeof t - 1 ? p.topic_len : sizeof t - 1;
                memcpy(t, p.topic, tl);
                t[tl] = 0;
                if (tl == p.topic_len && !qcam_mqtt_match("#", t) && t[0] != '$') abort();
                qcam_mqtt_match("+/+/#", t);
            }
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    free(buf);
    return 0;
}
