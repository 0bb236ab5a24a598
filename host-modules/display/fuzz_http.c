/* libFuzzer target for the sim page's HTTP parser (http.c): bytes from any
 * local process. Not part of the runtime (CMake leaves fuzz_* out); built and
 * run by test/integration/display-http-fuzz.test.ts with clang's ASan, UBSan
 * and libFuzzer. Invariants: a complete head's length is within the input and
 * ends with the blank line; parsed fields are NUL-terminated within their
 * buffers, the path starts with '/', the method is upper-case letters; query
 * lookups never write past their output. */
#define FUZZ_NAME "fuzz_http"
#include "fuzz_common.h"

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = (char *)fuzz_dup(data, size); /* exact size: ASan sees any over-read */
    qcam_http_request req;
    int n = qcam_http_parse(buf, size, &req);
    CHECK(n >= -1);
    if (n > 0) {
        CHECK((size_t)n <= size && n >= 4);
        CHECK(memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
        CHECK(memchr(req.method, 0, sizeof req.method) && memchr(req.path, 0, sizeof req.path));
        CHECK(memchr(req.query, 0, sizeof req.query) && memchr(req.host, 0, sizeof req.host));
        CHECK(req.path[0] == '/');
        for (const char *m = req.method; *m; m++) CHECK(*m >= 'A' && *m <= 'Z');
        CHECK(req.content_length >= 0);
        char out[8];
        static const char *const names[] = {"name", "action", "x", "y", "after", "epoch", ""};
        for (int i = 0; i < 7; i++)
            if (qcam_http_query(req.query, names[i], out, sizeof out)) CHECK(strlen(out) < sizeof out);
    } else if (n == 0) {
        CHECK(size < QCAM_HTTP_MAX_HEAD);
    }
    free(buf);
    return 0;
}
