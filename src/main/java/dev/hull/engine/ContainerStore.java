package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.FileLocks;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The engine's containers on disk, under HULL_HOME:
 * <pre>
 * containers/ID/            one per container (ID: 64 hex digits)
 *   container.json          what it was made from ({@link ContainerInfo}), replaced atomically
 *   config.json, rootfs/    its OCI bundle (upper/ and work/ for the overlay)
 *   status.json             written by its monitor ({@link MonitorStatus})
 *   ID-json.log[.N]         its output, docker's json-file format
 *   lock                    held by any command changing it
 * names/NAME -> ID          one symlink per name: made atomically, so a name is never taken twice
 * </pre>
 * A directory without container.json is a creation that did not finish (the creating command was
 * killed); it belongs to no one and {@link #debris} lists it for cleanup.
 */
public final class ContainerStore {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    private static final String[] ADJECTIVES = {"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly",
        "keen", "lucid", "merry", "nimble", "proud", "quiet", "sharp", "swift", "tidy", "vivid", "witty", "zen",
        "bold"};
    private static final String[] NOUNS = {"lovelace", "turing", "hopper", "torvalds", "ritchie", "thompson",
        "knuth", "dijkstra", "hamilton", "liskov", "lamport", "cerf", "kay", "wirth", "hoare", "backus", "allen",
        "perlman", "goldberg", "engelbart"};

    /** container.json as list() last parsed it (records are replaced whole, so a stat tells a change). */
    private static final dev.hull.linux.FileMemo<ContainerInfo> LISTED =
            new dev.hull.linux.FileMemo<>(b -> JSON.readValue(b, ContainerInfo.class));

    private final Path root;
    private final Path names;

    public ContainerStore(Path home) {
        this.root = home.resolve("containers");
        this.names = home.resolve("names");
    }

    /** containers/: root only (see Engine's secureRoots). */
    public Path root() {
        return root;
    }

    public Path dir(String id) {
        return root.resolve(id);
    }

    public Path logFile(String id) {
        return dir(id).resolve(id + "-json.log");
    }

    public Path statusFile(String id) {
        return dir(id).resolve("status.json");
    }

    public Path stopMarker(String id) {
        return dir(id).resolve("stop-requested");
    }

    /**
     * A new id and its directory, and the name reserved for it (the given one, or a free made-up
     * one). The directory's lock is held until the returned handle is closed: the creation is
     * under way until then, and afterwards (without container.json) it was abandoned.
     */
    public Locked reserve(String name) throws IOException, RuntimeError {
        dev.hull.linux.SecureDirs.ensure(root, dev.hull.linux.SecureDirs.PRIVATE); // upper and rootfs dirs live here
        Files.createDirectories(names);
        String id;
        do {
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            id = HexFormat.of().formatHex(b);
        } while (Files.exists(dir(id)));
        Files.createDirectory(dir(id));
        Closeable lock = FileLocks.exclusive(dir(id).resolve("lock"));
        try {
            if (name != null) {
                if (!NAME.matcher(name).matches()) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid container name \"" + name
                            + "\": use letters, digits and _ . - (starting with a letter or digit), at most 128");
                }
                if (!claimName(name, id)) {
                    throw new RuntimeError(RuntimeError.Kind.EXISTS, "the name \"" + name + "\" is already in use by"
                            + " container " + idOfName(name).substring(0, 12) + ": remove or rename that container");
                }
            } else {
                SecureRandom r = new SecureRandom();
                for (int tries = 0; ; tries++) {
                    String n = ADJECTIVES[r.nextInt(ADJECTIVES.length)] + "_" + NOUNS[r.nextInt(NOUNS.length)]
                            + (tries < 10 ? "" : Integer.toString(r.nextInt(100000)));
                    if (claimName(n, id)) {
                        name = n;
                        break;
                    }
                }
            }
        } catch (IOException | RuntimeError | RuntimeException e) {
            dev.hull.image.SnapshotStore.deleteTree(dir(id));
            lock.close();
            throw e;
        }
        return new Locked(new ContainerInfo(id, name, null, null, null, List.of(), List.of(), null, List.of(), null,
                null), lock);
    }

    /**
     * A container directory without container.json whose creator is gone (its lock is free): a
     * creation that was killed. A creation under way holds the lock.
     */
    boolean abandoned(String id) {
        Path dir = dir(id);
        if (Files.exists(dir.resolve("container.json"))) {
            return false;
        }
        if (!Files.isDirectory(dir)) {
            return true;
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir.resolve("lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.channels.FileLock l = ch.tryLock();
            if (l == null) {
                return false;
            }
            l.release();
            return true;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            return false; // this JVM is creating it
        } catch (IOException e) {
            return false;
        }
    }

    /** Takes name for id; false if another container holds it. A link to a container that is gone is taken over. */
    boolean claimName(String name, String id) throws IOException {
        Path link = names.resolve(name);
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                Files.createSymbolicLink(link, Path.of(id));
                return true;
            } catch (FileAlreadyExistsException e) {
                String holder = idOfName(name);
                if (holder != null && !abandoned(holder)) {
                    return false;
                }
                // left by a creation or removal that was killed: take it over (atomically, by rename)
                Path tmp = names.resolve("." + name + "." + id);
                Files.deleteIfExists(tmp);
                Files.createSymbolicLink(tmp, Path.of(id));
                String again = idOfName(name);
                if (again == null || again.equals(holder)) {
                    Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    return id.equals(idOfName(name));
                }
                Files.deleteIfExists(tmp);
            }
        }
        return false;
    }

    /** The id a name points at, or null. */
    String idOfName(String name) throws IOException {
        try {
            return Files.readSymbolicLink(names.resolve(name)).toString();
        } catch (NoSuchFileException | java.nio.file.NotLinkException e) {
            return null;
        }
    }

    void releaseName(String name, String id) throws IOException {
        if (name != null && id.equals(idOfName(name))) {
            Files.deleteIfExists(names.resolve(name));
        }
    }

    public void write(ContainerInfo info) throws IOException {
        Path dir = dir(info.id());
        Path tmp = dir.resolve("container.json.tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(info));
        Files.move(tmp, dir.resolve("container.json"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** The record, or null if there is no (finished) container with this id. */
    public ContainerInfo read(String id) throws IOException {
        if (!ID.matcher(id).matches()) {
            return null;
        }
        try {
            return JSON.readValue(Files.readAllBytes(dir(id).resolve("container.json")), ContainerInfo.class);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Every finished container, oldest first. The records are shared with a memo (a stat of each
     * container.json instead of a read and a parse, for ps and the API's list): read them only;
     * a change goes through {@link #lock}, which reads afresh.
     */
    public List<ContainerInfo> list() throws IOException {
        List<ContainerInfo> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (var s = Files.newDirectoryStream(root)) {
            for (Path d : s) {
                ContainerInfo info;
                try {
                    info = ID.matcher(d.getFileName().toString()).matches()
                            ? LISTED.read(d.resolve("container.json")) : null;
                } catch (IOException e) {
                    continue; // being removed
                }
                if (info != null) {
                    out.add(info);
                }
            }
        }
        out.sort(java.util.Comparator.comparing(i -> i.created() == null ? "" : i.created()));
        return out;
    }

    /** Directories of creations that were killed (no container.json, no creator) and of interrupted removals. */
    public List<Path> debris() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (var s = Files.newDirectoryStream(root)) {
            for (Path d : s) {
                String n = d.getFileName().toString();
                if (n.startsWith(".removing-") || ID.matcher(n).matches() && abandoned(n)) {
                    out.add(d);
                }
            }
        }
        return out;
    }

    /**
     * Removes what killed creations and removals left: their directories ({@link #debris}) and
     * the names that point at no container directory (a creation makes its directory before its
     * name, so such a name belongs to no one). Returns the directories removed.
     */
    public List<Path> removeDebris() throws IOException {
        List<Path> removed = debris();
        for (Path d : removed) {
            dev.hull.disk.Mounts.detachUnder(d); // a disk a killed command left mounted
            dev.hull.image.SnapshotStore.deleteTree(d);
        }
        if (Files.isDirectory(names)) {
            try (var s = Files.newDirectoryStream(names)) {
                for (Path link : s) {
                    String n = link.getFileName().toString();
                    String id = n.startsWith(".") ? null : idOfName(n); // (".NAME.ID": a take-over's, its own to remove)
                    if (id != null && !Files.isDirectory(dir(id))) {
                        Files.deleteIfExists(link);
                    }
                }
            }
        }
        return removed;
    }

    /** A container by full id, name, or unique id prefix. */
    public ContainerInfo resolve(String ref) throws IOException, RuntimeError {
        if (ref == null || ref.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "no container given");
        }
        ContainerInfo exact = read(ref);
        if (exact != null) {
            return exact;
        }
        if (NAME.matcher(ref).matches()) {
            String id = idOfName(ref);
            if (id != null) {
                ContainerInfo named = read(id);
                if (named != null) {
                    return named;
                }
            }
        }
        if (ref.matches("[0-9a-f]{1,63}")) {
            List<ContainerInfo> matches = new ArrayList<>();
            for (ContainerInfo c : list()) {
                if (c.id().startsWith(ref)) {
                    matches.add(c);
                }
            }
            if (matches.size() == 1) {
                return matches.get(0);
            }
            if (matches.size() > 1) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "\"" + ref + "\" matches " + matches.size()
                        + " containers: give more of the id");
            }
        }
        throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such container: " + ref);
    }

    /**
     * Holds the container's lock (across processes and threads); re-reads the record under it,
     * failing if the container was removed meanwhile.
     */
    public Locked lock(ContainerInfo info) throws IOException, RuntimeError {
        Closeable lock;
        try {
            lock = FileLocks.exclusive(dir(info.id()).resolve("lock"));
        } catch (NoSuchFileException e) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such container: " + info.id());
        }
        ContainerInfo now = read(info.id());
        if (now == null) {
            lock.close();
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no such container: " + info.id()
                    + " (it was removed)");
        }
        return new Locked(now, lock);
    }

    /** A container's record, read while its lock is held; close releases the lock (once; again does nothing). */
    public static final class Locked implements AutoCloseable {
        private final ContainerInfo info;
        private Closeable lock;

        Locked(ContainerInfo info, Closeable lock) {
            this.info = info;
            this.lock = lock;
        }

        public ContainerInfo info() {
            return info;
        }

        @Override
        public void close() throws IOException {
            Closeable l = lock;
            lock = null;
            if (l != null) {
                l.close();
            }
        }
    }

    /** Removes the container's directory and its name (the caller holds its lock). */
    public void remove(ContainerInfo info) throws IOException {
        Path dir = dir(info.id());
        Path doomed = root.resolve(".removing-" + info.id());
        dev.hull.disk.Disk.release(dir); // a --storage-opt disk: detached before its directory moves
        SubIds.release(dir); // --userns=auto: its range is free again
        // One rename makes it gone for everyone; the slow delete of the tree comes after.
        try {
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        }
        releaseName(info.name(), info.id());
        dev.hull.image.SnapshotStore.deleteTree(doomed);
    }

    /** Renames under the container's lock: the new name is claimed before the old one is let go. */
    public ContainerInfo rename(ContainerInfo info, String newName) throws IOException, RuntimeError {
        if (!NAME.matcher(newName).matches()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid container name \"" + newName + "\"");
        }
        if (newName.equals(info.name())) {
            return info;
        }
        if (!claimName(newName, info.id())) {
            throw new RuntimeError(RuntimeError.Kind.EXISTS, "the name \"" + newName + "\" is already in use");
        }
        ContainerInfo renamed = info.withName(newName);
        write(renamed);
        releaseName(info.name(), info.id());
        return renamed;
    }
}
