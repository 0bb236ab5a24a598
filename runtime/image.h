/* App image verification. Pure C, no engine types: everything here runs
 * before the engine sees a byte, and is fuzzed on its own. */
#ifndef QCAM_IMAGE_H
#define QCAM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../firmware/qcam_image.h"

/* Results double as the runtime's exit codes, so each problem is distinct. */
enum qcam_image_status {
    QCAM_IMG_OK = 0,
    QCAM_IMG_ERR_READ = 10,      /* cannot open or read the file */
    QCAM_IMG_ERR_MAGIC = 11,     /* not a qcam app image */
    QCAM_IMG_ERR_FORMAT = 12,    /* unsupported format version or header size */
    QCAM_IMG_ERR_TRUNCATED = 13, /* shorter (or longer) than the header says */
    QCAM_IMG_ERR_CHECKSUM = 14,  /* SHA-256 mismatch: corrupt */
    QCAM_IMG_ERR_ENGINE = 15,    /* built for another engine version */
    QCAM_IMG_ERR_BYTECODE = 16,  /* built for another bytecode version */
    QCAM_IMG_ERR_TARGET = 17,    /* built for another target */
    QCAM_IMG_ERR_ABI = 18,       /* built against other host-module declarations */
    QCAM_IMG_ERR_SECTIONS = 19,  /* malformed section table */
    QCAM_IMG_ERR_SIGNATURE = 24, /* signed, but the signature does not hold */
};

typedef struct {
    uint32_t type;
    uint32_t flags;
    const uint8_t *data;
    uint32_t size;
} qcam_image_section;

/* What this runtime accepts. */
typedef struct {
    uint8_t engine_major, engine_minor, engine_patch;
    uint8_t bytecode_version;
    uint16_t target;
    uint8_t abi_hash[32];
} qcam_image_expect;

typedef struct {
    uint16_t format_version;
    uint8_t engine_major, engine_minor, engine_patch;
    uint8_t bytecode_version;
    uint16_t target;
    uint16_t flags;
    char entry_name[QCAM_IMAGE_ENTRY_NAME_LEN + 1];
    unsigned section_count;
    unsigned entry_section;
    qcam_image_section sections[QCAM_IMAGE_MAX_SECTIONS];
    /* Signed images: the signer's public key (verified), else NULL. */
    const uint8_t *signer;
} qcam_image;

/* Verify buf[0, len) against `expect`. On success fills `img` (sections point
 * into buf) and returns QCAM_IMG_OK; otherwise returns the status and writes a
 * one-line reason into msg. */
int qcam_image_verify(const uint8_t *buf, size_t len, const qcam_image_expect *expect,
                      qcam_image *img, char *msg, size_t msg_len);

/* The signing digest: SHA-256 of buf[0, len - 32) with the payload of the
 * signature section `sig` (NULL: none) read as zeros. */
void qcam_image_signing_digest(const uint8_t *buf, size_t len, const qcam_image_section *sig,
                               uint8_t out[32]);

/* First section of `type`, or NULL. */
const qcam_image_section *qcam_image_find(const qcam_image *img, uint32_t type);

const char *qcam_target_name(unsigned target);

#endif
