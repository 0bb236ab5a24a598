/* sim: a camera with no sensor. Frames are made on demand, in the reader's
 * thread, when read() finds one due on the clock: a deterministic synthetic
 * pattern (function of seq alone: moving gradient and shapes, the frame number
 * and stream time burned in with a tiny font) or a frame of a Y4M file (the
 * file plays in real time at the camera's fps; capture k is file frame k).
 * Each channel renders the same capture at its own size and format straight
 * into its pool's picture, so there is no copy of pixels anywhere.
 *
 * Sections: clock and pacing, canvas drawing, the pattern, the Y4M reader,
 * conversion, the HAL. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../time/time.h"
#include "camera.h"

enum { MAX_CHANNELS = 4, DEFAULT_WIDTH = 640, DEFAULT_HEIGHT = 480, DEFAULT_FPS = 30,
       DEFAULT_BUFFERS = 4 };

static const qcam_camera_caps caps = {
    .min_width = 32, .max_width = 3840, .min_height = 32, .max_height = 2160, .size_step = 2,
    .min_fps = 1, .max_fps = 120, .min_buffers = 2, .max_buffers = 16,
    .max_channels = MAX_CHANNELS,
    .formats = 1u << QCAM_FMT_NV21 | 1u << QCAM_FMT_NV12 | 1u << QCAM_FMT_YUV420P |
               1u << QCAM_FMT_RGB888 | 1u << QCAM_FMT_GRAY,
};

void qcam_camera_get_caps(qcam_camera_caps *out) { *out = caps; }

typedef struct y4m y4m;

struct qcam_camera_channel {
    qcam_camera *cam;
    qcam_camera_output cfg;
    qcam_pool *pool;
    pthread_mutex_t lock; /* next_j and the counters (stats() reads them anywhere) */
    int64_t start_j, next_j; /* channel frame numbers: first, next not yet consumed */
    uint64_t dropped, delivered;
    /* the reader's scratch, sized once at creation: */
    uint8_t *rx, *ux;            /* pattern: luma ramp per column, U per chroma column */
    int32_t *ar, *ag, *ab;       /* pattern, RGB: per-column terms */
    int *xmap, *ymap;            /* Y4M: nearest source column / row */
    uint8_t *frame;              /* Y4M: one source frame when it cannot go in place */
    char err[256];
};

struct qcam_camera {
    atomic_int refs;
    int64_t t0; /* capture 0 */
    int fps;
    y4m *src;
    bool loop;
    pthread_mutex_t lock; /* the channel list */
    int n_channels;
    qcam_camera_channel *channels[MAX_CHANNELS];
};

static atomic_bool sensor_busy;

static void set_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* ---- clock and pacing ----------------------------------------------------
 * Capture k falls due at t0 + ceil(k * 1e6 / fps). A channel at fc fps takes
 * capture ceil(j * fps / fc) as its frame j, so its frames are evenly spread
 * over the captures and share their seq and timestamps. */

static int64_t capture_due(const qcam_camera *cam, int64_t k)
{
    return cam->t0 + (k * 1000000 + cam->fps - 1) / cam->fps;
}

static int64_t capture_of(const qcam_camera_channel *chn, int64_t j)
{
    return (j * chn->cam->fps + chn->cfg.fps - 1) / chn->cfg.fps;
}

/* The newest channel frame due at `now` (-1: none yet). */
static int64_t latest_frame(const qcam_camera_channel *chn, int64_t now)
{
    const qcam_camera *cam = chn->cam;
    if (now < cam->t0) return -1;
    int64_t k = (now - cam->t0) * cam->fps / 1000000;
    return k * chn->cfg.fps / cam->fps;
}

static void sleep_until(int64_t t_us)
{
    struct timespec ts = {.tv_sec = t_us / 1000000, .tv_nsec = (long)(t_us % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* ---- canvas: drawing into a picture of any format ------------------------ */

typedef struct {
    qcam_pixfmt fmt;
    int w, h, cw, ch;        /* luma and chroma sizes */
    uint8_t *y;              /* Y plane: yuv formats and gray */
    uint8_t *u, *v;          /* yuv420p */
    uint8_t *uv;             /* nv12 / nv21: interleaved pairs */
    uint8_t *rgb;
} canvas;

typedef struct { uint8_t y, u, v, r, g, b; } color;

static void canvas_of(canvas *c, qcam_picture *p)
{
    memset(c, 0, sizeof *c);
    c->fmt = p->format;
    c->w = p->width;
    c->h = p->height;
    c->cw = p->width / 2;
    c->ch = p->height / 2;
    size_t luma = (size_t)c->w * (size_t)c->h, chroma = (size_t)c->cw * (size_t)c->ch;
    switch (p->format) {
    case QCAM_FMT_RGB888: c->rgb = p->data; break;
    case QCAM_FMT_YUV420P:
        c->y = p->data;
        c->u = p->data + luma;
        c->v = c->u + chroma;
        break;
    case QCAM_FMT_NV12:
    case QCAM_FMT_NV21:
        c->y = p->data;
        c->uv = p->data + luma;
        break;
    default: c->y = p->data; break;
    }
}

static uint8_t clamp255(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* BT.601, limited range, both ways. */
static color rgb_color(int r, int g, int b)
{
    color c = {.r = (uint8_t)r, .g = (uint8_t)g, .b = (uint8_t)b};
    c.y = clamp255(16 + ((66 * r + 129 * g + 25 * b + 128) >> 8));
    c.u = clamp255(128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8));
    c.v = clamp255(128 + ((112 * r - 94 * g - 18 * b + 128) >> 8));
    return c;
}

/* Fixed point (10 bits) YUV -> RGB terms. */
#define K_Y 1192
#define K_RV 1634
#define K_GU 401
#define K_GV 833
#define K_BU 2066

static void put_rgb(uint8_t *px, int y, int u, int v)
{
    int yy = K_Y * (y - 16) + 512;
    px[0] = clamp255((yy + K_RV * (v - 128)) >> 10);
    px[1] = clamp255((yy - K_GU * (u - 128) - K_GV * (v - 128)) >> 10);
    px[2] = clamp255((yy + K_BU * (u - 128)) >> 10);
}

/* Fill [x0,x1) x [y0,y1), clipped. Chroma covers every 2x2 block touched. */
static void fill_rect(const canvas *c, int x0, int y0, int x1, int y1, color col)
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    if (x0 >= x1 || y0 >= y1) return;
    if (c->rgb) {
        for (int y = y0; y < y1; y++) {
            uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x0) * 3;
            for (int x = x0; x < x1; x++, p += 3) {
                p[0] = col.r;
                p[1] = col.g;
                p[2] = col.b;
            }
        }
        return;
    }
    for (int y = y0; y < y1; y++) memset(c->y + (size_t)y * (size_t)c->w + x0, col.y, (size_t)(x1 - x0));
    if (c->fmt == QCAM_FMT_GRAY) return;
    int cx0 = x0 / 2, cx1 = (x1 + 1) / 2, cy0 = y0 / 2, cy1 = (y1 + 1) / 2;
    for (int cy = cy0; cy < cy1; cy++) {
        size_t row = (size_t)cy * (size_t)c->cw;
        if (c->u) {
            memset(c->u + row + cx0, col.u, (size_t)(cx1 - cx0));
            memset(c->v + row + cx0, col.v, (size_t)(cx1 - cx0));
        } else {
            uint8_t first = c->fmt == QCAM_FMT_NV12 ? col.u : col.v;
            uint8_t second = c->fmt == QCAM_FMT_NV12 ? col.v : col.u;
            uint8_t *p = c->uv + row * 2 + (size_t)cx0 * 2;
            for (int cx = cx0; cx < cx1; cx++, p += 2) {
                p[0] = first;
                p[1] = second;
            }
        }
    }
}

static int isqrt(int n)
{
    int r = 0;
    while ((r + 1) * (r + 1) <= n) r++;
    return r;
}

static void fill_disc(const canvas *c, int cx, int cy, int r, color col)
{
    for (int dy = -r; dy <= r; dy++) {
        int hw = isqrt(r * r - dy * dy);
        fill_rect(c, cx - hw, cy + dy, cx + hw + 1, cy + dy + 1, col);
    }
}

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column: 0-9 ':' '.' ' ' */
static const uint8_t font[13][7] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}, {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},
    {0},
};

static void draw_text(const canvas *c, int x, int y, int s, const char *text, color fg)
{
    for (; *text; text++, x += 6 * s) {
        int g = *text >= '0' && *text <= '9' ? *text - '0' : *text == ':' ? 10 : *text == '.' ? 11 : 12;
        for (int row = 0; row < 7; row++)
            for (int col = 0; col < 5; col++)
                if (font[g][row] & (0x10 >> col))
                    fill_rect(c, x + col * s, y + row * s, x + (col + 1) * s, y + (row + 1) * s, fg);
    }
}

/* ---- the synthetic pattern: a function of (seq, fps, size, format) --------
 * Background: luma = a horizontal sawtooth moving 2 levels a frame plus a
 * vertical ramp (16..235); U varies along x, V along y. A box bounces left to
 * right, a disc up and down; top left, "SSSSSS MM:SS.mmm" (frame number and
 * stream time) in white on black. Positions are fractions of the frame, so
 * every channel shows the same scene at its own size. */

static int tri(uint64_t seq, int period, int span)
{
    int p = (int)(seq % (uint64_t)period), half = period / 2;
    return (p < half ? p : period - p) * span / half;
}

static void render_pattern(qcam_camera_channel *chn, qcam_picture *pic, uint64_t seq)
{
    canvas c;
    canvas_of(&c, pic);
    int w = c.w, h = c.h, shift = (int)(seq % 80) * 2;
    for (int x = 0; x < w; x++) chn->rx[x] = (uint8_t)((x * 160 / w + shift) % 160);
    for (int x = 0; x < c.cw; x++) chn->ux[x] = (uint8_t)(64 + x * 128 / c.cw);
    if (c.rgb) {
        for (int x = 0; x < w; x++) {
            int u = chn->ux[x / 2 < c.cw ? x / 2 : c.cw - 1] - 128;
            int32_t a = K_Y * chn->rx[x];
            chn->ar[x] = a;
            chn->ag[x] = a - K_GU * u;
            chn->ab[x] = a + K_BU * u;
        }
        int prev_ry = -1, prev_v = 0;
        for (int y = 0; y < h; y++) {
            int ry = 16 + y * 60 / h, v = 192 - (y / 2) * 128 / (c.ch ? c.ch : 1) - 128;
            int32_t base = K_Y * (ry - 16) + 512;
            int32_t rr = base + K_RV * v, gg = base - K_GV * v, bb = base;
            uint8_t *p = c.rgb + (size_t)y * (size_t)w * 3;
            if (ry == prev_ry && v == prev_v) {
                /* Same inputs as the row above (the ramps are coarse): reuse
                 * the row just generated in this frame. */
                memcpy(p, p - (size_t)w * 3, (size_t)w * 3);
                continue;
            }
            prev_ry = ry;
            prev_v = v;
            for (int x = 0; x < w; x++, p += 3) {
                p[0] = clamp255((chn->ar[x] + rr) >> 10);
                p[1] = clamp255((chn->ag[x] + gg) >> 10);
                p[2] = clamp255((chn->ab[x] + bb) >> 10);
            }
        }
    } else {
        for (int y = 0; y < h; y++) {
            uint8_t ry = (uint8_t)(16 + y * 60 / h), *row = c.y + (size_t)y * (size_t)w;
            const uint8_t *rx = chn->rx;
            for (int x = 0; x < w; x++) row[x] = (uint8_t)(rx[x] + ry);
        }
        for (int cy = 0; cy < c.ch && c.fmt != QCAM_FMT_GRAY; cy++) {
            uint8_t v = (uint8_t)(192 - cy * 128 / c.ch);
            size_t off = (size_t)cy * (size_t)c.cw;
            if (c.u) {
                memcpy(c.u + off, chn->ux, (size_t)c.cw); /* generated row, not pixels */
                memset(c.v + off, v, (size_t)c.cw);
            } else {
                uint8_t *p = c.uv + off * 2;
                bool nv12 = c.fmt == QCAM_FMT_NV12;
                for (int x = 0; x < c.cw; x++, p += 2) {
                    p[nv12 ? 0 : 1] = chn->ux[x];
                    p[nv12 ? 1 : 0] = v;
                }
            }
        }
    }
    int side = h / 5, r = h / 8;
    fill_rect(&c, tri(seq, 90, w - side), h * 11 / 20, tri(seq, 90, w - side) + side,
              h * 11 / 20 + side, rgb_color(255, 140, 0));
    fill_disc(&c, w * 39 / 50, r + tri(seq, 60, h - 2 * r), r, rgb_color(40, 200, 80));
    char text[32];
    uint64_t ms = seq * 1000 / (uint64_t)chn->cam->fps;
    snprintf(text, sizeof text, "%06u %02u:%02u.%03u", (unsigned)(seq % 1000000),
             (unsigned)(ms / 60000 % 100), (unsigned)(ms / 1000 % 60), (unsigned)(ms % 1000));
    int s = h / 120 > 1 ? h / 120 : 1, m = 2 * s, len = (int)strlen(text);
    fill_rect(&c, m, m, m + len * 6 * s + s, m + 9 * s, rgb_color(0, 0, 0));
    draw_text(&c, m + s, m + s, s, text, rgb_color(255, 255, 255));
}

/* ---- the Y4M reader --------------------------------------------------------
 * "YUV4MPEG2 W<w> H<h> [F<n>:<d>] [C<space>] ...\n", then frames:
 * "FRAME[ params]\n" + Y plane + U plane + V plane (4:2:0) or Y only (mono).
 * Untrusted input: every length is checked against the file's size before it
 * is used, header lines are bounded, numbers are range-checked. Frames are
 * indexed (data offset each) the first time they are passed, so a channel can
 * read any frame with pread; the index grows under `lock`. */

enum { Y4M_MAX_HEADER = 1024, Y4M_MAX_FRAME_HEADER = 256 };

struct y4m {
    int fd;
    int64_t file_size;
    int width, height;
    int fps_num, fps_den; /* 0/0: not given */
    bool mono;
    size_t luma, chroma, frame_size; /* chroma: one plane */
    pthread_mutex_t lock;
    int64_t *index; /* data offset of frame i */
    int64_t count, cap;
    int64_t scan; /* where frame `count`'s header should start */
    bool complete; /* scanned to the end: count is the number of frames */
};

static void y4m_close(y4m *f)
{
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    pthread_mutex_destroy(&f->lock);
    free(f->index);
    free(f);
}

static int pread_full(int fd, void *buf, size_t n, int64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + (int64_t)got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -errno;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (int)got;
}

/* Digits only, no sign, value in [lo, hi]. */
static bool parse_int(const char *s, const char *end, long lo, long hi, long *out)
{
    long v = 0;
    if (s >= end) return false;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + (*s - '0');
        if (v > hi) return false;
    }
    if (v < lo) return false;
    *out = v;
    return true;
}

static int y4m_open(const char *path, y4m **out, char *err, size_t errn)
{
    y4m *f = calloc(1, sizeof *f);
    if (!f) return -ENOMEM;
    pthread_mutex_init(&f->lock, NULL);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int r = 0;
    if (f->fd < 0 || fstat(f->fd, &st) != 0) {
        r = -errno; /* the errno says it all: no message */
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        set_err(err, errn, "not a regular file");
        goto fail;
    }
    f->file_size = (int64_t)st.st_size;
    char hdr[Y4M_MAX_HEADER + 1];
    int n = pread_full(f->fd, hdr, Y4M_MAX_HEADER, 0);
    if (n < 0) {
        r = n;
        goto fail;
    }
    hdr[n] = 0;
    r = -EILSEQ;
    if (n < 10 || memcmp(hdr, "YUV4MPEG2 ", 10) != 0) {
        set_err(err, errn, "not a Y4M file (it does not start with \"YUV4MPEG2 \")");
        goto fail;
    }
    char *eol = memchr(hdr, '\n', (size_t)n);
    if (!eol) {
        set_err(err, errn, "Y4M header line is not terminated within %d bytes", Y4M_MAX_HEADER);
        goto fail;
    }
    long w = 0, h = 0;
    bool have_w = false, have_h = false;
    for (char *p = hdr + 10; p < eol;) {
        char *tok_end = p;
        while (tok_end < eol && *tok_end != ' ') tok_end++;
        if (tok_end == p) {
            p++;
            continue;
        }
        char tag = *p;
        const char *val = p + 1;
        if (tag == 'W' || tag == 'H') {
            long v;
            if (!parse_int(val, tok_end, 1, 16384, &v)) {
                set_err(err, errn, "bad Y4M %s \"%.*s\" (want 1..16384)", tag == 'W' ? "width" : "height",
                        (int)(tok_end - p), p);
                goto fail;
            }
            if (tag == 'W') w = v, have_w = true;
            else h = v, have_h = true;
        } else if (tag == 'F') {
            const char *colon = memchr(val, ':', (size_t)(tok_end - val));
            long num, den;
            if (!colon || !parse_int(val, colon, 1, 1000000, &num) ||
                !parse_int(colon + 1, tok_end, 1, 1000000, &den)) {
                set_err(err, errn, "bad Y4M frame rate \"%.*s\"", (int)(tok_end - p), p);
                goto fail;
            }
            f->fps_num = (int)num;
            f->fps_den = (int)den;
        } else if (tag == 'C') {
            size_t len = (size_t)(tok_end - val);
            static const char *const ok[] = {"420jpeg", "420paldv", "420mpeg2", "420", "mono"};
            int found = -1;
            for (int i = 0; i < 5; i++)
                if (strlen(ok[i]) == len && memcmp(val, ok[i], len) == 0) found = i;
            if (found < 0) {
                r = -ENOTSUP;
                set_err(err, errn, "unsupported Y4M colour space \"%.*s\" (supported: C420jpeg, "
                        "C420paldv, C420mpeg2, C420, Cmono; 8-bit only)", (int)(tok_end - p), p);
                goto fail;
            }
            f->mono = found == 4;
        }
        /* I (interlacing), A (aspect), X (comments) and unknown tags: ignored, as the format says. */
        p = tok_end;
    }
    if (!have_w || !have_h) {
        set_err(err, errn, "Y4M header has no %s", !have_w ? "width (W)" : "height (H)");
        goto fail;
    }
    if (w % 2 || h % 2) {
        r = -ENOTSUP;
        set_err(err, errn, "Y4M frames are %ldx%ld: odd sizes are not supported", w, h);
        goto fail;
    }
    f->width = (int)w;
    f->height = (int)h;
    f->luma = (size_t)w * (size_t)h;
    f->chroma = f->mono ? 0 : f->luma / 4;
    f->frame_size = f->luma + 2 * f->chroma;
    f->scan = eol - hdr + 1;
    *out = f;
    return 0;
fail:
    y4m_close(f);
    return r;
}

/* Index one more frame. 1: indexed, 0: clean end of file, <0: error. */
static int y4m_scan_one(y4m *f, char *err, size_t errn)
{
    char line[Y4M_MAX_FRAME_HEADER + 1];
    int n = pread_full(f->fd, line, Y4M_MAX_FRAME_HEADER, f->scan);
    if (n < 0) {
        set_err(err, errn, "reading frame %lld: %s", (long long)f->count, strerror(-n));
        return -EIO;
    }
    if (n == 0) {
        f->complete = true;
        return 0;
    }
    if (n < 5 || memcmp(line, "FRAME", 5) != 0 || (n > 5 && line[5] != '\n' && line[5] != ' ')) {
        set_err(err, errn, "frame %lld: no FRAME marker at byte %lld", (long long)f->count,
                (long long)f->scan);
        return -EILSEQ;
    }
    const char *eol = memchr(line, '\n', (size_t)n);
    if (!eol) {
        set_err(err, errn, "frame %lld: header not terminated within %d bytes", (long long)f->count,
                Y4M_MAX_FRAME_HEADER);
        return -EILSEQ;
    }
    int64_t data = f->scan + (eol - line) + 1;
    if (data > f->file_size || f->file_size - data < (int64_t)f->frame_size) {
        set_err(err, errn, "frame %lld is truncated: %lld of %zu bytes", (long long)f->count,
                (long long)(f->file_size - data), f->frame_size);
        return -EILSEQ;
    }
    if (f->count == f->cap) {
        int64_t cap = f->cap ? f->cap * 2 : 64;
        int64_t *idx = realloc(f->index, (size_t)cap * sizeof *idx);
        if (!idx) {
            set_err(err, errn, "out of memory indexing frame %lld", (long long)f->count);
            return -ENOMEM;
        }
        f->index = idx;
        f->cap = cap;
    }
    f->index[f->count++] = data;
    f->scan = data + (int64_t)f->frame_size;
    return 1;
}

/* Where capture k's frame data is. 1: found (*off), 0: past the end (not
 * looping), <0: error. */
static int y4m_locate(y4m *f, int64_t k, bool loop, int64_t *off, char *err, size_t errn)
{
    pthread_mutex_lock(&f->lock);
    int r = 1;
    while (k >= f->count && !f->complete) {
        r = y4m_scan_one(f, err, errn);
        if (r <= 0) break;
    }
    if (r >= 0) {
        if (k < f->count) {
            *off = f->index[k];
            r = 1;
        } else if (loop && f->count > 0) {
            *off = f->index[k % f->count];
            r = 1;
        } else {
            r = 0;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

/* Frames in the file, or -1 while not known yet. */
static int64_t y4m_known_count(y4m *f)
{
    pthread_mutex_lock(&f->lock);
    int64_t n = f->complete ? f->count : -1;
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* ---- conversion: a 4:2:0 (or mono) source frame into a picture ---------- */

/* Nearest-neighbour scale + colour conversion from planes sy/su/sv (su NULL:
 * mono, chroma 128) of sw x sh. */
static void convert_frame(qcam_camera_channel *chn, qcam_picture *pic, const uint8_t *sy,
                          const uint8_t *su, const uint8_t *sv, int sw)
{
    canvas c;
    canvas_of(&c, pic);
    const int *xm = chn->xmap, *ym = chn->ymap;
    int scw = sw / 2;
    if (c.rgb) {
        for (int y = 0; y < c.h; y++) {
            const uint8_t *ry = sy + (size_t)ym[y] * (size_t)sw;
            size_t crow = (size_t)(ym[y] / 2) * (size_t)scw;
            uint8_t *p = c.rgb + (size_t)y * (size_t)c.w * 3;
            for (int x = 0; x < c.w; x++, p += 3) {
                int sx = xm[x];
                put_rgb(p, ry[sx], su ? su[crow + (size_t)sx / 2] : 128, sv ? sv[crow + (size_t)sx / 2] : 128);
            }
        }
        return;
    }
    if (c.y != sy)
        for (int y = 0; y < c.h; y++) {
            const uint8_t *ry = sy + (size_t)ym[y] * (size_t)sw;
            uint8_t *d = c.y + (size_t)y * (size_t)c.w;
            for (int x = 0; x < c.w; x++) d[x] = ry[xm[x]];
        }
    if (c.fmt == QCAM_FMT_GRAY) return;
    for (int cy = 0; cy < c.ch; cy++) {
        size_t srow = (size_t)(ym[cy * 2] / 2) * (size_t)scw, drow = (size_t)cy * (size_t)c.cw;
        for (int cx = 0; cx < c.cw; cx++) {
            size_t s = srow + (size_t)xm[cx * 2] / 2;
            uint8_t u = su ? su[s] : 128, v = sv ? sv[s] : 128;
            if (c.u) {
                c.u[drow + cx] = u;
                c.v[drow + cx] = v;
            } else {
                uint8_t *p = c.uv + (drow + (size_t)cx) * 2;
                p[c.fmt == QCAM_FMT_NV12 ? 0 : 1] = u;
                p[c.fmt == QCAM_FMT_NV12 ? 1 : 0] = v;
            }
        }
    }
}

/* Capture k from the file into pic. Reads planes straight into the picture
 * where the layout allows (same size: Y always; everything for yuv420p). */
static int render_y4m(qcam_camera_channel *chn, qcam_picture *pic, int64_t k)
{
    qcam_camera *cam = chn->cam;
    y4m *f = cam->src;
    int64_t off;
    int r = y4m_locate(f, k, cam->loop, &off, chn->err, sizeof chn->err);
    if (r == 0) return -ENODATA;
    if (r < 0) return r;
    bool same = pic->width == f->width && pic->height == f->height;
    uint8_t *dst = pic->data;
    const uint8_t *sy, *su = NULL, *sv = NULL;
    size_t want;
    if (same && pic->format == QCAM_FMT_YUV420P && !f->mono) {
        want = f->frame_size; /* the file's layout is the picture's */
        r = pread_full(f->fd, dst, want, off);
        if (r >= 0 && (size_t)r == want) return 0;
    } else if (same && pic->format != QCAM_FMT_RGB888) {
        /* Y in place; chroma (if any) into scratch, then interleave. */
        want = f->luma;
        r = pread_full(f->fd, dst, want, off);
        if (r >= 0 && (size_t)r == want && f->chroma && pic->format != QCAM_FMT_GRAY) {
            want = 2 * f->chroma;
            r = pread_full(f->fd, chn->frame, want, off + (int64_t)f->luma);
            su = chn->frame;
            sv = chn->frame + f->chroma;
        }
        sy = dst;
        if (r >= 0 && (size_t)r == want) {
            convert_frame(chn, pic, sy, su, sv, f->width);
            return 0;
        }
    } else {
        want = f->frame_size;
        r = pread_full(f->fd, chn->frame, want, off);
        if (r >= 0 && (size_t)r == want) {
            sy = chn->frame;
            if (!f->mono) {
                su = sy + f->luma;
                sv = su + f->chroma;
            }
            convert_frame(chn, pic, sy, su, sv, f->width);
            return 0;
        }
    }
    /* The file changed under us (it was checked against its size). */
    set_err(chn->err, sizeof chn->err, "frame %lld: %s", (long long)k,
            r < 0 ? strerror(-r) : "short read (file truncated while playing?)");
    return -EIO;
}

/* ---- the HAL ------------------------------------------------------------ */

static bool fmt_ok(qcam_pixfmt fmt) { return fmt >= QCAM_FMT_NV21 && fmt <= QCAM_FMT_GRAY && (caps.formats & 1u << fmt); }

static int check_output(const qcam_camera_output *o, int max_fps, char *err, size_t errn)
{
    if (!fmt_ok(o->format)) {
        set_err(err, errn, "unsupported pixel format %d", (int)o->format);
        return -EINVAL;
    }
    if (o->width < caps.min_width || o->width > caps.max_width || o->width % caps.size_step ||
        o->height < caps.min_height || o->height > caps.max_height || o->height % caps.size_step) {
        set_err(err, errn, "size %dx%d outside %dx%d..%dx%d (multiples of %d)", o->width, o->height,
                caps.min_width, caps.min_height, caps.max_width, caps.max_height, caps.size_step);
        return -EINVAL;
    }
    if (o->fps < caps.min_fps || o->fps > max_fps) {
        set_err(err, errn, "fps %d outside %d..%d", o->fps, caps.min_fps, max_fps);
        return -EINVAL;
    }
    if (o->buffers < caps.min_buffers || o->buffers > caps.max_buffers) {
        set_err(err, errn, "buffers %u outside %u..%u", o->buffers, caps.min_buffers, caps.max_buffers);
        return -EINVAL;
    }
    return 0;
}

static void channel_free(qcam_camera_channel *chn)
{
    if (!chn) return;
    qcam_pool_close(chn->pool);
    pthread_mutex_destroy(&chn->lock);
    free(chn->rx);
    free(chn->ux);
    free(chn->ar);
    free(chn->ag);
    free(chn->ab);
    free(chn->xmap);
    free(chn->ymap);
    free(chn->frame);
    free(chn);
}

static qcam_camera_channel *channel_new(qcam_camera *cam, const qcam_camera_output *cfg)
{
    qcam_camera_channel *chn = calloc(1, sizeof *chn);
    if (!chn) return NULL;
    pthread_mutex_init(&chn->lock, NULL);
    chn->cam = cam;
    chn->cfg = *cfg;
    size_t w = (size_t)cfg->width, h = (size_t)cfg->height;
    chn->pool = qcam_pool_new(cfg->buffers, cfg->width, cfg->height, cfg->format);
    bool ok = chn->pool != NULL;
    if (cam->src) {
        y4m *f = cam->src;
        chn->xmap = malloc(w * sizeof *chn->xmap);
        chn->ymap = malloc(h * sizeof *chn->ymap);
        chn->frame = malloc(f->frame_size);
        ok = ok && chn->xmap && chn->ymap && chn->frame;
        for (size_t x = 0; ok && x < w; x++) chn->xmap[x] = (int)((x * (size_t)f->width + w / 2) / w);
        for (size_t y = 0; ok && y < h; y++) chn->ymap[y] = (int)((y * (size_t)f->height + h / 2) / h);
        for (size_t x = 0; ok && x < w; x++)
            if (chn->xmap[x] >= f->width) chn->xmap[x] = f->width - 1;
        for (size_t y = 0; ok && y < h; y++)
            if (chn->ymap[y] >= f->height) chn->ymap[y] = f->height - 1;
    } else {
        chn->rx = malloc(w);
        chn->ux = malloc(w / 2 + 1);
        chn->ar = malloc(w * sizeof(int32_t));
        chn->ag = malloc(w * sizeof(int32_t));
        chn->ab = malloc(w * sizeof(int32_t));
        ok = ok && chn->rx && chn->ux && chn->ar && chn->ag && chn->ab;
    }
    if (!ok) {
        channel_free(chn);
        return NULL;
    }
    return chn;
}

int qcam_camera_open(const qcam_camera_config *cfg, qcam_camera **out, char *err, size_t err_len)
{
    set_err(err, err_len, "%s", "");
    qcam_camera_output o = cfg->main;
    y4m *src = NULL;
    if (!fmt_ok(o.format)) {
        set_err(err, err_len, "unsupported pixel format %d", (int)o.format);
        return -EINVAL;
    }
    if (cfg->source) {
        int r = y4m_open(cfg->source, &src, err, err_len);
        if (r < 0) return r;
        if ((o.width && o.width != src->width) || (o.height && o.height != src->height)) {
            set_err(err, err_len, "the file's frames are %dx%d, the camera was asked for %dx%d",
                    src->width, src->height, o.width ? o.width : src->width,
                    o.height ? o.height : src->height);
            y4m_close(src);
            return -ERANGE;
        }
        o.width = src->width;
        o.height = src->height;
        if (!o.fps && src->fps_den) {
            int fps = (src->fps_num + src->fps_den / 2) / src->fps_den;
            o.fps = fps < caps.min_fps ? caps.min_fps : fps > caps.max_fps ? caps.max_fps : fps;
        }
    }
    if (!o.width) o.width = DEFAULT_WIDTH;
    if (!o.height) o.height = DEFAULT_HEIGHT;
    if (!o.fps) o.fps = DEFAULT_FPS;
    if (!o.buffers) o.buffers = DEFAULT_BUFFERS;
    int r = check_output(&o, caps.max_fps, err, err_len);
    if (r == 0 && src) {
        /* A file without a single frame is refused now, not at the first read. */
        int64_t off;
        r = y4m_locate(src, 0, false, &off, err, err_len);
        if (r == 0) set_err(err, err_len, "the Y4M file has no frames");
        r = r <= 0 ? (r == 0 ? -EILSEQ : r) : 0;
    }
    if (r < 0) {
        y4m_close(src);
        return r;
    }
    bool expected = false;
    if (!atomic_compare_exchange_strong(&sensor_busy, &expected, true)) {
        y4m_close(src);
        set_err(err, err_len, "the camera is already open");
        return -EBUSY;
    }
    qcam_camera *cam = calloc(1, sizeof *cam);
    if (!cam) goto oom;
    atomic_store(&cam->refs, 1);
    pthread_mutex_init(&cam->lock, NULL);
    cam->fps = o.fps;
    cam->src = src;
    cam->loop = cfg->loop;
    cam->channels[0] = channel_new(cam, &o);
    if (!cam->channels[0]) {
        pthread_mutex_destroy(&cam->lock);
        free(cam);
        goto oom;
    }
    cam->n_channels = 1;
    cam->t0 = qcam_time_monotonic_us();
    *out = cam;
    return 0;
oom:
    y4m_close(src);
    atomic_store(&sensor_busy, false);
    set_err(err, err_len, "out of memory");
    return -ENOMEM;
}

qcam_camera *qcam_camera_ref(qcam_camera *cam)
{
    atomic_fetch_add(&cam->refs, 1);
    return cam;
}

void qcam_camera_close(qcam_camera *cam)
{
    if (!cam || atomic_fetch_sub(&cam->refs, 1) != 1) return;
    for (int i = 0; i < cam->n_channels; i++) channel_free(cam->channels[i]);
    y4m_close(cam->src);
    pthread_mutex_destroy(&cam->lock);
    free(cam);
    atomic_store(&sensor_busy, false);
}

qcam_camera_channel *qcam_camera_main(qcam_camera *cam) { return cam->channels[0]; }

int qcam_camera_add_channel(qcam_camera *cam, const qcam_camera_output *cfg, qcam_camera_channel **out)
{
    char ignored[128];
    if (check_output(cfg, cam->fps, ignored, sizeof ignored) < 0) return -EINVAL;
    pthread_mutex_lock(&cam->lock);
    int r = 0;
    if (cam->n_channels >= MAX_CHANNELS) {
        r = -ENOSPC;
    } else {
        qcam_camera_channel *chn = channel_new(cam, cfg);
        if (!chn) {
            r = -ENOMEM;
        } else {
            int64_t j = latest_frame(chn, qcam_time_monotonic_us());
            chn->start_j = chn->next_j = j < 0 ? 0 : j;
            cam->channels[cam->n_channels++] = chn;
            *out = chn;
        }
    }
    pthread_mutex_unlock(&cam->lock);
    return r;
}

void qcam_camera_channel_output(const qcam_camera_channel *chn, qcam_camera_output *out) { *out = chn->cfg; }

const char *qcam_camera_error(const qcam_camera_channel *chn) { return chn->err; }

unsigned qcam_camera_free_buffers(qcam_camera_channel *chn) { return qcam_pool_free_count(chn->pool); }

/* The channel's last frame when the (non-looping) file has ended, else -1. */
static int64_t last_frame(const qcam_camera_channel *chn)
{
    qcam_camera *cam = chn->cam;
    if (!cam->src || cam->loop) return -1;
    int64_t n = y4m_known_count(cam->src);
    return n < 0 ? -1 : (n - 1) * chn->cfg.fps / cam->fps;
}

int qcam_camera_read(qcam_camera_channel *chn, int64_t timeout_us, qcam_picture **out)
{
    qcam_camera *cam = chn->cam;
    int64_t start = qcam_time_monotonic_us();
    int64_t deadline = timeout_us < 0 || timeout_us > INT64_MAX - start ? INT64_MAX : start + timeout_us;
    bool dry = false;
    if (out) *out = NULL;
    for (;;) {
        int64_t now = qcam_time_monotonic_us();
        pthread_mutex_lock(&chn->lock);
        int64_t j = latest_frame(chn, now);
        if (j >= chn->next_j) {
            int64_t k = capture_of(chn, j);
            if (cam->src && !cam->loop) {
                int64_t off;
                int r = y4m_locate(cam->src, k, false, &off, chn->err, sizeof chn->err);
                if (r < 0) {
                    pthread_mutex_unlock(&chn->lock);
                    return r;
                }
                if (r == 0) { /* past the end: the file's last frame, if still unread */
                    j = last_frame(chn);
                    if (j < chn->next_j) {
                        pthread_mutex_unlock(&chn->lock);
                        return -ENODATA;
                    }
                    k = capture_of(chn, j);
                }
            }
            chn->dropped += (uint64_t)(j - chn->next_j);
            chn->next_j = j + 1;
            if (!out) {
                chn->delivered++;
                pthread_mutex_unlock(&chn->lock);
                return 0;
            }
            qcam_picture *pic = qcam_pool_acquire(chn->pool);
            if (!pic) {
                chn->dropped++;
                dry = true;
            }
            pthread_mutex_unlock(&chn->lock);
            if (pic) {
                int r = 0;
                if (cam->src) r = render_y4m(chn, pic, k);
                else render_pattern(chn, pic, (uint64_t)k);
                pthread_mutex_lock(&chn->lock);
                if (r < 0) chn->dropped++;
                else chn->delivered++;
                pthread_mutex_unlock(&chn->lock);
                if (r < 0) {
                    qcam_picture_unref(pic);
                    return r;
                }
                pic->seq = (uint64_t)k;
                pic->pts_us = capture_due(cam, k);
                *out = pic;
                return 0;
            }
            pthread_mutex_lock(&chn->lock);
        }
        int64_t last = last_frame(chn);
        int64_t next = chn->next_j;
        pthread_mutex_unlock(&chn->lock);
        if (cam->src && !cam->loop && last >= 0 && next > last) return -ENODATA;
        int64_t wake = capture_due(cam, capture_of(chn, next));
        if (wake > deadline) {
            if (now >= deadline) return dry ? -ENOBUFS : -ETIMEDOUT;
            wake = deadline;
        }
        sleep_until(wake);
    }
}

void qcam_camera_get_stats(qcam_camera_channel *chn, qcam_camera_stats *st)
{
    int64_t now = qcam_time_monotonic_us();
    pthread_mutex_lock(&chn->lock);
    int64_t j = latest_frame(chn, now), last = last_frame(chn);
    if (last >= 0 && j > last) j = last;
    if (j < chn->next_j - 1) j = chn->next_j - 1;
    st->captured = (uint64_t)(j + 1 - chn->start_j);
    /* Frames older than the newest due one can no longer be handed out: they
     * count as dropped now, not at the next read(), so that
     * captured = delivered + dropped + (at most the one frame still readable). */
    st->dropped = chn->dropped + (uint64_t)(j > chn->next_j ? j - chn->next_j : 0);
    st->delivered = chn->delivered;
    pthread_mutex_unlock(&chn->lock);
}
