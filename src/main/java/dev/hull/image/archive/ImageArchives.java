package dev.hull.image.archive;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageIndex;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.Manifest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.security.MessageDigest;

/**
 * {@code hull load} and {@code hull save}: images to and from the archive
 * formats docker, podman and skopeo use, without a registry.
 *
 * <p>Loading detects the format:
 * <ul>
 * <li>a directory with {@code oci-layout} and {@code index.json}: an OCI image layout;</li>
 * <li>a tar file (plain, gzip or zstd) holding {@code oci-layout} and {@code index.json}: an oci-archive
 *     (Docker 25+ archives, which have both, load this way too, keeping their manifests byte for byte);</li>
 * <li>a tar file holding {@code manifest.json}: a docker-archive, in the legacy layout
 *     ({@code <id>/layer.tar}, {@code <config>.json}) or skopeo's ({@code <diffid>.tar}).</li>
 * </ul>
 * Every blob reaches the content store verified against its digest; a docker-archive's
 * layer must also have the sha256 the config's diff_ids give at its position (it may be
 * stored uncompressed, as docker saves it, or gzip/zstd, which docker load also accepts).
 * A docker-archive image gets a new OCI manifest. Nothing is recorded in the image store
 * until the whole archive has been checked.
 *
 * <p>Names: a docker-archive's RepoTags, normalized ("busybox:1" is docker.io/library/busybox:1).
 * In an OCI layout, per index.json manifest: the {@code io.containerd.image.name} annotation if
 * present; else {@code org.opencontainers.image.ref.name}: used as a whole reference when it
 * holds a "/" or ":" (some tools write full names there), else it is a tag and the name is
 * {@code localhost/<base>:<tag>}, base being the layout directory's or archive's file name
 * without extensions (.tar, .gz, .tgz, .zst, .oci), lowercased, other characters than
 * [a-z0-9._-] replaced by "-" ("image" if nothing is left). A manifest with neither is loaded
 * unnamed. The caller's name, if given, is added to the loaded image (an archive of several
 * images cannot take one).
 *
 * <p>An index.json entry that is an index (multi-platform, possibly nested) loads the manifest
 * for {@link Platform#host()}; entries of index.json that name another platform are skipped.
 */
public final class ImageArchives {
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    static final String REF_NAME = "org.opencontainers.image.ref.name";
    static final String CONTAINERD_NAME = "io.containerd.image.name";
    private static final int MAX_INDEX_DEPTH = 4;

    private ImageArchives() {}

    public static List<ImageRecord> load(Path source, ImageStore store) throws IOException {
        return load(source, store, null);
    }

    /** Loads every image of the archive or layout at source; nameOverride (may be null) is added to the image. */
    public static List<ImageRecord> load(Path source, ImageStore store, String nameOverride) throws IOException {
        String override = null;
        if (nameOverride != null) {
            try {
                Reference r = Reference.parse(nameOverride);
                if (r.digest() != null) {
                    throw new IllegalArgumentException("a name to load as cannot have a digest");
                }
                override = r.toString();
            } catch (IllegalArgumentException e) {
                throw new IOException(nameOverride + ": " + e.getMessage(), e);
            }
        }
        List<Loaded> loaded;
        if (Files.isDirectory(source)) {
            if (!Files.isRegularFile(source.resolve("oci-layout")) || !Files.isRegularFile(source.resolve("index.json"))) {
                throw new IOException(source + " is a directory but not an OCI image layout (no oci-layout and"
                        + " index.json)");
            }
            loaded = new OciLoader(new DirLayout(source, store.content()), store.content(), baseName(source)).load();
        } else if (Files.isRegularFile(source)) {
            try (TarContents tar = TarContents.read(source, store.content(), store.home().resolve("tmp"))) {
                if (tar.has("oci-layout") && tar.has("index.json")) {
                    loaded = new OciLoader(new TarLayout(tar), store.content(), baseName(source)).load();
                } else if (tar.has("manifest.json")) {
                    loaded = new DockerLoader(tar, store.content()).load();
                } else {
                    throw new IOException(source + ": neither a docker-archive (no manifest.json) nor an"
                            + " oci-archive (no oci-layout and index.json)");
                }
            }
        } else {
            throw new NoSuchFileException(source.toString(), null, "no such archive or OCI layout");
        }
        if (loaded.isEmpty()) {
            throw new IOException(source + ": holds no image");
        }
        // One image under several names (index.json entries or RepoTags) is one record.
        Map<String, Loaded> byId = new LinkedHashMap<>();
        for (Loaded l : loaded) {
            Loaded prev = byId.get(l.record.id());
            if (prev == null) {
                byId.put(l.record.id(), l);
            } else {
                for (String n : l.record.names()) {
                    if (!prev.record.names().contains(n)) {
                        prev.record.names().add(n);
                    }
                }
            }
        }
        if (override != null) {
            if (byId.size() != 1) {
                throw new IOException(source + " holds " + byId.size() + " images: a name to load as needs an"
                        + " archive of one image");
            }
            ImageRecord r = byId.values().iterator().next().record;
            if (!r.names().contains(override)) {
                r.names().add(override);
            }
        }
        List<ImageRecord> out = new ArrayList<>();
        for (Loaded l : byId.values()) {
            out.add(store.put(l.record));
        }
        return out;
    }

    record Loaded(ImageRecord record) {}

    /** The base of a generated name: the file name without archive extensions, as a repository component. */
    static String baseName(Path source) {
        Path fn = source.toAbsolutePath().normalize().getFileName();
        String name = fn == null ? "" : fn.toString().toLowerCase(Locale.ROOT);
        boolean stripped = true;
        while (stripped) {
            stripped = false;
            for (String ext : List.of(".tar", ".gz", ".tgz", ".zst", ".zstd", ".oci")) {
                if (name.endsWith(ext) && name.length() > ext.length()) {
                    name = name.substring(0, name.length() - ext.length());
                    stripped = true;
                }
            }
        }
        name = name.replaceAll("[^a-z0-9._-]", "-").replaceAll("^[._-]+", "").replaceAll("[._-]+$", "")
                .replaceAll("[.]{2,}", ".").replaceAll("_{3,}", "__");
        try {
            Reference.parse("localhost/" + name + ":x");
            return name;
        } catch (IllegalArgumentException e) {
            return "image";
        }
    }

    static Instant now() {
        return Instant.now();
    }

    // ---------------------------------------------------------------- OCI layouts

    /** Where an OCI layout's files come from: a directory or a tar's contents. */
    interface Layout {
        String describe();

        byte[] file(String name) throws IOException;

        /** Puts blob d (of the given size) into the content store, verified; what names who refers to it. */
        void fetch(Digest d, long size, String what) throws IOException;
    }

    record DirLayout(Path dir, ContentStore content) implements Layout {
        @Override
        public String describe() {
            return dir.toString();
        }

        @Override
        public byte[] file(String name) throws IOException {
            Path p = dir.resolve(name);
            if (Files.size(p) > TarContents.SMALL_LIMIT) {
                throw new IOException(dir + ": " + name + " is too large for a JSON document");
            }
            return Files.readAllBytes(p);
        }

        @Override
        public void fetch(Digest d, long size, String what) throws IOException {
            Path p = dir.resolve("blobs").resolve(d.algorithm()).resolve(d.hex());
            String entry = "blobs/" + d.algorithm() + "/" + d.hex();
            try (ContentStore.Writer w = content.writer(d, size)) {
                if (w.complete()) {
                    return;
                }
                try (InputStream in = Files.newInputStream(p)) {
                    w.truncate();
                    Streams.copy(in, w.stream(), null);
                    w.commit();
                }
            } catch (NoSuchFileException e) {
                throw new IOException(dir + ": " + entry + " (" + what + ") is missing from the layout", e);
            } catch (IOException e) {
                throw new IOException(dir + ": " + entry + ": " + e.getMessage(), e);
            }
        }
    }

    record TarLayout(TarContents tar) implements Layout {
        @Override
        public String describe() {
            return tar.archive.toString();
        }

        @Override
        public byte[] file(String name) throws IOException {
            return tar.bytes(tar.find(name, name), name);
        }

        @Override
        public void fetch(Digest d, long size, String what) throws IOException {
            String entry = "blobs/" + d.algorithm() + "/" + d.hex();
            tar.importAs(tar.find(entry, what), d, size, entry);
        }
    }

    /** Reads index.json and the manifests it names. */
    record OciLoader(Layout layout, ContentStore content, String base) {
        List<Loaded> load() throws IOException {
            String where = layout.describe();
            JsonNode ociLayout = parse(layout.file("oci-layout"), where, "oci-layout");
            JsonNode version = ociLayout.get("imageLayoutVersion");
            if (version == null || !version.isTextual() || !version.asText().startsWith("1.")) {
                throw new IOException(where + ": oci-layout: unsupported imageLayoutVersion " + version);
            }
            ImageIndex index = parse(layout.file("index.json"), where, "index.json", ImageIndex.class);
            if (index.manifests() == null || index.manifests().isEmpty()) {
                throw new IOException(where + ": index.json lists no manifests");
            }
            Platform host = Platform.host();
            List<Loaded> out = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            for (Descriptor d : index.manifests()) {
                String what = "index.json entry " + d.digest();
                checkDescriptor(d, where, "index.json");
                if (d.platform() != null && d.platform().os() != null && d.platform().architecture() != null
                        && !host.matches(d.platform())) {
                    skipped.add(d.platform().toString());
                    continue;
                }
                if (!MediaTypes.isIndex(d.mediaType()) && !MediaTypes.isManifest(d.mediaType())) {
                    skipped.add(d.mediaType());
                    continue;
                }
                Descriptor m = resolve(d, host, what, 0);
                out.add(new Loaded(image(m, names(d, where), what)));
            }
            if (out.isEmpty()) {
                throw new IOException(where + ": index.json has no image manifest for " + host + " (it has "
                        + String.join(", ", skipped) + ")");
            }
            return out;
        }

        /** Follows indexes down to the manifest for the host platform. */
        private Descriptor resolve(Descriptor d, Platform host, String what, int depth) throws IOException {
            String where = layout.describe();
            if (MediaTypes.isManifest(d.mediaType())) {
                return d;
            }
            if (depth >= MAX_INDEX_DEPTH) {
                throw new IOException(where + ": " + what + ": indexes nested more than " + MAX_INDEX_DEPTH + " deep");
            }
            Digest id = d.parsedDigest();
            layout.fetch(id, d.size(), what);
            ImageIndex idx = parse(content.read(id), where, "index " + id, ImageIndex.class);
            List<String> have = new ArrayList<>();
            for (Descriptor c : idx.manifests() == null ? List.<Descriptor>of() : idx.manifests()) {
                checkDescriptor(c, where, "index " + id);
                if (MediaTypes.isManifest(c.mediaType()) && host.matches(c.platform())) {
                    return c;
                }
                if (MediaTypes.isIndex(c.mediaType())) {
                    try {
                        return resolve(c, host, what, depth + 1);
                    } catch (NoPlatform e) {
                        have.add(e.getMessage());
                        continue;
                    }
                }
                have.add(c.platform() == null ? "(no platform)" : c.platform().toString());
            }
            throw new NoPlatform(where + ": " + what + ": index " + id + " has no manifest for " + host
                    + " (it has " + String.join(", ", have) + ")");
        }

        private ImageRecord image(Descriptor md, List<String> names, String what) throws IOException {
            String where = layout.describe();
            Digest mid = md.parsedDigest();
            layout.fetch(mid, md.size(), what);
            Manifest m = parse(content.read(mid), where, "manifest " + mid, Manifest.class);
            String mediaType = m.mediaType() != null ? m.mediaType() : md.mediaType();
            if (!MediaTypes.isManifest(mediaType) || m.config() == null) {
                throw new IOException(where + ": manifest " + mid + " (" + what + ") is not an image manifest");
            }
            checkDescriptor(m.config(), where, "manifest " + mid);
            Digest cid = m.config().parsedDigest();
            layout.fetch(cid, m.config().size(), "manifest " + mid + " config");
            ImageConfig config = parse(content.read(cid), where, "config " + cid, ImageConfig.class);
            List<Descriptor> layers = m.layers() == null ? List.of() : m.layers();
            if (layers.size() != config.diffIds().size()) {
                throw new IOException(where + ": manifest " + mid + " has " + layers.size() + " layers but its config "
                        + cid + " has " + config.diffIds().size() + " diff_ids");
            }
            for (int i = 0; i < layers.size(); i++) {
                Descriptor l = layers.get(i);
                checkDescriptor(l, where, "manifest " + mid);
                layout.fetch(l.parsedDigest(), l.size(), "manifest " + mid + " layer " + i);
            }
            for (String diff : config.diffIds()) {
                checkDigest(diff, where, "config " + cid + " diff_id");
            }
            return new ImageRecord(cid.toString(), names, null, mid.toString(), mediaType, m.config(), layers,
                    config.diffIds(), config.created(), now().toString(), config.platform());
        }

        private List<String> names(Descriptor d, String where) throws IOException {
            Map<String, String> a = d.annotations() == null ? Map.of() : d.annotations();
            String full = a.get(CONTAINERD_NAME);
            String ref = a.get(REF_NAME);
            String text;
            if (full != null && !full.isEmpty()) {
                text = full;
            } else if (ref != null && !ref.isEmpty()) {
                text = ref.contains("/") || ref.contains(":") ? ref : "localhost/" + base + ":" + ref;
            } else {
                return new ArrayList<>();
            }
            try {
                Reference r = Reference.parse(text);
                if (r.tag() == null) {
                    return new ArrayList<>();
                }
                return new ArrayList<>(List.of(r.withTag(r.tag()).toString()));
            } catch (IllegalArgumentException e) {
                throw new IOException(where + ": index.json entry " + d.digest() + ": " + e.getMessage(), e);
            }
        }
    }

    static final class NoPlatform extends IOException {
        NoPlatform(String message) {
            super(message);
        }
    }

    // ---------------------------------------------------------------- docker-archive

    /** One element of a docker-archive's manifest.json. */
    record DockerEntry(String config, List<String> repoTags, List<String> layers) {}

    record DockerLoader(TarContents tar, ContentStore content) {
        List<Loaded> load() throws IOException {
            String where = tar.archive.toString();
            JsonNode root = parse(tar.bytes(tar.find("manifest.json", "the archive"), "manifest.json"), where,
                    "manifest.json");
            if (!root.isArray()) {
                throw new IOException(where + ": manifest.json is not a JSON array of images");
            }
            List<Loaded> out = new ArrayList<>();
            int i = 0;
            for (JsonNode n : root) {
                out.add(new Loaded(image(entry(n, where, i), i)));
                i++;
            }
            return out;
        }

        private static DockerEntry entry(JsonNode n, String where, int i) throws IOException {
            String what = where + ": manifest.json image " + i;
            if (!n.isObject() || !n.path("Config").isTextual() || !n.path("Layers").isArray()) {
                throw new IOException(what + ": want an object with Config (a path) and Layers (a list of paths)");
            }
            List<String> layers = new ArrayList<>();
            for (JsonNode l : n.get("Layers")) {
                if (!l.isTextual()) {
                    throw new IOException(what + ": Layers holds " + l + ", not a path");
                }
                layers.add(l.asText());
            }
            List<String> tags = new ArrayList<>();
            JsonNode rt = n.get("RepoTags");
            if (rt != null && !rt.isNull()) {
                if (!rt.isArray()) {
                    throw new IOException(what + ": RepoTags is not a list");
                }
                for (JsonNode t : rt) {
                    if (!t.isTextual()) {
                        throw new IOException(what + ": RepoTags holds " + t + ", not a name");
                    }
                    tags.add(t.asText());
                }
            }
            return new DockerEntry(n.get("Config").asText(), tags, layers);
        }

        private ImageRecord image(DockerEntry e, int i) throws IOException {
            String where = tar.archive.toString();
            String what = "manifest.json image " + i + (e.repoTags().isEmpty() ? "" : " (" + e.repoTags().get(0) + ")");
            List<String> names = new ArrayList<>();
            for (String t : e.repoTags()) {
                try {
                    Reference r = Reference.parse(t);
                    if (r.digest() != null || r.tag() == null) {
                        throw new IllegalArgumentException("a RepoTag needs a tag and no digest");
                    }
                    names.add(r.toString());
                } catch (IllegalArgumentException ex) {
                    throw new IOException(where + ": " + what + ": RepoTags \"" + t + "\": " + ex.getMessage(), ex);
                }
            }
            TarContents.Entry configEntry = tar.find(e.config(), what + " Config");
            byte[] configBytes = tar.bytes(configEntry, what + " Config " + e.config());
            ImageConfig config = parse(configBytes, where, what + " Config " + e.config(), ImageConfig.class);
            Digest cid = Digest.sha256(configBytes);
            List<String> diffIds = config.diffIds();
            if (diffIds.size() != e.layers().size()) {
                throw new IOException(where + ": " + what + ": " + e.layers().size() + " Layers but the config has "
                        + diffIds.size() + " diff_ids");
            }
            List<Descriptor> layers = new ArrayList<>();
            for (int j = 0; j < diffIds.size(); j++) {
                String lp = e.layers().get(j);
                String lwhat = what + " layer " + j + " (" + lp + ")";
                Digest diff = checkDigest(diffIds.get(j), where, what + " config diff_id " + j);
                TarContents.Entry le = tar.find(lp, what + " Layers");
                Digest sha = tar.sha256(le);
                long size = TarContents.size(le);
                String mediaType;
                if (sha.equals(diff)) {
                    mediaType = MediaTypes.OCI_LAYER;
                } else {
                    // docker load also takes compressed layers: accept those whose content is the diff_id.
                    dev.hull.image.unpack.Compression kind;
                    try (InputStream in = tar.open(le)) {
                        byte[] head = in.readNBytes(4);
                        kind = dev.hull.image.unpack.Compression.detect(head);
                    }
                    Digest uncompressed = null;
                    if (kind != dev.hull.image.unpack.Compression.NONE) {
                        MessageDigest md = Digest.sha256();
                        try (InputStream in = dev.hull.image.unpack.Compression.decompressAny(tar.open(le))) {
                            Streams.copy(in, null, md);
                        } catch (IOException ex) {
                            throw new IOException(where + ": " + lwhat + ": " + kind + " layer is corrupt: "
                                    + ex.getMessage(), ex);
                        }
                        uncompressed = Digest.of("sha256", md);
                    }
                    if (!diff.equals(uncompressed)) {
                        throw new IOException(where + ": " + lwhat + " has digest "
                                + (uncompressed != null ? uncompressed + " uncompressed" : sha)
                                + " but the image config's diff_id " + j + " is " + diff);
                    }
                    mediaType = kind == dev.hull.image.unpack.Compression.GZIP ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER_ZSTD;
                }
                tar.importAs(le, sha, size, lwhat);
                layers.add(new Descriptor(mediaType, sha, size));
            }
            tar.importAs(configEntry, cid, configBytes.length, what + " Config " + e.config());
            Descriptor configDesc = new Descriptor(MediaTypes.OCI_CONFIG, cid, configBytes.length);
            Manifest m = new Manifest(2, MediaTypes.OCI_MANIFEST, configDesc, layers, null);
            byte[] mb = JSON.writeValueAsBytes(m);
            Digest mid = content.write(mb);
            return new ImageRecord(cid.toString(), names, null, mid.toString(), MediaTypes.OCI_MANIFEST, configDesc,
                    layers, diffIds, config.created(), now().toString(), config.platform());
        }
    }

    // ---------------------------------------------------------------- saving

    /**
     * Writes what {@code docker save} writes: {@code manifest.json}, {@code <config-hex>.json},
     * {@code <diff-id-hex>/layer.tar} (uncompressed; a gzip or zstd blob is decompressed and
     * checked against its diff_id) and {@code repositories}. repoTags.get(i) names images.get(i)
     * (null: the image's own names). Layers shared by several images are written once. The
     * tar's headers are fixed (mtime 0, owner 0:0), so the same images give the same bytes.
     * out is not closed.
     */
    public static void saveDockerArchive(List<ImageRecord> images, List<List<String>> repoTags, ImageStore store,
            OutputStream out) throws IOException {
        ArchiveWriter.dockerArchive(images, repoTags, store, out);
    }

    /**
     * Writes an OCI image layout into dir (new or empty): {@code oci-layout}, {@code index.json}
     * with one manifest descriptor per image name (annotations {@code io.containerd.image.name} =
     * the full name, {@code org.opencontainers.image.ref.name} = its tag; an unnamed image gets a
     * descriptor without annotations), and the stored manifests, configs and layers byte for byte.
     */
    public static void saveOciLayout(List<ImageRecord> images, ImageStore store, Path dir) throws IOException {
        ArchiveWriter.ociDirectory(images, store, dir);
    }

    /** The OCI layout of {@link #saveOciLayout} as a tar (an oci-archive); out is not closed. */
    public static void saveOciArchive(List<ImageRecord> images, ImageStore store, OutputStream out)
            throws IOException {
        ArchiveWriter.ociArchive(images, store, out);
    }

    // ---------------------------------------------------------------- helpers

    static JsonNode parse(byte[] data, String where, String what) throws IOException {
        try {
            JsonNode n = JSON.readTree(data);
            if (n == null || n.isMissingNode()) {
                throw new IOException(where + ": " + what + " is empty");
            }
            return n;
        } catch (JacksonException e) {
            throw new IOException(where + ": " + what + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    static <T> T parse(byte[] data, String where, String what, Class<T> type) throws IOException {
        try {
            T t = JSON.readValue(data, type);
            if (t == null) {
                throw new IOException(where + ": " + what + " is empty (null)");
            }
            return t;
        } catch (JacksonException e) {
            throw new IOException(where + ": " + what + " is not a valid " + type.getSimpleName() + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    static Digest checkDigest(String text, String where, String what) throws IOException {
        try {
            return Digest.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": " + what + ": " + e.getMessage(), e);
        }
    }

    static void checkDescriptor(Descriptor d, String where, String what) throws IOException {
        if (d == null) {
            throw new IOException(where + ": " + what + " has a null descriptor");
        }
        checkDigest(d.digest(), where, what);
        if (d.size() < 0) {
            throw new IOException(where + ": " + what + ": descriptor " + d.digest() + " has negative size");
        }
    }
}
