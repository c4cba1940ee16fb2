package dev.hull.engine;

import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Subordinate id ranges for {@code --userns=auto} (podman's): each such container gets a range of host
 * uids and gids of its own, carved from the {@code hull} entries of /etc/subuid and /etc/subgid (made
 * when missing: {@value #DEFAULT_START}, {@value #DEFAULT_COUNT} ids). A range is leased host-wide, in
 * {@link #LEASES} (a file per range naming the container directory that holds it), so containers of
 * two Hull stores on one host never share ids either; the lease is given back on rm, and a lease whose
 * container directory is gone (a store deleted by hand) is taken back at the next allocation.
 */
final class SubIds {
    static final String USER = "hull";
    static final long DEFAULT_START = 1L << 30, DEFAULT_COUNT = 1L << 30;
    static final long DEFAULT_SIZE = 65536;
    static final Path LEASES = Path.of("/var/lib/hull-subids");
    /**
     * The lease file's lock is per process: two threads of one JVM (the service removing two containers at
     * once) taking it would get OverlappingFileLockException, so they take this first.
     */
    private static final java.util.concurrent.locks.ReentrantLock JVM_LOCK = new java.util.concurrent.locks.ReentrantLock();
    static final Path SUBUID = Path.of("/etc/subuid"), SUBGID = Path.of("/etc/subgid");
    /** In the container directory: "uidStart gidStart size leaseOffset", the container's range. */
    static final String RANGE_FILE = "userns-range";

    /** A container's range: its ids 0..size-1 are host uids uid.. and gids gid.. . */
    record Range(long uid, long gid, long size) {}

    private SubIds() {}

    /** Parses --userns: null for the host's, else the size asked by auto[:size=N]. */
    static Long autoSize(String userns) throws RuntimeError {
        if (userns == null || userns.isEmpty() || userns.equals("host")) {
            return null;
        }
        if (userns.equals("auto")) {
            return DEFAULT_SIZE;
        }
        if (userns.startsWith("auto:size=")) {
            try {
                long n = Long.parseLong(userns.substring("auto:size=".length()));
                if (n >= 1 && n <= 1L << 24) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // the message below
            }
        }
        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--userns " + userns + ": use host (the default) or"
                + " auto[:size=N] (a user namespace of its own, N ids from 1 to 16777216, 65536 by default)");
    }

    /** Leases a free range of size ids for the container directory owner. */
    static Range allocate(Path owner, long size) throws IOException, RuntimeError {
        Files.createDirectories(LEASES);
        JVM_LOCK.lock();
        try (FileChannel ch = FileChannel.open(LEASES.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock l = ch.lock()) {
            long[] uids = pool(SUBUID), gids = pool(SUBGID);
            long count = Math.min(uids[1], gids[1]);
            List<long[]> taken = new ArrayList<>(); // offset, size
            try (var files = Files.list(LEASES)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String name = f.getFileName().toString();
                    if (name.startsWith(".")) {
                        continue;
                    }
                    List<String> lines = Files.readAllLines(f);
                    if (lines.size() < 2 || !Files.isDirectory(Path.of(lines.get(0)))) {
                        Files.deleteIfExists(f); // its container is gone
                        continue;
                    }
                    taken.add(new long[] {Long.parseLong(name), Long.parseLong(lines.get(1).strip())});
                }
            }
            taken.sort((a, b) -> Long.compare(a[0], b[0]));
            long off = 0;
            for (long[] t : taken) {
                if (t[0] >= off + size) {
                    break;
                }
                off = Math.max(off, t[0] + t[1]);
            }
            if (off + size > count) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "--userns=auto: no free range of " + size
                        + " ids left in the " + USER + " entries of " + SUBUID + " and " + SUBGID + " (" + count
                        + " ids, " + taken.size() + " containers hold ranges): remove containers or widen the entries");
            }
            Range r = new Range(uids[0] + off, gids[0] + off, size);
            Path tmp = LEASES.resolve(".tmp-" + off);
            Files.writeString(tmp, owner.toAbsolutePath() + "\n" + size + "\n");
            Files.move(tmp, LEASES.resolve(Long.toString(off)), StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(owner.resolve(RANGE_FILE), r.uid() + " " + r.gid() + " " + r.size() + " " + off + "\n");
            return r;
        } finally {
            JVM_LOCK.unlock();
        }
    }

    /** The range recorded for a container directory, or null. */
    static Range of(Path dir) throws IOException {
        try {
            String[] p = Files.readString(dir.resolve(RANGE_FILE)).strip().split(" ");
            return new Range(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2]));
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Gives back the range of a container directory (rm): its lease is removed if it still names dir. */
    static void release(Path dir) throws IOException {
        String[] recorded;
        try {
            recorded = Files.readString(dir.resolve(RANGE_FILE)).strip().split(" ");
        } catch (NoSuchFileException e) {
            return;
        }
        JVM_LOCK.lock();
        try (FileChannel ch = FileChannel.open(LEASES.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock l = ch.lock()) {
            Path lease = LEASES.resolve(Long.toString(Long.parseLong(recorded[3])));
            try {
                if (Files.readAllLines(lease).get(0).equals(dir.toAbsolutePath().toString())) {
                    Files.delete(lease);
                }
            } catch (NoSuchFileException e) {
                // already given back
            }
        } finally {
            JVM_LOCK.unlock();
        }
    }

    /** The start and count of the hull entry of a subordinate id file; the entry is added when missing. */
    static long[] pool(Path file) throws IOException, RuntimeError {
        List<String> lines = Files.exists(file) ? Files.readAllLines(file) : List.of();
        long end = 0;
        for (String line : lines) {
            String[] p = line.strip().split(":");
            if (p.length != 3) {
                continue;
            }
            try {
                long start = Long.parseLong(p[1]), count = Long.parseLong(p[2]);
                if (p[0].equals(USER)) {
                    return new long[] {start, count};
                }
                end = Math.max(end, start + count);
            } catch (NumberFormatException e) {
                // not an entry
            }
        }
        if (end > DEFAULT_START) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "--userns=auto: " + file + " has no \"" + USER
                    + "\" entry, and its entries reach past " + DEFAULT_START + " where Hull would put one: add a line "
                    + USER + ":START:COUNT of ids no other entry uses");
        }
        String entry = USER + ":" + DEFAULT_START + ":" + DEFAULT_COUNT + "\n";
        String old = Files.exists(file) ? Files.readString(file) : "";
        Files.writeString(file, (old.isEmpty() || old.endsWith("\n") ? "" : "\n") + entry, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return new long[] {DEFAULT_START, DEFAULT_COUNT};
    }
}
