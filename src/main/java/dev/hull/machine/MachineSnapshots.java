package dev.hull.machine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.disk.Disk;
import dev.hull.engine.ContainerDisks;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerResources;
import dev.hull.engine.ContainerStore;
import dev.hull.engine.Engine;
import dev.hull.engine.TreeClones;
import dev.hull.image.SnapshotStore;
import dev.hull.linux.FileClone;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hull machine snapshot|snapshots|restore|snapshot rm}: point-in-time copies of what a machine
 * wrote — its overlay's upper layer, or with {@code --disk} its whole disk image (an encrypted one's
 * ciphertext and wrapped key: a snapshot holds no plaintext either). A snapshot of a running machine
 * freezes its cgroup (the freezer: no process of it runs, so nothing changes mid-copy), syncs its disk
 * ({@code syncfs}) and thaws it always, even when the copy fails. Copies are reflinks where the store's
 * file system shares blocks (XFS, btrfs: instant, copy-on-write), else sparse copies.
 * <pre>
 * CONTAINER_DIR/snapshots/SNAP/snapshot.json   name, creation time, kind, size
 * CONTAINER_DIR/snapshots/SNAP/upper/           the upper layer (a machine without a disk of its own)
 * CONTAINER_DIR/snapshots/SNAP/disk.img, disk.json   its disk (a machine with --disk)
 * </pre>
 * A snapshot is made in a temporary directory beside them and renamed into place once complete, so
 * a killed command leaves no half snapshot that could be listed or restored (the next one removes it).
 */
public final class MachineSnapshots {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final String TMP = ".tmp-", FROZEN = ".frozen-";

    private final Machines machines;
    private final Engine engine;

    public MachineSnapshots(Machines machines) {
        this.machines = machines;
        this.engine = machines.engine();
    }

    /** What snapshot.json holds (and snapshots lists). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Snapshot(String Name, String Created, String Kind, long Size, long Allocated, boolean Running,
            boolean Reflinked) {}

    /** A finished copy: bytes and whether they were reflinked. */
    record Copy(long bytes, boolean reflinked) {}

    static Path root(Engine engine, ContainerInfo c) {
        return engine.containers().dir(c.id()).resolve("snapshots");
    }

    /** {@code machine snapshot NAME [SNAP]}: SNAP null gets a name with the time (snap-20260101-120000). */
    public Snapshot create(String ref, String snap) throws IOException, RuntimeError {
        ContainerInfo c = machines.resolve(ref);
        Path root = root(engine, c);
        Files.createDirectories(root);
        clearLeftovers(root);
        if (snap == null) {
            String base = "snap-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC)
                    .format(Instant.now());
            snap = base;
            for (int i = 2; Files.exists(root.resolve(snap)); i++) {
                snap = base + "-" + i;
            }
        }
        checkName(snap);
        if (Files.exists(root.resolve(snap))) {
            throw new RuntimeError(RuntimeError.Kind.EXISTS, "machine " + c.name() + " has a snapshot " + snap
                    + " already (hull machine snapshot rm " + c.name() + " " + snap + ")");
        }
        Path tmp = root.resolve(TMP + snap + "-" + ProcessHandle.current().pid());
        boolean done = false;
        try (ContainerStore.Locked locked = engine.containers().lock(c)) {
            Files.createDirectory(tmp);
            Frozen f = freeze(c);
            Copy copy;
            try {
                copy = copyOut(c, tmp);
            } finally {
                f.close();
            }
            Snapshot s = new Snapshot(snap, Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString(), Disk.exists(dir(c)) ? "disk" : "upper",
                    copy.bytes(), allocated(tmp), f.running(), copy.reflinked());
            Files.write(tmp.resolve("snapshot.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
            Files.move(tmp, root.resolve(snap), StandardCopyOption.ATOMIC_MOVE);
            done = true;
            return s;
        } finally {
            if (!done) {
                SnapshotStore.deleteTree(tmp);
            }
        }
    }

    /**
     * A freeze of a running machine's cgroup for a consistent copy; closing it thaws (not one paused
     * before). While frozen, snapshots/.frozen-PID says by whom: a command killed meanwhile leaves the
     * machine frozen, and the machine's next snapshot command thaws it ({@link #thawLeftover}).
     */
    record Frozen(ContainerInfo machine, Engine engine, boolean running, Path marker) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            if (marker != null) {
                try {
                    ContainerResources.unpause(engine, machine.id());
                } catch (RuntimeError e) {
                    throw new IOException("machine " + machine.name() + ": thawing it after the copy: " + e.getMessage(), e);
                }
                Files.deleteIfExists(marker);
            }
        }
    }

    Frozen freeze(ContainerInfo c) throws IOException, RuntimeError {
        thawLeftover(c);
        String status = engine.state(c).status();
        if (status.equals("running")) {
            Path root = root(engine, c);
            Files.createDirectories(root);
            Path marker = root.resolve(FROZEN + ProcessHandle.current().pid());
            Files.writeString(marker, "");
            ContainerResources.pause(engine, c.id());
            return new Frozen(c, engine, true, marker);
        }
        return new Frozen(c, engine, !status.equals("exited") && !status.equals("created"), null);
    }

    /** Thaws the machine if a snapshot command that froze it was killed before it could (its marker left). */
    void thawLeftover(ContainerInfo c) throws IOException, RuntimeError {
        Path root = root(engine, c);
        if (!Files.isDirectory(root)) {
            return;
        }
        try (var s = Files.newDirectoryStream(root, FROZEN + "*")) {
            for (Path m : s) {
                long pid = pidOf(m.getFileName().toString());
                if (pid > 0 && ProcessHandle.of(pid).isPresent()) {
                    continue; // a copy under way
                }
                if (engine.state(c).status().equals("paused")) {
                    ContainerResources.unpause(engine, c.id());
                }
                Files.deleteIfExists(m);
            }
        }
    }

    /** Copies what the machine wrote into dst: its disk image and disk.json, or its upper layer as dst/upper. */
    Copy copyOut(ContainerInfo c, Path dst) throws IOException {
        Path dir = dir(c);
        if (Disk.exists(dir)) {
            if (Disk.status(dir).mounted()) {
                syncfs(Disk.mountPoint(dir)); // what the machine wrote, on the image before it is copied
            }
            Files.copy(dir.resolve("disk.json"), dst.resolve("disk.json"));
            return copyFile(Disk.image(dir), dst.resolve("disk.img"));
        }
        TreeClones.Copied t = TreeClones.copy(ContainerDisks.upper(dir), dst.resolve("upper"));
        return new Copy(t.bytes(), t.reflinked() > 0);
    }

    /** One file copied: reflinked where the file system can, else sparse; synced. */
    static Copy copyFile(Path src, Path dst) throws IOException {
        int in = Syscalls.open(src.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            int out = Syscalls.open(dst.toString(), Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_EXCL
                    | Syscalls.O_CLOEXEC, 0600);
            try {
                FileClone.How how = FileClone.copy(in, out);
                FileClone.syncfs(out);
                return new Copy(Files.size(src), how == FileClone.How.REFLINK);
            } finally {
                Syscalls.close(out);
            }
        } finally {
            Syscalls.close(in);
        }
    }

    static void syncfs(Path p) throws IOException {
        int fd = Syscalls.open(p.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try {
            FileClone.syncfs(fd);
        } finally {
            Syscalls.close(fd);
        }
    }

    /** {@code machine snapshots NAME}: oldest first. */
    public List<Snapshot> list(String ref) throws IOException, RuntimeError {
        ContainerInfo c = machines.resolve(ref);
        thawLeftover(c);
        List<Snapshot> out = new ArrayList<>();
        Path root = root(engine, c);
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (var s = Files.newDirectoryStream(root)) {
            for (Path p : s) {
                if (!p.getFileName().toString().startsWith(TMP) && Files.exists(p.resolve("snapshot.json"))) {
                    out.add(read(p));
                }
            }
        }
        out.sort(java.util.Comparator.comparing(Snapshot::Created).thenComparing(Snapshot::Name));
        return out;
    }

    /** {@code machine snapshot rm NAME SNAP}. */
    public void remove(String ref, String snap) throws IOException, RuntimeError {
        ContainerInfo c = machines.resolve(ref);
        Path p = find(c, snap);
        Path gone = root(engine, c).resolve(TMP + "rm-" + snap + "-" + ProcessHandle.current().pid());
        Files.move(p, gone, StandardCopyOption.ATOMIC_MOVE); // unlisted at once, even if the delete is killed
        SnapshotStore.deleteTree(gone);
    }

    /**
     * {@code machine restore NAME SNAP}: the stopped machine's writable layer (or disk) replaced by the
     * snapshot's. An encrypted disk comes back locked unless keyFile is given (its key goes with the unmount).
     * Returns whether the machine's disk is locked afterwards.
     */
    public boolean restore(String ref, String snap, Path keyFile) throws IOException, RuntimeError {
        ContainerInfo c = machines.resolve(ref);
        Path p = find(c, snap);
        try (ContainerStore.Locked locked = engine.containers().lock(c)) {
            if (engine.state(c).running()) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "machine " + c.name() + " is running: stop it"
                        + " first (hull machine stop " + c.name() + "), then restore " + snap);
            }
            Snapshot s = read(p);
            Path dir = dir(c);
            if (s.Kind().equals("disk") != Disk.exists(dir)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "snapshot " + snap + " is of a machine "
                        + (Disk.exists(dir) ? "without" : "with") + " a disk of its own; machine " + c.name()
                        + " is not: it cannot be restored here");
            }
            if (Disk.exists(dir)) {
                return replaceDisk(c, p, keyFile, false);
            }
            replaceUpper(ContainerDisks.upper(dir), p.resolve("upper"), false);
            return false;
        }
    }

    /**
     * An upper directory replaced by a copy of src (move: src itself, a copy made for this); the old one
     * removed once the new one is in place.
     */
    static void replaceUpper(Path upper, Path src, boolean move) throws IOException {
        Path next = upper.resolveSibling("upper.next");
        Path old = upper.resolveSibling("upper.old");
        SnapshotStore.deleteTree(next);
        SnapshotStore.deleteTree(old);
        boolean done = false;
        try {
            if (move) {
                Files.move(src, next, StandardCopyOption.ATOMIC_MOVE);
            } else {
                TreeClones.copy(src, next);
            }
            Files.move(upper, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(next, upper, StandardCopyOption.ATOMIC_MOVE);
            done = true;
        } finally {
            if (!done) {
                SnapshotStore.deleteTree(next);
            }
        }
        SnapshotStore.deleteTree(old);
    }

    /**
     * The machine's disk image and disk.json replaced by the snapshot's (src: a directory holding both):
     * unmounted (its loop device gone) first, mounted again after (move: src's files themselves, a copy
     * made for this). Whether it is locked afterwards.
     */
    boolean replaceDisk(ContainerInfo c, Path src, Path keyFile, boolean move) throws IOException, RuntimeError {
        Path dir = dir(c);
        if (Disk.status(dir).mounted()) {
            syncfs(Disk.mountPoint(dir)); // written back now, not by the detached filesystem's shutdown
        }
        Disk.release(dir);
        // the loop device goes with the last reference to the mount, once the filesystem is shut down:
        // a generous wait (its write-back on a loaded host), the machine being stopped
        for (int i = 0; i < 2400 && !Disk.boundLoops(Disk.image(dir)).isEmpty(); i++) {
            sleep(50);
        }
        if (!Disk.boundLoops(Disk.image(dir)).isEmpty()) {
            Disk.mount(dir);
            List<String> loops = Disk.boundLoops(Disk.image(dir));
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "machine " + c.name() + "'s disk is still mounted"
                    + " elsewhere (loop device " + loops + ", in the mount namespace of " + holders(loops)
                    + "): nothing restored");
        }
        Path next = dir.resolve("disk.img.next");
        Files.deleteIfExists(next);
        try {
            if (move) {
                Files.move(src.resolve("disk.img"), next, StandardCopyOption.ATOMIC_MOVE);
            } else {
                copyFile(src.resolve("disk.img"), next);
            }
            Path meta = dir.resolve("disk.json.next");
            Files.copy(src.resolve("disk.json"), meta, StandardCopyOption.REPLACE_EXISTING);
            Files.move(next, Disk.image(dir), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.move(meta, dir.resolve("disk.json"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(next);
            Disk.mount(dir);
        }
        if (Disk.meta(dir).Encrypted() && keyFile != null) {
            Disk.unlock(dir, keyFile, "machine " + c.name());
        }
        return Disk.status(dir).locked();
    }

    /** Up to 5 processes ("pid (comm)") whose mount namespace has one of the loop devices mounted. */
    static String holders(List<String> loops) {
        List<String> out = new ArrayList<>();
        try (var procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                try {
                    String info = Files.readString(p.resolve("mountinfo"));
                    if (loops.stream().anyMatch(l -> info.contains(" /dev/" + l + " "))) {
                        out.add(p.getFileName() + " (" + Files.readString(p.resolve("comm")).strip() + ")");
                    }
                } catch (IOException e) {
                    // gone meanwhile, or not ours to read
                }
                if (out.size() == 5) {
                    break;
                }
            }
        } catch (IOException e) {
            return "?";
        }
        return out.isEmpty() ? "no process found" : String.join(", ", out);
    }

    Path find(ContainerInfo c, String snap) throws IOException, RuntimeError {
        checkName(snap);
        Path p = root(engine, c).resolve(snap);
        if (!Files.exists(p.resolve("snapshot.json"))) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "machine " + c.name() + " has no snapshot " + snap
                    + " (hull machine snapshots " + c.name() + ")");
        }
        return p;
    }

    static void checkName(String snap) throws RuntimeError {
        if (snap == null || !NAME.matcher(snap).matches()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "snapshot name " + snap + ": letters, digits, '_',"
                    + " '.' and '-', starting with a letter or digit, at most 64");
        }
    }

    private static Snapshot read(Path p) throws IOException {
        return JSON.readValue(Files.readAllBytes(p.resolve("snapshot.json")), Snapshot.class);
    }

    /** Half snapshots and removals a killed command left. */
    private static void clearLeftovers(Path root) throws IOException {
        try (var s = Files.newDirectoryStream(root, TMP + "*")) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                long pid = pidOf(n);
                if (pid <= 0 || ProcessHandle.of(pid).isEmpty()) {
                    SnapshotStore.deleteTree(p);
                }
            }
        }
    }

    private static long pidOf(String tmpName) {
        try {
            return Long.parseLong(tmpName.substring(tmpName.lastIndexOf('-') + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** What the snapshot's files hold on the host (du: blocks allocated, shared reflinked blocks counted). */
    static long allocated(Path p) throws IOException {
        long[] sum = {0};
        Files.walkFileTree(p, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a)
                    throws IOException {
                if (a.isRegularFile()) {
                    sum[0] += dev.hull.linux.AtFiles.allocated(f.toString());
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
        return sum[0];
    }

    private Path dir(ContainerInfo c) {
        return engine.containers().dir(c.id());
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
