package dev.hull.image;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the engine and the CLI do with images: find, build the built-in one,
 * unpack, tag, remove, prune and check. Registry pulls and pushes
 * ({@code dev.hull.image.registry}) and archives ({@code dev.hull.image.archive})
 * write into the same {@link ImageStore} under a {@link #lease()}.
 */
public final class ImageService {
    private final ImageStore store;
    private final SnapshotStore snapshots;
    private final GcLock gc;

    public ImageService(Path home) {
        this.store = new ImageStore(home);
        this.snapshots = new SnapshotStore(store);
        this.gc = GcLock.of(home.resolve("gc.lock"));
    }

    public ImageStore store() {
        return store;
    }

    /** Which containers use which images (image id → container ids); asked under the collection lock. */
    @FunctionalInterface
    public interface InUse {
        Map<String, List<String>> get() throws IOException;
    }

    public SnapshotStore snapshots() {
        return snapshots;
    }

    /** Held while writing blobs not yet recorded in an image, so no concurrent prune removes them. */
    public Closeable lease() throws IOException {
        return gc.lease();
    }

    public List<ImageRecord> list() throws IOException {
        return new ArrayList<>(store.read().images.values());
    }

    public ImageRecord get(String text) throws IOException {
        return store.find(text).orElseThrow(() -> new ImageNotFoundException(text));
    }

    /** Finds an image; the built-in busybox is made on first use instead of being pulled. */
    public ImageRecord getOrBuildBuiltin(String text) throws IOException {
        var found = store.find(text);
        if (found.isPresent()) {
            return found.get();
        }
        if (BusyboxImage.isBuiltinName(text)) {
            System.err.println("hull: making the built-in busybox image from " + BusyboxRootfs.HOST_BUSYBOX);
            try (Closeable l = lease()) {
                return BusyboxImage.build(store);
            }
        }
        throw new ImageNotFoundException(text);
    }

    public ImageConfig config(ImageRecord image) throws IOException {
        return ImageStore.JSON.readValue(store.content().read(image.config().parsedDigest()), ImageConfig.class);
    }

    /** The image's config blob as a tree: what {@link ImageConfig} leaves out (the Healthcheck, say). */
    public com.fasterxml.jackson.databind.JsonNode configTree(ImageRecord image) throws IOException {
        return ImageStore.JSON.readTree(store.content().read(image.config().parsedDigest()));
    }

    /** Unpacks what is not unpacked yet; returns the layer directories, lowest first. */
    public List<Path> unpack(ImageRecord image) throws IOException {
        try (Closeable l = lease()) {
            return snapshots.prepare(image, "image " + displayName(image));
        }
    }

    /** The name users know an image by: its first name in familiar form, else its short id. */
    public static String displayName(ImageRecord image) {
        return image.names().isEmpty() ? image.digest().shortHex() : Reference.parse(image.names().get(0)).familiar();
    }

    /** Gives the image named source the name target (moving target from any image that had it). */
    public ImageRecord tag(String source, String target) throws IOException {
        ImageRecord image = get(source);
        Reference ref = Reference.parse(target);
        if (ref.digest() != null) {
            throw new IllegalArgumentException("tag " + target + ": a tag cannot contain a digest");
        }
        return store.update(m -> {
            ImageRecord r = m.images.get(image.id());
            if (r == null) {
                throw new ImageNotFoundException(source);
            }
            ImageStore.untag(m, ref.toString());
            r.names().add(ref.toString());
            return r;
        });
    }

    /**
     * Removes images (docker's rmi): a name of an image that has other names is
     * only untagged; an image used by a container is refused unless force, and
     * then only untagged (its layers stay for the container); else the image is
     * deleted with whatever blobs and snapshots no other image uses.
     * inUse maps image ids to the containers using them. Returns what was done,
     * one line each ("Untagged: …", "Deleted: …").
     */
    public List<String> remove(List<String> texts, boolean force, InUse containers) throws IOException {
        List<String> out = new ArrayList<>();
        try (Closeable g = gc.exclusive()) {
            // asked only now: a run holds a lease until its container is recorded, so none is missed
            Map<String, List<String>> inUse = containers.get();
            List<Path> garbage = store.update(m -> {
                for (String text : texts) {
                    ImageRecord r = ImageStore.find(m, text).orElseThrow(() -> new ImageNotFoundException(text));
                    Reference byName = nameGiven(r, text);
                    List<String> users = inUse.getOrDefault(r.id(), List.of());
                    if (byName != null && r.names().size() > 1) {
                        r.names().remove(byName.toString());
                        out.add("Untagged: " + byName.familiar());
                        continue;
                    }
                    if (byName == null && r.names().size() > 1 && !force) {
                        throw new IOException("image " + text + " has " + r.names().size() + " names ("
                                + String.join(", ", r.names()) + "): remove them by name, or use --force");
                    }
                    if (!users.isEmpty()) {
                        if (!force) {
                            throw new IOException("image " + displayName(r) + " is used by container"
                                    + (users.size() > 1 ? "s " : " ") + String.join(", ", users)
                                    + ": remove the container" + (users.size() > 1 ? "s" : "")
                                    + " first, or use --force to untag the image (it stays for the containers)");
                        }
                        for (String n : r.names()) {
                            out.add("Untagged: " + Reference.parse(n).familiar());
                        }
                        r.names().clear();
                        continue;
                    }
                    for (String n : r.names()) {
                        out.add("Untagged: " + Reference.parse(n).familiar());
                    }
                    m.images.remove(r.id());
                    out.add("Deleted: " + r.id());
                }
                return collect(m);
            });
            delete(garbage);
        }
        return out;
    }

    /**
     * A refused load's images leave nothing: the records of ids (those the load made) are removed,
     * with every blob and snapshot no image uses (the load's, and debris of others' refused work;
     * work in progress holds a {@link #lease}, which this waits for).
     */
    public void discard(java.util.Collection<String> ids) throws IOException {
        try (Closeable g = gc.exclusive()) {
            List<Path> garbage = store.update(m -> {
                ids.forEach(m.images::remove);
                return collect(m);
            });
            delete(garbage);
        }
    }

    private static Reference nameGiven(ImageRecord r, String text) {
        try {
            Reference ref = Reference.parse(text);
            return ref.digest() == null && r.names().contains(ref.toString()) ? ref : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** What a prune removed: the images' ids and the bytes freed. */
    public record Pruned(List<String> ids, long bytes) {}

    /**
     * Removes dangling images (no name), or with all every image no container
     * uses, then unused blobs, snapshots and leftovers of interrupted work.
     * Returns one line per removed image and a summary line.
     */
    public List<String> prune(boolean all, InUse users) throws IOException {
        Pruned p = prune(all, users, null);
        List<String> out = new ArrayList<>();
        p.ids().forEach(id -> out.add("Deleted: " + id));
        out.add("Total reclaimed space: " + humanSize(p.bytes()));
        return out;
    }

    /** The same, among the images keep accepts (null: all). */
    public Pruned prune(boolean all, InUse users, java.util.function.Predicate<ImageRecord> keep) throws IOException {
        List<String> ids = new ArrayList<>();
        try (Closeable g = gc.exclusive()) {
            Map<String, List<String>> inUse = users.get();
            List<Path> garbage = store.update(m -> {
                for (var it = m.images.values().iterator(); it.hasNext(); ) {
                    ImageRecord r = it.next();
                    boolean dangling = r.names().isEmpty() && r.repoDigests().isEmpty();
                    if ((all || dangling) && !inUse.containsKey(r.id()) && (keep == null || keep.test(r))) {
                        it.remove();
                        ids.add(r.id());
                    }
                }
                return collect(m);
            });
            long freed = delete(garbage) + removeLeftovers();
            return new Pruned(ids, freed);
        }
    }

    /**
     * Under the update lock and the exclusive gc lock: drops from m the snapshots no image uses and
     * returns them with the blobs no image uses, to delete once m is written (a crash in between
     * leaves unrecorded debris that the next prune removes, never a record of something deleted).
     */
    private List<Path> collect(ImageStore.Metadata m) throws IOException {
        List<Path> garbage = new ArrayList<>(snapshots.dropUnused(m));
        Set<Digest> used = referencedBlobs(m);
        for (Digest d : store.content().list()) {
            if (!used.contains(d)) {
                garbage.add(store.content().path(d));
            }
        }
        return garbage;
    }

    /** Deletes files and trees; returns the bytes freed. */
    private static long delete(List<Path> garbage) throws IOException {
        long freed = 0;
        for (Path p : garbage) {
            freed += sizeOf(p);
            SnapshotStore.deleteTree(p);
        }
        return freed;
    }

    private static Set<Digest> referencedBlobs(ImageStore.Metadata m) {
        Set<Digest> used = new HashSet<>();
        for (ImageRecord r : m.images.values()) {
            used.add(r.config().parsedDigest());
            if (r.manifestDigest() != null) {
                used.add(Digest.parse(r.manifestDigest()));
            }
            for (Descriptor l : r.layers()) {
                used.add(l.parsedDigest());
            }
        }
        return used;
    }

    /** Temp snapshot dirs and partial downloads no process is working on. */
    private long removeLeftovers() throws IOException {
        long freed = delete(leftovers());
        removeLockFiles();
        return freed;
    }

    /**
     * Lock files of finished blob writes and unpacks. Safe only under the exclusive collection
     * lock: every writer and unpacker holds a lease, so no process has one of them open.
     */
    private void removeLockFiles() throws IOException {
        List<Path> locks = new ArrayList<>();
        Path ingest = store.content().root().resolve("ingest");
        if (Files.isDirectory(ingest)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(ingest, "*.lock")) {
                for (Path l : ds) {
                    String partial = l.getFileName().toString().replaceFirst("\\.lock$", "");
                    if (!Files.exists(l.resolveSibling(partial))) {
                        locks.add(l);
                    }
                }
            }
        }
        Path chainLocks = snapshots.dir().resolve(".locks");
        if (Files.isDirectory(chainLocks)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(chainLocks)) {
                ds.forEach(locks::add);
            }
        }
        for (Path l : locks) {
            Files.deleteIfExists(l);
        }
    }

    /** What interrupted work left behind and nobody holds: temp snapshot dirs, unrecorded snapshot dirs, partial blobs. */
    private List<Path> leftovers() throws IOException {
        List<Path> out = new ArrayList<>();
        Set<String> recorded = new HashSet<>();
        store.read().snapshots.values().forEach(s -> recorded.add(s.dir()));
        Path dir = snapshots.dir();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) {
                    String name = p.getFileName().toString();
                    if (!name.equals(".locks") && !recorded.contains(name) && !lockedBySomeone(p)) {
                        out.add(p);
                    }
                }
            }
        }
        for (Path partial : store.content().partials()) {
            Path lock = partial.resolveSibling(partial.getFileName() + ".lock");
            if (!isLocked(lock)) {
                out.add(partial);
            }
        }
        return out;
    }

    /** A temp snapshot dir is being unpacked when some process holds a chain lock; we can't tell which, so check all. */
    private boolean lockedBySomeone(Path p) throws IOException {
        if (!p.getFileName().toString().startsWith(".tmp-")) {
            return false;
        }
        Path locks = snapshots.dir().resolve(".locks");
        if (!Files.isDirectory(locks)) {
            return false;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(locks)) {
            for (Path l : ds) {
                if (isLocked(l)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isLocked(Path lockFile) throws IOException {
        if (!Files.exists(lockFile)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                return true;
            }
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        }
    }

    /** What a content check found. problems: corruption or missing data; leftovers: reclaimable debris. */
    public record CheckReport(List<String> problems, List<String> leftovers, int blobs, int images, int snapshots) {}

    /**
     * Checks the store: every blob's content has its digest, every image's
     * blobs and every recorded snapshot exist; lists leftovers of interrupted
     * work. With repair, corrupt blobs, records of missing snapshots and
     * leftovers are removed (images whose blobs went missing need a new pull).
     */
    public CheckReport check(boolean repair) throws IOException {
        List<String> problems = new ArrayList<>();
        List<String> leftovers = new ArrayList<>();
        try (Closeable g = gc.exclusive()) {
            ImageStore.Metadata m = store.read();
            List<Digest> blobs = store.content().list();
            Set<Digest> present = new HashSet<>();
            for (Digest d : blobs) {
                if (store.content().verify(d)) {
                    present.add(d);
                } else {
                    problems.add("blob " + d + ": content does not match its digest" + (repair ? " (removed)" : ""));
                    if (repair) {
                        store.content().delete(d);
                    }
                }
            }
            for (ImageRecord r : m.images.values()) {
                List<Digest> need = new ArrayList<>();
                need.add(r.config().parsedDigest());
                r.layers().forEach(l -> need.add(l.parsedDigest()));
                for (Digest d : need) {
                    if (!present.contains(d)) {
                        problems.add("image " + displayName(r) + ": blob " + d + " is missing (pull the image again)");
                    }
                }
            }
            List<String> gone = new ArrayList<>();
            for (SnapshotRecord s : m.snapshots.values()) {
                if (!Files.isDirectory(snapshots.dir().resolve(s.dir()))) {
                    problems.add("snapshot " + s.chainId() + ": directory " + s.dir() + " is missing"
                            + (repair ? " (record removed; unpacked again on next use)" : ""));
                    gone.add(s.chainId());
                }
            }
            if (repair && !gone.isEmpty()) {
                store.update(md -> {
                    gone.forEach(md.snapshots::remove);
                    return null;
                });
            }
            for (Path p : leftovers()) {
                leftovers.add(store.home().relativize(p) + (repair ? " (removed)" : ""));
                if (repair) {
                    SnapshotStore.deleteTree(p);
                }
            }
            return new CheckReport(problems, leftovers, blobs.size(), m.images.size(), m.snapshots.size());
        }
    }

    static long sizeOf(Path p) throws IOException {
        if (!Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? Files.size(p) : 0;
        }
        long[] total = {0};
        try (var s = Files.walk(p)) {
            s.filter(f -> Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)).forEach(f -> {
                try {
                    total[0] += Files.size(f);
                } catch (IOException ignored) {
                    // vanished while counting
                }
            });
        }
        return total[0];
    }

    /** Sizes as docker prints them: 1000-based, three significant digits. */
    public static String humanSize(long bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? bytes + "B" : String.format(java.util.Locale.ROOT, v < 10 ? "%.2f%s" : v < 100 ? "%.1f%s" : "%.0f%s", v, units[u]);
    }

    /** Reads a file of the image's filesystem from its layers (top layer first); null if absent or not a regular file. */
    public static byte[] readImageFile(List<Path> layersLowestFirst, String path) throws IOException {
        String rel = path.startsWith("/") ? path.substring(1) : path;
        for (int i = layersLowestFirst.size() - 1; i >= 0; i--) {
            Path layer = layersLowestFirst.get(i);
            Path p = layer.resolve(rel);
            // never read through a symlink of the image: it could point anywhere on the host
            for (Path q = p; q != null && !q.equals(layer); q = q.getParent()) {
                if (Files.isSymbolicLink(q)) {
                    return null;
                }
            }
            if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try (InputStream in = Files.newInputStream(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    return in.readNBytes(4 << 20);
                }
            }
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return null; // a whiteout or something else hides lower layers' file
            }
        }
        return null;
    }
}
