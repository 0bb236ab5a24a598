/* One JavaScript class binding for the recording writers (Mp4Writer,
 * TsWriter): the constructor and its options (video, audio, segment,
 * callbacks; MP4's fragmentMs and finalize), pull-mode write() and flush(),
 * stats(), path, an idempotent close(), the link sink provider and the
 * events posted to the app's loop (writer_events_js.h).
 *
 * A writer module describes itself in a qcam_writer_class: its name, the
 * options it takes, and the few calls that differ (open, path, stats, close);
 * write() and flush() go through the writer's qcam_sink_ops (link.h). Every
 * error has the same wording for every writer, with the class's name in it. */
#ifndef QCAM_WRITER_JS_H
#define QCAM_WRITER_JS_H

#include "../../runtime/qcam_host.h"
#include "../fs/fs.h"
#include "../link/link.h"
#include "segment.h"

/* The writer classes: each one's slot in the binding. */
enum { QCAM_WRITER_MP4, QCAM_WRITER_TS, QCAM_WRITER_CLASSES };

typedef struct {
    const char *name;        /* "Mp4Writer" */
    const char *usage;       /* the constructor's shape, for its TypeError */
    const char *const *keys; /* the options it takes, NULL-terminated */
    const char *no_audio;    /* NULL: an audio track is taken; else why it is refused */
    bool fragments;          /* takes fragmentMs and finalize (MP4) */
    /* Open the first file; on success the writer owns `card`. */
    int (*open)(qcam_fs_card *card, const qcam_writer_config *cfg, qcam_sink **out);
    void (*path)(qcam_sink *w, char *out, size_t n);
    JSValue (*stats)(JSContext *ctx, qcam_sink *w);
    /* Finish and free; *last describes the last file. */
    int (*close)(qcam_sink *w, qcam_segment_info *last);
} qcam_writer_class;

/* "h264" / "h265" as a codec; 0 for anything else (NULL too). */
qcam_codec qcam_video_codec_of(const char *s);

/* Register `cls` in `slot` and export it from `m` under its name: 0, or -1
 * after throwing. */
int qcam_writer_class_init(JSContext *ctx, JSModuleDef *m, int slot, const qcam_writer_class *cls);

/* remux(input, output, options?) of a module whose container `remux` writes:
 * the arguments checked, the result object, errors with their codes. */
JSValue qcam_remux_js(JSContext *ctx, int argc, JSValueConst *argv, qcam_remux_fn *remux);

#endif
