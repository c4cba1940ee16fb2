package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * The bpf(2) system call, through FFM: loading a program and attaching it to a cgroup. Errors are
 * {@link LinuxException}s naming the command and its arguments (and, for a load, the verifier's log).
 */
public final class Bpf {
    public static final int BPF_PROG_LOAD = 5, BPF_PROG_ATTACH = 8, BPF_PROG_DETACH = 9;
    public static final int BPF_PROG_TYPE_CGROUP_DEVICE = 15;
    public static final int BPF_CGROUP_DEVICE = 6;
    public static final int BPF_F_ALLOW_OVERRIDE = 1, BPF_F_ALLOW_MULTI = 2;
    private static final long SYS_BPF = 321; // x86_64
    private static final int ATTR_SIZE = 128;

    private static final MemorySegment SYSCALL = symbol("syscall");

    private Bpf() {}

    private static long bpf(Arena arena, MemorySegment st, int cmd, MemorySegment attr) throws Throwable {
        return call(st, SYSCALL, SYS_BPF, cmd, attr.address(), ATTR_SIZE);
    }

    /**
     * BPF_PROG_LOAD: loads a program (raw 8-byte instructions, little-endian) and returns its fd (close it once
     * attached: the attachment keeps the program alive).
     */
    public static int progLoad(int progType, byte[] insns, String license) throws LinuxException {
        if (insns.length % 8 != 0 || insns.length == 0) {
            throw new IllegalArgumentException("BPF program length " + insns.length + " is not a multiple of 8");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment code = arena.allocate(insns.length, 8);
            code.copyFrom(MemorySegment.ofArray(insns));
            MemorySegment lic = arena.allocateFrom(license, StandardCharsets.UTF_8);
            int logSize = 64 * 1024;
            MemorySegment log = arena.allocate(logSize);
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, progType);
            attr.set(JAVA_INT, 4, insns.length / 8);
            attr.set(JAVA_LONG, 8, code.address());
            attr.set(JAVA_LONG, 16, lic.address());
            attr.set(JAVA_INT, 24, 1); // log_level
            attr.set(JAVA_INT, 28, logSize);
            attr.set(JAVA_LONG, 32, log.address());
            long r = bpf(arena, st, BPF_PROG_LOAD, attr);
            if (r < 0) {
                String verifier = log.getString(0, StandardCharsets.UTF_8).strip();
                throw new LinuxException("bpf(BPF_PROG_LOAD, type " + progType + ", " + insns.length / 8
                        + " instructions)" + (verifier.isEmpty() ? "" : " [verifier: " + verifier + "]"),
                        (int) ERRNO.get(st, 0L));
            }
            return (int) r;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw t instanceof RuntimeException re ? re : new IllegalStateException(t);
        }
    }

    /** BPF_PROG_ATTACH of progFd to the cgroup open as targetFd. */
    public static void progAttach(int targetFd, int progFd, int attachType, int flags) throws LinuxException {
        attachOrDetach(BPF_PROG_ATTACH, "BPF_PROG_ATTACH", targetFd, progFd, attachType, flags);
    }

    /** BPF_PROG_DETACH of progFd from the cgroup open as targetFd. */
    public static void progDetach(int targetFd, int progFd, int attachType) throws LinuxException {
        attachOrDetach(BPF_PROG_DETACH, "BPF_PROG_DETACH", targetFd, progFd, attachType, 0);
    }

    private static void attachOrDetach(int cmd, String name, int targetFd, int progFd, int attachType, int flags)
            throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, targetFd);
            attr.set(JAVA_INT, 4, progFd);
            attr.set(JAVA_INT, 8, attachType);
            attr.set(JAVA_INT, 12, flags);
            long r = bpf(arena, st, cmd, attr);
            if (r < 0) {
                throw new LinuxException("bpf(" + name + ", target_fd " + targetFd + ", prog fd " + progFd
                        + ", attach type " + attachType + ", flags " + flags + ")", (int) ERRNO.get(st, 0L));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw t instanceof RuntimeException re ? re : new IllegalStateException(t);
        }
    }
}
