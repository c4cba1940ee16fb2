package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.engine.Engine;
import dev.hull.engine.MonitorStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** --restart, applied by the container's monitor: how often it restarts, and that stop ends it for good. */
class RestartPolicyTest {
    static Flags f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("restart");
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    @Test
    void onFailureRestartsExactlyNTimes() throws Exception {
        // backoff 100 + 200 + 400 ms between the 4 runs
        String id = f.detached("--restart", "on-failure:3", "busybox", "sh", "-c", "echo run; exit 3");
        Engine.State s = f.awaitExited(id, 20_000);
        assertThat(s.exitCode()).isEqualTo(3);
        assertThat(s.monitor().restartCount()).isEqualTo(3);
        assertThat(f.logs(id)).isEqualTo("run\nrun\nrun\nrun\n");
        // inspect says so too
        assertThat(dev.hull.engine.ContainerInspector.inspect(f.engine, f.engine.containers().read(id))
                .path("RestartCount").asInt()).isEqualTo(3);
    }

    @Test
    void onFailureDoesNotRestartASuccess() throws Exception {
        String id = f.detached("--restart", "on-failure", "busybox", "sh", "-c", "echo once");
        Engine.State s = f.awaitExited(id, 10_000);
        assertThat(s.exitCode()).isZero();
        assertThat(s.monitor().restartCount()).isZero();
        assertThat(f.logs(id)).isEqualTo("once\n");
    }

    @Test
    void noIsTheDefault() throws Exception {
        String id = f.detached("busybox", "sh", "-c", "echo once; exit 1");
        Engine.State s = f.awaitExited(id, 10_000);
        assertThat(s.exitCode()).isEqualTo(1);
        assertThat(s.monitor().restartCount()).isZero();
        assertThat(f.logs(id)).isEqualTo("once\n");
    }

    @Test
    void alwaysRestartsAfterExitZeroAndStopEndsIt() throws Exception {
        alwaysLike("always");
    }

    @Test
    void unlessStoppedRestartsLikeAlwaysUntilStopped() throws Exception {
        alwaysLike("unless-stopped");
    }

    private void alwaysLike(String policy) throws Exception {
        String id = f.detached("--restart", policy, "busybox", "sh", "-c", "echo run; sleep 0.05");
        awaitRestarts(id, 2, 20_000);
        long t0 = System.nanoTime();
        f.engine.stop(id, 5);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("stop ms").isLessThan(4_000);
        Engine.State s = f.awaitExited(id, 10_000);
        int count = s.monitor().restartCount();
        Thread.sleep(600); // longer than the backoff so far: a restart would have happened
        Engine.State later = f.engine.state(f.engine.containers().read(id));
        assertThat(later.status()).isEqualTo("exited");
        assertThat(later.monitor().restartCount()).isEqualTo(count);
        assertThat(f.logs(id).lines().count()).isEqualTo(count + 1);
        // a new start begins again (docker keeps the count; Hull's monitor counts per start)
        f.start(id);
        assertThat(f.engine.state(f.engine.containers().read(id)).running()).isTrue();
        f.engine.stop(id, 5);
        assertThat(f.awaitExited(id, 10_000).status()).isEqualTo("exited");
    }

    @Test
    void stopOfARestartingContainerDuringItsBackoff() throws Exception {
        // exits at once, so it spends most of its time waiting to restart
        String id = f.detached("--restart", "always", "busybox", "false");
        awaitRestarts(id, 3, 20_000);
        f.engine.stop(id, 5);
        Engine.State s = f.awaitExited(id, 10_000);
        int count = s.monitor().restartCount();
        Thread.sleep(1000);
        assertThat(f.engine.state(f.engine.containers().read(id)).monitor().restartCount()).isEqualTo(count);
    }

    @Test
    void badPolicyIsAnError() throws Exception {
        assertThat(catchMessage("--restart", "sometimes", "busybox", "true")).contains("--restart sometimes");
        assertThat(catchMessage("--restart", "on-failure:x", "busybox", "true")).contains("--restart on-failure:x");
        assertThat(catchMessage("--restart", "always:3", "busybox", "true")).contains("--restart always:3");
        assertThat(catchMessage("--rm", "--restart", "always", "busybox", "true")).contains("--rm");
    }

    private void awaitRestarts(String id, int n, long millis) throws Exception {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        for (;;) {
            MonitorStatus m = f.status(id);
            if (m != null && m.restartCount() >= n) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("fewer than " + n + " restarts in " + millis + " ms: " + m);
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
