package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.spec.SchemaFiles;
import dev.hull.testing.OwnedMounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The runtime-spec's own example configs as bundles, and state/features output checked against the schemas. */
class ExampleBundlesTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("examples");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    /** A bundle holding the example config, with root.path pointed at the busybox rootfs. */
    static Path bundleOf(String example) throws Exception {
        ObjectNode config = (ObjectNode) Bundles.JSON.readTree(SchemaFiles.example("config", "good", example).toFile());
        ((ObjectNode) config.get("root")).put("path", Bundles.rootfs().toString());
        Path dir = Files.createDirectories(base.resolve(example + "-" + System.nanoTime()));
        Files.write(dir.resolve("config.json"), Bundles.JSON.writeValueAsBytes(config));
        return dir;
    }

    @Test
    void minimalForStartRunsAsShippedWithoutAnyNamespaceOrMount() throws Exception {
        // No linux section: the container shares every host namespace; Hull makes no mount and
        // enters the bundle's own rootfs (a copy here: device nodes are created in its /dev) by chroot.
        // (the mounts compared are this test's: in its directories or naming its container; others on
        // the host come and go meanwhile)
        String id = Bundles.id("min-start");
        List<Path> own = List.of(base, Bundles.rootfs());
        List<OwnedMounts.Mount> mounts = OwnedMounts.all();
        Path dir = Files.createDirectories(base.resolve("min-start-as-shipped"));
        Files.copy(SchemaFiles.example("config", "good", "minimal-for-start.json"), dir.resolve("config.json"));
        Process cp = new ProcessBuilder("cp", "-a", Bundles.rootfs().toString(), dir.resolve("rootfs").toString())
                .inheritIO().start();
        assertThat(cp.waitFor()).isZero();
        Host.Result r = Host.cli(root, "run", "-b", dir.toString(), id);
        assertThat(r.exit()).as("%s", r).isZero(); // sh with an empty stdin exits 0
        assertThat(root.resolve(id)).doesNotExist();
        assertThat(Files.exists(dir.resolve("rootfs/dev/null"))).isTrue();
        assertThat(OwnedMounts.owned(own, List.of(id))).as("mounts in %s or naming %s", own, id)
                .isEqualTo(OwnedMounts.owned(mounts, own, List.of(id)));
    }

    @Test
    void withoutAMountNamespaceMountsAreRefusedNamingTheField() throws Exception {
        Path dir = bundleOf("minimal-for-start.json");
        ObjectNode config = (ObjectNode) Bundles.JSON.readTree(dir.resolve("config.json").toFile());
        config.putArray("mounts").addObject().put("destination", "/proc").put("type", "proc").put("source", "proc");
        Files.write(dir.resolve("config.json"), Bundles.JSON.writeValueAsBytes(config));
        String id = Bundles.id("min-start-mounts");
        Host.Result r = Host.cli(root, "create", "-b", dir.toString(), id);
        assertThat(r.exit()).as("%s", r).isEqualTo(1);
        assertThat(r.err()).contains("config.json: mounts: needs a new mount namespace");
        assertThat(root.resolve(id)).doesNotExist();
    }

    @Test
    void minimalForStartWithAMountNamespaceRunsAndItsStateMatchesTheSchema() throws Exception {
        Set<String> mounts = Host.mountPoints();
        Path dir = bundleOf("minimal-for-start.json");
        ObjectNode config = (ObjectNode) Bundles.JSON.readTree(dir.resolve("config.json").toFile());
        ArrayNode ns = config.putObject("linux").putArray("namespaces");
        ns.addObject().put("type", "mount");
        ns.addObject().put("type", "pid");
        Files.write(dir.resolve("config.json"), Bundles.JSON.writeValueAsBytes(config));

        // args ["sh"] with stdin at EOF: the shell exits 0.
        String runId = Bundles.id("min-run");
        Host.Result run = Host.cli(root, "run", "-b", dir.toString(), runId);
        assertThat(run.exit()).as("%s", run).isZero();
        Host.assertNoTraces(root, runId, mounts, dir);

        String id = Bundles.id("min-state");
        assertThat(Host.cli(root, "create", "-b", dir.toString(), id).exit()).isZero();
        try {
            Host.Result st = Host.cli(root, "state", id);
            assertThat(st.exit()).as("%s", st).isZero();
            JsonNode state = Bundles.JSON.readTree(st.out());
            assertThat(SchemaFiles.validate("state-schema.json", state)).as("state %s", state).isEmpty();
            assertThat(state.path("status").asText()).isEqualTo("created");
            assertThat(state.path("ociVersion").asText()).isEqualTo("1.0.0");
            JsonNode list = Bundles.JSON.readTree(Host.cli(root, "list", "--format", "json").out());
            assertThat(list).anySatisfy(n -> assertThat(n.path("id").asText()).isEqualTo(id));
        } finally {
            assertThat(Host.cli(root, "delete", "--force", id).exit()).isZero();
        }
        Host.assertNoTraces(root, id, mounts, dir);
    }

    @Test
    void stoppedStateMatchesTheSchema() throws Exception {
        ContainerRuntime rt = new ContainerRuntime(root);
        Bundles.Bundle b = Bundles.create(base, "b").args("true").write();
        String id = Bundles.id("stopped");
        ContainerRecord rec = rt.create(id, b.dir, null);
        rt.start(id);
        assertThat(Host.await(() -> !ContainerRuntime.alive(rec.pid(), rec.startTime()))).isTrue();
        try {
            JsonNode state = Bundles.JSON.readTree(Host.cli(root, "state", id).out());
            assertThat(state.path("status").asText()).isEqualTo("stopped");
            assertThat(SchemaFiles.validate("state-schema.json", state)).as("state %s", state).isEmpty();
        } finally {
            rt.delete(id, false);
        }
    }

    @Test
    void minimalJsonHasNoProcessToRun() throws Exception {
        Path dir = bundleOf("minimal.json");
        String id = Bundles.id("minimal");
        Host.Result r = Host.cli(root, "create", "-b", dir.toString(), id);
        assertThat(r.exit()).as("%s", r).isEqualTo(1);
        assertThat(r.err()).contains("process");
        assertThat(root.resolve(id)).doesNotExist();
    }

    @Test
    void featuresMatchTheSchema() throws Exception {
        Host.Result r = Host.cli(root, "features");
        assertThat(r.exit()).as("%s", r).isZero();
        JsonNode features = Bundles.JSON.readTree(r.out());
        assertThat(SchemaFiles.validate("features-schema.json", features)).as("features %s", features).isEmpty();
        assertThat(features.path("linux").path("namespaces")).isNotEmpty();
    }
}
