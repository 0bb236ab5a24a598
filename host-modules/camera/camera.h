/* qcam:camera HAL: one image sensor and its output channels. Plain C, no
 * engine types, negative errno returns. Native threads (the link module)
 * call read() with no JavaScript involved.
 *
 * Model. Opening a camera starts the sensor: capture k falls due at
 * t0 + k/fps on the monotonic clock, whether anybody reads or not. Every
 * channel is one output of that sensor at its own size, pixel format and rate
 * (fps <= the camera's): channel frames are a subset of the captures and carry
 * the capture's seq and timestamp, so the same capture has the same seq and
 * pts_us on every channel. Channel 0, the main channel, is the one `open`
 * configures; `add_channel` adds more (MaixPy add_channel, K230 vicap
 * channels, CVI VPSS channels).
 *
 * read() hands out the newest frame not yet handed out; when there is none it
 * sleeps until the channel's next frame falls due. Frames that fell due while
 * the reader was busy are dropped and counted (seq jumps): the sensor never
 * waits for a reader. Pictures come from the channel's fixed qcam_pool; when
 * the pool is dry the frame that fell due is dropped and counted, and read()
 * keeps waiting for the next one until its timeout, then says -ENOBUFS.
 *
 * Lifetimes. A camera is reference counted: open() returns one reference,
 * qcam_camera_ref() takes another (a link holding the camera while its thread
 * reads), qcam_camera_close() drops one; the last one stops the sensor and
 * frees the channels. Channel pointers stay valid while the caller holds a
 * reference on their camera. Pictures handed out hold their own reference on
 * their pool: they stay valid after the camera is gone, until unref'd.
 *
 * Threads. Every function is thread-safe except that each channel has at most
 * one reader at a time (read() and skip on one channel must not run
 * concurrently); stats() may be called from anywhere, any time.
 *
 * Board backends (not written yet) map this as follows.
 *  - MaixCAM (SG2002, CVI MMF): open = CVI_SYS_Init, CVI_VI_SetDevAttr /
 *    CVI_VI_EnableDev / CVI_VI_CreatePipe / CVI_VI_StartPipe /
 *    CVI_VI_SetChnAttr / CVI_VI_EnableChn for the sensor, and one VPSS group
 *    bound to the VI channel (CVI_SYS_Bind); each qcam channel is one VPSS
 *    channel (CVI_VPSS_SetChnAttr with the size, PIXEL_FORMAT_NV21 /
 *    NV12 / YUV_PLANAR_420 / RGB_888 / YUV_400, frame rate control
 *    stSrcFrameRate/stDstFrameRate, u32Depth = buffers). read =
 *    CVI_VPSS_GetChnFrame(grp, chn, &frame, timeout_ms); the picture wraps the
 *    VIDEO_FRAME_INFO_S' mapped planes (no copy) and its release hook calls
 *    CVI_VPSS_ReleaseChnFrame, so the qcam_pool there is a pool of wrappers
 *    sized like the VB pool (CVI_VB_CreatePool with `buffers` blocks).
 *    Sequence number and pts come from stVFrame.u32TimeRef / u64PTS.
 *  - K230 (kd_mpi_vicap): open = kd_mpi_vicap_get_sensor_info,
 *    kd_mpi_vicap_set_dev_attr, kd_mpi_vicap_init / kd_mpi_vicap_start_stream;
 *    channel n = k_vicap_chn n (up to 3) set with kd_mpi_vicap_set_chn_attr
 *    (out_win size, pix_format PIXEL_FORMAT_YUV_SEMIPLANAR_420 /
 *    RGB_888 / ..., fps, buffer_num); read = kd_mpi_vicap_dump_frame(dev, chn,
 *    VICAP_DUMP_YUV, &info, timeout_ms) + kd_mpi_sys_mmap of the planes, and
 *    the release hook does munmap + kd_mpi_vicap_dump_release. NV21 is made by
 *    the ISP's UV swap option where the sensor path gives NV12.
 *  Both keep the contract above: seq from the frame's own counter (gaps are
 *  drops), pts on CLOCK_MONOTONIC, -ENOBUFS when all `buffers` are held by
 *  the consumer, per-channel fps no higher than the sensor's. */
#ifndef QCAM_CAMERA_HAL_H
#define QCAM_CAMERA_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../media/media.h"

typedef struct qcam_camera qcam_camera;
typedef struct qcam_camera_channel qcam_camera_channel;

/* One output. In open()'s config, 0 means "the source's own" for width,
 * height and fps (sim: 640x480 at 30 for the pattern; a Y4M file's size and
 * rate), 0 buffers means 4. For add_channel every field must be set. */
typedef struct {
    int width, height;
    qcam_pixfmt format;
    int fps;          /* whole frames per second */
    unsigned buffers; /* pictures in the channel's pool */
} qcam_camera_output;

typedef struct {
    qcam_camera_output main;
    /* sim only: real path of a Y4M file; NULL: the synthetic pattern.
     * Boards: must be NULL (-ENOTSUP). */
    const char *source;
    bool loop; /* Y4M: start again at the end (else read() gives -ENODATA) */
} qcam_camera_config;

/* What this platform accepts; bindings quote it in their error messages. */
typedef struct {
    int min_width, max_width, min_height, max_height;
    int size_step;       /* width and height are multiples of this */
    int min_fps, max_fps;
    unsigned min_buffers, max_buffers;
    int max_channels;    /* main channel included */
    unsigned formats;    /* bit (1 << qcam_pixfmt) per supported format */
} qcam_camera_caps;

typedef struct {
    uint64_t captured;  /* frames of this channel that fell due since it started */
    uint64_t dropped;   /* fell due, never handed out: reader too slow or pool dry */
    uint64_t delivered; /* handed out by read() (and skipped by read(NULL)) */
} qcam_camera_stats;

void qcam_camera_get_caps(qcam_camera_caps *caps);

/* Start the sensor. On failure returns -errno and writes a one-line reason
 * into err (always NUL-terminated): -EINVAL bad config,
 * -ENOTSUP unsupported source or format, -EBUSY the sensor is already open,
 * -ENOENT/-EACCES/... the source file, -EILSEQ a malformed source (the
 * message says what is wrong), -ERANGE the source's size differs from the
 * requested one, -ENOMEM. */
int qcam_camera_open(const qcam_camera_config *cfg, qcam_camera **out, char *err, size_t err_len);
qcam_camera *qcam_camera_ref(qcam_camera *cam);
/* Drop a reference; the last one stops the sensor. NULL is ignored. */
void qcam_camera_close(qcam_camera *cam);

/* Channel 0. */
qcam_camera_channel *qcam_camera_main(qcam_camera *cam);
/* -EINVAL bad config (fps above the camera's, size or format outside the
 * caps), -ENOSPC no channel left (caps.max_channels), -ENOMEM. A channel
 * lives as long as its camera; its first frame is the newest capture. */
int qcam_camera_add_channel(qcam_camera *cam, const qcam_camera_output *cfg,
                            qcam_camera_channel **out);
/* The channel's actual settings (defaults resolved). */
void qcam_camera_channel_output(const qcam_camera_channel *chn, qcam_camera_output *out);

/* The next frame of `chn` (see the model above), waiting at most timeout_us
 * (< 0: no limit). *out receives a picture with one reference, seq and pts_us
 * set; out == NULL consumes the frame without producing pixels (skip).
 * Returns 0, -ETIMEDOUT (no frame fell due in time), -ENOBUFS (frames fell
 * due but the pool stayed dry until the timeout), -ENODATA (the source
 * ended), -EILSEQ/-EIO (the source failed: qcam_camera_error says why). */
int qcam_camera_read(qcam_camera_channel *chn, int64_t timeout_us, qcam_picture **out);
/* Why the last read of `chn` failed (its reader's thread only). */
const char *qcam_camera_error(const qcam_camera_channel *chn);
void qcam_camera_get_stats(qcam_camera_channel *chn, qcam_camera_stats *st);
/* Pictures of the channel's pool not handed out. */
unsigned qcam_camera_free_buffers(qcam_camera_channel *chn);

#endif
