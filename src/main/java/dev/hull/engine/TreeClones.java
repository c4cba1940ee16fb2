package dev.hull.engine;

import static dev.hull.linux.AtFiles.*;

import dev.hull.linux.AtFiles;
import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Exact copies of Hull's own trees (a machine's writable layer, for its snapshots and clones) with
 * {@link TreeCopy}: owners, modes, times, every extended attribute (ACLs, file capabilities,
 * overlayfs's trusted.overlay.* — opaque directories, redirects), device nodes and whiteouts, FIFOs,
 * symlinks and hard links; each file's content reflinked where the file system shares blocks (XFS,
 * btrfs), else copied sparse. The walk never follows a symlink the tree holds.
 */
public final class TreeClones {
    private TreeClones() {}

    /** What a copy did: files and their bytes, and how many of them were reflinked. */
    public record Copied(long bytes, long reflinked) {}

    /** Copies the directory src's content into dst (made, 0700 until it gets src's own mode). */
    public static Copied copy(Path src, Path dst) throws IOException {
        int in = AtFiles.openat2(AT_FDCWD, src.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 0);
        try {
            AtFiles.mkdirat(AT_FDCWD, dst.toString(), 0700);
            int out = AtFiles.openat2(AT_FDCWD, dst.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 0);
            try (TreeCopy.DirWriter w = TreeCopy.DirWriter.exact(out, dst.toString())) {
                AtFiles.Stat st = AtFiles.fstat(in);
                new TreeCopy.Walker(w, st.dev(), true).directory(in, "",
                        TreeCopy.Meta.of(st).withXattrs(dev.hull.linux.FdXattrs.read(in)));
                dev.hull.linux.FileClone.syncfs(out);
                return new Copied(w.bytes(), w.reflinked());
            } finally {
                Syscalls.close(out);
            }
        } finally {
            Syscalls.close(in);
        }
    }

    /**
     * Removes the file (not a directory) at path below root, never through a symlink on the way (the
     * tree is a machine's: it could have put one there); false if there was none.
     */
    public static boolean removeBeneath(Path root, String path) throws IOException {
        int slash = path.lastIndexOf('/');
        int dir;
        try {
            dir = AtFiles.openat2(AT_FDCWD, root.toString(), O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, 0);
            if (slash > 0) {
                int sub = AtFiles.openat2(dir, path.substring(0, slash), O_PATH | O_DIRECTORY, 0, TreeCopy.BENEATH);
                Syscalls.close(dir);
                dir = sub;
            }
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ELOOP || e.errno() == Errno.EXDEV
                    || e.errno() == Errno.ENOTDIR) {
                return false; // no such directory in the tree (or a symlink in its place: not the file meant)
            }
            throw e;
        }
        try {
            String name = path.substring(slash + 1);
            AtFiles.Stat s = AtFiles.lstatOrNull(dir, name);
            if (s == null || s.isDirectory()) {
                return false;
            }
            AtFiles.unlinkat(dir, name, 0);
            return true;
        } finally {
            Syscalls.close(dir);
        }
    }

    /** The names in the directory at path below root (none if it is not there), never through a symlink. */
    public static java.util.List<String> listBeneath(Path root, String path) throws IOException {
        int dir;
        try {
            int r = AtFiles.openat2(AT_FDCWD, root.toString(), O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, 0);
            try {
                dir = AtFiles.openat2(r, path, O_RDONLY | O_DIRECTORY, 0, TreeCopy.BENEATH);
            } finally {
                Syscalls.close(r);
            }
        } catch (LinuxException e) {
            return java.util.List.of();
        }
        try {
            return AtFiles.list(dir);
        } finally {
            Syscalls.close(dir);
        }
    }

    /** Where an archive's tree goes, known once its config entry (the first) has been read. */
    @FunctionalInterface
    public interface Target {
        Destination directory(byte[] config) throws IOException, dev.hull.runtime.RuntimeError;
    }

    /** An empty directory (or one a resumed import had begun to fill), and the ids its owners go to. */
    public record Destination(Path dir, IdShift.Ids ids) {}

    /**
     * A machine archive, streamed to out: a config entry (name, its bytes) first, then the tree at dir
     * (an upper layer: whiteouts, every extended attribute) with its entries below prefix/.
     */
    public static long exportArchive(String name, byte[] config, Path dir, String prefix, java.io.OutputStream out)
            throws IOException {
        return exportArchive(name, config, dir, prefix, out, IdShift.HOST);
    }

    /**
     * As {@link #exportArchive(String, byte[], Path, String, java.io.OutputStream)}, the owners as the container
     * whose ids are ids sees them (its range's first id written as 0): an import maps them into its own range.
     */
    public static long exportArchive(String name, byte[] config, Path dir, String prefix, java.io.OutputStream out,
            IdShift.Ids ids) throws IOException {
        int fd = AtFiles.openat2(AT_FDCWD, dir.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 0);
        try {
            TreeCopy.TarSink tar = new TreeCopy.TarSink(out, true);
            tar.raw(name, config);
            AtFiles.Stat st = AtFiles.fstat(fd);
            TreeCopy.Sink sink = ids.equals(IdShift.HOST) ? new Prefixed(tar, prefix)
                    : new Shifted(new Prefixed(tar, prefix), ids, IdShift.HOST);
            new TreeCopy.Walker(sink, st.dev(), true).directory(fd, "",
                    TreeCopy.Meta.of(st).withXattrs(dev.hull.linux.FdXattrs.read(fd)));
            tar.finish();
            return tar.bytes();
        } finally {
            Syscalls.close(fd);
        }
    }

    /**
     * Reads an archive {@link #exportArchive} wrote (plain, gzip or zstd): the config entry name first,
     * handed to target, which says where the tree below prefix/ goes (an empty directory). The tree is
     * written beneath it only (no .., never through a symlink); restored attributes: those a volume
     * import restores, and overlayfs's opaque-directory mark (trusted.overlay.opaque), nothing else of
     * trusted.*. Owners (and the ids in ACLs and file capabilities), as the container saw them, go to the
     * destination's ids. With journal: resumable (see {@link ImportJournal}). Returns the bytes of file content.
     */
    public static long importArchive(java.io.InputStream in, String name, String prefix, Target target,
            ImportJournal journal) throws IOException, dev.hull.runtime.RuntimeError {
        Unprefixed sink = new Unprefixed(name, prefix, target);
        try {
            TarReading.readTar(dev.hull.image.unpack.Compression.decompressAny(in), sink, journal);
        } catch (Wrapped w) {
            throw w.error;
        } finally {
            sink.close();
        }
        if (sink.writer == null) {
            throw new IOException("not a machine archive: no " + name + " entry first");
        }
        return sink.writer.bytes();
    }

    /** A RuntimeError from the target, through the Sink's IOException-only methods. */
    private static final class Wrapped extends IOException {
        final dev.hull.runtime.RuntimeError error;

        Wrapped(dev.hull.runtime.RuntimeError e) {
            super(e.getMessage(), e);
            this.error = e;
        }
    }

    /**
     * Entries with their ids moved from one range to the other (ids outside from kept): owners, the users and
     * groups POSIX ACLs name, and a file capability's root (for to's root: v2 for the host's ids). An export
     * writes them as the container sees them (from its range to {@link IdShift#HOST}), an import puts them in
     * its machine's range.
     */
    record Shifted(TreeCopy.Sink sink, IdShift.Ids from, IdShift.Ids to) implements TreeCopy.Sink {
        private TreeCopy.Meta in(TreeCopy.Meta m) {
            java.util.Map<String, byte[]> x = m.xattrs();
            if (!x.isEmpty()) {
                x = new java.util.LinkedHashMap<>(x);
                for (String acl : IdShift.ACLS) {
                    x.computeIfPresent(acl, (k, v) -> IdShift.aclFor(v, from, to));
                }
                x.computeIfPresent(IdShift.CAPABILITY, (k, v) -> m.type() == S_IFREG && v.length >= 20
                        ? IdShift.capFor(v, to) : v);
            }
            return new TreeCopy.Meta(m.mode(), (int) IdShift.uidIn(from, to, m.uid() & 0xffffffffL),
                    (int) IdShift.gidIn(from, to, m.gid() & 0xffffffffL), m.size(), m.mtimeSec(),
                    m.mtimeNsec(), m.rdev(), x);
        }

        @Override
        public void directory(String path, TreeCopy.Meta m) throws IOException {
            sink.directory(path, in(m));
        }

        @Override
        public void directoryDone(String path, TreeCopy.Meta m) throws IOException {
            sink.directoryDone(path, in(m));
        }

        @Override
        public void file(String path, TreeCopy.Meta m, TreeCopy.Content c) throws IOException {
            sink.file(path, in(m), c);
        }

        @Override
        public void symlink(String path, TreeCopy.Meta m, String target) throws IOException {
            sink.symlink(path, in(m), target);
        }

        @Override
        public void hardlink(String path, String target) throws IOException {
            sink.hardlink(path, target);
        }

        @Override
        public void special(String path, TreeCopy.Meta m) throws IOException {
            sink.special(path, in(m));
        }

        @Override
        public long bytes() {
            return sink.bytes();
        }
    }

    /** Entries of a tree written below prefix/ (the tree's root is prefix/ itself). */
    private record Prefixed(TreeCopy.Sink sink, String prefix) implements TreeCopy.Sink {
        private String at(String path) {
            return path.isEmpty() ? prefix : prefix + "/" + path;
        }

        @Override
        public void directory(String path, TreeCopy.Meta m) throws IOException {
            sink.directory(at(path), m);
        }

        @Override
        public void directoryDone(String path, TreeCopy.Meta m) throws IOException {
            sink.directoryDone(at(path), m);
        }

        @Override
        public void file(String path, TreeCopy.Meta m, TreeCopy.Content c) throws IOException {
            sink.file(at(path), m, c);
        }

        @Override
        public void symlink(String path, TreeCopy.Meta m, String target) throws IOException {
            sink.symlink(at(path), m, target);
        }

        @Override
        public void hardlink(String path, String target) throws IOException {
            sink.hardlink(at(path), at(target));
        }

        @Override
        public void special(String path, TreeCopy.Meta m) throws IOException {
            sink.special(at(path), m);
        }

        @Override
        public long bytes() {
            return sink.bytes();
        }
    }

    /** The reading side: the config entry to the target, then prefix/'s entries to a writer beneath its directory. */
    private static final class Unprefixed implements TreeCopy.Sink {
        private final String name;
        private final String prefix;
        private final Target target;
        TreeCopy.DirWriter writer;
        private TreeCopy.Sink shifted;
        private int fd = -1;

        Unprefixed(String name, String prefix, Target target) {
            this.name = name;
            this.prefix = prefix;
            this.target = target;
        }

        /** The path below prefix/ ("" for prefix/ itself); anything else in the archive is refused. */
        private String strip(String path) throws IOException {
            if (writer == null) {
                throw new IOException("not a machine archive: " + path + " comes before " + name);
            }
            if (path.equals(prefix)) {
                return "";
            }
            if (path.startsWith(prefix + "/")) {
                return path.substring(prefix.length() + 1);
            }
            throw new IOException("machine archive entry " + path + ": not below " + prefix + "/");
        }

        @Override
        public void directory(String path, TreeCopy.Meta m) throws IOException {
            writer().directory(strip(path), m);
        }

        @Override
        public void directoryDone(String path, TreeCopy.Meta m) throws IOException {
            writer().directoryDone(strip(path), m);
        }

        @Override
        public void file(String path, TreeCopy.Meta m, TreeCopy.Content c) throws IOException {
            if (writer == null && path.equals(name)) {
                java.io.ByteArrayOutputStream config = new java.io.ByteArrayOutputStream();
                c.to(config, Math.min(m.size(), 1 << 20));
                Destination to;
                try {
                    to = target.directory(config.toByteArray());
                    fd = AtFiles.openat2(AT_FDCWD, to.dir().toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 0);
                } catch (dev.hull.runtime.RuntimeError e) {
                    throw new Wrapped(e);
                }
                writer = TreeCopy.DirWriter.keeping(fd, "machine archive:",
                        x -> ArchiveXattrs.restorable(x) || x.equals("trusted.overlay.opaque"));
                // written in place with the destination's ids: no second pass, so a resumed import is exact too
                shifted = to.ids().equals(IdShift.HOST) ? writer : new Shifted(writer, IdShift.HOST, to.ids());
                return;
            }
            writer().file(strip(path), m, c);
        }

        @Override
        public void symlink(String path, TreeCopy.Meta m, String target) throws IOException {
            writer().symlink(strip(path), m, target);
        }

        @Override
        public void hardlink(String path, String target) throws IOException {
            writer().hardlink(strip(path), strip(target));
        }

        @Override
        public void special(String path, TreeCopy.Meta m) throws IOException {
            writer().special(strip(path), m);
        }

        private TreeCopy.Sink writer() throws IOException {
            if (writer == null) {
                throw new IOException("not a machine archive: its first entry is not " + name);
            }
            return shifted;
        }

        @Override
        public long bytes() {
            return writer == null ? 0 : writer.bytes();
        }

        void close() {
            if (writer != null) {
                writer.close();
            }
            if (fd >= 0) {
                Syscalls.close(fd);
            }
        }
    }
}
