package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.DiskUsage;
import dev.hull.engine.Engine;
import dev.hull.image.SnapshotStore;
import dev.hull.linux.cgroup.CgroupLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** hull system df, hull info / system info and hull version, on a store with known content. */
class SystemCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;
    static Path home;
    static Path state;
    static HullCommand hull;
    static Engine engine;
    static ContainerInfo container;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-system-");
        home = dir.resolve("home");
        state = dir.resolve("state");
        hull = new HullCommand(home, state, Map.of());
        engine = new Engine(home, state);
        // one image, one stopped container with 3000 bytes in its writable layer using one volume (5000 bytes),
        // one unused volume (1000 bytes)
        CreateOptions o = new CreateOptions();
        o.image = "busybox";
        o.name = "df-user";
        o.command = List.of("sh", "-c", "head -c 3000 /dev/zero > /written");
        o.volumes.add("dfvol:/v");
        assertThat(engine.run(o, false, new Engine.Attach(null, pid -> { })).exitCode()).isZero();
        container = engine.containers().resolve("df-user");
        Files.writeString(engine.volumes().get("dfvol").mountpoint().resolve("f"), "v".repeat(5000));
        engine.volumes().create("dfloose", Map.of());
        Files.writeString(engine.volumes().get("dfloose").mountpoint().resolve("f"), "l".repeat(1000));
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            engine.remove(container.id(), true);
        } finally {
            SnapshotStore.deleteTree(dir);
        }
    }

    @Test
    void dfCountsImagesContainersAndVolumes() throws Exception {
        List<DiskUsage.Summary> summary = DiskUsage.of(engine).summary();
        assertThat(summary).extracting(DiskUsage.Summary::type).containsExactly("Images", "Containers", "Local Volumes");
        DiskUsage.Summary images = summary.get(0);
        assertThat(images.total()).isEqualTo(1);
        assertThat(images.active()).isEqualTo(1);
        assertThat(images.size()).isGreaterThan(100_000); // the busybox binary
        assertThat(images.reclaimable()).isZero();
        assertThat(summary.get(1)).isEqualTo(new DiskUsage.Summary("Containers", 1, 0, 3000, 3000));
        assertThat(summary.get(2)).isEqualTo(new DiskUsage.Summary("Local Volumes", 2, 1, 6000, 1000));

        HullCommand.Result r = hull.run("system", "df");
        assertThat(r.out()).as(r.toString()).startsWith("TYPE").contains("RECLAIMABLE")
                .containsPattern("Containers +1 +0 +3.00kB +3.00kB \\(100%\\)")
                .containsPattern("Local Volumes +2 +1 +6.00kB +1.00kB \\(17%\\)");
        r = hull.run("system", "df", "--format", "json");
        List<JsonNode> lines = new ArrayList<>();
        for (String l : r.out().strip().split("\n")) {
            lines.add(JSON.readTree(l));
        }
        assertThat(lines).hasSize(3);
        assertThat(lines.get(2).toString()).isEqualTo(
                "{\"Type\":\"Local Volumes\",\"TotalCount\":2,\"Active\":1,\"Size\":6000,\"Reclaimable\":1000}");
        r = hull.run("system", "df", "-v", "--format", "json");
        JsonNode v = JSON.readTree(r.out());
        assertThat(v.path("Images").get(0).path("Containers").asInt()).isEqualTo(1);
        assertThat(v.path("Containers").get(0).path("Names").asText()).isEqualTo("df-user");
        assertThat(v.path("Containers").get(0).path("Volumes").toString()).isEqualTo("[\"dfvol\"]");
        assertThat(v.path("Volumes").toString()).contains("{\"Name\":\"dfloose\",\"Driver\":\"local\"")
                .contains("\"Links\":0,\"Size\":1000");
        r = hull.run("system", "df", "-v");
        assertThat(r.out()).contains("Images space usage:").contains("Containers space usage:")
                .contains("Local Volumes space usage:").containsPattern("dfloose +0 +1.00kB");
    }

    @Test
    void infoShowsTheEngineAndTheHost() throws Exception {
        HullCommand.Result r = hull.run("info", "--format", "json");
        JsonNode n = JSON.readTree(r.out());
        String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        assertThat(n.path("KernelVersion").asText()).isEqualTo(kernel);
        assertThat(n.path("Containers").asInt()).isEqualTo(1);
        assertThat(n.path("ContainersStopped").asInt()).isEqualTo(1);
        assertThat(n.path("ContainersRunning").asInt()).isZero();
        assertThat(n.path("Images").asInt()).isEqualTo(1);
        assertThat(n.path("Volumes").asInt()).isEqualTo(2);
        assertThat(n.path("HullRootDir").asText()).isEqualTo(home.toString());
        assertThat(n.path("StateDir").asText()).isEqualTo(state.toString());
        assertThat(n.path("Driver").asText()).isEqualTo(container.snapshotter());
        CgroupLayout layout = CgroupLayout.detect();
        assertThat(n.path("CgroupVersion").asText()).isEqualTo(layout.mode() == CgroupLayout.Mode.V2 ? "2" : "1");
        assertThat(n.path("CgroupLayout").asText()).isEqualTo(layout.mode().name().toLowerCase());
        assertThat(n.path("NCPU").asInt()).isPositive();
        assertThat(n.path("MemTotal").asLong()).isGreaterThan(64L << 20);
        assertThat(n.path("OperatingSystem").asText()).isNotEmpty();
        boolean seccomp = Files.readString(Path.of("/proc/self/status")).contains("\nSeccomp:");
        assertThat(n.path("SecurityOptions").toString().contains("seccomp")).isEqualTo(seccomp);
        r = hull.run("system", "info");
        assertThat(r.out()).as(r.toString()).contains("Kernel Version: " + kernel + "\n")
                .contains("Storage Root (HULL_HOME): " + home + "\n").contains(" Stopped: 1\n")
                .contains("Cgroup Version: " + n.path("CgroupVersion").asText());
        r = hull.run("info", "-f", "{{.KernelVersion}} {{.ContainersStopped}}");
        assertThat(r.out()).isEqualTo(kernel + " 1\n");
    }

    @Test
    void versionShowsHullJavaAndTheExecutor() throws Exception {
        HullCommand.Result r = hull.run("version", "--format", "json");
        JsonNode n = JSON.readTree(r.out());
        assertThat(n.path("Client").path("Version").asText()).isEqualTo(Version.HULL);
        assertThat(n.path("Engine").path("Version").asText()).isEqualTo(Version.HULL);
        assertThat(n.path("Client").path("JavaVersion").asText()).isEqualTo(System.getProperty("java.version"));
        Path executor = Path.of(n.path("Engine").path("Executor").asText());
        assertThat(executor).isEqualTo(Path.of(System.getProperty("hull.executor")).toAbsolutePath());
        assertThat(Files.isExecutable(executor)).isTrue();
        r = hull.run("version");
        assertThat(r.out()).startsWith("Client:\n Version:       " + Version.HULL).contains("Executor:      " + executor);
        r = hull.run("version", "--format", "yaml"); // a template without actions, as docker takes it
        assertThat(r.out()).isEqualTo("yaml\n");
        r = hull.run("version", "--format", "{{.Server.Nope}}");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("at <.Server.Nope>: map has no entry for key \"Nope\"");
    }
}
