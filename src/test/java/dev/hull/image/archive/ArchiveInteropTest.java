package dev.hull.image.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Archives Hull writes are read by skopeo and umoci; archives they write load into Hull. */
class ArchiveInteropTest {
    @TempDir
    Path tmp;

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    @BeforeAll
    static void tools() {
        assumeTrue(onPath("skopeo"), "skopeo is not installed (apt-get install skopeo): interop tests skipped");
        assumeTrue(onPath("umoci"), "umoci is not installed (apt-get install umoci): interop tests skipped");
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(cmd));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s failed:%n%s", String.join(" ", argv), out).isZero();
        return out;
    }

    private static String skopeo(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("skopeo", "--insecure-policy"));
        argv.addAll(List.of(args));
        return run(argv.toArray(String[]::new));
    }

    private static void assertLayerFiles(Path rootfs, String seed) throws IOException {
        assertThat(Files.readString(rootfs.resolve("etc/hello.txt"))).isEqualTo("hello from " + seed + "\n");
        assertThat(Files.readSymbolicLink(rootfs.resolve("etc/hello-link"))).isEqualTo(Path.of("hello.txt"));
        assertThat(Files.readString(rootfs.resolve("data/zfile"))).isEqualTo("zstd layer of " + seed + "\n");
        assertThat(Files.readSymbolicLink(rootfs.resolve("data/zlink"))).isEqualTo(Path.of("zfile"));
        assertThat(Files.readString(rootfs.resolve("opt/plain.txt"))).isEqualTo("plain layer of " + seed + "\n");
        assertThat(Files.isDirectory(rootfs.resolve("opt"))).isTrue();
    }

    @Test
    void skopeoReadsOurDockerArchiveAndUmociUnpacksIt() throws Exception {
        ImageStore store = new ImageStore(tmp.resolve("store"));
        ImageRecord img = ArchiveTestImages.build(store, "interop", "interop:1");
        Path archive = tmp.resolve("ours.tar");
        try (OutputStream out = Files.newOutputStream(archive)) {
            ImageArchives.saveDockerArchive(List.of(img), List.of(List.of("interop:1")), store, out);
        }
        Path oci = tmp.resolve("oci");
        skopeo("copy", "docker-archive:" + archive, "oci:" + oci + ":t1");
        String inspect = skopeo("inspect", "--config", "oci:" + oci + ":t1");
        for (String diff : img.diffIds()) {
            assertThat(inspect).contains(diff);
        }
        Path bundle = tmp.resolve("bundle");
        run("umoci", "unpack", "--image", oci + ":t1", bundle.toString());
        assertLayerFiles(bundle.resolve("rootfs"), "interop");
    }

    @Test
    void skopeoReadsOurOciLayoutAndArchive() throws Exception {
        ImageStore store = new ImageStore(tmp.resolve("store"));
        ImageRecord img = ArchiveTestImages.buildWithoutZstd(store, "layout", "example.org/layout:2");
        Path layout = tmp.resolve("ours");
        ImageArchives.saveOciLayout(List.of(img), store, layout);
        String raw = skopeo("inspect", "--raw", "oci:" + layout + ":2");
        assertThat(Digest.sha256(raw.getBytes(StandardCharsets.UTF_8)).toString()).isEqualTo(img.manifestDigest());
        Path archive = tmp.resolve("ours-oci.tar");
        try (OutputStream out = Files.newOutputStream(archive)) {
            ImageArchives.saveOciArchive(List.of(img), store, out);
        }
        Path copy = tmp.resolve("copy");
        skopeo("copy", "oci-archive:" + archive + ":2", "oci:" + copy + ":2");
        run("umoci", "unpack", "--image", copy + ":2", tmp.resolve("bundle").toString());
        assertLayerFiles(tmp.resolve("bundle/rootfs"), "layout");
    }

    @Test
    void umociLayoutLoads() throws Exception {
        Path layout = tmp.resolve("umoci-made");
        run("umoci", "init", "--layout", layout.toString());
        run("umoci", "new", "--image", layout + ":v1");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("greeting"), "from umoci\n");
        run("umoci", "insert", "--image", layout + ":v1", src.toString(), "/srv");
        ImageStore store = new ImageStore(tmp.resolve("store"));
        List<ImageRecord> loaded = ImageArchives.load(layout, store);
        assertThat(loaded).hasSize(1);
        ImageRecord img = loaded.get(0);
        assertThat(img.names()).containsExactly("localhost/umoci-made:v1");
        assertThat(img.layers()).hasSize(1);
        assertThat(img.diffIds()).hasSize(1);
        for (var l : img.layers()) {
            assertThat(store.content().verify(l.parsedDigest())).isTrue();
        }
        // The loaded image's layer holds what umoci inserted: save it for docker and let skopeo + umoci unpack it.
        Path archive = tmp.resolve("back.tar");
        try (OutputStream out = Files.newOutputStream(archive)) {
            ImageArchives.saveDockerArchive(loaded, null, store, out);
        }
        Path oci = tmp.resolve("back-oci");
        skopeo("copy", "docker-archive:" + archive, "oci:" + oci + ":v1");
        run("umoci", "unpack", "--image", oci + ":v1", tmp.resolve("bundle").toString());
        assertThat(Files.readString(tmp.resolve("bundle/rootfs/srv/greeting"))).isEqualTo("from umoci\n");
    }

    @Test
    void skopeoDockerArchiveLoadsWithItsName() throws Exception {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        ImageRecord img = ArchiveTestImages.buildWithoutZstd(src, "sk", "sk:9");
        Path layout = tmp.resolve("layout");
        ImageArchives.saveOciLayout(List.of(img), src, layout);
        Path archive = tmp.resolve("skopeo.tar");
        skopeo("copy", "oci:" + layout + ":9", "docker-archive:" + archive + ":registry.test/team/sk:tag9");
        ImageStore store = new ImageStore(tmp.resolve("store"));
        List<ImageRecord> loaded = ImageArchives.load(archive, store);
        assertThat(loaded).hasSize(1);
        assertThat(loaded.get(0).names()).containsExactly("registry.test/team/sk:tag9");
        assertThat(loaded.get(0).id()).isEqualTo(img.id());
        assertThat(loaded.get(0).diffIds()).isEqualTo(img.diffIds());

        // skopeo's oci-archive too.
        Path ociArchive = tmp.resolve("skopeo-oci.tar");
        skopeo("copy", "oci:" + layout + ":9", "oci-archive:" + ociArchive + ":9");
        ImageStore store2 = new ImageStore(tmp.resolve("store2"));
        ImageRecord fromOci = ImageArchives.load(ociArchive, store2).get(0);
        assertThat(fromOci.names()).containsExactly("localhost/skopeo-oci:9");
        assertThat(fromOci.diffIds()).isEqualTo(img.diffIds());
    }
}
