/* qcam_ts_remux: a finished H.264 / H.265 elementary stream (Annex B) → an
 * MPEG-TS file, in one pass. Plain C, no engine types.
 *
 * The input is read access unit by access unit (es_reader.h), each muxed
 * (ts_mux.h: PAT + PMT before every keyframe, one PES per access unit, PTS
 * at 90 kHz from the frame rate, PCR) into a 1 MiB buffer written out when
 * full (and started on its way to storage at once, so the sync at the end
 * waits for the tail only); the file is written beside the output, synced
 * once and renamed over it. That is the difference from TsWriter, which syncs every second of
 * video because it records; a conversion can simply be run again. Access
 * units before the first keyframe that carries its parameter sets are left
 * out (not decodable) and counted; a later keyframe without in-band sets gets
 * the last ones in front. A failure leaves no output behind. */
#ifndef QCAM_TS_REMUX_H
#define QCAM_TS_REMUX_H

#include <stdint.h>

#include "../fs/fs.h"
#include "../media/media.h"
#include "../media/segment.h"

typedef qcam_remux_options qcam_ts_remux_options; /* media/segment.h; size: a multiple of 188 */
typedef qcam_remux_result qcam_ts_remux_result;

/* A qcam_remux_fn: 0 and *res, or -errno: from storage (-ENOENT, -ENOSPC:
 * nothing left behind), -EFBIG (an access unit over QCAM_ES_MAX_AU),
 * -EBADMSG (no keyframe with usable parameter sets; *what stays NULL). */
int qcam_ts_remux(qcam_fs_card *card, const char *input, const char *output, const qcam_ts_remux_options *opts,
                  qcam_ts_remux_result *res, const char **what);

#endif
