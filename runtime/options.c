/* Reading a binding's options object (see qcam_host.h). The wording of every
 * error here is part of the modules' contracts and their stubs repeat it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qcam_host.h"

bool qcam_opt_is_object(JSContext *ctx, JSValueConst v)
{
    return JS_IsObject(v) && !JS_IsFunction(ctx, v) && !JS_IsArray(v);
}

void qcam_opt_describe(JSContext *ctx, JSValueConst v, char *buf, size_t size)
{
    if (JS_IsString(v)) {
        JSValue j = JS_JSONStringify(ctx, v, JS_UNDEFINED, JS_UNDEFINED);
        const char *s = JS_IsException(j) ? NULL : JS_ToCString(ctx, j);
        if (!s) JS_FreeValue(ctx, JS_GetException(ctx));
        snprintf(buf, size, "%s", s && strlen(s) <= 42 ? s : "a string");
        JS_FreeCString(ctx, s);
        JS_FreeValue(ctx, j);
    } else if (JS_IsBool(v)) {
        snprintf(buf, size, "%s", JS_ToBool(ctx, v) ? "true" : "false");
    } else if (JS_IsNull(v)) {
        snprintf(buf, size, "null");
    } else if (JS_IsUndefined(v)) {
        snprintf(buf, size, "undefined");
    } else if (JS_IsNumber(v)) {
        double d = 0;
        JS_ToFloat64(ctx, &d, v);
        snprintf(buf, size, "%g", d);
    } else {
        snprintf(buf, size, "%s", JS_IsBigInt(v) ? "a bigint" : JS_IsSymbol(v) ? "a symbol" : JS_IsFunction(ctx, v) ? "a function"
                                  : JS_IsArray(v)  ? "an array" : "an object");
    }
}

int qcam_opt_get(JSContext *ctx, JSValueConst opts, const char *name, JSValue *out)
{
    *out = JS_GetPropertyStr(ctx, opts, name);
    if (JS_IsException(*out)) return -1;
    return JS_IsUndefined(*out) ? 0 : 1;
}

int qcam_opt_int(JSContext *ctx, JSValueConst opts, const char *what, const char *name, int lo, int hi,
                 int step, const char *note, int def, int *out)
{
    JSValue v;
    int r = qcam_opt_get(ctx, opts, name, &v);
    if (r < 0) return -1;
    *out = def;
    if (r == 0) return 0;
    double d = 0;
    bool num = JS_IsNumber(v);
    int bad = num ? JS_ToFloat64(ctx, &d, v) : 0;
    char given[64];
    if (!num) qcam_opt_describe(ctx, v, given, sizeof given);
    JS_FreeValue(ctx, v);
    if (bad) return -1;
    char kind[32] = "an integer";
    if (step == 2) snprintf(kind, sizeof kind, "an even integer");
    else if (step > 1) snprintf(kind, sizeof kind, "a multiple of %d", step);
    if (!num) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s %s must be %s from %d to %d%s, not %s", what, name, kind,
                   lo, hi, note, given);
        return -1;
    }
    if (!(d >= lo && d <= hi) || d != floor(d) || ((int)d - lo) % step) {
        qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "%s %s must be %s from %d to %d%s, not %g", what, name,
                   kind, lo, hi, note, d);
        return -1;
    }
    *out = (int)d;
    return 0;
}

int qcam_opt_bool(JSContext *ctx, JSValueConst opts, const char *what, const char *name, bool *out)
{
    JSValue v;
    int r = qcam_opt_get(ctx, opts, name, &v);
    if (r <= 0) return r;
    bool is_bool = JS_IsBool(v);
    *out = JS_ToBool(ctx, v);
    JS_FreeValue(ctx, v);
    if (!is_bool) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s %s must be a boolean", what, name);
        return -1;
    }
    return 1;
}

int qcam_opt_string(JSContext *ctx, JSValueConst opts, const char *what, const char *name, const char *expected,
                    char *buf, size_t size)
{
    JSValue v;
    int r = qcam_opt_get(ctx, opts, name, &v);
    if (r <= 0) return r;
    const char *s = JS_IsString(v) ? JS_ToCString(ctx, v) : NULL;
    JS_FreeValue(ctx, v);
    bool ok = s && *s && strlen(s) < size;
    if (ok) memcpy(buf, s, strlen(s) + 1);
    JS_FreeCString(ctx, s);
    if (!ok) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s %s must be %s (at most %zu bytes)", what, name,
                   expected, size - 1);
        return -1;
    }
    return 1;
}

int qcam_opt_keys(JSContext *ctx, JSValueConst opts, const char *what, const char *const *known)
{
    JSPropertyEnum *tab;
    uint32_t len;
    if (JS_GetOwnPropertyNames(ctx, &tab, &len, opts, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY)) return -1;
    int r = 0;
    for (uint32_t i = 0; i < len && r == 0; i++) {
        const char *key = JS_AtomToCString(ctx, tab[i].atom);
        bool ok = false;
        for (const char *const *k = known; key && *k; k++) ok = ok || strcmp(key, *k) == 0;
        if (!ok) {
            char list[256] = "";
            for (const char *const *k = known; *k; k++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k == known ? "" : ", ", *k);
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "unknown %s option \"%s\" (known: %s)", what,
                       key ? key : "?", list);
            r = -1;
        }
        JS_FreeCString(ctx, key);
    }
    JS_FreePropertyEnum(ctx, tab, len);
    return r;
}

int qcam_opt_range(JSContext *ctx, JSValueConst obj, const char *name, bool required, int def, int min, int max,
                   int *out)
{
    JSValue v;
    int r = qcam_opt_get(ctx, obj, name, &v);
    if (r < 0) return -1;
    if (r == 0) {
        if (required) {
            qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `%s` is required", name);
            return -1;
        }
        *out = def;
        return 0;
    }
    double d = 0;
    bool num = JS_IsNumber(v);
    if (num) JS_ToFloat64(ctx, &d, v);
    JS_FreeValue(ctx, v);
    if (!num || d != (double)(long long)d) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "option `%s` must be an integer", name);
        return -1;
    }
    if (d < min || d > max) {
        qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "option `%s` must be %d..%d, got %.0f", name, min, max,
                   d);
        return -1;
    }
    *out = (int)d;
    return 0;
}
