package dev.hull.runtime.executor;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The plan Java hands to the executor: an ordered list of operations. Ops
 * before {@link #clone(long)} run in the executor's parent process; ops after
 * it run in the container init. The wire format and op codes are documented
 * in docs/executor-protocol.md and mirrored in src/main/c/executor.c.
 */
public final class Plan {
    static final int MAGIC = 0x4c4c5548;
    static final int VERSION = 1;

    // Parent ops
    static final int OP_MODE = 1, OP_SETNS = 2, OP_UNSHARE = 3, OP_WRITE = 4, OP_ABORT_UNLINK = 5,
            OP_ABORT_RMDIR = 6, OP_CLONE = 7, OP_RESERVE = 8, OP_MONITOR = 9, OP_MONITOR_CGROUP = 10,
            OP_MONITOR_ON_EXIT = 11, OP_MONITOR_ON_END = 12, OP_MONITOR_HEALTH = 13, OP_IDMAP_TREE = 14,
            OP_OVERLAY_TREE = 15, OP_MONITOR_IDMAP = 16;
    // Child ops
    static final int OP_SETUID = 20, OP_SETGID = 21, OP_SETGROUPS = 22, OP_SETSID = 23, OP_SETHOSTNAME = 24,
            OP_SETDOMAINNAME = 25, OP_OPEN_ROOT = 26, OP_MOUNT = 27, OP_MKNOD = 28, OP_SYMLINK = 29,
            OP_MKDIR = 30, OP_PIVOT_ROOT = 31, OP_CHDIR = 32, OP_UMASK = 33, OP_OPEN_FIFO = 34,
            OP_RESOLVE_EXEC = 35, OP_READY = 36, OP_WAIT_START = 37, OP_EXEC = 38, OP_ENV = 39,
            OP_UNSHARE_CHILD = 40, OP_PRCTL = 41, OP_CHROOT = 43, OP_LO_UP = 42, OP_MOUNT_TREE = 44;
    // Privilege ops (capabilities, rlimits, sysctls, masked/readonly paths, ...): 70-89
    static final int OP_CAP_BOUNDING = 70, OP_CAPS = 71, OP_RLIMIT = 72, OP_IOPRIO = 73, OP_SCHED = 74,
            OP_PERSONALITY = 75, OP_SYSCTL = 76, OP_MASK_PATH = 77, OP_READONLY_PATH = 78, OP_LSM_EXEC = 79;
    // Process control (exec, terminals, hooks): codes 90-109
    static final int OP_CONSOLE = 90, OP_HOOK_STATE = 91, OP_HOOK = 92, OP_HOOKS_SYNC = 93;
    // Process control, continued: start report, hook names, preserved fds (94-109)
    static final int OP_HOOK_NAME = 94, OP_HOOK_STATE_NEXT = 95, OP_START_REPORT = 96, OP_START_OK = 97,
            OP_PRESERVE_FDS = 98, OP_BLOCK_SIGNALS = 99, OP_EXEC_SELF = 100;
    // Seccomp (ops 60-64)
    static final int OP_SECCOMP = 60;
    // Seccomp user notification (SCMP_ACT_NOTIFY, linux.seccomp.listenerPath): 61
    static final int OP_SECCOMP_NOTIFY = 61;

    /** Mount target flags. */
    public static final long T_IN_ROOT = 1, T_MKDIR = 2, T_MKFILE = 4, T_SRC_IN_ROOT = 8, T_OPTIONAL = 16,
            T_KEEP_LOCKED = 32, T_REAL_DIR = 64, T_CONTAINING = 128;

    /** One operation, kept readable for tests and --debug logs. */
    public record Op(int code, List<Object> args) {
        @Override
        public String toString() {
            return name(code) + args.stream().map(a -> a instanceof byte[] b ? "<" + b.length + " bytes>" : a).toList();
        }
    }

    private final List<Op> ops = new ArrayList<>();
    private boolean cloned;

    public List<Op> ops() {
        return List.copyOf(ops);
    }

    private Plan op(int code, Object... args) {
        boolean childOp = code >= OP_SETUID;
        if (childOp != cloned && code != OP_CLONE) {
            throw new IllegalStateException(name(code) + (childOp ? " must come after clone" : " must come before clone"));
        }
        ops.add(new Op(code, List.of(args)));
        return this;
    }

    // ---- parent ----
    public Plan mode(boolean detach) { return op(OP_MODE, detach ? 1L : 0L); }
    public Plan setns(String path, long nstype) { return op(OP_SETNS, path, nstype); }
    public Plan unshare(long flags) { return op(OP_UNSHARE, flags); }
    public Plan writeFile(String path, String content) { return op(OP_WRITE, path, content); }
    public Plan onAbortUnlink(String path) { return op(OP_ABORT_UNLINK, path); }
    public Plan onAbortRmdir(String path) { return op(OP_ABORT_RMDIR, path); }
    /**
     * Makes the container's state directory (failing with EXISTS if it is there): done by the
     * executor so that from then on it, not the JVM, is sure to undo the creation if Java dies.
     */
    public Plan reserve(String dir) { return op(OP_RESERVE, dir); }
    /**
     * The executor stays as the container's monitor (see docs/executor-protocol.md): it holds the
     * container's stdout/stderr, logs them, records the status and restarts the init per the policy.
     * restartMode: 0 no, 1 on-failure (at most restartMax restarts, 0 no limit), 2 always, 3 unless-stopped,
     * 4 on-reboot.
     */
    public Plan monitor(String statusFile, String logFile, long logMaxSize, long logMaxFiles, long restartMode,
            long restartMax, String stopMarker, boolean stdinInherit, String detachKeys, boolean stdinPipe) {
        return op(OP_MONITOR, statusFile, logFile, logMaxSize, logMaxFiles, restartMode, restartMax, stopMarker,
                stdinInherit ? 1L : 0L, java.util.HexFormat.of().formatHex(detachKeys.getBytes(
                        java.nio.charset.StandardCharsets.ISO_8859_1)), stdinPipe ? 1L : 0L);
    }
    /** A cgroup.procs file the monitor puts a restarted init into. */
    public Plan monitorCgroup(String procsFile) { return op(OP_MONITOR_CGROUP, procsFile); }
    /**
     * The uid_map and gid_map texts ("containerID hostID size" lines) of a container whose init makes a
     * user namespace: the monitor (host root) writes them for a restarted init, as Java does for the first.
     */
    public Plan monitorIdMaps(String uidMap, String gidMap) { return op(OP_MONITOR_IDMAP, uidMap, gidMap); }
    /** A command the monitor execs once the container has ended for good (--rm). */
    public Plan monitorOnExit(List<String> argv) { return op(OP_MONITOR_ON_EXIT, argv.toArray()); }
    public Plan monitorOnEnd(List<String> argv) { return op(OP_MONITOR_ON_END, argv.toArray()); }
    /**
     * A command the monitor runs while the init runs (the healthcheck): first after startInterval while
     * within startPeriod of each start, else interval; after each run ends, the same wait again.
     */
    public Plan monitorHealth(long intervalMs, long startIntervalMs, long startPeriodMs, List<String> argv) {
        List<Object> args = new ArrayList<>(List.of(intervalMs, startIntervalMs, startPeriodMs));
        args.addAll(argv);
        return op(OP_MONITOR_HEALTH, args.toArray());
    }

    private int trees;

    /**
     * A detached copy of source (with its submounts when recursive; these idmapped too when recursiveIdmap;
     * a plain copy when uidMap is "")
     * idmapped by a user namespace with these maps (uid_map/gid_map text), made by the executor before the clone; returns its number for
     * {@link #mountTree}.
     */
    public int idmapTree(String label, String source, String uidMap, String gidMap, boolean recursive,
            boolean recursiveIdmap) {
        op(OP_IDMAP_TREE, label, source, uidMap, gidMap, (recursive ? 1L : 0L) | (recursiveIdmap ? 2L : 0L));
        return trees++;
    }

    /**
     * A detached overlay whose lower layers (top first) are idmapped copies; options are fsconfig keys and
     * values ("" for a flag), upperdir and workdir among them. Returns its number for {@link #mountTree}.
     */
    public int overlayTree(String label, String uidMap, String gidMap, List<String> lowers, List<String[]> options) {
        List<Object> args = new ArrayList<>(List.of(label, uidMap, gidMap, (long) lowers.size()));
        args.addAll(lowers);
        for (String[] kv : options) {
            args.add(kv[0]);
            args.add(kv[1]);
        }
        op(OP_OVERLAY_TREE, args.toArray());
        return trees++;
    }

    public Plan clone(long flags) {
        if (cloned) {
            throw new IllegalStateException("clone twice");
        }
        op(OP_CLONE, flags);
        cloned = true;
        return this;
    }

    // ---- child ----
    public Plan setuid(long uid) { return op(OP_SETUID, uid); }
    /** Brings up lo in the init's new network namespace (as runc does). */
    public Plan loopbackUp() { return op(OP_LO_UP); }
    public Plan setgid(long gid) { return op(OP_SETGID, gid); }
    public Plan setgroups(List<Long> gids) { return op(OP_SETGROUPS, gids.toArray()); }
    public Plan setsid() { return op(OP_SETSID); }
    public Plan sethostname(String name) { return op(OP_SETHOSTNAME, name); }
    public Plan setdomainname(String name) { return op(OP_SETDOMAINNAME, name); }
    public Plan openRoot(String path) { return op(OP_OPEN_ROOT, path); }

    /** null source/fstype/data are sent as empty strings, which the executor passes as NULL. */
    public Plan mount(String source, String target, String fstype, long flags, String data, long targetFlags) {
        return op(OP_MOUNT, nz(source), target, nz(fstype), flags, nz(data), targetFlags);
    }

    /** Moves tree n (see {@link #idmapTree}) onto target; target flags as for {@link #mount} (T_IN_ROOT, T_MKDIR, T_MKFILE). */
    public Plan mountTree(int n, String target, long targetFlags) {
        return op(OP_MOUNT_TREE, (long) n, target, targetFlags);
    }

    public Plan mknod(String target, long mode, long dev, long uid, long gid) {
        return op(OP_MKNOD, target, mode, dev, uid, gid);
    }

    public Plan symlink(String linkContent, String target) { return op(OP_SYMLINK, linkContent, target); }
    public Plan mkdir(String target, long mode) { return op(OP_MKDIR, target, mode); }
    public Plan pivotRoot(String rootfs) { return op(OP_PIVOT_ROOT, rootfs); }
    /** Enter rootfs with chroot: only for containers without a mount namespace (and so without mounts). */
    public Plan chroot(String rootfs) { return op(OP_CHROOT, rootfs); }
    public Plan chdir(String path) { return op(OP_CHDIR, path); }
    public Plan umask(long mask) { return op(OP_UMASK, mask); }
    public Plan openFifo(String path) { return op(OP_OPEN_FIFO, path); }
    public Plan env(List<String> env) { return op(OP_ENV, env.toArray()); }
    public Plan resolveExec(String pathEnv, String argv0) { return op(OP_RESOLVE_EXEC, nz(pathEnv), argv0); }
    public Plan ready() { return op(OP_READY); }
    public Plan waitStart() { return op(OP_WAIT_START); }
    public Plan exec(List<String> args) { return op(OP_EXEC, args.toArray()); }
    public Plan unshareInChild(long flags) { return op(OP_UNSHARE_CHILD, flags); }
    public Plan prctl(long option, long arg) { return op(OP_PRCTL, option, arg); }
    /** Loads a seccomp filter: seccomp(SECCOMP_SET_MODE_FILTER, flags, program of 8-byte sock_filters). */
    public Plan seccomp(long flags, byte[] program) { return op(OP_SECCOMP, flags, program.clone()); }
    /** Loads a filter with SECCOMP_FILTER_FLAG_NEW_LISTENER (in flags) and sends the listener fd on sockFd (SCM_RIGHTS). */
    public Plan seccompNotify(long flags, byte[] program, int sockFd) {
        return op(OP_SECCOMP_NOTIFY, flags, program.clone(), (long) sockFd);
    }

    // ---- privilege (child ops 70-89) ----
    /** Drops every capability in {@code dropMask} from the bounding set, then sets PR_SET_KEEPCAPS (before setuid). */
    public Plan capBounding(long dropMask) { return op(OP_CAP_BOUNDING, dropMask); }
    /** capset (after setuid), clears keepcaps, then raises each ambient capability. */
    public Plan caps(long effective, long permitted, long inheritable, long ambient) {
        return op(OP_CAPS, effective, permitted, inheritable, ambient);
    }
    public Plan rlimit(long resource, long soft, long hard) { return op(OP_RLIMIT, resource, soft, hard); }
    public Plan ioprio(long value) { return op(OP_IOPRIO, value); }
    public Plan sched(long policy, long flags, long nice, long priority, long runtime, long deadline, long period) {
        return op(OP_SCHED, policy, flags, nice, priority, runtime, deadline, period);
    }
    public Plan personality(long persona) { return op(OP_PERSONALITY, persona); }
    /** Writes value to /proc/sys/{@code key} (key with slashes), resolved in the root; must be procfs. */
    public Plan sysctl(String key, String value) { return op(OP_SYSCTL, key, value); }
    /** A directory gets a read-only tmpfs, anything else /dev/null bound over it; a missing path is skipped. */
    public Plan maskPath(String path) { return op(OP_MASK_PATH, path); }
    /** Bound onto itself and remounted read-only; a missing path is skipped. */
    public Plan readonlyPath(String path) { return op(OP_READONLY_PATH, path); }
    /** Writes content to the LSM attr file (or fallback, if the first does not exist) for the next exec. */
    public Plan lsmExec(String attr, String fallback, String content) { return op(OP_LSM_EXEC, attr, nz(fallback), content); }
    // ---- process control (ops 90-109) ----
    /**
     * Opens a pty from /dev/ptmx (as the init sees it), makes its slave stdin/stdout/stderr and the
     * controlling terminal of a new session, sets its size (0x0: left alone) and sends the master
     * over the unix socket on fd {@code socketFd}.
     */
    public Plan console(int socketFd, long rows, long cols) { return console(socketFd, rows, cols, false); }
    /** As {@link #console(int, long, long)}; with {@code bindConsole} the pty is also bound on the root's /dev/console. */
    public Plan console(int socketFd, long rows, long cols, boolean bindConsole) {
        return op(OP_CONSOLE, (long) socketFd, rows, cols, bindConsole ? 1L : 0L);
    }
    /** Reads the state JSON that hooks get on stdin from fd {@code fd}, until EOF. */
    public Plan hookState(int fd) { return op(OP_HOOK_STATE, (long) fd); }
    /** Runs a hook in the init's namespaces and waits for it (killed after timeout seconds; 0: none). */
    public Plan hook(String path, long timeoutSecs, List<String> args, List<String> env) {
        List<Object> a = new ArrayList<>(List.of(path, timeoutSecs, (long) args.size()));
        a.addAll(args);
        a.addAll(env);
        return op(OP_HOOK, a.toArray());
    }
    /** The init pauses; Java is told HOOKS and runs the runtime-namespace hooks, then sends HOOKS-DONE. */
    public Plan hooksSync() { return op(OP_HOOKS_SYNC); }
    /** The next hook's failure messages name it {@code name} (e.g. hooks.startContainer[0]). */
    public Plan hookName(String name) { return op(OP_HOOK_NAME, name); }
    /** Hooks from here on get the second state document the hook-state fd carried (after a NUL). */
    public Plan hookStateNext() { return op(OP_HOOK_STATE_NEXT); }
    /** Opens the start-report fifo (read by {@code start}); after start, failures are reported there. */
    public Plan startReport(String path) { return op(OP_START_REPORT, path); }
    /** Reports success ("0") on the start-report fifo. */
    public Plan startOk() { return op(OP_START_OK); }
    /** The executor's fds from..from+count-1 become 3..3+count-1 of the process about to exec. */
    public Plan preserveFds(int from, int count) { return op(OP_PRESERVE_FDS, (long) from, (long) count); }
    /** Block every signal; the exec'd process starts with them blocked (see Annotations.EXEC_SIGNALS_BLOCKED). */
    public Plan blockSignals() { return op(OP_BLOCK_SIGNALS); }
    /**
     * Execs the executor itself — from the sealed executable it runs from, never a host path — with
     * {@code args} (Hull's tiny init: {@code hull-init --init -- CMD...}).
     */
    public Plan execSelf(List<String> args) { return op(OP_EXEC_SELF, args.toArray()); }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    /** The wire form: header (magic, version, length) then ops, all little-endian. */
    public byte[] encode() {
        ByteArrayOutputStream body = new ByteArrayOutputStream(4096);
        for (Op op : ops) {
            le32(body, op.code());
            le32(body, op.args().size());
            for (Object a : op.args()) {
                byte[] bytes;
                if (a instanceof String s) {
                    if (s.indexOf('\0') >= 0) {
                        throw new IllegalArgumentException(name(op.code()) + ": string contains NUL: " + s);
                    }
                    byte[] raw = s.getBytes(StandardCharsets.UTF_8);
                    bytes = new byte[raw.length + 1];
                    System.arraycopy(raw, 0, bytes, 0, raw.length);
                } else if (a instanceof byte[] raw) {
                    bytes = raw;
                } else if (a instanceof Long l) {
                    bytes = new byte[8];
                    for (int i = 0; i < 8; i++) {
                        bytes[i] = (byte) (l >>> (8 * i));
                    }
                } else {
                    throw new IllegalArgumentException("unsupported plan argument " + a);
                }
                le32(body, bytes.length);
                body.writeBytes(bytes);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.size() + 12);
        le32(out, MAGIC);
        le32(out, VERSION);
        le32(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void le32(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    static String name(int code) {
        return switch (code) {
            case OP_MODE -> "mode"; case OP_SETNS -> "setns"; case OP_UNSHARE -> "unshare"; case OP_WRITE -> "write";
            case OP_ABORT_UNLINK -> "abort-unlink"; case OP_ABORT_RMDIR -> "abort-rmdir"; case OP_CLONE -> "clone";
            case OP_RESERVE -> "reserve"; case OP_MONITOR -> "monitor"; case OP_MONITOR_CGROUP -> "monitor-cgroup";
            case OP_MONITOR_ON_EXIT -> "monitor-on-exit";
            case OP_MONITOR_ON_END -> "monitor-on-end";
            case OP_MONITOR_HEALTH -> "monitor-health"; case OP_IDMAP_TREE -> "idmap-tree";
            case OP_OVERLAY_TREE -> "overlay-tree"; case OP_MOUNT_TREE -> "mount-tree";
            case OP_SETUID -> "setuid"; case OP_SETGID -> "setgid"; case OP_SETGROUPS -> "setgroups";
            case OP_SETSID -> "setsid"; case OP_SETHOSTNAME -> "sethostname"; case OP_SETDOMAINNAME -> "setdomainname";
            case OP_OPEN_ROOT -> "open-root"; case OP_MOUNT -> "mount"; case OP_MKNOD -> "mknod";
            case OP_SYMLINK -> "symlink"; case OP_MKDIR -> "mkdir"; case OP_PIVOT_ROOT -> "pivot-root";
            case OP_CHDIR -> "chdir"; case OP_UMASK -> "umask"; case OP_OPEN_FIFO -> "open-fifo";
            case OP_RESOLVE_EXEC -> "resolve-exec"; case OP_READY -> "ready"; case OP_WAIT_START -> "wait-start";
            case OP_EXEC -> "exec"; case OP_ENV -> "env"; case OP_UNSHARE_CHILD -> "unshare-child";
            case OP_PRCTL -> "prctl"; case OP_CHROOT -> "chroot"; case OP_LO_UP -> "lo-up";
            case OP_CAP_BOUNDING -> "cap-bounding"; case OP_CAPS -> "caps"; case OP_RLIMIT -> "rlimit";
            case OP_IOPRIO -> "ioprio"; case OP_SCHED -> "sched"; case OP_PERSONALITY -> "personality";
            case OP_SYSCTL -> "sysctl"; case OP_MASK_PATH -> "mask-path"; case OP_READONLY_PATH -> "readonly-path";
            case OP_LSM_EXEC -> "lsm-exec";
            case OP_CONSOLE -> "console"; case OP_HOOK_STATE -> "hook-state"; case OP_HOOK -> "hook";
            case OP_HOOKS_SYNC -> "hooks-sync";
            case OP_HOOK_NAME -> "hook-name"; case OP_HOOK_STATE_NEXT -> "hook-state-next";
            case OP_START_REPORT -> "start-report"; case OP_START_OK -> "start-ok"; case OP_PRESERVE_FDS -> "preserve-fds";
            case OP_BLOCK_SIGNALS -> "block-signals"; case OP_EXEC_SELF -> "exec-self";
            case OP_SECCOMP -> "seccomp";
            case OP_SECCOMP_NOTIFY -> "seccomp-notify";
            default -> "op" + code;
        };
    }
}
