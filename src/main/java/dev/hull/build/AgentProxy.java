package dev.hull.build;

import dev.hull.linux.Syscalls;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The ssh agent a {@code RUN --mount=type=ssh} step sees: a socket of Hull's own, bound into the
 * step's container, each connection to it relayed to the agent {@code hull build --ssh} lent (held
 * by descriptor, never by the caller's path), or, when key files were lent, to an ssh-agent Hull
 * starts for the step with those keys. Only the agent protocol crosses; the step gets no path of
 * the host's and no descriptor. Closing it stops the relay (connections still open are cut), the
 * agent Hull started and removes the sockets; nothing of it is under the step's root filesystem, so
 * no layer holds it.
 */
final class AgentProxy implements Closeable {
    private final Path dir;
    private final ServerSocketChannel server;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final Process agent;
    private final Thread acceptor;
    /** The note in the build's temp dir that names the agent Hull started (for {@link #stopLeftBehind}). */
    private final Path note;

    private AgentProxy(Path dir, ServerSocketChannel server, UnixDomainSocketAddress upstream, Process agent,
            Path note) {
        this.dir = dir;
        this.note = note;
        this.server = server;
        this.agent = agent;
        this.acceptor = Thread.ofVirtual().name("hull-build-ssh").start(() -> accept(upstream));
    }

    /** The socket a step connects to. */
    Path socket() {
        return dir.resolve("s");
    }

    /**
     * Starts a relay to f's agent (or to a fresh agent holding f's keys) listening in a new
     * directory under tmp (or under /tmp when tmp's path is too long for a socket's address).
     */
    static AgentProxy start(SshForward f, Path tmp) throws BuildException, IOException {
        Path dir = Files.createTempDirectory(tmp.toString().length() < 80 ? tmp : Path.of("/tmp"), "hull-ssh-");
        Process agent = null;
        ServerSocketChannel server = null;
        Path note = null;
        try {
            UnixDomainSocketAddress upstream;
            if (f.agent() >= 0) {
                upstream = UnixDomainSocketAddress.of(f.agentPath());
            } else {
                agent = startAgent(f.keys(), dir.resolve("a"));
                note = tmp.resolve("agent-" + agent.pid());
                Files.writeString(note, dir.toString());
                upstream = UnixDomainSocketAddress.of(dir.resolve("a"));
            }
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(dir.resolve("s")));
            return new AgentProxy(dir, server, upstream, agent, note);
        } catch (BuildException | IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            if (agent != null) {
                agent.destroyForcibly();
            }
            dev.hull.image.SnapshotStore.deleteTree(dir);
            if (note != null) {
                Files.deleteIfExists(note);
            }
            throw e;
        }
    }

    /**
     * In the temp dir of a build killed with -9: stops the ssh-agents it started (a note names each:
     * agent-PID holding the relay's directory, which the agent's command line names) and removes
     * their directories.
     */
    static void stopLeftBehind(Path buildTmp) {
        try (var notes = Files.newDirectoryStream(buildTmp, "agent-*")) {
            for (Path n : notes) {
                try {
                    long pid = Long.parseLong(n.getFileName().toString().substring(6));
                    String relay = Files.readString(n).strip();
                    String cmd = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")))
                            .replace('\0', ' ');
                    if (cmd.startsWith("ssh-agent ") && cmd.contains(relay + "/a")) {
                        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                    }
                    if (!Path.of(relay).startsWith(buildTmp)) {
                        dev.hull.image.SnapshotStore.deleteTree(Path.of(relay));
                    }
                } catch (IOException | RuntimeException gone) {
                    // the agent ended already
                }
            }
        } catch (IOException e) {
            // no notes
        }
    }

    /** ssh-agent -D on sock, with the keys added; its only identities are those. */
    private static Process startAgent(List<Path> keys, Path sock) throws BuildException, IOException {
        Process p;
        try {
            p = new ProcessBuilder("ssh-agent", "-D", "-a", sock.toString())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new BuildException("RUN --mount=type=ssh with --ssh default=KEY needs ssh-agent (openssh-client): "
                    + e.getMessage());
        }
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(sock) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            if (!Files.exists(sock)) {
                throw new BuildException("RUN --mount=type=ssh: ssh-agent did not start");
            }
            List<String> cmd = new ArrayList<>(List.of("ssh-add", "-q"));
            keys.forEach(k -> cmd.add(k.toString()));
            ProcessBuilder add = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Map<String, String> env = add.environment();
            env.keySet().removeIf(k -> k.startsWith("SSH_") || k.equals("DISPLAY"));
            env.put("SSH_AUTH_SOCK", sock.toString());
            env.put("SSH_ASKPASS_REQUIRE", "never"); // a key with a passphrase is an error, not a prompt
            Process a = add.start();
            String out = new String(a.getInputStream().readAllBytes()).strip();
            if (a.waitFor() != 0) {
                throw new BuildException("RUN --mount=type=ssh: the key lent by --ssh could not be added to an agent"
                        + " (a key with a passphrase needs --ssh default and your own ssh-agent): " + out);
            }
            return p;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted");
        } catch (BuildException | IOException | RuntimeException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** Gives the socket an owner and mode (as the step's mount asks: root and 0600 by default). */
    void own(int uid, int gid, int mode) throws IOException {
        try {
            Syscalls.lchown(socket().toString(), uid, gid);
            Syscalls.lchmod(socket().toString(), mode);
            Syscalls.lchmod(dir.toString(), 0711);
        } catch (dev.hull.linux.LinuxException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void accept(UnixDomainSocketAddress upstream) {
        while (server.isOpen()) {
            SocketChannel in;
            try {
                in = server.accept();
            } catch (IOException closed) {
                return;
            }
            open.add(in);
            Thread.ofVirtual().start(() -> {
                try (in; SocketChannel out = SocketChannel.open(upstream)) {
                    open.add(out);
                    Thread back = Thread.ofVirtual().start(() -> pump(out, in));
                    pump(in, out);
                    back.join();
                    open.remove(out);
                } catch (IOException | InterruptedException e) {
                    // the step's end, or the agent went away: the connection ends
                } finally {
                    open.remove(in);
                }
            });
        }
    }

    /** Copies from one side to the other until either ends; then shuts the other's sending side. */
    private static void pump(SocketChannel from, SocketChannel to) {
        ByteBuffer buf = ByteBuffer.allocate(16384);
        try {
            while (from.read(buf) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    to.write(buf);
                }
                buf.clear();
            }
        } catch (IOException e) {
            // closed
        }
        try {
            to.shutdownOutput();
        } catch (IOException e) {
            // closed already
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel c : open) {
            try {
                c.close();
            } catch (IOException e) {
                // closing
            }
        }
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (agent != null) {
            agent.destroy();
            try {
                if (!agent.waitFor(5, TimeUnit.SECONDS)) {
                    agent.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        dev.hull.image.SnapshotStore.deleteTree(dir);
        if (note != null) {
            Files.deleteIfExists(note);
        }
    }
}
