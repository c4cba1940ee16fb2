package dev.hull.image.archive;

import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.Manifest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Reference;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Writes docker-archives, OCI layouts and oci-archives, deterministically. */
final class ArchiveWriter {
    private static final FileTime EPOCH = FileTime.fromMillis(0);

    private ArchiveWriter() {}

    /** A tar with fixed headers: mtime 0, owner 0:0, mode 0644 (files) and 0755 (directories). */
    static final class Tar {
        private final TarArchiveOutputStream out;
        private final Set<String> dirs = new HashSet<>();

        Tar(OutputStream sink) {
            out = new TarArchiveOutputStream(sink);
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        }

        private static TarArchiveEntry entry(String name, int mode) {
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setModTime(EPOCH);
            e.setUserId(0);
            e.setGroupId(0);
            e.setUserName("");
            e.setGroupName("");
            e.setMode(mode);
            return e;
        }

        void dir(String name) throws IOException {
            if (dirs.add(name)) {
                out.putArchiveEntry(entry(name + "/", 040755));
                out.closeArchiveEntry();
            }
        }

        void file(String name, long size, InputStream data) throws IOException {
            int slash = name.lastIndexOf('/');
            if (slash > 0) {
                String parent = name.substring(0, slash);
                int s2 = parent.lastIndexOf('/');
                if (s2 > 0) {
                    dir(parent.substring(0, s2));
                }
                dir(parent);
            }
            TarArchiveEntry e = entry(name, 0100644);
            e.setSize(size);
            out.putArchiveEntry(e);
            long n = Streams.copy(data, out, null);
            if (n != size) {
                throw new IOException("archive entry " + name + ": " + n + " bytes, expected " + size);
            }
            out.closeArchiveEntry();
        }

        void file(String name, byte[] data) throws IOException {
            file(name, data.length, new ByteArrayInputStream(data));
        }

        /** Ends the archive; the underlying stream stays open. */
        void finish() throws IOException {
            out.finish();
            out.flush();
        }
    }

    // ---------------------------------------------------------------- docker-archive

    static void dockerArchive(List<ImageRecord> images, List<List<String>> repoTags, ImageStore store,
            OutputStream sink) throws IOException {
        if (repoTags != null && repoTags.size() != images.size()) {
            throw new IllegalArgumentException(images.size() + " images but " + repoTags.size() + " lists of tags");
        }
        ContentStore content = store.content();
        Tar tar = new Tar(sink);
        Path tmp = Files.createDirectories(store.home().resolve("tmp"));
        Set<String> written = new HashSet<>();
        List<Map<String, Object>> manifest = new ArrayList<>();
        Map<String, Map<String, String>> repositories = new TreeMap<>();
        for (int i = 0; i < images.size(); i++) {
            ImageRecord img = images.get(i);
            List<String> tags = repoTags == null || repoTags.get(i) == null ? img.names() : repoTags.get(i);
            List<String> layerPaths = new ArrayList<>();
            if (img.layers().size() != img.diffIds().size()) {
                throw new IOException("image " + img.id() + ": " + img.layers().size() + " layers but "
                        + img.diffIds().size() + " diff ids");
            }
            for (int j = 0; j < img.layers().size(); j++) {
                Digest diff = Digest.parse(img.diffIds().get(j));
                String path = diff.hex() + "/layer.tar";
                layerPaths.add(path);
                if (written.add(path)) {
                    writeUncompressedLayer(tar, path, content, img.layers().get(j), diff, img, j, tmp);
                }
            }
            Digest cid = img.digest();
            String configPath = cid.hex() + ".json";
            if (written.add(configPath)) {
                try (InputStream in = content.open(cid)) {
                    tar.file(configPath, content.size(cid), in);
                }
            }
            List<String> familiar = new ArrayList<>();
            for (String t : tags) {
                Reference r;
                try {
                    r = Reference.parse(t);
                } catch (IllegalArgumentException e) {
                    throw new IOException("image " + img.id() + ": " + e.getMessage(), e);
                }
                if (r.tag() == null || r.digest() != null) {
                    throw new IOException("image " + img.id() + ": " + t + ": a docker-archive name needs a tag and"
                            + " no digest");
                }
                familiar.add(r.familiar());
                if (!layerPaths.isEmpty()) {
                    repositories.computeIfAbsent(r.familiarName(), k -> new TreeMap<>()).put(r.tag(),
                            Digest.parse(img.diffIds().getLast()).hex());
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Config", configPath);
            m.put("RepoTags", familiar.isEmpty() ? null : familiar);
            m.put("Layers", layerPaths);
            manifest.add(m);
        }
        tar.file("manifest.json", ImageArchives.JSON.writeValueAsBytes(manifest));
        if (!repositories.isEmpty()) {
            tar.file("repositories", ImageArchives.JSON.writeValueAsBytes(repositories));
        }
        tar.finish();
    }

    /** A layer as docker saves it: uncompressed, its sha256 the diff id (checked). */
    private static void writeUncompressedLayer(Tar tar, String path, ContentStore content, Descriptor layer,
            Digest diff, ImageRecord img, int j, Path tmp) throws IOException {
        Digest blob = layer.parsedDigest();
        if (blob.equals(diff)) {
            try (InputStream in = content.open(blob)) {
                tar.file(path, content.size(blob), in);
            }
            return;
        }
        Path f = Files.createTempFile(tmp, "save-layer-", ".tar");
        try {
            MessageDigest md = Digest.sha256();
            long size;
            try (InputStream in = dev.hull.image.unpack.Compression.decompressAny(content.open(blob)); OutputStream out = Files.newOutputStream(f)) {
                size = Streams.copy(in, out, md);
            }
            Digest got = Digest.of("sha256", md);
            if (!got.equals(diff)) {
                throw new IOException("image " + img.id() + " layer " + j + " (" + blob + "): uncompressed it has "
                        + got + " but the config's diff_id is " + diff);
            }
            try (InputStream in = Files.newInputStream(f)) {
                tar.file(path, size, in);
            }
        } finally {
            Files.deleteIfExists(f);
        }
    }

    // ---------------------------------------------------------------- OCI layout

    /** Where the files of an OCI layout go. */
    interface Sink {
        void file(String name, byte[] data) throws IOException;

        void blob(Digest d, long size, InputStream data) throws IOException;
    }

    /** Writes the layout's files: blobs first (each once), then index.json and oci-layout. */
    static void ociLayout(List<ImageRecord> images, ImageStore store, Sink sink, boolean layoutFilesFirst)
            throws IOException {
        ContentStore content = store.content();
        List<Descriptor> index = new ArrayList<>();
        Map<Digest, byte[]> generated = new LinkedHashMap<>();
        List<Digest> blobs = new ArrayList<>();
        Set<Digest> seen = new HashSet<>();
        for (ImageRecord img : images) {
            Digest mid;
            String mediaType;
            long size;
            if (img.manifestDigest() != null && content.has(Digest.parse(img.manifestDigest()))) {
                mid = Digest.parse(img.manifestDigest());
                mediaType = img.manifestMediaType() != null ? img.manifestMediaType() : MediaTypes.OCI_MANIFEST;
                size = content.size(mid);
            } else {
                // An image without a stored manifest gets one made from its record.
                byte[] mb = ImageArchives.JSON.writeValueAsBytes(new Manifest(2, MediaTypes.OCI_MANIFEST, img.config(),
                        img.layers(), null));
                mid = Digest.sha256(mb);
                mediaType = MediaTypes.OCI_MANIFEST;
                size = mb.length;
                generated.put(mid, mb);
            }
            for (Digest d : blobsOf(img, mid)) {
                if (seen.add(d)) {
                    blobs.add(d);
                }
            }
            if (img.names().isEmpty()) {
                index.add(new Descriptor(mediaType, mid.toString(), size, null, null, null));
            }
            for (String name : img.names()) {
                Reference r = Reference.parse(name);
                Map<String, String> ann = new TreeMap<>();
                ann.put(ImageArchives.CONTAINERD_NAME, r.toString());
                if (r.tag() != null) {
                    ann.put(ImageArchives.REF_NAME, r.tag());
                }
                index.add(new Descriptor(mediaType, mid.toString(), size, null, ann, null));
            }
        }
        Map<String, Object> indexJson = new LinkedHashMap<>();
        indexJson.put("schemaVersion", 2);
        indexJson.put("mediaType", MediaTypes.OCI_INDEX);
        indexJson.put("manifests", index);
        byte[] indexBytes = ImageArchives.JSON.writeValueAsBytes(indexJson);
        byte[] layoutBytes = "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8);
        if (layoutFilesFirst) {
            sink.file("oci-layout", layoutBytes);
            sink.file("index.json", indexBytes);
        }
        for (Digest d : blobs) {
            byte[] gen = generated.get(d);
            if (gen != null) {
                sink.blob(d, gen.length, new ByteArrayInputStream(gen));
            } else {
                try (InputStream in = content.open(d)) {
                    sink.blob(d, content.size(d), in);
                }
            }
        }
        if (!layoutFilesFirst) {
            sink.file("index.json", indexBytes);
            sink.file("oci-layout", layoutBytes);
        }
    }

    private static List<Digest> blobsOf(ImageRecord img, Digest manifest) {
        List<Digest> out = new ArrayList<>();
        for (Descriptor l : img.layers()) {
            out.add(l.parsedDigest());
        }
        out.add(img.config().parsedDigest());
        out.add(manifest);
        return out;
    }

    static void ociArchive(List<ImageRecord> images, ImageStore store, OutputStream out) throws IOException {
        Tar tar = new Tar(out);
        ociLayout(images, store, new Sink() {
            @Override
            public void file(String name, byte[] data) throws IOException {
                tar.file(name, data);
            }

            @Override
            public void blob(Digest d, long size, InputStream data) throws IOException {
                tar.dir("blobs");
                tar.file("blobs/" + d.algorithm() + "/" + d.hex(), size, data);
            }
        }, true);
        tar.finish();
    }

    static void ociDirectory(List<ImageRecord> images, ImageStore store, Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new IOException(dir + " exists and is not empty: an OCI layout is saved into a new or"
                            + " empty directory");
                }
            }
        }
        Files.createDirectories(dir);
        ociLayout(images, store, new Sink() {
            @Override
            public void file(String name, byte[] data) throws IOException {
                dev.hull.image.Fsync.writeAtomically(dir.resolve(name), data);
            }

            @Override
            public void blob(Digest d, long size, InputStream data) throws IOException {
                Path p = Files.createDirectories(dir.resolve("blobs").resolve(d.algorithm())).resolve(d.hex());
                long n;
                try (OutputStream o = Files.newOutputStream(p)) {
                    n = Streams.copy(data, o, null);
                }
                if (n != size) {
                    throw new IOException(p + ": wrote " + n + " bytes, expected " + size);
                }
            }
        }, false);
    }
}
