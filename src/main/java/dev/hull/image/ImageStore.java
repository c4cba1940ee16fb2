package dev.hull.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Hull's image metadata: which images exist, their names, and which layers are
 * unpacked into snapshots. One JSON document ({@code images.json}) replaced
 * atomically on every change, under an exclusive lock held across processes,
 * so a crash leaves either the old or the new document and concurrent
 * commands never lose each other's updates. Blobs live in the {@link ContentStore}.
 */
public final class ImageStore {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path home;
    private final ContentStore content;

    /** The whole metadata document. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static final class Metadata {
        public int version = 1;
        public TreeMap<String, ImageRecord> images = new TreeMap<>();
        public TreeMap<String, SnapshotRecord> snapshots = new TreeMap<>();
    }

    public ImageStore(Path home) {
        this.home = home;
        this.content = new ContentStore(home.resolve("content"));
    }

    public Path home() {
        return home;
    }

    public ContentStore content() {
        return content;
    }

    public Path snapshotsDir() {
        return home.resolve("snapshots");
    }

    private Path file() {
        return home.resolve("images.json");
    }

    /** The current metadata (a consistent copy: the document is only ever replaced whole). */
    public Metadata read() throws IOException {
        try {
            return JSON.readValue(Files.readAllBytes(file()), Metadata.class);
        } catch (NoSuchFileException e) {
            return new Metadata();
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(file() + " is not valid image metadata: " + e.getOriginalMessage()
                    + " (run hull system check)", e);
        }
    }

    private record Parsed(byte[] bytes, Metadata metadata) {}

    private static final java.util.Map<Path, Parsed> SHARED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The metadata as it is now, for lookups only: parsed once per content in this JVM (a warm
     * server looks images up in the same images.json command after command; reading the bytes
     * is cheap, parsing them is not). Never change what this returns ({@link #read()} gives a
     * copy of one's own).
     */
    Metadata readShared() throws IOException {
        Path f = file();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            return new Metadata();
        }
        Parsed known = SHARED.get(f);
        if (known != null && java.util.Arrays.equals(known.bytes(), bytes)) {
            return known.metadata();
        }
        Metadata m;
        try {
            m = JSON.readValue(bytes, Metadata.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(f + " is not valid image metadata: " + e.getOriginalMessage()
                    + " (run hull system check)", e);
        }
        if (SHARED.size() >= 16) {
            SHARED.clear();
        }
        SHARED.put(f, new Parsed(bytes, m));
        return m;
    }

    /** A change to the metadata. */
    @FunctionalInterface
    public interface Change<T> {
        T apply(Metadata m) throws IOException;
    }

    /** Applies a change under the store's lock and writes the result atomically; returns what the change returned. */
    public <T> T update(Change<T> change) throws IOException {
        Files.createDirectories(home);
        try (java.io.Closeable ignored = FileLocks.exclusive(home.resolve("images.lock"))) {
            Metadata m = read();
            T result = change.apply(m);
            Fsync.writeAtomically(file(), JSON.writeValueAsBytes(m));
            return result;
        }
    }

    /**
     * Finds an image by name (normalized: "busybox" is docker.io/library/busybox:latest),
     * by name@digest, by full id or by a unique id prefix (at least 4 hex digits).
     */
    public Optional<ImageRecord> find(String text) throws IOException {
        return find(readShared(), text);
    }

    public static Optional<ImageRecord> find(Metadata m, String text) throws IOException {
        String idText = text.startsWith("sha256:") ? text.substring(7) : text;
        if (idText.matches("[0-9a-f]{4,64}")) {
            List<ImageRecord> hits = new ArrayList<>();
            for (ImageRecord r : m.images.values()) {
                if (r.digest().hex().startsWith(idText)) {
                    hits.add(r);
                }
            }
            if (hits.size() == 1) {
                return Optional.of(hits.get(0));
            }
            if (hits.size() > 1) {
                throw new IOException("image id prefix " + text + " is ambiguous: " + hits.size() + " images match");
            }
        }
        Reference ref;
        try {
            ref = Reference.parse(text);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        for (ImageRecord r : m.images.values()) {
            if (ref.digest() != null) {
                if (r.repoDigests().contains(ref.name() + "@" + ref.digest()) || r.id().equals(ref.digest().toString())
                        || (r.manifestDigest() != null && r.manifestDigest().equals(ref.digest().toString())
                                && namesRepository(r, ref.name()))) {
                    return Optional.of(r);
                }
            } else if (r.names().contains(ref.toString())) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private static boolean namesRepository(ImageRecord r, String name) {
        return r.names().stream().anyMatch(n -> n.startsWith(name + ":"))
                || r.repoDigests().stream().anyMatch(n -> n.startsWith(name + "@"));
    }

    /**
     * Records an image; names given move to it from any image that had them
     * (as docker's tags do). An image left with no name and no repo digest is
     * kept, dangling, until pruned.
     */
    public ImageRecord put(ImageRecord image) throws IOException {
        return update(m -> {
            ImageRecord existing = m.images.get(image.id());
            List<String> names = new ArrayList<>(existing != null ? existing.names() : List.of());
            List<String> repoDigests = new ArrayList<>(existing != null ? existing.repoDigests() : List.of());
            for (String n : image.names()) {
                untag(m, n);
                if (!names.contains(n)) {
                    names.add(n);
                }
            }
            for (String d : image.repoDigests()) {
                if (!repoDigests.contains(d)) {
                    repoDigests.add(d);
                }
            }
            ImageRecord merged = new ImageRecord(image.id(), names, repoDigests, image.manifestDigest(),
                    image.manifestMediaType(), image.config(), image.layers(), image.diffIds(), image.created(),
                    existing != null && existing.added() != null ? existing.added() : image.added(),
                    image.platform());
            m.images.put(image.id(), merged);
            return merged;
        });
    }

    /** Removes a name from whichever image has it; true if one had. */
    static boolean untag(Metadata m, String name) {
        boolean found = false;
        for (ImageRecord r : m.images.values()) {
            found |= r.names().remove(name);
        }
        return found;
    }
}
