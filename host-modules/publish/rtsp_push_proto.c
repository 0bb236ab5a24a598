/* The RTSP push client's protocol layer (rtsp_push_proto.h). */
#include "rtsp_push_proto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../rtsp/rtsp_proto.h"

/* ---- URL ---------------------------------------------------------------------- */

/* ../rtsp/rtsp_proto.h's parser (RtspSource's), with a path required and
 * the password masked only when there is one. */
int qcam_rtsp_push_parse_url(const char *url, qcam_rtsp_push_url *out)
{
    memset(out, 0, sizeof *out);
    if (!strncasecmp(url, "rtsps://", 8)) return -ENOTSUP;
    qcam_rtsp_url u;
    if (qcam_rtsp_url_parse(url, &u) < 0) return -EINVAL;
    const char *path = strchr(url + 7, '/');
    if (!path || !path[1]) return -EINVAL; /* "/": no stream */
    snprintf(out->host, sizeof out->host, "%s", u.host);
    out->port = u.port;
    snprintf(out->user, sizeof out->user, "%s", u.user);
    snprintf(out->pass, sizeof out->pass, "%s", u.password);
    snprintf(out->uri, sizeof out->uri, "%s", u.clean);
    int n = u.user[0] && !u.password[0] /* user only: no ":***" */
                ? snprintf(out->masked, sizeof out->masked, "rtsp://%.*s@%s", (int)strcspn(url + 7, ":@"), url + 7, u.clean + 7)
                : snprintf(out->masked, sizeof out->masked, "%s", u.masked);
    if (n < 0 || (size_t)n >= sizeof out->masked) return -EINVAL;
    return 0;
}

/* ---- replies ------------------------------------------------------------------ */

static void copy_value(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v ? v : "");
}

int qcam_rtsp_push_parse_reply(const uint8_t *buf, size_t len, qcam_rtsp_push_reply *out)
{
    static _Thread_local qcam_rtsp_reply r; /* (8 KiB of text: not on a thread's stack) */
    memset(out, 0, sizeof *out);
    out->cseq = -1;
    out->timeout = 60;
    int n = qcam_rtsp_parse_reply(buf, len, &r); /* ../rtsp/rtsp_proto.h, shared with RtspSource */
    if (n <= 0) return n == 0 ? 0 : -EPROTO;
    out->code = r.status;
    out->cseq = r.cseq;
    const char *session = qcam_rtsp_reply_header(&r, "Session", 0);
    if (session) {
        const char *semi = strchr(session, ';');
        snprintf(out->session, sizeof out->session, "%.*s", (int)(semi ? (size_t)(semi - session) : strlen(session)), session);
        const char *t = semi ? strstr(semi, "timeout=") : NULL;
        if (t) {
            unsigned x = 0;
            for (t += 8; isdigit((unsigned char)*t) && x < 100000; t++) x = x * 10 + (unsigned)(*t - '0');
            if (x >= 2) out->timeout = x;
        }
    }
    for (unsigned i = 0; i < 2; i++) copy_value(out->auth[i], sizeof out->auth[i], qcam_rtsp_reply_header(&r, "WWW-Authenticate", i));
    copy_value(out->transport, sizeof out->transport, qcam_rtsp_reply_header(&r, "Transport", 0));
    out->body_len = r.body_len;
    return n;
}

