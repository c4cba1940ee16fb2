package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Connecting to a unix socket by path and sending a descriptor over it (SCM_RIGHTS): what the
 * console-socket protocol of runc needs; plus terminal ioctls for the pty master.
 */
public final class FdPassing {
    private static final int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_NOSIGNAL = 0x4000;
    public static final long TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414;

    private static final MemorySegment CONNECT = symbol("connect");
    private static final MemorySegment SENDMSG = symbol("sendmsg");
    private static final MemorySegment IOCTL = symbol("ioctl");

    private FdPassing() {}

    /** A stream socket connected to the unix socket at path. */
    public static int connect(String path) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            UnixSocket.Endpoint ep = UnixSocket.open(arena, st, "connect", path);
            for (;;) {
                if ((int) call(st, CONNECT, ep.fd(), ep.address().address(), ep.length()) == 0) {
                    return ep.fd();
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    Syscalls.close(ep.fd());
                    throw new LinuxException("connect(\"" + path + "\")", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** One sendmsg of payload with fd attached (SCM_RIGHTS). */
    public static void sendFd(int sock, int fd, byte[] payload) throws LinuxException {
        sendFds(sock, new int[] {fd}, payload);
    }

    /** One sendmsg of payload (at least one byte) with fds attached (SCM_RIGHTS, at most 253). */
    public static void sendFds(int sock, int[] fds, byte[] payload) throws LinuxException {
        if (fds.length == 0 || fds.length > 253 || payload.length == 0) {
            throw new IllegalArgumentException("sendFds: 1 to 253 fds and a payload");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment data = arena.allocate(Math.max(1, payload.length));
            MemorySegment.copy(payload, 0, data, JAVA_BYTE, 0, payload.length);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, payload.length);
            long len = 16 + 4L * fds.length; // CMSG_LEN
            long space = (len + 7) & ~7L;    // CMSG_SPACE
            MemorySegment control = arena.allocate(space, 8);
            control.set(JAVA_LONG, 0, len);
            control.set(JAVA_INT, 8, SOL_SOCKET);
            control.set(JAVA_INT, 12, SCM_RIGHTS);
            for (int i = 0; i < fds.length; i++) {
                control.set(JAVA_INT, 16 + 4L * i, fds[i]);
            }
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, space);
            for (;;) {
                long n = (long) call(st, SENDMSG, sock, msg.address(), MSG_NOSIGNAL);
                if (n >= 0) {
                    if (n < payload.length) { // a stream socket took part of it; the fds went with the first byte
                        Syscalls.writeFully(sock, java.util.Arrays.copyOfRange(payload, (int) n, payload.length));
                    }
                    return;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("sendmsg(" + sock + ", SCM_RIGHTS " + fds.length + " fds)", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The window size of a terminal: {rows, cols}. */
    public static int[] windowSize(int fd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment ws = arena.allocate(8, 2);
            if ((int) call(st, IOCTL, fd, TIOCGWINSZ, ws.address()) != 0) {
                throw new LinuxException("ioctl(" + fd + ", TIOCGWINSZ)", errno(st));
            }
            return new int[] {Short.toUnsignedInt(ws.get(JAVA_SHORT, 0)), Short.toUnsignedInt(ws.get(JAVA_SHORT, 2))};
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void setWindowSize(int fd, int rows, int cols) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment ws = arena.allocate(8, 2);
            ws.set(JAVA_SHORT, 0, (short) rows);
            ws.set(JAVA_SHORT, 2, (short) cols);
            if ((int) call(st, IOCTL, fd, TIOCSWINSZ, ws.address()) != 0) {
                throw new LinuxException("ioctl(" + fd + ", TIOCSWINSZ " + rows + "x" + cols + ")", errno(st));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
