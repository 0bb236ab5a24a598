/* The dev link's frame codec (docs/dev-link.md): COBS-framed, CRC-32-checked
 * frames with a channel, flags, a sequence number and a length.
 *
 * The model. Everything on the serial line is a sequence of spans separated
 * by 0x00. A sender writes 00 COBS(header | payload | crc32) 00 per frame, so
 * no byte inside a frame is ever zero. A receiver collects one span at a time
 * and decodes it: a valid frame, or junk with the reason it is not one. Junk
 * is what the board prints outside the link (kept readable: the bytes come
 * with the report) or garbage on the line; either way the next 00 starts
 * afresh, so one bad byte costs at most the frame it falls in.
 *
 * Pure code over memory: no I/O, no threads, no allocation; the decoder is a
 * plain struct the caller owns (about 8.3 KiB). Every input byte sequence is
 * safe to feed (fuzzed: runtime/devlink/fuzz_devlink.c). The same rules, the
 * same table of frames (test/fixtures/devlink/frames.json), drive the host's
 * TypeScript codec (build/devlink/codec.ts).
 *
 * Threads: a decoder belongs to one thread; encode is reentrant. */
#ifndef QCAM_DEVLINK_PROTO_H
#define QCAM_DEVLINK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QCAM_DL_VERSION 1
#define QCAM_DL_HEADER 7          /* version, channel, flags, seq u16, length u16 */
#define QCAM_DL_CRC 4
#define QCAM_DL_MAX_PAYLOAD 4096
#define QCAM_DL_MAX_RAW (QCAM_DL_HEADER + QCAM_DL_MAX_PAYLOAD + QCAM_DL_CRC) /* 4107 */
/* The longest span a valid frame can be: COBS adds one byte per 254, plus one. */
#define QCAM_DL_MAX_SPAN (QCAM_DL_MAX_RAW + QCAM_DL_MAX_RAW / 254 + 1) /* 4124 */
/* Bytes one encoded frame takes on the wire at most, both delimiters included. */
#define QCAM_DL_MAX_WIRE (QCAM_DL_MAX_SPAN + 2)

enum { QCAM_DL_CH_CONTROL = 0, QCAM_DL_CH_PUSH = 1, QCAM_DL_CH_CONSOLE = 2, QCAM_DL_CH_REPL = 3, QCAM_DL_CH_FILES = 4 };
enum { QCAM_DL_FLAG_REPLY = 0x01 };

typedef struct {
    uint8_t version; /* QCAM_DL_VERSION when encoding */
    uint8_t channel;
    uint8_t flags;
    uint16_t seq;
    uint16_t len;           /* payload bytes, <= QCAM_DL_MAX_PAYLOAD */
    const uint8_t *payload; /* decoded frames: points into the decoder */
} qcam_dl_frame;

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32): pass 0 to start, the last
 * result to continue. */
uint32_t qcam_dl_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Encode f (f->version is written as given) as 00 COBS(...) 00 into out.
 * Returns the bytes written, or 0 when f->len > QCAM_DL_MAX_PAYLOAD or cap
 * is too small (QCAM_DL_MAX_WIRE always suffices). */
size_t qcam_dl_encode(const qcam_dl_frame *f, uint8_t *out, size_t cap);

/* Why a span is junk. */
typedef enum {
    QCAM_DL_JUNK_TOOLONG = 1, /* longer than QCAM_DL_MAX_SPAN */
    QCAM_DL_JUNK_COBS,        /* a COBS code byte points past the span */
    QCAM_DL_JUNK_SHORT,       /* decodes to fewer than header + CRC bytes */
    QCAM_DL_JUNK_CRC,
    QCAM_DL_JUNK_VERSION,     /* CRC good, version not QCAM_DL_VERSION */
    QCAM_DL_JUNK_LENGTH,      /* CRC good, length field != payload bytes */
} qcam_dl_junk;

const char *qcam_dl_junk_name(qcam_dl_junk why); /* "toolong", "cobs", ... */

typedef enum { QCAM_DL_NONE = 0, QCAM_DL_FRAME = 1, QCAM_DL_JUNK = 2 } qcam_dl_event_kind;

typedef struct {
    qcam_dl_event_kind kind;
    qcam_dl_frame frame;  /* QCAM_DL_FRAME */
    qcam_dl_junk why;     /* QCAM_DL_JUNK */
    size_t junk_len;      /* the span's length in bytes (delimiter not counted) */
    const uint8_t *junk;  /* its first min(junk_len, QCAM_DL_MAX_SPAN) bytes */
} qcam_dl_event;

typedef struct {
    size_t n;          /* bytes of the current span held in span[] */
    size_t total;      /* bytes of the current span seen (> n once too long) */
    uint8_t span[QCAM_DL_MAX_SPAN];
    uint8_t raw[QCAM_DL_MAX_RAW];
} qcam_dl_decoder;

void qcam_dl_decoder_init(qcam_dl_decoder *d);

/* Feed bytes. Consumes in[0..*used) and stops after the first event:
 * returns QCAM_DL_FRAME or QCAM_DL_JUNK with *ev filled (its pointers stay
 * valid until the next call), or QCAM_DL_NONE when all n bytes were taken
 * without completing a span. Call again with the rest. Empty spans (two 00 in
 * a row) are no event. */
qcam_dl_event_kind qcam_dl_decode(qcam_dl_decoder *d, const uint8_t *in, size_t n, size_t *used,
                                  qcam_dl_event *ev);

/* A pushed image sent as a delta against an image the board holds
 * (docs/dev-link.md, section 3.2): a sequence of ops,
 *   01 off u32 len u32   copy base[off, off + len)
 *   02 len u32 bytes     these len bytes
 * that must build exactly out_len bytes. Returns 0, or -1 for any op that
 * is cut short, unknown, reads outside base or writes past out_len, or a
 * result of another length. Pure; fuzzed (fuzz_devlink.c). */
int qcam_dl_apply_delta(const uint8_t *base, size_t base_len, const uint8_t *delta, size_t delta_len,
                        uint8_t *out, size_t out_len);

/* Little-endian helpers for message bodies. */
static inline void qcam_dl_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void qcam_dl_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t qcam_dl_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t qcam_dl_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
