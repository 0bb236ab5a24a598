/* qcam:time — MaixPy's maix.time in TypeScript shape. */
#include <math.h>

#include "../../runtime/qcam_host.h"
#include "../modules.h"
#include "time.h"

static JSValue js_ticks_ms(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    return JS_NewInt64(ctx, qcam_time_ticks_us() / 1000);
}

static JSValue js_ticks_us(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    return JS_NewInt64(ctx, qcam_time_ticks_us());
}

static JSValue js_monotonic_ms(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    return JS_NewFloat64(ctx, (double)qcam_time_monotonic_us() / 1000.0);
}

/* magic: 1 = seconds (float), 1000 = milliseconds */
static JSValue js_wall(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                       int magic)
{
    (void)this_val; (void)argc; (void)argv;
    double us = (double)qcam_time_wall_us();
    return magic == 1 ? JS_NewFloat64(ctx, us / 1e6) : JS_NewInt64(ctx, (int64_t)(us / 1e3));
}

static bool stop_on_exit(void *arg) { return qcam_app_exit_requested(arg); }

/* magic: log10 of microseconds per unit (6 sleep, 3 sleepMs, 0 sleepUs) */
static JSValue js_sleep(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                        int magic)
{
    (void)this_val;
    double v;
    if (argc < 1 || JS_ToFloat64(ctx, &v, argv[0])) {
        if (argc < 1)
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "sleep needs a duration");
        return JS_EXCEPTION;
    }
    if (!isfinite(v) || v < 0)
        return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG",
                          "sleep duration must be a finite number >= 0");
    qcam_time_sleep_us((int64_t)(v * pow(10, magic)), stop_on_exit, qcam_app_of(ctx));
    return JS_UNDEFINED;
}

/* fps(): frames per second, from the interval between successive calls,
 * smoothed over the last calls — MaixPy's time.fps(). */
static JSValue js_fps(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    static int64_t last_us = -1;
    static double avg_us = 0;
    int64_t now = qcam_time_ticks_us();
    if (last_us >= 0) {
        double d = (double)(now - last_us);
        avg_us = avg_us == 0 ? d : avg_us * 0.9 + d * 0.1;
    }
    last_us = now;
    return JS_NewFloat64(ctx, avg_us > 0 ? 1e6 / avg_us : 0);
}

static const JSCFunctionListEntry time_funcs[] = {
    JS_CFUNC_DEF("ticksMs", 0, js_ticks_ms),
    JS_CFUNC_DEF("ticksUs", 0, js_ticks_us),
    JS_CFUNC_DEF("monotonicMs", 0, js_monotonic_ms),
    JS_CFUNC_MAGIC_DEF("time", 0, js_wall, 1),
    JS_CFUNC_MAGIC_DEF("timeMs", 0, js_wall, 1000),
    JS_CFUNC_MAGIC_DEF("sleep", 1, js_sleep, 6),
    JS_CFUNC_MAGIC_DEF("sleepMs", 1, js_sleep, 3),
    JS_CFUNC_MAGIC_DEF("sleepUs", 1, js_sleep, 0),
    JS_CFUNC_DEF("fps", 0, js_fps),
};
#define N_TIME_FUNCS (int)(sizeof time_funcs / sizeof time_funcs[0])

JSValue qcam_time_object(JSContext *ctx)
{
    JSValue obj = JS_NewObject(ctx);
    JS_SetPropertyFunctionList(ctx, obj, time_funcs, N_TIME_FUNCS);
    return obj;
}

/* The module exports the functions only: `time` is the wall-clock function
 * (MaixPy's time.time()); the object form is qcam:app's `time` export. */
static int time_module_init(JSContext *ctx, JSModuleDef *m)
{
    JSValue obj = qcam_time_object(ctx);
    for (int i = 0; i < N_TIME_FUNCS; i++)
        JS_SetModuleExport(ctx, m, time_funcs[i].name,
                           JS_GetPropertyStr(ctx, obj, time_funcs[i].name));
    JS_FreeValue(ctx, obj);
    return 0;
}

JSModuleDef *qcam_mod_time_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, time_module_init);
    if (!m) return NULL;
    for (int i = 0; i < N_TIME_FUNCS; i++) JS_AddModuleExport(ctx, m, time_funcs[i].name);
    return m;
}
