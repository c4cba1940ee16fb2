package dev.hull.runtime;

import dev.hull.linux.FdPassing;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import dev.hull.linux.UnixSocket;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.Hook;
import dev.hull.runtime.spec.Hooks;
import dev.hull.runtime.spec.Process;
import dev.hull.runtime.spec.Spec;
import dev.hull.runtime.spec.State;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Terminals, hooks and preserved fds: the plan steps (ops 90-109) and the Java side of them.
 *
 * <p>The executor gets extra descriptors from fd 4 on: the console socket (the init sends the pty
 * master there) when the process has a terminal, then the hook-state socket (the init reads the
 * state JSON its in-container hooks get on stdin) when there are createContainer or startContainer
 * hooks.
 */
public final class ProcessControl {
    static final int FIRST_EXTRA_FD = 4;
    /** The payload runc sends with the pty master on a console socket. */
    static final byte[] CONSOLE_PAYLOAD = "/dev/ptmx".getBytes(StandardCharsets.US_ASCII);

    private ProcessControl() {}

    static boolean hooksInInit(Spec spec) {
        Hooks h = spec.hooks();
        return h != null && (!h.createContainer().isEmpty() || !h.startContainer().isEmpty());
    }

    static boolean runtimeCreateHooks(Spec spec) {
        Hooks h = spec.hooks();
        return h != null && (!h.prestart().isEmpty() || !h.createRuntime().isEmpty());
    }

    static int consoleFd(Process proc) {
        return proc.terminal() ? FIRST_EXTRA_FD : -1;
    }

    static int hookStateFd(Spec spec) {
        return hooksInInit(spec) ? FIRST_EXTRA_FD + (spec.process().terminal() ? 1 : 0) : -1;
    }

    /** The start-report fifo in the state dir (only with startContainer hooks): the init tells start how it went. */
    static final String START_REPORT = "start.report";

    static boolean startHooks(Spec spec) {
        return spec.hooks() != null && !spec.hooks().startContainer().isEmpty();
    }

    /** Where the executor gets the preserved fds: after the console and hook-state sockets. */
    static int preservedFrom(Process proc, boolean hookState) {
        return FIRST_EXTRA_FD + (proc.terminal() ? 1 : 0) + (hookState ? 1 : 0);
    }

    // ---- plan steps (called by PlanBuilder at the points named) ----

    /** Right after clone: read the state the in-container hooks get. */
    static void afterClone(Plan plan, Spec spec) {
        if (hooksInInit(spec)) {
            plan.hookState(hookStateFd(spec));
        }
    }

    /**
     * After the mounts, before pivot_root: the runtime-namespace hooks (prestart, createRuntime; run by
     * Java at the HOOKS sync point), then the createContainer hooks in the container's namespaces.
     */
    static void beforePivotRoot(Plan plan, Spec spec, PlanBuilder.Context ctx) {
        if (runtimeCreateHooks(spec)) {
            plan.hooksSync();
        }
        if (spec.hooks() != null) {
            List<Hook> hooks = spec.hooks().createContainer();
            for (int i = 0; i < hooks.size(); i++) {
                hookOp(plan, "createContainer", i, hooks.get(i));
            }
        }
        if (startHooks(spec)) {
            plan.startReport(ctx.stateDir().resolve(START_REPORT).toString()); // host path: before pivot_root
        }
    }

    /** Before clone: what an aborted creation removes besides the exec fifo. */
    static void onAbort(Plan plan, Spec spec, PlanBuilder.Context ctx) {
        if (startHooks(spec)) {
            plan.onAbortUnlink(ctx.stateDir().resolve(START_REPORT).toString());
        }
    }

    /**
     * After pivot_root (the container's /dev/ptmx), before the ids change: the terminal; with
     * {@code bindConsole} (the init, on a /dev of its own) also bound on /dev/console, as runc does.
     */
    static void terminal(Plan plan, Process proc, boolean bindConsole) {
        if (proc.terminal()) {
            var size = proc.consoleSize();
            plan.console(consoleFd(proc), size == null ? 0 : size.height(), size == null ? 0 : size.width(),
                    bindConsole);
        }
    }

    /**
     * After start, just before the user process is exec'd (and before a seccomp filter is loaded): the
     * startContainer hooks with the "created" state, the preserved fds moved into place, then the
     * report that start waits for.
     */
    static void beforeExec(Plan plan, Spec spec, int preserveFds) {
        if (startHooks(spec)) {
            plan.hookStateNext();
            List<Hook> hooks = spec.hooks().startContainer();
            for (int i = 0; i < hooks.size(); i++) {
                hookOp(plan, "startContainer", i, hooks.get(i));
            }
        }
        if (preserveFds > 0) {
            plan.preserveFds(preservedFrom(spec.process(), hooksInInit(spec)), preserveFds);
        }
        if (startHooks(spec)) {
            plan.startOk();
        }
    }

    private static void hookOp(Plan plan, String phase, int i, Hook h) {
        plan.hookName("hooks." + phase + "[" + i + "]");
        plan.hook(h.path(), h.timeout() == null ? 0 : h.timeout(), h.args(), h.env());
    }

    /** proc without a terminal: when a monitor holds the pty, Java opens no console channel. */
    static Process withoutTerminal(Process p) {
        if (p == null || !p.terminal()) {
            return p;
        }
        return new Process(false, p.consoleSize(), p.user(), p.args(), p.commandLine(), p.env(), p.cwd(),
                p.noNewPrivileges(), p.capabilities(), p.rlimits(), p.apparmorProfile(), p.oomScoreAdj(),
                p.selinuxLabel(), p.raw());
    }

    // ---- Java side ----

    /** The descriptors a create/exec hands the executor (Java keeps the other ends). */
    static final class Channels implements AutoCloseable {
        int consoleOurs = -1, consoleTheirs = -1, stateOurs = -1, stateTheirs = -1;
        /** Close-on-exec copies of the preserved fds, numbered above every fd the executor is given. */
        int[] preserved = new int[0];

        static Channels open(Process proc, boolean hookState) throws LinuxException {
            return open(proc, hookState, 0);
        }

        /**
         * As {@link #open(Process, boolean)}, plus this process's fds 3..3+preserveFds-1 for the
         * container process (--preserve-fds). Every fd handed to the executor is first copied above
         * the highest fd number it will have, so no dup2 of the spawn overwrites a later source.
         */
        static Channels open(Process proc, boolean hookState, int preserveFds) throws LinuxException {
            Channels c = new Channels();
            int floor = preservedFrom(proc, hookState) + preserveFds;
            try {
                c.preserved = new int[preserveFds];
                java.util.Arrays.fill(c.preserved, -1);
                for (int i = 0; i < preserveFds; i++) {
                    try {
                        c.preserved[i] = dev.hull.linux.FdControl.dupAtLeast(3 + i, floor);
                    } catch (LinuxException e) {
                        throw new LinuxException("--preserve-fds " + preserveFds + ": fd " + (3 + i)
                                + " is not open (" + e.getMessage() + ")", e.errno());
                    }
                }
            } catch (LinuxException e) {
                c.close();
                throw e;
            }
            if (proc.terminal()) {
                int[] p = Syscalls.socketpair();
                c.consoleOurs = p[0];
                c.consoleTheirs = p[1];
            }
            if (hookState) {
                int[] p = Syscalls.socketpair();
                c.stateOurs = p[0];
                c.stateTheirs = p[1];
            }
            if (preserveFds > 0) { // the sockets too: above the executor's fd numbers
                c.consoleTheirs = above(c.consoleTheirs, floor);
                c.stateTheirs = above(c.stateTheirs, floor);
            }
            return c;
        }

        private static int above(int fd, int floor) throws LinuxException {
            if (fd < 0 || fd >= floor) {
                return fd;
            }
            int n = dev.hull.linux.FdControl.dupAtLeast(fd, floor);
            Syscalls.close(fd);
            return n;
        }

        int[] executorFds() {
            List<Integer> l = new ArrayList<>();
            if (consoleTheirs >= 0) {
                l.add(consoleTheirs);
            }
            if (stateTheirs >= 0) {
                l.add(stateTheirs);
            }
            for (int fd : preserved) {
                l.add(fd);
            }
            return l.stream().mapToInt(Integer::intValue).toArray();
        }

        private void closePreserved() {
            for (int i = 0; i < preserved.length; i++) {
                closeQuietly(preserved[i]);
                preserved[i] = -1;
            }
        }

        /** Once the executor runs: its copies are its own. */
        void spawned() {
            closeQuietly(consoleTheirs);
            closeQuietly(stateTheirs);
            consoleTheirs = stateTheirs = -1;
            closePreserved();
        }

        /**
         * Sends the state JSON to the init (once its pid is known) and closes our end: EOF for it. The
         * createContainer hooks get {@code creating}; the startContainer hooks {@code created}, after a NUL.
         */
        void sendState(State creating, State created) throws IOException {
            if (stateOurs >= 0) {
                java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
                b.writeBytes(creating.toJson().toString().getBytes(StandardCharsets.UTF_8));
                b.write(0);
                b.writeBytes(created.toJson().toString().getBytes(StandardCharsets.UTF_8));
                Syscalls.writeFully(stateOurs, b.toByteArray());
                closeQuietly(stateOurs);
                stateOurs = -1;
            }
        }

        /** After READY: the pty master the init sent (or -1 without a terminal). */
        int receiveMaster() throws IOException {
            if (consoleOurs < 0) {
                return -1;
            }
            UnixSocket.Message m = UnixSocket.receive(consoleOurs, 64, 1);
            if (m.fds().length != 1) {
                throw new IOException("the container init sent no pty master");
            }
            return m.fds()[0];
        }

        @Override
        public void close() {
            closeQuietly(consoleOurs);
            closeQuietly(consoleTheirs);
            closeQuietly(stateOurs);
            closeQuietly(stateTheirs);
            consoleOurs = consoleTheirs = stateOurs = stateTheirs = -1;
            closePreserved();
        }
    }

    // ---- start: the outcome of the startContainer hooks ----

    /** At create, next to the exec fifo (and owned alike): the start-report fifo, if there are startContainer hooks. */
    static void makeStartReport(Spec spec, Path execFifo) throws IOException {
        if (!startHooks(spec)) {
            return;
        }
        Path report = execFifo.resolveSibling(START_REPORT);
        Syscalls.mkfifo(report.toString(), 0600);
        java.nio.file.Files.setAttribute(report, "unix:uid", java.nio.file.Files.getAttribute(execFifo, "unix:uid"));
        java.nio.file.Files.setAttribute(report, "unix:gid", java.nio.file.Files.getAttribute(execFifo, "unix:gid"));
    }

    /**
     * Opens the start-report fifo for reading, before start writes its byte (the init holds the fifo
     * open for writing until it execs, so the open does not block and the data cannot be lost), or
     * returns -1 when the container has no startContainer hooks (no fifo).
     */
    static int openStartReport(Path stateDir) throws LinuxException {
        Path fifo = stateDir.resolve(START_REPORT);
        if (!java.nio.file.Files.exists(fifo)) {
            return -1;
        }
        int fd = Syscalls.open(fifo.toString(), Syscalls.O_RDONLY | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC, 0);
        dev.hull.linux.FdControl.setBlocking(fd);
        return fd;
    }

    /**
     * Reads the start report until EOF (the init exec'd or died): "0" is success; "E msg" a failure
     * (a startContainer hook failed, or the exec): then the container is stopped (its init is killed,
     * as the runtime spec asks) and start fails with the message.
     */
    static void awaitStartReport(int fd, ContainerRecord rec) throws RuntimeError, IOException {
        java.io.ByteArrayOutputStream report = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (;;) {
                int n = Syscalls.read(fd, buf, 0, buf.length);
                if (n <= 0) {
                    break;
                }
                report.write(buf, 0, n);
            }
        } finally {
            Syscalls.close(fd);
        }
        String r = report.toString(StandardCharsets.UTF_8);
        if (r.equals("0")) {
            return;
        }
        int e = r.indexOf('E');
        String why = e >= 0 ? r.substring(e + 1).trim() : "its init exited before it ran the process";
        stop(rec);
        throw new RuntimeError(RuntimeError.Kind.FAILED, "cannot start container \"" + rec.id() + "\": " + why);
    }

    /** Kills the init (if it still is ours) and waits, bounded, until it is gone. */
    private static void stop(ContainerRecord rec) throws RuntimeError {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (ContainerRuntime.alive(rec.pid(), rec.startTime())) {
            try {
                Syscalls.kill(rec.pid(), 9);
            } catch (LinuxException ignored) {
                // gone meanwhile
            }
            if (System.nanoTime() > deadline) {
                throw new RuntimeError(RuntimeError.Kind.FAILED,
                        "container \"" + rec.id() + "\": init (pid " + rec.pid() + ") did not die within 10 s");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static void closeQuietly(int fd) {
        if (fd >= 0) {
            Syscalls.close(fd);
        }
    }

    /** runc's console-socket protocol: connect to path, send the master with payload "/dev/ptmx". */
    static void sendToConsoleSocket(Path socket, int master) throws RuntimeError {
        int s;
        try {
            s = FdPassing.connect(socket.toString());
        } catch (LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "--console-socket " + socket + ": " + e.getMessage());
        }
        try {
            FdPassing.sendFd(s, master, CONSOLE_PAYLOAD);
        } catch (LinuxException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "--console-socket " + socket + ": " + e.getMessage());
        } finally {
            Syscalls.close(s);
        }
    }

    /** Runs the hooks of one phase in the runtime's namespaces; the first failure throws. */
    static void runHooks(String phase, List<Hook> hooks, State state) throws RuntimeError {
        for (int i = 0; i < hooks.size(); i++) {
            HookRunner.run(phase + "[" + i + "]", hooks.get(i), state);
        }
    }

    /** As {@link #runHooks}, but failures are warnings on stderr (poststart, poststop). */
    static void runHooksWarn(String phase, List<Hook> hooks, State state, java.io.PrintStream warn) {
        for (int i = 0; i < hooks.size(); i++) {
            try {
                HookRunner.run(phase + "[" + i + "]", hooks.get(i), state);
            } catch (RuntimeError e) {
                warn.println("hull-runtime: warning: " + e.getMessage());
            }
        }
    }

    /** runc's rules: a terminal needs a console socket unless the caller attaches (foreground run/exec). */
    static void checkTerminal(Process proc, Path consoleSocket, boolean detach) throws RuntimeError {
        if (proc == null) {
            return;
        }
        if (proc.terminal() && consoleSocket == null && detach) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "process.terminal is true: --console-socket is"
                    + " required (or run in the foreground to attach this terminal)");
        }
        if (!proc.terminal() && consoleSocket != null) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                    "--console-socket given but process.terminal is false");
        }
    }

    /** At the init's hooks point: prestart (deprecated), then createRuntime, in the runtime's namespaces. */
    static void runCreateHooks(Spec spec, State state) throws RuntimeError {
        runHooks("prestart", spec.hooks().prestart(), state);
        runHooks("createRuntime", spec.hooks().createRuntime(), state);
    }

    /**
     * Gives the pty master to the console socket when there is one (returns -1: closed here), else
     * returns it for the caller to attach.
     */
    static int deliverMaster(int master, Path consoleSocket) throws RuntimeError {
        if (master < 0 || consoleSocket == null) {
            return master;
        }
        try {
            sendToConsoleSocket(consoleSocket, master);
        } finally {
            Syscalls.close(master);
        }
        return -1;
    }

    /** config.json documents parsed for their hooks, by path, with the bytes they were parsed from. */
    private record ParsedConfig(byte[] bytes, Spec spec) {}

    private static final java.util.Map<Path, ParsedConfig> PARSED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The container's config, for its hooks: start and delete each read it again; in the warm server
     * the same document is met twice per container, so a parse is reused while the bytes match.
     */
    private static Spec specOf(ContainerRecord rec) {
        try {
            Path file = Path.of(rec.bundle(), "config.json");
            byte[] bytes = java.nio.file.Files.readAllBytes(file);
            ParsedConfig known = PARSED.get(file);
            if (known != null && java.util.Arrays.equals(known.bytes(), bytes)) {
                return known.spec();
            }
            Spec spec = dev.hull.runtime.spec.SpecParser.parse(bytes, file.toString());
            if (PARSED.size() >= 32) {
                PARSED.clear();
            }
            PARSED.put(file, new ParsedConfig(bytes, spec));
            return spec;
        } catch (IOException | dev.hull.runtime.spec.ConfigException e) {
            System.err.println("hull-runtime: warning: cannot read the hooks of container \"" + rec.id() + "\": "
                    + e.getMessage());
            return null;
        }
    }

    /** After start: poststart hooks (a failure is a warning, per the runtime spec). */
    static void afterStart(ContainerRuntime rt, ContainerRecord rec) throws RuntimeError, IOException {
        Spec spec = specOf(rec);
        if (spec != null && spec.hooks() != null && !spec.hooks().poststart().isEmpty()) {
            // The started container's state, as runc gives it: a short-lived process may be gone by
            // now, but the hooks are about the start that just happened.
            runHooksWarn("poststart", spec.hooks().poststart(),
                    new State(rec.ociVersion(), rec.id(), "running", rec.pid(), rec.bundle(), rec.annotations()), System.err);
        }
    }

    /** After delete: poststop hooks (a failure is a warning). */
    static void afterDelete(ContainerRecord rec) {
        if (!java.nio.file.Files.exists(Path.of(rec.bundle(), "config.json"))) {
            return;
        }
        Spec spec = specOf(rec);
        if (spec != null && spec.hooks() != null && !spec.hooks().poststop().isEmpty()) {
            State stopped = new State(rec.ociVersion(), rec.id(), "stopped", 0, rec.bundle(), rec.annotations());
            runHooksWarn("poststop", spec.hooks().poststop(), stopped, System.err);
        }
    }
}
