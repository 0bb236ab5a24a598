/* qcam:rtsp's client: see client.h for the model. POSIX sockets and poll()
 * on one thread per client; the protocol itself is in client_proto.c,
 * rtsp_msg.c and rtp.c (pure, fuzzed). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../runtime/platform.h"
#include "../video/annexb.h"
#include "../video/sps.h"
#include "client.h"
#include "rtsp_proto.h"

#define AU_CAP (4u << 20)      /* largest access unit rebuilt */
#define IN_CAP (256u << 10)    /* TCP input buffer (an interleaved frame is at most 64 KiB) */

/* ---- a bounded queue of packets ------------------------------------------------ */

typedef struct {
    qcam_packet **items;
    unsigned cap, head, count;
} pkt_ring;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the client ------------------------------------------------------------------------ */

struct qcam_rtsp_client {
    qcam_rtsp_client_config cfg;
    qcam_rtsp_url url;
    char user[128], password[128];
    pthread_t thread;
    int wake[2]; /* close() writes a byte: poll and the back-off end at once */
    atomic_bool stopping;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* queue non-empty, opened, closed */
    pkt_ring video_q, audio_q;
    bool closed;
    int open_result;      /* 1 pending, 0 opened, -errno failed */
    char why[256];
    qcam_rtsp_client_info info;
    qcam_rtsp_client_stats stats;
};

static void set_error(qcam_rtsp_client *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(qcam_rtsp_client *c, int err, const char *fmt, ...)
{
    pthread_mutex_lock(&c->lock);
    c->stats.last_error = err;
    if (c->open_result == 1) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, sizeof c->why, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Under lock. false when full. */
static bool ring_push(pkt_ring *r, qcam_packet *p)
{
    if (r->count == r->cap) return false;
    r->items[(r->head + r->count) % r->cap] = p;
    r->count++;
    return true;
}

static qcam_packet *ring_pop(pkt_ring *r)
{
    if (!r->count) return NULL;
    qcam_packet *p = r->items[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    return p;
}

/* ---- one session -------------------------------------------------------------------------- */

typedef struct {
    qcam_rtsp_client *c;
    int fd;
    struct sockaddr_storage peer; /* the camera's address (UDP media must come from it) */
    int udp[4];                 /* video RTP, RTCP, audio RTP, RTCP (-1: none) */
    int ch[4];                  /* interleaved channels, same order */
    uint8_t *in;                /* TCP input */
    size_t in_len;
    int cseq;
    char session[128];
    unsigned timeout_s;
    bool get_parameter;         /* the server lists GET_PARAMETER */
    bool have_challenge;
    qcam_rtsp_challenge challenge;
    uint32_t nc;
    char base[1024];
    qcam_sdp_info sdp;
    qcam_rtsp_reply *reply;     /* the reply waited for */
    int want_cseq;              /* -1: none */
    bool got;
    bool playing;
    /* video */
    qcam_rtp_depack depack;
    uint8_t *au;
    qcam_annexb_state annexb;
    bool gated;                 /* waiting for a keyframe */
    bool have_ts;
    uint32_t last_ts;
    int64_t ext_ts, base_ext;
    int64_t base_us;
    int64_t last_media_us;
    uint64_t frames;
    /* audio */
    bool audio_have_ts;
    uint32_t audio_last_ts;
    int64_t audio_ext, audio_base_ext, audio_base_us;
    /* sender reports, per track (video, audio): the RTP time at a camera (NTP) time */
    bool have_sr[2];
    int64_t sr_ntp_us[2];
    uint32_t sr_rtp[2];
} session;

/* Across sessions: the last timestamp handed out, so a new session never goes back. */
typedef struct {
    int64_t last_pts_us;
    int64_t audio_last_pts;
    uint64_t seq;
    uint64_t audio_seq;
} continuity;

static void sess_close(session *s)
{
    if (s->fd >= 0) close(s->fd);
    for (int i = 0; i < 4; i++)
        if (s->udp[i] >= 0) close(s->udp[i]);
    s->fd = -1;
    for (int i = 0; i < 4; i++) s->udp[i] = -1;
}

static int connect_tcp(qcam_rtsp_client *c, int *out)
{
    char port[16];
    snprintf(port, sizeof port, "%d", c->url.port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *res = NULL;
    int g = getaddrinfo(c->url.host, port, &hints, &res);
    if (g != 0) {
        set_error(c, -ENOENT, "%s: unknown host %s", c->url.masked, c->url.host);
        return -ENOENT;
    }
    int err = -ECONNREFUSED;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            struct pollfd p[2] = {{.fd = fd, .events = POLLOUT}, {.fd = c->wake[0], .events = POLLIN}};
            int pr = poll(p, 2, (int)c->cfg.timeout_ms);
            if (pr == 0) {
                err = -ETIMEDOUT;
                close(fd);
                continue;
            }
            if (p[1].revents) {
                close(fd);
                err = -ECANCELED;
                break;
            }
            int so = 0;
            socklen_t sl = sizeof so;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
            r = so ? -1 : 0;
            if (so) errno = so;
        }
        if (r < 0) {
            err = -errno;
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        *out = fd;
        freeaddrinfo(res);
        return 0;
    }
    freeaddrinfo(res);
    if (err != -ECANCELED) set_error(c, err, "%s: cannot connect", c->url.masked);
    return err;
}

static int send_all(session *s, const char *buf, size_t len)
{
    size_t off = 0;
    int64_t deadline = now_us() + (int64_t)s->c->cfg.timeout_ms * 1000;
    while (off < len) {
        ssize_t n = send(s->fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -errno;
        int64_t left = deadline - now_us();
        if (left <= 0) return -ETIMEDOUT;
        struct pollfd p = {.fd = s->fd, .events = POLLOUT};
        poll(&p, 1, (int)(left / 1000) + 1);
    }
    return 0;
}

/* ---- media ------------------------------------------------------------------------------------ */

static void deliver(qcam_rtsp_client *c, pkt_ring *q, qcam_packet *pkt, bool video, session *s)
{
    pthread_mutex_lock(&c->lock);
    bool ok = ring_push(q, pkt);
    if (ok) {
        if (video) c->stats.frames++;
        else c->stats.audio_frames++;
        pthread_cond_broadcast(&c->cond);
    } else {
        c->stats.dropped++;
        if (video) s->gated = true; /* the reader lags: resume at a keyframe */
    }
    pthread_mutex_unlock(&c->lock);
    if (!ok) qcam_packet_unref(pkt);
}

static void remember_params(qcam_rtsp_client *c, const qcam_annexb_params *p)
{
    pthread_mutex_lock(&c->lock);
    qcam_rtsp_client_info *i = &c->info;
    if (p->vps && p->vps_len <= sizeof i->vps) memcpy(i->vps, p->vps, i->vps_len = p->vps_len);
    if (p->sps && p->sps_len <= sizeof i->sps) {
        memcpy(i->sps, p->sps, i->sps_len = p->sps_len);
        qcam_sps_info si;
        if (qcam_sps_parse(i->video, p->sps, p->sps_len, &si) == 0) {
            i->width = si.width;
            i->height = si.height;
        }
    }
    if (p->pps && p->pps_len <= sizeof i->pps) memcpy(i->pps, p->pps, i->pps_len = p->pps_len);
    pthread_mutex_unlock(&c->lock);
}

/* A whole access unit came out of the depacketizer. */
static void on_access_unit(session *s, continuity *k, uint32_t ts)
{
    qcam_rtsp_client *c = s->c;
    const uint8_t *au = s->depack.out;
    size_t len = s->depack.len;
    qcam_au_info ai;
    qcam_annexb_classify(&s->annexb, au, len, &ai);
    if (ai.has_params || ai.keyframe) {
        qcam_annexb_params p;
        qcam_annexb_find_params(s->sdp.video, au, len, &p);
        if (p.sps || p.pps || p.vps) remember_params(c, &p);
    }
    if (ai.type == QCAM_PKT_HEADER) return; /* parameter sets alone: kept above */
    if (s->gated && !ai.keyframe) {
        pthread_mutex_lock(&c->lock);
        c->stats.dropped++;
        pthread_mutex_unlock(&c->lock);
        return;
    }
    s->gated = false;
    /* Timestamps: extend the 32-bit RTP clock, anchor at the session's first frame. */
    if (!s->have_ts) {
        s->have_ts = true;
        s->ext_ts = s->base_ext = ts;
        int64_t t = now_us();
        if (t <= k->last_pts_us) t = k->last_pts_us + 1;
        s->base_us = t;
    } else {
        s->ext_ts += (int32_t)(ts - s->last_ts);
    }
    s->last_ts = ts;
    uint32_t clock = s->sdp.video_clock ? s->sdp.video_clock : 90000;
    int64_t pts = s->base_us + (s->ext_ts - s->base_ext) * 1000000 / clock;
    if (pts <= k->last_pts_us) pts = k->last_pts_us + 1; /* never backwards (B-frames are not expected from cameras) */
    k->last_pts_us = pts;

    /* A keyframe without its parameter sets gets the known ones in front. */
    uint8_t pre[3 * 260];
    size_t pre_len = 0;
    if (ai.keyframe && !ai.has_params) {
        pthread_mutex_lock(&c->lock);
        const qcam_rtsp_client_info *i = &c->info;
        const uint8_t *ps[3] = {i->vps, i->sps, i->pps};
        size_t pl[3] = {i->video == QCAM_CODEC_H265 ? i->vps_len : 0, i->sps_len, i->pps_len};
        for (int j = 0; j < 3; j++) {
            if (!pl[j]) continue;
            memcpy(pre + pre_len, "\0\0\0\1", 4);
            memcpy(pre + pre_len + 4, ps[j], pl[j]);
            pre_len += 4 + pl[j];
        }
        pthread_mutex_unlock(&c->lock);
    }
    qcam_packet *pkt = qcam_packet_new(pre_len + len);
    if (!pkt) return;
    memcpy(pkt->data, pre, pre_len);
    memcpy(pkt->data + pre_len, au, len);
    pkt->codec = s->sdp.video;
    pkt->type = ai.keyframe ? QCAM_PKT_I : ai.type;
    pkt->keyframe = ai.keyframe;
    pkt->pts_us = pkt->dts_us = pts;
    pkt->seq = k->seq++;
    s->frames++;
    deliver(c, &c->video_q, pkt, true, s);
}

/* Audio on the video's timeline from the camera's sender reports (RFC 3550 6.4.1): each
 * track's report ties its RTP clock to the camera's wall clock, so an audio sample's pts is
 * the video anchor's pts plus how much later the camera took it. False until the video has
 * its anchor and both tracks have reported. */
static bool audio_pts_from_reports(const session *s, uint32_t ts, int64_t *pts)
{
    if (!s->have_ts || !s->have_sr[0] || !s->have_sr[1] || !s->sdp.audio_rate) return false;
    int64_t vclock = s->sdp.video_clock ? s->sdp.video_clock : 90000;
    int64_t video_anchor = s->sr_ntp_us[0] + (int64_t)(int32_t)((uint32_t)s->base_ext - s->sr_rtp[0]) * 1000000 / vclock;
    int64_t sample = s->sr_ntp_us[1] + (int64_t)(int32_t)(ts - s->sr_rtp[1]) * 1000000 / (int64_t)s->sdp.audio_rate;
    *pts = s->base_us + (sample - video_anchor);
    return true;
}

static void on_rtp(session *s, continuity *k, int track, const uint8_t *p, size_t n)
{
    qcam_rtsp_client *c = s->c;
    s->last_media_us = now_us();
    if (n < QCAM_RTP_HEADER) return;
    int pt = p[1] & 0x7f;
    pthread_mutex_lock(&c->lock);
    c->stats.bytes += n - QCAM_RTP_HEADER;
    pthread_mutex_unlock(&c->lock);
    if (track == 0) {
        if (pt != s->sdp.video_pt) return;
        uint32_t dropped = s->depack.dropped;
        int r = qcam_rtp_depack_push(&s->depack, p, n);
        if (s->depack.dropped != dropped) {
            pthread_mutex_lock(&c->lock);
            c->stats.dropped += s->depack.dropped - dropped;
            pthread_mutex_unlock(&c->lock);
            s->gated = true; /* a lost access unit: the next ones refer to it */
        }
        if (r == 1) on_access_unit(s, k, s->depack.ts);
        return;
    }
    /* G.711: the payload as it comes, one byte per sample. */
    if (pt != s->sdp.audio_pt || (p[0] >> 6) != 2) return;
    size_t at = QCAM_RTP_HEADER + 4u * (p[0] & 0x0f);
    if (p[0] & 0x10) {
        if (n < at + 4) return;
        at += 4 + 4 * ((size_t)p[at + 2] << 8 | p[at + 3]);
    }
    size_t end = n;
    if (p[0] & 0x20) end -= p[n - 1];
    if (at >= end || end > n) return;
    uint32_t ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    if (!s->audio_have_ts) {
        s->audio_have_ts = true;
        s->audio_ext = s->audio_base_ext = ts;
        s->audio_base_us = now_us(); /* until sender reports relate the two clocks: by arrival */
    } else {
        s->audio_ext += (int32_t)(ts - s->audio_last_ts);
    }
    s->audio_last_ts = ts;
    int64_t pts = s->audio_base_us + (s->audio_ext - s->audio_base_ext) * 1000000 / s->sdp.audio_rate;
    int64_t synced;
    if (audio_pts_from_reports(s, ts, &synced)) pts = synced;
    /* A first mapping from the reports that lands before audio already handed out: what
     * overlaps it is left out, so audio time never goes back. */
    if (pts <= k->audio_last_pts) return;
    k->audio_last_pts = pts;
    qcam_packet *pkt = qcam_packet_new(end - at);
    if (!pkt) return;
    memcpy(pkt->data, p + at, end - at);
    pkt->codec = s->sdp.audio == QCAM_SDP_PCMA ? QCAM_CODEC_ALAW : QCAM_CODEC_ULAW;
    pkt->type = QCAM_PKT_AUDIO;
    pkt->keyframe = true;
    pkt->sample_rate = s->sdp.audio_rate;
    pkt->samples = (uint32_t)(end - at);
    pkt->pts_us = pkt->dts_us = pts;
    pkt->seq = k->audio_seq++;
    deliver(c, &c->audio_q, pkt, false, s);
}

static void on_rtcp(session *s, int track, const uint8_t *p, size_t n)
{
    uint32_t ssrc, rtp_ts;
    uint64_t ntp;
    if (qcam_rtcp_parse_sr(p, n, &ssrc, &ntp, &rtp_ts) != 1) return;
    s->last_media_us = now_us();
    /* NTP (1900, 32.32) to µs since 1970 */
    int64_t us = (int64_t)((ntp >> 32) - 2208988800u) * 1000000 + (int64_t)(((ntp & 0xffffffffu) * 1000000) >> 32);
    s->have_sr[track] = true;
    s->sr_ntp_us[track] = us;
    s->sr_rtp[track] = rtp_ts;
    pthread_mutex_lock(&s->c->lock);
    s->c->stats.sender_reports++;
    s->c->stats.camera_time_us = us;
    pthread_mutex_unlock(&s->c->lock);
}

/* ---- the control connection ---------------------------------------------------------------------- */

/* Everything whole in the TCP input: '$' frames and replies. 0, or -EPROTO. */
static int process_input(session *s, continuity *k)
{
    size_t at = 0;
    int ret = 0;
    while (at < s->in_len) {
        uint8_t ch;
        const uint8_t *payload;
        size_t plen, used;
        int r = qcam_rtsp_next_interleaved(s->in + at, s->in_len - at, &ch, &payload, &plen, &used);
        if (r == 0) break;
        if (r == 1) {
            for (int t = 0; t < 4; t++)
                if (s->ch[t] == ch) {
                    if (t % 2 == 0) on_rtp(s, k, t / 2, payload, plen);
                    else on_rtcp(s, t / 2, payload, plen);
                }
            at += used;
            continue;
        }
        int n = qcam_rtsp_parse_reply(s->in + at, s->in_len - at, s->reply);
        if (n == 0) break;
        if (n < 0) {
            ret = -EPROTO;
            break;
        }
        if (s->want_cseq >= 0 && s->reply->cseq == s->want_cseq) s->got = true;
        at += (size_t)n;
        if (s->got) break; /* the caller reads the reply before anything overwrites it */
    }
    memmove(s->in, s->in + at, s->in_len - at);
    s->in_len -= at;
    return ret;
}

/* The same IPv4 or IPv6 address (the UDP sockets are of the camera's family); anything else
 * is not the camera. */
static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
    return false;
}

/* Wait up to timeout_ms for input on the connection, the UDP sockets or the
 * wake pipe, and take it. 0, -ECANCELED (closing), -ECONNRESET (closed by the
 * server), -EPROTO, -errno. */
static int pump(session *s, continuity *k, int timeout_ms)
{
    qcam_rtsp_client *c = s->c;
    /* What an earlier read left (a partial frame after a reply): take what is whole first. */
    if (s->in_len && !s->got) {
        int r = process_input(s, k);
        if (r < 0 || s->got) return r;
    }
    struct pollfd p[6];
    int map[6], n = 0;
    p[n] = (struct pollfd){.fd = c->wake[0], .events = POLLIN};
    map[n++] = -2;
    p[n] = (struct pollfd){.fd = s->fd, .events = POLLIN};
    map[n++] = -1;
    for (int i = 0; i < 4; i++)
        if (s->udp[i] >= 0) {
            p[n] = (struct pollfd){.fd = s->udp[i], .events = POLLIN};
            map[n++] = i;
        }
    int pr = poll(p, (nfds_t)n, timeout_ms);
    if (pr < 0) return errno == EINTR ? 0 : -errno;
    if (atomic_load(&c->stopping)) return -ECANCELED;
    for (int i = 1; i < n; i++) {
        if (!p[i].revents) continue;
        if (map[i] == -1) {
            for (;;) {
                if (s->in_len == IN_CAP) return -EPROTO; /* a message that never ends */
                ssize_t got = recv(s->fd, s->in + s->in_len, IN_CAP - s->in_len, 0);
                if (got == 0) return -ECONNRESET;
                if (got < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                    if (errno == EINTR) continue;
                    return -errno;
                }
                s->in_len += (size_t)got;
                int r = process_input(s, k);
                if (r < 0) return r;
                if (s->got) return 0;
            }
        } else {
            uint8_t buf[65536];
            for (int m = 0; m < 64; m++) {
                struct sockaddr_storage from;
                socklen_t fl = sizeof from;
                ssize_t got = recvfrom(s->udp[map[i]], buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
                if (got <= 0) break;
                if (!same_host(&from, &s->peer)) continue; /* not the camera's: not taken */
                if (map[i] % 2 == 0) on_rtp(s, k, map[i] / 2, buf, (size_t)got);
                else on_rtcp(s, map[i] / 2, buf, (size_t)got);
            }
        }
    }
    return 0;
}

/* Send a request (with the session and an answer to the challenge) and, when
 * `wait`, wait for its reply in s->reply, answering one 401 with the
 * credentials. Returns the status, or -errno. */
static int request(session *s, continuity *k, const char *method, const char *uri, const char *extra, bool wait)
{
    qcam_rtsp_client *c = s->c;
    for (int attempt = 0; attempt < 2; attempt++) {
        char head[2048] = "", auth[2048] = "", req[4096];
        size_t hl = 0;
        if (s->session[0]) hl += (size_t)snprintf(head + hl, sizeof head - hl, "Session: %s\r\n", s->session);
        if (s->have_challenge) {
            char cnonce[17];
            snprintf(cnonce, sizeof cnonce, "%08x%08x", (unsigned)rand(), (unsigned)now_us());
            if (qcam_rtsp_authorization(auth, sizeof auth, &s->challenge, c->user, c->password, method, uri, ++s->nc,
                                        cnonce) < 0)
                auth[0] = '\0';
        }
        snprintf(head + hl, sizeof head - hl, "%s%s", auth, extra ? extra : "");
        int n = qcam_rtsp_build_request(req, sizeof req, method, uri, ++s->cseq, head);
        if (n < 0) return -EINVAL;
        s->want_cseq = wait ? s->cseq : -1;
        s->got = false;
        int r = send_all(s, req, (size_t)n);
        if (r < 0) return r;
        if (!wait) return 0;
        int64_t deadline = now_us() + (int64_t)c->cfg.timeout_ms * 1000;
        while (!s->got) {
            int64_t left = deadline - now_us();
            if (left <= 0) return -ETIMEDOUT;
            r = pump(s, k, (int)(left / 1000) + 1);
            if (r < 0) return r;
        }
        s->want_cseq = -1;
        s->got = false; /* the reply is read: input goes on being taken */
        int status = s->reply->status;
        if (status == 401 && attempt == 0 && c->user[0]) {
            /* Prefer Digest over Basic when both are offered. */
            qcam_rtsp_challenge best, ch;
            bool have = false;
            const char *v;
            for (unsigned i = 0; (v = qcam_rtsp_reply_header(s->reply, "WWW-Authenticate", i)); i++)
                if (qcam_rtsp_parse_challenge(v, &ch) == 0 && (!have || (ch.digest && !best.digest))) {
                    best = ch;
                    have = true;
                }
            if (!have) return status;
            s->challenge = best;
            s->have_challenge = true;
            s->nc = 0;
            continue;
        }
        return status;
    }
    return 401;
}

static int status_error(qcam_rtsp_client *c, const char *method, int status)
{
    int err = status == 401 || status == 403 ? -EACCES : status == 404 ? -ENOENT
              : status == 461 || status == 415 ? -ENOTSUP : -EPROTO;
    if (status < 0) err = status;
    if (status == 401 && !c->user[0])
        set_error(c, err, "%s: %s: 401 Unauthorized (the camera wants a user and password)", c->url.masked, method);
    else if (status >= 0)
        set_error(c, err, "%s: %s: %d %s", c->url.masked, method, status, qcam_rtsp_reason(status));
    else
        set_error(c, err, "%s: %s%s", c->url.masked, method, err == -EPROTO ? ": malformed reply" : "");
    return err;
}

/* The port of a bound IPv4 or IPv6 socket address. */
static uint16_t *port_of(struct sockaddr_storage *sa)
{
    return sa->ss_family == AF_INET6 ? &((struct sockaddr_in6 *)sa)->sin6_port : &((struct sockaddr_in *)sa)->sin_port;
}

/* An even/odd pair of UDP ports on the wildcard address of `family` (the camera's). */
static int udp_pair(int family, int fds[2], int *port)
{
    for (int tries = 0; tries < 32; tries++) {
        int a = socket(family, SOCK_DGRAM, 0), b = socket(family, SOCK_DGRAM, 0);
        if (a < 0 || b < 0) {
            if (a >= 0) close(a);
            if (b >= 0) close(b);
            return -errno;
        }
        struct sockaddr_storage sa = {.ss_family = (sa_family_t)family}; /* any address, any port */
        socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), sl = len;
        int rcv = 2 << 20;
        setsockopt(a, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
        if (bind(a, (struct sockaddr *)&sa, len) == 0 && getsockname(a, (struct sockaddr *)&sa, &sl) == 0 &&
            ntohs(*port_of(&sa)) % 2 == 0 && ntohs(*port_of(&sa)) < 65534) {
            int p = ntohs(*port_of(&sa));
            *port_of(&sa) = htons((uint16_t)(p + 1));
            if (bind(b, (struct sockaddr *)&sa, len) == 0) {
                fcntl(a, F_SETFD, FD_CLOEXEC);
                fcntl(b, F_SETFD, FD_CLOEXEC);
                fds[0] = a;
                fds[1] = b;
                *port = p;
                return 0;
            }
        }
        close(a);
        close(b);
    }
    return -EADDRINUSE;
}

static int setup_track(session *s, continuity *k, int track, const char *control)
{
    qcam_rtsp_client *c = s->c;
    char uri[1100], transport[200];
    if (qcam_rtsp_control_url(uri, sizeof uri, s->base, control) < 0) return -EINVAL;
    if (c->cfg.tcp) {
        snprintf(transport, sizeof transport, "Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d\r\n", 2 * track,
                 2 * track + 1);
    } else {
        int port = 0, r = udp_pair(s->peer.ss_family, &s->udp[2 * track], &port);
        if (r < 0) return r;
        snprintf(transport, sizeof transport, "Transport: RTP/AVP;unicast;client_port=%d-%d\r\n", port, port + 1);
    }
    int st = request(s, k, "SETUP", uri, transport, true);
    if (st != 200) return status_error(c, "SETUP", st);
    const char *sv = qcam_rtsp_reply_header(s->reply, "Session", 0);
    if (sv && !s->session[0] && qcam_rtsp_parse_session(sv, s->session, sizeof s->session, &s->timeout_s) < 0)
        return status_error(c, "SETUP", -EPROTO);
    const char *tv = qcam_rtsp_reply_header(s->reply, "Transport", 0);
    qcam_rtsp_transport_reply tr;
    if (!tv || qcam_rtsp_parse_transport_reply(tv, &tr) < 0) return status_error(c, "SETUP", -EPROTO);
    if (c->cfg.tcp) {
        if (!tr.tcp) return status_error(c, "SETUP", 461);
        s->ch[2 * track] = tr.interleaved[0] >= 0 ? tr.interleaved[0] : 2 * track;
        s->ch[2 * track + 1] = tr.interleaved[1] >= 0 ? tr.interleaved[1] : 2 * track + 1;
    } else if (tr.tcp) {
        return status_error(c, "SETUP", 461);
    }
    return 0;
}

/* OPTIONS .. PLAY. 0 when playing, -errno (with the reason set) otherwise. */
static int sess_start(session *s, continuity *k)
{
    qcam_rtsp_client *c = s->c;
    int r = connect_tcp(c, &s->fd);
    if (r < 0) return r;
    socklen_t pl = sizeof s->peer;
    if (getpeername(s->fd, (struct sockaddr *)&s->peer, &pl) != 0) memset(&s->peer, 0, sizeof s->peer);
    if (!c->cfg.tcp && s->peer.ss_family != AF_INET && s->peer.ss_family != AF_INET6) {
        set_error(c, -ENOTSUP, "%s: RTP over UDP needs an IP camera address (use transport \"tcp\")", c->url.masked);
        return -ENOTSUP;
    }
    int st = request(s, k, "OPTIONS", c->url.clean, NULL, true);
    if (st != 200) return status_error(c, "OPTIONS", st);
    const char *pub = qcam_rtsp_reply_header(s->reply, "Public", 0);
    s->get_parameter = pub && strstr(pub, "GET_PARAMETER");
    st = request(s, k, "DESCRIBE", c->url.clean, "Accept: application/sdp\r\n", true);
    if (st != 200) return status_error(c, "DESCRIBE", st);
    if (!s->reply->body || qcam_sdp_parse((const char *)s->reply->body, s->reply->body_len, &s->sdp) < 0) {
        set_error(c, -ENOTSUP, "%s: the camera offers no H.264 or H.265 video", c->url.masked);
        return -ENOTSUP;
    }
    const char *b = qcam_rtsp_reply_header(s->reply, "Content-Base", 0);
    if (!b) b = qcam_rtsp_reply_header(s->reply, "Content-Location", 0);
    snprintf(s->base, sizeof s->base, "%s", b ? b : c->url.clean);
    if (s->sdp.session_control[0] && strcmp(s->sdp.session_control, "*") != 0) {
        char agg[1024];
        if (qcam_rtsp_control_url(agg, sizeof agg, s->base, s->sdp.session_control) == 0)
            snprintf(s->base, sizeof s->base, "%s", agg);
    }
    /* What the session description tells. */
    pthread_mutex_lock(&c->lock);
    if (c->info.video && c->info.video != s->sdp.video) { /* the camera changed codec: forget the old sets */
        c->info.vps_len = c->info.sps_len = c->info.pps_len = 0;
        c->info.width = c->info.height = 0;
    }
    c->info.video = s->sdp.video;
    c->info.audio = c->cfg.audio && s->sdp.audio ? (s->sdp.audio == QCAM_SDP_PCMA ? QCAM_CODEC_ALAW : QCAM_CODEC_ULAW) : 0;
    c->info.audio_rate = c->info.audio ? s->sdp.audio_rate : 0;
    pthread_mutex_unlock(&c->lock);
    qcam_annexb_params sp = {0};
    if (s->sdp.sps_len) sp.sps = s->sdp.params + s->sdp.sps_at, sp.sps_len = s->sdp.sps_len;
    if (s->sdp.pps_len) sp.pps = s->sdp.params + s->sdp.pps_at, sp.pps_len = s->sdp.pps_len;
    if (s->sdp.vps_len) sp.vps = s->sdp.params + s->sdp.vps_at, sp.vps_len = s->sdp.vps_len;
    if (sp.sps || sp.pps || sp.vps) remember_params(c, &sp);
    qcam_rtp_depack_init(&s->depack, s->sdp.video, s->au, AU_CAP);
    qcam_annexb_init(&s->annexb, s->sdp.video);

    if ((r = setup_track(s, k, 0, s->sdp.video_control)) < 0) return r;
    if (c->info.audio && (r = setup_track(s, k, 1, s->sdp.audio_control)) < 0) return r;
    st = request(s, k, "PLAY", s->base, "Range: npt=0.000-\r\n", true);
    if (st != 200) return status_error(c, "PLAY", st);
    s->playing = true;
    s->last_media_us = now_us();
    pthread_mutex_lock(&c->lock);
    c->stats.connected = true;
    c->stats.last_error = 0;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* Playing: take media, keep the session alive, notice a dead camera. */
static int sess_run(session *s, continuity *k)
{
    qcam_rtsp_client *c = s->c;
    unsigned ka_s = s->timeout_s > 2 ? s->timeout_s / 2 : 1;
    int64_t next_ka = now_us() + (int64_t)ka_s * 1000000;
    int64_t opened_deadline = now_us() + 2 * (int64_t)c->cfg.timeout_ms * 1000;
    for (;;) {
        int r = pump(s, k, 100);
        if (r < 0) return r;
        int64_t t = now_us();
        pthread_mutex_lock(&c->lock);
        bool pending = c->open_result == 1;
        if (pending && c->info.sps_len && s->frames > 0) {
            c->open_result = 0; /* the first keyframe is in: the size is known */
            pthread_cond_broadcast(&c->cond);
            pending = false;
        }
        pthread_mutex_unlock(&c->lock);
        if (pending && t > opened_deadline) {
            set_error(c, -ETIMEDOUT, "%s: no keyframe within %u ms", c->url.masked, 2 * c->cfg.timeout_ms);
            return -ETIMEDOUT;
        }
        if (t - s->last_media_us > (int64_t)c->cfg.stall_ms * 1000) {
            set_error(c, -ETIMEDOUT, "%s: no media for %u ms", c->url.masked, c->cfg.stall_ms);
            return -ETIMEDOUT;
        }
        if (t >= next_ka) {
            next_ka = t + (int64_t)ka_s * 1000000;
            r = request(s, k, s->get_parameter ? "GET_PARAMETER" : "OPTIONS", s->get_parameter ? s->base : c->url.clean,
                        NULL, false);
            if (r < 0) return r;
        }
    }
}

static void *client_main(void *arg)
{
    qcam_rtsp_client *c = arg;
    qcam_platform_name_thread("qcam-rtspsrc");
    session s = {.c = c, .fd = -1, .udp = {-1, -1, -1, -1}};
    s.in = malloc(IN_CAP);
    s.au = malloc(AU_CAP);
    s.reply = malloc(sizeof *s.reply);
    continuity k = {0};
    unsigned backoff = c->cfg.reconnect_min_ms;
    if (!s.in || !s.au || !s.reply) {
        set_error(c, -ENOMEM, "out of memory");
        goto out;
    }
    while (!atomic_load(&c->stopping)) {
        session keep = s;
        s = (session){.c = c, .fd = -1, .udp = {-1, -1, -1, -1}, .ch = {-1, -1, -1, -1}, .in = keep.in, .au = keep.au,
                      .reply = keep.reply, .want_cseq = -1, .gated = true, .timeout_s = 60};
        int r = sess_start(&s, &k);
        if (r == 0) r = sess_run(&s, &k);
        if (s.playing && s.fd >= 0 && atomic_load(&c->stopping)) {
            /* TEARDOWN; the reply is not waited for long */
            unsigned t = c->cfg.timeout_ms;
            c->cfg.timeout_ms = 500;
            request(&s, &k, "TEARDOWN", s.base, NULL, false);
            c->cfg.timeout_ms = t;
        }
        sess_close(&s);
        pthread_mutex_lock(&c->lock);
        c->stats.connected = false;
        bool opened = c->open_result == 0;
        if (!opened && c->open_result == 1) {
            /* The first connection failed: open() reports it; no retries. */
            c->open_result = r < 0 ? r : -EPROTO;
            pthread_cond_broadcast(&c->cond);
        }
        pthread_mutex_unlock(&c->lock);
        if (!opened || atomic_load(&c->stopping)) break;
        if (s.frames > 0) backoff = c->cfg.reconnect_min_ms;
        if (r < 0 && r != -ECANCELED) {
            pthread_mutex_lock(&c->lock);
            if (!c->stats.last_error) c->stats.last_error = r;
            pthread_mutex_unlock(&c->lock);
        }
        /* Back-off, cut short by close(). */
        struct pollfd p = {.fd = c->wake[0], .events = POLLIN};
        poll(&p, 1, (int)backoff);
        backoff = backoff * 2 > c->cfg.reconnect_max_ms ? c->cfg.reconnect_max_ms : backoff * 2;
        if (atomic_load(&c->stopping)) break;
        pthread_mutex_lock(&c->lock);
        c->stats.reconnects++;
        pthread_mutex_unlock(&c->lock);
    }
out:
    free(s.in);
    free(s.au);
    free(s.reply);
    pthread_mutex_lock(&c->lock);
    if (c->open_result == 1) c->open_result = -EPROTO;
    c->closed = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ---- the API --------------------------------------------------------------------------------------- */

static void client_free(qcam_rtsp_client *c)
{
    qcam_packet *p;
    while ((p = ring_pop(&c->video_q))) qcam_packet_unref(p);
    while ((p = ring_pop(&c->audio_q))) qcam_packet_unref(p);
    free(c->video_q.items);
    free(c->audio_q.items);
    close(c->wake[0]);
    close(c->wake[1]);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}

int qcam_rtsp_client_open(const qcam_rtsp_client_config *cfg, qcam_rtsp_client **out, char *why, size_t why_cap)
{
    *out = NULL;
    qcam_rtsp_client *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    if (qcam_rtsp_url_parse(cfg->url, &c->url) < 0) {
        free(c);
        snprintf(why, why_cap, "not an rtsp:// URL");
        return -EINVAL;
    }
    c->cfg = *cfg;
    c->cfg.url = NULL;
    if (!c->cfg.timeout_ms) c->cfg.timeout_ms = 5000;
    if (!c->cfg.stall_ms) c->cfg.stall_ms = 5000;
    if (!c->cfg.reconnect_min_ms) c->cfg.reconnect_min_ms = 500;
    if (c->cfg.reconnect_max_ms < c->cfg.reconnect_min_ms) c->cfg.reconnect_max_ms = c->cfg.reconnect_min_ms * 16;
    if (!c->cfg.queue) c->cfg.queue = 64;
    snprintf(c->user, sizeof c->user, "%s", cfg->user ? cfg->user : c->url.user);
    snprintf(c->password, sizeof c->password, "%s", cfg->password ? cfg->password : c->url.password);
    c->cfg.user = c->cfg.password = NULL;
    snprintf(c->stats.url, sizeof c->stats.url, "%s", c->url.masked);
    c->stats.tcp = c->cfg.tcp;
    c->video_q.items = calloc(c->cfg.queue, sizeof(qcam_packet *));
    c->audio_q.items = calloc(c->cfg.queue * 4, sizeof(qcam_packet *));
    c->video_q.cap = c->cfg.queue;
    c->audio_q.cap = c->cfg.queue * 4;
    c->open_result = 1;
    if (!c->video_q.items || !c->audio_q.items || pipe(c->wake) != 0) {
        free(c->video_q.items);
        free(c->audio_q.items);
        free(c);
        return -ENOMEM;
    }
    fcntl(c->wake[0], F_SETFD, FD_CLOEXEC);
    fcntl(c->wake[1], F_SETFD, FD_CLOEXEC);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, client_main, c) != 0) {
        client_free(c);
        return -EAGAIN;
    }
    pthread_mutex_lock(&c->lock);
    while (c->open_result == 1) pthread_cond_wait(&c->cond, &c->lock);
    int r = c->open_result;
    snprintf(why, why_cap, "%s", c->why[0] ? c->why : strerror(r < 0 ? -r : 0));
    pthread_mutex_unlock(&c->lock);
    if (r < 0) {
        atomic_store(&c->stopping, true);
        if (write(c->wake[1], "x", 1) < 0) { /* the thread ends by itself: it failed */
        }
        pthread_join(c->thread, NULL);
        client_free(c);
        return r;
    }
    *out = c;
    return 0;
}

void qcam_rtsp_client_get_info(qcam_rtsp_client *c, qcam_rtsp_client_info *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->info;
    pthread_mutex_unlock(&c->lock);
}

static int read_q(qcam_rtsp_client *c, pkt_ring *q, int64_t timeout_us, qcam_packet **out)
{
    *out = NULL;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    int64_t ns = deadline.tv_nsec + (timeout_us % 1000000) * 1000;
    deadline.tv_sec += (time_t)(timeout_us / 1000000 + ns / 1000000000);
    deadline.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&c->lock);
    int r = 0;
    while (!q->count && !c->closed) {
        if (timeout_us <= 0 || pthread_cond_timedwait(&c->cond, &c->lock, &deadline) == ETIMEDOUT) {
            r = -ETIMEDOUT;
            break;
        }
    }
    if (q->count) {
        *out = ring_pop(q);
        r = 0;
    } else if (c->closed) {
        r = -ENODATA;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int qcam_rtsp_client_read(qcam_rtsp_client *c, int64_t timeout_us, qcam_packet **out)
{
    return read_q(c, &c->video_q, timeout_us, out);
}

int qcam_rtsp_client_read_audio(qcam_rtsp_client *c, int64_t timeout_us, qcam_packet **out)
{
    return read_q(c, &c->audio_q, timeout_us, out);
}

void qcam_rtsp_client_stats_get(qcam_rtsp_client *c, qcam_rtsp_client_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}

uint64_t qcam_rtsp_client_dropped(qcam_rtsp_client *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t d = c->stats.dropped;
    pthread_mutex_unlock(&c->lock);
    return d;
}

void qcam_rtsp_client_close(qcam_rtsp_client *c)
{
    if (!c) return;
    atomic_store(&c->stopping, true);
    if (write(c->wake[1], "x", 1) < 0) { /* the pipe is ours and empty: cannot fail */
    }
    pthread_join(c->thread, NULL);
    client_free(c);
}
