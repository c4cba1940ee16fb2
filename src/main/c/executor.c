/*
 * hull-executor: the only C in Hull.
 *
 * Java decides everything; this program carries out a plan that Java sends
 * over fd 3 (a unix stream socket). See docs/executor-protocol.md.
 *
 * Roles:
 *   parent  - reads the plan, runs the "parent" ops (setns, unshare, writes),
 *             clones the container init, relays sync messages between the
 *             init and Java, cleans up on abort, and in foreground mode waits
 *             for the init and reports its exit status.
 *   child   - the container init: waits for GO (uid/gid maps and cgroups are
 *             written by Java meanwhile), runs the "child" ops in order
 *             (mounts, pivot_root, hostname, ids, ...), reports READY, waits
 *             for COMMIT, then waits on the exec fifo for `start`, and execs.
 *
 * Keep this file small and boring. No allocation after clone except for
 * error messages; every failure names the operation and its arguments.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/vfs.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"

#define PLAN_MAGIC 0x4c4c5548u /* "HULL" little-endian */
#define PLAN_VERSION 1u
#define PLAN_MAX (16u << 20)
#define MAX_ARGS 4096

/* Parent ops */
enum {
    OP_MODE = 1,        /* u64 detach */
    OP_SETNS = 2,       /* str path, u64 nstype */
    OP_UNSHARE = 3,     /* u64 flags */
    OP_WRITE = 4,       /* str path, str content */
    OP_ABORT_UNLINK = 5, /* str path: removed if the creation is aborted */
    OP_ABORT_RMDIR = 6, /* str path: removed (retrying while busy) on abort */
    OP_CLONE = 7,       /* u64 flags: everything after runs in the child */
    OP_RESERVE = 8,     /* str path: mkdir the state dir ("EXISTS" if there); arms the abort cleanup */
    OP_MONITOR = 9,     /* str status, str log, u64 log-max-size, u64 log-max-files, u64 restart-mode,
                         * u64 restart-max, str stop-marker, u64 stdin-inherit: stay as the container's monitor */
    OP_MONITOR_CGROUP = 10, /* str cgroup.procs path: a restarted init's pid is written there */
    OP_MONITOR_ON_EXIT = 11, /* str argv...: exec'd by the monitor once the container is done for good */
    OP_MONITOR_ON_END = 12, /* str argv...: the same, only if it ended by itself (no stop marker) */
    OP_MONITOR_HEALTH = 13, /* u64 interval ms, u64 start-interval ms, u64 start-period ms, str argv...: the healthcheck */
    OP_IDMAP_TREE = 14, /* str label, str source, str uid_map, str gid_map, u64 flags (1 rbind, 2 ridmap): an
                         * idmapped detached copy (tree N), a plain one if uid_map is ""; label names it in errors */
    OP_OVERLAY_TREE = 15, /* str label, str uid_map, str gid_map, u64 nlower, str lower..., (str key, str value)...:
                           * a detached overlay on idmapped lower layers (tree N) */
    OP_MONITOR_IDMAP = 16, /* str uid_map, str gid_map: written by the monitor for a restarted init's user namespace */
    /* Child ops */
    OP_SETUID = 20,     /* u64 uid */
    OP_SETGID = 21,     /* u64 gid */
    OP_SETGROUPS = 22,  /* u64 gid ... */
    OP_SETSID = 23,
    OP_SETHOSTNAME = 24, /* str */
    OP_SETDOMAINNAME = 25, /* str */
    OP_OPEN_ROOT = 26,  /* str path: root for in-root path resolution */
    OP_MOUNT = 27,      /* str src, str target, str fstype, u64 flags, str data, u64 tflags */
    OP_MKNOD = 28,      /* str target(in root), u64 mode, u64 dev, u64 uid, u64 gid */
    OP_SYMLINK = 29,    /* str linkcontent, str target(in root) */
    OP_MKDIR = 30,      /* str target(in root), u64 mode */
    OP_PIVOT_ROOT = 31, /* str rootfs path */
    OP_CHDIR = 32,      /* str path */
    OP_UMASK = 33,      /* u64 mask */
    OP_OPEN_FIFO = 34,  /* str path (host) */
    OP_RESOLVE_EXEC = 35, /* str path-env value, str argv0 */
    OP_READY = 36,
    OP_WAIT_START = 37,
    OP_EXEC = 38,       /* str args...; env from OP_ENV */
    OP_ENV = 39,        /* str env... */
    OP_UNSHARE_CHILD = 40, /* u64 flags */
    OP_PRCTL = 41,      /* u64 option, u64 arg2 */
    OP_LO_UP = 42,      /* bring up the loopback interface of a new network namespace */
    OP_CHROOT = 43,     /* str rootfs: chroot, for containers without a mount namespace */
    OP_MOUNT_TREE = 44, /* u64 tree, str target, u64 tflags: move_mount the parent's tree N there */
    /* Seccomp (60-64) */
    OP_SECCOMP = 60,    /* u64 flags, bytes program (struct sock_filter[]): seccomp(SECCOMP_SET_MODE_FILTER) */
    /* Seccomp user notification (SCMP_ACT_NOTIFY, listenerPath): 61 */
    OP_SECCOMP_NOTIFY = 61, /* u64 flags (with NEW_LISTENER), bytes program, u64 sockfd: listener fd sent on sockfd */
    /* Privilege (capabilities, rlimits, sysctls, masked/readonly paths, ...): ops 70-89 */
    OP_CAP_BOUNDING = 70, /* u64 drop-mask: PR_CAPBSET_DROP each bit; then PR_SET_KEEPCAPS 1 */
    OP_CAPS = 71,       /* u64 effective, permitted, inheritable, ambient: capset v3, keepcaps 0, ambient raise */
    OP_RLIMIT = 72,     /* u64 resource, soft, hard */
    OP_IOPRIO = 73,     /* u64 ioprio value (class << 13 | level) for ioprio_set(IOPRIO_WHO_PROCESS, 0) */
    OP_SCHED = 74,      /* u64 policy, flags, nice (s32), priority, runtime, deadline, period */
    OP_PERSONALITY = 75, /* u64 persona */
    OP_SYSCTL = 76,     /* str key as a path under /proc/sys, str value: written through our own procfs */
    OP_MASK_PATH = 77,  /* str path (in root): dir -> read-only tmpfs, other -> /dev/null bound over; missing ignored */
    OP_READONLY_PATH = 78, /* str path (in root): bind onto itself, remount read-only; missing ignored */
    OP_LSM_EXEC = 79,   /* str attr file, str fallback attr file (or ""), str content: label for the exec */
    /* Process control (exec, terminals, hooks): codes 90-109 */
    OP_CONSOLE = 90,    /* u64 sockfd, u64 rows, u64 cols: new pty; slave -> stdio + ctty; master sent on sockfd */
    OP_HOOK_STATE = 91, /* u64 fd: read the container state JSON (hooks' stdin) from fd until EOF */
    OP_HOOK = 92,       /* str path, u64 timeout-secs (0: none), u64 argc, argv..., env...: run a hook, wait */
    OP_HOOKS_SYNC = 93, /* pause: the parent tells Java "HOOKS" and resumes us on "HOOKS-DONE" */
    /* process control, continued: start report, hook names, preserved fds (94-109) */
    OP_HOOK_NAME = 94,  /* str name: the next hook's failure messages name it (e.g. hooks.startContainer[0]) */
    OP_HOOK_STATE_NEXT = 95, /* hooks from here get the second state document (after the NUL) of the hook-state fd */
    OP_START_REPORT = 96, /* str path: open the start-report fifo O_RDWR; after wait-start, failures are written there */
    OP_START_OK = 97,   /* write "0" to the start report: start returns success */
    OP_PRESERVE_FDS = 98, /* u64 from, u64 count: dup2(from+i, 3+i) (no CLOEXEC), close the sources */
    OP_BLOCK_SIGNALS = 99, /* block every signal: the exec'd process starts with them blocked (--init) */
    OP_EXEC_SELF = 100, /* str args...: exec this executor (its sealed copy, never the host's file) as Hull's init */
};

/* OP_MOUNT target flags */
#define T_IN_ROOT 1u      /* target resolved inside the root (no symlink escape) */
#define T_MKDIR 2u        /* create target (and parents) as a directory */
#define T_MKFILE 4u       /* create target (parents as dirs) as an empty file */
#define T_SRC_IN_ROOT 8u  /* source is a path inside the root too */
#define T_OPTIONAL 16u    /* missing target is not an error */
#define T_KEEP_LOCKED 32u /* remount: keep the flags the kernel locks (nosuid, ...) */
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#define T_REAL_DIR 64u    /* the target must be a real directory: no symlink anywhere on its path (proc, sysfs, ...) */
#define T_CONTAINING 128u /* a propagation change for the mount that contains the (host) target: walk up to it */

struct arg { uint32_t len; const char *p; };
struct op { uint32_t code; uint32_t argc; struct arg *argv; };

static struct op *ops;
static size_t nops;
static int rootfd = -1;
static int fifofd = -1;
static int report_fd = -1; /* OP_START_REPORT: where `start` reads the outcome */
static int c2p = -1; /* child -> parent */
static int p2c = -1; /* parent -> child */
static int in_child;
int restarting;
static char **exec_env;
static char resolved_exec[PATH_MAX];
static int armed; /* the state dir is ours: undo the creation on any failure */
static int self_exe = -1; /* O_PATH handle on this executor's sealed executable (OP_EXEC_SELF) */
static void abort_creation(void) __attribute__((noreturn));

/* ---------- errors ---------- */

void fail(const char *fmt, ...)
{
    char msg[4096];
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (void)e;
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
    if (in_child && c2p >= 0) {
        char buf[4100];
        buf[0] = 'E';
        memcpy(buf + 1, msg, n);
        ssize_t w = write(c2p, buf, n + 1);
        (void)w;
    } else if (!in_child) {
        char buf[4200];
        int m = snprintf(buf, sizeof buf, "ERROR %s\n", msg);
        ssize_t w = write(JAVA_FD, buf, m);
        (void)w;
        if (armed) abort_creation();
    } else if (report_fd >= 0) { /* after start: `start` reports the failure */
        char buf[4100];
        buf[0] = 'E';
        memcpy(buf + 1, msg, n);
        ssize_t w = write(report_fd, buf, n + 1);
        (void)w;
    } else {
        dprintf(2, "hull-executor: %s\n", msg);
    }
    _exit(in_child ? 126 : 125);
}


/* ---------- plan ---------- */

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += r;
    }
    return 0;
}

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void read_plan(void)
{
    unsigned char hdr[12];
    if (read_full(JAVA_FD, hdr, sizeof hdr)) fail("reading plan header: short read");
    if (le32(hdr) != PLAN_MAGIC) fail("bad plan magic");
    if (le32(hdr + 4) != PLAN_VERSION) fail("plan version %u not supported", le32(hdr + 4));
    uint32_t len = le32(hdr + 8);
    if (len > PLAN_MAX) fail("plan too large: %u bytes", len);
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf || read_full(JAVA_FD, buf, len)) fail("reading plan body (%u bytes)", len);
    /* Two passes: count, then fill. */
    for (int pass = 0; pass < 2; pass++) {
        size_t off = 0, n = 0;
        while (off < len) {
            if (len - off < 8) fail("plan truncated in op header at %zu", off);
            uint32_t code = le32(buf + off), argc = le32(buf + off + 4);
            off += 8;
            if (argc > MAX_ARGS) fail("op %u: too many arguments (%u)", code, argc);
            struct arg *av = NULL;
            if (pass) {
                av = calloc(argc + 1, sizeof *av);
                if (!av) fail("out of memory");
                ops[n].code = code;
                ops[n].argc = argc;
                ops[n].argv = av;
            }
            for (uint32_t i = 0; i < argc; i++) {
                if (len - off < 4) fail("plan truncated in op %u", code);
                uint32_t al = le32(buf + off);
                off += 4;
                if (al > len - off) fail("plan truncated in op %u argument %u", code, i);
                if (pass) { av[i].len = al; av[i].p = (const char *)buf + off; }
                off += al;
            }
            n++;
        }
        if (!pass) {
            ops = calloc(n + 1, sizeof *ops);
            if (!ops) fail("out of memory");
        }
        nops = n;
    }
}

static const char *str(const struct op *o, uint32_t i)
{
    if (i >= o->argc) fail("op %u: missing argument %u", o->code, i);
    const struct arg *a = &o->argv[i];
    if (a->len == 0 || a->p[a->len - 1] != '\0' || memchr(a->p, 0, a->len) != a->p + a->len - 1)
        fail("op %u: argument %u is not a string", o->code, i);
    return a->p;
}

/* NULL for the empty string */
static const char *optstr(const struct op *o, uint32_t i)
{
    const char *s = str(o, i);
    return *s ? s : NULL;
}

static uint64_t u64(const struct op *o, uint32_t i)
{
    if (i >= o->argc) fail("op %u: missing argument %u", o->code, i);
    const struct arg *a = &o->argv[i];
    if (a->len != 8) fail("op %u: argument %u is not a u64", o->code, i);
    uint64_t v;
    memcpy(&v, a->p, 8);
    return v;
}

/* ---------- safe paths inside the root ---------- */

/* path opened from the root with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, plus resolve. */
static int open_in_root_resolving(const char *path, int flags, uint64_t resolve)
{
    struct open_how how = {
        .flags = (uint64_t)flags | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
    };
    while (*path == '/') path++;
    if (!*path) path = ".";
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

static int open_in_root(const char *path, int flags)
{
    return open_in_root_resolving(path, flags, 0);
}

/* As open_in_root, and no symlink at all on the path (RESOLVE_NO_SYMLINKS): ELOOP if there is one. */
static int open_in_root_strict(const char *path, int flags)
{
    return open_in_root_resolving(path, flags, RESOLVE_NO_SYMLINKS);
}

static int on_procfs(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

/* ---------- a procfs of our own for what the runtime writes under /proc (the CVE-2025-52881 class) ----------
 * "Is the opened file on procfs?" does not catch a procfs file bound over another one (the container's
 * /proc/sys/kernel/core_pattern or /proc/sysrq-trigger over a sysctl or over /proc/self/attr/exec): it
 * is on procfs. So the sysctl and LSM writes go through a procfs instance attached nowhere, made by
 * this process once it is in the container's pid namespace and before any mount of the config is made
 * (fsopen + fsmount: no path of any mount namespace reaches it, so nothing can be mounted over its
 * files). Where the kernel refuses a new instance (a user namespace whose /proc is not fully visible),
 * a non-recursive detached copy of /proc (open_tree OPEN_TREE_CLONE: what is mounted over its files
 * does not come along), and last /proc itself. In every case a path is resolved beneath that root with
 * openat2 (no "..", symlink, magic link or mount crossing: a bind over it is refused, EXDEV), and the
 * file opened must be on the root's own mount (statx mount id) and on procfs. */
#ifndef PROC_ROOT_INO
#define PROC_ROOT_INO 1
#endif
static int procfd = -1;
static uint64_t proc_mnt_id;
static const char *proc_how = "no procfs opened";

static int mount_id(int fd, uint64_t *id)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx)) return -1;
    if (!(stx.stx_mask & STATX_MNT_ID)) { errno = ENOSYS; return -1; }
    *id = stx.stx_mnt_id;
    return 0;
}

/* Opens the procfs every proc_open resolves in (once: the first call, early in the init). */
static void open_private_procfs(void)
{
    if (procfd >= 0) return;
    int fd = -1, fs = fsopen("proc", FSOPEN_CLOEXEC);
    if (fs >= 0) {
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
            fd = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        close(fs);
        proc_how = "in a procfs of the runtime's own, attached nowhere";
    }
    if (fd < 0) {
        fd = open_tree(AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        proc_how = "in a detached copy of /proc, without what is mounted in it";
    }
    if (fd < 0) {
        fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        proc_how = "in /proc, refusing what is mounted in it";
    }
    if (fd < 0) SYSFAIL("open a procfs (fsopen proc, open_tree /proc, open /proc)");
    struct stat st;
    if (!on_procfs(fd) || fstat(fd, &st) || st.st_ino != PROC_ROOT_INO)
        fail("open a procfs: /proc is not the root of a procfs (%s)", proc_how);
    if (mount_id(fd, &proc_mnt_id)) SYSFAIL("open a procfs: its mount id (statx STATX_MNT_ID)");
    procfd = fd;
}

/* openat2 beneath our procfs: no "..", no symlink, no magic link, no mount crossing; the result must be
 * on the procfs root's own mount. */
static int proc_openat(const char *rel, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)flags | O_CLOEXEC | O_NOFOLLOW,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
    };
    int fd = (int)syscall(SYS_openat2, procfd, rel, &how, sizeof how);
    if (fd < 0) return -1;
    uint64_t id;
    if (mount_id(fd, &id) || id != proc_mnt_id || !on_procfs(fd)) {
        close(fd);
        errno = EXDEV;
        return -1;
    }
    return fd;
}

/* path ("/proc/sys/...", "/proc/self/attr/exec") opened in our procfs; -1 with errno. "self" and
 * "thread-self" are read there (from the link itself, on the root's mount) and must say a pid. */
static int proc_open(const char *path, int flags)
{
    open_private_procfs();
    if (strncmp(path, "/proc/", 6) != 0) { errno = EINVAL; return -1; }
    path += 6;
    char rel[PATH_MAX];
    size_t skip = strncmp(path, "self/", 5) == 0 ? 4 : strncmp(path, "thread-self/", 12) == 0 ? 11 : 0;
    if (skip) {
        char name[16], link[64];
        memcpy(name, path, skip);
        name[skip] = '\0';
        int l = proc_openat(name, O_PATH);
        if (l < 0) return -1;
        ssize_t n = readlinkat(l, "", link, sizeof link - 1);
        close(l);
        if (n <= 0) { errno = n < 0 ? errno : ENOENT; return -1; }
        link[n] = '\0';
        unsigned long pid, tid;
        int end = 0;
        if (skip == 4 ? sscanf(link, "%lu%n", &pid, &end) != 1 : sscanf(link, "%lu/task/%lu%n", &pid, &tid, &end) != 2)
            end = -1;
        if (end != (int)n) { errno = EXDEV; return -1; }
        if (snprintf(rel, sizeof rel, "%s%s", link, path + skip) >= (int)sizeof rel) { errno = ENAMETOOLONG; return -1; }
        path = rel;
    }
    return proc_openat(path, flags);
}

/* mkdir -p inside the root, each component resolved inside the root. A component that is a dangling
 * symlink gets its target made (inside the root: the target is resolved as the container would),
 * as docker makes a WorkingDir through an image's symlink; at most 40 links deep. */
static void mkdirs_in_root_depth(const char *path, mode_t mode, int depth)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) fail("path too long: %s", path);
    if (depth > 40) { errno = ELOOP; SYSFAIL("mkdir %s in rootfs", path); }
    strcpy(buf, path);
    for (char *p = buf; ; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (*buf) {
            int fd = open_in_root(buf, O_PATH | O_DIRECTORY);
            if (fd >= 0) {
                close(fd);
            } else if (errno == ENOENT) {
                char *slash = strrchr(buf, '/');
                const char *name = slash ? slash + 1 : buf;
                int parent;
                if (slash) {
                    *slash = '\0';
                    parent = open_in_root(*buf ? buf : "/", O_PATH | O_DIRECTORY);
                    *slash = '/';
                } else {
                    parent = open_in_root(".", O_PATH | O_DIRECTORY);
                }
                if (parent < 0) SYSFAIL("resolving parent of %s in rootfs", buf);
                struct stat st;
                if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                    char link[PATH_MAX], target[PATH_MAX];
                    ssize_t n = readlinkat(parent, name, link, sizeof link - 1);
                    if (n < 0) SYSFAIL("readlink %s in rootfs", buf);
                    link[n] = '\0';
                    int len = link[0] == '/' ? snprintf(target, sizeof target, "%s", link)
                                             : snprintf(target, sizeof target, "%.*s/%s",
                                                        slash ? (int)(slash - buf) : 0, buf, link);
                    if (len < 0 || (size_t)len >= sizeof target) fail("path too long: %s -> %s", buf, link);
                    mkdirs_in_root_depth(target, mode, depth + 1);
                } else if (mkdirat(parent, name, mode) && errno != EEXIST) {
                    SYSFAIL("mkdir %s in rootfs", buf);
                }
                close(parent);
            } else {
                SYSFAIL("resolving %s in rootfs", buf);
            }
        }
        *p = saved;
        if (!saved) break;
    }
}

static void mkdirs_in_root(const char *path, mode_t mode)
{
    mkdirs_in_root_depth(path, mode, 0);
}

/* Split target into parent (resolved in root) + last name. Returns parent fd. */
static int parent_in_root(const char *path, const char **name)
{
    static char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) fail("path too long: %s", path);
    strcpy(buf, path);
    char *slash = strrchr(buf, '/');
    int parent;
    if (!slash) {
        *name = path;
        parent = open_in_root(".", O_PATH | O_DIRECTORY);
    } else {
        *slash = '\0';
        *name = path + (slash - buf) + 1;
        parent = open_in_root(*buf ? buf : "/", O_PATH | O_DIRECTORY);
    }
    if (parent < 0) SYSFAIL("resolving parent of %s in rootfs", path);
    return parent;
}

static void mkfile_in_root(const char *path)
{
    int fd = open_in_root(path, O_PATH);
    if (fd >= 0) { close(fd); return; }
    if (errno != ENOENT) SYSFAIL("resolving %s in rootfs", path);
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) fail("path too long: %s", path);
    strcpy(buf, path);
    char *slash = strrchr(buf, '/');
    if (slash && slash != buf) {
        *slash = '\0';
        mkdirs_in_root(buf, 0755);
    }
    const char *name;
    int parent = parent_in_root(path, &name);
    fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno != EEXIST) SYSFAIL("creating %s in rootfs", path);
    if (fd >= 0) close(fd);
    close(parent);
}

static unsigned long locked_flags(const char *path)
{
    struct statvfs s;
    if (statvfs(path, &s)) SYSFAIL("statvfs %s", path);
    unsigned long f = 0;
    if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (s.f_flag & ST_NODEV) f |= MS_NODEV;
    if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

static void do_mount(const struct op *o)
{
    const char *src = optstr(o, 0), *target = str(o, 1), *fstype = optstr(o, 2);
    unsigned long flags = u64(o, 3);
    const char *data = optstr(o, 4);
    uint64_t tf = u64(o, 5);
    char tpath[64], spath[64];
    const char *t = target, *s = src;
    int tfd = -1, sfd = -1;
    if (tf & T_CONTAINING) {
        /* As runc's rootfsParentMountPrivate: EINVAL means "not a mount point", so try the parent. */
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s", target);
        for (;;) {
            if (mount(NULL, p, NULL, flags, NULL) == 0) return;
            if (errno != EINVAL || strcmp(p, "/") == 0) SYSFAIL("mount propagation 0x%lx on the mount containing %s", flags, target);
            char *slash = strrchr(p, '/');
            if (slash == p) p[1] = 0; else *slash = 0;
        }
    }
    if (tf & T_IN_ROOT) {
        if (rootfd < 0) fail("mount %s: no root opened", target);
        if (tf & T_MKDIR) mkdirs_in_root(target, 0755);
        if (tf & T_MKFILE) mkfile_in_root(target);
        if (tf & T_REAL_DIR) {
            /* procfs or sysfs on a symlinked target would land elsewhere in the root, and the masked
             * paths (resolved by name) would then miss it: refused, as runc refuses it. */
            tfd = open_in_root_strict(target, O_PATH | O_DIRECTORY);
            if (tfd < 0 && (errno == ELOOP || errno == ENOTDIR))
                fail("mount target %s in rootfs: must be a directory with no symlink on its path (type %s)", target,
                     fstype ? fstype : "none");
        } else {
            tfd = open_in_root(target, O_PATH);
        }
        if (tfd < 0) {
            if (errno == ENOENT && (tf & T_OPTIONAL)) return;
            SYSFAIL("mount target %s in rootfs", target);
        }
        snprintf(tpath, sizeof tpath, "/proc/self/fd/%d", tfd);
        t = tpath;
    }
    if ((tf & T_SRC_IN_ROOT) && src) {
        sfd = open_in_root(src, O_PATH);
        if (sfd < 0) {
            if (errno == ENOENT && (tf & T_OPTIONAL)) { if (tfd >= 0) close(tfd); return; }
            SYSFAIL("mount source %s in rootfs", src);
        }
        snprintf(spath, sizeof spath, "/proc/self/fd/%d", sfd);
        s = spath;
    }
    if (tfd >= 0 && !(flags & (MS_REMOUNT | MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE))
        && strncmp(target, "/proc/", 6) != 0 && strcmp(target, "/proc") != 0) {
        /* A new mount on a target that only a symlink of the image led into procfs (a volume "on
         * /attr" that is /proc/self/attr, the CVE-2019-16884 class) would cover what the runtime
         * writes there. Procfs reached without a symlink (a bind of the host's /proc, and what is
         * mounted inside it) is what the config asked for. */
        if (on_procfs(tfd) && !(fstype && strcmp(fstype, "proc") == 0)) {
            int strict = open_in_root_strict(target, O_PATH);
            if (strict >= 0) close(strict);
            else if (errno == ELOOP)
                fail("mount target %s in rootfs: resolves into /proc through a symlink of the image", target);
        }
    }
    if (tf & T_KEEP_LOCKED) flags |= locked_flags(t);
    if (mount(s, t, fstype, flags, data))
        SYSFAIL("mount %s on %s (type %s, flags 0x%lx, data \"%s\")", src ? src : "none", target,
                fstype ? fstype : "none", flags, data ? data : "");
    if (tfd >= 0) close(tfd);
    if (sfd >= 0) close(sfd);
}

/* ---------- idmapped mounts (runc 1.2 / crun semantics) ----------
 * Idmapping a mount takes CAP_SYS_ADMIN in the user namespace that owns its filesystem (the host's),
 * so the parent makes each tree before the clone: a detached copy of the source (open_tree
 * OPEN_TREE_CLONE) idmapped with mount_setattr(MOUNT_ATTR_IDMAP) to a helper user namespace holding the
 * mount's maps, or an overlay (fsopen/fsmount, attached nowhere) on such copies of its lower layers.
 * The init inherits the descriptors and moves each tree onto its target (OP_MOUNT_TREE); the parent
 * closes its copies after the clone, and makes them again for a restarted init. */
#define MAX_TREES 64
static int trees[MAX_TREES];
static int ntrees;

static int write_str(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, content, strlen(content));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(content) ? 0 : -1;
}

/* A user namespace with these maps, as an fd: a child unshares it and waits while we map it. */
static int helper_userns(const char *uid_map, const char *gid_map, char *err, size_t cap)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC)) { snprintf(err, cap, "pipe: %s", strerror(errno)); return -1; }
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0) {
        char c;
        close(p[1]);
        while (read(p[0], &c, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    close(p[0]);
    if (pid < 0) { close(p[1]); snprintf(err, cap, "clone a user namespace: %s", strerror(errno)); return -1; }
    char path[64];
    int fd = -1;
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
    if (write_str(path, uid_map)) { snprintf(err, cap, "write uid_map \"%s\": %s", uid_map, strerror(errno)); goto out; }
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
    if (write_str(path, gid_map)) { snprintf(err, cap, "write gid_map \"%s\": %s", gid_map, strerror(errno)); goto out; }
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) snprintf(err, cap, "open %s: %s", path, strerror(errno));
out:
    close(p[1]); /* the child reads EOF and exits */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    return fd;
}

/* A detached copy of source (flags 1: with its submounts; 2: these idmapped too), idmapped to userns;
 * -1 with err. */
static int idmapped_copy(const char *source, int userns, uint64_t flags, char *err, size_t cap)
{
    int fd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (flags & 1 ? AT_RECURSIVE : 0));
    if (fd < 0) { snprintf(err, cap, "open_tree %s: %s", source, strerror(errno)); return -1; }
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
    if (mount_setattr(fd, "", AT_EMPTY_PATH | (flags & 2 ? AT_RECURSIVE : 0), &attr, sizeof attr)) {
        int e = errno;
        close(fd);
        snprintf(err, cap, "idmapping %s (mount_setattr MOUNT_ATTR_IDMAP): %s%s", source, strerror(e),
                 e == EINVAL ? " (its filesystem does not support idmapped mounts?)" : "");
        return -1;
    }
    return fd;
}

/* OP_OVERLAY_TREE: an overlay whose lower layers are idmapped copies; upper and work as they are.
 * Overlayfs takes only layers attached in the caller's mount namespace, so this runs in a private one
 * of its own (nothing propagates out of it): each idmapped copy is moved over its lower directory there,
 * the overlay is made on those, and we go back to our namespace with the detached overlay. */
static int overlay_in_private_ns(const struct op *o, int userns, char *err, size_t cap)
{
    uint64_t nlower = u64(o, 3);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) { snprintf(err, cap, "make / private: %s", strerror(errno)); return -1; }
    for (uint64_t k = 0; k < nlower; k++) {
        const char *lower = str(o, 4 + k);
        int l = idmapped_copy(lower, userns, 0, err, cap);
        if (l < 0) return -1;
        int r = move_mount(l, "", AT_FDCWD, lower, MOVE_MOUNT_F_EMPTY_PATH);
        int e = errno;
        close(l);
        if (r) { snprintf(err, cap, "attach the idmapped layer %s: %s", lower, strerror(e)); return -1; }
    }
    int fs = fsopen("overlay", FSOPEN_CLOEXEC), mnt = -1;
    if (fs < 0) { snprintf(err, cap, "fsopen overlay: %s", strerror(errno)); return -1; }
    for (uint64_t k = 0; k < nlower; k++) {
        if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", str(o, 4 + k), 0)) {
            snprintf(err, cap, "overlay lower layer %s: %s", str(o, 4 + k), strerror(errno));
            goto out;
        }
    }
    for (uint32_t a = 4 + nlower; a + 1 < o->argc; a += 2) {
        const char *key = str(o, a), *value = str(o, a + 1);
        if (fsconfig(fs, *value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, *value ? value : NULL, 0)) {
            snprintf(err, cap, "overlay option %s=%s: %s", key, value, strerror(errno));
            goto out;
        }
    }
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
        int e = errno;
        char log[256]; /* the filesystem's own reason, as "e overlayfs: ..." */
        ssize_t n = read(fs, log, sizeof log - 1);
        log[n > 0 ? n : 0] = '\0';
        if (n > 0 && log[n - 1] == '\n') log[n - 1] = '\0';
        snprintf(err, cap, "create overlay: %s%s%s%s", strerror(e), n > 0 ? " (" : "", n > 0 ? log : "", n > 0 ? ")" : "");
        goto out;
    }
    mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
    if (mnt < 0) snprintf(err, cap, "fsmount overlay: %s", strerror(errno));
out:
    close(fs);
    return mnt;
}

static int overlay_tree(const struct op *o, int userns, char *err, size_t cap)
{
    uint64_t nlower = u64(o, 3);
    if (nlower == 0 || nlower > MAX_ARGS || 4 + nlower > o->argc || (o->argc - 4 - nlower) % 2) {
        snprintf(err, cap, "overlay-tree: malformed op");
        return -1;
    }
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC), cwd = open(".", O_PATH | O_CLOEXEC);
    if (ns < 0 || cwd < 0) {
        snprintf(err, cap, "open our mount namespace and cwd: %s", strerror(errno));
        if (ns >= 0) close(ns);
        if (cwd >= 0) close(cwd);
        return -1;
    }
    if (unshare(CLONE_NEWNS)) {
        snprintf(err, cap, "unshare a private mount namespace: %s", strerror(errno));
        close(ns);
        close(cwd);
        return -1;
    }
    int mnt = overlay_in_private_ns(o, userns, err, cap);
    /* back where we were: a failure here would leave the executor in the private namespace */
    if (setns(ns, CLONE_NEWNS) || fchdir(cwd)) fail("return to our mount namespace: %s", strerror(errno));
    close(ns);
    close(cwd);
    return mnt;
}

static void close_trees(void)
{
    for (int k = 0; k < ntrees; k++) close(trees[k]);
    ntrees = 0;
}

/* Makes every tree of the plan, in order; 0, or -1 with err (the ones made are closed). */
static int make_trees(char *err, size_t cap)
{
    char why[900];
    for (size_t k = 0; k < nops; k++) {
        const struct op *o = &ops[k];
        if (o->code != OP_IDMAP_TREE && o->code != OP_OVERLAY_TREE) continue;
        if (ntrees == MAX_TREES) { snprintf(err, cap, "more than %d idmapped mounts", MAX_TREES); goto failed; }
        int idmap = o->code == OP_IDMAP_TREE;
        int fd = -1;
        if (idmap && !*str(o, 2)) { /* no maps: a plain copy (a bind source the init may not reach by path) */
            fd = open_tree(AT_FDCWD, str(o, 1), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (u64(o, 4) & 1 ? AT_RECURSIVE : 0));
            if (fd < 0) { snprintf(err, cap, "%.100s: open_tree %s: %s", str(o, 0), str(o, 1), strerror(errno)); goto failed; }
            trees[ntrees++] = fd;
            continue;
        }
        int userns = helper_userns(str(o, idmap + 1), str(o, idmap + 2), why, sizeof why);
        if (userns >= 0) {
            fd = idmap ? idmapped_copy(str(o, 1), userns, u64(o, 4), why, sizeof why)
                       : overlay_tree(o, userns, why, sizeof why);
            close(userns);
        }
        if (fd < 0) { snprintf(err, cap, "%.100s: %s", str(o, 0), why); goto failed; }
        trees[ntrees++] = fd;
    }
    return 0;
failed:
    close_trees();
    return -1;
}

/* OP_MOUNT_TREE: the parent's tree N moved onto target (in the root with T_IN_ROOT, else a host path). */
static void do_mount_tree(const struct op *o)
{
    uint64_t n = u64(o, 0), tf = u64(o, 2);
    const char *target = str(o, 1);
    if (n >= (uint64_t)ntrees) fail("mount-tree %lu on %s: no such tree", (unsigned long)n, target);
    int tfd;
    if (tf & T_IN_ROOT) {
        if (rootfd < 0) fail("mount %s: no root opened", target);
        if (tf & T_MKDIR) mkdirs_in_root(target, 0755);
        if (tf & T_MKFILE) mkfile_in_root(target);
        tfd = open_in_root(target, O_PATH);
    } else {
        tfd = open(target, O_PATH | O_CLOEXEC);
    }
    if (tfd < 0) SYSFAIL("mount target %s", target);
    if (move_mount(trees[n], "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
        SYSFAIL("move the idmapped mount onto %s", target);
    close(tfd);
    close(trees[n]);
    trees[n] = -1;
}

static void do_pivot_root(const char *rootfs)
{
    int oldroot = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
    if (oldroot < 0) SYSFAIL("open /");
    /* through the root opened by open-root: the init may no longer reach rootfs by its host path */
    if (rootfd >= 0 ? fchdir(rootfd) : chdir(rootfs)) SYSFAIL("chdir %s", rootfs);
    if (syscall(SYS_pivot_root, ".", ".")) SYSFAIL("pivot_root %s", rootfs);
    /* The old root is now mounted on top of "."; detach it without propagating. */
    if (fchdir(oldroot)) SYSFAIL("fchdir old root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL)) SYSFAIL("make old root rslave");
    if (umount2(".", MNT_DETACH)) SYSFAIL("detach old root");
    if (chdir("/")) SYSFAIL("chdir /");
    close(oldroot);
    if (rootfd >= 0) close(rootfd);
    rootfd = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
    if (rootfd < 0) SYSFAIL("open new root");
}

/* strerror as Go (and so runc) words it, lower case: engines match these texts ("no such file or
 * directory" -> 127, "permission denied" -> 126, as docker maps runc's errors). */
static const char *go_strerror(int e)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s", strerror(e));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

static void resolve_exec(const char *pathenv, const char *argv0)
{
    if (strchr(argv0, '/')) {
        if (strlen(argv0) >= sizeof resolved_exec) fail("executable path too long");
        strcpy(resolved_exec, argv0);
        struct stat st;
        if (stat(resolved_exec, &st)) fail("exec: \"%s\": stat %s: %s", argv0, argv0, go_strerror(errno));
        if (S_ISDIR(st.st_mode) || access(resolved_exec, X_OK)) fail("exec: \"%s\": permission denied", argv0);
        return;
    }
    const char *p = pathenv && *pathenv ? pathenv : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int last_err = ENOENT;
    while (*p) {
        const char *e = strchrnul(p, ':');
        size_t dl = e - p;
        if (dl + 1 + strlen(argv0) + 1 <= sizeof resolved_exec) {
            memcpy(resolved_exec, p, dl);
            if (dl == 0) resolved_exec[dl++] = '.';
            resolved_exec[dl] = '/';
            strcpy(resolved_exec + dl + 1, argv0);
            struct stat st;
            if (stat(resolved_exec, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(resolved_exec, X_OK) == 0) return;
                last_err = errno;
            }
        }
        p = *e ? e + 1 : e;
    }
    if (last_err == EACCES) fail("exec: \"%s\": permission denied", argv0);
    fail("exec: \"%s\": executable file not found in $PATH", argv0);
}

static char **strv(const struct op *o)
{
    char **v = calloc(o->argc + 1, sizeof *v);
    if (!v) fail("out of memory");
    for (uint32_t i = 0; i < o->argc; i++) v[i] = (char *)str(o, i);
    return v;
}

/* ---------- privilege ops (70-89): capabilities, rlimits, sysctls, masked/readonly paths ---------- */

#include <linux/capability.h>
#include <sys/personality.h>
#include <sys/resource.h>

static void do_cap_bounding(uint64_t drop)
{
    for (int c = 0; c < 64; c++) {
        if (!(drop >> c & 1)) continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) SYSFAIL("cap-bounding: drop capability %d from the bounding set", c);
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) SYSFAIL("cap-bounding: set keepcaps");
}

static void do_caps(uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb)
{
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[2] = {
        { .effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh },
        { .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32) },
    };
    if (syscall(SYS_capset, &h, d))
        SYSFAIL("caps: capset effective 0x%llx permitted 0x%llx inheritable 0x%llx", (unsigned long long)eff,
                (unsigned long long)perm, (unsigned long long)inh);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0)) SYSFAIL("caps: clear keepcaps");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)) SYSFAIL("caps: clear the ambient set");
    for (int c = 0; c < 64; c++) {
        if (!(amb >> c & 1)) continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0)) SYSFAIL("caps: raise ambient capability %d", c);
    }
}

static void do_sched(const struct op *o)
{
    struct { uint32_t size, policy; uint64_t flags; int32_t nice; uint32_t priority;
             uint64_t runtime, deadline, period; } a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a; /* SCHED_ATTR_SIZE_VER0: 48 */
    a.policy = u64(o, 0);
    a.flags = u64(o, 1);
    a.nice = (int32_t)u64(o, 2);
    a.priority = u64(o, 3);
    a.runtime = u64(o, 4);
    a.deadline = u64(o, 5);
    a.period = u64(o, 6);
    if (syscall(SYS_sched_setattr, 0, &a, 0))
        SYSFAIL("sched: sched_setattr policy %u flags 0x%llx nice %d priority %u", a.policy,
                (unsigned long long)a.flags, a.nice, a.priority);
}

static void do_sysctl(const char *key, const char *value)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "/proc/sys/%s", key) >= (int)sizeof path) fail("sysctl %s: path too long", key);
    int fd = proc_open(path, O_WRONLY);
    if (fd < 0) SYSFAIL("sysctl: open %s (%s)", path, proc_how);
    size_t n = strlen(value);
    if (write(fd, value, n) != (ssize_t)n) SYSFAIL("sysctl: write \"%s\" to %s", value, path);
    close(fd);
}

/* An O_PATH fd of path inside the root, or -1 if it does not exist (op names the caller in errors). */
static int open_existing_in_root(const char *path, const char *op)
{
    int fd = open_in_root(path, O_PATH);
    if (fd < 0 && errno != ENOENT) SYSFAIL("%s: resolving %s", op, path);
    return fd;
}

/* Mounts made after pivot_root name their target (and source) by descriptor, never by a path through
 * /proc/self/fd: that is the container's /proc by then, where a mount of the config over the init's
 * /proc/1/fd (a directory of symlinks) would send them anywhere (the CVE-2025-52881 class). tree is a
 * detached mount (open_tree OPEN_TREE_CLONE, fsmount), moved onto the O_PATH descriptor target. */
static int move_onto(int tree, int target)
{
    int r = move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    int e = errno;
    close(tree);
    errno = e;
    return r;
}

/* A detached bind of what fd is (with what is mounted under it if recursive). */
static int clone_of(int fd, int recursive)
{
    return open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
}

static void do_mask_path(const char *path)
{
    int fd = open_existing_in_root(path, "mask-path");
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st)) SYSFAIL("mask-path: stat %s", path);
    if (S_ISDIR(st.st_mode)) {
        int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), tree = -1;
        if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0)
            || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)
            || (tree = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY)) < 0 || move_onto(tree, fd))
            SYSFAIL("mask-path: mount read-only tmpfs on %s", path);
        close(fs);
    } else {
        int nfd = open_in_root("/dev/null", O_PATH);
        if (nfd < 0) SYSFAIL("mask-path %s: resolving /dev/null", path);
        /* An image could make /dev/null a symlink or another node: bind only the real one. */
        struct stat ns;
        if (fstat(nfd, &ns)) SYSFAIL("mask-path %s: stat /dev/null", path);
        if (!S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 || minor(ns.st_rdev) != 3)
            fail("mask-path %s: the container's /dev/null is not the null device (1:3)", path);
        int tree = clone_of(nfd, 0);
        if (tree < 0 || move_onto(tree, fd)) SYSFAIL("mask-path: bind /dev/null over %s", path);
        close(nfd);
    }
    close(fd);
}

static void do_readonly_path(const char *path)
{
    int fd = open_existing_in_root(path, "readonly-path");
    if (fd < 0) return;
    /* a recursive bind of path, made read-only (only its top, as a remount would) while detached */
    int tree = clone_of(fd, 1);
    if (tree < 0) SYSFAIL("readonly-path: bind %s onto itself", path);
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr)) SYSFAIL("readonly-path: make %s read-only", path);
    if (move_onto(tree, fd)) SYSFAIL("readonly-path: bind %s onto itself", path);
    close(fd);
}

/* A write under /proc must not come after this op without its procfs opened before it: a mount or
 * a root change (the procfs is made before any mount of the config). */
static int changes_proc(uint32_t code)
{
    switch (code) {
    case OP_SYSCTL: case OP_MOUNT: case OP_MOUNT_TREE: case OP_PIVOT_ROOT: case OP_CHROOT:
    case OP_MASK_PATH: case OP_READONLY_PATH: case OP_UNSHARE_CHILD:
        return 1;
    default:
        return 0;
    }
}

/* The label for the next exec. With no procfs open (exec: no mount comes before it), the procfs is
 * opened for this write alone and closed right after it: the process never holds it while it runs
 * any other op. */
static void do_lsm_exec(const char *attr, const char *fallback, const char *content)
{
    int own = procfd < 0;
    int fd = proc_open(attr, O_WRONLY);
    if (fd < 0 && errno == ENOENT && *fallback) {
        attr = fallback;
        fd = proc_open(attr, O_WRONLY);
    }
    /* a mount over /proc/self/attr (CVE-2019-16884) or a procfs file bound over it must not take the label */
    if (fd < 0) SYSFAIL("lsm-exec: open %s (%s)", attr, proc_how);
    size_t n = strlen(content);
    if (write(fd, content, n) != (ssize_t)n) SYSFAIL("lsm-exec: write \"%s\" to %s", content, attr);
    close(fd);
    if (own) {
        close(procfd);
        procfd = -1;
    }
}

/* Returns 1 if o is a privilege op (and carried it out). */
static int privilege_op(const struct op *o)
{
    switch (o->code) {
    case OP_CAP_BOUNDING: do_cap_bounding(u64(o, 0)); return 1;
    case OP_CAPS: do_caps(u64(o, 0), u64(o, 1), u64(o, 2), u64(o, 3)); return 1;
    case OP_RLIMIT: {
        struct rlimit rl = { .rlim_cur = u64(o, 1), .rlim_max = u64(o, 2) };
        if (setrlimit((int)u64(o, 0), &rl))
            SYSFAIL("rlimit: setrlimit resource %d soft %llu hard %llu", (int)u64(o, 0),
                    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        return 1;
    }
    case OP_IOPRIO:
        if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)u64(o, 0)))
            SYSFAIL("ioprio: ioprio_set 0x%x", (int)u64(o, 0));
        return 1;
    case OP_SCHED: do_sched(o); return 1;
    case OP_PERSONALITY:
        if (personality((unsigned long)u64(o, 0)) < 0) SYSFAIL("personality 0x%lx", (unsigned long)u64(o, 0));
        return 1;
    case OP_SYSCTL: do_sysctl(str(o, 0), str(o, 1)); return 1;
    case OP_MASK_PATH: do_mask_path(str(o, 0)); return 1;
    case OP_READONLY_PATH: do_readonly_path(str(o, 0)); return 1;
    case OP_LSM_EXEC: do_lsm_exec(str(o, 0), str(o, 1), str(o, 2)); return 1;
    default: return 0;
    }
}


/* ---------- process control: terminals and hooks (ops 90-109) ---------- */

/* /dev/console of the container becomes its terminal (as runc does), bound on a target made safely:
 * /dev is resolved with no symlink anywhere (an image's /dev/console -> /proc/sysrq-trigger, the
 * CVE-2025-52565 class, must not redirect the bind), and the target must be a regular file or a
 * character device, not a symlink (O_NOFOLLOW) or a directory. */
static void bind_console(int slave)
{
    int dev = open_in_root_strict("/dev", O_PATH | O_DIRECTORY);
    if (dev < 0) SYSFAIL("console: /dev of the container (a symlinked /dev is refused)");
    int t = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (t < 0 && errno != EEXIST) SYSFAIL("console: create /dev/console");
    if (t >= 0) close(t);
    t = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (t < 0) SYSFAIL("console: open /dev/console");
    struct stat st;
    if (fstat(t, &st)) SYSFAIL("console: stat /dev/console");
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
        fail("console: /dev/console of the container is not a file or a character device (mode 0%o)", st.st_mode);
    /* by descriptor, not through the container's /proc/self/fd (see move_onto) */
    int tree = clone_of(slave, 0);
    if (tree < 0 || move_onto(tree, t)) SYSFAIL("console: bind the terminal on /dev/console");
    close(t);
    close(dev);
}

/* OP_CONSOLE: a new pty from /dev/ptmx as this process sees it (the container's
 * devpts after pivot_root / setns). The slave becomes stdin, stdout, stderr and
 * the controlling terminal of a new session; the master goes to Java over the
 * unix socket sockfd (SCM_RIGHTS, payload "/dev/ptmx", as runc sends it). */
static void do_console(const struct op *o)
{
    /* A container with a monitor: the monitor holds the pty master (it logs the terminal's output). */
    int sock = monitor.active ? monitor_console_socket() : (int)u64(o, 0);
    unsigned short rows = (unsigned short)u64(o, 1), cols = (unsigned short)u64(o, 2);
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) SYSFAIL("console: open /dev/ptmx");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock)) SYSFAIL("console: unlock pty");
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) SYSFAIL("console: open pty slave (TIOCGPTPEER)");
    if (rows || cols) {
        struct winsize ws = { .ws_row = rows, .ws_col = cols };
        if (ioctl(slave, TIOCSWINSZ, &ws)) SYSFAIL("console: set size %ux%u", rows, cols);
    }
    if (setsid() < 0 && errno != EPERM) SYSFAIL("console: setsid");
    if (ioctl(slave, TIOCSCTTY, 0)) SYSFAIL("console: make the pty the controlling terminal");
    if (o->argc > 3 && u64(o, 3)) bind_console(slave);
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0) SYSFAIL("console: dup2 pty slave to %d", fd);
    if (slave > 2) close(slave);
    static const char name[] = "/dev/ptmx";
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = (void *)name, .iov_len = sizeof name - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &master, sizeof(int));
    ssize_t r;
    do r = sendmsg(sock, &msg, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
    if (r < 0) SYSFAIL("console: send pty master on fd %d", sock);
    close(master);
    close(sock);
}

static char *hook_state;
static size_t hook_state_len;
static void split_hook_state(void);
static const char *hook_name; /* OP_HOOK_NAME: names the next hook in its messages */

static void do_hook_state(const struct op *o)
{
    int fd = (int)u64(o, 0);
    size_t cap = 4096;
    hook_state = malloc(cap);
    if (!hook_state) fail("out of memory");
    for (;;) {
        if (hook_state_len == cap) {
            if (cap >= (1u << 20)) fail("hook state: more than 1 MiB on fd %d", fd);
            cap *= 2;
            hook_state = realloc(hook_state, cap);
            if (!hook_state) fail("out of memory");
        }
        ssize_t r = read(fd, hook_state + hook_state_len, cap - hook_state_len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) SYSFAIL("hook state: read fd %d", fd);
        if (r == 0) break;
        hook_state_len += r;
    }
    close(fd);
    split_hook_state();
}

/* OP_HOOK: runs path with argv and env, the state on its stdin, and waits;
 * killed (and an error) after timeout seconds; a non-zero exit is an error. */
static void do_hook(const struct op *o)
{
    const char *path = str(o, 0);
    uint64_t timeout = u64(o, 1), argc = u64(o, 2);
    if (argc > o->argc || argc + 3 > o->argc) fail("hook %s: argument count %lu exceeds the op's arguments", path, (unsigned long)argc);
    char **argv = calloc(argc + 1, sizeof *argv), **envp = calloc(o->argc - 3 - argc + 1, sizeof *envp);
    if (!argv || !envp) fail("out of memory");
    for (uint64_t k = 0; k < argc; k++) argv[k] = (char *)str(o, 3 + k);
    for (uint32_t k = 3 + argc, n = 0; k < o->argc; k++) envp[n++] = (char *)str(o, k);
    if (argc == 0) { argv[0] = (char *)path; argv[1] = NULL; }
    char what[PATH_MAX + 128];
    if (hook_name) snprintf(what, sizeof what, "%s (%s)", hook_name, path);
    else snprintf(what, sizeof what, "%s", path);
    hook_name = NULL;
    path = what; /* from here on only in messages; the exec uses argv's source below */
    const char *exe = str(o, 0);
    int in[2];
    if (pipe2(in, O_CLOEXEC)) SYSFAIL("hook %s: pipe", path);
    pid_t pid = fork();
    if (pid < 0) SYSFAIL("hook %s: fork", path);
    if (pid == 0) {
        if (dup2(in[0], 0) < 0) _exit(126);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        execve(exe, argv, envp);
        dprintf(2, "hull-executor: hook %s: exec: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    signal(SIGPIPE, SIG_IGN);
    for (size_t off = 0; off < hook_state_len;) {
        ssize_t w = write(in[1], hook_state + off, hook_state_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* the hook need not read its stdin */
        off += w;
    }
    close(in[1]);
    signal(SIGPIPE, SIG_DFL);
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) SYSFAIL("hook %s: pidfd_open", path);
    struct pollfd p = { .fd = pfd, .events = POLLIN };
    int r;
    int ms = timeout == 0 ? -1 : timeout > INT_MAX / 1000 ? INT_MAX : (int)(timeout * 1000);
    do r = poll(&p, 1, ms); while (r < 0 && errno == EINTR);
    if (r < 0) SYSFAIL("hook %s: poll", path);
    int status = 0;
    if (r == 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        fail("hook %s: timed out after %lu s (killed)", path, (unsigned long)timeout);
    }
    while (waitpid(pid, &status, 0) < 0) if (errno != EINTR) SYSFAIL("hook %s: waitpid", path);
    close(pfd);
    if (WIFSIGNALED(status)) fail("hook %s: killed by signal %d", path, WTERMSIG(status));
    if (WEXITSTATUS(status)) fail("hook %s: exited with status %d", path, WEXITSTATUS(status));
    free(argv);
    free(envp);
}

/* ---------- process control, continued (ops 94-109): start report, hook names, preserved fds ---------- */

static char *hook_state_next; /* the second state document: the startContainer hooks' ("created") */
static size_t hook_state_next_len;

/* The hook-state fd carries "creating" JSON, optionally a NUL and the "created" JSON. */
static void split_hook_state(void)
{
    char *z = memchr(hook_state, 0, hook_state_len);
    if (!z) return;
    hook_state_next = z + 1;
    hook_state_next_len = hook_state_len - (size_t)(z + 1 - hook_state);
    hook_state_len = (size_t)(z - hook_state);
}

static void do_hook_state_next(void)
{
    if (!hook_state_next) fail("hook-state-next (op %d): the hook-state fd sent no second state document", OP_HOOK_STATE_NEXT);
    hook_state = hook_state_next;
    hook_state_len = hook_state_next_len;
    hook_state_next = NULL;
}

/* OP_START_REPORT: opened O_RDWR so it never blocks and never raises SIGPIPE; the reader is `start`. */
static void do_start_report(const char *path)
{
    report_fd = open(path, O_RDWR | O_CLOEXEC);
    if (report_fd < 0) SYSFAIL("start-report: open fifo %s", path);
}

static void do_start_ok(void)
{
    if (report_fd < 0) fail("start-ok (op %d): no start report opened", OP_START_OK);
    ssize_t w;
    do w = write(report_fd, "0", 1); while (w < 0 && errno == EINTR);
    if (w != 1) SYSFAIL("start-ok: write the start report");
    /* Stays open (CLOEXEC): a failure before the exec still reaches `start`; the exec closes it (EOF). */
}

/* OP_PRESERVE_FDS: the executor got the caller's preserved fds at from..from+count-1; they become
 * 3..3+count-1 of the process about to exec (without CLOEXEC). The init's own fds that sit in that
 * range are moved above it first. Ascending dup2 from higher sources never overwrites a later source. */
static void do_preserve_fds(uint64_t from, uint64_t count)
{
    if (from < 3 || count > 4096) fail("preserve-fds from %lu count %lu: bad range", (unsigned long)from, (unsigned long)count);
    int top = 3 + (int)count, end = (int)(from + count);
    int *mine[] = { &rootfd, &report_fd, &fifofd, &self_exe, &procfd };
    for (size_t k = 0; k < sizeof mine / sizeof *mine; k++) {
        if (*mine[k] >= 3 && *mine[k] < (top > end ? top : end)) {
            int n = fcntl(*mine[k], F_DUPFD_CLOEXEC, top > end ? top : end);
            if (n < 0) SYSFAIL("preserve-fds: move fd %d out of the way", *mine[k]);
            close(*mine[k]);
            *mine[k] = n;
        }
    }
    for (int i = 0; i < (int)count; i++) {
        int src = (int)from + i, dst = 3 + i;
        if (src == dst) {
            if (fcntl(dst, F_SETFD, 0)) SYSFAIL("preserve-fds: clear close-on-exec of fd %d", dst);
        } else if (dup2(src, dst) < 0) {
            SYSFAIL("preserve-fds: dup2 fd %d to %d", src, dst);
        }
    }
    for (int fd = top > (int)from ? top : (int)from; fd < end; fd++) close(fd);
}

/* The descriptors op o names — the console (when with_console), hook-state and seccomp-notify
 * sockets, the preserved fds — as [*first, *first + *count); 0 if it names none. */
static int op_fds(const struct op *o, int with_console, uint64_t *first, uint64_t *count)
{
    *count = 1;
    if ((o->code == OP_CONSOLE && with_console) || o->code == OP_HOOK_STATE) *first = u64(o, 0);
    else if (o->code == OP_SECCOMP_NOTIFY && o->argc > 2) *first = u64(o, 2);
    else if (o->code == OP_PRESERVE_FDS && u64(o, 1) > 0) { *first = u64(o, 0); *count = u64(o, 1); }
    else return 0;
    return 1;
}

/* The highest fd the plan names (console and hook-state sockets, preserved fds), at least fd 3. */
static unsigned int highest_plan_fd(int with_console)
{
    unsigned int top = JAVA_FD;
    for (size_t i = 0; i < nops; i++) {
        uint64_t first, count;
        if (!op_fds(&ops[i], with_console, &first, &count)) continue;
        uint64_t last = first + count - 1;
        if (last > top && last < 1u << 20) top = (unsigned int)last;
    }
    return top;
}

/* close_range(lo, hi), one fd at a time on kernels without it */
void close_fds(unsigned int lo, unsigned int hi)
{
    if (lo > hi) return;
    if (syscall(SYS_close_range, lo, hi, 0) == 0) return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 1 << 20) max = 1 << 20;
    for (long fd = lo; fd <= (long)hi && fd < max; fd++) close((int)fd);
}

/* Every descriptor from lo up is closed, but the handle on our own executable. */
static void close_from(unsigned int lo)
{
    if (self_exe >= 0 && (unsigned int)self_exe >= lo) {
        close_fds(lo, (unsigned int)self_exe - 1);
        close_fds((unsigned int)self_exe + 1, ~0U);
    } else {
        close_fds(lo, ~0U);
    }
}

/* Before anything else runs, every descriptor the executor inherited but the ones the plan names
 * (stdio, the plan socket, the console and hook-state sockets, the seccomp-notify socket, the
 * preserved fds) is closed — not just marked close-on-exec: whatever the caller leaked (a JVM's
 * jars, a CI runner's `exec 9</some/dir`) must never be open in a process that enters a
 * container, where a cwd of /proc/self/fd/9 or a ptrace would reach it (CVE-2024-21626). */
static void close_unlisted(void)
{
    unsigned int top = highest_plan_fd(1);
    unsigned char *named = calloc(top + 1, 1);
    if (!named) fail("out of memory");
    named[JAVA_FD] = 1;
    for (size_t i = 0; i < nops; i++) {
        uint64_t first, count;
        if (!op_fds(&ops[i], 1, &first, &count)) continue;
        for (uint64_t k = 0; k < count && first + k <= top; k++) named[first + k] = 1;
    }
    for (unsigned int fd = 3; fd <= top; fd++)
        if (!named[fd]) close((int)fd);
    free(named);
    close_fds(top + 1, ~0U);
    /* A directory as stdin, stdout or stderr would be a handle on the host inside the container. */
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
            fail("fd %d (%s) is a directory: a host directory must not be handed to a container", fd,
                 fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr");
    }
}

/* ---------- running only from a sealed executable (the CVE-2019-5736 class) ----------
 * A process that enters a container runs this program until its exec; a process in the container
 * that can open /proc/PID/exe then holds the executable, and if that were the host's file it could
 * reopen it for writing and replace what the host runs next. So the executor only ever runs from a
 * copy nothing can write: Java spawns it from a read-only, lower-only overlayfs mount of its file
 * that is attached nowhere (zero copy: the page cache is the host file's), or from a sealed memfd.
 * Spawned any other way, it makes the sealed memfd itself and re-executes from it. */
#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#define HULL_SEALED_ENV "HULL_EXECUTOR_RESEALED=1"
#define SEALS_NEEDED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Whether mount id is attached in our mount namespace (listed in /proc/self/mountinfo). */
static int mount_attached(uint64_t id)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return 1; /* cannot tell: not sealed */
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strtoull(line, NULL, 10) == id;
    fclose(f);
    return found;
}

/* A sealed memfd, or a read-only overlayfs file whose mount is attached nowhere (Java's lower-only
 * overlay, made with fsmount: no path reaches it, so nothing can remount it). */
static int exe_is_sealed(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals >= 0) return (seals & SEALS_NEEDED) == SEALS_NEEDED;
    struct statfs sf;
    struct statvfs sv;
    if (fstatfs(fd, &sf) || sf.f_type != OVERLAYFS_SUPER_MAGIC || fstatvfs(fd, &sv) || !(sv.f_flag & ST_RDONLY))
        return 0;
#ifdef STATX_MNT_ID
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID)) return 0;
    return !mount_attached(stx.stx_mnt_id);
#else
    return 0;
#endif
}

static void die_early(const char *what)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "ERROR sealing the executor: %s: %s\n", what, strerror(errno));
    ssize_t w = write(JAVA_FD, buf, n);
    (void)w;
    dprintf(2, "hull-executor: sealing the executor: %s: %s\n", what, strerror(errno));
    _exit(125);
}

static void ensure_sealed(char **argv)
{
    extern char **environ;
    int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (exe < 0) die_early("open /proc/self/exe");
    int resealed = getenv("HULL_EXECUTOR_RESEALED") != NULL;
    if (exe_is_sealed(exe)) {
        close(exe);
        if (resealed) unsetenv("HULL_EXECUTOR_RESEALED");
        return;
    }
    if (resealed) { errno = EPERM; die_early("still not sealed after re-executing from a sealed memfd"); }
    int mfd = (int)syscall(SYS_memfd_create, "hull-executor", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (mfd < 0 && errno == EINVAL) /* kernels before 6.3 know no MFD_EXEC */
        mfd = (int)syscall(SYS_memfd_create, "hull-executor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0) die_early("memfd_create");
    struct stat st;
    if (fstat(exe, &st)) die_early("stat /proc/self/exe");
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = sendfile(mfd, exe, NULL, (size_t)(st.st_size - done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die_early("copy /proc/self/exe into the memfd");
        done += n;
    }
    close(exe);
    if (fcntl(mfd, F_ADD_SEALS, SEALS_NEEDED | F_SEAL_FUTURE_WRITE) && fcntl(mfd, F_ADD_SEALS, SEALS_NEEDED))
        die_early("seal the memfd");
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env) die_early("out of memory");
    memcpy(env, environ, n * sizeof *env);
    env[n] = HULL_SEALED_ENV;
    syscall(SYS_execveat, mfd, "", argv, env, AT_EMPTY_PATH);
    die_early("execveat the sealed memfd");
}

/* ---------- seccomp (ops 60-64) ---------- */

static char **exec_argv; /* the exec op's argv, built before a filter is loaded (no allocation after it) */

/* OP_SECCOMP: load the filter Java compiled. If the next op is exec, its argv is built first so
 * that nothing but execve runs under the filter. */
static void do_seccomp(const struct op *o, const struct op *next)
{
    uint64_t flags = u64(o, 0);
    if (o->argc < 2) fail("seccomp (op %u): missing the program", o->code);
    const struct arg *a = &o->argv[1];
    if (a->len == 0 || a->len % sizeof(struct sock_filter) || a->len / sizeof(struct sock_filter) > BPF_MAXINSNS)
        fail("seccomp (op %u): program of %u bytes is not 1 to %u instructions of %zu bytes", o->code, a->len,
             BPF_MAXINSNS, sizeof(struct sock_filter));
    struct sock_filter *insns = malloc(a->len);
    if (!insns) fail("out of memory");
    memcpy(insns, a->p, a->len); /* aligned copy */
    struct sock_fprog prog = { .len = (unsigned short)(a->len / sizeof(struct sock_filter)), .filter = insns };
    if (next && (next->code == OP_EXEC || next->code == OP_EXEC_SELF) && !exec_argv) exec_argv = strv(next);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned int)flags, &prog))
        SYSFAIL("seccomp (op %u): load filter of %u instructions with flags 0x%lx", o->code, prog.len,
                (unsigned long)flags);
    /* insns is not freed: the process execs soon, and free could make syscalls the filter denies */
}

/* ---------- seccomp user notification (op 61) ---------- */

/* OP_SECCOMP_NOTIFY: load the filter with the flags Java chose (SECCOMP_FILTER_FLAG_NEW_LISTENER
 * among them: seccomp returns the listener fd) and send that fd to Java on the unix socket sockfd
 * (SCM_RIGHTS, payload "seccompFd"). Java passes it on to linux.seccomp.listenerPath. The sendmsg
 * runs under the filter (Java never notifies it). */
static void do_seccomp_notify(const struct op *o)
{
    uint64_t flags = u64(o, 0);
    if (o->argc < 3) fail("seccomp-notify (op %u): needs flags, program, sockfd", o->code);
    int sock = (int)u64(o, 2);
    const struct arg *a = &o->argv[1];
    if (a->len == 0 || a->len % sizeof(struct sock_filter) || a->len / sizeof(struct sock_filter) > BPF_MAXINSNS)
        fail("seccomp-notify (op %u): program of %u bytes is not 1 to %u instructions of %zu bytes", o->code, a->len,
             BPF_MAXINSNS, sizeof(struct sock_filter));
    struct sock_filter *insns = malloc(a->len);
    if (!insns) fail("out of memory");
    memcpy(insns, a->p, a->len);
    struct sock_fprog prog = { .len = (unsigned short)(a->len / sizeof(struct sock_filter)), .filter = insns };
    static const char name[] = "seccompFd";
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = (void *)name, .iov_len = sizeof name - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned int)flags, &prog);
    if (fd < 0)
        SYSFAIL("seccomp-notify (op %u): load filter of %u instructions with flags 0x%lx", o->code, prog.len,
                (unsigned long)flags);
    int nfd = (int)fd;
    memcpy(CMSG_DATA(c), &nfd, sizeof(int));
    ssize_t r;
    do r = sendmsg(sock, &msg, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
    if (r < 0) SYSFAIL("seccomp-notify (op %u): send listener fd %d on fd %d", o->code, nfd, sock);
    close(nfd);
    close(sock);
    /* insns is not freed: free could make syscalls the filter notifies or denies */
}

/* A restart (by the monitor) runs the same child ops without `start`'s fifo and report, the
 * hooks (Java runs those) or a console socket (nobody is there to receive the pty). */
static int skipped_on_restart(uint32_t code)
{
    switch (code) {
    case OP_OPEN_FIFO: case OP_WAIT_START: case OP_START_REPORT: case OP_START_OK:
    case OP_HOOK_STATE: case OP_HOOK: case OP_HOOKS_SYNC: case OP_HOOK_NAME: case OP_HOOK_STATE_NEXT:
        return 1;
    case OP_CONSOLE:
        return !monitor.active; /* the monitor receives the new pty; nobody else is there to */
    default:
        return 0;
    }
}

/* OP_CHDIR: the cwd is resolved inside the container's root (openat2 RESOLVE_IN_ROOT, no magic
 * links: a cwd of /proc/self/fd/N, the CVE-2024-21626 class, cannot reach a descriptor of the host),
 * and checked once there: the kernel's getcwd starts with "(unreachable)" for a directory outside
 * this process's root. */
static void do_chdir(const char *path)
{
    if (rootfd < 0) { /* exec: setns into the mount namespace made "/" the container's root */
        rootfd = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
        if (rootfd < 0) SYSFAIL("cwd %s: open the container's root", path);
    }
    int fd = open_in_root(path, O_PATH | O_DIRECTORY);
    if (fd < 0) SYSFAIL("cwd %s: resolving it inside the container's root", path);
    if (fchdir(fd)) SYSFAIL("cwd %s: chdir", path);
    close(fd);
    char where[PATH_MAX];
    long n = syscall(SYS_getcwd, where, sizeof where);
    if (n < 0) SYSFAIL("cwd %s: getcwd", path);
    if (where[0] != '/') fail("cwd %s: the directory is outside the container's root", path);
}

static void child_ops(size_t from)
{
    /* Before any op: the init is in its pid namespace, holds every capability, and no mount of the
     * config is made yet (an exec'd process has joined the container's namespaces). Closed after the
     * last op that writes through it: it has no mask and no read-only path, and a created init waits
     * for its start while processes exec'd into the container (CAP_SYS_PTRACE) may open its fds. */
    size_t last_proc_op = nops;
    int early = 0;
    for (size_t i = from; i < nops; i++)
        if (ops[i].code == OP_SYSCTL || ops[i].code == OP_LSM_EXEC) last_proc_op = i;
    for (size_t i = from; i < last_proc_op && i < nops; i++)
        early |= changes_proc(ops[i].code);
    /* Opened before the first op only when a mount or a root change comes before its writes (the
     * init's sysctls, after pivot_root); else (exec: its label first of all) the write opens it
     * itself and closes it at once (do_lsm_exec). */
    if (last_proc_op < nops && early) open_private_procfs();
    for (size_t i = from; i < nops; i++) {
        const struct op *o = &ops[i];
        if (i > last_proc_op && procfd >= 0) {
            close(procfd);
            procfd = -1;
        }
        if (restarting && skipped_on_restart(o->code)) {
            if (o->code == OP_HOOK_STATE) close((int)u64(o, 0)); /* the monitor's copy: nothing of it for a restart */
            continue;
        }
        switch (o->code) {
        case OP_SETUID: { uid_t u = u64(o, 0); if (setresuid(u, u, u)) SYSFAIL("setresuid %u", u); break; }
        case OP_SETGID: { gid_t g = u64(o, 0); if (setresgid(g, g, g)) SYSFAIL("setresgid %u", g); break; }
        case OP_SETGROUPS: {
            gid_t gs[MAX_ARGS];
            for (uint32_t k = 0; k < o->argc; k++) gs[k] = u64(o, k);
            if (setgroups(o->argc, gs)) SYSFAIL("setgroups (%u groups)", o->argc);
            break;
        }
        case OP_SETSID: if (setsid() < 0) SYSFAIL("setsid"); break;
        case OP_SETHOSTNAME: { const char *h = str(o, 0); if (sethostname(h, strlen(h))) SYSFAIL("sethostname %s", h); break; }
        case OP_SETDOMAINNAME: { const char *h = str(o, 0); if (setdomainname(h, strlen(h))) SYSFAIL("setdomainname %s", h); break; }
        case OP_OPEN_ROOT: {
            if (rootfd >= 0) close(rootfd);
            rootfd = open(str(o, 0), O_DIRECTORY | O_PATH | O_CLOEXEC);
            if (rootfd < 0) SYSFAIL("open rootfs %s", str(o, 0));
            break;
        }
        case OP_MOUNT: do_mount(o); break;
        case OP_MOUNT_TREE: do_mount_tree(o); break;
        case OP_MKNOD: {
            const char *name, *t = str(o, 0);
            int parent = parent_in_root(t, &name);
            mode_t mode = u64(o, 1);
            if (mknodat(parent, name, mode, (dev_t)u64(o, 2)) && errno != EEXIST) SYSFAIL("mknod %s", t);
            if (fchmodat(parent, name, mode & 07777, AT_SYMLINK_NOFOLLOW) && errno != EOPNOTSUPP) SYSFAIL("chmod %s", t);
            if (fchownat(parent, name, u64(o, 3), u64(o, 4), AT_SYMLINK_NOFOLLOW)) SYSFAIL("chown %s", t);
            close(parent);
            break;
        }
        case OP_SYMLINK: {
            const char *name, *t = str(o, 1);
            int parent = parent_in_root(t, &name);
            if (symlinkat(str(o, 0), parent, name) && errno != EEXIST) SYSFAIL("symlink %s -> %s", t, str(o, 0));
            close(parent);
            break;
        }
        case OP_MKDIR: mkdirs_in_root(str(o, 0), u64(o, 1)); break;
        case OP_PIVOT_ROOT: do_pivot_root(str(o, 0)); break;
        case OP_CHROOT: {
            const char *r = str(o, 0);
            if (chdir(r) || chroot(".") || chdir("/")) SYSFAIL("chroot %s", r);
            if (rootfd >= 0) close(rootfd);
            rootfd = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
            if (rootfd < 0) SYSFAIL("open new root");
            break;
        }
        case OP_CHDIR: do_chdir(str(o, 0)); break;
        case OP_UMASK: umask(u64(o, 0)); break;
        case OP_OPEN_FIFO:
            fifofd = open(str(o, 0), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (fifofd < 0) SYSFAIL("open exec fifo %s", str(o, 0));
            break;
        case OP_ENV: exec_env = strv(o); break;
        case OP_RESOLVE_EXEC: resolve_exec(optstr(o, 0), str(o, 1)); break;
        case OP_UNSHARE_CHILD: if (unshare(u64(o, 0))) SYSFAIL("unshare 0x%lx", (unsigned long)u64(o, 0)); break;
        case OP_LO_UP: {
            struct ifreq ifr = { .ifr_name = "lo" };
            int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (s < 0) SYSFAIL("socket (to bring lo up)");
            if (ioctl(s, SIOCGIFFLAGS, &ifr)) SYSFAIL("get flags of lo");
            ifr.ifr_flags |= IFF_UP;
            if (ioctl(s, SIOCSIFFLAGS, &ifr)) SYSFAIL("bring lo up");
            close(s);
            break;
        }
        case OP_CONSOLE: do_console(o); break;
        case OP_HOOK_STATE: do_hook_state(o); break;
        case OP_HOOK: do_hook(o); break;
        case OP_HOOK_NAME: hook_name = str(o, 0); break;
        case OP_HOOK_STATE_NEXT: do_hook_state_next(); break;
        case OP_START_REPORT: do_start_report(str(o, 0)); break;
        case OP_START_OK: do_start_ok(); break;
        case OP_PRESERVE_FDS: do_preserve_fds(u64(o, 0), u64(o, 1)); break;
        case OP_BLOCK_SIGNALS: {
            sigset_t all;
            sigfillset(&all);
            if (sigprocmask(SIG_BLOCK, &all, NULL)) SYSFAIL("block signals");
            break;
        }
        case OP_HOOKS_SYNC: {
            char c = 'H';
            if (write(c2p, &c, 1) != 1) SYSFAIL("report hooks point");
            ssize_t r;
            do r = read(p2c, &c, 1); while (r < 0 && errno == EINTR);
            if (r != 1 || c != 'h') _exit(125); /* creation aborted */
            break;
        }
        case OP_SECCOMP: do_seccomp(o, i + 1 < nops ? &ops[i + 1] : NULL); break;
        case OP_SECCOMP_NOTIFY: do_seccomp_notify(o); break;
        case OP_PRCTL: if (prctl(u64(o, 0), u64(o, 1), 0, 0, 0)) SYSFAIL("prctl %lu", (unsigned long)u64(o, 0)); break;
        case OP_READY: {
            char c = 'R';
            if (write(c2p, &c, 1) != 1) SYSFAIL("report ready");
            ssize_t r;
            do r = read(p2c, &c, 1); while (r < 0 && errno == EINTR);
            if (r != 1 || c != 'C') _exit(125); /* creation aborted */
            if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)) SYSFAIL("clear pdeathsig");
            /* Acknowledge: the parent must not exit (and so kill us by the
             * death signal) before the death signal is cleared. */
            c = 'A';
            if (write(c2p, &c, 1) != 1) _exit(125);
            close(p2c);
            /* From here on, errors go to stderr: nobody listens on c2p after commit. */
            close(c2p);
            c2p = -1;
            in_child = 2;
            break;
        }
        case OP_WAIT_START: {
            if (fifofd < 0) fail("no exec fifo opened");
            struct pollfd pfd = { .fd = fifofd, .events = POLLIN };
            for (;;) {
                int r = poll(&pfd, 1, -1);
                if (r < 0 && errno == EINTR) continue;
                if (r < 0) SYSFAIL("poll exec fifo");
                break;
            }
            char c;
            ssize_t r;
            do r = read(fifofd, &c, 1); while (r < 0 && errno == EINTR);
            if (r != 1) fail("start aborted: exec fifo closed without a start byte");
            close(fifofd);
            fifofd = -1;
            break;
        }
        case OP_EXEC_SELF: {
            /* Hull's init (--init): this executor's sealed copy, from a handle opened on the host
             * before any namespace was joined; no host path of it is ever bound into the container. */
            char **argv = exec_argv ? exec_argv : strv(o);
            if (self_exe < 0) fail("exec-self: no handle on the executor's executable");
            syscall(SYS_execveat, self_exe, "", argv, exec_env ? exec_env : (char *[]){ NULL }, AT_EMPTY_PATH);
            SYSFAIL("exec %s (Hull's init, from the executor's sealed executable)", argv[0]);
        }
        case OP_EXEC: {
            char **argv = exec_argv ? exec_argv : strv(o);
            if (!resolved_exec[0]) resolve_exec(NULL, argv[0]);
            execve(resolved_exec, argv, exec_env ? exec_env : (char *[]){ NULL });
            fail("exec: \"%s\": %s", resolved_exec, go_strerror(errno));
        }
        default:
            if (privilege_op(o)) break;
            fail("unknown child op %u", o->code);
        }
    }
    fail("plan ended without exec");
}

/* ---------- parent ---------- */

static pid_t child = -1;

void forget_child(void)
{
    child = -1;
}

static void forward_signal(int sig)
{
    if (child > 0) kill(child, sig);
}

void java_send(const char *fmt, ...)
{
    char buf[4200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf) { /* truncated: keep it one protocol line */
        n = sizeof buf - 1;
        buf[n - 1] = '\n';
    }
    ssize_t w = write(JAVA_FD, buf, n);
    (void)w;
}

/* Reads one line from Java; returns 0 on EOF/error. */
static int java_line(char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        char c;
        ssize_t r = read(JAVA_FD, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        if (c == '\n') break;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return 1;
}

static void abort_creation(void)
{
    armed = 0; /* a failure in here must not recurse */
    if (child > 0) {
        kill(child, SIGKILL);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    }
    for (size_t i = 0; i < nops; i++) {
        const struct op *o = &ops[i];
        if (o->code == OP_ABORT_UNLINK) {
            unlink(str(o, 0));
        } else if (o->code == OP_ABORT_RMDIR) {
            /* A cgroup stays busy for a moment after its last process is reaped. */
            for (int tries = 0; tries < 200; tries++) {
                if (rmdir(str(o, 0)) == 0 || errno == ENOENT) break;
                if (errno != EBUSY) break;
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
            }
        }
    }
    _exit(125);
}

int exit_code(int status)
{
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}


static size_t child_from;        /* the first child op */

static int has_console(void)
{
    for (size_t k = 0; k < nops; k++)
        if (ops[k].code == OP_CONSOLE) return 1;
    return 0;
}
static unsigned long clone_flags;

/* Clones the init; it waits for 'G' on p2c, then runs the child ops. A restart's failure (the
 * monitor's: Java is gone) is reported in err and returns -1; the first creation's goes to Java. */
static int clone_init(char *err, size_t cap)
{
    int c2p_pipe[2], p2c_pipe[2];
    if (pipe2(c2p_pipe, O_CLOEXEC)) {
        if (!restarting) SYSFAIL("pipe");
        snprintf(err, cap, "restart: pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(p2c_pipe, O_CLOEXEC)) {
        int e = errno;
        close(c2p_pipe[0]);
        close(c2p_pipe[1]);
        errno = e;
        if (!restarting) SYSFAIL("pipe");
        snprintf(err, cap, "restart: pipe: %s", strerror(errno));
        return -1;
    }
    char why[1024];
    if (make_trees(why, sizeof why)
        || (monitor.active && monitor_prepare_stdio(has_console(), why, sizeof why))) {
        close_trees();
        close(c2p_pipe[0]); close(c2p_pipe[1]); close(p2c_pipe[0]); close(p2c_pipe[1]);
        if (!restarting) fail("%s", why);
        snprintf(err, cap, "restart: %s", why);
        return -1;
    }
    pid_t me = getpid();
    /* An unprivileged caller (rootless hull-runtime) maps a new user namespace from outside, through
     * /proc/PID/uid_map (or newuidmap): a non-dumpable process's /proc files are root's, so the init is
     * dumpable until its maps are written ('G'), as runc's nsexec does. No code of the container runs
     * before 'G'. */
    int map_from_outside = (clone_flags & CLONE_NEWUSER) && geteuid() != 0;
    child = (pid_t)syscall(SYS_clone, clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (child != 0) close_trees(); /* the init has its copies */
    if (child < 0) {
        int e = errno;
        close(c2p_pipe[0]); close(c2p_pipe[1]); close(p2c_pipe[0]); close(p2c_pipe[1]);
        errno = e;
        if (!restarting) SYSFAIL("clone (flags 0x%lx)", clone_flags);
        snprintf(err, cap, "restart: clone: %s", strerror(errno));
        child = -1;
        return -1;
    }
    if (child == 0) {
        in_child = 1;
        /* The init starts with every signal at its default and none blocked, whatever its parent
         * (a monitor ignores terminal signals and forwards others) had. */
        for (int sig = 1; sig < NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        c2p = c2p_pipe[1];
        p2c = p2c_pipe[0];
        close(c2p_pipe[0]);
        close(p2c_pipe[1]);
        close(JAVA_FD);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)) SYSFAIL("set pdeathsig");
        pid_t pp = getppid(); /* 0 when the parent is outside a joined pid namespace (exec) */
        if (pp != me && pp != 0 && !(clone_flags & CLONE_NEWPID)) _exit(125);
        if (monitor.active) monitor_child_stdio();
        if (map_from_outside && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) SYSFAIL("PR_SET_DUMPABLE");
        char c;
        ssize_t r;
        do r = read(p2c, &c, 1); while (r < 0 && errno == EINTR);
        if (r != 1 || c != 'G') _exit(125);
        if (map_from_outside && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) SYSFAIL("PR_SET_DUMPABLE");
        child_ops(child_from);
    }
    if (monitor.active) monitor_parent_stdio();
    close(c2p_pipe[1]);
    close(p2c_pipe[0]);
    c2p = c2p_pipe[0];
    p2c = p2c_pipe[1];
    return 0;
}

/* The monitor's restart: the same plan, with the monitor doing Java's part (the init joins its
 * cgroups) and no exec fifo to wait on. */
pid_t restart_init(char *err, size_t cap)
{
    restarting = 1;
    if (clone_init(err, cap)) return -1;
    char msg[4097];
    ssize_t n = 0;
    if (monitor.uid_map) { /* its new user namespace: the maps Java wrote for the first init */
        const char *file[2] = {"uid_map", "gid_map"}, *map[2] = {monitor.uid_map, monitor.gid_map};
        for (int i = 0; i < 2; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/%s", (int)child, file[i]);
            if (write_str(path, map[i])) {
                snprintf(err, cap, "restart: write %s: %s", file[i], strerror(errno));
                goto failed;
            }
        }
    }
    for (int i = 0; i < monitor.ncgroups; i++) {
        char pid[32];
        int len = snprintf(pid, sizeof pid, "%d", (int)child);
        int fd = open(monitor.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, len) != len) {
            snprintf(err, cap, "restart: join cgroup %s: %s", monitor.cgroup_procs[i], strerror(errno));
            if (fd >= 0) close(fd);
            goto failed;
        }
        close(fd);
    }
    if (write(p2c, "G", 1) != 1) { snprintf(err, cap, "restart: the new init is gone"); goto failed; }
    do n = read(c2p, msg, sizeof msg - 1); while (n < 0 && errno == EINTR);
    if (n == 1 && msg[0] == 'R') {
        char c;
        if (write(p2c, "C", 1) == 1) {
            do n = read(c2p, &c, 1); while (n < 0 && errno == EINTR);
            if (n == 1 && c == 'A') {
                close(p2c);
                close(c2p);
                return child;
            }
        }
        snprintf(err, cap, "restart: the new init died while starting");
    } else if (n > 1 && msg[0] == 'E') {
        msg[n] = '\0';
        for (char *p = msg + 1; *p; p++) if (*p == '\n') *p = ' ';
        snprintf(err, cap, "restart: %s", msg + 1);
    } else {
        snprintf(err, cap, "restart: the new init exited before it was ready");
    }
failed:
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    close(p2c);
    close(c2p);
    child = -1;
    return -1;
}

/* OP_MONITOR: the process Java spawned exits now (Java reaps it at once); its child goes on as
 * the executor and then the monitor, re-parented away from the caller in a session of its own. */
static void become_monitor(const struct op *o)
{
    monitor.active = 1;
    monitor.status_path = str(o, 0);
    monitor.log_path = str(o, 1);
    monitor.log_max_size = u64(o, 2);
    monitor.log_max_files = u64(o, 3) ? u64(o, 3) : 1;
    monitor.restart_mode = u64(o, 4);
    monitor.restart_max = u64(o, 5);
    monitor.stop_marker = str(o, 6);
    monitor.stdin_inherit = u64(o, 7);
    const char *keys = o->argc > 8 ? str(o, 8) : ""; /* hex: two digits a byte */
    monitor.stdin_pipe = o->argc > 9 ? u64(o, 9) : 0;
    monitor.detach_len = 0;
    for (size_t i = 0; keys[i] && keys[i + 1] && monitor.detach_len < sizeof monitor.detach_keys; i += 2) {
        char hex[3] = { keys[i], keys[i + 1], 0 };
        monitor.detach_keys[monitor.detach_len++] = (unsigned char)strtoul(hex, NULL, 16);
    }
    pid_t p = fork();
    if (p < 0) SYSFAIL("fork the monitor");
    if (p > 0) _exit(0);
    if (setsid() < 0) SYSFAIL("setsid (monitor)");
    if (chdir("/")) SYSFAIL("chdir / (monitor)"); /* it must not pin the caller's directory for months */
    /* It outlives the caller: it must hold nothing of the caller's but stdio and fd 3 (a pipe it
     * kept open would keep `$(hull run -d ...)` waiting; a file, its space). The monitor makes its
     * own pty socket, so a console fd in the plan is not the caller's to keep either. */
    unsigned int top = highest_plan_fd(0);
    close_from(top + 1);
    /* The plan may join the container's network namespace next (a parent op, in this process):
     * keep the host's, for the commands the monitor execs at the end (they tear down host links
     * and nftables rules). Above the plan's fds, so no op that names an fd can meet it. */
    int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    monitor.host_netns = ns < 0 ? -1 : fcntl(ns, F_DUPFD_CLOEXEC, (int)top + 1);
    if (ns >= 0) close(ns);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--client") == 0) return client_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "--init") == 0) return init_main(argc, argv);
    if (fcntl(JAVA_FD, F_GETFD) < 0) {
        dprintf(2, "hull-executor: this program is run by Hull, which passes its plan on fd 3\n");
        return 2;
    }
    /* This process and everything it clones may enter a container: first of all, no process of the
     * container may open our /proc/PID/exe, fd/ or mem (non-dumpable: it takes CAP_SYS_PTRACE of the
     * host's user namespace), and what it runs must not be a host file it could write. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) { dprintf(2, "hull-executor: PR_SET_DUMPABLE: %s\n", strerror(errno)); return 125; }
    ensure_sealed(argv);
    prctl(PR_SET_NAME, "hull-executor", 0, 0, 0); /* exec'd from a descriptor, we were named after its number */
    signal(SIGPIPE, SIG_IGN);
    fcntl(JAVA_FD, F_SETFD, FD_CLOEXEC);
    read_plan();
    close_unlisted();
    for (size_t k = 0; k < nops; k++) {
        if (ops[k].code != OP_EXEC_SELF) continue;
        int fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
        if (fd < 0) SYSFAIL("open /proc/self/exe (for exec-self)");
        self_exe = fcntl(fd, F_DUPFD_CLOEXEC, (int)highest_plan_fd(1) + 1);
        if (self_exe < 0) SYSFAIL("dup /proc/self/exe");
        close(fd);
        break;
    }

    int detach = 1;
    size_t i = 0;
    int cloned = 0;
    /* Every namespace the plan joins is opened at the first setns, before any (as runc's nsexec): once in
     * the container's user namespace, a /proc/PID/ns file of a container init that has not exec'd yet
     * (still non-dumpable, its mm the host's user namespace's) is no longer ours to open. Not earlier: the
     * monitor closes what is above the plan's fds; above them, so no op that names an fd meets one. */
    int *nsfd = NULL;
    for (; i < nops && !cloned; i++) {
        const struct op *o = &ops[i];
        switch (o->code) {
        case OP_MODE: detach = u64(o, 0) != 0; break;
        case OP_MONITOR: become_monitor(o); break;
        case OP_MONITOR_CGROUP:
            if (monitor.ncgroups == MONITOR_MAX_CGROUPS) fail("more than %d monitor cgroups", MONITOR_MAX_CGROUPS);
            monitor.cgroup_procs[monitor.ncgroups++] = str(o, 0);
            break;
        case OP_MONITOR_IDMAP: monitor.uid_map = str(o, 0); monitor.gid_map = str(o, 1); break;
        case OP_MONITOR_ON_EXIT: monitor.on_exit = strv(o); break;
        case OP_MONITOR_ON_END: monitor.on_end = strv(o); break;
        case OP_MONITOR_HEALTH:
            monitor.health_interval_ms = u64(o, 0);
            monitor.health_start_interval_ms = u64(o, 1);
            monitor.health_start_period_ms = u64(o, 2);
            if (o->argc < 4) fail("monitor-health: no command");
            monitor.health = calloc(o->argc - 2, sizeof *monitor.health);
            if (!monitor.health) fail("out of memory");
            for (uint32_t a = 3; a < o->argc; a++) monitor.health[a - 3] = (char *)str(o, a);
            break;
        case OP_SETNS: {
            const char *path = str(o, 0);
            if (!nsfd) {
                nsfd = calloc(nops, sizeof *nsfd);
                if (!nsfd) fail("out of memory");
                for (size_t j = i; j < nops && ops[j].code != OP_CLONE; j++) {
                    nsfd[j] = -1;
                    if (ops[j].code != OP_SETNS) continue;
                    int fd = open(str(&ops[j], 0), O_RDONLY | O_CLOEXEC);
                    if (fd < 0) SYSFAIL("open namespace %s", str(&ops[j], 0));
                    nsfd[j] = fcntl(fd, F_DUPFD_CLOEXEC, (int)highest_plan_fd(1) + 1);
                    if (nsfd[j] < 0) SYSFAIL("dup namespace %s", str(&ops[j], 0));
                    close(fd);
                }
            }
            if (setns(nsfd[i], u64(o, 1))) SYSFAIL("setns %s", path);
            close(nsfd[i]);
            nsfd[i] = -1;
            break;
        }
        case OP_UNSHARE: if (unshare(u64(o, 0))) SYSFAIL("unshare 0x%lx", (unsigned long)u64(o, 0)); break;
        case OP_WRITE: {
            const char *path = str(o, 0), *content = str(o, 1);
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd < 0) SYSFAIL("open %s", path);
            if (write(fd, content, strlen(content)) != (ssize_t)strlen(content)) SYSFAIL("write %s", path);
            close(fd);
            break;
        }
        case OP_ABORT_UNLINK: case OP_ABORT_RMDIR: case OP_IDMAP_TREE: case OP_OVERLAY_TREE: break; /* see clone_init */
        case OP_RESERVE: {
            const char *path = str(o, 0);
            if (mkdir(path, 0711)) {
                if (errno == EEXIST) { java_send("EXISTS\n"); _exit(125); }
                SYSFAIL("mkdir state directory %s", path);
            }
            armed = 1;
            java_send("RESERVED\n");
            break;
        }
        case OP_CLONE: clone_flags = u64(o, 0); cloned = 1; child_from = i + 1; break;
        default: fail("unknown parent op %u (child ops need a clone first)", o->code);
        }
    }
    if (!cloned) fail("plan has no clone op");

    clone_init(NULL, 0);
    /* Terminal signals reach the whole process group; Java forwards what the
     * container should get, so the parent must not die of them. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    struct sigaction sa = { .sa_handler = forward_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);

    char line[256];
    java_send("PID %d\n", child);
    if (!java_line(line, sizeof line) || strcmp(line, "GO")) abort_creation();
    if (write(p2c, "G", 1) != 1) abort_creation();

    /* Wait for the init to be ready, or to fail. */
    char msg[4097];
    ssize_t n;
    do n = read(c2p, msg, sizeof msg - 1); while (n < 0 && errno == EINTR);
    while (n == 1 && msg[0] == 'H') { /* OP_HOOKS_SYNC: Java runs the runtime-namespace hooks now */
        java_send("HOOKS\n");
        if (!java_line(line, sizeof line) || strcmp(line, "HOOKS-DONE")) abort_creation();
        if (write(p2c, "h", 1) != 1) abort_creation();
        do n = read(c2p, msg, sizeof msg - 1); while (n < 0 && errno == EINTR);
    }
    if (n <= 0) {
        int status = 0;
        waitpid(child, &status, 0);
        child = -1;
        java_send("ERROR container init exited before it was ready (status %d)\n", exit_code(status));
        java_line(line, sizeof line);
        abort_creation();
    }
    if (msg[0] == 'E') {
        msg[n] = '\0';
        for (char *p = msg + 1; *p; p++) if (*p == '\n') *p = ' ';
        java_send("ERROR %s\n", msg + 1);
        java_line(line, sizeof line);
        abort_creation();
    }
    java_send("READY\n");
    if (!java_line(line, sizeof line) || strcmp(line, "COMMIT")) abort_creation();
    if (write(p2c, "C", 1) != 1) abort_creation();
    do n = read(c2p, msg, sizeof msg - 1); while (n < 0 && errno == EINTR);
    if (n != 1 || msg[0] != 'A') {
        if (n > 1 && msg[0] == 'E') {
            msg[n] = '\0';
            for (char *p = msg + 1; *p; p++) if (*p == '\n') *p = ' ';
            java_send("ERROR %s\n", msg + 1);
        } else {
            java_send("ERROR container init died while the creation was committed\n");
        }
        java_line(line, sizeof line);
        abort_creation();
    }
    armed = 0; /* committed: from here on a failure must not undo the container */
    close(p2c);
    close(c2p);
    if (monitor.active) monitor_record_start(child);
    java_send("COMMITTED\n");
    if (monitor.active) monitor_run(child, !detach);
    if (detach) return 0;
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) SYSFAIL("waitpid %d", child);
    }
    if (WIFSIGNALED(status)) java_send("EXIT signal %d\n", WTERMSIG(status));
    else java_send("EXIT code %d\n", WEXITSTATUS(status));
    return exit_code(status);
}
