/* The per-container monitor: what stays of the executor once a container
 * runs. It is the init's parent, so it reaps it and records how it ended;
 * it reads the container's stdout and stderr (pipes) and writes them to a
 * docker json-file log with rotation; it serves the clients attached to the
 * container (attach.c: the starting one on fds 0-3, others through attach.sock),
 * copying the output to them, their stdin to the container, and telling them
 * the exit status; it lets one console client at a time (`hull machine
 * console`) follow the container's terminal through containers/ID/console.sock;
 * and it restarts the init as the restart policy Java chose says. No decisions about the container itself are made here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "executor.h"

struct monitor_config monitor;

#define LINE_MAX_BYTES 16384 /* docker's json-file splits longer lines the same way */

struct stream {
    int fd;            /* read end; -1 at EOF */
    int child_fd;      /* write end, the init's until the clone */
    const char *name;  /* "stdout" / "stderr" */
    int client;        /* the attached client's fd (1 or 2) */
    size_t len;
    char buf[LINE_MAX_BYTES];
};
static struct stream streams[2] = {
    { .fd = -1, .child_fd = -1, .name = "stdout", .client = 1 },
    { .fd = -1, .child_fd = -1, .name = "stderr", .client = 2 },
};
static int logfd = -1;
static int console_sock[2] = { -1, -1 }; /* [0] ours, [1] the init's: OP_CONSOLE sends the pty master on it */
static int tty_master = -1;
static int stdin_r = -1, stdin_w = -1; /* stdin_pipe: the init's stdin, and the monitor's end (an attach's keys) */
static unsigned long long logsize;

/* A pty master a failed restart's init sent and nobody took: closed, so the next init's is the one read. */
static void drain_console(void)
{
    for (;;) {
        char data[64];
        char control[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                              .msg_controllen = sizeof control };
        ssize_t r = recvmsg(console_sock[0], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
            close(fd);
        }
    }
}

int monitor_prepare_stdio(int console, char *err, size_t cap)
{
    for (int i = 0; i < 2; i++) { /* what a failed restart left */
        if (streams[i].fd >= 0) close(streams[i].fd);
        if (streams[i].child_fd >= 0) close(streams[i].child_fd);
        streams[i].fd = streams[i].child_fd = -1;
    }
    if (console_sock[0] >= 0) drain_console();
    if (monitor.stdin_pipe && !console && stdin_w < 0) { /* kept across restarts, as docker's open stdin */
        int p[2];
        if (pipe2(p, O_CLOEXEC)) {
            snprintf(err, cap, "pipe for the container's stdin: %s", strerror(errno));
            return -1;
        }
        stdin_r = p[0];
        stdin_w = p[1];
        fcntl(stdin_w, F_SETFL, fcntl(stdin_w, F_GETFL) | O_NONBLOCK); /* a container that reads nothing never stops us */
    }
    if (console && console_sock[0] < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console_sock)) {
        snprintf(err, cap, "socketpair for the container's terminal: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC)) {
            snprintf(err, cap, "pipe for the container's %s: %s", streams[i].name, strerror(errno));
            return -1;
        }
        streams[i].fd = p[0];
        streams[i].child_fd = p[1];
        streams[i].len = 0;
    }
    return 0;
}

int monitor_console_socket(void)
{
    return console_sock[1];
}

static int console_dir = -1, console_listen = -1, console_client = -1; /* see "the console socket" */
static int health_pidfd = -1; /* see "the healthcheck" */

/* In the new init, first of all: it keeps nothing of the monitor's but its own ends of its stdio and
 * the console socket OP_CONSOLE sends on. The handle on the host's network namespace, the log, the
 * attach and console sockets and their clients, the healthcheck's pidfd, the monitor's end of the
 * stdin pipe are all close-on-exec, but that is not soon enough: a created init waits for its start
 * (a process exec'd into the container with CAP_SYS_PTRACE may open /proc/1/fd/N meanwhile), and a
 * restart's init is cloned from a monitor that holds every one of them. */
void monitor_child_stdio(void)
{
    if (monitor.host_netns >= 0) close(monitor.host_netns);
    monitor.host_netns = -1;
    int mine[] = { logfd, console_dir, console_listen, console_client, health_pidfd, stdin_w };
    for (size_t k = 0; k < sizeof mine / sizeof *mine; k++)
        if (mine[k] >= 0) close(mine[k]);
    attach_child_close();
    if (console_sock[0] >= 0) close(console_sock[0]);
    if (stdin_r >= 0) {
        if (dup2(stdin_r, 0) < 0) SYSFAIL("stdin from the monitor's pipe");
        close(stdin_r);
    } else if (!monitor.stdin_inherit) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0) SYSFAIL("stdin from /dev/null");
        close(null);
    }
    for (int i = 0; i < 2; i++) {
        if (dup2(streams[i].child_fd, i + 1) < 0) SYSFAIL("%s onto the log pipe", streams[i].name);
        close(streams[i].child_fd);
        close(streams[i].fd);
    }
}

void monitor_stdin_eof(void)
{
    if (stdin_w >= 0) close(stdin_w);
    if (stdin_r >= 0) close(stdin_r);
    stdin_w = stdin_r = -1; /* (a restart's init gets a new pipe) */
}

/* The pty master the init made (OP_CONSOLE, before it was ready): it replaces the stdout pipe. */
static void take_console(void)
{
    if (console_sock[0] < 0) return;
    char data[64];
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct pollfd p = { .fd = console_sock[0], .events = POLLIN };
    if (poll(&p, 1, 0) <= 0) return; /* the init made no pty */
    ssize_t r;
    do r = recvmsg(console_sock[0], &msg, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
    struct cmsghdr *c = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!c || c->cmsg_type != SCM_RIGHTS) return;
    memcpy(&tty_master, CMSG_DATA(c), sizeof(int));
    /* only the monitor holds the master: non-blocking, so a container that reads no input cannot
     * stop the monitor relaying it */
    fcntl(tty_master, F_SETFL, fcntl(tty_master, F_GETFL) | O_NONBLOCK);
    /* the init's stdout/stderr are the pty now: the pipes are at EOF */
    for (int i = 0; i < 2; i++) {
        if (streams[i].fd >= 0) close(streams[i].fd);
        streams[i].fd = -1;
    }
    streams[0].fd = tty_master;
}

void monitor_parent_stdio(void)
{
    for (int i = 0; i < 2; i++) {
        close(streams[i].child_fd);
        streams[i].child_fd = -1;
    }
}

/* ---------- time, status ---------- */

static void now_rfc3339(char *out, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%09ldZ", ts.tv_nsec);
}

long long proc_start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    /* fields after ")": state is field 3; starttime is field 22 */
    int field = 2;
    for (; *p && field < 22; p++)
        if (*p == ' ') field++;
    return strtoll(p, NULL, 10);
}

static int container_gone;

static void write_status(const char *status, pid_t pid, const char *started, const char *finished,
                         int code, unsigned restarts, const char *error)
{
    char tmp[4200], body[2048];
    long long pst = pid > 0 ? proc_start_time(pid) : 0;
    int n = snprintf(body, sizeof body,
        "{\"status\":\"%s\",\"pid\":%d,\"pidStartTime\":%lld,\"monitorPid\":%d,\"monitorStartTime\":%lld,"
        "\"startedAt\":\"%s\",\"finishedAt\":\"%s\",\"exitCode\":%d,\"restartCount\":%u,\"error\":\"",
        status, (int)pid, pst, (int)getpid(), proc_start_time(getpid()), started, finished, code, restarts);
    /* error text: printable ASCII only, quotes and backslashes dropped (it is our own message) */
    for (const char *e = error; *e && n < (int)sizeof body - 8; e++)
        if (*e >= 0x20 && *e < 0x7f && *e != '"' && *e != '\\') body[n++] = *e;
    n += snprintf(body + n, sizeof body - n, "\"}\n");
    snprintf(tmp, sizeof tmp, "%s.tmp", monitor.status_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == ENOENT) container_gone = 1; /* removed under us: nothing to record, nothing to restart */
        return;
    }
    ssize_t w = write(fd, body, n);
    close(fd);
    if (w == n) rename(tmp, monitor.status_path);
}

/* Each end and each restart, a line appended to STATUS.events, for docker's events (a die and a
 * start per restart: the status file keeps only the last). Emptied past 1 MiB: a container that
 * restarts for ever keeps its recent history only. */
static void record_event(const char *action, const char *when, int code)
{
    char path[4200], line[160];
    snprintf(path, sizeof path, "%s.events", monitor.status_path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > (1 << 20) && ftruncate(fd, 0) != 0) {
        close(fd);
        return;
    }
    int n = snprintf(line, sizeof line, "{\"action\":\"%s\",\"time\":\"%s\",\"exitCode\":%d}\n", action, when, code);
    if (write(fd, line, n) != n) { /* only the event is lost */ }
    close(fd);
}

/* ---------- json-file log ---------- */

static void log_open(void)
{
    if (!monitor.log_path[0]) return;
    logfd = open(monitor.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    struct stat st;
    logsize = logfd >= 0 && fstat(logfd, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

static void log_rotate(void)
{
    if (monitor.log_max_files <= 1) {
        if (ftruncate(logfd, 0) == 0) logsize = 0;
        return;
    }
    close(logfd);
    char from[4200], to[4200];
    for (unsigned long long n = monitor.log_max_files - 1; n >= 1; n--) {
        if (n == 1) snprintf(from, sizeof from, "%s", monitor.log_path);
        else snprintf(from, sizeof from, "%s.%llu", monitor.log_path, n - 1);
        snprintf(to, sizeof to, "%s.%llu", monitor.log_path, n);
        rename(from, to);
    }
    log_open();
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one. */
static int utf8_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    int n;
    unsigned min;
    unsigned cp;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)n > avail) return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

static void log_entry(const char *stream, const char *data, size_t len)
{
    static char out[LINE_MAX_BYTES * 6 + 256];
    if (logfd < 0) return;
    size_t k = 0;
    memcpy(out, "{\"log\":\"", 8);
    k = 8;
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') { out[k++] = '\\'; out[k++] = c; i++; }
        else if (c == '\n') { out[k++] = '\\'; out[k++] = 'n'; i++; }
        else if (c == '\r') { out[k++] = '\\'; out[k++] = 'r'; i++; }
        else if (c == '\t') { out[k++] = '\\'; out[k++] = 't'; i++; }
        else if (c < 0x20 || c == 0x7f) { k += sprintf(out + k, "\\u%04x", c); i++; }
        else {
            int n = utf8_len(p + i, len - i);
            if (n == 0) { memcpy(out + k, "\\ufffd", 6); k += 6; i++; }
            else { memcpy(out + k, p + i, n); k += n; i += n; }
        }
    }
    char ts[64];
    now_rfc3339(ts, sizeof ts);
    k += snprintf(out + k, sizeof out - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
    if (monitor.log_max_size && logsize > 0 && logsize + k > monitor.log_max_size) log_rotate();
    if (logfd < 0) return;
    ssize_t w = write(logfd, out, k);
    if (w == (ssize_t)k) logsize += w;
    else if (w > 0 && ftruncate(logfd, logsize) != 0) logsize += w; /* (disk full: no torn line stays) */
}

static void console_to(const char *p, size_t n);

/* While the init runs, a pty master that reads EIO is kept: no one has the terminal open just
 * now (systemd's vhangup of /dev/console, a getty between its close and its open), and the next
 * opener of /dev/console must find it. watch() leaves it out of its polls for a while instead. */
static int init_running;
static int tty_resting;

/* Reads what is there; whole lines (and full buffers) go to the log. Returns 0 at EOF. */
static int pump(struct stream *s)
{
    char chunk[65536];
    ssize_t n;
    do n = read(s->fd, chunk, sizeof chunk); while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) return 1;
    if (n < 0 && errno == EIO && s->fd == tty_master && init_running) {
        tty_resting = 1;
        return 1;
    }
    if (n <= 0) {
        if (s->len) log_entry(s->name, s->buf, s->len);
        s->len = 0;
        close(s->fd);
        s->fd = -1;
        return 0;
    }
    clients_output(s->client - 1, chunk, n);
    if (s->fd == tty_master) console_to(chunk, n);
    for (ssize_t i = 0; i < n; i++) {
        s->buf[s->len++] = chunk[i];
        if (chunk[i] == '\n') {
            log_entry(s->name, s->buf, s->len);
            s->len = 0;
        } else if (s->len == sizeof s->buf) {
            /* a full buffer is one entry, but never ending inside a UTF-8 character: the rest of it
             * starts the next entry */
            size_t cut = s->len;
            for (size_t back = 1; back <= 3 && back <= s->len; back++) {
                unsigned char c = (unsigned char)s->buf[s->len - back];
                if ((c & 0xc0) == 0x80) continue; /* a continuation byte */
                if (c >= 0xc0) {
                    size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
                    if (need > back) cut = s->len - back;
                }
                break;
            }
            log_entry(s->name, s->buf, cut);
            memmove(s->buf, s->buf + cut, s->len - cut);
            s->len -= cut;
        }
    }
    return 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int stop_requested(void)
{
    return monitor.stop_marker[0] && access(monitor.stop_marker, F_OK) == 0;
}

/* ---------- the console socket ----------
 * A container with a terminal listens on console.sock in its directory (beside the stop marker).
 * A client that connects gets one byte: 'K' with the pty master attached (SCM_RIGHTS: the client
 * types into it and sizes it), then everything the terminal prints from then on; 'B' when another
 * client has the console (one at a time); 'N' when no terminal is up (between a restart's init
 * and its pty). The monitor stays the master's only reader, so the log keeps all of it. */
#define CONSOLE_BUF (256 * 1024) /* what its client has not taken yet; past it, the client is let go */
static struct { char *data; size_t len; } console_out;

static void console_listen_open(void)
{
    const char *slash = monitor.stop_marker ? strrchr(monitor.stop_marker, '/') : NULL;
    if (console_sock[0] < 0 || console_listen >= 0 || !slash) return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - monitor.stop_marker), monitor.stop_marker);
    console_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (console_dir < 0) return;
    /* through the directory's descriptor: a Hull home's path may be longer than sun_path */
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/console.sock", console_dir);
    unlinkat(console_dir, "console.sock", 0); /* a killed monitor's */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(077);
    int ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 4) == 0;
    umask(old);
    if (ok) console_listen = s;
    else if (s >= 0) close(s);
}

static void console_drop(void)
{
    if (console_client >= 0) close(console_client);
    console_client = -1;
    console_out.len = 0;
}

static void console_accept(void)
{
    int c = accept4(console_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;
    char tag = console_client >= 0 ? 'B' : tty_master < 0 ? 'N' : 'K';
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (tag == 'K') {
        memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &tty_master, sizeof(int));
    }
    if (sendmsg(c, &msg, MSG_NOSIGNAL) != 1 || tag != 'K') {
        close(c);
        return;
    }
    console_client = c;
    console_out.len = 0;
}

/* Sends what the client takes now; the rest waits (a client far behind is let go: the log has it). */
static void console_flush(void)
{
    size_t done = 0;
    while (console_client >= 0 && done < console_out.len) {
        ssize_t w = send(console_client, console_out.data + done, console_out.len - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) break;
        if (w <= 0) { console_drop(); return; }
        done += (size_t)w;
    }
    memmove(console_out.data, console_out.data + done, console_out.len - done);
    console_out.len -= done;
}

static void console_to(const char *p, size_t n)
{
    if (console_client < 0) return;
    if (!console_out.data && !(console_out.data = malloc(CONSOLE_BUF))) { console_drop(); return; }
    if (console_out.len + n > CONSOLE_BUF) { console_drop(); return; }
    memcpy(console_out.data + console_out.len, p, n);
    console_out.len += n;
    console_flush();
}

/* The client hung up (or wrote, which it should not: read and dropped). */
static void console_read(void)
{
    char buf[256];
    ssize_t n = read(console_client, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) console_drop();
}

static void console_listen_close(void)
{
    console_drop();
    if (console_listen >= 0) {
        close(console_listen);
        unlinkat(console_dir, "console.sock", 0);
    }
    if (console_dir >= 0) close(console_dir);
    console_listen = console_dir = -1;
}

/* ---------- the healthcheck ----------
 * Java decides everything (the check, its timeout, the status): the monitor only runs
 * monitor.health (`hull healthcheck run ID`) one at a time while the init runs, the first one
 * after an interval, the next one an interval after the last ended; the start interval instead
 * while within the start period of this start. The run is killed (its whole session) when the
 * init ends, and with the monitor (PDEATHSIG): no check outlives the container. */
static pid_t health_pid = -1;
static struct timespec health_due, init_started;

static long long ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t->tv_sec) * 1000LL + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void health_schedule(void)
{
    uint64_t wait = monitor.health_interval_ms;
    if (monitor.health_start_interval_ms && ms_since(&init_started) < (long long)monitor.health_start_period_ms)
        wait = monitor.health_start_interval_ms;
    clock_gettime(CLOCK_MONOTONIC, &health_due);
    health_due.tv_sec += wait / 1000;
    health_due.tv_nsec += (wait % 1000) * 1000000L;
    if (health_due.tv_nsec >= 1000000000L) { health_due.tv_sec++; health_due.tv_nsec -= 1000000000L; }
}

/* ms until the next check is due (0: now), -1 for none */
static int health_wait(void)
{
    if (!monitor.health || health_pid > 0) return -1;
    long long left = -ms_since(&health_due);
    return left < 0 ? 0 : left > 3600000 ? 3600000 : (int)left;
}

static void health_start(void)
{
    pid_t p = fork();
    if (p == 0) {
        setsid(); /* its own session: killed as a whole */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (monitor.host_netns >= 0) setns(monitor.host_netns, CLONE_NEWNET);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3; fd++) dup2(null, fd);
        close_fds(3, ~0U);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execv(monitor.health[0], monitor.health);
        _exit(127);
    }
    if (p < 0) { health_schedule(); return; }
    health_pid = p;
    health_pidfd = (int)syscall(SYS_pidfd_open, p, 0);
}

static void health_reap(int force)
{
    if (health_pid <= 0) return;
    if (force) {
        kill(-health_pid, SIGKILL);
        kill(health_pid, SIGKILL); /* (before its setsid) */
    }
    pid_t w;
    do w = waitpid(health_pid, NULL, force ? 0 : WNOHANG); while (w < 0 && errno == EINTR);
    if (w == 0) return;
    if (health_pidfd >= 0) close(health_pidfd);
    health_pid = health_pidfd = -1;
    health_schedule();
}

/* Waits for the init to end, logging its output meanwhile; returns its wait status. */
static int watch(pid_t init)
{
    take_console();
    int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
    int status = 0;
    int reaped = 0;
    init_running = 1;
    clock_gettime(CLOCK_MONOTONIC, &init_started);
    health_schedule();
    while (!reaped) {
        /* streams 2, pidfd, stdin's buffer, each client's 4, held exec ttys, attach.sock, console.sock and its client, check */
        struct pollfd p[8 + ATTACH_MAX_CLIENTS * 5];
        int np = 0, si[2] = { -1, -1 };
        int resting = tty_resting;
        tty_resting = 0;
        for (int i = 0; i < 2; i++)
            if (streams[i].fd >= 0 && !(resting && streams[i].fd == tty_master))
                { si[i] = np; p[np++] = (struct pollfd){ .fd = streams[i].fd, .events = POLLIN }; }
        int pi = -1;
        if (pidfd >= 0) { pi = np; p[np++] = (struct pollfd){ .fd = pidfd, .events = POLLIN }; }
        int to = tty_master >= 0 ? tty_master : stdin_w; /* where the clients' stdin goes */
        np = clients_poll(p, np, to);
        int cli = -1, ci = -1;
        if (console_listen >= 0) { cli = np; p[np++] = (struct pollfd){ .fd = console_listen, .events = POLLIN }; }
        if (console_client >= 0) {
            ci = np;
            p[np++] = (struct pollfd){ .fd = console_client, .events = POLLIN | (console_out.len ? POLLOUT : 0) };
        }
        int hi = -1;
        if (health_pidfd >= 0) { hi = np; p[np++] = (struct pollfd){ .fd = health_pidfd, .events = POLLIN }; }
        int timeout = pidfd >= 0 && !resting ? -1 : 100, due = health_wait();
        if (health_pid > 0 && health_pidfd < 0) due = 100; /* no pidfd: reaped by polling */
        if (due >= 0 && (timeout < 0 || due < timeout)) timeout = due;
        int r = poll(p, np, timeout);
        if (r < 0 && errno != EINTR) sleep_ms(10);
        if (health_pid > 0 && (health_pidfd < 0 || (r > 0 && p[hi].revents))) health_reap(0);
        if (health_wait() == 0) health_start();
        if (r <= 0) {
            if (pidfd < 0 && waitpid(init, &status, WNOHANG) == init) reaped = 1;
            continue;
        }
        for (int i = 0; i < 2; i++)
            if (si[i] >= 0 && p[si[i]].revents) pump(&streams[i]);
        clients_after_poll(p, to);
        if (ci >= 0 && console_client >= 0 && (p[ci].revents & POLLOUT)) console_flush();
        if (ci >= 0 && console_client >= 0 && (p[ci].revents & ~POLLOUT)) console_read();
        if (cli >= 0 && p[cli].revents) console_accept();
        if (pi >= 0 && p[pi].revents) {
            pid_t w;
            do w = waitpid(init, &status, 0); while (w < 0 && errno == EINTR);
            reaped = 1;
        }
    }
    init_running = 0;
    tty_resting = 0;
    health_reap(1);
    if (pidfd >= 0) close(pidfd);
    /* The init's end takes its pid namespace with it, so the pipes reach EOF soon; a process
     * outside it (shared namespaces) may hold them longer: wait a little, not forever. */
    for (int rounds = 0; rounds < 50 && (streams[0].fd >= 0 || streams[1].fd >= 0); rounds++) {
        struct pollfd p[2];
        int np = 0;
        struct stream *which[2];
        for (int i = 0; i < 2; i++)
            if (streams[i].fd >= 0) { which[np] = &streams[i]; p[np++] = (struct pollfd){ .fd = streams[i].fd, .events = POLLIN }; }
        int r = poll(p, np, 20);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        for (int i = 0; i < np; i++)
            if (p[i].revents) pump(which[i]);
    }
    for (int i = 0; i < 2; i++) {
        if (streams[i].fd >= 0) {
            if (streams[i].len) log_entry(streams[i].name, streams[i].buf, streams[i].len);
            streams[i].len = 0;
            close(streams[i].fd);
            streams[i].fd = -1;
        }
    }
    tty_master = -1; /* closed with the stream */
    console_drop(); /* its client hears EOF: this init's terminal is gone */
    forget_child(); /* its pid may be anyone's now: no signal is forwarded to it */
    return status;
}

/* `hull update --restart` on a running container writes the new policy to restart-policy
 * beside the stop marker (containers/ID/restart-policy: "MODE MAX"); it replaces the plan's
 * from the next decision on. No file (or a bad one): the policy stays as it was. */
static void reload_policy(void)
{
    const char *slash = monitor.stop_marker ? strrchr(monitor.stop_marker, '/') : NULL;
    if (!slash) return;
    char path[4096];
    int n = snprintf(path, sizeof path, "%.*s/restart-policy", (int)(slash - monitor.stop_marker),
                     monitor.stop_marker);
    if (n < 0 || (size_t)n >= sizeof path) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[64];
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) return;
    buf[r] = '\0';
    unsigned long mode, max;
    if (sscanf(buf, "%lu %lu", &mode, &max) == 2 && mode <= 4) {
        monitor.restart_mode = mode;
        monitor.restart_max = max;
    }
}

/* The init ended by reboot(2) in its pid namespace: the kernel kills a namespace's init with SIGHUP
 * for a reboot (SIGINT for a power-off or halt; no process can send a pid namespace's init a signal
 * it does not handle, and systemd handles both). Mode 4 (a machine's) restarts only then. */
static int init_rebooted;

static int should_restart(int code, unsigned restarts)
{
    if (stop_requested() || container_gone) return 0;
    reload_policy();
    switch (monitor.restart_mode) {
    case 1: return code != 0 && (monitor.restart_max == 0 || restarts < monitor.restart_max);
    case 2: case 3: return 1;
    case 4: return init_rebooted;
    default: return 0;
    }
}

static char first_start[64];

void monitor_record_start(pid_t init)
{
    attach_open(monitor.status_path); /* before the status says running: whoever sees that can attach */
    now_rfc3339(first_start, sizeof first_start);
    write_status("running", init, first_start, "", 0, 0, "");
}

void monitor_run(pid_t init, int is_attached)
{
    prctl(PR_SET_NAME, "hull-monitor", 0, 0, 0);
    /* The init must not outlive... nothing: it may outlive us (a killed monitor leaves a running
     * container, which `hull ps` still shows). Terminal signals never reach this new session. */
    /* the starting client's stdin goes to the container through the monitor when it holds the
     * container's stdin (a terminal, or a pipe: -i), so that other clients' can too; a pipe's end
     * is the starting client's stdin's end, as docker's StdinOnce */
    if (is_attached) clients_add_owner(monitor.stdin_inherit, monitor.stdin_inherit && stdin_w >= 0);
    else clients_release_owner_fds();
    attach_open(monitor.status_path); /* (done already at the first start) */
    log_open();
    console_listen_open();
    unsigned restarts = 0;
    char started[64], finished[64] = "";
    long backoff = 100;
    int owner_cleans = 0; /* the starting client saw the end: the --rm removal is its */
    for (;;) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (first_start[0]) { /* recorded before COMMITTED: `hull run -d` returns with the status there */
            snprintf(started, sizeof started, "%s", first_start);
            first_start[0] = '\0';
        } else {
            now_rfc3339(started, sizeof started);
            write_status("running", init, started, "", 0, restarts, "");
            record_event("start", started, 0);
        }
        int status = watch(init);
        int code = exit_code(status);
        init_rebooted = WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP;
        /* a machine's power-off or halt (reboot(2): SIGINT to its init) is a clean end, as systemd's own
         * exit without CAP_SYS_BOOT was */
        if (monitor.restart_mode == 4 && WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) code = 0;
        now_rfc3339(finished, sizeof finished);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        char error[512] = "";
        int again = should_restart(code, restarts);
        owner_cleans = clients_owner_attached();
        /* recorded before the attached client hears EXIT: what it asks next sees the end */
        write_status(again ? "restarting" : "exited", 0, started, finished, code, restarts, error);
        record_event("die", finished, code);
        char line[64];
        if (WIFSIGNALED(status)) snprintf(line, sizeof line, "EXIT signal %d\n", WTERMSIG(status));
        else snprintf(line, sizeof line, "EXIT code %d\n", code);
        clients_end(line);
        for (;;) {
            if (!again) {
                write_status("exited", 0, started, finished, code, restarts, error);
                goto done;
            }
            /* docker's backoff: 100 ms doubling up to a minute, reset after a run of 10 s or more */
            if (t1.tv_sec - t0.tv_sec >= 10) backoff = 100;
            write_status("restarting", 0, started, finished, code, restarts, error);
            for (long waited = 0; waited < backoff && !stop_requested(); waited += 20) sleep_ms(20);
            backoff = backoff * 2 > 60000 ? 60000 : backoff * 2;
            /* stopped, or the policy changed (hull update) during the backoff: recorded as exited */
            again = should_restart(code, restarts);
            if (!again) continue;
            restarts++;
            pid_t p = restart_init(error, sizeof error);
            if (p > 0) {
                init = p;
                error[0] = '\0';
                break;
            }
            size_t el = strlen(error);
            if (el + 1 < sizeof error) {
                error[el] = '\n';
                log_entry("stderr", error, el + 1);
                error[el] = '\0';
            }
            code = 125;
            init_rebooted = 0; /* a reboot whose new init failed to start is not retried */
            clock_gettime(CLOCK_MONOTONIC, &t0);
            t1 = t0;
            again = should_restart(code, restarts);
        }
    }
done:
    if (logfd >= 0) close(logfd);
    console_listen_close();
    attach_close();
    /* on-exit and on-end commands work on the host (its links, its nftables), not in the
     * container's network namespace the monitor joined with it */
    if ((monitor.on_exit || monitor.on_end) && monitor.host_netns >= 0 && setns(monitor.host_netns, CLONE_NEWNET))
        dprintf(2, "hull-monitor: setns to the host's network namespace: %s\n", strerror(errno));
    if (owner_cleans) {
        /* the client the container was started with saw its end: it removes or cleans up itself */
    } else if (monitor.on_exit) {
        execv(monitor.on_exit[0], monitor.on_exit);
    } else if (monitor.on_end && !stop_requested()) {
        execv(monitor.on_end[0], monitor.on_end);
    }
    _exit(0);
}
