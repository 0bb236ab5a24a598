/* Software drawing (draw.h). */
#include "draw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool qcam_rect_empty(const qcam_rect *r) { return r->w <= 0 || r->h <= 0; }

void qcam_rect_union(qcam_rect *a, const qcam_rect *b)
{
    if (qcam_rect_empty(b)) return;
    if (qcam_rect_empty(a)) {
        *a = *b;
        return;
    }
    int x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
    int x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
    int y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
    *a = (qcam_rect){x0, y0, x1 - x0, y1 - y0};
}

void qcam_rect_clip(qcam_rect *a, const qcam_rect *b)
{
    int x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
    int x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
    int y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
    *a = (qcam_rect){x0, y0, x1 > x0 ? x1 - x0 : 0, y1 > y0 ? y1 - y0 : 0};
}

/* Clip r to the canvas and add it to the damage; false when nothing is left. */
static bool touch(qcam_canvas *c, qcam_rect *r)
{
    qcam_rect all = {0, 0, c->w, c->h};
    qcam_rect_clip(r, &all);
    if (qcam_rect_empty(r)) return false;
    qcam_rect_union(&c->damage, r);
    return true;
}

static uint32_t premul(uint32_t color, unsigned cov /* 0..255 */)
{
    unsigned a = ((color >> 24) * cov + 127) / 255;
    unsigned r = ((color >> 16 & 255) * a + 127) / 255;
    unsigned g = ((color >> 8 & 255) * a + 127) / 255;
    unsigned b = ((color & 255) * a + 127) / 255;
    return a << 24 | r << 16 | g << 8 | b;
}

/* src over dst, both premultiplied. */
static inline uint32_t over(uint32_t src, uint32_t dst)
{
    unsigned a = src >> 24;
    if (a == 255) return src;
    if (a == 0) return dst;
    unsigned k = 255 - a;
    uint32_t rb = (dst & 0xff00ff) * k + 0x800080;
    rb = ((rb + (rb >> 8 & 0xff00ff)) >> 8) & 0xff00ff;
    uint32_t ag = (dst >> 8 & 0xff00ff) * k + 0x800080;
    ag = ((ag + (ag >> 8 & 0xff00ff))) & 0xff00ff00;
    return src + (rb | ag);
}

static inline void blend(qcam_canvas *c, int x, int y, uint32_t color, unsigned cov)
{
    if (!cov) return;
    uint32_t *p = &c->px[(size_t)y * (size_t)c->w + (size_t)x];
    *p = over(premul(color, cov), *p);
}

void qcam_draw_clear(qcam_canvas *c, uint32_t color)
{
    uint32_t v = premul(color, 255);
    size_t n = (size_t)c->w * (size_t)c->h;
    for (size_t i = 0; i < n; i++) c->px[i] = v;
    c->damage = (qcam_rect){0, 0, c->w, c->h};
}

static unsigned cov_of(double d) /* d: how far inside the edge a pixel center is, in pixels */
{
    double v = d + 0.5;
    if (v <= 0) return 0;
    if (v >= 1) return 255;
    return (unsigned)(v * 255 + 0.5);
}

/* How far inside the rounded rectangle (x, y, w, h, r) the point (px, py) is
 * (negative: outside). */
static double inside_rrect(double px, double py, double x, double y, double w, double h, double r)
{
    double dx = fmin(px - x, x + w - px), dy = fmin(py - y, y + h - py);
    if (r > 0 && dx < r && dy < r) {
        double cx = r - dx, cy = r - dy;
        return r - sqrt(cx * cx + cy * cy);
    }
    return fmin(dx, dy);
}

static void rrect(qcam_canvas *c, int x, int y, int w, int h, int radius, int thickness, uint32_t color)
{
    if (w <= 0 || h <= 0) return;
    qcam_rect r = {x, y, w, h};
    if (!touch(c, &r)) return;
    int maxr = (w < h ? w : h) / 2;
    int irad = radius < 0 ? 0 : radius > maxr ? maxr : radius;
    double rad = irad, t = thickness;
    uint32_t solid = premul(color, 255);
    bool opaque = (color >> 24) == 255;
    for (int py = r.y; py < r.y + r.h; py++) {
        uint32_t *row = &c->px[(size_t)py * (size_t)c->w];
        /* Rows clear of the corners (and, for an outline, of its top and bottom
         * bands) cover whole pixels: pixel centres are half a pixel inside the
         * integer edges. Only the corners need distances. */
        bool straight = py >= y + irad && py < y + h - irad;
        if (straight && thickness <= 0) {
            for (int px = r.x; px < r.x + r.w; px++) row[px] = opaque ? solid : over(solid, row[px]);
            continue;
        }
        if (straight && py >= y + thickness && py < y + h - thickness) {
            int l1 = x + thickness, r0 = x + w - thickness;
            for (int px = r.x; px < r.x + r.w; px++) {
                if (px >= l1 && px < r0) {
                    px = r0 - 1; /* the inside of an outline: nothing */
                    continue;
                }
                row[px] = opaque ? solid : over(solid, row[px]);
            }
            continue;
        }
        for (int px = r.x; px < r.x + r.w; px++) {
            double cx = px + 0.5, cy = py + 0.5;
            unsigned cov = cov_of(inside_rrect(cx, cy, x, y, w, h, rad));
            if (thickness > 0 && cov) {
                double di = inside_rrect(cx, cy, x + t, y + t, w - 2 * t, h - 2 * t, rad - t > 0 ? rad - t : 0);
                unsigned ci = (w - 2 * t > 0 && h - 2 * t > 0) ? cov_of(di) : 0;
                cov = cov > ci ? cov - ci : 0;
            }
            if (cov == 255) row[px] = opaque ? solid : over(solid, row[px]);
            else blend(c, px, py, color, cov);
        }
    }
}

void qcam_draw_fill_rect(qcam_canvas *c, int x, int y, int w, int h, int radius, uint32_t color)
{
    rrect(c, x, y, w, h, radius, 0, color);
}

void qcam_draw_stroke_rect(qcam_canvas *c, int x, int y, int w, int h, int radius, int thickness, uint32_t color)
{
    rrect(c, x, y, w, h, radius, thickness < 1 ? 1 : thickness, color);
}

void qcam_draw_line(qcam_canvas *c, int x0, int y0, int x1, int y1, int thickness, uint32_t color)
{
    double hw = (thickness < 1 ? 1 : thickness) / 2.0;
    int pad = (int)ceil(hw) + 1;
    int minx = x0 < x1 ? x0 : x1, maxx = x0 < x1 ? x1 : x0;
    int miny = y0 < y1 ? y0 : y1, maxy = y0 < y1 ? y1 : y0;
    qcam_rect r = {minx - pad, miny - pad, maxx - minx + 2 * pad + 1, maxy - miny + 2 * pad + 1};
    if (!touch(c, &r)) return;
    double ax = x0 + 0.5, ay = y0 + 0.5, bx = x1 + 0.5, by = y1 + 0.5;
    double vx = bx - ax, vy = by - ay, len2 = vx * vx + vy * vy;
    for (int py = r.y; py < r.y + r.h; py++)
        for (int px = r.x; px < r.x + r.w; px++) {
            double qx = px + 0.5 - ax, qy = py + 0.5 - ay;
            double u = len2 > 0 ? (qx * vx + qy * vy) / len2 : 0;
            u = u < 0 ? 0 : u > 1 ? 1 : u;
            double dx = qx - u * vx, dy = qy - u * vy;
            blend(c, px, py, color, cov_of(hw - sqrt(dx * dx + dy * dy)));
        }
}

int qcam_draw_text(qcam_canvas *c, const qcam_font_size *fs, int x, int y, const char *text, size_t len,
                   uint32_t color)
{
    qcam_text_metrics m;
    qcam_font_measure(fs, text, len, &m);
    /* glyphs may reach a pixel or two beyond their advance (italic-like overhangs) */
    qcam_rect dmg = {x - 2, y, m.width + 4, m.height};
    if (!touch(c, &dmg)) return m.width;
    int base = y + fs->ascent;
    int64_t spen = (int64_t)x * 65536;
    for (const char *p = text, *end = text + len; p < end;) {
        const qcam_font_glyph *g = qcam_font_glyph_of(fs, qcam_utf8_next(&p, end));
        int gx = (int)(spen >> 16) + g->left, gy = base - g->top;
        const uint8_t *bm = qcam_font_bitmap(g);
        for (int j = 0; j < g->rows; j++) {
            int py = gy + j;
            if (py < dmg.y || py >= dmg.y + dmg.h) continue;
            for (int i = 0; i < g->width; i++) {
                int px = gx + i;
                if (px < dmg.x || px >= dmg.x + dmg.w) continue;
                blend(c, px, py, color, bm[j * g->width + i]);
            }
        }
        spen += g->advance;
    }
    return m.width;
}

static inline uint8_t clamp8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static inline uint32_t yuv_rgb(int y, int u, int v)
{
    int c = (y - 16) * 298, d = u - 128, e = v - 128;
    int r = (c + 409 * e + 128) >> 8, g = (c - 100 * d - 208 * e + 128) >> 8, b = (c + 516 * d + 128) >> 8;
    return 0xff000000u | (uint32_t)clamp8(r) << 16 | (uint32_t)clamp8(g) << 8 | clamp8(b);
}

/* One row of `pic` (source row sy), columns xs[0..n), into out[0..n). */
static void picture_row(const qcam_picture *pic, int sy, const int *xs, int n, uint32_t *out)
{
    const uint8_t *d = pic->data;
    size_t w = (size_t)pic->width, h = (size_t)pic->height;
    switch (pic->format) {
    case QCAM_FMT_RGB888: {
        const uint8_t *row = d + (size_t)sy * w * 3;
        for (int i = 0; i < n; i++) {
            const uint8_t *p = row + (size_t)xs[i] * 3;
            out[i] = 0xff000000u | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
        break;
    }
    case QCAM_FMT_GRAY: {
        const uint8_t *row = d + (size_t)sy * w;
        for (int i = 0; i < n; i++) {
            uint32_t g = row[xs[i]];
            out[i] = 0xff000000u | g << 16 | g << 8 | g;
        }
        break;
    }
    case QCAM_FMT_NV21:
    case QCAM_FMT_NV12: {
        const uint8_t *yrow = d + (size_t)sy * w, *uv = d + w * h + (size_t)(sy / 2) * w;
        int ui = pic->format == QCAM_FMT_NV12 ? 0 : 1, vi = 1 - ui;
        for (int i = 0; i < n; i++) {
            const uint8_t *c = uv + (xs[i] & ~1);
            out[i] = yuv_rgb(yrow[xs[i]], c[ui], c[vi]);
        }
        break;
    }
    case QCAM_FMT_YUV420P: {
        const uint8_t *yrow = d + (size_t)sy * w;
        const uint8_t *u = d + w * h + (size_t)(sy / 2) * (w / 2), *v = u + (w / 2) * (h / 2);
        for (int i = 0; i < n; i++) out[i] = yuv_rgb(yrow[xs[i]], u[xs[i] / 2], v[xs[i] / 2]);
        break;
    }
    default:
        for (int i = 0; i < n; i++) out[i] = 0xff000000u;
    }
}

void qcam_draw_picture(qcam_canvas *c, const qcam_picture *pic, const qcam_rect *src, const qcam_rect *dst)
{
    qcam_rect r = *dst;
    if (qcam_rect_empty(src) || !touch(c, &r)) return;
    int xs_local[2048], *xs = r.w <= 2048 ? xs_local : malloc((size_t)r.w * sizeof *xs);
    if (!xs) return;
    for (int i = 0; i < r.w; i++) xs[i] = src->x + (int)(((int64_t)(r.x + i - dst->x) * src->w) / dst->w);
    for (int py = r.y; py < r.y + r.h; py++) {
        int sy = src->y + (int)(((int64_t)(py - dst->y) * src->h) / dst->h);
        picture_row(pic, sy, xs, r.w, &c->px[(size_t)py * (size_t)c->w + (size_t)r.x]);
    }
    if (xs != xs_local) free(xs);
}

void qcam_fit(int pic_w, int pic_h, const qcam_rect *box, bool fill, qcam_rect *src, qcam_rect *dst)
{
    *src = (qcam_rect){0, 0, pic_w, pic_h};
    *dst = *box;
    if (pic_w <= 0 || pic_h <= 0 || qcam_rect_empty(box)) return;
    /* compare pic_w/pic_h with box w/h */
    int64_t lhs = (int64_t)pic_w * box->h, rhs = (int64_t)box->w * pic_h;
    if (!fill) {
        if (lhs > rhs) { /* wider: bars above and below */
            int h = (int)((int64_t)box->w * pic_h / pic_w);
            *dst = (qcam_rect){box->x, box->y + (box->h - h) / 2, box->w, h};
        } else if (lhs < rhs) {
            int w = (int)((int64_t)box->h * pic_w / pic_h);
            *dst = (qcam_rect){box->x + (box->w - w) / 2, box->y, w, box->h};
        }
    } else {
        if (lhs > rhs) { /* wider: crop the sides */
            int w = (int)((int64_t)pic_h * box->w / box->h);
            *src = (qcam_rect){(pic_w - w) / 2, 0, w, pic_h};
        } else if (lhs < rhs) {
            int h = (int)((int64_t)pic_w * box->h / box->w);
            *src = (qcam_rect){0, (pic_h - h) / 2, pic_w, h};
        }
    }
}
