package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageFixtures;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.RuntimeError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull volume create/ls/inspect/rm/prune through the real CLI, volumes shared by containers, rm and
 * prune refusing a volume a container uses, docker's copy-up of an image's files into a new
 * volume, and the lock that keeps a volume from being removed under a container being created.
 */
class VolumeCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;
    static Path home;
    static HullCommand hull;
    static Engine engine;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-volumes-");
        home = dir.resolve("home");
        hull = new HullCommand(home, dir.resolve("state"), Map.of());
        engine = new Engine(home, dir.resolve("state"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            for (ContainerInfo c : engine.containers().list()) {
                engine.remove(c.id(), true);
            }
        } finally {
            SnapshotStore.deleteTree(dir);
        }
    }

    @Test
    void createListInspectAndRemove() throws Exception {
        HullCommand.Result r = hull.run("volume", "create", "--label", "team=web", "--label", "tier", "webdata");
        assertThat(r.out()).as(r.toString()).isEqualTo("webdata\n");
        String anonymous = engine.volumes().create(null, Map.of()).name(); // no name: a random one
        assertThat(anonymous).matches("[0-9a-f]{64}");
        assertThatThrownBy(() -> engine.volumes().create("bad/name", Map.of()))
                .hasMessageContaining("invalid volume name \"bad/name\"");
        r = hull.run("volume", "ls");
        assertThat(r.out()).as(r.toString()).startsWith("DRIVER").contains("local     webdata").contains(anonymous);
        r = hull.run("volume", "ls", "-q", "--filter", "label=team=web");
        assertThat(r.out()).as(r.toString()).isEqualTo("webdata\n");
        r = hull.run("volume", "ls", "--format", "json", "--filter", "name=webd", "--filter", "dangling=true");
        JsonNode line = JSON.readTree(r.out());
        assertThat(r.out().strip().lines()).hasSize(1);
        assertThat(line.path("Name").asText()).isEqualTo("webdata");
        assertThat(line.path("Labels").path("team").asText()).isEqualTo("web");
        assertThat(line.path("InUse").asBoolean()).isFalse();

        r = hull.run("volume", "inspect", "webdata", "nosuch");
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("no such volume: nosuch");
        JsonNode v = JSON.readTree(r.out()).get(0);
        assertThat(v.path("Name").asText()).isEqualTo("webdata");
        assertThat(v.path("Driver").asText()).isEqualTo("local");
        assertThat(v.path("Scope").asText()).isEqualTo("local");
        assertThat(v.path("Mountpoint").asText()).isEqualTo(home.resolve("volumes/webdata/_data").toString());
        assertThat(Path.of(v.path("Mountpoint").asText())).isDirectory();
        assertThat(Duration.between(Instant.parse(v.path("CreatedAt").asText()), Instant.now()).abs())
                .isLessThan(Duration.ofMinutes(10));
        assertThat(v.path("Labels").toString()).isEqualTo("{\"team\":\"web\",\"tier\":\"\"}");
        assertThat(JSON.readTree(Files.readAllBytes(home.resolve("volumes/webdata/volume.json"))).path("Labels")
                .path("team").asText()).isEqualTo("web");

        r = hull.run("volume", "rm", "webdata", "nosuch", anonymous);
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("webdata\n" + anonymous + "\n");
        assertThat(r.err()).contains("no such volume: nosuch");
        assertThat(home.resolve("volumes/webdata")).doesNotExist();
        assertThat(home.resolve("volumes/" + anonymous)).doesNotExist();
        r = hull.run("volume", "rm", "-f", "webdata");
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    @Test
    void dataPersistsAcrossContainers() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "-v", "shared:/d", "busybox", "sh", "-c",
                "echo persisted > /d/f");
        assertThat(r.exit()).as(r.toString()).isZero();
        r = hull.run("run", "--rm", "-v", "shared:/data:ro", "busybox", "sh", "-c", "cat /data/f; touch /data/g");
        assertThat(r.out()).as(r.toString()).isEqualTo("persisted\n");
        assertThat(r.err()).contains("Read-only file system");
        assertThat(engine.volumes().get("shared").mountpoint().resolve("f")).hasContent("persisted");
    }

    @Test
    void rmAndPruneLeaveAVolumeThatAContainerUses() throws Exception {
        String holder = engine.create(create("busybox", "held:/x")).id(); // created, never started: still a user
        engine.volumes().create("loose", Map.of("tmp", "1"));
        Files.writeString(engine.volumes().get("loose").mountpoint().resolve("f"), "x".repeat(1000));
        HullCommand.Result r = hull.run("volume", "rm", "held");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("volume held is in use by container " + holder.substring(0, 12));
        r = hull.run("volume", "ls", "-q", "--filter", "dangling=true");
        assertThat(r.out().lines()).contains("loose").doesNotContain("held");
        r = hull.run("volume", "prune", "-f");
        assertThat(r.out()).as(r.toString()).contains("Deleted Volumes:\n").contains("loose\n")
                .contains("Total reclaimed space: 1.00kB").doesNotContain("held");
        assertThat(engine.volumes().list()).extracting(v -> v.name()).contains("held").doesNotContain("loose");
        assertThat(engine.volumesInUse()).containsEntry("held", List.of(holder));
        engine.remove(holder, false);
        engine.volumes().remove("held", false, engine::volumesInUse);
        assertThat(home.resolve("volumes/held")).doesNotExist();
        r = hull.run("volume", "prune", "--help");
        assertThat(r.out()).contains("anonymous").contains("Examples:");
    }

    @Test
    void aNewVolumeGetsTheImagesFilesAnUsedOneKeepsItsOwn() throws Exception {
        Map<String, String> l1 = new LinkedHashMap<>();
        l1.put("srv/", "");
        l1.put("srv/app/", "");
        l1.put("srv/app/a", "from layer 1");
        l1.put("srv/app/gone", "deleted above");
        l1.put("srv/app/sub/", "");
        l1.put("srv/app/sub/s", "nested");
        Map<String, String> l2 = new LinkedHashMap<>();
        l2.put("srv/", "");
        l2.put("srv/app/", "");
        l2.put("srv/app/.wh.gone", "");
        l2.put("srv/app/b", "from layer 2");
        ImageFixtures.image(engine.images().store(), "fixture/files:1", new ImageConfig.Config(null, null, null, null,
                List.of("true"), null, null, null, null), List.of(ImageFixtures.tar(l1), ImageFixtures.tar(l2)), null);
        ContainerInfo first = engine.create(create("fixture/files:1", "appdata:/srv/app", "empty:/nothing/here"));
        Path data = engine.volumes().get("appdata").mountpoint();
        assertThat(data.resolve("a")).hasContent("from layer 1");
        assertThat(data.resolve("b")).hasContent("from layer 2");
        assertThat(data.resolve("sub/s")).hasContent("nested");
        assertThat(data.resolve("gone")).doesNotExist();
        assertThat(Files.getLastModifiedTime(data).toMillis()).isEqualTo(1_700_000_000_000L); // the image's directory's
        try (var s = Files.list(engine.volumes().get("empty").mountpoint())) {
            assertThat(s.toList()).isEmpty();
        }
        // a volume with content is the container's data: a later container does not fill it again
        Files.delete(data.resolve("a"));
        Files.writeString(data.resolve("mine"), "kept");
        ContainerInfo second = engine.create(create("fixture/files:1", "appdata:/srv/app"));
        assertThat(data.resolve("a")).doesNotExist();
        assertThat(data.resolve("mine")).hasContent("kept");
        engine.remove(first.id(), false);
        engine.remove(second.id(), false);
    }

    static CreateOptions create(String image, String... volumes) {
        CreateOptions o = new CreateOptions();
        o.image = image;
        o.command = List.of("true");
        o.volumes.addAll(List.of(volumes));
        return o;
    }

    @Test
    void aVolumeIsNeverRemovedUnderAContainerBeingCreated() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger removed = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        Thread remover = new Thread(() -> {
            // another engine, as another hull process would be
            Engine other = new Engine(home, dir.resolve("state"));
            while (!stop.get()) {
                try {
                    if (other.volumes().list().stream().anyMatch(v -> v.name().equals("race"))) {
                        other.volumes().remove("race", true, other::volumesInUse);
                        removed.incrementAndGet();
                    }
                } catch (RuntimeError e) {
                    refused.incrementAndGet(); // in use: right
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        remover.start();
        try {
            for (int i = 0; i < 20; i++) {
                ContainerInfo c = engine.create(create("busybox", "race:/x"));
                // recorded: from now on no rm can take the volume
                Thread.sleep(5);
                assertThat(engine.volumes().get("race").mountpoint()).isDirectory();
                String config = Files.readString(engine.containers().dir(c.id()).resolve("config.json"));
                assertThat(config).contains(home.resolve("volumes/race/_data").toString());
                engine.remove(c.id(), false);
                Thread.sleep(5); // let the remover take it now and then
            }
        } finally {
            stop.set(true);
            remover.join();
        }
        assertThat(removed.get() + refused.get()).as("the remover raced the creations").isPositive();
    }
}
