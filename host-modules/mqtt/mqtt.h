/* qcam:mqtt — an MQTT 3.1.1 client on a thread of its own.
 *
 * The model: the app publishes, subscribes and unsubscribes; none of these
 * does network I/O — each is queued and the client's I/O thread sends it.
 * The thread connects (CONNECT with the will, credentials, keepalive),
 * sends what is queued, answers the broker (PUBACK for QoS 1 messages it
 * gets, PINGREQ when the line has been quiet for the keepalive), hands every
 * message it receives to `on_message`, and when the connection fails backs
 * off (0.5 s doubling up to max_backoff_ms) and connects again:
 * subscriptions are made again, QoS 1 messages the broker had not
 * acknowledged are sent again (DUP), and what was queued meanwhile goes out.
 *
 * Bounds. The send queue holds at most `queue_bytes` of topics and payloads;
 * a publish that does not fit drops the oldest queued publishes (counted in
 * `dropped`). A broker packet longer than 1 MiB ends the connection.
 *
 * Threads. Every function is safe from any thread. `on_state` and
 * `on_message` are called on the I/O thread (the binding copies and posts to
 * the app's loop); they must not call back into the client.
 *
 * Lifetimes. The client copies what it is given. close() lets queued
 * packets go out (at most 2 s), sends DISCONNECT (so the broker does not
 * publish the will), joins the thread and frees everything.
 *
 * Errors: negative errno. The password never leaves this module except to
 * the broker: stats and reasons carry the masked URL. */
#ifndef QCAM_MQTT_H
#define QCAM_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { QCAM_MQTT_CONNECTING = 0, QCAM_MQTT_CONNECTED, QCAM_MQTT_WAITING, QCAM_MQTT_CLOSED } qcam_mqtt_state;

const char *qcam_mqtt_state_name(qcam_mqtt_state s);

typedef struct {
    const char *url;        /* mqtt://[user[:pass]@]host[:port] */
    const char *client_id;  /* NULL: "qcam-" and 8 random hex digits */
    const char *user, *pass; /* override the URL's (NULL: the URL's) */
    unsigned keepalive_s;   /* 0: 30 */
    bool clean_session;
    const char *will_topic; /* NULL: no will */
    const uint8_t *will_payload;
    size_t will_len;
    int will_qos;
    bool will_retain;
    size_t queue_bytes;     /* 0: 1 MiB */
    unsigned max_backoff_ms; /* 0: 8000 */
    unsigned connect_timeout_ms; /* 0: 5000 */
    void (*on_state)(void *opaque, qcam_mqtt_state state, int err, const char *reason);
    void (*on_message)(void *opaque, const char *topic, size_t topic_len, const uint8_t *payload, size_t len, int qos,
                       bool retain);
    void *opaque;
} qcam_mqtt_config;

typedef struct {
    qcam_mqtt_state state;
    uint64_t sent;          /* PUBLISH packets sent (resends included) */
    uint64_t acked;         /* QoS 1 publishes the broker acknowledged */
    uint64_t received;      /* PUBLISH packets received */
    uint64_t dropped;       /* publishes dropped from a full queue or at close */
    uint64_t connects, reconnects;
    unsigned queued;        /* publishes waiting (not sent, or sent and not acknowledged) */
    int last_error;
    char last_reason[128];
    char url[600];          /* masked */
    char client_id[64];
} qcam_mqtt_stats;

typedef struct qcam_mqtt_client qcam_mqtt_client;

/* -EINVAL (URL, will topic, client id over 23... 64 bytes), -ENOTSUP (mqtts://), -ENOMEM, -EAGAIN. */
int qcam_mqtt_open(const qcam_mqtt_config *cfg, qcam_mqtt_client **out);
/* Queue a publish. 0, -EINVAL (topic), -E2BIG (payload over 256 MiB or the queue). */
int qcam_mqtt_pub(qcam_mqtt_client *c, const char *topic, const uint8_t *payload, size_t len, int qos, bool retain);
/* Add / remove a subscription (kept across reconnects). 0, -EINVAL (filter), -ENOMEM. */
int qcam_mqtt_sub(qcam_mqtt_client *c, const char *filter, int qos);
int qcam_mqtt_unsub(qcam_mqtt_client *c, const char *filter);
void qcam_mqtt_stats_get(qcam_mqtt_client *c, qcam_mqtt_stats *out);
void qcam_mqtt_close(qcam_mqtt_client *c, qcam_mqtt_stats *final);

#endif
