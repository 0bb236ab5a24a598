/* The peer for bench/rtsp.ts: GStreamer's RTSP server (libgstrtspserver-1.0)
 * serving an Annex B file at its frame rate on rtsp://127.0.0.1:<port>/live,
 * one shared pipeline for every client, as qcam's server shares one stream.
 *
 *   rtsp-gst <port> <clip.h264|clip.h265> <fps>
 *
 * Prints "ready <port>" once listening; runs until SIGINT/SIGTERM. */
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean on_signal(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    if (argc != 4) {
        fprintf(stderr, "usage: %s <port> <clip.h264|clip.h265> <fps>\n", argv[0]);
        return 2;
    }
    const char *port = argv[1], *clip = argv[2];
    int fps = atoi(argv[3]);
    size_t n = strlen(clip);
    gboolean h265 = n > 5 && !strcmp(clip + n - 5, ".h265");
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    GstRTSPServer *server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(server, "127.0.0.1");
    gst_rtsp_server_set_service(server, port);
    GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
    /* identity sync=true plays the file in real time (by the parser's timestamps). */
    gchar *launch = g_strdup_printf(
        "( filesrc location=\"%s\" ! video/x-%s,stream-format=byte-stream ! %s ! "
        "video/x-%s,framerate=%d/1 ! identity sync=true ! %s name=pay0 pt=96 config-interval=-1 )",
        clip, h265 ? "h265" : "h264", h265 ? "h265parse" : "h264parse", h265 ? "h265" : "h264", fps,
        h265 ? "rtph265pay" : "rtph264pay");
    gst_rtsp_media_factory_set_launch(factory, launch);
    g_free(launch);
    gst_rtsp_media_factory_set_shared(factory, TRUE);
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
    gst_rtsp_mount_points_add_factory(mounts, "/live", factory);
    g_object_unref(mounts);
    if (gst_rtsp_server_attach(server, NULL) == 0) {
        fprintf(stderr, "rtsp-gst: cannot listen on port %s\n", port);
        return 1;
    }
    g_unix_signal_add(SIGINT, on_signal, loop);
    g_unix_signal_add(SIGTERM, on_signal, loop);
    printf("ready %d\n", gst_rtsp_server_get_bound_port(server));
    fflush(stdout);
    g_main_loop_run(loop);
    g_object_unref(server);
    g_main_loop_unref(loop);
    return 0;
}
