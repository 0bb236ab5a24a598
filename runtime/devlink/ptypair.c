/* qcam-ptypair: a serial line between two fresh pseudo-terminals, for the sim
 * board (qcam board, docs/dev-link.md section 5).
 *
 *   qcam-ptypair HOST_LINK BOARD_LINK [--baud N]
 *
 * Opens two pty pairs, links their terminal ends as HOST_LINK and BOARD_LINK,
 * prints "host=<path> board=<path>" and copies bytes between the two masters
 * until SIGINT/SIGTERM or until its standard input closes (the parent is
 * gone); then removes the links. Both terminal ends are also held open here,
 * raw, so either side may close and reopen its end (an unplugged cable) and
 * the line stays. --baud N paces each direction to N/10 bytes a second, like
 * a UART at N baud with 8N1; without it the line runs at pty speed. */
#define _XOPEN_SOURCE 600
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int master, slave;
    char path[128];
} pty;

typedef struct {
    unsigned char buf[1 << 16];
    size_t len, off;
    double credit; /* bytes that may go now (--baud) */
} pipe_buf;

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF | IXANY);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
    t.c_cflag |= CS8 | CREAD | CLOCAL;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &t);
}

static int open_pty(pty *p)
{
    p->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (p->master < 0 || grantpt(p->master) != 0 || unlockpt(p->master) != 0) return -1;
    const char *name = ptsname(p->master);
    if (!name || strlen(name) >= sizeof p->path) return -1;
    strcpy(p->path, name);
    p->slave = open(p->path, O_RDWR | O_NOCTTY);
    if (p->slave < 0) return -1;
    raw(p->slave);
    fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
    return 0;
}

static int link_to(const char *target, const char *link)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", link, (long)getpid()) >= (int)sizeof tmp) return -1;
    unlink(tmp);
    if (symlink(target, tmp) != 0) return -1;
    return rename(tmp, link);
}

static void unlink_if_ours(const char *link, const char *target)
{
    char got[256];
    ssize_t n = readlink(link, got, sizeof got - 1);
    if (n > 0) {
        got[n] = 0;
        if (strcmp(got, target) == 0) unlink(link);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Move bytes from `from` (readable) into b, and from b to `to` (writable). */
static void pump(int from, short from_ev, int to, short to_ev, pipe_buf *b, double rate)
{
    if ((from_ev & (POLLIN | POLLHUP)) && b->len < sizeof b->buf) {
        ssize_t r = read(from, b->buf + b->len, sizeof b->buf - b->len);
        if (r > 0) b->len += (size_t)r;
    }
    if ((to_ev & POLLOUT) && b->off < b->len) {
        size_t n = b->len - b->off;
        if (rate > 0 && n > (size_t)b->credit) n = (size_t)b->credit;
        if (n > 0) {
            ssize_t w = write(to, b->buf + b->off, n);
            if (w > 0) {
                b->off += (size_t)w;
                if (rate > 0) b->credit -= (double)w;
            }
        }
    }
    if (b->off == b->len) b->off = b->len = 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--baud") == 0)) {
        fprintf(stderr, "usage: qcam-ptypair HOST_LINK BOARD_LINK [--baud N]\n");
        return 2;
    }
    double rate = argc == 5 ? atof(argv[4]) / 10.0 : 0; /* bytes per second, 8N1 */
    static pty host, board;
    if (open_pty(&host) != 0 || open_pty(&board) != 0) {
        perror("qcam-ptypair: cannot open a pseudo-terminal");
        return 1;
    }
    if (link_to(host.path, argv[1]) != 0 || link_to(board.path, argv[2]) != 0) {
        perror("qcam-ptypair: cannot make the links");
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("host=%s board=%s\n", host.path, board.path);
    fflush(stdout);

    static pipe_buf to_board, to_host;
    double last = now_s();
    bool stdin_open = true;
    while (!stop) {
        if (rate > 0) {
            double t = now_s();
            double cap = rate / 50 + 64; /* at most 20 ms of line time at once */
            to_board.credit += (t - last) * rate;
            to_host.credit += (t - last) * rate;
            if (to_board.credit > cap) to_board.credit = cap;
            if (to_host.credit > cap) to_host.credit = cap;
            last = t;
        }
        struct pollfd p[3] = {
            {.fd = host.master, .events = (short)((to_board.len < sizeof to_board.buf ? POLLIN : 0) | (to_host.off < to_host.len ? POLLOUT : 0))},
            {.fd = board.master, .events = (short)((to_host.len < sizeof to_host.buf ? POLLIN : 0) | (to_board.off < to_board.len ? POLLOUT : 0))},
            {.fd = stdin_open ? 0 : -1, .events = POLLIN},
        };
        bool paced = rate > 0 && (to_board.off < to_board.len || to_host.off < to_host.len);
        if (poll(p, 3, paced ? 2 : -1) < 0 && errno != EINTR) break;
        if (p[2].revents) {
            char c[64];
            if (read(0, c, sizeof c) <= 0) break; /* the parent is gone */
        }
        pump(host.master, p[0].revents, board.master, p[1].revents, &to_board, rate);
        pump(board.master, p[1].revents, host.master, p[0].revents, &to_host, rate);
    }
    unlink_if_ours(argv[1], host.path);
    unlink_if_ours(argv[2], board.path);
    return 0;
}
