/* Every engine call whose signature or behaviour has changed between
 * quickjs-ng releases lives in engine.c, so a new engine is one file's work. */
#ifndef QCAM_ENGINE_H
#define QCAM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"

/* Compile ES module source (src[len] must be 0) to bytecode. Returns a
 * js_malloc'd buffer the caller frees with js_free, or NULL with an exception. */
uint8_t *qcam_engine_compile_module(JSContext *ctx, const char *src, size_t len,
                                    const char *name, size_t *out_len);
/* Instantiate a compiled module (trusted, already verified bytes). */
JSValue qcam_engine_read_module(JSContext *ctx, const uint8_t *bc, size_t len);
/* The bytecode version this engine writes (first byte of its output). */
int qcam_engine_bytecode_version(JSContext *ctx);
/* A read-only view over native memory; free_fn(opaque, ptr) runs when the JS
 * side lets go. */
JSValue qcam_engine_external_buffer(JSContext *ctx, const uint8_t *ptr, size_t len,
                                    void (*free_fn)(void *opaque, void *ptr), void *opaque);

#endif
