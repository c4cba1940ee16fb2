package dev.hull.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@link Native#call}, the one downcall shape every libc call shares: int and long results,
 * negative int arguments, pointers, errno, a variadic callee with mixed arguments, and a raw
 * syscall through libc's syscall().
 */
class NativeCallTest {

    @Test
    void anIntResultAndErrnoComeBack() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CALL_STATE);
            // close(-1): -1 as an int (the long's upper half is not the callee's), errno EBADF
            int r = (int) Native.call(st, Native.symbol("close"), -1);
            assertThat(r).isEqualTo(-1);
            assertThat(Native.errno(st)).isEqualTo(Errno.EBADF);
            // fcntl(-5, F_GETFD): a negative int argument reaches the callee as an int
            assertThat((int) Native.call(st, Native.symbol("fcntl"), -5, 1)).isEqualTo(-1);
            assertThat(Native.errno(st)).isEqualTo(Errno.EBADF);
        }
    }

    @Test
    void aVariadicCalleeGetsIntsAndPointers() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CALL_STATE);
            MemorySegment buf = arena.allocate(32);
            MemorySegment fmt = Native.cstr(arena, "%d|%s|%ld|%d");
            int n = (int) Native.call(st, Native.symbol("snprintf"), buf.address(), 32, fmt.address(), -42,
                    Native.cstr(arena, "hull").address(), 1L << 40, 7);
            assertThat(buf.getString(0, StandardCharsets.UTF_8)).isEqualTo("-42|hull|1099511627776|7");
            assertThat(n).isEqualTo("-42|hull|1099511627776|7".length());
        }
    }

    @Test
    void aLongResultAndARawSyscall() throws Exception {
        Path f = Files.createTempFile("hull-native", ".txt");
        try (Arena arena = Arena.ofConfined()) {
            Files.writeString(f, "0123456789");
            MemorySegment st = arena.allocate(Native.CALL_STATE);
            // syscall(SYS_getpid): the number first, through libc's variadic syscall()
            assertThat(Native.call(st, Native.symbol("syscall"), 39)).isEqualTo(ProcessHandle.current().pid());
            int fd = Syscalls.open(f.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                MemorySegment buf = arena.allocate(16);
                // pread(fd, buf, 16, 3): a ssize_t result, an off_t argument
                long r = Native.call(st, Native.symbol("pread"), fd, buf.address(), 16, 3);
                assertThat(r).isEqualTo(7);
                byte[] got = buf.asSlice(0, r).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                assertThat(new String(got, StandardCharsets.UTF_8)).isEqualTo("3456789");
            } finally {
                Syscalls.close(fd);
            }
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
