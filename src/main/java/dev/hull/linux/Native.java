package dev.hull.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * The FFM plumbing every Linux-layer class shares: libc lookups, downcall
 * handles that capture errno, and turning what a downcall throws into an
 * unchecked exception (downcalls declare Throwable).
 *
 * <p>Most calls go through {@link #call}: one downcall shape for every C function whose
 * arguments are integers or pointers (at most seven) and whose result is an integer, errno
 * captured. Each distinct shape the FFM linker links costs a cold JVM a generated stub class,
 * a dozen lambda forms and native code (~7 ms of CPU each here, none of it kept by the AOT cache),
 * so a cold {@code hull-runtime create}, which calls some 30 libc functions, links one shape
 * instead of 17 (RuntimeColdPathTest counts them).
 *
 * <p>It is sound at the ABI level (x86_64 SysV, which is all Hull supports): integer and pointer
 * arguments travel in the same registers, then on the stack, whatever their C type; a callee
 * reads the low bits of a register its prototype declares narrower and ignores registers and
 * stack slots it declares none for (the caller pops them), and an int result is the low half of
 * rax (callers cast the long back to int). The shape is declared variadic after the first
 * argument, so rax carries the count of vector registers a variadic callee (open, fcntl, ioctl,
 * prctl, syscall) expects; a non-variadic callee ignores rax. Pass pointers as
 * {@code segment.address()} (the arena must stay open across the call, as it does in a
 * try-with-resources around it) and 0 for NULL.
 *
 * <p>Public for the {@code dev.hull.linux} subpackages only (FFM stays in the Linux layer).
 */
public final class Native {
    static final Linker LINKER = Linker.nativeLinker();
    /** The layout of the segment {@link #call} captures errno in. */
    public static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    private Native() {}

    /** The shared shape: {@code long f(long, ...)} with seven integer arguments, through a function pointer. */
    private static final class ANY {
        static final MethodHandle H = LINKER.downcallHandle(FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), CAPTURE,
                Linker.Option.firstVariadicArg(1));
    }

    /** Where {@link #callNoErrno} lets errno go (written by any thread, never read). */
    private static final class DISCARDED {
        static final MemorySegment STATE = Arena.global().allocate(CALL_STATE);
    }

    /**
     * Calls the C function at fn with the given integer or pointer arguments (missing ones are
     * 0), errno captured into st; returns its result as a long (cast to int for an int result).
     */
    public static long call(MemorySegment st, MemorySegment fn, long a0, long a1, long a2, long a3, long a4,
            long a5, long a6) {
        try {
            return (long) ANY.H.invokeExact(fn, st, a0, a1, a2, a3, a4, a5, a6);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long call(MemorySegment st, MemorySegment fn) {
        return call(st, fn, 0, 0, 0, 0, 0, 0, 0);
    }

    public static long call(MemorySegment st, MemorySegment fn, long a0) {
        return call(st, fn, a0, 0, 0, 0, 0, 0, 0);
    }

    public static long call(MemorySegment st, MemorySegment fn, long a0, long a1) {
        return call(st, fn, a0, a1, 0, 0, 0, 0, 0);
    }

    public static long call(MemorySegment st, MemorySegment fn, long a0, long a1, long a2) {
        return call(st, fn, a0, a1, a2, 0, 0, 0, 0);
    }

    public static long call(MemorySegment st, MemorySegment fn, long a0, long a1, long a2, long a3) {
        return call(st, fn, a0, a1, a2, a3, 0, 0, 0);
    }

    public static long call(MemorySegment st, MemorySegment fn, long a0, long a1, long a2, long a3, long a4) {
        return call(st, fn, a0, a1, a2, a3, a4, 0, 0);
    }

    public static long call(MemorySegment st, MemorySegment fn, long a0, long a1, long a2, long a3, long a4, long a5) {
        return call(st, fn, a0, a1, a2, a3, a4, a5, 0);
    }

    /** {@link #call} for a function that reports errors by its result (posix_spawn and friends): errno is not kept. */
    static long callNoErrno(MemorySegment fn, long... args) {
        long[] a = java.util.Arrays.copyOf(args, 7);
        return call(DISCARDED.STATE, fn, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    }

    /** libc's function name (UnsatisfiedLinkError when it has none). */
    public static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    /** The errno a {@link #call} captured in callState. */
    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    static MemorySegment cstr(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s, StandardCharsets.UTF_8);
    }

    /** What a downcall threw, as an unchecked exception (errors rethrown as they are). */
    static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
