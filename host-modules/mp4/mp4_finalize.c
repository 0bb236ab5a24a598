/* qcam_mp4_finalize (mp4.h): a fragmented MP4 plus its index → a regular
 * MP4, in one of two ways.
 *
 * Moov first (when the card has room for a second copy): the new file is
 * written beside the original and renamed over it once complete and synced.
 * The new mdat holds the samples in the order they are in the old file, so
 * the copy is a few long sequential reads and writes (one per fragment: the
 * moof and mdat headers between fragments are what is left out). A chunk
 * (stco entry) is a run of one track's samples that are contiguous in the
 * old file: one per track per fragment.
 *
 * In place (when it has not): nothing is copied. A moov whose chunk offsets
 * point at the samples where they already are is appended after the last
 * fragment, then the fragmented moov's 8-byte header is overwritten with an
 * mdat header that spans everything from there to the new moov:
 *
 *   ftyp | moov(mvex) moof mdat moof mdat ... | moov        before the last write
 *   ftyp | mdat( ............................ ) | moov       after it
 *
 * Cut before that last write, the file is a fragmented MP4 followed by a
 * moov that the reader takes for a torn tail: repair finalizes it again. The
 * last write is 8 bytes (16 past 4 GiB) in the file's first sector. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp4.h"
#include "mp4_box.h"
#include "platform.h"

typedef struct {
    uint64_t src;  /* offset in the old file */
    uint64_t size;
    unsigned track;
    size_t first;  /* first sample */
} chunk;

typedef struct {
    size_t *first;
    size_t n;
} track_chunks;

static int cmp_chunk(const void *a, const void *b)
{
    const chunk *x = a, *y = b;
    return x->src < y->src ? -1 : x->src > y->src;
}

int qcam_mp4_beside(const char *board_path, const char *suffix, char *out, size_t n, char *dir, size_t dir_n)
{
    const char *slash = strrchr(board_path, '/');
    const char *base = slash ? slash + 1 : board_path;
    if (!*base) return -EISDIR;
    int folder = slash ? (int)(slash - board_path) : 0; /* "/a.mp4": the folder is "/" */
    const char *sep = slash ? "/" : "";
    if (slash && folder == 0) folder = 1, sep = "";
    if (snprintf(out, n, "%.*s%s.%s%s", folder, board_path, sep, base, suffix) >= (int)n) return -ENAMETOOLONG;
    if (dir && snprintf(dir, dir_n, "%.*s", folder, board_path) >= (int)dir_n) return -ENAMETOOLONG;
    return 0;
}

void qcam_mp4_sync_dir(qcam_fs_card *card, const char *board_path)
{
    char tmp[1100], dir[1024], real[4096];
    if (qcam_mp4_beside(board_path, "", tmp, sizeof tmp, dir, sizeof dir) < 0 || !*dir) return;
    if (qcam_fs_map(card, dir, real, sizeof real) < 0) return;
    int fd = open(real, O_RDONLY);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

/* Build the moov; chunk offsets are relative to `payload_start`. */
static void build_moov(qcam_mp4_buf *b, const qcam_mp4_index *idx, const qcam_mp4_layout *lay,
                       uint64_t *abs[QCAM_MP4_MAX_TRACKS], uint64_t payload_start, bool co64)
{
    uint64_t movie_dur = 0;
    uint64_t durs[QCAM_MP4_MAX_TRACKS], delays[QCAM_MP4_MAX_TRACKS];
    for (unsigned i = 0; i < idx->n_tracks; i++) {
        const qcam_mp4_track *t = &idx->tracks[i];
        durs[i] = qcam_mp4_movie_units(idx, t, qcam_mp4_track_duration(t));
        delays[i] = t->base_dts ? qcam_mp4_movie_units(idx, t, t->base_dts) : 0;
        if (durs[i] + delays[i] > movie_dur) movie_dur = durs[i] + delays[i];
        for (size_t c = 0; c < lay->n_chunks[i]; c++) abs[i][c] = payload_start + lay->chunk_rel[i][c];
    }
    size_t moov = qcam_mp4_box(b, "moov");
    qcam_mp4_write_mvhd(b, idx, movie_dur);
    for (unsigned i = 0; i < idx->n_tracks; i++) {
        qcam_mp4_chunks ch = {lay->chunk_first[i], abs[i], lay->n_chunks[i], co64};
        qcam_mp4_write_trak(b, idx, &idx->tracks[i], &ch, durs[i], delays[i]);
    }
    qcam_mp4_box_end(b, moov);
}

int qcam_mp4_write_head(qcam_mp4_buf *b, const qcam_mp4_index *idx, const qcam_mp4_layout *lay)
{
    uint64_t *abs[QCAM_MP4_MAX_TRACKS] = {0};
    int r = 0;
    for (unsigned i = 0; i < idx->n_tracks; i++) {
        abs[i] = malloc((lay->n_chunks[i] ? lay->n_chunks[i] : 1) * sizeof(uint64_t));
        if (!abs[i]) {
            r = -ENOMEM;
            goto done;
        }
    }
    bool large = lay->payload + 8 > UINT32_MAX;
    size_t mdat_hdr = large ? 16 : 8;
    size_t start = b->len;
    qcam_mp4_write_ftyp(b, idx);
    size_t ftyp_len = b->len - start;
    bool co64 = lay->payload + (1u << 26) > UINT32_MAX;
    /* once to learn the moov's size, once more with the real offsets */
    build_moov(b, idx, lay, abs, 0, co64);
    size_t moov_len = b->len - start - ftyp_len;
    b->len = start + ftyp_len;
    build_moov(b, idx, lay, abs, ftyp_len + moov_len + mdat_hdr, co64);
    if (b->oom || b->len != start + ftyp_len + moov_len) {
        r = -ENOMEM;
        goto done;
    }
    if (large) {
        qcam_mp4_put32(b, 1);
        qcam_mp4_put_fourcc(b, "mdat");
        qcam_mp4_put64(b, lay->payload + 16);
    } else {
        qcam_mp4_put32(b, (uint32_t)(lay->payload + 8));
        qcam_mp4_put_fourcc(b, "mdat");
    }
    if (b->oom) r = -ENOMEM;
done:
    for (unsigned i = 0; i < QCAM_MP4_MAX_TRACKS; i++) free(abs[i]);
    return r;
}

/* fsync; storage that cannot sync (-EINVAL) is not an error. */
static int sync_fd(int fd)
{
    int r = qcam_fs_sync(fd);
    return r == -EINVAL ? 0 : r;
}

/* The moov-first copy: head, then the chunks in file order, written beside
 * the original, synced and renamed over it. On any error the copy is
 * removed and the original is as it was. */
static int finalize_copy(qcam_fs_card *card, const char *board_path, int in, const qcam_mp4_buf *head,
                         const chunk *all, size_t total_chunks)
{
    char tmp[1100];
    int r = qcam_mp4_beside(board_path, ".final", tmp, sizeof tmp, NULL, 0);
    if (r < 0) return r;
    int out = qcam_fs_open(card, tmp, QCAM_FS_WRITE);
    if (out < 0) return out;
    size_t written;
    r = qcam_fs_write_all(card, out, head->p, head->len, 0, &written);
    uint64_t pos = head->len;
    /* The sample bytes go through one buffer, read and written in long
     * sequential runs. Read, not mapped: a mapping is no faster here, and a
     * card that fails (or a file cut short) under it would be SIGBUS rather
     * than an error, and the fragmented file is what is left then. */
    enum { COPY_BUF = 1 << 20 };
    uint8_t *copy = r == 0 ? malloc(COPY_BUF) : NULL;
    if (r == 0 && !copy) r = -ENOMEM;
    for (size_t c = 0; c < total_chunks && r == 0;) {
        /* one extent: chunks that follow each other in the old file */
        uint64_t src = all[c].src, len = all[c].size;
        size_t e = c + 1;
        while (e < total_chunks && all[e].src == src + len) len += all[e++].size;
        c = e;
        while (len > 0 && r == 0) {
            size_t n = len > COPY_BUF ? COPY_BUF : (size_t)len;
            ssize_t got = qcam_fs_read(in, copy, n, (int64_t)src);
            if (got < 0) r = (int)got;
            else if ((size_t)got != n) r = -EIO; /* the index points past the end */
            else r = qcam_fs_write_all(card, out, copy, n, (int64_t)pos, &written);
            if (r == 0) qcam_platform_writeback(out, pos, n); /* on its way during the next run */
            src += n;
            pos += n;
            len -= n;
        }
    }
    free(copy);
    if (r == 0) r = sync_fd(out);
    int c = qcam_fs_close(out);
    if (r == 0) r = c;
    if (r == 0) r = qcam_fs_rename(card, tmp, board_path);
    if (r == 0) qcam_mp4_sync_dir(card, board_path);
    else qcam_fs_remove(card, tmp);
    return r;
}

/* Offset of the first top-level moov box in the first `limit` bytes of the
 * file, and its size; -EINVAL when there is none. */
static int find_moov(int fd, uint64_t limit, uint64_t *at, uint64_t *size)
{
    uint64_t pos = 0;
    while (pos + 8 <= limit) {
        uint8_t h[16];
        ssize_t got = qcam_fs_read(fd, h, sizeof h, (int64_t)pos);
        if (got < 0) return (int)got;
        if (got < 8) return -EINVAL;
        uint64_t n = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
        if (n == 1) {
            if (got < 16) return -EINVAL;
            n = 0;
            for (int i = 8; i < 16; i++) n = n << 8 | h[i];
        }
        if (n < 8 || pos + n < pos) return -EINVAL;
        if (memcmp(h + 4, "moov", 4) == 0) {
            *at = pos;
            *size = n;
            return 0;
        }
        pos += n;
    }
    return -EINVAL;
}

/* Finalize without a copy (see the top of the file). `at[i][c]` is where
 * chunk c of track i is in the file; `end` is where the last sample ends. On
 * an error before the last write the file is the fragmented one again. */
static int finalize_in_place(qcam_fs_card *card, const char *board_path, const qcam_mp4_index *idx,
                             const qcam_mp4_layout *lay, uint64_t first_sample, uint64_t end)
{
    int fd = qcam_fs_open(card, board_path, QCAM_FS_READ_WRITE);
    if (fd < 0) return fd;
    uint64_t *abs[QCAM_MP4_MAX_TRACKS] = {0};
    qcam_mp4_buf moov = {0};
    uint64_t old_at = 0, old_size = 0;
    int r = find_moov(fd, first_sample, &old_at, &old_size);
    if (r == 0 && old_at + old_size > first_sample) r = -EINVAL; /* samples inside the moov */
    for (unsigned i = 0; i < idx->n_tracks && r == 0; i++)
        if (!(abs[i] = malloc((lay->n_chunks[i] ? lay->n_chunks[i] : 1) * sizeof(uint64_t)))) r = -ENOMEM;
    if (r == 0) {
        build_moov(&moov, idx, lay, abs, 0, end + (1u << 26) > UINT32_MAX);
        if (moov.oom) r = -ENOMEM;
    }
    size_t done;
    /* the new moov after the last fragment (a torn tail beyond it goes) */
    if (r == 0) r = qcam_fs_truncate(card, fd, end);
    if (r == 0) {
        r = qcam_fs_write_all(card, fd, moov.p, moov.len, (int64_t)end, &done);
        if (r < 0) qcam_fs_truncate(card, fd, end);
    }
    if (r == 0) r = sync_fd(fd);
    if (r == 0) {
        /* the fragmented moov, moofs and mdats become one mdat */
        qcam_mp4_buf h = {0};
        uint64_t span = end - old_at;
        if (span <= UINT32_MAX) {
            qcam_mp4_put32(&h, (uint32_t)span);
            qcam_mp4_put_fourcc(&h, "mdat");
        } else {
            qcam_mp4_put32(&h, 1);
            qcam_mp4_put_fourcc(&h, "mdat");
            qcam_mp4_put64(&h, span);
        }
        r = h.oom ? -ENOMEM : qcam_fs_write_all(card, fd, h.p, h.len, (int64_t)old_at, &done);
        qcam_mp4_buf_free(&h);
        if (r == 0) r = sync_fd(fd);
    }
    int c = qcam_fs_close(fd);
    if (r == 0) r = c;
    qcam_mp4_buf_free(&moov);
    for (unsigned i = 0; i < QCAM_MP4_MAX_TRACKS; i++) free(abs[i]);
    return r;
}

int qcam_mp4_finalize(qcam_fs_card *card, const char *board_path, const qcam_mp4_index *idx)
{
    if (!idx || idx->n_tracks == 0 || idx->n_tracks > QCAM_MP4_MAX_TRACKS) return -EINVAL;
    int r = 0;
    size_t total_chunks = 0;
    track_chunks tc[QCAM_MP4_MAX_TRACKS];
    uint64_t *rel[QCAM_MP4_MAX_TRACKS], *src[QCAM_MP4_MAX_TRACKS];
    memset(tc, 0, sizeof tc);
    memset(rel, 0, sizeof rel);
    memset(src, 0, sizeof src);
    chunk *all = NULL;
    qcam_mp4_buf head = {0};
    int in = -1;

    /* chunks: runs of contiguous samples per track */
    for (unsigned i = 0; i < idx->n_tracks; i++) {
        const qcam_mp4_track *t = &idx->tracks[i];
        for (size_t s = 0; s < t->n_samples; s++)
            if (s == 0 || t->samples[s].offset != t->samples[s - 1].offset + t->samples[s - 1].size)
                total_chunks++;
    }
    all = malloc((total_chunks ? total_chunks : 1) * sizeof *all);
    if (!all) return -ENOMEM;
    size_t k = 0;
    for (unsigned i = 0; i < idx->n_tracks; i++) {
        const qcam_mp4_track *t = &idx->tracks[i];
        for (size_t s = 0; s < t->n_samples; s++) {
            const qcam_mp4_sample *x = &t->samples[s];
            if (s == 0 || x->offset != t->samples[s - 1].offset + t->samples[s - 1].size) {
                all[k++] = (chunk){x->offset, x->size, i, s};
                tc[i].n++;
            } else {
                all[k - 1].size += x->size;
            }
        }
    }
    qsort(all, total_chunks, sizeof *all, cmp_chunk);
    for (unsigned i = 0; i < idx->n_tracks; i++) {
        tc[i].first = malloc((tc[i].n ? tc[i].n : 1) * sizeof(size_t));
        rel[i] = malloc((tc[i].n ? tc[i].n : 1) * sizeof(uint64_t));
        src[i] = malloc((tc[i].n ? tc[i].n : 1) * sizeof(uint64_t));
        if (!tc[i].first || !rel[i] || !src[i]) {
            r = -ENOMEM;
            goto done;
        }
        tc[i].n = 0;
    }
    /* the new payload: the chunks back to back in file order (a chunk's
     * samples keep their order, so per track the chunks stay in order too) */
    uint64_t payload = 0, first_sample = UINT64_MAX, end = 0;
    for (size_t c = 0; c < total_chunks; c++) {
        unsigned ti = all[c].track;
        tc[ti].first[tc[ti].n] = all[c].first;
        rel[ti][tc[ti].n] = payload;
        src[ti][tc[ti].n] = all[c].src;
        tc[ti].n++;
        payload += all[c].size;
        if (all[c].src < first_sample) first_sample = all[c].src;
        if (all[c].src + all[c].size < all[c].src) r = -EINVAL;
        else if (all[c].src + all[c].size > end) end = all[c].src + all[c].size;
    }
    for (unsigned i = 0; i < idx->n_tracks; i++) /* decode order must match file order */
        for (size_t c = 1; c < tc[i].n; c++)
            if (tc[i].first[c] <= tc[i].first[c - 1]) r = -EINVAL;
    if (r < 0) goto done;

    qcam_mp4_layout copied = {.payload = payload}, in_place = {.payload = payload};
    for (unsigned i = 0; i < idx->n_tracks; i++) {
        copied.chunk_first[i] = in_place.chunk_first[i] = tc[i].first;
        copied.chunk_rel[i] = rel[i];
        in_place.chunk_rel[i] = src[i];
        copied.n_chunks[i] = in_place.n_chunks[i] = tc[i].n;
    }
    if ((r = qcam_mp4_write_head(&head, idx, &copied)) < 0) goto done;

    in = qcam_fs_open(card, board_path, QCAM_FS_READ);
    if (in < 0) {
        r = in;
        goto done;
    }
    {
        /* every sample inside the file, before anything is written */
        qcam_fs_stat_info st;
        r = qcam_fs_fstat(in, &st);
        if (r == 0 && end > st.size) r = -EIO;
        if (r < 0) goto done;
    }
    /* moov first when the card has room for the copy; in place when it
     * has not, or when the copy ran out of room after all */
    qcam_fs_space_info sp;
    if (qcam_fs_space(card, board_path, &sp) < 0 || sp.available >= head.len + payload) {
        r = finalize_copy(card, board_path, in, &head, all, total_chunks);
        if (r != -ENOSPC) goto done;
    }
    qcam_fs_close(in);
    in = -1;
    r = total_chunks ? finalize_in_place(card, board_path, idx, &in_place, first_sample, end) : -EINVAL;

done:
    if (in >= 0) qcam_fs_close(in);
    qcam_mp4_buf_free(&head);
    for (unsigned i = 0; i < QCAM_MP4_MAX_TRACKS; i++) {
        free(tc[i].first);
        free(rel[i]);
        free(src[i]);
    }
    free(all);
    return r;
}
