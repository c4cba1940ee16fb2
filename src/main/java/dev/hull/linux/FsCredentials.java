package dev.hull.linux;

import static dev.hull.linux.Native.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.Callable;

/**
 * Work done with another user's filesystem rights: the service (root) opening a file a caller
 * named, so that the kernel checks the caller's rights on every component of the path (modes,
 * ACLs, groups) and a file the service makes is the caller's. Only the filesystem credentials
 * change (setfsuid, setfsgid, setgroups), and only on a thread of its own made for the work and
 * ending with it: Linux keeps credentials per thread, and the raw system calls (not libc's
 * wrappers, which would change every thread of the JVM) leave the JVM's other threads as they
 * are. A filesystem uid other than 0 drops the thread's filesystem capabilities
 * (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER...), so root's overrides are gone too.
 *
 * <p>The work must not start threads (they would inherit the credentials): open, read, stat.
 */
public final class FsCredentials {
    private static final boolean ARM = System.getProperty("os.arch", "").equals("aarch64");
    private static final long SYS_SETGROUPS = ARM ? 159 : 116;
    private static final long SYS_SETFSUID = ARM ? 151 : 122;
    private static final long SYS_SETFSGID = ARM ? 152 : 123;

    private static final class SYSCALL {
        static final MemorySegment F = symbol("syscall");
    }

    private FsCredentials() {}

    /**
     * body's result, computed on a fresh thread whose filesystem uid, gid and supplementary groups
     * are these (uid and gid above 0); what body throws is thrown here.
     */
    public static <T> T as(int uid, int gid, int[] groups, Callable<T> body) throws Exception {
        if (uid <= 0 || gid < 0) {
            throw new IllegalArgumentException("FsCredentials.as: uid " + uid + ", gid " + gid);
        }
        String arch = System.getProperty("os.arch", "");
        if (!arch.equals("amd64") && !arch.equals("aarch64")) {
            throw new java.io.IOException("cannot take a caller's file rights on " + arch);
        }
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = Thread.ofPlatform().name("hull-caller-files").unstarted(() -> {
            try {
                become(uid, gid, groups);
                result[0] = body.call();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        t.start();
        Threads.joinUninterruptibly(t); // the thread holds what it opened: it must end before we go on
        if (failure[0] instanceof Exception e) {
            throw e;
        }
        if (failure[0] instanceof Error e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }

    /** This thread's filesystem credentials become these; checked (setfsuid reports no error). */
    private static void become(int uid, int gid, int[] groups) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment list = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, groups.length));
            for (int i = 0; i < groups.length; i++) {
                list.setAtIndex(ValueLayout.JAVA_INT, i, groups[i]);
            }
            if (call(st, SYSCALL.F, SYS_SETGROUPS, groups.length, list.address()) != 0) {
                throw new LinuxException("setgroups(" + groups.length + ")", errno(st));
            }
            call(st, SYSCALL.F, SYS_SETFSGID, gid);
            if ((int) call(st, SYSCALL.F, SYS_SETFSGID, gid) != gid) {
                throw new LinuxException("setfsgid(" + gid + ")", Errno.EPERM);
            }
            call(st, SYSCALL.F, SYS_SETFSUID, uid);
            if ((int) call(st, SYSCALL.F, SYS_SETFSUID, uid) != uid) { // the second call answers the current one
                throw new LinuxException("setfsuid(" + uid + ")", Errno.EPERM);
            }
        }
    }
}
