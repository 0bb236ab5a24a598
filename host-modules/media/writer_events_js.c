/* The events of a recording writer (writer_events_js.h). */
#include "writer_events_js.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct event event;
struct event {
    event *next;
    enum { EV_SEGMENT, EV_ERROR, EV_FULL } kind;
    int err;
    qcam_segment_info info;
};

struct qcam_writer_events {
    qcam_app *app;
    JSValue on_segment, on_error, on_full; /* owned while the JS object lives (gc-marked) */
    bool alive;                            /* the JS object still exists */
    atomic_int refs;                       /* the JS object + drains in flight */
    pthread_mutex_t lock;                  /* guards the queue */
    event *head, *tail;                    /* not delivered yet, oldest first */
};

qcam_writer_events *qcam_writer_events_new(qcam_app *app)
{
    qcam_writer_events *ev = calloc(1, sizeof *ev);
    if (!ev) return NULL;
    ev->app = app;
    ev->on_segment = ev->on_error = ev->on_full = JS_UNDEFINED;
    atomic_store(&ev->refs, 1);
    pthread_mutex_init(&ev->lock, NULL);
    return ev;
}

static void unref(qcam_writer_events *ev)
{
    if (atomic_fetch_sub(&ev->refs, 1) != 1) return;
    for (event *e = ev->head, *n; e; e = n) {
        n = e->next;
        free(e);
    }
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

void qcam_writer_events_set(qcam_writer_events *ev, JSValue on_segment, JSValue on_error, JSValue on_full)
{
    ev->on_segment = on_segment;
    ev->on_error = on_error;
    ev->on_full = on_full;
    ev->alive = true;
}

void qcam_writer_events_release(JSRuntime *rt, qcam_writer_events *ev)
{
    if (!ev) return;
    JS_FreeValueRT(rt, ev->on_segment);
    JS_FreeValueRT(rt, ev->on_error);
    JS_FreeValueRT(rt, ev->on_full);
    ev->on_segment = ev->on_error = ev->on_full = JS_UNDEFINED;
    ev->alive = false;
    unref(ev);
}

void qcam_writer_events_mark(JSRuntime *rt, qcam_writer_events *ev, JS_MarkFunc *mark)
{
    if (!ev) return;
    JS_MarkValue(rt, ev->on_segment, mark);
    JS_MarkValue(rt, ev->on_error, mark);
    JS_MarkValue(rt, ev->on_full, mark);
}

JSValue qcam_segment_object(JSContext *ctx, const qcam_segment_info *info)
{
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "path", JS_NewString(ctx, info->path));
    JS_SetPropertyStr(ctx, o, "index", JS_NewInt64(ctx, info->index));
    JS_SetPropertyStr(ctx, o, "duration", JS_NewFloat64(ctx, info->duration));
    JS_SetPropertyStr(ctx, o, "size", JS_NewInt64(ctx, (int64_t)info->size));
    JS_SetPropertyStr(ctx, o, "frames", JS_NewInt64(ctx, (int64_t)info->frames));
    JS_SetPropertyStr(ctx, o, "full", JS_NewBool(ctx, info->full));
    return o;
}

void qcam_writer_events_drain(qcam_writer_events *ev)
{
    JSContext *ctx = qcam_app_context(ev->app);
    for (;;) {
        pthread_mutex_lock(&ev->lock);
        event *e = ev->head;
        if (e) {
            ev->head = e->next;
            if (!ev->head) ev->tail = NULL;
        }
        pthread_mutex_unlock(&ev->lock);
        if (!e) return;
        JSValue fn = !ev->alive              ? JS_UNDEFINED
                     : e->kind == EV_ERROR   ? ev->on_error
                     : e->kind == EV_FULL    ? ev->on_full
                                             : ev->on_segment;
        if (JS_IsFunction(ctx, fn)) {
            JSValue arg;
            if (e->kind == EV_ERROR) {
                qcam_throw_errno(ctx, -e->err, "cannot write %s", e->info.path);
                arg = JS_GetException(ctx);
            } else if (e->kind == EV_FULL) {
                arg = JS_NewString(ctx, e->info.path);
            } else {
                arg = qcam_segment_object(ctx, &e->info);
            }
            fn = JS_DupValue(ctx, fn);
            JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 1, (JSValueConst *)&arg);
            JS_FreeValue(ctx, fn);
            JS_FreeValue(ctx, arg);
            if (JS_IsException(r)) qcam_app_uncaught(ev->app);
            JS_FreeValue(ctx, r);
        }
        free(e);
    }
}

static void run_drain(void *app_ptr, void *data)
{
    (void)app_ptr;
    qcam_writer_events_drain(data);
    unref(data);
}

static void discard_drain(void *data) { unref(data); }

static void queue(qcam_writer_events *ev, event *e)
{
    pthread_mutex_lock(&ev->lock);
    if (ev->tail) ev->tail->next = e;
    else ev->head = e;
    ev->tail = e;
    pthread_mutex_unlock(&ev->lock);
    atomic_fetch_add(&ev->refs, 1);
    if (qcam_app_post(ev->app, run_drain, discard_drain, ev) != 0) unref(ev);
}

void qcam_writer_events_segment(void *opaque, const qcam_segment_info *info)
{
    event *e = calloc(1, sizeof *e);
    if (!e) return;
    e->kind = EV_SEGMENT;
    e->info = *info;
    queue(opaque, e);
}

void qcam_writer_events_error(void *opaque, int err, const char *path)
{
    event *e = calloc(1, sizeof *e);
    if (!e) return;
    e->kind = EV_ERROR;
    e->err = err;
    snprintf(e->info.path, sizeof e->info.path, "%s", path);
    queue(opaque, e);
}

void qcam_writer_events_full(void *opaque, const char *path)
{
    event *e = calloc(1, sizeof *e);
    if (!e) return;
    e->kind = EV_FULL;
    snprintf(e->info.path, sizeof e->info.path, "%s", path);
    queue(opaque, e);
}
