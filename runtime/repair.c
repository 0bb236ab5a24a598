/* qcam-repair: `qcam repair <file...>` on the host. Runs qcam:mp4's repair
 * (host-modules/mp4/mp4_repair.c, the code repair() runs on the board) on
 * files in any folder: each file's folder stands in for the SD card.
 *
 *   qcam-repair [--no-finalize] file...
 *
 * One line per file saying what was done. Exit status 0 when every file is
 * fine or was mended, 1 when one could not be (unrecoverable, or an I/O
 * error), 2 for a usage error. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../host-modules/mp4/mp4_read.h"

static int repair_one(const char *file, bool finalize)
{
    char a[4096], b[4096];
    if (strlen(file) >= sizeof a) {
        printf("%s: error: %s\n", file, strerror(ENAMETOOLONG));
        return 1;
    }
    snprintf(a, sizeof a, "%s", file);
    snprintf(b, sizeof b, "%s", file);
    const char *dir = dirname(a), *base = basename(b);
    struct stat st;
    if (stat(file, &st) != 0) {
        printf("%s: error: %s\n", file, strerror(errno));
        return 1;
    }
    if (!S_ISREG(st.st_mode)) {
        printf("%s: error: not a file\n", file);
        return 1;
    }
    /* The card creates its /tmp folder (.tmp) in the folder: remove it again
     * when it was not there before. */
    char tmpdir[4200];
    snprintf(tmpdir, sizeof tmpdir, "%s/.tmp", dir);
    bool had_tmp = access(tmpdir, F_OK) == 0;
    qcam_fs_card *card = qcam_fs_card_open(dir, 0);
    if (!card) {
        printf("%s: error: %s\n", file, strerror(errno));
        return 1;
    }
    char board[4200];
    snprintf(board, sizeof board, "/sdcard/%s", base);
    qcam_mp4_repair_result res;
    int r = qcam_mp4_repair(card, board, finalize, &res);
    qcam_fs_card_close(card);
    if (!had_tmp) rmdir(tmpdir);
    if (r < 0) {
        printf("%s: error: %s (left as it was)\n", file, strerror(-r));
        return 1;
    }
    switch (res.status) {
    case QCAM_MP4_REPAIR_OK:
        printf("%s: ok: %llu video frames, %llu audio frames, %.3f s\n", file, (unsigned long long)res.video_frames,
               (unsigned long long)res.audio_frames, res.duration);
        return 0;
    case QCAM_MP4_REPAIR_REPAIRED:
        printf("%s: repaired: ", file);
        if (res.dropped_bytes) printf("dropped %llu bytes (%s), ", (unsigned long long)res.dropped_bytes, res.reason);
        printf("%s; %llu video frames, %llu audio frames, %.3f s\n",
               res.finalized ? "finalized into a regular MP4" : "kept fragmented", (unsigned long long)res.video_frames,
               (unsigned long long)res.audio_frames, res.duration);
        return 0;
    default:
        printf("%s: unrecoverable: %s (left as it was)\n", file, res.reason);
        return 1;
    }
}

int main(int argc, char **argv)
{
    bool finalize = true;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "--no-finalize") == 0)
            finalize = false;
        else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else {
            fprintf(stderr, "qcam-repair: unknown option %s\nusage: qcam-repair [--no-finalize] file...\n", argv[first]);
            return 2;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: qcam-repair [--no-finalize] file...\n");
        return 2;
    }
    int status = 0;
    for (int i = first; i < argc; i++)
        if (repair_one(argv[i], finalize) != 0) status = 1;
    return status;
}
