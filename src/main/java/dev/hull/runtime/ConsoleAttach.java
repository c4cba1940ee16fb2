package dev.hull.runtime;

import dev.hull.linux.Errno;
import dev.hull.linux.FdControl;
import dev.hull.linux.FdPassing;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.UnixSocket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Attaching a caller's terminal to a running container's console (what {@code hull machine console}
 * does): the container's monitor listens on {@code console.sock} in the container's directory and
 * answers a connection with the pty master (to type into and to size) and then a copy of everything
 * the terminal prints; the monitor stays the master's only reader, so its log keeps all of it. One
 * client at a time. Typing {@link #ESCAPE} then {@code q} detaches (lxc-console's keys); the escape
 * twice sends it once.
 */
public final class ConsoleAttach {
    /** ctrl-a. */
    public static final byte ESCAPE = 1;

    /** How an attachment ended. */
    public enum End { DETACHED, CONSOLE_CLOSED, INPUT_CLOSED }

    private ConsoleAttach() {}

    /**
     * Attaches stdio[0] and stdio[1] (null: this process's 0 and 1; its own terminal also follows
     * SIGWINCH) to the console of the container whose directory is dir, until the escape, the end of
     * the container's terminal (it stopped) or of the caller's input.
     */
    public static End attach(Path dir, int[] stdio, Runnable connected) throws RuntimeError, LinuxException {
        int sock = connect(dir);
        int master = -1;
        try {
            UnixSocket.Message hello = UnixSocket.receive(sock, 1, 1);
            if (hello.fds().length > 0) {
                master = hello.fds()[0];
            }
            char tag = hello.data().length == 1 ? (char) hello.data()[0] : '?';
            if (tag == 'B') {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "the console is attached elsewhere already (one at"
                        + " a time: detach that one with ctrl-a q first)");
            }
            if (tag != 'K' || master < 0) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "the console is not up (the machine is between"
                        + " two boots): try again");
            }
            connected.run();
            return relay(sock, master, stdio);
        } finally {
            if (master >= 0) {
                Syscalls.close(master);
            }
            Syscalls.close(sock);
        }
    }

    private static int connect(Path dir) throws RuntimeError, LinuxException {
        int dfd = Syscalls.open(dir.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try {
            // through the directory's descriptor, as the monitor bound it: the path may not fit sun_path
            return FdPassing.connect("/proc/self/fd/" + dfd + "/console.sock");
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == 111 /* ECONNREFUSED */) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "it is not running (no monitor holds its console)");
            }
            throw e;
        } finally {
            Syscalls.close(dfd);
        }
    }

    private static End relay(int sock, int master, int[] stdio) throws LinuxException {
        int in = stdio == null ? 0 : stdio[0];
        int out = stdio == null ? 1 : stdio[1];
        int[] wake = FdControl.pipe();
        int[] ended = FdControl.pipe(); // the output's end: the monitor hung up
        byte[] saved = FdControl.makeRaw(in);
        Runnable resize = () -> {
            try {
                int[] size = FdPassing.windowSize(in);
                if (size[0] > 0 && size[1] > 0) {
                    FdPassing.setWindowSize(master, size[0], size[1]);
                }
            } catch (LinuxException e) {
                // not a terminal: the console keeps its size
            }
        };
        WindowChanges changes = stdio == null ? null : WindowChanges.current();
        if (changes != null) {
            changes.add(resize);
        } else if (saved != null) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sig -> resize.run());
            } catch (IllegalArgumentException ignored) {
                // no SIGWINCH here
            }
            resize.run();
        }
        Thread output = Thread.ofPlatform().daemon().name("hull-console-attach").start(() -> {
            ConsoleRelay.copy(sock, out, wake[0]); // the console's output, from the monitor
            try {
                Syscalls.writeFully(ended[1], new byte[] {1});
            } catch (LinuxException ignored) {
                // we hold the read end
            }
        });
        // the keys on a thread of their own: this one waits interruptibly (a service interrupts a command
        // whose client is gone, and the relay must let go of that client's terminal then)
        java.util.concurrent.CompletableFuture<End> keys = new java.util.concurrent.CompletableFuture<>();
        Thread input = Thread.ofPlatform().daemon().name("hull-console-keys").start(() -> {
            try {
                keys.complete(copyIn(in, master, ended[0], wake[0]));
            } catch (LinuxException | RuntimeException e) {
                keys.completeExceptionally(e);
            }
        });
        try {
            return keys.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return End.INPUT_CLOSED;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof LinuxException le) {
                throw le;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            try {
                Syscalls.writeFully(wake[1], new byte[] {1});
            } catch (LinuxException ignored) {
                // we hold the read end
            }
            boolean interrupted = Thread.interrupted(); // the threads end before their descriptors are closed
            for (Thread t : new Thread[] {input, output}) {
                try {
                    t.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (changes != null) {
                changes.remove(resize);
            }
            if (saved != null) {
                FdControl.restoreTerminal(in, saved);
            }
            for (int fd : new int[] {wake[0], wake[1], ended[0], ended[1]}) {
                Syscalls.close(fd);
            }
        }
    }

    /** The caller's keys to the pty, watching for the escape; ends when the output does too. */
    private static End copyIn(int in, int master, int ended, int wake) throws LinuxException {
        byte[] buf = new byte[4096];
        boolean escaped = false;
        for (;;) {
            short[] ev = FdControl.pollIn(in, ended, wake);
            if (ev[1] != 0) {
                return End.CONSOLE_CLOSED;
            }
            if (ev[2] != 0) {
                return End.INPUT_CLOSED; // the caller was interrupted
            }
            int n;
            try {
                n = Syscalls.read(in, buf, 0, buf.length);
            } catch (LinuxException e) {
                return End.INPUT_CLOSED;
            }
            if (n <= 0) {
                return End.INPUT_CLOSED;
            }
            java.io.ByteArrayOutputStream keys = new java.io.ByteArrayOutputStream(n + 1);
            for (int i = 0; i < n; i++) {
                byte b = buf[i];
                if (escaped) {
                    escaped = false;
                    if (b == 'q' || b == 'Q') {
                        type(master, keys.toByteArray());
                        return End.DETACHED;
                    }
                    keys.write(ESCAPE);
                    if (b == ESCAPE) {
                        continue; // the escape twice: one escape typed
                    }
                    keys.write(b);
                } else if (b == ESCAPE) {
                    escaped = true;
                } else {
                    keys.write(b);
                }
            }
            type(master, keys.toByteArray());
        }
    }

    /**
     * Writes keys to the master a byte at a time: the master is non-blocking (its monitor's), and a
     * full input queue (EAGAIN) is waited out without repeating what a partial write took.
     */
    private static void type(int master, byte[] keys) throws LinuxException {
        for (byte b : keys) {
            for (int tries = 0;; tries++) {
                try {
                    Syscalls.writeFully(master, new byte[] {b});
                    break;
                } catch (LinuxException e) {
                    if (e.errno() != Errno.EAGAIN || tries > 500) {
                        throw e;
                    }
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw e;
                    }
                }
            }
        }
    }
}
