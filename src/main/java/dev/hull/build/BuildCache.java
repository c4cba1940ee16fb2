package dev.hull.build;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The build cache: step key → the image state the step made (its config's digest, its layers).
 * A key is the sha256 of the parent state's config digest, the instruction and what else the step
 * depends on (build args in scope, the content digest of the files a COPY copies). An entry is
 * one small JSON file under HULL_HOME/build/cache, written by rename; an entry whose blobs are
 * gone (an image prune removed them) is a miss.
 */
public final class BuildCache {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;
    private final ContentStore content;

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Entry(String config, List<Descriptor> layers, List<String> diffIds) {}

    BuildCache(Path home, ContentStore content) {
        this.dir = home.resolve("build").resolve("cache");
        this.content = content;
    }

    static String key(String... parts) {
        var md = Digest.sha256();
        for (String p : parts) {
            md.update(p.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            md.update((byte) 0);
        }
        return Digest.of("sha256", md).hex();
    }

    Entry get(String key) {
        Path f = dir.resolve(key + ".json");
        try {
            if (!Files.isRegularFile(f)) {
                return null;
            }
            Entry e = JSON.readValue(f.toFile(), Entry.class);
            if (!content.has(Digest.parse(e.config()))) {
                return null;
            }
            for (Descriptor d : e.layers()) {
                if (!content.has(d.parsedDigest())) {
                    return null;
                }
            }
            touch(f);
            return e;
        } catch (IOException | RuntimeException e) {
            return null; // a broken entry is a miss
        }
    }

    /**
     * {@code hull builder prune}: removes every cache entry and every RUN --mount=type=cache
     * directory under home (a locked or private one a build holds stays); returns the bytes freed.
     * The steps' blobs go with the next {@code hull image prune}.
     */
    public static long prune(Path home) throws IOException {
        return prune(home, new java.util.ArrayList<>());
    }

    /** {@link #prune(Path)}, adding the names of the entries and cache mounts removed to removed. */
    public static long prune(Path home, java.util.List<String> removed) throws IOException {
        return BuildCachePrune.prune(home, BuildCachePrune.Options.ALL, removed);
    }

    /** Marks a cache entry (or cache mount) used now: what prune's until and space bounds go by. */
    static void touch(Path p) {
        try {
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
        } catch (IOException | RuntimeException e) {
            // only the prune order suffers
        }
    }

    static boolean inUse(Path lock) throws IOException {
        if (!Files.exists(lock)) {
            return false;
        }
        try (var ch = java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE)) {
            var l = ch.tryLock();
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        } catch (java.nio.channels.OverlappingFileLockException sameJvm) {
            return true;
        }
    }

    static long size(Path p) throws IOException {
        try (var walk = Files.walk(p)) {
            return walk.filter(f -> Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    void put(String key, Entry e) throws IOException {
        write(key, e);
    }

    /** A COPY --link layer: made without the layers below, so any parent can take it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Linked(Descriptor layer, String diffId, long tarSize) {}

    /** The --link layer cached under key (no parent in it), or null. */
    LayerTar.Stored linked(String key) {
        Path f = dir.resolve("link-" + key + ".json");
        try {
            if (!Files.isRegularFile(f)) {
                return null;
            }
            Linked l = JSON.readValue(f.toFile(), Linked.class);
            if (!content.has(l.layer().parsedDigest())) {
                return null;
            }
            touch(f);
            return new LayerTar.Stored(l.layer(), l.diffId(), l.tarSize());
        } catch (IOException | RuntimeException e) {
            return null; // a broken entry is a miss
        }
    }

    void putLinked(String key, LayerTar.Stored layer) throws IOException {
        write("link-" + key, new Linked(layer.descriptor(), layer.diffId(), layer.tarSize()));
    }

    private void write(String name, Object value) throws IOException {
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".tmp-", ".json");
        try {
            JSON.writeValue(tmp.toFile(), value);
            Files.move(tmp, dir.resolve(name + ".json"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
