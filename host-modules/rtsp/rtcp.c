/* RTCP sender reports (RFC 3550 6.4.1) with a source description (6.5),
 * sent as one compound packet (6.1): SR first, then SDES with a CNAME. */
#include <string.h>

#include "rtsp_proto.h"

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int qcam_rtcp_sender_report(uint8_t *out, size_t cap, const qcam_rtp_stream *s, uint64_t ntp,
                            uint32_t rtp_ts, const char *cname)
{
    size_t cn = cname ? strlen(cname) : 0;
    if (cn > 255) return -1;
    /* SDES chunk: SSRC, CNAME item (type, length, text), END item, zero
     * padding to the next 32-bit boundary. */
    size_t chunk = (4 + 2 + cn + 1 + 3) & ~(size_t)3;
    size_t total = 28 + 4 + chunk;
    if (cap < total) return -1;

    uint8_t *p = out;
    p[0] = 0x80; /* V=2, P=0, RC=0 */
    p[1] = 200;  /* SR */
    be16(p + 2, 28 / 4 - 1);
    be32(p + 4, s->ssrc);
    be32(p + 8, (uint32_t)(ntp >> 32));
    be32(p + 12, (uint32_t)ntp);
    be32(p + 16, rtp_ts);
    be32(p + 20, (uint32_t)s->packets); /* the counts wrap (RFC 3550 6.4.1) */
    be32(p + 24, (uint32_t)s->octets);

    p += 28;
    p[0] = 0x81; /* V=2, P=0, SC=1 */
    p[1] = 202;  /* SDES */
    be16(p + 2, (uint32_t)((4 + chunk) / 4 - 1));
    be32(p + 4, s->ssrc);
    p[8] = 1; /* CNAME */
    p[9] = (uint8_t)cn;
    if (cn) memcpy(p + 10, cname, cn);
    memset(p + 10 + cn, 0, chunk - 6 - cn); /* END item and padding */
    return (int)total;
}
