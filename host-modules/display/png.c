/* PNG writer (png.h). */
#include "png.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc(uint32_t c, const uint8_t *p, size_t n)
{
    c = ~c;
    while (n--) c = crc_table[(c ^ *p++) & 255] ^ (c >> 8);
    return ~c;
}

static uint8_t *be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* chunk at p: length, type, data (already in place after 8 bytes), crc */
static uint8_t *chunk(uint8_t *p, const char *type, size_t n)
{
    be32(p, (uint32_t)n);
    memcpy(p + 4, type, 4);
    be32(p + 8 + n, crc(0, p + 4, n + 4));
    return p + 12 + n;
}

int qcam_png_rgba(const uint8_t *rgba, int w, int h, uint8_t **out, size_t *len)
{
    static int ready;
    if (!ready) { /* idempotent: racing threads compute the same table */
        crc_init();
        ready = 1;
    }
    size_t row = (size_t)w * 4 + 1, raw = row * (size_t)h;
    size_t blocks = raw / 65535 + 1;
    size_t zlen = 2 + raw + blocks * 5 + 4;
    size_t total = 8 + (12 + 13) + (12 + zlen) + 12;
    uint8_t *buf = malloc(total), *p = buf;
    if (!buf) return -ENOMEM;
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    p += 8;
    uint8_t *d = p + 8;
    d = be32(d, (uint32_t)w);
    d = be32(d, (uint32_t)h);
    memcpy(d, "\x08\x06\x00\x00\x00", 5); /* 8-bit RGBA, no interlace */
    p = chunk(p, "IHDR", 13);
    d = p + 8;
    *d++ = 0x78;
    *d++ = 0x01;
    uint32_t a = 1, b = 0;
    size_t done = 0, y = 0, x = 0; /* position in the filtered stream */
    while (done < raw) {
        size_t n = raw - done > 65535 ? 65535 : raw - done;
        *d++ = done + n == raw ? 1 : 0;
        *d++ = (uint8_t)n;
        *d++ = (uint8_t)(n >> 8);
        *d++ = (uint8_t)~n;
        *d++ = (uint8_t)(~n >> 8);
        for (size_t i = 0; i < n; i++) {
            uint8_t v = x == 0 ? 0 : rgba[y * (size_t)w * 4 + x - 1];
            *d++ = v;
            a = (a + v) % 65521;
            b = (b + a) % 65521;
            if (++x == row) {
                x = 0;
                y++;
            }
        }
        done += n;
    }
    d = be32(d, b << 16 | a);
    p = chunk(p, "IDAT", (size_t)(d - (p + 8)));
    p = chunk(p, "IEND", 0);
    *out = buf;
    *len = (size_t)(p - buf);
    return 0;
}
