/* The MQTT client's queue and I/O thread (mqtt.h). The protocol is
 * mqtt_proto.c; the thread, the connect and the back-off are the network
 * client core's (../media/netclient.h). POSIX sockets, poll(), one thread. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../media/netclient.h"
#include "mqtt.h"
#include "mqtt_proto.h"

#define DRAIN_MS 2000
#define STALL_MS 5000

const char *qcam_mqtt_state_name(qcam_mqtt_state s)
{
    switch (s) {
    case QCAM_MQTT_CONNECTING: return "connecting";
    case QCAM_MQTT_CONNECTED: return "connected";
    case QCAM_MQTT_WAITING: return "waiting";
    default: return "closed";
    }
}

typedef struct item item;
struct item {
    item *next;
    char *topic;
    uint8_t *payload;
    size_t len;
    int qos;
    bool retain, dup;
    uint16_t id;
};

typedef struct sub sub;
struct sub {
    sub *next;
    char *filter;
    int qos;
    bool sent; /* on this connection */
};

typedef struct unsub unsub;
struct unsub {
    unsub *next;
    char *filter;
};

struct qcam_mqtt_client {
    qcam_mqtt_config cfg;
    qcam_mqtt_url url;
    char client_id[64];
    char *user, *pass, *will_topic;
    uint8_t *will_payload;
    qcam_netclient net; /* its lock guards everything below; its fd is the I/O thread's */

    item *out, *out_tail; /* not sent yet */
    item *inflight;       /* QoS 1 sent, not acknowledged */
    size_t qbytes;
    sub *subs;
    unsub *unsubs;
    uint16_t next_id;
    qcam_mqtt_stats st;

    /* the I/O thread's */
    uint8_t *rbuf;
    size_t rlen, rcap;
    int64_t last_send_us, last_recv_us;
    bool ping_out;
};

static int fail(qcam_mqtt_client *c, int err, const char *fmt, const char *arg)
{
    return qcam_net_fail(&c->net, err, fmt, arg);
}

static void item_free(item *it)
{
    free(it->topic);
    free(it->payload);
    free(it);
}

/* ---- the app's side ------------------------------------------------------------------------- */

static unsigned count_queued(qcam_mqtt_client *c)
{
    unsigned n = 0;
    for (item *it = c->out; it; it = it->next) n++;
    for (item *it = c->inflight; it; it = it->next) n++;
    return n;
}

int qcam_mqtt_pub(qcam_mqtt_client *c, const char *topic, const uint8_t *payload, size_t len, int qos, bool retain)
{
    size_t tl = strlen(topic);
    if (!qcam_mqtt_topic_ok(topic, tl) || qos < 0 || qos > 1) return -EINVAL;
    if (len > (256u << 20) || len + tl > c->cfg.queue_bytes) return -E2BIG;
    item *it = calloc(1, sizeof *it);
    if (!it) return -ENOMEM;
    it->topic = strdup(topic);
    it->payload = malloc(len ? len : 1);
    if (!it->topic || !it->payload) {
        item_free(it);
        return -ENOMEM;
    }
    if (len) memcpy(it->payload, payload, len);
    it->len = len;
    it->qos = qos;
    it->retain = retain;
    pthread_mutex_lock(&c->net.lock);
    while (c->out && c->qbytes + len + tl > c->cfg.queue_bytes) { /* the oldest unsent go first */
        item *old = c->out;
        c->out = old->next;
        if (!c->out) c->out_tail = NULL;
        c->qbytes -= old->len + strlen(old->topic);
        c->st.dropped++;
        item_free(old);
    }
    if (c->out_tail) c->out_tail->next = it;
    else c->out = it;
    c->out_tail = it;
    c->qbytes += len + tl;
    pthread_mutex_unlock(&c->net.lock);
    qcam_net_poke(&c->net);
    return 0;
}

int qcam_mqtt_sub(qcam_mqtt_client *c, const char *filter, int qos)
{
    if (!qcam_mqtt_filter_ok(filter, strlen(filter)) || qos < 0 || qos > 1) return -EINVAL;
    pthread_mutex_lock(&c->net.lock);
    sub *s = c->subs;
    while (s && strcmp(s->filter, filter)) s = s->next;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (s) s->filter = strdup(filter);
        if (!s || !s->filter) {
            if (s) free(s);
            pthread_mutex_unlock(&c->net.lock);
            return -ENOMEM;
        }
        s->next = c->subs;
        c->subs = s;
    }
    s->qos = qos;
    s->sent = false;
    pthread_mutex_unlock(&c->net.lock);
    qcam_net_poke(&c->net);
    return 0;
}

int qcam_mqtt_unsub(qcam_mqtt_client *c, const char *filter)
{
    if (!qcam_mqtt_filter_ok(filter, strlen(filter))) return -EINVAL;
    pthread_mutex_lock(&c->net.lock);
    for (sub **pp = &c->subs; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->filter, filter)) continue;
        sub *s = *pp;
        *pp = s->next;
        bool was_sent = s->sent;
        free(s->filter);
        free(s);
        unsub *u = was_sent ? calloc(1, sizeof *u) : NULL;
        if (u && (u->filter = strdup(filter)) != NULL) {
            u->next = c->unsubs;
            c->unsubs = u;
        } else {
            free(u);
        }
        break;
    }
    pthread_mutex_unlock(&c->net.lock);
    qcam_net_poke(&c->net);
    return 0;
}

void qcam_mqtt_stats_get(qcam_mqtt_client *c, qcam_mqtt_stats *out)
{
    pthread_mutex_lock(&c->net.lock);
    *out = c->st;
    out->state = (qcam_mqtt_state)qcam_net_tally(&c->net, &out->connects, &out->reconnects, &out->last_error, out->last_reason);
    out->queued = count_queued(c);
    pthread_mutex_unlock(&c->net.lock);
}

/* ---- I/O ------------------------------------------------------------------------------------- */

static int handle(qcam_mqtt_client *c, const qcam_mqtt_packet *k);

static int send_all(qcam_mqtt_client *c, const uint8_t *buf, size_t len)
{
    int r = qcam_net_send_all(&c->net, buf, len, STALL_MS, "broker", NULL, NULL);
    if (r == 0) c->last_send_us = qcam_net_now_us();
    return r;
}

static int send_buf(qcam_mqtt_client *c, qcam_mqtt_buf *b)
{
    if (b->oom) {
        qcam_mqtt_buf_free(b);
        return fail(c, -ENOMEM, "out of memory%s", NULL);
    }
    int r = send_all(c, b->p, b->len);
    qcam_mqtt_buf_free(b);
    return r;
}

/* Read what there is and handle whole packets. 0, or < 0 when the connection is finished. */
static int pump_input(qcam_mqtt_client *c)
{
    for (;;) {
        if (c->rcap - c->rlen < 4096) {
            size_t cap = c->rcap ? c->rcap * 2 : 16384;
            if (cap > QCAM_MQTT_MAX_PACKET + 16) cap = QCAM_MQTT_MAX_PACKET + 16;
            if (cap <= c->rlen) return fail(c, -EPROTO, "a packet larger than 1 MiB%s", NULL);
            uint8_t *p = realloc(c->rbuf, cap);
            if (!p) return fail(c, -ENOMEM, "out of memory%s", NULL);
            c->rbuf = p;
            c->rcap = cap;
        }
        ssize_t n = recv(c->net.fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n == 0) return fail(c, -ECONNRESET, "the broker closed the connection%s", NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            if (errno == EINTR) continue;
            return fail(c, -errno, "%s", strerror(errno));
        }
        c->rlen += (size_t)n;
        c->last_recv_us = qcam_net_now_us();
        size_t off = 0;
        for (;;) {
            qcam_mqtt_packet k;
            int r = qcam_mqtt_parse(c->rbuf + off, c->rlen - off, &k);
            if (r < 0) return fail(c, r, "a malformed packet from the broker%s", NULL);
            if (r == 0) break;
            off += (size_t)r;
            int h = handle(c, &k);
            if (h < 0) return h;
        }
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

static int handle(qcam_mqtt_client *c, const qcam_mqtt_packet *k)
{
    switch (k->type) {
    case QCAM_MQTT_PUBLISH: {
        pthread_mutex_lock(&c->net.lock);
        c->st.received++;
        pthread_mutex_unlock(&c->net.lock);
        if (c->cfg.on_message)
            c->cfg.on_message(c->cfg.opaque, (const char *)k->topic, k->topic_len, k->payload, k->payload_len, k->qos, k->retain);
        if (k->qos == 1) {
            qcam_mqtt_buf b = {0};
            qcam_mqtt_puback(&b, k->id);
            return send_buf(c, &b);
        }
        return 0;
    }
    case QCAM_MQTT_PUBACK:
        pthread_mutex_lock(&c->net.lock);
        for (item **pp = &c->inflight; *pp; pp = &(*pp)->next) {
            if ((*pp)->id != k->id) continue;
            item *it = *pp;
            *pp = it->next;
            c->qbytes -= it->len + strlen(it->topic);
            c->st.acked++;
            item_free(it);
            break;
        }
        pthread_mutex_unlock(&c->net.lock);
        return 0;
    case QCAM_MQTT_PINGRESP:
        c->ping_out = false;
        return 0;
    case QCAM_MQTT_CONNACK: return fail(c, -EPROTO, "a second CONNACK%s", NULL);
    default: return 0; /* SUBACK, UNSUBACK */
    }
}

/* TCP, CONNECT, CONNACK. */
static int start_session(void *o)
{
    qcam_mqtt_client *c = o;
    int64_t deadline = qcam_net_now_us() + (int64_t)c->cfg.connect_timeout_ms * 1000;
    int r = qcam_net_connect(&c->net, c->url.host, c->url.port, deadline);
    if (r < 0) return r;
    qcam_mqtt_connect_opts co = {
        .client_id = c->client_id, .keepalive_s = (uint16_t)c->cfg.keepalive_s, .clean_session = c->cfg.clean_session,
        .user = c->user, .pass = c->pass, .will_topic = c->will_topic, .will_payload = c->will_payload,
        .will_len = c->cfg.will_len, .will_qos = c->cfg.will_qos, .will_retain = c->cfg.will_retain,
    };
    qcam_mqtt_buf b = {0};
    qcam_mqtt_connect(&b, &co);
    if ((r = send_buf(c, &b)) < 0) return r;
    for (;;) {
        if (c->rlen) {
            qcam_mqtt_packet k;
            int n = qcam_mqtt_parse(c->rbuf, c->rlen, &k);
            if (n < 0 || (n > 0 && k.type != QCAM_MQTT_CONNACK)) return fail(c, -EPROTO, "no CONNACK from the broker%s", NULL);
            if (n > 0) {
                memmove(c->rbuf, c->rbuf + n, c->rlen - (size_t)n);
                c->rlen -= (size_t)n;
                if (k.return_code)
                    return fail(c, k.return_code == 4 || k.return_code == 5 ? -EACCES : -ECONNREFUSED, "%s",
                                qcam_mqtt_connack_reason(k.return_code));
                return 0;
            }
        }
        int64_t t = qcam_net_now_us();
        if (t >= deadline) return fail(c, -ETIMEDOUT, "no CONNACK from the broker%s", NULL);
        if (qcam_net_stopping(&c->net)) return fail(c, -ECANCELED, "closed%s", NULL);
        if (qcam_net_poll(&c->net, c->net.fd, POLLIN, 100) > 0) {
            /* read without handling: the CONNACK comes first */
            if (c->rcap - c->rlen < 4096) {
                uint8_t *p = realloc(c->rbuf, c->rcap + 16384);
                if (!p) return fail(c, -ENOMEM, "out of memory%s", NULL);
                c->rbuf = p;
                c->rcap += 16384;
            }
            ssize_t n = recv(c->net.fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
            if (n == 0) return fail(c, -ECONNRESET, "the broker closed the connection%s", NULL);
            if (n < 0 && errno != EAGAIN && errno != EINTR) return fail(c, -errno, "%s", strerror(errno));
            if (n > 0) c->rlen += (size_t)n;
        }
    }
}

/* Send what waits: subscriptions, unsubscriptions, publishes. */
static int flush_out(qcam_mqtt_client *c)
{
    for (;;) {
        qcam_mqtt_buf b = {0};
        pthread_mutex_lock(&c->net.lock);
        sub *s = c->subs;
        while (s && s->sent) s = s->next;
        unsub *u = NULL;
        item *it = NULL;
        if (s) {
            s->sent = true;
            if (!++c->next_id) c->next_id = 1;
            qcam_mqtt_subscribe(&b, c->next_id, s->filter, s->qos);
        } else if (c->unsubs) {
            u = c->unsubs;
            c->unsubs = u->next;
            if (!++c->next_id) c->next_id = 1;
            qcam_mqtt_unsubscribe(&b, c->next_id, u->filter);
        } else if (c->out) {
            it = c->out;
            c->out = it->next;
            if (!c->out) c->out_tail = NULL;
            it->next = NULL;
            if (it->qos && !it->id) {
                if (!++c->next_id) c->next_id = 1;
                it->id = c->next_id;
            }
            qcam_mqtt_publish(&b, it->topic, it->payload, it->len, it->qos, it->retain, it->dup, it->id);
            c->st.sent++;
            if (it->qos) { /* kept until PUBACK */
                it->next = c->inflight;
                c->inflight = it;
            } else {
                c->qbytes -= it->len + strlen(it->topic);
            }
        }
        pthread_mutex_unlock(&c->net.lock);
        if (u) {
            free(u->filter);
            free(u);
        }
        if (it && !it->qos) item_free(it);
        if (!b.len && !b.oom) return 0;
        int r = send_buf(c, &b);
        if (r < 0) return r;
    }
}

static int run_session(void *o)
{
    qcam_mqtt_client *c = o;
    int64_t ka = (int64_t)c->cfg.keepalive_s * 1000000;
    c->last_recv_us = qcam_net_now_us();
    c->ping_out = false;
    for (;;) {
        int r = flush_out(c);
        if (r < 0) return r;
        pthread_mutex_lock(&c->net.lock);
        bool done = c->net.stopping && ((!c->out && !c->inflight && !c->unsubs) || qcam_net_now_us() >= c->net.drain_until_us);
        pthread_mutex_unlock(&c->net.lock);
        if (done) {
            qcam_mqtt_buf b = {0};
            qcam_mqtt_disconnect(&b);
            send_buf(c, &b);
            return 0;
        }
        int64_t t = qcam_net_now_us();
        if (c->ping_out && t - c->last_recv_us > ka + ka / 2)
            return fail(c, -ETIMEDOUT, "no answer from the broker (keepalive)%s", NULL);
        if (!c->ping_out && t - c->last_send_us >= ka) {
            qcam_mqtt_buf b = {0};
            qcam_mqtt_pingreq(&b);
            if ((r = send_buf(c, &b)) < 0) return r;
            c->ping_out = true;
        }
        int ev = qcam_net_poll(&c->net, c->net.fd, POLLIN, 200);
        if (ev < 0) return fail(c, ev, "%s", strerror(-ev));
        if (ev > 0) {
            r = pump_input(c);
            if (r < 0) return r;
        }
    }
}

static void end_session(void *o)
{
    qcam_mqtt_client *c = o;
    c->rlen = 0;
    pthread_mutex_lock(&c->net.lock);
    for (sub *s = c->subs; s; s = s->next) s->sent = false;
    while (c->unsubs) { /* a new session (clean) has none of the old subscriptions */
        unsub *u = c->unsubs;
        c->unsubs = u->next;
        free(u->filter);
        free(u);
    }
    /* QoS 1 publishes not acknowledged go again, first, as duplicates */
    item *back = NULL;
    while (c->inflight) {
        item *it = c->inflight;
        c->inflight = it->next;
        it->dup = true;
        it->next = back;
        back = it;
    }
    if (back) {
        item *last = back;
        while (last->next) last = last->next;
        last->next = c->out;
        if (!c->out) c->out_tail = last;
        c->out = back;
    }
    pthread_mutex_unlock(&c->net.lock);
}

static void report(void *o, qcam_net_state s, int err, const char *reason)
{
    qcam_mqtt_client *c = o;
    if (c->cfg.on_state) c->cfg.on_state(c->cfg.opaque, (qcam_mqtt_state)s, err, reason);
}

static const qcam_net_ops mqtt_net = {start_session, run_session, end_session, NULL, report};

/* ---- open / close ------------------------------------------------------------------------------ */

static void free_client(qcam_mqtt_client *c)
{
    for (item *it = c->out, *n; it; it = n) {
        n = it->next;
        item_free(it);
    }
    for (item *it = c->inflight, *n; it; it = n) {
        n = it->next;
        item_free(it);
    }
    for (sub *s = c->subs, *n; s; s = n) {
        n = s->next;
        free(s->filter);
        free(s);
    }
    for (unsub *u = c->unsubs, *n; u; u = n) {
        n = u->next;
        free(u->filter);
        free(u);
    }
    free(c->user);
    free(c->pass);
    free(c->will_topic);
    free(c->will_payload);
    free(c->rbuf);
    free(c);
}

int qcam_mqtt_open(const qcam_mqtt_config *cfg, qcam_mqtt_client **out)
{
    *out = NULL;
    qcam_mqtt_client *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    int r = qcam_mqtt_parse_url(cfg->url, &c->url);
    if (r < 0) {
        free(c);
        return r;
    }
    if (cfg->will_topic && !qcam_mqtt_topic_ok(cfg->will_topic, strlen(cfg->will_topic))) {
        free(c);
        return -EINVAL;
    }
    if (cfg->client_id && strlen(cfg->client_id) >= sizeof c->client_id) {
        free(c);
        return -EINVAL;
    }
    c->cfg = *cfg;
    c->cfg.url = NULL;
    if (!c->cfg.keepalive_s) c->cfg.keepalive_s = 30;
    if (!c->cfg.queue_bytes) c->cfg.queue_bytes = 1u << 20;
    if (!c->cfg.max_backoff_ms) c->cfg.max_backoff_ms = 8000;
    if (!c->cfg.connect_timeout_ms) c->cfg.connect_timeout_ms = 5000;
    if (cfg->client_id) {
        snprintf(c->client_id, sizeof c->client_id, "%s", cfg->client_id);
    } else {
        uint64_t seed = (uint64_t)qcam_net_now_us() ^ (uint64_t)(uintptr_t)c ^ (uint64_t)getpid() << 32;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(c->client_id, sizeof c->client_id, "qcam-%08x", (unsigned)(seed >> 32));
    }
    const char *user = cfg->user ? cfg->user : c->url.user[0] ? c->url.user : NULL;
    const char *pass = cfg->pass ? cfg->pass : c->url.has_pass ? c->url.pass : NULL;
    c->user = user ? strdup(user) : NULL;
    c->pass = pass ? strdup(pass) : NULL;
    c->will_topic = cfg->will_topic ? strdup(cfg->will_topic) : NULL;
    c->will_payload = malloc(cfg->will_len ? cfg->will_len : 1);
    if ((user && !c->user) || (pass && !c->pass) || (cfg->will_topic && !c->will_topic) || !c->will_payload) {
        free_client(c);
        return -ENOMEM;
    }
    if (cfg->will_len) memcpy(c->will_payload, cfg->will_payload, cfg->will_len);
    c->cfg.user = c->cfg.pass = c->cfg.will_topic = NULL;
    c->cfg.will_payload = NULL;
    snprintf(c->st.url, sizeof c->st.url, "%s", c->url.masked);
    snprintf(c->st.client_id, sizeof c->st.client_id, "%s", c->client_id);
    if ((r = qcam_net_start(&c->net, &mqtt_net, c, c->cfg.max_backoff_ms)) < 0) {
        free_client(c);
        return r;
    }
    *out = c;
    return 0;
}

void qcam_mqtt_close(qcam_mqtt_client *c, qcam_mqtt_stats *final)
{
    if (!c) return;
    qcam_net_stop(&c->net, DRAIN_MS);
    pthread_mutex_lock(&c->net.lock);
    c->st.dropped += count_queued(c);
    pthread_mutex_unlock(&c->net.lock);
    if (final) qcam_mqtt_stats_get(c, final);
    if (final) final->queued = 0;
    qcam_net_free(&c->net);
    free_client(c);
}
