package dev.hull.engine;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.Caller;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hull system migrate} (podman's name and meaning): after an administrator changed the user's
 * ranges in /etc/subuid or /etc/subgid, the user's namespace must be made again for them to count.
 * The running containers are stopped first (they live in that namespace), then its holder (the
 * {@code sleep} bin/hull-userns made, userns.pid in the state directory) is ended, and the user's
 * service with it; bin/hull-userns then makes the new namespace with the current ranges.
 */
public final class RootlessMigration {
    private RootlessMigration() {}

    /** Stops the running containers (each named on err), ends the namespace holder; what happened, for out. */
    public static String migrate(Engine engine, PrintStream err) throws IOException, RuntimeError {
        requireRootless();
        List<ContainerInfo> running = new ArrayList<>();
        for (ContainerInfo c : engine.containers().list()) {
            String s = engine.state(c).status();
            if (s.equals("running") || s.equals("restarting") || s.equals("paused")) {
                running.add(c);
            }
        }
        if (!running.isEmpty()) {
            err.println("hull: system migrate: stopping " + running.size() + " container(s) first, as they live in"
                    + " the user namespace being replaced: " + String.join(", ", running.stream().map(ContainerInfo::name)
                    .toList()));
            for (ContainerInfo c : running) {
                engine.stop(c.id(), null);
            }
        }
        Path pidFile = engine.stateRoot().resolve("userns.pid");
        String holder = endHolder(pidFile);
        awaitServiceGone();
        return holder == null ? "no namespace holder ran (" + pidFile + "); the next command makes one with the"
                + " current ranges" : "stopped the user namespace holder " + holder + "; the next one maps the current"
                + " ranges of /etc/subuid and /etc/subgid";
    }

    /** The error for root (before its engine is even opened): there is no namespace of the user's to make again. */
    public static void requireRootless() throws RuntimeError {
        if (!Rootless.active()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "system migrate is for rootless Hull (an ordinary"
                    + " user's namespace, made again after /etc/subuid or /etc/subgid changed); root has none");
        }
    }

    /** Kills the holder named in pidFile if it is this namespace's (its pid and start time); its pid, or null. */
    private static String endHolder(Path pidFile) throws RuntimeError {
        int pid = Rootless.holder(pidFile);
        if (pid < 0) {
            return null;
        }
        try {
            Syscalls.kill(pid, 9);
        } catch (LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "system migrate: cannot end the namespace holder " + pid
                    + ": " + e.getMessage(), e);
        }
        Path exe = Path.of("/proc", Integer.toString(pid), "exe");
        for (int i = 0; i < 600 && Files.isSymbolicLink(exe) && Files.exists(exe); i++) {
            try {
                Thread.sleep(50); // until it is gone (a zombie has no exe): bin/hull-userns makes the next one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return Integer.toString(pid);
    }

    /**
     * Waits (up to 60 s) until the user's service has noticed its holder is gone and removed its socket
     * (it checks every 2 s): until then a command could still reach the old namespace through it.
     */
    private static void awaitServiceGone() {
        String socket = Caller.getenv("HULL_RUNTIME_SOCKET");
        if (socket == null || socket.isEmpty() || dev.hull.runtime.Caller.current() != null) {
            return; // no service, or this command runs in it (it ends after this command)
        }
        Path s = Path.of(socket);
        for (int i = 0; i < 600 && Files.exists(s); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
