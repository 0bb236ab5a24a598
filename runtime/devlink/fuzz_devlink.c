/* libFuzzer target for the dev link's frame decoder (devlink_proto.h): the
 * bytes a board reads from its serial line and a host from the board.
 *
 * Input: one control byte, then the data. chunk = control + 1.
 *   - the data decoded whole, a byte at a time and `chunk` bytes at a time
 *     gives the same events;
 *   - every frame decoded encodes again (to a span of the same length, give
 *     or take a final COBS code byte), every junk span's length is at most
 *     what was fed, and the spans account for every non-delimiter byte;
 *   - the data taken as a payload (its first 4096 bytes) encodes, and decodes
 *     to the same frame;
 *   - the data taken as a push delta (qcam_dl_apply_delta) against a fixed
 *     base never reads or writes out of bounds, and a delta that applies
 *     fills exactly the output.
 * Built and run by test/integration/devlink-fuzz.test.ts (ASan + UBSan).
 * Set QCAM_FUZZ_TRACE=1 to print one line per input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devlink_proto.h"

#define FUZZ_NAME "fuzz_devlink"
#include "fuzz_common.h" /* test/c: the entry points and CHECK */

static int trace;
static qcam_dl_decoder dec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace = fuzz_trace_enabled();
    return 0;
}

/* A digest of the events, to compare the three ways of feeding. */
typedef struct {
    unsigned frames, junk;
    uint32_t sum;
    size_t span_bytes; /* non-delimiter bytes accounted for by events */
} summary;

static void feed(const uint8_t *b, size_t n, size_t chunk, summary *s)
{
    qcam_dl_decoder_init(&dec);
    memset(s, 0, sizeof *s);
    static uint8_t enc[QCAM_DL_MAX_WIRE];
    for (size_t at = 0; at < n; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;
        /* An exact-size heap copy, so ASan sees a read past its end. */
        uint8_t *piece = malloc(len);
        CHECK(piece != NULL);
        memcpy(piece, b + at, len);
        size_t off = 0;
        while (off < len) {
            size_t used = 0;
            qcam_dl_event ev;
            qcam_dl_event_kind k = qcam_dl_decode(&dec, piece + off, len - off, &used, &ev);
            CHECK(used > 0 && used <= len - off);
            off += used;
            if (k == QCAM_DL_NONE) continue;
            CHECK(k == ev.kind);
            if (k == QCAM_DL_FRAME) {
                s->frames++;
                CHECK(ev.frame.version == QCAM_DL_VERSION && ev.frame.len <= QCAM_DL_MAX_PAYLOAD);
                s->sum = qcam_dl_crc32(s->sum, ev.frame.payload, ev.frame.len) ^ ev.frame.seq;
                size_t m = qcam_dl_encode(&ev.frame, enc, sizeof enc);
                CHECK(m >= 2 + 12 && enc[0] == 0 && enc[m - 1] == 0);
                /* The span just ended at b[at + off - 1]; its length is the
                 * canonical encoding's, give or take one COBS code byte
                 * (a final 0xff block may or may not be followed by 01). */
                size_t end = at + off - 1, span = 0;
                while (span < end && b[end - 1 - span] != 0) span++;
                CHECK(span + 1 >= m - 2 && span <= m - 2 + 1);
                s->span_bytes += span;
            } else {
                CHECK(ev.why >= QCAM_DL_JUNK_TOOLONG && ev.why <= QCAM_DL_JUNK_LENGTH);
                CHECK(ev.junk_len > 0 && ev.junk_len <= n);
                CHECK((ev.why == QCAM_DL_JUNK_TOOLONG) == (ev.junk_len > QCAM_DL_MAX_SPAN));
                size_t held = ev.junk_len < QCAM_DL_MAX_SPAN ? ev.junk_len : QCAM_DL_MAX_SPAN;
                for (size_t i = 0; i < held; i++) CHECK(ev.junk[i] != 0);
                s->junk++;
                s->sum = s->sum * 31 + (uint32_t)ev.why + (uint32_t)ev.junk_len;
                s->span_bytes += ev.junk_len;
            }
        }
        free(piece);
    }
    s->span_bytes += dec.total; /* the unfinished span */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t chunk = (size_t)data[0] + 1;
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    summary whole, bytewise, chunked;
    feed(b, n, n ? n : 1, &whole);
    feed(b, n, 1, &bytewise);
    feed(b, n, chunk, &chunked);
    CHECK(memcmp(&whole, &bytewise, sizeof whole) == 0);
    CHECK(memcmp(&whole, &chunked, sizeof whole) == 0);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) nonzero += b[i] != 0;
    CHECK(whole.span_bytes == nonzero);

    /* The data as a payload: encode, decode, the same frame. */
    static uint8_t enc[QCAM_DL_MAX_WIRE];
    qcam_dl_frame f = {.version = QCAM_DL_VERSION, .channel = data[0] & 7, .flags = data[0] >> 3,
                       .seq = (uint16_t)(n * 2654435761u), .len = (uint16_t)(n < QCAM_DL_MAX_PAYLOAD ? n : QCAM_DL_MAX_PAYLOAD),
                       .payload = b};
    size_t m = qcam_dl_encode(&f, enc, sizeof enc);
    CHECK(m > 0 && m <= QCAM_DL_MAX_WIRE);
    for (size_t i = 1; i + 1 < m; i++) CHECK(enc[i] != 0);
    qcam_dl_decoder_init(&dec);
    size_t used = 0, off = 0;
    qcam_dl_event ev;
    qcam_dl_event_kind k = QCAM_DL_NONE;
    while (off < m && k == QCAM_DL_NONE) {
        k = qcam_dl_decode(&dec, enc + off, m - off, &used, &ev);
        off += used;
    }
    CHECK(k == QCAM_DL_FRAME && off == m);
    CHECK(ev.frame.channel == f.channel && ev.frame.flags == f.flags && ev.frame.seq == f.seq);
    CHECK(ev.frame.len == f.len && memcmp(ev.frame.payload, b, f.len) == 0);
    /* The data as a push delta: exact-size heap buffers, so ASan sees any overrun. */
    static const uint8_t base_bytes[] = "the image the board holds already, as the base of a delta";
    size_t base_len = (size_t)(data[0] % sizeof base_bytes), out_len = (size_t)(data[0] * 7u) % 97u;
    uint8_t *base = malloc(base_len + 1), *delta = malloc(n + 1), *out = malloc(out_len + 1);
    CHECK(base && delta && out);
    memcpy(base, base_bytes, base_len);
    memcpy(delta, b, n);
    memset(out, 0xa5, out_len + 1);
    if (qcam_dl_apply_delta(base, base_len, delta, n, out, out_len) == 0) CHECK(out[out_len] == 0xa5);
    free(base);
    free(delta);
    free(out);
    if (trace)
        fprintf(stderr, "qcam-fuzz: frames=%u junk=%u bytes=%zu\n", whole.frames, whole.junk, n);
    return 0;
}
