package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A regular file made whole through the one descriptor that created it: content (pwrite at
 * offsets, so holes stay holes), length, owner, mode, xattrs and times all go to that descriptor,
 * so the path is looked up once, by the open that creates it. Unpacking an image layer makes
 * thousands of small files; per path call (lchown, fchmodat with AT_SYMLINK_NOFOLLOW, which glibc
 * emulates with an O_PATH open, fstatat and chmod on /proc/self/fd, utimensat) each is another
 * lookup. Not thread-safe: one thread makes one file.
 */
public final class NewFile implements AutoCloseable {
    private static final int O_WRONLY = 1, O_CREAT = 0100, O_EXCL = 0200, O_NOFOLLOW = 0400000,
            O_CLOEXEC = 02000000, AT_EMPTY_PATH = 0x1000;
    private static final int SCRATCH = 64 * 1024;

    private static final class OPEN {
        static final MemorySegment F = symbol("open");
    }
    private static final class PWRITE {
        static final MemorySegment F = symbol("pwrite");
    }
    private static final class FTRUNCATE {
        static final MemorySegment F = symbol("ftruncate");
    }
    private static final class FCHOWNAT {
        static final MemorySegment F = symbol("fchownat");
    }
    private static final class FCHMOD {
        static final MemorySegment F = symbol("fchmod");
    }
    private static final class FSETXATTR {
        static final MemorySegment F = symbol("fsetxattr");
    }
    private static final class FUTIMENS {
        static final MemorySegment F = symbol("futimens");
    }
    private static final class CLOSE {
        static final MemorySegment F = symbol("close");
    }

    private final String path;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment st = arena.allocate(CALL_STATE);
    private MemorySegment scratch;
    private int fd = -1;

    private NewFile(String path) {
        this.path = path;
    }

    /**
     * Creates path, mode 0600 until {@link #chmod}: O_CREAT|O_EXCL|O_NOFOLLOW, so it fails (EEXIST)
     * when anything is there, a symlink included, and never writes through one.
     */
    public static NewFile create(String path) throws LinuxException {
        NewFile f = new NewFile(path);
        try (Arena a = Arena.ofConfined()) {
            for (;;) {
                int r = (int) call(f.st, OPEN.F, cstr(a, path).address(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                        | O_CLOEXEC, 0600);
                if (r >= 0) {
                    f.fd = r;
                    return f;
                }
                int e = errno(f.st);
                if (e != Errno.EINTR) {
                    f.close();
                    throw new LinuxException("open(" + path + ", O_CREAT|O_EXCL|O_NOFOLLOW)", e);
                }
            }
        }
    }

    /** Writes b[off, off+len) at position pos; short writes and EINTR retried. */
    public void pwrite(byte[] b, int off, int len, long pos) throws LinuxException {
        while (len > 0) {
            int chunk = Math.min(len, SCRATCH);
            if (scratch == null || scratch.byteSize() < chunk) {
                scratch = arena.allocate(len <= SCRATCH ? len : SCRATCH, 8);
            }
            MemorySegment.copy(b, off, scratch, JAVA_BYTE, 0, chunk);
            long done = 0;
            while (done < chunk) {
                long n = call(st, PWRITE.F, fd, scratch.address() + done, chunk - done, pos + done);
                if (n < 0) {
                    int e = errno(st);
                    if (e == Errno.EINTR) {
                        continue;
                    }
                    throw new LinuxException("pwrite(" + path + ", " + (chunk - done) + " bytes at " + (pos + done) + ")", e);
                }
                done += n;
            }
            off += chunk;
            len -= chunk;
            pos += chunk;
        }
    }

    /** ftruncate: the file's length (a hole at the end). */
    public void truncate(long length) throws LinuxException {
        check((int) call(st, FTRUNCATE.F, fd, length), "ftruncate(" + path + ", " + length + ")");
    }

    /** fchown (clears setuid/setgid and file capabilities: chown first, then mode and xattrs). */
    public void chown(int uid, int gid) throws LinuxException {
        try (Arena a = Arena.ofConfined()) {
            check((int) call(st, FCHOWNAT.F, fd, a.allocateFrom("").address(), uid, gid, AT_EMPTY_PATH),
                    "fchown(" + path + ", " + uid + ", " + gid + ")");
        }
    }

    public void chmod(int mode) throws LinuxException {
        check((int) call(st, FCHMOD.F, fd, mode), "fchmod(" + path + ", 0" + Integer.toOctalString(mode) + ")");
    }

    /** fsetxattr(fd, name, value, 0). */
    public void setxattr(String name, byte[] value) throws LinuxException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
            check((int) call(st, FSETXATTR.F, fd, cstr(a, name).address(), v.address(), value.length, 0),
                    "fsetxattr(" + path + ", " + name + ", " + value.length + " bytes)");
        }
    }

    /** futimens: atime = mtime = the given time. */
    public void setTimes(long seconds, int nanos) throws LinuxException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment times = a.allocate(JAVA_LONG, 4);
            times.setAtIndex(JAVA_LONG, 0, seconds);
            times.setAtIndex(JAVA_LONG, 1, nanos);
            times.setAtIndex(JAVA_LONG, 2, seconds);
            times.setAtIndex(JAVA_LONG, 3, nanos);
            check((int) call(st, FUTIMENS.F, fd, times.address()), "futimens(" + path + ", " + seconds + ")");
        }
    }

    private void check(int r, String what) throws LinuxException {
        if (r != 0) {
            throw new LinuxException(what, errno(st));
        }
    }

    /** Closes the descriptor (the file stays); no sync. */
    @Override
    public void close() {
        if (fd >= 0) {
            call(st, CLOSE.F, fd);
            fd = -1;
        }
        arena.close();
    }
}
