package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the hull process itself shows (a real CLI process each): docker's exit codes — 125 Hull's
 * own failure or a bad flag, 126 not executable, 127 not found, else the container's status,
 * 128+N for a signal — its stdin with and without -i, and create + start.
 */
class RunExitCodesTest {
    static Flags f;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("exit-codes");
        hull = f.hull;
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    @Test
    void theContainersOwnStatus() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.out()).isEqualTo("out\n");
        assertThat(r.err()).isEqualTo("err\n");
    }

    @Test
    void killedBySignalIs128PlusN() throws Exception {
        // the shell (PID 2 under the init) kills itself with SIGKILL
        HullCommand.Result r = hull.run("run", "--rm", "--init", "busybox", "sh", "-c", "kill -9 $$");
        assertThat(r.exit()).as(r.toString()).isEqualTo(137);
    }

    @Test
    void notExecutableIs126() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "busybox", "/etc/passwd");
        assertThat(r.exit()).as(r.toString()).isEqualTo(126);
        assertThat(r.err()).contains("/etc/passwd").contains("permission denied");
    }

    @Test
    void commandNotFoundOnPathIs127() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "busybox", "nosuchcmd");
        assertThat(r.exit()).as(r.toString()).isEqualTo(127);
        assertThat(r.err()).contains("nosuchcmd").contains("not found");
    }

    @Test
    void missingPathIs127() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "busybox", "/nonexistent");
        assertThat(r.exit()).as(r.toString()).isEqualTo(127);
        assertThat(r.err()).contains("/nonexistent");
    }

    @Test
    void badFlagValuesAre125WithAMessageNamingTheFlag() throws Exception {
        // one flag checked by the command line, one by the engine (the other flags' messages: the
        // in-process tests; they all reach the CLI as the same RuntimeError)
        String[][] cases = {{"--memory", "12zz"}, {"--security-opt", "seccomp=/missing.json"}};
        for (String[] c : cases) {
            HullCommand.Result r = hull.run("run", "--rm", c[0], c[1], "busybox", "true");
            assertThat(r.exit()).as(String.join(" ", c) + ": " + r).isEqualTo(125);
            assertThat(r.err()).as(String.join(" ", c)).startsWith("hull: ").contains(c[0] + " " + c[1]);
        }
        // nothing was left behind
        assertThat(f.engine.containers().list()).isEmpty();
    }

    @Test
    void unparseableFlagsAre125() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "--cpus", "abc", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).contains("--cpus");
        r = hull.run("run", "--rm", "--bogus", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).contains("--bogus");
    }

    @Test
    void interactiveStdinReachesTheContainer() throws Exception {
        Path in = f.dir.resolve("stdin.txt");
        Files.writeString(in, "hi\nthere\n");
        HullCommand.Result r = hull.runWithInput(in, "run", "-i", "--rm", "busybox", "cat");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("hi\nthere\n");
        // without -i: stdin is /dev/null (char device 1:3), the caller's input is not read
        r = hull.runWithInput(in, "run", "--rm", "busybox", "sh", "-c", "cat; stat -L -c %t:%T /proc/self/fd/0");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("1:3\n");
    }

    @Test
    void createThenStartAppliesTheCreateFlags() throws Exception {
        HullCommand.Result r = hull.run("create", "--name", "made", "-e", "X=from-create", "-w", "/tmp",
                "--hostname", "made-host", "-u", "nobody", "--cap-drop", "ALL", "busybox", "sh", "-c",
                "echo $X $(pwd) $(hostname) $(id -u) $(grep CapEff /proc/self/status | cut -f2); exit 4");
        assertThat(r.exit()).as(r.toString()).isZero();
        String id = r.out().trim();
        assertThat(id).matches("[0-9a-f]{64}");
        assertThat(f.engine.state(f.engine.containers().read(id)).status()).isEqualTo("created");
        r = hull.run("start", "-a", "made");
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.out()).isEqualTo("from-create /tmp made-host 65534 0000000000000000\n");
        // and again (in-process): the same flags on a second start
        f.start(id);
        assertThat(f.awaitExited(id, 10_000).exitCode()).isEqualTo(4);
        assertThat(f.logs(id)).isEqualTo("from-create /tmp made-host 65534 0000000000000000\n".repeat(2));
        f.engine.remove(id, true);
    }

    @Test
    void stopWithInitEndsItQuicklyWith143() throws Exception {
        f.detached("--name", "sleeper", "--init", "busybox", "sleep", "100");
        long t0 = System.nanoTime();
        HullCommand.Result r = hull.run("stop", "sleeper");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(ms).as("hull stop ms (JVM start included; the timeout is 10 s)").isLessThan(8_000);
        assertThat(f.engine.state(f.engine.containers().resolve("sleeper")).exitCode()).isEqualTo(143);
    }
}
