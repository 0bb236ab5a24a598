#include "image.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sha256.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int fail(int status, char *msg, size_t msg_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msg_len, fmt, ap);
    va_end(ap);
    return status;
}

const char *qcam_target_name(unsigned target)
{
    switch (target) {
    case QCAM_TARGET_SIM_X86_64: return "sim-x86_64";
    case QCAM_TARGET_SIM_RISCV64: return "sim-riscv64";
    case QCAM_TARGET_MAIXCAM: return "maixcam";
    case QCAM_TARGET_K230: return "k230";
    default: return "unknown";
    }
}

const qcam_image_section *qcam_image_find(const qcam_image *img, uint32_t type)
{
    for (unsigned i = 0; i < img->section_count; i++)
        if (img->sections[i].type == type) return &img->sections[i];
    return NULL;
}

void qcam_image_signing_digest(const uint8_t *buf, size_t len, const qcam_image_section *sig,
                               uint8_t out[32])
{
    static const uint8_t zeros[QCAM_IMAGE_SIGNATURE_SECTION_SIZE];
    qcam_sha256_ctx h;
    size_t end = len - QCAM_IMAGE_DIGEST_SIZE;
    qcam_sha256_init(&h);
    if (sig) {
        size_t off = (size_t)(sig->data - buf);
        qcam_sha256_update(&h, buf, off);
        qcam_sha256_update(&h, zeros, sig->size);
        qcam_sha256_update(&h, buf + off + sig->size, end - off - sig->size);
    } else {
        qcam_sha256_update(&h, buf, end);
    }
    qcam_sha256_final(&h, out);
}

/* A signature section, when there is one, must hold: 0 or a status. */
static int check_signature(const uint8_t *buf, size_t len, qcam_image *img, char *msg,
                           size_t msg_len)
{
    const qcam_image_section *sig = NULL;
    for (unsigned i = 0; i < img->section_count; i++) {
        if (img->sections[i].type != QCAM_SECTION_SIGNATURE) continue;
        if (sig)
            return fail(QCAM_IMG_ERR_SECTIONS, msg, msg_len, "more than one signature section");
        sig = &img->sections[i];
    }
    if (!sig) return QCAM_IMG_OK;
    if (sig->size != QCAM_IMAGE_SIGNATURE_SECTION_SIZE)
        return fail(QCAM_IMG_ERR_SECTIONS, msg, msg_len,
                    "signature section has %u bytes, not %u", sig->size,
                    QCAM_IMAGE_SIGNATURE_SECTION_SIZE);
    uint8_t digest[32];
    qcam_image_signing_digest(buf, len, sig, digest);
    if (sodium_init() < 0)
        return fail(QCAM_IMG_ERR_SIGNATURE, msg, msg_len, "cannot start libsodium");
    const uint8_t *key = sig->data, *signature = sig->data + QCAM_IMAGE_PUBKEY_SIZE;
    if (crypto_sign_verify_detached(signature, digest, sizeof digest, key) != 0)
        return fail(QCAM_IMG_ERR_SIGNATURE, msg, msg_len,
                    "bad signature: the image is not what key %02x%02x%02x%02x... signed",
                    key[0], key[1], key[2], key[3]);
    img->signer = key;
    return QCAM_IMG_OK;
}

int qcam_image_verify(const uint8_t *buf, size_t len, const qcam_image_expect *ex,
                      qcam_image *img, char *msg, size_t msg_len)
{
    memset(img, 0, sizeof *img);
    if (len >= QCAM_IMAGE_MAGIC_LEN && memcmp(buf, QCAM_IMAGE_MAGIC, QCAM_IMAGE_MAGIC_LEN) != 0)
        return fail(QCAM_IMG_ERR_MAGIC, msg, msg_len, "not a qcam app image (bad magic)");
    if (len < QCAM_IMAGE_HEADER_SIZE + QCAM_IMAGE_DIGEST_SIZE)
        return fail(QCAM_IMG_ERR_TRUNCATED, msg, msg_len,
                    "truncated image: %zu bytes, smaller than a header", len);

    img->format_version = rd16(buf + QCAM_IMG_OFF_FORMAT_VERSION);
    if (img->format_version != QCAM_IMAGE_FORMAT_VERSION)
        return fail(QCAM_IMG_ERR_FORMAT, msg, msg_len,
                    "unsupported image format version %u (this runtime reads %u)",
                    img->format_version, QCAM_IMAGE_FORMAT_VERSION);
    if (rd16(buf + QCAM_IMG_OFF_HEADER_SIZE) != QCAM_IMAGE_HEADER_SIZE)
        return fail(QCAM_IMG_ERR_FORMAT, msg, msg_len, "unsupported header size %u",
                    rd16(buf + QCAM_IMG_OFF_HEADER_SIZE));

    uint32_t size = rd32(buf + QCAM_IMG_OFF_IMAGE_SIZE);
    if (size != len)
        return fail(QCAM_IMG_ERR_TRUNCATED, msg, msg_len,
                    "%s image: header says %u bytes, file has %zu",
                    len < size ? "truncated" : "oversized", size, len);

    uint8_t digest[QCAM_SHA256_LEN];
    qcam_sha256(buf, len - QCAM_IMAGE_DIGEST_SIZE, digest);
    if (memcmp(digest, buf + len - QCAM_IMAGE_DIGEST_SIZE, QCAM_SHA256_LEN) != 0)
        return fail(QCAM_IMG_ERR_CHECKSUM, msg, msg_len,
                    "corrupt image: SHA-256 does not match its contents");

    /* The digest holds, so what follows was written by a packer; still check
     * every bound so a buggy packer cannot make us read out of range. */
    img->section_count = rd16(buf + QCAM_IMG_OFF_SECTION_COUNT);
    img->entry_section = rd16(buf + QCAM_IMG_OFF_ENTRY_SECTION);
    if (img->section_count == 0 || img->section_count > QCAM_IMAGE_MAX_SECTIONS)
        return fail(QCAM_IMG_ERR_SECTIONS, msg, msg_len, "bad section count %u",
                    img->section_count);
    size_t table_end = QCAM_IMAGE_HEADER_SIZE + (size_t)img->section_count * QCAM_IMAGE_SECTION_SIZE;
    size_t data_end = len - QCAM_IMAGE_DIGEST_SIZE;
    if (table_end > data_end)
        return fail(QCAM_IMG_ERR_SECTIONS, msg, msg_len, "section table runs past the end");
    for (unsigned i = 0; i < img->section_count; i++) {
        const uint8_t *e = buf + QCAM_IMAGE_HEADER_SIZE + i * QCAM_IMAGE_SECTION_SIZE;
        qcam_image_section *s = &img->sections[i];
        uint32_t off = rd32(e + 8);
        s->type = rd32(e);
        s->flags = rd32(e + 4);
        s->size = rd32(e + 12);
        if (off < table_end || off > data_end || s->size > data_end - off)
            return fail(QCAM_IMG_ERR_SECTIONS, msg, msg_len,
                        "section %u (type %u) lies outside the image", i, s->type);
        s->data = buf + off;
    }
    if (img->entry_section >= img->section_count ||
        img->sections[img->entry_section].type != QCAM_SECTION_BYTECODE ||
        img->sections[img->entry_section].size == 0)
        return fail(QCAM_IMG_ERR_SECTIONS, msg, msg_len, "entry section %u is not bytecode",
                    img->entry_section);
    memcpy(img->entry_name, buf + QCAM_IMG_OFF_ENTRY_NAME, QCAM_IMAGE_ENTRY_NAME_LEN);
    img->entry_name[QCAM_IMAGE_ENTRY_NAME_LEN] = 0;
    if (img->entry_name[0] == 0)
        return fail(QCAM_IMG_ERR_SECTIONS, msg, msg_len, "entry module has no name");
    int sst = check_signature(buf, len, img, msg, msg_len);
    if (sst != QCAM_IMG_OK) return sst;

    img->engine_major = buf[QCAM_IMG_OFF_ENGINE_MAJOR];
    img->engine_minor = buf[QCAM_IMG_OFF_ENGINE_MINOR];
    img->engine_patch = buf[QCAM_IMG_OFF_ENGINE_PATCH];
    img->bytecode_version = buf[QCAM_IMG_OFF_BYTECODE_VER];
    img->target = rd16(buf + QCAM_IMG_OFF_TARGET);
    img->flags = rd16(buf + QCAM_IMG_OFF_FLAGS);

    if (img->engine_major != ex->engine_major || img->engine_minor != ex->engine_minor ||
        img->engine_patch != ex->engine_patch)
        return fail(QCAM_IMG_ERR_ENGINE, msg, msg_len,
                    "image built for engine quickjs-ng %u.%u.%u, this runtime has %u.%u.%u",
                    img->engine_major, img->engine_minor, img->engine_patch, ex->engine_major,
                    ex->engine_minor, ex->engine_patch);
    if (img->bytecode_version != ex->bytecode_version)
        return fail(QCAM_IMG_ERR_BYTECODE, msg, msg_len,
                    "image has bytecode version %u, this runtime reads %u",
                    img->bytecode_version, ex->bytecode_version);
    if (img->target != ex->target)
        return fail(QCAM_IMG_ERR_TARGET, msg, msg_len,
                    "image built for target %s, this runtime is %s",
                    qcam_target_name(img->target), qcam_target_name(ex->target));
    if (memcmp(buf + QCAM_IMG_OFF_ABI_HASH, ex->abi_hash, 32) != 0)
        return fail(QCAM_IMG_ERR_ABI, msg, msg_len,
                    "image built against other host-module declarations (ABI hash differs)");
    return QCAM_IMG_OK;
}
