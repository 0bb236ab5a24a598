/* qcam:video below JavaScript: the HAL (video.h), the Annex B parser and the
 * file reader, driven by test/integration/video.test.ts, which judges the
 * streams written here with ffprobe/ffmpeg. Also built for riscv64 (replay
 * only) and under ASan+UBSan.
 *
 *   encode <codec> <WxH> <frames> <gop> <format> <out> [idr-at]
 *       synthetic moving pictures → one line per access unit:
 *       "au <seq> <type> <key> <pts> <dts> <size> <params>", then
 *       "params vps=<n> sps=<n> pps=<n>" and "copies <n>"
 *   multi <dir> <frames>     1280x720 h265 (nv21) and 640x480 h264 (nv12), each
 *                            on its own thread at once, → <dir>/a.h265, b.h264
 *   concurrent <codec> <frames>   parameter sets read and IDRs requested from a
 *                            second thread while the first encodes
 *   decode <codec> <file>    EsReader → decoder: "decoded <n> <W>x<H> <format>"
 *   replay <codec> <in> <WxH> <frames> <out> [idr-at]   as encode, from a file
 *   split <codec> <file>     "aus <n> keyframes <k>" + "au <i> <type> <key> <size>"
 *   mutate <codec> <file> <iterations> <seed>
 *                            damaged copies of a stream through the splitter,
 *                            the classifier, the file reader and the decoder;
 *                            whole-buffer and chunked splitting must agree
 *   bench <codec> <WxH> <frames>   "ms_per_frame <x>"
 *   errors                   the HAL's refusals */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../host-modules/video/annexb.h"
#include "../../host-modules/video/es_reader.h"
#include "../../host-modules/video/video.h"

#define FAIL(...)                                                   \
    do {                                                            \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);        \
        fprintf(stderr, __VA_ARGS__);                               \
        fputc('\n', stderr);                                        \
        exit(1);                                                    \
    } while (0)

static const char *const type_names[] = {"header", "I", "P", "B"};

static qcam_codec parse_codec(const char *s)
{
    if (!strcmp(s, "h264")) return QCAM_CODEC_H264;
    if (!strcmp(s, "h265")) return QCAM_CODEC_H265;
    FAIL("codec %s", s);
}

static void parse_size(const char *s, int *w, int *h)
{
    if (sscanf(s, "%dx%d", w, h) != 2) FAIL("size %s", s);
}

/* A picture with something moving in it, different every frame. */
static qcam_picture *synthetic(int w, int h, qcam_pixfmt fmt, int i)
{
    qcam_picture *p = qcam_picture_new(w, h, fmt);
    if (!p) FAIL("picture_new %dx%d", w, h);
    uint8_t *y = p->data;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) y[r * w + c] = (uint8_t)((c + r + i * 4) & 0xff);
    int bx = (i * 7) % (w - w / 8), by = (i * 5) % (h - h / 8);
    for (int r = by; r < by + h / 8; r++) memset(y + r * w + bx, 235, (size_t)w / 8);
    uint8_t *c = y + (size_t)w * h;
    size_t n = (size_t)w / 2 * (size_t)(h / 2);
    for (size_t k = 0; k < n; k++) {
        uint8_t u = (uint8_t)(128 + ((k + (size_t)i) % 64)), v = (uint8_t)(128 - (k % 48));
        if (fmt == QCAM_FMT_YUV420P) c[k] = u, c[n + k] = v;
        else if (fmt == QCAM_FMT_NV12) c[2 * k] = u, c[2 * k + 1] = v;
        else c[2 * k] = v, c[2 * k + 1] = u;
    }
    p->pts_us = 1000 + (int64_t)i * 33333;
    p->seq = (uint64_t)i;
    return p;
}

static void write_all(FILE *f, const qcam_packet *pkt)
{
    if (fwrite(pkt->data, 1, pkt->size, f) != pkt->size) FAIL("write");
}

static void print_params(qcam_encoder *enc)
{
    qcam_param_sets ps;
    if (qcam_encoder_parameter_sets(enc, &ps) < 0) {
        printf("params none\n");
        return;
    }
    printf("params vps=%zu sps=%zu pps=%zu\n", ps.vps ? ps.vps->size : 0, ps.sps->size, ps.pps->size);
    qcam_param_sets_release(&ps);
}

static int run_encoder(qcam_encoder_config *cfg, int frames, const char *out, int idr_at)
{
    qcam_encoder *enc;
    int r = qcam_encoder_open(cfg, &enc);
    if (r < 0) FAIL("encoder_open: %s", strerror(-r));
    qcam_param_sets ps;
    if (qcam_encoder_parameter_sets(enc, &ps) != -EAGAIN) FAIL("parameter sets before the first frame");
    FILE *f = fopen(out, "wb");
    if (!f) FAIL("open %s", out);
    uint64_t copies = qcam_media_copy_count();
    qcam_annexb_state st;
    qcam_annexb_init(&st, cfg->codec);
    for (int i = 0; i < frames; i++) {
        if (i == idr_at) qcam_encoder_request_idr(enc);
        qcam_picture *pic = synthetic(cfg->width, cfg->height, cfg->input_format, i);
        qcam_packet *pkt = NULL;
        r = qcam_encoder_encode(enc, pic, &pkt);
        qcam_picture_unref(pic);
        if (r < 0) FAIL("encode %d: %s", i, strerror(-r));
        qcam_au_info info;
        qcam_annexb_classify(&st, pkt->data, pkt->size, &info);
        printf("au %llu %s %d %lld %lld %zu %d\n", (unsigned long long)pkt->seq, type_names[pkt->type],
               pkt->keyframe, (long long)pkt->pts_us, (long long)pkt->dts_us, pkt->size, info.has_params);
        write_all(f, pkt);
        qcam_packet_unref(pkt);
    }
    fclose(f);
    print_params(enc);
    printf("copies %llu\n", (unsigned long long)(qcam_media_copy_count() - copies));
    qcam_encoder_close(enc);
    return 0;
}

static qcam_pixfmt parse_fmt(const char *s)
{
    qcam_pixfmt f = qcam_pixfmt_parse(s);
    if (!f) FAIL("format %s", s);
    return f;
}

static int cmd_encode(int argc, char **argv)
{
    if (argc < 8) FAIL("encode <codec> <WxH> <frames> <gop> <format> <out> [idr-at]");
    qcam_encoder_config cfg = {.codec = parse_codec(argv[2]), .fps = 30, .bitrate = 1000000};
    parse_size(argv[3], &cfg.width, &cfg.height);
    cfg.gop = atoi(argv[5]);
    cfg.input_format = parse_fmt(argv[6]);
    return run_encoder(&cfg, atoi(argv[4]), argv[7], argc > 8 ? atoi(argv[8]) : -1);
}

static int cmd_replay(int argc, char **argv)
{
    if (argc < 7) FAIL("replay <codec> <in> <WxH> <frames> <out> [idr-at]");
    qcam_encoder_config cfg = {.codec = parse_codec(argv[2]), .fps = 30, .bitrate = 1000000, .gop = 30,
                               .input_format = QCAM_FMT_NV21, .replay_path = argv[3]};
    parse_size(argv[4], &cfg.width, &cfg.height);
    return run_encoder(&cfg, atoi(argv[5]), argv[6], argc > 7 ? atoi(argv[7]) : -1);
}

/* ---- several encoders at once -------------------------------------------- */

typedef struct {
    qcam_encoder_config cfg;
    int frames;
    char path[4096];
    int keyframes, params_seen;
    int err;
} job;

static void *encode_job(void *arg)
{
    job *j = arg;
    qcam_encoder *enc;
    int r = qcam_encoder_open(&j->cfg, &enc);
    if (r < 0) {
        j->err = r;
        return NULL;
    }
    FILE *f = fopen(j->path, "wb");
    for (int i = 0; f && i < j->frames; i++) {
        qcam_picture *pic = synthetic(j->cfg.width, j->cfg.height, j->cfg.input_format, i);
        qcam_packet *pkt = NULL;
        r = qcam_encoder_encode(enc, pic, &pkt);
        qcam_picture_unref(pic);
        if (r < 0) {
            j->err = r;
            break;
        }
        j->keyframes += pkt->keyframe;
        /* Another user of the HAL may read the parameter sets meanwhile. */
        qcam_param_sets ps;
        if (qcam_encoder_parameter_sets(enc, &ps) == 0) {
            j->params_seen++;
            qcam_param_sets_release(&ps);
        }
        write_all(f, pkt);
        qcam_packet_unref(pkt);
    }
    if (f) fclose(f);
    qcam_encoder_close(enc);
    return NULL;
}

static int cmd_multi(int argc, char **argv)
{
    if (argc < 4) FAIL("multi <dir> <frames>");
    job jobs[2] = {
        {.cfg = {.codec = QCAM_CODEC_H265, .width = 1280, .height = 720, .fps = 30, .bitrate = 2000000,
                 .gop = 10, .input_format = QCAM_FMT_NV21}},
        {.cfg = {.codec = QCAM_CODEC_H264, .width = 640, .height = 480, .fps = 30, .bitrate = 1000000,
                 .gop = 15, .input_format = QCAM_FMT_NV12}},
    };
    snprintf(jobs[0].path, sizeof jobs[0].path, "%s/a.h265", argv[2]);
    snprintf(jobs[1].path, sizeof jobs[1].path, "%s/b.h264", argv[2]);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        jobs[i].frames = atoi(argv[3]);
        pthread_create(&t[i], NULL, encode_job, &jobs[i]);
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (jobs[i].err) FAIL("job %d: %s", i, strerror(-jobs[i].err));
        printf("job %d keyframes %d params %d\n", i, jobs[i].keyframes, jobs[i].params_seen);
    }
    return 0;
}

/* Another thread reads the parameter sets and asks for IDRs while one encodes
 * (what an RTSP server does beside a link's encode thread). */
typedef struct {
    qcam_encoder *enc;
    atomic_bool stop;
    long reads;
} watcher;

static void *watch(void *arg)
{
    watcher *w = arg;
    while (!atomic_load(&w->stop)) {
        qcam_param_sets ps;
        if (qcam_encoder_parameter_sets(w->enc, &ps) == 0) {
            if (ps.sps->size < 4 || ps.pps->size < 2) FAIL("short parameter sets");
            qcam_param_sets_release(&ps);
            w->reads++;
        }
        if (w->reads % 64 == 0) qcam_encoder_request_idr(w->enc);
    }
    return NULL;
}

static int cmd_concurrent(int argc, char **argv)
{
    if (argc < 4) FAIL("concurrent <codec> <frames>");
    qcam_encoder_config cfg = {.codec = parse_codec(argv[2]), .width = 160, .height = 120, .fps = 30,
                               .bitrate = 500000, .gop = 2, .input_format = QCAM_FMT_NV21};
    watcher w = {0};
    int r = qcam_encoder_open(&cfg, &w.enc);
    if (r < 0) FAIL("open: %s", strerror(-r));
    pthread_t t;
    pthread_create(&t, NULL, watch, &w);
    int keys = 0, n = atoi(argv[3]);
    for (int i = 0; i < n; i++) {
        qcam_picture *pic = synthetic(cfg.width, cfg.height, cfg.input_format, i);
        qcam_packet *pkt;
        if ((r = qcam_encoder_encode(w.enc, pic, &pkt)) < 0) FAIL("encode: %s", strerror(-r));
        keys += pkt->keyframe;
        qcam_packet_unref(pkt);
        qcam_picture_unref(pic);
    }
    atomic_store(&w.stop, true);
    pthread_join(t, NULL);
    qcam_encoder_close(w.enc);
    printf("concurrent ok keyframes>=%d %s reads>0 %s\n", n / 2, keys >= n / 2 ? "yes" : "no", w.reads > 0 ? "yes" : "no");
    return 0;
}

/* ---- decoding ------------------------------------------------------------ */

static int cmd_decode(int argc, char **argv)
{
    if (argc < 4) FAIL("decode <codec> <file>");
    qcam_codec codec = parse_codec(argv[2]);
    qcam_es_reader *rd;
    int r = qcam_es_open(argv[3], codec, &rd);
    if (r < 0) FAIL("open %s: %s", argv[3], strerror(-r));
    qcam_decoder *dec;
    qcam_decoder_config cfg = {codec};
    if ((r = qcam_decoder_open(&cfg, &dec)) < 0) FAIL("decoder_open: %s", strerror(-r));
    int n = 0, w = 0, h = 0, immediate = 0, aus = 0, pts_ok = 1;
    const char *fmt = "?";
    qcam_packet *pkt;
    for (bool flushing = false;;) {
        if (!flushing) {
            r = qcam_es_read(rd, &pkt);
            if (r < 0) FAIL("read: %s", strerror(-r));
            if (r == 0) {
                flushing = true;
                if ((r = qcam_decoder_send(dec, NULL, 0, 0)) < 0) FAIL("flush: %s", strerror(-r));
            } else {
                aus++;
                r = qcam_decoder_send(dec, pkt->data, pkt->size, 5000 + (int64_t)pkt->seq * 40000);
                qcam_packet_unref(pkt);
                if (r < 0) FAIL("send: %s", strerror(-r));
            }
        }
        int got = 0;
        qcam_picture *pic;
        while ((r = qcam_decoder_receive(dec, &pic)) == 0) {
            if (pic->pts_us != 5000 + (int64_t)n * 40000) pts_ok = 0;
            n++, got++;
            w = pic->width, h = pic->height, fmt = qcam_pixfmt_name(pic->format);
            if (pic->size != qcam_pixfmt_size(pic->format, w, h)) FAIL("picture size");
            qcam_picture_unref(pic);
        }
        if (!flushing && got == 1) immediate++;
        if (r == -EPIPE) break;
        if (r != -EAGAIN) FAIL("receive: %s", strerror(-r));
    }
    printf("decoded %d %dx%d %s aus %d immediate %d pts %s\n", n, w, h, fmt, aus, immediate,
           pts_ok ? "ok" : "bad");
    /* After a flush the decoder takes a new stream. */
    qcam_es_rewind(rd);
    if (qcam_es_read(rd, &pkt) == 1) {
        if ((r = qcam_decoder_send(dec, pkt->data, pkt->size, 0)) < 0) FAIL("send after flush: %s", strerror(-r));
        qcam_packet_unref(pkt);
        qcam_picture *pic;
        int again = 0;
        while (qcam_decoder_receive(dec, &pic) == 0) again++, qcam_picture_unref(pic);
        printf("after flush %d\n", again);
    }
    qcam_decoder_close(dec);
    qcam_es_close(rd);
    return 0;
}

/* ---- Annex B ------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) FAIL("open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) FAIL("read %s", path);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int cmd_split(int argc, char **argv)
{
    if (argc < 4) FAIL("split <codec> <file>");
    qcam_codec codec = parse_codec(argv[2]);
    qcam_es_reader *rd;
    int r = qcam_es_open(argv[3], codec, &rd);
    if (r < 0) FAIL("open: %s", strerror(-r));
    qcam_packet *pkt;
    int n = 0, keys = 0;
    char lines[1 << 16];
    size_t used = 0;
    lines[0] = 0;
    while ((r = qcam_es_read(rd, &pkt)) == 1) {
        keys += pkt->keyframe;
        if (used < sizeof lines - 64)
            used += (size_t)snprintf(lines + used, sizeof lines - used, "au %d %s %d %zu\n", n,
                                     type_names[pkt->type], pkt->keyframe, pkt->size);
        n++;
        qcam_packet_unref(pkt);
    }
    if (r < 0) FAIL("read: %s", strerror(-r));
    qcam_es_close(rd);
    printf("aus %d keyframes %d\n%s", n, keys, lines);
    return 0;
}

/* Split a whole buffer: AU lengths into out (up to max). */
static size_t split_whole(qcam_codec codec, const uint8_t *b, size_t len, size_t *out, size_t max)
{
    qcam_annexb_state st;
    qcam_annexb_init(&st, codec);
    size_t n = 0, at = 0;
    while (at < len) {
        size_t skip = 0, au = 0;
        int r = qcam_annexb_next_au(&st, b + at, len - at, true, &skip, &au);
        if (r != 1) break;
        if (au == 0 || skip + au > len - at) FAIL("bad AU bounds");
        if (n < max) out[n] = au;
        n++;
        qcam_au_info info;
        qcam_annexb_classify(&st, b + at + skip, au, &info);
        qcam_annexb_params ps;
        qcam_annexb_find_params(codec, b + at + skip, au, &ps);
        at += skip + au;
    }
    return n;
}

static uint32_t rng;
static uint32_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}

static int cmd_mutate(int argc, char **argv)
{
    if (argc < 6) FAIL("mutate <codec> <file> <iterations> <seed>");
    qcam_codec codec = parse_codec(argv[2]);
    size_t len;
    uint8_t *orig = slurp(argv[3], &len);
    int iters = atoi(argv[4]);
    rng = (uint32_t)atoi(argv[5]) | 1;
    char tmp[] = "/tmp/qcam-mutate-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) FAIL("mkstemp");
    close(fd);
    static size_t whole[1 << 16];
    size_t decoded_total = 0, aus_total = 0;
    for (int it = 0; it < iters; it++) {
        size_t n = len;
        uint8_t *b = malloc(n ? n : 1);
        memcpy(b, orig, n);
        switch (it % 5) {
        case 0: n = rnd() % (len + 1); break;                           /* truncated */
        case 1: for (int k = 0; k < 8; k++) b[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8)); break;
        case 2: for (int k = 0; k < 16; k++) b[rnd() % n] = (uint8_t)rnd(); break;
        case 3: /* start codes and NAL headers in odd places */
            for (int k = 0; k < 8 && n > 4; k++) {
                size_t at = rnd() % (n - 4);
                b[at] = 0, b[at + 1] = 0, b[at + 2] = 1, b[at + 3] = (uint8_t)rnd();
            }
            break;
        default: n = rnd() % 64; for (size_t k = 0; k < n; k++) b[k] = (uint8_t)(rnd() % 3); break; /* 00/01/02 soup */
        }
        /* An exact-size heap copy so ASan sees any read past the end. */
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, b, n);
        size_t count = split_whole(codec, exact, n, whole, sizeof whole / sizeof whole[0]);
        aus_total += count;
        /* The file reader, chunk by chunk, must find the same units. */
        FILE *f = fopen(tmp, "wb");
        if (!f || fwrite(exact, 1, n, f) != n) FAIL("write tmp");
        fclose(f);
        qcam_es_reader *rd;
        if (qcam_es_open(tmp, codec, &rd) < 0) FAIL("open tmp");
        qcam_packet *pkt;
        size_t k = 0;
        int r;
        qcam_decoder *dec = NULL;
        qcam_decoder_config dcfg = {codec};
        if (qcam_decoder_available(codec) && it % 10 < 2) qcam_decoder_open(&dcfg, &dec);
        while ((r = qcam_es_read(rd, &pkt)) == 1) {
            if (k < count && k < sizeof whole / sizeof whole[0] && pkt->size != whole[k])
                FAIL("iteration %d: unit %zu is %zu bytes read from a file, %zu split whole", it, k,
                     pkt->size, whole[k]);
            k++;
            if (dec) {
                qcam_decoder_send(dec, pkt->data, pkt->size, 0);
                qcam_picture *pic;
                while (qcam_decoder_receive(dec, &pic) == 0) decoded_total++, qcam_picture_unref(pic);
            }
            qcam_packet_unref(pkt);
        }
        if (r < 0) FAIL("iteration %d: read %s", it, strerror(-r));
        if (k != count) FAIL("iteration %d: %zu units from the file, %zu split whole", it, k, count);
        if (dec) {
            qcam_decoder_send(dec, NULL, 0, 0);
            qcam_picture *pic;
            while (qcam_decoder_receive(dec, &pic) == 0) decoded_total++, qcam_picture_unref(pic);
            qcam_decoder_close(dec);
        }
        qcam_es_close(rd);
        free(exact);
        free(b);
    }
    unlink(tmp);
    free(orig);
    printf("mutate ok iterations %d units %zu decoded %zu\n", iters, aus_total, decoded_total);
    return 0;
}

/* ---- speed --------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmd_bench(int argc, char **argv)
{
    if (argc < 5) FAIL("bench <codec> <WxH> <frames>");
    qcam_encoder_config cfg = {.codec = parse_codec(argv[2]), .fps = 30, .bitrate = 3000000, .gop = 30,
                               .input_format = QCAM_FMT_NV21};
    parse_size(argv[3], &cfg.width, &cfg.height);
    int frames = atoi(argv[4]);
    qcam_encoder *enc;
    int r = qcam_encoder_open(&cfg, &enc);
    if (r < 0) FAIL("open: %s", strerror(-r));
    qcam_picture *pics[30];
    for (int i = 0; i < 30; i++) pics[i] = synthetic(cfg.width, cfg.height, QCAM_FMT_NV21, i);
    double total = 0;
    size_t bytes = 0;
    for (int i = 0; i < frames; i++) {
        qcam_picture *p = pics[i % 30];
        p->pts_us = (int64_t)i * 33333;
        qcam_packet *pkt;
        double t0 = now_ms();
        if ((r = qcam_encoder_encode(enc, p, &pkt)) < 0) FAIL("encode: %s", strerror(-r));
        total += now_ms() - t0;
        bytes += pkt->size;
        qcam_packet_unref(pkt);
    }
    for (int i = 0; i < 30; i++) qcam_picture_unref(pics[i]);
    qcam_encoder_close(enc);
    printf("ms_per_frame %.2f kbit_per_frame %.1f\n", total / frames, (double)bytes * 8 / 1000 / frames);
    return 0;
}

/* ---- refusals ------------------------------------------------------------ */

#define EXPECT(expr, want)                                                         \
    do {                                                                           \
        int got_ = (expr);                                                         \
        if (got_ != (want)) FAIL("%s = %d, want %d", #expr, got_, (int)(want));   \
    } while (0)

static int cmd_errors(void)
{
    qcam_encoder *enc;
    qcam_encoder_config ok = {.codec = QCAM_CODEC_H264, .width = 64, .height = 48, .fps = 30,
                              .bitrate = 500000, .gop = 30, .input_format = QCAM_FMT_NV21};
    qcam_encoder_config c = ok;
    c.width = 63;
    EXPECT(qcam_encoder_open(&c, &enc), -EINVAL);
    c = ok, c.codec = 7;
    EXPECT(qcam_encoder_open(&c, &enc), -EINVAL);
    c = ok, c.gop = 0;
    EXPECT(qcam_encoder_open(&c, &enc), -EINVAL);
    c = ok, c.input_format = QCAM_FMT_RGB888;
    EXPECT(qcam_encoder_open(&c, &enc), -EINVAL);
    c = ok, c.codec = QCAM_CODEC_H265, c.profile = QCAM_PROFILE_HIGH;
    EXPECT(qcam_encoder_open(&c, &enc), -EINVAL);
    c = ok, c.replay_path = "/nonexistent/clip.h264";
    EXPECT(qcam_encoder_open(&c, &enc), -ENOENT);
    if (qcam_encoder_available(QCAM_CODEC_H264)) {
        EXPECT(qcam_encoder_open(&ok, &enc), 0);
        qcam_picture *wrong = synthetic(64, 64, QCAM_FMT_NV21, 0);
        qcam_packet *pkt = NULL;
        EXPECT(qcam_encoder_encode(enc, wrong, &pkt), -EINVAL);
        qcam_picture_unref(wrong);
        wrong = qcam_picture_new(64, 48, QCAM_FMT_RGB888);
        EXPECT(qcam_encoder_encode(enc, wrong, &pkt), -EINVAL);
        qcam_picture_unref(wrong);
        /* Several references: the last close frees. */
        qcam_encoder_ref(enc);
        qcam_encoder_close(enc);
        qcam_picture *p = synthetic(64, 48, QCAM_FMT_YUV420P, 0);
        EXPECT(qcam_encoder_encode(enc, p, &pkt), 0);
        qcam_packet_unref(pkt);
        qcam_picture_unref(p);
        qcam_encoder_close(enc);
    } else {
        EXPECT(qcam_encoder_open(&ok, &enc), -ENOTSUP);
        qcam_decoder *dec;
        qcam_decoder_config d = {QCAM_CODEC_H264};
        EXPECT(qcam_decoder_open(&d, &dec), -ENOTSUP);
    }
    if (qcam_decoder_available(QCAM_CODEC_H265)) {
        qcam_decoder *dec;
        qcam_decoder_config d = {QCAM_CODEC_H265};
        EXPECT(qcam_decoder_open(&d, &dec), 0);
        static const uint8_t junk[] = {0, 0, 1, 0x40, 1, 0xff, 0xff, 0xff, 0, 0, 1, 0x26, 1, 0xaf, 0x13};
        qcam_decoder_send(dec, junk, sizeof junk, 0); /* may or may not complain; must not crash */
        qcam_picture *pic;
        while (qcam_decoder_receive(dec, &pic) == 0) qcam_picture_unref(pic);
        qcam_decoder_close(dec);
    }
    printf("errors ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) FAIL("usage: see the top of test_video.c");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "encode")) return cmd_encode(argc, argv);
    if (!strcmp(cmd, "replay")) return cmd_replay(argc, argv);
    if (!strcmp(cmd, "multi")) return cmd_multi(argc, argv);
    if (!strcmp(cmd, "concurrent")) return cmd_concurrent(argc, argv);
    if (!strcmp(cmd, "decode")) return cmd_decode(argc, argv);
    if (!strcmp(cmd, "split")) return cmd_split(argc, argv);
    if (!strcmp(cmd, "mutate")) return cmd_mutate(argc, argv);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc, argv);
    if (!strcmp(cmd, "errors")) return cmd_errors();
    FAIL("unknown command %s", cmd);
}
