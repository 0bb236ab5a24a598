/* The app store over the dev link (docs/dev-link.md, "store"; docs/app-store.md):
 * `qcam flash --port` pushes an image (staged and verified by the push
 * channel, resumable) and then asks for it to be installed; `qcam apps`,
 * `rollback` and `remove --port` ask the same store code the card's
 * command line uses. One request at a time, on the agent thread, with the
 * runner held idle (s->lock) so no trial starts meanwhile. While an app
 * runs, a request that writes (install, rollback, remove) is answered `busy`
 * and the host stops the app first; one that only reads (apps, base) is
 * answered at once: a trial's state writes are atomic renames, so a read
 * sees the record before or after one, never half of it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "../app.h"
#include "../sha256.h"
#include "../store/store.h"
#include "serve.h"

static int hex_hash(const char *hex, uint8_t out[32])
{
    if (strlen(hex) != 64) return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n > 0 && (size_t)n <= QCAM_SERVE_MAX_IMAGE && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *len = (size_t)n;
    return buf;
}

/* The store's answer: `code=N` and `message=` on a refusal, else JSON. */
static uint16_t refused(char *out, size_t cap, size_t *out_len, int code, const char *msg)
{
    int n = snprintf(out, cap, "code=%d\nmessage=%s\n", code, msg);
    *out_len = n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
    return DL_REFUSED;
}

/* op=base id=<id>: the image installed for `id` (its good slot; without one,
 * the slot on trial), as a base a push may be a delta against: copied into
 * the push cache if it is not there, then its sha256 as `image=<hex>`. */
static uint16_t base_op(qcam_serve *s, qcam_fs_card *card, const char *id, char *out, size_t cap,
                        size_t *out_len)
{
    qcam_app_state st;
    char msg[160];
    if (!id[0] || qcam_store_read_state(card, id, &st) != 0 || st.removed || !(st.active || st.pending))
        return refused(out, cap, out_len, QCAM_STORE_ERR_NOT_INSTALLED, "no such app installed");
    char board[200], real[600], cache[600], tmp[640], hex[65];
    snprintf(board, sizeof board, "/sdcard/qcam/apps/%s/%c/app.qcam", id, st.active ? st.active : st.pending);
    size_t n = 0;
    uint8_t *img = qcam_fs_map(card, board, real, sizeof real) == 0 ? read_whole(real, &n) : NULL;
    if (!img) return refused(out, cap, out_len, QCAM_STORE_ERR_IO, "cannot read the installed image");
    uint8_t hash[32];
    qcam_sha256(img, n, hash);
    qcam_hex(hash, 32, hex);
    qcam_serve_image_path(s, hash, cache, sizeof cache);
    if (access(cache, F_OK) != 0) {
        snprintf(tmp, sizeof tmp, "%s.base", cache);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        size_t off = 0;
        while (fd >= 0 && off < n) {
            ssize_t w = write(fd, img + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
        bool ok = fd >= 0 && off == n && fsync(fd) == 0;
        if (fd >= 0) close(fd);
        if (!ok || rename(tmp, cache) != 0) {
            unlink(tmp);
            free(img);
            snprintf(msg, sizeof msg, "cannot keep the installed image as a base: %s", strerror(errno));
            return refused(out, cap, out_len, QCAM_STORE_ERR_IO, msg);
        }
    }
    free(img);
    int k = snprintf(out, cap, "image=%s\nslot=%c\n", hex, st.active ? st.active : st.pending);
    *out_len = k < 0 ? 0 : (size_t)k;
    return DL_OK;
}

static uint16_t run_op(qcam_serve *s, qcam_fs_card *card, const uint8_t *body, size_t len,
                       char *out, size_t cap, size_t *out_len)
{
    char op[16], arg[80], msg[320];
    qcam_app_state st;
    qcam_kv_field(body, len, "op", op, sizeof op);
    if (strcmp(op, "base") == 0) {
        qcam_kv_field(body, len, "id", arg, sizeof arg);
        return base_op(s, card, arg, out, cap, out_len);
    }
    FILE *mem = NULL;
    int code = 0;
    if (strcmp(op, "install") == 0) {
        uint8_t hash[32];
        char path[600];
        qcam_kv_field(body, len, "image", arg, sizeof arg);
        if (hex_hash(arg, hash) != 0) return refused(out, cap, out_len, QCAM_EXIT_USAGE, "install wants image=<sha256>");
        qcam_serve_image_path(s, hash, path, sizeof path);
        size_t n = 0;
        uint8_t *img = read_whole(path, &n);
        if (!img) return refused(out, cap, out_len, QCAM_IMG_ERR_READ, "no pushed image with that hash on the board");
        qcam_store_install_opts o = {0};
        qcam_kv_field(body, len, "autostart", arg, sizeof arg);
        o.autostart = strcmp(arg, "1") == 0;
        qcam_kv_field(body, len, "allow_downgrade", arg, sizeof arg);
        o.allow_downgrade = strcmp(arg, "1") == 0;
        code = qcam_store_install(card, img, n, &o, &st, msg, sizeof msg);
        free(img);
    } else if (strcmp(op, "rollback") == 0) {
        qcam_kv_field(body, len, "id", arg, sizeof arg);
        code = qcam_store_rollback(card, arg, &st, msg, sizeof msg);
    } else if (strcmp(op, "remove") == 0) {
        qcam_kv_field(body, len, "id", arg, sizeof arg);
        code = qcam_store_remove(card, arg, msg, sizeof msg);
    } else if (strcmp(op, "apps") != 0) {
        return refused(out, cap, out_len, QCAM_EXIT_USAGE, "unknown store op (install, apps, rollback, remove)");
    }
    if (code != 0) return refused(out, cap, out_len, code, msg);
    mem = fmemopen(out, cap, "w");
    if (!mem) return refused(out, cap, out_len, QCAM_STORE_ERR_IO, strerror(errno));
    if (strcmp(op, "apps") == 0) qcam_store_list(card, mem);
    else if (strcmp(op, "remove") == 0) fprintf(mem, "{\"id\":\"%s\",\"removed\":true}\n", arg);
    else qcam_store_state_json(&st, mem);
    long at = ftell(mem);
    fclose(mem);
    *out_len = at < 0 ? 0 : (size_t)at >= cap ? cap - 1 : (size_t)at;
    return DL_OK;
}

uint16_t qcam_serve_store(qcam_serve *s, const uint8_t *body, size_t len, char *out, size_t cap,
                          size_t *out_len)
{
    *out_len = 0;
    char op[16];
    qcam_kv_field(body, len, "op", op, sizeof op);
    pthread_mutex_lock(&s->lock);
    /* apps and base only read the store (base also fills the push cache): fine while an app runs. */
    if ((s->running || s->pending) && strcmp(op, "base") != 0 && strcmp(op, "apps") != 0) {
        pthread_mutex_unlock(&s->lock);
        int n = snprintf(out, cap, "an app is running: stop it first\n");
        *out_len = n < 0 ? 0 : (size_t)n;
        return DL_BUSY;
    }
    /* Held: the runner cannot start an app (or a trial) until the store is done. */
    qcam_fs_card *card = qcam_fs_card_open(s->opts.sdcard_dir, s->opts.sdcard_cap);
    uint16_t status = card ? run_op(s, card, body, len, out, cap, out_len)
                           : refused(out, cap, out_len, QCAM_STORE_ERR_IO, "cannot open the card");
    if (card) qcam_fs_card_close(card);
    pthread_mutex_unlock(&s->lock);
    return status;
}
