/* libFuzzer target for what qcam:publish reads from a media server: the
 * handshake's S0, the chunk stream (every header form, Set Chunk Size,
 * Abort, reassembly) and the AMF0 commands in it, the way the publisher's
 * I/O thread does (rtmp_publish.c pump_input): bytes fed in pieces whose
 * sizes come from the input's first byte. Also the URL parser on the input
 * as a string. Built and run by test/integration/publish-fuzz.test.ts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtmp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t piece = 1 + data[0] % 64;
    data++;
    size--;

    char url[1024];
    size_t ul = size < sizeof url - 1 ? size : sizeof url - 1;
    memcpy(url, data, ul);
    url[ul] = 0;
    qcam_rtmp_url u;
    if (qcam_rtmp_parse_url(url, &u) == 0) {
        /* a parsed URL has a host, and the masked one no user:pass@ part */
        const char *auth = u.masked + 7, *end = strchr(auth, '/');
        const char *at = strchr(auth, '@');
        if (!u.host[0] || !end || (at && at < end)) abort();
    }

    if (size >= 1 + QCAM_RTMP_HANDSHAKE) {
        uint8_t c2[QCAM_RTMP_HANDSHAKE];
        if (qcam_rtmp_c2(data, 0, c2) == 0 && c2[100] != data[101]) abort();
    }

    qcam_rtmp_reader r;
    qcam_rtmp_reader_init(&r);
    uint8_t *buf = malloc(size + 1);
    size_t have = 0, pos = 0;
    int rc = 0;
    while (pos < size && rc >= 0) {
        size_t n = size - pos < piece ? size - pos : piece;
        memcpy(buf + have, data + pos, n);
        have += n;
        pos += n;
        size_t off = 0;
        for (;;) {
            qcam_rtmp_message m;
            int got = 0;
            rc = qcam_rtmp_reader_feed(&r, buf + off, have - off, &m, &got);
            if (rc <= 0) break;
            off += (size_t)rc;
            if (off > have) abort();
            if (!got) continue;
            if (m.len > QCAM_RTMP_MAX_MESSAGE) abort();
            if (m.type == QCAM_RTMP_COMMAND_AMF0 || m.type == QCAM_RTMP_DATA_AMF0) {
                qcam_rtmp_command c;
                if (qcam_rtmp_parse_command(m.payload, m.len, &c) == 0 &&
                    (strlen(c.name) >= sizeof c.name || strlen(c.code) >= sizeof c.code))
                    abort();
            }
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    free(buf);
    qcam_rtmp_reader_free(&r);
    return 0;
}
