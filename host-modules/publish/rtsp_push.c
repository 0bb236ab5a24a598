/* The RTSP publisher's session (publish.h, qcam_rtsp_push_open): ANNOUNCE
 * with the stream's SDP, SETUP per track with TCP interleaved transport and
 * mode=record, RECORD, then RTP packets (RFC 6184 / RFC 7798 / PCMA/PCMU)
 * as '$' frames on the same connection; OPTIONS as keep-alive; TEARDOWN at
 * close. Basic or Digest when the server asks (401). The queue, the thread
 * and the reconnect are the publisher core's (pub_core.h); the protocol
 * pieces are rtsp_push_proto.c and ../rtsp/rtsp_proto.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../rtsp/rtsp_proto.h"
#include "../video/annexb.h"
#include "pub_core.h"
#include "rtsp_push_proto.h"

#define RTP_MTU 1400

struct rtsp_push {
    qcam_rtsp_push_url url;
    int cseq;
    char session[128];
    unsigned timeout;
    qcam_rtsp_challenge chal;
    bool have_chal;
    unsigned nc;
    char cnonce[17];
    /* the reply waited for */
    int want_cseq;
    bool got;
    qcam_rtsp_push_reply reply;
    qcam_rtp_stream rtp[2]; /* video, audio */
    uint32_t rtp_base[2];
    int64_t last_keepalive;
    qcam_rtmp_buf out;
    int cur_ch; /* the interleaved channel of the packets being made */
    bool closing; /* TEARDOWN sent at close(): its reply is worth a short wait */
};

/* ---- requests --------------------------------------------------------------------------------- */

static int rtsp_input(qcam_rtmp_publisher *p, size_t *consumed)
{
    struct rtsp_push *s = p->rtsp;
    size_t off = 0;
    while (off < p->rlen) {
        uint8_t ch;
        const uint8_t *pl;
        size_t pl_len, used;
        int k = qcam_rtsp_next_interleaved(p->rbuf + off, p->rlen - off, &ch, &pl, &pl_len, &used);
        if (k == 0) break;
        if (k == 1) { /* RTCP receiver reports: nothing to do with them */
            off += used;
            *consumed = off;
            continue;
        }
        qcam_rtsp_push_reply r;
        int n = qcam_rtsp_push_parse_reply(p->rbuf + off, p->rlen - off, &r);
        if (n < 0) return pub_fail(p, -EPROTO, "not an RTSP reply from the server%s", p->phase);
        if (n == 0) break;
        off += (size_t)n;
        *consumed = off;
        if (r.cseq == s->want_cseq && !s->got) {
            s->reply = r;
            s->got = true;
        }
    }
    return 0;
}

/* Wait for the reply to want_cseq. */
static int wait_reply(qcam_rtmp_publisher *p, int64_t deadline)
{
    struct rtsp_push *s = p->rtsp;
    for (;;) {
        if (s->got) return 0;
        int64_t t = qcam_net_now_us();
        if (t >= deadline) return pub_fail(p, -ETIMEDOUT, "no answer from the server%s", p->phase);
        if (!s->closing && qcam_net_stopping(&p->net)) return pub_fail(p, -ECANCELED, "closed%s", NULL);
        int ms = (int)((deadline - t) / 1000) + 1;
        int ev = qcam_net_poll(&p->net, p->net.fd, POLLIN, ms > 100 ? 100 : ms);
        if (ev < 0) return pub_fail(p, ev, "%s", strerror(-ev));
        if (ev > 0) {
            int e = pub_pump_input(p);
            if (e < 0) return e;
        }
    }
}

/* Send a request (with Session and Authorization when known). */
static int send_request(qcam_rtmp_publisher *p, const char *method, const char *uri, const char *extra,
                        const char *body, size_t body_len)
{
    struct rtsp_push *s = p->rtsp;
    char auth[1200] = "", session[160] = "";
    if (s->have_chal) {
        s->nc++;
        if (qcam_rtsp_authorization(auth, sizeof auth, &s->chal, s->url.user, s->url.pass, method, uri, s->nc,
                                    s->cnonce) < 0)
            return pub_fail(p, -EINVAL, "credentials too long%s", NULL);
    }
    if (s->session[0]) snprintf(session, sizeof session, "Session: %s\r\n", s->session);
    s->want_cseq = ++s->cseq;
    s->got = false;
    char head[2600], clen[40] = "";
    if (body) snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", body_len);
    int n = snprintf(head, sizeof head, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: qcam\r\n%s%s%s%s\r\n", method, uri,
                     s->cseq, session, auth, extra ? extra : "", clen);
    if (n < 0 || (size_t)n >= sizeof head) return pub_fail(p, -EINVAL, "request too long%s", NULL);
    qcam_rtmp_buf b = {0};
    qcam_rtmp_put(&b, head, (size_t)n);
    if (body) qcam_rtmp_put(&b, body, body_len);
    return pub_send_buf(p, &b);
}

/* A request and its reply's status, answering one 401 with the URL's credentials. */
static int request(qcam_rtmp_publisher *p, const char *method, const char *uri, const char *extra, const char *body,
                   size_t body_len, int64_t deadline)
{
    struct rtsp_push *s = p->rtsp;
    for (int attempt = 0;; attempt++) {
        int r = send_request(p, method, uri, extra, body, body_len);
        if (r < 0) return r;
        if ((r = wait_reply(p, deadline)) < 0) return r;
        if (s->reply.code != 401) return s->reply.code;
        if (!s->url.user[0]) return pub_fail(p, -EACCES, "401 Unauthorized: the server wants credentials%s", p->phase);
        /* once more only for a Digest nonce the server calls stale, and not forever */
        if (attempt > 0 && (attempt > 2 || !(s->chal.digest && strstr(s->reply.auth[0], "stale="))))
            return pub_fail(p, -EACCES, "401 Unauthorized: wrong user or password%s", p->phase);
        /* prefer Digest when both are offered */
        int pick = -1;
        for (int i = 0; i < 2; i++) {
            qcam_rtsp_challenge c;
            if (s->reply.auth[i][0] && qcam_rtsp_parse_challenge(s->reply.auth[i], &c) == 0 && (pick < 0 || c.digest)) {
                s->chal = c;
                pick = i;
            }
        }
        if (pick < 0) return pub_fail(p, -EACCES, "401 Unauthorized: no authentication scheme we speak%s", p->phase);
        s->have_chal = true;
        s->nc = 0;
    }
}

static int status_fail(qcam_rtmp_publisher *p, const char *method, int code)
{
    char msg[96];
    snprintf(msg, sizeof msg, "%s: %d %s", method, code, qcam_rtsp_reason(code));
    int err = code == 401 || code == 403 ? -EACCES : code == 404 ? -ENOENT : code == 453 || code == 503 ? -EBUSY
              : code == 461 ? -ENOTSUP : -EPROTO;
    return pub_fail(p, err, "%s", msg);
}

/* ---- the session -------------------------------------------------------------------------------- */

static int rtsp_start(qcam_rtmp_publisher *p)
{
    struct rtsp_push *s = p->rtsp;
    /* the SDP needs the parameter sets: wait for the stream to show them */
    p->phase = " (waiting for the stream's parameter sets)";
    while (p->cfg.video) {
        pthread_mutex_lock(&p->net.lock);
        bool have = p->params[1] && p->params[2] && (p->cfg.video != QCAM_CODEC_H265 || p->params[0]);
        pthread_mutex_unlock(&p->net.lock);
        if (have) break;
        if (qcam_net_stopping(&p->net)) return pub_fail(p, -ECANCELED, "closed%s", NULL);
        struct pollfd fd = {p->net.wake[0], POLLIN, 0};
        if (poll(&fd, 1, 200) > 0) qcam_net_drain_wake(&p->net);
    }
    int64_t deadline = qcam_net_now_us() + (int64_t)p->cfg.connect_timeout_ms * 1000;
    p->phase = " (connecting)";
    int r = qcam_net_connect(&p->net, s->url.host, s->url.port, deadline);
    if (r < 0) return r;

    char ip[INET6_ADDRSTRLEN] = "0.0.0.0";
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(p->net.fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
        else if (ss.ss_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
    }
    qcam_sdp_stream sd = {0};
    char sdp[4096];
    pthread_mutex_lock(&p->net.lock);
    sd.codec = p->cfg.video;
    sd.vps = p->params[0], sd.vps_len = p->params_len[0];
    sd.sps = p->params[1], sd.sps_len = p->params_len[1];
    sd.pps = p->params[2], sd.pps_len = p->params_len[2];
    sd.audio = p->cfg.audio == QCAM_CODEC_ALAW ? QCAM_SDP_PCMA : p->cfg.audio == QCAM_CODEC_ULAW ? QCAM_SDP_PCMU : 0;
    sd.audio_rate = 8000;
    uint64_t sid = (uint64_t)qcam_net_now_us();
    int sdp_len = qcam_sdp_build(sdp, sizeof sdp, &sd, sid, ip);
    pthread_mutex_unlock(&p->net.lock);
    if (sdp_len < 0) return pub_fail(p, -EINVAL, "parameter sets too large for the SDP%s", NULL);

    p->phase = " (ANNOUNCE)";
    int code = request(p, "ANNOUNCE", s->url.uri, "Content-Type: application/sdp\r\n", sdp, (size_t)sdp_len, deadline);
    if (code < 0) return code;
    if (code != 200) return status_fail(p, "ANNOUNCE", code);
    for (int t = 0; t < 2; t++) {
        if (t == 0 ? !p->cfg.video : !p->cfg.audio) continue;
        char uri[1100], transport[128];
        snprintf(uri, sizeof uri, "%s/track%d", s->url.uri, t);
        snprintf(transport, sizeof transport, "Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d;mode=record\r\n", 2 * t,
                 2 * t + 1);
        p->phase = t == 0 ? " (SETUP video)" : " (SETUP audio)";
        code = request(p, "SETUP", uri, transport, NULL, 0, deadline);
        if (code < 0) return code;
        if (code != 200) return status_fail(p, "SETUP", code);
        if (!s->reply.session[0]) return pub_fail(p, -EPROTO, "SETUP: no Session in the reply%s", NULL);
        snprintf(s->session, sizeof s->session, "%s", s->reply.session);
        s->timeout = s->reply.timeout;
    }
    p->phase = " (RECORD)";
    code = request(p, "RECORD", s->url.uri, "Range: npt=0.000-\r\n", NULL, 0, deadline);
    if (code < 0) return code;
    if (code != 200) return status_fail(p, "RECORD", code);
    s->last_keepalive = qcam_net_now_us();
    return 0;
}

static int emit(void *opaque, const qcam_rtp_packet *pk)
{
    qcam_rtmp_publisher *p = opaque;
    struct rtsp_push *s = p->rtsp;
    size_t len = pk->head_len + pk->body_len;
    int ch = s->cur_ch;
    qcam_rtmp_put8(&s->out, '$');
    qcam_rtmp_put8(&s->out, (uint8_t)ch);
    qcam_rtmp_put16(&s->out, (uint16_t)len);
    qcam_rtmp_put(&s->out, pk->head, pk->head_len);
    qcam_rtmp_put(&s->out, pk->body, pk->body_len);
    return s->out.oom ? 1 : 0;
}

static int rtsp_send(qcam_rtmp_publisher *p, qcam_packet *k)
{
    struct rtsp_push *s = p->rtsp;
    if (!p->have_t0) {
        p->have_t0 = true;
        p->t0_us = k->pts_us;
    }
    int64_t dt = k->pts_us - p->t0_us;
    if (dt < 0) dt = 0;
    bool video = !QCAM_CODEC_IS_AUDIO(k->codec);
    s->out.len = 0;
    s->cur_ch = video ? 0 : 2;
    int n;
    if (video) {
        uint32_t ts = s->rtp_base[0] + (uint32_t)(dt * 9 / 100);
        n = qcam_rtp_packetize_video(&s->rtp[0], k->data, k->size, ts, emit, p);
    } else {
        uint32_t ts = s->rtp_base[1] + (uint32_t)(dt * 8 / 1000);
        n = qcam_rtp_packetize_audio(&s->rtp[1], k->data, k->size, ts, emit, p);
    }
    if (n < 0 || s->out.oom) {
        qcam_rtmp_buf_free(&s->out);
        return pub_fail(p, -ENOMEM, "out of memory%s", NULL);
    }
    int r = s->out.len ? pub_send_all(p, s->out.p, s->out.len) : 0;
    if (r == 0) {
        pthread_mutex_lock(&p->net.lock);
        p->st.frames_sent++;
        if (video) p->st.video_sent++;
        else p->st.audio_sent++;
        pthread_mutex_unlock(&p->net.lock);
    }
    if (s->out.cap > (1u << 20)) qcam_rtmp_buf_free(&s->out); /* keep a usual frame's worth */
    return r;
}

/* OPTIONS with the session before half its timeout runs out (the reply is read and ignored). */
static int rtsp_tick(qcam_rtmp_publisher *p)
{
    struct rtsp_push *s = p->rtsp;
    int64_t t = qcam_net_now_us();
    int64_t every = (int64_t)(s->timeout > 4 ? s->timeout / 2 : 2) * 1000000;
    if (t - s->last_keepalive < every) return 0;
    s->last_keepalive = t;
    return send_request(p, "OPTIONS", s->url.uri, NULL, NULL, 0);
}

static void rtsp_stop(qcam_rtmp_publisher *p)
{
    struct rtsp_push *s = p->rtsp;
    p->phase = " (TEARDOWN)";
    s->closing = true; /* so the server has closed its recording before the connection goes */
    if (send_request(p, "TEARDOWN", s->url.uri, NULL, NULL, 0) == 0) wait_reply(p, qcam_net_now_us() + 1000000);
    s->closing = false;
}

static void rtsp_end(qcam_rtmp_publisher *p)
{
    struct rtsp_push *s = p->rtsp;
    s->session[0] = 0;
    s->have_chal = false;
    s->got = false;
    s->want_cseq = -2;
}

static void rtsp_free(qcam_rtmp_publisher *p)
{
    if (!p->rtsp) return;
    qcam_rtmp_buf_free(&p->rtsp->out);
    /* the password leaves memory with the publisher */
    volatile char *pw = p->rtsp->url.pass;
    for (size_t i = 0; i < sizeof p->rtsp->url.pass; i++) pw[i] = 0;
    free(p->rtsp);
    p->rtsp = NULL;
}

static const pub_proto rtsp_proto = {"rtsp", true, rtsp_start, rtsp_send, rtsp_stop, rtsp_input, rtsp_end, rtsp_tick, rtsp_free};

static int rtsp_init(qcam_rtmp_publisher *p, const char *url)
{
    p->rtsp = calloc(1, sizeof *p->rtsp);
    if (!p->rtsp) return -ENOMEM;
    struct rtsp_push *s = p->rtsp;
    int r = qcam_rtsp_push_parse_url(url, &s->url);
    if (r < 0) return r;
    snprintf(p->st.url, sizeof p->st.url, "%s", s->url.masked);
    uint64_t seed = (uint64_t)qcam_net_now_us() ^ (uint64_t)(uintptr_t)p;
    uint32_t rnd[6];
    for (int i = 0; i < 6; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        rnd[i] = (uint32_t)(seed >> 32);
    }
    snprintf(s->cnonce, sizeof s->cnonce, "%08x%08x", rnd[0], rnd[1]);
    s->rtp[0] = (qcam_rtp_stream){.payload_type = 96, .ssrc = rnd[2], .seq = (uint16_t)rnd[3], .mtu = RTP_MTU, .codec = p->cfg.video};
    s->rtp[1] = (qcam_rtp_stream){.payload_type = p->cfg.audio == QCAM_CODEC_ULAW ? 0 : 8, .ssrc = rnd[4], .seq = (uint16_t)rnd[5],
                                  .mtu = RTP_MTU, .codec = p->cfg.audio};
    s->rtp_base[0] = rnd[3] * 7919u;
    s->rtp_base[1] = rnd[5] * 104729u;
    s->timeout = 60;
    s->want_cseq = -2;
    return 0;
}

int qcam_rtsp_push_open(const qcam_rtmp_config *cfg, qcam_rtmp_publisher **out)
{
    return pub_open(cfg, &rtsp_proto, rtsp_init, out);
}
