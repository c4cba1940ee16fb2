package dev.hull.runtime;

import dev.hull.linux.FdPassing;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Foreground terminal: relays bytes between the caller's stdin/stdout and a container process's pty
 * master, puts the caller's terminal in raw mode while attached (restored on close), copies its size
 * to the pty and again on every SIGWINCH.
 */
final class ConsoleRelay implements AutoCloseable {
    private static final ConsoleRelay NONE = new ConsoleRelay(-1, 0, 1);

    private final int master;
    private final int in;
    private final int out;
    private Thread output;
    private String savedStty;

    private ConsoleRelay(int master, int in, int out) {
        this.master = master;
        this.in = in;
        this.out = out;
    }

    /** A relay for master (-1: nothing to relay) on this process's stdin and stdout. */
    static ConsoleRelay attach(int master) {
        if (master < 0) {
            return NONE;
        }
        ConsoleRelay r = new ConsoleRelay(master, 0, 1);
        r.begin();
        return r;
    }

    private void begin() {
        savedStty = stty("-g");
        if (savedStty != null) {
            stty("raw", "-echo");
            copySize();
        }
        output = Thread.ofPlatform().daemon().name("hull-console-out").start(() -> {
            byte[] buf = new byte[8192];
            try {
                for (;;) {
                    int n = Syscalls.read(master, buf, 0, buf.length);
                    if (n <= 0) {
                        return;
                    }
                    Syscalls.writeFully(out, java.util.Arrays.copyOf(buf, n));
                }
            } catch (LinuxException e) {
                // EIO: every holder of the slave is gone
            }
        });
        Thread.ofPlatform().daemon().name("hull-console-in").start(() -> {
            byte[] buf = new byte[8192];
            try {
                for (;;) {
                    int n = Syscalls.read(in, buf, 0, buf.length);
                    if (n <= 0) {
                        return;
                    }
                    Syscalls.writeFully(master, java.util.Arrays.copyOf(buf, n));
                }
            } catch (LinuxException e) {
                // the container is gone
            }
        });
    }

    /** From now on SIGWINCH resizes the pty (call after anything else that handles signals). */
    void watchResize() {
        if (this == NONE) {
            return;
        }
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sig -> copySize());
        } catch (IllegalArgumentException ignored) {
            // no SIGWINCH for us
        }
    }

    private void copySize() {
        try {
            int[] size = FdPassing.windowSize(in);
            if (size[0] > 0 && size[1] > 0) { // an unsized terminal leaves consoleSize in place
                FdPassing.setWindowSize(master, size[0], size[1]);
            }
        } catch (LinuxException e) {
            // stdin is not a terminal: the pty keeps consoleSize
        }
    }

    /** Waits (bounded) for the output the process left in the pty to be copied out. */
    void drain() {
        if (output != null) {
            try {
                output.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** stty on our stdin; null if it is not a terminal. */
    private static String stty(String... args) {
        try {
            List<String> cmd = new java.util.ArrayList<>(List.of("stty"));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String o = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? o : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public void close() {
        if (this == NONE) {
            return;
        }
        if (savedStty != null) {
            stty(savedStty);
        }
        Syscalls.close(master);
    }
}
