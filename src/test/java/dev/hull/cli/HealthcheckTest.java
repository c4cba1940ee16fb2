package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.HealthState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Healthchecks: --health-* and an image's HEALTHCHECK, run by the container's monitor (through
 * {@code hull healthcheck run}) and shown as docker shows them: inspect's State.Health, ps's STATUS
 * and --filter health=, the health_status events. Waits are for conditions (generous limits), never
 * for times: each check is a JVM start here, and the host may be busy.
 */
class HealthcheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long WAIT_MS = 120_000;
    static Flags f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("health");
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    private static HealthState health(String id) throws IOException {
        ContainerInfo info = f.engine.containers().read(id);
        return f.engine.health(info, f.engine.state(info));
    }

    private static HealthState awaitHealth(String id, Predicate<HealthState> condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        for (;;) {
            HealthState h = health(id);
            if (h != null && condition.test(h)) {
                return h;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not in " + WAIT_MS + " ms; the health is " + h);
            }
            Thread.sleep(100);
        }
    }

    private static JsonNode inspect(String id) throws Exception {
        return JSON.readTree(f.hull.ok("inspect", id).out()).get(0);
    }

    private static String psNames(String filter) throws Exception {
        return f.hull.ok("ps", "--filter", filter, "--format", "{{.Names}}").out();
    }

    private static String name(String id) throws IOException {
        return f.engine.containers().read(id).name();
    }

    /** The actions of the container's health_status events, in order. */
    private static List<String> healthEvents(String id) throws IOException {
        Path log = f.dir.resolve("home").resolve("events.log");
        return Files.readAllLines(log).stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).filter(e -> e.path("id").asText().equals(id) && e.path("action").asText().startsWith("health_status"))
                .map(e -> e.path("action").asText()).toList();
    }

    @Test
    void startingThenHealthyOnceTheCheckPasses() throws Exception {
        String id = f.detached("--health-cmd", "echo probing; test -e /tmp/ok", "--health-interval", "1s",
                "--health-retries", "1000", "busybox", "sleep", "1000");
        String name = name(id);
        JsonNode config = inspect(id).path("Config").path("Healthcheck");
        assertThat(config.path("Test").toString()).isEqualTo("[\"CMD-SHELL\",\"echo probing; test -e /tmp/ok\"]");
        assertThat(config.path("Interval").asLong()).isEqualTo(1_000_000_000L);
        assertThat(config.path("Retries").asInt()).isEqualTo(1000);
        // failing, but far from 1000 retries: starting, and it says so everywhere
        HealthState h = awaitHealth(id, x -> !x.log().isEmpty(), "a first check");
        assertThat(h.status()).isEqualTo("starting");
        assertThat(h.log().getFirst().exitCode()).isEqualTo(1);
        assertThat(h.log().getFirst().output()).isEqualTo("probing\n");
        assertThat(psNames("health=starting")).contains(name);
        assertThat(psNames("health=healthy")).doesNotContain(name);
        assertThat(f.hull.ok("ps", "--filter", "name=" + name, "--format", "{{.Status}}").out())
                .endsWith("(health: starting)\n");
        assertThat(f.hull.run("healthcheck", "run", id)).satisfies(r -> {
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.out()).isEqualTo("starting\n");
        });

        f.hull.ok("exec", id, "touch", "/tmp/ok");
        awaitHealth(id, x -> x.status().equals("healthy"), "healthy after /tmp/ok");
        JsonNode state = inspect(id).path("State").path("Health");
        assertThat(state.path("Status").asText()).isEqualTo("healthy");
        assertThat(state.path("FailingStreak").asInt()).isZero();
        JsonNode last = state.path("Log").get(state.path("Log").size() - 1);
        assertThat(last.path("ExitCode").asInt()).isZero();
        assertThat(last.path("Start").asText()).isNotEmpty();
        assertThat(last.path("End").asText()).isNotEmpty();
        assertThat(f.hull.ok("ps", "--filter", "name=" + name, "--format", "{{.Status}}").out()).endsWith("(healthy)\n");
        assertThat(psNames("health=healthy")).contains(name);
        assertThat(f.hull.run("healthcheck", "run", id).exit()).isZero();
        assertThat(healthEvents(id)).contains("health_status: healthy");
    }

    @Test
    void unhealthyAfterRetriesConsecutiveFailuresAndTheLastFiveKept() throws Exception {
        String id = f.detached("--health-cmd", "echo failing >&2; exit 1", "--health-interval", "1s",
                "--health-retries", "2", "busybox", "sleep", "1000");
        HealthState h = awaitHealth(id, x -> !x.status().equals("starting"), "an end to starting");
        assertThat(h.status()).isEqualTo("unhealthy");
        assertThat(h.failingStreak()).isGreaterThanOrEqualTo(2);
        assertThat(h.log()).allSatisfy(r -> {
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.output()).isEqualTo("failing\n");
        });
        h = awaitHealth(id, x -> x.failingStreak() >= 7, "7 failures");
        assertThat(h.log()).hasSize(5);
        assertThat(f.hull.ok("ps", "--filter", "name=" + name(id), "--format", "{{.Status}}").out())
                .endsWith("(unhealthy)\n");
        assertThat(psNames("health=unhealthy")).contains(name(id));
        assertThat(healthEvents(id)).startsWith("health_status: unhealthy");
        HullCommand.Result r = f.hull.run("healthcheck", "run", id);
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("unhealthy\n");
    }

    @Test
    void timeoutKillsTheCheck() throws Exception {
        // an interval of an hour: only this test's `hull healthcheck run` runs the check
        String id = f.detached("--health-cmd", "echo started; exec sleep 1000", "--health-timeout", "1s",
                "--health-interval", "1h", "busybox", "sleep", "1000");
        HullCommand.Result r = f.hull.run("healthcheck", "run", id);
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        HealthState h = health(id);
        assertThat(h.log()).hasSize(1);
        assertThat(h.log().getFirst().exitCode()).isEqualTo(-1);
        assertThat(h.log().getFirst().output()).isEqualTo("Health check exceeded timeout (1s)");
        // the check's process was killed: no sleep 1000 but the container's own
        String ps = f.hull.ok("exec", id, "ps", "-o", "pid,args").out();
        assertThat(ps.lines().filter(l -> l.trim().endsWith("sleep 1000"))).as(ps).hasSize(1);
    }

    @Test
    void failuresInTheStartPeriodDoNotCount() throws Exception {
        String id = f.detached("--health-cmd", "exit 1", "--health-retries", "1", "--health-start-period", "1h",
                "--health-start-interval", "1s", "--health-interval", "1h", "busybox", "sleep", "1000");
        // the start interval runs it (the interval, an hour, would not), and no failure counts
        HealthState h = awaitHealth(id, x -> x.log().size() >= 3, "3 checks at the start interval");
        assertThat(h.status()).isEqualTo("starting");
        assertThat(h.failingStreak()).isZero();
        // the control: without a start period, one failure is unhealthy (retries 1)
        String control = f.detached("--health-cmd", "exit 1", "--health-retries", "1", "--health-interval", "1s",
                "busybox", "sleep", "1000");
        assertThat(awaitHealth(control, x -> !x.log().isEmpty(), "a check").status()).isEqualTo("unhealthy");
    }

    @Test
    void theCheckEndsWithTheContainer() throws Exception {
        // a check that never ends by itself (timeout an hour): the container's stop must end it
        String id = f.detached("--health-cmd", "exec sleep 1000", "--health-timeout", "1h", "--health-interval", "1s",
                "busybox", "sleep", "1000");
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        while (checkProcesses(id).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no `hull healthcheck run " + id + "` started in " + WAIT_MS + " ms");
            }
            Thread.sleep(100);
        }
        f.engine.stop(id, 1);
        f.awaitExited(id, 30_000);
        deadline = System.nanoTime() + 30_000_000_000L;
        while (!checkProcesses(id).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the check outlived its container: " + checkProcesses(id));
            }
            Thread.sleep(100);
        }
        // a stopped container's check runs no more, and `healthcheck run` says why
        HullCommand.Result r = f.hull.run("healthcheck", "run", id);
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("is not running");
    }

    /** Host processes running this container's check (their command line names it). */
    private static List<String> checkProcesses(String id) throws IOException {
        List<String> found = new java.util.ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path d : dirs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(d.resolve("cmdline"))).replace('\0', ' ');
                    if (cmd.contains(" healthcheck run " + id)) {
                        found.add(d.getFileName().toString());
                    }
                } catch (IOException gone) {
                    // ended meanwhile
                }
            }
        }
        return found;
    }

    @Test
    void theImagesHealthcheckAppliesUnlessOverriddenOrDisabled() throws Exception {
        Path ctx = Files.createDirectories(f.dir.resolve("hc-image"));
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM busybox
                HEALTHCHECK --interval=1h --retries=1000 CMD test -e /tmp/ok
                """);
        String image = "hull-health-test:" + ProcessHandle.current().pid();
        f.hull.ok("build", "-q", "-t", image, ctx.toString());
        // the image's test with a faster interval from the flags (dockerd's merge)
        String id = f.detached("--health-interval", "1s", image, "sleep", "1000");
        JsonNode config = inspect(id).path("Config").path("Healthcheck");
        assertThat(config.path("Test").toString()).isEqualTo("[\"CMD-SHELL\",\"test -e /tmp/ok\"]");
        assertThat(config.path("Interval").asLong()).isEqualTo(1_000_000_000L);
        assertThat(config.path("Retries").asInt()).isEqualTo(1000);
        f.hull.ok("exec", id, "touch", "/tmp/ok");
        awaitHealth(id, x -> x.status().equals("healthy"), "healthy by the image's check");

        // --no-healthcheck: none, whatever the image says
        String none = f.detached("--no-healthcheck", image, "sleep", "1000");
        assertThat(inspect(none).path("Config").path("Healthcheck").path("Test").toString()).isEqualTo("[\"NONE\"]");
        assertThat(inspect(none).path("State").has("Health")).isFalse();
        assertThat(health(none)).isNull();
        assertThat(psNames("health=none")).contains(name(none));
        HullCommand.Result r = f.hull.run("healthcheck", "run", none);
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("has no defined healthcheck");
    }

    @Test
    void badFlagsAreRefusedAsDockerDoes() throws Exception {
        assertThat(f.hull.run("run", "--rm", "--no-healthcheck", "--health-cmd", "true", "busybox", "true"))
                .satisfies(r -> {
                    assertThat(r.exit()).isEqualTo(125);
                    assertThat(r.err()).contains("--no-healthcheck conflicts with --health-* options");
                });
        assertThat(f.hull.run("run", "--rm", "--health-interval", "-1s", "busybox", "true").err())
                .contains("--health-interval cannot be negative");
        assertThat(f.hull.run("run", "--rm", "--health-timeout", "soon", "busybox", "true").err())
                .contains("invalid argument \"soon\" for \"--health-timeout\"");
        assertThat(f.hull.run("run", "--rm", "--health-cmd", "true", "--health-interval", "10us", "busybox", "true")
                .err()).contains("Interval in Healthcheck cannot be less than 1ms");
        assertThat(f.hull.run("run", "--rm", "--health-retries", "-1", "busybox", "true").err())
                .contains("--health-retries cannot be negative");
        assertThat(f.hull.run("ps", "--filter", "health=fine").err())
                .contains("Unrecognised filter value for health: fine");
    }
}
