package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** ioctl(2) with a pointer or an integer argument; a failure throws {@link LinuxException} naming what. */
final class Ioctl {
    private static final class PTR {
        static final MethodHandle H = LINKER.downcallHandle(symbol("ioctl"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), CAPTURE, Linker.Option.firstVariadicArg(2));
    }
    private static final class LONG {
        static final MethodHandle H = LINKER.downcallHandle(symbol("ioctl"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE, Linker.Option.firstVariadicArg(2));
    }

    private Ioctl() {}

    static int call(int fd, long request, MemorySegment arg, String what) throws LinuxException {
        return checked(what, st -> (int) PTR.H.invokeExact(st, fd, request, arg));
    }

    static int call(int fd, long request, long arg, String what) throws LinuxException {
        return checked(what, st -> (int) LONG.H.invokeExact(st, fd, request, arg));
    }

    @FunctionalInterface
    private interface Downcall {
        int invoke(MemorySegment callState) throws Throwable;
    }

    private static int checked(String what, Downcall call) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int r = call.invoke(st);
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
