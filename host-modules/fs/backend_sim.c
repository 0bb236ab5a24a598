/* sim: the board's storage is the --sdcard folder (board paths mapped by the
 * app HAL, qcam_board_host_path), optionally capped to a card size.
 *
 * Everything here is plain POSIX.1-2008 (openat, fstatat, fdopendir, pread,
 * statvfs, pthreads): the boards run the very same calls on their real mount
 * (/sdcard is the card's FAT/exFAT partition, /tmp a tmpfs). A board backend
 * (backend_maixcam.c, backend_k230.c) is this file with the cap left at 0 —
 * the kernel reports a full card — and nothing sim-specific (.tmp/). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../app/app.h"
#include "fs.h"

#define PATH_LEN 4096
#define MAX_DEPTH 256

struct qcam_fs_card {
    qcam_fs_card *next;
    int refs;          /* under registry_lock */
    char *root;
    uint64_t cap;      /* 0: no cap */
    pthread_mutex_t lock;
    bool counted;      /* used is known (walked once) */
    uint64_t used;     /* bytes in files under root */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static qcam_fs_card *cards;
static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long tmp_seq;

/* ---- power-cut trials (sim only) -------------------------------------------
 * QCAM_FS_CUT_AFTER=N: the Nth mutating storage operation (create, write,
 * truncate, fsync, remove, rename, mkdir; qcam_fs_write_file is five: create
 * the temporary, write, fsync, rename, fsync the folder) is not done: the
 * process says so on stderr and _exit()s with QCAM_FS_CUT_EXIT, as if the
 * power went. QCAM_FS_COUNT_OPS=1: print "qcam-fs: N mutating operations" to
 * stderr at exit, so a test can count an install's operations, then cut at
 * each. What a cut does NOT model: data the kernel had not yet written back
 * (the page cache survives an _exit); the store's durability rests on the
 * fsyncs it asks for, which a real card honours. */
#define QCAM_FS_CUT_EXIT 86
static pthread_once_t cut_once = PTHREAD_ONCE_INIT;
static long cut_after = -1; /* < 0: never */
static bool count_ops;
static long op_count;

static void report_ops(void)
{
    char line[64];
    int n = snprintf(line, sizeof line, "qcam-fs: %ld mutating operations\n",
                     __atomic_load_n(&op_count, __ATOMIC_SEQ_CST));
    if (n > 0 && write(2, line, (size_t)n) < 0) return;
}

static void cut_init(void)
{
    const char *c = getenv("QCAM_FS_CUT_AFTER");
    if (c && *c) cut_after = strtol(c, NULL, 10);
    const char *k = getenv("QCAM_FS_COUNT_OPS");
    count_ops = k && *k && strcmp(k, "0") != 0;
    if (count_ops) atexit(report_ops);
}

/* Called before every mutating operation. */
static void power_point(void)
{
    pthread_once(&cut_once, cut_init);
    if (cut_after < 0 && !count_ops) return;
    long n = __atomic_add_fetch(&op_count, 1, __ATOMIC_SEQ_CST);
    if (cut_after > 0 && n >= cut_after) {
        char line[80];
        int len = snprintf(line, sizeof line, "qcam-fs: power cut before operation %ld\n", n);
        if (len > 0 && write(2, line, (size_t)len) < 0) _exit(QCAM_FS_CUT_EXIT);
        _exit(QCAM_FS_CUT_EXIT);
    }
}

/* ---- board paths --------------------------------------------------------- */

/* "/sdcard//a/./b/" -> "/sdcard/a/b". -EINVAL: relative, "..", too long. */
static int canon(const char *in, char *out, size_t n)
{
    if (!in || in[0] != '/') return -EINVAL;
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/') p++;
        const char *s = p;
        while (*p && *p != '/') p++;
        size_t len = (size_t)(p - s);
        if (len == 0 || (len == 1 && s[0] == '.')) continue;
        if (len == 2 && s[0] == '.' && s[1] == '.') return -EINVAL;
        if (o + 1 + len + 1 > n) return -ENAMETOOLONG;
        out[o++] = '/';
        memcpy(out + o, s, len);
        o += len;
    }
    if (o == 0) {
        if (n < 2) return -ENAMETOOLONG;
        out[o++] = '/';
    }
    out[o] = 0;
    return 0;
}

bool qcam_fs_is_mount_root(const char *board_path)
{
    char c[PATH_LEN];
    if (canon(board_path, c, sizeof c) != 0) return false;
    /* /sdcard/.tmp is where the sim keeps /tmp: the same mount point. */
    return strcmp(c, "/sdcard") == 0 || strcmp(c, "/tmp") == 0 || strcmp(c, "/sdcard/.tmp") == 0;
}

int qcam_fs_map(qcam_fs_card *card, const char *board_path, char *out, size_t n)
{
    char c[PATH_LEN];
    int r = canon(board_path, c, sizeof c);
    if (r != 0) return r;
    return qcam_board_host_path(card->root, c, out, n);
}

/* ---- the card and its running count -------------------------------------- */

static uint64_t du_at(int at, const char *name, int depth)
{
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
    if (S_ISREG(st.st_mode)) return (uint64_t)st.st_size;
    if (!S_ISDIR(st.st_mode) || depth >= MAX_DEPTH) return 0;
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    uint64_t sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        sum += du_at(dirfd(d), e->d_name, depth + 1);
    }
    closedir(d);
    return sum;
}

/* Under card->lock. */
static void count_locked(qcam_fs_card *card)
{
    if (card->counted) return;
    card->used = du_at(AT_FDCWD, card->root, 0);
    card->counted = true;
}

/* Mutating calls count first, so a release always applies to a known total. */
static void account_begin(qcam_fs_card *card)
{
    if (!card || card->cap == 0) return;
    pthread_mutex_lock(&card->lock);
    count_locked(card);
    pthread_mutex_unlock(&card->lock);
}

int64_t qcam_fs_reserve(qcam_fs_card *card, uint64_t bytes)
{
    if (bytes > (uint64_t)INT64_MAX) bytes = (uint64_t)INT64_MAX;
    if (!card || card->cap == 0) return (int64_t)bytes;
    pthread_mutex_lock(&card->lock);
    count_locked(card);
    uint64_t avail = card->used >= card->cap ? 0 : card->cap - card->used;
    uint64_t grant = bytes < avail ? bytes : avail;
    card->used += grant;
    pthread_mutex_unlock(&card->lock);
    return (int64_t)grant;
}

void qcam_fs_release(qcam_fs_card *card, uint64_t bytes)
{
    if (!card || card->cap == 0 || bytes == 0) return;
    pthread_mutex_lock(&card->lock);
    if (card->counted) card->used = card->used > bytes ? card->used - bytes : 0;
    pthread_mutex_unlock(&card->lock);
}

qcam_fs_card *qcam_fs_card_open(const char *root, uint64_t cap)
{
    if (!root || !*root) {
        errno = EINVAL;
        return NULL;
    }
    pthread_mutex_lock(&registry_lock);
    qcam_fs_card *c;
    for (c = cards; c; c = c->next)
        if (c->cap == cap && strcmp(c->root, root) == 0) break;
    if (c) {
        c->refs++;
        pthread_mutex_unlock(&registry_lock);
        return c;
    }
    c = calloc(1, sizeof *c);
    if (c) c->root = strdup(root);
    if (!c || !c->root) {
        free(c);
        pthread_mutex_unlock(&registry_lock);
        errno = ENOMEM;
        return NULL;
    }
    c->cap = cap;
    c->refs = 1;
    pthread_mutex_init(&c->lock, NULL);
    c->next = cards;
    cards = c;
    pthread_mutex_unlock(&registry_lock);
    /* A board always has its mounts; make the folders that stand in for them. */
    char p[PATH_LEN];
    if (qcam_fs_map(c, "/sdcard", p, sizeof p) == 0) qcam_board_mkdirs(p);
    if (qcam_fs_map(c, "/tmp", p, sizeof p) == 0) qcam_board_mkdirs(p);
    return c;
}

qcam_fs_card *qcam_fs_card_ref(qcam_fs_card *card)
{
    pthread_mutex_lock(&registry_lock);
    card->refs++;
    pthread_mutex_unlock(&registry_lock);
    return card;
}

void qcam_fs_card_close(qcam_fs_card *card)
{
    if (!card) return;
    pthread_mutex_lock(&registry_lock);
    if (--card->refs > 0) {
        pthread_mutex_unlock(&registry_lock);
        return;
    }
    for (qcam_fs_card **pp = &cards; *pp; pp = &(*pp)->next)
        if (*pp == card) {
            *pp = card->next;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_destroy(&card->lock);
    free(card->root);
    free(card);
}

int qcam_fs_space(qcam_fs_card *card, const char *board_path, qcam_fs_space_info *out)
{
    char p[PATH_LEN];
    int r = qcam_fs_map(card, board_path, p, sizeof p);
    if (r != 0) return r;
    struct statvfs vs;
    if (statvfs(p, &vs) != 0) return -errno;
    if (card->cap) {
        pthread_mutex_lock(&card->lock);
        count_locked(card);
        uint64_t avail = card->used >= card->cap ? 0 : card->cap - card->used;
        pthread_mutex_unlock(&card->lock);
        out->total = card->cap;
        out->free = out->available = avail;
    } else {
        out->total = (uint64_t)vs.f_blocks * vs.f_frsize;
        out->free = (uint64_t)vs.f_bfree * vs.f_frsize;
        out->available = (uint64_t)vs.f_bavail * vs.f_frsize;
    }
    return 0;
}

/* ---- open files ------------------------------------------------------------ */

static void fill_stat(const struct stat *st, qcam_fs_stat_info *out)
{
    out->size = (uint64_t)st->st_size;
    out->is_file = S_ISREG(st->st_mode);
    out->is_dir = S_ISDIR(st->st_mode);
    out->mtime_ms = (double)st->st_mtim.tv_sec * 1000.0 + (double)st->st_mtim.tv_nsec / 1e6;
}

/* The one rule for writers (fs.h): the folders a new file needs are made.
 * `host_path` is a mapped card path, so they are all under the card's folder.
 * Best effort: what cannot be made shows in the caller's retried open. */
static void make_parents(const char *host_path)
{
    char d[PATH_LEN];
    snprintf(d, sizeof d, "%s", host_path);
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) return;
    *slash = 0;
    qcam_board_mkdirs(d);
}

/* open(2) with EINTR retried; a writer's missing folders are made first. */
static int open_for(const char *p, int flags)
{
    int fd;
    for (int made = 0;; made = 1) {
        do fd = open(p, flags, 0666);
        while (fd < 0 && errno == EINTR);
        if (fd >= 0 || errno != ENOENT || !(flags & O_CREAT) || made) break;
        make_parents(p);
    }
    return fd < 0 ? -errno : fd;
}

int qcam_fs_open(qcam_fs_card *card, const char *board_path, qcam_fs_mode mode)
{
    char p[PATH_LEN];
    int r = qcam_fs_map(card, board_path, p, sizeof p);
    if (r != 0) return r;
    int flags = O_CLOEXEC;
    switch (mode) {
    case QCAM_FS_READ: flags |= O_RDONLY; break;
    case QCAM_FS_READ_WRITE: flags |= O_RDWR; break;
    /* Not O_TRUNC: the truncation goes through qcam_fs_truncate, which counts it. */
    case QCAM_FS_WRITE: flags |= O_WRONLY | O_CREAT; break;
    case QCAM_FS_APPEND: flags |= O_WRONLY | O_CREAT | O_APPEND; break;
    case QCAM_FS_CREATE_NEW: flags |= O_WRONLY | O_CREAT | O_EXCL; break;
    default: return -EINVAL;
    }
    if (flags & O_CREAT) power_point();
    int fd = open_for(p, flags);
    if (fd < 0) return fd;
    struct stat st;
    if (fstat(fd, &st) != 0) r = -errno;
    else if (S_ISDIR(st.st_mode)) r = -EISDIR;
    else if (mode == QCAM_FS_WRITE && S_ISREG(st.st_mode) && st.st_size > 0)
        r = qcam_fs_truncate(card, fd, 0);
    if (r != 0) {
        close(fd);
        return r;
    }
    return fd;
}

int qcam_fs_close(int fd) { return close(fd) == 0 || errno == EINTR ? 0 : -errno; }

ssize_t qcam_fs_read(int fd, void *buf, size_t len, int64_t pos)
{
    ssize_t n;
    do n = pos < 0 ? read(fd, buf, len) : pread(fd, buf, len, (off_t)pos);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

int qcam_fs_write_all(qcam_fs_card *card, int fd, const void *buf, size_t len, int64_t pos,
                      size_t *written)
{
    *written = 0;
    if (len == 0) return 0;
    power_point();
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return -errno;
    /* Append mode writes at the end whatever pos says (Linux's pwrite would
     * too; POSIX would not — one behaviour everywhere). */
    if (fl & O_APPEND) pos = -1;
    size_t fit = len;
    uint64_t size0 = 0, start = 0, reserved = 0;
    bool capped = false;
    if (card && card->cap) {
        struct stat st;
        if (fstat(fd, &st) != 0) return -errno;
        if (S_ISREG(st.st_mode)) {
            capped = true;
            size0 = (uint64_t)st.st_size;
            if (pos >= 0) start = (uint64_t)pos;
            else if (fl & O_APPEND) start = size0;
            else {
                off_t cur = lseek(fd, 0, SEEK_CUR);
                if (cur < 0) return -errno;
                start = (uint64_t)cur;
            }
            uint64_t end = start + len;
            uint64_t growth = end > size0 ? end - size0 : 0;
            reserved = (uint64_t)qcam_fs_reserve(card, growth);
            if (reserved < growth) {
                uint64_t limit = size0 + reserved; /* the file may grow to here */
                fit = limit > start ? (size_t)(limit - start) : 0;
                if (fit > len) fit = len;
            }
        }
    }
    const unsigned char *b = buf;
    size_t done = 0;
    int err = 0;
    while (done < fit) {
        ssize_t n = pos < 0 ? write(fd, b + done, fit - done)
                            : pwrite(fd, b + done, fit - done, (off_t)((uint64_t)pos + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            err = -errno;
            break;
        }
        if (n == 0) {
            err = -EIO;
            break;
        }
        done += (size_t)n;
    }
    if (capped) {
        uint64_t grew = start + done > size0 ? start + done - size0 : 0;
        if (grew < reserved) qcam_fs_release(card, reserved - grew);
    }
    *written = done;
    if (err) return err;
    return done < len ? -ENOSPC : 0;
}

int qcam_fs_truncate(qcam_fs_card *card, int fd, uint64_t len)
{
    if (len > (uint64_t)INT64_MAX) return -EFBIG;
    power_point();
    uint64_t size0 = 0, reserved = 0;
    bool capped = false;
    if (card && card->cap) {
        struct stat st;
        if (fstat(fd, &st) != 0) return -errno;
        if (S_ISREG(st.st_mode)) {
            capped = true;
            size0 = (uint64_t)st.st_size;
            account_begin(card);
            if (len > size0) {
                reserved = (uint64_t)qcam_fs_reserve(card, len - size0);
                if (reserved < len - size0) {
                    qcam_fs_release(card, reserved);
                    return -ENOSPC;
                }
            }
        }
    }
    int r;
    do r = ftruncate(fd, (off_t)len);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        r = -errno;
        if (capped) qcam_fs_release(card, reserved);
        return r;
    }
    if (capped && len < size0) qcam_fs_release(card, size0 - len);
    return 0;
}

int qcam_fs_sync(int fd)
{
    power_point();
    return fsync(fd) == 0 ? 0 : -errno;
}

int qcam_fs_fstat(int fd, qcam_fs_stat_info *out)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    fill_stat(&st, out);
    return 0;
}

/* ---- paths ------------------------------------------------------------------ */

int qcam_fs_stat(qcam_fs_card *card, const char *board_path, qcam_fs_stat_info *out)
{
    char p[PATH_LEN];
    int r = qcam_fs_map(card, board_path, p, sizeof p);
    if (r != 0) return r;
    struct stat st;
    if (stat(p, &st) != 0) return -errno;
    fill_stat(&st, out);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void qcam_fs_list_free(char **names, size_t count)
{
    for (size_t i = 0; names && i < count; i++) free(names[i]);
    free(names);
}

/* The names in an open folder (takes `fd`), sorted; `skip` is left out. */
static int read_names(int fd, const char *skip, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = -errno;
        close(fd);
        return e;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    int err = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 || (skip && strcmp(nm, skip) == 0))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                err = -ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        if (!(v[n] = strdup(nm))) {
            err = -ENOMEM;
            break;
        }
        n++;
    }
    if (!err && errno) err = -errno;
    closedir(d);
    if (err) {
        qcam_fs_list_free(v, n);
        return err;
    }
    if (n > 1) qsort(v, n, sizeof *v, cmp_names);
    *names = v;
    *count = n;
    return 0;
}

int qcam_fs_list(qcam_fs_card *card, const char *board_path, char ***names, size_t *count)
{
    char p[PATH_LEN], c[PATH_LEN];
    *names = NULL;
    *count = 0;
    int r = qcam_fs_map(card, board_path, p, sizeof p);
    if (r != 0) return r;
    canon(board_path, c, sizeof c);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    /* The sim keeps /tmp in the card's .tmp/: not part of the card's listing. */
    return read_names(fd, strcmp(c, "/sdcard") == 0 ? ".tmp" : NULL, names, count);
}

/* Remove a non-folder; what it frees goes back to the card. */
static int unlink_at(qcam_fs_card *card, int at, const char *name, const struct stat *st)
{
    if (unlinkat(at, name, 0) != 0) return -errno;
    if (S_ISREG(st->st_mode) && st->st_nlink == 1) qcam_fs_release(card, (uint64_t)st->st_size);
    return 0;
}

int qcam_fs_remove(qcam_fs_card *card, const char *board_path)
{
    char p[PATH_LEN];
    int r = qcam_fs_map(card, board_path, p, sizeof p);
    if (r != 0) return r;
    if (qcam_fs_is_mount_root(board_path)) return -EBUSY;
    account_begin(card);
    struct stat st;
    if (lstat(p, &st) != 0) return -errno;
    power_point();
    if (S_ISDIR(st.st_mode)) return rmdir(p) == 0 ? 0 : -errno;
    return unlink_at(card, AT_FDCWD, p, &st);
}

static int remove_tree_at(qcam_fs_card *card, int at, const char *name, int depth)
{
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
    if (!S_ISDIR(st.st_mode)) return unlink_at(card, at, name, &st);
    if (depth >= MAX_DEPTH) return -ELOOP;
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -errno;
    int keep = dup(fd); /* read_names closes fd; the children are removed through keep */
    if (keep < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    char **names;
    size_t n;
    int r = read_names(fd, NULL, &names, &n);
    for (size_t i = 0; r == 0 && i < n; i++) r = remove_tree_at(card, keep, names[i], depth + 1);
    qcam_fs_list_free(names, n);
    close(keep);
    if (r == 0 && unlinkat(at, name, AT_REMOVEDIR) != 0) r = -errno;
    return r;
}

int qcam_fs_remove_tree(qcam_fs_card *card, const char *board_path)
{
    char p[PATH_LEN];
    int r = qcam_fs_map(card, board_path, p, sizeof p);
    if (r != 0) return r;
    if (qcam_fs_is_mount_root(board_path)) return -EBUSY;
    account_begin(card);
    power_point();
    return remove_tree_at(card, AT_FDCWD, p, 0);
}

int qcam_fs_rename(qcam_fs_card *card, const char *from, const char *to)
{
    char pf[PATH_LEN], pt[PATH_LEN];
    int r = qcam_fs_map(card, from, pf, sizeof pf);
    if (r == 0) r = qcam_fs_map(card, to, pt, sizeof pt);
    if (r != 0) return r;
    if (qcam_fs_is_mount_root(from) || qcam_fs_is_mount_root(to)) return -EBUSY;
    account_begin(card);
    struct stat sf, st;
    uint64_t freed = 0;
    if (lstat(pf, &sf) != 0) return -errno;
    if (lstat(pt, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
        !(st.st_dev == sf.st_dev && st.st_ino == sf.st_ino))
        freed = (uint64_t)st.st_size;
    power_point();
    if (rename(pf, pt) != 0) return -errno;
    qcam_fs_release(card, freed);
    return 0;
}

int qcam_fs_mkdir(qcam_fs_card *card, const char *board_path, bool recursive)
{
    char p[PATH_LEN];
    int r = qcam_fs_map(card, board_path, p, sizeof p);
    if (r != 0) return r;
    power_point();
    if (!recursive) return mkdir(p, 0777) == 0 ? 0 : -errno;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != 0) continue;
        char ch = *s;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) return -errno;
        *s = ch;
        if (ch == 0) break;
    }
    struct stat st;
    if (stat(p, &st) != 0) return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -EEXIST;
}

static void sync_dir_of(const char *path)
{
    char d[PATH_LEN];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash) return;
    if (slash == d) slash[1] = 0;
    else *slash = 0;
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    fsync(fd); /* best effort: some filesystems refuse fsync on folders */
    close(fd);
}

int qcam_fs_write_file(qcam_fs_card *card, const char *board_path, const void *buf, size_t len)
{
    char p[PATH_LEN], tmp[PATH_LEN];
    int r = qcam_fs_map(card, board_path, p, sizeof p);
    if (r != 0) return r;
    if (qcam_fs_is_mount_root(board_path)) return -EISDIR;
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) return -EISDIR;
    const char *slash = strrchr(p, '/');
    pthread_mutex_lock(&seq_lock);
    unsigned long seq = ++tmp_seq;
    pthread_mutex_unlock(&seq_lock);
    int n = snprintf(tmp, sizeof tmp, "%.*s.%s.%ld-%lu.tmp", (int)(slash - p + 1), p, slash + 1,
                     (long)getpid(), seq);
    if (n < 0 || (size_t)n >= sizeof tmp) return -ENAMETOOLONG;
    account_begin(card);
    power_point();
    int fd = open_for(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
    if (fd < 0) return fd;
    size_t written = 0;
    r = qcam_fs_write_all(card, fd, buf, len, 0, &written);
    if (r == 0) power_point();
    if (r == 0 && fsync(fd) != 0) r = -errno;
    if (close(fd) != 0 && r == 0 && errno != EINTR) r = -errno;
    uint64_t freed = 0;
    if (r == 0) {
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) freed = (uint64_t)st.st_size;
        power_point();
        if (rename(tmp, p) != 0) r = -errno;
    }
    if (r != 0) {
        unlink(tmp);
        qcam_fs_release(card, written);
        return r;
    }
    qcam_fs_release(card, freed);
    power_point();
    sync_dir_of(p);
    return 0;
}

int qcam_fs_append_file(qcam_fs_card *card, const char *board_path, const void *buf, size_t len,
                        size_t *written)
{
    *written = 0;
    int fd = qcam_fs_open(card, board_path, QCAM_FS_APPEND);
    if (fd < 0) return fd;
    int r = qcam_fs_write_all(card, fd, buf, len, -1, written);
    int c = qcam_fs_close(fd);
    return r != 0 ? r : c;
}
