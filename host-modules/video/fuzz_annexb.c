/* libFuzzer target for the Annex B parser (host-modules/video/annexb.c) and
 * the EsReader over it (host-modules/video/es_reader.c): the code that splits
 * untrusted .h264/.h265 files and JavaScript bytes into access units.
 *
 * Built and driven by test/fuzz.ts (bounded run: test/integration/fuzz.test.ts,
 * long run: test/fuzz-long.ts). Seeds: short libx264/libx265 clips made by
 * ffmpeg in several shapes (B-frames, AUDs, slices) and broken variants.
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
 *   - classification and parameter-set lookup stay inside each unit;
 *   - the EsReader, reading the same bytes from a file (a memfd opened by
 *     path), hands out the same units with the same bytes, type, keyframe flag
 *     and sequence numbers, then 0; after a rewind the first unit again.
 *
 * Set QCAM_FUZZ_TRACE=1 to print one line per input (codec, units, keyframes). */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "annexb.h"
#include "es_reader.h"

#define FUZZ_NAME "fuzz_annexb"
#define FUZZ_MEMFD
#include "fuzz_common.h"

enum { MAX_UNITS = 4096 };

static volatile size_t sink;
static int trace;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace = fuzz_trace_enabled();
    fuzz_memfd_open();
    return 0;
}

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
    uint8_t *b = fuzz_dup(data + 1, n);

    static size_t starts[MAX_UNITS], lens[MAX_UNITS];
    static qcam_au_info infos[MAX_UNITS];
    size_t units = 0, covered = 0, at = 0, keyframes = 0;
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
        keyframes += info.keyframe;
        qcam_annexb_params ps;
        qcam_annexb_find_params(codec, au, len, &ps);
        inside(ps.vps, ps.vps_len, au, len);
        inside(ps.sps, ps.sps_len, au, len);
        inside(ps.pps, ps.pps_len, au, len);
        if (units < MAX_UNITS) starts[units] = at + skip, lens[units] = len, infos[units] = info;
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

    /* The EsReader over the same bytes as a file. */
    fuzz_put_file(b, n);
    qcam_es_reader *rd = NULL;
    CHECK(qcam_es_open(memfd_path, codec, &rd) == 0 && rd != NULL);
    size_t es_units = 0;
    qcam_packet *first = NULL;
    for (;;) {
        qcam_packet *pkt = NULL;
        int r = qcam_es_read(rd, &pkt);
        CHECK(r == 0 || r == 1);
        if (r == 0) break;
        CHECK(pkt != NULL && pkt->size > 0 && pkt->codec == codec);
        CHECK(pkt->seq == es_units);
        if (es_units < MAX_UNITS && es_units < units) {
            CHECK(pkt->size == lens[es_units]);
            CHECK(memcmp(pkt->data, b + starts[es_units], pkt->size) == 0);
            CHECK(pkt->type == infos[es_units].type);
            CHECK(pkt->keyframe == infos[es_units].keyframe);
        }
        es_units++;
        if (!first) first = pkt;
        else qcam_packet_unref(pkt);
    }
    CHECK(es_units == units);
    CHECK(qcam_es_rewind(rd) == 0);
    qcam_packet *again = NULL;
    int r = qcam_es_read(rd, &again);
    CHECK(r == (first ? 1 : 0));
    if (first) {
        CHECK(again->size == first->size && memcmp(again->data, first->data, first->size) == 0);
        CHECK(again->seq == 0 && again->type == first->type && again->keyframe == first->keyframe);
        qcam_packet_unref(again);
        qcam_packet_unref(first);
    }
    qcam_es_close(rd);

    if (trace)
        fprintf(stderr, "qcam-fuzz: codec=%s len=%zu chunk=%zu aus=%zu keyframes=%zu\n",
                codec == QCAM_CODEC_H264 ? "h264" : "h265", n, chunk, units, keyframes);
    free(b);
    return 0;
}
