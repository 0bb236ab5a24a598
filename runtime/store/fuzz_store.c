/* libFuzzer target for the app store's text parsers (runtime/store/store_text.c):
 * the state record read from the card, the board's key list, and the
 * key=value lines of a store request from the dev link.
 *
 * Built and driven by test/fuzz.ts (seeds: test/fuzz-store.ts). Input: one
 * control byte, then the text. control % 3 picks the parser:
 *   0 state   qcam_state_parse
 *   1 keys    qcam_keys_parse (at most 4 keys, so the limit is reached)
 *   2 field   qcam_kv_field for "op", "id" and "image" (into a 16-byte buffer)
 * Invariants: a parsed state has slots a/b/none, 0..3 tries, never the same
 * slot active and pending, terminated strings; keys stay within the limit;
 * fields are terminated and no longer than the buffer.
 * QCAM_FUZZ_TRACE=1 prints one line per input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_text.h"

#define FUZZ_NAME "fuzz_store"
#include "fuzz_common.h"

static int trace;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace = fuzz_trace_enabled();
    return 0;
}

static int slot_ok(char s) { return s == 0 || s == 'a' || s == 'b'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned mode = data[0] % 3;
    size_t len = size - 1;
    uint8_t *text = fuzz_dup(data + 1, len);
    if (mode == 0) {
        qcam_app_state st;
        memset(&st, 0x5a, sizeof st);
        snprintf(st.id, sizeof st.id, "fuzz");
        int r = qcam_state_parse((const char *)text, len, &st);
        CHECK(strcmp(st.id, "fuzz") == 0);
        if (r == 0) {
            CHECK(slot_ok(st.active) && slot_ok(st.pending));
            CHECK(!st.pending || st.pending != st.active);
            CHECK(st.tries >= 0 && st.tries <= QCAM_STORE_TRIES);
            CHECK(memchr(st.version[0], 0, sizeof st.version[0]) && memchr(st.version[1], 0, sizeof st.version[1]));
            CHECK(memchr(st.rollback, 0, sizeof st.rollback));
            CHECK(!st.removed);
        } else {
            CHECK(r == -EBADMSG || r == -ENOENT);
        }
        if (trace)
            fprintf(stderr, "qcam-fuzz: parser=state r=%d active=%c pending=%c tries=%d seq=%u a=%s b=%s\n",
                    r, r == 0 && st.active ? st.active : '-', r == 0 && st.pending ? st.pending : '-',
                    r == 0 ? st.tries : -1, r == 0 ? st.seq : 0, r == 0 && st.version[0][0] ? st.version[0] : "-",
                    r == 0 && st.version[1][0] ? st.version[1] : "-");
    } else if (mode == 1) {
        uint8_t keys[4][QCAM_STORE_KEY_SIZE];
        size_t n = 99;
        int r = qcam_keys_parse((const char *)text, len, keys, 4, &n);
        CHECK(r == 0 || r == -EBADMSG);
        CHECK(n <= 4);
        CHECK(r == 0 || n == 0);
        if (trace)
            fprintf(stderr, "qcam-fuzz: parser=keys r=%d n=%zu first=%02x%02x\n", r, n,
                    n ? keys[0][0] : 0, n ? keys[0][1] : 0);
    } else {
        char op[16], id[16], image[16];
        memset(op, 0x5a, sizeof op);
        qcam_kv_field(text, len, "op", op, sizeof op);
        qcam_kv_field(text, len, "id", id, sizeof id);
        qcam_kv_field(text, len, "image", image, sizeof image);
        CHECK(memchr(op, 0, sizeof op) && memchr(id, 0, sizeof id) && memchr(image, 0, sizeof image));
        if (trace)
            fprintf(stderr, "qcam-fuzz: parser=field op=%s id=%s oplen=%zu\n", op[0] ? op : "-",
                    id[0] ? id : "-", strlen(op));
    }
    free(text);
    return 0;
}
