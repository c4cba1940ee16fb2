package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Descriptor plumbing for process control: fcntl (dup above a floor, file status flags), pipe2,
 * poll, and the termios calls that put a terminal in raw mode and back. Each handle is linked on
 * first use (one holder class per call).
 */
public final class FdControl {

    public static final int F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030, O_NONBLOCK = 04000, O_CLOEXEC = 02000000;
    public static final short POLLIN = 1, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32;
    /** sizeof(struct termios) on x86_64 glibc, with room to spare. */
    private static final int TERMIOS_SIZE = 64;
    private static final int TCSANOW = 0;

    private static final class FCNTL {
        static final MemorySegment F = symbol("fcntl");
    }
    private static final class PIPE2 {
        static final MemorySegment F = symbol("pipe2");
    }
    private static final class POLL {
        static final MemorySegment F = symbol("poll");
    }
    private static final class TCGETATTR {
        static final MemorySegment F = symbol("tcgetattr");
    }
    private static final class TCSETATTR {
        static final MemorySegment F = symbol("tcsetattr");
    }
    private static final class CFMAKERAW {
        static final MemorySegment F = symbol("cfmakeraw");
    }

    private FdControl() {}

    private static int fcntl(int fd, int cmd, int arg, String what) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) call(st, FCNTL.F, fd, cmd, arg);
            if (r < 0) {
                throw new LinuxException(what, errno(st));
            }
            return r;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** A close-on-exec duplicate of fd numbered at least min (fcntl F_DUPFD_CLOEXEC). */
    public static int dupAtLeast(int fd, int min) throws LinuxException {
        return fcntl(fd, F_DUPFD_CLOEXEC, min, "fcntl(" + fd + ", F_DUPFD_CLOEXEC, " + min + ")");
    }

    /** Clears O_NONBLOCK of fd. */
    public static void setBlocking(int fd) throws LinuxException {
        int fl = fcntl(fd, F_GETFL, 0, "fcntl(" + fd + ", F_GETFL)");
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK, "fcntl(" + fd + ", F_SETFL)");
    }

    /** A close-on-exec pipe: {read end, write end}. */
    public static int[] pipe() throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) call(st, PIPE2.F, fds.address(), O_CLOEXEC) != 0) {
                throw new LinuxException("pipe2", errno(st));
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Waits (no timeout) until one of fds is readable, hung up or in error; returns the revents of
     * each, in order. EINTR is retried.
     */
    public static short[] pollIn(int... fds) throws LinuxException {
        return pollInFor(-1, fds);
    }

    /** As {@link #pollIn}, for at most timeoutMs (-1: no limit): all revents 0 when none was ready. */
    public static short[] pollInFor(int timeoutMs, int... fds) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment p = arena.allocate(8L * fds.length, 4);
            for (int i = 0; i < fds.length; i++) {
                p.set(JAVA_INT, 8L * i, fds[i]);
                p.set(JAVA_SHORT, 8L * i + 4, POLLIN);
                p.set(JAVA_SHORT, 8L * i + 6, (short) 0);
            }
            for (;;) {
                int r = (int) call(st, POLL.F, p.address(), (long) fds.length, timeoutMs);
                if (r >= 0) {
                    break;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("poll", e);
                }
            }
            short[] out = new short[fds.length];
            for (int i = 0; i < fds.length; i++) {
                out[i] = p.get(JAVA_SHORT, 8L * i + 6);
            }
            return out;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Whether fd is a terminal (isatty: tcgetattr succeeds). */
    public static boolean isTerminal(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment t = arena.allocate(TERMIOS_SIZE, 8);
            return (int) call(st, TCGETATTR.F, fd, t.address()) == 0;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The terminal settings of fd (opaque bytes for {@link #restoreTerminal}), or null if fd is no terminal. */
    public static byte[] makeRaw(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment t = arena.allocate(TERMIOS_SIZE, 8);
            if ((int) call(st, TCGETATTR.F, fd, t.address()) != 0) {
                return null;
            }
            byte[] saved = t.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            callNoErrno(CFMAKERAW.F, t.address());
            int ignored = (int) call(st, TCSETATTR.F, fd, TCSANOW, t.address());
            return saved;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Puts back what {@link #makeRaw} saved. */
    public static void restoreTerminal(int fd, byte[] saved) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment t = arena.allocate(TERMIOS_SIZE, 8);
            MemorySegment.copy(saved, 0, t, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, saved.length);
            int ignored = (int) call(st, TCSETATTR.F, fd, TCSANOW, t.address());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
