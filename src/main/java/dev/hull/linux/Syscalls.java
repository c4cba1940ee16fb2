package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
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

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200,
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
        static final MethodHandle H = fn("mount", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
    }
    private static final class UMOUNT2 {
        static final MethodHandle H = fn("umount2", JAVA_INT, ADDRESS, JAVA_INT);
    }
    private static final class KILL {
        static final MethodHandle H = fn("kill", JAVA_INT, JAVA_INT, JAVA_INT);
    }
    private static final class FLOCK {
        static final MethodHandle H = fn("flock", JAVA_INT, JAVA_INT, JAVA_INT);
    }
    private static final class PIDFD_OPEN {
        static final MethodHandle H = fn("pidfd_open", JAVA_INT, JAVA_INT, JAVA_INT);
    }
    private static final class PIDFD_SEND_SIGNAL {
        static final MethodHandle H = fn("pidfd_send_signal", JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    }
    private static final class WAITPID {
        static final MethodHandle H = fn("waitpid", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    }
    private static final class SETNS {
        static final MethodHandle H = fn("setns", JAVA_INT, JAVA_INT, JAVA_INT);
    }
    private static final class UNSHARE {
        static final MethodHandle H = fn("unshare", JAVA_INT, JAVA_INT);
    }
    private static final class OPEN {
        static final MethodHandle H = fnVariadic("open", 2, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    }
    private static final class CLOSE {
        static final MethodHandle H = fn("close", JAVA_INT, JAVA_INT);
    }
    private static final class READ {
        static final MethodHandle H = fn("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    }
    private static final class WRITE {
        static final MethodHandle H = fn("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    }
    private static final class MKFIFO {
        static final MethodHandle H = fn("mkfifo", JAVA_INT, ADDRESS, JAVA_INT);
    }
    private static final class MKNOD {
        static final MethodHandle H = fn("mknod", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG);
    }
    private static final class SYMLINK {
        static final MethodHandle H = fn("symlink", JAVA_INT, ADDRESS, ADDRESS);
    }
    private static final class LCHOWN {
        static final MethodHandle H = fn("lchown", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    }
    private static final class FCHMODAT {
        static final MethodHandle H = fn("fchmodat", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    }
    private static final class UTIMENSAT {
        static final MethodHandle H = fn("utimensat", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
    }
    private static final class LSETXATTR {
        static final MethodHandle H = fn("lsetxattr", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
    }
    private static final class LGETXATTR {
        static final MethodHandle H = fn("lgetxattr", JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
    }
    private static final class LLISTXATTR {
        static final MethodHandle H = fn("llistxattr", JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
    }
    private static final class SOCKETPAIR {
        static final MethodHandle H = fn("socketpair", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
    }
    private static final class PRCTL {
        static final MethodHandle H = fnVariadic("prctl", 1, JAVA_INT, JAVA_INT, JAVA_LONG);
    }
    private static final class GETUID {
        static final MethodHandle H = fnNoErrno("getuid", JAVA_INT);
    }
    private static final class POSIX_SPAWN {
        static final MethodHandle H = fnNoErrno("posix_spawn", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
    }
    private static final class FA_INIT {
        static final MethodHandle H = fnNoErrno("posix_spawn_file_actions_init", JAVA_INT, ADDRESS);
    }
    /** glibc ≥ 2.34; null where libc has none (then the child's own code must close what it got). */
    private static final class FA_ADDCLOSEFROM {
        static final MethodHandle H = LINKER.defaultLookup().find("posix_spawn_file_actions_addclosefrom_np")
                .map(a -> LINKER.downcallHandle(a, java.lang.foreign.FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)))
                .orElse(null);
    }
    /** glibc ≥ 2.29. */
    private static final class FA_ADDCHDIR {
        static final MethodHandle H = fnNoErrno("posix_spawn_file_actions_addchdir_np", JAVA_INT, ADDRESS, ADDRESS);
    }
    private static final class FA_ADDDUP2 {
        static final MethodHandle H = fnNoErrno("posix_spawn_file_actions_adddup2", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    }
    private static final class FA_DESTROY {
        static final MethodHandle H = fnNoErrno("posix_spawn_file_actions_destroy", JAVA_INT, ADDRESS);
    }
    private static final class ATTR_INIT {
        static final MethodHandle H = fnNoErrno("posix_spawnattr_init", JAVA_INT, ADDRESS);
    }
    private static final class ATTR_SETFLAGS {
        static final MethodHandle H = fnNoErrno("posix_spawnattr_setflags", JAVA_INT, ADDRESS, ValueLayoutShort.SHORT);
    }
    private static final class ATTR_SETSIGMASK {
        static final MethodHandle H = fnNoErrno("posix_spawnattr_setsigmask", JAVA_INT, ADDRESS, ADDRESS);
    }
    private static final class ATTR_SETSIGDEFAULT {
        static final MethodHandle H = fnNoErrno("posix_spawnattr_setsigdefault", JAVA_INT, ADDRESS, ADDRESS);
    }
    private static final class ATTR_DESTROY {
        static final MethodHandle H = fnNoErrno("posix_spawnattr_destroy", JAVA_INT, ADDRESS);
    }
    private static final class SIGEMPTYSET {
        static final MethodHandle H = fnNoErrno("sigemptyset", JAVA_INT, ADDRESS);
    }
    private static final class SIGFILLSET {
        static final MethodHandle H = fnNoErrno("sigfillset", JAVA_INT, ADDRESS);
    }

    /** Holder for the short layout so the import list stays readable. */
    private static final class ValueLayoutShort {
        static final java.lang.foreign.ValueLayout.OfShort SHORT = java.lang.foreign.ValueLayout.JAVA_SHORT;
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
            int r = (int) MOUNT.H.invokeExact(st, cstr(arena, source), cstr(arena, target), cstr(arena, fstype), flags,
                    cstr(arena, data));
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
            int r = (int) UMOUNT2.H.invokeExact(st, cstr(arena, target), flags);
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
            int r = (int) KILL.H.invokeExact(st, pid, signal);
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
            int r = (int) FLOCK.H.invokeExact(st, fd, LOCK_EX | LOCK_NB);
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
            int r = (int) PIDFD_OPEN.H.invokeExact(st, pid, 0);
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
            int r = (int) PIDFD_SEND_SIGNAL.H.invokeExact(st, pidfd, signal, MemorySegment.NULL, 0);
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
                int r = (int) WAITPID.H.invokeExact(st, pid, status, options);
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
            int r = (int) SETNS.H.invokeExact(st, fd, nstype);
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
            int r = (int) UNSHARE.H.invokeExact(st, flags);
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
            int r = (int) PRCTL.H.invokeExact(st, option, arg2);
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
                return (int) GETUID.H.invokeExact();
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
                int r = (int) OPEN.H.invokeExact(st, cstr(arena, path), flags, mode);
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
            int r = (int) CLOSE.H.invokeExact(st, fd);
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
                long r = (long) READ.H.invokeExact(st, fd, seg, (long) len);
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
                long r = (long) WRITE.H.invokeExact(st, fd, seg.asSlice(off), (long) data.length - off);
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
            int r = (int) MKFIFO.H.invokeExact(st, cstr(arena, path), mode);
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
            int r = (int) MKNOD.H.invokeExact(st, cstr(arena, path), mode, dev);
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
            int r = (int) SYMLINK.H.invokeExact(st, cstr(arena, target), cstr(arena, linkPath));
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
            int r = (int) LCHOWN.H.invokeExact(st, cstr(arena, path), uid, gid);
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
            int r = (int) FCHMODAT.H.invokeExact(st, AT_FDCWD, cstr(arena, path), mode, AT_SYMLINK_NOFOLLOW);
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
            int r = (int) UTIMENSAT.H.invokeExact(st, AT_FDCWD, cstr(arena, path), times, AT_SYMLINK_NOFOLLOW);
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
            int r = (int) LSETXATTR.H.invokeExact(st, cstr(arena, path), cstr(arena, name), v, (long) value.length, 0);
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
                long size = (long) LGETXATTR.H.invokeExact(st, p, n, MemorySegment.NULL, 0L);
                if (size >= 0) {
                    MemorySegment buf = arena.allocate(Math.max(1, size));
                    long r = (long) LGETXATTR.H.invokeExact(st, p, n, buf, size);
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
                long size = (long) LLISTXATTR.H.invokeExact(st, p, MemorySegment.NULL, 0L);
                if (size >= 0) {
                    MemorySegment buf = arena.allocate(Math.max(1, size));
                    long r = (long) LLISTXATTR.H.invokeExact(st, p, buf, size);
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
            int r = (int) SOCKETPAIR.H.invokeExact(st, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
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
            check("posix_spawn_file_actions_init", (int) FA_INIT.H.invokeExact(fa));
            check("posix_spawnattr_init", (int) ATTR_INIT.H.invokeExact(attr));
            try {
                for (int i = 0; i < dupFrom.length; i++) {
                    check("posix_spawn_file_actions_adddup2(" + dupFrom[i] + ", " + dupTo[i] + ")",
                            (int) FA_ADDDUP2.H.invokeExact(fa, dupFrom[i], dupTo[i]));
                }
                if (cwd != null) {
                    check("posix_spawn_file_actions_addchdir_np(" + q(cwd) + ")",
                            (int) FA_ADDCHDIR.H.invokeExact(fa, cstr(arena, cwd)));
                }
                int keep = 2;
                for (int t : dupTo) {
                    keep = Math.max(keep, t);
                }
                if (FA_ADDCLOSEFROM.H != null) {
                    check("posix_spawn_file_actions_addclosefrom_np(" + (keep + 1) + ")",
                            (int) FA_ADDCLOSEFROM.H.invokeExact(fa, keep + 1));
                }
                int ignored = (int) SIGEMPTYSET.H.invokeExact(sigs);
                check("posix_spawnattr_setsigmask", (int) ATTR_SETSIGMASK.H.invokeExact(attr, sigs));
                ignored = (int) SIGFILLSET.H.invokeExact(sigs);
                check("posix_spawnattr_setsigdefault", (int) ATTR_SETSIGDEFAULT.H.invokeExact(attr, sigs));
                check("posix_spawnattr_setflags", (int) ATTR_SETFLAGS.H.invokeExact(attr,
                        (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
                                | (newSession ? POSIX_SPAWN_SETSID : 0))));
                MemorySegment pid = arena.allocate(JAVA_INT);
                int r = (int) POSIX_SPAWN.H.invokeExact(pid, cstr(arena, path), fa, attr, strv(arena, argv),
                        strv(arena, envp));
                if (r != 0) {
                    throw new LinuxException("posix_spawn(" + q(path) + ")", r);
                }
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) FA_DESTROY.H.invokeExact(fa);
                ignored = (int) ATTR_DESTROY.H.invokeExact(attr);
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
