/* The RTSP server: see server.h. One thread runs poll() over the listening
 * socket, the connections, the UDP pair and a wake-up pipe; sink writes come
 * from link threads or the app's thread and send directly when they can. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../../runtime/platform.h"
#include "../video/annexb.h"
#include "rtsp_proto.h"

#define MTU 1400
#define IN_CAP (QCAM_RTSP_MAX_REQUEST + 4 + 65536) /* a request, or one whole '$' frame */
#define QUEUE_FRAMES 1024
#define QUEUE_BYTES (6u << 20)
#define GOP_CACHE_MAX 600           /* access units; a longer GOP is not cached */
#define DESCRIBE_WAIT_NS 5000000000LL /* how long DESCRIBE waits for parameter sets */
#define DRAIN_NS 2000000000LL       /* stop(): time given to flush the queues */
#define LAT_RING 2048
#define MAX_PIECES 256              /* RTP packets per writev (a whole keyframe at 4 Mbit/s) */
#define SR_GRACE_NS 250000000LL     /* the server thread sends a due sender report this late (write() sends it first) */
#define PTS_RESYNC_US 250000       /* a source's clock that moved this far re-anchors the reports */
#define IDLE_POLL_MS 500            /* poll timeout with nothing pending */
#define OVERFLOW_CONNS 8            /* connections past max_clients answered 503 */

enum { TRACK_VIDEO = 0, TRACK_AUDIO = 1 };
enum { C_INIT, C_READY, C_PLAYING, C_PAUSED };
static const char *const state_names[] = {"init", "ready", "playing", "paused"};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- access units, packetized once per stream --------------------------------- */

/* One RTP packet. While packetizing: its header bytes, preceded by the
 * 4-byte interleaved framing ('$', channel, length) for the track's usual
 * channel (0 video, 2 audio), and where its payload is in the packet. In an
 * access unit: where it is in the au's flat bytes. */
typedef struct {
    uint8_t wire[4 + QCAM_RTP_HEADER + 3];
    uint8_t head_len;            /* RTP header bytes at wire + 4 */
    uint32_t body_off, body_len; /* into pkt->data */
    uint32_t flat_off;           /* of its '$' in au->flat */
} piece;

/* An access unit as it goes out: every packet's framing, RTP header and
 * payload back to back in `flat` (copied once per stream), so a TCP client
 * on the usual channels sends a whole frame from one piece of memory. */
typedef struct {
    atomic_int refs;
    uint8_t *flat;
    int track;
    bool keyframe;
    int64_t t_in;       /* ns, when write() got it */
    uint32_t rtp_ts;
    uint16_t first_seq;
    size_t bytes;       /* RTP bytes (heads + bodies) */
    unsigned n;
    piece p[];
} au;

static au *au_ref(au *a)
{
    atomic_fetch_add(&a->refs, 1);
    return a;
}

static void au_unref(au *a)
{
    if (a && atomic_fetch_sub(&a->refs, 1) == 1) free(a);
}

/* ---- objects ----------------------------------------------------------------- */

typedef struct client client;

struct qcam_rtsp_stream {
    qcam_sink base; /* first: the link sees a qcam_sink */
    qcam_rtsp_server *srv;
    qcam_rtsp_stream *next;
    char path[128];
    qcam_rtsp_stream_config cfg;
    qcam_encoder *encoder;
    uint8_t *params[3]; /* vps, sps, pps (copies) */
    size_t params_len[3];
    bool have_params;
    qcam_rtp_stream rtp[2];
    uint32_t clock[2];
    uint32_t rtp_base[2];
    bool have_pts0;
    int64_t pts0_us;
    int64_t pts_minus_mono_us; /* pts_us - monotonic µs: the sender reports' clock mapping */
    au **gop;                  /* access units since the last keyframe */
    unsigned gop_len;
    bool gop_valid;
    piece *scratch;
    unsigned scratch_len, scratch_cap;
    const uint8_t *cur_base; /* the packet being packetized */
    int cur_track;
    uint64_t frames, bytes, video_frames, audio_frames;
    float lat[LAT_RING];
    unsigned lat_n, lat_pos;
};

struct client {
    client *next;
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char address[64];
    uint8_t *in;
    size_t in_len;
    uint8_t *ctl; /* RTSP replies and RTCP, sent between RTP packets */
    size_t ctl_len, ctl_off, ctl_cap;
    bool reject;          /* over max_clients: answer 503 and close */
    bool close_after_ctl; /* close once the replies are out */
    bool eof;             /* the client closed its side: answer what it asked, then close */
    bool dead;
    uint64_t session;     /* 0: none */
    qcam_rtsp_stream *st;
    int state;
    bool tcp;
    bool setup[2];
    int ch[2][2];         /* tcp: rtp/rtcp channels per track */
    int port[2][2];       /* udp: client rtp/rtcp ports per track */
    au **q;               /* send queue (ring) */
    bool *q_live;         /* per entry: enqueued as it was written (not from the GOP cache) */
    unsigned q_head, q_len;
    size_t q_bytes;
    unsigned piece_i;     /* in the head au */
    size_t piece_off;     /* bytes of that piece (incl. the '$' prefix) already out */
    bool wait_key;
    bool want_out;
    uint64_t frames, bytes, drops;
    int64_t last_activity, last_progress, next_sr;
    /* DESCRIBE waiting for parameter sets */
    bool describe_wait;
    int describe_cseq;
    int64_t describe_deadline;
    char describe_uri[256];
};

struct qcam_rtsp_server {
    qcam_rtsp_server_config cfg;
    char user[128], password[128];
    pthread_mutex_t lock;
    pthread_t thread;
    bool thread_started;
    int listen_fd, wake[2], udp[2];
    int udp_port;
    int port;
    int stopping; /* 1: draining */
    qcam_rtsp_stream *streams;
    client *clients;
    unsigned n_clients;
    uint64_t sessions, rejected, dropped_clients;
    uint64_t rng;
    char nonce[33];
    qcam_rtsp_request req; /* the server thread's parse buffer */
};

static uint64_t rnd(qcam_rtsp_server *s)
{
    /* xorshift64*, seeded from /dev/urandom and the clock */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 2685821657736338717ULL;
}

static void wake(qcam_rtsp_server *s)
{
    char b = 1;
    ssize_t r = write(s->wake[1], &b, 1);
    (void)r;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

/* ---- control bytes ------------------------------------------------------------ */

static int ctl_append(client *c, const void *data, size_t len)
{
    if (c->ctl_len + len > c->ctl_cap) {
        if (c->ctl_off) {
            memmove(c->ctl, c->ctl + c->ctl_off, c->ctl_len - c->ctl_off);
            c->ctl_len -= c->ctl_off;
            c->ctl_off = 0;
        }
        if (c->ctl_len + len > c->ctl_cap) {
            size_t cap = c->ctl_cap ? c->ctl_cap : 4096;
            while (cap < c->ctl_len + len) cap *= 2;
            if (cap > (1u << 20)) return -ENOBUFS; /* a client that never reads its replies */
            uint8_t *n = realloc(c->ctl, cap);
            if (!n) return -ENOMEM;
            c->ctl = n;
            c->ctl_cap = cap;
        }
    }
    memcpy(c->ctl + c->ctl_len, data, len);
    c->ctl_len += len;
    return 0;
}

static void reply(client *c, int code, int cseq, const char *extra, const char *body, size_t body_len)
{
    char buf[QCAM_RTSP_MAX_REQUEST];
    int n = qcam_rtsp_response(buf, sizeof buf, code, cseq, extra, body, body_len);
    if (n < 0) n = qcam_rtsp_response(buf, sizeof buf, 500, cseq, NULL, NULL, 0);
    if (n < 0 || ctl_append(c, buf, (size_t)n) < 0) c->dead = true;
}

/* ---- the send queue ------------------------------------------------------------ */

static au *q_at(client *c, unsigned i) { return c->q[(c->q_head + i) % QUEUE_FRAMES]; }

static void q_pop(client *c)
{
    au *a = c->q[c->q_head];
    c->q_bytes -= a->bytes;
    c->q_head = (c->q_head + 1) % QUEUE_FRAMES;
    c->q_len--;
    c->piece_i = 0;
    c->piece_off = 0;
    au_unref(a);
}

/* Drop what has not started going out; a frame half sent is finished first. */
static void q_drop_pending(client *c)
{
    unsigned keep = (c->q_len && (c->piece_i || c->piece_off)) ? 1 : 0;
    while (c->q_len > keep) {
        unsigned last = (c->q_head + c->q_len - 1) % QUEUE_FRAMES;
        au *a = c->q[last];
        if (a->track == TRACK_VIDEO) c->drops++;
        c->q_bytes -= a->bytes;
        c->q_len--;
        au_unref(a);
    }
}

static void q_clear(client *c)
{
    while (c->q_len) q_pop(c);
}

static void enqueue(client *c, au *a, bool live)
{
    if (!c->setup[a->track]) return;
    if (a->track == TRACK_VIDEO) {
        if (c->wait_key && !a->keyframe) {
            c->drops++;
            return;
        }
        c->wait_key = false;
    }
    if (c->q_len == QUEUE_FRAMES || c->q_bytes + a->bytes > QUEUE_BYTES) {
        if (a->track == TRACK_AUDIO) return; /* audio is cheap to lose and has no GOP */
        /* A slow client loses whole GOPs: everything not yet started, then
         * every frame up to the next keyframe. */
        q_drop_pending(c);
        if (!a->keyframe || c->q_len == QUEUE_FRAMES) {
            c->wait_key = true;
            c->drops++;
            return;
        }
    }
    c->q[(c->q_head + c->q_len) % QUEUE_FRAMES] = au_ref(a);
    c->q_live[(c->q_head + c->q_len) % QUEUE_FRAMES] = live;
    c->q_len++;
    c->q_bytes += a->bytes;
}

static void record_latency(qcam_rtsp_stream *st, int64_t ns)
{
    st->lat[st->lat_pos] = (float)(ns / 1000.0);
    st->lat_pos = (st->lat_pos + 1) % LAT_RING;
    if (st->lat_n < LAT_RING) st->lat_n++;
}

static void au_done(client *c, int64_t t)
{
    au *a = c->q[c->q_head];
    if (a->track == TRACK_VIDEO) {
        c->frames++;
        if (c->st && c->q_live[c->q_head]) record_latency(c->st, t - a->t_in);
    }
    q_pop(c);
}

static bool at_boundary(const client *c) { return c->piece_off == 0; }

/* Send the pending replies; false when the socket took less than all. */
static bool send_ctl(qcam_rtsp_server *s, client *c)
{
    (void)s;
    while (c->ctl_off < c->ctl_len) {
        ssize_t n = send(c->fd, c->ctl + c->ctl_off, c->ctl_len - c->ctl_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
            c->dead = true;
            return false;
        }
        c->ctl_off += (size_t)n;
        c->bytes += (size_t)n;
        c->last_progress = now_ns();
    }
    c->ctl_off = c->ctl_len = 0;
    return true;
}

/* TCP: one writev of the pending control bytes (replies, RTCP; only between
 * RTP packets) and up to MAX_PIECES packets from the queue, so a frame and
 * the sender report due with it cost one system call. 1 when all of it
 * went, 0 when the socket is full, -1 when the client is gone. */
static int send_tcp(client *c)
{
    struct iovec iov[1 + MAX_PIECES * 3];
    uint8_t pre[MAX_PIECES][4];
    int niov = 0, npieces = 0;
    size_t total = 0, ctl_n = 0;
    if (c->ctl_len > c->ctl_off && at_boundary(c)) {
        ctl_n = c->ctl_len - c->ctl_off;
        iov[niov++] = (struct iovec){c->ctl + c->ctl_off, ctl_n};
        total = ctl_n;
    }
    unsigned qi = 0, pi = c->piece_i;
    size_t off = c->piece_off;
    while (qi < c->q_len && npieces < MAX_PIECES) {
        au *a = q_at(c, qi);
        if (pi >= a->n) {
            qi++;
            pi = 0;
            continue;
        }
        const piece *p = &a->p[pi];
        const uint8_t *parts[2];
        size_t lens[2];
        int nparts;
        const uint8_t *w = a->flat + p->flat_off;
        if (c->ch[a->track][0] == 2 * a->track) {
            parts[0] = w; /* the framing made once for the usual channel */
            lens[0] = 4 + (size_t)p->head_len + p->body_len;
            nparts = 1;
        } else {
            uint8_t *x = pre[npieces];
            memcpy(x, w, 4);
            x[1] = (uint8_t)c->ch[a->track][0];
            parts[0] = x;
            lens[0] = 4;
            parts[1] = w + 4;
            lens[1] = (size_t)p->head_len + p->body_len;
            nparts = 2;
        }
        for (int k = 0; k < nparts; k++) {
            if (off >= lens[k]) {
                off -= lens[k];
                continue;
            }
            const uint8_t *b = parts[k] + off;
            size_t l = lens[k] - off;
            if (niov && (const uint8_t *)iov[niov - 1].iov_base + iov[niov - 1].iov_len == b) {
                iov[niov - 1].iov_len += l; /* the next packet of the same frame: contiguous */
            } else {
                iov[niov].iov_base = (void *)b;
                iov[niov].iov_len = l;
                niov++;
            }
            total += l;
            off = 0;
        }
        npieces++;
        pi++;
    }
    if (!niov) return 1;
    ssize_t n = writev(c->fd, iov, niov);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        c->dead = true;
        return -1;
    }
    int64_t t = now_ns();
    c->bytes += (size_t)n;
    if (n > 0) c->last_progress = t;
    size_t left = (size_t)n;
    if (ctl_n) {
        size_t k = left < ctl_n ? left : ctl_n;
        c->ctl_off += k;
        left -= k;
        if (c->ctl_off == c->ctl_len) c->ctl_off = c->ctl_len = 0;
    }
    while (left && c->q_len) {
        au *a = c->q[c->q_head];
        const piece *p = &a->p[c->piece_i];
        size_t rem = 4 + p->head_len + p->body_len - c->piece_off;
        if (left < rem) {
            c->piece_off += left;
            left = 0;
            break;
        }
        left -= rem;
        c->piece_off = 0;
        if (++c->piece_i >= a->n) au_done(c, t);
    }
    return (size_t)n == total ? 1 : 0;
}

/* UDP: one datagram per packet. */
static int send_udp(qcam_rtsp_server *s, client *c)
{
    while (c->q_len) {
        au *a = c->q[c->q_head];
        if (c->piece_i >= a->n) {
            au_done(c, now_ns());
            continue;
        }
        const piece *p = &a->p[c->piece_i];
        struct sockaddr_storage to = c->peer;
        if (to.ss_family == AF_INET) ((struct sockaddr_in *)&to)->sin_port = htons((uint16_t)c->port[a->track][0]);
        else ((struct sockaddr_in6 *)&to)->sin6_port = htons((uint16_t)c->port[a->track][0]);
        struct iovec iov[1] = {{a->flat + p->flat_off + 4, (size_t)p->head_len + p->body_len}};
        struct msghdr m = {.msg_name = &to, .msg_namelen = c->peer_len, .msg_iov = iov, .msg_iovlen = 1};
        ssize_t n = sendmsg(s->udp[0], &m, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
        /* Other errors lose the datagram, as the network would. */
        if (n > 0) c->bytes += (size_t)n;
        c->last_progress = now_ns();
        if (++c->piece_i >= a->n) au_done(c, c->last_progress);
    }
    return 1;
}

/* Send what the socket takes without blocking. Returns true when something
 * is still pending (the server thread then polls for POLLOUT). */
static bool flush_client(qcam_rtsp_server *s, client *c)
{
    if (c->dead) return false;
    for (;;) {
        if (c->tcp) {
            /* replies and RTCP go in the same writev as the RTP packets */
            if (!c->q_len && c->ctl_len <= c->ctl_off) break;
            if (send_tcp(c) <= 0) break;
            continue;
        }
        if (c->ctl_len > c->ctl_off && !send_ctl(s, c)) break;
        if (!c->q_len) break;
        if (send_udp(s, c) <= 0) break;
    }
    if (c->dead) return false;
    return c->q_len > 0 || c->ctl_len > c->ctl_off;
}

/* ---- streams: the sink ---------------------------------------------------------- */

static int collect_piece(void *opaque, const qcam_rtp_packet *p)
{
    qcam_rtsp_stream *st = opaque;
    if (st->scratch_len == st->scratch_cap) {
        unsigned cap = st->scratch_cap ? st->scratch_cap * 2 : 64;
        piece *n = realloc(st->scratch, cap * sizeof *n);
        if (!n) return 1;
        st->scratch = n;
        st->scratch_cap = cap;
    }
    piece *x = &st->scratch[st->scratch_len++];
    size_t plen = p->head_len + p->body_len;
    x->wire[0] = '$';
    x->wire[1] = (uint8_t)(2 * st->cur_track);
    x->wire[2] = (uint8_t)(plen >> 8);
    x->wire[3] = (uint8_t)plen;
    memcpy(x->wire + 4, p->head, p->head_len);
    x->head_len = (uint8_t)p->head_len;
    x->body_off = p->body_len ? (uint32_t)(p->body - st->cur_base) : 0;
    x->body_len = (uint32_t)p->body_len;
    return 0;
}

static void free_params(qcam_rtsp_stream *st)
{
    for (int i = 0; i < 3; i++) {
        free(st->params[i]);
        st->params[i] = NULL;
        st->params_len[i] = 0;
    }
    st->have_params = false;
}

static int set_params(qcam_rtsp_stream *st, const uint8_t *v, size_t vl, const uint8_t *sp, size_t sl,
                      const uint8_t *pp, size_t pl)
{
    if (!sp || !sl || !pp || !pl || (st->cfg.video == QCAM_CODEC_H265 && (!v || !vl))) return -EINVAL;
    const uint8_t *src[3] = {v, sp, pp};
    size_t len[3] = {vl, sl, pl};
    if (st->have_params) {
        bool same = true;
        for (int i = 0; i < 3; i++)
            if (len[i] != st->params_len[i] || (len[i] && memcmp(src[i], st->params[i], len[i]))) same = false;
        if (same) return 0;
    }
    free_params(st);
    for (int i = 0; i < 3; i++) {
        if (!len[i]) continue;
        st->params[i] = malloc(len[i]);
        if (!st->params[i]) {
            free_params(st);
            return -ENOMEM;
        }
        memcpy(st->params[i], src[i], len[i]);
        st->params_len[i] = len[i];
    }
    st->have_params = true;
    return 0;
}

static void gop_clear(qcam_rtsp_stream *st)
{
    for (unsigned i = 0; i < st->gop_len; i++) au_unref(st->gop[i]);
    st->gop_len = 0;
}

static void send_reports(qcam_rtsp_server *s, client *c, int64_t t);

static int stream_write(qcam_sink *sink, qcam_packet *pkt)
{
    qcam_rtsp_stream *st = (qcam_rtsp_stream *)sink;
    qcam_rtsp_server *s = st->srv;
    int track;
    if (QCAM_CODEC_IS_AUDIO(pkt->codec)) {
        if (pkt->codec != st->cfg.audio) return -EINVAL;
        track = TRACK_AUDIO;
    } else {
        if (pkt->codec != st->cfg.video) return -EINVAL;
        if (pkt->type == QCAM_PKT_HEADER && !pkt->keyframe) {
            /* parameter sets alone: remember them, nothing to send */
            qcam_annexb_params ps;
            qcam_annexb_find_params(pkt->codec, pkt->data, pkt->size, &ps);
            pthread_mutex_lock(&s->lock);
            if (ps.sps) set_params(st, ps.vps, ps.vps_len, ps.sps, ps.sps_len, ps.pps, ps.pps_len);
            pthread_mutex_unlock(&s->lock);
            wake(s);
            return 0;
        }
        track = TRACK_VIDEO;
    }
    int64_t t_in = now_ns();
    pthread_mutex_lock(&s->lock);
    bool had_params = st->have_params;
    if (track == TRACK_VIDEO && pkt->keyframe) {
        qcam_annexb_params ps;
        qcam_annexb_find_params(pkt->codec, pkt->data, pkt->size, &ps);
        if (ps.sps) set_params(st, ps.vps, ps.vps_len, ps.sps, ps.sps_len, ps.pps, ps.pps_len);
    }
    bool had_pts0 = st->have_pts0;
    if (!st->have_pts0) {
        st->have_pts0 = true;
        st->pts0_us = pkt->pts_us;
    }
    /* Sender reports map wall time to RTP time through this. It stays put
     * while the tracks keep time with the monotonic clock, so successive
     * reports lie on one line (a receiver that syncs by them sees no jumps;
     * audio and video reach write() with different delays); a source that
     * jumps moves it. */
    int64_t off = pkt->pts_us - t_in / 1000;
    if (!had_pts0 || off - st->pts_minus_mono_us > PTS_RESYNC_US || st->pts_minus_mono_us - off > PTS_RESYNC_US)
        st->pts_minus_mono_us = off;
    int64_t d = pkt->pts_us - st->pts0_us;
    uint32_t rtp_ts = st->rtp_base[track] + (uint32_t)(int64_t)((double)d * st->clock[track] / 1e6);
    uint16_t first_seq = st->rtp[track].seq;
    st->scratch_len = 0;
    st->cur_base = pkt->data;
    st->cur_track = track;
    int n = track == TRACK_VIDEO
                ? qcam_rtp_packetize_video(&st->rtp[track], pkt->data, pkt->size, rtp_ts, collect_piece, st)
                : qcam_rtp_packetize_audio(&st->rtp[track], pkt->data, pkt->size, rtp_ts, collect_piece, st);
    size_t flat_len = 0;
    for (int i = 0; i < n; i++) flat_len += 4 + (size_t)st->scratch[i].head_len + st->scratch[i].body_len;
    au *a = n > 0 ? malloc(sizeof *a + (size_t)n * sizeof(piece) + flat_len) : NULL;
    if (!a) {
        pthread_mutex_unlock(&s->lock);
        return n < 0 ? -ENOMEM : (n == 0 ? 0 : -ENOMEM);
    }
    atomic_init(&a->refs, 1);
    a->flat = (uint8_t *)&a->p[n];
    a->track = track;
    a->keyframe = track == TRACK_AUDIO || pkt->keyframe;
    a->t_in = t_in;
    a->rtp_ts = rtp_ts;
    a->first_seq = first_seq;
    a->n = (unsigned)n;
    a->bytes = 0;
    size_t fo = 0;
    for (int i = 0; i < n; i++) {
        piece *x = &a->p[i];
        *x = st->scratch[i];
        x->flat_off = (uint32_t)fo;
        memcpy(a->flat + fo, x->wire, 4 + (size_t)x->head_len);
        fo += 4 + (size_t)x->head_len;
        if (x->body_len) memcpy(a->flat + fo, pkt->data + x->body_off, x->body_len);
        fo += x->body_len;
        a->bytes += x->head_len + x->body_len;
    }
    st->frames++;
    st->bytes += pkt->size;
    if (track == TRACK_VIDEO) {
        st->video_frames++;
        if (st->cfg.fast_start) {
            if (pkt->keyframe) {
                gop_clear(st);
                st->gop_valid = true;
            }
            if (st->gop_valid) {
                if (st->gop_len == GOP_CACHE_MAX) {
                    gop_clear(st);
                    st->gop_valid = false;
                } else {
                    st->gop[st->gop_len++] = au_ref(a);
                }
            }
        }
    } else {
        st->audio_frames++;
    }
    bool need_wake = false;
    for (client *c = s->clients; c; c = c->next) {
        if (c->st != st || c->dead || c->state != C_PLAYING) continue;
        send_reports(s, c, t_in); /* when due: in the same writev as the frame */
        enqueue(c, a, true);
        bool pending = flush_client(s, c);
        if ((pending && !c->want_out) || c->dead) need_wake = true;
        if (pending) c->want_out = true;
    }
    if (!had_params && st->have_params) need_wake = true; /* DESCRIBEs waiting */
    pthread_mutex_unlock(&s->lock);
    au_unref(a);
    if (need_wake) wake(s);
    return 0;
}

static int stream_flush(qcam_sink *sink)
{
    (void)sink;
    return 0;
}

static const qcam_sink_ops stream_ops = {"rtsp", stream_write, stream_flush};

int qcam_rtsp_stream_add(qcam_rtsp_server *s, const char *path, const qcam_rtsp_stream_config *cfg,
                         qcam_rtsp_stream **out)
{
    if (!path || !cfg || (cfg->video != QCAM_CODEC_H264 && cfg->video != QCAM_CODEC_H265)) return -EINVAL;
    if (cfg->audio && cfg->audio != QCAM_CODEC_ALAW && cfg->audio != QCAM_CODEC_ULAW) return -EINVAL;
    char norm[128];
    while (*path == '/') path++;
    int nl = snprintf(norm, sizeof norm, "/%s", path);
    if (nl <= 1 || nl >= (int)sizeof norm) return -EINVAL;
    while (nl > 1 && norm[nl - 1] == '/') norm[--nl] = 0;
    for (const char *p = norm; *p; p++)
        if (*p <= ' ' || *p == '?' || *p == '#' || *p == '%' || (unsigned char)*p >= 127) return -EINVAL;
    qcam_rtsp_stream *st = calloc(1, sizeof *st);
    if (!st) return -ENOMEM;
    st->gop = calloc(GOP_CACHE_MAX, sizeof *st->gop);
    if (!st->gop) {
        free(st);
        return -ENOMEM;
    }
    st->base.ops = &stream_ops;
    st->srv = s;
    st->cfg = *cfg;
    snprintf(st->path, sizeof st->path, "%s", norm);
    if (cfg->sps && set_params(st, cfg->vps, cfg->vps_len, cfg->sps, cfg->sps_len, cfg->pps, cfg->pps_len) < 0) {
        free_params(st);
        free(st->gop);
        free(st);
        return -EINVAL;
    }
    pthread_mutex_lock(&s->lock);
    for (qcam_rtsp_stream *o = s->streams; o; o = o->next)
        if (!strcmp(o->path, st->path)) {
            pthread_mutex_unlock(&s->lock);
            free_params(st);
            free(st->gop);
            free(st);
            return -EEXIST;
        }
    for (int t = 0; t < 2; t++) {
        st->rtp[t].ssrc = (uint32_t)rnd(s);
        st->rtp[t].seq = (uint16_t)rnd(s);
        st->rtp[t].mtu = MTU;
        st->rtp_base[t] = (uint32_t)rnd(s);
    }
    st->rtp[0].payload_type = 96;
    st->rtp[0].codec = cfg->video;
    st->clock[0] = 90000;
    st->clock[1] = cfg->audio_rate ? cfg->audio_rate : 8000;
    st->rtp[1].codec = cfg->audio ? cfg->audio : QCAM_CODEC_ALAW;
    st->rtp[1].payload_type = st->clock[1] != 8000 ? 97 : cfg->audio == QCAM_CODEC_ULAW ? 0 : 8;
    st->encoder = cfg->encoder;
    qcam_rtsp_stream **tail = &s->streams; /* in the order they were added */
    while (*tail) tail = &(*tail)->next;
    *tail = st;
    pthread_mutex_unlock(&s->lock);
    *out = st;
    return 0;
}

qcam_sink *qcam_rtsp_stream_sink(qcam_rtsp_stream *st) { return &st->base; }
const char *qcam_rtsp_stream_path(const qcam_rtsp_stream *st) { return st->path; }

static void stream_free(qcam_rtsp_stream *st)
{
    gop_clear(st);
    free(st->gop);
    free(st->scratch);
    free_params(st);
    if (st->encoder) qcam_encoder_close(st->encoder);
    free(st);
}

/* Under the lock: detach the stream's clients (the server thread closes them). */
static void stream_detach(qcam_rtsp_server *s, qcam_rtsp_stream *st)
{
    for (client *c = s->clients; c; c = c->next)
        if (c->st == st) {
            c->st = NULL;
            c->dead = true;
        }
    for (qcam_rtsp_stream **pp = &s->streams; *pp; pp = &(*pp)->next)
        if (*pp == st) {
            *pp = st->next;
            break;
        }
}

void qcam_rtsp_stream_remove(qcam_rtsp_stream *st)
{
    if (!st) return;
    qcam_rtsp_server *s = st->srv;
    pthread_mutex_lock(&s->lock);
    stream_detach(s, st);
    pthread_mutex_unlock(&s->lock);
    wake(s);
    stream_free(st);
}

/* ---- requests ---------------------------------------------------------------- */

/* The path of an rtsp:// URL ("/live/track0"), without query, into out. */
static void url_path(const char *uri, char *out, size_t cap)
{
    const char *p = uri;
    if (!strncasecmp(p, "rtsp://", 7) || !strncasecmp(p, "rtspu://", 8)) {
        p = strchr(p + 7, '/');
        if (!p) p = "/";
    }
    size_t n = strcspn(p, "?#");
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    while (n > 1 && out[n - 1] == '/') out[--n] = 0;
}

/* The stream a URL names and the track (-1: the whole stream). */
static qcam_rtsp_stream *find_stream(qcam_rtsp_server *s, const char *uri, int *track)
{
    char path[300];
    url_path(uri, path, sizeof path);
    *track = -1;
    for (qcam_rtsp_stream *st = s->streams; st; st = st->next) {
        size_t l = strlen(st->path);
        if (strncmp(path, st->path, l)) continue;
        if (!path[l]) return st;
        if (!strcmp(path + l, "/track0")) {
            *track = TRACK_VIDEO;
            return st;
        }
        if (!strcmp(path + l, "/track1") && st->cfg.audio) {
            *track = TRACK_AUDIO;
            return st;
        }
    }
    return NULL;
}

static void local_ip(client *c, char *out, size_t cap)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    snprintf(out, cap, "0.0.0.0");
    if (getsockname(c->fd, (struct sockaddr *)&a, &l) == 0)
        getnameinfo((struct sockaddr *)&a, l, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
}

/* Parameter sets for the SDP: known, or the encoder's. */
static bool stream_params(qcam_rtsp_stream *st)
{
    if (st->have_params) return true;
    if (!st->encoder) return false;
    qcam_param_sets ps;
    if (qcam_encoder_parameter_sets(st->encoder, &ps) < 0) return false;
    set_params(st, ps.vps ? ps.vps->data : NULL, ps.vps ? ps.vps->size : 0, ps.sps->data, ps.sps->size,
               ps.pps->data, ps.pps->size);
    qcam_param_sets_release(&ps);
    return st->have_params;
}

static void send_describe(qcam_rtsp_server *s, client *c, qcam_rtsp_stream *st, int cseq, const char *uri)
{
    char ip[64], sdp[4096], extra[512];
    local_ip(c, ip, sizeof ip);
    qcam_sdp_stream d = {
        .codec = st->cfg.video,
        .vps = st->params[0], .vps_len = st->params_len[0],
        .sps = st->params[1], .sps_len = st->params_len[1],
        .pps = st->params[2], .pps_len = st->params_len[2],
        .audio = st->cfg.audio == QCAM_CODEC_ALAW ? QCAM_SDP_PCMA : st->cfg.audio == QCAM_CODEC_ULAW ? QCAM_SDP_PCMU : 0,
        .audio_rate = st->clock[1],
    };
    int n = qcam_sdp_build(sdp, sizeof sdp, &d, rnd(s) >> 1, ip);
    if (n < 0) {
        reply(c, 500, cseq, NULL, NULL, 0);
        return;
    }
    size_t ul = strlen(uri);
    snprintf(extra, sizeof extra, "Content-Type: application/sdp\r\nContent-Base: %s%s\r\n", uri,
             ul && uri[ul - 1] == '/' ? "" : "/");
    reply(c, 200, cseq, extra, sdp, (size_t)n);
}

static bool session_ok(client *c, const qcam_rtsp_request *r)
{
    const char *h = qcam_rtsp_header_get(r, "Session");
    if (!h) return false;
    while (*h == ' ') h++;
    char want[32];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)c->session);
    size_t n = strcspn(h, "; \t");
    return c->session && n == strlen(want) && !strncasecmp(h, want, n);
}

static void session_extra(qcam_rtsp_server *s, client *c, char *out, size_t cap)
{
    snprintf(out, cap, "Session: %016llx;timeout=%u\r\n", (unsigned long long)c->session, s->cfg.session_timeout_s);
}

static uint32_t rtp_now(qcam_rtsp_stream *st, int track, int64_t t)
{
    int64_t pts_now = t / 1000 + st->pts_minus_mono_us;
    int64_t d = pts_now - st->pts0_us;
    return st->rtp_base[track] + (uint32_t)(int64_t)((double)d * st->clock[track] / 1e6);
}

static void handle_setup(qcam_rtsp_server *s, client *c, const qcam_rtsp_request *r)
{
    int track;
    qcam_rtsp_stream *st = find_stream(s, r->uri, &track);
    if (!st) {
        reply(c, 404, r->cseq, NULL, NULL, 0);
        return;
    }
    if (track < 0) track = TRACK_VIDEO; /* SETUP on the stream itself: its video */
    if (c->session && (!session_ok(c, r) && qcam_rtsp_header_get(r, "Session"))) {
        reply(c, 454, r->cseq, NULL, NULL, 0);
        return;
    }
    if (c->st && c->st != st) {
        reply(c, 459, r->cseq, NULL, NULL, 0); /* one stream per session */
        return;
    }
    const char *tv = qcam_rtsp_header_get(r, "Transport");
    qcam_rtsp_transport tr;
    int e = tv ? qcam_rtsp_parse_transport(tv, &tr) : -461;
    if (e < 0 || tr.multicast || (!tr.tcp && (tr.client_port[0] < 0 || s->udp_port <= 0)) ||
        (c->session && (c->setup[0] || c->setup[1]) && tr.tcp != c->tcp)) {
        reply(c, e == -400 ? 400 : 461, r->cseq, NULL, NULL, 0);
        return;
    }
    if (!c->session) {
        c->session = rnd(s) | 1;
        s->sessions++;
        c->state = C_READY;
    }
    c->st = st;
    c->tcp = tr.tcp;
    c->setup[track] = true;
    char tbuf[200], extra[400];
    if (tr.tcp) {
        c->ch[track][0] = tr.interleaved[0] >= 0 ? tr.interleaved[0] : 2 * track;
        c->ch[track][1] = tr.interleaved[1] >= 0 ? tr.interleaved[1] : c->ch[track][0] + 1;
        snprintf(tbuf, sizeof tbuf, "RTP/AVP/TCP;unicast;interleaved=%d-%d;ssrc=%08X", c->ch[track][0],
                 c->ch[track][1], (unsigned)st->rtp[track].ssrc);
    } else {
        c->port[track][0] = tr.client_port[0];
        c->port[track][1] = tr.client_port[1] >= 0 ? tr.client_port[1] : tr.client_port[0] + 1;
        snprintf(tbuf, sizeof tbuf, "RTP/AVP;unicast;client_port=%d-%d;server_port=%d-%d;ssrc=%08X",
                 c->port[track][0], c->port[track][1], s->udp_port, s->udp_port + 1,
                 (unsigned)st->rtp[track].ssrc);
    }
    char sess[80];
    session_extra(s, c, sess, sizeof sess);
    snprintf(extra, sizeof extra, "Transport: %s\r\n%s", tbuf, sess);
    reply(c, 200, r->cseq, extra, NULL, 0);
}

static void handle_play(qcam_rtsp_server *s, client *c, const qcam_rtsp_request *r)
{
    if (!session_ok(c, r)) {
        reply(c, 454, r->cseq, NULL, NULL, 0);
        return;
    }
    qcam_rtsp_stream *st = c->st;
    if (!st || (!c->setup[0] && !c->setup[1])) {
        reply(c, 455, r->cseq, NULL, NULL, 0);
        return;
    }
    char sess[80], extra[700], info[500] = "";
    session_extra(s, c, sess, sizeof sess);
    if (c->state == C_PLAYING) {
        reply(c, 200, r->cseq, sess, NULL, 0);
        return;
    }
    bool cached = st->cfg.fast_start && st->gop_valid && st->gop_len > 0;
    int64_t t = now_ns();
    char base[300];
    snprintf(base, sizeof base, "%s", r->uri);
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/') base[--bl] = 0;
    size_t il = 0;
    for (int k = 0; k < 2; k++) {
        if (!c->setup[k]) continue;
        uint16_t seq = st->rtp[k].seq;
        uint32_t ts = st->have_pts0 ? rtp_now(st, k, t) : st->rtp_base[k];
        if (k == TRACK_VIDEO && cached) {
            seq = st->gop[0]->first_seq;
            ts = st->gop[0]->rtp_ts;
        }
        il += (size_t)snprintf(info + il, sizeof info - il, "%surl=%s/track%d;seq=%u;rtptime=%u", il ? "," : "",
                               base, k, seq, ts);
        if (il >= sizeof info) break;
    }
    snprintf(extra, sizeof extra, "Range: npt=0.000-\r\nRTP-Info: %s\r\n%s", info, sess);
    reply(c, 200, r->cseq, extra, NULL, 0);
    c->state = C_PLAYING;
    c->next_sr = t; /* a sender report right away, then every second */
    c->wait_key = true;
    if (cached && c->setup[TRACK_VIDEO] && c->frames == 0) {
        for (unsigned i = 0; i < st->gop_len; i++) enqueue(c, st->gop[i], false);
    } else if (st->encoder && st->cfg.fast_start && st->video_frames > 0) {
        /* Nothing cached (or a resume): a keyframe now. Before the stream's
         * first frame there is no need, encoders start with one. */
        qcam_encoder_request_idr(st->encoder);
    }
}

static void handle_request(qcam_rtsp_server *s, client *c, const qcam_rtsp_request *r)
{
    c->last_activity = now_ns();
    if (r->cseq < 0) {
        reply(c, 400, -1, NULL, NULL, 0);
        c->close_after_ctl = true;
        return;
    }
    if (c->reject) {
        reply(c, 503, r->cseq, NULL, NULL, 0);
        c->close_after_ctl = true;
        return;
    }
    switch (r->method) {
    case QCAM_RTSP_OPTIONS:
    case QCAM_RTSP_DESCRIBE:
    case QCAM_RTSP_SETUP:
    case QCAM_RTSP_PLAY:
    case QCAM_RTSP_PAUSE:
    case QCAM_RTSP_TEARDOWN:
    case QCAM_RTSP_GET_PARAMETER:
    case QCAM_RTSP_SET_PARAMETER:
        break;
    default:
        reply(c, 501, r->cseq, "Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n", NULL, 0);
        return;
    }
    if (s->user[0] && r->method != QCAM_RTSP_OPTIONS) {
        const char *a = qcam_rtsp_header_get(r, "Authorization");
        if (!a || !qcam_digest_check(a, r->method_name, s->user, s->password, "qcam", s->nonce)) {
            char ch[300];
            if (qcam_digest_challenge(ch, sizeof ch, "qcam", s->nonce) < 0) ch[0] = 0;
            reply(c, 401, r->cseq, ch, NULL, 0);
            return;
        }
    }
    int track;
    switch (r->method) {
    case QCAM_RTSP_OPTIONS:
        reply(c, 200, r->cseq, "Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n", NULL, 0);
        break;
    case QCAM_RTSP_DESCRIBE: {
        qcam_rtsp_stream *st = find_stream(s, r->uri, &track);
        if (!st || track >= 0) {
            reply(c, 404, r->cseq, NULL, NULL, 0);
        } else if (stream_params(st)) {
            send_describe(s, c, st, r->cseq, r->uri);
        } else {
            /* No parameter sets yet: wait for the first keyframe. */
            c->describe_wait = true;
            c->describe_cseq = r->cseq;
            c->describe_deadline = now_ns() + DESCRIBE_WAIT_NS;
            snprintf(c->describe_uri, sizeof c->describe_uri, "%s", r->uri);
            if (st->encoder && st->video_frames > 0) qcam_encoder_request_idr(st->encoder);
        }
        break;
    }
    case QCAM_RTSP_SETUP: handle_setup(s, c, r); break;
    case QCAM_RTSP_PLAY: handle_play(s, c, r); break;
    case QCAM_RTSP_PAUSE: {
        char sess[80];
        if (!session_ok(c, r)) {
            reply(c, 454, r->cseq, NULL, NULL, 0);
            break;
        }
        session_extra(s, c, sess, sizeof sess);
        if (c->state == C_PLAYING) {
            c->state = C_PAUSED;
            q_drop_pending(c);
        }
        reply(c, 200, r->cseq, sess, NULL, 0);
        break;
    }
    case QCAM_RTSP_TEARDOWN: {
        char sess[80];
        if (!session_ok(c, r)) {
            reply(c, 454, r->cseq, NULL, NULL, 0);
            break;
        }
        session_extra(s, c, sess, sizeof sess);
        c->state = C_INIT;
        q_drop_pending(c);
        reply(c, 200, r->cseq, sess, NULL, 0);
        c->close_after_ctl = true;
        break;
    }
    default: /* GET_PARAMETER / SET_PARAMETER: keep-alive */
        if (qcam_rtsp_header_get(r, "Session") && !session_ok(c, r)) {
            reply(c, 454, r->cseq, NULL, NULL, 0);
        } else if (c->session) {
            char sess[80];
            session_extra(s, c, sess, sizeof sess);
            reply(c, 200, r->cseq, sess, NULL, 0);
        } else {
            reply(c, 200, r->cseq, NULL, NULL, 0);
        }
        break;
    }
}

/* Parse what arrived: interleaved frames (the client's RTCP) and requests. */
static void process_input(qcam_rtsp_server *s, client *c)
{
    size_t pos = 0;
    while (pos < c->in_len && !c->dead && !c->close_after_ctl && !c->describe_wait) {
        uint8_t ch;
        const uint8_t *payload;
        size_t plen, used;
        int k = qcam_rtsp_next_interleaved(c->in + pos, c->in_len - pos, &ch, &payload, &plen, &used);
        if (k == 0) break;
        if (k == 1) {
            c->last_activity = now_ns();
            pos += used;
            continue;
        }
        int r = qcam_rtsp_parse_request(c->in + pos, c->in_len - pos, &s->req);
        if (r == 0) {
            if (c->in_len - pos >= QCAM_RTSP_MAX_REQUEST) r = -413;
            else break;
        }
        if (r < 0) {
            reply(c, -r, -1, NULL, NULL, 0);
            c->close_after_ctl = true;
            pos = c->in_len;
            break;
        }
        pos += (size_t)r;
        handle_request(s, c, &s->req);
    }
    if (pos) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
}

static void read_client(qcam_rtsp_server *s, client *c)
{
    for (;;) {
        if (c->in_len == IN_CAP) {
            /* cannot happen with a bounded parser; be safe */
            reply(c, 413, -1, NULL, NULL, 0);
            c->close_after_ctl = true;
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (n == 0) {
            /* Not dead yet: the replies to the requests it sent (a 400 for a
             * malformed one, a DESCRIBE still waiting) go out first; reap()
             * closes it then. Nothing more is read. */
            c->eof = true;
            return;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) c->dead = true;
            break;
        }
        c->in_len += (size_t)n;
        if (c->close_after_ctl) c->in_len = 0; /* ignore the rest */
        else process_input(s, c);
        if (c->dead || c->describe_wait) break;
    }
}

/* ---- connections --------------------------------------------------------------- */

static void client_free(client *c)
{
    q_clear(c);
    if (c->fd >= 0) close(c->fd);
    free(c->q);
    free(c->q_live);
    free(c->in);
    free(c->ctl);
    free(c);
}

static void accept_clients(qcam_rtsp_server *s)
{
    for (;;) {
        struct sockaddr_storage a;
        socklen_t l = sizeof a;
        int fd = accept(s->listen_fd, (struct sockaddr *)&a, &l);
        if (fd < 0) return;
        if (s->n_clients >= s->cfg.max_clients + OVERFLOW_CONNS || set_nonblock(fd) < 0) {
            s->rejected++;
            close(fd);
            continue;
        }
        client *c = calloc(1, sizeof *c);
        if (c) {
            c->in = malloc(IN_CAP);
            c->q = calloc(QUEUE_FRAMES, sizeof *c->q);
            c->q_live = calloc(QUEUE_FRAMES, sizeof *c->q_live);
        }
        if (!c || !c->in || !c->q || !c->q_live) {
            if (c) {
                free(c->in);
                free(c->q);
                free(c->q_live);
                free(c);
            }
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->peer = a;
        c->peer_len = l;
        char host[48] = "?", serv[16] = "?";
        getnameinfo((struct sockaddr *)&a, l, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(c->address, sizeof c->address, "%s:%s", host, serv);
        c->last_activity = c->last_progress = now_ns();
        unsigned active = 0;
        for (client *o = s->clients; o; o = o->next)
            if (!o->reject) active++;
        if (active >= s->cfg.max_clients) {
            c->reject = true;
            s->rejected++;
        }
        c->next = s->clients;
        s->clients = c;
        s->n_clients++;
    }
}

/* Sender reports (one per track) to a playing client, about every second. */
static void send_reports(qcam_rtsp_server *s, client *c, int64_t t)
{
    qcam_rtsp_stream *st = c->st;
    if (!st || c->state != C_PLAYING || !st->have_pts0 || t < c->next_sr) return;
    c->next_sr = t + 1000000000LL;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t ntp = ((uint64_t)(wall.tv_sec + 2208988800LL) << 32) |
                   (uint64_t)(((uint64_t)wall.tv_nsec << 32) / 1000000000ULL);
    for (int k = 0; k < 2; k++) {
        if (!c->setup[k]) continue;
        uint8_t buf[4 + 256];
        int n = qcam_rtcp_sender_report(buf + 4, sizeof buf - 4, &st->rtp[k], ntp, rtp_now(st, k, t), "qcam");
        if (n <= 0) continue;
        if (c->tcp) {
            buf[0] = '$';
            buf[1] = (uint8_t)c->ch[k][1];
            buf[2] = (uint8_t)(n >> 8);
            buf[3] = (uint8_t)n;
            if (ctl_append(c, buf, (size_t)n + 4) < 0) c->dead = true;
        } else {
            struct sockaddr_storage to = c->peer;
            if (to.ss_family == AF_INET) ((struct sockaddr_in *)&to)->sin_port = htons((uint16_t)c->port[k][1]);
            else ((struct sockaddr_in6 *)&to)->sin6_port = htons((uint16_t)c->port[k][1]);
            ssize_t w = sendto(s->udp[1], buf + 4, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&to, c->peer_len);
            if (w > 0) c->bytes += (size_t)w;
        }
    }
}

/* Note receiver reports over UDP as a sign of life of the client they come from. */
static void read_udp(qcam_rtsp_server *s, int fd)
{
    for (int i = 0; i < 64; i++) {
        uint8_t buf[2048];
        struct sockaddr_storage a;
        socklen_t l = sizeof a;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&a, &l);
        if (n < 0) return;
        for (client *c = s->clients; c; c = c->next) {
            if (c->tcp || c->peer.ss_family != a.ss_family) continue;
            bool same = a.ss_family == AF_INET
                            ? ((struct sockaddr_in *)&a)->sin_addr.s_addr == ((struct sockaddr_in *)&c->peer)->sin_addr.s_addr
                            : !memcmp(&((struct sockaddr_in6 *)&a)->sin6_addr, &((struct sockaddr_in6 *)&c->peer)->sin6_addr, 16);
            int port = ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port : ((struct sockaddr_in6 *)&a)->sin6_port);
            if (same && (port == c->port[0][1] || port == c->port[1][1] || port == c->port[0][0] || port == c->port[1][0]))
                c->last_activity = now_ns();
        }
    }
}

static void housekeeping(qcam_rtsp_server *s, int64_t t)
{
    for (client *c = s->clients; c; c = c->next) {
        if (c->dead) continue;
        if (c->describe_wait) {
            qcam_rtsp_stream *st = NULL;
            int track;
            st = find_stream(s, c->describe_uri, &track);
            if (st && stream_params(st)) {
                c->describe_wait = false;
                c->last_activity = t;
                send_describe(s, c, st, c->describe_cseq, c->describe_uri);
                process_input(s, c); /* requests that came meanwhile */
            } else if (!st || t >= c->describe_deadline) {
                c->describe_wait = false;
                c->last_activity = t;
                reply(c, st ? 503 : 404, c->describe_cseq, st ? "Retry-After: 1\r\n" : NULL, NULL, 0);
                process_input(s, c);
            }
        }
        if (c->describe_wait) continue; /* the server is the one keeping it waiting */
        if (t - c->last_activity > (int64_t)s->cfg.session_timeout_s * 1000000000LL) {
            c->dead = true;
            continue;
        }
        if ((c->q_len || c->ctl_len > c->ctl_off) && t - c->last_progress > (int64_t)s->cfg.stall_timeout_ms * 1000000LL) {
            c->dead = true;
            s->dropped_clients++;
            continue;
        }
        /* write() sends due reports with the next frame; this is for a
         * stream that gets none */
        if (t >= c->next_sr + SR_GRACE_NS) send_reports(s, c, t);
    }
}

static void reap(qcam_rtsp_server *s)
{
    for (client **pp = &s->clients; *pp;) {
        client *c = *pp;
        bool answered = c->ctl_off >= c->ctl_len;
        if (c->dead || (c->close_after_ctl && answered) || (c->eof && !c->describe_wait && answered)) {
            *pp = c->next;
            s->n_clients--;
            client_free(c);
        } else {
            pp = &c->next;
        }
    }
}

static void *server_main(void *arg)
{
    qcam_rtsp_server *s = arg;
    qcam_platform_name_thread("qcam-rtsp");
    struct pollfd *pf = NULL;
    client **who = NULL;
    size_t cap = 0;
    int64_t drain_deadline = 0;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int64_t t = now_ns();
        if (s->stopping) {
            if (!drain_deadline) drain_deadline = t + DRAIN_NS;
            bool pending = false;
            for (client *c = s->clients; c; c = c->next)
                if (!c->dead && c->tcp && (c->q_len || c->ctl_len > c->ctl_off)) pending = true;
            if (!pending || t >= drain_deadline) {
                pthread_mutex_unlock(&s->lock);
                break;
            }
        }
        size_t need = 5 + s->n_clients;
        if (need > cap) {
            struct pollfd *npf = realloc(pf, need * sizeof *pf);
            client **nw = npf ? realloc(who, need * sizeof *who) : NULL;
            if (npf) pf = npf;
            if (nw) who = nw;
            if (!npf || !nw) {
                pthread_mutex_unlock(&s->lock);
                poll(NULL, 0, 10);
                continue;
            }
            cap = need;
        }
        size_t n = 0;
        bool udp_out = false, busy = false;
        pf[n++] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = s->stopping ? -1 : s->listen_fd, .events = POLLIN};
        for (int k = 0; k < 2; k++) pf[n++] = (struct pollfd){.fd = s->udp[k], .events = POLLIN};
        for (client *c = s->clients; c; c = c->next) {
            short ev = 0;
            if (!s->stopping && !c->close_after_ctl && !c->describe_wait && !c->eof) ev |= POLLIN;
            c->want_out = c->q_len > 0 || c->ctl_len > c->ctl_off;
            if (c->want_out && c->tcp) ev |= POLLOUT;
            if (c->want_out && !c->tcp && c->q_len) udp_out = true;
            if (c->want_out && !c->tcp && c->ctl_len > c->ctl_off) ev |= POLLOUT;
            if (c->want_out || c->describe_wait) busy = true;
            who[n] = c;
            pf[n++] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        if (udp_out) pf[2].events |= POLLOUT;
        pthread_mutex_unlock(&s->lock);

        /* Stall checks and DESCRIBEs waiting for parameter sets need a short
         * period; otherwise only session timeouts and sender reports for
         * streams without frames, which write() wakes for when it matters. */
        int timeout = s->stopping ? 20 : busy ? 100 : IDLE_POLL_MS;
        int r = poll(pf, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) poll(NULL, 0, 1);

        pthread_mutex_lock(&s->lock);
        t = now_ns();
        if (pf[0].revents & POLLIN) {
            char buf[256];
            while (read(s->wake[0], buf, sizeof buf) > 0) {
            }
        }
        if (!s->stopping && (pf[1].revents & POLLIN)) accept_clients(s);
        for (int k = 0; k < 2; k++)
            if (pf[2 + k].revents & POLLIN) read_udp(s, s->udp[k]);
        /* Clients may have been added at the front: `who` still names the
         * ones polled, all alive (only this thread frees clients). */
        for (size_t i = 4; i < n; i++) {
            client *c = who[i];
            short re = pf[i].revents;
            if (re & POLLIN) read_client(s, c);
            else if (re & (POLLHUP | POLLERR | POLLNVAL)) c->dead = true;
        }
        for (client *c = s->clients; c; c = c->next)
            if (!c->dead && (c->q_len || c->ctl_len > c->ctl_off)) flush_client(s, c);
        if (!s->stopping) housekeeping(s, t);
        for (client *c = s->clients; c; c = c->next)
            if (!c->dead && (c->q_len || c->ctl_len > c->ctl_off)) flush_client(s, c);
        reap(s);
        pthread_mutex_unlock(&s->lock);
    }
    free(pf);
    free(who);
    return NULL;
}

/* ---- the server ------------------------------------------------------------------ */

static int open_udp_pair(qcam_rtsp_server *s, const struct sockaddr *base, socklen_t blen)
{
    /* An even port for RTP and the next one for RTCP (RFC 3550 11). */
    for (int attempt = 0; attempt < 64; attempt++) {
        int port = 20000 + 2 * (int)(rnd(s) % 20000);
        int fds[2] = {-1, -1};
        bool ok = true;
        for (int k = 0; k < 2 && ok; k++) {
            struct sockaddr_storage a;
            memcpy(&a, base, blen);
            if (a.ss_family == AF_INET) ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)(port + k));
            else ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)(port + k));
            fds[k] = socket(a.ss_family, SOCK_DGRAM, 0);
            if (fds[k] < 0 || bind(fds[k], (struct sockaddr *)&a, blen) < 0 || set_nonblock(fds[k]) < 0) ok = false;
        }
        if (ok) {
            int sz = 4 << 20;
            setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
            s->udp[0] = fds[0];
            s->udp[1] = fds[1];
            s->udp_port = port;
            return 0;
        }
        for (int k = 0; k < 2; k++)
            if (fds[k] >= 0) close(fds[k]);
    }
    return -EADDRINUSE;
}

static void server_free(qcam_rtsp_server *s)
{
    while (s->clients) {
        client *c = s->clients;
        s->clients = c->next;
        client_free(c);
    }
    while (s->streams) {
        qcam_rtsp_stream *st = s->streams;
        s->streams = st->next;
        stream_free(st);
    }
    int fds[5] = {s->listen_fd, s->wake[0], s->wake[1], s->udp[0], s->udp[1]};
    for (int i = 0; i < 5; i++)
        if (fds[i] >= 0) close(fds[i]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int qcam_rtsp_server_start(const qcam_rtsp_server_config *cfg, qcam_rtsp_server **out)
{
    if (!cfg || cfg->port < 0 || cfg->port > 65535 || !cfg->max_clients) return -EINVAL;
    qcam_rtsp_server *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->cfg = *cfg;
    if (!s->cfg.session_timeout_s) s->cfg.session_timeout_s = 60;
    if (!s->cfg.stall_timeout_ms) s->cfg.stall_timeout_ms = 10000;
    s->listen_fd = s->wake[0] = s->wake[1] = s->udp[0] = s->udp[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    if (cfg->user) {
        snprintf(s->user, sizeof s->user, "%s", cfg->user);
        snprintf(s->password, sizeof s->password, "%s", cfg->password ? cfg->password : "");
    }
    s->cfg.user = s->cfg.password = NULL;
    s->cfg.host = NULL;
    uint8_t seed[24] = {0};
    int rf = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (rf >= 0) {
        ssize_t g = read(rf, seed, sizeof seed);
        (void)g;
        close(rf);
    }
    uint64_t x;
    memcpy(&x, seed, 8);
    s->rng = x ^ (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
    if (!s->rng) s->rng = 1;
    qcam_digest_nonce(s->nonce, seed + 8, rnd(s));

    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%d", cfg->port);
    int e = getaddrinfo(cfg->host && *cfg->host ? cfg->host : "0.0.0.0", port, &hints, &ai);
    if (e || !ai) {
        server_free(s);
        return -EINVAL;
    }
    int err = 0;
    s->listen_fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int one = 1;
    if (s->listen_fd < 0) err = -errno;
    else {
        setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s->listen_fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(s->listen_fd, 64) < 0) err = -errno;
        else err = set_nonblock(s->listen_fd);
    }
    if (!err) {
        struct sockaddr_storage a;
        socklen_t l = sizeof a;
        getsockname(s->listen_fd, (struct sockaddr *)&a, &l);
        s->port = ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port
                                               : ((struct sockaddr_in6 *)&a)->sin6_port);
        struct sockaddr_storage ub;
        memcpy(&ub, ai->ai_addr, ai->ai_addrlen);
        err = open_udp_pair(s, (struct sockaddr *)&ub, ai->ai_addrlen);
        if (err) s->udp_port = 0, err = 0; /* TCP only */
    }
    freeaddrinfo(ai);
    if (!err && pipe(s->wake) < 0) err = -errno;
    if (!err) {
        set_nonblock(s->wake[0]);
        set_nonblock(s->wake[1]);
        if (pthread_create(&s->thread, NULL, server_main, s) != 0) err = -EAGAIN;
        else s->thread_started = true;
    }
    if (err) {
        server_free(s);
        return err;
    }
    *out = s;
    return 0;
}

int qcam_rtsp_server_port(const qcam_rtsp_server *s) { return s->port; }

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void percentiles(float *v, unsigned n, double *p50, double *p99)
{
    *p50 = *p99 = 0;
    if (!n) return;
    qsort(v, n, sizeof *v, cmp_float);
    *p50 = v[(n - 1) / 2];
    *p99 = v[(unsigned)((n - 1) * 0.99)];
}

static int stats_locked(qcam_rtsp_server *s, qcam_rtsp_server_stats *o)
{
    memset(o, 0, sizeof *o);
    unsigned nc = 0, ns = 0, nlat = 0;
    for (client *c = s->clients; c; c = c->next) nc++;
    for (qcam_rtsp_stream *st = s->streams; st; st = st->next) {
        ns++;
        nlat += st->lat_n;
    }
    o->clients = calloc(nc ? nc : 1, sizeof *o->clients);
    o->streams = calloc(ns ? ns : 1, sizeof *o->streams);
    float *all = malloc((nlat ? nlat : 1) * sizeof(float));
    float *one = malloc(LAT_RING * sizeof(float));
    if (!o->clients || !o->streams || !all || !one) {
        free(all);
        free(one);
        qcam_rtsp_stats_free(o);
        return -ENOMEM;
    }
    unsigned i = 0;
    for (client *c = s->clients; c; c = c->next) {
        if (c->reject) continue;
        qcam_rtsp_client_stats *x = &o->clients[i++];
        snprintf(x->address, sizeof x->address, "%s", c->address);
        snprintf(x->path, sizeof x->path, "%s", c->st ? c->st->path : "");
        x->tcp = c->session ? c->tcp : true;
        x->state = state_names[c->state];
        x->frames = c->frames;
        x->bytes = c->bytes;
        x->drops = c->drops;
        x->queued = c->q_len;
    }
    o->n_clients = i;
    i = 0;
    unsigned al = 0;
    for (qcam_rtsp_stream *st = s->streams; st; st = st->next) {
        qcam_rtsp_stream_stats *x = &o->streams[i++];
        snprintf(x->path, sizeof x->path, "%s", st->path);
        for (client *c = s->clients; c; c = c->next)
            if (c->st == st && c->state == C_PLAYING && !c->dead) x->clients++;
        x->frames = st->frames;
        x->bytes = st->bytes;
        x->video_frames = st->video_frames;
        x->audio_frames = st->audio_frames;
        memcpy(one, st->lat, st->lat_n * sizeof(float));
        memcpy(all + al, st->lat, st->lat_n * sizeof(float));
        al += st->lat_n;
        percentiles(one, st->lat_n, &x->latency_p50_us, &x->latency_p99_us);
    }
    o->n_streams = i;
    percentiles(all, al, &o->latency_p50_us, &o->latency_p99_us);
    o->sessions = s->sessions;
    o->rejected = s->rejected;
    o->dropped_clients = s->dropped_clients;
    free(all);
    free(one);
    return 0;
}

int qcam_rtsp_server_stats_get(qcam_rtsp_server *s, qcam_rtsp_server_stats *out)
{
    pthread_mutex_lock(&s->lock);
    int r = stats_locked(s, out);
    pthread_mutex_unlock(&s->lock);
    return r;
}

void qcam_rtsp_stats_free(qcam_rtsp_server_stats *st)
{
    if (!st) return;
    free(st->clients);
    free(st->streams);
    st->clients = NULL;
    st->streams = NULL;
    st->n_clients = st->n_streams = 0;
}

void qcam_rtsp_server_stop(qcam_rtsp_server *s, qcam_rtsp_server_stats *final)
{
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_mutex_unlock(&s->lock);
    wake(s);
    if (s->thread_started) pthread_join(s->thread, NULL);
    if (final && stats_locked(s, final) < 0) memset(final, 0, sizeof *final);
    server_free(s);
}
