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

/* YUV → RGB, BT.601 limited range, in 8-bit fixed point:
 *   R = (298 (Y - 16) + 409 V' + 128) >> 8
 *   G = (298 (Y - 16) - 100 U' - 208 V' + 128) >> 8
 *   B = (298 (Y - 16) + 516 U' + 128) >> 8      (U' = U - 128, V' = V - 128)
 * A destination row is done in two steps: the chroma terms of its pixels
 * (kept for the next row when it reads the same chroma row, as the rows of a
 * picture shown 1:1 or nearly do in pairs), then the pixels. Both loops are
 * plain arithmetic over arrays, which the compiler turns into vector code. */
struct qcam_picture_rows {
    const qcam_picture *pic;
    qcam_rect src, dst;
    int n;              /* pixels per row */
    bool contiguous;    /* the source columns are a straight run (1:1 across) */
    int chroma_y;       /* the chroma row the terms were made from, -1: none */
    int *xs;            /* source column of each pixel */
    int32_t *rt, *gt, *bt; /* chroma terms */
    uint8_t *y, *u, *v; /* gathered samples */
};

static inline int32_t clamp8(int32_t v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

static void yuv_terms(int n, const uint8_t *restrict u, const uint8_t *restrict v, int32_t *restrict rt,
                      int32_t *restrict gt, int32_t *restrict bt)
{
    for (int i = 0; i < n; i++) {
        int32_t d = u[i] - 128, e = v[i] - 128;
        rt[i] = 409 * e + 128;
        gt[i] = -100 * d - 208 * e + 128;
        bt[i] = 516 * d + 128;
    }
}

static void yuv_pixels(int n, const uint8_t *restrict y, const int32_t *restrict rt, const int32_t *restrict gt,
                       const int32_t *restrict bt, uint32_t *restrict out)
{
    for (int i = 0; i < n; i++) {
        int32_t c = (y[i] - 16) * 298;
        out[i] = 0xff000000u | (uint32_t)clamp8((c + rt[i]) >> 8) << 16 | (uint32_t)clamp8((c + gt[i]) >> 8) << 8 |
                 (uint32_t)clamp8((c + bt[i]) >> 8);
    }
}

qcam_picture_rows *qcam_picture_rows_new(const qcam_picture *pic, const qcam_rect *src, const qcam_rect *dst, int x, int w)
{
    if (w < 1 || qcam_rect_empty(src) || qcam_rect_empty(dst)) return NULL;
    size_t n = (size_t)w;
    /* the struct, then xs and the three terms, then the three sample rows */
    qcam_picture_rows *s = malloc(sizeof *s + n * (4 * sizeof(int32_t) + 3));
    if (!s) return NULL;
    int32_t *words = (int32_t *)(void *)(s + 1);
    uint8_t *bytes = (uint8_t *)(words + 4 * n);
    *s = (qcam_picture_rows){pic, *src, *dst, w, true, -1, words, words + n, words + 2 * n, words + 3 * n,
                             bytes, bytes + n, bytes + 2 * n};
    for (int i = 0; i < w; i++) s->xs[i] = src->x + (int)(((int64_t)(x + i - dst->x) * src->w) / dst->w);
    for (int i = 1; i < w && s->contiguous; i++) s->contiguous = s->xs[i] == s->xs[i - 1] + 1;
    return s;
}

void qcam_picture_rows_free(qcam_picture_rows *pr) { free(pr); }

void qcam_picture_rows_get(qcam_picture_rows *s, int py, uint32_t *out)
{
    const qcam_picture *pic = s->pic;
    const uint8_t *d = pic->data;
    const int *restrict xs = s->xs;
    int n = s->n;
    size_t w = (size_t)pic->width, h = (size_t)pic->height;
    int sy = s->src.y + (int)(((int64_t)(py - s->dst.y) * s->src.h) / s->dst.h);
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
    case QCAM_FMT_NV12:
    case QCAM_FMT_YUV420P: {
        const uint8_t *yrow = d + (size_t)sy * w;
        uint8_t *restrict ys = s->y, *restrict us = s->u, *restrict vs = s->v;
        if (sy / 2 != s->chroma_y) {
            s->chroma_y = sy / 2;
            if (pic->format == QCAM_FMT_YUV420P) {
                const uint8_t *u = d + w * h + (size_t)(sy / 2) * (w / 2), *v = u + (w / 2) * (h / 2);
                for (int i = 0; i < n; i++) {
                    us[i] = u[xs[i] / 2];
                    vs[i] = v[xs[i] / 2];
                }
            } else {
                const uint8_t *crow = d + w * h + (size_t)(sy / 2) * w;
                const uint8_t *u = crow + (pic->format == QCAM_FMT_NV12 ? 0 : 1), *v = crow + (pic->format == QCAM_FMT_NV12 ? 1 : 0);
                for (int i = 0; i < n; i++) {
                    us[i] = u[xs[i] & ~1];
                    vs[i] = v[xs[i] & ~1];
                }
            }
            yuv_terms(n, us, vs, s->rt, s->gt, s->bt);
        }
        const uint8_t *y = yrow + xs[0];
        if (!s->contiguous) {
            for (int i = 0; i < n; i++) ys[i] = yrow[xs[i]];
            y = ys;
        }
        yuv_pixels(n, y, s->rt, s->gt, s->bt, out);
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
    qcam_picture_rows *pr = qcam_picture_rows_new(pic, src, dst, r.x, r.w);
    if (!pr) return;
    for (int py = r.y; py < r.y + r.h; py++) qcam_picture_rows_get(pr, py, &c->px[(size_t)py * (size_t)c->w + (size_t)r.x]);
    qcam_picture_rows_free(pr);
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
