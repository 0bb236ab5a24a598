/* The dev-link agent: the thread that owns the tty (see serve.h and
 * docs/dev-link.md). It decodes frames, answers control requests, stages
 * pushed images and commits them, and forwards the app's console. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../../host-modules/fs/fs.h"
#include "../build_facts.h"
#include "../image.h"
#include "../loop.h"
#include "../platform.h"
#include "../sha256.h"
#include "quickjs.h"
#include "files.h"
#include "repl.h"
#include "serve.h"

void qcam_serve_flush_events(qcam_serve *s);

typedef struct {
    qcam_serve *s;
    qcam_dl_decoder dec;
    /* receive statistics */
    uint64_t frames_in, lost, junk, junk_bytes;
    bool seq_known;
    uint16_t seq_next;
    /* the push being staged */
    bool staging;
    uint8_t stage_hash[32];
    uint8_t *stage;
    size_t stage_size, stage_have, last_ack;
    bool stage_delta;       /* the staged bytes are a delta against stage_base */
    uint8_t stage_base[32];
    size_t image_size;      /* the image the delta makes */
    /* The staged bytes also go to a file on the card (stage_open), so a push
     * cut off by a board reset goes on from its last checkpoint. */
    qcam_fs_card *card;
    int stage_fd;           /* the .part file, or -1 (bytes kept in RAM only) */
    size_t stage_synced;    /* the bytes of it known to be on the card (the .at checkpoint) */
    char stage_name[160];   /* "<sha256>" or "<sha256>.from-<base sha256>" */
    size_t ooo_next; /* where the next out-of-order frame of the same run would start */
    /* The last control request and its reply: a repeat (the same seq and
     * type, sent again because the reply was lost) is answered from here. */
    bool last_known;
    uint16_t last_seq;
    uint8_t last_type;
    uint8_t last_reply[QCAM_DL_MAX_PAYLOAD];
    size_t last_reply_len;
    qcam_files *files; /* channel 4 (files.c) */
    qcam_repl *repl;   /* channel 3 (repl.c) */
    bool tty_down; /* the line hung up: poll it again a little later */
    long long tty_retry_us;
} agent;

/* ---- replies ------------------------------------------------------------------- */

static void reply(agent *a, const qcam_dl_frame *req, uint16_t status, const void *body, size_t len)
{
    uint8_t *buf = a->last_reply;
    if (len > sizeof a->last_reply - 5) len = sizeof a->last_reply - 5;
    qcam_dl_put16(buf, req->seq);
    qcam_dl_put16(buf + 2, status);
    if (len) memcpy(buf + 4, body, len);
    a->last_known = true;
    a->last_seq = req->seq;
    a->last_type = req->payload[0];
    a->last_reply_len = len + 4;
    qcam_serve_send(a->s, req->channel, QCAM_DL_FLAG_REPLY, req->payload[0], buf, len + 4, false);
}

static void reply_text(agent *a, const qcam_dl_frame *req, uint16_t status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_text(agent *a, const qcam_dl_frame *req, uint16_t status, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof text) n = sizeof text - 1;
    reply(a, req, status, text, (size_t)n);
}

static uint64_t free_bytes(const char *dir)
{
    struct statvfs v;
    if (statvfs(dir, &v) != 0) return 0;
    return (uint64_t)v.f_bavail * v.f_frsize;
}

/* ---- control --------------------------------------------------------------------- */

static void on_hello(agent *a, const qcam_dl_frame *req)
{
    qcam_serve *s = a->s;
    char image[65] = "";
    pthread_mutex_lock(&s->lock);
    bool running = s->running;
    if (s->have_current) qcam_hex(s->current, 32, image);
    pthread_mutex_unlock(&s->lock);
    reply_text(a, req, DL_OK,
               "proto=1\nruntime=%s\nengine=%d.%d.%d\nbytecode=%d\nabi=%s\ntarget=%s\nboard=sim\n"
               "free=%llu\nmax_payload=%d\nwindow=%u\nstate=%s\nimage=%s\n",
               QCAM_VERSION, QJS_VERSION_MAJOR, QJS_VERSION_MINOR, QJS_VERSION_PATCH,
               QCAM_BC_VERSION, QCAM_ABI_HASH, qcam_target_name(QCAM_TARGET_ID),
               (unsigned long long)free_bytes(s->images_dir), QCAM_DL_MAX_PAYLOAD,
               QCAM_SERVE_WINDOW, running ? "running" : "idle", image);
}

static bool have_image(agent *a, const uint8_t hash[32])
{
    char path[600];
    struct stat st;
    qcam_serve_image_path(a->s, hash, path, sizeof path);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void send_ack(agent *a, bool gap)
{
    uint8_t b[9];
    qcam_dl_put32(b, (uint32_t)a->stage_have);
    qcam_dl_put32(b + 4, QCAM_SERVE_WINDOW);
    b[8] = gap ? 1 : 0;
    qcam_serve_send(a->s, QCAM_DL_CH_PUSH, 0, DL_ACK, b, sizeof b, false);
    a->last_ack = a->stage_have;
}

/* ---- staging on the card -------------------------------------------------------
 * /sdcard/qcam/staging/<name>.part holds the bytes of the push being staged
 * (each checked by its frame's CRC), <name>.at the checkpoint "have want
 * image\n": how many of them were fsynced. A board that resets mid-push goes
 * on from there; whatever the file holds, the image is hashed and verified
 * whole before it is committed (commit()), so a half-staged or damaged one
 * never runs. Only one image is staged at a time: beginning another removes
 * every other file there. */
#define STAGE_DIR "/sdcard/qcam/staging"

static void stage_file(const agent *a, const char *ext, char *out, size_t n)
{
    snprintf(out, n, STAGE_DIR "/%s.%s", a->stage_name, ext);
}

static void stage_close(agent *a)
{
    if (a->stage_fd >= 0) qcam_fs_close(a->stage_fd);
    a->stage_fd = -1;
    free(a->stage);
    a->stage = NULL;
    a->staging = false;
}

/* Remove the staging files but those named `keep` (NULL: all). */
static void stage_clean(agent *a, const char *keep)
{
    if (!a->card) return;
    char **names = NULL;
    size_t count = 0;
    if (qcam_fs_list(a->card, STAGE_DIR, &names, &count) != 0) return;
    for (size_t i = 0; i < count; i++) {
        size_t k = keep ? strlen(keep) : 0;
        const char *rest = names[i] + k;
        if (keep && strncmp(names[i], keep, k) == 0 && (strcmp(rest, ".part") == 0 || strcmp(rest, ".at") == 0)) continue;
        char path[400];
        snprintf(path, sizeof path, STAGE_DIR "/%s", names[i]);
        qcam_fs_remove_tree(a->card, path);
    }
    qcam_fs_list_free(names, count);
}

/* The push is over (committed or refused): its files go. */
static void stage_drop(agent *a)
{
    bool had = a->staging;
    stage_close(a);
    if (had) stage_clean(a, NULL);
}

/* A new staging of a->stage_size bytes: resume from the card's checkpoint
 * when it is of the same push, else start the file afresh. */
static void stage_open(agent *a)
{
    a->stage_fd = -1;
    a->stage_synced = 0;
    if (!a->card) a->card = qcam_fs_card_open(a->s->opts.sdcard_dir, a->s->opts.sdcard_cap);
    if (!a->card) return;
    stage_clean(a, a->stage_name);
    char part[400], at[400], rec[96] = "";
    stage_file(a, "part", part, sizeof part);
    stage_file(a, "at", at, sizeof at);
    unsigned long long have = 0, want = 0, image = 0;
    int fd = qcam_fs_open(a->card, at, QCAM_FS_READ);
    if (fd >= 0) {
        ssize_t r = qcam_fs_read(fd, rec, sizeof rec - 1, 0);
        rec[r > 0 ? r : 0] = 0;
        qcam_fs_close(fd);
    }
    if (sscanf(rec, "%llu %llu %llu", &have, &want, &image) == 3 && want == a->stage_size &&
        image == a->image_size && have > 0 && have < want &&
        (fd = qcam_fs_open(a->card, part, QCAM_FS_READ_WRITE)) >= 0) {
        size_t got = 0;
        while (got < have) {
            ssize_t r = qcam_fs_read(fd, a->stage + got, (size_t)have - got, (int64_t)got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        if (got == have && qcam_fs_truncate(a->card, fd, have) == 0) {
            a->stage_fd = fd;
            a->stage_have = a->stage_synced = (size_t)have;
            return;
        }
        qcam_fs_close(fd);
    }
    qcam_fs_remove(a->card, at);
    a->stage_fd = qcam_fs_open(a->card, part, QCAM_FS_WRITE);
    if (a->stage_fd < 0) a->stage_fd = -1;
}

/* Bytes [off, off+n) arrived: onto the card, and a checkpoint every
 * QCAM_SERVE_STAGE_SYNC bytes. A card that fails only ends the staging
 * file: the push goes on in RAM. */
#define QCAM_SERVE_STAGE_SYNC (32 * 1024)
static void stage_write(agent *a, size_t off, const uint8_t *b, size_t n)
{
    if (a->stage_fd < 0) return;
    size_t w = 0;
    if (qcam_fs_write_all(a->card, a->stage_fd, b, n, (int64_t)off, &w) != 0) {
        qcam_fs_close(a->stage_fd);
        a->stage_fd = -1;
        return;
    }
    size_t have = off + n;
    if (have - a->stage_synced < QCAM_SERVE_STAGE_SYNC || have >= a->stage_size) return;
    char at[400], rec[96];
    stage_file(a, "at", at, sizeof at);
    int k = snprintf(rec, sizeof rec, "%zu %zu %zu\n", have, a->stage_size, a->image_size);
    if (qcam_fs_sync(a->stage_fd) == 0 && qcam_fs_write_file(a->card, at, rec, (size_t)k) == 0) a->stage_synced = have;
}

static void on_push(agent *a, const qcam_dl_frame *req)
{
    /* sha256, size; a host that holds an image the board has may add its
     * sha256 and the length of a delta against it (docs/dev-link.md, 3.2). */
    if (req->len != 1 + 32 + 4 && req->len != 1 + 32 + 4 + 32 + 4) {
        reply_text(a, req, DL_BAD, "push wants a SHA-256 and a size");
        return;
    }
    const uint8_t *hash = req->payload + 1;
    uint32_t size = qcam_dl_get32(req->payload + 33);
    if (have_image(a, hash)) {
        reply(a, req, DL_HAVE, NULL, 0);
        return;
    }
    if (size == 0 || size > QCAM_SERVE_MAX_IMAGE) {
        reply_text(a, req, DL_BAD, "an image of %u bytes (at most %u)", size, QCAM_SERVE_MAX_IMAGE);
        return;
    }
    const uint8_t *base = req->len > 37 ? req->payload + 37 : NULL;
    uint32_t delta_len = base ? qcam_dl_get32(req->payload + 69) : 0;
    bool delta = base && delta_len > 0 && delta_len <= QCAM_SERVE_MAX_IMAGE && have_image(a, base);
    size_t want = delta ? delta_len : size;
    /* The same image again, cut off before: go on from where it stopped. */
    if (!(a->staging && memcmp(a->stage_hash, hash, 32) == 0 && a->stage_delta == delta && a->stage_size == want &&
          a->image_size == size && (!delta || memcmp(a->stage_base, base, 32) == 0))) {
        stage_close(a); /* another push's files go in stage_open */
        if ((uint64_t)size > free_bytes(a->s->images_dir) || !(a->stage = malloc(want))) {
            reply_text(a, req, DL_NOSPACE, "no room for %u bytes", size);
            return;
        }
        a->staging = true;
        memcpy(a->stage_hash, hash, 32);
        a->stage_size = want;
        a->stage_have = 0;
        a->stage_delta = delta;
        a->image_size = size;
        if (delta) memcpy(a->stage_base, base, 32);
        char hex[65], bhex[65];
        qcam_hex(hash, 32, hex);
        if (delta) qcam_hex(base, 32, bhex);
        snprintf(a->stage_name, sizeof a->stage_name, "%s%s%s", hex, delta ? ".from-" : "", delta ? bhex : "");
        stage_open(a);
    }
    a->last_ack = a->stage_have;
    a->ooo_next = SIZE_MAX;
    uint8_t b[9];
    qcam_dl_put32(b, (uint32_t)a->stage_have);
    qcam_dl_put32(b + 4, QCAM_SERVE_WINDOW);
    b[8] = delta ? 1 : 0; /* 1: send the delta */
    reply(a, req, DL_OK, b, sizeof b);
}

/* A delta is all there: make the image from it and the base it names.
 * Returns 0, or -1 with `msg` set. */
static int expand_delta(agent *a, char *msg, size_t n)
{
    char path[600];
    qcam_serve_image_path(a->s, a->stage_base, path, sizeof path);
    int fd = open(path, O_RDONLY);
    struct stat st;
    uint8_t *base = NULL, *image = NULL;
    size_t got = 0;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= QCAM_SERVE_MAX_IMAGE &&
        (base = malloc((size_t)st.st_size))) {
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, base + got, (size_t)st.st_size - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
    }
    if (fd >= 0) close(fd);
    int r = -1;
    if (!base || got != (size_t)st.st_size) snprintf(msg, n, "cannot read the delta's base image");
    else if (!(image = malloc(a->image_size))) snprintf(msg, n, "no room for %zu bytes", a->image_size);
    else if (qcam_dl_apply_delta(base, got, a->stage, a->stage_size, image, a->image_size) != 0)
        snprintf(msg, n, "the delta does not apply to its base image");
    else {
        free(a->stage);
        a->stage = image;
        a->stage_size = a->image_size;
        a->stage_delta = false;
        image = NULL;
        r = 0;
    }
    free(base);
    free(image);
    return r;
}

/* All bytes are there: hash, verify, write, sync, rename. */
static void commit(agent *a)
{
    uint8_t got[32];
    char why[160];
    if (a->stage_delta && expand_delta(a, why, sizeof why) != 0) {
        uint8_t d[200];
        int k = snprintf((char *)d + 2, sizeof d - 2, "%s", why);
        qcam_dl_put16(d, DL_REFUSED);
        qcam_serve_send(a->s, QCAM_DL_CH_PUSH, 0, DL_DONE, d, (size_t)(k < 0 ? 0 : k) + 2, false);
        stage_drop(a);
        return;
    }
    char hex[65], path[600], tmp[640];
    qcam_sha256(a->stage, a->stage_size, got);
    qcam_hex(a->stage_hash, 32, hex);
    uint8_t done[512];
    uint16_t status = DL_OK;
    int n = 0;
    qcam_image_expect ex;
    qcam_image img;
    char msg[256];
    qcam_build_expect(&ex);
    if (memcmp(got, a->stage_hash, 32) != 0) {
        status = DL_REFUSED;
        n = snprintf((char *)done + 2, sizeof done - 2, "the bytes received do not hash to %s", hex);
    } else if (qcam_image_verify(a->stage, a->stage_size, &ex, &img, msg, sizeof msg) != QCAM_IMG_OK) {
        status = DL_REFUSED;
        n = snprintf((char *)done + 2, sizeof done - 2, "%s", msg);
    } else {
        qcam_serve_image_path(a->s, a->stage_hash, path, sizeof path);
        snprintf(tmp, sizeof tmp, "%s.part", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        size_t off = 0;
        while (fd >= 0 && off < a->stage_size) {
            ssize_t w = write(fd, a->stage + off, a->stage_size - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
        int err = fd < 0 ? errno : off < a->stage_size ? (errno ? errno : ENOSPC) : 0;
        if (fd >= 0 && !err && fsync(fd) != 0) err = errno;
        if (fd >= 0) close(fd);
        if (!err && rename(tmp, path) != 0) err = errno;
        if (err) {
            unlink(tmp);
            status = err == ENOSPC ? DL_NOSPACE : DL_REFUSED;
            n = snprintf((char *)done + 2, sizeof done - 2, "cannot store the image: %s", strerror(err));
        }
    }
    if (n < 0) n = 0;
    if ((size_t)n > sizeof done - 3) n = (int)sizeof done - 3;
    qcam_dl_put16(done, status);
    qcam_serve_send(a->s, QCAM_DL_CH_PUSH, 0, DL_DONE, done, (size_t)n + 2, false);
    stage_drop(a);
}

static void on_data(agent *a, const qcam_dl_frame *f)
{
    if (f->len < 5 || !a->staging) return;
    uint32_t off = qcam_dl_get32(f->payload + 1);
    size_t n = f->len - 5u;
    if (off != a->stage_have) {
        /* A frame before this one was lost, or the host went back further
         * than needed: say where we are, once per run of such frames (a run
         * is frames that follow each other), so a host resending from an
         * older offset always hears the right one. */
        if (off != a->ooo_next) send_ack(a, true);
        a->ooo_next = (size_t)off + n;
        return;
    }
    if (n > a->stage_size - a->stage_have) n = a->stage_size - a->stage_have;
    memcpy(a->stage + a->stage_have, f->payload + 5, n);
    stage_write(a, a->stage_have, f->payload + 5, n);
    a->stage_have += n;
    a->ooo_next = SIZE_MAX;
    if (a->stage_have == a->stage_size) {
        send_ack(a, false);
        commit(a);
    } else if (a->stage_have - a->last_ack >= QCAM_SERVE_ACK_STEP) {
        send_ack(a, false);
    }
}

static void on_run(agent *a, const qcam_dl_frame *req)
{
    qcam_serve *s = a->s;
    if (req->len != 33) {
        reply_text(a, req, DL_BAD, "run wants a SHA-256");
        return;
    }
    if (!have_image(a, req->payload + 1)) {
        reply_text(a, req, DL_NOENT, "no image with that hash on the board");
        return;
    }
    pthread_mutex_lock(&s->lock);
    memcpy(s->pending_hash, req->payload + 1, 32);
    s->pending = true;
    if (s->running) qcam_control_request_stop(&s->control, QCAM_STOP_RELOAD);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    reply(a, req, DL_OK, NULL, 0);
}

static void on_reload(agent *a, const qcam_dl_frame *req)
{
    qcam_serve *s = a->s;
    pthread_mutex_lock(&s->lock);
    bool ok = s->have_current;
    if (ok) {
        memcpy(s->pending_hash, s->current, 32);
        s->pending = true;
        if (s->running) qcam_control_request_stop(&s->control, QCAM_STOP_RELOAD);
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    if (ok) reply(a, req, DL_OK, NULL, 0);
    else reply_text(a, req, DL_NOENT, "nothing has run yet");
}

static void on_stop(agent *a, const qcam_dl_frame *req)
{
    qcam_serve *s = a->s;
    pthread_mutex_lock(&s->lock);
    bool running = s->running;
    s->pending = false;
    if (running) qcam_control_request_stop(&s->control, QCAM_STOP_STOP);
    pthread_mutex_unlock(&s->lock);
    reply(a, req, running ? DL_OK : DL_IDLE, NULL, 0);
}

static void on_stats(agent *a, const qcam_dl_frame *req)
{
    qcam_serve *s = a->s;
    pthread_mutex_lock(&s->lock);
    bool running = s->running;
    unsigned runs = s->runs;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&s->out_lock);
    unsigned long long out = s->frames_out, dropped = s->console_dropped_total;
    pthread_mutex_unlock(&s->out_lock);
    reply_text(a, req, DL_OK,
               "frames_in=%llu\nframes_out=%llu\nlost=%llu\njunk=%llu\njunk_bytes=%llu\n"
               "console_dropped=%llu\nruns=%u\nstate=%s\nuptime_ms=%lld\n",
               (unsigned long long)a->frames_in, out, (unsigned long long)a->lost,
               (unsigned long long)a->junk, (unsigned long long)a->junk_bytes, dropped, runs,
               running ? "running" : "idle", (qcam_now_us() - s->started_us) / 1000);
}

static int trace_fd = -1;

static void on_frame(agent *a, const qcam_dl_frame *f)
{
    if (trace_fd >= 0) {
        char line[160];
        int n = snprintf(line, sizeof line, "rx ch=%u seq=%u len=%u type=%u off=%u have=%zu\n", f->channel, f->seq, f->len,
                         f->len ? f->payload[0] : 0, f->len >= 5 ? qcam_dl_get32(f->payload + 1) : 0, a->stage_have);
        ssize_t w = write(trace_fd, line, (size_t)n);
        (void)w;
    }
    a->frames_in++;
    /* Frames lost on the way show as a jump forward; a request sent again
     * (the same seq) or a late frame is no loss. */
    uint16_t ahead = (uint16_t)(f->seq - a->seq_next);
    bool hello = f->channel == QCAM_DL_CH_CONTROL && f->len >= 1 && f->payload[0] == DL_HELLO &&
                 !(f->flags & QCAM_DL_FLAG_REPLY);
    if (hello) a->seq_known = false; /* a new connection numbers afresh */
    if (!a->seq_known || ahead < 0x8000) {
        if (a->seq_known) a->lost += ahead;
        a->seq_known = true;
        a->seq_next = (uint16_t)(f->seq + 1);
    }
    if (f->len < 1 || (f->flags & QCAM_DL_FLAG_REPLY)) return;
    uint8_t type = f->payload[0];
    if (f->channel == QCAM_DL_CH_PUSH) {
        if (type == DL_DATA) on_data(a, f);
        return;
    }
    if (f->channel == QCAM_DL_CH_FILES) qcam_files_frame(a->files, f);
    if (f->channel == QCAM_DL_CH_REPL) qcam_repl_frame(a->repl, f);
    if (f->channel != QCAM_DL_CH_CONTROL) return; /* other channels: dropped */
    if (a->last_known && f->seq == a->last_seq && type == a->last_type && type != DL_HELLO && type != DL_STATS) {
        qcam_serve_send(a->s, QCAM_DL_CH_CONTROL, QCAM_DL_FLAG_REPLY, type, a->last_reply, a->last_reply_len, false);
        return;
    }
    switch (type) {
    case DL_HELLO: on_hello(a, f); break;
    case DL_PUSH: on_push(a, f); break;
    case DL_RUN: on_run(a, f); break;
    case DL_STOP: on_stop(a, f); break;
    case DL_RELOAD: on_reload(a, f); break;
    case DL_STATS: on_stats(a, f); break;
    case DL_STORE: { /* the app store: install.c */
        char body[QCAM_DL_MAX_PAYLOAD - 8];
        size_t n = 0;
        uint16_t st = qcam_serve_store(a->s, f->payload + 1, f->len - 1u, body, sizeof body, &n);
        reply(a, f, st, body, n);
        break;
    }
    default: reply_text(a, f, DL_UNKNOWN, "unknown control message %u", type); break;
    }
}

/* ---- I/O -------------------------------------------------------------------------- */

static void read_tty(agent *a)
{
    uint8_t buf[4096];
    for (int turns = 0; turns < 16; turns++) {
        ssize_t r = read(a->s->tty, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                a->tty_down = true; /* hung up: the other end is gone for now */
                a->tty_retry_us = qcam_now_us() + 100000;
            }
            return;
        }
        size_t at = 0;
        while (at < (size_t)r) {
            size_t used = 0;
            qcam_dl_event ev;
            qcam_dl_event_kind k = qcam_dl_decode(&a->dec, buf + at, (size_t)r - at, &used, &ev);
            at += used;
            if (k == QCAM_DL_FRAME) on_frame(a, &ev.frame);
            else if (k == QCAM_DL_JUNK) {
                a->junk++;
                a->junk_bytes += ev.junk_len;
            }
        }
    }
}

static void write_tty(agent *a)
{
    qcam_serve *s = a->s;
    pthread_mutex_lock(&s->out_lock);
    while (s->out_off < s->out_len) {
        ssize_t w = write(s->tty, s->out + s->out_off, s->out_len - s->out_off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                /* The line is gone: what was queued for it is lost. */
                s->out_off = s->out_len;
                a->tty_down = true;
                a->tty_retry_us = qcam_now_us() + 100000;
            }
            break;
        }
        s->out_off += (size_t)w;
    }
    if (s->out_off == s->out_len) {
        s->out_off = s->out_len = 0;
        s->console_queued = 0;
    } else if (s->console_queued > s->out_len - s->out_off) {
        s->console_queued = s->out_len - s->out_off;
    }
    uint32_t dropped = s->console_dropped;
    s->console_dropped = 0;
    pthread_mutex_unlock(&s->out_lock);
    if (dropped) {
        uint8_t b[4];
        qcam_dl_put32(b, dropped);
        qcam_serve_send(s, QCAM_DL_CH_CONSOLE, 0, DL_DROPPED, b, 4, false);
    }
}

/* Forward what the app wrote; returns whether a pipe is still open. */
static void read_console(agent *a)
{
    qcam_serve *s = a->s;
    uint8_t buf[QCAM_DL_MAX_PAYLOAD - 1];
    for (int k = 0; k < 2; k++) {
        for (int turns = 0; turns < 64; turns++) {
            ssize_t r = read(s->console_fd[k], buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            if (s->echo_fd[k] >= 0) {
                ssize_t e = write(s->echo_fd[k], buf, (size_t)r);
                (void)e;
            }
            qcam_serve_send(s, QCAM_DL_CH_CONSOLE, 0, k == 0 ? DL_STDOUT : DL_STDERR, buf, (size_t)r, true);
        }
    }
}

static void *agent_main(void *arg)
{
    static agent ag;
    agent *a = &ag;
    a->s = arg;
    qcam_serve *s = a->s;
    qcam_dl_decoder_init(&a->dec);
    a->ooo_next = SIZE_MAX;
    a->stage_fd = -1;
    qcam_platform_name_thread("qcam-devlink");
    if (getenv("QCAM_DL_TRACE")) trace_fd = s->echo_fd[1];
    a->files = qcam_files_new(s, s->opts.sdcard_dir);
    a->repl = qcam_repl_new(s);
    /* A host still connected from before (a board reset) learns that it
     * must run its app again. */
    qcam_serve_event(s, "event=boot\nruntime=%s\n", QCAM_VERSION);
    for (;;) {
        pthread_mutex_lock(&s->out_lock);
        bool pending_out = s->out_off < s->out_len;
        pthread_mutex_unlock(&s->out_lock);
        if (a->tty_down && qcam_now_us() >= a->tty_retry_us) a->tty_down = false;
        struct pollfd p[4] = {
            {.fd = a->tty_down ? -1 : s->tty, .events = (short)(POLLIN | (pending_out ? POLLOUT : 0))},
            {.fd = s->console_fd[0], .events = POLLIN},
            {.fd = s->console_fd[1], .events = POLLIN},
            {.fd = s->wake[0], .events = POLLIN},
        };
        int r = poll(p, 4, a->tty_down ? 100 : -1);
        if (r < 0 && errno != EINTR) break;
        char junk[64];
        while (read(s->wake[0], junk, sizeof junk) > 0) {}
        read_console(a);
        qcam_serve_flush_events(a->s);
        if (!a->tty_down && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) read_tty(a);
        if (!a->tty_down) write_tty(a);
        pthread_mutex_lock(&s->lock);
        bool quit = s->quit;
        pthread_mutex_unlock(&s->lock);
        if (quit) break;
    }
    stage_close(a); /* its files stay: the next start goes on from them */
    if (a->card) qcam_fs_card_close(a->card);
    qcam_files_free(a->files);
    qcam_repl_free(a->repl);
    return NULL;
}

int qcam_agent_start(qcam_serve *s, pthread_t *thread)
{
    /* The agent must never be the thread a process-directed signal lands on. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int r = pthread_create(thread, NULL, agent_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r == 0 ? 0 : -1;
}
