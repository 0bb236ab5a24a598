/* RTMP as pure functions: see rtmp_proto.h. */
#include "rtmp_proto.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../media/neturl.h"
#include "../video/annexb.h"

/* ---- buffer ---------------------------------------------------------------------- */

void qcam_rtmp_buf_free(qcam_rtmp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

bool qcam_rtmp_buf_reserve(qcam_rtmp_buf *b, size_t n)
{
    if (b->oom) return false;
    if (b->len + n <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void qcam_rtmp_put(qcam_rtmp_buf *b, const void *p, size_t n)
{
    if (!n || !qcam_rtmp_buf_reserve(b, n)) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void qcam_rtmp_put8(qcam_rtmp_buf *b, uint8_t v) { qcam_rtmp_put(b, &v, 1); }
void qcam_rtmp_put16(qcam_rtmp_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    qcam_rtmp_put(b, x, 2);
}
void qcam_rtmp_put24(qcam_rtmp_buf *b, uint32_t v)
{
    uint8_t x[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    qcam_rtmp_put(b, x, 3);
}
void qcam_rtmp_put32(qcam_rtmp_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    qcam_rtmp_put(b, x, 4);
}

static uint32_t rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* ---- URL ------------------------------------------------------------------------- */

static int append(char *dst, size_t cap, const char *src, size_t n)
{
    size_t l = strlen(dst);
    if (l + n + 1 > cap) return -1;
    memcpy(dst + l, src, n);
    dst[l + n] = 0;
    return 0;
}

/* The query with every value masked. */
static int mask_query(char *dst, size_t cap, const char *q)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        if (eq) {
            if (append(dst, cap, q, (size_t)(eq - q) + 1) < 0 || append(dst, cap, "***", 3) < 0) return -1;
        } else if (append(dst, cap, q, n) < 0) {
            return -1;
        }
        if (!amp) break;
        if (append(dst, cap, "&", 1) < 0) return -1;
        q = amp + 1;
    }
    return 0;
}

int qcam_rtmp_parse_url(const char *url, qcam_rtmp_url *out)
{
    memset(out, 0, sizeof *out);
    if (!strncmp(url, "rtmps://", 8)) return -ENOTSUP;
    if (strncmp(url, "rtmp://", 7)) return -EINVAL;
    const char *p = url + 7;
    const char *slash = strchr(p, '/');
    if (!slash) return -EINVAL;
    char user[128], pass[128];
    out->port = QCAM_RTMP_DEFAULT_PORT;
    if (qcam_url_authority(p, slash, user, sizeof user, pass, sizeof pass, NULL, out->host, sizeof out->host, &out->port) < 0)
        return -EINVAL;
    /* path: app/.../stream[?query] */
    const char *path = slash + 1;
    const char *q = strchr(path, '?');
    const char *path_end = q ? q : path + strlen(path);
    const char *last = NULL;
    for (const char *c = path; c < path_end; c++)
        if (*c == '/') last = c;
    if (!last || last == path || last + 1 == path_end) return -EINVAL;
    if ((size_t)(last - path) >= sizeof out->app) return -EINVAL;
    memcpy(out->app, path, (size_t)(last - path));
    if ((size_t)(path_end - last - 1) >= sizeof out->stream) return -EINVAL;
    memcpy(out->stream, last + 1, (size_t)(path_end - last - 1));
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f) return -EINVAL;
    /* the stream name with its query and the credentials */
    bool any_q = false;
    if (q && q[1]) {
        if (append(out->stream, sizeof out->stream, q, strlen(q)) < 0) return -EINVAL;
        any_q = true;
        out->has_secret = strchr(q, '=') != NULL;
    }
    if (user[0]) {
        char cred[300];
        snprintf(cred, sizeof cred, "%suser=%s%s%s", any_q ? "&" : "?", user, pass[0] ? "&pass=" : "", pass);
        if (append(out->stream, sizeof out->stream, cred, strlen(cred)) < 0) return -EINVAL;
        out->has_secret = true;
    }
    char hp[300];
    qcam_url_hostport(hp, sizeof hp, out->host, out->port, QCAM_RTMP_DEFAULT_PORT);
    int n = snprintf(out->tc_url, sizeof out->tc_url, "rtmp://%s/%s", hp, out->app);
    if (n < 0 || (size_t)n >= sizeof out->tc_url) return -EINVAL;
    /* masked: the tcUrl, the stream name, its query with values hidden */
    snprintf(out->masked, sizeof out->masked, "%s/", out->tc_url);
    const char *sq = strchr(out->stream, '?');
    size_t bare = sq ? (size_t)(sq - out->stream) : strlen(out->stream);
    if (append(out->masked, sizeof out->masked, out->stream, bare) < 0) return -EINVAL;
    if (sq) {
        if (append(out->masked, sizeof out->masked, "?", 1) < 0 || mask_query(out->masked, sizeof out->masked, sq + 1) < 0)
            return -EINVAL;
    }
    return 0;
}

/* ---- handshake -------------------------------------------------------------------- */

void qcam_rtmp_c0c1(uint8_t out[1 + QCAM_RTMP_HANDSHAKE], uint32_t time_ms, const uint8_t *random, size_t random_len)
{
    out[0] = 3;
    uint8_t *c1 = out + 1;
    c1[0] = (uint8_t)(time_ms >> 24);
    c1[1] = (uint8_t)(time_ms >> 16);
    c1[2] = (uint8_t)(time_ms >> 8);
    c1[3] = (uint8_t)time_ms;
    memset(c1 + 4, 0, 4);
    for (size_t i = 8; i < QCAM_RTMP_HANDSHAKE; i++) c1[i] = random_len ? random[(i - 8) % random_len] : (uint8_t)(i * 7);
}

int qcam_rtmp_c2(const uint8_t s0s1[1 + QCAM_RTMP_HANDSHAKE], uint32_t time_ms, uint8_t c2[QCAM_RTMP_HANDSHAKE])
{
    if (s0s1[0] != 3) return -EPROTO;
    memcpy(c2, s0s1 + 1, QCAM_RTMP_HANDSHAKE);
    c2[4] = (uint8_t)(time_ms >> 24);
    c2[5] = (uint8_t)(time_ms >> 16);
    c2[6] = (uint8_t)(time_ms >> 8);
    c2[7] = (uint8_t)time_ms;
    return 0;
}

/* ---- chunks ------------------------------------------------------------------------ */

size_t qcam_rtmp_chunked_size(size_t len, size_t chunk_size, uint32_t timestamp)
{
    size_t ext = timestamp >= 0xFFFFFF ? 4 : 0;
    size_t chunks = len ? (len + chunk_size - 1) / chunk_size : 1;
    return len + 12 + ext + (chunks - 1) * (1 + ext);
}

void qcam_rtmp_chunk_message(qcam_rtmp_buf *b, unsigned csid, uint8_t type, uint32_t stream_id, uint32_t timestamp,
                             const uint8_t *payload, size_t len, size_t chunk_size)
{
    if (!qcam_rtmp_buf_reserve(b, qcam_rtmp_chunked_size(len, chunk_size, timestamp))) return;
    bool ext = timestamp >= 0xFFFFFF;
    qcam_rtmp_put8(b, (uint8_t)(csid & 0x3f));
    qcam_rtmp_put24(b, ext ? 0xFFFFFF : timestamp);
    qcam_rtmp_put24(b, (uint32_t)len);
    qcam_rtmp_put8(b, type);
    uint8_t msid[4] = {(uint8_t)stream_id, (uint8_t)(stream_id >> 8), (uint8_t)(stream_id >> 16), (uint8_t)(stream_id >> 24)};
    qcam_rtmp_put(b, msid, 4);
    if (ext) qcam_rtmp_put32(b, timestamp);
    size_t off = 0;
    do {
        size_t n = len - off < chunk_size ? len - off : chunk_size;
        if (off) {
            qcam_rtmp_put8(b, (uint8_t)(0xC0 | (csid & 0x3f)));
            if (ext) qcam_rtmp_put32(b, timestamp);
        }
        qcam_rtmp_put(b, payload + off, n);
        off += n;
    } while (off < len);
}

static void control(qcam_rtmp_buf *b, uint8_t type, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    qcam_rtmp_chunk_message(b, QCAM_RTMP_CS_CONTROL, type, 0, 0, p, 4, 128);
}

void qcam_rtmp_set_chunk_size(qcam_rtmp_buf *b, uint32_t size) { control(b, QCAM_RTMP_SET_CHUNK_SIZE, size & 0x7fffffff); }
void qcam_rtmp_window_ack(qcam_rtmp_buf *b, uint32_t size) { control(b, QCAM_RTMP_WINDOW_ACK, size); }
void qcam_rtmp_ack(qcam_rtmp_buf *b, uint32_t received) { control(b, QCAM_RTMP_ACK, received); }

void qcam_rtmp_pong(qcam_rtmp_buf *b, uint32_t ping_time)
{
    uint8_t p[6] = {0, 7, (uint8_t)(ping_time >> 24), (uint8_t)(ping_time >> 16), (uint8_t)(ping_time >> 8), (uint8_t)ping_time};
    qcam_rtmp_chunk_message(b, QCAM_RTMP_CS_CONTROL, QCAM_RTMP_USER_CONTROL, 0, 0, p, 6, 128);
}

void qcam_rtmp_reader_init(qcam_rtmp_reader *r)
{
    memset(r, 0, sizeof *r);
    r->chunk_size = 128;
}

void qcam_rtmp_reader_free(qcam_rtmp_reader *r)
{
    for (int i = 0; i < QCAM_RTMP_READER_STREAMS; i++) free(r->cs[i].data);
    free(r->ready);
    memset(r, 0, sizeof *r);
    r->chunk_size = 128;
}

static qcam_rtmp_cstream *find_cs(qcam_rtmp_reader *r, uint32_t csid, bool create)
{
    qcam_rtmp_cstream *free_slot = NULL;
    for (int i = 0; i < QCAM_RTMP_READER_STREAMS; i++) {
        if (r->cs[i].used && r->cs[i].csid == csid) return &r->cs[i];
        if (!r->cs[i].used && !free_slot) free_slot = &r->cs[i];
    }
    if (create && !free_slot) /* all taken: reuse one with no message in progress (its header state goes) */
        for (int i = 0; i < QCAM_RTMP_READER_STREAMS && !free_slot; i++)
            if (!r->cs[i].data && !r->cs[i].have) free_slot = &r->cs[i];
    if (!create || !free_slot) return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = true;
    free_slot->csid = csid;
    return free_slot;
}

int qcam_rtmp_reader_feed(qcam_rtmp_reader *r, const uint8_t *buf, size_t len, qcam_rtmp_message *msg, int *msg_out)
{
    *msg_out = 0;
    free(r->ready);
    r->ready = NULL;
    if (len < 1) return 0;
    size_t pos = 1;
    unsigned fmt = buf[0] >> 6;
    uint32_t csid = buf[0] & 0x3f;
    if (csid == 0) {
        if (len < 2) return 0;
        csid = 64 + buf[1];
        pos = 2;
    } else if (csid == 1) {
        if (len < 3) return 0;
        csid = 64 + buf[1] + 256u * buf[2];
        pos = 3;
    }
    static const size_t hdr_len[4] = {11, 7, 3, 0};
    if (len < pos + hdr_len[fmt]) return 0;
    const uint8_t *h = buf + pos;
    pos += hdr_len[fmt];
    qcam_rtmp_cstream *cs = find_cs(r, csid, false);
    if (!cs && fmt != 0) return -EPROTO; /* nothing to inherit from */
    /* the header's fields, not applied until the chunk is all there */
    uint32_t tfield = fmt < 3 ? rd24(h) : 0;
    bool ext = fmt < 3 ? tfield == 0xFFFFFF : (cs && cs->ext);
    uint32_t ext_ts = 0;
    if (ext) {
        if (len < pos + 4) return 0;
        ext_ts = rd32(buf + pos);
        pos += 4;
    }
    uint32_t length = fmt <= 1 ? rd24(h + 3) : cs->length;
    uint8_t type = fmt <= 1 ? h[6] : cs->type;
    if (length > QCAM_RTMP_MAX_MESSAGE) return -EPROTO;
    size_t have = (fmt == 3 && cs) ? cs->have : 0; /* a new header restarts the message */
    size_t n = length - have < r->chunk_size ? length - have : r->chunk_size;
    if (len < pos + n) return 0;
    /* commit */
    if (!cs) {
        cs = find_cs(r, csid, true);
        if (!cs) return -EPROTO;
    }
    uint32_t tval = ext ? ext_ts : tfield;
    bool starting = have == 0;
    if (fmt == 0) {
        cs->timestamp = tval;
        cs->delta = 0;
        cs->stream_id = (uint32_t)h[7] | (uint32_t)h[8] << 8 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 24;
    } else if (fmt == 1 || fmt == 2) {
        cs->delta = tval;
        cs->timestamp += tval;
    } else if (starting) {
        cs->timestamp += cs->delta;
    }
    if (fmt < 3) cs->ext = ext;
    if (fmt != 3 && cs->have) { /* a new message before the last one ended: drop what came */
        free(cs->data);
        cs->data = NULL;
        cs->have = cs->cap = 0;
    }
    cs->length = length;
    cs->type = type;
    if (cs->have + n > cs->cap) {
        /* grown as the bytes come (doubling, never past the length): a header
         * announcing a long message reserves nothing by itself */
        size_t cap = cs->cap ? cs->cap * 2 : 4096;
        if (cap < cs->have + n) cap = cs->have + n;
        if (cap > length) cap = length;
        uint8_t *p = realloc(cs->data, cap);
        if (!p) return -ENOMEM;
        cs->data = p;
        cs->cap = cap;
    }
    if (n) memcpy(cs->data + cs->have, buf + pos, n);
    cs->have += n;
    pos += n;
    r->bytes += pos;
    if (cs->have < cs->length) return (int)pos;
    /* a whole message */
    msg->type = cs->type;
    msg->stream_id = cs->stream_id;
    msg->timestamp = cs->timestamp;
    msg->payload = cs->data ? cs->data : (const uint8_t *)"";
    msg->len = cs->length;
    r->ready = cs->data;
    cs->data = NULL;
    cs->have = cs->cap = 0;
    *msg_out = 1;
    if (msg->type == QCAM_RTMP_SET_CHUNK_SIZE) {
        if (msg->len < 4) return -EPROTO;
        uint32_t size = rd32(msg->payload) & 0x7fffffff;
        if (size < 1 || size > (1u << 24)) return -EPROTO;
        r->chunk_size = size;
    } else if (msg->type == QCAM_RTMP_ABORT && msg->len >= 4) {
        qcam_rtmp_cstream *a = find_cs(r, rd32(msg->payload), false);
        if (a) {
            free(a->data);
            a->data = NULL;
            a->have = a->cap = 0;
        }
    }
    return (int)pos;
}

/* ---- AMF0 -------------------------------------------------------------------------- */

void qcam_amf_number(qcam_rtmp_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    qcam_rtmp_put8(b, QCAM_AMF_NUMBER);
    qcam_rtmp_put32(b, (uint32_t)(u >> 32));
    qcam_rtmp_put32(b, (uint32_t)u);
}

void qcam_amf_bool(qcam_rtmp_buf *b, bool v)
{
    qcam_rtmp_put8(b, QCAM_AMF_BOOLEAN);
    qcam_rtmp_put8(b, v ? 1 : 0);
}

void qcam_amf_key(qcam_rtmp_buf *b, const char *key)
{
    size_t n = strlen(key);
    if (n > 65535) n = 65535;
    qcam_rtmp_put16(b, (uint16_t)n);
    qcam_rtmp_put(b, key, n);
}

void qcam_amf_string(qcam_rtmp_buf *b, const char *s)
{
    qcam_rtmp_put8(b, QCAM_AMF_STRING);
    qcam_amf_key(b, s);
}

void qcam_amf_null(qcam_rtmp_buf *b) { qcam_rtmp_put8(b, QCAM_AMF_NULL); }
void qcam_amf_object_begin(qcam_rtmp_buf *b) { qcam_rtmp_put8(b, QCAM_AMF_OBJECT); }
void qcam_amf_ecma_begin(qcam_rtmp_buf *b, uint32_t count)
{
    qcam_rtmp_put8(b, QCAM_AMF_ECMA_ARRAY);
    qcam_rtmp_put32(b, count);
}
void qcam_amf_object_end(qcam_rtmp_buf *b)
{
    static const uint8_t end[3] = {0, 0, QCAM_AMF_OBJECT_END};
    qcam_rtmp_put(b, end, 3);
}

/* key/value pairs up to the 00 00 09 end */
static long skip_props(const uint8_t *p, size_t len, int depth)
{
    size_t pos = 0;
    for (;;) {
        if (len - pos < 2) return -1;
        size_t kl = (size_t)p[pos] << 8 | p[pos + 1];
        pos += 2;
        if (kl == 0) {
            if (pos < len && p[pos] == QCAM_AMF_OBJECT_END) return (long)pos + 1;
            if (pos >= len) return -1;
        }
        if (len - pos < kl) return -1;
        pos += kl;
        long v = qcam_amf_skip(p + pos, len - pos, depth - 1);
        if (v < 0) return -1;
        pos += (size_t)v;
    }
}

long qcam_amf_skip(const uint8_t *p, size_t len, int depth)
{
    if (len < 1 || depth <= 0) return -1;
    switch (p[0]) {
    case QCAM_AMF_NUMBER: return len >= 9 ? 9 : -1;
    case QCAM_AMF_BOOLEAN: return len >= 2 ? 2 : -1;
    case QCAM_AMF_STRING: {
        if (len < 3) return -1;
        size_t n = (size_t)p[1] << 8 | p[2];
        return len - 3 >= n ? (long)(3 + n) : -1;
    }
    case QCAM_AMF_LONG_STRING:
    case 15: /* XML document */ {
        if (len < 5) return -1;
        size_t n = rd32(p + 1);
        return len - 5 >= n ? (long)(5 + n) : -1;
    }
    case QCAM_AMF_NULL:
    case QCAM_AMF_UNDEFINED:
    case 13: /* unsupported */ return 1;
    case 7: /* reference */ return len >= 3 ? 3 : -1;
    case QCAM_AMF_DATE: return len >= 11 ? 11 : -1;
    case QCAM_AMF_OBJECT: {
        long v = skip_props(p + 1, len - 1, depth);
        return v < 0 ? -1 : v + 1;
    }
    case QCAM_AMF_ECMA_ARRAY: {
        if (len < 5) return -1;
        long v = skip_props(p + 5, len - 5, depth);
        return v < 0 ? -1 : v + 5;
    }
    case 16: { /* typed object: class name, then properties */
        if (len < 3) return -1;
        size_t n = (size_t)p[1] << 8 | p[2];
        if (len - 3 < n) return -1;
        long v = skip_props(p + 3 + n, len - 3 - n, depth);
        return v < 0 ? -1 : v + 3 + (long)n;
    }
    case QCAM_AMF_STRICT_ARRAY: {
        if (len < 5) return -1;
        uint32_t count = rd32(p + 1);
        size_t pos = 5;
        for (uint32_t i = 0; i < count; i++) {
            if (pos >= len) return -1; /* every value takes a byte at least: bounded by len */
            long v = qcam_amf_skip(p + pos, len - pos, depth - 1);
            if (v < 0) return -1;
            pos += (size_t)v;
        }
        return (long)pos;
    }
    default: return -1;
    }
}

static void copy_str(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    dst[n] = 0;
}

static double rd_double(const uint8_t *p)
{
    uint64_t u = (uint64_t)rd32(p) << 32 | rd32(p + 4);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Look for code / level / description strings among an object's properties. */
static int scan_info(const uint8_t *p, size_t len, qcam_rtmp_command *out)
{
    size_t pos = 0;
    for (;;) {
        if (len - pos < 2) return -1;
        size_t kl = (size_t)p[pos] << 8 | p[pos + 1];
        pos += 2;
        if (kl == 0 && pos < len && p[pos] == QCAM_AMF_OBJECT_END) return 0;
        if (len - pos < kl) return -1;
        const uint8_t *key = p + pos;
        pos += kl;
        if (pos >= len) return -1;
        if (p[pos] == QCAM_AMF_STRING && len - pos >= 3) {
            size_t n = (size_t)p[pos + 1] << 8 | p[pos + 2];
            if (len - pos - 3 >= n) {
                const uint8_t *s = p + pos + 3;
                if (kl == 4 && !memcmp(key, "code", 4)) copy_str(out->code, sizeof out->code, s, n);
                else if (kl == 5 && !memcmp(key, "level", 5)) copy_str(out->level, sizeof out->level, s, n);
                else if (kl == 11 && !memcmp(key, "description", 11))
                    copy_str(out->description, sizeof out->description, s, n);
            }
        }
        long v = qcam_amf_skip(p + pos, len - pos, 16);
        if (v < 0) return -1;
        pos += (size_t)v;
    }
}

int qcam_rtmp_parse_command(const uint8_t *p, size_t len, qcam_rtmp_command *out)
{
    memset(out, 0, sizeof *out);
    out->txn = NAN;
    if (len < 3 || p[0] != QCAM_AMF_STRING) return -EPROTO;
    long v = qcam_amf_skip(p, len, 16);
    if (v < 0) return -EPROTO;
    copy_str(out->name, sizeof out->name, p + 3, (size_t)v - 3);
    size_t pos = (size_t)v;
    if (pos >= len) return 0;
    if (p[pos] == QCAM_AMF_NUMBER) {
        if (len - pos < 9) return -EPROTO;
        out->txn = rd_double(p + pos + 1);
        pos += 9;
    }
    while (pos < len) {
        v = qcam_amf_skip(p + pos, len - pos, 16);
        if (v < 0) return -EPROTO;
        if (p[pos] == QCAM_AMF_OBJECT && scan_info(p + pos + 1, len - pos - 1, out) < 0) return -EPROTO;
        if (p[pos] == QCAM_AMF_NUMBER && !out->has_number) {
            out->has_number = true;
            out->number = rd_double(p + pos + 1);
        }
        pos += (size_t)v;
    }
    return 0;
}

/* ---- commands ------------------------------------------------------------------------ */

static void command(qcam_rtmp_buf *b, qcam_rtmp_buf *body, unsigned csid, uint8_t type, uint32_t msid, size_t chunk_size)
{
    if (body->oom) b->oom = true;
    else qcam_rtmp_chunk_message(b, csid, type, msid, 0, body->p, body->len, chunk_size);
    qcam_rtmp_buf_free(body);
}

static void key_string(qcam_rtmp_buf *b, const char *k, const char *v)
{
    qcam_amf_key(b, k);
    qcam_amf_string(b, v);
}

static void key_number(qcam_rtmp_buf *b, const char *k, double v)
{
    qcam_amf_key(b, k);
    qcam_amf_number(b, v);
}

void qcam_rtmp_cmd_connect(qcam_rtmp_buf *b, const qcam_rtmp_url *u, bool hevc, size_t chunk_size)
{
    qcam_rtmp_buf c = {0};
    qcam_amf_string(&c, "connect");
    qcam_amf_number(&c, 1);
    qcam_amf_object_begin(&c);
    key_string(&c, "app", u->app);
    key_string(&c, "type", "nonprivate");
    key_string(&c, "flashVer", "FMLE/3.0 (compatible; qcam)");
    key_string(&c, "tcUrl", u->tc_url);
    if (hevc) { /* Enhanced RTMP: the codecs we will send by FourCC */
        qcam_amf_key(&c, "fourCcList");
        qcam_rtmp_put8(&c, QCAM_AMF_STRICT_ARRAY);
        qcam_rtmp_put32(&c, 1);
        qcam_amf_string(&c, "hvc1");
    }
    qcam_amf_object_end(&c);
    command(b, &c, QCAM_RTMP_CS_COMMAND, QCAM_RTMP_COMMAND_AMF0, 0, chunk_size);
}

void qcam_rtmp_cmd_simple(qcam_rtmp_buf *b, const char *name, double txn, const char *stream, size_t chunk_size)
{
    qcam_rtmp_buf c = {0};
    qcam_amf_string(&c, name);
    qcam_amf_number(&c, txn);
    qcam_amf_null(&c);
    if (stream) qcam_amf_string(&c, stream);
    command(b, &c, QCAM_RTMP_CS_COMMAND, QCAM_RTMP_COMMAND_AMF0, 0, chunk_size);
}

void qcam_rtmp_cmd_publish(qcam_rtmp_buf *b, uint32_t msid, double txn, const char *stream, size_t chunk_size)
{
    qcam_rtmp_buf c = {0};
    qcam_amf_string(&c, "publish");
    qcam_amf_number(&c, txn);
    qcam_amf_null(&c);
    qcam_amf_string(&c, stream);
    qcam_amf_string(&c, "live");
    command(b, &c, QCAM_RTMP_CS_DATA, QCAM_RTMP_COMMAND_AMF0, msid, chunk_size);
}

void qcam_rtmp_cmd_delete_stream(qcam_rtmp_buf *b, uint32_t msid, double txn, size_t chunk_size)
{
    qcam_rtmp_buf c = {0};
    qcam_amf_string(&c, "deleteStream");
    qcam_amf_number(&c, txn);
    qcam_amf_null(&c);
    qcam_amf_number(&c, msid);
    command(b, &c, QCAM_RTMP_CS_COMMAND, QCAM_RTMP_COMMAND_AMF0, 0, chunk_size);
}

#define FOURCC_HVC1 0x68766331u /* 'h' 'v' 'c' '1' */

void qcam_rtmp_cmd_metadata(qcam_rtmp_buf *b, uint32_t msid, const qcam_rtmp_meta *m, size_t chunk_size)
{
    qcam_rtmp_buf c = {0};
    qcam_amf_string(&c, "@setDataFrame");
    qcam_amf_string(&c, "onMetaData");
    uint32_t count = 2 + (m->video ? 1 + (m->width > 0) * 2 + (m->fps > 0) : 0) + (m->audio ? 4 : 0);
    qcam_amf_ecma_begin(&c, count);
    key_number(&c, "duration", 0);
    if (m->video) {
        key_number(&c, "videocodecid", m->video == QCAM_CODEC_H265 ? (double)FOURCC_HVC1 : 7);
        if (m->width > 0) {
            key_number(&c, "width", m->width);
            key_number(&c, "height", m->height);
        }
        if (m->fps > 0) key_number(&c, "framerate", m->fps);
    }
    if (m->audio) {
        key_number(&c, "audiocodecid", m->audio == QCAM_CODEC_ALAW ? 7 : 8);
        key_number(&c, "audiosamplerate", 8000);
        key_number(&c, "audiosamplesize", 16);
        qcam_amf_key(&c, "stereo");
        qcam_amf_bool(&c, false);
    }
    key_string(&c, "encoder", "qcam");
    qcam_amf_object_end(&c);
    command(b, &c, QCAM_RTMP_CS_DATA, QCAM_RTMP_DATA_AMF0, msid, chunk_size);
}

/* ---- FLV tag bodies ------------------------------------------------------------------- */

void qcam_flv_video_config(qcam_rtmp_buf *b, qcam_codec codec, const uint8_t *config, size_t len)
{
    if (codec == QCAM_CODEC_H265) {
        qcam_rtmp_put8(b, 0x80 | 1 << 4 | 0); /* ex header, keyframe, SequenceStart */
        qcam_rtmp_put32(b, FOURCC_HVC1);
    } else {
        static const uint8_t h[5] = {0x17, 0, 0, 0, 0}; /* keyframe AVC, sequence header, cts 0 */
        qcam_rtmp_put(b, h, 5);
    }
    qcam_rtmp_put(b, config, len);
}

int qcam_flv_video_frame(qcam_rtmp_buf *b, qcam_codec codec, bool keyframe, const uint8_t *au, size_t len)
{
    size_t start_len = b->len;
    unsigned ft = keyframe ? 1 : 2;
    if (codec == QCAM_CODEC_H265) {
        qcam_rtmp_put8(b, (uint8_t)(0x80 | ft << 4 | 3)); /* CodedFramesX: no composition time */
        qcam_rtmp_put32(b, FOURCC_HVC1);
    } else {
        uint8_t h[5] = {(uint8_t)(ft << 4 | 7), 1, 0, 0, 0};
        qcam_rtmp_put(b, h, 5);
    }
    size_t pos = 0, start;
    const uint8_t *nal;
    size_t nal_len;
    int count = 0;
    while (qcam_annexb_next_nal(au, len, &pos, &start, &nal, &nal_len)) {
        int t = qcam_annexb_nal_type(codec, nal, nal_len);
        if (t < 0) continue;
        if (codec == QCAM_CODEC_H265 ? (t >= 32 && t <= 35) : (t == 7 || t == 8 || t == 9)) continue;
        qcam_rtmp_put32(b, (uint32_t)nal_len);
        qcam_rtmp_put(b, nal, nal_len);
        count++;
    }
    if (!count) b->len = start_len;
    return count;
}

void qcam_flv_audio(qcam_rtmp_buf *b, qcam_codec codec, const uint8_t *data, size_t len)
{
    /* sound format 7 (A-law) / 8 (mu-law); rate, size and type bits as FFmpeg
     * writes them for 8 kHz mono G.711 (the format fixes the rate) */
    qcam_rtmp_put8(b, codec == QCAM_CODEC_ALAW ? 0x72 : 0x82);
    qcam_rtmp_put(b, data, len);
}
