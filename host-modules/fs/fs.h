/* qcam:fs HAL: files on the board's storage, by board path (/sdcard/...,
 * /tmp/...). Plain C, no engine types; every function returns >= 0 or a
 * negative errno. Safe to call from any thread (the MP4 writer's, a link's).
 *
 * A `qcam_fs_card` is the storage an app writes to. On the sim it is the
 * folder given by --sdcard (/tmp/... lives in its .tmp/ subfolder), and when
 * it has a size cap (--sdcard-size) it behaves like a card of that size: the
 * bytes used are counted once by walking the folder at first need, then kept
 * as a running count by the write, truncate, remove and rename calls below;
 * a write that does not fit writes what fits and then fails with -ENOSPC,
 * exactly like a full card. On the boards (backend_maixcam.c, backend_k230.c)
 * the same POSIX calls run on the real mount, the cap is 0 and the kernel says
 * when the card is full; those backends are thin.
 *
 * What the running count does NOT see (sim only): bytes written to the folder
 * by anything other than these functions (another process, a module writing
 * with plain write(2)), filesystem overhead (blocks, directories, metadata:
 * sizes are file sizes in bytes), hard links (each link's size counts once
 * per walk; removing a linked file frees nothing), and two writers extending
 * the same file at the same moment (each counts the growth it saw). It is
 * exact for the recorder's case: one or more files, each written by one
 * writer, through this HAL.
 *
 * Writing with a cap, from C (e.g. the MP4 writer's thread):
 *
 *   qcam_fs_card *card = qcam_fs_card_open(opts->sdcard_dir, opts->sdcard_cap);
 *   int fd = qcam_fs_open(card, "/sdcard/video/clip.mp4", QCAM_FS_WRITE);
 *   size_t done;
 *   int r = qcam_fs_write_all(card, fd, buf, len, -1, &done);  // -ENOSPC: `done` fit
 *   qcam_fs_close(fd);
 *   qcam_fs_card_close(card);
 *
 * or, for a writer that manages its own file: qcam_fs_reserve() before the
 * bytes go out and qcam_fs_release() for what it did not use or deleted.
 */
#ifndef QCAM_FS_H
#define QCAM_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct qcam_fs_card qcam_fs_card;

/* ---- the card ------------------------------------------------------------ */

/* The card whose sim folder is `root` (ignored on boards), `cap` bytes big (0:
 * as big as the host disk). Cards are shared and reference-counted: every
 * opener of the same root gets the same card and the same running count.
 * Creates the folder (and its .tmp/) if needed. NULL with errno set on error. */
qcam_fs_card *qcam_fs_card_open(const char *root, uint64_t cap);
/* One more reference to an open card (returns it). */
qcam_fs_card *qcam_fs_card_ref(qcam_fs_card *card);
void qcam_fs_card_close(qcam_fs_card *card);

/* Board path -> real path. The board path is normalised first ("//" and "/."
 * dropped); ".." anywhere is refused. Returns 0, -EINVAL for a path that is
 * not on the board's storage (not /sdcard/... or /tmp/..., relative, "..",
 * NUL byte), or -ENAMETOOLONG. */
int qcam_fs_map(qcam_fs_card *card, const char *board_path, char *out, size_t n);
/* True for the mount points themselves (/sdcard, /tmp): they cannot be
 * removed or renamed. */
bool qcam_fs_is_mount_root(const char *board_path);

typedef struct {
    uint64_t total, free, available; /* bytes */
} qcam_fs_space_info;
/* Size and free space of the mount holding `board_path`: with a cap, total =
 * cap and free = available = cap - used (0 when over); else statvfs(). */
int qcam_fs_space(qcam_fs_card *card, const char *board_path, qcam_fs_space_info *out);

/* Accounting, for writers that bypass qcam_fs_write_all (cap 0: no-ops that
 * grant everything). reserve() grants up to `bytes` (fewer when the card is
 * nearly full; 0 when full) and returns how many; release() gives bytes back
 * (unused reservations, truncated or deleted data). */
int64_t qcam_fs_reserve(qcam_fs_card *card, uint64_t bytes);
void qcam_fs_release(qcam_fs_card *card, uint64_t bytes);

/* ---- open files ------------------------------------------------------------ */

typedef enum {
    QCAM_FS_READ,       /* "r":  read; must exist */
    QCAM_FS_READ_WRITE, /* "r+": read and write; must exist */
    QCAM_FS_WRITE,      /* "w":  write; created or truncated */
    QCAM_FS_APPEND,     /* "a":  write at the end; created if missing */
    QCAM_FS_CREATE_NEW, /* "wx": write; must not exist (-EEXIST) */
} qcam_fs_mode;

/* Returns a file descriptor (close-on-exec) or -errno; -EISDIR for a folder.
 * QCAM_FS_WRITE counts the truncated bytes as freed. The one rule for every
 * writer: the modes that create (WRITE, APPEND, CREATE_NEW) make the missing
 * folders of the path first, as qcam_fs_write_file does; READ and READ_WRITE
 * do not (-ENOENT). */
int qcam_fs_open(qcam_fs_card *card, const char *board_path, qcam_fs_mode mode);
int qcam_fs_close(int fd);

/* Read up to len bytes at `pos` (-1: the file position, which advances).
 * Returns the bytes read (0 at the end) or -errno. */
ssize_t qcam_fs_read(int fd, void *buf, size_t len, int64_t pos);
/* Write all of buf at `pos` (-1: the file position; files opened in append
 * mode always write at the end). Within the cap: returns 0 with *written =
 * len. Card full: writes what fits, then returns -ENOSPC with *written = the
 * bytes that are on the file. Other errors: -errno, *written as far as it got. */
int qcam_fs_write_all(qcam_fs_card *card, int fd, const void *buf, size_t len, int64_t pos,
                      size_t *written);
/* Set the file's size; growing it past the cap fails with -ENOSPC and
 * changes nothing. */
int qcam_fs_truncate(qcam_fs_card *card, int fd, uint64_t len);
int qcam_fs_sync(int fd);

typedef struct {
    uint64_t size;
    bool is_file, is_dir;
    double mtime_ms; /* since the epoch */
} qcam_fs_stat_info;
int qcam_fs_fstat(int fd, qcam_fs_stat_info *out);

/* ---- paths ------------------------------------------------------------------ */

int qcam_fs_stat(qcam_fs_card *card, const char *board_path, qcam_fs_stat_info *out);
/* The names in a folder ("." and ".." left out; the sim's .tmp/ folder left
 * out of /sdcard), sorted bytewise. *names is one malloc'd array of *count
 * malloc'd strings: free it with qcam_fs_list_free. */
int qcam_fs_list(qcam_fs_card *card, const char *board_path, char ***names, size_t *count);
void qcam_fs_list_free(char **names, size_t count);
/* A file, or an empty folder (-ENOTEMPTY otherwise). */
int qcam_fs_remove(qcam_fs_card *card, const char *board_path);
/* A file, or a folder with everything in it (symlinks are removed, never
 * followed). */
int qcam_fs_remove_tree(qcam_fs_card *card, const char *board_path);
/* rename(2): replaces an existing file at `to` (counted as freed). */
int qcam_fs_rename(qcam_fs_card *card, const char *from, const char *to);
/* recursive: create missing parents, and an existing folder is fine;
 * otherwise -EEXIST if anything is there. */
int qcam_fs_mkdir(qcam_fs_card *card, const char *board_path, bool recursive);
/* Replace a file's contents atomically (missing folders are made): write a temporary file beside it,
 * fsync, rename over the target, fsync the folder. Readers see the old or
 * the new contents, never a mix; a failure (-ENOSPC...) leaves the old file
 * as it was and no temporary file behind. */
int qcam_fs_write_file(qcam_fs_card *card, const char *board_path, const void *buf, size_t len);
/* Append to a file (created if missing). -ENOSPC: *written bytes fit. */
int qcam_fs_append_file(qcam_fs_card *card, const char *board_path, const void *buf, size_t len,
                        size_t *written);

#endif
