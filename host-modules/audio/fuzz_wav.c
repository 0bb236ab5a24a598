/* libFuzzer target for the WAV reader of the sim microphone
 * (host-modules/audio/wav.c: qcam_wav_parse; backend_sim.c: wav_open,
 * wav_block) and the G.711 coder it feeds (g711.c). backend_sim.c's reader
 * is static, so it is #included here; the file goes on a sim SD card (a
 * temporary folder, through the fs HAL) and is opened by board path, the way
 * an AudioIn source is.
 *
 * Built and driven by test/fuzz.ts (bounded run: test/integration/fuzz.test.ts).
 * Seeds: WAV files made by ffmpeg (mono/stereo, 8 and 16 kHz, with LIST and
 * fact chunks, WAVE_FORMAT_EXTENSIBLE) and broken variants (cut, lying sizes,
 * float, A-law, 8/24-bit, odd chunk sizes, no fmt, no data).
 *
 * Input: one control byte, then the file.
 *   c0 & 1        the input asks for 16000 Hz (else 8000)
 *   c0 & 2        loop
 *   c0 & 0x0c     frameMs: 10, 20, 50, 100
 *   c0 & 0x10     reader fails (-EIO) after (c0 >> 5) calls (parse pass only)
 *
 * Each input goes through two passes:
 *  1. qcam_wav_parse over memory. Checked: a refusal says why; on success the
 *     format is 16-bit PCM, 1 or 2 channels, the rate in range, and the data
 *     lies inside the file. Every sample is converted and G.711-coded both
 *     ways: encode(decode(encode(x))) = encode(x).
 *  2. qcam_audio_in_open on the card with the file as source (mono input: a
 *     stereo file is refused with -ERANGE), then every block and two past the
 *     end through wav_block, as read() does. Checked: the blocks' samples are
 *     the file's bytes at data_offset, in order, the last block short when
 *     the file ends mid-block, looping wraps to block 0.
 *
 * Set QCAM_FUZZ_TRACE=1 to print one line per input. */
#include <stdlib.h>
#include <unistd.h>

#include "backend_sim.c"

#define FUZZ_NAME "fuzz_wav"
#include "fuzz_common.h"

static int trace;
static char card_dir[256];
static qcam_fs_card *card;

static void remove_card(void)
{
    char dot_tmp[300];
    snprintf(dot_tmp, sizeof dot_tmp, "%s/.tmp", card_dir);
    rmdir(dot_tmp);
    rmdir(card_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace = fuzz_trace_enabled();
    const char *tmp = getenv("TMPDIR");
    snprintf(card_dir, sizeof card_dir, "%s/qcam-fuzz-wav-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(card_dir)) abort();
    card = qcam_fs_card_open(card_dir, 0);
    if (!card) abort();
    atexit(remove_card);
    return 0;
}

typedef struct {
    const uint8_t *data;
    size_t size;
    int calls, fail_after; /* < 0: never fails */
} mem;

static int64_t mem_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    mem *m = ctx;
    if (m->fail_after >= 0 && m->calls++ >= m->fail_after) return -EIO;
    if (off >= m->size) return 0;
    size_t k = m->size - off < n ? (size_t)(m->size - off) : n;
    memcpy(buf, m->data + off, k);
    return (int64_t)k;
}

static volatile uint32_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t c0 = data[0];
    const uint8_t *file = data + 1;
    size_t len = size - 1;
    int rate = c0 & 1 ? 16000 : 8000;
    bool loop = c0 & 2;
    static const int frame_ms[] = {10, 20, 50, 100};
    int fms = frame_ms[(c0 >> 2) & 3];

    /* Pass 1: the parser over memory. */
    mem m = {.data = file, .size = len, .fail_after = c0 & 0x10 ? c0 >> 5 : -1};
    qcam_wav_info info;
    char err[256];
    int r = qcam_wav_parse(mem_read, &m, len, &info, err, sizeof err);
    if (r == 0) {
        CHECK(info.bits == 16);
        CHECK(info.channels == 1 || info.channels == 2);
        CHECK(info.sample_rate >= 1000 && info.sample_rate <= 192000);
        CHECK(info.data_offset >= 12 + 8 + 16 + 8 && info.data_offset <= len);
        CHECK(info.data_offset + info.frames * info.channels * 2 <= len);
        size_t n = (size_t)info.frames * info.channels;
        int16_t *pcm = malloc(n ? n * sizeof *pcm : 1);
        uint8_t *a = malloc(n ? n : 1), *b = malloc(n ? n : 1);
        int16_t *back = malloc(n ? n * sizeof *back : 1);
        CHECK(pcm && a && b && back);
        qcam_wav_s16le_to_native(file + info.data_offset, n, pcm);
        for (qcam_g711_law law = QCAM_G711_ALAW; law <= QCAM_G711_ULAW; law++) {
            qcam_g711_encode(law, pcm, n, a);
            qcam_g711_decode(law, a, n, back);
            qcam_g711_encode(law, back, n, b);
            CHECK(memcmp(a, b, n) == 0);
            for (size_t i = 0; i < n; i++) sink += a[i];
        }
        free(pcm);
        free(a);
        free(b);
        free(back);
    } else if (r == -EILSEQ || r == -ENOTSUP) {
        CHECK(err[0] != 0);
    } else {
        CHECK(r == -EIO && (c0 & 0x10));
    }

    /* Pass 2: the microphone playing it from the card. */
    int blocks = -1, last = -1, open_r = 0;
    if (m.fail_after < 0) {
        int fd = qcam_fs_open(card, "/sdcard/f.wav", QCAM_FS_WRITE);
        CHECK(fd >= 0);
        size_t written = 0;
        CHECK(qcam_fs_write_all(card, fd, file, len, -1, &written) == 0);
        qcam_fs_close(fd);
        qcam_audio_config cfg = {.sample_rate = rate, .channels = 1, .frame_ms = fms, .buffers = 2, .tone_hz = 440,
                                 .card = card, .wav_path = "/sdcard/f.wav", .loop = loop};
        qcam_audio_in *in = NULL;
        open_r = qcam_audio_in_open(&cfg, &in, err, sizeof err);
        CHECK((open_r == 0) == (r == 0 && (int)info.sample_rate == rate && info.channels == 1 && info.frames > 0));
        if (open_r == 0) {
            CHECK(in->wav_blocks >= 1);
            blocks = (int)in->wav_blocks;
            uint64_t want = 0; /* next sample frame of the file expected */
            /* Without loop, read() never asks past the end (due_blocks caps there). */
            int64_t count = loop ? in->wav_blocks + 2 : in->wav_blocks;
            for (int64_t k = 0; k < count; k++) {
                qcam_picture *pic = qcam_pool_acquire(in->pool);
                CHECK(pic);
                CHECK(wav_block(in, k, pic) == 0);
                int64_t b = loop ? k % in->wav_blocks : k;
                want = (uint64_t)b * in->block;
                CHECK(pic->width >= 1 && (unsigned)pic->width <= in->block);
                CHECK(b == in->wav_blocks - 1 || (unsigned)pic->width == in->block);
                const int16_t *s = (const int16_t *)(const void *)pic->data;
                for (int i = 0; i < pic->width; i++, want++) {
                    const uint8_t *p = file + info.data_offset + want * 2;
                    CHECK(s[i] == (int16_t)(uint16_t)(p[0] | p[1] << 8));
                }
                last = pic->width;
                qcam_picture_unref(pic);
            }
            if (!loop || in->wav_blocks == 1) CHECK(want == info.frames);
            qcam_audio_in_close(in);
        } else {
            CHECK(err[0] != 0);
        }
        qcam_fs_remove(card, "/sdcard/f.wav");
    }
    if (trace)
        fprintf(stderr, "qcam-fuzz: parse=%d rate=%u channels=%u frames=%llu open=%d blocks=%d last=%d\n", r,
                r == 0 ? (unsigned)info.sample_rate : 0, r == 0 ? (unsigned)info.channels : 0,
                r == 0 ? (unsigned long long)info.frames : 0ULL, open_r, blocks, last);
    return 0;
}
