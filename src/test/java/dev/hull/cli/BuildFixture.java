package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.SnapshotStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A store of its own for the build tests (HULL_HOME and HULL_STATE under a temp dir, no service),
 * with what they all do: make a context, run hull expecting success, read an image's config, and
 * check that a build left nothing behind.
 */
final class BuildFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final Path dir;
    final Path home;
    final HullCommand hull;

    BuildFixture(String prefix) throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), prefix);
        home = dir.resolve("home");
        hull = new HullCommand(home, dir.resolve("state"), Map.of("HULL_NO_SERVICE", "1"));
    }

    /** A context directory named name with this Dockerfile. */
    Path context(String name, String dockerfile) throws Exception {
        Path c = Files.createDirectories(dir.resolve(name));
        Files.writeString(c.resolve("Dockerfile"), dockerfile);
        return c;
    }

    HullCommand.Result ok(String... args) throws Exception {
        HullCommand.Result r = hull.run(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    /** The image's config blob. */
    JsonNode config(String image) throws Exception {
        String id = JSON.readTree(ok("image", "inspect", image).out()).get(0).get("Id").asText().substring(7);
        return JSON.readTree(home.resolve("content/blobs/sha256").resolve(id).toFile());
    }

    /** The image's layer digests, lowest first. */
    java.util.List<String> layers(String image) throws Exception {
        java.util.List<String> out = new java.util.ArrayList<>();
        JSON.readTree(ok("image", "inspect", image).out()).get(0).path("Hull").path("Layers")
                .forEach(l -> out.add(l.path("digest").asText()));
        return out;
    }

    /** The image's layer blobs (all, or only those the build added to busybox's), decompressed: every entry. */
    Map<String, byte[]> layerFiles(String image, boolean all) throws Exception {
        java.util.List<String> layers = layers(image);
        if (!all) {
            layers.removeAll(layers("busybox"));
        }
        Map<String, byte[]> out = new java.util.LinkedHashMap<>();
        for (String l : layers) {
            Path blob = home.resolve("content/blobs/sha256").resolve(l.substring(7));
            try (java.io.InputStream f = dev.hull.image.unpack.Compression.decompressAny(
                    new java.io.BufferedInputStream(Files.newInputStream(blob)));
                    var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(f)) {
                for (org.apache.commons.compress.archivers.tar.TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                    out.put(e.getName(), in.readAllBytes());
                }
            }
        }
        return out;
    }

    /** Nothing of a build is left: no container, no mount of the store, no temp dirs, no half snapshot. */
    void nothingLeftBehind() throws Exception {
        assertThat(hull.run("ps", "-a", "-q").out()).as("containers").isEmpty();
        if (Files.isDirectory(home.resolve("containers"))) {
            try (var s = Files.list(home.resolve("containers"))) {
                assertThat(s.toList()).as("container dirs").isEmpty();
            }
        }
        if (Files.isDirectory(home.resolve("tmp"))) {
            try (var s = Files.list(home.resolve("tmp"))) {
                assertThat(s.toList()).as("temp files").isEmpty();
            }
        }
        try (var s = Files.list(home.resolve("snapshots"))) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".tmp-")).toList())
                    .as("half-made snapshots").isEmpty();
        }
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo"))).as("mounts")
                .noneMatch(l -> l.contains(dir.toString()));
    }

    @Override
    public void close() throws Exception {
        SnapshotStore.deleteTree(dir);
    }
}
