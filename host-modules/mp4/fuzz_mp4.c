/* libFuzzer target for the MP4 reader (host-modules/mp4/mp4_read.c): the code
 * that parses untrusted .mp4/.mov files on the SD card (Mp4Reader, repair()).
 *
 * Built and driven by test/fuzz.ts (bounded run: test/integration/fuzz.test.ts,
 * long run: test/fuzz-long.ts). Seeds: small regular and fragmented files
 * made by ffmpeg (H.264, H.265, with A-law / mu-law audio in .mov), cut at
 * many places, and damaged variants.
 *
 * Input: the file, copied to a heap block of exactly its size and read
 * through the reader's callback in short pieces, so AddressSanitizer reports
 * any read past its end. Checked invariants (a violation aborts):
 *   - success or -EBADMSG with a message starting "mp4: " (never another code);
 *   - on success every sample lies inside [0, end), end <= size, torn exactly
 *     when end < size, at most QCAM_MP4_MAX_TRACKS tracks, samples no more
 *     than the file has bytes;
 *   - every video sample converts to Annex B the same way twice (size pass,
 *     then write pass into exactly that many bytes; one byte less: -ENOSPC);
 *   - reading the file cut at `end` (what repair leaves) gives either the
 *     same index, not torn, or -EBADMSG (a count the shorter file cannot hold).
 *
 * Set QCAM_FUZZ_TRACE=1 to print one line per input:
 *   qcam-fuzz: result=0 tracks=2 video=10 audio=8 fragments=3 torn=1 frag=1 end=N
 * (video/audio: samples of the first video / audio track, -1 when absent). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp4_read.h"
#include "../video/annexb.h"

#define FUZZ_MEM_READER
#define FUZZ_NAME "fuzz_mp4"
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

static int read_mem(const uint8_t *p, size_t n, unsigned step, qcam_mp4_index *idx, qcam_mp4_read_info *info)
{
    fuzz_mem m = {p, n, step};
    qcam_mp4_source src = {fuzz_mem_read, &m, n};
    memset(idx, 0, sizeof *idx);
    return qcam_mp4_read(&src, idx, info);
}

static void check_index(const qcam_mp4_index *idx, const qcam_mp4_read_info *info, const uint8_t *file, size_t size)
{
    CHECK(idx->n_tracks >= 1 && idx->n_tracks <= QCAM_MP4_MAX_TRACKS);
    CHECK(info->end <= size);
    CHECK(info->torn == (info->end < size));
    uint64_t total = 0;
    for (unsigned i = 0; i < idx->n_tracks; i++) {
        const qcam_mp4_track *t = &idx->tracks[i];
        CHECK(t->timescale > 0 && t->id > 0);
        CHECK(t->n_samples <= t->cap_samples || t->n_samples == 0);
        total += t->n_samples;
        bool video = t->codec == QCAM_MP4_AVC || t->codec == QCAM_MP4_HEVC;
        if (video) CHECK(qcam_mp4_nal_length_size(t) != 0);
        qcam_annexb_state st;
        qcam_annexb_init(&st, t->codec == QCAM_MP4_HEVC ? QCAM_CODEC_H265 : QCAM_CODEC_H264);
        for (size_t k = 0; k < t->n_samples; k++) {
            const qcam_mp4_sample *s = &t->samples[k];
            CHECK(s->offset <= info->end && s->size <= info->end - s->offset);
            if (!video || k >= 64) continue;
            /* The sample's bytes in a block of their own: reads past them are caught. */
            uint8_t *raw = fuzz_dup(file + s->offset, s->size);
            ssize_t need = qcam_mp4_to_annexb(t, raw, s->size, s->key, NULL, 0);
            CHECK(need >= 0 || need == -EBADMSG);
            if (need > 0) {
                uint8_t *out = malloc((size_t)need);
                CHECK(out);
                CHECK(qcam_mp4_to_annexb(t, raw, s->size, s->key, out, (size_t)need) == need);
                CHECK(qcam_mp4_to_annexb(t, raw, s->size, s->key, out, (size_t)need - 1) == -ENOSPC);
                qcam_au_info ai;
                qcam_annexb_classify(&st, out, (size_t)need, &ai);
                sink += ai.type + ai.keyframe;
                free(out);
            }
            free(raw);
        }
    }
    CHECK(total <= size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *file = fuzz_dup(data, size);
    qcam_mp4_index idx;
    qcam_mp4_read_info info;
    unsigned step = size ? 1u + (unsigned)(file[size - 1] % 4096) : 1;
    int r = read_mem(file, size, step, &idx, &info);
    CHECK(r == 0 || r == -EBADMSG);
    if (r == -EBADMSG) CHECK(strncmp(info.error, "mp4: ", 5) == 0);
    int video = -1, audio = -1;
    if (r == 0) {
        check_index(&idx, &info, file, size);
        for (unsigned i = 0; i < idx.n_tracks; i++) {
            bool v = idx.tracks[i].codec == QCAM_MP4_AVC || idx.tracks[i].codec == QCAM_MP4_HEVC;
            if (v && video < 0) video = (int)idx.tracks[i].n_samples;
            if (!v && audio < 0) audio = (int)idx.tracks[i].n_samples;
        }
        if (info.torn) {
            /* What repair would leave: the file cut at `end`. */
            uint8_t *cut = fuzz_dup(file, (size_t)info.end);
            qcam_mp4_index idx2;
            qcam_mp4_read_info info2;
            int r2 = read_mem(cut, (size_t)info.end, 4096, &idx2, &info2);
            CHECK(r2 == 0 || r2 == -EBADMSG);
            if (r2 == 0) {
                CHECK(!info2.torn);
                CHECK(info2.fragments == info.fragments);
                CHECK(idx2.n_tracks == idx.n_tracks);
                for (unsigned i = 0; i < idx.n_tracks; i++) {
                    CHECK(idx2.tracks[i].n_samples == idx.tracks[i].n_samples);
                    for (size_t k = 0; k < idx.tracks[i].n_samples; k++) {
                        const qcam_mp4_sample *a = &idx.tracks[i].samples[k], *b = &idx2.tracks[i].samples[k];
                        CHECK(a->offset == b->offset && a->size == b->size && a->duration == b->duration &&
                              a->cts == b->cts && a->key == b->key);
                    }
                }
            }
            qcam_mp4_index_clear(&idx2);
            free(cut);
        }
    }
    if (trace) {
        fprintf(stderr, "qcam-fuzz: result=%d tracks=%u video=%d audio=%d fragments=%u torn=%d frag=%d end=%llu error=%s\n",
                r, r == 0 ? idx.n_tracks : 0, video, audio, info.fragments, info.torn, info.fragmented,
                (unsigned long long)info.end, r == 0 ? "-" : info.error);
    }
    qcam_mp4_index_clear(&idx);
    free(file);
    return 0;
}
