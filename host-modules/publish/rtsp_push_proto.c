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

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out (cap); -1 on a bad escape or overflow. */
static int pct_decode(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h << 4 | l;
            if (c == 0) return -1;
            i += 2;
        }
        if (o + 1 >= cap) return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

int qcam_rtsp_push_parse_url(const char *url, qcam_rtsp_push_url *out)
{
    memset(out, 0, sizeof *out);
    if (!strncasecmp(url, "rtsps://", 8)) return -ENOTSUP;
    if (strncasecmp(url, "rtsp://", 7)) return -EINVAL;
    const char *a = url + 7;
    const char *slash = strchr(a, '/');
    if (!slash) return -EINVAL;
    const char *path = slash;
    if (strlen(path) < 2) return -EINVAL; /* "/": no stream */
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f) return -EINVAL;
    /* credentials: the last '@' before the path */
    const char *at = NULL;
    for (const char *c = a; c < slash; c++)
        if (*c == '@') at = c;
    const char *hp = a;
    if (at) {
        const char *colon = memchr(a, ':', (size_t)(at - a));
        size_t ulen = colon ? (size_t)(colon - a) : (size_t)(at - a);
        if (ulen == 0) return -EINVAL;
        if (pct_decode(out->user, sizeof out->user, a, ulen) < 0) return -EINVAL;
        if (colon && pct_decode(out->pass, sizeof out->pass, colon + 1, (size_t)(at - colon - 1)) < 0) return -EINVAL;
        hp = at + 1;
    }
    /* host[:port], [v6]:port */
    const char *hend = slash, *port = NULL;
    if (*hp == '[') {
        const char *rb = memchr(hp, ']', (size_t)(slash - hp));
        if (!rb) return -EINVAL;
        if ((size_t)(rb - hp - 1) >= sizeof out->host) return -EINVAL;
        memcpy(out->host, hp + 1, (size_t)(rb - hp - 1));
        if (rb + 1 < slash) {
            if (rb[1] != ':') return -EINVAL;
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(hp, ':', (size_t)(slash - hp));
        if (colon) {
            port = colon + 1;
            hend = colon;
        }
        if ((size_t)(hend - hp) >= sizeof out->host) return -EINVAL;
        memcpy(out->host, hp, (size_t)(hend - hp));
    }
    if (!out->host[0]) return -EINVAL;
    out->port = 554;
    if (port) {
        if (port == slash) return -EINVAL;
        long v = 0;
        for (const char *c = port; c < slash; c++) {
            if (!isdigit((unsigned char)*c)) return -EINVAL;
            v = v * 10 + (*c - '0');
            if (v > 65535) return -EINVAL;
        }
        if (v < 1) return -EINVAL;
        out->port = (int)v;
    }
    int n = snprintf(out->uri, sizeof out->uri, "rtsp://%.*s%s", (int)(slash - hp), hp, path);
    if (n < 0 || (size_t)n >= sizeof out->uri) return -EINVAL;
    if (at) {
        int ulen = (int)((memchr(a, ':', (size_t)(at - a)) ? (const char *)memchr(a, ':', (size_t)(at - a)) : at) - a);
        n = snprintf(out->masked, sizeof out->masked, "rtsp://%.*s%s@%.*s%s", ulen, a, out->pass[0] ? ":***" : "",
                     (int)(slash - hp), hp, path);
    } else {
        n = snprintf(out->masked, sizeof out->masked, "%s", out->uri);
    }
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

