/* qcam_mp4_remux: a finished H.264 / H.265 elementary stream (Annex B) → a
 * regular MP4 with the moov in front, in one pass over the input plus one
 * copy. Plain C, no engine types.
 *
 * Pass 1 walks the input once, start code to start code, through a 1 MiB
 * window (a read-only mapping where the storage allows it, else a read
 * buffer), splits access units by annexb.c's rule and keeps, per sample,
 * where its NAL units are in the input; parameter sets and access unit
 * delimiters are left out (they go in avcC / hvcC).
 * Then ftyp + moov (the serializer finalize uses) + one mdat are written to
 * a file beside the output, the NAL units copied with 4-byte length prefixes
 * in large writes; the file is synced once and renamed over the output.
 * Memory: the per-sample index and two 1 MiB windows, whatever the size of
 * the input (the input window grows for a NAL unit bigger than it). The
 * input must not be truncated while it is converted (growing is fine: what
 * was there at the start is converted). A failure (-ENOSPC...) leaves no output file behind (an
 * existing file at the output path stays as it was). */
#ifndef QCAM_MP4_REMUX_H
#define QCAM_MP4_REMUX_H

#include <stdint.h>

#include "../fs/fs.h"
#include "../media/media.h"
#include "../media/segment.h"

typedef qcam_remux_options qcam_mp4_remux_options; /* media/segment.h */
typedef qcam_remux_result qcam_mp4_remux_result;

/* Remux board path `input` into board path `output` (missing folders are
 * made). 0 and *res, or -errno: -ENOENT etc. from storage, -EBADMSG when
 * the input has no keyframe with usable parameter sets (garbage, or cut
 * before its first picture), -EFBIG for one access unit over
 * QCAM_ES_MAX_AU, -ENOSPC when the card fills (no output is left). *what,
 * when not NULL, gets a short reason for -EBADMSG. */
int qcam_mp4_remux(qcam_fs_card *card, const char *input, const char *output,
                   const qcam_mp4_remux_options *opts, qcam_mp4_remux_result *res, const char **what);

#endif
