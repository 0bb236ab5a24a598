/* A camera we did not write, for test/integration/rtsp-source.test.ts and
 * bench/rtsp-source.ts: GStreamer's RTSP server (libgstrtspserver-1.0)
 * serving a Matroska file's H.264 or H.265 track in real time on
 * rtsp://127.0.0.1:<port>/live, as an IP camera serves its encoder's stream
 * (one shared pipeline). Matroska, not a raw Annex B file: the container's
 * timestamps become the RTP timestamps (a raw file has none, and every
 * packet would carry the same one).
 *
 *   rtsp-gst-server <port> <clip.mkv> <h264|h265> [options]
 *     --transport tcp|udp|any   the lower transports offered (default any)
 *     --auth basic|digest       require this authentication ...
 *     --user U --password P     ... for this user (default admin / secret)
 *     --per-client              a pipeline per client, each from the clip's
 *                               start (default: one shared pipeline)
 *     --address A               listen on A (default 127.0.0.1; ::1 for IPv6)
 *
 * Prints "ready <port>" once listening; runs until SIGINT/SIGTERM. Built by
 * the tests with the flags of `pkg-config gstreamer-rtsp-server-1.0`. */
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
    if (argc < 4) {
        fprintf(stderr, "usage: %s <port> <clip.mkv> <h264|h265> [--transport tcp|udp|any] "
                        "[--auth basic|digest] [--user U] [--password P] [--per-client]\n", argv[0]);
        return 2;
    }
    const char *port = argv[1], *clip = argv[2];
    const char *transport = "any", *auth_kind = NULL, *user = "admin", *password = "secret", *address = "127.0.0.1";
    gboolean shared = TRUE;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--transport") && i + 1 < argc) transport = argv[++i];
        else if (!strcmp(argv[i], "--auth") && i + 1 < argc) auth_kind = argv[++i];
        else if (!strcmp(argv[i], "--user") && i + 1 < argc) user = argv[++i];
        else if (!strcmp(argv[i], "--password") && i + 1 < argc) password = argv[++i];
        else if (!strcmp(argv[i], "--per-client")) shared = FALSE;
        else if (!strcmp(argv[i], "--address") && i + 1 < argc) address = argv[++i];
        else {
            fprintf(stderr, "rtsp-gst-server: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    gboolean h265 = !strcmp(argv[3], "h265");
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    GstRTSPServer *server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(server, address);
    gst_rtsp_server_set_service(server, port);
    GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
    /* identity sync=true plays the file in real time; the payloader sends
     * the parameter sets in-band before each IDR too (config-interval=-1). */
    gchar *launch = g_strdup_printf(
        "( filesrc location=\"%s\" ! matroskademux ! %s ! identity sync=true ! %s name=pay0 pt=96 config-interval=-1 )",
        clip, h265 ? "h265parse" : "h264parse", h265 ? "rtph265pay" : "rtph264pay");
    gst_rtsp_media_factory_set_launch(factory, launch);
    g_free(launch);
    gst_rtsp_media_factory_set_shared(factory, shared);
    if (!strcmp(transport, "tcp")) gst_rtsp_media_factory_set_protocols(factory, GST_RTSP_LOWER_TRANS_TCP);
    else if (!strcmp(transport, "udp")) gst_rtsp_media_factory_set_protocols(factory, GST_RTSP_LOWER_TRANS_UDP);

    if (auth_kind) {
        GstRTSPAuth *auth = gst_rtsp_auth_new();
        GstRTSPToken *token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "user", NULL);
        if (!strcmp(auth_kind, "digest")) {
            gst_rtsp_auth_add_digest(auth, user, password, token);
            gst_rtsp_auth_set_supported_methods(auth, GST_RTSP_AUTH_DIGEST);
        } else {
            gchar *basic = gst_rtsp_auth_make_basic(user, password);
            gst_rtsp_auth_add_basic(auth, basic, token);
            g_free(basic);
            gst_rtsp_auth_set_supported_methods(auth, GST_RTSP_AUTH_BASIC);
        }
        gst_rtsp_token_unref(token);
        gst_rtsp_server_set_auth(server, auth);
        g_object_unref(auth);
        gst_rtsp_media_factory_add_role(factory, "user", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                        GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
    }
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
    gst_rtsp_mount_points_add_factory(mounts, "/live", factory);
    g_object_unref(mounts);
    if (gst_rtsp_server_attach(server, NULL) == 0) {
        fprintf(stderr, "rtsp-gst-server: cannot listen on port %s\n", port);
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
