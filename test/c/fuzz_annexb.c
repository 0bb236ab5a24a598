/* libFuzzer target for the Annex B parser (host-modules/video/annexb.c), the
 * code that splits untrusted .h264/.h265 files and JavaScript bytes into
 * access units. Built with clang and run for a bounded time by
 * test/integration/video.test.ts.
 *
 * Input: one control byte, then the stream.
 *   control & 1   codec: 0 h264, 1 h265
 *   control >> 1  chunk size for the streaming pass (1..127 bytes per step)
 * The stream is copied to a heap block of exactly its size, so AddressSanitizer
 * reports any read past its end. Checked invariants (a violation aborts):
 *   - whole-buffer splitting covers the input exactly: skipped + unit bytes = size,
 *     every unit non-empty and inside the buffer;
 *   - feeding the same bytes a chunk at a time (eof only at the end, as the
 *     file reader does) finds the same units;
 *   - classification and parameter-set lookup stay inside each unit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../host-modules/video/annexb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                       \
    do {                                                               \
        if (!(c)) {                                                    \
            fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                   \
        }                                                              \
    } while (0)

enum { MAX_UNITS = 4096 };

static volatile size_t sink;

static void inside(const uint8_t *p, size_t len, const uint8_t *base, size_t n)
{
    if (!p) return;
    CHECK(p >= base && p + len <= base + n);
    for (size_t i = 0; i < len; i++) sink += p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    qcam_codec codec = data[0] & 1 ? QCAM_CODEC_H265 : QCAM_CODEC_H264;
    size_t chunk = (size_t)(data[0] >> 1);
    if (chunk == 0) chunk = 1;
    size_t n = size - 1;
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, data + 1, n);

    static size_t starts[MAX_UNITS], lens[MAX_UNITS];
    size_t units = 0, covered = 0, at = 0;
    qcam_annexb_state st;
    qcam_annexb_init(&st, codec);
    while (at < n) {
        size_t skip = 0, len = 0;
        int r = qcam_annexb_next_au(&st, b + at, n - at, true, &skip, &len);
        if (r != 1) {
            CHECK(r == -1 && skip == n - at);
            covered += skip;
            break;
        }
        CHECK(len > 0 && skip <= n - at && len <= n - at - skip);
        const uint8_t *au = b + at + skip;
        qcam_au_info info;
        qcam_annexb_classify(&st, au, len, &info);
        CHECK(info.type >= QCAM_PKT_HEADER && info.type <= QCAM_PKT_B);
        qcam_annexb_params ps;
        qcam_annexb_find_params(codec, au, len, &ps);
        inside(ps.vps, ps.vps_len, au, len);
        inside(ps.sps, ps.sps_len, au, len);
        inside(ps.pps, ps.pps_len, au, len);
        if (units < MAX_UNITS) starts[units] = at + skip, lens[units] = len;
        units++;
        covered += skip + len;
        at += skip + len;
    }
    CHECK(covered == n);

    /* Streaming: a window that grows by `chunk` bytes, eof only at the end. */
    qcam_annexb_init(&st, codec);
    size_t start = 0, end = 0, k = 0;
    for (;;) {
        bool eof = end == n;
        size_t skip = 0, len = 0;
        int r = qcam_annexb_next_au(&st, b + start, end - start, eof, &skip, &len);
        if (r == 1) {
            if (k < MAX_UNITS && k < units) CHECK(starts[k] == start + skip && lens[k] == len);
            k++;
            start += skip + len;
            continue;
        }
        if (r < 0) start += skip;
        if (eof) break;
        end = end + chunk > n ? n : end + chunk;
    }
    CHECK(k == units);
    free(b);
    return 0;
}
