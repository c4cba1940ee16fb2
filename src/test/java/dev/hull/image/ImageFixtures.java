package dev.hull.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Images made in tests: each layer a map of path to content (a path ending in
 * "/" is a directory, content starting with "->" a symlink to the rest, a
 * name ".wh.X" a whiteout), gzip-compressed, with a matching OCI config and
 * manifest, recorded in an ImageStore under a name.
 */
public final class ImageFixtures {
    private ImageFixtures() {}

    /** A tar of regular files with binary content (mode 0644), for big layers. */
    public static byte[] tarBytes(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : files.entrySet()) {
                TarArchiveEntry t = new TarArchiveEntry(e.getKey());
                t.setMode(0100644);
                t.setSize(e.getValue().length);
                t.setModTime(1_700_000_000_000L);
                out.putArchiveEntry(t);
                out.write(e.getValue());
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    public static byte[] tar(Map<String, String> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : entries.entrySet()) {
                String path = e.getKey();
                String content = e.getValue();
                TarArchiveEntry t;
                if (path.endsWith("/")) {
                    t = new TarArchiveEntry(path, TarConstants.LF_DIR);
                    t.setMode(040755);
                } else if (content.startsWith("->")) {
                    t = new TarArchiveEntry(path, TarConstants.LF_SYMLINK);
                    t.setLinkName(content.substring(2));
                } else {
                    t = new TarArchiveEntry(path);
                    t.setMode(path.startsWith("bin/") ? 0100755 : 0100644);
                    t.setSize(content.getBytes(StandardCharsets.UTF_8).length);
                }
                t.setModTime(1_700_000_000_000L);
                out.putArchiveEntry(t);
                if (t.isFile()) {
                    out.write(content.getBytes(StandardCharsets.UTF_8));
                }
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    public static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    /** Stores an image whose layers are these tars (gzip-compressed on the way in); diffIds as given or computed. */
    public static ImageRecord image(ImageStore store, String name, ImageConfig.Config config, List<byte[]> tars,
            List<String> diffIdsOverride) throws IOException {
        List<Descriptor> layers = new ArrayList<>();
        List<String> diffIds = new ArrayList<>();
        for (byte[] t : tars) {
            byte[] gz = gzip(t);
            layers.add(new Descriptor(MediaTypes.OCI_LAYER_GZIP, store.content().write(gz), gz.length));
            diffIds.add(Digest.sha256(t).toString());
        }
        if (diffIdsOverride != null) {
            diffIds = diffIdsOverride;
        }
        String created = Instant.now().toString();
        ImageConfig cfg = new ImageConfig(created, null, Platform.host().architecture(), "linux", null, config,
                new ImageConfig.RootFs("layers", diffIds), null);
        byte[] cfgBytes = ImageStore.JSON.writeValueAsBytes(cfg);
        Descriptor cfgDesc = new Descriptor(MediaTypes.OCI_CONFIG, store.content().write(cfgBytes), cfgBytes.length);
        byte[] manifest = ImageStore.JSON.writeValueAsBytes(new Manifest(2, MediaTypes.OCI_MANIFEST, cfgDesc, layers,
                null));
        Digest md = store.content().write(manifest);
        return store.put(new ImageRecord(cfgDesc.digest(), name == null ? List.of()
                : List.of(Reference.parse(name).toString()), List.of(), md.toString(), MediaTypes.OCI_MANIFEST,
                cfgDesc, layers, diffIds, created, created, Platform.host()));
    }

    public static ImageConfig.Config config(List<String> entrypoint, List<String> cmd, List<String> env,
            String workdir, String user) {
        return new ImageConfig.Config(user, Map.of("8080/tcp", Map.of()), env, entrypoint, cmd,
                Map.of("/data", Map.of()), workdir, null, null);
    }
}
