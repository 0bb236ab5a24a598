/*
 * qcam app image, format version 1 — the one C definition of the layout.
 * The prose spec is docs/image-format.md; build/image.ts writes this layout.
 *
 * All integers are little-endian. Layout:
 *
 *   [0, 96)                     header
 *   [96, 96 + 16 * sections)    section table
 *   ...                         section payloads (each starts 8-byte aligned)
 *   [size - 32, size)           SHA-256 of bytes [0, size - 32)
 *
 * A signed image has one more section, QCAM_SECTION_SIGNATURE: the signer's
 * Ed25519 public key (32 bytes) and its signature (64 bytes) over the
 * signing digest, the SHA-256 of bytes [0, size - 32) with that section's 96
 * payload bytes taken as zeros. Runtimes that predate it skip the section.
 */
#ifndef QCAM_IMAGE_FORMAT_H
#define QCAM_IMAGE_FORMAT_H

#define QCAM_IMAGE_MAGIC          "QCAMAPP\x1a"
#define QCAM_IMAGE_MAGIC_LEN      8
#define QCAM_IMAGE_FORMAT_VERSION 1
#define QCAM_IMAGE_HEADER_SIZE    96
#define QCAM_IMAGE_SECTION_SIZE   16
#define QCAM_IMAGE_DIGEST_SIZE    32
#define QCAM_IMAGE_MAX_SECTIONS   64
#define QCAM_IMAGE_ENTRY_NAME_LEN 32

/* Header field offsets. */
#define QCAM_IMG_OFF_MAGIC          0  /* 8 bytes */
#define QCAM_IMG_OFF_FORMAT_VERSION 8  /* u16 */
#define QCAM_IMG_OFF_HEADER_SIZE    10 /* u16 */
#define QCAM_IMG_OFF_IMAGE_SIZE     12 /* u32, whole file including the digest */
#define QCAM_IMG_OFF_ENGINE_MAJOR   16 /* u8 */
#define QCAM_IMG_OFF_ENGINE_MINOR   17 /* u8 */
#define QCAM_IMG_OFF_ENGINE_PATCH   18 /* u8 */
#define QCAM_IMG_OFF_BYTECODE_VER   19 /* u8 */
#define QCAM_IMG_OFF_TARGET         20 /* u16, enum qcam_image_target */
#define QCAM_IMG_OFF_FLAGS          22 /* u16, QCAM_IMG_FLAG_* */
#define QCAM_IMG_OFF_SECTION_COUNT  24 /* u16 */
#define QCAM_IMG_OFF_ENTRY_SECTION  26 /* u16, index of the entry module's bytecode */
#define QCAM_IMG_OFF_RESERVED       28 /* u32, zero */
#define QCAM_IMG_OFF_ABI_HASH       32 /* 32 bytes, SHA-256 of the host-module declarations */
#define QCAM_IMG_OFF_ENTRY_NAME     64 /* 32 bytes, NUL-padded module name, e.g. "main.js" */

/* Section table entry: u32 type, u32 flags, u32 offset, u32 size. */
enum qcam_image_section_type {
    QCAM_SECTION_BYTECODE = 1,  /* one compiled ES module */
    QCAM_SECTION_MANIFEST = 2,  /* UTF-8 JSON: id, name, version, builtAt, ... */
    QCAM_SECTION_SOURCEMAP_ID = 3, /* ASCII "sha256:<hex>" of the source map beside the image */
    QCAM_SECTION_ASSETS = 4,    /* reserved for bundled files */
    QCAM_SECTION_SIGNATURE = 5, /* Ed25519: public key (32) + signature (64) */
};

#define QCAM_IMAGE_PUBKEY_SIZE    32
#define QCAM_IMAGE_SIG_SIZE       64
#define QCAM_IMAGE_SIGNATURE_SECTION_SIZE (QCAM_IMAGE_PUBKEY_SIZE + QCAM_IMAGE_SIG_SIZE)

enum qcam_image_target {
    QCAM_TARGET_SIM_X86_64 = 1,
    QCAM_TARGET_SIM_RISCV64 = 2,
    QCAM_TARGET_MAIXCAM = 3,
    QCAM_TARGET_K230 = 4,
};

#define QCAM_IMG_FLAG_DEBUG_INFO 0x0001 /* bytecode keeps line numbers */

#endif
