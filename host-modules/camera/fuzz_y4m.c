/* libFuzzer target for the Y4M reader of the sim camera
 * (host-modules/camera/backend_sim.c: y4m_open, y4m_scan_one, y4m_locate,
 * render_y4m, convert_frame). The reader is static in that file, so it is
 * #included here; the file is written to a memfd and opened by path
 * (/proc/self/fd/N), the way a camera source is.
 *
 * Built and driven by test/fuzz.ts (bounded run: test/integration/fuzz.test.ts,
 * long run: test/fuzz-long.ts). Seeds: small .y4m files made by ffmpeg
 * (4:2:0 in its three chroma sitings, mono, interlaced) and broken variants.
 *
 * Input: two control bytes, then the file.
 *   c0 & 7         main channel format: 1 + (v % 5) (nv21 nv12 yuv420p rgb888 gray)
 *   (c0 >> 3) & 7  extra channel format: 0..4 as above, 5..7 no extra channel
 *   c0 & 0x40      loop (frames past the end wrap around)
 *   c0 & 0x80      shrink the file by a quarter after the camera opened it
 *                  ("the file changed under us": -EIO / -EILSEQ, never a crash)
 *   c1 & 3         extra channel size: 0 the file's, 1 half, 2 double,
 *                  3 32 + 8 * ((c1 >> 2) & 7) by 32 + 8 * ((c1 >> 5) & 7)
 *                  (clamped to what the HAL accepts, at most 256)
 *
 * Each input goes through two passes:
 *  1. y4m_open on the file, then index every frame with y4m_locate. Checked:
 *     a refusal has a reason (unless errno says it all); on success the sizes
 *     are even and in range, every frame's data lies inside the file, in
 *     order, and frames past the end are "past the end" (0), or wrap when
 *     looping.
 *  2. When pass 1 found a frame: qcam_camera_open with the file as source,
 *     one qcam_camera_read of the main channel, an extra channel through
 *     qcam_camera_add_channel, and every frame (plus two past the end)
 *     rendered into both channels with render_y4m, as read() does. Checked:
 *     same-size yuv420p / gray / mono output is byte for byte the file's
 *     frame; frames past the end are -ENODATA unless looping; a shrunk file
 *     gives -EIO or -EILSEQ with a reason, never a bad read.
 *
 * Set QCAM_FUZZ_TRACE=1 to print one line per input. */
#define _GNU_SOURCE /* memfd_create */
#include <sys/mman.h>

#include "backend_sim.c"

#define FUZZ_NAME "fuzz_y4m"
#define FUZZ_MEMFD
#include "fuzz_common.h"

enum { MAX_RENDER = 8, MAX_CHANNEL_SIDE = 256 };

static int trace;
static volatile uint32_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace = fuzz_trace_enabled();
    fuzz_memfd_open();
    return 0;
}

static int clamp_side(int v, int lo, int hi)
{
    if (v > MAX_CHANNEL_SIDE) v = MAX_CHANNEL_SIDE;
    if (v > hi) v = hi;
    if (v < lo) v = lo;
    return v & ~1;
}

/* Everything read from the picture, so ASan sees any byte not written. */
static void touch(const qcam_picture *pic)
{
    uint32_t acc = 0;
    for (size_t i = 0; i < pic->size; i++) acc = acc * 31 + pic->data[i];
    sink = acc;
}

/* A same-size picture whose bytes are the file's: yuv420p (4:2:0 file) is
 * the frame as stored; gray and any mono file have the file's luma. */
static void check_same(const qcam_picture *pic, const y4m *f, const uint8_t *file, int64_t off)
{
    if (pic->width != f->width || pic->height != f->height) return;
    if (pic->format == QCAM_FMT_RGB888) return;
    const uint8_t *src = file + off, *su = src + f->luma, *sv = su + f->chroma;
    CHECK(memcmp(pic->data, src, f->luma) == 0);
    const uint8_t *c = pic->data + f->luma;
    size_t q = f->luma / 4;
    switch (pic->format) {
    case QCAM_FMT_YUV420P:
        CHECK(pic->size == f->luma + 2 * q);
        for (size_t i = 0; i < q; i++)
            CHECK(c[i] == (f->mono ? 128 : su[i]) && c[q + i] == (f->mono ? 128 : sv[i]));
        break;
    case QCAM_FMT_NV12:
    case QCAM_FMT_NV21: {
        bool nv12 = pic->format == QCAM_FMT_NV12;
        for (size_t i = 0; i < q; i++) {
            uint8_t u = f->mono ? 128 : su[i], v = f->mono ? 128 : sv[i];
            CHECK(c[2 * i] == (nv12 ? u : v) && c[2 * i + 1] == (nv12 ? v : u));
        }
        break;
    }
    default: CHECK(pic->size == f->luma); break;
    }
}

typedef struct {
    int open, frames, end, cam, rendered, failed;
    int width, height, mono;
    char err[256];
} result;

/* Pass 1: the parser and the index on their own. Returns the frame count. */
static int64_t pass_parse(const uint8_t *file, size_t n, bool loop, int64_t **offsets, result *res)
{
    y4m *f = NULL;
    char err[256];
    memset(err, 0, sizeof err);
    int r = y4m_open(memfd_path, &f, err, sizeof err);
    res->open = r;
    if (r < 0) {
        CHECK(f == NULL);
        /* A malformed or unsupported file says why; -ENOMEM needs no words. */
        CHECK(r == -EILSEQ || r == -ENOTSUP || r == -ENOMEM);
        CHECK(memchr(err, 0, sizeof err) != NULL);
        if (r != -ENOMEM) CHECK(err[0] != 0);
        snprintf(res->err, sizeof res->err, "%s", err);
        return 0;
    }
    CHECK(f != NULL);
    CHECK(f->width >= 2 && f->width <= 16384 && f->width % 2 == 0);
    CHECK(f->height >= 2 && f->height <= 16384 && f->height % 2 == 0);
    CHECK(f->luma == (size_t)f->width * (size_t)f->height);
    CHECK(f->chroma == (f->mono ? 0 : f->luma / 4));
    CHECK(f->frame_size == f->luma + 2 * f->chroma);
    CHECK(f->file_size == (int64_t)n);
    CHECK(f->scan > 10 && f->scan <= f->file_size);
    CHECK((f->fps_num == 0) == (f->fps_den == 0));
    res->width = f->width;
    res->height = f->height;
    res->mono = f->mono;

    int64_t count = 0, prev_end = f->scan, max = (int64_t)n / 6 + 1;
    int64_t *offs = malloc((size_t)(max + 1) * sizeof *offs);
    CHECK(offs != NULL);
    for (;;) {
        int64_t off = -1;
        r = y4m_locate(f, count, false, &off, err, sizeof err);
        if (r != 1) break;
        /* "FRAME" + '\n' at least, then frame_size bytes, all in the file. */
        CHECK(off >= prev_end + 6 && off <= f->file_size);
        CHECK(f->file_size - off >= (int64_t)f->frame_size);
        CHECK(memcmp(file + off - 1, "\n", 1) == 0 && memcmp(file + prev_end, "FRAME", 5) == 0);
        CHECK(count < max);
        offs[count++] = off;
        prev_end = off + (int64_t)f->frame_size;
    }
    res->end = r;
    CHECK(r == 0 || r == -EILSEQ || r == -ENOMEM || r == -EIO);
    if (r == 0) {
        CHECK(f->complete && f->count == count && prev_end == f->file_size);
        CHECK(y4m_known_count(f) == count);
    } else {
        CHECK(err[0] != 0);
        snprintf(res->err, sizeof res->err, "%s", err);
    }
    /* Frames already indexed stay where they were; past the end wraps or ends. */
    for (int64_t k = 0; k < count + 3 && k < 2 * count + 3; k++) {
        int64_t off = -1;
        int rr = y4m_locate(f, k, loop, &off, err, sizeof err);
        if (k < count) CHECK(rr == 1 && off == offs[k]);
        else if (r == 0 && loop && count > 0) CHECK(rr == 1 && off == offs[k % count]);
        else if (r == 0) CHECK(rr == 0);
        else CHECK(rr == r); /* the same error again */
    }
    y4m_close(f);
    res->frames = (int)count;
    *offsets = offs;
    return count; /* frames before a broken one still play */
}

/* clean: pass 1 reached the end of the file without an error. */
static void render_all(qcam_camera_channel *chn, const uint8_t *file, const int64_t *offs,
                       int64_t count, bool clean, bool loop, bool shrunk, result *res)
{
    for (int64_t k = 0; k < count + 2 && k < MAX_RENDER; k++) {
        qcam_picture *pic = qcam_pool_acquire(chn->pool);
        CHECK(pic != NULL);
        chn->err[0] = 0;
        int r = render_y4m(chn, pic, k);
        if (r == 0) {
            res->rendered++;
            touch(pic);
            if (!shrunk) {
                CHECK(k < count || (clean && loop));
                check_same(pic, chn->cam->src, file, offs[k % count]);
            }
        } else if (r == -ENODATA) {
            CHECK(!loop && (k >= count || shrunk));
            CHECK(clean || shrunk);
        } else {
            res->failed++;
            CHECK(r == -EIO || r == -EILSEQ);
            CHECK(shrunk || (!clean && k >= count));
            CHECK(chn->err[0] != 0 && memchr(chn->err, 0, sizeof chn->err) != NULL);
        }
        qcam_picture_unref(pic);
    }
}

/* Pass 2: through the HAL, as qcam:camera uses it. */
static void pass_camera(const uint8_t *file, size_t n, const int64_t *offs, int64_t count,
                        uint8_t c0, uint8_t c1, result *res)
{
    qcam_pixfmt main_fmt = (qcam_pixfmt)(1 + (c0 & 7) % 5);
    unsigned extra = (c0 >> 3) & 7;
    bool loop = c0 & 0x40, shrink = c0 & 0x80;
    qcam_camera_config cfg = {.main = {.format = main_fmt}, .source = memfd_path, .loop = loop};
    qcam_camera *cam = NULL;
    char err[256];
    memset(err, 0, sizeof err);
    int r = qcam_camera_open(&cfg, &cam, err, sizeof err);
    res->cam = r;
    if (r < 0) {
        /* The file parsed and has a frame: only the size or rate can be refused. */
        CHECK(r == -EINVAL || r == -ENOMEM);
        CHECK(err[0] != 0);
        CHECK(res->width < caps.min_width || res->width > caps.max_width ||
              res->height < caps.min_height || res->height > caps.max_height);
        return;
    }
    CHECK(atomic_load(&sensor_busy));
    qcam_camera_channel *main_chn = qcam_camera_main(cam);
    qcam_camera_output o;
    qcam_camera_channel_output(main_chn, &o);
    CHECK(o.width == res->width && o.height == res->height && o.format == main_fmt);
    CHECK(o.fps >= caps.min_fps && o.fps <= caps.max_fps);

    if (shrink) fuzz_put_file(file, n - n / 4);

    /* Capture 0 is due at once. */
    qcam_picture *pic = NULL;
    r = qcam_camera_read(main_chn, 0, &pic);
    /* Usually capture 0; a slow machine may be at a later one already. */
    bool clean = res->end == 0;
    if (r == 0) {
        CHECK(pic != NULL);
        touch(pic);
        if (!shrink && (pic->seq < (uint64_t)count || (clean && loop)))
            check_same(pic, cam->src, file, offs[pic->seq % (uint64_t)count]);
        qcam_picture_unref(pic);
    } else {
        CHECK(r == -EIO || r == -EILSEQ || r == -ENODATA);
        CHECK(shrink || !clean);
    }

    qcam_camera_channel *extra_chn = NULL;
    if (extra < 5) {
        int w = res->width, h = res->height;
        switch (c1 & 3) {
        case 1: w /= 2, h /= 2; break;
        case 2: w *= 2, h *= 2; break;
        case 3: w = 32 + 8 * ((c1 >> 2) & 7), h = 32 + 8 * ((c1 >> 5) & 7); break;
        default: break;
        }
        qcam_camera_output eo = {
            .width = clamp_side(w, caps.min_width, caps.max_width),
            .height = clamp_side(h, caps.min_height, caps.max_height),
            .format = (qcam_pixfmt)(1 + extra),
            .fps = o.fps,
            .buffers = 2,
        };
        r = qcam_camera_add_channel(cam, &eo, &extra_chn);
        CHECK(r == 0 || r == -ENOMEM);
    }
    render_all(main_chn, file, offs, count, clean, loop, shrink, res);
    if (extra_chn) render_all(extra_chn, file, offs, count, clean, loop, shrink, res);
    qcam_camera_close(cam);
    CHECK(!atomic_load(&sensor_busy));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t c0 = data[0], c1 = data[1];
    size_t n = size - 2;
    /* An exact-size copy: the oracle reads the file's bytes from here. */
    uint8_t *file = fuzz_dup(data + 2, n);
    fuzz_put_file(file, n);

    result res;
    memset(&res, 0, sizeof res);
    res.cam = 1; /* not tried */
    int64_t *offs = NULL;
    int64_t count = pass_parse(file, n, c0 & 0x40, &offs, &res);
    if (count > 0) pass_camera(file, n, offs, count, c0, c1, &res);

    if (trace)
        fprintf(stderr,
                "qcam-fuzz: c0=%u c1=%u len=%zu open=%d size=%dx%d mono=%d frames=%d end=%d "
                "cam=%d rendered=%d failed=%d err=%s\n",
                c0, c1, n, res.open, res.width, res.height, res.mono, res.frames, res.end,
                res.cam, res.rendered, res.failed, res.err);
    free(offs);
    free(file);
    return 0;
}
