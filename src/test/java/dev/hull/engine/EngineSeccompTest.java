package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.seccomp.SeccompCompiler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** hull run confines containers with the Docker-like default seccomp profile. */
class EngineSeccompTest {
    static Path home;
    static Engine engine;

    @BeforeAll
    static void setUp() throws Exception {
        home = Files.createTempDirectory(Path.of("/tmp"), "hull-engine-seccomp-");
        engine = new Engine(home.resolve("home"), home.resolve("state"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        dev.hull.image.SnapshotStore.deleteTree(home);
    }

    static final dev.hull.image.ImageConfig.Config EMPTY = new dev.hull.image.ImageConfig.Config(null, null, null,
            null, null, null, null, null, null);

    static Engine.RunRequest request(List<String> command) {
        return new Engine.RunRequest("busybox", command, null, true, false, List.of(), null, null, null, null,
                List.of(), false, null);
    }

    @Test
    void generatedConfigCarriesTheDefaultProfileForItsCapabilities() throws Exception {
        ObjectNode config = engine.config(request(List.of("true")), EMPTY, new ImageUser(0, 0, List.of(), "/root"), "x",
                null, home.resolve("x"));
        JsonNode seccomp = config.path("linux").path("seccomp");
        assertThat(seccomp.path("defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(seccomp.toString()).contains("\"personality\"").doesNotContain("\"mount\"");
        assertThat(SeccompCompiler.compile(seccomp, "linux.seccomp").instructions()).isPositive();
    }

    @Test
    void hullRunBlocksMountButRunsTheShell() throws Exception {
        assertThat(engine.run(request(List.of("sh", "-c", "echo ok >/dev/null && exit 7")), pid -> { })).isEqualTo(7);
        // Root in the container could mount a tmpfs without seccomp; the default profile refuses (EPERM).
        assertThat(engine.run(request(List.of("sh", "-c", "mount -t tmpfs t /mnt 2>/dev/null && exit 0;"
                + " unshare -U true 2>/dev/null && exit 1; exit 42")), pid -> { })).isEqualTo(42);
    }
}
