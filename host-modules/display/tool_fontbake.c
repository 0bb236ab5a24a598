/* qcam-fontbake: renders a TrueType font into the glyph atlas the display
 * module embeds (font.h describes the format). Runs at build time on the
 * build machine only, with FreeType; neither the runtime nor a board links
 * FreeType. usage: qcam-fontbake FONT.ttf OUT.bin
 *
 * Metrics come from the font's own tables in font units, scaled with integer
 * arithmetic (advance in 16.16 pixels = round(units * px * 65536 / upem)), so
 * a second reader of the TTF (display.stub.ts) measures text to the same
 * pixel. Bitmaps are FreeType's 8-bit antialiased coverage, unhinted. */
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_TRUETYPE_TABLES_H
#include FT_ADVANCES_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "font.h"

static const int sizes[] = {QCAM_FONT_SIZES};
#define N_SIZES (int)(sizeof sizes / sizeof sizes[0])

static uint8_t *out;
static size_t out_len, out_cap;

static size_t put(const void *p, size_t n)
{
    if (out_len + n > out_cap) {
        out_cap = (out_len + n) * 2;
        out = realloc(out, out_cap);
        if (!out) {
            perror("qcam-fontbake");
            exit(1);
        }
    }
    memcpy(out + out_len, p, n);
    size_t at = out_len;
    out_len += n;
    while (out_len % 4) out[out_len++] = 0;
    return at;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: qcam-fontbake FONT.ttf OUT.bin\n");
        return 2;
    }
    FT_Library lib;
    FT_Face face;
    if (FT_Init_FreeType(&lib) || FT_New_Face(lib, argv[1], 0, &face)) {
        fprintf(stderr, "qcam-fontbake: cannot load %s\n", argv[1]);
        return 1;
    }
    TT_HoriHeader *hhea = FT_Get_Sfnt_Table(face, FT_SFNT_HHEA);
    if (!hhea) {
        fprintf(stderr, "qcam-fontbake: %s has no hhea table\n", argv[1]);
        return 1;
    }
    int64_t upem = face->units_per_EM;
    qcam_font_header hdr = {.magic = QCAM_FONT_MAGIC, .n_sizes = N_SIZES};
    put(&hdr, sizeof hdr);
    size_t size_at = out_len;
    qcam_font_size blank = {0};
    for (int i = 0; i < N_SIZES; i++) put(&blank, sizeof blank);
    for (int s = 0; s < N_SIZES; s++) {
        int px = sizes[s];
        qcam_font_size fs = {.px = (uint16_t)px, .first = QCAM_FONT_FIRST, .count = QCAM_FONT_COUNT};
        fs.ascent = (uint16_t)((hhea->Ascender * px + upem - 1) / upem);
        fs.descent = (uint16_t)((-hhea->Descender * px + upem - 1) / upem);
        if (FT_Set_Pixel_Sizes(face, 0, (FT_UInt)px)) return 1;
        qcam_font_glyph glyphs[QCAM_FONT_COUNT];
        memset(glyphs, 0, sizeof glyphs);
        size_t bitmaps_at = out_len;
        for (int c = 0; c < QCAM_FONT_COUNT; c++) {
            FT_ULong cp = QCAM_FONT_FIRST + (FT_ULong)c;
            FT_UInt gi = FT_Get_Char_Index(face, cp);
            if (!gi) continue;
            FT_Fixed units;
            if (FT_Get_Advance(face, gi, FT_LOAD_NO_SCALE, &units)) continue;
            glyphs[c].present = 1;
            glyphs[c].advance = (uint32_t)(((int64_t)units * px * 65536 + upem / 2) / upem);
            if (FT_Load_Glyph(face, gi, FT_LOAD_NO_HINTING | FT_LOAD_RENDER)) continue;
            FT_Bitmap *bm = &face->glyph->bitmap;
            if (bm->pixel_mode != FT_PIXEL_MODE_GRAY) continue;
            glyphs[c].left = (int16_t)face->glyph->bitmap_left;
            glyphs[c].top = (int16_t)face->glyph->bitmap_top;
            glyphs[c].width = (uint16_t)bm->width;
            glyphs[c].rows = (uint16_t)bm->rows;
            uint8_t *tight = malloc((size_t)bm->width * bm->rows + 1);
            for (unsigned y = 0; y < bm->rows; y++)
                memcpy(tight + (size_t)y * bm->width, bm->buffer + (long)y * bm->pitch, bm->width);
            glyphs[c].bitmap = (uint32_t)put(tight, (size_t)bm->width * bm->rows);
            free(tight);
        }
        (void)bitmaps_at;
        fs.glyphs = (uint32_t)put(glyphs, sizeof glyphs);
        memcpy(out + size_at + (size_t)s * sizeof fs, &fs, sizeof fs);
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f)) {
        perror(argv[2]);
        return 1;
    }
    FT_Done_Face(face);
    FT_Done_FreeType(lib);
    free(out);
    return 0;
}
