/* Digest access authentication (RFC 2617) for RTSP, with the MD5 message
 * digest of RFC 1321. The check reads an untrusted Authorization header:
 * every parameter goes into a bounded buffer, nothing is read past the
 * string's NUL. Fuzzed by fuzz_rtsp.c. */
#include <stdio.h>
#include <string.h>

#include "rtsp_proto.h"

/* ---- MD5 (RFC 1321) ------------------------------------------------------------ */

typedef struct {
    uint32_t s[4];
    uint64_t bytes;
    uint8_t block[64];
    size_t fill;
} md5_ctx;

/* T[i] = floor(2^32 * |sin(i + 1)|) (RFC 1321 3.4). */
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
    0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
    0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
    0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
    0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Left rotations per round (RFC 1321 3.4: S11..S44). */
static const uint8_t md5_r[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static uint32_t rotl(uint32_t x, unsigned n)
{
    return x << n | x >> (32 - n);
}

static void md5_block(uint32_t s[4], const uint8_t p[64])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3];
    for (int i = 0; i < 64; i++) {
        int round = i / 16;
        uint32_t f;
        int k;
        switch (round) {
        case 0:
            f = (b & c) | (~b & d);
            k = i;
            break;
        case 1:
            f = (b & d) | (c & ~d);
            k = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d;
            k = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d);
            k = (7 * i) % 16;
            break;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + x[k] + md5_t[i], md5_r[round][i % 4]);
        a = t;
    }
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
}

static void md5_init(md5_ctx *m)
{
    m->s[0] = 0x67452301;
    m->s[1] = 0xefcdab89;
    m->s[2] = 0x98badcfe;
    m->s[3] = 0x10325476;
    m->bytes = 0;
    m->fill = 0;
}

static void md5_update(md5_ctx *m, const void *data, size_t len)
{
    const uint8_t *p = data;
    m->bytes += len;
    while (len > 0) {
        size_t n = 64 - m->fill;
        if (n > len) n = len;
        memcpy(m->block + m->fill, p, n);
        m->fill += n;
        p += n;
        len -= n;
        if (m->fill == 64) {
            md5_block(m->s, m->block);
            m->fill = 0;
        }
    }
}

static void md5_final(md5_ctx *m, uint8_t out[16])
{
    uint64_t bits = m->bytes * 8;
    static const uint8_t pad[64] = {0x80};
    size_t n = m->fill < 56 ? 56 - m->fill : 120 - m->fill;
    md5_update(m, pad, n);
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (8 * i));
    md5_update(m, len, 8);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(m->s[i] >> (8 * j));
}

void qcam_md5(const void *data, size_t len, uint8_t out[16])
{
    md5_ctx m;
    md5_init(&m);
    md5_update(&m, data, len);
    md5_final(&m, out);
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

/* MD5 of the strings joined by ':' (KD and H of RFC 2617 3.2.2), as hex. */
static void md5_hex_join(char out[33], const char *const *parts, size_t n)
{
    md5_ctx m;
    md5_init(&m);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) md5_update(&m, ":", 1);
        md5_update(&m, parts[i], strlen(parts[i]));
    }
    uint8_t d[16];
    md5_final(&m, d);
    hex32(out, d);
}

/* ---- nonce and challenge ------------------------------------------------------ */

void qcam_digest_nonce(char out[33], const uint8_t secret[16], uint64_t counter)
{
    uint8_t in[24];
    memcpy(in, secret, 16);
    for (int i = 0; i < 8; i++) in[16 + i] = (uint8_t)(counter >> (56 - 8 * i));
    uint8_t d[16];
    qcam_md5(in, sizeof in, d);
    hex32(out, d);
}

/* Can go between double quotes as it is. */
static bool quotable(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f) return false;
    return true;
}

int qcam_digest_challenge(char *out, size_t cap, const char *realm, const char *nonce)
{
    if (!quotable(realm) || !quotable(nonce)) return -1;
    int n = snprintf(out, cap, "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\"\r\n", realm,
                     nonce);
    if (n < 0 || (size_t)n >= cap) return -1;
    return n;
}

/* ---- the check --------------------------------------------------------------- */

#define PARAM_MAX 512

enum { P_USERNAME, P_REALM, P_NONCE, P_URI, P_RESPONSE, P_QOP, P_NC, P_CNONCE, P_ALGORITHM, P_N };
static const char *const param_names[P_N] = {"username", "realm",  "nonce",  "uri",      "response",
                                             "qop",      "nc",     "cnonce", "algorithm"};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Parse `Digest k=v, k="v", ...`: the parameters we use into p[] (empty when
 * absent), with *have telling which were given. False when malformed. */
static bool parse_params(const char *s, char p[P_N][PARAM_MAX], unsigned *have)
{
    *have = 0;
    for (int i = 0; i < P_N; i++) p[i][0] = '\0';
    while (is_space(*s)) s++;
    static const char scheme[] = "digest";
    for (size_t i = 0; i < 6; i++)
        if (qcam_rtsp_lower((unsigned char)s[i]) != scheme[i]) return false; /* stops at a NUL too */
    s += 6;
    if (!is_space(*s)) return false;
    bool first = true;
    for (;;) {
        while (is_space(*s)) s++;
        if (*s == '\0') break;
        if (!first) {
            if (*s != ',') return false;
            s++;
            while (is_space(*s)) s++;
            if (*s == '\0') break;
            if (*s == ',') continue; /* empty list element */
        }
        first = false;
        const char *name = s;
        while (qcam_rtsp_is_tchar((unsigned char)*s)) s++;
        size_t name_len = (size_t)(s - name);
        if (name_len == 0) return false;
        while (is_space(*s)) s++;
        if (*s != '=') return false;
        s++;
        while (is_space(*s)) s++;
        char value[PARAM_MAX];
        size_t vn = 0;
        if (*s == '"') {
            s++;
            for (;;) {
                char c = *s;
                if (c == '\0') return false;
                s++;
                if (c == '"') break;
                if (c == '\\') {
                    c = *s;
                    if (c == '\0') return false;
                    s++;
                }
                if (vn + 1 >= PARAM_MAX) return false;
                value[vn++] = c;
            }
        } else {
            while (qcam_rtsp_is_tchar((unsigned char)*s)) {
                if (vn + 1 >= PARAM_MAX) return false;
                value[vn++] = *s++;
            }
            if (vn == 0) return false;
        }
        value[vn] = '\0';
        for (int i = 0; i < P_N; i++) {
            if (!qcam_rtsp_eq_nocase_n(name, name_len, param_names[i])) continue;
            if (*have & (1u << i)) return false; /* given twice */
            *have |= 1u << i;
            memcpy(p[i], value, vn + 1);
        }
    }
    return true;
}

int qcam_digest_check(const char *authorization, const char *method, const char *user,
                      const char *password, const char *realm, const char *nonce)
{
    if (!authorization || !method || !user || !password || !realm || !nonce) return 0;
    char p[P_N][PARAM_MAX];
    unsigned have;
    if (!parse_params(authorization, p, &have)) return 0;
    const unsigned need = 1u << P_USERNAME | 1u << P_REALM | 1u << P_NONCE | 1u << P_URI |
                          1u << P_RESPONSE;
    if ((have & need) != need) return 0;
    if (strcmp(p[P_USERNAME], user) != 0 || strcmp(p[P_REALM], realm) != 0 ||
        strcmp(p[P_NONCE], nonce) != 0)
        return 0;
    if ((have & 1u << P_ALGORITHM) && !qcam_rtsp_eq_nocase_n(p[P_ALGORITHM], strlen(p[P_ALGORITHM]), "MD5"))
        return 0;
    bool qop = have & 1u << P_QOP;
    if (qop) {
        if (!qcam_rtsp_eq_nocase_n(p[P_QOP], strlen(p[P_QOP]), "auth")) return 0;
        if (!(have & 1u << P_CNONCE) || !(have & 1u << P_NC) || strlen(p[P_NC]) != 8) return 0;
        for (int i = 0; i < 8; i++)
            if (!is_hex((unsigned char)p[P_NC][i])) return 0;
    }
    if (strlen(p[P_RESPONSE]) != 32) return 0;

    char ha1[33], ha2[33], want[33];
    const char *a1[] = {user, realm, password};
    md5_hex_join(ha1, a1, 3);
    const char *a2[] = {method, p[P_URI]};
    md5_hex_join(ha2, a2, 2);
    if (qop) {
        const char *kd[] = {ha1, nonce, p[P_NC], p[P_CNONCE], p[P_QOP], ha2};
        md5_hex_join(want, kd, 6);
    } else {
        const char *kd[] = {ha1, nonce, ha2};
        md5_hex_join(want, kd, 3);
    }
    unsigned diff = 0;
    for (int i = 0; i < 32; i++) diff |= (unsigned)(qcam_rtsp_lower((unsigned char)p[P_RESPONSE][i]) ^ want[i]);
    return diff == 0;
}
