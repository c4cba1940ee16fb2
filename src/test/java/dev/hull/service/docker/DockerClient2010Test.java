package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's docker client (docker.io 20.10, /usr/bin/docker) against Hull's API: its hijacked
 * requests (attach for run without -d, exec start) carry an empty Host header, which Jetty alone
 * refuses (BlankHostHttp).
 */
class DockerClient2010Test {
    static final Path DOCKER_2010 = Path.of("/usr/bin/docker");

    @TempDir
    static Path tmp;
    static ApiService api;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DOCKER_2010), "Debian's docker.io client is not at " + DOCKER_2010);
        api = ApiService.start(tmp);
        ok(api.hull("run", "--rm", "busybox", "true")); // the built-in busybox image, in the service's store
    }

    @AfterAll
    static void stop() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    static ApiService.Result docker(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(DOCKER_2010.toString()));
        cmd.addAll(List.of(args));
        return api.run(null, cmd);
    }

    @Test
    void runAttachedExecAndExitCodes() throws Exception {
        ApiService.Result r = ok(docker("run", "--rm", "--network", "none", "busybox", "echo", "hi from 20.10"));
        assertThat(r.out()).isEqualTo("hi from 20.10\n");
        assertThat(docker("run", "--rm", "--network", "none", "busybox", "sh", "-c", "exit 7").exit()).isEqualTo(7);
        String id = ok(docker("run", "-d", "--network", "none", "--label", "c2010=1", "busybox", "sleep", "60")).out().strip();
        try {
            assertThat(ok(docker("exec", id, "echo", "in exec")).out()).isEqualTo("in exec\n");
            assertThat(docker("exec", id, "sh", "-c", "exit 3").exit()).isEqualTo(3);
        } finally {
            ok(docker("rm", "-f", id));
        }
    }
}
