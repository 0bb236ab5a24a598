/* SHA-256 (FIPS 180-4). Used to verify app images; no dependencies. */
#ifndef QCAM_SHA256_H
#define QCAM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define QCAM_SHA256_LEN 32

typedef struct {
    uint32_t state[8];
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];
    size_t used;         /* bytes waiting in block */
} qcam_sha256_ctx;

void qcam_sha256_init(qcam_sha256_ctx *h);
void qcam_sha256_update(qcam_sha256_ctx *h, const void *data, size_t len);
void qcam_sha256_final(qcam_sha256_ctx *h, uint8_t out[QCAM_SHA256_LEN]);
void qcam_sha256(const void *data, size_t len, uint8_t out[QCAM_SHA256_LEN]);

#endif
