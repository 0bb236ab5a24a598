/* The app store's text formats (store_text.h): no I/O, fuzzed on their own. */
#include "store_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Split text into lines without changing it: calls f(line, len) for each. */
typedef int (*line_fn)(const char *line, size_t len, void *ctx);

static int each_line(const char *text, size_t len, line_fn f, void *ctx)
{
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        int r = f(text + i, e - i, ctx);
        if (r != 0) return r;
        i = e + 1;
    }
    return 0;
}

static void copy_value(char *out, size_t n, const char *v, size_t vl)
{
    if (vl >= n) vl = n - 1;
    memcpy(out, v, vl);
    out[vl] = 0;
    /* a NUL inside the value ends it, as it always did */
}

static bool is_key(const char *line, size_t len, const char *key, const char **v, size_t *vl)
{
    size_t kl = strlen(key);
    if (len < kl || memcmp(line, key, kl) != 0) return false;
    if (len == kl) {
        *v = line + len;
        *vl = 0;
        return true;
    }
    if (line[kl] != ' ') return false;
    *v = line + kl + 1;
    *vl = len - kl - 1;
    return true;
}

static int atoi_n(const char *v, size_t vl)
{
    char b[24];
    copy_value(b, sizeof b, v, vl);
    return atoi(b);
}

typedef struct {
    qcam_app_state *st;
    int line;
    bool magic, ended;
} state_ctx;

static int state_line(const char *line, size_t len, void *arg)
{
    state_ctx *c = arg;
    qcam_app_state *st = c->st;
    if (len == 0) return 0; /* blank lines never counted */
    if (c->line++ == 0) {
        c->magic = len == strlen(QCAM_STATE_MAGIC) && memcmp(line, QCAM_STATE_MAGIC, len) == 0;
        return c->magic ? 0 : -EBADMSG;
    }
    const char *v;
    size_t vl;
    if (is_key(line, len, "active", &v, &vl)) st->active = vl && (v[0] == 'a' || v[0] == 'b') ? v[0] : 0;
    else if (is_key(line, len, "pending", &v, &vl)) st->pending = vl && (v[0] == 'a' || v[0] == 'b') ? v[0] : 0;
    else if (is_key(line, len, "tries", &v, &vl)) st->tries = atoi_n(v, vl);
    else if (is_key(line, len, "seq", &v, &vl)) {
        char b[24];
        copy_value(b, sizeof b, v, vl);
        st->seq = (unsigned)strtoul(b, NULL, 10);
    } else if (is_key(line, len, "version.a", &v, &vl)) copy_value(st->version[0], sizeof st->version[0], v, vl);
    else if (is_key(line, len, "version.b", &v, &vl)) copy_value(st->version[1], sizeof st->version[1], v, vl);
    else if (is_key(line, len, "rollback", &v, &vl)) copy_value(st->rollback, sizeof st->rollback, v, vl);
    else if (is_key(line, len, "removed", &v, &vl)) st->removed = true;
    else if (len == 3 && memcmp(line, "end", 3) == 0) c->ended = true;
    return 0;
}

int qcam_state_parse(const char *text, size_t len, qcam_app_state *st)
{
    char id[sizeof st->id];
    memcpy(id, st->id, sizeof id);
    memset(st, 0, sizeof *st);
    memcpy(st->id, id, sizeof id);
    state_ctx c = {.st = st};
    int r = each_line(text, len, state_line, &c);
    if (r != 0 || !c.magic || !c.ended) return -EBADMSG;
    if (st->removed) return -ENOENT;
    if (st->tries < 0) st->tries = 0;
    if (st->tries > QCAM_STORE_TRIES) st->tries = QCAM_STORE_TRIES;
    if (st->pending && st->pending == st->active) st->pending = 0;
    return 0;
}

int qcam_hex_key(const char *s, size_t n, uint8_t out[QCAM_STORE_KEY_SIZE])
{
    if (n != 2 * QCAM_STORE_KEY_SIZE) return -1;
    for (size_t i = 0; i < QCAM_STORE_KEY_SIZE; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
            else return -1;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

typedef struct {
    uint8_t (*keys)[QCAM_STORE_KEY_SIZE];
    size_t max, n;
} keys_ctx;

static int key_line(const char *line, size_t len, void *arg)
{
    keys_ctx *c = arg;
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\r' || line[len - 1] == '\t')) len--;
    while (len && (*line == ' ' || *line == '\t')) line++, len--;
    if (len == 0 || line[0] == '#') return 0;
    if (c->n >= c->max || qcam_hex_key(line, len, c->keys[c->n]) != 0) return -EBADMSG;
    c->n++;
    return 0;
}

int qcam_keys_parse(const char *text, size_t len, uint8_t keys[][QCAM_STORE_KEY_SIZE], size_t max,
                    size_t *n)
{
    keys_ctx c = {.keys = keys, .max = max};
    int r = each_line(text, len, key_line, &c);
    *n = r == 0 ? c.n : 0;
    return r;
}

void qcam_kv_field(const uint8_t *body, size_t len, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    out[0] = 0;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && body[e] != '\n') e++;
        if (e - i > kl && memcmp(body + i, key, kl) == 0 && body[i + kl] == '=') {
            copy_value(out, n, (const char *)body + i + kl + 1, e - i - kl - 1);
            return;
        }
        i = e + 1;
    }
}
