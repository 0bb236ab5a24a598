/* qcam:publish's RTMP layer: what a publisher says to a media server and
 * reads back, as pure functions over memory — no I/O, no threads, no engine.
 *
 *   URL        rtmp://[user:pass@]host[:port]/app[/inst...]/stream[?query]
 *   handshake  C0+C1 out, S0+S1+S2 in, C2 out (the plain handshake, version 3)
 *   chunks     messages cut into chunks (fmt 0 then fmt 3) for the peer's
 *              chunk size; the server's chunks reassembled into messages
 *              (fmt 0..3, extended timestamps, its Set Chunk Size)
 *   AMF0       the commands (connect, releaseStream, FCPublish, createStream,
 *              publish, deleteStream, @setDataFrame) and a bounded reader for
 *              the server's answers (_result, _error, onStatus)
 *   FLV tags   video: H.264 (codec 7, AVC sequence header + NALUs, 4-byte
 *              lengths), H.265 by Enhanced RTMP (FourCC "hvc1", SequenceStart +
 *              CodedFramesX); audio: G.711 A-law / mu-law (sound formats 7 / 8,
 *              8 kHz mono)
 *
 * Everything that reads the server's bytes (the handshake check, the chunk
 * reader, the AMF0 reader) is bounds-checked and fuzzed beside this file
 * (fuzz_rtmp.c). Writers append to a growable buffer and never fail other
 * than by running out of memory (the buffer's `oom`).
 *
 * Spec: Adobe RTMP 1.0 (2012), AMF0 (2007), FLV 10.1 (annex E), Enhanced
 * RTMP v1 (Veovera, 2023). */
#ifndef QCAM_RTMP_PROTO_H
#define QCAM_RTMP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../media/media.h"

/* ---- a growable byte buffer ------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} qcam_rtmp_buf;

void qcam_rtmp_buf_free(qcam_rtmp_buf *b);
bool qcam_rtmp_buf_reserve(qcam_rtmp_buf *b, size_t n);
void qcam_rtmp_put(qcam_rtmp_buf *b, const void *p, size_t n);
void qcam_rtmp_put8(qcam_rtmp_buf *b, uint8_t v);
void qcam_rtmp_put16(qcam_rtmp_buf *b, uint16_t v); /* big-endian */
void qcam_rtmp_put24(qcam_rtmp_buf *b, uint32_t v);
void qcam_rtmp_put32(qcam_rtmp_buf *b, uint32_t v);

/* ---- URL --------------------------------------------------------------------- */

#define QCAM_RTMP_DEFAULT_PORT 1935

typedef struct {
    char host[256];
    int port;
    char app[256];     /* everything between the host and the last '/' (e.g. "live", "live/inst") */
    char stream[512];  /* after the last '/', with the query and the credentials as query parameters */
    char tc_url[600];  /* rtmp://host[:port]/app */
    char masked[900];  /* the URL for logs and stats: password and query values replaced by "***" */
    bool has_secret;   /* a password or a query value was given */
} qcam_rtmp_url;

/* Parse `url`. A `user:pass@` part becomes query parameters `user` and
 * `pass` of the stream name (what nginx-rtmp's on_publish and mediamtx read),
 * after any query the URL had. 0, or -EINVAL (not rtmp://, no host, no app or
 * stream name, bad port, too long), -ENOTSUP (rtmps://). */
int qcam_rtmp_parse_url(const char *url, qcam_rtmp_url *out);

/* ---- handshake ----------------------------------------------------------------- */

#define QCAM_RTMP_HANDSHAKE 1536 /* C1 / S1 / C2 / S2 */

/* C0 (version 3) + C1 (time, four zero bytes, then `random`'s bytes): 1537 bytes. */
void qcam_rtmp_c0c1(uint8_t out[1 + QCAM_RTMP_HANDSHAKE], uint32_t time_ms, const uint8_t *random,
                    size_t random_len);
/* Check S0+S1 (1537 bytes) and make C2 (S1 echoed, its second time field set
 * to time_ms). 0, or -EPROTO when S0 is not version 3. */
int qcam_rtmp_c2(const uint8_t s0s1[1 + QCAM_RTMP_HANDSHAKE], uint32_t time_ms, uint8_t c2[QCAM_RTMP_HANDSHAKE]);

/* ---- messages and chunks -------------------------------------------------------- */

enum {
    QCAM_RTMP_SET_CHUNK_SIZE = 1,
    QCAM_RTMP_ABORT = 2,
    QCAM_RTMP_ACK = 3,
    QCAM_RTMP_USER_CONTROL = 4,
    QCAM_RTMP_WINDOW_ACK = 5,
    QCAM_RTMP_PEER_BANDWIDTH = 6,
    QCAM_RTMP_AUDIO = 8,
    QCAM_RTMP_VIDEO = 9,
    QCAM_RTMP_DATA_AMF0 = 18,
    QCAM_RTMP_COMMAND_AMF0 = 20,
};
/* Chunk stream ids the publisher uses. */
enum { QCAM_RTMP_CS_CONTROL = 2, QCAM_RTMP_CS_COMMAND = 3, QCAM_RTMP_CS_AUDIO = 4, QCAM_RTMP_CS_DATA = 5, QCAM_RTMP_CS_VIDEO = 6 };

#define QCAM_RTMP_MAX_CHUNK 65536      /* chunk sizes we send and accept: 1..this */
#define QCAM_RTMP_MAX_MESSAGE (1u << 20) /* a server message longer than this is refused */

/* Append one message as chunks of `chunk_size` (a fmt 0 chunk, then fmt 3
 * chunks; the extended timestamp field when timestamp >= 0xFFFFFF, repeated
 * in each fmt 3 chunk). csid 2..63. */
void qcam_rtmp_chunk_message(qcam_rtmp_buf *b, unsigned csid, uint8_t type, uint32_t stream_id,
                             uint32_t timestamp, const uint8_t *payload, size_t len, size_t chunk_size);
/* The size of what qcam_rtmp_chunk_message appends. */
size_t qcam_rtmp_chunked_size(size_t len, size_t chunk_size, uint32_t timestamp);

/* Protocol control messages (chunk stream 2, message stream 0). */
void qcam_rtmp_set_chunk_size(qcam_rtmp_buf *b, uint32_t size);
void qcam_rtmp_window_ack(qcam_rtmp_buf *b, uint32_t size);
void qcam_rtmp_ack(qcam_rtmp_buf *b, uint32_t received);
/* User control: PingResponse (type 7) echoing the server's timestamp. */
void qcam_rtmp_pong(qcam_rtmp_buf *b, uint32_t ping_time);

/* A complete message from the server. */
typedef struct {
    uint8_t type;
    uint32_t stream_id, timestamp;
    const uint8_t *payload; /* valid until the next qcam_rtmp_reader_feed */
    size_t len;
} qcam_rtmp_message;

#define QCAM_RTMP_READER_STREAMS 8 /* chunk streams the reader follows at once */

typedef struct {
    uint32_t csid;
    uint32_t timestamp, delta, length, stream_id;
    uint8_t type;
    bool ext;       /* the last header had an extended timestamp */
    uint8_t *data;  /* the message being reassembled (malloc'd, grown as its bytes come up to its length) */
    size_t have;    /* bytes of it so far */
    size_t cap;     /* bytes allocated at data */
    bool used;
} qcam_rtmp_cstream;

typedef struct {
    size_t chunk_size; /* the server's (Set Chunk Size), 128 at first */
    qcam_rtmp_cstream cs[QCAM_RTMP_READER_STREAMS];
    uint8_t *ready;    /* the message handed out last (freed on the next feed) */
    uint64_t bytes;    /* consumed so far (for acknowledgements) */
} qcam_rtmp_reader;

void qcam_rtmp_reader_init(qcam_rtmp_reader *r);
void qcam_rtmp_reader_free(qcam_rtmp_reader *r);
/* Take the next chunk from buf[0..len):
 *   > 0: bytes consumed; *msg_out set to 1 when a message completed (*msg
 *        filled, payload valid until the next call), else 0. A Set Chunk Size
 *        or Abort is applied here and handed out as well.
 *     0: the chunk is not all there: read more.
 *   < 0: -EPROTO (a header that refers to a stream with no earlier header, a
 *        message longer than QCAM_RTMP_MAX_MESSAGE, a chunk size out of range,
 *        more chunk streams than the reader follows), -ENOMEM. The
 *        connection is unusable after that. */
int qcam_rtmp_reader_feed(qcam_rtmp_reader *r, const uint8_t *buf, size_t len, qcam_rtmp_message *msg,
                          int *msg_out);

/* ---- AMF0 ------------------------------------------------------------------------ */

enum {
    QCAM_AMF_NUMBER = 0, QCAM_AMF_BOOLEAN = 1, QCAM_AMF_STRING = 2, QCAM_AMF_OBJECT = 3,
    QCAM_AMF_NULL = 5, QCAM_AMF_UNDEFINED = 6, QCAM_AMF_ECMA_ARRAY = 8, QCAM_AMF_OBJECT_END = 9,
    QCAM_AMF_STRICT_ARRAY = 10, QCAM_AMF_DATE = 11, QCAM_AMF_LONG_STRING = 12,
};

void qcam_amf_number(qcam_rtmp_buf *b, double v);
void qcam_amf_bool(qcam_rtmp_buf *b, bool v);
void qcam_amf_string(qcam_rtmp_buf *b, const char *s); /* strings over 65535 bytes are cut */
void qcam_amf_null(qcam_rtmp_buf *b);
void qcam_amf_object_begin(qcam_rtmp_buf *b);
void qcam_amf_ecma_begin(qcam_rtmp_buf *b, uint32_t count);
void qcam_amf_key(qcam_rtmp_buf *b, const char *key);
void qcam_amf_object_end(qcam_rtmp_buf *b); /* also ends an ECMA array */

/* A decoded command or status message: the command name, the transaction id,
 * and what the publisher needs from the rest. */
typedef struct {
    char name[64];        /* "_result", "_error", "onStatus", ... ("" when not a string) */
    double txn;           /* NaN when missing */
    bool has_number;      /* a number argument after the command object (createStream's stream id) */
    double number;
    char code[128];       /* the info object's "code" ("NetStream.Publish.Start", ...) */
    char level[32];       /* its "level" ("status", "error") */
    char description[128];
} qcam_rtmp_command;

/* Read an AMF0 command message payload. 0, or -EPROTO (truncated, a marker
 * we do not know, nesting deeper than 16 levels, no name). */
int qcam_rtmp_parse_command(const uint8_t *p, size_t len, qcam_rtmp_command *out);
/* Skip one AMF0 value at p[0..len) (depth levels of nesting allowed); its
 * size, or -1 when malformed or truncated. */
long qcam_amf_skip(const uint8_t *p, size_t len, int depth);

/* ---- the publisher's commands ------------------------------------------------------ */

/* connect(txn 1, {app, type, flashVer, tcUrl, fpad, capabilities, audioCodecs,
 * videoCodecs, videoFunction[, fourCcList: ["hvc1"]]}) as a whole chunked
 * message on chunk stream 3. */
void qcam_rtmp_cmd_connect(qcam_rtmp_buf *b, const qcam_rtmp_url *u, bool hevc, size_t chunk_size);
/* name(txn, null[, stream]) on message stream 0: releaseStream, FCPublish,
 * createStream (stream NULL), FCUnpublish. */
void qcam_rtmp_cmd_simple(qcam_rtmp_buf *b, const char *name, double txn, const char *stream, size_t chunk_size);
/* publish(txn, null, stream, "live") on message stream `msid`. */
void qcam_rtmp_cmd_publish(qcam_rtmp_buf *b, uint32_t msid, double txn, const char *stream, size_t chunk_size);
/* deleteStream(txn, null, msid). */
void qcam_rtmp_cmd_delete_stream(qcam_rtmp_buf *b, uint32_t msid, double txn, size_t chunk_size);

typedef struct {
    qcam_codec video;      /* 0: none */
    int width, height;     /* 0: unknown */
    double fps;            /* 0: unknown */
    qcam_codec audio;      /* 0: none; ALAW / ULAW */
} qcam_rtmp_meta;
/* @setDataFrame("onMetaData", {...}) as a data message on msid. */
void qcam_rtmp_cmd_metadata(qcam_rtmp_buf *b, uint32_t msid, const qcam_rtmp_meta *m, size_t chunk_size);

/* ---- FLV tag bodies ---------------------------------------------------------------- */

/* The video sequence header: H.264 (17 00 000000 + avcC) or H.265 (Enhanced
 * RTMP: 0x90 "hvc1" + hvcC). `config` is the decoder configuration record
 * (video/sps.h qcam_sps_make_config). */
void qcam_flv_video_config(qcam_rtmp_buf *b, qcam_codec codec, const uint8_t *config, size_t len);
/* One access unit (Annex B) as a video tag body: NAL units with 4-byte
 * lengths; access unit delimiters and parameter sets are left out (they
 * travel in the sequence header). Returns the number of NAL units written
 * (0: nothing worth sending, and nothing appended). */
int qcam_flv_video_frame(qcam_rtmp_buf *b, qcam_codec codec, bool keyframe, const uint8_t *au, size_t len);
/* G.711 at 8 kHz mono: one byte header (0x70 A-law, 0x80 mu-law) + samples. */
void qcam_flv_audio(qcam_rtmp_buf *b, qcam_codec codec, const uint8_t *data, size_t len);

#endif
