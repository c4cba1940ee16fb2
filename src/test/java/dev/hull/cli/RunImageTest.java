package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageFixtures;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.SnapshotStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull run applies the image config (Entrypoint, Cmd, Env, WorkingDir, User by
 * name) and hull images / image inspect / rmi / tag work on real containers,
 * with both snapshotters (overlay and copy) honouring whiteouts across layers.
 */
class RunImageTest {
    static Path dir;
    static HullCommand hull;
    static ImageService images;
    static ImageRecord app;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-run-image-");
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of());
        images = new ImageService(dir.resolve("home"));
        ImageRecord busybox = images.getOrBuildBuiltin("busybox");
        // app = busybox's layer + a layer with a user, a workdir and a file, + a layer deleting a file
        Map<String, String> l2 = new LinkedHashMap<>();
        l2.put("etc/", "");
        l2.put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
        l2.put("etc/group", "root:x:0:\napp:x:1000:\naudio:x:29:app\n");
        l2.put("srv/", "");
        l2.put("srv/app/", "");
        l2.put("srv/app/gone", "to be deleted");
        l2.put("srv/app/kept", "kept");
        Map<String, String> l3 = new LinkedHashMap<>();
        l3.put("srv/", "");
        l3.put("srv/app/", "");
        l3.put("srv/app/.wh.gone", "");
        byte[] bbLayer;
        try (var in = images.store().content().open(busybox.layers().get(0).parsedDigest())) {
            bbLayer = new java.util.zip.GZIPInputStream(in).readAllBytes();
        }
        app = ImageFixtures.image(images.store(), "fixture/app:1",
                new ImageConfig.Config("app", Map.of("8080/tcp", Map.of()), List.of("GREETING=hi", "PATH=/bin:/usr/bin"),
                        List.of("/bin/sh", "-c"), List.of("echo $GREETING from $(pwd) as $(id -u):$(id -g):$(id -G) home=$HOME;"
                                + " ls /srv/app"), Map.of("/data", Map.of()), "/srv/app", null, null),
                List.of(bbLayer, ImageFixtures.tar(l2), ImageFixtures.tar(l3)), null);
    }

    @AfterAll
    static void tearDown() throws Exception {
        SnapshotStore.deleteTree(dir);
    }

    @Test
    void theImageConfigDecidesCommandEnvironmentDirectoryAndUser() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "fixture/app:1");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("hi from /srv/app as 1000:1000:1000 29 home=/home/app\nkept\n");
    }

    @Test
    void commandLineOverridesTheImage() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "-e", "GREETING=yo", "-u", "0:0", "-w", "/", "fixture/app:1",
                "echo $GREETING in $(pwd) as $(id -u)");
        assertThat(r.out()).as(r.toString()).isEqualTo("yo in / as 0\n");
        // --entrypoint drops the image's Cmd
        r = hull.run("run", "--rm", "--entrypoint", "/bin/echo", "fixture/app:1", "plain");
        assertThat(r.out()).as(r.toString()).isEqualTo("plain\n");
        r = hull.run("run", "--rm", "-u", "nosuchuser", "fixture/app:1");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("nosuchuser").contains("/etc/passwd");
    }

    @Test
    void theCopySnapshotterGivesTheSameFilesystem() throws Exception {
        HullCommand copy = new HullCommand(dir.resolve("home"), dir.resolve("state"),
                Map.of("HULL_SNAPSHOTTER", "copy"));
        HullCommand.Result r = copy.run("run", "--rm", "-u", "0", "fixture/app:1",
                "ls /srv/app; ls -ld /tmp | cut -c1-10; readlink /bin/sh");
        assertThat(r.out()).as(r.toString()).isEqualTo("kept\ndrwxrwxrwt\n/bin/busybox\n");
    }

    @Test
    void imagesListsInspectShowsAndRmiRefusesAnImageInUse() throws Exception {
        HullCommand.Result r = hull.run("images", "--format", "json"); // one object a line, as docker prints
        List<String> repositories = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            repositories.add(new ObjectMapper().readTree(line).path("Repository").asText());
        }
        assertThat(repositories).contains("busybox", "fixture/app");
        r = hull.run("images");
        assertThat(r.out()).startsWith("REPOSITORY").contains("fixture/app").contains(app.digest().shortHex());
        r = hull.run("image", "inspect", "fixture/app:1");
        JsonNode inspect = new ObjectMapper().readTree(r.out()).get(0);
        assertThat(inspect.path("Id").asText()).isEqualTo(app.id());
        assertThat(inspect.path("Config").path("ExposedPorts").has("8080/tcp")).isTrue();
        assertThat(inspect.path("RootFS").path("Layers")).hasSize(3);

        r = hull.run("tag", "fixture/app:1", "fixture/app:keep");
        assertThat(r.exit()).as(r.toString()).isZero();
        r = hull.run("tag", "fixture/app:1", "fixture/app:extra");
        assertThat(r.exit()).as(r.toString()).isZero();
        r = hull.run("run", "--name", "user-of-app", "fixture/app:keep", "true");
        assertThat(r.exit()).as(r.toString()).isZero();
        String cid = java.nio.file.Files.readSymbolicLink(dir.resolve("home/names/user-of-app")).toString();
        JsonNode info = new ObjectMapper().readTree(dir.resolve("home/containers").resolve(cid)
                .resolve("container.json").toFile());
        assertThat(info.path("imageId").asText()).isEqualTo(app.id());
        assertThat(info.path("exposedPorts").toString()).contains("8080/tcp");
        assertThat(info.path("volumes").toString()).contains("/data");
        r = hull.run("rmi", "fixture/app:extra");
        assertThat(r.out()).as(r.toString()).isEqualTo("Untagged: fixture/app:extra\n");
        r = hull.run("rmi", app.id());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("2 names").contains("--force");
        r = hull.run("rmi", "fixture/app:1");
        assertThat(r.out()).as(r.toString()).isEqualTo("Untagged: fixture/app:1\n");
        r = hull.run("rmi", "fixture/app:keep");
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("user-of-app").contains("--force"); // the container, by name
        r = hull.run("image", "rm", "--force", "fixture/app:keep");
        assertThat(r.out()).as(r.toString()).isEqualTo("Untagged: fixture/app:keep\n");
        assertThat(images.store().read().images).containsKey(app.id());
        r = hull.run("run", "--rm", app.digest().shortHex(), "true");
        assertThat(r.exit()).as(r.toString()).isZero();
        images.tag(app.id(), "fixture/app:1");
        r = hull.run("system", "check");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("no problems found");
    }

    @Test
    void anUnknownImageIsAClearError() throws Exception {
        HullCommand.Result r = hull.run("run", "--rm", "--pull", "never", "nosuch/image:1");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("nosuch/image:1").contains("not found");
        // by default a missing image is pulled; this machine reaches no docker.io: the error says both
        r = hull.run("run", "--rm", "nosuch/image:1");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("image nosuch/image:1 is not here and pulling it failed").contains("docker.io");
    }
}
