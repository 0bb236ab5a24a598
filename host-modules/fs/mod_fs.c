/* qcam:fs — files on the board's storage (MaixPy/CanMV: open(), os.*),
 * synchronous like theirs. Board paths only; errors are Errors with a POSIX
 * `code` and `errno` whose message names the board path, never the host's. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/qcam_host.h"
#include "../modules.h"
#include "fs.h"

/* ---- the app's card -------------------------------------------------------- */

/* Each app that uses qcam:fs holds one reference to its card, dropped when it
 * unloads (a qcam_resource). Files hold their own. */
typedef struct fs_app {
    qcam_resource res; /* first: the resource is the struct */
    struct fs_app *next;
    qcam_app *app;
    qcam_fs_card *card;
} fs_app;

static pthread_mutex_t apps_lock = PTHREAD_MUTEX_INITIALIZER;
static fs_app *apps;

static void fs_app_release(qcam_resource *res)
{
    fs_app *a = (fs_app *)res;
    pthread_mutex_lock(&apps_lock);
    for (fs_app **pp = &apps; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    pthread_mutex_unlock(&apps_lock);
    qcam_fs_card_close(a->card);
    free(a);
}

/* NULL after throwing. */
static qcam_fs_card *card_of(JSContext *ctx)
{
    qcam_app *app = qcam_app_of(ctx);
    pthread_mutex_lock(&apps_lock);
    fs_app *a;
    for (a = apps; a && a->app != app; a = a->next) {}
    pthread_mutex_unlock(&apps_lock);
    if (a) return a->card;
    const qcam_run_options *o = qcam_app_options(app);
    a = calloc(1, sizeof *a);
    if (!a) {
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    if (!(a->card = qcam_fs_card_open(o->sdcard_dir, o->sdcard_cap))) {
        int e = errno;
        free(a);
        qcam_throw_errno(ctx, e, "cannot open the SD card");
        return NULL;
    }
    a->app = app;
    a->res.kind = "fs.card";
    a->res.release = fs_app_release;
    qcam_resource_add(app, &a->res);
    pthread_mutex_lock(&apps_lock);
    a->next = apps;
    apps = a;
    pthread_mutex_unlock(&apps_lock);
    return a->card;
}

/* ---- arguments and errors -------------------------------------------------- */

/* An fs error for `op` on `path`: the explanation for paths that are not on
 * the card, strerror otherwise. */
static JSValue fs_error(JSContext *ctx, int err, const char *op, const char *path)
{
    if (err == EINVAL && path) {
        bool dots = false;
        for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
            if ((p == path || p[-1] == '/') && (p[2] == 0 || p[2] == '/')) dots = true;
        if (dots)
            return qcam_throw_errno(ctx, EINVAL, "%s %s: '..' is not allowed in board paths", op,
                                    path);
        if (path[0] != '/' ||
            !((strncmp(path, "/sdcard", 7) == 0 && (path[7] == 0 || path[7] == '/')) ||
              (strncmp(path, "/tmp", 4) == 0 && (path[4] == 0 || path[4] == '/'))))
            return qcam_throw_errno(ctx, EINVAL,
                                    "%s %s: not a board path (use /sdcard/... or /tmp/...)", op,
                                    path);
    }
    if (err == EBUSY && path && qcam_fs_is_mount_root(path))
        return qcam_throw_errno(ctx, EBUSY, "%s %s: a mount point cannot be removed or renamed",
                                op, path);
    return qcam_throw_errno(ctx, err, "%s %s", op, path ? path : "");
}

/* A board path argument: a string without NUL bytes. Free with JS_FreeCString. */
static const char *get_path(JSContext *ctx, int argc, JSValueConst *argv, int i, const char *op)
{
    if (i >= argc || !JS_IsString(argv[i])) {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s: path must be a string", op);
        return NULL;
    }
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, argv[i]);
    if (s && strlen(s) != len) {
        JS_FreeCString(ctx, s);
        qcam_throw_errno(ctx, EINVAL, "%s: path contains a NUL byte", op);
        return NULL;
    }
    return s;
}

/* Bytes to write: a string (as UTF-8), an ArrayBuffer or a typed array. The
 * pointer is valid until the next JS call; release with bytes_free. */
typedef struct {
    const uint8_t *p;
    size_t len;
    const char *str;
} bytes;

static void bytes_free(JSContext *ctx, bytes *b) { JS_FreeCString(ctx, b->str); }

/* writable: the bytes will be written into (no strings, no read-only buffers). */
static int get_bytes(JSContext *ctx, JSValueConst v, bool writable, bytes *out, const char *op)
{
    memset(out, 0, sizeof *out);
    if (!writable && JS_IsString(v)) {
        out->str = JS_ToCStringLen(ctx, &out->len, v);
        out->p = (const uint8_t *)out->str;
        return out->str ? 0 : -1;
    }
    JSValue buffer;
    size_t off = 0, len = 0;
    if (JS_GetTypedArrayType(v) >= 0) {
        buffer = JS_GetTypedArrayBuffer(ctx, v, &off, &len, NULL);
        if (JS_IsException(buffer)) return -1;
    } else if (JS_IsArrayBuffer(v)) {
        buffer = JS_DupValue(ctx, v);
    } else {
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s: expected %s", op,
                   writable ? "a Uint8Array or an ArrayBuffer"
                            : "a string, a Uint8Array or an ArrayBuffer");
        return -1;
    }
    if (writable && JS_IsImmutableArrayBuffer(buffer) == 1) {
        JS_FreeValue(ctx, buffer);
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG", "%s: the buffer is read-only", op);
        return -1;
    }
    size_t ab_len;
    uint8_t *data = JS_GetArrayBuffer(ctx, &ab_len, buffer);
    bool typed = JS_GetTypedArrayType(v) >= 0;
    JS_FreeValue(ctx, buffer);
    if (!data) return -1;
    out->p = data + off;
    out->len = typed ? len : ab_len;
    return 0;
}

/* An optional file position or length: undefined/null -> -1, else an integer >= 0. */
static int get_position(JSContext *ctx, int argc, JSValueConst *argv, int i, int64_t *pos,
                        const char *what)
{
    *pos = -1;
    if (i >= argc || JS_IsUndefined(argv[i]) || JS_IsNull(argv[i])) return 0;
    double d;
    if (!JS_IsNumber(argv[i]) || JS_ToFloat64(ctx, &d, argv[i]) || !(d >= 0) ||
        d > 9007199254740991.0 || d != floor(d)) {
        qcam_throw(ctx, QCAM_RANGE_ERROR, "ERR_INVALID_ARG", "%s must be an integer >= 0", what);
        return -1;
    }
    *pos = (int64_t)d;
    return 0;
}

static JSValue stat_object(JSContext *ctx, const qcam_fs_stat_info *st)
{
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o)) return o;
    JS_SetPropertyStr(ctx, o, "size", JS_NewInt64(ctx, (int64_t)st->size));
    JS_SetPropertyStr(ctx, o, "isFile", JS_NewBool(ctx, st->is_file));
    JS_SetPropertyStr(ctx, o, "isDirectory", JS_NewBool(ctx, st->is_dir));
    JS_SetPropertyStr(ctx, o, "mtimeMs", JS_NewFloat64(ctx, st->mtime_ms));
    return o;
}

/* An ENOSPC (or other) error from a write that got `written` bytes out:
 * the error carries them as `bytesWritten`. */
static JSValue write_error(JSContext *ctx, int err, const char *op, const char *path,
                           size_t written)
{
    JSValue r = fs_error(ctx, err, op, path);
    JSValue exc = JS_GetException(ctx);
    JS_DefinePropertyValueStr(ctx, exc, "bytesWritten", JS_NewInt64(ctx, (int64_t)written),
                              JS_PROP_CONFIGURABLE | JS_PROP_ENUMERABLE);
    JS_Throw(ctx, exc);
    return r;
}

/* ---- File ------------------------------------------------------------------- */

static const char *const mode_names[] = {"r", "r+", "w", "a", "wx"};

typedef struct {
    qcam_resource res; /* first */
    qcam_app *app;
    qcam_fs_card *card;
    int fd;
    qcam_fs_mode mode;
    char *path; /* board path */
} fs_file;

static JSClassID file_class;

/* Close the descriptor and drop the card; the struct stays for the JS object. */
static int file_shut(fs_file *f)
{
    int r = 0;
    qcam_resource_remove(f->app, &f->res);
    if (f->fd >= 0) r = qcam_fs_close(f->fd);
    f->fd = -1;
    qcam_fs_card_close(f->card);
    f->card = NULL;
    return r;
}

/* Unload: the app leaked this file. Its JS object is finalized later. */
static void file_release(qcam_resource *res) { file_shut((fs_file *)res); }

static void file_free(fs_file *f)
{
    if (!f) return;
    file_shut(f);
    free(f->path);
    free(f);
}

static void file_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    file_free(JS_GetOpaque(val, file_class));
}

static const JSClassDef file_def = {"File", .finalizer = file_finalizer};

static fs_file *this_file(JSContext *ctx, JSValueConst this_val)
{
    fs_file *f = qcam_handle(ctx, this_val, file_class, "File");
    if (f && f->fd < 0) { /* released by an unload in progress */
        qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_CLOSED", "File is closed");
        return NULL;
    }
    return f;
}

static JSValue file_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fs_file *f = this_file(ctx, this_val);
    if (!f) return JS_EXCEPTION;
    int64_t pos;
    if (get_position(ctx, argc, argv, 1, &pos, "position")) return JS_EXCEPTION;
    bytes b;
    if (get_bytes(ctx, argc > 0 ? argv[0] : JS_UNDEFINED, true, &b, "read")) return JS_EXCEPTION;
    ssize_t n = qcam_fs_read(f->fd, (void *)b.p, b.len, pos);
    if (n < 0) return fs_error(ctx, (int)-n, "read", f->path);
    return JS_NewInt64(ctx, n);
}

static JSValue file_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fs_file *f = this_file(ctx, this_val);
    if (!f) return JS_EXCEPTION;
    int64_t pos;
    if (get_position(ctx, argc, argv, 1, &pos, "position")) return JS_EXCEPTION;
    bytes b;
    if (get_bytes(ctx, argc > 0 ? argv[0] : JS_UNDEFINED, false, &b, "write")) return JS_EXCEPTION;
    size_t written;
    int r = qcam_fs_write_all(f->card, f->fd, b.p, b.len, pos, &written);
    bytes_free(ctx, &b);
    if (r < 0) return write_error(ctx, -r, "write", f->path, written);
    return JS_NewInt64(ctx, (int64_t)written);
}

static JSValue file_sync(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    fs_file *f = this_file(ctx, this_val);
    if (!f) return JS_EXCEPTION;
    int r = qcam_fs_sync(f->fd);
    return r < 0 ? fs_error(ctx, -r, "sync", f->path) : JS_UNDEFINED;
}

static JSValue file_truncate(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fs_file *f = this_file(ctx, this_val);
    if (!f) return JS_EXCEPTION;
    int64_t len = 0;
    if (argc > 0 && !JS_IsUndefined(argv[0])) {
        if (get_position(ctx, argc, argv, 0, &len, "length")) return JS_EXCEPTION;
    }
    if (len < 0) len = 0;
    int r = qcam_fs_truncate(f->card, f->fd, (uint64_t)len);
    return r < 0 ? fs_error(ctx, -r, "truncate", f->path) : JS_UNDEFINED;
}

static JSValue file_stat(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    fs_file *f = this_file(ctx, this_val);
    if (!f) return JS_EXCEPTION;
    qcam_fs_stat_info st;
    int r = qcam_fs_fstat(f->fd, &st);
    return r < 0 ? fs_error(ctx, -r, "stat", f->path) : stat_object(ctx, &st);
}

enum { F_PATH, F_MODE };

static JSValue file_get(JSContext *ctx, JSValueConst this_val, int magic)
{
    fs_file *f = this_file(ctx, this_val);
    if (!f) return JS_EXCEPTION;
    return JS_NewString(ctx, magic == F_PATH ? f->path : mode_names[f->mode]);
}

static JSValue file_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)argc; (void)argv;
    void *opaque;
    if (qcam_handle_closing(ctx, this_val, file_class, "File", &opaque) < 0) return JS_EXCEPTION;
    fs_file *f = opaque;
    if (!f) return JS_UNDEFINED; /* idempotent */
    JS_SetOpaque(this_val, NULL);
    int r = file_shut(f);
    JSValue ret = r < 0 ? fs_error(ctx, -r, "close", f->path) : JS_UNDEFINED;
    file_free(f);
    return ret;
}

static const JSCFunctionListEntry file_proto[] = {
    JS_CFUNC_DEF("read", 2, file_read),
    JS_CFUNC_DEF("write", 2, file_write),
    JS_CFUNC_DEF("sync", 0, file_sync),
    JS_CFUNC_DEF("truncate", 1, file_truncate),
    JS_CFUNC_DEF("stat", 0, file_stat),
    JS_CGETSET_MAGIC_DEF("path", file_get, NULL, F_PATH),
    JS_CGETSET_MAGIC_DEF("flags", file_get, NULL, F_MODE),
    JS_CFUNC_DEF("close", 0, file_close),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "File", JS_PROP_CONFIGURABLE),
};

static JSValue file_ctor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    (void)new_target; (void)argc; (void)argv;
    return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_ILLEGAL_CONSTRUCTOR",
                      "use open(path, flags) to get a File");
}

/* ---- functions -------------------------------------------------------------- */

static JSValue js_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    int mode = QCAM_FS_READ;
    if (argc > 1 && !JS_IsUndefined(argv[1])) {
        const char *m = JS_IsString(argv[1]) ? JS_ToCString(ctx, argv[1]) : NULL;
        mode = -1;
        for (int i = 0; m && i < 5; i++)
            if (strcmp(m, mode_names[i]) == 0) mode = i;
        JS_FreeCString(ctx, m);
        if (mode < 0)
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                              "open: flags must be one of \"r\", \"r+\", \"w\", \"a\", \"wx\"");
    }
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    const char *path = get_path(ctx, argc, argv, 0, "open");
    if (!path) return JS_EXCEPTION;
    JSValue obj = JS_NewObjectClass(ctx, (int)file_class);
    fs_file *f = NULL;
    if (JS_IsException(obj)) goto fail;
    if (!(f = calloc(1, sizeof *f)) || !(f->path = strdup(path))) {
        free(f);
        f = NULL;
        JS_ThrowOutOfMemory(ctx);
        goto fail;
    }
    int fd = qcam_fs_open(card, path, (qcam_fs_mode)mode);
    if (fd < 0) {
        fs_error(ctx, -fd, "open", path);
        free(f->path);
        free(f);
        goto fail;
    }
    f->fd = fd;
    f->mode = (qcam_fs_mode)mode;
    f->app = qcam_app_of(ctx);
    f->card = qcam_fs_card_ref(card); /* its own: the JS object may outlive the app's */
    f->res.kind = "fs.File";
    f->res.release = file_release;
    qcam_resource_add(f->app, &f->res);
    JS_SetOpaque(obj, f);
    JS_FreeCString(ctx, path);
    return obj;
fail:
    JS_FreeCString(ctx, path);
    JS_FreeValue(ctx, obj);
    return JS_EXCEPTION;
}

/* readFile (magic 0) -> ArrayBuffer, readText (magic 1) -> string (UTF-8). */
static JSValue js_read_whole(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                             int magic)
{
    (void)this_val;
    const char *op = magic ? "readText" : "readFile";
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    const char *path = get_path(ctx, argc, argv, 0, op);
    if (!path) return JS_EXCEPTION;
    JSValue ret = JS_EXCEPTION;
    uint8_t *data = NULL, *text = NULL;
    int fd = qcam_fs_open(card, path, QCAM_FS_READ);
    if (fd < 0) {
        fs_error(ctx, -fd, op, path);
        goto done;
    }
    qcam_fs_stat_info st;
    int r = qcam_fs_fstat(fd, &st);
    if (r == 0 && st.size > INT32_MAX) r = -EFBIG; /* an ArrayBuffer's limit */
    if (r < 0) {
        fs_error(ctx, -r, op, path);
        goto done;
    }
    size_t size = (size_t)st.size;
    if (magic) {
        if (!(data = text = malloc(size + 1))) {
            JS_ThrowOutOfMemory(ctx);
            goto done;
        }
    } else {
        /* Read straight into a new ArrayBuffer: no second copy. */
        ret = JS_NewArrayBufferCopy(ctx, NULL, size);
        size_t ab_len;
        if (JS_IsException(ret) || !(data = JS_GetArrayBuffer(ctx, &ab_len, ret))) goto fail;
    }
    /* The size the file had when it was opened. */
    size_t got = 0;
    while (got < size) {
        ssize_t n = qcam_fs_read(fd, data + got, size - got, -1);
        if (n < 0) {
            fs_error(ctx, (int)-n, op, path);
            goto fail;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    if (magic) {
        ret = JS_NewStringLen(ctx, (const char *)text, got);
    } else if (got < size) { /* it shrank meanwhile */
        JSValue shorter = JS_NewArrayBufferCopy(ctx, data, got);
        JS_FreeValue(ctx, ret);
        ret = shorter;
    }
    goto done;
fail:
    JS_FreeValue(ctx, ret);
    ret = JS_EXCEPTION;
done:
    if (fd >= 0) qcam_fs_close(fd);
    free(text);
    JS_FreeCString(ctx, path);
    return ret;
}

/* writeFile (magic 0: atomic replace), appendFile (magic 1). */
static JSValue js_write_whole(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                              int magic)
{
    (void)this_val;
    const char *op = magic ? "appendFile" : "writeFile";
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    const char *path = get_path(ctx, argc, argv, 0, op);
    if (!path) return JS_EXCEPTION;
    bytes b;
    if (get_bytes(ctx, argc > 1 ? argv[1] : JS_UNDEFINED, false, &b, op)) {
        JS_FreeCString(ctx, path);
        return JS_EXCEPTION;
    }
    size_t written = 0;
    int r = magic ? qcam_fs_append_file(card, path, b.p, b.len, &written)
                  : qcam_fs_write_file(card, path, b.p, b.len);
    bytes_free(ctx, &b);
    JSValue ret = JS_UNDEFINED;
    if (r < 0) ret = magic ? write_error(ctx, -r, op, path, written) : fs_error(ctx, -r, op, path);
    JS_FreeCString(ctx, path);
    return ret;
}

static JSValue js_list(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    const char *path = get_path(ctx, argc, argv, 0, "list");
    if (!path) return JS_EXCEPTION;
    char **names;
    size_t n;
    int r = qcam_fs_list(card, path, &names, &n);
    JSValue ret;
    if (r < 0) {
        ret = fs_error(ctx, -r, "list", path);
    } else {
        ret = JS_NewArray(ctx);
        for (size_t i = 0; !JS_IsException(ret) && i < n; i++)
            JS_SetPropertyUint32(ctx, ret, (uint32_t)i, JS_NewString(ctx, names[i]));
        qcam_fs_list_free(names, n);
    }
    JS_FreeCString(ctx, path);
    return ret;
}

/* stat (magic 0) -> Stats, exists (magic 1) -> boolean. */
static JSValue js_stat(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                       int magic)
{
    (void)this_val;
    const char *op = magic ? "exists" : "stat";
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    const char *path = get_path(ctx, argc, argv, 0, op);
    if (!path) return JS_EXCEPTION;
    qcam_fs_stat_info st;
    int r = qcam_fs_stat(card, path, &st);
    JSValue ret;
    if (magic && (r == -ENOENT || r == -ENOTDIR)) ret = JS_FALSE;
    else if (r < 0) ret = fs_error(ctx, -r, op, path);
    else ret = magic ? JS_TRUE : stat_object(ctx, &st);
    JS_FreeCString(ctx, path);
    return ret;
}

/* remove (magic 0), removeTree (magic 1). */
static JSValue js_remove(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                         int magic)
{
    (void)this_val;
    const char *op = magic ? "removeTree" : "remove";
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    const char *path = get_path(ctx, argc, argv, 0, op);
    if (!path) return JS_EXCEPTION;
    int r = magic ? qcam_fs_remove_tree(card, path) : qcam_fs_remove(card, path);
    JSValue ret = r < 0 ? fs_error(ctx, -r, op, path) : JS_UNDEFINED;
    JS_FreeCString(ctx, path);
    return ret;
}

static JSValue js_rename(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    const char *from = get_path(ctx, argc, argv, 0, "rename");
    if (!from) return JS_EXCEPTION;
    const char *to = get_path(ctx, argc, argv, 1, "rename");
    if (!to) {
        JS_FreeCString(ctx, from);
        return JS_EXCEPTION;
    }
    int r = qcam_fs_rename(card, from, to);
    JSValue ret = JS_UNDEFINED;
    if (r < 0) {
        /* Name the path at fault when one of them is not a board path or a mount point. */
        char host[4096];
        if (r == -EINVAL && qcam_fs_map(card, from, host, sizeof host) != 0)
            ret = fs_error(ctx, EINVAL, "rename", from);
        else if (r == -EINVAL && qcam_fs_map(card, to, host, sizeof host) != 0)
            ret = fs_error(ctx, EINVAL, "rename", to);
        else if (r == -EBUSY && (qcam_fs_is_mount_root(from) || qcam_fs_is_mount_root(to)))
            ret = fs_error(ctx, EBUSY, "rename", qcam_fs_is_mount_root(from) ? from : to);
        else
            ret = qcam_throw_errno(ctx, -r, "rename %s -> %s", from, to);
    }
    JS_FreeCString(ctx, from);
    JS_FreeCString(ctx, to);
    return ret;
}

static JSValue js_mkdir(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    bool recursive = false;
    if (argc > 1 && !JS_IsUndefined(argv[1])) {
        if (!JS_IsObject(argv[1]))
            return qcam_throw(ctx, QCAM_TYPE_ERROR, "ERR_INVALID_ARG",
                              "mkdir: options must be an object ({ recursive?: boolean })");
        static const char *const keys[] = {"recursive", NULL};
        if (qcam_opt_keys(ctx, argv[1], "mkdir", keys)) return JS_EXCEPTION;
        JSValue v = JS_GetPropertyStr(ctx, argv[1], "recursive");
        if (JS_IsException(v)) return v;
        recursive = JS_ToBool(ctx, v);
        JS_FreeValue(ctx, v);
    }
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    const char *path = get_path(ctx, argc, argv, 0, "mkdir");
    if (!path) return JS_EXCEPTION;
    int r = qcam_fs_mkdir(card, path, recursive);
    JSValue ret = r < 0 ? fs_error(ctx, -r, "mkdir", path) : JS_UNDEFINED;
    JS_FreeCString(ctx, path);
    return ret;
}

static JSValue js_space(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    qcam_fs_card *card = card_of(ctx);
    if (!card) return JS_EXCEPTION;
    /* No path: the card. */
    bool given = argc > 0 && !JS_IsUndefined(argv[0]);
    const char *path = given ? get_path(ctx, argc, argv, 0, "space") : "/sdcard";
    if (!path) return JS_EXCEPTION;
    qcam_fs_space_info sp;
    int r = qcam_fs_space(card, path, &sp);
    JSValue ret;
    if (r < 0) {
        ret = fs_error(ctx, -r, "space", path);
    } else {
        ret = JS_NewObject(ctx);
        JS_SetPropertyStr(ctx, ret, "total", JS_NewFloat64(ctx, (double)sp.total));
        JS_SetPropertyStr(ctx, ret, "free", JS_NewFloat64(ctx, (double)sp.free));
        JS_SetPropertyStr(ctx, ret, "available", JS_NewFloat64(ctx, (double)sp.available));
    }
    if (given) JS_FreeCString(ctx, path);
    return ret;
}

static const JSCFunctionListEntry fs_funcs[] = {
    JS_CFUNC_DEF("open", 2, js_open),
    JS_CFUNC_MAGIC_DEF("readFile", 1, js_read_whole, 0),
    JS_CFUNC_MAGIC_DEF("readText", 1, js_read_whole, 1),
    JS_CFUNC_MAGIC_DEF("writeFile", 2, js_write_whole, 0),
    JS_CFUNC_MAGIC_DEF("appendFile", 2, js_write_whole, 1),
    JS_CFUNC_DEF("list", 1, js_list),
    JS_CFUNC_MAGIC_DEF("stat", 1, js_stat, 0),
    JS_CFUNC_MAGIC_DEF("exists", 1, js_stat, 1),
    JS_CFUNC_MAGIC_DEF("remove", 1, js_remove, 0),
    JS_CFUNC_MAGIC_DEF("removeTree", 1, js_remove, 1),
    JS_CFUNC_DEF("rename", 2, js_rename),
    JS_CFUNC_DEF("mkdir", 2, js_mkdir),
    JS_CFUNC_DEF("space", 1, js_space),
};
#define N_FUNCS (sizeof fs_funcs / sizeof fs_funcs[0])

static int fs_module_init(JSContext *ctx, JSModuleDef *m)
{
    if (qcam_class_init(ctx, &file_class, &file_def, file_proto,
                        sizeof file_proto / sizeof file_proto[0], "close") < 0)
        return -1;
    if (qcam_export_class(ctx, m, "File", file_class, file_ctor, 0, JS_CFUNC_constructor) < 0) return -1;
    return JS_SetModuleExportList(ctx, m, fs_funcs, N_FUNCS);
}

JSModuleDef *qcam_mod_fs_init(JSContext *ctx, const char *name)
{
    JSModuleDef *m = JS_NewCModule(ctx, name, fs_module_init);
    if (!m) return NULL;
    JS_AddModuleExport(ctx, m, "File");
    JS_AddModuleExportList(ctx, m, fs_funcs, N_FUNCS);
    return m;
}
