/* hull-executor --client: the warm path's client (see the comment below). Kept apart from the
 * executor proper: it never enters a container; it only talks to Hull's service and, for
 * hull-runtime create/run/exec, forks the executor the service hands it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "executor.h"

#ifndef HULL_BUILD
#define HULL_BUILD "unknown"
#endif

/* ---------- warm-path client ----------
 * hull-executor --client [--program NAME] SOCKET COLD ARGS...
 * Hands ARGS, the working directory, the environment and fds 0-2 to Hull's
 * resident JVM (hull system service / hull runtime-server) on SOCKET, relays
 * signals to it, and exits with the status it answers. NAME says which
 * command line ARGS are for: hull-runtime (the default) or hull. If no server
 * listens, or the server answers that this command must run cold (it needs a
 * process of its own, or the server is of another build than this client and
 * retires), execs COLD ARGS (the JVM launcher) instead, so behaviour is the same
 * either way. The request names this client's build (HULL_BUILD, the same value
 * Maven gives the jar): a server never runs a command for a client of another
 * build. */

/* One byte from the server, with any descriptors that came with it appended to fds (at most cap). */
static ssize_t client_recv(int sock, char *ch, int *fds, int *nfds, int cap)
{
    char control[CMSG_SPACE(sizeof(int) * 32)];
    struct iovec iov = { .iov_base = ch, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    ssize_t r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (r <= 0) return r;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*nfds < cap) fds[(*nfds)++] = fd;
            else close(fd);
        }
    }
    return r;
}

/* "E n to0 ... to(n-1)" from the server, with n descriptors: fork and exec hull-executor from the
 * last one (the server's sealed executable) with descriptor i as fd to(i) and nothing else open but
 * our stdio. The executor — and the container's init it clones — is then our child, in the caller's
 * process tree (a containerd shim's, conmon's), as runc's are; no JVM is in that chain. Returns the
 * pid, or -errno. */
static int client_launch(const char *line, int *fds, int nfds)
{
    int to[64], n = 0;
    const char *p = line + 2;
    char *end;
    long want = strtol(p, &end, 10);
    if (end == p || want < 1 || want > 64 || want != nfds) return -EINVAL;
    for (p = end; n < want; p = end) {
        long t = strtol(p, &end, 10);
        if (end == p || t < 0 || t > 1000) return -EINVAL;
        to[n++] = (int)t;
    }
    int top = 2;
    for (int i = 0; i < n; i++) if (to[i] > top) top = to[i];
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
        /* lift every source above the targets, then dup2 them into place (without close-on-exec) */
        for (int i = 0; i < n; i++)
            if (fds[i] <= top && (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, top + 1)) < 0) _exit(125);
        for (int i = 0; i < n; i++)
            if (dup2(fds[i], to[i]) < 0) _exit(125);
        close_fds((unsigned int)top + 1, ~0U);
        char exe[32];
        snprintf(exe, sizeof exe, "/proc/self/fd/%d", to[n - 1]);
        char *args[] = { "hull-executor", NULL }, *env[] = { NULL };
        execve(exe, args, env);
        _exit(127);
    }
    return pid;
}

int client_main(int argc, char **argv)
{
    const char *program = NULL;
    int base = 2; /* argv[base]: SOCKET */
    if (argc > 3 && strcmp(argv[2], "--program") == 0) {
        program = argv[3];
        base = 4;
    }
    if (argc < base + 2) {
        dprintf(2, "usage: hull-executor --client [--program hull|hull-runtime] SOCKET COLD-LAUNCHER [ARGS...]\n");
        return 2;
    }
    const char *me = program ? program : "hull-runtime";
    const char *sock = argv[base];
    char **cold = argv + base + 1;
    int first_arg = base + 2;
    /* --preserve-fds passes fds 3.. of the caller into the container: only this process has them,
     * and the request carries just 0-2, so such a command takes the cold path (the JVM inherits them). */
    for (int i = first_arg; i < argc; i++)
        if (strcmp(argv[i], "--preserve-fds") == 0 || strncmp(argv[i], "--preserve-fds=", 15) == 0) {
            execv(cold[0], cold);
            dprintf(2, "%s: cannot run %s: %s\n", me, cold[0], strerror(errno));
            return 127;
        }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (fd < 0 || strlen(sock) >= sizeof addr.sun_path) goto fallback;
    strcpy(addr.sun_path, sock);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) goto fallback;

    /* Block the signals we relay before sending, so none is lost. */
    static const int relayed[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM };
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof relayed / sizeof *relayed; i++) sigaddset(&set, relayed[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) goto fallback;
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) goto fallback_unblock;

    /* Request: u32 length, then NUL-terminated @program, #build, cwd, argc, argv..., envc, env...
     * (the program field starts with '@' and the build's with '#'; a cwd is absolute). */
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
    /* "+launch": this client starts the executor when the server asks (client_launch) */
    char marker[64];
    snprintf(marker, sizeof marker, "@%s+launch", program ? program : "hull-runtime");
    extern char **environ;
    int nargs = argc - first_arg, nenv = 0;
    while (environ[nenv]) nenv++;
    char num1[16], num2[16];
    snprintf(num1, sizeof num1, "%d", nargs);
    snprintf(num2, sizeof num2, "%d", nenv);
    static const char build[] = "#" HULL_BUILD;
    size_t len = strlen(cwd) + 1 + strlen(num1) + 1 + strlen(num2) + 1 + strlen(marker) + 1 + sizeof build;
    for (int i = 0; i < nargs; i++) len += strlen(argv[first_arg + i]) + 1;
    for (int i = 0; i < nenv; i++) len += strlen(environ[i]) + 1;
    if (len > (1u << 20)) { dprintf(2, "%s: arguments too long\n", me); return 1; }
    char *req = malloc(4 + len);
    if (!req) return 1;
    uint32_t l32 = len;
    memcpy(req, &l32, 4);
    char *p = req + 4;
#define PUT(s) do { size_t n_ = strlen(s) + 1; memcpy(p, (s), n_); p += n_; } while (0)
    PUT(marker);
    PUT(build);
    PUT(cwd);
    PUT(num1);
    for (int i = 0; i < nargs; i++) PUT(argv[first_arg + i]);
    PUT(num2);
    for (int i = 0; i < nenv; i++) PUT(environ[i]);
#undef PUT
    int fds[3] = { 0, 1, 2 };
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = req, .iov_len = 4 + len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (sent < 0) goto fallback_unblock;
    size_t off = sent;
    while (off < 4 + len) {
        ssize_t w = send(fd, req + off, 4 + len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { dprintf(2, "%s: warm server went away\n", me); return 1; }
        off += w;
    }

    char line[512];
    size_t ln = 0;
    int taken = 0; /* the service said "A": it took the command (from then on, its outcome is the service's) */
    int got[64], ngot = 0; /* descriptors that came with the line being read */
    for (;;) {
        struct pollfd pf[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (pf[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == sizeof si) {
                char out[32];
                int n = snprintf(out, sizeof out, "S %u\n", si.ssi_signo);
                if (send(fd, out, n, MSG_NOSIGNAL) < 0) { /* the server is finishing */ }
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char ch;
            ssize_t r = client_recv(fd, &ch, got, &ngot, 64);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0 && !taken) {
                /* Gone before it took the command (a service being killed still had its socket
                 * open, or it retired): nothing of this command ran there, so it runs cold. */
                close(sfd);
                goto fallback_unblock;
            }
            if (r <= 0) {
                /* The service died mid-command (a crash, kill -9): what it was doing is the
                 * store's to recover; this command's outcome is unknown, so it fails loudly. */
                dprintf(2, "%s: the Hull service ended before this command finished (it crashed or was killed;"
                        " its log: /var/log/hull/service.log); the next command starts a new one\n", me);
                return program && strcmp(program, "hull") == 0 ? 125 : 1;
            }
            if (ch != '\n') {
                if (ln + 1 < sizeof line) line[ln++] = ch;
                continue;
            }
            line[ln] = '\0';
            if (line[0] == 'A' && line[1] == '\0') {
                taken = 1;
                ln = 0;
                continue;
            }
            if (line[0] == 'X' && line[1] == ' ') return atoi(line + 2) & 0xff;
            if (line[0] == 'E' && line[1] == ' ') {
                int pid = client_launch(line, got, ngot);
                for (int i = 0; i < ngot; i++) close(got[i]);
                ngot = 0;
                char out[32];
                int m = snprintf(out, sizeof out, "P %d\n", pid);
                if (send(fd, out, m, MSG_NOSIGNAL) < 0) { /* the server is gone: the read below says so */ }
                ln = 0;
                continue;
            }
            /* "C": the server cannot run this command (it needs this process itself: a terminal
             * prompt, say); nothing has run yet, so the cold launcher takes it over. */
            if (line[0] == 'C' && line[1] == '\0') {
                close(sfd);
                goto fallback_unblock;
            }
            ln = 0;
        }
    }

fallback_unblock:
    sigprocmask(SIG_UNBLOCK, &set, NULL);
fallback:
    if (fd >= 0) close(fd);
    execv(cold[0], cold);
    dprintf(2, "%s: cannot run %s: %s\n", me, cold[0], strerror(errno));
    return 127;
}

