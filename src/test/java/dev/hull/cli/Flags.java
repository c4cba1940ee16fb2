package dev.hull.cli;

import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.engine.MonitorStatus;
import dev.hull.image.SnapshotStore;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine;

/**
 * The run-flag tests' fixture: a private store (HULL_HOME/HULL_STATE under /tmp), containers run
 * in-process through the {@link Engine} with the flags parsed by the real {@code hull run} command
 * line (picocli, {@link ContainerOptions}) — no JVM start per container — and the {@link HullCommand}
 * for what only the CLI process shows (its exit code, stdin, ps/inspect/logs output).
 */
final class Flags implements AutoCloseable {
    final Path dir;
    final Engine engine;
    final HullCommand hull;
    private final List<String> made = new ArrayList<>();
    /** The id of the container the last {@link #run} made. */
    String lastId;
    /** Every container this made (removed or not): what the host holds for them is the test's to check. */
    final Set<String> ids = ConcurrentHashMap.newKeySet();

    Flags(String name) throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-" + name + "-");
        engine = new Engine(dir.resolve("home"), dir.resolve("state"));
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of());
        engine.images().getOrBuildBuiltin("busybox");
    }

    /** What the container printed and how it ended. */
    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    /** {@code hull run ARGS} parsed by the real command line: the options it gives the engine. */
    static CreateOptions parse(String... args) throws Exception {
        ContainerCli.Run run = new ContainerCli.Run();
        CommandLine cl = new CommandLine(run);
        cl.getCommandSpec().parser().stopAtPositional(true);
        cl.parseArgs(args);
        return run.options.toCreateOptions(run.image, run.command);
    }

    /** {@code hull run ARGS} in the foreground, in-process: stdin from /dev/null unless -i and stdin given. */
    Result run(String... args) throws Exception {
        return runWithInput(null, args);
    }

    Result runWithInput(String stdin, String... args) throws Exception {
        CreateOptions o = parse(args);
        Path in = Files.createTempFile(dir, "in-", "");
        Path out = Files.createTempFile(dir, "out-", "");
        Path err = Files.createTempFile(dir, "err-", "");
        Files.writeString(in, stdin == null ? "" : stdin);
        int[] fds = {Syscalls.open(in.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0),
            Syscalls.open(out.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0),
            Syscalls.open(err.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0)};
        try {
            Engine.Run r = engine.run(o, false, new Engine.Attach(fds, pid -> { }));
            lastId = r.container().id();
            ids.add(lastId);
            if (!o.autoRemove) {
                made.add(r.container().id());
            }
            return new Result(r.exitCode(), Files.readString(out), Files.readString(err));
        } finally {
            for (int fd : fds) {
                Syscalls.close(fd);
            }
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs and asserts exit 0; the container's stdout. */
    String output(String... args) throws Exception {
        Result r = run(args);
        if (r.exit() != 0) {
            throw new AssertionError("hull run " + String.join(" ", args) + ": " + r);
        }
        return r.out();
    }

    /**
     * {@code hull run -d ARGS}, in-process: the container's id once it runs (removed at close).
     * Waits until its monitor has recorded the start: Engine.run returns before that (a bug, see
     * RunLifecycleFlagsTest.stopRightAfterRunDetachedStopsIt), and until then the container counts
     * as "created" — a stop would do nothing.
     */
    String detached(String... args) throws Exception {
        String id = detachedNoWait(args);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (status(id) == null) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the monitor of " + id + " recorded no start in 10 s");
            }
            Thread.sleep(5);
        }
        return id;
    }

    /** {@code hull start ID} (detached), waiting until the new monitor has recorded the start (see {@link #detached}). */
    void start(String id) throws Exception {
        MonitorStatus before = status(id);
        engine.start(id, null);
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (;;) {
            MonitorStatus now = status(id);
            if (now != null && (before == null || now.monitorPid() != before.monitorPid()
                    || !now.startedAt().equals(before.startedAt()))) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the monitor of " + id + " recorded no new start in 10 s");
            }
            Thread.sleep(5);
        }
    }

    /** {@code hull run -d ARGS}, in-process, as the engine returns it. */
    String detachedNoWait(String... args) throws Exception {
        CreateOptions o = parse(args);
        Engine.Run r = engine.run(o, true, null);
        ids.add(r.container().id());
        made.add(r.container().id());
        return r.container().id();
    }

    /** {@code hull create ARGS}, in-process: the container's id (removed at close). */
    String create(String... args) throws Exception {
        String id = engine.create(parse(args)).id();
        ids.add(id);
        made.add(id);
        return id;
    }

    /** The container's monitor status (null before its first start). */
    MonitorStatus status(String id) throws IOException {
        return MonitorStatus.read(engine.containers().statusFile(id));
    }

    /** Waits until the container is exited for good (monitor gone), up to millis; its state. */
    Engine.State awaitExited(String id, long millis) throws Exception {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        for (;;) {
            Engine.State s = engine.state(engine.containers().read(id));
            if (s.status().equals("exited") && (s.monitor() == null || !s.monitor().monitorAlive())) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("container " + id + " still " + s.status() + " after " + millis + " ms");
            }
            Thread.sleep(20);
        }
    }

    /** The lines the container wrote, as {@code hull logs} would print them (all rotated files, in order). */
    String logs(String id) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try (var po = new java.io.PrintStream(out, true); var pe = new java.io.PrintStream(err, true)) {
            dev.hull.engine.ContainerLogs.print(engine.containers().logFile(id),
                    new dev.hull.engine.ContainerLogs.Query(-1, null, null, false, false), po, pe, () -> false);
        }
        return out.toString() + err.toString();
    }

    void remove(String id) throws Exception {
        engine.remove(id, true);
        made.remove(id);
    }

    @Override
    public void close() throws Exception {
        for (String id : List.copyOf(made)) {
            try {
                engine.remove(id, true);
            } catch (Exception e) {
                System.err.println("cleanup of " + id + ": " + e);
            }
        }
        SnapshotStore.deleteTree(dir);
    }
}
