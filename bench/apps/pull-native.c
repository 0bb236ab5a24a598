/* The pull-mode benchmark's baseline (bench/media.ts builds and runs it; not
 * part of the runtime): the loop of bench/apps/media's pull-timed mode, in C
 * on the same HAL calls the JavaScript bindings make, on one thread and with
 * no engine. What the JS loop costs on top of this is its own cost.
 *
 *   pull-native <sdcard dir> <clip.y4m> <board path of the output> <replay file>
 *
 * Per frame, timed on the monotonic clock: qcam_camera_read (as Camera.read),
 * qcam_encoder_encode (as Encoder.encode, here the replay encoder),
 * qcam_picture_unref (Image.close), the ES sink's write (EsFileSink.write),
 * qcam_packet_unref (Frame.close). Between frames it spins until the next one
 * is due plus 50 µs, as the app does. At the end it prints `result {json}`
 * with the frame times (busyUs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camera/camera.h"
#include "fs/fs.h"
#include "link/es_sink.h"
#include "video/video.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int fail(const char *what, int err, const char *detail)
{
    fprintf(stderr, "pull-native: %s: %s%s%s\n", what, strerror(-err), detail ? ": " : "", detail ? detail : "");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fputs("usage: pull-native <sdcard dir> <clip.y4m> <board path of the output> <replay file>\n", stderr);
        return 2;
    }
    char err[256] = "";
    qcam_camera_config cc = {.main = {.format = QCAM_FMT_YUV420P}, .source = argv[2], .loop = false};
    qcam_camera *cam = NULL;
    int r = qcam_camera_open(&cc, &cam, err, sizeof err);
    if (r < 0) return fail("camera", r, err);
    qcam_camera_channel *chn = qcam_camera_main(cam);
    qcam_camera_output o;
    qcam_camera_channel_output(chn, &o);

    qcam_encoder_config ec = {.codec = QCAM_CODEC_H264, .width = o.width, .height = o.height, .fps = o.fps,
                              .bitrate = 2000000, .rate_control = QCAM_RC_CBR, .gop = o.fps,
                              .input_format = QCAM_FMT_NV21, .replay_path = argv[4]};
    qcam_encoder *enc = NULL;
    if ((r = qcam_encoder_open(&ec, &enc)) < 0) return fail("encoder", r, argv[4]);

    qcam_fs_card *card = qcam_fs_card_open(argv[1], 0);
    if (!card) return fail("sdcard", -errno, argv[1]);
    qcam_es_sink *es = qcam_es_sink_open(card, argv[3], &r);
    if (!es) return fail("sink", r, argv[3]);
    qcam_sink *sink = qcam_es_sink_base(es);

    double *busy = calloc((size_t)(o.fps > 0 ? o.fps : 1) * 3600, sizeof *busy); /* up to an hour */
    if (!busy) return fail("calloc", -ENOMEM, NULL);
    const double period = 1e6 / o.fps;
    double due = 0; /* µs on the monotonic clock; 0 before the first frame */
    unsigned long frames = 0;
    for (; frames < (unsigned long)o.fps * 3600; frames++) {
        if (due)
            while (now_us() < due + 50) {
            }
        double t0 = now_us();
        qcam_picture *pic = NULL;
        r = qcam_camera_read(chn, -1, &pic);
        if (r == -ENODATA) break;
        if (r < 0) return fail("read", r, qcam_camera_error(chn));
        due = (double)pic->pts_us + period;
        qcam_packet *pkt = NULL;
        r = qcam_encoder_encode(enc, pic, &pkt);
        qcam_picture_unref(pic);
        if (r < 0) return fail("encode", r, NULL);
        r = sink->ops->write(sink, pkt);
        qcam_packet_unref(pkt);
        if (r < 0) return fail("write", r, NULL);
        busy[frames] = now_us() - t0;
    }
    qcam_camera_stats st;
    qcam_camera_get_stats(chn, &st);
    printf("result {\"mode\":\"native\",\"frames\":%lu,\"sinkFrames\":%llu,\"camera\":{\"captured\":%llu,\"dropped\":%llu,"
           "\"delivered\":%llu},\"busyUs\":[",
           frames, (unsigned long long)qcam_es_sink_frames(es), (unsigned long long)st.captured,
           (unsigned long long)st.dropped, (unsigned long long)st.delivered);
    for (unsigned long i = 0; i < frames; i++) printf("%s%.3f", i ? "," : "", busy[i]);
    printf("]}\n");
    free(busy);
    /* The sink took over the card reference it was given (as in mod_link.c):
     * closing it closes the card. */
    if ((r = qcam_es_sink_close(es)) < 0) return fail("sink close", r, NULL);
    qcam_encoder_close(enc);
    qcam_camera_close(cam);
    return 0;
}
