/* The events of a recording writer (Mp4Writer, TsWriter), from its threads to
 * the app: a finished segment, the first error, a full card.
 *
 * A writer reports from whichever thread writes (a link's sink thread, or the
 * app's in pull mode) with its own lock held: the report is queued here and a
 * drain is posted to the app's loop, which hands each one to the object's
 * onSegment / onError / onFull. The writer's close() drains what is still
 * queued itself (qcam_writer_events_drain), so every report is delivered by
 * the time close() returns, even when the app stops turning the loop.
 *
 * Lifetime: the events are reference-counted. The JS object holds one
 * reference (released by its finalizer, which also drops the callbacks: a
 * report that arrives later is freed unheard); each posted drain holds one
 * until it has run or been discarded. The writer's callbacks take
 * `qcam_writer_events *` as their opaque pointer. */
#ifndef QCAM_WRITER_EVENTS_JS_H
#define QCAM_WRITER_EVENTS_JS_H

#include "../../runtime/qcam_host.h"
#include "segment.h"

typedef struct qcam_writer_events qcam_writer_events;

/* New, with one reference (the JS object's) and no callbacks; NULL: no memory. */
qcam_writer_events *qcam_writer_events_new(qcam_app *app);
/* The object's callbacks (functions or undefined); the events take them over. */
void qcam_writer_events_set(qcam_writer_events *ev, JSValue on_segment, JSValue on_error, JSValue on_full);
/* The JS object is gone (or never came to be): its callbacks are freed and
 * its reference dropped. */
void qcam_writer_events_release(JSRuntime *rt, qcam_writer_events *ev);
void qcam_writer_events_mark(JSRuntime *rt, qcam_writer_events *ev, JS_MarkFunc *mark);
/* Deliver what is queued now, on the app's thread. */
void qcam_writer_events_drain(qcam_writer_events *ev);

/* The writer's callbacks (any thread, the writer's lock held). */
void qcam_writer_events_segment(void *opaque, const qcam_segment_info *info);
void qcam_writer_events_error(void *opaque, int err, const char *path);
void qcam_writer_events_full(void *opaque, const char *path);

/* A SegmentInfo object. */
JSValue qcam_segment_object(JSContext *ctx, const qcam_segment_info *info);

#endif
