package dev.hull.runtime;

import dev.hull.linux.Errno;
import dev.hull.linux.FdPassing;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.executor.ExecutorSession;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code hull attach}: the caller's stdio joins a running container through its monitor's attach.sock
 * (in the container's directory, beside status.json). The monitor takes the descriptors as it takes those
 * of the client a container is started with: it copies the output to them, relays the stdin to the pty
 * (with the detach keys held back), and answers DETACHED or EXIT on the connection. A terminal container's
 * pty follows the caller's window meanwhile ({@link PtyFollower}).
 */
public final class ContainerAttach {
    /** attach's answer when the monitor ended without a word (its container's status has the end). */
    public static final int ENDED = -2;

    private ContainerAttach() {
    }

    /**
     * Attaches stdio (null: this process's 0, 1, 2) to the container whose monitor listens in dir;
     * pid is its init (for the pty's size). Returns the exit code (128+N for signal N),
     * {@link ExecutorSession#DETACHED} when the detach keys were typed, or {@link #ENDED}.
     */
    public static int attach(Path dir, int pid, int[] stdio, boolean tty, boolean stdin, String detachKeys)
            throws RuntimeError {
        int sock = connect(dir);
        int[] fds = stdio != null ? stdio : new int[] {0, 1, 2};
        try (AutoCloseable raw = tty && stdin ? ConsoleRelay.rawTerminal(stdio) : () -> { };
                PtyFollower window = tty ? PtyFollower.follow(fds[0], stdio == null, pid) : null) {
            byte[] keys = (stdin ? "i" : "o").concat(detachKeys == null ? "" : detachKeys)
                    .getBytes(StandardCharsets.ISO_8859_1);
            FdPassing.sendFds(sock, fds, keys);
            String first = readLine(sock);
            if ("BUSY".equals(first)) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE,
                        "another client is attached to this container (one at a time)");
            }
            if (!"ATTACHED".equals(first)) {
                return ENDED;
            }
            String end = readLine(sock);
            if (end == null) {
                return ENDED;
            }
            if (end.equals("DETACHED")) {
                return ExecutorSession.DETACHED;
            }
            if (end.startsWith("EXIT signal ")) {
                return 128 + Integer.parseInt(end.substring(12).trim());
            }
            if (end.startsWith("EXIT code ")) {
                return Integer.parseInt(end.substring(10).trim());
            }
            return ENDED;
        } catch (RuntimeError e) {
            throw e;
        } catch (Exception e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "attach: " + e.getMessage());
        } finally {
            Syscalls.close(sock);
        }
    }

    /**
     * Gives the monitor listening in dir a detached exec's pty master to keep open (and drain) until the
     * exec ends: closing the last copy would hang its terminal up. False when the monitor took none.
     */
    public static boolean hold(Path dir, int master) {
        int sock;
        try {
            sock = connect(dir);
        } catch (RuntimeError e) {
            return false;
        }
        try {
            FdPassing.sendFds(sock, new int[] {master}, new byte[] {'h'});
            return "HELD".equals(readLine(sock));
        } catch (Exception e) {
            return false;
        } finally {
            Syscalls.close(sock);
        }
    }

    private static int connect(Path dir) throws RuntimeError {
        int dfd;
        try {
            dfd = Syscalls.open(dir.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        } catch (LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such container");
        }
        try {
            return FdPassing.connect("/proc/self/fd/" + dfd + "/attach.sock");
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ECONNREFUSED) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "its monitor takes no attach"
                        + " (started by an older Hull, or ending): restart it to attach");
            }
            throw new RuntimeError(RuntimeError.Kind.FAILED, "attach: " + e.getMessage());
        } finally {
            Syscalls.close(dfd);
        }
    }

    /** One line from the monitor, or null at its end. */
    private static String readLine(int fd) throws LinuxException {
        StringBuilder line = new StringBuilder();
        byte[] b = new byte[1];
        for (;;) {
            // a warm command the client cancelled (its signal, --sig-proxy=false) is interrupted: the
            // connection closes, and the monitor lets the client's descriptors go
            while (dev.hull.linux.FdControl.pollInFor(250, fd)[0] == 0) {
                if (Thread.currentThread().isInterrupted()) {
                    return null;
                }
            }
            int n;
            try {
                n = Syscalls.read(fd, b, 0, 1);
            } catch (LinuxException e) {
                if (e.errno() == Errno.EINTR) {
                    continue;
                }
                if (e.errno() == Errno.ECONNRESET) {
                    return null;
                }
                throw e;
            }
            if (n <= 0) {
                return null;
            }
            if (b[0] == '\n') {
                return line.toString();
            }
            line.append((char) (b[0] & 0xff));
        }
    }
}
