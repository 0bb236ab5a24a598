/* The session description a DESCRIBE returns (RFC 4566), with the payload
 * formats of RFC 6184 (H.264), RFC 7798 (H.265) and RFC 3551 (PCMA/PCMU),
 * and the base64 of RFC 4648 its parameter sets are written in. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rtsp_proto.h"

int qcam_base64(char *out, size_t cap, const uint8_t *in, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = (len + 2) / 3 * 4;
    if (len > ((size_t)-1) / 2 || need >= cap || need > 2147483647u) return -1;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
        out[o++] = abc[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return (int)o;
}

typedef struct {
    char *out;
    size_t cap, len;
    bool failed;
} sdp_writer;

static void put(sdp_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sdp_writer *w, const char *fmt, ...)
{
    if (w->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->out + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->failed = true;
        return;
    }
    w->len += (size_t)n;
}

/* base64 of a parameter set straight into the description. */
static void put_b64(sdp_writer *w, const uint8_t *p, size_t n)
{
    if (w->failed) return;
    int r = qcam_base64(w->out + w->len, w->cap - w->len, p, n);
    if (r < 0) {
        w->failed = true;
        return;
    }
    w->len += (size_t)r;
}

int qcam_sdp_build(char *out, size_t cap, const qcam_sdp_stream *s, uint64_t session_id,
                   const char *origin_ip)
{
    if (cap == 0) return -1;
    sdp_writer w = {.out = out, .cap = cap, .len = 0, .failed = false};
    out[0] = '\0';
    const char *ip = origin_ip && *origin_ip ? origin_ip : "0.0.0.0";
    const char *family = strchr(ip, ':') ? "IP6" : "IP4";
    if (strpbrk(ip, " \r\n")) return -1;
    put(&w, "v=0\r\n");
    put(&w, "o=- %llu %llu IN %s %s\r\n", (unsigned long long)session_id,
        (unsigned long long)session_id, family, ip);
    put(&w, "s=qcam\r\n");
    put(&w, "c=IN %s %s\r\n", family, ip);
    put(&w, "t=0 0\r\n");
    put(&w, "a=tool:qcam\r\n");
    put(&w, "a=control:*\r\n");

    if (s->codec == QCAM_CODEC_H264) {
        put(&w, "m=video 0 RTP/AVP 96\r\n");
        put(&w, "a=rtpmap:96 H264/90000\r\n");
        put(&w, "a=fmtp:96 packetization-mode=1");
        if (s->sps && s->sps_len >= 4)
            put(&w, ";profile-level-id=%02X%02X%02X", s->sps[1], s->sps[2], s->sps[3]);
        if (s->sps && s->sps_len > 0 && s->pps && s->pps_len > 0) {
            put(&w, ";sprop-parameter-sets=");
            put_b64(&w, s->sps, s->sps_len);
            put(&w, ",");
            put_b64(&w, s->pps, s->pps_len);
        }
        put(&w, "\r\n");
        put(&w, "a=control:track0\r\n");
    } else if (s->codec == QCAM_CODEC_H265) {
        put(&w, "m=video 0 RTP/AVP 96\r\n");
        put(&w, "a=rtpmap:96 H265/90000\r\n");
        const struct {
            const char *name;
            const uint8_t *p;
            size_t n;
        } ps[] = {{"sprop-vps", s->vps, s->vps_len},
                  {"sprop-sps", s->sps, s->sps_len},
                  {"sprop-pps", s->pps, s->pps_len}};
        bool any = false;
        for (size_t i = 0; i < 3; i++) {
            if (!ps[i].p || ps[i].n == 0) continue;
            put(&w, "%s%s=", any ? ";" : "a=fmtp:96 ", ps[i].name);
            put_b64(&w, ps[i].p, ps[i].n);
            any = true;
        }
        if (any) put(&w, "\r\n");
        put(&w, "a=control:track0\r\n");
    } else if (s->codec != 0) {
        return -1;
    }

    if (s->audio == QCAM_SDP_PCMA || s->audio == QCAM_SDP_PCMU) {
        const char *name = s->audio == QCAM_SDP_PCMA ? "PCMA" : "PCMU";
        uint32_t rate = s->audio_rate ? s->audio_rate : 8000;
        int pt = rate == 8000 ? (s->audio == QCAM_SDP_PCMA ? 8 : 0) : 97;
        put(&w, "m=audio 0 RTP/AVP %d\r\n", pt);
        put(&w, "a=rtpmap:%d %s/%u\r\n", pt, name, (unsigned)rate);
        put(&w, "a=control:track1\r\n");
    } else if (s->audio != 0) {
        return -1;
    }
    if (w.failed) {
        out[0] = '\0';
        return -1;
    }
    return (int)w.len;
}
