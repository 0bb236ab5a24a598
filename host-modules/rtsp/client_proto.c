/* The client half of qcam:rtsp's protocol layer (rtsp_proto.h): responses,
 * requests, URLs, authentication challenges and answers, session
 * descriptions, Session and Transport replies, RTCP sender reports. Pure
 * functions over memory; every read of network bytes is bounded by the
 * length given. Fuzzed by fuzz_client.c beside this file. */
#include <stdio.h>
#include <string.h>

#include "rtsp_proto.h"

static bool starts_nocase(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && qcam_rtsp_eq_nocase_n(s, k, prefix);
}

static bool copy_n(char *out, size_t cap, const char *s, size_t n)
{
    if (n >= cap) return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* ---- responses ---------------------------------------------------------------- */

int qcam_rtsp_parse_reply(const uint8_t *buf, size_t len, qcam_rtsp_reply *res)
{
    size_t scan = len < QCAM_RTSP_MAX_RESPONSE ? len : QCAM_RTSP_MAX_RESPONSE;
    /* The head ends at the first empty line. */
    size_t at = 0, head_end = 0, lines = 0;
    bool found = false;
    while (at < scan) {
        const uint8_t *nl = memchr(buf + at, '\n', scan - at);
        if (!nl) break;
        size_t eol = (size_t)(nl - buf);
        size_t e = eol > at && buf[eol - 1] == '\r' ? eol - 1 : eol;
        if (e == at && lines > 0) {
            head_end = eol + 1;
            found = true;
            break;
        }
        lines++;
        at = eol + 1;
    }
    if (!found) {
        /* A status line can be judged before the head is whole. */
        if (len >= 12 && (memcmp(buf, "RTSP/1.0 ", 9) != 0)) return -1;
        return len >= QCAM_RTSP_MAX_RESPONSE ? -2 : 0;
    }
    if (lines - 1 > QCAM_RTSP_MAX_HEADERS) return -1;
    char *t = res->text;
    memcpy(t, buf, head_end);
    t[head_end] = '\0';
    /* Every byte of the head is text: no NUL, no bare CR inside a line. */
    for (size_t k = 0; k < head_end; k++)
        if (t[k] == '\0') return -1;

    /* Status line: RTSP/1.0 SP 3DIGIT SP reason */
    size_t eol = (size_t)((const char *)memchr(t, '\n', head_end) - t);
    size_t e = eol > 0 && t[eol - 1] == '\r' ? eol - 1 : eol;
    if (e < 12 || memcmp(t, "RTSP/1.0 ", 9) != 0 || !qcam_rtsp_is_digit(t[9]) || !qcam_rtsp_is_digit(t[10]) || !qcam_rtsp_is_digit(t[11]) ||
        (e > 12 && t[12] != ' ') || t[9] == '0')
        return -1;
    res->status = (t[9] - '0') * 100 + (t[10] - '0') * 10 + (t[11] - '0');
    for (size_t k = 0; k < e; k++)
        if (t[k] == '\r') return -1;
    t[e] = '\0';
    t[eol] = '\0';
    res->reason = e > 12 ? t + 13 : t + e;

    unsigned nh = 0;
    qcam_rtsp_header *h = res->header_store;
    at = eol + 1;
    while (at < head_end) {
        char *nl = memchr(t + at, '\n', head_end - at);
        eol = (size_t)(nl - t);
        e = eol > at && t[eol - 1] == '\r' ? eol - 1 : eol;
        if (e == at) break;
        for (size_t k = at; k < e; k++)
            if (t[k] == '\r') return -1;
        if (t[at] == ' ' || t[at] == '\t') { /* continuation: joins the header above */
            if (nh == 0) return -1;
            for (size_t k = at; k > 0 && t[k - 1] == '\0'; k--) t[k - 1] = ' ';
            t[e] = '\0';
            t[eol] = '\0';
            at = eol + 1;
            continue;
        }
        size_t k = at;
        while (k < e && qcam_rtsp_is_tchar((unsigned char)t[k])) k++;
        if (k == at || k >= e || t[k] != ':') return -1;
        if (nh == QCAM_RTSP_MAX_HEADERS) return -1;
        t[k] = '\0';
        h[nh].name = t + at;
        h[nh].value = t + k + 1;
        t[e] = '\0';
        t[eol] = '\0';
        nh++;
        at = eol + 1;
    }
    for (unsigned k = 0; k < nh; k++) {
        char *v = (char *)h[k].value;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) v[--n] = '\0';
        h[k].value = v;
    }
    res->headers = h;
    res->n_headers = nh;
    res->cseq = -1;
    long content_length = -2;
    for (unsigned k = 0; k < nh; k++) {
        if (qcam_rtsp_eq_nocase(h[k].name, "CSeq")) {
            res->cseq = (int)qcam_rtsp_small_uint(h[k].value, strlen(h[k].value));
        } else if (qcam_rtsp_eq_nocase(h[k].name, "Content-Length")) {
            long v = qcam_rtsp_small_uint(h[k].value, strlen(h[k].value));
            if (v < 0 || (content_length != -2 && content_length != v)) return -1;
            content_length = v;
        }
    }
    if (content_length < 0) content_length = 0;
    if (head_end + (size_t)content_length > QCAM_RTSP_MAX_RESPONSE) return -2;
    if (len < head_end + (size_t)content_length) return 0;
    if (content_length > 0) {
        memcpy(t + head_end, buf + head_end, (size_t)content_length);
        t[head_end + (size_t)content_length] = '\0';
        res->body = (const uint8_t *)t + head_end;
    } else {
        res->body = NULL;
    }
    res->body_len = (size_t)content_length;
    return (int)(head_end + (size_t)content_length);
}

const char *qcam_rtsp_reply_header(const qcam_rtsp_reply *res, const char *name, unsigned nth)
{
    for (unsigned k = 0; k < res->n_headers; k++)
        if (qcam_rtsp_eq_nocase(res->headers[k].name, name) && nth-- == 0) return res->headers[k].value;
    return NULL;
}

/* ---- requests ----------------------------------------------------------------- */

int qcam_rtsp_build_request(char *out, size_t cap, const char *method, const char *uri, int cseq,
                            const char *extra)
{
    if (strpbrk(method, " \r\n") || strpbrk(uri, " \r\n") || !*method || !*uri) return -1;
    int n = snprintf(out, cap, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: qcam\r\n%s\r\n", method, uri, cseq,
                     extra ? extra : "");
    if (n < 0 || (size_t)n >= cap) return -1;
    return n;
}

/* ---- URLs ------------------------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = qcam_rtsp_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into out[cap]. */
static bool pct_decode(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3 || hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0) return false;
            c = hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]);
            i += 2;
            if (c == 0) return false;
        }
        if (o + 1 >= cap) return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

int qcam_rtsp_url_parse(const char *url, qcam_rtsp_url *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(url);
    if (!starts_nocase(url, n, "rtsp://")) return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f) return -1;
    const char *a = url + 7;
    const char *path = strchr(a, '/');
    size_t an = path ? (size_t)(path - a) : strlen(a);
    const char *at = NULL;
    for (size_t i = 0; i < an; i++)
        if (a[i] == '@') at = a + i; /* the last '@' of the authority */
    const char *hp = a;
    size_t hn = an;
    if (at) {
        const char *colon = memchr(a, ':', (size_t)(at - a));
        size_t un = colon ? (size_t)(colon - a) : (size_t)(at - a);
        if (!pct_decode(out->user, sizeof out->user, a, un)) return -1;
        if (colon && !pct_decode(out->password, sizeof out->password, colon + 1, (size_t)(at - colon - 1))) return -1;
        if (!out->user[0]) return -1;
        hp = at + 1;
        hn = an - (size_t)(hp - a);
    }
    const char *port = NULL;
    size_t host_n;
    if (hn > 0 && hp[0] == '[') {
        const char *close = memchr(hp, ']', hn);
        if (!close) return -1;
        if (!copy_n(out->host, sizeof out->host, hp + 1, (size_t)(close - hp - 1))) return -1;
        host_n = (size_t)(close - hp + 1);
        if (host_n < hn) {
            if (hp[host_n] != ':') return -1;
            port = hp + host_n + 1;
        }
    } else {
        const char *colon = memchr(hp, ':', hn);
        host_n = colon ? (size_t)(colon - hp) : hn;
        if (!copy_n(out->host, sizeof out->host, hp, host_n)) return -1;
        if (colon) port = colon + 1;
    }
    if (!out->host[0]) return -1;
    out->port = 554;
    if (port) {
        long p = qcam_rtsp_small_uint(port, hn - (size_t)(port - hp));
        if (p < 1 || p > 65535) return -1;
        out->port = (int)p;
    }
    const char *rest = hp; /* host[:port]/path... */
    int r = snprintf(out->clean, sizeof out->clean, "rtsp://%s", rest);
    if (r < 0 || (size_t)r >= sizeof out->clean) return -1;
    if (at) {
        size_t un = strcspn(a, ":@");
        r = snprintf(out->masked, sizeof out->masked, "rtsp://%.*s%s@%s", (int)un, a,
                     (const char *)memchr(a, ':', (size_t)(at - a)) ? ":***" : "", rest);
    } else {
        r = snprintf(out->masked, sizeof out->masked, "%s", out->clean);
    }
    if (r < 0 || (size_t)r >= sizeof out->masked) return -1;
    return 0;
}

/* ---- authentication ---------------------------------------------------------------- */

/* The next auth-param of a challenge: name[=token|"quoted"], separated by commas. */
static bool next_param(const char **sp, char *name, size_t ncap, char *val, size_t vcap)
{
    const char *s = *sp;
    while (*s == ' ' || *s == '\t' || *s == ',') s++;
    if (!*s) return false;
    size_t k = 0;
    while (qcam_rtsp_is_tchar((unsigned char)s[k])) k++;
    if (k == 0 || k >= ncap) return false;
    memcpy(name, s, k);
    name[k] = '\0';
    s += k;
    while (*s == ' ' || *s == '\t') s++;
    val[0] = '\0';
    if (*s == '=') {
        s++;
        while (*s == ' ' || *s == '\t') s++;
        size_t o = 0;
        if (*s == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1]) s++;
                if (o + 1 >= vcap) return false;
                val[o++] = *s++;
            }
            if (*s != '"') return false;
            s++;
        } else {
            while (*s && *s != ',' && *s != ' ' && *s != '\t') {
                if (o + 1 >= vcap) return false;
                val[o++] = *s++;
            }
        }
        val[o] = '\0';
    }
    *sp = s;
    return true;
}

int qcam_rtsp_parse_challenge(const char *value, qcam_rtsp_challenge *out)
{
    memset(out, 0, sizeof *out);
    const char *s = value;
    while (*s == ' ') s++;
    size_t k = 0;
    while (qcam_rtsp_is_tchar((unsigned char)s[k])) k++;
    if (qcam_rtsp_eq_nocase_n(s, k, "Basic")) out->digest = false;
    else if (qcam_rtsp_eq_nocase_n(s, k, "Digest")) out->digest = true;
    else return -1;
    s += k;
    bool qop_offered = false;
    char name[32], val[256];
    while (next_param(&s, name, sizeof name, val, sizeof val)) {
        if (qcam_rtsp_eq_nocase(name, "realm")) {
            if (!copy_n(out->realm, sizeof out->realm, val, strlen(val))) return -1;
        } else if (qcam_rtsp_eq_nocase(name, "nonce")) {
            if (!copy_n(out->nonce, sizeof out->nonce, val, strlen(val))) return -1;
        } else if (qcam_rtsp_eq_nocase(name, "opaque")) {
            if (!copy_n(out->opaque, sizeof out->opaque, val, strlen(val))) return -1;
        } else if (qcam_rtsp_eq_nocase(name, "stale")) {
            out->stale = qcam_rtsp_eq_nocase(val, "true");
        } else if (qcam_rtsp_eq_nocase(name, "algorithm")) {
            if (!qcam_rtsp_eq_nocase(val, "MD5")) return -1;
        } else if (qcam_rtsp_eq_nocase(name, "qop")) {
            qop_offered = true;
            for (char *t = val; *t;) { /* a list: "auth,auth-int" */
                size_t m = strcspn(t, ", \t");
                if (qcam_rtsp_eq_nocase_n(t, m, "auth")) out->qop_auth = true;
                t += m;
                while (*t == ',' || *t == ' ' || *t == '\t') t++;
            }
        }
    }
    while (*s == ' ' || *s == '\t' || *s == ',') s++;
    if (*s) return -1; /* stopped at something malformed */
    if (out->digest && (!out->nonce[0] || (qop_offered && !out->qop_auth))) return -1;
    return 0;
}

static void hex32(char out[33], const uint8_t d[16])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[32] = '\0';
}

static void md5_join(char out[33], const char *const *parts, size_t n)
{
    char buf[1200];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t m = strlen(parts[i]);
        if (len + m + 1 > sizeof buf) m = sizeof buf - len - 1; /* callers keep parts short */
        if (i > 0) buf[len++] = ':';
        memcpy(buf + len, parts[i], m);
        len += m;
        if (len >= sizeof buf - 1) break;
    }
    uint8_t d[16];
    qcam_md5(buf, len, d);
    hex32(out, d);
}

static bool quotable(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f) return false;
    return true;
}

int qcam_rtsp_authorization(char *out, size_t cap, const qcam_rtsp_challenge *c, const char *user,
                            const char *password, const char *method, const char *uri, uint32_t nc,
                            const char *cnonce)
{
    int n;
    if (!c->digest) {
        char up[300], b64[420];
        n = snprintf(up, sizeof up, "%s:%s", user, password);
        if (n < 0 || (size_t)n >= sizeof up || qcam_base64(b64, sizeof b64, (const uint8_t *)up, (size_t)n) < 0) return -1;
        n = snprintf(out, cap, "Authorization: Basic %s\r\n", b64);
    } else {
        if (!quotable(user) || !quotable(c->realm) || !quotable(c->nonce) || !quotable(uri) || !quotable(c->opaque) ||
            !quotable(cnonce) || strlen(uri) > 900)
            return -1;
        char ha1[33], ha2[33], resp[33], ncs[9];
        const char *a1[] = {user, c->realm, password};
        md5_join(ha1, a1, 3);
        const char *a2[] = {method, uri};
        md5_join(ha2, a2, 2);
        snprintf(ncs, sizeof ncs, "%08x", nc);
        if (c->qop_auth) {
            const char *kd[] = {ha1, c->nonce, ncs, cnonce, "auth", ha2};
            md5_join(resp, kd, 6);
        } else {
            const char *kd[] = {ha1, c->nonce, ha2};
            md5_join(resp, kd, 3);
        }
        char qop[160] = "", opaque[160] = "";
        if (c->qop_auth) snprintf(qop, sizeof qop, ", qop=auth, nc=%s, cnonce=\"%s\"", ncs, cnonce);
        if (c->opaque[0]) snprintf(opaque, sizeof opaque, ", opaque=\"%s\"", c->opaque);
        n = snprintf(out, cap,
                     "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                     "response=\"%s\", algorithm=MD5%s%s\r\n",
                     user, c->realm, c->nonce, uri, resp, qop, opaque);
    }
    if (n < 0 || (size_t)n >= cap) return -1;
    return n;
}

/* ---- SDP -------------------------------------------------------------------------------- */

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int qcam_base64_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
    while (len > 0 && in[len - 1] == '=') len--;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 6) return -1; /* one stray character */
    return (int)o;
}

/* Decode one parameter set into info->params; *at / *plen. */
static bool put_param(qcam_sdp_info *s, size_t *used, const char *b64, size_t n, size_t *at, size_t *plen)
{
    int r = qcam_base64_decode(s->params + *used, sizeof s->params - *used, b64, n);
    if (r <= 0) return false;
    *at = *used;
    *plen = (size_t)r;
    *used += (size_t)r;
    return true;
}

/* Bytes of s[0..n) before the first of `stop` (n when none): strcspn for text that is not NUL-terminated. */
static size_t span_until(const char *s, size_t n, const char *stop)
{
    size_t i = 0;
    while (i < n && !strchr(stop, s[i])) i++;
    return i;
}

/* fmtp parameters of the video track: "a=fmtp:<pt> k=v;k=v". */
static void parse_fmtp(qcam_sdp_info *s, const char *p, size_t n)
{
    size_t used = 0, at = 0;
    while (at < n) {
        const char *semi = memchr(p + at, ';', n - at);
        size_t e = semi ? (size_t)(semi - p) : n;
        const char *f = p + at;
        size_t fn = e - at;
        while (fn > 0 && (*f == ' ' || *f == '\t')) f++, fn--;
        const char *eq = memchr(f, '=', fn);
        if (eq) {
            size_t kn = (size_t)(eq - f);
            const char *v = eq + 1;
            size_t vn = fn - kn - 1;
            while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
            if (s->video == QCAM_CODEC_H264 && qcam_rtsp_eq_nocase_n(f, kn, "sprop-parameter-sets")) {
                /* "SPS,PPS[,...]": the first SPS (type 7) and PPS (type 8) */
                size_t q = 0;
                while (q < vn) {
                    const char *comma = memchr(v + q, ',', vn - q);
                    size_t ce = comma ? (size_t)(comma - v) : vn;
                    uint8_t nal[QCAM_SDP_MAX_PARAMS];
                    int r = qcam_base64_decode(nal, sizeof nal, v + q, ce - q);
                    if (r > 0) {
                        int type = nal[0] & 0x1f;
                        if (type == 7 && !s->sps_len) put_param(s, &used, v + q, ce - q, &s->sps_at, &s->sps_len);
                        if (type == 8 && !s->pps_len) put_param(s, &used, v + q, ce - q, &s->pps_at, &s->pps_len);
                    }
                    q = ce + 1;
                }
            } else if (s->video == QCAM_CODEC_H265 && qcam_rtsp_eq_nocase_n(f, kn, "sprop-vps") && !s->vps_len) {
                put_param(s, &used, v, span_until(v, vn, ","), &s->vps_at, &s->vps_len);
            } else if (s->video == QCAM_CODEC_H265 && qcam_rtsp_eq_nocase_n(f, kn, "sprop-sps") && !s->sps_len) {
                put_param(s, &used, v, span_until(v, vn, ","), &s->sps_at, &s->sps_len);
            } else if (s->video == QCAM_CODEC_H265 && qcam_rtsp_eq_nocase_n(f, kn, "sprop-pps") && !s->pps_len) {
                put_param(s, &used, v, span_until(v, vn, ","), &s->pps_at, &s->pps_len);
            }
        }
        if (!semi) break;
        at = e + 1;
    }
}

int qcam_sdp_parse(const char *sdp, size_t len, qcam_sdp_info *out)
{
    memset(out, 0, sizeof *out);
    enum { NONE, SESSION, VIDEO, AUDIO, OTHER } where = SESSION;
    int media_pts[16], n_pts = 0;
    const char *fmtp = NULL;
    size_t fmtp_n = 0;
    size_t at = 0;
    bool any = false;
    while (at < len) {
        const char *nl = memchr(sdp + at, '\n', len - at);
        size_t eol = nl ? (size_t)(nl - sdp) : len;
        size_t e = eol > at && sdp[eol - 1] == '\r' ? eol - 1 : eol;
        const char *l = sdp + at;
        size_t n = e - at;
        at = eol + 1;
        if (n < 2 || l[1] != '=') continue; /* tolerated: blank or odd lines */
        any = true;
        if (l[0] == 'm') {
            where = OTHER;
            n_pts = 0;
            bool video = starts_nocase(l, n, "m=video "), audio = starts_nocase(l, n, "m=audio ");
            if ((video && out->video) || (audio && out->audio) || (!video && !audio)) continue;
            /* m=<media> <port> <proto> <fmt> <fmt>...: tokens split at spaces */
            size_t k = 0, tok = 0;
            bool rtp = false;
            while (k < n) {
                while (k < n && l[k] == ' ') k++;
                size_t f = k;
                while (k < n && l[k] != ' ') k++;
                if (k == f) break;
                if (tok == 2) rtp = starts_nocase(l + f, k - f, "RTP/AVP");
                else if (tok >= 3 && n_pts < 16) {
                    long pt = qcam_rtsp_small_uint(l + f, k - f);
                    if (pt >= 0 && pt <= 127) media_pts[n_pts++] = (int)pt;
                }
                tok++;
            }
            if (!rtp) continue;
            if (video) where = VIDEO;
            else where = AUDIO;
            if (where == AUDIO) {
                /* static types: 0 PCMU, 8 PCMA at 8000 Hz */
                for (int i = 0; i < n_pts; i++)
                    if (media_pts[i] == 0 || media_pts[i] == 8) {
                        out->audio = media_pts[i] == 8 ? QCAM_SDP_PCMA : QCAM_SDP_PCMU;
                        out->audio_pt = media_pts[i];
                        out->audio_rate = 8000;
                        break;
                    }
            }
            continue;
        }
        if (l[0] != 'a') continue;
        const char *v = l + 2;
        size_t vn = n - 2;
        if (starts_nocase(v, vn, "control:")) {
            char *dst = where == SESSION ? out->session_control
                        : where == VIDEO && out->video && !out->video_control[0] ? out->video_control
                        : where == AUDIO && out->audio && !out->audio_control[0] ? out->audio_control
                                                                               : NULL;
            if (dst && !copy_n(dst, 512, v + 8, vn - 8)) return -1;
        } else if (starts_nocase(v, vn, "rtpmap:") && (where == VIDEO || where == AUDIO)) {
            size_t k = 7;
            size_t f = k;
            while (k < vn && v[k] != ' ') k++;
            long pt = qcam_rtsp_small_uint(v + f, k - f);
            bool listed = false;
            for (int i = 0; i < n_pts; i++) listed |= media_pts[i] == pt;
            if (!listed || k >= vn) continue;
            const char *enc = v + k + 1;
            size_t en = vn - k - 1;
            const char *slash = memchr(enc, '/', en);
            if (!slash) continue;
            size_t nn = (size_t)(slash - enc);
            const char *rate = slash + 1;
            size_t rn = en - nn - 1;
            const char *slash2 = memchr(rate, '/', rn);
            if (slash2) rn = (size_t)(slash2 - rate);
            long clock = qcam_rtsp_small_uint(rate, rn);
            if (clock <= 0) continue;
            if (where == VIDEO && !out->video) {
                if (qcam_rtsp_eq_nocase_n(enc, nn, "H264")) out->video = QCAM_CODEC_H264;
                else if (qcam_rtsp_eq_nocase_n(enc, nn, "H265")) out->video = QCAM_CODEC_H265;
                if (out->video) {
                    out->video_pt = (int)pt;
                    out->video_clock = (uint32_t)clock;
                }
            } else if (where == AUDIO && (!out->audio || out->audio_pt == pt)) {
                int a = qcam_rtsp_eq_nocase_n(enc, nn, "PCMA") ? QCAM_SDP_PCMA : qcam_rtsp_eq_nocase_n(enc, nn, "PCMU") ? QCAM_SDP_PCMU : 0;
                if (a) {
                    out->audio = a;
                    out->audio_pt = (int)pt;
                    out->audio_rate = (uint32_t)clock;
                } else if (out->audio_pt == pt) {
                    out->audio = 0; /* a static number remapped to something else */
                }
            }
        } else if (starts_nocase(v, vn, "fmtp:") && where == VIDEO) {
            size_t k = 5;
            while (k < vn && v[k] != ' ') k++;
            if (k < vn && qcam_rtsp_small_uint(v + 5, k - 5) == out->video_pt && out->video) {
                fmtp = v + k + 1;
                fmtp_n = vn - k - 1;
            }
        }
    }
    if (!any || !out->video) return -1;
    if (fmtp) parse_fmtp(out, fmtp, fmtp_n);
    return 0;
}

int qcam_rtsp_control_url(char *out, size_t cap, const char *base, const char *control)
{
    int n;
    if (!control[0] || strcmp(control, "*") == 0) n = snprintf(out, cap, "%s", base);
    else if (starts_nocase(control, strlen(control), "rtsp://")) n = snprintf(out, cap, "%s", control);
    else {
        size_t bl = strlen(base);
        bool slash = bl > 0 && base[bl - 1] == '/';
        n = snprintf(out, cap, "%s%s%s", base, slash ? "" : "/", control[0] == '/' ? control + 1 : control);
    }
    if (n < 0 || (size_t)n >= cap) return -1;
    return 0;
}

int qcam_rtsp_parse_session(const char *value, char *id, size_t cap, unsigned *timeout_s)
{
    *timeout_s = 60;
    while (*value == ' ') value++;
    size_t n = strcspn(value, "; \t");
    if (n == 0 || !copy_n(id, cap, value, n)) return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)value[i] < 0x21 || value[i] == 0x7f) return -1;
    const char *t = strchr(value, ';');
    while (t) {
        t++;
        while (*t == ' ') t++;
        if (starts_nocase(t, strlen(t), "timeout=")) {
            long v = qcam_rtsp_small_uint(t + 8, strcspn(t + 8, ";"));
            if (v > 0) *timeout_s = (unsigned)v;
        }
        t = strchr(t, ';');
    }
    return 0;
}

static bool pair(const char *s, size_t n, long lo, long hi, int v[2])
{
    const char *dash = memchr(s, '-', n);
    size_t an = dash ? (size_t)(dash - s) : n;
    long a = qcam_rtsp_small_uint(s, an), b = a + 1;
    if (a < lo || a > hi) return false;
    if (dash) {
        b = qcam_rtsp_small_uint(dash + 1, n - an - 1);
        if (b < lo || b > hi) return false;
    }
    v[0] = (int)a;
    v[1] = (int)b;
    return true;
}

int qcam_rtsp_parse_transport_reply(const char *value, qcam_rtsp_transport_reply *out)
{
    *out = (qcam_rtsp_transport_reply){.interleaved = {-1, -1}, .server_port = {-1, -1}};
    size_t n = strcspn(value, ","); /* the first spec is the one chosen */
    size_t at = 0, field = 0;
    while (at <= n) {
        const char *semi = memchr(value + at, ';', n - at);
        size_t e = semi ? (size_t)(semi - value) : n;
        const char *p = value + at;
        size_t pn = e - at;
        while (pn > 0 && *p == ' ') p++, pn--;
        while (pn > 0 && p[pn - 1] == ' ') pn--;
        if (field == 0) {
            if (qcam_rtsp_eq_nocase_n(p, pn, "RTP/AVP/TCP")) out->tcp = true;
            else if (!qcam_rtsp_eq_nocase_n(p, pn, "RTP/AVP") && !qcam_rtsp_eq_nocase_n(p, pn, "RTP/AVP/UDP")) return -1;
        } else {
            const char *eq = memchr(p, '=', pn);
            size_t kn = eq ? (size_t)(eq - p) : pn;
            const char *v = eq ? eq + 1 : "";
            size_t vn = eq ? pn - kn - 1 : 0;
            if (qcam_rtsp_eq_nocase_n(p, kn, "interleaved")) {
                if (!pair(v, vn, 0, 255, out->interleaved)) return -1;
            } else if (qcam_rtsp_eq_nocase_n(p, kn, "server_port")) {
                if (!pair(v, vn, 1, 65535, out->server_port)) return -1;
            } else if (qcam_rtsp_eq_nocase_n(p, kn, "ssrc")) {
                uint32_t x = 0;
                size_t i = 0;
                for (; i < vn && i < 8 && hexval((unsigned char)v[i]) >= 0; i++) x = x << 4 | (uint32_t)hexval((unsigned char)v[i]);
                if (i == 0 || i != vn) return -1;
                out->has_ssrc = true;
                out->ssrc = x;
            }
        }
        field++;
        if (!semi) break;
        at = e + 1;
    }
    return 0;
}

/* ---- RTCP ------------------------------------------------------------------------------------- */

int qcam_rtcp_parse_sr(const uint8_t *pkt, size_t len, uint32_t *ssrc, uint64_t *ntp, uint32_t *rtp_ts)
{
    size_t at = 0;
    while (at < len) {
        if (len - at < 4 || (pkt[at] >> 6) != 2) return -1;
        size_t plen = 4 * ((size_t)(pkt[at + 2] << 8 | pkt[at + 3]) + 1);
        if (plen > len - at) return -1;
        if (pkt[at + 1] == 200) { /* SR */
            if (plen < 28) return -1;
            const uint8_t *p = pkt + at + 4;
            *ssrc = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            uint64_t v = 0;
            for (int i = 0; i < 8; i++) v = v << 8 | p[4 + i];
            *ntp = v;
            *rtp_ts = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
            return 1;
        }
        at += plen;
    }
    return 0;
}
