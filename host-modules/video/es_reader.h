/* Reading an Annex B elementary stream file (.h264 / .264 / .h265 / .265)
 * access unit by access unit, without loading it whole. Used by the replay
 * encoder and by qcam:video's EsReader. The file is untrusted: the parsing is
 * annexb.c's, and one access unit may not exceed QCAM_ES_MAX_AU bytes. */
#ifndef QCAM_ES_READER_H
#define QCAM_ES_READER_H

#include "../media/media.h"

enum { QCAM_ES_MAX_AU = 32 << 20 };

typedef struct qcam_es_reader qcam_es_reader;

/* 0 and *out, or -errno from open(2), -ENOMEM. */
int qcam_es_open(const char *path, qcam_codec codec, qcam_es_reader **out);
/* 1 and the next access unit in *out (one reference; codec, type and
 * keyframe set, seq = its index in the file, pts/dts 0), 0 at the end of the
 * file, or -EIO / -EFBIG (an access unit over QCAM_ES_MAX_AU) / -ENOMEM. */
int qcam_es_read(qcam_es_reader *r, qcam_packet **out);
/* Back to the first byte. 0 or -errno. */
int qcam_es_rewind(qcam_es_reader *r);
void qcam_es_close(qcam_es_reader *r);

#endif
