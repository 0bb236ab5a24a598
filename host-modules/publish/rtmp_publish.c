/* The publisher core (pub_core.h: the bounded queue, the stats; shared
 * with RTSP, rtsp_push.c; the I/O thread, the reconnect and the connect are
 * ../media/netclient.c's) and the RTMP session (publish.h). The RTMP
 * protocol itself is rtmp_proto.c. POSIX sockets, poll(), one thread. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../video/annexb.h"
#include "../video/sps.h"
#include "pub_core.h"

#define OUT_CHUNK 4096

const char *qcam_pub_state_name(qcam_pub_state s)
{
    switch (s) {
    case QCAM_PUB_CONNECTING: return "connecting";
    case QCAM_PUB_PUBLISHING: return "publishing";
    case QCAM_PUB_WAITING: return "waiting";
    default: return "closed";
    }
}

/* ---- the queue (lock held) -------------------------------------------------------------- */

static void drop_queue_locked(qcam_rtmp_publisher *p)
{
    while (p->count) {
        qcam_packet *k = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->qbytes -= k->size;
        p->st.dropped++;
        qcam_packet_unref(k);
    }
    if (p->cfg.video) p->need_key = true;
}

static qcam_packet *pop(qcam_rtmp_publisher *p)
{
    pthread_mutex_lock(&p->net.lock);
    qcam_packet *k = NULL;
    if (p->count) {
        k = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->qbytes -= k->size;
    }
    pthread_mutex_unlock(&p->net.lock);
    return k;
}

/* ---- the sink ------------------------------------------------------------------------------- */

static void learn_params(qcam_rtmp_publisher *p, const qcam_packet *pkt)
{
    qcam_annexb_params ps;
    qcam_annexb_find_params(pkt->codec, pkt->data, pkt->size, &ps);
    if (!ps.sps || !ps.pps || (pkt->codec == QCAM_CODEC_H265 && !ps.vps)) return;
    const uint8_t *src[3] = {ps.vps, ps.sps, ps.pps};
    size_t len[3] = {ps.vps_len, ps.sps_len, ps.pps_len};
    pthread_mutex_lock(&p->net.lock);
    bool same = p->params[1] != NULL;
    for (int i = 0; i < 3 && same; i++)
        if (len[i] != p->params_len[i] || (len[i] && memcmp(src[i], p->params[i], len[i]))) same = false;
    if (!same) {
        for (int i = 0; i < 3; i++) {
            free(p->params[i]);
            p->params[i] = len[i] ? malloc(len[i]) : NULL;
            p->params_len[i] = p->params[i] ? len[i] : 0;
            if (p->params[i]) memcpy(p->params[i], src[i], len[i]);
        }
        p->params_version++;
    }
    pthread_mutex_unlock(&p->net.lock);
    if (!same) qcam_net_poke(&p->net); /* RTSP waits for them to describe the stream */
}

int qcam_rtmp_write(qcam_rtmp_publisher *p, qcam_packet *pkt)
{
    bool video = !QCAM_CODEC_IS_AUDIO(pkt->codec);
    if (video ? pkt->codec != p->cfg.video : pkt->codec != p->cfg.audio) return -EINVAL;
    if (video && (pkt->type == QCAM_PKT_HEADER || pkt->keyframe)) learn_params(p, pkt);
    if (video && pkt->type == QCAM_PKT_HEADER) return 0; /* parameter sets alone: learnt */
    pthread_mutex_lock(&p->net.lock);
    bool wake = false;
    bool taking = p->net.state == QCAM_NET_UP || (p->net.state == QCAM_NET_CONNECTING && p->proto->queue_connecting);
    if (p->net.stopping || !taking) {
        p->st.dropped++;
        if (p->cfg.video) p->need_key = true;
    } else if (video && p->need_key && !pkt->keyframe) {
        p->st.dropped++;
    } else {
        if (p->count == p->cap || p->qbytes + pkt->size > p->cfg.queue_bytes) {
            drop_queue_locked(p); /* the server is not keeping up: drop whole GOPs */
            if (video && !pkt->keyframe) {
                p->st.dropped++;
                pthread_mutex_unlock(&p->net.lock);
                return 0;
            }
        }
        if (video) p->need_key = false;
        if (pkt->size <= p->cfg.queue_bytes) {
            p->ring[(p->head + p->count) % p->cap] = qcam_packet_ref(pkt);
            p->count++;
            p->qbytes += pkt->size;
            wake = p->count == 1;
        } else {
            p->st.dropped++;
        }
    }
    pthread_mutex_unlock(&p->net.lock);
    if (wake) qcam_net_poke(&p->net);
    return 0;
}

static int sink_write(qcam_sink *sink, qcam_packet *pkt) { return qcam_rtmp_write((qcam_rtmp_publisher *)sink, pkt); }
static int sink_flush(qcam_sink *sink)
{
    (void)sink;
    return 0;
}
static const qcam_sink_ops rtmp_ops = {"rtmp", sink_write, sink_flush};
static const qcam_sink_ops rtsp_ops = {"rtsp", sink_write, sink_flush};

qcam_sink *qcam_rtmp_sink(qcam_rtmp_publisher *p) { return &p->base; }

void qcam_rtmp_stats_get(qcam_rtmp_publisher *p, qcam_rtmp_stats *out)
{
    pthread_mutex_lock(&p->net.lock);
    *out = p->st;
    out->state = (qcam_pub_state)qcam_net_tally(&p->net, &out->connects, &out->reconnects, &out->last_error, out->last_reason);
    out->queue_packets = p->count;
    out->queue_bytes = p->qbytes;
    pthread_mutex_unlock(&p->net.lock);
}

/* ---- I/O -------------------------------------------------------------------------------------- */

static int handle_message(qcam_rtmp_publisher *p, const qcam_rtmp_message *m);

/* Read what the socket has and handle the messages in it. 0, or < 0 when
 * the connection is finished. */
int pub_pump_input(qcam_rtmp_publisher *p)
{
    for (;;) {
        ssize_t n = recv(p->net.fd, p->rbuf + p->rlen, sizeof p->rbuf - p->rlen, 0);
        if (n == 0) return pub_fail(p, -ECONNRESET, "the server closed the connection%s", p->phase);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            if (errno == EINTR) continue;
            return pub_fail(p, -errno, "%s", strerror(errno));
        }
        p->rlen += (size_t)n;
        size_t off = 0;
        int r = p->proto->input(p, &off);
        memmove(p->rbuf, p->rbuf + off, p->rlen - off);
        p->rlen -= off;
        if (r < 0) return r;
        if (p->rlen == sizeof p->rbuf) return pub_fail(p, -EPROTO, "a message larger than the read buffer%s", NULL);
    }
}

/* RTMP: the chunks in p->rbuf */
static int rtmp_input(qcam_rtmp_publisher *p, size_t *consumed)
{
    size_t off = 0;
    for (;;) {
        qcam_rtmp_message m;
        int got = 0;
        int r = qcam_rtmp_reader_feed(&p->reader, p->rbuf + off, p->rlen - off, &m, &got);
        if (r < 0) return pub_fail(p, r, "bad chunk from the server%s", NULL);
        if (r == 0) break;
        off += (size_t)r;
        *consumed = off;
        if (got) {
            int h = handle_message(p, &m);
            if (h < 0) return h;
        }
    }
    return 0;
}

static int pump(void *o) { return pub_pump_input(o); }

/* Send everything, reading the server meanwhile. Progress must come within
 * send_timeout_ms; while draining at close, before drain_until. */
int pub_send_all(qcam_rtmp_publisher *p, const uint8_t *buf, size_t len)
{
    return qcam_net_send_all(&p->net, buf, len, p->cfg.send_timeout_ms, "server", pump, &p->st.bytes_sent);
}

int pub_send_buf(qcam_rtmp_publisher *p, qcam_rtmp_buf *b)
{
    if (b->oom) {
        qcam_rtmp_buf_free(b);
        return pub_fail(p, -ENOMEM, "out of memory%s", NULL);
    }
    int r = pub_send_all(p, b->p, b->len);
    qcam_rtmp_buf_free(b);
    return r;
}

static int handle_message(qcam_rtmp_publisher *p, const qcam_rtmp_message *m)
{
    if (m->type == QCAM_RTMP_WINDOW_ACK && m->len >= 4) {
        p->window = (uint32_t)m->payload[0] << 24 | (uint32_t)m->payload[1] << 16 | (uint32_t)m->payload[2] << 8 | m->payload[3];
    } else if (m->type == QCAM_RTMP_USER_CONTROL && m->len >= 6 && m->payload[0] == 0 && m->payload[1] == 6) {
        qcam_rtmp_buf b = {0};
        uint32_t t = (uint32_t)m->payload[2] << 24 | (uint32_t)m->payload[3] << 16 | (uint32_t)m->payload[4] << 8 | m->payload[5];
        qcam_rtmp_pong(&b, t);
        int r = pub_send_buf(p, &b);
        if (r < 0) return r;
    } else if (m->type == QCAM_RTMP_COMMAND_AMF0) {
        qcam_rtmp_command c;
        if (qcam_rtmp_parse_command(m->payload, m->len, &c) < 0) return pub_fail(p, -EPROTO, "bad command from the server%s", NULL);
        if (!strcmp(c.name, "onStatus") && !strcmp(c.level, "error"))
            return pub_fail(p, strstr(c.code, "BadName") ? -EADDRINUSE : -EACCES, "%s", c.code[0] ? c.code : "onStatus error");
        bool txn_ok = p->want_txn < 0 || c.txn == p->want_txn;
        if (!strcmp(c.name, "_error") && p->want_txn >= 0 && c.txn == p->want_txn)
            return pub_fail(p, -EACCES, "%s", c.code[0] ? c.code : c.description[0] ? c.description : "refused");
        if (!p->matched && ((p->want_name && !strcmp(c.name, p->want_name) && txn_ok) ||
                            (p->want_code && !strcmp(c.code, p->want_code)))) {
            p->matched = true;
            p->last_cmd = c;
        }
    }
    if (p->window && p->reader.bytes - p->acked >= p->window / 2) {
        p->acked = p->reader.bytes;
        qcam_rtmp_buf b = {0};
        qcam_rtmp_ack(&b, (uint32_t)p->reader.bytes);
        return pub_send_buf(p, &b);
    }
    return 0;
}

/* Wait for a command from the server: `name` with transaction `txn` (< 0:
 * any), or an onStatus with `code`. An _error for `txn` fails. */
static int wait_command(qcam_rtmp_publisher *p, int64_t deadline, const char *name, double txn, const char *code)
{
    p->want_name = name;
    p->want_txn = txn;
    p->want_code = code;
    p->matched = false;
    for (;;) {
        if (p->matched) {
            p->want_name = p->want_code = NULL;
            return 0;
        }
        int64_t t = qcam_net_now_us();
        if (t >= deadline) return pub_fail(p, -ETIMEDOUT, "no answer from the server%s", NULL);
        if (qcam_net_stopping(&p->net)) return pub_fail(p, -ECANCELED, "closed%s", NULL);
        int ms = (int)((deadline - t) / 1000) + 1;
        int ev = qcam_net_poll(&p->net, p->net.fd, POLLIN, ms > 100 ? 100 : ms);
        if (ev < 0) return pub_fail(p, ev, "%s", strerror(-ev));
        if (ev > 0) {
            int e = pub_pump_input(p);
            if (e < 0) return e;
        }
    }
}

static int read_exact(qcam_rtmp_publisher *p, uint8_t *buf, size_t len, int64_t deadline)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = recv(p->net.fd, buf + off, len - off, 0);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n == 0) return pub_fail(p, -ECONNRESET, "the server closed the connection%s", p->phase);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return pub_fail(p, -errno, "%s", strerror(errno));
        int64_t t = qcam_net_now_us();
        if (t >= deadline) return pub_fail(p, -ETIMEDOUT, "no handshake from the server%s", NULL);
        if (qcam_net_stopping(&p->net)) return pub_fail(p, -ECANCELED, "closed%s", NULL);
        qcam_net_poll(&p->net, p->net.fd, POLLIN, 100);
    }
    return 0;
}

/* Connect, handshake, connect/createStream/publish. 0 when publishing. */
static int rtmp_start(qcam_rtmp_publisher *p)
{
    int64_t deadline = qcam_net_now_us() + (int64_t)p->cfg.connect_timeout_ms * 1000;
    p->phase = " (connecting)";
    int r = qcam_net_connect(&p->net, p->url.host, p->url.port, deadline);
    if (r < 0) return r;
    uint8_t c0c1[1 + QCAM_RTMP_HANDSHAKE], s0s1[1 + QCAM_RTMP_HANDSHAKE], c2[QCAM_RTMP_HANDSHAKE];
    uint8_t rnd[64];
    uint64_t seed = (uint64_t)qcam_net_now_us() ^ (uint64_t)(uintptr_t)p;
    for (size_t i = 0; i < sizeof rnd; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        rnd[i] = (uint8_t)(seed >> 56);
    }
    p->phase = " (handshake)";
    qcam_rtmp_c0c1(c0c1, 0, rnd, sizeof rnd);
    if ((r = pub_send_all(p, c0c1, sizeof c0c1)) < 0) return r;
    if ((r = read_exact(p, s0s1, sizeof s0s1, deadline)) < 0) return r;
    if (qcam_rtmp_c2(s0s1, 0, c2) < 0) return pub_fail(p, -EPROTO, "not an RTMP server (handshake version)%s", NULL);
    if ((r = pub_send_all(p, c2, sizeof c2)) < 0) return r;
    if ((r = read_exact(p, c0c1 + 1, QCAM_RTMP_HANDSHAKE, deadline)) < 0) return r; /* S2: not checked */

    qcam_rtmp_buf b = {0};
    p->phase = " (connect: app refused?)";
    qcam_rtmp_set_chunk_size(&b, OUT_CHUNK);
    qcam_rtmp_cmd_connect(&b, &p->url, p->cfg.video == QCAM_CODEC_H265, OUT_CHUNK);
    if ((r = pub_send_buf(p, &b)) < 0) return r;
    if ((r = wait_command(p, deadline, "_result", 1, NULL)) < 0) return r;
    p->phase = " (createStream)";
    qcam_rtmp_window_ack(&b, 2500000);
    qcam_rtmp_cmd_simple(&b, "releaseStream", 2, p->url.stream, OUT_CHUNK);
    qcam_rtmp_cmd_simple(&b, "FCPublish", 3, p->url.stream, OUT_CHUNK);
    qcam_rtmp_cmd_simple(&b, "createStream", 4, NULL, OUT_CHUNK);
    if ((r = pub_send_buf(p, &b)) < 0) return r;
    if ((r = wait_command(p, deadline, "_result", 4, NULL)) < 0) return r;
    if (!p->last_cmd.has_number || !(p->last_cmd.number >= 1 && p->last_cmd.number < 1e9))
        return pub_fail(p, -EPROTO, "createStream gave no stream id%s", NULL);
    p->msid = (uint32_t)p->last_cmd.number;
    p->phase = " (publish: stream refused?)";
    qcam_rtmp_cmd_publish(&b, p->msid, 5, p->url.stream, OUT_CHUNK);
    if ((r = pub_send_buf(p, &b)) < 0) return r;
    if ((r = wait_command(p, deadline, NULL, -1, "NetStream.Publish.Start")) < 0) return r;
    qcam_rtmp_meta meta = {p->cfg.video, p->cfg.width, p->cfg.height, p->cfg.fps, p->cfg.audio};
    qcam_rtmp_cmd_metadata(&b, p->msid, &meta, OUT_CHUNK);
    return pub_send_buf(p, &b);
}

static uint32_t rtmp_time(qcam_rtmp_publisher *p, int64_t pts_us)
{
    if (!p->have_t0) {
        p->have_t0 = true;
        p->t0_us = pts_us;
    }
    int64_t ms = (pts_us - p->t0_us) / 1000;
    return ms < 0 ? 0 : (uint32_t)ms;
}

static int rtmp_send(qcam_rtmp_publisher *p, qcam_packet *k)
{
    qcam_rtmp_buf body = {0}, out = {0};
    uint32_t ts = rtmp_time(p, k->pts_us);
    bool video = !QCAM_CODEC_IS_AUDIO(k->codec);
    if (video) {
        pthread_mutex_lock(&p->net.lock);
        unsigned version = p->params_version;
        bool need = !p->sent_config || version != p->sent_params_version;
        uint8_t *config = NULL;
        size_t config_len = 0;
        int cr = 0;
        if (need && p->params[1])
            cr = qcam_sps_make_config(k->codec, p->params[0], p->params_len[0], p->params[1], p->params_len[1],
                                      p->params[2], p->params_len[2], &config, &config_len, NULL);
        pthread_mutex_unlock(&p->net.lock);
        if (need) {
            if (!config || !k->keyframe) { /* nothing to start a decoder with yet */
                free(config);
                pthread_mutex_lock(&p->net.lock);
                p->st.dropped++;
                pthread_mutex_unlock(&p->net.lock);
                return cr == -ENOMEM ? pub_fail(p, -ENOMEM, "out of memory%s", NULL) : 0;
            }
            qcam_flv_video_config(&body, k->codec, config, config_len);
            free(config);
            qcam_rtmp_chunk_message(&out, QCAM_RTMP_CS_VIDEO, QCAM_RTMP_VIDEO, p->msid, ts, body.p, body.len, OUT_CHUNK);
            if (body.oom) out.oom = true;
            qcam_rtmp_buf_free(&body);
            p->sent_config = true;
            p->sent_params_version = version;
        }
        if (qcam_flv_video_frame(&body, k->codec, k->keyframe, k->data, k->size) == 0) {
            qcam_rtmp_buf_free(&body);
            return pub_send_buf(p, &out);
        }
        qcam_rtmp_chunk_message(&out, QCAM_RTMP_CS_VIDEO, QCAM_RTMP_VIDEO, p->msid, ts, body.p, body.len, OUT_CHUNK);
    } else {
        qcam_flv_audio(&body, k->codec, k->data, k->size);
        qcam_rtmp_chunk_message(&out, QCAM_RTMP_CS_AUDIO, QCAM_RTMP_AUDIO, p->msid, ts, body.p, body.len, OUT_CHUNK);
    }
    if (body.oom) out.oom = true;
    qcam_rtmp_buf_free(&body);
    int r = pub_send_buf(p, &out);
    if (r == 0) {
        pthread_mutex_lock(&p->net.lock);
        p->st.frames_sent++;
        if (video) p->st.video_sent++;
        else p->st.audio_sent++;
        pthread_mutex_unlock(&p->net.lock);
    }
    return r;
}

/* Publishing: send what is queued, answer the server. Returns when the
 * connection fails (< 0) or close() has drained the queue (0). */
static void rtmp_stop(qcam_rtmp_publisher *p)
{
    qcam_rtmp_buf b = {0};
    qcam_rtmp_cmd_simple(&b, "FCUnpublish", 6, p->url.stream, OUT_CHUNK);
    qcam_rtmp_cmd_delete_stream(&b, p->msid, 7, OUT_CHUNK);
    pub_send_buf(p, &b);
}

static int run_session(void *o)
{
    qcam_rtmp_publisher *p = o;
    int64_t last_tick = qcam_net_now_us();
    for (;;) {
        qcam_packet *k;
        while ((k = pop(p)) != NULL) {
            int r = p->proto->send(p, k);
            qcam_packet_unref(k);
            if (r < 0) { /* this one did not get out (whole): counted with the drops */
                pthread_mutex_lock(&p->net.lock);
                p->st.dropped++;
                pthread_mutex_unlock(&p->net.lock);
                return r;
            }
        }
        pthread_mutex_lock(&p->net.lock);
        bool stop = p->net.stopping && (p->count == 0 || qcam_net_now_us() >= p->net.drain_until_us);
        pthread_mutex_unlock(&p->net.lock);
        if (stop) {
            p->proto->stop(p);
            return 0;
        }
        int64_t t = qcam_net_now_us();
        if (p->proto->tick && t - last_tick >= 1000000) {
            last_tick = t;
            int e = p->proto->tick(p);
            if (e < 0) return e;
        }
        int ev = qcam_net_poll(&p->net, p->net.fd, POLLIN, p->proto->tick ? 500 : 1000);
        if (ev < 0) return pub_fail(p, ev, "%s", strerror(-ev));
        if (ev > 0) {
            int e = pub_pump_input(p);
            if (e < 0) return e;
        }
    }
}

static void rtmp_end(qcam_rtmp_publisher *p)
{
    qcam_rtmp_reader_free(&p->reader);
    p->rlen = 0;
    p->window = 0;
    p->acked = 0;
    p->want_name = p->want_code = NULL;
    p->matched = false;
    p->sent_config = false;
    p->msid = 0;
}

static void rtmp_free(qcam_rtmp_publisher *p) { qcam_rtmp_reader_free(&p->reader); }

static const pub_proto rtmp_proto = {"rtmp", false, rtmp_start, rtmp_send, rtmp_stop, rtmp_input, rtmp_end, NULL, rtmp_free};

/* ---- the thread (../media/netclient.h) --------------------------------------------------------- */

static int start_session(void *o)
{
    qcam_rtmp_publisher *p = o;
    int r = p->proto->start(p);
    if (r == 0) p->phase = "";
    return r;
}

static void end_session(void *o)
{
    qcam_rtmp_publisher *p = o;
    p->rlen = 0;
    p->proto->end(p);
}

/* The queue is dropped when the publication is not going (nor about to). */
static void entered(void *o, qcam_net_state s)
{
    qcam_rtmp_publisher *p = o;
    if (s != QCAM_NET_UP && s != QCAM_NET_CLOSED && !(s == QCAM_NET_CONNECTING && p->proto->queue_connecting))
        drop_queue_locked(p);
}

static void report(void *o, qcam_net_state s, int err, const char *reason)
{
    qcam_rtmp_publisher *p = o;
    if (p->cfg.on_state) p->cfg.on_state(p->cfg.opaque, (qcam_pub_state)s, err, reason);
}

static const qcam_net_ops pub_net = {start_session, run_session, end_session, entered, report};

/* ---- open / close ---------------------------------------------------------------------------- */

static int rtmp_init(qcam_rtmp_publisher *p, const char *url)
{
    int r = qcam_rtmp_parse_url(url, &p->url);
    if (r < 0) return r;
    qcam_rtmp_reader_init(&p->reader);
    snprintf(p->st.url, sizeof p->st.url, "%s", p->url.masked);
    return 0;
}

int qcam_rtmp_open(const qcam_rtmp_config *cfg, qcam_rtmp_publisher **out)
{
    return pub_open(cfg, &rtmp_proto, rtmp_init, out);
}

int pub_open(const qcam_rtmp_config *cfg, const pub_proto *proto, int (*init)(qcam_rtmp_publisher *p, const char *url),
             qcam_rtmp_publisher **out)
{
    *out = NULL;
    if (cfg->video && cfg->video != QCAM_CODEC_H264 && cfg->video != QCAM_CODEC_H265) return -EINVAL;
    if (cfg->audio && cfg->audio != QCAM_CODEC_ALAW && cfg->audio != QCAM_CODEC_ULAW) return -ENOTSUP;
    if (!cfg->video && !cfg->audio) return -EINVAL;
    qcam_rtmp_publisher *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->proto = proto;
    p->cfg = *cfg;
    p->cfg.url = NULL;
    int r = init(p, cfg->url);
    if (r < 0) {
        if (proto->free) proto->free(p);
        free(p);
        return r;
    }
    p->cfg = *cfg;
    p->cfg.url = NULL;
    if (!p->cfg.queue_bytes) p->cfg.queue_bytes = 4u << 20;
    if (!p->cfg.queue_packets) p->cfg.queue_packets = 512;
    if (!p->cfg.connect_timeout_ms) p->cfg.connect_timeout_ms = 5000;
    if (!p->cfg.send_timeout_ms) p->cfg.send_timeout_ms = 5000;
    if (!p->cfg.max_backoff_ms) p->cfg.max_backoff_ms = 8000;
    if (!p->cfg.drain_ms) p->cfg.drain_ms = 2000;
    p->cap = p->cfg.queue_packets;
    p->ring = calloc(p->cap, sizeof *p->ring);
    if (!p->ring) {
        proto->free(p);
        free(p);
        return -ENOMEM;
    }
    p->need_key = cfg->video != 0;
    p->base.ops = !strcmp(proto->kind, "rtsp") ? &rtsp_ops : &rtmp_ops;
    if ((r = qcam_net_start(&p->net, &pub_net, p, p->cfg.max_backoff_ms)) < 0) {
        free(p->ring);
        proto->free(p);
        free(p);
        return r;
    }
    *out = p;
    return 0;
}

void qcam_rtmp_close(qcam_rtmp_publisher *p, qcam_rtmp_stats *final)
{
    if (!p) return;
    qcam_net_stop(&p->net, p->cfg.drain_ms);
    pthread_mutex_lock(&p->net.lock);
    drop_queue_locked(p);
    pthread_mutex_unlock(&p->net.lock);
    if (final) qcam_rtmp_stats_get(p, final);
    for (int i = 0; i < 3; i++) free(p->params[i]);
    p->proto->free(p);
    qcam_net_free(&p->net);
    free(p->ring);
    free(p);
}
