package dev.hull.runtime.executor;

import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One run of the executor: spawned with the plan socket on fd 3, then driven
 * through the sync points PID → GO → READY → COMMIT (→ EXIT in foreground
 * mode). Closing the session before COMMIT makes the executor kill the init
 * and undo what the plan listed for abort.
 */
public final class ExecutorSession implements AutoCloseable {
    /** awaitExit's answer when the monitor let its caller go (docker's detach keys). */
    public static final int DETACHED = -1;

    private static final int PLAN_FD = 3;

    /**
     * Who starts the executor for this thread's command: null, this JVM (posix_spawn, the executor
     * is its child); the warm server sets the caller's client, so that the executor — and the
     * container's init it clones — is a child of whoever ran the command (a containerd shim, conmon),
     * exactly as with runc, and no JVM sits in that chain.
     */
    public interface Launcher {
        /**
         * Starts hull-executor from {@code from[from.length - 1]} (the sealed executable) with
         * {@code from[i]} as its fd {@code to[i]} and nothing else open; returns its pid.
         */
        int launch(int[] from, int[] to) throws IOException;
    }

    private static final InheritableThreadLocal<Launcher> LAUNCHER = new InheritableThreadLocal<>();

    /** Runs body with executors started by launcher (on this thread and threads it starts). */
    public static <T> T launchingThrough(Launcher launcher, java.util.concurrent.Callable<T> body) throws Exception {
        return dev.hull.runtime.ThreadScope.with(LAUNCHER, launcher, body);
    }

    private final int executorPid;
    private final boolean ourChild;
    private int fd;
    private final byte[] buf = new byte[512];
    private int bufStart;
    private int bufEnd;
    private boolean reaped;
    private int executorStatus;

    private ExecutorSession(int executorPid, int fd, boolean ourChild) {
        this.executorPid = executorPid;
        this.fd = fd;
        this.ourChild = ourChild;
    }

    /** The executor binary: -Dhull.executor, else $HULL_EXECUTOR, else next to the jar. */
    public static Path binary() {
        String prop = System.getProperty("hull.executor");
        if (prop == null) {
            prop = System.getenv("HULL_EXECUTOR");
        }
        Path p = prop != null ? Path.of(prop) : null;
        if (p == null) {
            try {
                Path jar = Path.of(ExecutorSession.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                p = jar.getParent().resolve("hull-executor");
                if (!Files.exists(p)) {
                    p = jar.getParent().getParent().resolve("hull-executor");
                }
            } catch (Exception e) {
                throw new IllegalStateException("cannot locate hull-executor; set -Dhull.executor", e);
            }
        }
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException("hull-executor not found or not executable at " + p
                    + " (build it with ./hull or mvn package; or set -Dhull.executor)");
        }
        return p;
    }

    private static volatile int sealedFd = -1;

    /**
     * What the executor is spawned from: never {@link #binary()} itself — processes the executor
     * clones enter containers, where /proc/PID/exe would hand that host file to the container (the
     * CVE-2019-5736 class) — but a handle this JVM keeps for its whole life on a copy nobody can
     * write: the file seen through a detached read-only overlayfs (shares the host file's pages, so
     * a thousand monitors cost no more memory than one), or a sealed memfd where overlayfs is
     * unavailable. The spawn dup2s it to a low number N and execs /proc/self/fd/N. The executor
     * checks this itself and seals itself when it finds it is not sealed.
     */
    public static int sealedExecutable() throws IOException {
        int fd = sealedFd;
        if (fd < 0) {
            synchronized (ExecutorSession.class) {
                fd = sealedFd;
                if (fd < 0) {
                    Path bin = binary();
                    try {
                        fd = dev.hull.linux.SealedFiles.readOnlyOverlay(bin);
                    } catch (IOException | RuntimeException e) {
                        try {
                            fd = dev.hull.linux.SealedFiles.sealedMemfd(bin, "hull-executor");
                        } catch (IOException | RuntimeException e2) {
                            e2.addSuppressed(e);
                            throw e2;
                        }
                    }
                    sealedFd = fd;
                }
            }
        }
        return fd;
    }

    public static ExecutorSession start(Plan plan) throws IOException {
        return start(plan, null);
    }

    /**
     * Spawns the executor with the plan socket on fd 3 and, when stdio is given,
     * those three descriptors as its (and so the container's) stdin, stdout, stderr;
     * otherwise it inherits ours.
     */
    public static ExecutorSession start(Plan plan, int[] stdio) throws IOException {
        return start(plan, stdio, new int[0]);
    }

    /** As {@link #start(Plan, int[])}, and {@code extraFds[i]} becomes the executor's fd {@code 4 + i}. */
    public static ExecutorSession start(Plan plan, int[] stdio, int[] extraFds) throws IOException {
        byte[] encoded = plan.encode();
        int[] pair = Syscalls.socketpair();
        Launcher launcher = LAUNCHER.get();
        int pid;
        try {
            // fd 3 the plan socket, 0-2 stdio when given, 4.. the extra fds; the sealed executable goes
            // last, right above them: the spawn execs /proc/self/fd/<that>, and the executor closes it.
            int n = stdio == null ? 1 : 4;
            int[] from = new int[n + extraFds.length + 1];
            int[] to = new int[from.length];
            from[0] = pair[1];
            to[0] = PLAN_FD;
            for (int i = 1; i < n; i++) {
                from[i] = stdio[i - 1];
                to[i] = i - 1;
            }
            for (int i = 0; i < extraFds.length; i++) {
                from[n + i] = extraFds[i];
                to[n + i] = PLAN_FD + 1 + i;
            }
            from[from.length - 1] = sealedExecutable();
            to[to.length - 1] = PLAN_FD + 1 + extraFds.length;
            pid = launcher != null ? launcher.launch(from, to) : spawnHere(from, to);
        } catch (IOException | RuntimeException e) {
            Syscalls.close(pair[0]);
            Syscalls.close(pair[1]);
            throw e;
        }
        Syscalls.close(pair[1]);
        ExecutorSession s = new ExecutorSession(pid, pair[0], launcher == null);
        try {
            Syscalls.writeFully(s.fd, encoded);
        } catch (LinuxException e) {
            // The executor died early (it reports why on the socket).
            String line = s.readLineOrNull();
            s.close();
            throw new ExecutorException(line != null && line.startsWith("ERROR ") ? line.substring(6) : e.getMessage());
        }
        return s;
    }

    /** posix_spawn of the executor from its last descriptor (see {@link #start(Plan, int[], int[])}). */
    private static int spawnHere(int[] from, int[] to) throws IOException {
        // posix_spawn applies the dup2s in order: a source numbered at or below some target could be
        // overwritten by an earlier dup2. Lift every such source above the highest target first.
        int maxTo = 0;
        for (int t : to) {
            maxTo = Math.max(maxTo, t);
        }
        int[] sources = from.clone();
        List<Integer> lifted = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < sources.length; i++) {
                if (sources[i] <= maxTo) {
                    sources[i] = dev.hull.linux.FdControl.dupAtLeast(sources[i], maxTo + 1);
                    lifted.add(sources[i]);
                }
            }
            return Syscalls.spawn("/proc/self/fd/" + to[to.length - 1], List.of("hull-executor"), List.of(), sources, to);
        } finally {
            lifted.forEach(Syscalls::close);
        }
    }

    public int executorPid() {
        return executorPid;
    }

    /**
     * Waits for the executor to make the state directory: true once it has (from then on it undoes
     * the creation if this session ends before COMMIT), false if the directory exists already.
     */
    public boolean awaitReserved() throws IOException {
        String line = readLineOrNull();
        if ("EXISTS".equals(line)) {
            return false;
        }
        if (line == null) {
            throw new ExecutorException("executor exited unexpectedly (status " + Syscalls.exitCode(reap()) + ")");
        }
        if (line.startsWith("ERROR ")) {
            throw new ExecutorException(line.substring(6));
        }
        if (!line.equals("RESERVED")) {
            throw new ExecutorException("unexpected executor message: " + line + " (expected RESERVED)");
        }
        return true;
    }

    /** Waits for the init's pid (as the host sees it). */
    public int awaitPid() throws IOException {
        String line = expect("PID ");
        return Integer.parseInt(line.substring(4).trim());
    }

    /** Lets the init go on with the child ops (maps and cgroups are in place). */
    public void go() throws IOException {
        send("GO");
    }

    /** Waits until the init has carried out its plan up to the ready point. */
    public void awaitReady() throws IOException {
        expect("READY");
    }

    /**
     * Waits for the init's next sync point: true at its hooks point (the runtime-namespace hooks run
     * now, then {@link #hooksDone()}), false once it is READY.
     */
    public boolean awaitHooksOrReady() throws IOException {
        String line = expect("");
        if (line.equals("HOOKS")) {
            return true;
        }
        if (!line.equals("READY")) {
            throw new ExecutorException("unexpected executor message: " + line + " (expected HOOKS or READY)");
        }
        return false;
    }

    /** The runtime-namespace hooks have run: the init goes on. */
    public void hooksDone() throws IOException {
        send("HOOKS-DONE");
    }

    /** The container is recorded: the init may outlive us now. */
    public void commit() throws IOException {
        send("COMMIT");
        expect("COMMITTED");
    }

    /** Foreground mode: waits for the init to exit; returns a shell-style exit code. */
    public int awaitExit() throws IOException {
        // The wait is as long as the container runs: a caller whose client left (a warm command
        // cancelled, a Docker API connection closed) interrupts this thread, and closing the
        // session then lets the monitor drop that client; the container runs on.
        while (bufStart >= bufEnd && dev.hull.linux.FdControl.pollInFor(250, fd)[0] == 0) {
            if (Thread.currentThread().isInterrupted()) {
                return DETACHED;
            }
        }
        String line = readLineOrNull();
        if (line == null) {
            int status = reap();
            throw new ExecutorException("executor ended without an exit status (status " + status + ")");
        }
        if (line.equals("DETACHED")) { // a monitor let its caller go: the container runs on
            reap();
            return DETACHED;
        }
        String[] parts = line.split(" ");
        if (parts.length == 3 && parts[0].equals("EXIT")) {
            int n = Integer.parseInt(parts[2]);
            reap();
            return parts[1].equals("signal") ? 128 + n : n;
        }
        throw new ExecutorException("unexpected executor message: " + line);
    }

    private String expect(String prefix) throws IOException {
        String line = readLineOrNull();
        if (line == null) {
            int status = reap();
            throw new ExecutorException("executor exited unexpectedly (status " + Syscalls.exitCode(status) + ")");
        }
        if (line.startsWith("ERROR ")) {
            throw new ExecutorException(line.substring(6));
        }
        if (!line.startsWith(prefix)) {
            throw new ExecutorException("unexpected executor message: " + line + " (expected " + prefix.trim() + ")");
        }
        return line;
    }

    private void send(String line) throws IOException {
        Syscalls.writeFully(fd, (line + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private String readLineOrNull() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (;;) {
            while (bufStart < bufEnd) {
                byte b = buf[bufStart++];
                if (b == '\n') {
                    return sb.toString();
                }
                sb.append((char) (b & 0xff));
            }
            int n = Syscalls.read(fd, buf, 0, buf.length);
            if (n <= 0) {
                return sb.isEmpty() ? null : sb.toString();
            }
            bufStart = 0;
            bufEnd = n;
        }
    }

    /** The executor's wait status; one started by another process (its parent reaps it) counts as 0. */
    private int reap() throws LinuxException {
        if (!reaped && !ourChild) {
            reaped = true;
            executorStatus = 0;
        }
        if (!reaped) {
            executorStatus = Syscalls.waitpid(executorPid, 0);
            reaped = true;
        }
        return executorStatus;
    }

    /**
     * Lets the process run on without its executor (a detached exec): the executor, which only waits for
     * it now (its death signal is cleared since READY), is killed and reaped, so that no signal it would
     * forward (the caller's terminal hanging up) reaches the process; the process is the host's orphan.
     */
    public void release() throws LinuxException {
        if (fd >= 0) {
            Syscalls.close(fd);
            fd = -1;
        }
        if (!reaped) {
            try {
                Syscalls.kill(executorPid, 9);
            } catch (LinuxException ignored) {
                // gone already
            }
            reap();
        }
    }

    /** Closes the socket (an abort, before COMMIT) and reaps the executor. */
    @Override
    public void close() throws IOException {
        if (fd >= 0) {
            Syscalls.close(fd);
            fd = -1;
        }
        reap();
    }
}
