package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * File system calls relative to directory descriptors: {@code openat2} (with its RESOLVE_* scoping,
 * the way to look a path up inside a tree another party controls), {@code statx}, {@code
 * getdents64}, and the *at calls that make, inspect and remove one entry of a directory. Used where
 * paths must not be re-resolved between steps (copying files in and out of containers). Every
 * failure throws {@link LinuxException} naming the call, its arguments and errno.
 */
public final class AtFiles {
    /** openat2 resolve flags (linux/openat2.h). */
    public static final long RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04,
            RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;
    public static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200,
            AT_EMPTY_PATH = 0x1000;
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0100, O_EXCL = 0200, O_TRUNC = 01000,
            O_NONBLOCK = 04000, O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000, O_CLOEXEC = 02000000,
            O_PATH = 010000000;
    public static final int S_IFMT = 0170000, S_IFIFO = 0010000, S_IFCHR = 0020000, S_IFDIR = 0040000,
            S_IFBLK = 0060000, S_IFREG = 0100000, S_IFLNK = 0120000, S_IFSOCK = 0140000;
    private static final long SYS_OPENAT2 = 437;
    /** STATX_BASIC_STATS. */
    private static final int STATX_BASIC = 0x7ff;

    private static final class SYSCALL4 {
        static final MemorySegment F = symbol("syscall");
    }
    private static final class STATX {
        static final MemorySegment F = symbol("statx");
    }
    private static final class GETDENTS64 {
        static final MemorySegment F = symbol("getdents64");
    }
    private static final class MKDIRAT {
        static final MemorySegment F = symbol("mkdirat");
    }
    private static final class SYMLINKAT {
        static final MemorySegment F = symbol("symlinkat");
    }
    private static final class READLINKAT {
        static final MemorySegment F = symbol("readlinkat");
    }
    private static final class UNLINKAT {
        static final MemorySegment F = symbol("unlinkat");
    }
    private static final class LINKAT {
        static final MemorySegment F = symbol("linkat");
    }
    private static final class FCHOWNAT {
        static final MemorySegment F = symbol("fchownat");
    }
    private static final class FCHMOD {
        static final MemorySegment F = symbol("fchmod");
    }
    private static final class FCHMODAT {
        static final MemorySegment F = symbol("fchmodat");
    }
    private static final class UTIMENSAT {
        static final MemorySegment F = symbol("utimensat");
    }
    private static final class FUTIMENS {
        static final MemorySegment F = symbol("futimens");
    }
    private static final class MKNODAT {
        static final MemorySegment F = symbol("mknodat");
    }
    private static final class SENDFILE {
        static final MemorySegment F = symbol("sendfile");
    }
    private static final class READ {
        static final MemorySegment F = symbol("read");
    }
    private static final class WRITE {
        static final MemorySegment F = symbol("write");
    }
    private static final class GETEUID {
        static final MemorySegment F = symbol("geteuid");
    }
    private static final class GETEGID {
        static final MemorySegment F = symbol("getegid");
    }

    private AtFiles() {}

    private static String q(String s) {
        return s == null ? "NULL" : '"' + s + '"';
    }

    private static String fd(int fd) {
        return fd == AT_FDCWD ? "AT_FDCWD" : Integer.toString(fd);
    }

    /**
     * openat2(dirfd, path, {flags | O_CLOEXEC, mode, resolve}): a new descriptor. EINTR is retried, and
     * EAGAIN too (the kernel's answer when a rename or mount raced a RESOLVE_IN_ROOT/BENEATH lookup).
     */
    public static int openat2(int dirfd, String path, int flags, int mode, long resolve) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment how = arena.allocate(24, 8);
            how.set(JAVA_LONG, 0, (long) (flags | O_CLOEXEC) & 0xffffffffL);
            how.set(JAVA_LONG, 8, mode);
            how.set(JAVA_LONG, 16, resolve);
            MemorySegment p = cstr(arena, path);
            for (int attempt = 0; ; attempt++) {
                long r = (long) call(st, SYSCALL4.F, SYS_OPENAT2, (long) dirfd, p.address(), how.address(), 24L);
                if (r >= 0) {
                    return (int) r;
                }
                int e = errno(st);
                if (e != Errno.EINTR && !(e == Errno.EAGAIN && attempt < 100)) {
                    throw new LinuxException("openat2(" + fd(dirfd) + ", " + q(path) + ", 0" + Integer.toOctalString(flags)
                            + ", resolve 0x" + Long.toHexString(resolve) + ")", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** What statx tells of a file. */
    public record Stat(int mode, int uid, int gid, long size, long ino, long dev, long rdev, int nlink, long mtimeSec,
            int mtimeNsec) {
        public int type() {
            return mode & S_IFMT;
        }

        public int permissions() {
            return mode & 07777;
        }

        public boolean isDirectory() {
            return type() == S_IFDIR;
        }

        public boolean isRegular() {
            return type() == S_IFREG;
        }

        public boolean isSymlink() {
            return type() == S_IFLNK;
        }

        /** The same file (device and inode) as other. */
        public boolean sameFile(Stat other) {
            return ino == other.ino && dev == other.dev;
        }
    }

    /** statx(dirfd, path, flags): AT_SYMLINK_NOFOLLOW for a symlink's own; AT_EMPTY_PATH with "" for dirfd itself. */
    public static Stat statx(int dirfd, String path, int flags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment b = arena.allocate(256, 8);
            int r = (int) call(st, STATX.F, dirfd, cstr(arena, path).address(), flags, STATX_BASIC, b.address());
            if (r != 0) {
                throw new LinuxException("statx(" + fd(dirfd) + ", " + q(path) + ", 0x" + Integer.toHexString(flags)
                        + ")", errno(st));
            }
            int nlink = b.get(JAVA_INT, 16);
            int uid = b.get(JAVA_INT, 20);
            int gid = b.get(JAVA_INT, 24);
            int mode = Short.toUnsignedInt(b.get(JAVA_SHORT, 28));
            long ino = b.get(JAVA_LONG, 32);
            long size = b.get(JAVA_LONG, 40);
            long mtimeSec = b.get(JAVA_LONG, 112);
            int mtimeNsec = b.get(JAVA_INT, 120);
            long rdev = Syscalls.makedev(Integer.toUnsignedLong(b.get(JAVA_INT, 128)),
                    Integer.toUnsignedLong(b.get(JAVA_INT, 132)));
            long dev = Syscalls.makedev(Integer.toUnsignedLong(b.get(JAVA_INT, 136)),
                    Integer.toUnsignedLong(b.get(JAVA_INT, 140)));
            return new Stat(mode, uid, gid, size, ino, dev, rdev, nlink, mtimeSec, mtimeNsec);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Bytes the file's blocks take on disk (statx's stx_blocks, 512-byte units): less than its size when sparse. */
    public static long allocated(String path) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment b = arena.allocate(256, 8);
            int r = (int) call(st, STATX.F, AT_FDCWD, cstr(arena, path).address(), 0, STATX_BASIC, b.address());
            if (r != 0) {
                throw new LinuxException("statx(" + q(path) + ")", errno(st));
            }
            return b.get(JAVA_LONG, 48) * 512;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** fstat through statx: the file fd refers to (an O_PATH descriptor too). */
    public static Stat fstat(int fd) throws LinuxException {
        return statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    }

    /** lstat of name in dirfd, or null when there is no such entry (ENOENT). */
    public static Stat lstatOrNull(int dirfd, String name) throws LinuxException {
        try {
            return statx(dirfd, name, AT_SYMLINK_NOFOLLOW);
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    /** The names in the directory dirfd (opened for reading, not O_PATH; read from its start), without . and .. */
    public static List<String> list(int dirfd) throws LinuxException {
        List<String> names = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(32768, 8);
            for (;;) {
                long n = (long) call(st, GETDENTS64.F, dirfd, buf.address(), buf.byteSize());
                if (n < 0) {
                    int e = errno(st);
                    if (e == Errno.EINTR) {
                        continue;
                    }
                    throw new LinuxException("getdents64(" + dirfd + ")", e);
                }
                if (n == 0) {
                    return names;
                }
                long off = 0;
                while (off < n) {
                    int reclen = Short.toUnsignedInt(buf.get(JAVA_SHORT, off + 16));
                    long nameStart = off + 19;
                    long end = nameStart;
                    while (end < off + reclen && buf.get(JAVA_BYTE, end) != 0) {
                        end++;
                    }
                    String name = new String(buf.asSlice(nameStart, end - nameStart).toArray(JAVA_BYTE),
                            StandardCharsets.UTF_8);
                    if (!name.equals(".") && !name.equals("..")) {
                        names.add(name);
                    }
                    off += reclen;
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void mkdirat(int dirfd, String name, int mode) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, MKDIRAT.F, dirfd, cstr(arena, name).address(), mode) != 0) {
                throw new LinuxException("mkdirat(" + fd(dirfd) + ", " + q(name) + ", 0" + Integer.toOctalString(mode)
                        + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** symlinkat(target, dirfd, name): target stored verbatim. */
    public static void symlinkat(String target, int dirfd, String name) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, SYMLINKAT.F, cstr(arena, target).address(), dirfd, cstr(arena, name).address()) != 0) {
                throw new LinuxException("symlinkat(" + q(target) + ", " + fd(dirfd) + ", " + q(name) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** readlinkat(dirfd, name): the symlink's target, as stored. */
    public static String readlinkat(int dirfd, String name) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(4097);
            long n = (long) call(st, READLINKAT.F, dirfd, cstr(arena, name).address(), buf.address(), 4097L);
            if (n < 0) {
                throw new LinuxException("readlinkat(" + fd(dirfd) + ", " + q(name) + ")", errno(st));
            }
            return new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** unlinkat(dirfd, name, flags): AT_REMOVEDIR for an (empty) directory. */
    public static void unlinkat(int dirfd, String name, int flags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, UNLINKAT.F, dirfd, cstr(arena, name).address(), flags) != 0) {
                throw new LinuxException("unlinkat(" + fd(dirfd) + ", " + q(name) + ", 0x" + Integer.toHexString(flags)
                        + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** linkat(olddirfd, oldname, newdirfd, newname, 0): a hard link; a symlink oldname is linked, not followed. */
    public static void linkat(int olddirfd, String oldname, int newdirfd, String newname) throws LinuxException {
        linkat(olddirfd, oldname, newdirfd, newname, 0);
    }

    /** As {@link #linkat(int, String, int, String)} with flags (AT_EMPTY_PATH: a name for olddirfd itself, an O_TMPFILE's). */
    public static void linkat(int olddirfd, String oldname, int newdirfd, String newname, int flags)
            throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, LINKAT.F, olddirfd, cstr(arena, oldname).address(), newdirfd,
                    cstr(arena, newname).address(), flags) != 0) {
                throw new LinuxException("linkat(" + fd(olddirfd) + ", " + q(oldname) + ", " + fd(newdirfd) + ", "
                        + q(newname) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** fchownat(dirfd, name, uid, gid, flags): AT_SYMLINK_NOFOLLOW for a symlink's own; "" + AT_EMPTY_PATH for dirfd. */
    public static void fchownat(int dirfd, String name, int uid, int gid, int flags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, FCHOWNAT.F, dirfd, cstr(arena, name).address(), uid, gid, flags) != 0) {
                throw new LinuxException("fchownat(" + fd(dirfd) + ", " + q(name) + ", " + uid + ", " + gid + ")",
                        errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void fchmod(int fd, int mode) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, FCHMOD.F, fd, mode) != 0) {
                throw new LinuxException("fchmod(" + fd + ", 0" + Integer.toOctalString(mode) + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW): never follows name; a symlink fails (EOPNOTSUPP). */
    public static void lchmodat(int dirfd, String name, int mode) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, FCHMODAT.F, dirfd, cstr(arena, name).address(), mode, AT_SYMLINK_NOFOLLOW) != 0) {
                throw new LinuxException("fchmodat(" + fd(dirfd) + ", " + q(name) + ", 0" + Integer.toOctalString(mode)
                        + ", AT_SYMLINK_NOFOLLOW)", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** utimensat(dirfd, name, {t, t}, flags): atime = mtime = t; name null: the file dirfd itself (futimens). */
    public static void utimensat(int dirfd, String name, long seconds, int nanos, int flags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment times = arena.allocate(JAVA_LONG, 4);
            times.setAtIndex(JAVA_LONG, 0, seconds);
            times.setAtIndex(JAVA_LONG, 1, nanos);
            times.setAtIndex(JAVA_LONG, 2, seconds);
            times.setAtIndex(JAVA_LONG, 3, nanos);
            int r = name == null ? (int) call(st, FUTIMENS.F, dirfd, times.address())
                    : (int) call(st, UTIMENSAT.F, dirfd, cstr(arena, name).address(), times.address(), flags);
            if (r != 0) {
                throw new LinuxException((name == null ? "futimens(" + dirfd : "utimensat(" + fd(dirfd) + ", " + q(name))
                        + ", " + seconds + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** mknodat(dirfd, name, mode, dev): mode carries the type (S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK). */
    public static void mknodat(int dirfd, String name, int mode, long dev) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, MKNODAT.F, dirfd, cstr(arena, name).address(), mode, dev) != 0) {
                throw new LinuxException("mknodat(" + fd(dirfd) + ", " + q(name) + ", 0" + Integer.toOctalString(mode)
                        + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Copies everything from the descriptor in (at its offset) to out: sendfile(2) in the kernel, else
     * (EINVAL, ENOSYS: a file system that cannot splice) read/write. Returns the bytes copied.
     */
    public static long copy(int in, int out) throws LinuxException {
        long total = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            for (;;) {
                long n = (long) call(st, SENDFILE.F, out, in, 0, 1L << 30);
                if (n > 0) {
                    total += n;
                    continue;
                }
                if (n == 0) {
                    return total;
                }
                int e = errno(st);
                if (e == Errno.EINTR) {
                    continue;
                }
                if ((e == Errno.EINVAL || e == Errno.ENOSYS) && total == 0) {
                    break;
                }
                throw new LinuxException("sendfile(" + out + ", " + in + ")", e);
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
        try (FdStream r = new FdStream(in, 1 << 16); FdStream w = new FdStream(out, 1 << 16)) {
            byte[] b = new byte[1 << 16];
            int n;
            while ((n = r.read(b, 0, b.length)) > 0) {
                w.write(b, 0, n);
                total += n;
            }
        }
        return total;
    }

    /**
     * Blocking read/write on a descriptor it does not own, through one native buffer (no
     * allocation per call). Not thread-safe; close frees the buffer, not the descriptor.
     */
    public static final class FdStream implements AutoCloseable {
        private final int fd;
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment buf;
        private final MemorySegment st;

        public FdStream(int fd, int bufferSize) {
            this.fd = fd;
            this.buf = arena.allocate(bufferSize, 8);
            this.st = arena.allocate(CALL_STATE);
        }

        /** Up to len bytes into b; 0 at the end of the file. */
        public int read(byte[] b, int off, int len) throws LinuxException {
            long want = Math.min(len, buf.byteSize());
            for (;;) {
                long n;
                try {
                    n = (long) call(st, READ.F, fd, buf.address(), want);
                } catch (Throwable t) {
                    throw unexpected(t);
                }
                if (n >= 0) {
                    MemorySegment.copy(buf, JAVA_BYTE, 0, b, off, (int) n);
                    return (int) n;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("read(" + fd + ")", e);
                }
            }
        }

        /** Writes b[0..len) to this stream's descriptor. */
        public void write(byte[] b, int off, int len) throws LinuxException {
            while (len > 0) {
                int chunk = (int) Math.min(len, buf.byteSize());
                MemorySegment.copy(b, off, buf, JAVA_BYTE, 0, chunk);
                long done = 0;
                while (done < chunk) {
                    long n;
                    try {
                        n = (long) call(st, WRITE.F, fd, buf.asSlice(done).address(), chunk - done);
                    } catch (Throwable t) {
                        throw unexpected(t);
                    }
                    if (n >= 0) {
                        done += n;
                        continue;
                    }
                    int e = errno(st);
                    if (e != Errno.EINTR) {
                        throw new LinuxException("write(" + fd + ", " + (chunk - done) + " bytes)", e);
                    }
                }
                off += chunk;
                len -= chunk;
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** An InputStream over fd (not closed with the stream). */
    public static java.io.InputStream inputStream(int fd) {
        FdStream s = new FdStream(fd, 1 << 17);
        return new java.io.InputStream() {
            @Override
            public int read() throws java.io.IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n <= 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws java.io.IOException {
                if (len == 0) {
                    return 0;
                }
                int n = s.read(b, off, len);
                return n == 0 ? -1 : n;
            }

            @Override
            public void close() {
                s.close();
            }
        };
    }

    /** An OutputStream over fd (not closed with the stream). */
    public static java.io.OutputStream outputStream(int fd) {
        FdStream s = new FdStream(fd, 1 << 17);
        return new java.io.OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                s.write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws java.io.IOException {
                s.write(b, off, len);
            }

            @Override
            public void close() {
                s.close();
            }
        };
    }

    public static int geteuid() {
        try {
            return (int) callNoErrno(GETEUID.F);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int getegid() {
        try {
            return (int) callNoErrno(GETEGID.F);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
