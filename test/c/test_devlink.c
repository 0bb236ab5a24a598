/* The dev link's frame codec (runtime/devlink/devlink_proto.h), driven by the
 * shared table test/fixtures/devlink/frames.json. The mocha side
 * (test/unit/devlink-codec.test.ts) turns the table into lines on stdin:
 *
 *   case <name>
 *   frame <version> <channel> <flags> <seq> <payload hex or ->   (expected, in order)
 *   junk <reason> <length> <bytes hex or ->
 *   wire <hex or ->
 *   encode <0|1>        1: encoding the frames gives the wire bytes exactly
 *   end
 *
 * Each case is decoded whole, a byte at a time and 7 bytes at a time; each
 * way must give exactly the expected events. Prints "ok <cases> <checks>",
 * failures on stderr, exit 1 on any. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/devlink/devlink_proto.h"

#define MAX_EVENTS 16
#define MAX_HEX (1 << 16)

typedef struct {
    int junk; /* 0: frame */
    qcam_dl_frame f;
    uint8_t payload[QCAM_DL_MAX_PAYLOAD];
    char why[16];
    size_t length, nbytes;
    int has_bytes;
    uint8_t bytes[256];
} expected;

static int checks, failures;
static char name[512];
static expected want[MAX_EVENTS];
static int n_want;
static uint8_t wire[MAX_HEX];
static size_t wire_len;
static int do_encode;

static void fail(const char *fmt, const char *a, long x, long y)
{
    fprintf(stderr, "FAIL %s: ", name);
    fprintf(stderr, fmt, a, x, y);
    fputc('\n', stderr);
    failures++;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    if (strcmp(s, "-") == 0) return 0;
    size_t n = strlen(s) / 2;
    if (n > cap) {
        fprintf(stderr, "hex too long\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void check_events(const char *how, size_t chunk)
{
    qcam_dl_decoder *d = malloc(sizeof *d);
    qcam_dl_decoder_init(d);
    int got = 0;
    size_t at = 0;
    while (at < wire_len) {
        size_t n = wire_len - at < chunk ? wire_len - at : chunk;
        size_t off = 0;
        while (off < n) {
            size_t used = 0;
            qcam_dl_event ev;
            qcam_dl_event_kind k = qcam_dl_decode(d, wire + at + off, n - off, &used, &ev);
            checks++;
            if (used == 0 || used > n - off) {
                fail("%s: used %ld of %ld", how, (long)used, (long)(n - off));
                free(d);
                return;
            }
            off += used;
            if (k == QCAM_DL_NONE) continue;
            if (got >= n_want) {
                fail("%s: more events than %ld (%ld)", how, n_want, got + 1);
                got++;
                continue;
            }
            expected *w = &want[got++];
            if (k == QCAM_DL_FRAME) {
                if (w->junk) {
                    fail("%s: event %ld is a frame, expected junk (%ld)", how, got, 0);
                    continue;
                }
                if (ev.frame.version != w->f.version || ev.frame.channel != w->f.channel ||
                    ev.frame.flags != w->f.flags || ev.frame.seq != w->f.seq ||
                    ev.frame.len != w->f.len ||
                    (w->f.len && memcmp(ev.frame.payload, w->payload, w->f.len) != 0))
                    fail("%s: frame %ld differs (seq %ld)", how, got, ev.frame.seq);
            } else {
                if (!w->junk) {
                    fail("%s: event %ld is junk, expected a frame (%ld)", how, got, 0);
                    continue;
                }
                if (strcmp(qcam_dl_junk_name(ev.why), w->why) != 0 || ev.junk_len != w->length)
                    fail("%s: junk %ld: got %ld bytes", how, got, (long)ev.junk_len);
                else if (strcmp(qcam_dl_junk_name(ev.why), w->why) != 0)
                    fail("%s: junk reason %ld %ld", how, 0, 0);
                if (w->has_bytes && (ev.junk_len != w->nbytes || memcmp(ev.junk, w->bytes, w->nbytes) != 0))
                    fail("%s: junk %ld bytes differ (%ld)", how, got, 0);
            }
        }
        at += n;
    }
    checks++;
    if (got != n_want) fail("%s: %ld events, expected %ld", how, got, n_want);
    free(d);
}

static void check_encode(void)
{
    static uint8_t out[MAX_HEX];
    size_t n = 0;
    for (int i = 0; i < n_want; i++) {
        size_t k = qcam_dl_encode(&want[i].f, out + n, sizeof out - n);
        checks++;
        if (k == 0) {
            fail("%s: encode %ld failed (%ld)", "encode", i, 0);
            return;
        }
        n += k;
    }
    checks++;
    if (n != wire_len || memcmp(out, wire, n) != 0)
        fail("%s: %ld bytes, the table has %ld", "encode", (long)n, (long)wire_len);
    /* Too small a buffer is refused, never overrun. */
    if (n_want == 1 && n > 0) {
        checks++;
        if (qcam_dl_encode(&want[0].f, out, n - 1) != 0) fail("%s: fits in %ld < %ld", "encode", (long)n - 1, (long)n);
    }
}

int main(void)
{
    static char line[MAX_HEX * 2 + 64];
    int cases = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "case ", 5) == 0) {
            snprintf(name, sizeof name, "%s", line + 5);
            n_want = 0;
            wire_len = 0;
            do_encode = 0;
        } else if (strncmp(line, "frame ", 6) == 0) {
            expected *w = &want[n_want++];
            unsigned v, c, f, s;
            char hex[2 * QCAM_DL_MAX_PAYLOAD + 2];
            if (sscanf(line + 6, "%u %u %u %u %8193s", &v, &c, &f, &s, hex) != 5) {
                fprintf(stderr, "bad line: %.60s\n", line);
                return 2;
            }
            memset(w, 0, sizeof *w);
            w->f.version = (uint8_t)v;
            w->f.channel = (uint8_t)c;
            w->f.flags = (uint8_t)f;
            w->f.seq = (uint16_t)s;
            w->f.len = (uint16_t)unhex(hex, w->payload, sizeof w->payload);
            w->f.payload = w->payload;
        } else if (strncmp(line, "junk ", 5) == 0) {
            expected *w = &want[n_want++];
            char hex[520];
            memset(w, 0, sizeof *w);
            w->junk = 1;
            if (sscanf(line + 5, "%15s %zu %519s", w->why, &w->length, hex) != 3) {
                fprintf(stderr, "bad line: %.60s\n", line);
                return 2;
            }
            w->has_bytes = strcmp(hex, "-") != 0;
            w->nbytes = unhex(hex, w->bytes, sizeof w->bytes);
        } else if (strncmp(line, "wire ", 5) == 0) {
            wire_len = unhex(line + 5, wire, sizeof wire);
        } else if (strncmp(line, "encode ", 7) == 0) {
            do_encode = atoi(line + 7);
        } else if (strcmp(line, "end") == 0) {
            cases++;
            check_events("whole", wire_len ? wire_len : 1);
            check_events("bytewise", 1);
            check_events("chunks of 7", 7);
            if (do_encode) check_encode();
        }
    }
    printf("ok %d %d\n", cases, checks);
    return failures ? 1 : 0;
}
