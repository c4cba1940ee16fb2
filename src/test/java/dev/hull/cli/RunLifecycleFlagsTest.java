package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.engine.Engine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** --init, --stop-signal, --stop-timeout and --log-opt: how a container runs, stops and logs. */
class RunLifecycleFlagsTest {
    static Flags f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("lifecycle");
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    @Test
    void initIsPid1AndReapsOrphans() throws Exception {
        assertThat(f.output("--rm", "--init", "busybox", "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline"))
                .startsWith("hull-init --init -- sh -c ");
        // An orphan (its parent shell exits at once) that ends after 0.1 s is reparented to PID 1;
        // then the main shell becomes sleep, which never waits. A checker counts zombies at 0.6 s.
        String script = "(sleep 0.6; grep -l '^State:.*Z' /proc/[0-9]*/status | wc -l) & sh -c 'sleep 0.1 &';"
                + " exec sleep 0.9";
        assertThat(f.output("--rm", "--init", "busybox", "sh", "-c", script).trim()).as("zombies with --init")
                .isEqualTo("0");
        // the control: without the init, PID 1 is that sleep and the orphan stays a zombie
        assertThat(f.output("--rm", "busybox", "sh", "-c", script).trim()).as("zombies without --init")
                .isEqualTo("1");
    }

    @Test
    void initForwardsTheStopSignal() throws Exception {
        // sleep ignores nothing; without an init, as PID 1 it has no handler and SIGTERM would do
        // nothing (stop would wait its timeout); with the init it dies of SIGTERM at once: 128+15
        String id = f.detached("--init", "busybox", "sleep", "100");
        long ms = timedStop(id, null);
        assertThat(ms).as("stop ms").isLessThan(3_000);
        assertThat(f.awaitExited(id, 5_000).exitCode()).isEqualTo(143);
        // the init also passes its child's exit code through
        assertThat(f.run("--rm", "--init", "busybox", "sh", "-c", "exit 7").exit()).isEqualTo(7);
    }

    @Test
    void stopSignalIsHandledByTheContainer() throws Exception {
        String id = f.detached("--stop-signal", "SIGUSR1", "busybox", "sh", "-c",
                "trap 'echo got USR1; exit 5' USR1; echo ready; while true; do sleep 0.1; done");
        awaitLog(id, "ready");
        long ms = timedStop(id, null);
        assertThat(ms).as("stop ms").isLessThan(3_000);
        Engine.State s = f.awaitExited(id, 5_000);
        assertThat(s.exitCode()).isEqualTo(5);
        assertThat(f.logs(id)).isEqualTo("ready\ngot USR1\n");
        assertThat(f.engine.containers().read(id).stopSignal()).isEqualTo("SIGUSR1");
        assertThat(catchMessage("--stop-signal", "SIGFOO", "busybox", "true")).contains("SIGFOO");
    }

    @Test
    void stopTimeoutIsHowLongStopWaitsBeforeSigkill() throws Exception {
        // PID 1 without a SIGTERM handler ignores it: stop waits --stop-timeout, then SIGKILL (137)
        String id = f.detached("--stop-timeout", "1", "busybox", "sleep", "100");
        long ms = timedStop(id, null);
        assertThat(ms).as("stop ms").isBetween(900L, 4_000L);
        assertThat(f.awaitExited(id, 5_000).exitCode()).isEqualTo(137);
        // stop's own timeout wins over the container's
        id = f.detached("--stop-timeout", "30", "busybox", "sleep", "100");
        ms = timedStop(id, 0);
        assertThat(ms).as("stop -t 0 ms").isLessThan(3_000);
        assertThat(f.awaitExited(id, 5_000).exitCode()).isEqualTo(137);
    }

    @Test
    void logOptRotatesAndLogsShowTheNewestLinesInOrder() throws Exception {
        // each json-file entry of "line-NN\n" is ~80 bytes: 1k holds about 12, 3 files about 36
        String id = f.detached("--log-opt", "max-size=1k", "--log-opt", "max-file=3", "busybox", "sh", "-c",
                "i=100; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done");
        f.awaitExited(id, 10_000);
        Path log = f.engine.containers().logFile(id);
        assertThat(log.getFileName().toString()).isEqualTo(id + "-json.log");
        assertThat(log.resolveSibling(id + "-json.log.1")).exists();
        assertThat(log.resolveSibling(id + "-json.log.2")).exists();
        assertThat(log.resolveSibling(id + "-json.log.3")).doesNotExist();
        for (String name : List.of(id + "-json.log", id + "-json.log.1", id + "-json.log.2")) {
            assertThat(Files.size(log.resolveSibling(name))).as(name).isLessThanOrEqualTo(1024);
        }
        // hull logs (the CLI): the newest lines, consecutive, ending with the last one
        HullCommand.Result r = f.hull.run("logs", id);
        assertThat(r.exit()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSizeBetween(20, 40).endsWith("line-299");
        int first = Integer.parseInt(lines.get(0).substring(5));
        for (int i = 0; i < lines.size(); i++) {
            assertThat(lines.get(i)).isEqualTo("line-" + (first + i));
        }
        assertThat(catchMessage("--log-opt", "max-size=xx", "busybox", "true")).contains("max-size");
        // max-file alone takes the config file's max-size (docker's merge); with max-size=-1 (none) it fails
        assertThat(catchMessage("--log-opt", "max-size=-1", "--log-opt", "max-file=3", "busybox", "true"))
                .contains("max-file needs max-size");
        assertThat(catchMessage("--log-opt", "mode=fast", "busybox", "true")).contains("--log-opt mode");
    }

    @Test
    void maxFileOneTruncatesInPlace() throws Exception {
        // max-file=1 given: the config file's default max-file (5) would otherwise apply
        String id = f.detached("--log-opt", "max-size=1k", "--log-opt", "max-file=1", "busybox", "sh", "-c",
                "i=100; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done");
        f.awaitExited(id, 10_000);
        Path log = f.engine.containers().logFile(id);
        assertThat(log.resolveSibling(id + "-json.log.1")).doesNotExist();
        assertThat(Files.size(log)).isLessThanOrEqualTo(1024);
        assertThat(f.logs(id)).endsWith("line-199\n");
    }

    @Test
    void stopRightAfterRunDetachedStopsIt() throws Exception {
        for (int i = 0; i < 10; i++) {
            String id = f.detachedNoWait("busybox", "sleep", "100");
            assertThat(f.engine.state(f.engine.containers().read(id)).status()).as("state after run -d").isEqualTo("running");
            f.engine.stop(id, 0);
            assertThat(f.awaitExited(id, 5_000).exitCode()).isEqualTo(137);
            f.remove(id);
        }
    }

    @Test
    void theMonitorHoldsNoDescriptorOfItsCaller() throws Exception {
        String id = f.detached("busybox", "sleep", "30");
        int monitor = f.status(id).monitorPid();
        List<String> targets = new java.util.ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/" + monitor + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    targets.add(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
                } catch (java.io.IOException e) {
                    // closed meanwhile
                }
            }
        }
        f.remove(id);
        assertThat(targets).noneMatch(t -> t.endsWith(".jar") || t.endsWith("/lock") || t.contains("random"));
    }

    private long timedStop(String id, Integer timeout) throws Exception {
        long t0 = System.nanoTime();
        f.engine.stop(id, timeout);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private void awaitLog(String id, String text) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!f.logs(id).contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no \"" + text + "\" in the log of " + id + ": " + f.logs(id));
            }
            Thread.sleep(20);
        }
    }

    static String catchMessage(String... args) throws Exception {
        try {
            Flags.Result r = f.run(args);
            throw new AssertionError("hull run " + String.join(" ", args) + " did not fail: " + r);
        } catch (dev.hull.runtime.RuntimeError e) {
            return e.getMessage();
        }
    }
}
