/* libFuzzer target for the dev link's files channel (files.c): the requests
 * a host sends, against a real storage root in a temporary folder that holds
 * a file, a folder and a symbolic link leading out of it.
 *
 * Input: frames, each a length byte n then n bytes of payload (type, body),
 * fed to qcam_files_frame one after the other with rising sequence numbers.
 * Checked, beside ASan/UBSan's own checks:
 *   - every frame the channel sends is a well-formed files frame of at most
 *     QCAM_DL_MAX_PAYLOAD bytes; a reply starts with the request's seq;
 *   - nothing appears outside the root (the folder the symbolic link leads
 *     to stays empty), whatever the paths say.
 * Built and run by test/integration/devlink-fuzz.test.ts (ASan + UBSan).
 * Links only files.c, devlink_proto.c and sha256.c: the serve functions the
 * channel calls are defined here. */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

#define FUZZ_NAME "fuzz_files"
#include "fuzz_common.h" /* test/c: the entry points and CHECK */

static char base[256], root[300], outside[300];
static qcam_serve serve;
static uint16_t expect_seq;
static bool want_reply;

/* ---- what files.c needs from serve.c ---- */

int qcam_serve_send(qcam_serve *s, uint8_t channel, uint8_t flags, uint8_t type, const void *body, size_t len, bool console)
{
    CHECK(s == &serve && channel == QCAM_DL_CH_FILES && !console);
    CHECK(len + 1 <= QCAM_DL_MAX_PAYLOAD);
    CHECK(body != NULL || len == 0);
    if (flags & QCAM_DL_FLAG_REPLY) {
        CHECK(want_reply && len >= 4);
        CHECK(qcam_dl_get16(body) == expect_seq);
    } else {
        CHECK(type == DL_ACK || type == DL_DONE || type == DL_CHUNK);
    }
    return 0;
}

void qcam_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

/* ---- the storage ---- */

static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static bool empty_dir(const char *path)
{
    DIR *d = opendir(path);
    CHECK(d != NULL);
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = false;
    closedir(d);
    return empty;
}

static void fresh_root(void)
{
    rm_tree(root);
    CHECK(mkdir(root, 0755) == 0);
    char p[400];
    snprintf(p, sizeof p, "%s/clip.mp4", root);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "0123456789abcdef", 16) == 16);
    close(fd);
    snprintf(p, sizeof p, "%s/video", root);
    CHECK(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/escape", root);
    CHECK(symlink(outside, p) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/qcam-fuzz-files-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(base) != NULL);
    snprintf(root, sizeof root, "%s/root", base);
    snprintf(outside, sizeof outside, "%s/outside", base);
    CHECK(mkdir(outside, 0755) == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fresh_root();
    qcam_files *f = qcam_files_new(&serve, root);
    CHECK(f != NULL);
    uint8_t payload[256];
    uint16_t seq = 0;
    for (size_t at = 0; at < size;) {
        size_t n = data[at++];
        if (n > size - at) n = size - at;
        if (n == 0) continue;
        memcpy(payload, data + at, n);
        at += n;
        qcam_dl_frame fr = {.version = QCAM_DL_VERSION, .channel = QCAM_DL_CH_FILES, .seq = seq, .len = (uint16_t)n, .payload = payload};
        expect_seq = seq;
        want_reply = payload[0] != DL_DATA && payload[0] != DL_READ;
        qcam_files_frame(f, &fr);
        /* Now and then the same request again (a lost reply): answered from memory. */
        if (n > 1 && (payload[1] & 3) == 0) qcam_files_frame(f, &fr);
        seq++;
    }
    qcam_files_free(f);
    CHECK(empty_dir(outside));
    return 0;
}
