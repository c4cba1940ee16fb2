package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Healthchecks through the Docker API: the docker CLI's --health-* and --no-healthcheck (Config.Healthcheck),
 * State.Health in inspect, ps's STATUS and --filter health=, the health_status events; docker-compose's
 * depends_on condition service_healthy; Testcontainers' health wait strategy. The checks run warm here
 * (the monitor's `bin/hull healthcheck run` goes through this class's service).
 */
class DockerHealthcheckTest extends ApiServiceTest {
    private static final long WAIT_MS = 120_000;

    private static String awaitInspect(String container, String template, String want) throws Exception {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        for (;;) {
            String got = ok(api.docker("inspect", "-f", template, container)).out().strip();
            if (got.equals(want)) {
                return got;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(template + " of " + container + " is " + got + ", not " + want + ", after "
                        + WAIT_MS + " ms");
            }
            Thread.sleep(200);
        }
    }

    @Test
    void dockerRunHealthCmdGoesFromStartingToHealthy() throws Exception {
        String since = Long.toString(System.currentTimeMillis() / 1000 - 1);
        ok(api.docker("run", "-d", "--name", "hc-api", "--health-cmd", "test -e /tmp/ok", "--health-interval", "1s",
                "--health-retries", "1000", "busybox", "sleep", "1000"));
        try {
            assertThat(ok(api.docker("inspect", "-f", "{{.State.Health.Status}}", "hc-api")).out().strip())
                    .isEqualTo("starting");
            assertThat(ok(api.docker("inspect", "-f", "{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}}",
                    "hc-api")).out().strip()).isEqualTo("[\"CMD-SHELL\",\"test -e /tmp/ok\"] 1s");
            assertThat(ok(api.docker("ps", "--filter", "name=^/hc-api$", "--format", "{{.Status}}")).out())
                    .endsWith("(health: starting)\n");
            ok(api.docker("exec", "hc-api", "touch", "/tmp/ok"));
            awaitInspect("hc-api", "{{.State.Health.Status}}", "healthy");
            assertThat(ok(api.docker("inspect", "-f", "{{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).Start}}",
                    "hc-api")).out().strip()).matches("0 \\d{4}-.*");
            assertThat(ok(api.docker("ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}")).out())
                    .containsPattern("hc-api Up .* \\(healthy\\)");
            assertThat(ok(api.docker("ps", "--filter", "health=starting", "--format", "{{.Names}}")).out())
                    .doesNotContain("hc-api");
            String until = Long.toString(System.currentTimeMillis() / 1000 + 1);
            assertThat(ok(api.docker("events", "--since", since, "--until", until, "--filter", "container=hc-api",
                    "--format", "{{.Action}}")).out()).contains("health_status: healthy");
            // what the monitor runs, run by hand: podman's command
            assertThat(api.hull("healthcheck", "run", "hc-api").exit()).isZero();
        } finally {
            api.docker("rm", "-f", "hc-api");
        }
    }

    /**
     * dockerd's events for each probe: exec_create and exec_start (the check's command, execID), exec_die
     * (execID, exitCode), then health_status when the status changes; in that order.
     */
    @Test
    void eachProbeIsAnExecInTheEvents() throws Exception {
        String since = Long.toString(System.currentTimeMillis() / 1000 - 1);
        ok(api.docker("run", "-d", "--name", "hc-events", "--health-cmd", "exit 0", "--health-interval", "1s",
                "busybox", "sleep", "1000"));
        try {
            awaitInspect("hc-events", "{{.State.Health.Status}}", "healthy");
            String until = Long.toString(System.currentTimeMillis() / 1000 + 1);
            List<String> lines = ok(api.docker("events", "--since", since, "--until", until, "--filter",
                    "container=hc-events", "--format",
                    "{{.Action}}|{{.Actor.Attributes.execID}}|{{.Actor.Attributes.exitCode}}|{{.Actor.Attributes.name}}"))
                    .out().lines().filter(l -> l.startsWith("exec_") || l.startsWith("health_")).toList();
            assertThat(lines).as(lines.toString()).hasSizeGreaterThanOrEqualTo(4);
            String[] create = lines.get(0).split("\\|", -1);
            assertThat(create[0]).isEqualTo("exec_create: /bin/sh -c exit 0");
            assertThat(create[1]).matches("[0-9a-f]{64}");
            assertThat(create[3]).isEqualTo("hc-events");
            assertThat(lines.get(1)).isEqualTo("exec_start: /bin/sh -c exit 0|" + create[1] + "|<no value>|hc-events");
            assertThat(lines.get(2)).isEqualTo("exec_die|" + create[1] + "|0|hc-events");
            assertThat(lines.get(3)).isEqualTo("health_status: healthy|<no value>|<no value>|hc-events");
        } finally {
            api.docker("rm", "-f", "hc-events");
        }
    }

    @Test
    void noHealthcheckAndBadValues() throws Exception {
        ok(api.docker("run", "-d", "--name", "hc-none", "--no-healthcheck", "busybox", "sleep", "1000"));
        try {
            assertThat(ok(api.docker("inspect", "-f", "{{json .Config.Healthcheck.Test}} {{if .State.Health}}health{{else}}none{{end}}",
                    "hc-none")).out().strip()).isEqualTo("[\"NONE\"] none");
            assertThat(ok(api.docker("ps", "--filter", "health=none", "--format", "{{.Names}}")).out()).contains("hc-none");
        } finally {
            api.docker("rm", "-f", "hc-none");
        }
        // the CLI lets 10us through; dockerd refuses it (and so does Hull)
        Result bad = api.docker("create", "--health-cmd", "true", "--health-interval", "10us", "busybox");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("Interval in Healthcheck cannot be less than 1ms");
    }

    @Test
    void composeWaitsForAServiceToBeHealthy() throws Exception {
        Path compose = Path.of("/usr/bin/docker-compose");
        Assumptions.assumeTrue(Files.isExecutable(compose), "docker-compose is not installed (Debian's docker-compose)");
        Path project = Files.createDirectories(tmp.resolve("healthy"));
        // db is healthy 2 s after it starts; web may start only then
        Files.writeString(project.resolve("docker-compose.yml"), """
                services:
                  db:
                    image: busybox
                    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 1000"]
                    healthcheck:
                      test: ["CMD-SHELL", "test -e /tmp/ready"]
                      interval: 1s
                      retries: 1000
                  web:
                    image: busybox
                    command: ["sleep", "1000"]
                    depends_on:
                      db:
                        condition: service_healthy
                """);
        List<String> up = new ArrayList<>(List.of(compose.toString(), "-p", "hullhealth", "up", "-d"));
        try {
            Result r = api.run(null, up, project);
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(ok(api.docker("inspect", "-f", "{{.State.Health.Status}}", "hullhealth_db_1")).out().strip())
                    .isEqualTo("healthy");
            // web started after db's first passing check ended
            String healthyAt = ok(api.docker("inspect", "-f",
                    "{{range .State.Health.Log}}{{if eq .ExitCode 0}}{{json .End}} {{end}}{{end}}", "hullhealth_db_1"))
                    .out().strip().split(" ")[0].replace("\"", "");
            String webStarted = ok(api.docker("inspect", "-f", "{{.State.StartedAt}}", "hullhealth_web_1")).out().strip();
            assertThat(java.time.Instant.parse(webStarted)).isAfter(java.time.Instant.parse(healthyAt));
        } finally {
            api.run(null, List.of(compose.toString(), "-p", "hullhealth", "down"), project);
        }
    }

    @Test
    void testcontainersWaitsForHealthy() throws Exception {
        ok(api.hull("run", "--rm", "busybox", "true")); // the built-in busybox image, in the service's store
        List<String> cmd = new ArrayList<>(List.of("env", "TESTCONTAINERS_RYUK_DISABLED=true",
                "TESTCONTAINERS_CHECKS_DISABLE=true", "HOME=" + tmp, "DOCKER_HOST=unix://" + api.dockerSocket,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), TestcontainersHealthScenario.class.getName()));
        Result r = api.run(null, cmd);
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.out()).contains("ready file: 0", "health: healthy", "done");
        assertThat(ok(api.docker("ps", "-aq", "--filter", "label=tc-health-test=1")).out()).as("removed on close").isEmpty();
    }

    @Test
    void checksGoOnThroughAServiceRestart() throws Exception {
        // a service of this test's own, which it stops and starts again; no other service may start
        // meanwhile (the cold checks would start one for the next: autoStartService off)
        Path dir = Files.createDirectories(tmp.resolve("restarted"));
        Files.writeString(dir.resolve("hull.json"), "{\"autoStartService\": false}");
        ApiService own = ApiService.start(dir);
        try {
            ok(own.hull("run", "-d", "--name", "hc-restart", "--health-cmd", "test -e /tmp/ok", "--health-interval", "1s",
                    "--health-retries", "1", "busybox", "sleep", "1000"));
            ok(own.hull("exec", "hc-restart", "touch", "/tmp/ok"));
            awaitHull(own, "healthy");
            ProcessHandle service = ProcessHandle.of(own.servicePid()).orElseThrow();
            service.destroy();
            service.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
            // no service: the monitor's checks run cold
            ok(own.hull("exec", "hc-restart", "rm", "/tmp/ok"));
            awaitHull(own, "unhealthy");
            own = startAgain(dir);
            ok(own.hull("exec", "hc-restart", "touch", "/tmp/ok"));
            awaitHull(own, "healthy");
        } finally {
            own.hull("rm", "-f", "hc-restart"); // (cold, should the service be down)
            own.close();
        }
    }

    /**
     * A service on the socket again. A cold command (the monitor's check, now) takes the service lock a
     * moment to see whether it should start one: a start that meets it tries again.
     */
    private static ApiService startAgain(Path dir) throws Exception {
        for (int attempt = 1;; attempt++) {
            try {
                return ApiService.start(dir);
            } catch (AssertionError e) {
                if (attempt == 20 || !String.valueOf(e.getMessage()).contains("another Hull service")) {
                    throw e;
                }
            }
        }
    }

    private static void awaitHull(ApiService s, String status) throws Exception {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        String got;
        while (!(got = ok(s.hull("inspect", "-f", "{{.State.Health.Status}}", "hc-restart")).out().strip()).equals(status)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("health " + got + ", not " + status + ", after " + WAIT_MS + " ms");
            }
            Thread.sleep(200);
        }
    }
}
