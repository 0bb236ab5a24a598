#include "build_facts.h"

#include "quickjs.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

void qcam_build_expect(qcam_image_expect *ex)
{
    const char *hex = QCAM_ABI_HASH;
    ex->engine_major = QJS_VERSION_MAJOR;
    ex->engine_minor = QJS_VERSION_MINOR;
    ex->engine_patch = QJS_VERSION_PATCH;
    ex->bytecode_version = QCAM_BC_VERSION;
    ex->target = QCAM_TARGET_ID;
    for (int i = 0; i < 32; i++)
        ex->abi_hash[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
}
