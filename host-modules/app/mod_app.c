/* qcam:app — the app's lifecycle (MaixPy's maix.app): the loop condition,
 * exit flag and message, start parameters, paths, log level. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/devlink/control.h"
#include "../../runtime/qcam_host.h"
#include "../../runtime/store/store.h"
#include "../modules.h"
#include "app.h"

static JSValue js_need_exit(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    qcam_app *app = qcam_app_of(ctx);
    qcam_app_turn(app);
    qcam_trial_tick(qcam_app_options(app)->trial); /* 10 s of loop on trial: good */
    return JS_NewBool(ctx, qcam_app_exit_requested(app));
}

/* On trial (qcam-runtime --boot): this version is good, keep it. true when
 * this call committed it; false when there was nothing to mark. */
static JSValue js_mark_good(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    int r = qcam_trial_mark_good(qcam_app_options(qcam_app_of(ctx))->trial);
    if (r < 0) return qcam_throw_errno(ctx, -r, "cannot mark this version good");
    return JS_NewBool(ctx, r > 0);
}

static JSValue js_set_exit_flag(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    if (argc < 1 || !JS_IsBool(argv[0]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "setExitFlag needs a boolean");
    qcam_app_set_exit_flag(qcam_app_of(ctx), JS_ToBool(ctx, argv[0]));
    return JS_UNDEFINED;
}

static JSValue js_set_exit_message(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    (void)this_val;
    int32_t code;
    if (argc < 2 || !JS_IsNumber(argv[0]) || !JS_IsString(argv[1]))
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "setExitMessage(code: number, message: string)");
    if (JS_ToInt32(ctx, &code, argv[0])) return JS_EXCEPTION;
    if (code < 0 || code > 255)
        return qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "exit code must be 0..255");
    const char *msg = JS_ToCString(ctx, argv[1]);
    if (!msg) return JS_EXCEPTION;
    qcam_app_set_exit_message(qcam_app_of(ctx), code, msg);
    JS_FreeCString(ctx, msg);
    return JS_UNDEFINED;
}

/* Why the app is asked to stop (qcam_app_exit_reason), or null. */
static JSValue js_exit_reason(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    const char *why = qcam_app_exit_reason(qcam_app_of(ctx));
    return why ? JS_NewString(ctx, why) : JS_NULL;
}

/* Reload state: a JSON value handed to the next generation when this one is
 * reloaded over the dev link (runtime/devlink/control.h). Without the dev
 * link it is checked and kept nowhere. null or undefined clears it. */
static JSValue js_set_reload_state(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    qcam_app_control *control = qcam_app_options(qcam_app_of(ctx))->control;
    if (argc < 1 || JS_IsUndefined(argv[0]) || JS_IsNull(argv[0])) {
        if (control) qcam_control_set_state(control, NULL, 0);
        return JS_UNDEFINED;
    }
    JSValue json = JS_JSONStringify(ctx, argv[0], JS_UNDEFINED, JS_UNDEFINED);
    if (JS_IsException(json)) JS_FreeValue(ctx, JS_GetException(ctx));
    if (!JS_IsString(json)) {
        JS_FreeValue(ctx, json);
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "reload state must be a JSON value");
    }
    size_t len;
    const char *text = JS_ToCStringLen(ctx, &len, json);
    JS_FreeValue(ctx, json);
    if (!text) return JS_EXCEPTION;
    JSValue r = JS_UNDEFINED;
    if (len > QCAM_RELOAD_STATE_MAX)
        r = qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_TOO_LARGE", "reload state is %zu bytes as JSON; at most %u", len,
                       QCAM_RELOAD_STATE_MAX);
    else if (control && qcam_control_set_state(control, text, len) != 0)
        r = qcam_throw_errno(ctx, ENOMEM, "cannot keep the reload state");
    JS_FreeCString(ctx, text);
    return r;
}

/* What the generation before this one handed over, parsed afresh, or null. */
static JSValue js_reload_state(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    qcam_app_control *control = qcam_app_options(qcam_app_of(ctx))->control;
    char *text = control ? qcam_control_state_in(control) : NULL;
    if (!text) return JS_NULL;
    JSValue v = JS_ParseJSON(ctx, text, strlen(text), "<reload state>");
    free(text);
    return v;
}

/* Paths: magic = qcam_path_kind. The folder is created on first ask. */
static JSValue js_path(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                       int magic)
{
    (void)this_val; (void)argc; (void)argv;
    qcam_app *app = qcam_app_of(ctx);
    char board[1024], host[4096];
    int r = qcam_board_path((qcam_path_kind)magic, qcam_app_id(app), board, sizeof board);
    if (r == 0) r = qcam_board_host_path(qcam_app_options(app)->sdcard_dir, board, host, sizeof host);
    if (r == 0) r = qcam_board_mkdirs(host);
    if (r != 0) return qcam_throw_errno(ctx, -r, "cannot create %s", board);
    return JS_NewString(ctx, board);
}

static const char *const level_names[] = {"debug", "info", "warn", "error", "silent"};

static JSValue js_set_log_level(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    const char *s = argc > 0 && JS_IsString(argv[0]) ? JS_ToCString(ctx, argv[0]) : NULL;
    int level = -1;
    for (int i = 0; s && i < 5; i++)
        if (strcmp(s, level_names[i]) == 0) level = i;
    JS_FreeCString(ctx, s);
    if (level < 0)
        return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                          "log level must be one of debug, info, warn, error, silent");
    qcam_app_set_log_level(qcam_app_of(ctx), level);
    return JS_UNDEFINED;
}

static JSValue js_log_level(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    return JS_NewString(ctx, level_names[qcam_app_log_level(qcam_app_of(ctx))]);
}

static const JSCFunctionListEntry app_funcs[] = {
    JS_CFUNC_DEF("needExit", 0, js_need_exit),
    JS_CFUNC_DEF("setExitFlag", 1, js_set_exit_flag),
    JS_CFUNC_DEF("setExitMessage", 2, js_set_exit_message),
    JS_CFUNC_DEF("markGood", 0, js_mark_good),
    JS_CFUNC_DEF("exitReason", 0, js_exit_reason),
    JS_CFUNC_DEF("setReloadState", 1, js_set_reload_state),
    JS_CFUNC_DEF("reloadState", 0, js_reload_state),
    JS_CFUNC_MAGIC_DEF("sdcardPath", 0, js_path, QCAM_PATH_SDCARD),
    JS_CFUNC_MAGIC_DEF("dataPath", 0, js_path, QCAM_PATH_DATA),
    JS_CFUNC_MAGIC_DEF("videoPath", 0, js_path, QCAM_PATH_VIDEO),
    JS_CFUNC_MAGIC_DEF("picturePath", 0, js_path, QCAM_PATH_PICTURE),
    JS_CFUNC_MAGIC_DEF("tmpPath", 0, js_path, QCAM_PATH_TMP),
    JS_CFUNC_DEF("setLogLevel", 1, js_set_log_level),
    JS_CFUNC_DEF("logLevel", 0, js_log_level),
};

static JSValue make_app_object(JSContext *ctx)
{
    qcam_app *app = qcam_app_of(ctx);
    const qcam_run_options *o = qcam_app_options(app);
    JSValue obj = JS_NewObject(ctx);
    JS_SetPropertyFunctionList(ctx, obj, app_funcs, sizeof app_funcs / sizeof app_funcs[0]);
    JSValue args = JS_NewArray(ctx);
    size_t param_len = 0;
    for (int i = 0; i < o->argc; i++) {
        JS_SetPropertyUint32(ctx, args, (uint32_t)i, JS_NewString(ctx, o->argv[i]));
        param_len += strlen(o->argv[i]) + 1;
    }
    char *param = js_mallocz(ctx, param_len + 1);
    for (int i = 0; param && i < o->argc; i++) {
        if (i) strcat(param, " ");
        strcat(param, o->argv[i]);
    }
    const int ro = JS_PROP_ENUMERABLE;
    JS_DefinePropertyValueStr(ctx, obj, "args", args, ro);
    JS_DefinePropertyValueStr(ctx, obj, "startParam", JS_NewString(ctx, param ? param : ""), ro);
    js_free(ctx, param);
    JS_DefinePropertyValueStr(ctx, obj, "id", JS_NewString(ctx, qcam_app_id(app)), ro);
    JS_DefinePropertyValueStr(ctx, obj, "name", JS_NewString(ctx, qcam_app_name(app)), ro);
    JS_DefinePropertyValueStr(ctx, obj, "version", JS_NewString(ctx, qcam_app_version(app)), ro);
    JS_DefinePropertyValueStr(ctx, obj, "platform", JS_NewString(ctx, qcam_board_platform()), ro);
    return obj;
}

static int app_module_init(JSContext *ctx, JSModuleDef *m)
{
    JS_SetModuleExport(ctx, m, "app", make_app_object(ctx));
    return JS_SetModuleExport(ctx, m, "time", qcam_time_object(ctx));
}

JSModuleDef *qcam_mod_app_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, app_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "app");
    JS_AddModuleExport(ctx, m, "time");
    return m;
}
