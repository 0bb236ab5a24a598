/* URL authorities: see neturl.h. */
#include "neturl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int qcam_url_authority(const char *a, const char *end, char *user, size_t user_cap, char *pass, size_t pass_cap,
                       bool *has_pass, char *host, size_t host_cap, int *port)
{
    user[0] = pass[0] = host[0] = 0;
    if (has_pass) *has_pass = false;
    const char *at = NULL;
    for (const char *c = a; c < end; c++)
        if (*c == '@') at = c;
    if (at) {
        const char *colon = memchr(a, ':', (size_t)(at - a));
        size_t ul = colon ? (size_t)(colon - a) : (size_t)(at - a);
        size_t pl = colon ? (size_t)(at - colon - 1) : 0;
        if (!ul || ul >= user_cap || pl >= pass_cap) return -EINVAL;
        memcpy(user, a, ul);
        user[ul] = 0;
        if (colon) {
            memcpy(pass, colon + 1, pl);
            pass[pl] = 0;
            if (has_pass) *has_pass = true;
        }
        a = at + 1;
    }
    const char *hend = end;
    size_t hl;
    if (*a == '[') { /* [v6]:port */
        const char *rb = memchr(a, ']', (size_t)(end - a));
        if (!rb || (hl = (size_t)(rb - a - 1)) >= host_cap) return -EINVAL;
        memcpy(host, a + 1, hl);
        hend = rb + 1;
    } else {
        const char *colon = memchr(a, ':', (size_t)(end - a));
        if (colon) hend = colon;
        if ((hl = (size_t)(hend - a)) >= host_cap) return -EINVAL;
        memcpy(host, a, hl);
    }
    host[hl] = 0;
    if (!host[0]) return -EINVAL;
    for (const char *c = host; *c; c++) /* a name or an address: letters, digits, . - _ (and : % for IPv6) */
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr(".-_:%", *c)))
            return -EINVAL;
    if (hend < end) {
        if (*hend != ':' || hend + 1 == end) return -EINVAL;
        long p = 0;
        for (const char *c = hend + 1; c < end; c++) {
            if (*c < '0' || *c > '9') return -EINVAL;
            p = p * 10 + (*c - '0');
            if (p > 65535) return -EINVAL;
        }
        if (p < 1) return -EINVAL;
        *port = (int)p;
    }
    return 0;
}

void qcam_url_hostport(char *out, size_t cap, const char *host, int port, int default_port)
{
    bool v6 = strchr(host, ':') != NULL;
    char p[16] = "";
    if (port != default_port) snprintf(p, sizeof p, ":%d", port);
    snprintf(out, cap, "%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", p);
}
