package dev.hull.linux;

import static dev.hull.linux.Native.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** ioctl(2) with a pointer or an integer argument; a failure throws {@link LinuxException} naming what. */
final class Ioctl {
    private static final class IOCTL {
        static final MemorySegment F = symbol("ioctl");
    }

    private Ioctl() {}

    static int call(int fd, long request, MemorySegment arg, String what) throws LinuxException {
        return call(fd, request, arg.address(), what);
    }

    static int call(int fd, long request, long arg, String what) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = (int) Native.call(st, IOCTL.F, fd, request, arg);
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
}
