package dev.hull.image.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.MediaTypes;
import dev.hull.image.Platform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveRoundTripTest {
    @TempDir
    Path tmp;

    private static byte[] dockerArchive(List<ImageRecord> images, ImageStore store) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageArchives.saveDockerArchive(images, null, store, out);
        return out.toByteArray();
    }

    private static Map<String, byte[]> entries(byte[] tar) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new java.io.ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                assertThat(e.getModTime().getTime()).as("mtime of " + e.getName()).isZero();
                assertThat(e.getLongUserId()).isZero();
                assertThat(e.getLongGroupId()).isZero();
                assertThat(e.getMode() & 07777).isEqualTo(e.isDirectory() ? 0755 : 0644);
                out.put(e.getName(), e.isDirectory() ? null : in.readAllBytes());
            }
        }
        return out;
    }

    @Test
    void dockerArchiveRoundTripKeepsIdDiffIdsAndNames() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        ImageRecord img = ArchiveTestImages.build(src, "one", "busybox:1.0", "example.com/team/app:v2");
        byte[] archive = dockerArchive(List.of(img), src);

        Map<String, byte[]> files = entries(archive);
        JsonNode manifest = ArchiveTestImages.JSON.readTree(files.get("manifest.json"));
        assertThat(manifest.get(0).get("RepoTags").toString())
                .isEqualTo("[\"busybox:1.0\",\"example.com/team/app:v2\"]");
        assertThat(manifest.get(0).get("Config").asText()).isEqualTo(img.digest().hex() + ".json");
        List<byte[]> raw = ArchiveTestImages.layers("one");
        for (int i = 0; i < 3; i++) {
            String path = Digest.parse(img.diffIds().get(i)).hex() + "/layer.tar";
            assertThat(manifest.get(0).get("Layers").get(i).asText()).isEqualTo(path);
            assertThat(files.get(path)).as("layer %d uncompressed", i).isEqualTo(raw.get(i));
        }
        assertThat(ArchiveTestImages.JSON.readTree(files.get("repositories")).get("busybox").get("1.0").asText())
                .isEqualTo(Digest.parse(img.diffIds().get(2)).hex());

        Path file = Files.write(tmp.resolve("img.tar"), archive);
        ImageStore dst = new ImageStore(tmp.resolve("dst"));
        List<ImageRecord> loaded = ImageArchives.load(file, dst);
        assertThat(loaded).hasSize(1);
        ImageRecord got = loaded.get(0);
        assertThat(got.id()).isEqualTo(img.id());
        assertThat(got.diffIds()).isEqualTo(img.diffIds());
        assertThat(got.names()).containsExactly("docker.io/library/busybox:1.0", "example.com/team/app:v2");
        assertThat(got.platform()).isEqualTo(Platform.host());
        assertThat(got.layers()).extracting(Descriptor::mediaType).containsOnly(MediaTypes.OCI_LAYER);
        assertThat(got.layers()).extracting(Descriptor::digest).isEqualTo(img.diffIds());
        for (Descriptor l : got.layers()) {
            assertThat(dst.content().verify(l.parsedDigest())).isTrue();
        }
        assertThat(dst.find("busybox:1.0")).map(ImageRecord::id).contains(img.id());
        // Its new manifest is stored and names the config and layers.
        JsonNode m = ArchiveTestImages.JSON.readTree(dst.content().read(Digest.parse(got.manifestDigest())));
        assertThat(m.get("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(m.get("config").get("digest").asText()).isEqualTo(img.id());
        assertThat(m.get("layers")).hasSize(3);
        // Saving the loaded image again gives the very same archive.
        assertThat(dockerArchive(List.of(got), dst)).isEqualTo(archive);
        assertThat(dst.home().resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void savingTwiceGivesIdenticalBytes() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        ImageRecord img = ArchiveTestImages.build(src, "det", "det:1");
        assertThat(dockerArchive(List.of(img), src)).isEqualTo(dockerArchive(List.of(img), src));
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageArchives.saveOciArchive(List.of(img), src, a);
        ImageArchives.saveOciArchive(List.of(img), src, b);
        assertThat(a.toByteArray()).isEqualTo(b.toByteArray()).isNotEmpty();
    }

    @Test
    void sharedLayersAreWrittenOnceAndSeveralImagesLoad() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        ImageRecord a = ArchiveTestImages.build(src, "a", "a:1");
        ImageRecord b = ArchiveTestImages.build(src, "b", "b:1");
        // c shares a's layers but has another config.
        ImageRecord c = src.put(new ImageRecord(
                src.content().write(ArchiveTestImages.config(a.diffIds().stream().map(Digest::parse).toList(),
                        Platform.host(), "c")).toString(),
                List.of("docker.io/library/c:1"), null, null, null, null, a.layers(), a.diffIds(), null, null, null));
        c = withConfig(c, src);
        byte[] archive = dockerArchive(List.of(a, b, c), src);
        Map<String, byte[]> files = entries(archive);
        assertThat(files.keySet().stream().filter(n -> n.endsWith("layer.tar"))).hasSize(6);
        ImageStore dst = new ImageStore(tmp.resolve("dst"));
        List<ImageRecord> loaded = ImageArchives.load(Files.write(tmp.resolve("abc.tar"), archive), dst);
        assertThat(loaded).extracting(ImageRecord::id).containsExactly(a.id(), b.id(), c.id());
        assertThat(loaded.get(2).diffIds()).isEqualTo(a.diffIds());
        assertThat(dst.read().images).hasSize(3);
    }

    private static ImageRecord withConfig(ImageRecord r, ImageStore store) throws IOException {
        Digest cid = r.digest();
        Descriptor cd = new Descriptor(MediaTypes.OCI_CONFIG, cid, store.content().size(cid));
        return store.put(new ImageRecord(r.id(), r.names(), null, null, null, cd, r.layers(), r.diffIds(), null, null,
                Platform.host()));
    }

    @Test
    void ociLayoutRoundTripKeepsManifestBytes() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        ImageRecord img = ArchiveTestImages.build(src, "oci", "quay.io/org/thing:2.1", "thing:latest");
        Path layout = tmp.resolve("layout");
        ImageArchives.saveOciLayout(List.of(img), src, layout);
        assertThat(Files.readString(layout.resolve("oci-layout"))).isEqualTo("{\"imageLayoutVersion\":\"1.0.0\"}");
        JsonNode index = ArchiveTestImages.JSON.readTree(layout.resolve("index.json").toFile());
        assertThat(index.get("manifests")).hasSize(2);
        assertThat(index.get("manifests").get(0).get("annotations").get("org.opencontainers.image.ref.name").asText())
                .isEqualTo("2.1");
        assertThat(index.get("manifests").get(0).get("annotations").get("io.containerd.image.name").asText())
                .isEqualTo("quay.io/org/thing:2.1");
        // Layers stay compressed, byte for byte.
        for (Descriptor l : img.layers()) {
            Path blob = layout.resolve("blobs/sha256/" + l.parsedDigest().hex());
            assertThat(Files.readAllBytes(blob)).isEqualTo(src.content().read(l.parsedDigest()));
        }

        ImageStore dst = new ImageStore(tmp.resolve("dst"));
        List<ImageRecord> loaded = ImageArchives.load(layout, dst);
        assertThat(loaded).hasSize(1);
        ImageRecord got = loaded.get(0);
        assertThat(got.manifestDigest()).isEqualTo(img.manifestDigest());
        assertThat(got.id()).isEqualTo(img.id());
        assertThat(got.layers()).isEqualTo(img.layers());
        assertThat(got.names()).containsExactly("quay.io/org/thing:2.1", "docker.io/library/thing:latest");
        assertThat(dst.content().read(Digest.parse(got.manifestDigest())))
                .isEqualTo(src.content().read(Digest.parse(img.manifestDigest())));
    }

    @Test
    void ociArchiveRoundTripPlainAndCompressed() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        ImageRecord img = ArchiveTestImages.build(src, "ociarch", "ociarch:3");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageArchives.saveOciArchive(List.of(img), src, out);
        Map<String, byte[]> files = entries(out.toByteArray());
        assertThat(files).containsKeys("oci-layout", "index.json", "blobs/", "blobs/sha256/",
                "blobs/sha256/" + Digest.parse(img.manifestDigest()).hex());

        ImageStore dst = new ImageStore(tmp.resolve("dst"));
        ImageRecord got = ImageArchives.load(Files.write(tmp.resolve("x.tar"), out.toByteArray()), dst).get(0);
        assertThat(got.manifestDigest()).isEqualTo(img.manifestDigest());
        assertThat(got.names()).containsExactly("docker.io/library/ociarch:3");

        // The same archive gzip-compressed, loaded under an extra name.
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (OutputStream g = new GZIPOutputStream(gz)) {
            g.write(out.toByteArray());
        }
        ImageStore dst2 = new ImageStore(tmp.resolve("dst2"));
        ImageRecord got2 = ImageArchives.load(Files.write(tmp.resolve("x.tar.gz"), gz.toByteArray()), dst2,
                "mine/renamed:7").get(0);
        assertThat(got2.manifestDigest()).isEqualTo(img.manifestDigest());
        assertThat(got2.names()).containsExactly("docker.io/library/ociarch:3", "docker.io/mine/renamed:7");

        // And zstd-compressed.
        ImageStore dst3 = new ImageStore(tmp.resolve("dst3"));
        ImageRecord got3 = ImageArchives.load(Files.write(tmp.resolve("x.tar.zst"),
                ArchiveTestImages.zstd(out.toByteArray())), dst3).get(0);
        assertThat(got3.id()).isEqualTo(img.id());
    }

    @Test
    void tagOnlyRefNameGetsLocalhostAndTheLayoutName() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        ImageRecord img = ArchiveTestImages.build(src, "tag", "whatever:5");
        Path layout = tmp.resolve("My Layout.oci");
        ImageArchives.saveOciLayout(List.of(img), src, layout);
        String index = Files.readString(layout.resolve("index.json"));
        Files.writeString(layout.resolve("index.json"),
                index.replaceAll("\"io.containerd.image.name\":\"[^\"]*\",?", ""));
        ImageStore dst = new ImageStore(tmp.resolve("dst"));
        assertThat(ImageArchives.load(layout, dst).get(0).names()).containsExactly("localhost/my-layout:5");
    }

    @Test
    void multiPlatformIndexLoadsTheHostManifest() throws IOException {
        ImageStore src = new ImageStore(tmp.resolve("src"));
        Platform host = Platform.host();
        Platform other = new Platform(host.architecture().equals("s390x") ? "ppc64le" : "s390x", "linux", null,
                null, null);
        ImageRecord mine = ArchiveTestImages.build(src, "host", host);
        ImageRecord theirs = ArchiveTestImages.build(src, "other", other);
        Path layout = tmp.resolve("multi");
        ImageArchives.saveOciLayout(List.of(theirs, mine), src, layout);
        // Replace index.json by one entry: an index naming both manifests, nested in an outer index.
        byte[] inner = ArchiveTestImages.JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "mediaType",
                MediaTypes.OCI_INDEX, "manifests", List.of(
                        platformed(theirs, src, other), platformed(mine, src, host))));
        Digest innerDigest = writeBlob(layout, inner);
        byte[] outer = ArchiveTestImages.JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "mediaType",
                MediaTypes.OCI_INDEX, "manifests", List.of(Map.of("mediaType", MediaTypes.OCI_INDEX, "digest",
                        innerDigest.toString(), "size", inner.length))));
        Digest outerDigest = writeBlob(layout, outer);
        Files.write(layout.resolve("index.json"), ArchiveTestImages.JSON.writeValueAsBytes(Map.of("schemaVersion", 2,
                "manifests", List.of(Map.of("mediaType", MediaTypes.OCI_INDEX, "digest", outerDigest.toString(),
                        "size", outer.length, "annotations", Map.of(ImageArchives.REF_NAME, "multi:9"))))));
        ImageStore dst = new ImageStore(tmp.resolve("dst"));
        List<ImageRecord> loaded = ImageArchives.load(layout, dst);
        assertThat(loaded).hasSize(1);
        assertThat(loaded.get(0).id()).isEqualTo(mine.id());
        assertThat(loaded.get(0).names()).containsExactly("docker.io/library/multi:9");
        assertThat(dst.content().has(theirs.digest())).as("the other platform's config is not fetched").isFalse();

        // An index without the host's platform is an error naming what it has.
        byte[] only = ArchiveTestImages.JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "mediaType",
                MediaTypes.OCI_INDEX, "manifests", List.of(platformed(theirs, src, other))));
        Digest onlyDigest = writeBlob(layout, only);
        Files.write(layout.resolve("index.json"), ArchiveTestImages.JSON.writeValueAsBytes(Map.of("schemaVersion", 2,
                "manifests", List.of(Map.of("mediaType", MediaTypes.OCI_INDEX, "digest", onlyDigest.toString(),
                        "size", only.length)))));
        ImageStore dst2 = new ImageStore(tmp.resolve("dst2"));
        assertThatThrownBy(() -> ImageArchives.load(layout, dst2)).isInstanceOf(IOException.class)
                .hasMessageContaining(layout.toString()).hasMessageContaining("no manifest for " + host)
                .hasMessageContaining(other.toString());
        assertThat(dst2.read().images).isEmpty();
    }

    private static Map<String, Object> platformed(ImageRecord r, ImageStore store, Platform p) throws IOException {
        Digest m = Digest.parse(r.manifestDigest());
        return Map.of("mediaType", MediaTypes.OCI_MANIFEST, "digest", m.toString(), "size", store.content().size(m),
                "platform", Map.of("os", p.os(), "architecture", p.architecture()));
    }

    private static Digest writeBlob(Path layout, byte[] data) throws IOException {
        Digest d = Digest.sha256(data);
        Files.write(layout.resolve("blobs/sha256/" + d.hex()), data);
        return d;
    }

    @Test
    void compressedLayerTarInADockerArchiveLoads() throws IOException {
        // docker load takes gzip layer.tar files: the diff_id is then the sha256 of the uncompressed tar.
        List<byte[]> raw = ArchiveTestImages.layers("gz");
        byte[] config = ArchiveTestImages.config(List.of(Digest.sha256(raw.get(0))), Platform.host(), "gz");
        byte[] gz = ArchiveTestImages.gzip(raw.get(0));
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("abc/layer.tar", gz);
        entries.put("cfg.json", config);
        entries.put("manifest.json", ("[{\"Config\":\"cfg.json\",\"RepoTags\":[\"gz:1\"],\"Layers\":[\"abc/layer.tar\"]}]")
                .getBytes());
        ImageStore dst = new ImageStore(tmp.resolve("dst"));
        ImageRecord got = ImageArchives.load(Files.write(tmp.resolve("gz.tar"), ArchiveTestImages.tar(entries)), dst)
                .get(0);
        assertThat(got.layers().get(0).mediaType()).isEqualTo(MediaTypes.OCI_LAYER_GZIP);
        assertThat(got.layers().get(0).digest()).isEqualTo(Digest.sha256(gz).toString());
        assertThat(got.id()).isEqualTo(Digest.sha256(config).toString());
        List<String> blobs = new ArrayList<>();
        for (Digest d : dst.content().list()) {
            blobs.add(d.toString());
        }
        assertThat(blobs).containsExactlyInAnyOrder(got.id(), got.manifestDigest(), got.layers().get(0).digest());
    }

    @Test
    void legacyDockerArchiveWithSymlinkedLayerLoads() throws IOException {
        // Older docker writes a layer used twice once, and a symlink for the second use.
        byte[] layer = ArchiveTestImages.layers("legacy").get(0);
        Digest diff = Digest.sha256(layer);
        byte[] config = ArchiveTestImages.config(List.of(diff, diff), Platform.host(), "legacy");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
            var link = new TarArchiveEntry("./bbb/layer.tar", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("../aaa/layer.tar");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
            Map<String, byte[]> files = new LinkedHashMap<>();
            files.put("./aaa/layer.tar", layer);
            files.put("./aaa/VERSION", "1.0".getBytes());
            files.put("./" + Digest.sha256(config).hex() + ".json", config);
            files.put("./manifest.json", ("[{\"Config\":\"" + Digest.sha256(config).hex() + ".json\","
                    + "\"RepoTags\":[\"legacy:old\"],\"Layers\":[\"aaa/layer.tar\",\"bbb/layer.tar\"]}]").getBytes());
            for (var e : files.entrySet()) {
                var f = new TarArchiveEntry(e.getKey());
                f.setSize(e.getValue().length);
                tar.putArchiveEntry(f);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        ImageStore dst = new ImageStore(tmp.resolve("dst"));
        ImageRecord got = ImageArchives.load(Files.write(tmp.resolve("legacy.tar"), bytes.toByteArray()), dst).get(0);
        assertThat(got.id()).isEqualTo(Digest.sha256(config).toString());
        assertThat(got.diffIds()).containsExactly(diff.toString(), diff.toString());
        assertThat(got.layers()).extracting(Descriptor::digest).containsExactly(diff.toString(), diff.toString());
        assertThat(got.names()).containsExactly("docker.io/library/legacy:old");
    }

    @Test
    void docker25ArchiveLoads() throws IOException {
        // Docker 25+ writes an OCI layout (uncompressed layers under blobs/) plus a manifest.json pointing into it.
        ImageStore src = new ImageStore(tmp.resolve("src"));
        ImageRecord img = ArchiveTestImages.build(src, "d25", "d25:1");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageArchives.saveDockerArchive(List.of(img), null, src, out);
        Map<String, byte[]> legacy = entries(out.toByteArray());
        Map<String, byte[]> d25 = new LinkedHashMap<>();
        List<String> layerPaths = new ArrayList<>();
        List<Object> layerDescs = new ArrayList<>();
        for (String diff : img.diffIds()) {
            byte[] layer = legacy.get(Digest.parse(diff).hex() + "/layer.tar");
            d25.put("blobs/sha256/" + Digest.parse(diff).hex(), layer);
            layerPaths.add("blobs/sha256/" + Digest.parse(diff).hex());
            layerDescs.add(Map.of("mediaType", MediaTypes.OCI_LAYER, "digest", diff, "size", layer.length));
        }
        byte[] config = src.content().read(img.digest());
        d25.put("blobs/sha256/" + img.digest().hex(), config);
        byte[] manifest = ArchiveTestImages.JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "mediaType",
                MediaTypes.OCI_MANIFEST, "config", Map.of("mediaType", MediaTypes.OCI_CONFIG, "digest", img.id(),
                        "size", config.length), "layers", layerDescs));
        Digest md = Digest.sha256(manifest);
        d25.put("blobs/sha256/" + md.hex(), manifest);
        d25.put("manifest.json", ArchiveTestImages.JSON.writeValueAsBytes(List.of(Map.of("Config",
                "blobs/sha256/" + img.digest().hex(), "RepoTags", List.of("d25:1"), "Layers", layerPaths))));
        // Without index.json the manifest.json path is taken, through the blobs.
        ImageStore viaManifestJson = new ImageStore(tmp.resolve("a"));
        ImageRecord a = ImageArchives.load(Files.write(tmp.resolve("a.tar"), ArchiveTestImages.tar(d25)),
                viaManifestJson).get(0);
        assertThat(a.id()).isEqualTo(img.id());
        assertThat(a.diffIds()).isEqualTo(img.diffIds());
        assertThat(a.names()).containsExactly("docker.io/library/d25:1");
        // With oci-layout and index.json (as Docker 25 writes), the OCI manifest is kept byte for byte.
        d25.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes());
        d25.put("index.json", ArchiveTestImages.JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "manifests",
                List.of(Map.of("mediaType", MediaTypes.OCI_MANIFEST, "digest", md.toString(), "size", manifest.length,
                        "annotations", Map.of(ImageArchives.CONTAINERD_NAME, "docker.io/library/d25:1",
                                ImageArchives.REF_NAME, "1"))))));
        ImageStore viaIndex = new ImageStore(tmp.resolve("b"));
        ImageRecord b = ImageArchives.load(Files.write(tmp.resolve("b.tar"), ArchiveTestImages.tar(d25)), viaIndex)
                .get(0);
        assertThat(b.manifestDigest()).isEqualTo(md.toString());
        assertThat(b.names()).containsExactly("docker.io/library/d25:1");
        assertThat(b.diffIds()).isEqualTo(img.diffIds());
    }
}
