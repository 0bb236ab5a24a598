/* console: log/info/debug to stdout, warn/error to stderr, filtered by the
 * app's log level. Values are formatted the way a reader expects to see them:
 * strings as they are, errors with their stack, objects as JSON. */
#include <stdio.h>
#include <string.h>

#include "app.h"

static void print_value(JSContext *ctx, FILE *out, JSValueConst v)
{
    if (JS_IsError(v)) {
        qcam_print_exception_to(out, ctx, v, "");
        return;
    }
    JSValue str = JS_UNDEFINED;
    if (JS_IsObject(v) && !JS_IsFunction(ctx, v)) {
        str = JS_JSONStringify(ctx, v, JS_UNDEFINED, JS_UNDEFINED);
        if (JS_IsException(str)) {
            JS_FreeValue(ctx, JS_GetException(ctx));
            str = JS_UNDEFINED;
        }
    }
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, JS_IsString(str) ? (JSValueConst)str : v);
    if (s) fwrite(s, 1, len, out);
    else {
        JS_FreeValue(ctx, JS_GetException(ctx));
        fputs("(unprintable)", out);
    }
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, str);
}

static JSValue js_console_print(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv, int level)
{
    (void)this_val;
    if (level < qcam_app_log_level(qcam_app_of(ctx))) return JS_UNDEFINED;
    FILE *out = level >= QCAM_LOG_WARN ? stderr : stdout;
    if (out == stderr) fflush(stdout);
    for (int i = 0; i < argc; i++) {
        if (i) fputc(' ', out);
        print_value(ctx, out, argv[i]);
    }
    fputc('\n', out);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry console_funcs[] = {
    JS_CFUNC_MAGIC_DEF("debug", 1, js_console_print, QCAM_LOG_DEBUG),
    JS_CFUNC_MAGIC_DEF("log", 1, js_console_print, QCAM_LOG_INFO),
    JS_CFUNC_MAGIC_DEF("info", 1, js_console_print, QCAM_LOG_INFO),
    JS_CFUNC_MAGIC_DEF("warn", 1, js_console_print, QCAM_LOG_WARN),
    JS_CFUNC_MAGIC_DEF("error", 1, js_console_print, QCAM_LOG_ERROR),
};

int qcam_console_init(JSContext *ctx)
{
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue console = JS_NewObject(ctx);
    JS_SetPropertyFunctionList(ctx, console, console_funcs,
                               sizeof console_funcs / sizeof console_funcs[0]);
    int r = JS_SetPropertyStr(ctx, global, "console", console);
    JS_FreeValue(ctx, global);
    return r < 0 ? -1 : 0;
}
