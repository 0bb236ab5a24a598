/* qcam:mp4's writer below JavaScript (mp4_write.h), driven by
 * test/integration/mp4-writer.test.ts, which judges the files with ffprobe,
 * ffmpeg and GStreamer. Video comes from an Annex B file, audio is G.711
 * made here (a tone), so it runs on every flavor (riscv64 has no encoder).
 *
 *   write <sdcard> <board-path> <in.h264|in.h265|-> <codec|-> <frames> <fps> <audio: none|alaw|ulaw> <rate>
 *         [key=value ...]  finalize=0|1 fragment=<ms> cap=<bytes> seconds=<s> bytes=<n>
 *         handled=1 (errors go to on_error only; writes then return 0)
 *         threads=1 (video and audio written from two threads at once)
 *         audio-start=<us> (first audio pts relative to the first video frame)
 *       prints "segment <index> <path> <duration> <size> <frames>" per file
 *       finished before the last (on_segment), "error <code>" for the first error, then "stats v=<n> a=<n>
 *       fragments=<n> bytes=<n> segments=<n> dropped=<n>" and
 *       "refused <n>" (writes that returned an error) and
 *       "last <path> <duration> <size> <frames> close=<r>"
 *   sps <codec> <in>   the first SPS of a stream: "sps <W>x<H> profile=<p>
 *                      level=<l> chroma=<c> depth=<l>/<c>"
 *   path <pattern> <index> <epoch-seconds>   expand a segment pattern (TZ=UTC)
 *   beside <board-path> <suffix>   where finalize/remux write first: "<path> <folder>" */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../host-modules/mp4/mp4_write.h"
#include "../../host-modules/media/segmenter.h"
#include "../../host-modules/video/annexb.h"
#include "../../host-modules/video/es_reader.h"
#include "../../host-modules/video/sps.h"

#define FAIL(...)                                                   \
    do {                                                            \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);        \
        fprintf(stderr, __VA_ARGS__);                               \
        fputc('\n', stderr);                                        \
        exit(1);                                                    \
    } while (0)

static qcam_codec parse_codec(const char *s)
{
    if (!strcmp(s, "h264")) return QCAM_CODEC_H264;
    if (!strcmp(s, "h265")) return QCAM_CODEC_H265;
    if (!strcmp(s, "alaw")) return QCAM_CODEC_ALAW;
    if (!strcmp(s, "ulaw")) return QCAM_CODEC_ULAW;
    return 0;
}

/* G.711 (ITU-T G.711 tables as formulas) of one 16-bit sample. */
static uint8_t linear_to_ulaw(int16_t pcm)
{
    int v = pcm;
    int sign = v < 0 ? 0x80 : 0;
    if (v < 0) v = -v;
    if (v > 32635) v = 32635;
    v += 0x84;
    int exp = 7;
    for (int mask = 0x4000; !(v & mask) && exp > 0; mask >>= 1) exp--;
    int mant = (v >> (exp + 3)) & 0x0f;
    return (uint8_t)~(sign | exp << 4 | mant);
}

static uint8_t linear_to_alaw(int16_t pcm)
{
    int v = pcm >> 3;
    int sign = v >= 0 ? 0x80 : 0;
    if (v < 0) v = -v - 1;
    int seg = 0;
    while (seg < 8 && v > (0x1f << seg)) seg++;
    int out = seg >= 8 ? 0x7f : (seg < 1 ? v >> 1 : (seg << 4) | ((v >> seg) & 0x0f));
    return (uint8_t)((out | sign) ^ 0x55);
}

typedef struct {
    qcam_mp4_writer *w;
    qcam_codec vcodec, acodec;
    const char *in;
    int frames;
    double fps;
    uint32_t rate;
    int64_t audio_start;
    int64_t t0;
    int sent_audio;
    atomic_int video_sent; /* video frames written so far (threads=1 paces the audio by it) */
} feed;

static qcam_packet *audio_packet(feed *f, int i)
{
    uint32_t n = f->rate / 50; /* 20 ms */
    qcam_packet *p = qcam_packet_new(n);
    if (!p) FAIL("oom");
    p->codec = f->acodec;
    p->type = QCAM_PKT_AUDIO;
    p->keyframe = true;
    p->sample_rate = f->rate;
    p->samples = n;
    p->pts_us = f->t0 + f->audio_start + (int64_t)i * 20000;
    p->dts_us = p->pts_us;
    for (uint32_t k = 0; k < n; k++) {
        double t = (double)((uint64_t)i * n + k) / f->rate;
        int16_t s = (int16_t)(12000 * sin(2 * 3.14159265358979 * 440 * t));
        p->data[k] = f->acodec == QCAM_CODEC_ALAW ? linear_to_alaw(s) : linear_to_ulaw(s);
    }
    return p;
}

static int64_t video_pts(feed *f, int i) { return f->t0 + (int64_t)llround(i * 1e6 / f->fps); }

static int refused; /* writes that returned an error */

static void report(int r, const char *what)
{
    if (r < 0 && refused++ == 0) printf("error %s %s\n", what, strerror(-r));
}

static void write_audio_until(feed *f, int64_t pts)
{
    while (f->acodec) {
        qcam_packet *p = audio_packet(f, f->sent_audio);
        if (p->pts_us > pts) {
            qcam_packet_unref(p);
            return;
        }
        report(qcam_mp4_writer_write(f->w, p), "audio");
        qcam_packet_unref(p);
        f->sent_audio++;
    }
}

/* The audio thread writes at the same time as the video one, but not ahead
 * of it (as a microphone would not be): each frame once the video has
 * reached its time. */
static void *audio_thread(void *arg)
{
    feed *f = arg;
    int64_t end = video_pts(f, f->frames) - 1;
    for (;;) {
        int v = atomic_load(&f->video_sent);
        write_audio_until(f, v >= f->frames ? end : video_pts(f, v));
        if (v >= f->frames) return NULL;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

static void on_segment(void *opaque, const qcam_mp4_segment_info *s)
{
    (void)opaque;
    printf("segment %u %s %.6f %llu %llu\n", s->index, s->path, s->duration, (unsigned long long)s->size,
           (unsigned long long)s->frames);
}

static void on_error(void *opaque, int err, const char *path)
{
    (void)opaque;
    printf("onerror %s %s\n", strerror(-err), path);
}

static int cmd_write(int argc, char **argv)
{
    if (argc < 10) FAIL("write: arguments");
    feed f = {0};
    f.in = argv[4];
    f.vcodec = parse_codec(argv[5]);
    f.frames = atoi(argv[6]);
    f.fps = atof(argv[7]);
    f.acodec = parse_codec(argv[8]);
    f.rate = (uint32_t)atoi(argv[9]);
    f.t0 = 5000000;
    qcam_mp4_writer_config cfg = {
        .path = argv[3],
        .video_codec = f.vcodec,
        .width = 320,
        .height = 240,
        .audio_codec = f.acodec,
        .sample_rate = f.rate,
        .channels = 1,
        .fragment_ms = 1000,
        .finalize = true,
        .on_segment = on_segment,
        .on_error = on_error,
    };
    uint64_t cap = 0;
    bool threads = false;
    for (int i = 10; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) FAIL("option %s", argv[i]);
        *eq = 0;
        const char *k = argv[i], *v = eq + 1;
        if (!strcmp(k, "finalize")) cfg.finalize = atoi(v) != 0;
        else if (!strcmp(k, "fragment")) cfg.fragment_ms = (unsigned)atoi(v);
        else if (!strcmp(k, "cap")) cap = strtoull(v, NULL, 10);
        else if (!strcmp(k, "seconds")) cfg.segment_seconds = atof(v);
        else if (!strcmp(k, "bytes")) cfg.segment_bytes = strtoull(v, NULL, 10);
        else if (!strcmp(k, "threads")) threads = atoi(v) != 0;
        else if (!strcmp(k, "handled")) cfg.errors_handled = atoi(v) != 0;
        else if (!strcmp(k, "audio-start")) f.audio_start = atoll(v);
        else FAIL("option %s", k);
    }
    qcam_fs_card *card = qcam_fs_card_open(argv[2], cap);
    if (!card) FAIL("card %s", argv[2]);
    int r = qcam_mp4_writer_open(card, &cfg, &f.w);
    if (r < 0) FAIL("open: %s", strerror(-r));
    qcam_es_reader *es = NULL;
    if (f.vcodec && qcam_es_open(f.in, f.vcodec, &es) < 0) FAIL("es open %s", f.in);
    pthread_t th;
    if (threads && pthread_create(&th, NULL, audio_thread, &f) != 0) FAIL("thread");
    for (int i = 0; i < f.frames; i++) {
        int64_t pts = video_pts(&f, i);
        if (!threads) write_audio_until(&f, pts);
        if (!es) continue;
        qcam_packet *p;
        int got = qcam_es_read(es, &p);
        if (got <= 0) break;
        p->pts_us = p->dts_us = pts;
        report(qcam_mp4_writer_write(f.w, p), "video");
        qcam_packet_unref(p);
        atomic_store(&f.video_sent, i + 1);
    }
    atomic_store(&f.video_sent, f.frames);
    if (threads) pthread_join(th, NULL);
    else write_audio_until(&f, video_pts(&f, f.frames) - 1);
    if (es) qcam_es_close(es);
    qcam_mp4_writer_stats st;
    qcam_mp4_writer_stats_get(f.w, &st);
    qcam_mp4_segment_info last;
    r = qcam_mp4_writer_close(f.w, &last);
    printf("stats v=%llu a=%llu fragments=%llu bytes=%llu segments=%llu dropped=%llu\n",
           (unsigned long long)st.video_frames, (unsigned long long)st.audio_frames,
           (unsigned long long)st.fragments, (unsigned long long)st.bytes, (unsigned long long)st.segments,
           (unsigned long long)st.dropped);
    printf("refused %d\n", refused);
    printf("last %s %.6f %llu %llu close=%d\n", last.path, last.duration, (unsigned long long)last.size,
           (unsigned long long)last.frames, r);
    return 0;
}

static int cmd_sps(char **argv)
{
    qcam_codec codec = parse_codec(argv[2]);
    qcam_es_reader *es;
    if (qcam_es_open(argv[3], codec, &es) < 0) FAIL("open %s", argv[3]);
    qcam_packet *p;
    while (qcam_es_read(es, &p) > 0) {
        qcam_annexb_params ps;
        qcam_annexb_find_params(codec, p->data, p->size, &ps);
        if (ps.sps) {
            qcam_sps_info si;
            int r = qcam_sps_parse(codec, ps.sps, ps.sps_len, &si);
            if (r < 0) FAIL("sps: %s", strerror(-r));
            printf("sps %dx%d profile=%u level=%u chroma=%u depth=%u/%u\n", si.width, si.height, si.profile_idc,
                   si.level_idc, si.chroma_format_idc, si.bit_depth_luma, si.bit_depth_chroma);
            uint8_t *cfg;
            size_t len;
            r = qcam_sps_make_config(codec, ps.vps, ps.vps_len, ps.sps, ps.sps_len, ps.pps, ps.pps_len, &cfg, &len, NULL);
            if (r < 0) FAIL("config: %s", strerror(-r));
            printf("config %zu\n", len);
            free(cfg);
            /* every prefix of the SPS is refused or parsed, never read past */
            for (size_t n = 0; n < ps.sps_len; n++) {
                uint8_t *cut = malloc(n ? n : 1);
                memcpy(cut, ps.sps, n);
                qcam_sps_parse(codec, cut, n, &si);
                free(cut);
            }
            qcam_packet_unref(p);
            break;
        }
        qcam_packet_unref(p);
    }
    qcam_es_close(es);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "write")) return cmd_write(argc, argv);
    if (argc >= 4 && !strcmp(argv[1], "sps")) return cmd_sps(argv);
    if (argc >= 5 && !strcmp(argv[1], "path")) {
        char out[256];
        int r = qcam_segment_expand_path(argv[2], (unsigned)atoi(argv[3]), atoll(argv[4]), out, sizeof out);
        if (r < 0) printf("error %s\n", strerror(-r));
        else printf("%s\n", out);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "beside")) {
        char out[64], dir[64];
        int r = qcam_mp4_beside(argv[2], argv[3], out, sizeof out, dir, sizeof dir);
        if (r < 0) printf("error %s\n", strerror(-r));
        else printf("%s %s\n", out, dir);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of test_mp4.c\n");
    return 2;
}
