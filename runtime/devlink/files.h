/* The dev link's files channel (docs/dev-link.md, section 3.5): ls, stat,
 * hash, read, put, rm and mkdir on the board's storage, for the agent.
 *
 * The model. Every path the host names is relative to the storage root (the
 * SD card folder; a leading '/' means the root). A path with a ".." part, or
 * one that leads out of the root through a symbolic link, is refused with
 * status `outside` before anything touches the disk.
 *
 * Reads are stateless: the host asks for a byte range and the board streams
 * it as `chunk` frames, so an interrupted get goes on from the last byte the
 * host has (it checks what it holds with `hash`). A put is staged under
 * <root>/.qcam/files/<sha256>.part, written in order as its frames arrive
 * (each CRC-checked), hashed as it goes, and renamed into place only when
 * the whole file hashes to the announced SHA-256. An interrupted put leaves
 * the staged bytes: a put of the same file (hash and size) goes on from
 * there, even after a board restart.
 *
 * Threads: everything here runs on the agent thread. */
#ifndef QCAM_DEVLINK_FILES_H
#define QCAM_DEVLINK_FILES_H

#include "serve.h"

typedef struct qcam_files qcam_files;

qcam_files *qcam_files_new(qcam_serve *s, const char *root);
void qcam_files_free(qcam_files *f);
/* A frame on QCAM_DL_CH_FILES (not a reply). */
void qcam_files_frame(qcam_files *f, const qcam_dl_frame *fr);

#endif
