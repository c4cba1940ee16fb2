package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Testcontainers for Java 2 (docker-java inside), unchanged, against Hull's Docker API: the
 * scenario runs in a JVM of its own with DOCKER_HOST set, as a user's test suite would. Ryuk (its
 * reaper, an image from Docker Hub) and its start-up checks (which pull alpine) are off: this host
 * has no Docker Hub; the scenario removes what it made itself.
 */
class TestcontainersTest {
    @TempDir
    Path tmp;

    @Test
    void aGenericContainerStartsServesExecsAndGoes() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(ApiService.DOCKER),
                "the docker CLI (used to check what is left) is not at " + ApiService.DOCKER);
        try (ApiService api = ApiService.start(tmp)) {
            ok(api.hull("run", "--rm", "busybox", "true")); // the built-in busybox image, in the service's store
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), TestcontainersScenario.class.getName()));
            List<String> withEnv = new ArrayList<>(List.of("env", "TESTCONTAINERS_RYUK_DISABLED=true",
                    "TESTCONTAINERS_CHECKS_DISABLE=true", "HOME=" + tmp, "DOCKER_HOST=unix://" + api.dockerSocket));
            withEnv.addAll(cmd);
            ApiService.Result r = api.run(null, withEnv);
            assertThat(r.exit()).as("%s", r).isZero();
            assertThat(r.out()).contains("mapped: true", "http: served-by-hull", "exec: 0 copied in", "env: yes",
                    "logs: true", "by alias: true", "done");
            assertThat(ok(api.docker("ps", "-aq", "--filter", "label=tc-test=1")).out()).as("removed on close").isEmpty();
        }
    }
}
