/* sim: a microphone with no hardware. Blocks are made on demand, in the
 * reader's thread, when read() finds one due on the clock: a sine tone
 * (a function of the sample number alone) or the next samples of a WAV file
 * on the card (played in real time at its own rate, which must be the
 * input's). They are written straight into the pool's pictures.
 *
 * Pacing (audio.h): block k is due at t0 + (k+1)*F (F = frame_ms) and its
 * timestamp is t0 + k*F; the ring keeps the `buffers` newest due blocks not
 * yet read. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../time/time.h"
#include "audio.h"

/* How often read() looks for a picture again when the pool is dry. */
#define DRY_POLL_US 2000

struct qcam_audio_in {
    atomic_int refs;
    qcam_audio_config cfg; /* card / wav_path not kept (NULL) */
    unsigned block;        /* samples per channel in a full block */
    int64_t t0, frame_us;
    qcam_pool *pool;
    pthread_mutex_t lock;  /* next and the counters */
    int64_t next;          /* the oldest block not handed out */
    uint64_t dropped, delivered;
    /* WAV */
    qcam_fs_card *card;
    int fd;
    qcam_wav_info wav;
    int64_t wav_blocks;    /* blocks in the file (the last may be short); -1: tone */
    char err[256];
};

static void set_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static void sleep_until(int64_t t_us)
{
    struct timespec ts = {.tv_sec = t_us / 1000000, .tv_nsec = (long)(t_us % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

int16_t qcam_audio_tone_sample(int tone_hz, int sample_rate, uint64_t n)
{
    /* The phase from an exact integer, so every platform computes the same argument. */
    uint64_t m = (n % (uint64_t)sample_rate) * (uint64_t)tone_hz % (uint64_t)sample_rate;
    double v = QCAM_AUDIO_TONE_AMPLITUDE * sin(2.0 * 3.14159265358979323846 * (double)m / (double)sample_rate);
    return (int16_t)lround(v);
}

/* ---- the WAV file, through the fs HAL ------------------------------------ */

static int64_t wav_read_at(void *ctx, uint64_t off, void *buf, size_t n)
{
    int fd = *(int *)ctx;
    size_t got = 0;
    while (got < n) {
        ssize_t r = qcam_fs_read(fd, (uint8_t *)buf + got, n - got, (int64_t)(off + got));
        if (r < 0) return r;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (int64_t)got;
}

static int wav_open(qcam_audio_in *in, const qcam_audio_config *cfg, char *err, size_t errn)
{
    int fd = qcam_fs_open(cfg->card, cfg->wav_path, QCAM_FS_READ);
    if (fd < 0) {
        set_err(err, errn, "%s", strerror(-fd));
        return fd;
    }
    in->fd = fd;
    qcam_fs_stat_info st;
    int r = qcam_fs_fstat(fd, &st);
    if (r < 0) {
        set_err(err, errn, "%s", strerror(-r));
        return r;
    }
    r = qcam_wav_parse(wav_read_at, &in->fd, st.size, &in->wav, err, errn);
    if (r < 0) {
        if (r != -EILSEQ && r != -ENOTSUP) set_err(err, errn, "%s", strerror(-r));
        return r;
    }
    if ((int)in->wav.sample_rate != cfg->sample_rate || in->wav.channels != cfg->channels) {
        set_err(err, errn, "the file is %u Hz %s, the input was asked for %d Hz %s (no resampling)",
                (unsigned)in->wav.sample_rate, in->wav.channels == 1 ? "mono" : "stereo", cfg->sample_rate,
                cfg->channels == 1 ? "mono" : "stereo");
        return -ERANGE;
    }
    if (in->wav.frames == 0) {
        set_err(err, errn, "the WAV file has no samples");
        return -EILSEQ;
    }
    in->wav_blocks = (int64_t)((in->wav.frames + in->block - 1) / in->block);
    in->card = qcam_fs_card_ref(cfg->card);
    return 0;
}

/* Block k of the file (looping: k modulo the file) into pic; sets its width. */
static int wav_block(qcam_audio_in *in, int64_t k, qcam_picture *pic)
{
    int64_t b = in->cfg.loop ? k % in->wav_blocks : k;
    uint64_t first = (uint64_t)b * in->block;
    uint64_t n = in->wav.frames - first < in->block ? in->wav.frames - first : in->block;
    size_t bytes = (size_t)n * in->wav.channels * 2;
    int64_t r = wav_read_at(&in->fd, in->wav.data_offset + first * in->wav.channels * 2, pic->data, bytes);
    if (r < 0 || (size_t)r != bytes) {
        set_err(in->err, sizeof in->err, "block %lld: %s", (long long)k,
                r < 0 ? strerror((int)-r) : "short read (file truncated while playing?)");
        return -EIO;
    }
    qcam_wav_s16le_to_native(pic->data, (size_t)n * in->wav.channels, (int16_t *)(void *)pic->data);
    pic->width = (int)n;
    pic->size = bytes;
    return 0;
}

static void tone_block(qcam_audio_in *in, int64_t k, qcam_picture *pic)
{
    int16_t *s = (int16_t *)(void *)pic->data;
    uint64_t n0 = (uint64_t)k * in->block;
    for (unsigned i = 0; i < in->block; i++) {
        int16_t v = qcam_audio_tone_sample(in->cfg.tone_hz, in->cfg.sample_rate, n0 + i);
        for (int c = 0; c < in->cfg.channels; c++) s[i * (unsigned)in->cfg.channels + (unsigned)c] = v;
    }
    pic->width = (int)in->block;
    pic->size = (size_t)in->block * (size_t)in->cfg.channels * sizeof(int16_t);
}

/* ---- the HAL ----------------------------------------------------------------- */

static void in_free(qcam_audio_in *in)
{
    if (in->fd >= 0) qcam_fs_close(in->fd);
    qcam_fs_card_close(in->card);
    qcam_pool_close(in->pool);
    pthread_mutex_destroy(&in->lock);
    free(in);
}

int qcam_audio_in_open(const qcam_audio_config *cfg, qcam_audio_in **out, char *err, size_t err_len)
{
    set_err(err, err_len, "%s", "");
    if (cfg->sample_rate != 8000 && cfg->sample_rate != 16000) {
        set_err(err, err_len, "sample rate %d: 8000 or 16000", cfg->sample_rate);
        return -EINVAL;
    }
    if (cfg->channels != 1) {
        set_err(err, err_len, "%d channels: 1", cfg->channels);
        return -EINVAL;
    }
    if (cfg->frame_ms < QCAM_AUDIO_MIN_FRAME_MS || cfg->frame_ms > QCAM_AUDIO_MAX_FRAME_MS) {
        set_err(err, err_len, "frame %d ms: %d..%d", cfg->frame_ms, QCAM_AUDIO_MIN_FRAME_MS, QCAM_AUDIO_MAX_FRAME_MS);
        return -EINVAL;
    }
    if (cfg->buffers < QCAM_AUDIO_MIN_BUFFERS || cfg->buffers > QCAM_AUDIO_MAX_BUFFERS) {
        set_err(err, err_len, "buffers %u: %d..%d", cfg->buffers, QCAM_AUDIO_MIN_BUFFERS, QCAM_AUDIO_MAX_BUFFERS);
        return -EINVAL;
    }
    if (!cfg->wav_path && (cfg->tone_hz < 1 || cfg->tone_hz > cfg->sample_rate / 2)) {
        set_err(err, err_len, "tone %d Hz: 1..%d", cfg->tone_hz, cfg->sample_rate / 2);
        return -EINVAL;
    }
    if (cfg->wav_path && !cfg->card) {
        set_err(err, err_len, "no card for the WAV file");
        return -EINVAL;
    }
    qcam_audio_in *in = calloc(1, sizeof *in);
    if (!in) {
        set_err(err, err_len, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&in->lock, NULL);
    atomic_store(&in->refs, 1);
    in->cfg = *cfg;
    in->cfg.card = NULL;
    in->cfg.wav_path = NULL;
    in->block = (unsigned)(cfg->sample_rate / 1000 * cfg->frame_ms);
    in->frame_us = (int64_t)cfg->frame_ms * 1000;
    in->wav_blocks = -1;
    in->fd = -1;
    if (cfg->wav_path) {
        int r = wav_open(in, cfg, err, err_len);
        if (r < 0) {
            in_free(in);
            return r;
        }
    }
    in->pool = qcam_pool_new(cfg->buffers, (int)in->block, cfg->channels, QCAM_FMT_S16);
    if (!in->pool) {
        in_free(in);
        set_err(err, err_len, "out of memory");
        return -ENOMEM;
    }
    in->t0 = qcam_time_monotonic_us();
    *out = in;
    return 0;
}

qcam_audio_in *qcam_audio_in_ref(qcam_audio_in *in)
{
    atomic_fetch_add(&in->refs, 1);
    return in;
}

void qcam_audio_in_close(qcam_audio_in *in)
{
    if (in && atomic_fetch_sub(&in->refs, 1) == 1) in_free(in);
}

void qcam_audio_in_config(const qcam_audio_in *in, qcam_audio_config *out) { *out = in->cfg; }
unsigned qcam_audio_in_block_samples(const qcam_audio_in *in) { return in->block; }
const char *qcam_audio_in_error(const qcam_audio_in *in) { return in->err; }
unsigned qcam_audio_in_free_buffers(qcam_audio_in *in) { return qcam_pool_free_count(in->pool); }

/* Blocks due at `now` (blocks 0 .. n-1 are complete), capped at the file's end. */
static int64_t due_blocks(const qcam_audio_in *in, int64_t now)
{
    int64_t n = now < in->t0 ? 0 : (now - in->t0) / in->frame_us;
    if (in->wav_blocks >= 0 && !in->cfg.loop && n > in->wav_blocks) n = in->wav_blocks;
    return n;
}

/* Overrun: the ring holds `buffers` blocks; older unread ones are lost. Locked. */
static void overrun(qcam_audio_in *in, int64_t due)
{
    int64_t ring = (int64_t)in->cfg.buffers;
    if (due - in->next > ring) {
        in->dropped += (uint64_t)(due - in->next - ring);
        in->next = due - ring;
    }
}

int qcam_audio_in_read(qcam_audio_in *in, int64_t timeout_us, qcam_picture **out)
{
    int64_t start = qcam_time_monotonic_us();
    int64_t deadline = timeout_us < 0 || timeout_us > INT64_MAX - start ? INT64_MAX : start + timeout_us;
    bool dry = false;
    *out = NULL;
    for (;;) {
        int64_t now = qcam_time_monotonic_us();
        pthread_mutex_lock(&in->lock);
        int64_t due = due_blocks(in, now);
        overrun(in, due);
        if (in->next < due) {
            qcam_picture *pic = qcam_pool_acquire(in->pool);
            if (pic) {
                int64_t k = in->next++;
                pthread_mutex_unlock(&in->lock);
                int r = 0;
                if (in->wav_blocks >= 0) r = wav_block(in, k, pic);
                else tone_block(in, k, pic);
                pthread_mutex_lock(&in->lock);
                if (r < 0) in->dropped++;
                else in->delivered++;
                pthread_mutex_unlock(&in->lock);
                if (r < 0) {
                    qcam_picture_unref(pic);
                    return r;
                }
                pic->seq = (uint64_t)k;
                pic->pts_us = in->t0 + k * in->frame_us;
                *out = pic;
                return 0;
            }
            dry = true;
        }
        bool ended = in->wav_blocks >= 0 && !in->cfg.loop && in->next >= in->wav_blocks;
        int64_t wake = dry ? now + DRY_POLL_US : in->t0 + (in->next + 1) * in->frame_us;
        pthread_mutex_unlock(&in->lock);
        if (ended) return -ENODATA;
        if (wake > deadline) {
            if (now >= deadline) return dry ? -ENOBUFS : -ETIMEDOUT;
            wake = deadline;
        }
        sleep_until(wake);
    }
}

void qcam_audio_in_stats(qcam_audio_in *in, qcam_audio_stats *st)
{
    int64_t now = qcam_time_monotonic_us();
    pthread_mutex_lock(&in->lock);
    int64_t due = due_blocks(in, now);
    int64_t lost = due - in->next - (int64_t)in->cfg.buffers;
    st->captured = (uint64_t)due;
    st->dropped = in->dropped + (uint64_t)(lost > 0 ? lost : 0);
    st->delivered = in->delivered;
    pthread_mutex_unlock(&in->lock);
}
