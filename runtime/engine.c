#include "engine.h"

#include <string.h>

uint8_t *qcam_engine_compile_module(JSContext *ctx, const char *src, size_t len,
                                    const char *name, size_t *out_len)
{
    JSValue fn = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(fn)) return NULL;
    /* Keep line/column tables (stack traces map back to TypeScript); drop the
     * source text, which only Function.prototype.toString would use. */
    uint8_t *bc = JS_WriteObject(ctx, out_len, fn, JS_WRITE_OBJ_BYTECODE | JS_WRITE_OBJ_STRIP_SOURCE);
    JS_FreeValue(ctx, fn);
    return bc;
}

JSValue qcam_engine_read_module(JSContext *ctx, const uint8_t *bc, size_t len)
{
    return JS_ReadObject(ctx, bc, len, JS_READ_OBJ_BYTECODE);
}

int qcam_engine_bytecode_version(JSContext *ctx)
{
    size_t len = 0;
    uint8_t *buf = JS_WriteObject(ctx, &len, JS_NULL, 0);
    int v = buf && len ? buf[0] : -1;
    js_free(ctx, buf);
    return v;
}

typedef struct {
    void (*free_fn)(void *opaque, void *ptr);
    void *opaque;
} external_owner;

/* 0.16+ hands buffer ownership to a realloc-style function; size 0 = free. */
static void *external_realloc(JSRuntime *rt, void *opaque, void *ptr, size_t size)
{
    external_owner *o = opaque;
    if (size != 0) return NULL; /* fixed length: never resized */
    if (o->free_fn) o->free_fn(o->opaque, ptr);
    js_free_rt(rt, o);
    return NULL;
}

JSValue qcam_engine_external_buffer(JSContext *ctx, const uint8_t *ptr, size_t len,
                                    void (*free_fn)(void *opaque, void *ptr), void *opaque)
{
    external_owner *o = js_malloc(ctx, sizeof *o);
    if (!o) return JS_EXCEPTION;
    o->free_fn = free_fn;
    o->opaque = opaque;
    /* 0.16+ signature: (ctx, buf, len, max_len, realloc_func, opaque, is_shared). */
    JSValue ab = JS_NewArrayBuffer(ctx, (uint8_t *)ptr, len, 0, external_realloc, o, false);
    if (JS_IsException(ab)) {
        js_free(ctx, o);
        return ab;
    }
    JS_SetImmutableArrayBuffer(ab, true);
    return ab;
}
