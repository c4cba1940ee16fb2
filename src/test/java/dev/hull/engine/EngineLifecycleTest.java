package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's containers end to end against the real kernel: the monitor keeps logs and the
 * exit status, applies the restart policy, and the state on disk tells the truth after monitors
 * and containers are killed (a crash, or a reboot: state kept, processes gone).
 */
class EngineLifecycleTest {
    static Path root;
    static Engine engine;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "hull-engine-life-");
        engine = new Engine(root.resolve("home"), root.resolve("state"));
    }

    @AfterEach
    void removeAll() throws Exception {
        for (ContainerInfo c : engine.containers().list()) {
            engine.remove(c.id(), true);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        dev.hull.image.SnapshotStore.deleteTree(root);
    }

    static CreateOptions opts(String... command) {
        CreateOptions o = new CreateOptions();
        o.image = "busybox";
        o.command = List.of(command);
        return o;
    }

    static ContainerInfo runDetached(CreateOptions o) throws Exception {
        return engine.run(o, true, null).container();
    }

    static String logs(ContainerInfo c, boolean stderr) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ContainerLogs.print(engine.containers().logFile(c.id()), new ContainerLogs.Query(-1, null, null, false, false),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                () -> false);
        return (stderr ? err : out).toString(StandardCharsets.UTF_8);
    }

    static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    static Engine.State state(ContainerInfo c) {
        try {
            return engine.state(c);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void detachedContainerLogsBothStreamsAndRecordsItsExit() throws Exception {
        ContainerInfo c = runDetached(opts("sh", "-c", "echo out; echo err >&2; printf 'no newline'; exit 3"));
        assertThat(engine.await(c.id())).isEqualTo(3);
        assertThat(logs(c, false)).isEqualTo("out\nno newline");
        assertThat(logs(c, true)).isEqualTo("err\n");
        Engine.State s = engine.state(c);
        assertThat(s.status()).isEqualTo("exited");
        assertThat(s.monitor().finishedAt()).isNotEmpty();
        // the log is docker's json-file format, line by line
        String first = Files.readAllLines(engine.containers().logFile(c.id())).get(0);
        assertThat(first).startsWith("{\"log\":\"").contains("\"stream\":\"").contains("\"time\":\"");
    }

    @Test
    void aTerminalIsHeldByTheMonitorAndItsOutputLogged() throws Exception {
        CreateOptions o = opts("sh", "-c", "tty; echo on-tty; exit 4");
        o.tty = true;
        ContainerInfo c = runDetached(o);
        assertThat(engine.await(c.id())).isEqualTo(4);
        assertThat(logs(c, false)).isEqualTo("/dev/pts/0\r\non-tty\r\n"); // a terminal's line endings
    }

    @Test
    void attachedRunReturnsTheExitCodeAndCopiesOutputToTheCaller() throws Exception {
        Path out = Files.createTempFile(root, "out", ".txt");
        int fd = Syscalls.open(out.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
        int devNull = Syscalls.open("/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            CreateOptions o = opts("sh", "-c", "echo to-caller; exit 42");
            o.autoRemove = true;
            Engine.Run r = engine.run(o, false, new Engine.Attach(new int[] {devNull, fd, fd}, pid -> { }));
            assertThat(r.exitCode()).isEqualTo(42);
            assertThat(Files.readString(out)).isEqualTo("to-caller\n");
            assertThat(engine.containers().read(r.container().id())).as("--rm removed it").isNull();
        } finally {
            Syscalls.close(fd);
            Syscalls.close(devNull);
        }
    }

    @Test
    void aCallerThatStopsReadingNeverStopsTheMonitor() throws Exception {
        int[] pipe = dev.hull.linux.FdControl.pipe(); // nobody reads pipe[0]: it fills at 64 KiB
        int devNull = Syscalls.open("/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            CreateOptions o = opts("sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo done; exit 3");
            Engine.Run r = engine.run(o, false, new Engine.Attach(new int[] {devNull, pipe[1], pipe[1]}, pid -> { }));
            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(logs(r.container(), false)).endsWith("\ndone\n").hasSize(3_000_000 + 6);
        } finally {
            Syscalls.close(pipe[0]);
            Syscalls.close(pipe[1]);
            Syscalls.close(devNull);
        }
    }

    @Test
    void aRestartedInitStartsWithDefaultSignalsLikeTheFirst() throws Exception {
        CreateOptions o = opts("sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status; exit 1");
        o.restart = "on-failure:1";
        ContainerInfo c = runDetached(o);
        assertThat(engine.await(c.id())).isEqualTo(1);
        // the monitor ignores SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU (mask 0x380006): the restarted init must not
        List<String> ignored = logs(c, false).lines().filter(l -> l.startsWith("SigIgn")).toList();
        assertThat(ignored).hasSize(2);
        assertThat(ignored.get(1)).isEqualTo(ignored.get(0));
        assertThat(Long.parseLong(ignored.get(1).substring(7).trim(), 16) & 0x380006L).isZero();
        assertThat(logs(c, false).lines().filter(l -> l.startsWith("SigBlk")).toList())
                .hasSize(2).allMatch(l -> l.endsWith("0000000000000000"));
    }

    @Test
    void stopSendsTheStopSignalAndEscalatesToSigkillAfterTheTimeout() throws Exception {
        // PID 1 of a pid namespace ignores SIGTERM it has no handler for: only SIGKILL ends it
        ContainerInfo stubborn = runDetached(opts("sleep", "100"));
        long t0 = System.nanoTime();
        engine.stop(stubborn.id(), 1);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(engine.state(stubborn).status()).isEqualTo("exited");
        assertThat(engine.state(stubborn).exitCode()).isEqualTo(137);
        assertThat(ms).as("waited the timeout before SIGKILL").isGreaterThanOrEqualTo(1000);

        // a process that handles SIGTERM ends by it, with its own status, without the SIGKILL
        ContainerInfo polite = runDetached(opts("sh", "-c", "trap 'echo got-term; exit 7' TERM; echo ready;"
                + " while :; do sleep 0.05; done"));
        await("ready", () -> {
            try {
                return logs(polite, false).contains("ready");
            } catch (Exception e) {
                return false;
            }
        });
        engine.stop(polite.id(), 30);
        assertThat(engine.state(polite).exitCode()).isEqualTo(7);
        assertThat(logs(polite, false)).contains("got-term");
    }

    @Test
    void onFailureRestartsExactlyNTimesAndLogsEveryRun() throws Exception {
        CreateOptions o = opts("sh", "-c", "echo run; exit 1");
        o.restart = "on-failure:3";
        ContainerInfo c = runDetached(o);
        assertThat(engine.await(c.id())).isEqualTo(1);
        Engine.State s = engine.state(c);
        assertThat(s.monitor().restartCount()).isEqualTo(3);
        assertThat(logs(c, false)).isEqualTo("run\n".repeat(4));
    }

    @Test
    void onFailureDoesNotRestartASuccess() throws Exception {
        CreateOptions o = opts("sh", "-c", "echo once");
        o.restart = "on-failure";
        ContainerInfo c = runDetached(o);
        assertThat(engine.await(c.id())).isZero();
        assertThat(engine.state(c).monitor().restartCount()).isZero();
        assertThat(logs(c, false)).isEqualTo("once\n");
    }

    @Test
    void alwaysRestartsUntilStoppedAndStopEndsTheRestarts() throws Exception {
        CreateOptions o = opts("sh", "-c", "echo start; sleep 0.1");
        o.restart = "always";
        ContainerInfo c = runDetached(o);
        await("two restarts", () -> state(c).monitor() != null && state(c).monitor().restartCount() >= 2);
        engine.stop(c.id(), 1);
        int after = engine.state(c).monitor().restartCount();
        assertThat(engine.state(c).status()).isEqualTo("exited");
        Thread.sleep(700); // longer than the backoff: a restart would have happened
        assertThat(engine.state(c).monitor().restartCount()).isEqualTo(after);
        assertThat(engine.state(c).status()).isEqualTo("exited");
        assertThat(logs(c, false).split("start", -1).length - 1).isEqualTo(after + 1);
        // start again: it runs (and restarts) once more, logs appended to the same log
        engine.start(c.id(), null);
        await("running again", () -> state(c).running());
        engine.stop(c.id(), 1);
        assertThat(logs(c, false).split("start", -1).length - 1).isGreaterThan(after + 1);
    }

    @Test
    void execRunsInTheContainerAlsoAfterARestartGaveItANewInit() throws Exception {
        // the first run fails; the restarted one (same rootfs: /tmp/ran is there) stays
        CreateOptions o = opts("sh", "-c", "echo $$ > /tmp/me; [ -f /tmp/ran ] && exec sleep 100; touch /tmp/ran;"
                + " exit 1");
        o.restart = "on-failure:1";
        ContainerInfo c = runDetached(o);
        int firstPid = engine.state(c).monitor().pid();
        await("restarted", () -> state(c).monitor() != null && state(c).monitor().restartCount() == 1
                && state(c).status().equals("running"));
        assertThat(engine.state(c).monitor().pid()).isNotEqualTo(firstPid);
        Path out = Files.createTempFile(root, "exec", ".txt");
        int fd = Syscalls.open(out.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
        try {
            int code = engine.exec(c.id(), new Engine.ExecRequest(List.of("cat", "/tmp/me"), List.of(), null, null,
                    false, false, false, false, new int[] {0, fd, fd}, null));
            assertThat(code).isZero();
        } finally {
            Syscalls.close(fd);
        }
        assertThat(Files.readString(out).trim()).isEqualTo("1"); // the restarted init is PID 1 of its namespace
    }

    @Test
    void logRotationKeepsMaxFilesAndTheNewestLines() throws Exception {
        CreateOptions o = opts("sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done");
        o.logOpts.put("max-size", "2k");
        o.logOpts.put("max-file", "3");
        ContainerInfo c = runDetached(o);
        assertThat(engine.await(c.id())).isZero();
        Path log = engine.containers().logFile(c.id());
        assertThat(log.resolveSibling(log.getFileName() + ".1")).exists();
        assertThat(log.resolveSibling(log.getFileName() + ".2")).exists();
        assertThat(log.resolveSibling(log.getFileName() + ".3")).doesNotExist();
        for (Path f : ContainerLogs.files(log)) {
            assertThat(Files.size(f)).isLessThanOrEqualTo(2048);
        }
        String text = logs(c, false);
        assertThat(text).endsWith("line-299\n").doesNotContain("line-0\n");
        // what is kept is in order, without gaps
        String[] lines = text.split("\n");
        int first = Integer.parseInt(lines[0].substring(5));
        for (int i = 0; i < lines.length; i++) {
            assertThat(lines[i]).isEqualTo("line-" + (first + i));
        }
    }

    @Test
    void aKilledMonitorLeavesTheTruthOnDiskAndStartWorksAgain() throws Exception {
        ContainerInfo c = runDetached(opts("sleep", "1000"));
        MonitorStatus m = engine.state(c).monitor();
        Syscalls.kill(m.monitorPid(), 9);
        await("monitor gone", () -> !m.monitorAlive());
        // the container itself still runs: still "running"
        assertThat(engine.state(c).status()).isEqualTo("running");
        Syscalls.kill(m.pid(), 9);
        await("init gone", () -> !m.initAlive());
        Engine.State s = engine.state(c);
        assertThat(s.status()).isEqualTo("exited");
        assertThat(s.exitCode()).isEqualTo(255);
        assertThat(s.monitor().error()).contains("monitor");
        engine.start(c.id(), null);
        assertThat(engine.state(c).status()).isEqualTo("running");
        assertThat(engine.state(c).monitor().pid()).isNotEqualTo(m.pid());
    }

    @Test
    void afterARebootSimulationPsTellsTheTruthAndStartWorks() throws Exception {
        // "reboot": every process of the containers is gone, the state on disk (and in HULL_STATE) stays
        ContainerInfo a = runDetached(opts("sleep", "1000"));
        CreateOptions o = opts("sleep", "1000");
        o.restart = "always";
        ContainerInfo b = runDetached(o);
        for (ContainerInfo c : List.of(a, b)) {
            MonitorStatus m = engine.state(c).monitor();
            Syscalls.kill(m.monitorPid(), 9);
            Syscalls.kill(m.pid(), 9);
            await("gone", () -> !m.monitorAlive() && !m.initAlive());
        }
        for (ContainerInfo c : List.of(a, b)) {
            assertThat(engine.state(c).status()).isEqualTo("exited");
            assertThat(Files.exists(root.resolve("state").resolve(c.id()))).as("stale runtime state kept").isTrue();
        }
        for (ContainerInfo c : List.of(a, b)) {
            engine.start(c.id(), null);
            assertThat(engine.state(c).status()).isEqualTo("running");
        }
    }

    @Test
    void namesAreUniqueUnderConcurrentCreates() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<ContainerInfo>> futures = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                futures.add(pool.submit((Callable<ContainerInfo>) () -> {
                    CreateOptions o = opts("true");
                    o.name = "only-one";
                    return engine.create(o);
                }));
            }
            int ok = 0;
            int taken = 0;
            for (Future<ContainerInfo> f : futures) {
                try {
                    f.get();
                    ok++;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(RuntimeError.class).hasMessageContaining("already in use");
                    taken++;
                }
            }
            assertThat(ok).isEqualTo(1);
            assertThat(taken).isEqualTo(5);
            assertThat(engine.containers().list()).hasSize(1);
            assertThat(engine.containers().debris()).as("failed creates leave nothing").isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentStartsOfOneContainerStartItOnce() throws Exception {
        ContainerInfo c = engine.create(opts("sh", "-c", "echo started; sleep 1000"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                futures.add(pool.submit(() -> engine.start(c.id(), null)));
            }
            for (Future<Integer> f : futures) {
                assertThat(f.get()).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
        await("logged", () -> {
            try {
                return logs(c, false).contains("started");
            } catch (Exception e) {
                return false;
            }
        });
        Thread.sleep(200);
        assertThat(logs(c, false)).isEqualTo("started\n");
    }

    @Test
    void rmRefusesARunningContainerWithoutForce() throws Exception {
        ContainerInfo c = runDetached(opts("sleep", "1000"));
        assertThatThrownBy(() -> engine.remove(c.id(), false)).isInstanceOf(RuntimeError.class)
                .hasMessageContaining("running").hasMessageContaining("--force");
        MonitorStatus m = engine.state(c).monitor();
        engine.remove(c.id(), true);
        assertThat(m.initAlive()).isFalse();
        assertThat(m.monitorAlive()).isFalse();
        assertThat(engine.containers().dir(c.id())).doesNotExist();
        assertThatThrownBy(() -> engine.containers().resolve(c.name())).hasMessageContaining("no such container");
    }

    @Test
    void rmGivesBackLeasesThatAKilledStartTookButNeverRecorded() throws Exception {
        // A start killed between taking its address (or host port) and writing network.json: only
        // the lease files name the container. rm must give them back (EngineCrashTest found one).
        ContainerInfo c = engine.create(opts("true"));
        var store = engine.networking().store();
        var n = store.defaultNetwork();
        int ip;
        try (java.io.Closeable l = store.lock(n.name())) {
            ip = store.leaseNext(n, c.id());
        }
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThat(store.leasePort("tcp", port, c.id())).as("the port was free").isNull();
        assertThat(dev.hull.engine.network.OwnedLeases.of(store, List.of(c.id())))
                .containsExactlyInAnyOrder("bridge " + dev.hull.engine.network.Subnet.format(ip) + " " + c.id(),
                        "tcp-" + port + " " + c.id());
        engine.remove(c.id(), false);
        assertThat(dev.hull.engine.network.OwnedLeases.of(store, List.of(c.id()))).isEmpty();
    }

    @Test
    void renameMovesTheNameAndFreesTheOldOne() throws Exception {
        CreateOptions o = opts("true");
        o.name = "before";
        ContainerInfo c = engine.create(o);
        engine.rename("before", "after");
        assertThat(engine.containers().resolve("after").id()).isEqualTo(c.id());
        assertThatThrownBy(() -> engine.containers().resolve("before")).isInstanceOf(RuntimeError.class);
        CreateOptions again = opts("true");
        again.name = "before";
        assertThat(engine.create(again).name()).isEqualTo("before");
        assertThatThrownBy(() -> engine.rename("after", "before")).hasMessageContaining("already in use");
    }

    @Test
    void containersAreFoundByIdPrefixAndName() throws Exception {
        CreateOptions o = opts("true");
        o.name = "findme";
        ContainerInfo c = engine.create(o);
        assertThat(engine.containers().resolve(c.id().substring(0, 8)).id()).isEqualTo(c.id());
        assertThat(engine.containers().resolve("findme").id()).isEqualTo(c.id());
        assertThat(engine.state(c).status()).isEqualTo("created");
        assertThatThrownBy(() -> engine.containers().resolve("nope")).hasMessageContaining("no such container");
    }
}
