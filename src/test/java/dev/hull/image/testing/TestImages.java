package dev.hull.image.testing;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageIndex;
import dev.hull.image.ImageRecord;
import dev.hull.image.Manifest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Platform;
import io.airlift.compress.v3.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Test images written straight into a {@link ContentStore}: three layers
 * (gzip, zstd and uncompressed tars, each holding one file of random bytes),
 * an OCI config whose diff_ids match, and an OCI manifest.
 *
 * <pre>{@code
 * TestImages.Image img = TestImages.build(store.content(), Platform.LINUX_AMD64, 100_000, seed);
 * new Pusher(client, store).push(img.record(), ref, progress);
 * }</pre>
 */
public final class TestImages {
    public static final ObjectMapper JSON = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_EMPTY);

    /** A built image: its record (not yet put in any ImageStore), manifest bytes and digest, layer tars. */
    public record Image(ImageRecord record, byte[] manifest, Digest manifestDigest, byte[] config,
            List<byte[]> layerTars) {
        public List<Descriptor> layers() {
            return record.layers();
        }
    }

    /** An index over images, stored: its bytes and digest. */
    public record Index(byte[] bytes, Digest digest) {}

    private TestImages() {}

    /** Builds a 3-layer image (gzip, zstd, plain) for platform, each layer file layerBytes random bytes. */
    public static Image build(ContentStore content, Platform platform, int layerBytes, long seed) throws IOException {
        Random random = new Random(seed);
        List<Descriptor> layers = new ArrayList<>();
        List<String> diffIds = new ArrayList<>();
        List<byte[]> tars = new ArrayList<>();
        String[] types = {MediaTypes.OCI_LAYER_GZIP, MediaTypes.OCI_LAYER_ZSTD, MediaTypes.OCI_LAYER};
        for (int i = 0; i < types.length; i++) {
            byte[] data = new byte[layerBytes];
            random.nextBytes(data);
            byte[] tar = tar("layer" + i + "/file-" + seed + ".bin", data);
            tars.add(tar);
            diffIds.add(Digest.sha256(tar).toString());
            byte[] blob = compress(types[i], tar);
            Digest d = content.write(blob);
            layers.add(new Descriptor(types[i], d, blob.length));
        }
        String created = Instant.ofEpochSecond(1_700_000_000L + seed).toString();
        ImageConfig config = new ImageConfig(created, "hull tests", platform.architecture(), platform.os(),
                platform.variant(), new ImageConfig.Config(null, null, List.of("PATH=/usr/bin:/bin"), null,
                        List.of("/bin/sh"), null, null, Map.of("seed", Long.toString(seed)), null),
                new ImageConfig.RootFs("layers", diffIds), null);
        byte[] configBytes = JSON.writeValueAsBytes(config);
        Digest configDigest = content.write(configBytes);
        Descriptor configDescriptor = new Descriptor(MediaTypes.OCI_CONFIG, configDigest, configBytes.length);
        byte[] manifest = JSON.writeValueAsBytes(new Manifest(2, MediaTypes.OCI_MANIFEST, configDescriptor, layers,
                null));
        Digest manifestDigest = content.write(manifest);
        ImageRecord record = new ImageRecord(configDigest.toString(), List.of(), List.of(), manifestDigest.toString(),
                MediaTypes.OCI_MANIFEST, configDescriptor, layers, diffIds, created, Instant.now().toString(),
                platform);
        return new Image(record, manifest, manifestDigest, configBytes, tars);
    }

    /** Stores an OCI index listing the images' manifests with their platforms. */
    public static Index index(ContentStore content, Image... images) throws IOException {
        List<Descriptor> ds = new ArrayList<>();
        for (Image img : images) {
            ds.add(new Descriptor(MediaTypes.OCI_MANIFEST, img.manifestDigest().toString(), img.manifest().length,
                    null, null, img.record().platform()));
        }
        byte[] bytes = JSON.writeValueAsBytes(new ImageIndex(2, MediaTypes.OCI_INDEX, ds, null));
        return new Index(bytes, content.write(bytes));
    }

    /** Writes an OCI image layout at dir with image under tag (for skopeo/umoci: {@code oci:DIR:TAG}). */
    public static void writeOciLayout(ContentStore content, Image image, Path dir, String tag) throws IOException {
        Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
        List<Digest> all = new ArrayList<>();
        all.add(image.manifestDigest());
        all.add(image.record().config().parsedDigest());
        image.layers().forEach(l -> all.add(l.parsedDigest()));
        for (Digest d : all) {
            Files.write(blobs.resolve(d.hex()), content.read(d));
        }
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("org.opencontainers.image.ref.name", tag);
        Descriptor m = new Descriptor(MediaTypes.OCI_MANIFEST, image.manifestDigest().toString(),
                image.manifest().length, null, annotations, null);
        Files.write(dir.resolve("index.json"), JSON.writeValueAsBytes(new ImageIndex(2, MediaTypes.OCI_INDEX,
                List.of(m), null)));
    }

    static byte[] tar(String name, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            String dir = name.substring(0, name.indexOf('/') + 1);
            TarArchiveEntry d = new TarArchiveEntry(dir);
            d.setMode(0755);
            d.setModTime(1_700_000_000_000L);
            tar.putArchiveEntry(d);
            tar.closeArchiveEntry();
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setSize(data.length);
            e.setMode(0644);
            e.setModTime(1_700_000_000_000L);
            tar.putArchiveEntry(e);
            tar.write(data);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    static byte[] compress(String mediaType, byte[] tar) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStream out = switch (mediaType) {
            case MediaTypes.OCI_LAYER_GZIP -> new GZIPOutputStream(bytes);
            case MediaTypes.OCI_LAYER_ZSTD -> new ZstdOutputStream(bytes);
            default -> bytes;
        };
        out.write(tar);
        out.close();
        return bytes.toByteArray();
    }

    /** UTF-8 bytes. */
    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
