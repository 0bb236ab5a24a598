/* The publisher core shared by RTMP (rtmp_publish.c) and RTSP
 * (rtsp_push.c): the bounded queue, the stats, and the socket helpers, on
 * the network client core (../media/netclient.h: the I/O thread with its
 * reconnect and back-off, the connect). What a session says on the wire is
 * a pub_proto. Private to host-modules/publish. */
#ifndef QCAM_PUB_CORE_H
#define QCAM_PUB_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../media/netclient.h"
#include "publish.h"
#include "rtmp_proto.h"

typedef struct pub_proto {
    const char *kind; /* "rtmp", "rtsp" */
    /* queue (rather than drop) while connecting: RTSP describes the stream
     * from its first keyframe, so the session starts after the stream does */
    bool queue_connecting;
    /* connect and set up: 0 when the server takes media */
    int (*start)(qcam_rtmp_publisher *p);
    /* send one queued packet: 0, or < 0 when the connection is finished */
    int (*send)(qcam_rtmp_publisher *p, qcam_packet *k);
    /* end the publication politely (close() after the drain) */
    void (*stop)(qcam_rtmp_publisher *p);
    /* handle what is in p->rbuf[0..p->rlen): bytes consumed (0: need more), or < 0 */
    int (*input)(qcam_rtmp_publisher *p, size_t *consumed);
    /* forget the session (the socket is closed by the core) */
    void (*end)(qcam_rtmp_publisher *p);
    /* called about once a second while publishing (keep-alives): 0 or < 0 */
    int (*tick)(qcam_rtmp_publisher *p);
    void (*free)(qcam_rtmp_publisher *p);
} pub_proto;

struct qcam_rtmp_publisher {
    qcam_sink base; /* first: the link sees a qcam_sink */
    qcam_rtmp_config cfg;
    const pub_proto *proto; /* RTMP or RTSP: what a session says on the wire */
    qcam_rtmp_url url;      /* RTMP */
    struct rtsp_push *rtsp; /* RTSP: the URL and the session (rtsp_push.c) */
    qcam_netclient net; /* its lock guards the queue, the parameter sets, the stats, the flags */

    qcam_packet **ring;
    unsigned head, count, cap;
    size_t qbytes;
    bool need_key;   /* drop video until a keyframe */
    uint8_t *params[3]; /* vps, sps, pps as last seen */
    size_t params_len[3];
    unsigned params_version;
    qcam_rtmp_stats st;

    /* the I/O thread's own (and net.fd) */
    qcam_rtmp_reader reader;
    uint8_t rbuf[8192];
    size_t rlen;
    uint32_t window;        /* the server's window acknowledgement size */
    uint64_t acked;         /* bytes received when we last acknowledged */
    /* what the session waits for: a command by name and transaction, or a status code */
    const char *want_name, *want_code;
    double want_txn; /* < 0: any */
    bool matched;
    qcam_rtmp_command last_cmd; /* the one that matched */
    uint32_t msid;
    unsigned sent_params_version;
    bool sent_config;
    bool have_t0;
    int64_t t0_us;
    const char *phase; /* what the session was doing, for reasons */
};

/* Fail the session with a reason (fmt takes one %s). Returns err. */
static inline int pub_fail(qcam_rtmp_publisher *p, int err, const char *fmt, const char *arg)
{
    return qcam_net_fail(&p->net, err, fmt, arg);
}
/* Read what the socket has and hand it to proto->input. 0, or < 0. */
int pub_pump_input(qcam_rtmp_publisher *p);
/* Send everything (reading the server meanwhile), within send_timeout_ms. */
int pub_send_all(qcam_rtmp_publisher *p, const uint8_t *buf, size_t len);
/* Send b and free it. */
int pub_send_buf(qcam_rtmp_publisher *p, qcam_rtmp_buf *b);
/* A publisher with the queue and the thread, speaking proto (which has set
 * up its own state in *p through init before the thread starts). */
int pub_open(const qcam_rtmp_config *cfg, const pub_proto *proto, int (*init)(qcam_rtmp_publisher *p, const char *url),
             qcam_rtmp_publisher **out);

#endif
