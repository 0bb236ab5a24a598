/* libFuzzer target for the MPEG-TS reader (host-modules/ts/ts_read.c): the
 * code that parses untrusted .ts files on the SD card (TsReader).
 *
 * Built and driven by test/fuzz.ts (bounded run: test/integration/fuzz.test.ts,
 * long run: test/fuzz-long.ts). Seeds (test/fuzz-ts.ts): small files made by
 * ffmpeg (H.264 with and without B-frames and PES lengths, H.265, with an
 * MP2 audio PID), cut at many places, and damaged variants.
 *
 * Input: the file, copied to a heap block of exactly its size and read
 * through the reader's callback in short pieces, so AddressSanitizer reports
 * any read past its end. Checked invariants (a violation aborts):
 *   - success or -EBADMSG with a message starting "ts: " (never another code);
 *   - on success at least one frame; frames in file order, each a run of
 *     whole packets inside [0, end), end <= size, torn when end < size, no
 *     more ES bytes than its packets hold, the first at time 0, keyframes
 *     counted right, duration > 0;
 *   - every frame reads back (into a block of exactly its size) and
 *     classifies;
 *   - the file cut just after its last frame reads the same frames (the
 *     last one may be left out: a PES without a length is only known whole
 *     by what follows it);
 *   - qcam_ts_probe (built with a 1 KiB tail window, so inputs over 4 KiB
 *     take its head + tail path) succeeds or fails as the full read does,
 *     with the same codec and PID. Whether its duration is the full read's
 *     is traced (probe_same): seeds that are whole files must say 1.
 *
 * Set QCAM_FUZZ_TRACE=1 to print one line per input:
 *   qcam-fuzz: result=0 frames=12 keyframes=3 codec=h264 width=64 height=48 torn=0 probe_same=1 error=- */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_mux.h"
#include "ts_read.h"
#include "../video/annexb.h"

#define FUZZ_MEM_READER
#define FUZZ_NAME "fuzz_ts"
#include "fuzz_common.h"

static int trace;
static volatile size_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace = fuzz_trace_enabled();
    return 0;
}

static void check_index(const qcam_ts_source *src, const qcam_ts_index *idx, size_t size)
{
    CHECK(idx->n_frames >= 1 && idx->n_frames <= idx->cap_frames);
    CHECK(idx->end <= size && idx->end % QCAM_TS_PACKET == 0);
    if (idx->end < size) CHECK(idx->torn);
    CHECK(idx->codec == QCAM_CODEC_H264 || idx->codec == QCAM_CODEC_H265);
    CHECK(idx->width >= 0 && idx->height >= 0);
    CHECK(idx->duration > 0);
    CHECK(idx->frames[0].pts == 0);
    size_t keys = 0;
    qcam_annexb_state st;
    qcam_annexb_init(&st, idx->codec);
    for (size_t k = 0; k < idx->n_frames; k++) {
        const qcam_ts_frame *f = &idx->frames[k];
        CHECK(f->offset % QCAM_TS_PACKET == 0 && f->end % QCAM_TS_PACKET == 0);
        CHECK(f->offset < f->end && f->end <= idx->end);
        if (k) CHECK(f->offset >= idx->frames[k - 1].end);
        CHECK(f->size > 0 && f->size <= (f->end - f->offset) / QCAM_TS_PACKET * (QCAM_TS_PACKET - 4));
        keys += f->key;
        if (k >= 64) continue;
        uint8_t *out = malloc(f->size);
        CHECK(out);
        CHECK(qcam_ts_read_frame(src, idx, k, out) == 0);
        qcam_au_info ai;
        qcam_annexb_classify(&st, out, f->size, &ai);
        sink += ai.type + ai.keyframe;
        free(out);
    }
    CHECK(keys == idx->keyframes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *file = fuzz_dup(data, size);
    unsigned step = size ? 1u + (unsigned)(file[size - 1] % 4096) : 1;
    fuzz_mem m = {file, size, step};
    qcam_ts_source src = {fuzz_mem_read, &m, size};
    qcam_ts_index idx;
    int r = qcam_ts_read(&src, &idx);
    CHECK(r == 0 || r == -EBADMSG);
    if (r == -EBADMSG) CHECK(strncmp(idx.error, "ts: ", 4) == 0 && idx.n_frames == 0 && !idx.frames);
    if (r == 0) {
        check_index(&src, &idx, size);
        /* The file cut just after its last frame. */
        size_t cut = (size_t)idx.frames[idx.n_frames - 1].end;
        uint8_t *head = fuzz_dup(file, cut);
        fuzz_mem m2 = {head, cut, 4096};
        qcam_ts_source src2 = {fuzz_mem_read, &m2, cut};
        qcam_ts_index idx2;
        int r2 = qcam_ts_read(&src2, &idx2);
        CHECK(r2 == 0 || (r2 == -EBADMSG && idx.n_frames == 1));
        if (r2 == 0) {
            CHECK(idx2.n_frames + 1 >= idx.n_frames && idx2.n_frames <= idx.n_frames);
            CHECK(idx2.pid == idx.pid && idx2.codec == idx.codec);
            for (size_t k = 0; k < idx2.n_frames; k++) {
                const qcam_ts_frame *a = &idx.frames[k], *b = &idx2.frames[k];
                CHECK(a->offset == b->offset && a->end == b->end && a->pts == b->pts && a->dts == b->dts &&
                      a->size == b->size && a->key == b->key);
            }
        }
        qcam_ts_index_clear(&idx2);
        free(head);
    }
    qcam_ts_index pi;
    fuzz_mem m3 = {file, size, step};
    qcam_ts_source src3 = {fuzz_mem_read, &m3, size};
    int rp = qcam_ts_probe(&src3, &pi);
    CHECK(rp == r);
    if (rp == -EBADMSG) CHECK(strcmp(pi.error, idx.error) == 0);
    if (rp == 0) CHECK(pi.codec == idx.codec && pi.pid == idx.pid);
    int probe_same = rp == 0 && pi.duration == idx.duration;
    qcam_ts_index_clear(&pi);
    if (trace) {
        fprintf(stderr, "qcam-fuzz: result=%d frames=%zu keyframes=%zu codec=%s width=%d height=%d torn=%d probe_same=%d error=%s\n", r,
                idx.n_frames, idx.keyframes, r ? "-" : idx.codec == QCAM_CODEC_H264 ? "h264" : "h265", idx.width,
                idx.height, idx.torn, probe_same, r == 0 ? "-" : idx.error);
    }
    qcam_ts_index_clear(&idx);
    free(file);
    return 0;
}
