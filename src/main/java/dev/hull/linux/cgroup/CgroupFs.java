package dev.hull.linux.cgroup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Small helpers over cgroupfs shared by the v1 and v2 managers. Package-private. */
final class CgroupFs {

    /** How long destroy() waits for a cgroup to become empty, and for rmdir to succeed. */
    static final long DESTROY_TIMEOUT_NANOS = 10_000_000_000L;

    private CgroupFs() {}

    /** Writes a value to a cgroup control file with a single write(2), without O_CREAT/O_TRUNC. */
    static void write(Path file, String value) throws IOException {
        try (var ch = Files.newByteChannel(file, StandardOpenOption.WRITE)) {
            var buf = java.nio.ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8));
            ch.write(buf);
        } catch (FileSystemException e) {
            throw e;
        } catch (IOException e) {
            // Kernel errors (EBUSY, EINVAL, ...) surface as plain IOExceptions; name the file and value.
            throw new IOException("writing '" + value.strip() + "' to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a control file, trimmed; null if it does not exist. */
    static String readOrNull(Path file) throws IOException {
        try {
            return Files.readString(file).strip();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The pids listed in dir/cgroup.procs (not recursive); empty if dir vanished. */
    static List<Integer> procs(Path dir) throws IOException {
        String text = readOrNull(dir.resolve("cgroup.procs"));
        if (text == null || text.isEmpty()) {
            return List.of();
        }
        List<Integer> out = new ArrayList<>();
        for (String l : text.split("\n")) {
            if (!l.isBlank()) {
                out.add(Integer.parseInt(l.strip()));
            }
        }
        return out;
    }

    /** The pids in dir and every cgroup below it; empty if dir does not exist. */
    static List<Integer> procsRecursive(Path dir) throws IOException {
        Set<Integer> out = new LinkedHashSet<>();
        for (Path d : subtree(dir)) {
            out.addAll(procs(d));
        }
        return List.copyOf(out);
    }

    /**
     * dir and all directories below it, parents before children; empty if dir does not exist. A
     * directory whose link count is 2 has no subdirectory (cgroupfs, kernfs, counts 2 + its child
     * cgroups, as ext4 does) and is not listed: listing one costs a stat of each of its ~20-40
     * control files (a DirectoryStream has no d_type), ~700 stats per v1 delete (10 hierarchies,
     * walked to kill and again to remove).
     */
    static List<Path> subtree(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        out.add(dir);
        for (int i = 0; i < out.size(); i++) {
            if (linkCount(out.get(i)) == 2) {
                continue;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(out.get(i), Files::isDirectory)) {
                for (Path p : ds) {
                    if (!Files.isSymbolicLink(p)) {
                        out.add(p);
                    }
                }
            } catch (NoSuchFileException e) {
                // removed concurrently
            }
        }
        return out;
    }

    /** A directory's link count; 0 when it is gone, -1 where the file system does not tell. */
    static int linkCount(Path dir) throws IOException {
        try {
            return (Integer) Files.getAttribute(dir, "unix:nlink", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    /** SIGKILLs the given pids (races with exiting processes are harmless). */
    static void kill(Collection<Integer> pids) throws IOException {
        long self = ProcessHandle.current().pid();
        for (int pid : pids) {
            if (pid == self) {
                throw new IOException("refusing to kill the calling process (pid " + pid + ") which is inside the cgroup");
            }
        }
        for (int pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * Removes dir and every cgroup below it, deepest first. Retries EBUSY (a cgroup whose last tasks are still
     * exiting) until the deadline. A missing directory is not an error.
     */
    static void removeTree(Path dir, long deadlineNanos) throws IOException {
        List<Path> dirs = subtree(dir);
        dirs.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path d : dirs) {
            while (true) {
                try {
                    Files.delete(d);
                    break;
                } catch (NoSuchFileException e) {
                    break;
                } catch (IOException e) {
                    if (System.nanoTime() - deadlineNanos > 0) {
                        throw new IOException("cannot remove cgroup " + d + ": " + e.getMessage()
                                + " (pids: " + procsRecursive(d) + ")", e);
                    }
                    sleep(10);
                }
            }
        }
    }

    static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while tearing down a cgroup");
        }
    }

    /** The directories from root (exclusive) down to root/relative (inclusive). */
    static List<Path> chain(Path root, String absoluteCgroupPath) {
        List<Path> out = new ArrayList<>();
        Path p = root;
        for (String c : CgroupManagers.components(absoluteCgroupPath)) {
            p = p.resolve(c);
            out.add(p);
        }
        return out;
    }

    /** mkdir on each of chain in order; returns those created by this call. */
    static List<Path> mkdirs(List<Path> chain) throws IOException {
        List<Path> created = new ArrayList<>();
        for (Path p : chain) {
            try {
                Files.createDirectory(p);
                created.add(p);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (!Files.isDirectory(p)) {
                    throw e;
                }
            }
        }
        return created;
    }

    /** Best-effort removal of directories created by a failed create(), deepest first. */
    static void rollback(List<Path> created) {
        for (Path p : created.reversed()) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
