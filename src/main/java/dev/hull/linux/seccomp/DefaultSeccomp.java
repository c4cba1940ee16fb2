package dev.hull.linux.seccomp;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Hull's default seccomp profile, equivalent to Docker's default (moby profiles/seccomp/default.json)
 * on an x86_64 host: everything not listed fails with EPERM; the common syscalls are allowed; the
 * ones that need a capability are allowed only when the process has it (so a container without
 * CAP_SYS_ADMIN cannot mount, unshare or setns, and clone may not make namespaces); personality
 * only to the harmless personas; no AF_VSOCK sockets (40).
 *
 * <p>Only the rules that apply to an x86_64 host (architectures x86_64, i386, x32) are kept. Names
 * that the build's kernel headers do not know (newer syscalls) are skipped by
 * {@link SeccompCompiler}: they keep failing with EPERM.
 */
public final class DefaultSeccomp {
    private DefaultSeccomp() {}

    /** Allowed for every container. */
    static final List<String> ALLOWED = words("""
            _llseek _newselect accept accept4 access adjtimex alarm arch_prctl bind brk capget
            capset chdir chmod chown chown32 clock_adjtime clock_adjtime64 clock_getres
            clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
            clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
            epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
            epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
            faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat
            fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork
            fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate
            ftruncate64 futex futex_time64 futex_waitv futimesat get_robust_list get_thread_area
            getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid
            getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid
            getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit
            getrusage getsid getsockname getsockopt gettid gettimeofday getuid getuid32 getxattr
            inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel io_destroy
            io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit io_uring_enter
            io_uring_register io_uring_setup ioctl ioprio_get ioprio_set ipc kill
            landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
            lgetxattr link linkat listen listxattr llistxattr lremovexattr lseek lsetxattr lstat
            lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod
            mknodat mlock mlock2 mlockall mmap mmap2 modify_ldt mprotect mq_getsetattr mq_notify
            mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
            mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
            name_to_handle_at nanosleep newfstatat open openat openat2 pause pidfd_open
            pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll
            ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease
            process_vm_readv process_vm_writev pselect6 pselect6_time64 ptrace pwrite64 pwritev
            pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
            recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2
            restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
            rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
            sched_get_priority_max sched_get_priority_min sched_getaffinity sched_getattr
            sched_getparam sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
            sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield
            seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile
            sendfile64 sendmmsg sendmsg sendto set_robust_list set_thread_area set_tid_address
            setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
            setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
            setresuid32 setreuid setreuid32 setrlimit setsid setsockopt setuid setuid32 setxattr
            shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask
            sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink
            symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
            timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
            timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
            timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink
            unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid
            write writev
            """);

    /** Allowed only with the capability (moby's "includes": {"caps": [...]}). */
    record CapRule(String capability, List<String> names) {}

    static final List<CapRule> CAP_RULES = List.of(
            new CapRule("CAP_DAC_READ_SEARCH", List.of("open_by_handle_at")),
            new CapRule("CAP_SYS_ADMIN", words("""
                    bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount
                    mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname
                    sethostname setns syslog umount umount2 unshare""")),
            new CapRule("CAP_SYS_BOOT", List.of("reboot")),
            new CapRule("CAP_SYS_CHROOT", List.of("chroot")),
            new CapRule("CAP_SYS_MODULE", List.of("delete_module", "init_module", "finit_module")),
            new CapRule("CAP_SYS_PACCT", List.of("acct")),
            new CapRule("CAP_SYS_PTRACE", List.of("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                    "process_vm_writev", "ptrace")),
            new CapRule("CAP_SYS_RAWIO", List.of("iopl", "ioperm")),
            new CapRule("CAP_SYS_TIME", List.of("settimeofday", "stime", "clock_settime", "clock_settime64")),
            new CapRule("CAP_SYS_TTY_CONFIG", List.of("vhangup")),
            new CapRule("CAP_SYS_NICE", List.of("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node")),
            new CapRule("CAP_SYSLOG", List.of("syslog")),
            new CapRule("CAP_BPF", List.of("bpf")),
            new CapRule("CAP_PERFMON", List.of("perf_event_open")));

    /** Personas personality(2) may switch to: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff. */
    static final List<Long> PERSONAS = List.of(0x0L, 0x8L, 0x20000L, 0x20008L, 0xffffffffL);
    /** AF_VSOCK: the one socket family Docker's profile refuses. */
    static final long AF_VSOCK = 40;
    /** Namespace flags clone(2) may not be given without CAP_SYS_ADMIN (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET). */
    static final long CLONE_NAMESPACE_FLAGS = 0x7E020000L;
    static final long ENOSYS = 38;

    /**
     * The profile, in config.json form ({@code linux.seccomp}), for a process with these
     * capabilities (names like "CAP_SYS_ADMIN": the bounding set, as Docker uses).
     */
    public static ObjectNode profile(Collection<String> capabilities) {
        Set<String> caps = Set.copyOf(capabilities);
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode p = f.objectNode();
        p.put("defaultAction", "SCMP_ACT_ERRNO");
        p.put("defaultErrnoRet", 1);
        ArrayNode arches = p.putArray("architectures");
        arches.add("SCMP_ARCH_X86_64").add("SCMP_ARCH_X86").add("SCMP_ARCH_X32");
        ArrayNode syscalls = p.putArray("syscalls");
        entry(syscalls, ALLOWED);
        ObjectNode socket = entry(syscalls, List.of("socket"));
        arg(socket, 0, AF_VSOCK, "SCMP_CMP_NE");
        for (long persona : PERSONAS) {
            arg(entry(syscalls, List.of("personality")), 0, persona, "SCMP_CMP_EQ");
        }
        for (CapRule r : CAP_RULES) {
            if (caps.contains(r.capability())) {
                entry(syscalls, r.names());
            }
        }
        if (!caps.contains("CAP_SYS_ADMIN")) {
            ObjectNode clone = entry(syscalls, List.of("clone"));
            ObjectNode a = arg(clone, 0, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ");
            a.put("valueTwo", 0);
            // clone3 passes its flags in memory, where seccomp cannot look: make libc fall back to clone.
            ObjectNode clone3 = syscalls.addObject();
            clone3.putArray("names").add("clone3");
            clone3.put("action", "SCMP_ACT_ERRNO");
            clone3.put("errnoRet", ENOSYS);
        }
        return p;
    }

    private static ObjectNode entry(ArrayNode syscalls, List<String> names) {
        ObjectNode e = syscalls.addObject();
        ArrayNode n = e.putArray("names");
        names.forEach(n::add);
        e.put("action", "SCMP_ACT_ALLOW");
        return e;
    }

    private static ObjectNode arg(ObjectNode entry, int index, long value, String op) {
        ArrayNode args = entry.has("args") ? (ArrayNode) entry.get("args") : entry.putArray("args");
        ObjectNode a = args.addObject();
        a.put("index", index);
        a.put("value", value);
        a.put("op", op);
        return a;
    }

    private static List<String> words(String s) {
        return List.of(s.strip().split("\\s+"));
    }
}
