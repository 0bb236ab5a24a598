/* G.711 (ITU-T Recommendation G.711): A-law and mu-law, 8 bits per sample.
 *
 * Decoding is the Recommendation's tables: a code is a sign bit, a 3-bit
 * segment and a 4-bit step; the output is the middle of the step's interval,
 * scaled to 16 bits (A-law: 13-bit values << 3, peak 32256; mu-law: 14-bit
 * values << 2, peak 32124). A-law codes are sent with the even bits inverted
 * (XOR 0x55), mu-law codes with every bit inverted.
 *
 * Encoding picks, for each input, the code whose output is nearest: the input
 * is first taken to 14 bits (floor(x / 4)), and a code's range ends halfway
 * (rounded) between its output and the next code's. That is the quantiser
 * the common software codecs use (so our bytes equal theirs, checked against
 * ffmpeg for all 65536 inputs), and it keeps encode(decode(encode(x))) =
 * encode(x) for every x: every output level encodes to its own code. */
#include <errno.h>
#include <pthread.h>

#include "audio.h"

/* Magnitude (16-bit scale) of A-law / mu-law level i = 0..127 of the positive half. */
static int alaw_level(unsigned i)
{
    unsigned seg = i >> 4, step = i & 15;
    if (seg == 0) return (int)(step << 4) + 8;
    return (int)(((step << 4) + 0x108) << (seg - 1));
}

static int ulaw_level(unsigned i)
{
    unsigned seg = i >> 4, step = i & 15;
    return (int)((((step << 3) + 0x84) << seg) - 0x84);
}

/* Codes of level i: positive and negative. */
static uint8_t alaw_code(unsigned i, bool negative) { return (uint8_t)((negative ? i : (i | 0x80)) ^ 0x55); }
static uint8_t ulaw_code(unsigned i, bool negative) { return (uint8_t)((negative ? (i | 0x80) : i) ^ 0xff); }

int16_t qcam_g711_alaw_decode(uint8_t code)
{
    unsigned c = code ^ 0x55u;
    int m = alaw_level(c & 0x7f);
    return (int16_t)((c & 0x80) ? m : -m);
}

int16_t qcam_g711_ulaw_decode(uint8_t code)
{
    unsigned c = code ^ 0xffu;
    int m = ulaw_level(c & 0x7f);
    return (int16_t)((c & 0x80) ? -m : m);
}

/* level_of[law][m]: the level for a 14-bit magnitude m = 0..8192. */
static uint8_t level_of[2][8193];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (int law = 0; law < 2; law++) {
        int (*level)(unsigned) = law == QCAM_G711_ALAW ? alaw_level : ulaw_level;
        unsigned i = 0;
        int bound = (level(0) + level(1) + 4) >> 3; /* first magnitude of level 1 */
        for (int m = 0; m <= 8192; m++) {
            while (i < 127 && m >= bound) {
                i++;
                bound = i < 127 ? (level(i) + level(i + 1) + 4) >> 3 : 1 << 30;
            }
            level_of[law][m] = (uint8_t)i;
        }
    }
}

static uint8_t encode_one(qcam_g711_law law, int16_t pcm)
{
    int d = pcm >> 2; /* floor: -8192..8191 */
    bool negative = d < 0;
    unsigned i = level_of[law][negative ? -d : d];
    return law == QCAM_G711_ALAW ? alaw_code(i, negative) : ulaw_code(i, negative);
}

uint8_t qcam_g711_alaw_encode(int16_t pcm)
{
    pthread_once(&tables_once, build_tables);
    return encode_one(QCAM_G711_ALAW, pcm);
}

uint8_t qcam_g711_ulaw_encode(int16_t pcm)
{
    pthread_once(&tables_once, build_tables);
    return encode_one(QCAM_G711_ULAW, pcm);
}

void qcam_g711_encode(qcam_g711_law law, const int16_t *pcm, size_t n, uint8_t *out)
{
    pthread_once(&tables_once, build_tables);
    for (size_t k = 0; k < n; k++) out[k] = encode_one(law, pcm[k]);
}

void qcam_g711_decode(qcam_g711_law law, const uint8_t *in, size_t n, int16_t *pcm)
{
    for (size_t k = 0; k < n; k++)
        pcm[k] = law == QCAM_G711_ALAW ? qcam_g711_alaw_decode(in[k]) : qcam_g711_ulaw_decode(in[k]);
}

int qcam_g711_encode_picture(qcam_g711_law law, const qcam_picture *pic, uint32_t sample_rate,
                             qcam_packet **out)
{
    *out = NULL;
    if (pic->format != QCAM_FMT_S16 || pic->width <= 0 || pic->height <= 0) return -EINVAL;
    size_t n = (size_t)pic->width * (size_t)pic->height;
    if (pic->size < n * sizeof(int16_t)) return -EINVAL;
    qcam_packet *pkt = qcam_packet_new(n);
    if (!pkt) return -ENOMEM;
    qcam_g711_encode(law, (const int16_t *)(const void *)pic->data, n, pkt->data);
    pkt->codec = law == QCAM_G711_ALAW ? QCAM_CODEC_ALAW : QCAM_CODEC_ULAW;
    pkt->type = QCAM_PKT_AUDIO;
    pkt->keyframe = true;
    pkt->pts_us = pkt->dts_us = pic->pts_us;
    pkt->sample_rate = sample_rate;
    pkt->samples = (uint32_t)pic->width;
    *out = pkt;
    return 0;
}
