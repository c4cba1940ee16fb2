/* The clients attached to a running container, for its monitor: the one the container was started
 * with (`hull run`, `start -a`: the monitor's fds 0-3) and any number that join later through
 * attach.sock (`hull attach`, the Docker API's attach), all at once, as docker allows. Each gets the
 * output from when it joined, has its own detach keys, and hears DETACHED or EXIT on its connection;
 * the stdin of every one attached with -i goes to the container (its pty, or the pipe the monitor
 * holds), through one buffer that waits when the container reads nothing: a client whose bytes the
 * container does not take yet is not read either, so no byte is lost and no client stops the monitor. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attach.h"
#include "executor.h"

/* Output for a client waits here until its descriptor takes it: a client that stops reading must
 * never stop the monitor (its log, its reaping). Past the cap, the client gets no more (the log has it). */
#define CLIENT_BUF (256 * 1024)
#define STDIN_CHUNK 65536

struct client {
    int fd[4];                 /* stdin, stdout, stderr, the connection (DETACHED/EXIT; its end lets go) */
    int owner;                 /* the starting client: fds 0-3 */
    int relay;                 /* its stdin goes to the container */
    int stdin_once;            /* its stdin's end closes the container's */
    int muted;                 /* fell too far behind: no more output, EXIT still */
    int gone;
    size_t matched;            /* how many of its detach keys were just typed (held back so far) */
    size_t keys_len;
    unsigned char keys[sizeof monitor.detach_keys];
    char *out[2];
    size_t len[2];
};

static struct client *clients[ATTACH_MAX_CLIENTS];
static int nclients;
static int owner_here;
static int attach_listen = -1;
static char attach_path[4200];

/* The pty masters of execs whose client detached (docker's exec -it and the detach keys): the exec runs
 * on, so its terminal must stay open (closing the master would hang it up); what it prints is read and
 * dropped, as dockerd does with nobody attached. Closed when every holder of its slave is gone (EIO). */
static int held_ttys[ATTACH_MAX_CLIENTS] = { [0 ... ATTACH_MAX_CLIENTS - 1] = -1 };

static void drain_held_tty(int k)
{
    char buf[4096];
    ssize_t n = read(held_ttys[k], buf, sizeof buf);
    if (n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN))) return;
    close(held_ttys[k]);
    held_ttys[k] = -1;
}

/* Client bytes the container's stdin did not take yet; while any wait, no client's stdin is read. */
static char held[STDIN_CHUNK + 2 * sizeof monitor.detach_keys];
static size_t held_len;
static int stdin_eof_after_held;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static struct client *client_new(int in, int out, int err, int conn, int owner)
{
    if (nclients == ATTACH_MAX_CLIENTS) return NULL;
    struct client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd[0] = in;
    c->fd[1] = out;
    c->fd[2] = err;
    c->fd[3] = conn;
    c->owner = owner;
    clients[nclients++] = c;
    return c;
}

void clients_release_owner_fds(void)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) return;
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    dup3(null, JAVA_FD, O_CLOEXEC); /* fd 3 stays taken: a late protocol line never lands in a log */
    close(null);
}

/* The client went away, detached, or heard the end: its descriptors are let go (freed at the next sweep). */
static void drop(struct client *c)
{
    if (c->gone) return;
    c->gone = 1;
    if (c->owner) {
        clients_release_owner_fds();
        owner_here = 0;
    } else {
        for (int i = 0; i < 4; i++)
            if (c->fd[i] >= 0) close(c->fd[i]);
    }
    for (int i = 0; i < 4; i++) c->fd[i] = -1;
    c->len[0] = c->len[1] = 0;
}

static void sweep(void)
{
    int k = 0;
    for (int i = 0; i < nclients; i++) {
        if (clients[i]->gone) {
            free(clients[i]->out[0]);
            free(clients[i]->out[1]);
            free(clients[i]);
        } else {
            clients[k++] = clients[i];
        }
    }
    nclients = k;
}

static void say(struct client *c, const char *line)
{
    if (!c->gone) write_all(c->fd[3], line, strlen(line));
}

void clients_add_owner(int relay, int stdin_once)
{
    struct client *c = client_new(0, 1, 2, JAVA_FD, 1);
    if (!c) return;
    owner_here = 1;
    c->relay = relay;
    c->stdin_once = stdin_once;
    c->keys_len = monitor.detach_len;
    memcpy(c->keys, monitor.detach_keys, monitor.detach_len);
}

int clients_owner_attached(void)
{
    return owner_here;
}

void clients_output(int stream, const char *p, size_t n)
{
    for (int k = 0; k < nclients; k++) {
        struct client *c = clients[k];
        if (c->gone || c->muted || c->fd[stream + 1] < 0) continue;
        if (!c->out[stream] && !(c->out[stream] = malloc(CLIENT_BUF))) { c->muted = 1; continue; }
        if (c->len[stream] + n > CLIENT_BUF) { /* the log still has it all */
            c->muted = 1;
            c->len[0] = c->len[1] = 0;
            continue;
        }
        memcpy(c->out[stream] + c->len[stream], p, n);
        c->len[stream] += n;
    }
}

/* Writes what the client's fd takes now: 4 KiB at a time (a pipe ready for POLLOUT takes that much
 * without blocking; the client's descriptor is never made non-blocking, it is shared with it), for as
 * long as it stays ready. */
static void flush(struct client *c, int i)
{
    size_t done = 0;
    while (!c->gone && c->len[i] > done) {
        if (done) {
            struct pollfd p = { .fd = c->fd[i + 1], .events = POLLOUT };
            if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)) break;
        }
        size_t n = c->len[i] - done < 4096 ? c->len[i] - done : 4096;
        ssize_t w = write(c->fd[i + 1], c->out[i] + done, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) break;
        if (w <= 0 && !c->owner) { drop(c); return; } /* a joined client whose end is gone: let go */
        if (w <= 0) { c->len[i] = 0; return; } /* the starting client's output is gone; it stays for EXIT */
        done += (size_t)w;
    }
    if (!done || c->gone) return;
    memmove(c->out[i], c->out[i] + done, c->len[i] - done);
    c->len[i] -= done;
}

/* To the container's stdin (non-blocking): what it does not take now is held. */
static void to_container(int to, const char *p, size_t n)
{
    if (to < 0 || n == 0) return;
    if (held_len == 0) {
        while (n > 0) {
            ssize_t w = write(to, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && errno == EAGAIN) break;
            if (w <= 0) return; /* its reader is gone (a pty nobody has open): dropped */
            p += w;
            n -= (size_t)w;
        }
    }
    if (n > sizeof held - held_len) n = sizeof held - held_len; /* (a read is at most STDIN_CHUNK) */
    memcpy(held + held_len, p, n);
    held_len += n;
}

static void flush_held(int to)
{
    size_t done = 0;
    while (to >= 0 && done < held_len) {
        ssize_t w = write(to, held + done, held_len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) break;
        if (w <= 0) { done = held_len; break; }
        done += (size_t)w;
    }
    if (to < 0) done = held_len;
    memmove(held, held + done, held_len - done);
    held_len -= done;
}

/* A client's keystrokes to the container, as docker's escape proxy does: its detach keys are held back
 * while they match; all of them let the client go (the container runs on), a mismatch sends what was held. */
static void relay(struct client *c, const char *buf, size_t n, int to)
{
    static char out[STDIN_CHUNK + 2 * sizeof monitor.detach_keys];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (c->keys_len && ch == c->keys[c->matched]) {
            if (++c->matched < c->keys_len) continue;
            c->matched = 0;
            to_container(to, out, o);
            say(c, "DETACHED\n");
            drop(c);
            return;
        }
        if (c->matched) {
            memcpy(out + o, c->keys, c->matched);
            o += c->matched;
            c->matched = 0;
            if (c->keys_len && ch == c->keys[0]) { c->matched = 1; continue; }
        }
        out[o++] = (char)ch;
    }
    to_container(to, out, o);
}

static void read_stdin(struct client *c, int to)
{
    static char buf[STDIN_CHUNK];
    ssize_t n = read(c->fd[0], buf, sizeof buf);
    if (n > 0) {
        relay(c, buf, (size_t)n, to);
        return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    c->relay = 0; /* its stdin ended: the client stays for the output */
    if (c->stdin_once) stdin_eof_after_held = 1;
}

/* A client joins through attach.sock: it sends its stdin, stdout and stderr (SCM_RIGHTS) with one byte
 * ('i': its stdin goes to the container, 'o': output only) and its detach keys; it hears ATTACHED (or
 * BUSY past ATTACH_MAX_CLIENTS), then DETACHED or EXIT; closing the connection lets it go. */
static void take_attacher(int to)
{
    int s = accept4(attach_listen, NULL, NULL, SOCK_CLOEXEC);
    if (s < 0) return;
    struct timeval tv = { 2, 0 }; /* a client sends at once: none may hold the monitor up */
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char data[1 + sizeof monitor.detach_keys];
    char control[CMSG_SPACE(3 * sizeof(int))];
    struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    ssize_t r;
    do r = recvmsg(s, &msg, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
    int fds[3] = { -1, -1, -1 }, nfds = 0;
    struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
        nfds = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        if (nfds > 3) nfds = 3;
        memcpy(fds, CMSG_DATA(cm), nfds * sizeof(int));
    }
    if (nfds == 1 && data[0] == 'h') { /* a detached exec's terminal: held, its output drained, until it ends */
        int k = 0;
        while (k < ATTACH_MAX_CLIENTS && held_ttys[k] >= 0) k++;
        if (k < ATTACH_MAX_CLIENTS) {
            held_ttys[k] = fds[0];
            fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
            write_all(s, "HELD\n", 5);
        } else {
            close(fds[0]);
            write_all(s, "BUSY\n", 5);
        }
        close(s);
        return;
    }
    struct client *c = nfds == 3 ? client_new(fds[0], fds[1], fds[2], s, 0) : NULL;
    if (!c) {
        if (nfds == 3) write_all(s, "BUSY\n", 5);
        for (int i = 0; i < nfds; i++) close(fds[i]);
        close(s);
        return;
    }
    c->relay = data[0] == 'i' && to >= 0;
    c->keys_len = (size_t)r - 1;
    memcpy(c->keys, data + 1, c->keys_len);
    say(c, "ATTACHED\n");
}

/* What was polled, in order, for clients_after_poll. */
enum { P_STDIN, P_STDOUT, P_STDERR, P_CONN, P_LISTEN, P_HELD, P_TTY };
static struct { struct client *c; int kind; int at; } polled[ATTACH_MAX_CLIENTS * 5 + 2];
static int npolled;

static void want(struct pollfd *p, int *np, struct client *c, int kind, int fd, short events)
{
    polled[npolled].c = c;
    polled[npolled].kind = kind;
    polled[npolled++].at = *np;
    p[(*np)++] = (struct pollfd){ .fd = fd, .events = events };
}

int clients_poll(struct pollfd *p, int np, int to)
{
    sweep();
    npolled = 0;
    if (held_len && to >= 0) want(p, &np, NULL, P_HELD, to, POLLOUT);
    for (int k = 0; k < nclients; k++) {
        struct client *c = clients[k];
        want(p, &np, c, P_CONN, c->fd[3], POLLIN);
        if (c->relay && to >= 0 && !held_len) want(p, &np, c, P_STDIN, c->fd[0], POLLIN);
        for (int i = 0; i < 2; i++)
            if (c->len[i]) want(p, &np, c, P_STDOUT + i, c->fd[i + 1], POLLOUT);
    }
    for (int k = 0; k < ATTACH_MAX_CLIENTS; k++)
        if (held_ttys[k] >= 0) {
            want(p, &np, NULL, P_TTY, held_ttys[k], POLLIN);
            polled[npolled - 1].c = (struct client *)(intptr_t)k; /* (the slot, for a tty) */
        }
    if (attach_listen >= 0) want(p, &np, NULL, P_LISTEN, attach_listen, POLLIN);
    return np;
}

void clients_after_poll(const struct pollfd *p, int to)
{
    for (int k = 0; k < npolled; k++) {
        if (polled[k].kind == P_TTY) {
            if (p[polled[k].at].revents) drain_held_tty((int)(intptr_t)polled[k].c);
            continue;
        }
        struct client *c = polled[k].c;
        if (!p[polled[k].at].revents || (c && c->gone)) continue;
        switch (polled[k].kind) {
        case P_HELD: flush_held(to); break;
        case P_STDOUT: case P_STDERR: flush(c, polled[k].kind - P_STDOUT); break;
        case P_STDIN: if (!held_len) read_stdin(c, to); break;
        case P_LISTEN: take_attacher(to); break;
        case P_CONN: {
            char ch;
            ssize_t n = read(c->fd[3], &ch, 1);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) drop(c);
            break;
        }
        }
    }
    if (to < 0) held_len = 0; /* no stdin to take it (a terminal between its inits) */
    if (stdin_eof_after_held && !held_len) {
        stdin_eof_after_held = 0;
        monitor_stdin_eof();
    }
}

void clients_end(const char *line)
{
    for (int rounds = 0; rounds < 100; rounds++) {
        struct pollfd p[ATTACH_MAX_CLIENTS * 2];
        struct client *who[ATTACH_MAX_CLIENTS * 2];
        int which[ATTACH_MAX_CLIENTS * 2];
        int np = 0;
        for (int k = 0; k < nclients; k++)
            for (int i = 0; i < 2; i++)
                if (!clients[k]->gone && clients[k]->len[i]) {
                    who[np] = clients[k];
                    which[np] = i;
                    p[np++] = (struct pollfd){ .fd = clients[k]->fd[i + 1], .events = POLLOUT };
                }
        if (np == 0) break;
        if (poll(p, np, 20) > 0)
            for (int i = 0; i < np; i++)
                if (p[i].revents && !who[i]->gone) flush(who[i], which[i]);
    }
    for (int k = 0; k < nclients; k++) {
        say(clients[k], line);
        drop(clients[k]);
    }
    sweep();
}

/* Bound through /proc/self/fd/DIR/: the path itself may be longer than sun_path takes. */
void attach_open(const char *status_path)
{
    const char *slash = strrchr(status_path, '/');
    if (!slash || attach_listen >= 0) return;
    int len = (int)(slash - status_path);
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%.*s", len, status_path) >= (int)sizeof dir) return;
    snprintf(attach_path, sizeof attach_path, "%s/attach.sock", dir);
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/attach.sock", dfd);
    unlink(attach_path); /* a previous monitor's */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s, 16) == 0) attach_listen = s;
    else if (s >= 0) close(s);
    close(dfd);
}

/* In a new init (a restart's is cloned from the monitor): the listening socket, the other clients'
 * descriptors and the held exec terminals are the monitor's, closed at once (see monitor_child_stdio). */
void attach_child_close(void)
{
    if (attach_listen >= 0) close(attach_listen);
    attach_listen = -1;
    for (int i = 0; i < nclients; i++)
        if (!clients[i]->owner)
            for (int k = 0; k < 4; k++)
                if (clients[i]->fd[k] >= 0) close(clients[i]->fd[k]);
    for (int k = 0; k < ATTACH_MAX_CLIENTS; k++)
        if (held_ttys[k] >= 0) close(held_ttys[k]);
}

void attach_close(void)
{
    if (attach_listen < 0) return;
    close(attach_listen);
    unlink(attach_path);
    attach_listen = -1;
}
