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

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

int qcam_rtsp_parse_reply(const uint8_t *buf, size_t len, qcam_rtsp_reply *out)
{
    memset(out, 0, sizeof *out);
    out->cseq = -1;
    out->timeout = 60;
    /* the end of the headers */
    size_t hlen = 0;
    size_t lim = len < QCAM_RTSP_MAX_REPLY ? len : QCAM_RTSP_MAX_REPLY;
    for (size_t i = 0; i + 3 < lim; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            hlen = i + 4;
            break;
        }
    if (!hlen) {
        if (len >= 9 && memcmp(buf, "RTSP/1.0 ", 9)) return -EPROTO;
        return len >= QCAM_RTSP_MAX_REPLY ? -EPROTO : 0;
    }
    const char *s = (const char *)buf;
    if (hlen < 13 || memcmp(s, "RTSP/1.0 ", 9)) return -EPROTO;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (!isdigit((unsigned char)s[i])) return -EPROTO;
        code = code * 10 + (s[i] - '0');
    }
    if (code < 100 || (s[12] != ' ' && s[12] != '\r')) return -EPROTO;
    out->code = code;
    size_t pos = 0;
    while (pos < hlen && s[pos] != '\n') pos++;
    pos++;
    size_t content = 0;
    unsigned nauth = 0;
    while (pos < hlen - 2) {
        size_t e = pos;
        while (e < hlen && s[e] != '\r') e++;
        if (e >= hlen - 1 || s[e + 1] != '\n') return -EPROTO;
        const char *colon = memchr(s + pos, ':', e - pos);
        if (!colon || colon == s + pos) return -EPROTO;
        size_t nlen = (size_t)(colon - (s + pos));
        const char *v = colon + 1;
        while (v < s + e && (*v == ' ' || *v == '\t')) v++;
        size_t vlen = (size_t)(s + e - v);
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
#define IS(name) (nlen == sizeof name - 1 && !strncasecmp(s + pos, name, nlen))
        if (IS("Content-Length")) {
            if (!vlen || vlen > 7) return -EPROTO;
            content = 0;
            for (size_t i = 0; i < vlen; i++) {
                if (!isdigit((unsigned char)v[i])) return -EPROTO;
                content = content * 10 + (size_t)(v[i] - '0');
            }
        } else if (IS("CSeq")) {
            int c = 0;
            bool ok = vlen > 0 && vlen < 10;
            for (size_t i = 0; ok && i < vlen; i++) {
                if (!isdigit((unsigned char)v[i])) ok = false;
                else c = c * 10 + (v[i] - '0');
            }
            out->cseq = ok ? c : -1;
        } else if (IS("Session")) {
            const char *semi = memchr(v, ';', vlen);
            copy_value(out->session, sizeof out->session, v, semi ? (size_t)(semi - v) : vlen);
            if (semi) {
                const char *t = semi + 1;
                size_t tl = (size_t)(v + vlen - t);
                while (tl && *t == ' ') t++, tl--;
                if (tl > 8 && !strncasecmp(t, "timeout=", 8)) {
                    unsigned x = 0;
                    for (size_t i = 8; i < tl && isdigit((unsigned char)t[i]) && x < 100000; i++) x = x * 10 + (unsigned)(t[i] - '0');
                    if (x >= 2) out->timeout = x;
                }
            }
        } else if (IS("WWW-Authenticate")) {
            if (nauth < 2) copy_value(out->auth[nauth++], sizeof out->auth[0], v, vlen);
        } else if (IS("Transport")) {
            copy_value(out->transport, sizeof out->transport, v, vlen);
        }
#undef IS
        pos = e + 2;
    }
    if (content > QCAM_RTSP_MAX_REPLY * 8) return -EPROTO;
    if (len - hlen < content) return 0;
    out->body_len = content;
    return (int)(hlen + content);
}

/* ---- authentication -------------------------------------------------------------- */

/* The value of parameter `name` in a challenge (quoted or token) into dst. */
static bool param(const char *s, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        const char *k = p;
        while (*p && *p != '=' && *p != ',' && *p != ' ') p++;
        size_t kl = (size_t)(p - k);
        while (*p == ' ') p++;
        if (*p != '=') {
            if (*p) p++;
            continue;
        }
        p++;
        while (*p == ' ') p++;
        const char *v;
        size_t vl;
        if (*p == '"') {
            v = ++p;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) p++;
                p++;
            }
            vl = (size_t)(p - v);
            if (*p == '"') p++;
        } else {
            v = p;
            while (*p && *p != ',' && *p != ' ') p++;
            vl = (size_t)(p - v);
        }
        if (kl == nl && !strncasecmp(k, name, nl)) {
            if (vl >= cap) return false;
            memcpy(dst, v, vl);
            dst[vl] = 0;
            return true;
        }
    }
    return false;
}

int qcam_rtsp_parse_challenge(const char *value, qcam_rtsp_challenge *out)
{
    memset(out, 0, sizeof *out);
    const char *rest;
    if (!strncasecmp(value, "Basic", 5) && (value[5] == 0 || value[5] == ' ')) {
        param(value + 5, "realm", out->realm, sizeof out->realm);
        return 0;
    }
    if (strncasecmp(value, "Digest ", 7)) return -EINVAL;
    rest = value + 7;
    out->digest = true;
    char tmp[128];
    if (!param(rest, "nonce", out->nonce, sizeof out->nonce) || !out->nonce[0]) return -EINVAL;
    param(rest, "realm", out->realm, sizeof out->realm);
    param(rest, "opaque", out->opaque, sizeof out->opaque);
    if (param(rest, "algorithm", tmp, sizeof tmp) && strcasecmp(tmp, "MD5")) return -ENOTSUP;
    if (param(rest, "qop", tmp, sizeof tmp)) {
        /* a list: "auth,auth-int" */
        char *save = NULL;
        for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            if (!strcasecmp(t, "auth")) out->qop_auth = true;
        if (!out->qop_auth) return -ENOTSUP;
    }
    return 0;
}

static void md5_hex(char out[33], const char *s)
{
    uint8_t d[16];
    qcam_md5(s, strlen(s), d);
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int qcam_rtsp_authorization(char *out, size_t cap, const qcam_rtsp_challenge *c, const char *user,
                            const char *pass, const char *method, const char *uri, const char *cnonce,
                            unsigned nc)
{
    int n;
    if (!c->digest) {
        char up[300], b64[420];
        n = snprintf(up, sizeof up, "%s:%s", user, pass);
        if (n < 0 || (size_t)n >= sizeof up) return -1;
        if (qcam_base64(b64, sizeof b64, (const uint8_t *)up, (size_t)n) < 0) return -1;
        n = snprintf(out, cap, "Authorization: Basic %s\r\n", b64);
    } else {
        char buf[1400], ha1[33], ha2[33], resp[33];
        n = snprintf(buf, sizeof buf, "%s:%s:%s", user, c->realm, pass);
        if (n < 0 || (size_t)n >= sizeof buf) return -1;
        md5_hex(ha1, buf);
        n = snprintf(buf, sizeof buf, "%s:%s", method, uri);
        if (n < 0 || (size_t)n >= sizeof buf) return -1;
        md5_hex(ha2, buf);
        if (c->qop_auth)
            n = snprintf(buf, sizeof buf, "%s:%s:%08x:%s:auth:%s", ha1, c->nonce, nc, cnonce, ha2);
        else
            n = snprintf(buf, sizeof buf, "%s:%s:%s", ha1, c->nonce, ha2);
        if (n < 0 || (size_t)n >= sizeof buf) return -1;
        md5_hex(resp, buf);
        char qop[128] = "", opaque[160] = "";
        if (c->qop_auth) snprintf(qop, sizeof qop, ", qop=auth, nc=%08x, cnonce=\"%s\"", nc, cnonce);
        if (c->opaque[0]) snprintf(opaque, sizeof opaque, ", opaque=\"%s\"", c->opaque);
        n = snprintf(out, cap,
                     "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\"%s%s\r\n",
                     user, c->realm, c->nonce, uri, resp, qop, opaque);
    }
    if (n < 0 || (size_t)n >= cap) return -1;
    return n;
}
