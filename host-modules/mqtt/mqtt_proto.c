/* MQTT 3.1.1 as pure functions: see mqtt_proto.h. */
#include "mqtt_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../media/neturl.h"

void qcam_mqtt_buf_free(qcam_mqtt_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static bool reserve(qcam_mqtt_buf *b, size_t n)
{
    if (b->oom) return false;
    if (b->len + n <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + n) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void put(qcam_mqtt_buf *b, const void *p, size_t n)
{
    if (!n || !reserve(b, n)) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}
static void put8(qcam_mqtt_buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(qcam_mqtt_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 2);
}
static void put_str(qcam_mqtt_buf *b, const void *s, size_t n)
{
    put16(b, (uint16_t)n);
    put(b, s, n);
}

/* fixed header: type/flags and the remaining length (1..4 bytes) */
static void header(qcam_mqtt_buf *b, uint8_t type, uint8_t flags, size_t remaining)
{
    put8(b, (uint8_t)(type << 4 | flags));
    do {
        uint8_t d = remaining % 128;
        remaining /= 128;
        if (remaining) d |= 0x80;
        put8(b, d);
    } while (remaining);
}

/* ---- URL ------------------------------------------------------------------------------- */

int qcam_mqtt_parse_url(const char *url, qcam_mqtt_url *out)
{
    memset(out, 0, sizeof *out);
    if (!strncmp(url, "mqtts://", 8)) return -ENOTSUP;
    if (strncmp(url, "mqtt://", 7)) return -EINVAL;
    const char *a = url + 7;
    out->port = QCAM_MQTT_DEFAULT_PORT;
    size_t alen = strlen(a);
    if (alen && a[alen - 1] == '/') alen--; /* mqtt://host/ */
    for (size_t i = 0; i < alen; i++)
        if ((unsigned char)a[i] <= ' ' || a[i] == '/' || a[i] == 0x7f || a[i] == '?' || a[i] == '#') return -EINVAL;
    if (qcam_url_authority(a, a + alen, out->user, sizeof out->user, out->pass, sizeof out->pass, &out->has_pass, out->host,
                           sizeof out->host, &out->port) < 0)
        return -EINVAL;
    char hp[300];
    qcam_url_hostport(hp, sizeof hp, out->host, out->port, QCAM_MQTT_DEFAULT_PORT);
    snprintf(out->masked, sizeof out->masked, "mqtt://%s%s", out->user[0] ? "***@" : "", hp);
    return 0;
}

/* ---- topics ----------------------------------------------------------------------------- */

/* UTF-8 well formed, no NUL, no U+D800..DFFF (§1.5.3). */
static bool utf8_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == 0) return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n) return false;
        uint32_t cp = c & (k == 2 ? 0x1F : k == 3 ? 0x0F : 0x07);
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k;
    }
    return true;
}

bool qcam_mqtt_topic_ok(const char *topic, size_t len)
{
    if (len < 1 || len > 65535 || !utf8_ok((const uint8_t *)topic, len)) return false;
    return !memchr(topic, '+', len) && !memchr(topic, '#', len);
}

bool qcam_mqtt_filter_ok(const char *f, size_t len)
{
    if (len < 1 || len > 65535 || !utf8_ok((const uint8_t *)f, len)) return false;
    for (size_t i = 0; i < len; i++) {
        bool start = i == 0 || f[i - 1] == '/';
        bool end = i + 1 == len || f[i + 1] == '/';
        if (f[i] == '+' && !(start && end)) return false;
        if (f[i] == '#' && !(start && i + 1 == len)) return false;
    }
    return true;
}

bool qcam_mqtt_match(const char *f, const char *t)
{
    if (t[0] == '$' && f[0] != '$') return false; /* wildcards do not reach $SYS and the like */
    for (;;) {
        if (f[0] == '#' && f[1] == 0) return true;
        if (f[0] == '+' && (f[1] == '/' || f[1] == 0)) {
            while (*t && *t != '/') t++;
            f++;
        } else {
            while (*f && *f != '/' && *t && *t != '/') {
                if (*f != *t) return false;
                f++;
                t++;
            }
            if ((*f && *f != '/') || (*t && *t != '/')) return false;
        }
        if (!*f && !*t) return true;
        if (*f == '/' && *t == '/') {
            f++;
            t++;
            continue;
        }
        if (*f == '/' && !*t) return f[1] == '#' && f[2] == 0; /* "a/#" matches "a" */
        return false;
    }
}

/* ---- packets out -------------------------------------------------------------------------- */

void qcam_mqtt_connect(qcam_mqtt_buf *b, const qcam_mqtt_connect_opts *o)
{
    size_t cid = strlen(o->client_id);
    size_t rem = 10 + 2 + cid;
    uint8_t flags = o->clean_session ? 0x02 : 0;
    if (o->will_topic) {
        rem += 2 + strlen(o->will_topic) + 2 + o->will_len;
        flags |= 0x04 | (uint8_t)((o->will_qos & 3) << 3) | (o->will_retain ? 0x20 : 0);
    }
    if (o->user) {
        rem += 2 + strlen(o->user);
        flags |= 0x80;
        if (o->pass) {
            rem += 2 + strlen(o->pass);
            flags |= 0x40;
        }
    }
    header(b, QCAM_MQTT_CONNECT, 0, rem);
    put_str(b, "MQTT", 4);
    put8(b, 4); /* protocol level: 3.1.1 */
    put8(b, flags);
    put16(b, o->keepalive_s);
    put_str(b, o->client_id, cid);
    if (o->will_topic) {
        put_str(b, o->will_topic, strlen(o->will_topic));
        put_str(b, o->will_payload, o->will_len);
    }
    if (o->user) {
        put_str(b, o->user, strlen(o->user));
        if (o->pass) put_str(b, o->pass, strlen(o->pass));
    }
}

void qcam_mqtt_publish(qcam_mqtt_buf *b, const char *topic, const uint8_t *payload, size_t len, int qos, bool retain,
                       bool dup, uint16_t id)
{
    size_t tl = strlen(topic);
    header(b, QCAM_MQTT_PUBLISH, (uint8_t)((dup && qos ? 8 : 0) | (qos & 3) << 1 | (retain ? 1 : 0)), 2 + tl + (qos ? 2 : 0) + len);
    put_str(b, topic, tl);
    if (qos) put16(b, id);
    put(b, payload, len);
}

void qcam_mqtt_puback(qcam_mqtt_buf *b, uint16_t id)
{
    header(b, QCAM_MQTT_PUBACK, 0, 2);
    put16(b, id);
}

void qcam_mqtt_subscribe(qcam_mqtt_buf *b, uint16_t id, const char *filter, int qos)
{
    size_t fl = strlen(filter);
    header(b, QCAM_MQTT_SUBSCRIBE, 2, 2 + 2 + fl + 1);
    put16(b, id);
    put_str(b, filter, fl);
    put8(b, (uint8_t)(qos & 3));
}

void qcam_mqtt_unsubscribe(qcam_mqtt_buf *b, uint16_t id, const char *filter)
{
    size_t fl = strlen(filter);
    header(b, QCAM_MQTT_UNSUBSCRIBE, 2, 2 + 2 + fl);
    put16(b, id);
    put_str(b, filter, fl);
}

void qcam_mqtt_pingreq(qcam_mqtt_buf *b) { header(b, QCAM_MQTT_PINGREQ, 0, 0); }
void qcam_mqtt_disconnect(qcam_mqtt_buf *b) { header(b, QCAM_MQTT_DISCONNECT, 0, 0); }

/* ---- packets in ------------------------------------------------------------------------------- */

int qcam_mqtt_parse(const uint8_t *buf, size_t len, qcam_mqtt_packet *pkt)
{
    memset(pkt, 0, sizeof *pkt);
    if (len < 2) return 0;
    size_t rem = 0, pos = 1;
    for (int i = 0;; i++) {
        if (i == 4) return -EPROTO;
        if (pos >= len) return 0;
        uint8_t d = buf[pos++];
        rem |= (size_t)(d & 0x7F) << (7 * i);
        if (!(d & 0x80)) break;
    }
    if (rem > QCAM_MQTT_MAX_PACKET) return -EPROTO;
    if (len - pos < rem) return 0;
    const uint8_t *p = buf + pos;
    size_t total = pos + rem;
    pkt->type = buf[0] >> 4;
    pkt->flags = buf[0] & 0x0F;
    switch (pkt->type) {
    case QCAM_MQTT_CONNACK:
        if (pkt->flags || rem != 2 || (p[0] & 0xFE)) return -EPROTO;
        pkt->session_present = p[0] & 1;
        pkt->return_code = p[1];
        break;
    case QCAM_MQTT_PUBLISH: {
        pkt->qos = (pkt->flags >> 1) & 3;
        if (pkt->qos > 1) return -EPROTO;
        pkt->retain = pkt->flags & 1;
        pkt->dup = pkt->flags & 8;
        if (rem < 2) return -EPROTO;
        size_t tl = (size_t)p[0] << 8 | p[1];
        size_t need = 2 + tl + (pkt->qos ? 2 : 0);
        if (need > rem) return -EPROTO;
        pkt->topic = p + 2;
        pkt->topic_len = tl;
        if (!qcam_mqtt_topic_ok((const char *)pkt->topic, tl)) return -EPROTO;
        if (pkt->qos) {
            pkt->id = (uint16_t)(p[2 + tl] << 8 | p[3 + tl]);
            if (!pkt->id) return -EPROTO;
        }
        pkt->payload = p + need;
        pkt->payload_len = rem - need;
        break;
    }
    case QCAM_MQTT_PUBACK:
    case QCAM_MQTT_UNSUBACK:
        if (pkt->flags || rem != 2) return -EPROTO;
        pkt->id = (uint16_t)(p[0] << 8 | p[1]);
        break;
    case QCAM_MQTT_SUBACK:
        if (pkt->flags || rem < 3) return -EPROTO;
        pkt->id = (uint16_t)(p[0] << 8 | p[1]);
        pkt->granted = p[2];
        for (size_t i = 2; i < rem; i++)
            if (p[i] > 2 && p[i] != 0x80) return -EPROTO;
        break;
    case QCAM_MQTT_PINGRESP:
        if (pkt->flags || rem) return -EPROTO;
        break;
    default: return -EPROTO; /* what only a client sends, or reserved */
    }
    return (int)total;
}

const char *qcam_mqtt_connack_reason(uint8_t rc)
{
    switch (rc) {
    case 0: return "accepted";
    case 1: return "refused: unacceptable protocol version";
    case 2: return "refused: client identifier rejected";
    case 3: return "refused: server unavailable";
    case 4: return "refused: bad user name or password";
    case 5: return "refused: not authorized";
    default: return "refused";
    }
}
