/* qcam:video's classes as other bindings use them (mp4, rtsp, link): they
 * hand out Frames (a demuxer's access units) and take Frames and Encoders
 * back. Sinks that only need the packet behind a Frame can also go through
 * qcam_link_frame_packet (link/link_js.h), which this module provides for. */
#ifndef QCAM_VIDEO_JS_H
#define QCAM_VIDEO_JS_H

#include "quickjs.h"

#include "video.h"

/* Register Frame, Encoder, Decoder and EsReader in this context, for a module
 * that makes or takes them without the app importing qcam:video. 0 or -1. */
int qcam_video_class_init(JSContext *ctx);
/* Wrap `pkt` in a Frame, taking over the caller's reference. */
JSValue qcam_js_frame_new(JSContext *ctx, qcam_packet *pkt);
/* The packet inside a Frame (borrowed), or NULL after throwing
 * ERR_WRONG_THIS / ERR_CLOSED. */
qcam_packet *qcam_js_frame_packet(JSContext *ctx, JSValueConst val);
/* The encoder inside an Encoder (borrowed: qcam_encoder_ref it to keep it
 * past the call), or NULL after throwing. Its parameter sets, codec and size
 * are what an MP4 track or an SDP needs. */
qcam_encoder *qcam_js_encoder(JSContext *ctx, JSValueConst val);

#endif
