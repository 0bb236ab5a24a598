/* libFuzzer target for what qcam:publish's RtspPublisher reads from an RTSP
 * server: replies and interleaved '$' frames on one connection, the way its
 * I/O thread reads them (rtsp_push.c rtsp_input: bytes fed in pieces whose
 * sizes come from the input's first byte), the WWW-Authenticate challenges
 * in those replies and the Authorization answers made from them; also the
 * push URL parser on the input as a string. Built and run by
 * test/integration/publish-fuzz.test.ts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../rtsp/rtsp_proto.h"
#include "rtsp_push_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void challenge(const char *value)
{
    qcam_rtsp_challenge c;
    if (qcam_rtsp_parse_challenge(value, &c) != 0) return;
    if (c.digest && !c.nonce[0]) abort(); /* Digest without a nonce is refused */
    char out[1200];
    int n = qcam_rtsp_authorization(out, sizeof out, &c, "user", "pass", "ANNOUNCE", "rtsp://h/p", 1, "0123abcd");
    if (n >= 0 && ((size_t)n >= sizeof out || strlen(out) != (size_t)n || strncmp(out, "Authorization: ", 15))) abort();
    char small[40];
    if (qcam_rtsp_authorization(small, sizeof small, &c, "user", "pass", "RECORD", "rtsp://h/p", 2, "0123abcd") >= (int)sizeof small)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t piece = 1 + data[0] % 64;
    data++;
    size--;

    char url[1400];
    size_t ul = size < sizeof url - 1 ? size : sizeof url - 1;
    memcpy(url, data, ul);
    url[ul] = 0;
    qcam_rtsp_push_url u;
    if (qcam_rtsp_push_parse_url(url, &u) == 0) {
        /* a host, a port, and the masked URL shows no password */
        if (!u.host[0] || u.port < 1 || u.port > 65535) abort();
        if (u.pass[0] && !strstr(u.masked, ":***@")) abort();
        if (strncmp(u.masked, "rtsp://", 7) || strncmp(u.uri, "rtsp://", 7)) abort();
    }
    challenge(url);

    /* the connection: as much as has arrived, consumed message by message */
    uint8_t buf[QCAM_RTSP_MAX_RESPONSE * 2];
    size_t have = 0, fed = 0;
    while (fed < size || have) {
        size_t n = size - fed < piece ? size - fed : piece;
        if (n > sizeof buf - have) n = sizeof buf - have;
        memcpy(buf + have, data + fed, n);
        have += n;
        fed += n;
        size_t off = 0;
        int bad = 0;
        while (off < have) {
            uint8_t ch;
            const uint8_t *pl;
            size_t pl_len, used;
            int k = qcam_rtsp_next_interleaved(buf + off, have - off, &ch, &pl, &pl_len, &used);
            if (k == 0) break;
            if (k == 1) {
                if (used > have - off || pl + pl_len > buf + have) abort();
                off += used;
                continue;
            }
            qcam_rtsp_push_reply r;
            int m = qcam_rtsp_push_parse_reply(buf + off, have - off, &r);
            if (m < 0) {
                bad = 1;
                break;
            }
            if (m == 0) break;
            if ((size_t)m > have - off || r.code < 100 || r.code > 999) abort();
            for (int i = 0; i < 2; i++)
                if (r.auth[i][0]) challenge(r.auth[i]);
            off += (size_t)m;
        }
        if (bad) break; /* the publisher drops the connection */
        memmove(buf, buf + off, have - off);
        have -= off;
        if (have == sizeof buf) break; /* "a message larger than the read buffer" */
        if (fed == size && n == 0) break;
    }
    return 0;
}
