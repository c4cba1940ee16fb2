package dev.hull.cli;

import dev.hull.engine.Engine;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.util.List;
import java.util.Locale;

/**
 * docker's {@code run -a STREAM}: of the caller's stdin, stdout and stderr only the named ones
 * join the container; the others are /dev/null for this run (the container's log, which the
 * monitor writes, still has every line). No -a: all three, as before.
 */
final class AttachedStreams implements AutoCloseable {
    private static final List<String> NAMES = List.of("stdin", "stdout", "stderr");
    private final boolean[] attached = new boolean[3];
    private final boolean all;
    private int devNull = -1;

    private AttachedStreams(boolean all) {
        this.all = all;
    }

    /** The streams -a named (docker's names, any case); none: all of them. */
    static AttachedStreams of(List<String> names) throws RuntimeError {
        AttachedStreams s = new AttachedStreams(names.isEmpty());
        for (String n : names) {
            int i = NAMES.indexOf(n.toLowerCase(Locale.ROOT));
            if (i < 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid argument \"" + n
                        + "\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR");
            }
            s.attached[i] = true;
        }
        return s;
    }

    /** a with the streams -a left out replaced by /dev/null. */
    Engine.Attach apply(Engine.Attach a) throws RuntimeError {
        if (all) {
            return a;
        }
        int[] fds = a.stdio() == null ? new int[] {0, 1, 2} : a.stdio().clone();
        for (int i = 0; i < 3; i++) {
            if (!attached[i]) {
                fds[i] = devNull();
            }
        }
        return new Engine.Attach(fds, a.onStarted(), a.detachKeys());
    }

    private int devNull() throws RuntimeError {
        if (devNull < 0) {
            try {
                devNull = Syscalls.open("/dev/null", Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
            } catch (dev.hull.linux.LinuxException e) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "/dev/null: " + e.getMessage(), e);
            }
        }
        return devNull;
    }

    @Override
    public void close() {
        if (devNull >= 0) {
            Syscalls.close(devNull);
            devNull = -1;
        }
    }
}
