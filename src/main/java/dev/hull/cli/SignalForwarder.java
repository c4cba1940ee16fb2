package dev.hull.cli;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.util.List;

/**
 * Forwards the signals a foreground {@code run} receives to the container's
 * init, as runc does. Signals the JVM keeps for itself are left alone.
 */
final class SignalForwarder {
    private static final List<String> FORWARDED = List.of("INT", "TERM", "HUP", "USR2", "WINCH", "CONT", "ALRM");

    private SignalForwarder() {}

    @SuppressWarnings("restriction")
    static void forwardTo(int pid) {
        for (String name : FORWARDED) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
                    try {
                        Syscalls.kill(pid, sig.getNumber());
                    } catch (LinuxException ignored) {
                        // the container is gone; awaitExit returns soon
                    }
                });
            } catch (IllegalArgumentException reservedByJvm) {
                // e.g. SIGQUIT without -Xrs: not ours to take
            }
        }
    }
}
