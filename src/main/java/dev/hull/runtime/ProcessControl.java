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
 * Terminals and hooks: the plan steps (ops 90-109) and the Java side of both.
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
    static void beforePivotRoot(Plan plan, Spec spec) {
        if (runtimeCreateHooks(spec)) {
            plan.hooksSync();
        }
        if (spec.hooks() != null) {
            for (Hook h : spec.hooks().createContainer()) {
                hookOp(plan, h);
            }
        }
    }

    /** After pivot_root (the container's /dev/ptmx), before the ids change: the terminal. */
    static void terminal(Plan plan, Process proc) {
        if (proc.terminal()) {
            var size = proc.consoleSize();
            plan.console(consoleFd(proc), size == null ? 0 : size.height(), size == null ? 0 : size.width());
        }
    }

    /** After start, just before the user process is exec'd: the startContainer hooks. */
    static void beforeExec(Plan plan, Spec spec) {
        if (spec.hooks() != null) {
            for (Hook h : spec.hooks().startContainer()) {
                hookOp(plan, h);
            }
        }
    }

    private static void hookOp(Plan plan, Hook h) {
        plan.hook(h.path(), h.timeout() == null ? 0 : h.timeout(), h.args(), h.env());
    }

    // ---- Java side ----

    /** The descriptors a create/exec hands the executor (Java keeps the other ends). */
    static final class Channels implements AutoCloseable {
        int consoleOurs = -1, consoleTheirs = -1, stateOurs = -1, stateTheirs = -1;

        static Channels open(Process proc, boolean hookState) throws LinuxException {
            Channels c = new Channels();
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
            return c;
        }

        int[] executorFds() {
            List<Integer> l = new ArrayList<>();
            if (consoleTheirs >= 0) {
                l.add(consoleTheirs);
            }
            if (stateTheirs >= 0) {
                l.add(stateTheirs);
            }
            return l.stream().mapToInt(Integer::intValue).toArray();
        }

        /** Once the executor runs: its copies are its own. */
        void spawned() {
            closeQuietly(consoleTheirs);
            closeQuietly(stateTheirs);
            consoleTheirs = stateTheirs = -1;
        }

        /** Sends the state JSON to the init (once its pid is known) and closes our end: EOF for it. */
        void sendState(State state) throws IOException {
            if (stateOurs >= 0) {
                Syscalls.writeFully(stateOurs, state.toJson().toString().getBytes(StandardCharsets.UTF_8));
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

    private static Spec specOf(ContainerRecord rec) {
        try {
            return dev.hull.runtime.spec.SpecParser.parse(Path.of(rec.bundle(), "config.json"));
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
            runHooksWarn("poststart", spec.hooks().poststart(), rt.state(rec.id()), System.err);
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
