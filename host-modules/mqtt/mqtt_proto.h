/* qcam:mqtt's protocol layer: MQTT 3.1.1 (OASIS, 2014) as pure functions over
 * memory — no I/O, no threads, no engine.
 *
 *   URL      mqtt://[user[:pass]@]host[:port] (port 1883)
 *   out      CONNECT (clean session, keepalive, will, credentials), PUBLISH
 *            (QoS 0/1, retain, dup), PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ,
 *            DISCONNECT, appended to a growable buffer
 *   in       one bounded packet parser for what a broker sends (CONNACK,
 *            PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGRESP); fuzzed beside this
 *            file (fuzz_mqtt.c)
 *   topics   publish names and subscription filters checked (§4.7)
 *
 * Client-side only: QoS 2 is not offered (a broker downgrades a QoS 2
 * subscription to what we ask, and a QoS 2 PUBLISH is refused as malformed). */
#ifndef QCAM_MQTT_PROTO_H
#define QCAM_MQTT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} qcam_mqtt_buf;

void qcam_mqtt_buf_free(qcam_mqtt_buf *b);

enum {
    QCAM_MQTT_CONNECT = 1, QCAM_MQTT_CONNACK = 2, QCAM_MQTT_PUBLISH = 3, QCAM_MQTT_PUBACK = 4,
    QCAM_MQTT_SUBSCRIBE = 8, QCAM_MQTT_SUBACK = 9, QCAM_MQTT_UNSUBSCRIBE = 10, QCAM_MQTT_UNSUBACK = 11,
    QCAM_MQTT_PINGREQ = 12, QCAM_MQTT_PINGRESP = 13, QCAM_MQTT_DISCONNECT = 14,
};

#define QCAM_MQTT_DEFAULT_PORT 1883
#define QCAM_MQTT_MAX_PACKET (1u << 20) /* a broker packet longer than this is refused */

typedef struct {
    char host[256];
    int port;
    char user[256], pass[256]; /* "" when not given */
    bool has_pass;
    char masked[600];          /* mqtt://[user:***@]host[:port] */
} qcam_mqtt_url;
/* 0, -EINVAL (not mqtt://, no host, a path, bad port, too long), -ENOTSUP (mqtts://). */
int qcam_mqtt_parse_url(const char *url, qcam_mqtt_url *out);

/* Topic names (no wildcards) and filters ('+' a whole level, '#' the whole
 * last level): 1..65535 bytes of UTF-8 without NUL. */
bool qcam_mqtt_topic_ok(const char *topic, size_t len);
bool qcam_mqtt_filter_ok(const char *filter, size_t len);
/* Does topic match filter (§4.7; '$' topics only by filters starting with '$')? */
bool qcam_mqtt_match(const char *filter, const char *topic);

typedef struct {
    const char *client_id;   /* 1..23 chars are safe with every broker; "" asks the broker (clean only) */
    uint16_t keepalive_s;
    bool clean_session;
    const char *user, *pass; /* NULL: none */
    const char *will_topic;  /* NULL: no will */
    const uint8_t *will_payload;
    size_t will_len;
    int will_qos;
    bool will_retain;
} qcam_mqtt_connect_opts;

void qcam_mqtt_connect(qcam_mqtt_buf *b, const qcam_mqtt_connect_opts *o);
void qcam_mqtt_publish(qcam_mqtt_buf *b, const char *topic, const uint8_t *payload, size_t len, int qos, bool retain,
                       bool dup, uint16_t id);
void qcam_mqtt_puback(qcam_mqtt_buf *b, uint16_t id);
void qcam_mqtt_subscribe(qcam_mqtt_buf *b, uint16_t id, const char *filter, int qos);
void qcam_mqtt_unsubscribe(qcam_mqtt_buf *b, uint16_t id, const char *filter);
void qcam_mqtt_pingreq(qcam_mqtt_buf *b);
void qcam_mqtt_disconnect(qcam_mqtt_buf *b);

typedef struct {
    uint8_t type, flags;
    uint16_t id;                 /* PUBLISH (QoS 1), PUBACK, SUBACK, UNSUBACK */
    /* CONNACK */
    bool session_present;
    uint8_t return_code;         /* 0 accepted, 1..5 refused (qcam_mqtt_connack_reason) */
    /* PUBLISH */
    const uint8_t *topic, *payload; /* pointers into the parsed buffer */
    size_t topic_len, payload_len;
    int qos;
    bool retain, dup;
    /* SUBACK: the first granted QoS (0x80: refused) */
    uint8_t granted;
} qcam_mqtt_packet;

/* One packet at the front of buf[0..len):
 *   > 0: its size (consumed), *pkt filled
 *     0: not all there yet
 *   < 0: -EPROTO (a type a broker does not send, bad flags, a remaining
 *        length over 4 bytes or QCAM_MQTT_MAX_PACKET, a PUBLISH with QoS 2 or 3,
 *        a bad topic, lengths that do not add up). */
int qcam_mqtt_parse(const uint8_t *buf, size_t len, qcam_mqtt_packet *pkt);

/* "unacceptable protocol version", ..., "not authorized". */
const char *qcam_mqtt_connack_reason(uint8_t rc);

#endif
