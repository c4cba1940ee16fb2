package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A regular file's content copied to another descriptor as cheaply as its file system allows: a
 * reflink ({@code FICLONE}: XFS, btrfs — the two files share their blocks until one is written,
 * copy-on-write, in constant time) where it can, else a sparse copy — only the file's data extents
 * ({@code lseek SEEK_DATA/SEEK_HOLE}), each with {@code copy_file_range} in the kernel, holes left
 * holes and the length set last. Also {@code syncfs}, for what a snapshot needs on disk.
 */
public final class FileClone {
    /** _IOW(0x94, 9, int). */
    private static final long FICLONE = 0x40049409L;
    private static final int SEEK_SET = 0, SEEK_DATA = 3, SEEK_HOLE = 4;

    /** How a file was copied. */
    public enum How { REFLINK, SPARSE }

    private static final class LSEEK {
        static final MemorySegment F = symbol("lseek");
    }
    private static final class COPY_FILE_RANGE {
        static final MemorySegment F = symbol("copy_file_range");
    }
    private static final class FTRUNCATE {
        static final MemorySegment F = symbol("ftruncate");
    }
    private static final class SYNCFS {
        static final MemorySegment F = symbol("syncfs");
    }

    private FileClone() {}

    /**
     * Copies all of in (a regular file) to out (an empty regular file, open for writing): a reflink
     * where the file system shares blocks between files, else a sparse copy.
     */
    public static How copy(int in, int out) throws LinuxException {
        if (reflink(in, out)) {
            return How.REFLINK;
        }
        sparse(in, out);
        return How.SPARSE;
    }

    /** FICLONE: false where the file system (or the pair: two file systems) cannot share blocks. */
    public static boolean reflink(int in, int out) throws LinuxException {
        try {
            Ioctl.call(out, FICLONE, (long) in, "ioctl(FICLONE)");
            return true;
        } catch (LinuxException e) {
            int n = e.errno();
            if (n == Errno.EOPNOTSUPP || n == Errno.EXDEV || n == Errno.EINVAL || n == Errno.ENOTTY
                    || n == Errno.EPERM) {
                return false;
            }
            throw e;
        }
    }

    /** Copies in's data extents to the same offsets of out (holes stay holes); out gets in's length. */
    public static void sparse(int in, int out) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment inOff = arena.allocate(JAVA_LONG);
            MemorySegment outOff = arena.allocate(JAVA_LONG);
            long end = seek(st, in, 0, 2); // SEEK_END: the length
            long pos = 0;
            while (pos < end) {
                long data = (long) call(st, LSEEK.F, in, pos, SEEK_DATA);
                if (data < 0) {
                    if (errno(st) == Errno.ENXIO) {
                        break; // a hole to the end
                    }
                    throw new LinuxException("lseek(SEEK_DATA)", errno(st));
                }
                long hole = seek(st, in, data, SEEK_HOLE);
                inOff.set(JAVA_LONG, 0, data);
                outOff.set(JAVA_LONG, 0, data);
                long left = hole - data;
                while (left > 0) {
                    long n = (long) call(st, COPY_FILE_RANGE.F, in, inOff.address(), out, outOff.address(), left, 0);
                    if (n < 0) {
                        if (errno(st) == Errno.EINTR) {
                            continue;
                        }
                        throw new LinuxException("copy_file_range", errno(st));
                    }
                    if (n == 0) {
                        break; // the file shrank meanwhile
                    }
                    left -= n;
                }
                pos = hole;
            }
            int r = (int) call(st, FTRUNCATE.F, out, end);
            if (r < 0) {
                throw new LinuxException("ftruncate", errno(st));
            }
            seek(st, in, 0, SEEK_SET);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static long seek(MemorySegment st, int fd, long off, int whence) throws Throwable {
        long r = (long) call(st, LSEEK.F, fd, off, whence);
        if (r < 0) {
            throw new LinuxException("lseek(" + whence + ")", errno(st));
        }
        return r;
    }

    /** syncfs(2): everything of the file system holding fd written to its device. */
    public static void syncfs(int fd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            if ((int) call(st, SYNCFS.F, fd) < 0) {
                throw new LinuxException("syncfs", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
