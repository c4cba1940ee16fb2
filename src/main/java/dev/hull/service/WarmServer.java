package dev.hull.service;

import dev.hull.linux.FdInputStream;
import dev.hull.linux.FdOutputStream;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.UnixSocket;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Hull's service: a resident JVM that runs hull-runtime and hull commands for a tiny client
 * (hull-executor --client), so a command costs no JVM start.
 *
 * <p>Per connection the client sends, in one sendmsg with its stdin, stdout and stderr as
 * SCM_RIGHTS: {@code u32 length} then the NUL-terminated fields of a {@link Request}. The server
 * runs the command with the client's descriptors, working directory and environment (see
 * {@link dev.hull.runtime.Caller}, {@link Stdio}), forwards "S signo" lines to a foreground
 * container, and answers "X code" — or "C" when the command has to run in a process of its own
 * (the client then starts the cold JVM): a command that needs one, and any command while the
 * server retires. Just before it runs a command it says "A" (taken): a client whose server
 * vanishes before that runs the command cold (nothing of it ran), after it fails loudly.
 *
 * <p>Lifetime: the server holds the service lock ({@link ServiceLock}) from before it binds until
 * it has removed its socket, so two starters never make two servers. It retires when a client of
 * another build asks (once nothing else runs through it; meanwhile everyone is sent cold), and
 * after {@link #idleTimeout} with no client connected.
 */
public final class WarmServer implements AutoCloseable {
    public static final Path DEFAULT_SOCKET = Path.of("/run/hull/runtime.sock");
    private static final int MAX_REQUEST = 1 << 20;

    /** The group whose members may use the server besides root (docker's "docker" group), if it exists. */
    public static final String DEFAULT_GROUP = "hull";

    /** The jar this code runs from (null: a class directory, as in tests) and how it looked when we started. */
    private static final Path JAR = codeJar();
    private static final String JAR_STAMP = stamp(JAR);

    private static Path codeJar() {
        try {
            Path p = Path.of(WarmServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(p) ? p : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static String stamp(Path jar) {
        if (jar == null) {
            return null;
        }
        try {
            var a = Files.readAttributes(jar, java.nio.file.attribute.BasicFileAttributes.class);
            return a.fileKey() + " " + a.size() + " " + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            return "gone";
        }
    }

    /** Whether the jar this JVM runs from was replaced or rewritten since it started (one stat). */
    static boolean codeReplaced() {
        return JAR != null && !java.util.Objects.equals(JAR_STAMP, stamp(JAR));
    }

    /** The running server of this JVM, if any: for hull version and hull info. */
    private static volatile WarmServer running;

    private final Path path;
    private final int listenFd;
    /** Whether the socket file is ours to remove (not when systemd made it and passed it on). */
    private final boolean ownsSocket;
    private final String group;
    /** The gid of group, or -1: root only. */
    private final int gid;
    private final long pid = ProcessHandle.current().pid();
    private final java.time.Instant started = java.time.Instant.now();
    private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
    private volatile long lastActive = System.nanoTime();
    private volatile java.time.Duration idleTimeout = java.time.Duration.ZERO;
    private volatile boolean retiring;
    private volatile String retireReason;
    private volatile int lockFd = -1;
    private volatile boolean closed;
    /** Clients of the service's other front doors (the Docker API): no idle exit while any is connected. */
    private final List<java.util.function.IntSupplier> otherClients = new java.util.concurrent.CopyOnWriteArrayList<>();

    private WarmServer(Path path, int listenFd, boolean ownsSocket, String group, int gid) {
        this.path = path;
        this.listenFd = listenFd;
        this.ownsSocket = ownsSocket;
        this.group = group;
        this.gid = gid;
    }

    /** What hull version and hull info show about the service a command runs in. */
    public record Status(long pid, String build, java.time.Instant started, Path socket, int clients,
            long served, java.time.Duration idleTimeout) {}

    /** The service this command runs in, or null when it runs in a JVM of its own. */
    public static Status current() {
        WarmServer s = running;
        if (s == null || dev.hull.runtime.Caller.current() == null) {
            return null;
        }
        return new Status(s.pid, BuildInfo.id(), s.started, s.path, s.active.get(), s.served.get(), s.idleTimeout);
    }

    public static Path socketPath() {
        String env = System.getenv("HULL_RUNTIME_SOCKET");
        return env != null && !env.isEmpty() ? Path.of(env)
                : RootlessService.active() ? RootlessService.defaultSocket() : DEFAULT_SOCKET;
    }

    /** {@link #bind(Path, String)} with group {@value #DEFAULT_GROUP}. */
    public static WarmServer bind(Path path) throws IOException {
        return bind(path, DEFAULT_GROUP);
    }

    /**
     * Binds the socket (replacing a stale one), docker's model: a command through it runs as root,
     * so it is for root, and for the members of group (null: none) when that group exists. The
     * socket is 0660 root:group then, else 0600; and since a mode can be changed (or a connect slip
     * in before it is set), the server also checks each peer's credentials (SO_PEERCRED,
     * SO_PEERGROUPS) and refuses anyone else with a message ({@link #refusal}).
     */
    public static WarmServer bind(Path path, String group) throws IOException {
        java.nio.file.attribute.GroupPrincipal principal = null;
        if (group != null) {
            try {
                principal = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
            } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
                principal = null; // no such group: root only
            }
        }
        ServiceLock.ensureDirectory(path, principal != null);
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS) && answers(path)) {
            throw new IOException("a warm server already listens on " + path);
        }
        // Bound under a temporary name, given its mode and group, then renamed into place: the socket
        // never appears at path with the mode the umask gave it.
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        int fd = UnixSocket.listen(tmp.toString(), 64);
        int gid = -1;
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            if (principal != null) {
                Files.getFileAttributeView(tmp, java.nio.file.attribute.PosixFileAttributeView.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS).setGroup(principal);
                gid = (Integer) Files.getAttribute(tmp, "unix:gid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-rw----"));
            }
            Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Syscalls.close(fd);
            Files.deleteIfExists(tmp);
            throw e;
        }
        return new WarmServer(path, fd, true, principal != null ? group : null, gid);
    }

    /**
     * The listening socket systemd passed (socket activation, contrib/hull.socket): LISTEN_PID is
     * this process and LISTEN_FDS at least 1; fd 3 is the socket. Null when not activated.
     */
    public static WarmServer fromSystemd(Path path, String group) throws IOException {
        String pidEnv = System.getenv("LISTEN_PID");
        String fds = System.getenv("LISTEN_FDS");
        if (pidEnv == null || fds == null || !pidEnv.trim().equals(Long.toString(ProcessHandle.current().pid()))
                || Integer.parseInt(fds.trim()) < 1) {
            return null;
        }
        if (!UnixSocket.isListening(3)) { // a stray LISTEN_PID: fd 3 is not ours to take (it may be the JVM's)
            throw new IOException("LISTEN_FDS is set, but descriptor 3 is not a listening unix stream socket");
        }
        int gid = group == null ? -1 : groupId(group);
        // Our own copy with close-on-exec (the executors and monitors we spawn must not inherit it).
        int fd = dev.hull.linux.FdControl.dupAtLeast(3, 3);
        Syscalls.close(3);
        return new WarmServer(path, fd, false, gid >= 0 ? group : null, gid);
    }

    /** The gid of group in /etc/group, or -1. */
    static int groupId(String group) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/group"))) {
                String[] f = line.split(":", -1);
                if (f.length >= 3 && f[0].equals(group)) {
                    return Integer.parseInt(f[2]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** Why peer may not use this server, or null if it may: root, or a member of the group. */
    String refusal(UnixSocket.Peer peer) {
        if (RootlessService.active()) {
            return RootlessService.refusal(path, peer.uid());
        }
        if (admits(peer, gid)) {
            return null;
        }
        return "permission denied: the warm server on " + path + " runs commands as root, for root"
                + (group != null ? " and members of group " + group : " only") + " (you are uid " + peer.uid() + ")";
    }

    /**
     * Who may drive Hull through a socket of the service (the warm server's and the Docker API's):
     * by number, as the kernel recorded the peer at connect() — uid 0 (a rootless service: its own
     * user, who is 0 in its namespace), or a member (primary or supplementary, SO_PEERGROUPS) of
     * gid (-1: nobody else).
     */
    public static boolean admits(UnixSocket.Peer peer, int gid) {
        return peer.uid() == 0 || !RootlessService.active() && gid >= 0 && peer.inGroup(gid);
    }

    /** Whether a server accepts connections on path (else the socket file is stale). */
    private static boolean answers(Path path) {
        try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(path))) {
            return ch.isConnected();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    public Path path() {
        return path;
    }

    /** Exits after this long with no client connected (zero: never). */
    public WarmServer idleTimeout(java.time.Duration timeout) {
        this.idleTimeout = timeout == null || timeout.isNegative() ? java.time.Duration.ZERO : timeout;
        return this;
    }

    /**
     * Another front door of this service (the Docker API) whose connected clients keep it from
     * idling out, as this server's own do; call {@link #touch} when one connects or leaves.
     */
    public WarmServer alsoServing(java.util.function.IntSupplier clients) {
        otherClients.add(clients);
        return this;
    }

    /** A client of another front door came or went: the idle clock starts again. */
    public void touch() {
        lastActive = System.nanoTime();
    }

    private int clients() {
        int n = active.get();
        for (var c : otherClients) {
            n += c.getAsInt();
        }
        return n;
    }

    /** Keeps the service lock (an flock'ed descriptor, {@link ServiceLock}) until the socket is gone. */
    public WarmServer holdingLock(int fd) {
        this.lockFd = fd;
        return this;
    }

    /** Why the server stopped serving (null while it serves, or when closed from outside). */
    public String retireReason() {
        return retireReason;
    }

    /** Accepts clients until closed, retired or idle for {@link #idleTimeout}; each runs on its own thread. */
    public void serve(Commands commands) throws IOException {
        Stdio.install(); // hull commands print with System.out/err: each to its own client
        running = this;
        Thread.ofPlatform().name("hull-idle").daemon().start(this::watchIdle);
        while (!closed) {
            int conn;
            try {
                conn = UnixSocket.accept(listenFd);
            } catch (LinuxException e) {
                if (closed) {
                    awaitClients();
                    return;
                }
                throw e;
            }
            active.incrementAndGet();
            lastActive = System.nanoTime();
            try {
                Thread.ofPlatform().name("hull-warm-" + conn).daemon().start(() -> {
                    try {
                        handle(conn, commands);
                    } finally {
                        finished();
                    }
                });
            } catch (RuntimeException | OutOfMemoryError e) { // no thread: the client hears nothing but EOF
                Syscalls.close(conn);
                finished();
            }
        }
    }

    /** Lets the commands still running finish their answers (a retiring server's last "C"), for up to 10 s. */
    private void awaitClients() {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (active.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void finished() {
        lastActive = System.nanoTime();
        served.incrementAndGet();
        if (active.decrementAndGet() == 0 && retiring) {
            stop();
        }
    }

    /** Checks, about once a timeout (at most a minute apart), whether nobody has been connected for it. */
    private void watchIdle() {
        while (!closed) {
            java.time.Duration t = idleTimeout;
            long wait = t.isZero() ? 60_000 : Math.min(60_000, Math.max(10, t.toMillis()));
            if (!t.isZero() && clients() == 0 && System.nanoTime() - lastActive >= t.toNanos()) {
                retireReason = "idle for " + t.toSeconds() + " s";
                synchronized (this) {
                    if (clients() == 0) { // a client may have connected meanwhile
                        stop();
                        return;
                    }
                }
            }
            if (!t.isZero()) {
                long left = t.toMillis() - (System.nanoTime() - lastActive) / 1_000_000;
                wait = Math.max(10, Math.min(wait, left));
            }
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * A client of another build asked: this server takes no more commands (each is sent cold) and
     * stops once the commands running through it are done — at once if only this one is.
     */
    private synchronized void retire(String why) {
        if (!retiring) {
            retiring = true;
            retireReason = why;
            System.err.println(java.time.Instant.now() + " hull: service retiring: " + why);
        }
        if (active.get() <= 1) {
            stop();
        }
    }

    /**
     * Stops accepting: the socket goes (so the next command starts a new service), then the lock;
     * serve() returns. Commands still running finish.
     */
    private synchronized void stop() {
        if (closed) {
            return;
        }
        closed = true;
        UnixSocket.shutdown(listenFd);
        Syscalls.close(listenFd);
        if (ownsSocket) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                System.err.println("hull: cannot remove " + path + ": " + e.getMessage());
            }
        }
        int lock = lockFd;
        lockFd = -1;
        if (lock >= 0) {
            Syscalls.close(lock);
        }
    }

    private static final byte[] TAKEN = "A\n".getBytes(StandardCharsets.US_ASCII);

    private void handle(int conn, Commands commands) {
        int[] fds = new int[0];
        Thread signals = null;
        Client client = null;
        String program = "hull-runtime";
        dev.hull.runtime.Trace trace;
        try { // everything in here: whatever is thrown (an Error too), the finally below closes conn
            trace = dev.hull.runtime.Trace.start();
            UnixSocket.Peer peer = UnixSocket.peer(conn);
            String refused = refusal(peer);
            UnixSocket.Message first = UnixSocket.receive(conn, 65536, 3);
            fds = first.fds();
            if (refused != null) { // nothing of the request is looked at: its stderr gets why, and no more
                program = requestedProgram(first.data());
                if (fds.length == 3) {
                    Syscalls.writeFully(fds[2], (program + ": " + refused + "\n").getBytes(StandardCharsets.UTF_8));
                }
                reply(conn, program.equals("hull") ? 125 : 1);
                return;
            }
            byte[] req = readRequest(conn, first.data());
            if (fds.length != 3) {
                reply(conn, 125);
                return;
            }
            trace.mark("warm.receive");
            Request r = Request.parse(strings(req));
            program = r.program();
            client = new Client(conn, fds, Thread.currentThread());
            if (!BuildInfo.id().equals(r.build())) {
                // Never run another build's command line on this code: retire, and the client runs
                // it cold (whose JVM starts a service of its own build once this one is gone).
                retire("a client of build " + r.build() + " asked (this service is build " + BuildInfo.id() + ")");
                client.runCold();
                return;
            }
            if (!retiring && codeReplaced()) {
                // A rebuild or upgrade rewrote the jar this JVM loads its classes from: a class not yet
                // loaded would now come from another build (or fail). This command and the next run cold.
                retire("its jar " + JAR + " changed on disk");
                client.runCold();
                return;
            }
            if (retiring || closed || commands.needsOwnProcess(r)) {
                client.runCold();
                return;
            }
            // "A": the command is taken. Before this line the client may run it cold should the
            // service vanish (nothing of it ran here); after it, a vanished service is an error.
            Syscalls.writeFully(conn, TAKEN);
            ForegroundSignals containerPid = new ForegroundSignals(r.hull() ? client : null);
            ClientLauncher launcher = r.launches() && !r.hull() ? new ClientLauncher(conn) : null;
            containerPid.launcher = launcher;
            Client c = client;
            Session session = new Session(r.cwd(), c.outStream, c.errStream, fds, containerPid::started);
            signals = Thread.ofPlatform().daemon().start(() -> relaySignals(conn, containerPid));
            Stdio.Target stdio = new Stdio.Target(new FdInputStream(fds[0]), c.outStream, c.errStream, fds);
            java.util.concurrent.Callable<Integer> command = () -> dev.hull.runtime.WindowChanges.with(
                    containerPid.windowChanges, () -> dev.hull.runtime.Caller.with(
                    new dev.hull.runtime.Caller(r.cwd(), callerEnv(r), peer.uid(), peer.gid(), umaskOf(peer.pid()),
                            peer.groups()),
                    () -> Stdio.with(stdio, () -> commands.run(r, session))));
            int code = launcher == null ? command.call()
                    : dev.hull.runtime.executor.ExecutorSession.launchingThrough(launcher, command);
            trace.mark("warm.command");
            client.exit(code);
        } catch (Exception e) {
            try {
                if (fds.length == 3 && (client == null || !client.dropped)) {
                    Syscalls.writeFully(fds[2], (program + ": warm server: " + e + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                }
                if (client != null) {
                    client.exit(1);
                } else {
                    reply(conn, 1);
                }
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
            if (client != null) {
                client.finish(); // no write of a straggling thread may reach a reused descriptor number
            }
            for (int fd : fds) {
                Syscalls.close(fd);
            }
            Syscalls.close(conn);
        }
    }

    /**
     * The client side of one connection: its stdout and stderr (writes are dropped once the
     * command was cancelled) and the single answer it gets.
     */
    private static final class Client {
        final int conn;
        final Thread worker;
        final OutputStream out;
        final OutputStream err;
        final java.io.PrintStream outStream;
        final java.io.PrintStream errStream;
        volatile boolean dropped;
        private boolean answered;
        /** Writes hold it shared; {@link #finish} takes it exclusively before the fds are closed. */
        private final java.util.concurrent.locks.ReentrantReadWriteLock writing =
                new java.util.concurrent.locks.ReentrantReadWriteLock();

        Client(int conn, int[] fds, Thread worker) {
            this.conn = conn;
            this.worker = worker;
            this.out = new Dropping(fds[1]);
            this.err = new Dropping(fds[2]);
            this.outStream = new java.io.PrintStream(out, true, StandardCharsets.UTF_8);
            this.errStream = new java.io.PrintStream(err, true, StandardCharsets.UTF_8);
        }

        /** The command's exit code, unless the client already has its answer (cancelled). */
        synchronized void exit(int code) throws IOException {
            if (!answered) {
                answered = true;
                reply(conn, code);
            }
        }

        synchronized void runCold() throws IOException {
            answered = true;
            Syscalls.writeFully(conn, "C\n".getBytes(StandardCharsets.US_ASCII));
        }

        /**
         * A terminating signal before any container of this command runs: the command ends for
         * the client as a cold JVM would (128+signal, no further output); the thread is interrupted.
         */
        synchronized void cancel(int sig) {
            if (answered) {
                return;
            }
            dropped = true;
            worker.interrupt();
            try {
                exit(128 + sig);
            } catch (IOException ignored) {
                // the client is gone
            }
        }

        /** The command is over: from now on its output goes nowhere (threads it started may still print). */
        void finish() {
            writing.writeLock().lock();
            try {
                dropped = true;
            } finally {
                writing.writeLock().unlock();
            }
        }

        private final class Dropping extends OutputStream {
            private final FdOutputStream fd;

            Dropping(int fd) {
                this.fd = new FdOutputStream(fd);
            }

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                writing.readLock().lock();
                try {
                    if (!dropped) {
                        fd.write(b, off, len);
                    }
                } finally {
                    writing.readLock().unlock();
                }
            }
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

    /** The program a request's first field names ("@hull"), without parsing the rest. */
    private static String requestedProgram(byte[] first) {
        if (first.length > 5 && first[4] == '@') {
            for (int i = 5; i < first.length; i++) {
                if (first[i] == 0) {
                    return Request.programName(new String(first, 5, i - 5, StandardCharsets.UTF_8)).equals("hull")
                            ? "hull" : "hull-runtime";
                }
            }
        }
        return "hull-runtime";
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
     * cold path's JVM would have had it queued too. For a hull command (cancel non-null), INT, TERM
     * or HUP before any container runs ends the command instead, as they end a cold JVM.
     */
    private static final class ForegroundSignals {
        private static final java.util.Set<Integer> TERMINATING = java.util.Set.of(1, 2, 15);
        private static final int SIGWINCH = 28;
        private int pid;
        private final List<Integer> pending = new ArrayList<>();
        private final Client cancel;
        /** Set before the relay starts: where the client's "P" answers go. */
        volatile ClientLauncher launcher;

        ForegroundSignals(Client cancel) {
            this.cancel = cancel;
        }

        synchronized void started(int p) {
            pid = p;
            pending.forEach(this::deliver);
            pending.clear();
        }

        /** The client's terminal resizes (its SIGWINCH), for the ptys the command relays to. */
        final dev.hull.runtime.WindowChanges windowChanges = new dev.hull.runtime.WindowChanges();

        synchronized void signal(int sig) {
            if (sig == SIGWINCH) {
                windowChanges.changed(); // and on to the container, as before
            }
            if (pid > 0) {
                deliver(sig);
                return;
            }
            if (pending.size() < 64) {
                pending.add(sig);
            }
            if (cancel != null && TERMINATING.contains(sig)) {
                cancel.cancel(sig);
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
                    if (l.startsWith("P ") && containerPid.launcher != null) {
                        containerPid.launcher.answered(l.substring(2).trim());
                    } else if (l.startsWith("S ")) {
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

    /** A request's environment, with a rootless service's marks ({@link RootlessService#env}). */
    private Map<String, String> callerEnv(Request r) {
        return RootlessService.active() ? RootlessService.env(r.env(), path) : r.env();
    }

    /** A process's umask (the "Umask:" line of /proc/PID/status), or -1 when it cannot be read. */
    static int umaskOf(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Umask:")) {
                    return Integer.parseInt(line.substring(6).trim(), 8);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static void reply(int conn, int code) throws IOException {
        Syscalls.writeFully(conn, ("X " + code + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public void close() throws IOException {
        stop();
        if (running == this) {
            running = null;
        }
    }
}
