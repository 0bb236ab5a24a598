/* An RTSP server that takes pushed streams (ANNOUNCE + RECORD), for the
 * tests of qcam:publish's RtspPublisher: GStreamer's RTSP server
 * (libgstrtspserver-1.0) in record mode, depayloading what arrives and
 * writing it to files the test probes with ffprobe. Built by the test with
 * pkg-config (test/servers.ts, startRtspRecord).
 *
 *   rtsp-record PORT DIR [USER PASS [digest|basic]]
 *
 * Mounts: /h264 → DIR/h264.h264 and /h265 → DIR/h265.h265 (Annex B, one
 * access unit per buffer), /av → DIR/av.mkv (H.264 + G.711 A-law).
 * Each new RECORD session rewrites its file. Prints "ready PORT" when
 * listening; stops on SIGTERM/SIGINT. */
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean on_signal(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static void mount(GstRTSPMountPoints *mounts, const char *path, const char *launch, gboolean auth)
{
    GstRTSPMediaFactory *f = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_transport_mode(f, GST_RTSP_TRANSPORT_MODE_RECORD);
    gst_rtsp_media_factory_set_launch(f, launch);
    gst_rtsp_media_factory_set_protocols(f, GST_RTSP_LOWER_TRANS_TCP);
    gst_rtsp_media_factory_set_eos_shutdown(f, TRUE);
    if (auth)
        gst_rtsp_media_factory_add_role(f, "publisher", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                        GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
    gst_rtsp_mount_points_add_factory(mounts, path, f);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    if (argc != 3 && argc != 5 && argc != 6) {
        fprintf(stderr, "usage: rtsp-record PORT DIR [USER PASS [digest|basic]]\n");
        return 2;
    }
    const char *dir = argv[2];
    gboolean auth = argc >= 5;
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    GstRTSPServer *server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(server, "127.0.0.1");
    gst_rtsp_server_set_service(server, argv[1]);
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
    char launch[2048];
    snprintf(launch, sizeof launch,
             "( rtph264depay name=depay0 ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au"
             " ! filesink location=%s/h264.h264 )",
             dir);
    mount(mounts, "/h264", launch, auth);
    snprintf(launch, sizeof launch,
             "( rtph265depay name=depay0 ! h265parse config-interval=-1 ! video/x-h265,stream-format=byte-stream,alignment=au"
             " ! filesink location=%s/h265.h265 )",
             dir);
    mount(mounts, "/h265", launch, auth);
    snprintf(launch, sizeof launch,
             "( rtph264depay name=depay0 ! h264parse ! queue ! matroskamux name=mux ! filesink location=%s/av.mkv"
             "  rtppcmadepay name=depay1 ! queue ! mux. )",
             dir);
    mount(mounts, "/av", launch, auth);
    g_object_unref(mounts);
    if (auth) {
        GstRTSPAuth *a = gst_rtsp_auth_new();
        gboolean digest = argc < 6 || strcmp(argv[5], "basic") != 0;
        GstRTSPToken *token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "publisher", NULL);
        if (digest) {
            gst_rtsp_auth_set_supported_methods(a, GST_RTSP_AUTH_DIGEST);
            gst_rtsp_auth_add_digest(a, argv[3], argv[4], token);
        } else {
            gchar *basic = gst_rtsp_auth_make_basic(argv[3], argv[4]);
            gst_rtsp_auth_set_supported_methods(a, GST_RTSP_AUTH_BASIC);
            gst_rtsp_auth_add_basic(a, basic, token);
            g_free(basic);
        }
        gst_rtsp_token_unref(token);
        gst_rtsp_server_set_auth(server, a);
        g_object_unref(a);
    }
    if (gst_rtsp_server_attach(server, NULL) == 0) {
        fprintf(stderr, "rtsp-record: cannot listen on %s\n", argv[1]);
        return 1;
    }
    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_unix_signal_add(SIGINT, on_signal, loop);
    printf("ready %s\n", argv[1]);
    fflush(stdout);
    g_main_loop_run(loop);
    g_object_unref(server);
    g_main_loop_unref(loop);
    return 0;
}
