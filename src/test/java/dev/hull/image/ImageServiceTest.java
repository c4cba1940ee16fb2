package dev.hull.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The image store's operations on a real filesystem: built-in image, unpack, tag, rmi, prune, check. */
class ImageServiceTest {
    Path home;
    ImageService images;

    @BeforeEach
    void setUp() throws Exception {
        home = Files.createTempDirectory(Path.of("/tmp"), "hull-images-");
        images = new ImageService(home);
    }

    @AfterEach
    void tearDown() throws Exception {
        SnapshotStore.deleteTree(home);
    }

    static Map<String, String> layer(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    ImageRecord twoLayers(String name, String marker) throws Exception {
        return ImageFixtures.image(images.store(), name, ImageFixtures.config(null, List.of("sh"), null, null, null),
                List.of(ImageFixtures.tar(layer("etc/", "", "etc/os", "fixture\n")),
                        ImageFixtures.tar(layer("app/", "", "app/marker", marker))), null);
    }

    @Test
    void builtinBusyboxIsARealImageAndTheSameOnEveryBuild() throws Exception {
        ImageRecord a = images.getOrBuildBuiltin("busybox");
        Path other = Files.createTempDirectory(Path.of("/tmp"), "hull-images-b-");
        try {
            ImageRecord b = new ImageService(other).getOrBuildBuiltin("docker.io/library/busybox:latest");
            assertThat(b.id()).isEqualTo(a.id());
            assertThat(b.manifestDigest()).isEqualTo(a.manifestDigest());
        } finally {
            SnapshotStore.deleteTree(other);
        }
        assertThat(a.names()).containsExactly("docker.io/library/busybox:latest");
        assertThat(images.config(a).config().cmd()).containsExactly("sh");
        List<Path> layers = images.unpack(a);
        assertThat(layers).hasSize(1);
        assertThat(Files.isSymbolicLink(layers.get(0).resolve("bin/sh"))).isTrue();
        assertThat(Files.size(layers.get(0).resolve("bin/busybox"))).isEqualTo(Files.size(Path.of("/bin/busybox")));
        assertThat(images.check(false).problems()).isEmpty();
    }

    @Test
    void layersAreSharedBetweenImagesAndUnpackedOnce() throws Exception {
        ImageRecord one = twoLayers("one", "1");
        ImageRecord two = twoLayers("two", "2");
        List<Path> a = images.unpack(one);
        List<Path> b = images.unpack(two);
        assertThat(a.get(0)).isEqualTo(b.get(0));
        assertThat(a.get(1)).isNotEqualTo(b.get(1));
        assertThat(Files.readString(b.get(1).resolve("app/marker"))).isEqualTo("2");
        assertThat(images.store().read().snapshots).hasSize(3);
    }

    @Test
    void concurrentUnpacksOfOneImageMakeOneSnapshotPerLayer() throws Exception {
        ImageRecord img = twoLayers("conc", "x");
        var pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Path>>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Callable<List<Path>> c = () -> images.unpack(img);
                fs.add(pool.submit(c));
            }
            List<Path> first = fs.get(0).get();
            for (var f : fs) {
                assertThat(f.get()).isEqualTo(first);
            }
        } finally {
            pool.shutdownNow();
        }
        try (var s = Files.list(images.snapshots().dir())) {
            assertThat(s.filter(p -> !p.getFileName().toString().startsWith(".")).count()).isEqualTo(2);
        }
    }

    @Test
    void aLayerWhoseContentDoesNotMatchItsDiffIdIsRejectedAndNothingIsKept() throws Exception {
        byte[] t = ImageFixtures.tar(layer("x", "y"));
        ImageRecord bad = ImageFixtures.image(images.store(), "bad", null, List.of(t),
                List.of(Digest.sha256("something else".getBytes()).toString()));
        assertThatThrownBy(() -> images.unpack(bad)).hasMessageContaining("image bad:latest")
                .hasMessageContaining(bad.layers().get(0).digest()).hasMessageContaining("diff_id");
        assertThat(images.store().read().snapshots).isEmpty();
        try (var s = Files.list(images.snapshots().dir())) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith(".tmp-")).toList()).isEmpty();
        }
    }

    @Test
    void rmiUntagsANameAndDeletesTheLastOneWithItsBlobsAndLayers() throws Exception {
        ImageRecord img = twoLayers("app:1", "m");
        images.unpack(img);
        images.tag("app:1", "127.0.0.1:5000/team/app:2");
        assertThat(images.get("127.0.0.1:5000/team/app:2").id()).isEqualTo(img.id());
        assertThat(images.remove(List.of("app:1"), false, () -> Map.of())).containsExactly("Untagged: app:1");
        assertThat(images.get(img.digest().hex().substring(0, 8)).names())
                .containsExactly("127.0.0.1:5000/team/app:2");
        assertThat(images.remove(List.of("127.0.0.1:5000/team/app:2"), false, () -> Map.of()))
                .containsExactly("Untagged: 127.0.0.1:5000/team/app:2", "Deleted: " + img.id());
        assertThat(images.store().read().images).isEmpty();
        assertThat(images.store().read().snapshots).isEmpty();
        assertThat(images.store().content().list()).isEmpty();
        try (var s = Files.list(images.snapshots().dir())) {
            assertThat(s.filter(p -> !p.getFileName().toString().startsWith(".")).toList()).isEmpty();
        }
        assertThatThrownBy(() -> images.remove(List.of("app:1"), false, () -> Map.of()))
                .isInstanceOf(ImageNotFoundException.class).hasMessageContaining("app:1");
    }

    @Test
    void rmiRefusesAnImageAContainerUsesAndForceOnlyUntagsIt() throws Exception {
        ImageRecord img = twoLayers("used", "m");
        List<Path> layers = images.unpack(img);
        Map<String, List<String>> inUse = Map.of(img.id(), List.of("web"));
        assertThatThrownBy(() -> images.remove(List.of("used"), false, () -> inUse)).hasMessageContaining("container web")
                .hasMessageContaining("--force");
        assertThat(images.get("used").id()).isEqualTo(img.id());
        assertThat(images.remove(List.of("used"), true, () -> inUse)).containsExactly("Untagged: used:latest");
        assertThat(images.store().read().images).containsKey(img.id());
        assertThat(Files.isDirectory(layers.get(1))).isTrue();
        // dangling but in use: prune keeps it; once unused, prune removes it
        images.prune(false, () -> inUse);
        assertThat(images.store().read().images).containsKey(img.id());
        List<String> pruned = images.prune(false, () -> Map.of());
        assertThat(pruned).contains("Deleted: " + img.id());
        assertThat(Files.exists(layers.get(1))).isFalse();
        // and the lock files of finished writes and unpacks go with it
        try (var s = Files.list(images.snapshots().dir().resolve(".locks"))) {
            assertThat(s.toList()).isEmpty();
        }
        try (var s = Files.list(images.store().content().root().resolve("ingest"))) {
            assertThat(s.toList()).isEmpty();
        }
    }

    @Test
    void pruneKeepsAnImagePulledByDigestOnly() throws Exception {
        ImageRecord img = twoLayers(null, "by-digest");
        store().update(m -> m.images.get(img.id()).repoDigests().add("docker.io/library/x@" + img.manifestDigest()));
        images.prune(false, () -> Map.of());
        assertThat(images.store().read().images).containsKey(img.id());
        ImageRecord dangling = twoLayers(null, "dangling");
        images.prune(false, () -> Map.of());
        assertThat(images.store().read().images).containsKey(img.id()).doesNotContainKey(dangling.id());
    }

    ImageStore store() {
        return images.store();
    }

    @Test
    void pruneAllKeepsOnlyImagesInUse() throws Exception {
        ImageRecord a = twoLayers("a", "a");
        ImageRecord b = twoLayers("b", "b");
        images.prune(true, () -> Map.of(b.id(), List.of("c1")));
        assertThat(images.store().read().images.keySet()).containsExactly(b.id());
        assertThat(images.store().content().has(a.layers().get(1).parsedDigest())).isFalse();
        assertThat(images.store().content().has(b.layers().get(1).parsedDigest())).isTrue();
        // the shared first layer stays: b uses it
        assertThat(images.store().content().has(a.layers().get(0).parsedDigest())).isTrue();
    }

    @Test
    void checkFindsCorruptBlobsMissingLayersAndLeftoversAndRepairsThem() throws Exception {
        ImageRecord img = twoLayers("chk", "m");
        List<Path> layers = images.unpack(img);
        assertThat(images.check(false).problems()).isEmpty();
        Path blob = images.store().content().path(img.layers().get(1).parsedDigest());
        blob.toFile().setWritable(true);
        Files.write(blob, "rot".getBytes());
        SnapshotStore.deleteTree(layers.get(0));
        Files.createDirectories(images.snapshots().dir().resolve(".tmp-killed/usr"));
        Files.createDirectories(images.store().content().root().resolve("ingest"));
        Files.write(images.store().content().root().resolve("ingest/sha256-" + "a".repeat(64)), new byte[10]);

        ImageService.CheckReport r = images.check(false);
        assertThat(r.problems()).anyMatch(p -> p.contains("blob " + img.layers().get(1).digest())
                && p.contains("does not match"));
        assertThat(r.problems()).anyMatch(p -> p.contains("snapshot") && p.contains("missing"));
        assertThat(r.leftovers()).anyMatch(p -> p.contains(".tmp-killed"));
        assertThat(r.leftovers()).anyMatch(p -> p.contains("ingest/sha256-aaaa"));

        images.check(true);
        ImageService.CheckReport after = images.check(false);
        assertThat(after.leftovers()).isEmpty();
        assertThat(after.problems()).allMatch(p -> p.contains("is missing (pull the image again)"));
        // the layer whose record was dropped is unpacked again on next use
        assertThat(Files.readString(images.unpack(twoLayers("chk2", "other")).get(0).resolve("etc/os")))
                .isEqualTo("fixture\n");
    }

    @Test
    void aKilledMetadataWriteLeavesTheOldDocument() throws Exception {
        twoLayers("keep", "k");
        // a temp file from a writer killed before its rename is ignored by readers
        Files.writeString(home.resolve(".images.json.123.tmp"), "{ half");
        assertThat(images.get("keep").names()).containsExactly("docker.io/library/keep:latest");
        Files.writeString(home.resolve("images.json"), "{ torn");
        assertThatThrownBy(() -> images.list()).hasMessageContaining("images.json");
    }
}
