/* qcam:audio HAL: a microphone (AudioIn), G.711 and WAV files. Plain C, no
 * engine types, negative errno returns. Native threads (the link module) call
 * read() with no JavaScript involved.
 *
 * Model. Opening an AudioIn starts capturing: block k holds samples
 * k*N .. k*N+N-1 (N = sample_rate * frame_ms / 1000 per channel), its first
 * sample was captured at t0 + k*frame_ms, and it is complete — due — at
 * t0 + (k+1)*frame_ms on the monotonic clock, whether anybody reads or not.
 * The driver keeps the last `buffers` due blocks that nobody has read (its
 * ring); when a reader falls further behind, the oldest are overwritten,
 * dropped and counted. read() hands out the oldest block still in the ring
 * (audio is not skipped the way late video frames are: every block the ring
 * still holds comes out, in order), and when there is none it sleeps until
 * the next one is due. The samples go into a picture (media.h) of the
 * input's fixed pool: format QCAM_FMT_S16, width = samples per channel,
 * height = channels, interleaved native-endian int16, pts_us = the capture
 * time of the first sample, seq = k. When every picture of the pool is held
 * by the consumer, read() waits for one (due blocks stay in the ring) until
 * its timeout, then says -ENOBUFS.
 *
 * So at any moment: captured = delivered + dropped + (blocks in the ring).
 *
 * Lifetimes. An AudioIn is reference counted like a camera: open() returns
 * one reference, qcam_audio_in_ref() adds one (a link's capture thread),
 * close() drops one; the last one stops capturing. Pictures handed out hold a
 * reference on their pool and stay valid after the input is gone.
 *
 * Threads. One reader at a time; stats() from anywhere, any time.
 *
 * Sources (sim): a sine tone, or a WAV file on the card played in real time
 * (16-bit PCM at the input's rate and channel count: no resampling), looping
 * or ending with -ENODATA; a file's last block may be shorter than N.
 *
 * Board backends (not written yet) map this as follows.
 *  - MaixCAM (SG2002, CVI audio): open = CVI_AUDIO_INIT, CVI_AI_SetPubAttr
 *    (AIO_ATTR_S: enSamplerate, enBitwidth AUDIO_BIT_WIDTH_16, enSoundmode
 *    MONO, u32PtNumPerFrm = N, u32FrmNum = buffers), CVI_AI_Enable,
 *    CVI_AI_EnableChn; read = CVI_AI_GetFrame(dev, chn, &frame, NULL,
 *    timeout_ms) into the picture (the frame's u64TimeStamp is pts_us), then
 *    CVI_AI_ReleaseFrame. MaixPy's maix.audio.Recorder sits on the same ALSA
 *    capture device (snd_pcm_readi with period N, buffer N*buffers).
 *  - K230 (kd_mpi_ai): open = kd_mpi_ai_set_pub_attr (k_aio_dev_attr:
 *    audio_type KD_AUDIO_INPUT_TYPE_I2S, sample_rate, bit_width 16,
 *    snd_mode mono, frame_num = buffers, point_num_per_frame = N),
 *    kd_mpi_ai_enable, kd_mpi_ai_enable_chn; read = kd_mpi_ai_get_frame(dev,
 *    chn, &frame, timeout_ms) + kd_mpi_sys_mmap of the frame's phys_addr (the
 *    picture wraps it; its release does munmap + kd_mpi_ai_release_frame).
 *  Both keep the contract: blocks in order, seq gaps are drops, pts on
 *  CLOCK_MONOTONIC, -ENOBUFS when every picture is held by the consumer. */
#ifndef QCAM_AUDIO_HAL_H
#define QCAM_AUDIO_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../fs/fs.h"
#include "../media/media.h"

/* ---- G.711 (ITU-T G.711, g711.c) ------------------------------------------ */

typedef enum { QCAM_G711_ALAW = 0, QCAM_G711_ULAW = 1 } qcam_g711_law;

uint8_t qcam_g711_alaw_encode(int16_t pcm);
int16_t qcam_g711_alaw_decode(uint8_t code);
uint8_t qcam_g711_ulaw_encode(int16_t pcm);
int16_t qcam_g711_ulaw_decode(uint8_t code);
/* n samples in, n bytes out (and back). */
void qcam_g711_encode(qcam_g711_law law, const int16_t *pcm, size_t n, uint8_t *out);
void qcam_g711_decode(qcam_g711_law law, const uint8_t *in, size_t n, int16_t *pcm);
/* A G.711 packet (codec QCAM_CODEC_ALAW / ULAW, type QCAM_PKT_AUDIO,
 * keyframe) from an S16 picture: pts_us = dts_us = pic->pts_us, samples and
 * sample_rate as given, seq 0. 0 and *out, -EINVAL (not S16), -ENOMEM. */
int qcam_g711_encode_picture(qcam_g711_law law, const qcam_picture *pic, uint32_t sample_rate,
                             qcam_packet **out);

/* ---- WAV files (wav.c) ------------------------------------------------------ */

/* Random access to the file's bytes: how many of n bytes at `off` were read
 * (fewer at the end of the file), or -errno. */
typedef int64_t qcam_wav_read_fn(void *ctx, uint64_t off, void *buf, size_t n);

typedef struct {
    uint32_t sample_rate;
    uint16_t channels;        /* 1 or 2 */
    uint16_t bits;            /* 16 */
    uint64_t data_offset;     /* first byte of the samples */
    uint64_t frames;          /* sample frames (one sample per channel each) in the file */
} qcam_wav_info;

/* Read a RIFF/WAVE header: the "fmt " chunk (PCM, or WAVE_FORMAT_EXTENSIBLE
 * with a PCM sub-format; 16-bit; 1 or 2 channels) and where the "data" chunk
 * is, walking the chunks with every size checked against `file_size` (a data
 * chunk that claims more than the file holds is cut to what is there, as a
 * recording that was never finished). 0, or -EILSEQ (not a WAV file, damaged:
 * `err` says what), -ENOTSUP (a WAV we do not play: float, 8/24/32-bit, A-law
 * inside WAV, more than 2 channels: `err` says which), or the reader's -errno. */
int qcam_wav_parse(qcam_wav_read_fn *read, void *ctx, uint64_t file_size, qcam_wav_info *out,
                   char *err, size_t err_len);
/* Little-endian 16-bit samples to native int16 (n samples). */
void qcam_wav_s16le_to_native(const uint8_t *in, size_t n, int16_t *out);

/* ---- AudioIn ------------------------------------------------------------------ */

typedef struct qcam_audio_in qcam_audio_in;

typedef struct {
    int sample_rate;          /* 8000 or 16000 */
    int channels;             /* 1 */
    int frame_ms;             /* 10..100 */
    unsigned buffers;         /* pictures in the pool, and blocks in the ring (2..64) */
    int tone_hz;              /* tone source: 1 .. sample_rate/2 */
    /* A WAV file on `card` (board path); NULL: the tone. */
    qcam_fs_card *card;
    const char *wav_path;
    bool loop;                /* WAV: start again at the end (else read() gives -ENODATA) */
} qcam_audio_config;

/* What this platform accepts; bindings quote it in their messages. */
enum {
    QCAM_AUDIO_MIN_FRAME_MS = 10, QCAM_AUDIO_MAX_FRAME_MS = 100,
    QCAM_AUDIO_MIN_BUFFERS = 2, QCAM_AUDIO_MAX_BUFFERS = 64,
    QCAM_AUDIO_TONE_AMPLITUDE = 16384, /* half of full scale */
};

typedef struct {
    uint64_t captured;  /* blocks that fell due since the input started */
    uint64_t dropped;   /* fell due, never handed out: overwritten in the ring */
    uint64_t delivered; /* handed out by read() */
} qcam_audio_stats;

/* The tone's sample n (0, 1, 2, ... from the start): round(A sin(2 pi f n / rate)). */
int16_t qcam_audio_tone_sample(int tone_hz, int sample_rate, uint64_t n);

/* Start capturing. -EINVAL bad config, -ENOENT/-EACCES/... the file,
 * -EILSEQ/-ENOTSUP a WAV we cannot play, -ERANGE a WAV whose rate or channel
 * count is not the one asked for (`err` says both), -ENOMEM. `err` (always
 * NUL-terminated) says why in one line. The card reference stays the
 * caller's (the input takes its own). */
int qcam_audio_in_open(const qcam_audio_config *cfg, qcam_audio_in **out, char *err, size_t err_len);
qcam_audio_in *qcam_audio_in_ref(qcam_audio_in *in);
void qcam_audio_in_close(qcam_audio_in *in);
/* The actual settings. */
void qcam_audio_in_config(const qcam_audio_in *in, qcam_audio_config *out);
/* Samples per channel in a full block. */
unsigned qcam_audio_in_block_samples(const qcam_audio_in *in);

/* The next block (see the model above), waiting at most timeout_us (< 0: no
 * limit). 0 and *out (one reference), -ETIMEDOUT, -ENOBUFS (blocks are due
 * but every picture is held), -ENODATA (the WAV ended), -EIO (the file
 * failed: qcam_audio_in_error says why). */
int qcam_audio_in_read(qcam_audio_in *in, int64_t timeout_us, qcam_picture **out);
const char *qcam_audio_in_error(const qcam_audio_in *in);
void qcam_audio_in_stats(qcam_audio_in *in, qcam_audio_stats *st);
unsigned qcam_audio_in_free_buffers(qcam_audio_in *in);

#endif
