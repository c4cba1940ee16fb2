package dev.hull.runtime;

import dev.hull.linux.FdControl;
import dev.hull.linux.FdPassing;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.util.concurrent.TimeUnit;

/**
 * Foreground terminal: relays bytes between the caller's stdin/stdout (this process's, or the
 * descriptors a warm server got from its client) and a container process's pty master, puts the
 * caller's terminal in raw mode while attached (restored on close), copies its size to the pty (and,
 * for this process's own terminal, again on every SIGWINCH).
 *
 * <p>Both relay threads wait in poll() on their source and a wake-up pipe, so {@link #close()} ends
 * them even when the caller's stdin never has data or EOF: a resident server keeps no thread per call.
 */
final class ConsoleRelay implements AutoCloseable {
    private static final ConsoleRelay NONE = new ConsoleRelay(-1, 0, 1, false);

    private final int master;
    private final int in;
    private final int out;
    private final boolean ownTerminal;
    private int[] wake;
    private Thread output;
    private Thread input;
    private byte[] savedTermios;
    /** Where the caller's resizes come from when its terminal is not ours (a service's client). */
    private WindowChanges changes;
    private final Runnable resize = this::copySize;
    /** Typed on the caller's stdin, these let it go (docker's exec -it detach keys); null: none. */
    private byte[] detachKeys;
    /** The thread that waits for the process (interrupted when the keys are typed). */
    private Thread waiter;
    private volatile boolean detached;

    private ConsoleRelay(int master, int in, int out, boolean ownTerminal) {
        this.master = master;
        this.in = in;
        this.out = out;
        this.ownTerminal = ownTerminal;
    }

    /** A relay for master (-1: nothing to relay) on this process's stdin and stdout. */
    static ConsoleRelay attach(int master) throws LinuxException {
        return attach(master, null);
    }

    /** A relay for master (-1: nothing to relay) on stdio[0] and stdio[1] (null: this process's 0 and 1). */
    static ConsoleRelay attach(int master, int[] stdio) throws LinuxException {
        if (master < 0) {
            return NONE;
        }
        ConsoleRelay r = stdio == null ? new ConsoleRelay(master, 0, 1, true)
                : new ConsoleRelay(master, stdio[0], stdio[1], false);
        r.begin();
        return r;
    }

    /**
     * The caller's terminal (stdio[0], null: this process's fd 0) in raw mode until close, relaying
     * nothing: a container's monitor holds its pty and copies to and from the caller's descriptors.
     */
    static AutoCloseable rawTerminal(int[] stdio) {
        int in = stdio == null ? 0 : stdio[0];
        byte[] saved = FdControl.makeRaw(in);
        return () -> {
            if (saved != null) {
                FdControl.restoreTerminal(in, saved);
            }
        };
    }

    /**
     * A relay for master on stdio (null: this process's 0 and 1) that lets the caller go when it types
     * detachKeys (their bytes; null or empty: none): this thread, which waits for the process, is
     * interrupted then and {@link #detached()} is true; the keys themselves never reach the process.
     */
    static ConsoleRelay attach(int master, int[] stdio, String detachKeys) throws LinuxException {
        if (master < 0 || detachKeys == null || detachKeys.isEmpty()) {
            return attach(master, stdio);
        }
        ConsoleRelay r = stdio == null ? new ConsoleRelay(master, 0, 1, true)
                : new ConsoleRelay(master, stdio[0], stdio[1], false);
        r.detachKeys = detachKeys.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        r.waiter = Thread.currentThread();
        r.begin();
        return r;
    }

    /** The caller typed the detach keys. */
    boolean detached() {
        return detached;
    }

    /** A copy of the pty master (for whoever keeps the terminal open once the caller left). */
    int dupMaster() throws LinuxException {
        return FdControl.dupAtLeast(master, 3);
    }

    /** The caller's keys to the pty, as docker's escape proxy: the detach keys are held back while they match. */
    private void copyKeys() {
        byte[] buf = new byte[8192];
        java.io.ByteArrayOutputStream outBytes = new java.io.ByteArrayOutputStream();
        int matched = 0;
        try {
            for (;;) {
                short[] ev = FdControl.pollIn(in, wake[0]);
                if (ev[1] != 0) {
                    return;
                }
                int n = Syscalls.read(in, buf, 0, buf.length);
                if (n <= 0) {
                    return;
                }
                outBytes.reset();
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == detachKeys[matched]) {
                        if (++matched < detachKeys.length) {
                            continue;
                        }
                        Syscalls.writeFully(master, outBytes.toByteArray());
                        detached = true;
                        waiter.interrupt();
                        return;
                    }
                    if (matched > 0) {
                        outBytes.write(detachKeys, 0, matched);
                        matched = b == detachKeys[0] ? 1 : 0;
                        if (matched == 1) {
                            continue;
                        }
                    }
                    outBytes.write(b);
                }
                Syscalls.writeFully(master, outBytes.toByteArray());
            }
        } catch (LinuxException e) {
            // the other side is gone
        }
    }

    private void begin() throws LinuxException {
        wake = FdControl.pipe();
        savedTermios = FdControl.makeRaw(in);
        if (savedTermios != null) {
            copySize();
        }
        output = Thread.ofPlatform().daemon().name("hull-console-out").start(() -> copy(master, out, wake[0]));
        input = Thread.ofPlatform().daemon().name("hull-console-in").start(detachKeys != null ? this::copyKeys
                : () -> copy(in, master, wake[0]));
    }

    /** Copies from to to until EOF, an error (EIO: every holder of the slave is gone) or the wake-up pipe. */
    static void copy(int from, int to, int wakeFd) {
        byte[] buf = new byte[8192];
        try {
            for (;;) {
                short[] ev = FdControl.pollIn(from, wakeFd);
                if (ev[1] != 0) {
                    return;
                }
                int n = Syscalls.read(from, buf, 0, buf.length);
                if (n <= 0) {
                    return;
                }
                Syscalls.writeFully(to, java.util.Arrays.copyOf(buf, n));
            }
        } catch (LinuxException e) {
            // EIO from the master, or the other side is gone
        }
    }

    /**
     * From now on a resize of the caller's terminal resizes the pty: SIGWINCH for this process's own
     * terminal (a handler is JVM-wide), the client's relayed SIGWINCH in a service ({@link WindowChanges}).
     */
    void watchResize() {
        if (this == NONE) {
            return;
        }
        if (!ownTerminal) {
            changes = WindowChanges.current();
            if (changes != null) {
                changes.add(resize);
            }
            return;
        }
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sig -> copySize());
        } catch (IllegalArgumentException ignored) {
            // no SIGWINCH for us
        }
        copySize(); // a resize between the pty's first sizing and the handler sent a SIGWINCH nobody heard
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
        join(output, TimeUnit.SECONDS.toMillis(5));
    }

    private static void join(Thread t, long millis) {
        if (t != null) {
            try {
                t.join(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        if (this == NONE) {
            return;
        }
        if (changes != null) {
            changes.remove(resize);
        }
        try {
            Syscalls.writeFully(wake[1], new byte[] {1});
        } catch (LinuxException ignored) {
            // cannot happen: we hold the read end
        }
        join(input, TimeUnit.SECONDS.toMillis(5));
        join(output, TimeUnit.SECONDS.toMillis(5));
        if (savedTermios != null) {
            FdControl.restoreTerminal(in, savedTermios);
        }
        Syscalls.close(master);
        Syscalls.close(wake[0]);
        Syscalls.close(wake[1]);
    }
}
