package dev.hull.runtime;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Who a command runs for: its environment and working directory. A cold
 * command is its own process, so these are the process's; the warm server
 * runs each client's command on a thread of its own with the client's
 * (settings like HULL_HOME, -e NAME, relative paths must follow the client,
 * not the server). Threads a command starts inherit its caller.
 *
 * @param cwd the caller's working directory (absolute)
 * @param env the caller's environment
 * @param uid the caller's uid as the kernel told the service (SO_PEERCRED), -1 unknown
 * @param gid the caller's gid, likewise
 * @param umask the caller's umask (its /proc/PID/status), -1 unknown
 * @param groups the caller's supplementary groups (SO_PEERGROUPS): with uid and gid, the rights
 *     the caller's files are opened with ({@link CallerFiles})
 */
public record Caller(Path cwd, Map<String, String> env, int uid, int gid, int umask, int[] groups) {

    private static final InheritableThreadLocal<Caller> CURRENT = new InheritableThreadLocal<>();

    public Caller {
        env = Map.copyOf(env);
        groups = groups == null ? new int[0] : groups.clone();
    }

    /** A caller with no supplementary groups. */
    public Caller(Path cwd, Map<String, String> env, int uid, int gid, int umask) {
        this(cwd, env, uid, gid, umask, new int[0]);
    }

    /** A caller whose credentials and umask are unknown (those of this process apply). */
    public Caller(Path cwd, Map<String, String> env) {
        this(cwd, env, -1, -1, -1, new int[0]);
    }

    /**
     * A regular file Hull made at the caller's request where the caller asked (save -o): it gets
     * what the caller's own process would have given it — mode 0666 less the caller's umask, owned
     * by the caller. A cold command is the caller's process: nothing to do.
     */
    public static void madeFor(Path file) throws java.io.IOException {
        Caller c = CURRENT.get();
        if (c == null) {
            return;
        }
        if (c.umask >= 0) {
            dev.hull.linux.Syscalls.lchmod(file.toString(), 0666 & ~c.umask);
        }
        if (c.uid > 0) {
            dev.hull.linux.Syscalls.lchown(file.toString(), c.uid, c.gid);
        }
    }

    /** The caller of the command this thread serves, or null when that is this process. */
    public static Caller current() {
        return CURRENT.get();
    }

    /** Runs body with caller as {@link #current()} on this thread (and threads it starts). */
    public static <T> T with(Caller caller, Callable<T> body) throws Exception {
        return ThreadScope.with(CURRENT, caller, body);
    }

    /** The caller's value of an environment variable (System.getenv for a cold command). */
    public static String getenv(String name) {
        Caller c = CURRENT.get();
        return c == null ? System.getenv(name) : c.env.get(name);
    }

    /** The caller's whole environment. */
    public static Map<String, String> environment() {
        Caller c = CURRENT.get();
        return c == null ? System.getenv() : c.env;
    }

    /**
     * A path the caller gave, resolved against the caller's working directory; a cold command's
     * is left as it is (the process's own working directory is the caller's).
     */
    public static Path resolve(Path p) {
        Caller c = CURRENT.get();
        return c == null || p == null ? p : c.cwd.resolve(p);
    }

    /** A path the caller gave, made absolute against the caller's working directory. */
    public static Path absolute(Path p) {
        Caller c = CURRENT.get();
        return c == null ? p.toAbsolutePath() : c.cwd.resolve(p);
    }
}
