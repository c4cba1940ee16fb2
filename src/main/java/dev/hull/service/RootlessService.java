package dev.hull.service;

import dev.hull.engine.Rootless;
import dev.hull.linux.UserNamespaces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The resident service of a rootless user (issue 19): {@code hull system service} run by an ordinary
 * user, inside that user's namespace (bin/hull-userns), on {@code hull.sock} in the user's state
 * directory ({@code $XDG_RUNTIME_DIR/hull}, else {@code /tmp/hull-UID}), with the Docker API beside it
 * ({@code docker.sock}). What differs from root's service:
 * <ul>
 * <li>who may use it: its user only. A peer's credentials (SO_PEERCRED) are read in the service's user
 * namespace, where the user is uid 0 and every other user of the host, root included, is the overflow
 * uid (nobody): so "uid 0" is exactly the user, and no group is ever let in;
 * <li>each command gets the marks bin/hull-userns gives a cold command (HULL_ROOTLESS, the socket), as
 * its client outside the namespace has neither ({@link #env});
 * <li>it lives only as long as the user's namespace holder: once the holder is gone or replaced (killed,
 * {@code hull system migrate}), the next commands use another namespace, and the service ends
 * ({@link #watchHolder}).
 * </ul>
 */
public final class RootlessService {
    /** What a rootless service keeps of its starter's environment besides ServiceStarter's list. */
    static final List<String> KEPT_ENV = List.of("HULL_ROOTLESS", "HULL_STATE", "HOME", "USER", "LOGNAME",
            "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME");

    private RootlessService() {}

    /** Whether this process (not its caller) is rootless Hull: marked by bin/hull-userns, in a mapped user namespace. */
    public static boolean active() {
        return "1".equals(System.getenv("HULL_ROOTLESS")) && UserNamespaces.nested();
    }

    /** A rootless service's default socket: hull.sock in the user's state directory. */
    static Path defaultSocket() {
        String state = System.getenv("HULL_STATE");
        return (state != null && !state.isEmpty() ? Path.of(state) : Rootless.state()).resolve("hull.sock");
    }

    /** Why peer (as seen in this namespace) may not use the service on socket, or null when it is the user. */
    static String refusal(Path socket, int peerUid) {
        if (peerUid == 0) {
            return null;
        }
        return "permission denied: the rootless Hull service on " + socket + " serves only its own user (uid "
                + outsideUid() + "); you are another user";
    }

    /** The client's environment with what bin/hull-userns gives a command run inside the user's namespace. */
    static Map<String, String> env(Map<String, String> client, Path socket) {
        Map<String, String> env = new HashMap<>(client);
        env.put("HULL_ROOTLESS", "1");
        env.putIfAbsent("HULL_RUNTIME_SOCKET", socket.toString());
        return env;
    }

    private static String outsideUid() {
        try {
            return Files.readString(Path.of("/proc/self/uid_map")).trim().split("\\s+")[1];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /**
     * Runs stop (once) when the user's namespace holder (userns.pid of the state directory) is no longer
     * the process recorded there, in this namespace ({@link Rootless#holder}): checked every 2 s on a daemon thread.
     */
    public static void watchHolder(Runnable stop) {
        Path pidFile = defaultSocket().resolveSibling("userns.pid");
        Thread.ofPlatform().daemon().name("hull-holder-watch").start(() -> {
            while (Rootless.holder(pidFile) > 0) {
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    return;
                }
            }
            System.err.println(java.time.Instant.now() + " hull: service stopping: the user's namespace holder ("
                    + pidFile + ") is gone or another");
            stop.run();
        });
    }
}
