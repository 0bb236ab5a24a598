/* The REPL channel: see repl.h. */
#include "repl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app.h"
#include "../qcam_host.h"
#include "quickjs.h"

struct qcam_repl {
    qcam_serve *s;
    pthread_mutex_t lock; /* the fields below: the app's thread answers */
    bool known;           /* `seq` is the last eval asked for */
    bool pending;         /* ... and its answer is not sent yet */
    uint16_t seq;
    uint8_t reply[QCAM_DL_MAX_PAYLOAD - 1];
    size_t reply_len;
};

typedef struct {
    qcam_repl *r;
    uint16_t seq;
    size_t len;
    char expr[];
} eval_job;

static void answer(qcam_repl *r, uint16_t seq, uint16_t status, const char *text, size_t len)
{
    if (len > QCAM_REPL_MAX_RESULT) len = QCAM_REPL_MAX_RESULT;
    pthread_mutex_lock(&r->lock);
    qcam_dl_put16(r->reply, seq);
    qcam_dl_put16(r->reply + 2, status);
    memcpy(r->reply + 4, text, len);
    r->reply_len = len + 4;
    if (r->known && r->seq == seq) r->pending = false;
    qcam_serve_send(r->s, QCAM_DL_CH_REPL, QCAM_DL_FLAG_REPLY, DL_EVAL, r->reply, r->reply_len, false);
    pthread_mutex_unlock(&r->lock);
}

/* A value as text: JSON where it has one (strings quoted), else String(v). */
static char *show(JSContext *ctx, JSValueConst v)
{
    if (!JS_IsUndefined(v) && !JS_IsFunction(ctx, v) && !JS_IsSymbol(v)) {
        JSValue json = JS_JSONStringify(ctx, v, JS_UNDEFINED, JS_UNDEFINED);
        if (JS_IsString(json)) {
            const char *s = JS_ToCString(ctx, json);
            char *out = s ? strdup(s) : NULL;
            JS_FreeCString(ctx, s);
            JS_FreeValue(ctx, json);
            if (out) return out;
        } else {
            if (JS_IsException(json)) JS_FreeValue(ctx, JS_GetException(ctx));
            JS_FreeValue(ctx, json);
        }
    }
    const char *s = JS_ToCString(ctx, v);
    if (!s) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return strdup("(unprintable value)");
    }
    char *out = strdup(s);
    JS_FreeCString(ctx, s);
    return out;
}

static void run_eval(void *owner, void *data)
{
    eval_job *j = data;
    JSContext *ctx = qcam_app_context(owner);
    /* The expression as written; as a statement list when it is not one
     * (so `let x = 1` works too): the value of the last statement. */
    JSValue v = JS_Eval(ctx, j->expr, j->len, "<repl>", JS_EVAL_TYPE_GLOBAL);
    if (JS_IsException(v)) {
        JSValue exc = JS_GetException(ctx);
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (m) {
            qcam_print_exception_to(m, ctx, exc, "");
            fclose(m);
        }
        JS_FreeValue(ctx, exc);
        answer(j->r, j->seq, DL_THROWN, text ? text : "an exception", text ? len : strlen("an exception"));
        free(text);
    } else {
        char *text = show(ctx, v);
        JS_FreeValue(ctx, v);
        answer(j->r, j->seq, DL_OK, text ? text : "", text ? strlen(text) : 0);
        free(text);
    }
    free(j);
}

/* The app ended before it turned its loop again. */
static void discard_eval(void *data)
{
    eval_job *j = data;
    static const char msg[] = "the app ended before it evaluated the expression";
    answer(j->r, j->seq, DL_IDLE, msg, sizeof msg - 1);
    free(j);
}

void qcam_repl_frame(qcam_repl *r, const qcam_dl_frame *f)
{
    if (!r || f->len < 1 || (f->flags & QCAM_DL_FLAG_REPLY)) return;
    if (f->payload[0] != DL_EVAL) {
        uint8_t b[64];
        int n = snprintf((char *)b + 4, sizeof b - 4, "unknown REPL message %u", f->payload[0]);
        qcam_dl_put16(b, f->seq);
        qcam_dl_put16(b + 2, DL_UNKNOWN);
        qcam_serve_send(r->s, QCAM_DL_CH_REPL, QCAM_DL_FLAG_REPLY, f->payload[0], b, 4 + (size_t)n, false);
        return;
    }
    pthread_mutex_lock(&r->lock);
    if (r->known && r->seq == f->seq) { /* sent again */
        if (!r->pending)
            qcam_serve_send(r->s, QCAM_DL_CH_REPL, QCAM_DL_FLAG_REPLY, DL_EVAL, r->reply, r->reply_len, false);
        pthread_mutex_unlock(&r->lock);
        return;
    }
    r->known = true;
    r->pending = true;
    r->seq = f->seq;
    pthread_mutex_unlock(&r->lock);
    size_t len = f->len - 1u;
    eval_job *j = malloc(sizeof *j + len + 1);
    if (!j) {
        answer(r, f->seq, DL_NOSPACE, "out of memory", 13);
        return;
    }
    j->r = r;
    j->seq = f->seq;
    j->len = len;
    memcpy(j->expr, f->payload + 1, len);
    j->expr[len] = 0;
    if (!qcam_control_post(&r->s->control, run_eval, discard_eval, j)) {
        free(j);
        static const char msg[] = "no app is running";
        answer(r, f->seq, DL_IDLE, msg, sizeof msg - 1);
    }
}

qcam_repl *qcam_repl_new(qcam_serve *s)
{
    qcam_repl *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->s = s;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void qcam_repl_free(qcam_repl *r)
{
    if (!r) return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}
