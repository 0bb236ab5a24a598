/* The app store's text formats, parsed without any I/O (so they are fuzzed
 * on their own: fuzz_store.c): the state record
 * (docs/app-store.md, section 2), the board's key list (/sdcard/qcam/keys)
 * and the `key=value` lines of a store request over the dev link. */
#ifndef QCAM_STORE_TEXT_H
#define QCAM_STORE_TEXT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QCAM_STORE_TRIES 3
#define QCAM_STORE_ID_MAX 64
#define QCAM_STORE_VERSION_MAX 64
#define QCAM_STORE_REASON_MAX 256
#define QCAM_STORE_MAX_KEYS 16
#define QCAM_STORE_KEY_SIZE 32
#define QCAM_STATE_MAGIC "qcam-app-state 1"

typedef struct {
    char id[QCAM_STORE_ID_MAX + 1];
    char active;  /* 'a', 'b' or 0: the good slot */
    char pending; /* 'a', 'b' or 0: the slot on trial */
    int tries;    /* tries left for the pending slot */
    char version[2][QCAM_STORE_VERSION_MAX + 1]; /* of slot a, b ("" if empty) */
    char rollback[QCAM_STORE_REASON_MAX];        /* why the last rollback happened, or "" */
    unsigned seq; /* bumped at every write */
    bool removed; /* written by remove: the app is gone (read as -ENOENT) */
} qcam_app_state;

/* Parse a state record text[0, len) into *st (id untouched). 0, -EBADMSG
 * (no magic line, no `end`), or -ENOENT for a record that says `removed`. */
int qcam_state_parse(const char *text, size_t len, qcam_app_state *st);

/* Parse a key list: one 64-hex-digit key a line, blank lines and '#'
 * comments skipped, surrounding blanks allowed. 0 (*n keys), or -EBADMSG for
 * a line that is not a key or more than `max` keys. */
int qcam_keys_parse(const char *text, size_t len, uint8_t keys[][QCAM_STORE_KEY_SIZE], size_t max,
                    size_t *n);
/* 64 hex digits (either case) -> 32 bytes. 0 or -1. */
int qcam_hex_key(const char *s, size_t n, uint8_t out[QCAM_STORE_KEY_SIZE]);

/* The value of the first `key=` line in body[0, len), at most n - 1 bytes
 * (longer values are cut), "" when absent. */
void qcam_kv_field(const uint8_t *body, size_t len, const char *key, char *out, size_t n);

#endif
