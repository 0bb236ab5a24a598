/* The embedded glyph atlas (font.h), linked in by CMake from the build's
 * qcam-font.bin (QCAM_FONT_BLOB: its path). */
#include "font.h"

#include <string.h>

#ifndef QCAM_FONT_BLOB
#error "QCAM_FONT_BLOB must name the baked atlas (runtime/CMakeLists.txt)"
#endif

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".global qcam_font_blob\n"
        "qcam_font_blob:\n"
        ".incbin \"" QCAM_FONT_BLOB "\"\n"
        ".global qcam_font_blob_end\n"
        "qcam_font_blob_end:\n"
        ".previous\n");
extern const uint8_t qcam_font_blob[], qcam_font_blob_end[];

const qcam_font_size *qcam_font_find(int px)
{
    const qcam_font_header *h = (const qcam_font_header *)(const void *)qcam_font_blob;
    if (h->magic != QCAM_FONT_MAGIC) return NULL;
    const qcam_font_size *s = (const qcam_font_size *)(const void *)(qcam_font_blob + sizeof *h);
    for (uint32_t i = 0; i < h->n_sizes; i++)
        if (s[i].px == px) return &s[i];
    return NULL;
}

const qcam_font_glyph *qcam_font_glyph_of(const qcam_font_size *fs, uint32_t cp)
{
    const qcam_font_glyph *g = (const qcam_font_glyph *)(const void *)(qcam_font_blob + fs->glyphs);
    if (cp >= fs->first && cp < fs->first + fs->count && g[cp - fs->first].present) return &g[cp - fs->first];
    return &g['?' - fs->first];
}

const uint8_t *qcam_font_bitmap(const qcam_font_glyph *g) { return qcam_font_blob + g->bitmap; }

uint32_t qcam_utf8_next(const char **s, const char *end)
{
    const unsigned char *p = (const unsigned char *)*s;
    uint32_t c = *p++;
    int more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (more < 0) {
        *s = (const char *)p;
        return 0xfffd;
    }
    c &= more ? (0x3fu >> more) : 0x7f;
    for (int i = 0; i < more; i++) {
        if ((const char *)p >= end || (*p & 0xc0) != 0x80) {
            *s = (const char *)p;
            return 0xfffd;
        }
        c = c << 6 | (*p++ & 0x3f);
    }
    *s = (const char *)p;
    return c;
}

void qcam_font_measure(const qcam_font_size *fs, const char *text, size_t len, qcam_text_metrics *m)
{
    uint64_t w = 0;
    for (const char *p = text, *end = text + len; p < end;) w += qcam_font_glyph_of(fs, qcam_utf8_next(&p, end))->advance;
    m->width = (int)((w + 65535) >> 16);
    m->ascent = fs->ascent;
    m->descent = fs->descent;
    m->height = fs->ascent + fs->descent;
}
