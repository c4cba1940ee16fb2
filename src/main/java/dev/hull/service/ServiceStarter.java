package dev.hull.service;

import dev.hull.engine.EngineConfig;
import dev.hull.linux.LinuxException;
import dev.hull.linux.SecureDirs;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Fast by default: a command that runs in a JVM of its own because no service answered starts
 * one in the background (the Gradle daemon's way), so the next command takes the warm path. The
 * command itself goes on in its own JVM meanwhile: it never waits for the service, nor depends on
 * it starting.
 *
 * <p>The service is {@code bin/hull system service --auto}: its own session, cwd /, stdin
 * /dev/null, output appended to its log ({@link #log}), the environment stripped to what it needs
 * (each command gets its client's), and the service lock ({@link ServiceLock}) passed on as fd 3.
 * Off with HULL_NO_SERVICE=1 (or bin/hull --no-service), or {@code "autoStartService": false} in
 * the config file; only root starts one (the service runs commands as root), or rootless Hull
 * in the user's namespace (a service for that user only: {@link RootlessService}).
 */
public final class ServiceStarter {
    /** Environment the service keeps from the command that starts it. */
    private static final List<String> KEPT_ENV = List.of("PATH", "HULL_RUNTIME_SOCKET", "HULL_JAVA_HOME", "HULL_CLASSPATH", "HULL_CONFIG",
            "LANG", "LC_ALL", "TZ");
    private static final long MAX_LOG = 10L << 20;

    private ServiceStarter() {}

    /** Whether this command, of program (hull or hull-runtime) with args, may start a service. */
    static boolean wanted(String program, String[] args) {
        if (System.getProperty("hull.launcher") == null || System.getenv("HULL_AOT_TRAIN") != null
                || disabled(System.getenv("HULL_NO_SERVICE")) || Syscalls.getuid() != 0) {
            return false; // not from bin/ (a test's JVM, a library user), training, opted out, not root
        }
        if (program.equals("hull") && args.length > 0 && (args[0].equals("runtime-server")
                || (args[0].equals("system") && args.length > 1 && args[1].equals("service")))) {
            return false; // the service itself
        }
        return true;
    }

    private static boolean disabled(String noService) {
        return noService != null && !noService.isEmpty() && !noService.equals("0");
    }

    /**
     * Starts a service for program's command with args unless one runs or starts already, or it
     * is not wanted; never fails the command (a service that cannot start is the next one's to try,
     * and its log says why).
     */
    public static void startIfWanted(String program, String[] args) {
        if (!wanted(program, args)) {
            return;
        }
        Path socket = WarmServer.socketPath();
        int lock = -1;
        try {
            lock = ServiceLock.tryAcquire(socket);
            if (lock < 0) {
                return; // a service runs, starts, or retires: it is not ours to start
            }
            EngineConfig config;
            try {
                config = EngineConfig.load();
            } catch (RuntimeError e) {
                return; // the command itself reports a broken config file
            }
            if (!config.autoStartService()) {
                return;
            }
            start(socket, Path.of(System.getProperty("hull.launcher")).resolveSibling("hull"), lock,
                    config.serviceIdleTimeout());
        } catch (IOException | RuntimeException e) {
            if (System.getenv("HULL_DEBUG") != null) {
                System.err.println("hull: could not start the Hull service: " + e);
            }
        } finally {
            if (lock >= 0) {
                Syscalls.close(lock); // the service has its own descriptor of the lock now
            }
        }
    }

    /** Where the service of socket writes: /var/log/hull/service.log for the default socket, else SOCKET.log. */
    public static Path log(Path socket) {
        return socket.equals(WarmServer.DEFAULT_SOCKET) ? Path.of("/var/log/hull/service.log")
                : socket.resolveSibling(socket.getFileName() + ".log");
    }

    /** What the service keeps of this command's environment: a rootless one also the user's directories. */
    private static List<String> keptEnv() {
        if (!RootlessService.active()) {
            return KEPT_ENV;
        }
        List<String> keep = new ArrayList<>(KEPT_ENV);
        keep.addAll(RootlessService.KEPT_ENV);
        return keep;
    }

    private static void start(Path socket, Path launcher, int lock, Duration idle) throws IOException {
        if (!Files.isExecutable(launcher)) {
            throw new IOException(launcher + " is not executable");
        }
        Path log = log(socket);
        if (!Files.isDirectory(log.getParent())) {
            SecureDirs.ensure(log.getParent(), SecureDirs.PRIVATE);
        }
        try {
            if (Files.size(log) > MAX_LOG) { // one old log is kept
                Files.move(log, log.resolveSibling(log.getFileName() + ".1"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // a first log
        }
        int devNull = Syscalls.open("/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        int out = -1;
        try {
            out = Syscalls.open(log.toString(), Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_APPEND
                    | Syscalls.O_CLOEXEC | Syscalls.O_NOFOLLOW, 0600);
            List<String> env = new ArrayList<>();
            for (String k : keptEnv()) {
                String v = System.getenv(k);
                if (v != null) {
                    env.add(k + "=" + v);
                }
            }
            List<String> argv = List.of(launcher.toString(), "system", "service", "--auto", "--lock-fd", "3",
                    "--socket", socket.toString(), "--idle-timeout", idle.toSeconds() + "s");
            int pid = Syscalls.spawn(launcher.toString(), argv, env, new int[] {devNull, out, out, lock},
                    new int[] {0, 1, 2, 3}, true, "/");
            // Reaped here if this JVM outlives it (a long foreground command); else init or a subreaper does.
            Thread.ofPlatform().daemon().name("hull-service-reaper").start(() -> {
                try {
                    Syscalls.waitpid(pid, 0);
                } catch (LinuxException ignored) {
                    // not ours to reap any more
                }
            });
        } finally {
            Syscalls.close(devNull);
            if (out >= 0) {
                Syscalls.close(out);
            }
        }
    }
}
