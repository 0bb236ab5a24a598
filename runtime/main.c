/* qcam-runtime: verify an app image and run it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "build_facts.h"
#include "devlink/serve.h"
#include "image.h"
#include "loop.h"
#include "platform.h"
#include "store/store.h"

#define MAX_IMAGE_BYTES (64u << 20)

static const char usage[] =
    "usage: qcam-runtime [options] <app.qcam>... [-- app args...]\n"
    "  Runs each app in turn in this process (load, run, unload), stopping at the\n"
    "  first that fails.\n"
    "  --sdcard DIR      folder standing in for the SD card (default ./sdcard)\n"
    "  --sdcard-size MB  make the SD card that small (sim: test a full card)\n"
    "  --log-level L     debug|info|warn|error|silent (default info, or $QCAM_LOG_LEVEL)\n"
    "  --board B         sim panel: maixcam (552x368, default), maixcam-pro (640x480),\n"
    "                    k230-lcd (800x480), k230-hdmi (1280x720); or $QCAM_BOARD\n"
    "  --display-port N  sim: serve the display page on 127.0.0.1:N (default: any free port)\n"
    "  --no-display-url  sim: do not print the display page's URL\n"
    "  --repeat N        load, run and unload the app N times in this process\n"
    "  --source          the file is ES module source, not an image (development)\n"
    "  --verify          check the image and exit\n"
    "  --stats           print peak RSS and run time to stderr at exit\n"
    "  --info            print engine, bytecode version, target and ABI hash\n"
    "  --with-parent     end (as on SIGTERM; again 10 s later) when the process that\n"
    "                    started this one is gone: a host tool killed outright\n"
    "                    leaves no runtime behind\n"
    "  --serve DEVICE    be a board on the serial device DEVICE: run the apps the\n"
    "                    dev link pushes (docs/dev-link.md); no app arguments\n"
    "  --echo            --serve: copy the apps' console to this stdout/stderr too\n"
    "  --boot            power-on: run the autostart app from the card's app store,\n"
    "                    a new version on trial (docs/app-store.md); no app arguments\n"
    "  --skip-autostart  --boot: the held key; start nothing (safe mode)\n"
    "                    --boot --serve DEVICE: boot, then keep serving the dev link\n"
    "  --install IMAGE   put IMAGE into the card's app store (inactive slot, on trial)\n"
    "  --autostart       --install: make it the app --boot runs\n"
    "  --allow-downgrade --install: accept a lower version than the installed one\n"
    "  --apps            list the card's installed apps, one JSON object a line\n"
    "  --rollback ID     go back to ID's other version (drop the one on trial)\n"
    "  --remove ID       remove ID from the card's app store\n"
    "  --trust HEX       add an Ed25519 public key: the card then takes only images it signed\n";

static uint8_t *read_file(const char *path, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= MAX_IMAGE_BYTES) {
            *err = EFBIG;
            free(buf);
            buf = NULL;
            break;
        }
        cap *= 2;
        uint8_t *nb = realloc(buf, cap + 1);
        if (!nb) free(buf);
        buf = nb;
    }
    if (buf && ferror(f)) {
        *err = errno ? errno : EIO;
        free(buf);
        buf = NULL;
    } else if (!buf && !*err) {
        *err = ENOMEM;
    }
    fclose(f);
    if (buf) buf[n] = 0; /* source mode needs a terminator */
    *len = n;
    return buf;
}

static int parse_level(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "silent"};
    for (int i = 0; s && i < 5; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static int run_file(const char *path, const qcam_run_options *opts, int repeat, int verify_only,
                    int source)
{
    size_t len = 0;
    int err = 0;
    uint8_t *buf = read_file(path, &len, &err);
    if (!buf) {
        fprintf(stderr, "qcam: cannot read %s: %s\n", path, strerror(err));
        return QCAM_IMG_ERR_READ;
    }
    int code = 0;
    if (source) {
        for (int n = 0; n < repeat && code == 0; n++)
            code = qcam_app_run_source(opts, (const char *)buf, len, path);
    } else {
        qcam_image_expect ex;
        qcam_image img;
        char msg[256];
        qcam_build_expect(&ex);
        code = qcam_image_verify(buf, len, &ex, &img, msg, sizeof msg);
        if (code != QCAM_IMG_OK) {
            fprintf(stderr, "qcam: refusing %s: %s\n", path, msg);
        } else if (verify_only) {
            printf("%s: ok (%s, entry %s, %u sections)\n", path, qcam_target_name(img.target),
                   img.entry_name, img.section_count);
        } else {
            for (int n = 0; n < repeat && code == 0; n++) code = qcam_app_run_image(opts, &img);
        }
    }
    free(buf);
    return code;
}

typedef struct {
    const char *install, *rollback, *remove, *trust;
    bool list;
} store_cmd;

/* --install IMAGE / --apps / --rollback / --remove / --trust: the card's app
 * store (runtime/store/store.h). */
static int store_command(const qcam_run_options *opts, const store_cmd *cmd,
                         const qcam_store_install_opts *inst)
{
    const char *install = cmd->install;
    qcam_fs_card *card = qcam_fs_card_open(opts->sdcard_dir, opts->sdcard_cap);
    if (!card) {
        fprintf(stderr, "qcam: cannot open the card %s: %s\n", opts->sdcard_dir, strerror(errno));
        return QCAM_STORE_ERR_IO;
    }
    int code = 0;
    if (install) {
        size_t len = 0;
        int err = 0;
        uint8_t *buf = read_file(install, &len, &err);
        if (!buf) {
            fprintf(stderr, "qcam: cannot read %s: %s\n", install, strerror(err));
            code = QCAM_IMG_ERR_READ;
        } else {
            qcam_app_state st;
            char msg[300];
            code = qcam_store_install(card, buf, len, inst, &st, msg, sizeof msg);
            if (code != 0) fprintf(stderr, "qcam: refusing %s: %s\n", install, msg);
            else qcam_store_state_json(&st, stdout);
            free(buf);
        }
    } else if (cmd->rollback || cmd->remove || cmd->trust) {
        char msg[300];
        qcam_app_state st;
        const char *what = cmd->rollback ? cmd->rollback : cmd->remove ? cmd->remove : "the key";
        code = cmd->rollback ? qcam_store_rollback(card, cmd->rollback, &st, msg, sizeof msg)
               : cmd->remove ? qcam_store_remove(card, cmd->remove, msg, sizeof msg)
                             : qcam_store_trust_key(card, cmd->trust, msg, sizeof msg);
        if (code != 0) fprintf(stderr, "qcam: refusing %s: %s\n", what, msg);
        else if (cmd->rollback) qcam_store_state_json(&st, stdout);
        else if (cmd->remove) printf("{\"id\":\"%s\",\"removed\":true}\n", cmd->remove);
        else printf("{\"trusted\":\"%s\"}\n", cmd->trust);
    } else {
        int r = qcam_store_list(card, stdout);
        if (r != 0) {
            fprintf(stderr, "qcam: cannot list the apps: %s\n", strerror(-r));
            code = QCAM_STORE_ERR_IO;
        }
    }
    fflush(stdout);
    qcam_fs_card_close(card);
    return code;
}

/* --with-parent: the process that started us, watched by a thread of its own.
 * Once we have been handed to another parent it is gone: SIGTERM to
 * ourselves, which the app sees as needExit(), and a second one (exit now) if
 * it has not ended 10 s later. */
static pid_t first_parent;

static void *watch_parent(void *arg)
{
    (void)arg;
    const struct timespec tick = {0, 200 * 1000000L};
    while (getppid() == first_parent) nanosleep(&tick, NULL);
    kill(getpid(), SIGTERM);
    const struct timespec grace = {10, 0};
    nanosleep(&grace, NULL);
    kill(getpid(), SIGTERM);
    return NULL;
}

static int start_parent_watch(void)
{
    first_parent = getppid();
    pthread_t t;
    if (pthread_create(&t, NULL, watch_parent, NULL) != 0) return -1;
    pthread_detach(t);
    return 0;
}

int main(int argc, char **argv)
{
    qcam_run_options opts = {.sdcard_dir = "sdcard", .log_level = QCAM_LOG_INFO};
    const char *paths[16];
    int n_paths = 0;
    int repeat = 1, verify_only = 0, source = 0, stats = 0, echo = 0;
    const char *serve = NULL;
    store_cmd scmd = {0};
    int boot = 0, skip_autostart = 0;
    qcam_store_install_opts inst = {0};
    opts.board = getenv("QCAM_BOARD");
    if (getenv("QCAM_LOG_LEVEL")) {
        int l = parse_level(getenv("QCAM_LOG_LEVEL"));
        if (l >= 0) opts.log_level = l;
    }
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--sdcard") == 0 && i + 1 < argc) {
            opts.sdcard_dir = argv[++i];
        } else if (strcmp(a, "--sdcard-size") == 0 && i + 1 < argc) {
            char *end;
            double mb = strtod(argv[++i], &end);
            if (end == argv[i] || *end || !(mb > 0)) {
                fprintf(stderr, "qcam-runtime: --sdcard-size needs a size in MiB > 0\n");
                return QCAM_EXIT_USAGE;
            }
            opts.sdcard_cap = (uint64_t)(mb * 1024 * 1024);
        } else if (strcmp(a, "--board") == 0 && i + 1 < argc) {
            opts.board = argv[++i];
        } else if (strcmp(a, "--display-port") == 0 && i + 1 < argc) {
            char *end;
            long port = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || port < 1 || port > 65535) {
                fprintf(stderr, "qcam-runtime: --display-port needs a port from 1 to 65535\n");
                return QCAM_EXIT_USAGE;
            }
            opts.display_port = (int)port;
        } else if (strcmp(a, "--no-display-url") == 0) {
            opts.display_quiet = true;
        } else if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
            if ((opts.log_level = parse_level(argv[++i])) < 0) {
                fprintf(stderr, "qcam-runtime: unknown log level '%s'\n", argv[i]);
                return QCAM_EXIT_USAGE;
            }
        } else if (strcmp(a, "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
            if (repeat < 1) repeat = 1;
        } else if (strcmp(a, "--verify") == 0) {
            verify_only = 1;
        } else if (strcmp(a, "--source") == 0) {
            source = 1;
        } else if (strcmp(a, "--serve") == 0 && i + 1 < argc) {
            serve = argv[++i];
        } else if (strcmp(a, "--boot") == 0) {
            boot = 1;
        } else if (strcmp(a, "--skip-autostart") == 0) {
            skip_autostart = 1;
        } else if (strcmp(a, "--install") == 0 && i + 1 < argc) {
            scmd.install = argv[++i];
        } else if (strcmp(a, "--rollback") == 0 && i + 1 < argc) {
            scmd.rollback = argv[++i];
        } else if (strcmp(a, "--remove") == 0 && i + 1 < argc) {
            scmd.remove = argv[++i];
        } else if (strcmp(a, "--trust") == 0 && i + 1 < argc) {
            scmd.trust = argv[++i];
        } else if (strcmp(a, "--autostart") == 0) {
            inst.autostart = true;
        } else if (strcmp(a, "--allow-downgrade") == 0) {
            inst.allow_downgrade = true;
        } else if (strcmp(a, "--apps") == 0) {
            scmd.list = true;
        } else if (strcmp(a, "--echo") == 0) {
            echo = 1;
        } else if (strcmp(a, "--with-parent") == 0) {
            if (start_parent_watch() != 0) {
                fprintf(stderr, "qcam-runtime: --with-parent: cannot start its thread\n");
                return QCAM_EXIT_USAGE;
            }
        } else if (strcmp(a, "--stats") == 0) {
            stats = 1;
        } else if (strcmp(a, "--info") == 0) {
            printf("{\"engine\":\"%d.%d.%d\",\"bytecode\":%d,\"target\":\"%s\",\"abi\":\"%s\"}\n",
                   QJS_VERSION_MAJOR, QJS_VERSION_MINOR, QJS_VERSION_PATCH, QCAM_BC_VERSION,
                   qcam_target_name(QCAM_TARGET_ID), QCAM_ABI_HASH);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (a[0] == '-' || n_paths == (int)(sizeof paths / sizeof paths[0])) {
            fprintf(stderr, "qcam-runtime: unexpected argument '%s'\n%s", a, usage);
            return QCAM_EXIT_USAGE;
        } else {
            paths[n_paths++] = a;
        }
    }
    if (serve) {
        if (n_paths || i < argc) {
            fprintf(stderr, "qcam-runtime: --serve takes no app or app arguments\n");
            return QCAM_EXIT_USAGE;
        }
        return qcam_serve_main(serve, &opts, echo,
                               !boot ? QCAM_SERVE_NO_BOOT
                               : skip_autostart ? QCAM_SERVE_BOOT_SKIP
                                                : QCAM_SERVE_BOOT);
    }
    if (scmd.install || scmd.list || scmd.rollback || scmd.remove || scmd.trust) {
        if (n_paths || i < argc) {
            fprintf(stderr, "qcam-runtime: the store commands take no app or app arguments\n");
            return QCAM_EXIT_USAGE;
        }
        return store_command(&opts, &scmd, &inst);
    }
    if (boot) {
        if (n_paths) {
            fprintf(stderr, "qcam-runtime: --boot runs the card's autostart app, not a file\n");
            return QCAM_EXIT_USAGE;
        }
        opts.argc = argc - i;
        opts.argv = argv + i;
        setvbuf(stdout, NULL, _IOLBF, 0);
        return qcam_store_boot(&opts, skip_autostart);
    }
    if (n_paths == 0) {
        fputs(usage, stderr);
        return QCAM_EXIT_USAGE;
    }
    opts.argc = argc - i;
    opts.argv = argv + i;
    setvbuf(stdout, NULL, _IOLBF, 0);
    long long t0 = qcam_now_us();

    /* Each app in turn, in this one process: load, run, unload, load the next. */
    int code = 0;
    for (int k = 0; k < n_paths && code == 0; k++)
        code = run_file(paths[k], &opts, repeat, verify_only, source);
    if (stats)
        fprintf(stderr, "qcam-stats: peak_rss_kb=%ld run_ms=%.3f\n", qcam_platform_peak_rss_kb(),
                (double)(qcam_now_us() - t0) / 1000.0);
    return code;
}
