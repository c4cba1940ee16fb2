package dev.hull.cli;

import dev.hull.linux.FdOutputStream;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.UnixSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The warm path: a resident JVM that runs hull-runtime commands for a tiny
 * client (hull-executor --client), so a command costs no JVM start.
 *
 * <p>Per connection the client sends, in one sendmsg with its stdin, stdout
 * and stderr as SCM_RIGHTS: {@code u32 length} then NUL-terminated strings
 * cwd, argc, argv..., envc, env.... The server runs the command with the
 * client's descriptors and working directory, forwards "S signo" lines to a
 * foreground container, and answers "X code".
 */
public final class WarmServer implements AutoCloseable {
    public static final Path DEFAULT_SOCKET = Path.of("/run/hull/runtime.sock");
    private static final int MAX_REQUEST = 1 << 20;

    private final Path path;
    private final int listenFd;
    private volatile boolean closed;

    private WarmServer(Path path, int listenFd) {
        this.path = path;
        this.listenFd = listenFd;
    }

    public static Path socketPath() {
        String env = System.getenv("HULL_RUNTIME_SOCKET");
        return env != null && !env.isEmpty() ? Path.of(env) : DEFAULT_SOCKET;
    }

    /** Binds the socket (replacing a stale one) with mode 0600: only root may drive the runtime. */
    public static WarmServer bind(Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            // A directory of our own, root only: no window between bind and chmod where others could connect.
            Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        }
        Files.deleteIfExists(path);
        int fd = UnixSocket.listen(path.toString(), 64);
        Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return new WarmServer(path, fd);
    }

    public Path path() {
        return path;
    }

    /** Accepts clients until closed; each runs on its own thread. */
    public void serve() throws IOException {
        while (!closed) {
            int conn;
            try {
                conn = UnixSocket.accept(listenFd);
            } catch (LinuxException e) {
                if (closed) {
                    return;
                }
                throw e;
            }
            Thread.ofPlatform().name("hull-warm-" + conn).daemon().start(() -> handle(conn));
        }
    }

    private void handle(int conn) {
        int[] fds = new int[0];
        Thread signals = null;
        dev.hull.runtime.Trace trace = dev.hull.runtime.Trace.start();
        try {
            UnixSocket.Message first = UnixSocket.receive(conn, 65536, 3);
            fds = first.fds();
            byte[] req = readRequest(conn, first.data());
            if (fds.length != 3) {
                reply(conn, 125);
                return;
            }
            trace.mark("warm.receive");
            List<String> fields = strings(req);
            String cwd = fields.get(0);
            int argc = Integer.parseInt(fields.get(1));
            String[] argv = fields.subList(2, 2 + argc).toArray(String[]::new);
            ForegroundSignals containerPid = new ForegroundSignals();
            Invocation inv = new Invocation(Path.of(cwd), Invocation.writer(new FdOutputStream(fds[1])),
                    Invocation.writer(new FdOutputStream(fds[2])), fds, containerPid::started);
            signals = Thread.ofPlatform().daemon().start(() -> relaySignals(conn, containerPid));
            int code = RuntimeCli.execute(inv, argv, true);
            trace.mark("warm.command");
            reply(conn, code);
        } catch (Exception e) {
            try {
                if (fds.length == 3) {
                    Syscalls.writeFully(fds[2], ("hull-runtime: warm server: " + e + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                }
                reply(conn, 1);
            } catch (IOException ignored) {
                // the client is gone
            }
        } finally {
            // Stop the signal relay before the descriptor number can be reused by another client.
            UnixSocket.shutdown(conn);
            if (signals != null) {
                try {
                    signals.join(5000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            for (int fd : fds) {
                Syscalls.close(fd);
            }
            Syscalls.close(conn);
        }
    }

    private static byte[] readRequest(int conn, byte[] first) throws IOException {
        if (first.length < 4) {
            throw new IOException("short request");
        }
        int len = ByteBuffer.wrap(first, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (len < 0 || len > MAX_REQUEST) {
            throw new IOException("request of " + len + " bytes refused");
        }
        byte[] req = Arrays.copyOfRange(first, 4, Math.min(first.length, 4 + len));
        int have = req.length;
        req = Arrays.copyOf(req, len);
        while (have < len) {
            int n = Syscalls.read(conn, req, have, len - have);
            if (n <= 0) {
                throw new IOException("request truncated");
            }
            have += n;
        }
        return req;
    }

    private static List<String> strings(byte[] req) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < req.length; i++) {
            if (req[i] == 0) {
                out.add(new String(req, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }

    /**
     * Signals the client relays for a foreground container: delivered to its init once the
     * runtime knows the pid; a signal that arrives earlier (during create) waits for it, as the
     * cold path's JVM would have had it queued too.
     */
    private static final class ForegroundSignals {
        private int pid;
        private final List<Integer> pending = new ArrayList<>();

        synchronized void started(int p) {
            pid = p;
            pending.forEach(this::deliver);
            pending.clear();
        }

        synchronized void signal(int sig) {
            if (pid > 0) {
                deliver(sig);
            } else if (pending.size() < 64) {
                pending.add(sig);
            }
        }

        private void deliver(int sig) {
            try {
                Syscalls.kill(pid, sig);
            } catch (LinuxException ignored) {
                // the container is gone: nothing to forward to
            }
        }
    }

    private static void relaySignals(int conn, ForegroundSignals containerPid) {
        byte[] buf = new byte[64];
        StringBuilder line = new StringBuilder();
        try {
            int n;
            while ((n = Syscalls.read(conn, buf, 0, buf.length)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] != '\n') {
                        line.append((char) buf[i]);
                        continue;
                    }
                    String l = line.toString();
                    line.setLength(0);
                    if (l.startsWith("S ")) {
                        try {
                            int sig = Integer.parseInt(l.substring(2).trim());
                            if (sig > 0 && sig <= 64) {
                                containerPid.signal(sig);
                            }
                        } catch (NumberFormatException ignored) {
                            // nonsense: nothing to forward
                        }
                    }
                }
            }
        } catch (IOException ignored) {
            // connection closed
        }
    }

    private static void reply(int conn, int code) throws IOException {
        Syscalls.writeFully(conn, ("X " + code + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public void close() throws IOException {
        closed = true;
        UnixSocket.shutdown(listenFd);
        Syscalls.close(listenFd);
        Files.deleteIfExists(path);
    }
}
