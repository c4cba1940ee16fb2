package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The container commands through the real command line, on containers that run: logs' selections
 * (--tail, --since, --until, -t, -f), exec's flags (-u, -e, -w, -d, its exit code), kill -s, wait,
 * restart, rename, start -a, ps filters and inspect templates.
 */
class ContainerCommandsTest {
    static Path root;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "hull-container-cmds-");
        hull = new HullCommand(root.resolve("home"), root.resolve("state"), Map.of());
    }

    @AfterAll
    static void tearDown() throws Exception {
        hull.run("rm", "--force", "cc-logs", "cc-exec", "cc-life", "cc-renamed", "cc-job");
        dev.hull.image.SnapshotStore.deleteTree(root);
    }

    @Test
    void stopAndRestartSendTheSignalGivenWithDockersTimeoutFlag() throws Exception {
        String name = "cc-stopsig";
        ok("run", "-d", "--name", name, "--network", "none", "busybox", "sh", "-c", "trap 'echo got-USR1; exit 7'"
                + " USR1; trap '' TERM; echo ready; while :; do sleep 0.1; done");
        try {
            awaitLogLines(name, 1);
            ok("stop", "-s", "USR1", "--timeout", "60", name);
            assertThat(ok("inspect", "-f", "{{.State.ExitCode}}", name).out())
                    .as("ended by its USR1 trap (SIGKILL would be 137)").isEqualTo("7\n");
            ok("restart", "--signal", "SIGUSR1", "-t", "60", name);
            awaitLogLines(name, 3); // ready, got-USR1, ready
            ok("stop", "-s", "10", "--time", "60", name); // a number; --time, docker's old name
            assertThat(ok("inspect", "-f", "{{.State.ExitCode}}", name).out()).isEqualTo("7\n");
            assertThat(ok("logs", name).out()).isEqualTo("ready\ngot-USR1\nready\ngot-USR1\n");
            HullCommand.Result bad = hull.run("stop", "-s", "NOPE", name);
            assertThat(bad.exit()).as(bad.toString()).isEqualTo(1);
            assertThat(bad.err()).contains("invalid signal \"NOPE\"");
        } finally {
            hull.run("rm", "-f", name);
        }
    }

    /** Polls the container's log until it has at least n lines. */
    static void awaitLogLines(String name, int n) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (ok("logs", name).out().lines().count() < n) {
            assertThat(System.nanoTime()).as(name + ": fewer than " + n + " log lines").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    static HullCommand.Result ok(String... args) throws Exception {
        HullCommand.Result r = hull.run(args);
        assertThat(r.exit()).as("hull " + String.join(" ", args) + "\n" + r).isZero();
        return r;
    }

    @Test
    void logsSelectsByTailTimeAndFollowsUntilTheEnd() throws Exception {
        ok("run", "-d", "--name", "cc-logs", "busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done;"
                + " echo oops >&2; sleep 2; echo late");
        // -f follows until the container ends: it sees what comes after it started, then returns
        Process follow = hull.builder("logs", "-f", "cc-logs").redirectErrorStream(true).start();
        assertThat(follow.waitFor(60, TimeUnit.SECONDS)).as("logs -f ended with the container").isTrue();
        String followed = new String(follow.getInputStream().readAllBytes());
        assertThat(follow.exitValue()).isZero();
        assertThat(followed).contains("line-1\n").contains("oops\n").endsWith("late\n");

        HullCommand.Result all = ok("logs", "cc-logs");
        assertThat(all.out()).isEqualTo("line-1\nline-2\nline-3\nline-4\nline-5\nlate\n");
        assertThat(all.err()).isEqualTo("oops\n");
        assertThat(ok("logs", "--tail", "2", "cc-logs").out()).isEqualTo("late\n"); // the last 2 entries: oops, late
        assertThat(ok("logs", "--since", "1h", "cc-logs").out()).startsWith("line-1\n");
        assertThat(ok("logs", "--since", Instant.now().plusSeconds(3600).toString(), "cc-logs").out()).isEmpty();
        assertThat(ok("logs", "--until", "2000-01-01T00:00:00Z", "cc-logs").out()).isEmpty();
        String stamped = ok("logs", "-t", "--tail", "1", "cc-logs").out();
        assertThat(stamped).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z late\\n");
        HullCommand.Result bad = hull.run("logs", "--since", "yesterday-ish", "cc-logs");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("yesterday-ish");
    }

    @Test
    void execTakesUserEnvWorkdirAndDetachAndReturnsTheStatus() throws Exception {
        ok("run", "-d", "--name", "cc-exec", "busybox", "sleep", "1000");
        assertThat(ok("exec", "-u", "nobody", "cc-exec", "id", "-un").out()).isEqualTo("nobody\n");
        assertThat(ok("exec", "-u", "1234:5678", "cc-exec", "id").out()).startsWith("uid=1234 gid=5678");
        assertThat(ok("exec", "-e", "GREETING=hi", "cc-exec", "sh", "-c", "echo $GREETING").out()).isEqualTo("hi\n");
        assertThat(ok("exec", "-w", "/tmp", "cc-exec", "pwd").out()).isEqualTo("/tmp\n");
        HullCommand.Result failing = hull.run("exec", "cc-exec", "sh", "-c", "exit 7");
        assertThat(failing.exit()).isEqualTo(7);
        HullCommand.Result missing = hull.run("exec", "cc-exec", "no-such-command");
        assertThat(missing.exit()).as(missing.toString()).isEqualTo(127);
        ok("exec", "-d", "cc-exec", "sh", "-c", "sleep 0.2; echo done > /tmp/detached");
        long deadline = System.nanoTime() + 20_000_000_000L;
        String got = "";
        while (System.nanoTime() < deadline && !got.equals("done\n")) {
            got = hull.run("exec", "cc-exec", "cat", "/tmp/detached").out();
        }
        assertThat(got).isEqualTo("done\n");
        HullCommand.Result notRunning = hull.run("exec", "no-such-container", "true");
        assertThat(notRunning.exit()).isEqualTo(1);
        assertThat(notRunning.err()).contains("no such container");
    }

    @Test
    void killWaitRestartRenameStartAttachedPsAndInspect() throws Exception {
        ok("run", "-d", "--name", "cc-life", "--label", "team=blue", "busybox", "sh", "-c",
                "trap 'exit 42' USR1; while :; do sleep 0.05; done");
        assertThat(ok("ps", "-q", "--filter", "label=team=blue").out().trim()).hasSize(12);
        ok("kill", "-s", "USR1", "cc-life");
        assertThat(ok("wait", "cc-life").out()).isEqualTo("42\n");
        assertThat(ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Config.Labels.team}}", "cc-life")
                .out()).isEqualTo("exited 42 blue\n");
        assertThat(ok("ps", "-a", "-q", "--filter", "exited=42").out().trim()).hasSize(12);
        ok("restart", "cc-life");
        assertThat(ok("inspect", "-f", "{{.State.Running}}", "cc-life").out()).isEqualTo("true\n");
        ok("rename", "cc-life", "cc-renamed");
        assertThat(ok("ps", "--format", "json", "--filter", "name=cc-renamed").out()).contains("\"Names\":\"cc-renamed\"");
        ok("rm", "--force", "cc-renamed");
        assertThat(ok("ps", "-a", "-q", "--filter", "name=cc-renamed").out()).isEmpty();

        ok("create", "--name", "cc-job", "busybox", "sh", "-c", "echo from-job; exit 3");
        assertThat(ok("ps", "-a", "--filter", "status=created", "--format", "json").out()).contains("cc-job");
        HullCommand.Result attached = hull.run("start", "-a", "cc-job");
        assertThat(attached.exit()).isEqualTo(3);
        assertThat(attached.out()).isEqualTo("from-job\n");
        HullCommand.Result refused = hull.run("inspect", "nope");
        assertThat(refused.exit()).isEqualTo(1);
    }
}
