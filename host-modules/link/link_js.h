/* How other bindings plug their classes into link(): a module whose objects
 * can be a link's source, encoder or sink registers a provider for its class
 * once (from its class init). link() looks providers up by class id, so
 * qcam:link does not depend on any particular camera, encoder or sink. */
#ifndef QCAM_LINK_JS_H
#define QCAM_LINK_JS_H

#include "quickjs.h"

#include "link.h"

/* Fill *out for `obj` and mark it as linked (its close() must then refuse
 * with ERR_BUSY until release). 0, or -1 after throwing. */
typedef int qcam_link_source_fn(JSContext *ctx, JSValueConst obj, qcam_link_source *out);
typedef int qcam_link_encoder_fn(JSContext *ctx, JSValueConst obj, qcam_link_encoder *out);
typedef qcam_sink *qcam_link_sink_fn(JSContext *ctx, JSValueConst obj); /* NULL after throwing */
/* The packet inside an encoded frame object (borrowed); NULL after throwing. */
typedef qcam_packet *qcam_link_packet_fn(JSContext *ctx, JSValueConst obj);
/* The link let go of `obj`. */
typedef void qcam_link_release_fn(JSContext *ctx, JSValueConst obj);

void qcam_link_provide_source(JSClassID id, qcam_link_source_fn *get, qcam_link_release_fn *release);
void qcam_link_provide_encoder(JSClassID id, qcam_link_encoder_fn *get, qcam_link_release_fn *release);
void qcam_link_provide_sink(JSClassID id, qcam_link_sink_fn *get);
void qcam_link_provide_packet(JSClassID id, qcam_link_packet_fn *get);

/* For consumers of pictures other than link() (a Display showing a camera):
 * take `obj`'s source as link() would (*out filled, obj marked linked until
 * qcam_link_release_source). 1, 0 when obj is no source, -1 after throwing. */
int qcam_link_claim_source(JSContext *ctx, JSValueConst obj, qcam_link_source *out);
void qcam_link_release_source(JSContext *ctx, JSValueConst obj);

/* For sinks' pull-mode write(frame): the packet behind a frame object, via
 * its class's provider. NULL (with an exception pending if one was thrown). */
qcam_packet *qcam_link_frame_packet(JSContext *ctx, JSValueConst frame);

#endif
