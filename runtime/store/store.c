/* The app store: install into the inactive slot, the state record as the
 * commit marker, trial boot and rollback (store.h, docs/app-store.md). */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app.h"
#include "../devlink/control.h"
#include "../build_facts.h"
#include "../image.h"
#include "../loop.h"
#include "../platform.h"

#define STORE_ROOT "/sdcard/qcam"
#define APPS_DIR STORE_ROOT "/apps"
#define AUTOSTART_FILE STORE_ROOT "/autostart"
#define KEYS_FILE STORE_ROOT "/keys"
#define MAX_IMAGE (64u << 20)

struct qcam_trial {
    qcam_fs_card *card;
    qcam_app_state st;
    char slot;
    long long start_us;
    bool done; /* marked good (or tried and failed to write) */
    /* The hang watchdog (QCAM_TRIAL_HANG_MS): the main thread stamps
     * alive_us, the interrupt handler and the watchdog thread read it. */
    long long hang_ms;
    _Atomic long long alive_us;
    atomic_bool hung;       /* the interrupt handler stopped it */
    atomic_bool finished;   /* the run is over: the watchdog thread ends */
    atomic_bool waiting;    /* the loop waits for work: not a hang */
    pthread_t watchdog;
    bool watching;
    qcam_app_state at_start; /* the watchdog thread's own copy of st */
};

static int fail(int code, char *msg, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(int code, char *msg, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    return code;
}

static int slot_index(char s) { return s == 'b' ? 1 : 0; }

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > QCAM_STORE_ID_MAX || id[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* A string field of the manifest our packer writes (JSON.stringify of plain
 * strings): "key":"value" with no escapes in value. 0 or -1. */
static int manifest_field(const uint8_t *json, size_t len, const char *key, char *out, size_t n)
{
    char pat[40];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    size_t pl = strlen(pat);
    for (size_t i = 0; i + pl <= len; i++) {
        if (memcmp(json + i, pat, pl) != 0) continue;
        size_t j = i + pl, o = 0;
        while (j < len && json[j] != '"') {
            if (json[j] == '\\' || json[j] < 0x20 || o + 1 >= n) return -1;
            out[o++] = (char)json[j++];
        }
        if (j >= len) return -1;
        out[o] = 0;
        return 0;
    }
    return -1;
}

/* Dotted numeric versions: "1.10.0" > "1.9.2"; a "-pre" suffix sorts below
 * the release; other text compares bytewise. */
static int version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            char *ea, *eb;
            unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
            if (x != y) return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a == '.' && *b == '.') {
            a++;
            b++;
            continue;
        }
        if (*a == 0) return *b == '-' ? 1 : -1;
        if (*b == 0) return *a == '-' ? -1 : 1;
        if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return 0;
}

static void app_path(char *out, size_t n, const char *id, const char *rest)
{
    snprintf(out, n, APPS_DIR "/%s%s", id, rest);
}

/* ---- reading files through the HAL -------------------------------------- */

static int read_all(qcam_fs_card *card, const char *board_path, uint8_t **buf, size_t *len,
                    size_t max)
{
    int fd = qcam_fs_open(card, board_path, QCAM_FS_READ);
    if (fd < 0) return fd;
    qcam_fs_stat_info si;
    int r = qcam_fs_fstat(fd, &si);
    if (r == 0 && si.size > max) r = -EFBIG;
    uint8_t *b = NULL;
    size_t got = 0;
    if (r == 0) {
        b = malloc(si.size + 1);
        if (!b) r = -ENOMEM;
    }
    while (r == 0 && got < si.size) {
        ssize_t k = qcam_fs_read(fd, b + got, si.size - got, (int64_t)got);
        if (k < 0) r = (int)k;
        else if (k == 0) break;
        else got += (size_t)k;
    }
    qcam_fs_close(fd);
    if (r != 0) {
        free(b);
        return r;
    }
    b[got] = 0;
    *buf = b;
    *len = got;
    return 0;
}

/* ---- the state record ---------------------------------------------------- */

int qcam_store_read_state(qcam_fs_card *card, const char *id, qcam_app_state *st)
{
    char p[512];
    memset(st, 0, sizeof *st);
    if (!valid_id(id)) return -EINVAL;
    snprintf(st->id, sizeof st->id, "%s", id);
    app_path(p, sizeof p, id, "/state");
    uint8_t *buf;
    size_t len;
    int r = read_all(card, p, &buf, &len, 16384);
    if (r != 0) return r;
    r = qcam_state_parse((const char *)buf, len, st);
    free(buf);
    return r;
}

int qcam_store_write_state(qcam_fs_card *card, qcam_app_state *st)
{
    char p[512], text[1024];
    st->seq++;
    int n = snprintf(text, sizeof text,
                     QCAM_STATE_MAGIC "\nseq %u\nactive %c\npending %c\ntries %d\nversion.a %s\n"
                                 "version.b %s\nrollback %s\n%send\n",
                     st->seq, st->active ? st->active : '-', st->pending ? st->pending : '-',
                     st->pending ? st->tries : 0, st->version[0], st->version[1], st->rollback,
                     st->removed ? "removed 1\n" : "");
    if (n < 0 || (size_t)n >= sizeof text) return -ENAMETOOLONG;
    app_path(p, sizeof p, st->id, "/state");
    return qcam_fs_write_file(card, p, text, (size_t)n);
}

int qcam_store_autostart(qcam_fs_card *card, char *id, size_t n)
{
    uint8_t *buf;
    size_t len;
    id[0] = 0;
    int r = read_all(card, AUTOSTART_FILE, &buf, &len, 256);
    if (r == -ENOENT) return 0;
    if (r != 0) return r;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) buf[--len] = 0;
    snprintf(id, n, "%s", (char *)buf);
    free(buf);
    return 0;
}

/* Remove the temporary files a cut write_file may have left in `dir`. */
static void sweep_tmp(qcam_fs_card *card, const char *dir)
{
    char **names;
    size_t count;
    if (qcam_fs_list(card, dir, &names, &count) != 0) return;
    for (size_t i = 0; i < count; i++) {
        size_t l = strlen(names[i]);
        if (names[i][0] == '.' && l > 4 && strcmp(names[i] + l - 4, ".tmp") == 0) {
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, names[i]);
            qcam_fs_remove(card, p);
        }
    }
    qcam_fs_list_free(names, count);
}

/* ---- install --------------------------------------------------------------- */

/* Make `id` the autostart app (atomically), unless it is already. 0 or -errno. */
static int set_autostart(qcam_fs_card *card, const char *id)
{
    char cur[128];
    if (qcam_store_autostart(card, cur, sizeof cur) == 0 && strcmp(cur, id) == 0) return 0;
    char line[QCAM_STORE_ID_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", id);
    return qcam_fs_write_file(card, AUTOSTART_FILE, line, (size_t)n);
}

int qcam_store_install(qcam_fs_card *card, const uint8_t *buf, size_t len,
                       const qcam_store_install_opts *o, qcam_app_state *out, char *msg,
                       size_t msg_len)
{
    qcam_image_expect ex;
    qcam_image img;
    char id[QCAM_STORE_ID_MAX + 1], version[QCAM_STORE_VERSION_MAX + 1];
    qcam_build_expect(&ex);
    int code = qcam_image_verify(buf, len, &ex, &img, msg, msg_len);
    if (code != QCAM_IMG_OK) return code;
    if ((code = qcam_store_check_trust(card, &img, msg, msg_len)) != 0) return code;
    const qcam_image_section *man = qcam_image_find(&img, QCAM_SECTION_MANIFEST);
    if (!man || manifest_field(man->data, man->size, "id", id, sizeof id) != 0 || !valid_id(id))
        return fail(QCAM_STORE_ERR_ID, msg, msg_len,
                    "the image has no usable app id (letters, digits, _ . -; at most %d)",
                    QCAM_STORE_ID_MAX);
    if (manifest_field(man->data, man->size, "version", version, sizeof version) != 0)
        snprintf(version, sizeof version, "0.0.0");

    qcam_app_state st;
    int r = qcam_store_read_state(card, id, &st);
    if (r == -ENOENT) {
        memset(&st, 0, sizeof st);
        snprintf(st.id, sizeof st.id, "%s", id);
    } else if (r != 0) {
        return fail(QCAM_STORE_ERR_STATE, msg, msg_len, "cannot read the state of %s: %s", id,
                    strerror(r == -EBADMSG ? EBADMSG : -r));
    }
    /* The same bytes already in the good slot or on trial: nothing to write
     * (an unchanged re-flash), but --autostart still applies. */
    for (int k = 0; k < 2; k++) {
        char s = k == 0 ? st.pending : st.active;
        if (!s || strcmp(st.version[slot_index(s)], version) != 0) continue;
        char file[192];
        uint8_t *have;
        size_t have_len;
        snprintf(file, sizeof file, APPS_DIR "/%s/%c/app.qcam", id, s);
        if (read_all(card, file, &have, &have_len, MAX_IMAGE) != 0) continue;
        bool same = have_len == len && memcmp(have, buf, len) == 0;
        free(have);
        if (!same) continue;
        if (o->autostart && (r = set_autostart(card, id)) != 0)
            return fail(QCAM_STORE_ERR_IO, msg, msg_len, "writing the autostart line failed: %s",
                        strerror(-r));
        if (out) *out = st;
        return 0;
    }
    const char *installed = st.active ? st.version[slot_index(st.active)] : "";
    if (*installed && !o->allow_downgrade && version_cmp(version, installed) < 0)
        return fail(QCAM_STORE_ERR_DOWNGRADE, msg, msg_len,
                    "%s %s is older than the installed %s (use --allow-downgrade)", id, version,
                    installed);
    qcam_fs_space_info sp;
    r = qcam_fs_space(card, "/sdcard", &sp);
    if (r != 0)
        return fail(QCAM_STORE_ERR_IO, msg, msg_len, "cannot read the card's free space: %s",
                    strerror(-r));
    if (sp.available < 2 * (uint64_t)len)
        return fail(QCAM_STORE_ERR_SPACE, msg, msg_len,
                    "not enough free space: %zu bytes needed (twice the image), %llu free",
                    2 * len, (unsigned long long)sp.available);

    /* Nothing written until here. The slot that is not the good one. */
    char slot = st.active == 'a' ? 'b' : 'a';
    char dir[160], file[192], appdir[128];
    app_path(appdir, sizeof appdir, id, "");
    snprintf(dir, sizeof dir, APPS_DIR "/%s/%c", id, slot);
    snprintf(file, sizeof file, APPS_DIR "/%s/%c/app.qcam", id, slot);
    sweep_tmp(card, appdir);
    sweep_tmp(card, dir);
    if (st.pending == slot || st.version[slot_index(slot)][0]) {
        /* What the slot held (a version on trial, or the previous good one a
         * rollback could return to) gives way: say so before overwriting it. */
        if (st.pending == slot) st.pending = 0;
        st.version[slot_index(slot)][0] = 0;
        if ((r = qcam_store_write_state(card, &st)) != 0) goto io;
    }
    if ((r = qcam_fs_mkdir(card, dir, true)) != 0) goto io;
    if ((r = qcam_fs_write_file(card, file, buf, len)) != 0) goto io;

    /* Verify what landed, not what we meant to write. */
    uint8_t *back;
    size_t back_len;
    if ((r = read_all(card, file, &back, &back_len, MAX_IMAGE)) != 0) goto io;
    char vmsg[256];
    int vcode = back_len == len && memcmp(back, buf, len) == 0
                    ? qcam_image_verify(back, back_len, &ex, &img, vmsg, sizeof vmsg)
                    : QCAM_IMG_ERR_CHECKSUM;
    free(back);
    if (vcode != QCAM_IMG_OK)
        return fail(QCAM_STORE_ERR_IO, msg, msg_len,
                    "the image read back from slot %c differs from what was written", slot);

    /* Commit: the state record, written last. */
    snprintf(st.version[slot_index(slot)], sizeof st.version[0], "%s", version);
    st.pending = slot;
    st.tries = QCAM_STORE_TRIES;
    if ((r = qcam_store_write_state(card, &st)) != 0) goto io;
    if (o->autostart && (r = set_autostart(card, id)) != 0) goto io;
    if (out) *out = st;
    return 0;
io:
    return fail(QCAM_STORE_ERR_IO, msg, msg_len, "writing %s to the card failed: %s", id,
                strerror(-r));
}

/* ---- signatures: the board's trusted keys ------------------------------------ */

/* The trusted keys: 0 (none: *n = 0), -EBADMSG for a malformed line, -errno. */
static int read_keys(qcam_fs_card *card, uint8_t keys[][QCAM_IMAGE_PUBKEY_SIZE], size_t *n)
{
    uint8_t *buf;
    size_t len;
    *n = 0;
    int r = read_all(card, KEYS_FILE, &buf, &len, 16384);
    if (r == -ENOENT) return 0;
    if (r != 0) return r;
    r = qcam_keys_parse((const char *)buf, len, keys, QCAM_STORE_MAX_KEYS, n);
    free(buf);
    return r;
}

int qcam_store_check_trust(qcam_fs_card *card, const qcam_image *img, char *msg, size_t msg_len)
{
    uint8_t keys[QCAM_STORE_MAX_KEYS][QCAM_IMAGE_PUBKEY_SIZE];
    size_t n;
    int r = read_keys(card, keys, &n);
    if (r != 0)
        return fail(QCAM_STORE_ERR_KEYS, msg, msg_len, "the board's key list (%s) cannot be read: %s",
                    KEYS_FILE, r == -EBADMSG ? "a line is not a 64-hex-digit key" : strerror(-r));
    if (n == 0) return 0;
    if (!img->signer)
        return fail(QCAM_STORE_ERR_UNSIGNED, msg, msg_len,
                    "unsigned image: this board runs only images signed by one of its %zu key%s "
                    "(qcam build --sign KEY)", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        if (memcmp(keys[i], img->signer, QCAM_IMAGE_PUBKEY_SIZE) == 0) return 0;
    const uint8_t *k = img->signer;
    return fail(QCAM_STORE_ERR_UNTRUSTED, msg, msg_len,
                "signed by key %02x%02x%02x%02x..., which this board does not trust "
                "(qcam trust KEY.pub adds a key)", k[0], k[1], k[2], k[3]);
}

int qcam_store_trust_key(qcam_fs_card *card, const char *hex, char *msg, size_t msg_len)
{
    uint8_t key[QCAM_IMAGE_PUBKEY_SIZE];
    if (qcam_hex_key(hex, strlen(hex), key) != 0)
        return fail(QCAM_STORE_ERR_KEYS, msg, msg_len, "a public key is 64 hex digits");
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = read_all(card, KEYS_FILE, &buf, &len, 16384);
    if (r == -ENOENT) r = 0, buf = NULL, len = 0;
    if (r != 0) return fail(QCAM_STORE_ERR_KEYS, msg, msg_len, "cannot read %s: %s", KEYS_FILE, strerror(-r));
    uint8_t keys[QCAM_STORE_MAX_KEYS][QCAM_IMAGE_PUBKEY_SIZE];
    size_t n;
    r = read_keys(card, keys, &n);
    bool have = false;
    for (size_t i = 0; r == 0 && i < n; i++) have |= memcmp(keys[i], key, sizeof key) == 0;
    if (r == 0 && !have && n >= QCAM_STORE_MAX_KEYS) r = -ENOSPC;
    if (r != 0) {
        free(buf);
        return fail(QCAM_STORE_ERR_KEYS, msg, msg_len, "the board's key list cannot take the key: %s",
                    r == -EBADMSG ? "a line is not a 64-hex-digit key" : strerror(-r));
    }
    if (!have) {
        size_t cap = len + 2 * QCAM_IMAGE_PUBKEY_SIZE + 2;
        char *text = malloc(cap);
        if (!text) {
            free(buf);
            return fail(QCAM_STORE_ERR_IO, msg, msg_len, "out of memory");
        }
        size_t o = 0;
        if (len) {
            memcpy(text, buf, len);
            o = len;
            if (text[o - 1] != '\n') text[o++] = '\n';
        }
        for (size_t i = 0; i < QCAM_IMAGE_PUBKEY_SIZE; i++) o += (size_t)sprintf(text + o, "%02x", key[i]);
        text[o++] = '\n';
        if ((r = qcam_fs_mkdir(card, STORE_ROOT, true)) == 0) r = qcam_fs_write_file(card, KEYS_FILE, text, o);
        free(text);
    }
    free(buf);
    if (r != 0) return fail(QCAM_STORE_ERR_IO, msg, msg_len, "writing %s failed: %s", KEYS_FILE, strerror(-r));
    return 0;
}

/* ---- rollback and remove by hand ------------------------------------------------ */

/* The verified image in `slot` may run here, and is `version`: 0 or a message. */
static int slot_ok(qcam_fs_card *card, const char *id, char slot, const char *version, char *why,
                   size_t why_len)
{
    char file[512];
    snprintf(file, sizeof file, APPS_DIR "/%s/%c/app.qcam", id, slot);
    uint8_t *buf;
    size_t len;
    int r = read_all(card, file, &buf, &len, MAX_IMAGE);
    if (r != 0) {
        snprintf(why, why_len, "cannot read slot %c: %s", slot, strerror(-r));
        return -1;
    }
    qcam_image_expect ex;
    qcam_image img;
    char msg[256], v[QCAM_STORE_VERSION_MAX + 1];
    qcam_build_expect(&ex);
    int code = qcam_image_verify(buf, len, &ex, &img, msg, sizeof msg);
    if (code == 0) code = qcam_store_check_trust(card, &img, msg, sizeof msg);
    const qcam_image_section *man = code == 0 ? qcam_image_find(&img, QCAM_SECTION_MANIFEST) : NULL;
    if (code != 0) snprintf(why, why_len, "slot %c does not verify: %.200s", slot, msg);
    else if (!man || manifest_field(man->data, man->size, "version", v, sizeof v) != 0 ||
             strcmp(v, version) != 0)
        snprintf(why, why_len, "slot %c does not hold %.64s", slot, version), code = -1;
    free(buf);
    return code == 0 ? 0 : -1;
}

int qcam_store_rollback(qcam_fs_card *card, const char *id, qcam_app_state *out, char *msg,
                        size_t msg_len)
{
    qcam_app_state st;
    int r = qcam_store_read_state(card, id, &st);
    if (r == -ENOENT || r == -EINVAL)
        return fail(QCAM_STORE_ERR_NOT_INSTALLED, msg, msg_len, "%s is not installed", id);
    if (r != 0)
        return fail(QCAM_STORE_ERR_STATE, msg, msg_len, "cannot read the state of %s: %s", id,
                    strerror(-r));
    if (st.pending) {
        /* The version on trial goes; the good one (if any) stays. */
        snprintf(st.rollback, sizeof st.rollback, "%.60s in slot %c: rolled back by hand (on trial)",
                 st.version[slot_index(st.pending)], st.pending);
        st.pending = 0;
    } else {
        char other = st.active == 'a' ? 'b' : 'a';
        const char *ov = st.version[slot_index(other)];
        if (!st.active || !ov[0])
            return fail(QCAM_STORE_ERR_NO_ROLLBACK, msg, msg_len,
                        "%s has no other version to go back to", id);
        char why[300];
        if (slot_ok(card, id, other, ov, why, sizeof why) != 0)
            return fail(QCAM_STORE_ERR_NO_ROLLBACK, msg, msg_len,
                        "%s cannot go back to %.64s: %.200s", id, ov, why);
        snprintf(st.rollback, sizeof st.rollback, "%.60s in slot %c: rolled back by hand to %.60s",
                 st.version[slot_index(st.active)], st.active, ov);
        st.active = other;
    }
    if ((r = qcam_store_write_state(card, &st)) != 0)
        return fail(QCAM_STORE_ERR_IO, msg, msg_len, "writing the state of %s failed: %s", id,
                    strerror(-r));
    if (out) *out = st;
    return 0;
}

int qcam_store_remove(qcam_fs_card *card, const char *id, char *msg, size_t msg_len)
{
    if (!valid_id(id)) return fail(QCAM_STORE_ERR_NOT_INSTALLED, msg, msg_len, "%s is not installed", id);
    char appdir[160];
    app_path(appdir, sizeof appdir, id, "");
    qcam_app_state st;
    int r = qcam_store_read_state(card, id, &st);
    qcam_fs_stat_info si;
    if (r == -ENOENT) {
        /* Not installed, or a removal a cut left half done: finish it. */
        if (qcam_fs_stat(card, appdir, &si) != 0)
            return fail(QCAM_STORE_ERR_NOT_INSTALLED, msg, msg_len, "%s is not installed", id);
    } else if (r != 0 && r != -EBADMSG) {
        return fail(QCAM_STORE_ERR_STATE, msg, msg_len, "cannot read the state of %s: %s", id,
                    strerror(-r));
    } else {
        /* The commit: a record that says the app is gone. */
        snprintf(st.id, sizeof st.id, "%s", id);
        st.removed = true;
        st.active = st.pending = 0;
        if ((r = qcam_store_write_state(card, &st)) != 0)
            return fail(QCAM_STORE_ERR_IO, msg, msg_len, "writing the state of %s failed: %s", id,
                        strerror(-r));
    }
    char cur[128];
    if (qcam_store_autostart(card, cur, sizeof cur) == 0 && strcmp(cur, id) == 0 &&
        (r = qcam_fs_remove(card, AUTOSTART_FILE)) != 0 && r != -ENOENT)
        return fail(QCAM_STORE_ERR_IO, msg, msg_len, "removing the autostart line failed: %s",
                    strerror(-r));
    if ((r = qcam_fs_remove_tree(card, appdir)) != 0 && r != -ENOENT)
        return fail(QCAM_STORE_ERR_IO, msg, msg_len, "removing %s's slots failed: %s", id,
                    strerror(-r));
    return 0;
}

/* ---- listing ----------------------------------------------------------------- */

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

void qcam_store_state_json(const qcam_app_state *st, FILE *out)
{
    char a[2] = {st->active, 0}, p[2] = {st->pending, 0};
    fputs("{\"id\":", out);
    json_str(out, st->id);
    fputs(",\"active\":", out);
    st->active ? json_str(out, a) : (void)fputs("null", out);
    fputs(",\"activeVersion\":", out);
    st->active ? json_str(out, st->version[slot_index(st->active)]) : (void)fputs("null", out);
    fputs(",\"pending\":", out);
    st->pending ? json_str(out, p) : (void)fputs("null", out);
    fputs(",\"pendingVersion\":", out);
    st->pending ? json_str(out, st->version[slot_index(st->pending)]) : (void)fputs("null", out);
    fprintf(out, ",\"tries\":%d,\"rollback\":", st->pending ? st->tries : 0);
    st->rollback[0] ? json_str(out, st->rollback) : (void)fputs("null", out);
    fputs("}\n", out);
}

int qcam_store_list(qcam_fs_card *card, FILE *out)
{
    char **names;
    size_t count;
    int r = qcam_fs_list(card, APPS_DIR, &names, &count);
    if (r == -ENOENT) return 0;
    if (r != 0) return r;
    for (size_t i = 0; i < count; i++) {
        qcam_app_state st;
        if (!valid_id(names[i])) continue;
        int e = qcam_store_read_state(card, names[i], &st);
        if (e == 0) qcam_store_state_json(&st, out);
        else if (e != -ENOENT) {
            fputs("{\"id\":", out);
            json_str(out, names[i]);
            fprintf(out, ",\"error\":\"%s\"}\n", e == -EBADMSG ? "unreadable state" : strerror(-e));
        }
    }
    qcam_fs_list_free(names, count);
    return 0;
}

/* ---- trial boot ---------------------------------------------------------------- */

int qcam_trial_mark_good(qcam_trial *t)
{
    if (!t || t->done) return 0;
    t->done = true;
    atomic_store(&t->finished, true); /* good: the watchdog stands down */
    qcam_app_state st = t->st;
    st.active = t->slot;
    st.pending = 0;
    st.tries = 0;
    int r = qcam_store_write_state(t->card, &st);
    if (r != 0) return r;
    t->st = st;
    fprintf(stderr, "qcam-store: %s %s in slot %c is good\n", st.id,
            st.version[slot_index(t->slot)], t->slot);
    return 1;
}

void qcam_trial_tick(qcam_trial *t)
{
    if (t && !t->done && qcam_now_us() - t->start_us >= (long long)QCAM_TRIAL_GOOD_MS * 1000)
        qcam_trial_mark_good(t);
}

void qcam_trial_alive(qcam_trial *t)
{
    if (t) atomic_store(&t->alive_us, qcam_now_us());
}

void qcam_trial_waiting(qcam_trial *t, bool on)
{
    if (!t) return;
    atomic_store(&t->alive_us, qcam_now_us());
    atomic_store(&t->waiting, on);
}

static bool silent_for(qcam_trial *t, long long ms)
{
    return !atomic_load(&t->waiting) && qcam_now_us() - atomic_load(&t->alive_us) >= ms * 1000;
}

bool qcam_trial_hung(qcam_trial *t)
{
    if (!t || t->done) return false;
    if (atomic_load(&t->hung)) return true;
    if (!silent_for(t, t->hang_ms)) return false;
    atomic_store(&t->hung, true);
    fflush(stdout);
    fprintf(stderr, "qcam-store: %s on trial hung (no needExit() or loop turn for %lld ms): stopped\n",
            t->st.id, t->hang_ms);
    return true;
}

/* Blocked outside JavaScript, where the interrupt handler cannot reach: end
 * the process as a board's watchdog resets it. The try was recorded before the
 * run; on the last one the rollback is recorded too (the main thread is stuck
 * in the app and touches no state). */
static void *watchdog_main(void *arg)
{
    qcam_trial *t = arg;
    while (!atomic_load(&t->finished)) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (atomic_load(&t->finished) || !silent_for(t, t->hang_ms + QCAM_TRIAL_HANG_GRACE_MS))
            continue;
        qcam_app_state st = t->at_start;
        fflush(stdout);
        fprintf(stderr, "qcam-store: %s on trial blocked for %lld ms: watchdog reset\n", st.id,
                t->hang_ms + QCAM_TRIAL_HANG_GRACE_MS);
        if (st.tries <= 0) {
            snprintf(st.rollback, sizeof st.rollback,
                     "%.40s in slot %c: hung (blocked, watchdog reset), every try used",
                     st.version[slot_index(t->slot)], t->slot);
            st.pending = 0;
            if (qcam_store_write_state(t->card, &st) == 0)
                fprintf(stderr, "qcam-store: rollback: %s\n", st.rollback);
        }
        fflush(stderr);
        _exit(QCAM_EXIT_HUNG);
    }
    return NULL;
}

static long long hang_ms_setting(void)
{
    const char *e = getenv("QCAM_TRIAL_HANG_MS");
    long long v = e ? atoll(e) : 0;
    return v > 0 ? v : QCAM_TRIAL_HANG_MS;
}

/* Read and verify the image in `slot`; run it. *ran says whether it ran. */
static int run_slot(qcam_fs_card *card, const qcam_run_options *opts, const char *id, char slot,
                    bool *ran, char *why, size_t why_len)
{
    char file[512];
    snprintf(file, sizeof file, APPS_DIR "/%s/%c/app.qcam", id, slot);
    uint8_t *buf;
    size_t len;
    *ran = false;
    int r = read_all(card, file, &buf, &len, MAX_IMAGE);
    if (r != 0) {
        snprintf(why, why_len, "cannot read slot %c: %s", slot, strerror(-r));
        return QCAM_IMG_ERR_READ;
    }
    qcam_image_expect ex;
    qcam_image img;
    char msg[256];
    qcam_build_expect(&ex);
    int code = qcam_image_verify(buf, len, &ex, &img, msg, sizeof msg);
    if (code == QCAM_IMG_OK) code = qcam_store_check_trust(card, &img, msg, sizeof msg);
    if (code != QCAM_IMG_OK) {
        snprintf(why, why_len, "slot %c does not verify: %s", slot, msg);
    } else {
        *ran = true;
        code = qcam_app_run_image(opts, &img);
    }
    free(buf);
    return code;
}

static void describe_exit(int code, char *out, size_t n)
{
    if (code == QCAM_EXIT_UNCAUGHT) snprintf(out, n, "uncaught error (exit 1)");
    else if (code == QCAM_EXIT_HUNG) snprintf(out, n, "hung (no needExit() or loop turn in time)");
    else if (code == QCAM_EXIT_LOAD) snprintf(out, n, "could not load (exit %d)", code);
    else snprintf(out, n, "exit code %d", code);
}

static int safe_mode(const char *why)
{
    fprintf(stderr, "qcam: safe mode: %s\n", why);
    return QCAM_STORE_ERR_NO_APP;
}

static void unrecorded(int err)
{
    fprintf(stderr, "qcam-store: cannot write the state record (%s): the good version runs\n",
            strerror(-err));
}

int qcam_store_boot(const qcam_run_options *in, bool skip_autostart)
{
    qcam_run_options opts = *in;
    if (skip_autostart) return safe_mode("autostart skipped");
    qcam_fs_card *card = qcam_fs_card_open(opts.sdcard_dir, opts.sdcard_cap);
    if (!card) return safe_mode("cannot open the card");
    char id[128];
    int code;
    if (qcam_store_autostart(card, id, sizeof id) != 0 || !id[0]) {
        code = safe_mode("no autostart app");
        goto out;
    }
    qcam_app_state st;
    int r = qcam_store_read_state(card, id, &st);
    if (r != 0) {
        char why[300];
        snprintf(why, sizeof why, "autostart app %s: %s", id,
                 r == -ENOENT ? "not installed" : "unreadable state record");
        code = safe_mode(why);
        goto out;
    }
    for (;;) {
        if (!st.pending) break;
        char slot = st.pending;
        const char *ver = st.version[slot_index(slot)];
        if (st.tries <= 0) {
            snprintf(st.rollback, sizeof st.rollback,
                     "%s in slot %c did not come up in %d tries (it crashed or the power went)",
                     ver, slot, QCAM_STORE_TRIES);
            st.pending = 0;
            fprintf(stderr, "qcam-store: rollback: %s\n", st.rollback);
            if ((r = qcam_store_write_state(card, &st)) != 0) {
                unrecorded(r);
                break; /* the next boot tries the rollback again */
            }
            break;
        }
        /* Take the try before running: a crash or a cut costs it too. */
        st.tries--;
        if ((r = qcam_store_write_state(card, &st)) != 0) {
            /* A try that cannot be recorded is not taken: the good version runs. */
            unrecorded(r);
            break;
        }
        fprintf(stderr, "qcam-store: trial of %s %s in slot %c (%d tries left after this)\n",
                id, ver, slot, st.tries);
        qcam_trial trial = {.card = card, .st = st, .slot = slot, .start_us = qcam_now_us(),
                            .hang_ms = hang_ms_setting()};
        atomic_init(&trial.alive_us, trial.start_us);
        atomic_init(&trial.hung, false);
        atomic_init(&trial.finished, false);
        atomic_init(&trial.waiting, false);
        trial.at_start = st;
        trial.watching = pthread_create(&trial.watchdog, NULL, watchdog_main, &trial) == 0;
        opts.trial = &trial;
        bool ran;
        char why[200];
        code = run_slot(card, &opts, id, slot, &ran, why, sizeof why);
        opts.trial = NULL;
        atomic_store(&trial.finished, true);
        if (trial.watching) pthread_join(trial.watchdog, NULL);
        bool hung = atomic_load(&trial.hung) && !(trial.done && trial.st.active == slot);
        if (trial.done && trial.st.active == slot) goto out; /* good: it stays */
        st = trial.st;
        if (hung) code = QCAM_EXIT_HUNG;
        /* Stopped from outside (a signal, a dev-link stop): whatever it exits
         * with, no verdict — the try is given back. */
        bool stopped = !hung && ran &&
                       (code == QCAM_EXIT_INTERRUPTED || qcam_signals_count() > 0 ||
                        (opts.control && qcam_control_reason(opts.control) != QCAM_STOP_NONE));
        if (stopped) {
            st.tries++;
            qcam_store_write_state(card, &st);
            goto out;
        }
        if (ran && code == 0) { /* ran to a clean end: as good as markGood() */
            qcam_trial_mark_good(&trial);
            goto out;
        }
        char how[64];
        if (ran) describe_exit(code, how, sizeof how);
        if (!ran || st.tries == 0) {
            snprintf(st.rollback, sizeof st.rollback, "%.40s in slot %c: %.180s%s", ver, slot,
                     ran ? how : why, ran ? ", every try used" : "");
            st.pending = 0;
            fprintf(stderr, "qcam-store: rollback: %s\n", st.rollback);
            if ((r = qcam_store_write_state(card, &st)) != 0) {
                unrecorded(r);
                break; /* the next boot tries the rollback again */
            }
        }
    }
    if (!st.active) {
        char why[512];
        snprintf(why, sizeof why, "%.128s has no good version%s%.256s", id, st.rollback[0] ? ": " : "",
                 st.rollback);
        code = safe_mode(why);
        goto out;
    }
    {
        bool ran;
        char why[300];
        code = run_slot(card, &opts, id, st.active, &ran, why, sizeof why);
        if (!ran) code = safe_mode(why);
    }
out:
    qcam_fs_card_close(card);
    return code;
}
