/* The display's font: DejaVu Sans (Debian's fonts-dejavu-core), rendered at
 * build time by tool_fontbake.c (FreeType, on the build machine) into a glyph
 * atlas that the runtime embeds. No font library runs on the board.
 *
 * Atlas format (little-endian, every table 4-byte aligned, offsets from the
 * start of the atlas): a qcam_font_header, n_sizes qcam_font_size records,
 * then for each size its bitmaps (8-bit coverage, rows tight) and its glyph
 * table (QCAM_FONT_COUNT records for code points QCAM_FONT_FIRST...; absent
 * ones have present = 0 and are drawn as '?').
 *
 * Metrics. advance is 16.16 pixels from the font's hmtx advance in font units:
 * round(units * px * 65536 / unitsPerEm); ascent = ceil(hhea.ascender * px /
 * upem), descent = ceil(-hhea.descender * px / upem). A string's width is the
 * sum of its advances rounded up to whole pixels; its height ascent +
 * descent. The pen starts at x and each glyph is placed at the pen rounded
 * down, so drawing covers exactly what measuring says. */
#ifndef QCAM_DISPLAY_FONT_H
#define QCAM_DISPLAY_FONT_H

#include <stddef.h>
#include <stdint.h>

#define QCAM_FONT_MAGIC 0x544e4651u /* "QFNT" */
#define QCAM_FONT_SIZES 12, 14, 16, 20, 24, 32, 40, 48
#define QCAM_FONT_FIRST 32
#define QCAM_FONT_COUNT 224 /* U+0020 ... U+00FF */

typedef struct {
    uint32_t magic, n_sizes;
} qcam_font_header;

typedef struct {
    uint16_t px, ascent, descent, pad;
    uint32_t first, count;
    uint32_t glyphs; /* offset of the glyph table */
} qcam_font_size;

typedef struct {
    uint8_t present, pad;
    int16_t left, top; /* bitmap origin from the pen: x right, y up from the baseline */
    uint16_t width, rows;
    uint32_t advance; /* 16.16 pixels */
    uint32_t bitmap;  /* offset of width*rows coverage bytes */
} qcam_font_glyph;

typedef struct {
    int width, height, ascent, descent;
} qcam_text_metrics;

/* The embedded atlas's record for `px` (one of QCAM_FONT_SIZES), or NULL. */
const qcam_font_size *qcam_font_find(int px);
/* The glyph of code point `cp` ('?' for one the atlas lacks). */
const qcam_font_glyph *qcam_font_glyph_of(const qcam_font_size *fs, uint32_t cp);
const uint8_t *qcam_font_bitmap(const qcam_font_glyph *g);
/* Next code point of UTF-8 text (U+FFFD for a malformed byte). */
uint32_t qcam_utf8_next(const char **s, const char *end);
void qcam_font_measure(const qcam_font_size *fs, const char *text, size_t len, qcam_text_metrics *m);

#endif
