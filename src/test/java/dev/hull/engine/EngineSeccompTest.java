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

    static CreateOptions request(List<String> command) {
        CreateOptions o = new CreateOptions();
        o.image = "busybox";
        o.command = command;
        o.autoRemove = true;
        return o;
    }

    static int run(CreateOptions o) throws Exception {
        return engine.run(o, false, new Engine.Attach(null, pid -> { })).exitCode();
    }

    @Test
    void generatedConfigCarriesTheDefaultProfileForItsCapabilities() throws Exception {
        ObjectNode config = ContainerSpecBuilder.build(request(List.of("true")), EMPTY,
                new ImageUser(0, 0, List.of(), "/root"), "x".repeat(64), List.of("true"), null, home.resolve("x"),
                engine.volumes());
        JsonNode seccomp = config.path("linux").path("seccomp");
        assertThat(seccomp.path("defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(seccomp.toString()).contains("\"personality\"").doesNotContain("\"mount\"");
        assertThat(SeccompCompiler.compile(seccomp, "linux.seccomp").instructions()).isPositive();
    }

    @Test
    void hullRunBlocksMountButRunsTheShell() throws Exception {
        assertThat(run(request(List.of("sh", "-c", "echo ok >/dev/null && exit 7")))).isEqualTo(7);
        // Root in the container could mount a tmpfs without seccomp; the default profile refuses (EPERM).
        assertThat(run(request(List.of("sh", "-c", "mount -t tmpfs t /mnt 2>/dev/null && exit 0;"
                + " unshare -U true 2>/dev/null && exit 1; exit 42")))).isEqualTo(42);
    }
}
