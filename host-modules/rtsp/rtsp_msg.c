/* RTSP/1.0 messages (RFC 2326): the request parser, header lookup, the
 * Transport header, interleaved '$' frames, responses and reason phrases.
 * Pure functions over memory; every read of network bytes is bounded by the
 * length given. Fuzzed by fuzz_rtsp.c. */
#include <stdio.h>
#include <string.h>

#include "rtsp_proto.h"

/* ---- small character helpers (locale-free; rtsp_proto.h) ---------------------- */

int qcam_rtsp_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

bool qcam_rtsp_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* RFC 2616 token characters (RFC 2326 15.1 uses the same). */
bool qcam_rtsp_is_tchar(int c)
{
    if (c <= 0x20 || c >= 0x7f) return false;
    return strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

bool qcam_rtsp_eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (qcam_rtsp_lower((unsigned char)*a) != qcam_rtsp_lower((unsigned char)*b)) return false;
    return *a == *b;
}

bool qcam_rtsp_eq_nocase_n(const char *a, size_t n, const char *b)
{
    size_t i = 0;
    for (; i < n && b[i]; i++)
        if (qcam_rtsp_lower((unsigned char)a[i]) != qcam_rtsp_lower((unsigned char)b[i])) return false;
    return i == n && b[i] == '\0';
}

/* A decimal number of at most 9 digits that makes up all of s[0..n) after
 * trimming spaces and tabs; -1 otherwise. */
long qcam_rtsp_small_uint(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || n > 9) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!qcam_rtsp_is_digit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* ---- requests ----------------------------------------------------------------- */

static const struct {
    const char *name;
    qcam_rtsp_method method;
} methods[] = {
    {"OPTIONS", QCAM_RTSP_OPTIONS},
    {"DESCRIBE", QCAM_RTSP_DESCRIBE},
    {"SETUP", QCAM_RTSP_SETUP},
    {"PLAY", QCAM_RTSP_PLAY},
    {"PAUSE", QCAM_RTSP_PAUSE},
    {"TEARDOWN", QCAM_RTSP_TEARDOWN},
    {"GET_PARAMETER", QCAM_RTSP_GET_PARAMETER},
    {"SET_PARAMETER", QCAM_RTSP_SET_PARAMETER},
    {"ANNOUNCE", QCAM_RTSP_ANNOUNCE},
    {"RECORD", QCAM_RTSP_RECORD},
};

/* Where the line starting at `at` ends: *eol the index of its '\n' (the line
 * is buf[at..*eol), without a '\r' before the '\n'). False when no '\n' yet. */
static bool find_line(const uint8_t *buf, size_t len, size_t at, size_t *eol)
{
    const void *nl = at < len ? memchr(buf + at, '\n', len - at) : NULL;
    if (!nl) return false;
    *eol = (size_t)((const uint8_t *)nl - buf);
    return true;
}

static size_t line_end(const uint8_t *buf, size_t at, size_t eol)
{
    return eol > at && buf[eol - 1] == '\r' ? eol - 1 : eol;
}

/* The request line buf[0..n): 0, -400 or -505. Fills the method, URI and
 * their lengths when it is good. */
static int check_request_line(const uint8_t *p, size_t n, size_t *mlen, size_t *uri_at,
                              size_t *uri_len)
{
    size_t i = 0;
    while (i < n && qcam_rtsp_is_tchar(p[i])) i++;
    if (i == 0 || i >= n || p[i] != ' ') return -400;
    *mlen = i;
    size_t u = ++i;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f) i++;
    if (i == u || i >= n || p[i] != ' ') return -400;
    *uri_at = u;
    *uri_len = i - u;
    const uint8_t *v = p + i + 1;
    size_t vn = n - i - 1;
    if (vn == 8 && memcmp(v, "RTSP/1.0", 8) == 0) return 0;
    /* Some other protocol version ("RTSP/2.0", "HTTP/1.1"): 505. */
    size_t k = 0;
    while (k < vn && v[k] >= 'A' && v[k] <= 'Z') k++;
    if (k == 0 || k >= vn || v[k] != '/') return -400;
    size_t d = ++k;
    while (k < vn && qcam_rtsp_is_digit(v[k])) k++;
    if (k == d || k >= vn || v[k] != '.') return -400;
    d = ++k;
    while (k < vn && qcam_rtsp_is_digit(v[k])) k++;
    if (k == d || k != vn) return -400;
    return -505;
}

int qcam_rtsp_parse_request(const uint8_t *buf, size_t len, qcam_rtsp_request *req)
{
    size_t scan = len < QCAM_RTSP_MAX_REQUEST ? len : QCAM_RTSP_MAX_REQUEST;

    /* The request line first: a bad one is refused as soon as it is whole. */
    size_t eol;
    if (!find_line(buf, scan, 0, &eol)) return len >= QCAM_RTSP_MAX_REQUEST ? -413 : 0;
    size_t mlen = 0, uri_at = 0, uri_len = 0;
    int r = check_request_line(buf, line_end(buf, 0, eol), &mlen, &uri_at, &uri_len);
    if (r < 0) return r;

    /* Then the header block up to the empty line. */
    size_t at = eol + 1, n_lines = 0;
    size_t head_end;
    for (;;) {
        if (!find_line(buf, scan, at, &eol)) return len >= QCAM_RTSP_MAX_REQUEST ? -413 : 0;
        size_t e = line_end(buf, at, eol);
        if (e == at) {
            head_end = eol + 1;
            break;
        }
        if (buf[at] != ' ' && buf[at] != '\t') n_lines++;
        at = eol + 1;
    }
    if (n_lines > QCAM_RTSP_MAX_HEADERS) return -400;

    /* Copy the head and split it in place. */
    memcpy(req->text, buf, head_end);
    req->text[head_end] = '\0';
    char *t = req->text;
    req->method_name = t;
    t[mlen] = '\0';
    req->uri = t + uri_at;
    t[uri_at + uri_len] = '\0';
    req->method = QCAM_RTSP_UNKNOWN;
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++)
        if (strcmp(methods[k].name, t) == 0) req->method = methods[k].method;

    find_line(buf, head_end, 0, &eol);
    at = eol + 1;
    unsigned nh = 0;
    qcam_rtsp_header *h = req->header_store;
    /* Continuation lines (starting with a space or tab) join the header
     * above: their line break becomes spaces. */
    while (at < head_end) {
        find_line(buf, head_end, at, &eol);
        size_t e = line_end(buf, at, eol);
        if (e == at) break;
        if (t[at] == ' ' || t[at] == '\t') {
            if (nh == 0) return -400;
            for (size_t c = at; c < e; c++)
                if (t[c] == '\0' || t[c] == '\r') return -400;
            size_t from = (size_t)(h[nh - 1].value - t);
            for (size_t k = at; k > from && t[k - 1] == '\0'; k--) t[k - 1] = ' ';
            t[e] = '\0';
            if (eol > e) t[eol] = '\0';
            at = eol + 1;
            continue;
        }
        size_t k = at;
        while (k < e && qcam_rtsp_is_tchar((unsigned char)t[k])) k++;
        if (k == at || k >= e || t[k] != ':') return -400;
        t[k] = '\0';
        h[nh].name = t + at;
        k++;
        h[nh].value = t + k;
        for (size_t c = k; c < e; c++)
            if (t[c] == '\0' || t[c] == '\r') return -400;
        t[e] = '\0';
        if (eol > e) t[eol] = '\0';
        nh++;
        at = eol + 1;
    }
    /* Trim each value. */
    for (unsigned k = 0; k < nh; k++) {
        char *v = (char *)h[k].value;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) v[--n] = '\0';
        h[k].value = v;
    }
    req->headers = h;
    req->n_headers = nh;

    /* CSeq: -1 when missing, not a number, or given twice differently. */
    req->cseq = -1;
    bool seen_cseq = false;
    long content_length = -2;
    for (unsigned k = 0; k < nh; k++) {
        if (qcam_rtsp_eq_nocase(h[k].name, "CSeq")) {
            long v = qcam_rtsp_small_uint(h[k].value, strlen(h[k].value));
            if (seen_cseq && v != req->cseq) v = -1;
            req->cseq = (int)v;
            seen_cseq = true;
        } else if (qcam_rtsp_eq_nocase(h[k].name, "Content-Length")) {
            long v = qcam_rtsp_small_uint(h[k].value, strlen(h[k].value));
            if (v < 0) return -400;
            if (content_length != -2 && content_length != v) return -400;
            content_length = v;
        }
    }
    if (content_length < 0) content_length = 0;
    if (head_end + (size_t)content_length > QCAM_RTSP_MAX_REQUEST) return -413;
    if (len < head_end + (size_t)content_length) return 0;
    if (content_length > 0) {
        memcpy(req->text + head_end, buf + head_end, (size_t)content_length);
        req->text[head_end + (size_t)content_length] = '\0';
        req->body = (const uint8_t *)req->text + head_end;
    } else {
        req->body = NULL;
    }
    req->body_len = (size_t)content_length;
    return (int)(head_end + (size_t)content_length);
}

const char *qcam_rtsp_header_get(const qcam_rtsp_request *req, const char *name)
{
    for (unsigned k = 0; k < req->n_headers; k++)
        if (qcam_rtsp_eq_nocase(req->headers[k].name, name)) return req->headers[k].value;
    return NULL;
}

/* ---- interleaved frames (RFC 2326 10.12) -------------------------------------- */

int qcam_rtsp_next_interleaved(const uint8_t *buf, size_t len, uint8_t *channel,
                               const uint8_t **payload, size_t *payload_len, size_t *consumed)
{
    if (len == 0) return 0;
    if (buf[0] != '$') return 2;
    if (len < 4) return 0;
    size_t n = (size_t)buf[2] << 8 | buf[3];
    if (len - 4 < n) return 0;
    *channel = buf[1];
    *payload = buf + 4;
    *payload_len = n;
    *consumed = 4 + n;
    return 1;
}

/* ---- Transport (RFC 2326 12.39) ------------------------------------------------ */

/* "a" or "a-b" (decimal, each in lo..hi) of s[0..n): into v[0], v[1]; a lone
 * value gets v[1] = a + 1 (RTP and RTCP ports, RTP and RTCP channels). */
static bool parse_pair(const char *s, size_t n, long lo, long hi, int v[2])
{
    const char *dash = memchr(s, '-', n);
    size_t an = dash ? (size_t)(dash - s) : n;
    long a = qcam_rtsp_small_uint(s, an), b;
    if (a < lo || a > hi) return false;
    if (dash) {
        b = qcam_rtsp_small_uint(dash + 1, n - an - 1);
        if (b < lo || b > hi) return false;
    } else {
        b = a + 1 <= hi ? a + 1 : a;
    }
    v[0] = (int)a;
    v[1] = (int)b;
    return true;
}

/* One transport-spec value[0..n): 0 acceptable (out filled), 1 not
 * acceptable (multicast, another profile or lower transport, mode), -400. */
static int parse_transport_spec(const char *s, size_t n, qcam_rtsp_transport *out)
{
    qcam_rtsp_transport t = {.tcp = false, .interleaved = {-1, -1}, .client_port = {-1, -1},
                             .multicast = false};
    bool acceptable = true;
    size_t at = 0, field = 0;
    while (at <= n) {
        const char *semi = memchr(s + at, ';', n - at);
        size_t e = semi ? (size_t)(semi - s) : n;
        const char *p = s + at;
        size_t pn = e - at;
        while (pn > 0 && (*p == ' ' || *p == '\t')) p++, pn--;
        while (pn > 0 && (p[pn - 1] == ' ' || p[pn - 1] == '\t')) pn--;
        if (field == 0) {
            if (qcam_rtsp_eq_nocase_n(p, pn, "RTP/AVP") || qcam_rtsp_eq_nocase_n(p, pn, "RTP/AVP/UDP")) t.tcp = false;
            else if (qcam_rtsp_eq_nocase_n(p, pn, "RTP/AVP/TCP")) t.tcp = true;
            else if (pn == 0) return -400;
            else acceptable = false;
        } else if (pn > 0) {
            const char *eq = memchr(p, '=', pn);
            size_t kn = eq ? (size_t)(eq - p) : pn;
            const char *v = eq ? eq + 1 : NULL;
            size_t vn = eq ? pn - kn - 1 : 0;
            while (kn > 0 && (p[kn - 1] == ' ' || p[kn - 1] == '\t')) kn--;
            while (vn > 0 && (*v == ' ' || *v == '\t')) v++, vn--;
            if (qcam_rtsp_eq_nocase_n(p, kn, "multicast")) {
                t.multicast = true;
                acceptable = false;
            } else if (qcam_rtsp_eq_nocase_n(p, kn, "client_port")) {
                if (!v || !parse_pair(v, vn, 1, 65535, t.client_port)) return -400;
            } else if (qcam_rtsp_eq_nocase_n(p, kn, "interleaved")) {
                if (!v || !parse_pair(v, vn, 0, 255, t.interleaved)) return -400;
            } else if (qcam_rtsp_eq_nocase_n(p, kn, "mode")) {
                if (!v) return -400;
                if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') v++, vn -= 2;
                if (!qcam_rtsp_eq_nocase_n(v, vn, "play")) acceptable = false;
            }
            /* unicast, ttl, ssrc, destination, source, port, layers, append: not ours to judge */
        }
        field++;
        if (!semi) break;
        at = e + 1;
    }
    *out = t;
    return acceptable ? 0 : 1;
}

int qcam_rtsp_parse_transport(const char *value, qcam_rtsp_transport *out)
{
    bool multicast = false;
    size_t n = strlen(value), at = 0;
    while (at <= n) {
        const char *comma = memchr(value + at, ',', n - at);
        size_t e = comma ? (size_t)(comma - value) : n;
        qcam_rtsp_transport t;
        int r = parse_transport_spec(value + at, e - at, &t);
        if (r < 0) return r;
        if (r == 0) {
            *out = t;
            return 0;
        }
        multicast |= t.multicast;
        if (!comma) break;
        at = e + 1;
    }
    *out = (qcam_rtsp_transport){.tcp = false, .interleaved = {-1, -1}, .client_port = {-1, -1},
                                 .multicast = multicast};
    return -461;
}

/* ---- responses ------------------------------------------------------------------ */

const char *qcam_rtsp_reason(int code)
{
    switch (code) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 250: return "Low on Storage Space";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Time-out";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Large";
    case 415: return "Unsupported Media Type";
    case 451: return "Parameter Not Understood";
    case 452: return "Conference Not Found";
    case 453: return "Not Enough Bandwidth";
    case 454: return "Session Not Found";
    case 455: return "Method Not Valid in This State";
    case 456: return "Header Field Not Valid for Resource";
    case 457: return "Invalid Range";
    case 458: return "Parameter Is Read-Only";
    case 459: return "Aggregate operation not allowed";
    case 460: return "Only aggregate operation allowed";
    case 461: return "Unsupported transport";
    case 462: return "Destination unreachable";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Time-out";
    case 505: return "RTSP Version not supported";
    case 551: return "Option not supported";
    default:
        if (code >= 100 && code < 200) return "Informational";
        if (code >= 200 && code < 300) return "Success";
        if (code >= 300 && code < 400) return "Redirection";
        if (code >= 400 && code < 500) return "Client Error";
        return "Server Error";
    }
}

int qcam_rtsp_response(char *out, size_t cap, int code, int cseq, const char *extra,
                       const char *body, size_t body_len)
{
    if (code < 100 || code > 999) return -1;
    if (!body) body_len = 0;
    int n = snprintf(out, cap, "RTSP/1.0 %d %s\r\n", code, qcam_rtsp_reason(code));
    if (n < 0 || (size_t)n >= cap) return -1;
    size_t at = (size_t)n;
    if (cseq >= 0) {
        n = snprintf(out + at, cap - at, "CSeq: %d\r\n", cseq);
        if (n < 0 || (size_t)n >= cap - at) return -1;
        at += (size_t)n;
    }
    if (extra) {
        size_t e = strlen(extra);
        if (e >= cap - at) return -1;
        memcpy(out + at, extra, e);
        at += e;
    }
    if (body_len > 0) {
        n = snprintf(out + at, cap - at, "Content-Length: %zu\r\n", body_len);
        if (n < 0 || (size_t)n >= cap - at) return -1;
        at += (size_t)n;
    }
    if (cap - at <= 2 + body_len) return -1; /* also room for a final NUL */
    memcpy(out + at, "\r\n", 2);
    at += 2;
    if (body_len > 0) memcpy(out + at, body, body_len);
    at += body_len;
    out[at] = '\0';
    if (at > (size_t)2147483647) return -1;
    return (int)at;
}
