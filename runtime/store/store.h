/* The app store on the board's card: apps by id, two slots each, a state
 * record that is the commit marker, and trial boot (docs/app-store.md).
 *
 * Model in one paragraph: /sdcard/qcam/apps/<id>/ holds slots a/ and b/ (each
 * one app.qcam) and `state`, a small text record naming the active (good)
 * slot, the pending slot on trial with its tries left, each slot's version
 * and why the last rollback happened. An install writes the image into the
 * slot that is not active, verifies what landed, and only then rewrites
 * `state` atomically (write beside, fsync, rename, fsync the folder): until
 * that rename the store is the old one, after it the new one. Booting the
 * autostart app takes a try (state rewritten) before a pending version runs;
 * the app becomes good on app.markGood() or after QCAM_TRIAL_GOOD_MS of
 * running its loop; at 0 tries the pending slot is dropped and the reason
 * recorded. Nothing of the active slot is written while another is on trial.
 *
 * Every storage operation goes through the fs HAL (host-modules/fs/fs.h), so
 * the sim can cut the power after N of them. Single-threaded: one install or
 * one boot at a time per card; nothing here is shared between threads.
 * Errors: functions return 0 or one of the QCAM_STORE_ERR_* / image codes
 * below (they are the runtime's exit codes), with a one-line message. */
#ifndef QCAM_STORE_H
#define QCAM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../host-modules/fs/fs.h"
#include "../image.h"
#include "../qcam_host.h"
#include "store_text.h"

/* Exit codes (image refusals keep image.h's 10..19: 17 target, 18 ABI). */
enum {
    QCAM_STORE_ERR_SPACE = 30,     /* not enough free space: twice the image is needed */
    QCAM_STORE_ERR_DOWNGRADE = 31, /* a lower version than installed, no --allow-downgrade */
    QCAM_STORE_ERR_IO = 32,        /* the card failed a read or write */
    QCAM_STORE_ERR_NO_APP = 33,    /* boot: nothing can run (safe mode) */
    QCAM_STORE_ERR_ID = 34,        /* the image has no usable app id */
    QCAM_STORE_ERR_STATE = 35,     /* the state record cannot be read */
    QCAM_STORE_ERR_UNSIGNED = 36,  /* the board requires signed images; this one is not */
    QCAM_STORE_ERR_UNTRUSTED = 37, /* signed by a key the board does not hold */
    QCAM_STORE_ERR_KEYS = 38,      /* the board's key list cannot be read */
    QCAM_STORE_ERR_NOT_INSTALLED = 39, /* rollback/remove: no such app */
    QCAM_STORE_ERR_NO_ROLLBACK = 40,   /* rollback: no other version to go back to */
};



#define QCAM_TRIAL_GOOD_MS 10000
/* The hang watchdog of a version on trial: no needExit() and no loop turn
 * for this long (QCAM_TRIAL_HANG_MS in the environment overrides it) and the
 * engine's interrupt handler stops it; blocked outside JavaScript for
 * QCAM_TRIAL_HANG_GRACE_MS more, the process ends (a board's watchdog reset)
 * with QCAM_EXIT_HUNG. Either way the try is spent. */
#define QCAM_TRIAL_HANG_MS 5000
#define QCAM_TRIAL_HANG_GRACE_MS 2000
#define QCAM_EXIT_HUNG 23

/* qcam_app_state: store_text.h */

typedef struct {
    bool allow_downgrade;
    bool autostart; /* make this app the one --boot runs */
} qcam_store_install_opts;

/* Install image buf[0, len) on the card. Refusals (wrong target, ABI, any
 * image fault, no id, not enough space, downgrade) happen before a byte is
 * written. On success *out is the new state (pending slot, tries). */
int qcam_store_install(qcam_fs_card *card, const uint8_t *buf, size_t len,
                       const qcam_store_install_opts *o, qcam_app_state *out, char *msg,
                       size_t msg_len);

/* Signatures. The board's trusted Ed25519 public keys are /sdcard/qcam/keys,
 * one 64-hex-digit key a line ('#' comments); with at least one key the
 * board installs and runs only images signed by one of them. */
/* 0 when `img` (verified) may run here, else 36/37/38 with a message. */
int qcam_store_check_trust(qcam_fs_card *card, const qcam_image *img, char *msg, size_t msg_len);
/* Add a key (64 hex digits) to the list, atomically. 0 or a code with msg. */
int qcam_store_trust_key(qcam_fs_card *card, const char *hex, char *msg, size_t msg_len);

/* Go back to the other version by hand: a version on trial is dropped;
 * without one, the previous good version (the other slot, verified) becomes
 * the good one. One atomic state write. 0 or a code with msg; *out the state. */
int qcam_store_rollback(qcam_fs_card *card, const char *id, qcam_app_state *out, char *msg,
                        size_t msg_len);
/* Remove an app: the state record says so first (the commit), then the
 * autostart line and the slots go. The app's data folder stays. 0 or a code. */
int qcam_store_remove(qcam_fs_card *card, const char *id, char *msg, size_t msg_len);

/* Read the state of app `id`: 0, -ENOENT when not installed, or another
 * -errno / -EBADMSG for an unreadable record. */
int qcam_store_read_state(qcam_fs_card *card, const char *id, qcam_app_state *st);
/* Write it atomically (the commit marker). 0 or -errno. */
int qcam_store_write_state(qcam_fs_card *card, qcam_app_state *st);

/* The autostart id, "" if none. 0 or -errno. */
int qcam_store_autostart(qcam_fs_card *card, char *id, size_t n);

/* Print every installed app's state as one JSON object per line. */
int qcam_store_list(qcam_fs_card *card, FILE *out);
void qcam_store_state_json(const qcam_app_state *st, FILE *out);

/* Power-on: run the autostart app through trial boot. Returns the app's exit
 * code, or QCAM_STORE_ERR_NO_APP in safe mode. `opts` is copied; its
 * `trial` is set for the pending run. */
int qcam_store_boot(const qcam_run_options *opts, bool skip_autostart);

/* ---- the trial of a running app (qcam:app's markGood and needExit) ----- */
typedef struct qcam_trial qcam_trial;
/* Make the running pending version the good one. Returns 1 when this call
 * committed it, 0 when there was nothing to mark (already good, no trial),
 * or -errno when the state could not be written. */
int qcam_trial_mark_good(qcam_trial *t);
/* Called from the app's loop turns: marks good once the app has run its
 * loop for QCAM_TRIAL_GOOD_MS. */
void qcam_trial_tick(qcam_trial *t);
/* Called at every loop turn (needExit() included): the app is alive. */
void qcam_trial_alive(qcam_trial *t);
/* The loop waits for a timer or an event (on) and is back (off): waiting is
 * not hanging. */
void qcam_trial_waiting(qcam_trial *t, bool on);
/* The interrupt handler's question: has the watchdog fired? (It records so.) */
bool qcam_trial_hung(qcam_trial *t);

#endif
