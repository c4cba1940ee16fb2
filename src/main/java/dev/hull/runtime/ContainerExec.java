package dev.hull.runtime;

import dev.hull.runtime.executor.ExecutorException;
import dev.hull.runtime.executor.ExecutorSession;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.Process;
import dev.hull.runtime.spec.Spec;
import dev.hull.runtime.spec.SpecParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.IntConsumer;

/**
 * {@code exec}: runs a new process in a created or running container: in every namespace and the
 * cgroup of its init, with the same process setup (ids, cwd, env, umask, and the confinement steps
 * PlanBuilder adds for the init).
 */
public final class ContainerExec {
    private ContainerExec() {}

    /** The container's config, for the defaults of an exec'd process (runc takes them from config.json). */
    public static Spec spec(ContainerRuntime rt, String id) throws RuntimeError, IOException {
        ContainerRecord rec = rt.store().load(id);
        try {
            return SpecParser.parse(Path.of(rec.bundle(), "config.json"));
        } catch (ConfigException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
    }

    /**
     * Runs proc in container id. Detached: returns 0 once the process has exec'd. In the foreground:
     * calls onStarted with its pid, waits, and returns its exit code (128+signal when killed).
     */
    public static int exec(ContainerRuntime rt, String id, Process proc, boolean detach, Path pidFile,
            IntConsumer onStarted) throws RuntimeError, IOException {
        return exec(rt, id, proc, detach, pidFile, onStarted, null, null);
    }

    /**
     * As {@link #exec(ContainerRuntime, String, Process, boolean, Path, IntConsumer)}; with a terminal,
     * typing detachKeys (their bytes) lets the caller go and returns {@link ExecutorSession#DETACHED}:
     * the process runs on, its terminal held open by the container's monitor (its attach.sock in
     * monitorDir), as docker's exec -it.
     */
    public static int exec(ContainerRuntime rt, String id, Process proc, boolean detach, Path pidFile,
            IntConsumer onStarted, String detachKeys, Path monitorDir) throws RuntimeError, IOException {
        ContainerRecord rec = rt.store().load(id);
        String status = rt.status(rec);
        if (status.equals("stopped")) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE,
                    "cannot exec in container \"" + id + "\": it is stopped");
        }
        if (proc.args().isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "process.args: at least one argument is required");
        }
        ProcessControl.checkTerminal(proc, rt.consoleSocket(), detach);
        Spec spec = spec(rt, id);
        Plan plan;
        try {
            plan = ExecPlanBuilder.build(spec, proc, rec.pid(), detach, rt.preserveFds());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE,
                    "cannot exec in container \"" + id + "\": its init (pid " + rec.pid() + ") is gone");
        }
        if (!ContainerRuntime.alive(rec.pid(), rec.startTime())) { // the namespaces read above were its
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE,
                    "cannot exec in container \"" + id + "\": it is stopped");
        }
        ProcessControl.Channels channels = ProcessControl.Channels.open(proc, false, rt.preserveFds());
        SeccompNotify notify = SeccompNotify.open(spec);
        ExecutorSession session;
        try {
            session = ExecutorSession.start(plan, rt.stdio(), notify.executorFds(channels.executorFds()));
        } catch (ExecutorException e) {
            channels.close();
            notify.close();
            throw new RuntimeError(RuntimeError.Kind.FAILED, "exec in \"" + id + "\": " + e.getMessage(), e);
        }
        channels.spawned();
        notify.spawned();
        int master = -1;
        try {
            int pid = session.awaitPid();
            rt.cgroupOf(rec).addProcess(pid);
            notify.start(pid, rt.state(id)); // the exec'd process's own filter and listener, as runc
            session.go();
            session.awaitReady();
            notify.finish();
            master = channels.receiveMaster();
            if (pidFile != null) {
                Path abs = pidFile.toAbsolutePath();
                Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
                Files.writeString(tmp, Integer.toString(pid));
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            master = ProcessControl.deliverMaster(master, rt.consoleSocket());
            session.commit();
            if (detach) {
                session.close();
                ProcessControl.closeQuietly(master);
                return 0;
            }
            try (ConsoleRelay relay = ConsoleRelay.attach(master, rt.stdio(), monitorDir == null ? null : detachKeys)) {
                master = -1;
                if (onStarted != null) {
                    onStarted.accept(pid);
                }
                relay.watchResize();
                int code = session.awaitExit();
                if (relay.detached()) {
                    Thread.interrupted(); // (the relay's doing: this thread goes on)
                    session.release(); // its executor waits for the process, which runs on
                    int keep = relay.dupMaster();
                    try {
                        ContainerAttach.hold(monitorDir, keep);
                    } finally {
                        dev.hull.linux.Syscalls.close(keep);
                    }
                    return ExecutorSession.DETACHED;
                }
                relay.drain();
                return code;
            }
        } catch (ExecutorException e) {
            notify.rethrowInstead(e);
            throw new RuntimeError(RuntimeError.Kind.FAILED, "exec in \"" + id + "\": " + e.getMessage(), e);
        } finally {
            channels.close();
            notify.close();
            ProcessControl.closeQuietly(master);
            session.close();
        }
    }
}
