/* HTTP request heads (http.h). */
#include "http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool copy(char *dst, size_t n, const char *s, size_t len)
{
    if (len >= n) return false;
    memcpy(dst, s, len);
    dst[len] = 0;
    return true;
}

int qcam_http_parse(const char *buf, size_t len, qcam_http_request *req)
{
    size_t head = 0;
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            head = i + 4;
            break;
        }
    if (!head) return len >= QCAM_HTTP_MAX_HEAD ? -1 : 0;
    if (head > QCAM_HTTP_MAX_HEAD) return -1;
    memset(req, 0, sizeof *req);
    /* request line: METHOD SP target SP HTTP/1.x CRLF */
    const char *p = buf, *end = buf + head - 2, *eol = memchr(p, '\r', (size_t)(end - p));
    if (!eol || eol[1] != '\n') return -1;
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (!sp1 || sp1 == p) return -1;
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (!sp2 || sp2 == sp1 + 1 || eol - sp2 - 1 != 8) return -1;
    if (!copy(req->method, sizeof req->method, p, (size_t)(sp1 - p))) return -1;
    for (char *m = req->method; *m; m++)
        if (*m < 'A' || *m > 'Z') return -1;
    const char *target = sp1 + 1, *q = memchr(target, '?', (size_t)(sp2 - target));
    const char *path_end = q ? q : sp2;
    if (*target != '/') return -1;
    if (!copy(req->path, sizeof req->path, target, (size_t)(path_end - target))) return -1;
    if (q && !copy(req->query, sizeof req->query, q + 1, (size_t)(sp2 - q - 1))) return -1;
    for (const char *c = target; c < sp2; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f) return -1;
    bool http10;
    if (memcmp(sp2 + 1, "HTTP/1.1", 8) == 0) http10 = false;
    else if (memcmp(sp2 + 1, "HTTP/1.0", 8) == 0) http10 = true;
    else return -1;
    req->close = http10;
    /* headers */
    p = eol + 2;
    while (p < end) {
        eol = memchr(p, '\r', (size_t)(end - p) + 1);
        if (!eol || eol[1] != '\n') return -1;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p) return -1;
        for (const char *c = p; c < colon; c++)
            if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_')) return -1;
        const char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t')) v++;
        const char *ve = eol;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        size_t nlen = (size_t)(colon - p), vlen = (size_t)(ve - v);
        if (nlen == 4 && strncasecmp(p, "host", 4) == 0) {
            if (!copy(req->host, sizeof req->host, v, vlen)) return -1;
        } else if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
            if (vlen == 5 && strncasecmp(v, "close", 5) == 0) req->close = true;
            if (vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0) req->close = false;
        } else if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
            long n = 0;
            if (vlen == 0 || vlen > 9) return -1;
            for (size_t i = 0; i < vlen; i++) {
                if (!isdigit((unsigned char)v[i])) return -1;
                n = n * 10 + (v[i] - '0');
            }
            req->content_length = n;
        } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
            return -1; /* no bodies here */
        }
        p = eol + 2;
    }
    return (int)head;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool qcam_http_query(const char *query, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&'), *e = amp ? amp : p + strlen(p);
        if ((size_t)(e - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t o = 0;
            for (const char *c = p + nl + 1; c < e; c++) {
                int ch = *c == '+' ? ' ' : *c;
                if (*c == '%' && c + 2 < e && hex(c[1]) >= 0 && hex(c[2]) >= 0) {
                    ch = hex(c[1]) * 16 + hex(c[2]);
                    c += 2;
                }
                if (o + 1 >= n) return false;
                out[o++] = (char)ch;
            }
            out[o] = 0;
            return true;
        }
        p = amp ? amp + 1 : e;
    }
    return false;
}
