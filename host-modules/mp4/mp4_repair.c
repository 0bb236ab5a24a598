/* qcam:mp4 — repair: read a recording cut short, drop its torn tail and make
 * it a playable file again (mp4_read.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mp4_read.h"

static ssize_t fd_read(void *opaque, uint64_t pos, void *buf, size_t len)
{
    if (pos > INT64_MAX) return -EINVAL;
    return qcam_fs_read(*(int *)opaque, buf, len, (int64_t)pos);
}

int qcam_mp4_read_fd(int fd, qcam_mp4_index *idx, qcam_mp4_read_info *info)
{
    qcam_fs_stat_info st;
    int r = qcam_fs_fstat(fd, &st);
    if (r < 0) {
        memset(info, 0, sizeof *info);
        return r;
    }
    if (!st.is_file) {
        memset(info, 0, sizeof *info);
        return -EISDIR;
    }
    qcam_mp4_source src = {fd_read, &fd, st.size};
    return qcam_mp4_read(&src, idx, info);
}

/* A finalize that was cut (power, SIGKILL) leaves its unfinished copy beside
 * the file; nothing else writes there, so it is garbage once repair runs. */
static void remove_stale_copy(qcam_fs_card *card, const char *board_path)
{
    char beside[1100];
    if (qcam_mp4_beside(board_path, ".final", beside, sizeof beside, NULL, 0) == 0) qcam_fs_remove(card, beside);
}

int qcam_mp4_repair(qcam_fs_card *card, const char *board_path, bool finalize, qcam_mp4_repair_result *out)
{
    memset(out, 0, sizeof *out);
    int fd = qcam_fs_open(card, board_path, QCAM_FS_READ);
    if (fd < 0) return fd;
    qcam_mp4_index idx;
    memset(&idx, 0, sizeof idx);
    qcam_mp4_read_info info;
    qcam_fs_stat_info st;
    int r = qcam_fs_fstat(fd, &st);
    if (r == 0) r = qcam_mp4_read_fd(fd, &idx, &info);
    qcam_fs_close(fd);
    if (r == -EBADMSG) {
        out->status = QCAM_MP4_REPAIR_UNRECOVERABLE;
        snprintf(out->reason, sizeof out->reason, "%s", info.error);
        remove_stale_copy(card, board_path);
        return 0;
    }
    if (r < 0) return r;

    for (unsigned i = 0; i < idx.n_tracks; i++) {
        const qcam_mp4_track *t = &idx.tracks[i];
        bool video = t->codec == QCAM_MP4_AVC || t->codec == QCAM_MP4_HEVC;
        if (video)
            out->video_frames += t->n_samples;
        else
            out->audio_frames += t->n_samples;
        double d = (double)qcam_mp4_track_duration(t) / t->timescale;
        if (d > out->duration) out->duration = d;
    }
    bool work = info.torn || (info.fragmented && finalize);
    if (!work) {
        out->status = QCAM_MP4_REPAIR_OK;
        goto done;
    }
    if (out->video_frames + out->audio_frames == 0) {
        out->status = QCAM_MP4_REPAIR_UNRECOVERABLE;
        snprintf(out->reason, sizeof out->reason, "no complete fragment%s%s", info.torn ? ": " : "",
                 info.torn ? info.torn_why : "");
        goto done;
    }
    if (info.fragmented && finalize) {
        /* The finalized copy holds only the indexed samples: the torn tail
         * stays behind with the old file, which is replaced atomically. */
        r = qcam_mp4_finalize(card, board_path, &idx);
        if (r < 0) goto done;
        out->finalized = true;
    } else {
        fd = qcam_fs_open(card, board_path, QCAM_FS_READ_WRITE);
        if (fd < 0) {
            r = fd;
            goto done;
        }
        r = qcam_fs_truncate(card, fd, info.end);
        if (r == 0) r = qcam_fs_sync(fd);
        qcam_fs_close(fd);
        if (r < 0) goto done;
    }
    out->status = QCAM_MP4_REPAIR_REPAIRED;
    out->dropped_bytes = st.size - info.end;
    if (info.torn) snprintf(out->reason, sizeof out->reason, "%s", info.torn_why);
done:
    qcam_mp4_index_clear(&idx);
    if (r == 0) remove_stale_copy(card, board_path);
    return r;
}
