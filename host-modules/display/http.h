/* The sim page's HTTP/1.1 requests: parsing only, no I/O (sim_page.c does
 * the sockets). Deliberately small: a request line, headers, no bodies. */
#ifndef QCAM_DISPLAY_HTTP_H
#define QCAM_DISPLAY_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define QCAM_HTTP_MAX_HEAD 8192

typedef struct {
    char method[8];
    char path[128];   /* before '?', not decoded */
    char query[256];  /* after '?', may be "" */
    char host[128];   /* the Host header, "" when absent */
    bool close;       /* Connection: close, or HTTP/1.0 without keep-alive */
    long content_length;
} qcam_http_request;

/* Parse the head at the start of buf[0..len). Returns the head's length
 * (through the blank line) when complete, 0 when more bytes are needed, -1
 * for a malformed or oversized request (answer 400 and close). */
int qcam_http_parse(const char *buf, size_t len, qcam_http_request *req);

/* The value of `name` in a query ("a=1&b=x"), percent-decoded into out.
 * false when absent or too long. */
bool qcam_http_query(const char *query, const char *name, char *out, size_t n);

#endif
