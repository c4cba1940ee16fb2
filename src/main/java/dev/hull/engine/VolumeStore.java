package dev.hull.engine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.disk.Disk;
import dev.hull.disk.DiskSpec;
import dev.hull.disk.Mounts;
import dev.hull.image.FileLocks;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Named volumes, docker's layout under HULL_HOME:
 * <pre>
 * volumes/NAME/_data         the volume's content (what containers mount)
 * volumes/NAME/volume.json   {"CreatedAt": ..., "Labels": {...}}
 * volumes/.lock              held while a volume is made, removed, or handed to a container being created
 * </pre>
 * A sized volume ({@code --opt size=}) has a {@link Disk} instead of _data: volumes/NAME/disk.img,
 * disk.json, and its content in volumes/NAME/disk/data, mounted while the volume exists (again on
 * first use after a reboot); it is detached before the volume is renamed away.
 * A volume comes into being whole: it is assembled under a hidden name and renamed into place, so
 * a killed command leaves no half volume (only a hidden directory that prune clears). Removal renames
 * the volume away under the lock, then deletes it. {@code hull create/run -v NAME:/path} holds the
 * lock from looking the volume up until the container is recorded ({@link #lease}), so no rm or
 * prune can take a volume a container is about to use.
 */
public final class VolumeStore {
    static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Lock files this thread holds, with how often (the lock is re-entrant within a thread). */
    private static final ThreadLocal<Map<Path, Held>> HELD = ThreadLocal.withInitial(HashMap::new);

    private static final class Held {
        final Closeable lock;
        int depth = 1;

        Held(Closeable lock) {
            this.lock = lock;
        }
    }

    private final Path root;
    private final EventLog events;

    public VolumeStore(Path home) {
        this.root = home.resolve("volumes");
        this.events = new EventLog(home);
    }

    public Path root() {
        return root;
    }

    /** A volume as {@code volume inspect} shows it. */
    public record Volume(String name, Path mountpoint, String createdAt, Map<String, String> labels) {}

    /** What volume.json holds. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Meta(String CreatedAt, Map<String, String> Labels) {}

    /** Containers per volume name, for rm and prune. */
    @FunctionalInterface
    public interface InUse {
        Map<String, List<String>> get() throws IOException;
    }

    /** The collection's lock: exclusive across processes, re-entrant within a thread. */
    public Closeable lock() throws IOException {
        dev.hull.linux.SecureDirs.ensure(root, dev.hull.linux.SecureDirs.PRIVATE); // what containers wrote: root only
        Path file = root.resolve(".lock");
        Map<Path, Held> held = HELD.get();
        Held h = held.get(file);
        if (h != null) {
            h.depth++;
        } else {
            held.put(file, new Held(FileLocks.exclusive(file)));
        }
        boolean[] closed = {false};
        return () -> {
            if (closed[0]) {
                return;
            }
            closed[0] = true;
            Held x = held.get(file);
            if (--x.depth == 0) {
                held.remove(file);
                x.lock.close();
            }
        };
    }

    /**
     * The lock, held by a container creation whose -v specs name volumes (nothing to hold when
     * they are all host paths), until the container is recorded.
     */
    public Closeable lease(List<String> volumeSpecs) throws IOException {
        for (String v : volumeSpecs) {
            if (!v.startsWith("/") && !v.startsWith(".") && v.indexOf(':') > 0) {
                return lock();
            }
        }
        return () -> { };
    }

    static void checkName(String name) throws RuntimeError {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid volume name \"" + name + "\": use letters,"
                    + " digits and _ . - (starting with a letter or digit, at most 128); a host path must start"
                    + " with / or .");
        }
    }

    /** The directory a volume's content lives in; with create, the volume is made if missing. */
    public Path mountpoint(String name, boolean create) throws RuntimeError, IOException {
        checkName(name);
        try (Closeable l = lock()) {
            if (Disk.exists(root.resolve(name))) {
                Disk.mount(root.resolve(name));
                return Disk.content(root.resolve(name));
            }
            Path data = root.resolve(name).resolve("_data");
            if (!Files.isDirectory(data)) {
                if (!create) {
                    throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such volume: " + name);
                }
                make(name, Map.of(), null);
            }
            return data;
        }
    }

    /**
     * {@code volume create}: a new volume (a random 64-hex name when name is null). A volume that
     * exists already is returned as it is, as docker does.
     */
    public Volume create(String name, Map<String, String> labels) throws RuntimeError, IOException {
        return create(name, labels, null);
    }

    /** {@code volume create}, with a disk of its own when disk is not null (a volume that exists keeps its own). */
    public Volume create(String name, Map<String, String> labels, DiskSpec disk) throws RuntimeError, IOException {
        if (name == null) {
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            name = HexFormat.of().formatHex(b);
        }
        checkName(name);
        try (Closeable l = lock()) {
            Volume existing = find(name);
            if (existing != null) {
                return existing;
            }
            make(name, labels, disk);
            events.record("volume", "create", name, Map.of("driver", "local"), EventLog.now());
            return get(name);
        }
    }

    /** Assembles the volume under a hidden name, then renames it into place (the caller holds the lock). */
    private void make(String name, Map<String, String> labels, DiskSpec disk) throws IOException, RuntimeError {
        Path dir = root.resolve(name);
        if (Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // a volume of an older Hull (no volume.json) or one whose _data went missing: complete it
            Files.createDirectories(dir.resolve("_data"));
            if (!Files.exists(dir.resolve("volume.json"))) {
                writeMeta(dir, labels);
            }
            return;
        }
        Path tmp = root.resolve(".creating-" + name + "-" + Long.toHexString(new SecureRandom().nextLong()));
        try {
            if (disk == null) {
                Files.createDirectories(tmp.resolve("_data"));
            } else {
                Files.createDirectories(tmp);
                Disk.create(tmp, disk);
                Disk.release(tmp); // mounted again once in place: nothing mounted moves with the rename
            }
            writeMeta(tmp, labels);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException | RuntimeError e) {
            Mounts.detachUnder(tmp);
            dev.hull.image.SnapshotStore.deleteTree(tmp);
            throw e;
        }
        if (disk != null) {
            Disk.mount(dir);
            if (disk.encrypt()) { // the key went with the unmount: add it back
                Disk.unlock(dir, disk.keyFile(), "volume " + name);
            }
        }
    }

    private static void writeMeta(Path dir, Map<String, String> labels) throws IOException {
        Meta m = new Meta(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), new TreeMap<>(labels));
        Path tmp = dir.resolve("volume.json.tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
        Files.move(tmp, dir.resolve("volume.json"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** The volume, or a NOT_FOUND error naming it. */
    public Volume get(String name) throws RuntimeError, IOException {
        checkName(name);
        Volume v = find(name);
        if (v == null) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such volume: " + name);
        }
        return v;
    }

    /** The volume, or null. */
    private Volume find(String name) throws IOException {
        Path dir = root.resolve(name);
        Path data = dir.resolve("_data");
        if (Disk.exists(dir)) {
            data = Disk.content(dir);
        } else if (!Files.isDirectory(data, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        String created;
        Map<String, String> labels = new LinkedHashMap<>();
        try {
            Meta m = JSON.readValue(Files.readAllBytes(dir.resolve("volume.json")), Meta.class);
            created = m.CreatedAt();
            if (m.Labels() != null) {
                labels.putAll(m.Labels());
            }
        } catch (NoSuchFileException | com.fasterxml.jackson.core.JacksonException e) {
            created = null;
        }
        if (created == null) { // made by an older Hull: the directory's time
            created = Files.readAttributes(dir, BasicFileAttributes.class).creationTime().toInstant()
                    .truncatedTo(ChronoUnit.SECONDS).toString();
        }
        return new Volume(name, data, created, labels);
    }

    /** Every volume, by name. */
    public List<Volume> list() throws IOException {
        List<Volume> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        List<String> names = new ArrayList<>();
        try (var s = Files.newDirectoryStream(root)) {
            for (Path d : s) {
                String n = d.getFileName().toString();
                if (NAME.matcher(n).matches()) {
                    names.add(n);
                }
            }
        }
        names.sort(null);
        for (String n : names) {
            Volume v = find(n);
            if (v != null) {
                out.add(v);
            }
        }
        return out;
    }

    /**
     * {@code volume rm}: refuses a volume any container uses (running or not, as docker does); with
     * force, a missing volume is no error. The content is deleted after the lock is let go.
     */
    public void remove(String name, boolean force, InUse users) throws RuntimeError, IOException {
        checkName(name);
        Path doomed;
        try (Closeable l = lock()) {
            if (find(name) == null) {
                if (force) {
                    return;
                }
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such volume: " + name);
            }
            List<String> by = users.get().getOrDefault(name, List.of());
            if (!by.isEmpty()) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "volume " + name + " is in use by container"
                        + (by.size() > 1 ? "s " : " ") + String.join(", ", by.stream().map(VolumeStore::shortId)
                        .toList()) + ": remove " + (by.size() > 1 ? "them" : "it") + " first");
            }
            doomed = takeAway(name);
            events.record("volume", "destroy", name, Map.of("driver", "local"), EventLog.now());
        }
        dev.hull.image.SnapshotStore.deleteTree(doomed);
    }

    private Path takeAway(String name) throws IOException {
        Disk.release(root.resolve(name)); // a sized volume's disk: detached before its directory moves
        Path doomed = root.resolve(".removing-" + name + "-" + Long.toHexString(new SecureRandom().nextLong()));
        Files.move(root.resolve(name), doomed, StandardCopyOption.ATOMIC_MOVE);
        return doomed;
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    /** The volume's directory when it has a disk of its own; else an error naming the volume. */
    public Path diskDir(String name) throws RuntimeError, IOException {
        get(name);
        Path dir = root.resolve(name);
        if (!Disk.exists(dir)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "volume " + name + " has no disk of its own (make"
                    + " one with hull volume create --opt size=SIZE)");
        }
        return dir;
    }

    /** {@code volume lock|unlock|resize} under the volumes' lock. */
    public boolean lockDisk(String name) throws RuntimeError, IOException {
        try (Closeable l = lock()) {
            return Disk.lock(diskDir(name), "volume " + name);
        }
    }

    public void unlockDisk(String name, Path keyFile) throws RuntimeError, IOException {
        try (Closeable l = lock()) {
            Disk.unlock(diskDir(name), keyFile, "volume " + name);
        }
    }

    public void growDisk(String name, long size, Path keyFile) throws RuntimeError, IOException {
        try (Closeable l = lock()) {
            Disk.grow(diskDir(name), size, "volume " + name, keyFile);
        }
    }

    /** What prune removed: volume names and the bytes their content took. */
    public record Pruned(List<String> names, long bytes) {}

    /**
     * {@code volume prune}: removes every volume no container uses (filter decides which volumes
     * count; null: all), and what killed creations and removals left.
     */
    public Pruned prune(InUse users, java.util.function.Predicate<Volume> filter) throws IOException {
        List<String> names = new ArrayList<>();
        List<Path> doomed = new ArrayList<>();
        long bytes = 0;
        try (Closeable l = lock()) {
            Map<String, List<String>> used = users.get();
            for (Volume v : list()) {
                if (used.containsKey(v.name()) || filter != null && !filter.test(v)) {
                    continue;
                }
                bytes += size(v.mountpoint());
                doomed.add(takeAway(v.name()));
                names.add(v.name());
                events.record("volume", "destroy", v.name(), Map.of("driver", "local"), EventLog.now());
            }
            if (Files.isDirectory(root)) {
                try (var s = Files.newDirectoryStream(root, ".{creating,removing}-*")) {
                    for (Path d : s) { // left by a killed command: a disk of theirs may be mounted still
                        Mounts.detachUnder(d);
                        doomed.add(d);
                    }
                }
            }
        }
        for (Path d : doomed) {
            try {
                dev.hull.image.SnapshotStore.deleteTree(d);
            } catch (NoSuchFileException e) {
                // a removal that let go of the lock is deleting it too
            }
        }
        return new Pruned(names, bytes);
    }

    /**
     * Bytes of the files under dir (not followed into symlinks; a file with several links counted
     * once), as {@code system df} and {@code volume prune} count them.
     */
    public static long size(Path dir) {
        long[] total = {0};
        java.util.Set<Object> seen = new java.util.HashSet<>();
        try {
            Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                    if (!a.isDirectory() && (a.fileKey() == null || seen.add(a.fileKey()))) {
                        total[0] += a.size();
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path f, IOException e) {
                    return java.nio.file.FileVisitResult.CONTINUE; // vanished, or unreadable: not counted
                }
            });
        } catch (IOException e) {
            // counted what could be
        }
        return total[0];
    }
}
