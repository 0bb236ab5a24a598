/* Text burned into pictures (overlay.h). The glyphs come from the display's
 * baked atlas; a coverage mask of the text (at the atlas size, padding
 * included) is rendered per picture, then blended into the planes: the box at
 * its opacity, the glyphs at their coverage, chroma from the mean of each
 * 2x2 block. BT.601 limited-range colours, as the camera's pictures are. */
#include "overlay.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../display/font.h"
#include "../time/time.h"

struct qcam_overlay {
    qcam_overlay_config cfg;
    const qcam_font_size *fs;
    atomic_int refs;
    pthread_mutex_t lock; /* guards what follows */
    uint8_t *mask;
    size_t mask_cap;
    uint64_t frames;
    bool have_window;
    int64_t window_start_us;
    uint64_t window_count;
    double fps;
};

static int field_len(const char *p, bool *ok)
{
    *ok = true;
    if (p[0] == '%') {
        if (p[1] && strchr("YmdHMS%", p[1])) return 2;
        *ok = false;
        return 1;
    }
    if (p[0] == '{') {
        if (p[1] == '{') return 2;
        static const char *const tokens[] = {"{frame}", "{fps}", "{seq}"};
        for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
            if (strncmp(p, tokens[i], strlen(tokens[i])) == 0) return (int)strlen(tokens[i]);
        *ok = false;
        return 1;
    }
    return 1;
}

int qcam_overlay_check(const char *tmpl)
{
    if (!*tmpl || strlen(tmpl) > QCAM_OVERLAY_TEXT_MAX) return -EINVAL;
    for (const char *p = tmpl; *p;) {
        bool ok;
        p += field_len(p, &ok);
        if (!ok) return -EINVAL;
    }
    return 0;
}

/* Howard Hinnant's civil_from_days. */
static void civil(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

size_t qcam_overlay_expand(const char *tmpl, int64_t time_ms, uint64_t frame, double fps, uint64_t seq, char *out)
{
    int64_t secs = time_ms >= 0 ? time_ms / 1000 : -((-time_ms + 999) / 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int Y, M, D;
    civil(days, &Y, &M, &D);
    char full[QCAM_OVERLAY_TEXT_MAX * 5 + 32]; /* no field grows more than 5-fold */
    size_t n = 0;
    char tmp[32];
    for (const char *p = tmpl; *p;) {
        bool ok;
        int len = field_len(p, &ok);
        const char *piece = tmp;
        size_t plen;
        if (!ok || len == 1) {
            tmp[0] = *p;
            plen = 1;
        } else if (p[0] == '%') {
            switch (p[1]) {
            case 'Y': snprintf(tmp, sizeof tmp, "%04d", Y); break;
            case 'm': snprintf(tmp, sizeof tmp, "%02d", M); break;
            case 'd': snprintf(tmp, sizeof tmp, "%02d", D); break;
            case 'H': snprintf(tmp, sizeof tmp, "%02d", (int)(sod / 3600)); break;
            case 'M': snprintf(tmp, sizeof tmp, "%02d", (int)(sod / 60 % 60)); break;
            case 'S': snprintf(tmp, sizeof tmp, "%02d", (int)(sod % 60)); break;
            default: snprintf(tmp, sizeof tmp, "%%"); break;
            }
            plen = strlen(tmp);
        } else if (p[1] == '{') {
            tmp[0] = '{';
            plen = 1;
        } else if (p[1] == 'f' && p[2] == 'r') {
            snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)frame);
            plen = strlen(tmp);
        } else if (p[1] == 'f') {
            /* one decimal, half up, the same in the stub */
            long long t = (long long)(fps * 10 + 0.5);
            snprintf(tmp, sizeof tmp, "%lld.%lld", t / 10, t % 10);
            plen = strlen(tmp);
        } else {
            snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)seq);
            plen = strlen(tmp);
        }
        if (n + plen >= sizeof full) plen = sizeof full - 1 - n;
        memcpy(full + n, piece, plen);
        n += plen;
        p += len;
    }
    /* at most QCAM_OVERLAY_TEXT_MAX bytes, cut before a whole character */
    size_t cut = n;
    if (cut > QCAM_OVERLAY_TEXT_MAX) {
        cut = QCAM_OVERLAY_TEXT_MAX;
        while (cut > 0 && ((unsigned char)full[cut] & 0xc0) == 0x80) cut--;
    }
    memcpy(out, full, cut);
    out[cut] = 0;
    return cut;
}

qcam_overlay *qcam_overlay_new(const qcam_overlay_config *cfg, int *err)
{
    *err = 0;
    const qcam_font_size *fs = qcam_font_find(cfg->size);
    if (!fs || qcam_overlay_check(cfg->text) < 0 || cfg->scale < 1 || cfg->scale > 8) {
        *err = -EINVAL;
        return NULL;
    }
    qcam_overlay *ov = calloc(1, sizeof *ov);
    if (!ov) {
        *err = -ENOMEM;
        return NULL;
    }
    ov->cfg = *cfg;
    ov->fs = fs;
    atomic_store(&ov->refs, 1);
    pthread_mutex_init(&ov->lock, NULL);
    return ov;
}

qcam_overlay *qcam_overlay_ref(qcam_overlay *ov)
{
    if (ov) atomic_fetch_add(&ov->refs, 1);
    return ov;
}

void qcam_overlay_unref(qcam_overlay *ov)
{
    if (!ov || atomic_fetch_sub(&ov->refs, 1) != 1) return;
    pthread_mutex_destroy(&ov->lock);
    free(ov->mask);
    free(ov);
}

const qcam_overlay_config *qcam_overlay_config_of(const qcam_overlay *ov) { return &ov->cfg; }

uint64_t qcam_overlay_frames(qcam_overlay *ov)
{
    pthread_mutex_lock(&ov->lock);
    uint64_t n = ov->frames;
    pthread_mutex_unlock(&ov->lock);
    return n;
}

static inline uint8_t mix(int from, int to, int a) /* a: 0..255 */
{
    return (uint8_t)(from + ((to - from) * a + (to >= from ? 127 : -127)) / 255);
}

static void rgb_to_yuv(const uint8_t c[3], int *y, int *u, int *v)
{
    int r = c[0], g = c[1], b = c[2];
    *y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    *u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    *v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
}

/* Render the text into ov->mask (mw x mh coverage). Under ov->lock. */
static int render_mask(qcam_overlay *ov, const char *text, size_t len, int *mw, int *mh)
{
    qcam_text_metrics m;
    qcam_font_measure(ov->fs, text, len, &m);
    int pad = ov->cfg.padding;
    *mw = m.width + 2 * pad;
    *mh = m.height + 2 * pad;
    size_t need = (size_t)*mw * (size_t)*mh;
    if (need > ov->mask_cap) {
        uint8_t *p = realloc(ov->mask, need);
        if (!p) return -ENOMEM;
        ov->mask = p;
        ov->mask_cap = need;
    }
    memset(ov->mask, 0, need);
    uint64_t pen = (uint64_t)pad << 16;
    int baseline = pad + m.ascent;
    for (const char *p = text, *end = text + len; p < end;) {
        const qcam_font_glyph *g = qcam_font_glyph_of(ov->fs, qcam_utf8_next(&p, end));
        const uint8_t *bm = qcam_font_bitmap(g);
        int gx = (int)(pen >> 16) + g->left, gy = baseline - g->top;
        for (int r = 0; r < g->rows; r++) {
            int yy = gy + r;
            if (yy < 0 || yy >= *mh) continue;
            for (int c = 0; c < g->width; c++) {
                int xx = gx + c;
                if (xx < 0 || xx >= *mw) continue;
                uint8_t cov = bm[r * g->width + c], *dst = &ov->mask[yy * *mw + xx];
                if (cov > *dst) *dst = cov;
            }
        }
        pen += g->advance;
    }
    return 0;
}

int qcam_overlay_draw_at(qcam_overlay *ov, qcam_picture *pic, int64_t time_ms)
{
    qcam_pixfmt f = pic->format;
    if (f != QCAM_FMT_NV21 && f != QCAM_FMT_NV12 && f != QCAM_FMT_YUV420P && f != QCAM_FMT_GRAY) return -ENOTSUP;
    const qcam_overlay_config *c = &ov->cfg;
    pthread_mutex_lock(&ov->lock);
    /* {fps}: pictures per second of capture time, over whole-second windows */
    if (!ov->have_window) {
        ov->have_window = true;
        ov->window_start_us = pic->pts_us;
        ov->window_count = 0;
    } else {
        ov->window_count++;
        int64_t dt = pic->pts_us - ov->window_start_us;
        if (dt >= 1000000) {
            ov->fps = (double)ov->window_count * 1e6 / (double)dt;
            ov->window_start_us = pic->pts_us;
            ov->window_count = 0;
        }
    }
    char text[QCAM_OVERLAY_TEXT_MAX + 1];
    size_t len = qcam_overlay_expand(c->text, time_ms, ov->frames, ov->fps, pic->seq, text);
    ov->frames++;
    int mw, mh;
    int r = render_mask(ov, text, len, &mw, &mh);
    if (r < 0) {
        pthread_mutex_unlock(&ov->lock);
        return r;
    }
    int W = pic->width, H = pic->height, s = c->scale;
    int bw = mw * s, bh = mh * s, bx, by;
    switch (c->anchor) {
    case QCAM_OVERLAY_TOP_LEFT: bx = c->margin; by = c->margin; break;
    case QCAM_OVERLAY_TOP_RIGHT: bx = W - bw - c->margin; by = c->margin; break;
    case QCAM_OVERLAY_BOTTOM_LEFT: bx = c->margin; by = H - bh - c->margin; break;
    case QCAM_OVERLAY_BOTTOM_RIGHT: bx = W - bw - c->margin; by = H - bh - c->margin; break;
    default: bx = c->x; by = c->y; break;
    }
    int x0 = bx < 0 ? 0 : bx, y0 = by < 0 ? 0 : by;
    int x1 = bx + bw > W ? W : bx + bw, y1 = by + bh > H ? H : by + bh;
    int fy, fu, fv, ky = 0, ku = 0, kv = 0;
    rgb_to_yuv(c->color, &fy, &fu, &fv);
    if (c->box) rgb_to_yuv(c->box_color, &ky, &ku, &kv);
    int ba = c->box ? (c->opacity * 255 + 50) / 100 : 0;
    uint8_t *Yp = pic->data;
    for (int y = y0; y < y1; y++) {
        const uint8_t *mrow = ov->mask + (size_t)((y - by) / s) * (size_t)mw;
        uint8_t *row = Yp + (size_t)y * (size_t)W;
        for (int x = x0; x < x1; x++) {
            int v = row[x];
            if (ba) v = mix(v, ky, ba);
            int cov = mrow[(x - bx) / s];
            if (cov) v = mix(v, fy, cov);
            row[x] = (uint8_t)v;
        }
    }
    if (f != QCAM_FMT_GRAY && x0 < x1 && y0 < y1) {
        int cw = W / 2;
        uint8_t *cu, *cv;
        int step;
        uint8_t *chroma = Yp + (size_t)W * (size_t)H;
        if (f == QCAM_FMT_YUV420P) {
            cu = chroma;
            cv = chroma + (size_t)cw * (size_t)(H / 2);
            step = 1;
        } else {
            cu = f == QCAM_FMT_NV12 ? chroma : chroma + 1;
            cv = f == QCAM_FMT_NV12 ? chroma + 1 : chroma;
            step = 2;
        }
        size_t stride = (size_t)cw * (size_t)step;
        for (int cy = y0 / 2; cy <= (y1 - 1) / 2; cy++) {
            for (int cx = x0 / 2; cx <= (x1 - 1) / 2; cx++) {
                int inside = 0, cov = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        int x = cx * 2 + dx, y = cy * 2 + dy;
                        if (x < x0 || x >= x1 || y < y0 || y >= y1) continue;
                        inside++;
                        cov += ov->mask[(size_t)((y - by) / s) * (size_t)mw + (size_t)((x - bx) / s)];
                    }
                size_t i = (size_t)cy * stride + (size_t)cx * (size_t)step;
                int u = cu[i], v = cv[i];
                int a = ba * inside / 4;
                if (a) {
                    u = mix(u, ku, a);
                    v = mix(v, kv, a);
                }
                cov /= 4;
                if (cov) {
                    u = mix(u, fu, cov);
                    v = mix(v, fv, cov);
                }
                cu[i] = (uint8_t)u;
                cv[i] = (uint8_t)v;
            }
        }
    }
    pthread_mutex_unlock(&ov->lock);
    return 0;
}

int qcam_overlay_draw(qcam_overlay *ov, qcam_picture *pic)
{
    return qcam_overlay_draw_at(ov, pic, qcam_time_wall_us() / 1000);
}
