/* A bounds-checked WAV (RIFF/WAVE) header reader. The file is untrusted:
 * every size is checked against the file's size before it is used, chunk
 * walking always moves forward, and nothing is read that was not asked for
 * through the caller's reader. Fuzzed by fuzz_wav.c.
 *
 * Layout (little-endian): "RIFF" size "WAVE", then chunks of
 * id(4) size(4) payload, each padded to an even length. "fmt " holds
 * format tag(2) channels(2) rate(4) byte rate(4) block align(2) bits(2)
 * [cbSize(2) valid bits(2) channel mask(4) sub-format GUID(16)]; "data"
 * holds the samples, interleaved. Other chunks (LIST, fact, ...) are skipped. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audio.h"

enum { FMT_PCM = 1, FMT_FLOAT = 3, FMT_ALAW = 6, FMT_ULAW = 7, FMT_EXTENSIBLE = 0xfffe };

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int fail(char *err, size_t n, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t n, int code, const char *fmt, ...)
{
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Exactly n bytes at off, or an error. */
static int read_exact(qcam_wav_read_fn *read, void *ctx, uint64_t off, void *buf, size_t n)
{
    int64_t r = read(ctx, off, buf, n);
    if (r < 0) return (int)r;
    return (size_t)r == n ? 0 : -EILSEQ;
}

static const char *format_name(unsigned tag)
{
    switch (tag) {
    case FMT_FLOAT: return "32-bit float";
    case FMT_ALAW: return "A-law";
    case FMT_ULAW: return "mu-law";
    case 2: return "ADPCM";
    case 0x11: return "IMA ADPCM";
    case 0x55: return "MP3";
    default: return NULL;
    }
}

int qcam_wav_parse(qcam_wav_read_fn *read, void *ctx, uint64_t file_size, qcam_wav_info *out,
                   char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (err && err_len) err[0] = 0;
    uint8_t h[12];
    if (file_size < 12) return fail(err, err_len, -EILSEQ, "not a WAV file (%llu bytes)", (unsigned long long)file_size);
    int r = read_exact(read, ctx, 0, h, 12);
    if (r < 0) return r == -EILSEQ ? fail(err, err_len, r, "not a WAV file (short read)") : r;
    if (memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
        return fail(err, err_len, -EILSEQ, "not a WAV file (no RIFF/WAVE header)");
    /* The RIFF size is often wrong (a recording cut short, a streamed file
     * that never went back to fill it in): the file's own size rules. */
    uint64_t end = file_size;
    bool have_fmt = false;
    uint64_t off = 12;
    while (off + 8 <= end) {
        uint8_t ch[8];
        r = read_exact(read, ctx, off, ch, 8);
        if (r < 0) return r == -EILSEQ ? fail(err, err_len, r, "chunk header at %llu: short read", (unsigned long long)off) : r;
        uint64_t size = le32(ch + 4), body = off + 8;
        if (memcmp(ch, "fmt ", 4) == 0) {
            if (have_fmt) return fail(err, err_len, -EILSEQ, "two fmt chunks");
            if (size < 16 || size > 1024 || body + size > end)
                return fail(err, err_len, -EILSEQ, "bad fmt chunk (%llu bytes)", (unsigned long long)size);
            uint8_t f[40] = {0};
            r = read_exact(read, ctx, body, f, size < sizeof f ? (size_t)size : sizeof f);
            if (r < 0) return r == -EILSEQ ? fail(err, err_len, r, "fmt chunk: short read") : r;
            unsigned tag = le16(f);
            out->channels = le16(f + 2);
            out->sample_rate = le32(f + 4);
            unsigned align = le16(f + 12);
            out->bits = le16(f + 14);
            if (tag == FMT_EXTENSIBLE) {
                /* The sub-format GUID starts with the format tag it stands for. */
                if (size < 40) return fail(err, err_len, -EILSEQ, "WAVE_FORMAT_EXTENSIBLE fmt chunk too short (%llu bytes)", (unsigned long long)size);
                tag = le16(f + 24);
                if (tag == FMT_PCM && le16(f + 18) != out->bits)
                    return fail(err, err_len, -ENOTSUP, "%u valid bits in %u-bit samples: only 16-bit PCM is supported",
                                (unsigned)le16(f + 18), (unsigned)out->bits);
            }
            if (tag != FMT_PCM) {
                const char *name = format_name(tag);
                if (name) return fail(err, err_len, -ENOTSUP, "%s WAV: only 16-bit PCM is supported", name);
                return fail(err, err_len, -ENOTSUP, "WAV format tag 0x%04x: only 16-bit PCM is supported", tag);
            }
            if (out->bits != 16)
                return fail(err, err_len, -ENOTSUP, "%u-bit WAV: only 16-bit PCM is supported", (unsigned)out->bits);
            if (out->channels < 1 || out->channels > 2)
                return fail(err, err_len, -ENOTSUP, "%u channels: only mono and stereo WAV files are supported", (unsigned)out->channels);
            if (out->sample_rate < 1000 || out->sample_rate > 192000)
                return fail(err, err_len, -EILSEQ, "bad sample rate %u", (unsigned)out->sample_rate);
            if (align != out->channels * 2u)
                return fail(err, err_len, -EILSEQ, "block align %u for %u 16-bit channels", align, (unsigned)out->channels);
            have_fmt = true;
        } else if (memcmp(ch, "data", 4) == 0) {
            if (!have_fmt) return fail(err, err_len, -EILSEQ, "data chunk before the fmt chunk");
            uint64_t avail = end - body;
            if (size > avail) size = avail; /* cut short: play what is there */
            out->data_offset = body;
            out->frames = size / (out->channels * 2u);
            return 0;
        }
        /* Skip it (chunks are padded to an even size). */
        uint64_t next = body + size + (size & 1);
        if (next <= off) break;
        off = next;
    }
    if (!have_fmt) return fail(err, err_len, -EILSEQ, "no fmt chunk");
    return fail(err, err_len, -EILSEQ, "no data chunk");
}

void qcam_wav_s16le_to_native(const uint8_t *in, size_t n, int16_t *out)
{
    for (size_t i = 0; i < n; i++) out[i] = (int16_t)le16(in + 2 * i);
}
