package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** --sig-proxy: a foreground run passes the signals it gets to the container, or (false) only ends itself. */
class SigProxyTest {
    static Path root;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "hull-sigproxy-");
        hull = new HullCommand(root.resolve("home"), root.resolve("state"), Map.of("HULL_NO_SERVICE", "1"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        hull.run("rm", "--force", "sp-proxied", "sp-not-proxied");
        dev.hull.image.SnapshotStore.deleteTree(root);
    }

    /** Starts a foreground run that says "ready" once its TERM trap is set, and sends SIGTERM to hull then. */
    private static Process termOnceReady(String... runArgs) throws Exception {
        Process p = hull.builder(runArgs).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("ready");
        p.toHandle().destroy(); // SIGTERM to hull itself
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return p;
    }

    private static final String TRAP = "trap 'echo got-term; exit 3' TERM; echo ready; while true; do sleep 0.1; done";

    @Test
    void signalsGoToTheContainerByDefault() throws Exception {
        Process p = termOnceReady("run", "--name", "sp-proxied", "busybox", "sh", "-c", TRAP);
        assertThat(p.exitValue()).as("the container's status").isEqualTo(3);
        assertThat(hull.ok("logs", "sp-proxied").out()).contains("got-term");
    }

    @Test
    void withoutSigProxyOnlyHullEnds() throws Exception {
        Process p = termOnceReady("run", "--sig-proxy=false", "--name", "sp-not-proxied", "busybox", "sh", "-c", TRAP);
        assertThat(p.exitValue()).as("hull killed by SIGTERM").isEqualTo(143);
        assertThat(hull.ok("ps", "--filter", "name=sp-not-proxied", "--format", "{{.State}}").out())
                .isEqualTo("running\n");
        assertThat(hull.ok("logs", "sp-not-proxied").out()).doesNotContain("got-term");
    }
}
