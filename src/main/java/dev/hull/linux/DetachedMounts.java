package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Mounts that exist only as a descriptor (the new mount API: fsopen, fsconfig, fsmount): never
 * attached to any directory, invisible in every mountinfo, and gone when the descriptor is closed —
 * also when the process is killed, so nothing can leak. The descriptor is the mount's root
 * directory, usable with the *at calls ({@link AtFiles}).
 */
public final class DetachedMounts {
    // Numbered alike on every architecture (syscalls added after 5.1 share one table).
    private static final long SYS_FSOPEN = 430, SYS_FSCONFIG = 431, SYS_FSMOUNT = 432;
    private static final long FSOPEN_CLOEXEC = 1, FSMOUNT_CLOEXEC = 1;
    private static final long FSCONFIG_SET_FLAG = 0, FSCONFIG_SET_STRING = 1, FSCONFIG_CMD_CREATE = 6;

    private static final class SYSCALL5 {
        static final MemorySegment F = symbol("syscall");
    }
    private static final class SYSCALL2 {
        static final MemorySegment F = symbol("syscall");
    }
    private static final class SYSCALL3 {
        static final MemorySegment F = symbol("syscall");
    }
    private static final class READ {
        static final MemorySegment F = symbol("read");
    }

    private DetachedMounts() {}

    /**
     * A detached mount of fstype configured with options as mount(2) data takes them
     * ("key=value,flag,..."; no commas inside values). Returns its descriptor (close-on-exec).
     */
    public static int mount(String fstype, String options) throws LinuxException {
        return mount(fstype, options, 0);
    }

    /** MOUNT_ATTR_* for {@link #mount(String, String, long)}. */
    public static final long MOUNT_ATTR_RDONLY = 0x1, MOUNT_ATTR_NOSUID = 0x2, MOUNT_ATTR_NODEV = 0x4;

    /** As {@link #mount(String, String)}, with the mount's attributes (MOUNT_ATTR_*). */
    public static int mount(String fstype, String options, long attrs) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            long fsfd = (long) call(st, SYSCALL2.F, SYS_FSOPEN, cstr(arena, fstype).address(), FSOPEN_CLOEXEC);
            if (fsfd < 0) {
                throw new LinuxException("fsopen(\"" + fstype + "\")", errno(st));
            }
            try {
                for (String opt : options.split(",")) {
                    if (opt.isEmpty()) {
                        continue;
                    }
                    int eq = opt.indexOf('=');
                    String key = eq < 0 ? opt : opt.substring(0, eq);
                    long r = eq < 0
                            ? call(st, SYSCALL5.F, SYS_FSCONFIG, fsfd, FSCONFIG_SET_FLAG, cstr(arena, key).address(), 0, 0)
                            : call(st, SYSCALL5.F, SYS_FSCONFIG, fsfd, FSCONFIG_SET_STRING, cstr(arena, key).address(),
                                    cstr(arena, opt.substring(eq + 1)).address(), 0);
                    if (r < 0) {
                        int e = errno(st);
                        throw new LinuxException("fsconfig(" + fstype + ", " + key + ")" + log(arena, (int) fsfd), e);
                    }
                }
                long r = (long) call(st, SYSCALL5.F, SYS_FSCONFIG, fsfd, FSCONFIG_CMD_CREATE, 0, 0, 0L);
                if (r < 0) {
                    int e = errno(st);
                    throw new LinuxException("fsconfig(" + fstype + ", FSCONFIG_CMD_CREATE)" + log(arena, (int) fsfd), e);
                }
                long mfd = (long) call(st, SYSCALL3.F, SYS_FSMOUNT, fsfd, FSMOUNT_CLOEXEC, attrs);
                if (mfd < 0) {
                    int e = errno(st);
                    throw new LinuxException("fsmount(" + fstype + ")" + log(arena, (int) fsfd), e);
                }
                return (int) mfd;
            } finally {
                Syscalls.close((int) fsfd);
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** What the file system said in the context's log (its reason for a refusal), as " [message]". */
    private static String log(Arena arena, int fsfd) {
        StringBuilder out = new StringBuilder();
        try {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(4096);
            for (int i = 0; i < 8; i++) {
                // The log is read one message per read; with no message left, read fails (ENODATA).
                long n = (long) call(st, READ.F, fsfd, buf.address(), 4096L);
                if (n <= 0) {
                    break;
                }
                out.append(out.isEmpty() ? " [" : "; ")
                        .append(new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8).strip());
            }
        } catch (Throwable t) {
            // no log: the errno says enough
        }
        return out.isEmpty() ? "" : out.append(']').toString();
    }
}
