package dev.hull.image.archive;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.Manifest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import io.airlift.compress.v3.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Builds real images into a store: three layers (gzip, zstd, plain), each with a file, a directory and a symlink. */
final class ArchiveTestImages {
    static final ObjectMapper JSON = new ObjectMapper();

    private ArchiveTestImages() {}

    /** A tar layer: dir/, dir/file (content), and a symlink link -> file. */
    static byte[] layerTar(String dir, String file, String content, String link) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry d = new TarArchiveEntry(dir + "/");
            d.setMode(040755);
            d.setModTime(FileTime.fromMillis(0));
            tar.putArchiveEntry(d);
            tar.closeArchiveEntry();
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry f = new TarArchiveEntry(dir + "/" + file);
            f.setMode(0100644);
            f.setSize(data.length);
            f.setModTime(FileTime.fromMillis(0));
            tar.putArchiveEntry(f);
            tar.write(data);
            tar.closeArchiveEntry();
            TarArchiveEntry l = new TarArchiveEntry(dir + "/" + link, TarArchiveEntry.LF_SYMLINK);
            l.setLinkName(file);
            l.setModTime(FileTime.fromMillis(0));
            tar.putArchiveEntry(l);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    static byte[] zstd(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream z = new ZstdOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    /** The three uncompressed layers of the test image called seed. */
    static List<byte[]> layers(String seed) throws IOException {
        return List.of(layerTar("etc", "hello.txt", "hello from " + seed + "\n", "hello-link"),
                layerTar("data", "zfile", "zstd layer of " + seed + "\n", "zlink"),
                layerTar("opt", "plain.txt", "plain layer of " + seed + "\n", "plain-link"));
    }

    static byte[] config(List<Digest> diffIds, Platform p, String seed) throws IOException {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("created", "2024-01-02T03:04:05Z");
        c.put("architecture", p.architecture());
        c.put("os", p.os());
        c.put("config", Map.of("Env", List.of("SEED=" + seed), "Cmd", List.of("/bin/sh")));
        c.put("rootfs", Map.of("type", "layers", "diff_ids", diffIds.stream().map(Digest::toString).toList()));
        return JSON.writeValueAsBytes(c);
    }

    /** Builds and stores the image; names are normalized. */
    static ImageRecord build(ImageStore store, String seed, String... names) throws IOException {
        return build(store, seed, Platform.host(), names);
    }

    static ImageRecord build(ImageStore store, String seed, Platform platform, String... names) throws IOException {
        return build(store, seed, platform, true, names);
    }

    /**
     * Without zstd the second layer is gzip too: skopeo 1.9 cannot convert zstd layers to docker's
     * formats and umoci 0.4.7 cannot unpack them.
     */
    static ImageRecord buildWithoutZstd(ImageStore store, String seed, String... names) throws IOException {
        return build(store, seed, Platform.host(), false, names);
    }

    static ImageRecord build(ImageStore store, String seed, Platform platform, boolean zstd, String... names)
            throws IOException {
        ContentStore content = store.content();
        List<byte[]> raw = layers(seed);
        List<byte[]> stored = List.of(gzip(raw.get(0)), zstd ? zstd(raw.get(1)) : gzip(raw.get(1)), raw.get(2));
        List<String> types = List.of(MediaTypes.OCI_LAYER_GZIP,
                zstd ? MediaTypes.OCI_LAYER_ZSTD : MediaTypes.OCI_LAYER_GZIP, MediaTypes.OCI_LAYER);
        List<Descriptor> layers = new ArrayList<>();
        List<Digest> diffIds = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            diffIds.add(Digest.sha256(raw.get(i)));
            layers.add(new Descriptor(types.get(i), content.write(stored.get(i)), stored.get(i).length));
        }
        byte[] config = config(diffIds, platform, seed);
        Descriptor cd = new Descriptor(MediaTypes.OCI_CONFIG, content.write(config), config.length);
        byte[] manifest = JSON.writeValueAsBytes(new Manifest(2, MediaTypes.OCI_MANIFEST, cd, layers, null));
        Digest md = content.write(manifest);
        List<String> normalized = new ArrayList<>();
        for (String n : names) {
            normalized.add(Reference.parse(n).toString());
        }
        return store.put(new ImageRecord(cd.digest(), normalized, null, md.toString(), MediaTypes.OCI_MANIFEST, cd,
                layers, diffIds.stream().map(Digest::toString).toList(), "2024-01-02T03:04:05Z",
                "2024-01-02T03:04:05Z", platform));
    }

    /** A tar of the given entries (name to content), in order. */
    static byte[] tar(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : entries.entrySet()) {
                TarArchiveEntry f = new TarArchiveEntry(e.getKey(), true);
                f.setSize(e.getValue().length);
                f.setModTime(FileTime.fromMillis(0));
                tar.putArchiveEntry(f);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
