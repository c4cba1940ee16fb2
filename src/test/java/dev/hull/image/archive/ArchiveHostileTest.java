package dev.hull.image.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.image.Digest;
import dev.hull.image.ImageStore;
import dev.hull.image.MediaTypes;
import dev.hull.image.Platform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Archives that lie or reach outside themselves are refused, and leave the store as it was. */
class ArchiveHostileTest {
    @TempDir
    Path tmp;
    ImageStore store;
    byte[] layer;
    byte[] config;

    @BeforeEach
    void setUp() throws IOException {
        store = new ImageStore(tmp.resolve("store"));
        layer = ArchiveTestImages.layers("hostile").get(0);
        config = ArchiveTestImages.config(List.of(Digest.sha256(layer)), Platform.host(), "hostile");
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Path archive(String name, Map<String, byte[]> entries) throws IOException {
        return Files.write(tmp.resolve(name), ArchiveTestImages.tar(entries));
    }

    private Map<String, byte[]> dockerEntries(String layersJson) {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("l1/layer.tar", layer);
        e.put("cfg.json", config);
        e.put("manifest.json", utf8("[{\"Config\":\"cfg.json\",\"RepoTags\":[\"evil:1\"],\"Layers\":" + layersJson
                + "}]"));
        return e;
    }

    /** Loads, expects refusal naming the archive and the offending entry, and checks the store gained nothing. */
    private AbstractThrowableAssert<?, ? extends Throwable> refused(Path source, String entry) throws IOException {
        var a = assertThatThrownBy(() -> ImageArchives.load(source, store)).isInstanceOf(IOException.class)
                .hasMessageContaining(source.toString()).hasMessageContaining(entry);
        assertThat(store.read().images).isEmpty();
        for (Digest d : store.content().list()) {
            assertThat(store.content().verify(d)).as("stored blob %s is verified", d).isTrue();
        }
        Path tmpDir = store.home().resolve("tmp");
        if (Files.exists(tmpDir)) {
            assertThat(tmpDir).as("temporary files removed").isEmptyDirectory();
        }
        return a;
    }

    @Test
    void validArchiveLoads() throws IOException {
        // The fixture itself is fine: each test below breaks one thing.
        Path ok = archive("ok.tar", dockerEntries("[\"l1/layer.tar\"]"));
        assertThat(ImageArchives.load(ok, store)).hasSize(1);
        assertThat(store.read().images).hasSize(1);
    }

    @Test
    void layerPathWithDotDotIsRefused() throws IOException {
        refused(archive("dotdot.tar", dockerEntries("[\"../../etc/passwd\"]")), "../../etc/passwd")
                .hasMessageContaining("manifest.json");
        assertThat(store.content().list()).isEmpty();
    }

    @Test
    void absoluteLayerPathIsRefused() throws IOException {
        refused(archive("abs.tar", dockerEntries("[\"/etc/passwd\"]")), "/etc/passwd")
                .hasMessageContaining("absolute");
        assertThat(store.content().list()).isEmpty();
    }

    @Test
    void absoluteConfigPathIsRefused() throws IOException {
        Map<String, byte[]> e = dockerEntries("[\"l1/layer.tar\"]");
        e.put("manifest.json", utf8("[{\"Config\":\"/etc/hostname\",\"Layers\":[\"l1/layer.tar\"]}]"));
        refused(archive("abscfg.tar", e), "/etc/hostname");
    }

    @Test
    void missingLayerEntryIsRefused() throws IOException {
        refused(archive("missing.tar", dockerEntries("[\"nope/layer.tar\"]")), "nope/layer.tar")
                .hasMessageContaining("not in the archive");
        assertThat(store.content().list()).isEmpty();
    }

    @Test
    void linkOutOfTheArchiveIsRefused() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
            var link = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("l1/layer.tar",
                    org.apache.commons.compress.archivers.tar.TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("../../../etc/passwd");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
            for (var e : Map.of("cfg.json", config, "manifest.json",
                    utf8("[{\"Config\":\"cfg.json\",\"Layers\":[\"l1/layer.tar\"]}]")).entrySet()) {
                var f = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(e.getKey());
                f.setSize(e.getValue().length);
                tar.putArchiveEntry(f);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        refused(Files.write(tmp.resolve("link.tar"), bytes.toByteArray()), "l1/layer.tar")
                .hasMessageContaining("leaves the archive");
    }

    @Test
    void tarEntryNamedOutsideTheArchiveIsRefused() throws IOException {
        Map<String, byte[]> e = dockerEntries("[\"l1/layer.tar\"]");
        e.put("../escape", utf8("x"));
        refused(archive("entry.tar", e), "../escape");
        assertThat(tmp.getParent().resolve("escape")).doesNotExist();
    }

    @Test
    void layerNotMatchingItsDiffIdIsRefused() throws IOException {
        Map<String, byte[]> e = dockerEntries("[\"l1/layer.tar\"]");
        byte[] other = ArchiveTestImages.layers("other").get(0);
        e.put("l1/layer.tar", other);
        refused(archive("diffid.tar", e), "l1/layer.tar").hasMessageContaining("evil:1")
                .hasMessageContaining("diff_id").hasMessageContaining(Digest.sha256(layer).toString());
        assertThat(store.content().has(Digest.sha256(other))).isFalse();
        assertThat(store.content().has(Digest.sha256(config))).isFalse();
        assertThat(store.content().list()).isEmpty();
    }

    @Test
    void ociBlobNotMatchingItsNameIsRefused() throws IOException {
        Digest claimed = Digest.sha256(layer);
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("oci-layout", utf8("{\"imageLayoutVersion\":\"1.0.0\"}"));
        e.put("index.json", utf8("{\"schemaVersion\":2,\"manifests\":[]}"));
        e.put("blobs/sha256/" + claimed.hex(), utf8("not the layer"));
        refused(archive("blob.tar", e), "blobs/sha256/" + claimed.hex());
        assertThat(store.content().has(claimed)).isFalse();
        assertThat(store.content().list()).isEmpty();
    }

    @Test
    void ociBlobInADirectoryLayoutNotMatchingItsNameIsRefused() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        var img = ArchiveTestImages.build(src, "tamper", "tamper:1");
        Path layout = tmp.resolve("layout");
        ImageArchives.saveOciLayout(List.of(img), src, layout);
        Digest victim = img.layers().get(2).parsedDigest();
        Files.write(layout.resolve("blobs/sha256/" + victim.hex()), ArchiveTestImages.layers("evil").get(2));
        refused(layout, "blobs/sha256/" + victim.hex());
        assertThat(store.content().has(victim)).isFalse();
    }

    @Test
    void blobPathThatIsNotAlgorithmAndHexIsRefused() throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("oci-layout", utf8("{\"imageLayoutVersion\":\"1.0.0\"}"));
        e.put("blobs/sha256/notahexdigest", utf8("x"));
        e.put("index.json", utf8("{\"schemaVersion\":2,\"manifests\":[]}"));
        refused(archive("badblob.tar", e), "blobs/sha256/notahexdigest");
        Map<String, byte[]> e2 = new LinkedHashMap<>(e);
        e2.remove("blobs/sha256/notahexdigest");
        e2.put("blobs/md5/" + "0".repeat(32), utf8("x"));
        refused(archive("md5.tar", e2), "blobs/md5/");
    }

    @Test
    void malformedManifestJsonIsRefused() throws IOException {
        Map<String, byte[]> e = dockerEntries("[]");
        e.put("manifest.json", utf8("[{\"Config\": \"cfg.json\", \"Layers\": [\"l1/lay"));
        refused(archive("malformed.tar", e), "manifest.json");
        Map<String, byte[]> e2 = dockerEntries("[]");
        e2.put("manifest.json", utf8("{\"Config\":\"cfg.json\"}"));
        refused(archive("object.tar", e2), "manifest.json").hasMessageContaining("array");
        Map<String, byte[]> e3 = dockerEntries("[]");
        e3.put("manifest.json", utf8("[{\"Config\":42,\"Layers\":[]}]"));
        refused(archive("types.tar", e3), "manifest.json");
        assertThat(store.content().list()).isEmpty();
    }

    @Test
    void ociManifestWhoseLayerIsMissingIsRefusedAndNoImageRecorded() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        var img = ArchiveTestImages.build(src, "partial", "partial:1");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageArchives.saveOciArchive(List.of(img), src, out);
        // Drop one layer blob from the archive.
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                new java.io.ByteArrayInputStream(out.toByteArray()))) {
            for (var en = in.getNextEntry(); en != null; en = in.getNextEntry()) {
                if (!en.isDirectory()) {
                    entries.put(en.getName(), in.readAllBytes());
                }
            }
        }
        String gone = "blobs/sha256/" + img.layers().get(1).parsedDigest().hex();
        assertThat(entries.remove(gone)).isNotNull();
        refused(archive("partial.tar", entries), gone).hasMessageContaining("not in the archive");
    }

    @Test
    void notAnArchiveIsRefused() throws IOException {
        Path junk = Files.writeString(tmp.resolve("junk.tar"), "this is not a tar file at all, just text");
        refused(junk, "junk.tar");
        Path dir = Files.createDirectories(tmp.resolve("plain-dir"));
        refused(dir, "OCI image layout");
        assertThat(MediaTypes.OCI_LAYER).isNotEmpty();
    }
}
