/* The network part of the URLs qcam's clients take (mqtt://, rtmp://):
 * [user[:pass]@]host[:port], host a name or a [v6] address. Pure functions,
 * no allocation; fuzzed with the parsers that use them (fuzz_mqtt.c,
 * fuzz_rtmp.c). rtsp:// URLs have their own parser (../rtsp/rtsp_proto.h:
 * %-decoded credentials). */
#ifndef QCAM_NETURL_H
#define QCAM_NETURL_H

#include <stdbool.h>
#include <stddef.h>

/* The authority a[0..end): user and pass as written ("" when absent;
 * *has_pass when a ':' gave one, may be NULL), the host without brackets,
 * letters, digits and . - _ : % only, and the port (*port untouched when
 * none is given). 0, or -EINVAL (an empty user or host, a bad port 1..65535,
 * something too long for its buffer). */
int qcam_url_authority(const char *a, const char *end, char *user, size_t user_cap, char *pass, size_t pass_cap,
                       bool *has_pass, char *host, size_t host_cap, int *port);

/* "host", "[v6]", then ":port" unless it is default_port. */
void qcam_url_hostport(char *out, size_t cap, const char *host, int port, int default_port);

#endif
