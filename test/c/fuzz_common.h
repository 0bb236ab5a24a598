/* What the libFuzzer targets built by test/fuzz.ts share: the two entry
 * points, the invariant check, the QCAM_FUZZ_TRACE switch (the one
 * "qcam-fuzz: key=value ..." line test/fuzz.ts reads back) and exact-size
 * heap copies. Each target lives beside the parser it fuzzes; this header
 * lives here, with the other C test code, so that neither the runtime nor a
 * module reaches into the other's folder for it (test/fuzz.ts passes
 * -I test/c). Its users:
 *   runtime/fuzz_image.c             runtime/store/fuzz_store.c
 *   host-modules/video/fuzz_annexb.c host-modules/camera/fuzz_y4m.c
 *   host-modules/mp4/fuzz_mp4.c      host-modules/ts/fuzz_ts.c
 *   host-modules/rtsp/fuzz_rtsp.c    host-modules/audio/fuzz_wav.c
 *   runtime/devlink/fuzz_devlink.c   runtime/devlink/fuzz_files.c
 *   host-modules/display/fuzz_http.c host-modules/rtsp/fuzz_client.c
 *     (these four built by their own tests in test/integration/ with
 *     compileFuzzer, the same flags)
 * Define FUZZ_NAME ("fuzz_mp4") before including. A target that hands its
 * input to code opening a file by path also defines FUZZ_MEMFD (and
 * _GNU_SOURCE, for memfd_create): it gets a memory file, `memfd_path`, that
 * fuzz_memfd_open() creates and fuzz_put_file() refills per input. A target
 * whose reader takes a read callback (mp4, ts) defines FUZZ_MEM_READER: it
 * gets fuzz_mem_read, which hands out a memory block in short pieces. */
#ifndef QCAM_FUZZ_COMMON_H
#define QCAM_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated invariant aborts, naming the target, the condition and the line. */
#define CHECK(c)                                                                           \
    do {                                                                                   \
        if (!(c)) {                                                                        \
            fprintf(stderr, FUZZ_NAME ": invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* QCAM_FUZZ_TRACE is set and not "0": print one line per input. */
static inline int fuzz_trace_enabled(void)
{
    const char *t = getenv("QCAM_FUZZ_TRACE");
    return t && *t && strcmp(t, "0") != 0;
}

/* p[0..n) in a heap block of exactly n bytes (1 when n is 0), so that
 * AddressSanitizer reports any read past the end. */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    CHECK(b != NULL);
    if (n) memcpy(b, p, n);
    return b;
}

#ifdef FUZZ_MEM_READER
#include <sys/types.h>

typedef struct {
    const uint8_t *p;
    size_t n;
    unsigned step; /* fuzz_mem_read hands out at most this many bytes per call */
} fuzz_mem;

/* A reader callback (opaque: a fuzz_mem) over p[0..n), in pieces of <= step. */
static ssize_t fuzz_mem_read(void *opaque, uint64_t pos, void *buf, size_t len)
{
    fuzz_mem *m = opaque;
    if (pos >= m->n) return 0;
    size_t k = m->n - pos < len ? m->n - (size_t)pos : len;
    if (k > m->step) k = m->step;
    memcpy(buf, m->p + pos, k);
    return (ssize_t)k;
}
#endif

#ifdef FUZZ_MEMFD
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

static int memfd = -1;
static char memfd_path[64];

static void fuzz_memfd_open(void)
{
    memfd = memfd_create(FUZZ_NAME, MFD_CLOEXEC);
    if (memfd < 0) {
        perror(FUZZ_NAME ": memfd_create");
        exit(2);
    }
    snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
}

/* The memory file now holds exactly b[0..n). */
static void fuzz_put_file(const uint8_t *b, size_t n)
{
    CHECK(ftruncate(memfd, 0) == 0);
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(memfd, b + done, n - done, (off_t)done);
        if (w < 0 && errno == EINTR) continue;
        CHECK(w > 0);
        done += (size_t)w;
    }
}
#endif

#endif
