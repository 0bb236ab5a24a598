/* libFuzzer target for the app image verifier, qcam_image_verify().
 *
 * Built and driven by test/fuzz.ts (bounded run: test/integration/fuzz.test.ts,
 * long run: test/fuzz-long.ts). The expectations are compile-time defines
 * generated from out/build/host/build-info.json, the same facts the runtime is
 * built with, so images packed by build/image.ts verify here:
 *   -DQCAM_ENGINE_MAJOR= -DQCAM_ENGINE_MINOR= -DQCAM_ENGINE_PATCH=
 *   -DQCAM_BC_VERSION= -DQCAM_TARGET_ID= -DQCAM_ABI_HASH="\"<64 hex>\""
 *
 * Input layout: one control byte, then the image bytes.
 *   control & 3   mode:
 *     0 raw        the image exactly as given (random bytes stop at the SHA-256)
 *     1 seal       recompute the trailing 32-byte digest first, so mutations
 *                  reach the section table and the expectation checks
 *     2 size+seal  also write the real length into the image-size field
 *     3 any        like 2, and expect whatever engine/bytecode/target/ABI the
 *                  header claims, so the success path is reached freely
 *   control >> 2  size of the message buffer: 0 means 256, else 1..63 bytes
 *                 (exercises the truncation of the one-line reason)
 * The image is copied to a heap block of exactly its size so AddressSanitizer
 * reports any read past its end. On success every section byte is read and
 * the result's invariants are checked; a violated invariant aborts.
 *
 * Signed images (a QCAM_SECTION_SIGNATURE) are verified with libsodium; on
 * success img.signer points at the key inside the signature section.
 *
 * Set QCAM_FUZZ_TRACE=1 to print one line per input (mode, status, reason).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "sha256.h"

#if !defined(QCAM_ENGINE_MAJOR) || !defined(QCAM_ENGINE_MINOR) || !defined(QCAM_ENGINE_PATCH) || \
    !defined(QCAM_BC_VERSION) || !defined(QCAM_TARGET_ID) || !defined(QCAM_ABI_HASH)
#error "define QCAM_ENGINE_MAJOR/MINOR/PATCH, QCAM_BC_VERSION, QCAM_TARGET_ID, QCAM_ABI_HASH (test/fuzz.ts does)"
#endif

enum { MODE_RAW = 0, MODE_SEAL = 1, MODE_SIZE_SEAL = 2, MODE_ANY = 3 };

#define FUZZ_NAME "fuzz_image"
#include "fuzz_common.h"

static qcam_image_expect expect;
static int trace;
static volatile uint32_t sink;

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *hex = QCAM_ABI_HASH;
    if (strlen(hex) != 64) {
        fprintf(stderr, "fuzz_image: QCAM_ABI_HASH must be 64 hex digits, got '%s'\n", hex);
        exit(2);
    }
    for (int i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "fuzz_image: QCAM_ABI_HASH is not hex: '%s'\n", hex);
            exit(2);
        }
        expect.abi_hash[i] = (uint8_t)(hi << 4 | lo);
    }
    expect.engine_major = QCAM_ENGINE_MAJOR;
    expect.engine_minor = QCAM_ENGINE_MINOR;
    expect.engine_patch = QCAM_ENGINE_PATCH;
    expect.bytecode_version = QCAM_BC_VERSION;
    expect.target = QCAM_TARGET_ID;
    trace = fuzz_trace_enabled();
    return 0;
}

static int known_status(int st)
{
    switch (st) {
    case QCAM_IMG_OK:
    case QCAM_IMG_ERR_SIGNATURE:
    case QCAM_IMG_ERR_MAGIC:
    case QCAM_IMG_ERR_FORMAT:
    case QCAM_IMG_ERR_TRUNCATED:
    case QCAM_IMG_ERR_CHECKSUM:
    case QCAM_IMG_ERR_ENGINE:
    case QCAM_IMG_ERR_BYTECODE:
    case QCAM_IMG_ERR_TARGET:
    case QCAM_IMG_ERR_ABI:
    case QCAM_IMG_ERR_SECTIONS: return 1;
    default: return 0;
    }
}

/* Everything a caller of a successful verify may rely on. */
static void check_image(const uint8_t *buf, size_t len, const qcam_image_expect *ex,
                        const qcam_image *img)
{
    CHECK(len >= QCAM_IMAGE_HEADER_SIZE + QCAM_IMAGE_DIGEST_SIZE);
    CHECK(memcmp(buf, QCAM_IMAGE_MAGIC, QCAM_IMAGE_MAGIC_LEN) == 0);
    CHECK(img->format_version == QCAM_IMAGE_FORMAT_VERSION);
    CHECK(img->engine_major == ex->engine_major && img->engine_minor == ex->engine_minor &&
          img->engine_patch == ex->engine_patch);
    CHECK(img->bytecode_version == ex->bytecode_version);
    CHECK(img->target == ex->target);
    CHECK(qcam_target_name(img->target) != NULL);
    CHECK(img->section_count >= 1 && img->section_count <= QCAM_IMAGE_MAX_SECTIONS);
    CHECK(img->entry_section < img->section_count);
    CHECK(img->sections[img->entry_section].type == QCAM_SECTION_BYTECODE);
    CHECK(img->sections[img->entry_section].size > 0);
    CHECK(img->entry_name[0] != 0);
    CHECK(img->entry_name[QCAM_IMAGE_ENTRY_NAME_LEN] == 0);
    if (img->signer) {
        const qcam_image_section *sig = qcam_image_find(img, QCAM_SECTION_SIGNATURE);
        CHECK(sig && sig->size == QCAM_IMAGE_SIGNATURE_SECTION_SIZE && img->signer == sig->data);
    } else {
        CHECK(qcam_image_find(img, QCAM_SECTION_SIGNATURE) == NULL);
    }

    /* Sections lie between the section table and the digest. Compare as
     * offsets, then read every byte: ASan reports anything out of range. */
    size_t table_end = QCAM_IMAGE_HEADER_SIZE + (size_t)img->section_count * QCAM_IMAGE_SECTION_SIZE;
    size_t data_end = len - QCAM_IMAGE_DIGEST_SIZE;
    uint32_t acc = 0;
    for (unsigned i = 0; i < img->section_count; i++) {
        const qcam_image_section *s = &img->sections[i];
        CHECK(s->data != NULL);
        CHECK(s->data >= buf + table_end && s->data <= buf + data_end);
        size_t off = (size_t)(s->data - buf);
        CHECK(s->size <= data_end - off);
        for (uint32_t j = 0; j < s->size; j++) acc = acc * 31 + s->data[j];
    }

    /* qcam_image_find returns the first section of a type, or NULL. */
    for (unsigned i = 0; i <= img->section_count + 5; i++) {
        uint32_t type = i < img->section_count ? img->sections[i].type : i - img->section_count;
        const qcam_image_section *first = NULL;
        for (unsigned k = 0; k < img->section_count && !first; k++)
            if (img->sections[k].type == type) first = &img->sections[k];
        const qcam_image_section *found = qcam_image_find(img, type);
        CHECK(found == first);
        if (found) {
            for (uint32_t j = 0; j < found->size; j++) acc += found->data[j];
        }
    }
    /* There is a bytecode section (the entry one need not be the first). */
    CHECK(qcam_image_find(img, QCAM_SECTION_BYTECODE) != NULL);
    const qcam_image_section *entry = &img->sections[img->entry_section];
    acc += entry->data[0] + entry->data[entry->size - 1];
    sink = acc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    unsigned mode = data[0] & 3;
    size_t msg_len = data[0] >> 2 ? (size_t)(data[0] >> 2) : 256;
    size_t len = size - 1;

    /* Exact-size copies, so reading one byte past either end is a report. */
    uint8_t *buf = malloc(len);
    char *msg = malloc(msg_len);
    if ((!buf && len) || !msg) abort();
    if (len) memcpy(buf, data + 1, len);

    qcam_image_expect ex = expect;
    if (mode != MODE_RAW && len >= QCAM_IMAGE_HEADER_SIZE + QCAM_IMAGE_DIGEST_SIZE) {
        if (mode >= MODE_SIZE_SEAL) {
            uint32_t n = (uint32_t)len;
            for (int i = 0; i < 4; i++) buf[QCAM_IMG_OFF_IMAGE_SIZE + i] = (uint8_t)(n >> (8 * i));
        }
        if (mode == MODE_ANY) {
            ex.engine_major = buf[QCAM_IMG_OFF_ENGINE_MAJOR];
            ex.engine_minor = buf[QCAM_IMG_OFF_ENGINE_MINOR];
            ex.engine_patch = buf[QCAM_IMG_OFF_ENGINE_PATCH];
            ex.bytecode_version = buf[QCAM_IMG_OFF_BYTECODE_VER];
            ex.target = (uint16_t)(buf[QCAM_IMG_OFF_TARGET] | buf[QCAM_IMG_OFF_TARGET + 1] << 8);
            memcpy(ex.abi_hash, buf + QCAM_IMG_OFF_ABI_HASH, sizeof ex.abi_hash);
        }
        qcam_sha256(buf, len - QCAM_IMAGE_DIGEST_SIZE, buf + len - QCAM_IMAGE_DIGEST_SIZE);
    }

    qcam_image img;
    memset(msg, 0x5a, msg_len);
    int st = qcam_image_verify(buf, len, &ex, &img, msg, msg_len);
    CHECK(known_status(st));
    if (st == QCAM_IMG_OK) {
        check_image(buf, len, &ex, &img);
    } else {
        /* A failure always leaves a terminated reason (non-empty if it fits). */
        CHECK(memchr(msg, 0, msg_len) != NULL);
        CHECK(msg_len == 1 || msg[0] != 0);
    }
    if (trace)
        fprintf(stderr, "qcam-fuzz: mode=%u len=%zu status=%d msg=%s\n", mode, len, st,
                st == QCAM_IMG_OK ? img.entry_name : msg);

    free(msg);
    free(buf);
    return 0;
}
