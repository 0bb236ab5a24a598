/* qcam-compile: ES module source -> bytecode, with the same engine the
 * runtime embeds. Used by the image packer (build/image.ts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "engine.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) name = argv[++i];
        else if (strcmp(argv[i], "--info") == 0) {
            printf("{\"engine\":\"%d.%d.%d\",\"bytecode\":%d}\n", QJS_VERSION_MAJOR,
                   QJS_VERSION_MINOR, QJS_VERSION_PATCH, QCAM_BC_VERSION);
            return 0;
        } else in = argv[i];
    }
    if (!in || !out) {
        fprintf(stderr, "usage: qcam-compile [--name main.js] -o out.bc in.js\n");
        return 2;
    }
    size_t len;
    char *src = slurp(in, &len);
    if (!src) {
        perror(in);
        return 2;
    }
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = JS_NewContext(rt);
    JS_SetModuleLoaderFunc(rt, NULL, qcam_module_loader, NULL);
    size_t bc_len = 0;
    uint8_t *bc = qcam_engine_compile_module(ctx, src, len, name ? name : in, &bc_len);
    int code = 0;
    if (!bc) {
        JSValue exc = JS_GetException(ctx);
        qcam_print_exception(ctx, exc, "");
        JS_FreeValue(ctx, exc);
        code = 1;
    } else if (bc[0] != QCAM_BC_VERSION) {
        fprintf(stderr, "qcam-compile: engine wrote bytecode version %d, build expects %d\n",
                bc[0], QCAM_BC_VERSION);
        code = 3;
    } else {
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(bc, 1, bc_len, f) != bc_len || fclose(f) != 0) {
            perror(out);
            code = 2;
        }
    }
    js_free(ctx, bc);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    free(src);
    return code;
}
