/* qcam:display on the sim: both layers composed in software into an RGBA
 * panel (sim_panel.h), which the page server shows in a browser.
 *
 * The video layer is the picture shown, kept (a reference) as it came: a
 * board's display hardware scans a frame out of its buffer as it is. Its
 * pixels are made a row at a time as the panel is composed — converted,
 * scaled and laid under the overlay in one pass, with no RGB copy of the
 * video kept between — and again from the picture for the rows an overlay
 * flush changes. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display.h"
#include "sim_panel.h"

static const qcam_panel panels[] = {
    {"maixcam", 552, 368, true},
    {"maixcam-pro", 640, 480, true},
    {"k230-lcd", 800, 480, true},
    {"k230-hdmi", 1280, 720, false},
    {NULL, 0, 0, false},
};

const qcam_panel *qcam_panels(void) { return panels; }

const qcam_panel *qcam_panel_of(const char *board)
{
    if (!board) return &panels[0];
    for (const qcam_panel *p = panels; p->board; p++)
        if (strcmp(p->board, board) == 0) return p;
    return NULL;
}

struct qcam_display {
    qcam_panel panel;
    int rotation, backlight;
    qcam_canvas canvas; /* the app's overlay (its thread only) */
    uint32_t *osd;      /* the flushed overlay, logical, premultiplied (under panel.lock) */
    int *span;          /* per osd row: [span[2y], span[2y+1]) holds its visible pixels */
    uint32_t *row;      /* one logical row of video pixels, for composing (under panel.lock) */
    int lw, lh;         /* the logical size: the panel's, turned by the rotation */
    qcam_sim_panel pub;
    qcam_sim_page *page;
    int port;
    qcam_picture *shown; /* the video layer: NULL black (under panel.lock) */
    bool fill;
    qcam_rect vsrc, vdst; /* the part of it shown, and where (qcam_fit) */
    /* the bound source */
    bool bound;
    atomic_bool stop;
    pthread_t thread;
    qcam_link_source src;
    atomic_ullong video_cpu_us;
    atomic_ullong flushes, flushed_px, video_frames, panel_frames;
};

static atomic_bool busy;

void qcam_sim_panel_since(qcam_sim_panel *p, uint64_t after, uint32_t epoch, qcam_rect *r)
{
    *r = (qcam_rect){0, 0, p->w, p->h};
    if (after == 0 || epoch != p->epoch || after > p->seq || p->seq - after >= QCAM_PANEL_HISTORY) return;
    *r = (qcam_rect){0, 0, 0, 0};
    for (uint64_t s = after + 1; s <= p->seq; s++) qcam_rect_union(r, &p->hist[s % QCAM_PANEL_HISTORY].r);
}

static inline uint32_t over(uint32_t src, uint32_t dst)
{
    unsigned a = src >> 24;
    if (a == 255) return src;
    if (a == 0) return dst;
    unsigned k = 255 - a;
    uint32_t rb = (dst & 0xff00ff) * k + 0x800080;
    rb = ((rb + (rb >> 8 & 0xff00ff)) >> 8) & 0xff00ff;
    uint32_t g = (dst & 0xff00) * k + 0x8000;
    g = ((g + (g >> 8 & 0xff00)) >> 8) & 0xff00;
    return (src + (rb | g)) | 0xff000000u;
}

/* Logical (x, y) → panel pixel index, for the current rotation. */
static void to_panel(const qcam_display *d, int x, int y, int *px, int *py)
{
    int W = d->panel.width, H = d->panel.height;
    switch (d->rotation) {
    case 90: *px = W - 1 - y; *py = x; break;
    case 180: *px = W - 1 - x; *py = H - 1 - y; break;
    case 270: *px = y; *py = H - 1 - x; break;
    default: *px = x; *py = y; break;
    }
}

/* A composed 0xAARRGGBB pixel as the panel's RGBA bytes, read as one
 * little-endian word (the sim's hosts: x86-64, riscv64). */
static inline uint32_t panel_word(uint32_t c) { return 0xff000000u | (c >> 16 & 0xff) | (c & 0xff00) | (c & 0xff) << 16; }

/* Video pixels straight onto a panel run: no overlay there, full backlight. */
static void video_run(uint32_t *o, const uint32_t *vid, int n)
{
    for (int i = 0; i < n; i++) o[i] = panel_word(vid[i]);
}

/* Compose logical region r onto the panel and publish it. Holds pub.lock. */
static void compose_locked(qcam_display *d, qcam_rect r)
{
    qcam_rect all = {0, 0, d->lw, d->lh};
    qcam_rect_clip(&r, &all);
    if (qcam_rect_empty(&r)) return;
    unsigned bl = (unsigned)d->backlight * 255 / 100;
    int lw = d->lw, x1 = r.x + r.w;
    /* the picture's columns in r; the rest of each row is black (letterbox) */
    qcam_rect pc = d->vdst;
    if (d->shown) qcam_rect_clip(&pc, &(qcam_rect){r.x, 0, r.w, d->lh});
    qcam_picture_rows *rows = d->shown && pc.w > 0 ? qcam_picture_rows_new(d->shown, &d->vsrc, &d->vdst, pc.x, pc.w) : NULL;
    uint32_t *vid = d->row;
    for (int x = r.x; x < x1; x++) vid[x] = 0xff000000u;
    bool black = true; /* vid holds black in [r.x, x1) */
    for (int y = r.y; y < r.y + r.h; y++) {
        if (rows && y >= d->vdst.y && y < d->vdst.y + d->vdst.h) {
            qcam_picture_rows_get(rows, y, vid + pc.x);
            black = false;
        } else if (!black) {
            for (int x = r.x; x < x1; x++) vid[x] = 0xff000000u;
            black = true;
        }
        const uint32_t *osd = d->osd + (size_t)y * (size_t)lw;
        int px, py, px1, py1;
        to_panel(d, r.x, y, &px, &py);
        to_panel(d, r.x + 1, y, &px1, &py1);
        /* one logical row is a straight run on the panel: step between neighbours */
        ptrdiff_t step = (ptrdiff_t)(py1 - py) * d->panel.width + (px1 - px);
        uint32_t *o = (uint32_t *)(void *)d->pub.rgba + (size_t)py * (size_t)d->panel.width + (size_t)px;
        int s0 = d->span[2 * y], s1 = d->span[2 * y + 1];
        if (step == 1 && bl == 255) {
            /* the common case, in three runs: video, overlay over video, video */
            int a = s0 < r.x ? r.x : s0 > x1 ? x1 : s0, b = s1 < a ? a : s1 > x1 ? x1 : s1;
            video_run(o, vid + r.x, a - r.x);
            for (int x = a; x < b; x++) o[x - r.x] = panel_word(over(osd[x], vid[x]));
            video_run(o + (b - r.x), vid + b, x1 - b);
            continue;
        }
        for (int x = r.x; x < x1; x++, o += step) {
            /* outside the row's overlay span only the video shows */
            uint32_t c = x >= s0 && x < s1 ? over(osd[x], vid[x]) : vid[x];
            if (bl != 255)
                c = (((c >> 16 & 255) * bl + 127) / 255) << 16 | (((c >> 8 & 255) * bl + 127) / 255) << 8 |
                    ((c & 255) * bl + 127) / 255;
            *o = panel_word(c);
        }
    }
    qcam_picture_rows_free(rows);
    /* the panel rectangle of r */
    int ax, ay, bx, by;
    to_panel(d, r.x, r.y, &ax, &ay);
    to_panel(d, r.x + r.w - 1, r.y + r.h - 1, &bx, &by);
    qcam_rect pr = {ax < bx ? ax : bx, ay < by ? ay : by, abs(bx - ax) + 1, abs(by - ay) + 1};
    d->pub.seq++;
    d->pub.hist[d->pub.seq % QCAM_PANEL_HISTORY].seq = d->pub.seq;
    d->pub.hist[d->pub.seq % QCAM_PANEL_HISTORY].r = pr;
    atomic_fetch_add(&d->panel_frames, 1);
    pthread_cond_broadcast(&d->pub.changed);
}

static int alloc_layers(qcam_display *d)
{
    bool turned = d->rotation == 90 || d->rotation == 270;
    int w = turned ? d->panel.height : d->panel.width, h = turned ? d->panel.width : d->panel.height;
    size_t n = (size_t)w * (size_t)h;
    uint32_t *canvas = calloc(n, 4), *osd = calloc(n, 4), *row = malloc((size_t)w * 4);
    int *span = calloc((size_t)h * 2, sizeof *span);
    if (!canvas || !osd || !row || !span) {
        free(canvas);
        free(osd);
        free(row);
        free(span);
        return -ENOMEM;
    }
    free(d->canvas.px);
    free(d->osd);
    free(d->row);
    free(d->span);
    d->span = span;
    d->canvas = (qcam_canvas){canvas, w, h, {0, 0, 0, 0}};
    d->osd = osd;
    d->row = row;
    d->lw = w;
    d->lh = h;
    return 0;
}

/* Show `pic` (a reference of the caller's is taken over; NULL: black) on the
 * video layer, laid out as fill says. Holds pub.lock; returns the picture it
 * replaced, for the caller to unref once the lock is let go. */
static qcam_picture *video_picture_locked(qcam_display *d, qcam_picture *pic)
{
    qcam_picture *old = d->shown;
    d->shown = pic;
    qcam_rect box = {0, 0, d->lw, d->lh};
    if (pic) qcam_fit(pic->width, pic->height, &box, d->fill, &d->vsrc, &d->vdst);
    compose_locked(d, box);
    return old;
}

int qcam_display_open(const qcam_display_config *cfg, qcam_display **out, char *err, size_t err_len)
{
    *err = 0;
    const qcam_panel *p = qcam_panel_of(cfg->board);
    if (!p) {
        snprintf(err, err_len, "unknown board \"%s\" (known: maixcam, maixcam-pro, k230-lcd, k230-hdmi)", cfg->board);
        return -EINVAL;
    }
    if (cfg->rotation % 90 || cfg->rotation < 0 || cfg->rotation > 270 || cfg->backlight < 0 || cfg->backlight > 100) {
        snprintf(err, err_len, "rotation must be 0, 90, 180 or 270 and backlight 0..100");
        return -EINVAL;
    }
    bool was = false;
    if (!atomic_compare_exchange_strong(&busy, &was, true)) {
        snprintf(err, err_len, "the display is already open");
        return -EBUSY;
    }
    qcam_display *d = calloc(1, sizeof *d);
    if (!d) {
        atomic_store(&busy, false);
        return -ENOMEM;
    }
    d->panel = *p;
    d->rotation = cfg->rotation;
    d->backlight = cfg->backlight;
    d->pub.w = p->width;
    d->pub.h = p->height;
    d->pub.board = p->board;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    d->pub.epoch = (uint32_t)(ts.tv_nsec ^ ts.tv_sec * 2654435761u) | 1;
    d->pub.rgba = calloc((size_t)p->width * (size_t)p->height, 4);
    pthread_mutex_init(&d->pub.lock, NULL);
    pthread_cond_init(&d->pub.changed, NULL);
    if (!d->pub.rgba || alloc_layers(d) < 0) {
        qcam_display_close(d);
        return -ENOMEM;
    }
    pthread_mutex_lock(&d->pub.lock);
    compose_locked(d, (qcam_rect){0, 0, d->canvas.w, d->canvas.h});
    pthread_mutex_unlock(&d->pub.lock);
    int r = qcam_sim_page_start(&d->pub, cfg->port, cfg->quiet, &d->page, err, err_len);
    if (r < 0) {
        qcam_display_close(d);
        return r;
    }
    d->port = qcam_sim_page_port(d->page);
    *out = d;
    return 0;
}

void qcam_display_close(qcam_display *d)
{
    if (!d) return;
    qcam_display_unbind(d);
    if (d->page) qcam_sim_page_stop(d->page);
    qcam_picture_unref(d->shown);
    pthread_mutex_destroy(&d->pub.lock);
    pthread_cond_destroy(&d->pub.changed);
    free(d->pub.rgba);
    free(d->canvas.px);
    free(d->osd);
    free(d->span);
    free(d->row);
    free(d);
    atomic_store(&busy, false);
}

void qcam_display_get_info(qcam_display *d, qcam_display_info *info)
{
    *info = (qcam_display_info){.panel = d->panel, .width = d->canvas.w, .height = d->canvas.h,
                                .rotation = d->rotation, .backlight = d->backlight, .port = d->port};
}

void qcam_display_get_stats(qcam_display *d, qcam_display_stats *st)
{
    *st = (qcam_display_stats){.flushes = atomic_load(&d->flushes), .flushed_px = atomic_load(&d->flushed_px),
                               .video_frames = atomic_load(&d->video_frames),
                               .panel_frames = atomic_load(&d->panel_frames),
                               .video_cpu_us = atomic_load(&d->video_cpu_us)};
}

int qcam_display_set_rotation(qcam_display *d, int rotation)
{
    if (rotation % 90 || rotation < 0 || rotation > 270) return -EINVAL;
    if (rotation == d->rotation) return 0;
    pthread_mutex_lock(&d->pub.lock);
    int old = d->rotation;
    d->rotation = rotation;
    int r = alloc_layers(d);
    if (r < 0) d->rotation = old;
    else video_picture_locked(d, d->shown); /* laid out again for the turned panel */
    pthread_mutex_unlock(&d->pub.lock);
    return r;
}

int qcam_display_set_backlight(qcam_display *d, int percent)
{
    if (percent < 0 || percent > 100) return -EINVAL;
    pthread_mutex_lock(&d->pub.lock);
    if (percent != d->backlight) {
        d->backlight = percent;
        compose_locked(d, (qcam_rect){0, 0, d->canvas.w, d->canvas.h});
    }
    pthread_mutex_unlock(&d->pub.lock);
    return 0;
}

qcam_canvas *qcam_display_canvas(qcam_display *d) { return &d->canvas; }

void qcam_display_flush(qcam_display *d, qcam_rect *done)
{
    qcam_rect r = d->canvas.damage;
    d->canvas.damage = (qcam_rect){0, 0, 0, 0};
    if (done) *done = r;
    if (qcam_rect_empty(&r)) return;
    pthread_mutex_lock(&d->pub.lock);
    int w = d->canvas.w;
    for (int y = r.y; y < r.y + r.h; y++) {
        uint32_t *row = d->osd + (size_t)y * (size_t)w;
        memcpy(row + r.x, d->canvas.px + (size_t)y * (size_t)w + (size_t)r.x, (size_t)r.w * 4);
        int x0 = 0, x1 = w;
        while (x0 < w && !(row[x0] >> 24)) x0++;
        while (x1 > x0 && !(row[x1 - 1] >> 24)) x1--;
        d->span[2 * y] = x0;
        d->span[2 * y + 1] = x1;
    }
    compose_locked(d, r);
    pthread_mutex_unlock(&d->pub.lock);
    atomic_fetch_add(&d->flushes, 1);
    atomic_fetch_add(&d->flushed_px, (unsigned long long)r.w * (unsigned long long)r.h);
}

int qcam_display_show_picture(qcam_display *d, qcam_picture *pic, bool fill)
{
    qcam_display_unbind(d);
    pthread_mutex_lock(&d->pub.lock);
    d->fill = fill;
    qcam_picture *old = video_picture_locked(d, qcam_picture_ref(pic));
    pthread_mutex_unlock(&d->pub.lock);
    atomic_fetch_add(&d->video_frames, 1);
    qcam_picture_unref(old);
    return 0;
}

static uint64_t thread_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *bind_thread(void *arg)
{
    qcam_display *d = arg;
    uint64_t cpu0 = thread_cpu_us();
    while (!atomic_load(&d->stop)) {
        qcam_picture *pic = NULL;
        int r = d->src.read(d->src.ctx, 100000, &pic);
        if (r == -ETIMEDOUT || r == -ENOBUFS) continue;
        if (r < 0) break; /* the source ended or failed: the last frame stays */
        pthread_mutex_lock(&d->pub.lock);
        qcam_picture *old = video_picture_locked(d, pic);
        pthread_mutex_unlock(&d->pub.lock);
        qcam_picture_unref(old);
        atomic_fetch_add(&d->video_frames, 1);
        atomic_store(&d->video_cpu_us, thread_cpu_us() - cpu0);
    }
    atomic_store(&d->video_cpu_us, thread_cpu_us() - cpu0);
    return NULL;
}

int qcam_display_bind(qcam_display *d, const qcam_link_source *src, bool fill)
{
    qcam_display_unbind(d);
    pthread_mutex_lock(&d->pub.lock);
    d->fill = fill; /* what was shown stays until the source's first frame */
    pthread_mutex_unlock(&d->pub.lock);
    d->src = *src;
    atomic_store(&d->stop, false);
    int r = pthread_create(&d->thread, NULL, bind_thread, d);
    if (r) return -r;
    d->bound = true;
    return 0;
}

void qcam_display_unbind(qcam_display *d)
{
    if (!d->bound) return;
    atomic_store(&d->stop, true);
    pthread_join(d->thread, NULL);
    d->bound = false;
}

void qcam_display_hide_video(qcam_display *d)
{
    qcam_display_unbind(d);
    pthread_mutex_lock(&d->pub.lock);
    qcam_picture *old = video_picture_locked(d, NULL);
    pthread_mutex_unlock(&d->pub.lock);
    qcam_picture_unref(old);
}

uint64_t qcam_display_read_panel(qcam_display *d, uint8_t *rgba)
{
    pthread_mutex_lock(&d->pub.lock);
    memcpy(rgba, d->pub.rgba, (size_t)d->panel.width * (size_t)d->panel.height * 4);
    uint64_t seq = d->pub.seq;
    pthread_mutex_unlock(&d->pub.lock);
    return seq;
}
