/* The files channel: see files.h and docs/dev-link.md, section 3.5. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../sha256.h"

#define FILES_WINDOW (64u << 10) /* put credit, bytes */
#define READ_MAX (256u << 10)    /* bytes one read request may ask for */
#define CHUNK (QCAM_DL_MAX_PAYLOAD - 5)

struct qcam_files {
    qcam_serve *s;
    char root[PATH_MAX];  /* the storage root, symbolic links resolved */
    char stage_dir[PATH_MAX + 64];
    /* the put being staged */
    bool putting;
    uint8_t hash[32];
    uint32_t size, have, last_ack;
    int fd;
    char part[PATH_MAX + 256], dest[PATH_MAX];
    qcam_sha256_ctx sha;
    size_t ooo_next;
    /* the last request and its reply: a repeat is answered from here */
    bool last_known;
    uint16_t last_seq;
    uint8_t last_type;
    uint8_t last_reply[QCAM_DL_MAX_PAYLOAD];
    size_t last_len;
};

static void reply(qcam_files *f, const qcam_dl_frame *req, uint16_t status, const void *body, size_t len)
{
    uint8_t *b = f->last_reply;
    if (len > sizeof f->last_reply - 5) len = sizeof f->last_reply - 5;
    qcam_dl_put16(b, req->seq);
    qcam_dl_put16(b + 2, status);
    if (len) memcpy(b + 4, body, len);
    f->last_known = true;
    f->last_seq = req->seq;
    f->last_type = req->payload[0];
    f->last_len = len + 4;
    qcam_serve_send(f->s, QCAM_DL_CH_FILES, QCAM_DL_FLAG_REPLY, req->payload[0], b, len + 4, false);
}

static void reply_text(qcam_files *f, const qcam_dl_frame *req, uint16_t status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_text(qcam_files *f, const qcam_dl_frame *req, uint16_t status, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof text) n = sizeof text - 1;
    reply(f, req, status, text, (size_t)n);
}

/* A `done` frame: the end of a put, or why a read cannot go on. */
static void done(qcam_files *f, uint16_t status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void done(qcam_files *f, uint16_t status, const char *fmt, ...)
{
    uint8_t b[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)b + 2, sizeof b - 2, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n > sizeof b - 3) n = (int)sizeof b - 3;
    qcam_dl_put16(b, status);
    qcam_serve_send(f->s, QCAM_DL_CH_FILES, 0, DL_DONE, b, (size_t)n + 2, false);
}

static uint16_t errno_status(int err) { return err == ENOENT || err == ENOTDIR ? DL_NOENT : err == ENOSPC ? DL_NOSPACE : DL_IO; }

/* ---- paths ----------------------------------------------------------------------- */

static bool inside(const qcam_files *f, const char *real)
{
    size_t n = strlen(f->root);
    return strncmp(real, f->root, n) == 0 && (real[n] == '/' || real[n] == 0 || (n == 1 && f->root[0] == '/'));
}

/* The host's path (not NUL-terminated) as a path under the root, in out.
 * Returns DL_OK, or a status with *why set. The target itself need not
 * exist; its folder must, unless `want_parent` is false and nothing exists. */
static uint16_t resolve(const qcam_files *f, const uint8_t *p, size_t n, char *out, size_t cap, const char **why)
{
    char rel[PATH_MAX];
    if (n >= sizeof rel) {
        *why = "the path is too long";
        return DL_BAD;
    }
    memcpy(rel, p, n);
    rel[n] = 0;
    if (memchr(p, 0, n)) {
        *why = "the path holds a NUL byte";
        return DL_BAD;
    }
    /* No ".." part anywhere: a path never climbs. */
    for (const char *c = rel; *c;) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 2 && c[0] == '.' && c[1] == '.') {
            *why = "the path leads out of the board's storage";
            return DL_OUTSIDE;
        }
        c += len + (e ? 1 : 0);
    }
    const char *r = rel;
    while (*r == '/') r++;
    int w = snprintf(out, cap, "%s%s%s", f->root, *r ? "/" : "", r);
    if (w < 0 || (size_t)w >= cap) {
        *why = "the path is too long";
        return DL_BAD;
    }
    size_t L = strlen(out);
    while (L > strlen(f->root) && out[L - 1] == '/') out[--L] = 0;
    /* Symbolic links: what exists of the path must stay inside the root. */
    char probe[PATH_MAX], real[PATH_MAX];
    snprintf(probe, sizeof probe, "%s", out);
    for (;;) {
        if (realpath(probe, real)) {
            if (!inside(f, real)) {
                *why = "the path leads out of the board's storage";
                return DL_OUTSIDE;
            }
            return DL_OK;
        }
        char *slash = strrchr(probe, '/');
        if (!slash || slash == probe) break;
        *slash = 0;
    }
    *why = "the storage root is gone";
    return DL_IO;
}

/* A request body: fixed-size head, then the path. */
static bool take_path(qcam_files *f, const qcam_dl_frame *req, size_t head, char *out, size_t cap)
{
    const char *why = "";
    if (req->len < 1 + head) {
        reply_text(f, req, DL_BAD, "a malformed request");
        return false;
    }
    uint16_t st = resolve(f, req->payload + 1 + head, req->len - 1 - head, out, cap, &why);
    if (st != DL_OK) {
        reply_text(f, req, st, "%s", why);
        return false;
    }
    return true;
}

static const char *kind_name(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" : "other";
}

/* ---- requests --------------------------------------------------------------------- */

static void on_ls(qcam_files *f, const qcam_dl_frame *req)
{
    char path[PATH_MAX];
    if (!take_path(f, req, 4, path, sizeof path)) return;
    uint32_t start = qcam_dl_get32(req->payload + 1);
    DIR *d = opendir(path);
    if (!d) {
        int err = errno;
        reply_text(f, req, errno_status(err), "%s", strerror(err));
        return;
    }
    uint8_t body[QCAM_DL_MAX_PAYLOAD - 5];
    size_t len = 4;
    uint32_t index = 0, next = UINT32_MAX;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || strchr(e->d_name, '\n')) continue;
        if (index++ < start) continue;
        struct stat st;
        char line[600];
        int n;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        n = snprintf(line, sizeof line, "%c %llu %lld %s\n", kind_name(st.st_mode)[0],
                     (unsigned long long)st.st_size, (long long)st.st_mtime, e->d_name);
        if (n < 0 || (size_t)n >= sizeof line) continue;
        if (len + (size_t)n > sizeof body) {
            next = index - 1; /* this entry starts the next page */
            break;
        }
        memcpy(body + len, line, (size_t)n);
        len += (size_t)n;
    }
    closedir(d);
    qcam_dl_put32(body, next);
    reply(f, req, DL_OK, body, len);
}

static void on_stat(qcam_files *f, const qcam_dl_frame *req)
{
    char path[PATH_MAX];
    if (!take_path(f, req, 0, path, sizeof path)) return;
    struct stat st;
    if (lstat(path, &st) != 0) {
        int err = errno;
        reply_text(f, req, errno_status(err), "%s", strerror(err));
        return;
    }
    reply_text(f, req, DL_OK, "type=%s\nsize=%llu\nmtime=%lld\n", kind_name(st.st_mode),
               (unsigned long long)st.st_size, (long long)st.st_mtime);
}

/* SHA-256 of the first `limit` bytes of an open file; the count hashed. */
static int hash_fd(int fd, uint64_t limit, qcam_sha256_ctx *h, uint64_t *count)
{
    uint8_t buf[64 << 10];
    *count = 0;
    while (*count < limit) {
        size_t want = limit - *count < sizeof buf ? (size_t)(limit - *count) : sizeof buf;
        ssize_t r = read(fd, buf, want);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        qcam_sha256_update(h, buf, (size_t)r);
        *count += (uint64_t)r;
    }
    return 0;
}

static void on_hash(qcam_files *f, const qcam_dl_frame *req)
{
    char path[PATH_MAX];
    if (!take_path(f, req, 4, path, sizeof path)) return;
    uint32_t limit = qcam_dl_get32(req->payload + 1);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int err = fd < 0 ? errno : EISDIR;
        if (fd >= 0) close(fd);
        reply_text(f, req, err == EISDIR ? DL_BAD : errno_status(err), "%s", err == EISDIR ? "not a file" : strerror(err));
        return;
    }
    qcam_sha256_ctx h;
    uint64_t count = 0;
    qcam_sha256_init(&h);
    int r = hash_fd(fd, limit == UINT32_MAX ? UINT64_MAX : limit, &h, &count);
    int err = errno;
    close(fd);
    if (r != 0) {
        reply_text(f, req, DL_IO, "%s", strerror(err));
        return;
    }
    uint8_t body[40];
    qcam_sha256_final(&h, body);
    qcam_dl_put32(body + 32, (uint32_t)count);
    reply(f, req, DL_OK, body, 36);
}

/* Not a request: no reply. Bytes [offset, offset + length) go out as chunks;
 * a failure as `done`. */
static void on_read(qcam_files *f, const qcam_dl_frame *req)
{
    char path[PATH_MAX];
    const char *why = "";
    if (req->len < 9) return;
    uint32_t off = qcam_dl_get32(req->payload + 1), len = qcam_dl_get32(req->payload + 5);
    uint16_t st = resolve(f, req->payload + 9, req->len - 9u, path, sizeof path, &why);
    if (st != DL_OK) {
        done(f, st, "%s", why);
        return;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int err = errno;
        done(f, errno_status(err), "%s", strerror(err));
        return;
    }
    if (len > READ_MAX) len = READ_MAX;
    uint8_t b[4 + CHUNK];
    uint64_t at = off, end = (uint64_t)off + len;
    while (at < end) {
        size_t want = end - at < CHUNK ? (size_t)(end - at) : CHUNK;
        ssize_t r = pread(fd, b + 4, want, (off_t)at);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int err = errno;
            done(f, DL_IO, "%s", strerror(err));
            break;
        }
        if (r == 0) break;
        qcam_dl_put32(b, (uint32_t)at);
        qcam_serve_send(f->s, QCAM_DL_CH_FILES, 0, DL_CHUNK, b, 4 + (size_t)r, false);
        at += (uint64_t)r;
    }
    close(fd);
}

static void commit(qcam_files *f);

static void put_drop(qcam_files *f)
{
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    f->putting = false;
}

static void send_ack(qcam_files *f, bool gap)
{
    uint8_t b[9];
    qcam_dl_put32(b, f->have);
    qcam_dl_put32(b + 4, FILES_WINDOW);
    b[8] = gap ? 1 : 0;
    qcam_serve_send(f->s, QCAM_DL_CH_FILES, 0, DL_ACK, b, sizeof b, false);
    f->last_ack = f->have;
}

static bool same_file(const char *path, const uint8_t hash[32], uint32_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return false;
    struct stat st;
    bool same = false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size) {
        qcam_sha256_ctx h;
        uint64_t n;
        uint8_t got[32];
        qcam_sha256_init(&h);
        if (hash_fd(fd, UINT64_MAX, &h, &n) == 0) {
            qcam_sha256_final(&h, got);
            same = memcmp(got, hash, 32) == 0;
        }
    }
    close(fd);
    return same;
}

static void on_put(qcam_files *f, const qcam_dl_frame *req)
{
    char dest[PATH_MAX];
    if (!take_path(f, req, 36, dest, sizeof dest)) return;
    const uint8_t *hash = req->payload + 1;
    uint32_t size = qcam_dl_get32(req->payload + 33);
    struct stat st;
    if (!strcmp(dest, f->root) || (stat(dest, &st) == 0 && S_ISDIR(st.st_mode))) {
        reply_text(f, req, DL_BAD, "a folder is there");
        return;
    }
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dest);
    *strrchr(parent, '/') = 0;
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
        reply_text(f, req, DL_NOENT, "no folder %s on the board", parent + strlen(f->root));
        return;
    }
    if (same_file(dest, hash, size)) {
        reply(f, req, DL_HAVE, NULL, 0);
        return;
    }
    char hex[65], part[PATH_MAX + 256];
    qcam_hex(hash, 32, hex);
    snprintf(part, sizeof part, "%s/%s-%u.part", f->stage_dir, hex, size);
    bool same = f->putting && !memcmp(f->hash, hash, 32) && f->size == size;
    if (!same) {
        /* Only the last cut-off put is kept to go on with. */
        if (f->putting && strcmp(f->part, part) != 0) unlink(f->part);
        put_drop(f);
        int fd = open(part, O_RDWR | O_CREAT, 0644);
        if (fd < 0) {
            int err = errno;
            reply_text(f, req, errno_status(err), "cannot stage the file: %s", strerror(err));
            return;
        }
        /* What an earlier put of the same file left: hash it, go on after it. */
        qcam_sha256_init(&f->sha);
        uint64_t n = 0;
        if (hash_fd(fd, size, &f->sha, &n) != 0 || ftruncate(fd, (off_t)n) != 0 || lseek(fd, (off_t)n, SEEK_SET) < 0) {
            int err = errno;
            close(fd);
            reply_text(f, req, DL_IO, "cannot stage the file: %s", strerror(err));
            return;
        }
        struct statvfs v;
        if (statvfs(f->stage_dir, &v) == 0 && (uint64_t)v.f_bavail * v.f_frsize < size - n) {
            close(fd);
            reply_text(f, req, DL_NOSPACE, "no room for %u bytes", size);
            return;
        }
        f->fd = fd;
        f->putting = true;
        memcpy(f->hash, hash, 32);
        f->size = size;
        f->have = (uint32_t)n;
        snprintf(f->part, sizeof f->part, "%s", part);
    }
    snprintf(f->dest, sizeof f->dest, "%s", dest);
    f->last_ack = f->have;
    f->ooo_next = SIZE_MAX;
    uint8_t b[8];
    qcam_dl_put32(b, f->have);
    qcam_dl_put32(b + 4, FILES_WINDOW);
    reply(f, req, DL_OK, b, sizeof b);
    if (f->have == f->size) { /* everything was there already (or an empty file) */
        send_ack(f, false);
        commit(f);
    }
}

static void commit(qcam_files *f)
{
    uint8_t got[32];
    qcam_sha256_final(&f->sha, got);
    if (memcmp(got, f->hash, 32) != 0) {
        unlink(f->part);
        put_drop(f);
        done(f, DL_REFUSED, "the bytes received do not hash to the announced SHA-256; nothing was written");
        return;
    }
    int err = fsync(f->fd) != 0 ? errno : 0;
    close(f->fd);
    f->fd = -1;
    f->putting = false;
    if (!err && rename(f->part, f->dest) != 0) err = errno;
    if (err) {
        unlink(f->part);
        done(f, errno_status(err), "cannot store the file: %s", strerror(err));
        return;
    }
    done(f, DL_OK, "%s", "");
}

static void on_data(qcam_files *f, const qcam_dl_frame *fr)
{
    if (fr->len < 5 || !f->putting) return;
    uint32_t off = qcam_dl_get32(fr->payload + 1);
    size_t n = fr->len - 5u;
    if (off != f->have) {
        if (off != f->ooo_next) send_ack(f, true);
        f->ooo_next = (size_t)off + n;
        return;
    }
    if (n > f->size - f->have) n = f->size - f->have;
    size_t at = 0;
    while (at < n) {
        ssize_t w = write(f->fd, fr->payload + 5 + at, n - at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int err = w < 0 ? errno : ENOSPC;
            /* What was written stays staged; the put ends here. */
            if (ftruncate(f->fd, (off_t)f->have) != 0) {}
            put_drop(f);
            done(f, errno_status(err), "cannot write the file: %s", strerror(err));
            return;
        }
        at += (size_t)w;
    }
    qcam_sha256_update(&f->sha, fr->payload + 5, n);
    f->have += (uint32_t)n;
    f->ooo_next = SIZE_MAX;
    if (f->have == f->size) {
        send_ack(f, false);
        commit(f);
    } else if (f->have - f->last_ack >= QCAM_SERVE_ACK_STEP) {
        send_ack(f, false);
    }
}

static void on_rm(qcam_files *f, const qcam_dl_frame *req)
{
    char path[PATH_MAX];
    if (!take_path(f, req, 0, path, sizeof path)) return;
    if (!strcmp(path, f->root)) {
        reply_text(f, req, DL_BAD, "the storage root cannot be removed");
        return;
    }
    struct stat st;
    int r = lstat(path, &st);
    if (r == 0) r = S_ISDIR(st.st_mode) ? rmdir(path) : unlink(path);
    if (r != 0) {
        int err = errno;
        reply_text(f, req, errno_status(err), "%s", err == ENOTEMPTY || err == EEXIST ? "the folder is not empty" : strerror(err));
        return;
    }
    reply(f, req, DL_OK, NULL, 0);
}

static void on_mkdir(qcam_files *f, const qcam_dl_frame *req)
{
    char path[PATH_MAX];
    if (!take_path(f, req, 0, path, sizeof path)) return;
    /* mkdir -p below the root */
    for (char *p = path + strlen(f->root) + 1; p[-1]; p++) {
        if (*p != '/' && *p != 0) continue;
        char c = *p;
        *p = 0;
        struct stat st;
        if (mkdir(path, 0755) != 0 && !(errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
            int err = errno == EEXIST ? ENOTDIR : errno;
            reply_text(f, req, errno_status(err), "%s: %s", path + strlen(f->root), err == ENOTDIR ? "a file is in the way" : strerror(err));
            return;
        }
        *p = c;
        if (!c) break;
    }
    reply(f, req, DL_OK, NULL, 0);
}

/* ---- the channel -------------------------------------------------------------------- */

qcam_files *qcam_files_new(qcam_serve *s, const char *root)
{
    qcam_files *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->s = s;
    f->fd = -1;
    f->ooo_next = SIZE_MAX;
    if (!realpath(root, f->root)) snprintf(f->root, sizeof f->root, "%s", root);
    snprintf(f->stage_dir, sizeof f->stage_dir, "%s/.qcam/files", f->root);
    char qdir[PATH_MAX + 64];
    snprintf(qdir, sizeof qdir, "%s/.qcam", f->root);
    mkdir(qdir, 0755);
    mkdir(f->stage_dir, 0755);
    return f;
}

void qcam_files_free(qcam_files *f)
{
    if (!f) return;
    put_drop(f);
    free(f);
}

void qcam_files_frame(qcam_files *f, const qcam_dl_frame *fr)
{
    if (!f || fr->len < 1 || (fr->flags & QCAM_DL_FLAG_REPLY)) return;
    uint8_t type = fr->payload[0];
    if (type == DL_DATA || type == DL_READ) {
        if (type == DL_DATA) on_data(f, fr);
        else on_read(f, fr);
        return;
    }
    if (f->last_known && fr->seq == f->last_seq && type == f->last_type) {
        qcam_serve_send(f->s, QCAM_DL_CH_FILES, QCAM_DL_FLAG_REPLY, type, f->last_reply, f->last_len, false);
        return;
    }
    switch (type) {
    case DL_LS: on_ls(f, fr); break;
    case DL_STAT: on_stat(f, fr); break;
    case DL_HASH: on_hash(f, fr); break;
    case DL_PUT: on_put(f, fr); break;
    case DL_RM: on_rm(f, fr); break;
    case DL_MKDIR: on_mkdir(f, fr); break;
    default: reply_text(f, fr, DL_UNKNOWN, "unknown files message %u", type); break;
    }
}
