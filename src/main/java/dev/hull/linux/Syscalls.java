package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The system calls Hull makes from Java, through the FFM API. Every failure
 * throws {@link LinuxException} naming the call, its arguments and errno.
 *
 * <p>Calls that would change the JVM's own namespaces or credentials are
 * deliberately absent: a multithreaded JVM cannot do those safely; the
 * executor does them.
 *
 * <p>Each downcall handle lives in its own holder class, so a command links
 * only the calls it makes (linking all of them up front cost a cold start
 * about a third of its time).
 */
public final class Syscalls {

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200, O_TRUNC = 01000,
            O_NOCTTY = 0400, O_APPEND = 02000, O_NONBLOCK = 04000, O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000,
            O_CLOEXEC = 02000000, O_PATH = 010000000;
    public static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = O_CLOEXEC;
    public static final int MNT_FORCE = 1, MNT_DETACH = 2, MNT_EXPIRE = 4, UMOUNT_NOFOLLOW = 8;
    public static final int PR_SET_PDEATHSIG = 1, PR_SET_CHILD_SUBREAPER = 36;
    public static final int WNOHANG = 1;
    public static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    public static final int LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    public static final int S_IFMT = 0170000, S_IFIFO = 0010000, S_IFCHR = 0020000, S_IFDIR = 0040000,
            S_IFBLK = 0060000, S_IFREG = 0100000, S_IFLNK = 0120000;
    public static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;

    private static final class MOUNT {
        static final MemorySegment F = symbol("mount");
    }
    private static final class UMOUNT2 {
        static final MemorySegment F = symbol("umount2");
    }
    private static final class KILL {
        static final MemorySegment F = symbol("kill");
    }
    private static final class FLOCK {
        static final MemorySegment F = symbol("flock");
    }
    private static final class PIDFD_OPEN {
        static final MemorySegment F = symbol("pidfd_open");
    }
    private static final class PIDFD_SEND_SIGNAL {
        static final MemorySegment F = symbol("pidfd_send_signal");
    }
    private static final class WAITPID {
        static final MemorySegment F = symbol("waitpid");
    }
    private static final class SETNS {
        static final MemorySegment F = symbol("setns");
    }
    private static final class UNSHARE {
        static final MemorySegment F = symbol("unshare");
    }
    private static final class OPEN {
        static final MemorySegment F = symbol("open");
    }
    private static final class CLOSE {
        static final MemorySegment F = symbol("close");
    }
    private static final class READ {
        static final MemorySegment F = symbol("read");
    }
    private static final class WRITE {
        static final MemorySegment F = symbol("write");
    }
    private static final class MKFIFO {
        static final MemorySegment F = symbol("mkfifo");
    }
    private static final class MKNOD {
        static final MemorySegment F = symbol("mknod");
    }
    private static final class SYMLINK {
        static final MemorySegment F = symbol("symlink");
    }
    private static final class LCHOWN {
        static final MemorySegment F = symbol("lchown");
    }
    private static final class FCHMODAT {
        static final MemorySegment F = symbol("fchmodat");
    }
    private static final class UTIMENSAT {
        static final MemorySegment F = symbol("utimensat");
    }
    private static final class LSETXATTR {
        static final MemorySegment F = symbol("lsetxattr");
    }
    private static final class LGETXATTR {
        static final MemorySegment F = symbol("lgetxattr");
    }
    private static final class LLISTXATTR {
        static final MemorySegment F = symbol("llistxattr");
    }
    private static final class SOCKETPAIR {
        static final MemorySegment F = symbol("socketpair");
    }
    private static final class PRCTL {
        static final MemorySegment F = symbol("prctl");
    }
    private static final class GETUID {
        static final MemorySegment F = symbol("getuid");
    }
    private static final class POSIX_SPAWN {
        static final MemorySegment F = symbol("posix_spawn");
    }
    private static final class FA_INIT {
        static final MemorySegment F = symbol("posix_spawn_file_actions_init");
    }
    /** glibc ≥ 2.34; null where libc has none (then the child's own code must close what it got). */
    private static final class FA_ADDCLOSEFROM {
        static final MemorySegment F = LINKER.defaultLookup().find("posix_spawn_file_actions_addclosefrom_np")
                .orElse(null);
    }
    /** glibc ≥ 2.29. */
    private static final class FA_ADDCHDIR {
        static final MemorySegment F = symbol("posix_spawn_file_actions_addchdir_np");
    }
    private static final class FA_ADDDUP2 {
        static final MemorySegment F = symbol("posix_spawn_file_actions_adddup2");
    }
    private static final class FA_DESTROY {
        static final MemorySegment F = symbol("posix_spawn_file_actions_destroy");
    }
    private static final class ATTR_INIT {
        static final MemorySegment F = symbol("posix_spawnattr_init");
    }
    private static final class ATTR_SETFLAGS {
        static final MemorySegment F = symbol("posix_spawnattr_setflags");
    }
    private static final class ATTR_SETSIGMASK {
        static final MemorySegment F = symbol("posix_spawnattr_setsigmask");
    }
    private static final class ATTR_SETSIGDEFAULT {
        static final MemorySegment F = symbol("posix_spawnattr_setsigdefault");
    }
    private static final class ATTR_DESTROY {
        static final MemorySegment F = symbol("posix_spawnattr_destroy");
    }
    private static final class SIGEMPTYSET {
        static final MemorySegment F = symbol("sigemptyset");
    }
    private static final class SIGFILLSET {
        static final MemorySegment F = symbol("sigfillset");
    }

    private Syscalls() {}

    private static String q(String s) {
        return s == null ? "NULL" : '"' + s + '"';
    }

    // ---- mounts ----

    public static void mount(String source, String target, String fstype, long flags, String data)
            throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, MOUNT.F, cstr(arena, source).address(), cstr(arena, target).address(),
                    cstr(arena, fstype).address(), flags, cstr(arena, data).address());
            if (r != 0) {
                throw new LinuxException("mount(" + q(source) + ", " + q(target) + ", " + q(fstype) + ", 0x"
                        + Long.toHexString(flags) + ", " + q(data) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void umount2(String target, int flags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, UMOUNT2.F, cstr(arena, target).address(), flags);
            if (r != 0) {
                throw new LinuxException("umount2(" + q(target) + ", " + flags + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- processes and signals ----

    public static void kill(int pid, int signal) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, KILL.F, pid, signal);
            if (r != 0) {
                throw new LinuxException("kill(" + pid + ", " + signal + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * flock(fd, LOCK_EX | LOCK_NB): true when this open file now holds the lock, false when another
     * one does. The lock belongs to the open file description: a child that inherits fd holds it too,
     * and it goes when the last descriptor of it is closed (also by a crash).
     */
    public static boolean tryLock(int fd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, FLOCK.F, fd, LOCK_EX | LOCK_NB);
            if (r == 0) {
                return true;
            }
            int e = errno(st);
            if (e == Errno.EAGAIN) {
                return false;
            }
            throw new LinuxException("flock(" + fd + ", LOCK_EX|LOCK_NB)", e);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** A pidfd for pid, or throws (ESRCH when the process is gone). */
    public static int pidfdOpen(int pid) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, PIDFD_OPEN.F, pid, 0);
            if (r < 0) {
                throw new LinuxException("pidfd_open(" + pid + ", 0)", errno(st));
            }
            return r;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void pidfdSendSignal(int pidfd, int signal) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, PIDFD_SEND_SIGNAL.F, pidfd, signal, 0, 0);
            if (r != 0) {
                throw new LinuxException("pidfd_send_signal(" + pidfd + ", " + signal + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * waitpid(pid, &status, options). Returns the raw status, or -1 when
     * WNOHANG was given and the child has not changed state.
     */
    public static int waitpid(int pid, int options) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment status = arena.allocate(JAVA_INT);
            for (;;) {
                int r = (int) call(st, WAITPID.F, pid, status.address(), options);
                if (r > 0) {
                    return status.get(JAVA_INT, 0);
                }
                if (r == 0) {
                    return -1;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("waitpid(" + pid + ", " + options + ")", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Exit code shell-style: the code, or 128+signal. */
    public static int exitCode(int status) {
        int sig = status & 0x7f;
        if (sig == 0) {
            return (status >> 8) & 0xff;
        }
        return 128 + sig;
    }

    public static void setns(int fd, int nstype) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, SETNS.F, fd, nstype);
            if (r != 0) {
                throw new LinuxException("setns(" + fd + ", 0x" + Integer.toHexString(nstype) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** unshare(2): for namespaces that are per thread (net, uts, ipc), only the calling thread moves. */
    public static void unshare(int flags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, UNSHARE.F, flags);
            if (r != 0) {
                throw new LinuxException("unshare(0x" + Integer.toHexString(flags) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void prctl(int option, long arg2) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, PRCTL.F, option, arg2);
            if (r < 0) {
                throw new LinuxException("prctl(" + option + ", " + arg2 + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * This process's real uid, read once from {@code /proc/self/status} (libc's getuid when there is
     * no /proc): the cold {@code hull-runtime state}, {@code --version} and the service check make no
     * other native call, and the first downcall a JVM links costs it ~30 ms of the FFM linker's set-up
     * (Hull never changes its own uid: the executor does, in the container's processes).
     */
    public static int getuid() {
        return RealUid.UID;
    }

    private static final class RealUid {
        static final int UID = read();

        private static int read() {
            try {
                for (String line : java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/status")).split("\n")) {
                    if (line.startsWith("Uid:")) { // real, effective, saved, filesystem
                        String ids = line.substring(4).strip();
                        int end = 0;
                        while (end < ids.length() && Character.isDigit(ids.charAt(end))) {
                            end++;
                        }
                        return Integer.parseInt(ids.substring(0, end));
                    }
                }
            } catch (java.io.IOException | RuntimeException e) {
                // no /proc (or an unexpected format): ask libc
            }
            try {
                return (int) callNoErrno(GETUID.F);
            } catch (Throwable t) {
                throw unexpected(t);
            }
        }
    }

    // ---- files ----

    public static int open(String path, int flags, int mode) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            for (;;) {
                int r = (int) call(st, OPEN.F, cstr(arena, path).address(), flags, mode);
                if (r >= 0) {
                    return r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("open(" + q(path) + ", 0" + Integer.toOctalString(flags) + ")", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, CLOSE.F, fd);
            if (r != 0) {
                // close errors leave nothing to recover; the fd is gone either way.
                return;
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** read(2) into buf; returns bytes read, 0 at EOF. Retries EINTR. */
    public static int read(int fd, byte[] buf, int off, int len) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment seg = arena.allocate(len);
            for (;;) {
                long r = (long) call(st, READ.F, fd, seg.address(), len);
                if (r >= 0) {
                    MemorySegment.copy(seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, buf, off, (int) r);
                    return (int) r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("read(" + fd + ")", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Writes all of data; retries short writes and EINTR. */
    public static void writeFully(int fd, byte[] data) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment seg = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            long off = 0;
            while (off < data.length) {
                long r = (long) call(st, WRITE.F, fd, seg.address() + off, data.length - off);
                if (r >= 0) {
                    off += r;
                    continue;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("write(" + fd + ", " + data.length + " bytes)", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void mkfifo(String path, int mode) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, MKFIFO.F, cstr(arena, path).address(), mode);
            if (r != 0) {
                throw new LinuxException("mkfifo(" + q(path) + ", 0" + Integer.toOctalString(mode) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The dev_t of a device number, as glibc's makedev. */
    public static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    /** mknod(path, mode, dev): mode carries the file type (S_IFCHR, S_IFBLK, S_IFIFO ...). Does not follow a final symlink (fails EEXIST). */
    public static void mknod(String path, int mode, long dev) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, MKNOD.F, cstr(arena, path).address(), mode, dev);
            if (r != 0) {
                throw new LinuxException("mknod(" + q(path) + ", 0" + Integer.toOctalString(mode) + ", 0x"
                        + Long.toHexString(dev) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** symlink(target, linkPath): target is stored verbatim (no normalization, unlike {@code Path}). */
    public static void symlink(String target, String linkPath) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, SYMLINK.F, cstr(arena, target).address(), cstr(arena, linkPath).address());
            if (r != 0) {
                throw new LinuxException("symlink(" + q(target) + ", " + q(linkPath) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** lchown(path, uid, gid): a symlink itself, never what it points to. */
    public static void lchown(String path, int uid, int gid) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, LCHOWN.F, cstr(arena, path).address(), uid, gid);
            if (r != 0) {
                throw new LinuxException("lchown(" + q(path) + ", " + uid + ", " + gid + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW): mode incl. setuid, setgid and sticky; never
     * follows a final symlink (a symlink fails with EOPNOTSUPP; Linux symlinks have no mode). Unlike
     * {@code Files.setAttribute(p, "unix:mode", m, NOFOLLOW_LINKS)} it never opens the file, so FIFOs and
     * devices are safe.
     */
    public static void lchmod(String path, int mode) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, FCHMODAT.F, AT_FDCWD, cstr(arena, path).address(), mode, AT_SYMLINK_NOFOLLOW);
            if (r != 0) {
                throw new LinuxException("fchmodat(" + q(path) + ", 0" + Integer.toOctalString(mode)
                        + ", AT_SYMLINK_NOFOLLOW)", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** utimensat(AT_FDCWD, path, {t, t}, AT_SYMLINK_NOFOLLOW): atime = mtime = seconds.nanos; a symlink gets its own times. */
    public static void lutimens(String path, long seconds, int nanos) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment times = arena.allocate(JAVA_LONG, 4);
            times.setAtIndex(JAVA_LONG, 0, seconds);
            times.setAtIndex(JAVA_LONG, 1, nanos);
            times.setAtIndex(JAVA_LONG, 2, seconds);
            times.setAtIndex(JAVA_LONG, 3, nanos);
            int r = (int) call(st, UTIMENSAT.F, AT_FDCWD, cstr(arena, path).address(), times.address(),
                    AT_SYMLINK_NOFOLLOW);
            if (r != 0) {
                throw new LinuxException("utimensat(" + q(path) + ", " + seconds + "." + nanos
                        + ", AT_SYMLINK_NOFOLLOW)", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** lsetxattr(path, name, value, size, 0): on a symlink itself, never what it points to. */
    public static void lsetxattr(String path, String name, byte[] value) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment v = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, value.length);
            int r = (int) call(st, LSETXATTR.F, cstr(arena, path).address(), cstr(arena, name).address(), v.address(),
                    value.length, 0);
            if (r != 0) {
                throw new LinuxException("lsetxattr(" + q(path) + ", " + q(name) + ", " + value.length + " bytes)",
                        errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** lgetxattr(path, name): the value, or null when the file has no such attribute (ENODATA). */
    public static byte[] lgetxattr(String path, String name) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment p = cstr(arena, path), n = cstr(arena, name);
            for (;;) {
                long size = (long) call(st, LGETXATTR.F, p.address(), n.address(), 0, 0);
                if (size >= 0) {
                    MemorySegment buf = arena.allocate(Math.max(1, size));
                    long r = (long) call(st, LGETXATTR.F, p.address(), n.address(), buf.address(), size);
                    if (r >= 0) {
                        return buf.asSlice(0, r).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    }
                }
                int e = errno(st);
                if (e == Errno.ENODATA) {
                    return null;
                }
                if (e != Errno.ERANGE) { // ERANGE: the value grew between the two calls
                    throw new LinuxException("lgetxattr(" + q(path) + ", " + q(name) + ")", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** llistxattr(path): the names of the attributes of path itself (a symlink's own). */
    public static List<String> llistxattr(String path) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment p = cstr(arena, path);
            for (;;) {
                long size = (long) call(st, LLISTXATTR.F, p.address(), 0, 0);
                if (size >= 0) {
                    MemorySegment buf = arena.allocate(Math.max(1, size));
                    long r = (long) call(st, LLISTXATTR.F, p.address(), buf.address(), size);
                    if (r >= 0) {
                        List<String> names = new java.util.ArrayList<>();
                        byte[] all = buf.asSlice(0, r).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                        int start = 0;
                        for (int i = 0; i < all.length; i++) {
                            if (all[i] == 0) {
                                names.add(new String(all, start, i - start, StandardCharsets.UTF_8));
                                start = i + 1;
                            }
                        }
                        return names;
                    }
                }
                int e = errno(st);
                if (e != Errno.ERANGE) {
                    throw new LinuxException("llistxattr(" + q(path) + ")", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC): two connected fds. */
    public static int[] socketpair() throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int r = (int) call(st, SOCKETPAIR.F, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.address());
            if (r != 0) {
                throw new LinuxException("socketpair(AF_UNIX, SOCK_STREAM)", errno(st));
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * posix_spawn(path, argv, envp) with every signal reset to its default and
     * an empty signal mask (the JVM's own dispositions must not leak), and
     * {@code dup2(from[i], to[i])} for each pair; every other descriptor above 2 is closed in the
     * child before the exec (also ones someone left without close-on-exec: a caller's leaked
     * {@code exec 9</dir}, a JVM's jars), so the child gets exactly its stdio and {@code to}.
     * Returns the child's pid.
     */
    public static int spawn(String path, List<String> argv, List<String> envp, int[] dupFrom, int[] dupTo)
            throws LinuxException {
        return spawn(path, argv, envp, dupFrom, dupTo, false, null);
    }

    /**
     * {@link #spawn(String, List, List, int[], int[])}, the child in a session of its own when
     * newSession (setsid), in directory cwd when not null.
     */
    public static int spawn(String path, List<String> argv, List<String> envp, int[] dupFrom, int[] dupTo,
            boolean newSession, String cwd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fa = arena.allocate(256, 16);
            MemorySegment attr = arena.allocate(512, 16);
            MemorySegment sigs = arena.allocate(128, 16);
            check("posix_spawn_file_actions_init", (int) callNoErrno(FA_INIT.F, fa.address()));
            check("posix_spawnattr_init", (int) callNoErrno(ATTR_INIT.F, attr.address()));
            try {
                for (int i = 0; i < dupFrom.length; i++) {
                    check("posix_spawn_file_actions_adddup2(" + dupFrom[i] + ", " + dupTo[i] + ")",
                            (int) callNoErrno(FA_ADDDUP2.F, fa.address(), dupFrom[i], dupTo[i]));
                }
                if (cwd != null) {
                    check("posix_spawn_file_actions_addchdir_np(" + q(cwd) + ")",
                            (int) callNoErrno(FA_ADDCHDIR.F, fa.address(), cstr(arena, cwd).address()));
                }
                int keep = 2;
                for (int t : dupTo) {
                    keep = Math.max(keep, t);
                }
                if (FA_ADDCLOSEFROM.F != null) {
                    check("posix_spawn_file_actions_addclosefrom_np(" + (keep + 1) + ")",
                            (int) callNoErrno(FA_ADDCLOSEFROM.F, fa.address(), keep + 1));
                }
                int ignored = (int) callNoErrno(SIGEMPTYSET.F, sigs.address());
                check("posix_spawnattr_setsigmask",
                        (int) callNoErrno(ATTR_SETSIGMASK.F, attr.address(), sigs.address()));
                ignored = (int) callNoErrno(SIGFILLSET.F, sigs.address());
                check("posix_spawnattr_setsigdefault",
                        (int) callNoErrno(ATTR_SETSIGDEFAULT.F, attr.address(), sigs.address()));
                check("posix_spawnattr_setflags", (int) callNoErrno(ATTR_SETFLAGS.F, attr.address(),
                        (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
                                | (newSession ? POSIX_SPAWN_SETSID : 0))));
                MemorySegment pid = arena.allocate(JAVA_INT);
                int r = (int) callNoErrno(POSIX_SPAWN.F, pid.address(), cstr(arena, path).address(), fa.address(),
                        attr.address(), strv(arena, argv).address(), strv(arena, envp).address());
                if (r != 0) {
                    throw new LinuxException("posix_spawn(" + q(path) + ")", r);
                }
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) callNoErrno(FA_DESTROY.F, fa.address());
                ignored = (int) callNoErrno(ATTR_DESTROY.F, attr.address());
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static void check(String what, int r) throws LinuxException {
        if (r != 0) {
            throw new LinuxException(what, r);
        }
    }

    private static MemorySegment strv(Arena arena, List<String> strings) {
        MemorySegment v = arena.allocate(ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) {
            v.setAtIndex(ADDRESS, i, cstr(arena, strings.get(i)));
        }
        v.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return v;
    }
}
