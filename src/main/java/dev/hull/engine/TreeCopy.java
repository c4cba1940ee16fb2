package dev.hull.engine;

import static dev.hull.linux.AtFiles.*;

import dev.hull.linux.AtFiles;
import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Copies a file tree between directory descriptors, or to and from a tar stream, one entry at a
 * time and without ever following a symlink: the reading side walks with {@code getdents64} and
 * opens each entry relative to its directory's descriptor ({@code openat2} RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS); the writing side makes each entry relative to a base directory
 * descriptor the same way, replacing (never writing through) what is in the way. A tree that
 * changes while it is copied (a running container) can make a copy fail or be inconsistent; it
 * cannot make it read or write outside the trees it was given.
 */
final class TreeCopy {
    static final long BENEATH = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

    private TreeCopy() {}

    /**
     * What is kept of an entry: type and permission bits, owner, size, modification time, device,
     * and (for copies that keep them: {@link ArchiveXattrs}) extended attributes.
     */
    record Meta(int mode, int uid, int gid, long size, long mtimeSec, int mtimeNsec, long rdev,
            Map<String, byte[]> xattrs) {
        Meta(int mode, int uid, int gid, long size, long mtimeSec, int mtimeNsec, long rdev) {
            this(mode, uid, gid, size, mtimeSec, mtimeNsec, rdev, Map.of());
        }

        static Meta of(AtFiles.Stat s) {
            return new Meta(s.mode(), s.uid(), s.gid(), s.size(), s.mtimeSec(), s.mtimeNsec(), s.rdev());
        }

        Meta withXattrs(Map<String, byte[]> x) {
            return new Meta(mode, uid, gid, size, mtimeSec, mtimeNsec, rdev, x);
        }

        int type() {
            return mode & S_IFMT;
        }

        int permissions() {
            return mode & 07777;
        }
    }

    /** A regular file's content: a descriptor (copied in the kernel where it can be) or a stream. */
    interface Content {
        /** Writes all of it to fd; the bytes written. */
        long to(int fd) throws IOException;

        /** Writes exactly size bytes to out (cut, or padded with zeros, if the file changed size meanwhile). */
        void to(OutputStream out, long size) throws IOException;

        /** Writes all of it to fd, sharing blocks (reflink) where it can; whether it did. */
        default boolean cloneTo(int fd) throws IOException {
            to(fd);
            return false;
        }
    }

    static Content ofFd(int fd) {
        return new Content() {
            @Override
            public long to(int out) throws IOException {
                return AtFiles.copy(fd, out);
            }

            @Override
            public boolean cloneTo(int out) throws IOException {
                return dev.hull.linux.FileClone.copy(fd, out) == dev.hull.linux.FileClone.How.REFLINK;
            }

            @Override
            public void to(OutputStream out, long size) throws IOException {
                try (InputStream in = AtFiles.inputStream(fd)) {
                    copyExactly(in, out, size);
                }
            }
        };
    }

    static Content ofStream(InputStream in) {
        return new Content() {
            @Override
            public long to(int fd) throws IOException {
                // blocks of zeros become holes: a sparse file that went through a tar stays sparse
                dev.hull.linux.SparseFdOutput out = new dev.hull.linux.SparseFdOutput(fd);
                in.transferTo(out);
                return out.finish();
            }

            @Override
            public void to(OutputStream out, long size) throws IOException {
                copyExactly(in, out, size);
            }
        };
    }

    static void copyExactly(InputStream in, OutputStream out, long size) throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                break;
            }
            out.write(buf, 0, n);
            left -= n;
        }
        java.util.Arrays.fill(buf, (byte) 0);
        while (left > 0) {
            int n = (int) Math.min(buf.length, left);
            out.write(buf, 0, n);
            left -= n;
        }
    }

    /**
     * Where entries go. Paths are relative to the copy's base, '/'-separated, parents before
     * children; "" is the base itself (a copy of a directory's content into an existing one).
     */
    interface Sink {
        void directory(String path, Meta m) throws IOException;

        /** After the directory's entries: its own mode and times go last. */
        void directoryDone(String path, Meta m) throws IOException;

        void file(String path, Meta m, Content c) throws IOException;

        void symlink(String path, Meta m, String target) throws IOException;

        /** A second name of the file copied earlier as target. */
        void hardlink(String path, String target) throws IOException;

        /** A FIFO or a device. */
        void special(String path, Meta m) throws IOException;

        /** Bytes of file content written so far. */
        long bytes();
    }

    // ------------------------------------------------------------------ reading a tree

    /** Reads the tree below descriptors, entry by entry; hard links within the copy stay links. */
    static final class Walker {
        private final Sink sink;
        private final Map<String, String> links = new HashMap<>(); // dev:ino -> first path
        /** With a device (not -1): directories on other file systems (mount points) are copied empty. */
        private final long device;
        /** Whether files and directories carry their extended attributes. */
        private final boolean xattrs;

        Walker(Sink sink) {
            this(sink, -1);
        }

        Walker(Sink sink, long device) {
            this(sink, device, false);
        }

        Walker(Sink sink, long device, boolean xattrs) {
            this.sink = sink;
            this.device = device;
            this.xattrs = xattrs;
        }

        private Meta meta(int fd, AtFiles.Stat s) throws IOException {
            return xattrs ? Meta.of(s).withXattrs(dev.hull.linux.FdXattrs.read(fd)) : Meta.of(s);
        }

        /** The directory dfd (open for reading) as path, with everything below it. */
        void directory(int dfd, String path, Meta m) throws IOException {
            sink.directory(path, m);
            List<String> names = AtFiles.list(dfd);
            names.sort(null);
            for (String n : names) {
                entry(dfd, n, path.isEmpty() ? n : path + "/" + n);
            }
            sink.directoryDone(path, m);
        }

        /** The entry name of the directory dfd, as path (a symlink is copied as a symlink). */
        void entry(int dfd, String name, String path) throws IOException {
            AtFiles.Stat s = AtFiles.lstatOrNull(dfd, name);
            if (s == null) {
                return; // gone meanwhile
            }
            switch (s.type()) {
                case S_IFDIR -> {
                    if (device != -1 && s.dev() != device) { // a mount point: itself, not what is mounted there
                        sink.directory(path, Meta.of(s));
                        sink.directoryDone(path, Meta.of(s));
                        return;
                    }
                    int fd = AtFiles.openat2(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, BENEATH);
                    try {
                        directory(fd, path, meta(fd, expect(fd, S_IFDIR, path)));
                    } finally {
                        Syscalls.close(fd);
                    }
                }
                case S_IFREG -> {
                    String key = s.dev() + ":" + s.ino();
                    if (s.nlink() > 1 && links.containsKey(key)) {
                        sink.hardlink(path, links.get(key));
                        return;
                    }
                    int fd = openRegular(dfd, name, path);
                    try {
                        file(fd, path, AtFiles.fstat(fd));
                    } finally {
                        Syscalls.close(fd);
                    }
                    if (s.nlink() > 1) {
                        links.put(key, path);
                    }
                }
                case S_IFLNK -> sink.symlink(path, Meta.of(s), AtFiles.readlinkat(dfd, name));
                case S_IFIFO, S_IFCHR, S_IFBLK -> sink.special(path, Meta.of(s));
                default -> { } // sockets: nothing to copy (docker skips them too)
            }
        }

        /** The regular file fd (open for reading) as path. */
        void file(int fd, String path, AtFiles.Stat s) throws IOException {
            sink.file(path, meta(fd, s), ofFd(fd));
        }

        /**
         * The regular file name of dfd, open for reading. Never an open of what took its place since
         * the lstat: a FIFO or a device node that the tree's owner (a container) swaps in is not opened
         * by the host's root at all (opening a device can act: a watchdog arms, a tape rewinds). The
         * name is held with O_PATH, checked to be a regular file, and reopened through
         * /proc/self/fd, which names exactly that inode.
         */
        static int openRegular(int dfd, String name, String path) throws IOException {
            int p = AtFiles.openat2(dfd, name, O_PATH | O_NOFOLLOW, 0, BENEATH);
            try {
                AtFiles.Stat s = expect(p, S_IFREG, path);
                int fd = AtFiles.openat2(AT_FDCWD, "/proc/self/fd/" + p, O_RDONLY | O_NONBLOCK, 0, 0);
                if (!AtFiles.fstat(fd).sameFile(s)) {
                    Syscalls.close(fd);
                    throw new IOException(path + " changed while it was copied");
                }
                return fd;
            } finally {
                Syscalls.close(p);
            }
        }

        private static AtFiles.Stat expect(int fd, int type, String path) throws IOException {
            AtFiles.Stat now = AtFiles.fstat(fd);
            if (now.type() != type) {
                throw new IOException(path + " changed while it was copied");
            }
            return now;
        }
    }

    // ------------------------------------------------------------------ writing a tree

    /**
     * Makes entries below a base directory descriptor. Each entry's parent is looked up from the
     * base with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (an archive cannot lead it through a symlink
     * or out with ..); what stands in an entry's way is removed, not written through. Owner: the
     * given uid/gid, or (null) the source's.
     */
    static final class DirWriter implements Sink, AutoCloseable {
        private final int base;
        private final Integer uid;
        private final Integer gid;
        private final boolean makeParents;
        private final String label;
        /**
         * A whole tree's restore (volume import): entries get the extended attributes they carry (those
         * {@link ArchiveXattrs#restorable}), and the base its own owner, mode and times.
         */
        private final boolean whole;
        /**
         * A copy of one of Hull's own trees (a machine's writable layer for a snapshot or a clone): every
         * extended attribute kept (overlayfs's trusted.* ones too), contents reflinked where the file system can.
         */
        private boolean exact;
        /** In a whole tree's restore, the extended attributes restored (default: {@link ArchiveXattrs#restorable}). */
        private java.util.function.Predicate<String> keep = ArchiveXattrs::restorable;
        private long reflinked;
        private String cachedDir;
        private int cachedFd = -1;
        private long bytes;

        /** label: how messages name the base ("container web:/srv"). makeParents: an archive may omit directories. */
        DirWriter(int base, Integer uid, Integer gid, boolean makeParents, String label) {
            this(base, uid, gid, makeParents, label, false);
        }

        DirWriter(int base, Integer uid, Integer gid, boolean makeParents, String label, boolean whole) {
            this.whole = whole;
            this.base = base;
            this.uid = uid;
            this.gid = gid;
            this.makeParents = makeParents;
            this.label = label;
        }

        /** An exact copy into base (see {@link #exact}). */
        static DirWriter exact(int base, String label) {
            DirWriter w = new DirWriter(base, null, null, false, label, true);
            w.exact = true;
            w.keep = name -> true;
            return w;
        }

        /** A whole tree's restore that keeps the attributes keep accepts. */
        static DirWriter keeping(int base, String label, java.util.function.Predicate<String> keep) {
            DirWriter w = new DirWriter(base, null, null, true, label, true);
            w.keep = keep;
            return w;
        }

        @Override
        public long bytes() {
            return bytes;
        }

        /** Files whose content was reflinked (shares blocks with its source), in an exact copy. */
        long reflinked() {
            return reflinked;
        }

        private String where(String path) {
            return label + (label.endsWith("/") ? "" : "/") + path;
        }

        /** The descriptor of the directory holding path (cached: entries come directory by directory). */
        private int parent(String path) throws IOException {
            int slash = path.lastIndexOf('/');
            String dir = slash < 0 ? "" : path.substring(0, slash);
            if (dir.isEmpty()) {
                return base;
            }
            if (dir.equals(cachedDir)) {
                return cachedFd;
            }
            int fd = openDir(dir);
            dropCache();
            cachedDir = dir;
            cachedFd = fd;
            return fd;
        }

        private void dropCache() {
            if (cachedFd >= 0) {
                Syscalls.close(cachedFd);
            }
            cachedFd = -1;
            cachedDir = null;
        }

        private int openDir(String dir) throws IOException {
            try {
                return AtFiles.openat2(base, dir, O_PATH | O_DIRECTORY, 0, BENEATH);
            } catch (LinuxException e) {
                if (e.errno() == Errno.ELOOP || e.errno() == Errno.EXDEV) {
                    throw new IOException(where(dir) + ": a symlink is on the way; not followed", e);
                }
                if (e.errno() != Errno.ENOENT || !makeParents) {
                    throw new IOException(where(dir) + ": " + Errno.describe(e.errno()), e);
                }
            }
            int cur = AtFiles.openat2(base, ".", O_PATH | O_DIRECTORY, 0, BENEATH);
            try {
                for (String part : dir.split("/")) {
                    if (AtFiles.lstatOrNull(cur, part) == null) {
                        AtFiles.mkdirat(cur, part, 0755);
                    }
                    int next;
                    try {
                        next = AtFiles.openat2(cur, part, O_PATH | O_DIRECTORY, 0, BENEATH);
                    } catch (LinuxException e) {
                        throw new IOException(where(dir) + ": " + (e.errno() == Errno.ELOOP
                                ? "a symlink is on the way; not followed" : Errno.describe(e.errno())), e);
                    }
                    Syscalls.close(cur);
                    cur = next;
                }
                int out = cur;
                cur = -1;
                return out;
            } finally {
                if (cur >= 0) {
                    Syscalls.close(cur);
                }
            }
        }

        /** A failed call, naming the destination path and what went wrong. */
        private IOException failed(String path, LinuxException e) {
            String why = switch (e.errno()) {
                case 30 -> "EROFS (Read-only file system)";
                case 31 -> "EMLINK (Too many links)";
                case 122 -> "EDQUOT (Disk quota exceeded)";
                default -> Errno.describe(e.errno());
            };
            return new IOException(where(path) + ": " + why + " [" + e.call() + "]", e);
        }

        private static String name(String path) {
            return path.substring(path.lastIndexOf('/') + 1);
        }

        /** Removes what is at name unless it is a directory; whether a directory is there. */
        private boolean clear(int dir, String name, String path, boolean forDirectory) throws IOException {
            AtFiles.Stat s = AtFiles.lstatOrNull(dir, name);
            if (s == null) {
                return false;
            }
            if (s.isDirectory()) {
                if (!forDirectory) {
                    throw new IOException("cannot overwrite directory " + where(path) + " with a non-directory");
                }
                return true;
            }
            AtFiles.unlinkat(dir, name, 0);
            return false;
        }

        private int owner(int given, Integer override) {
            return override != null ? override : given;
        }

        @Override
        public void directory(String path, Meta m) throws IOException {
            try {
                doDirectory(path, m);
            } catch (LinuxException e) {
                throw failed(path, e);
            }
        }

        private void doDirectory(String path, Meta m) throws IOException {
            if (path.isEmpty()) {
                return; // the base: content goes into a directory that exists
            }
            int dir = parent(path);
            if (!clear(dir, name(path), path, true)) {
                AtFiles.mkdirat(dir, name(path), 0700);
            }
        }

        @Override
        public void directoryDone(String path, Meta m) throws IOException {
            try {
                doDirectoryDone(path, m);
            } catch (LinuxException e) {
                throw failed(path, e);
            }
        }

        /** Owner, mode and times of what fd is: owner first (a chown clears setuid/setgid, the chmod puts them back). */
        private void setMeta(int fd, Meta m) throws LinuxException {
            AtFiles.fchownat(fd, "", owner(m.uid(), uid), owner(m.gid(), gid), AT_EMPTY_PATH);
            AtFiles.fchmod(fd, m.permissions());
            if (whole) { // after the chown, which clears security.capability
                for (Map.Entry<String, byte[]> a : m.xattrs().entrySet()) {
                    if (keep.test(a.getKey())) {
                        dev.hull.linux.FdXattrs.set(fd, a.getKey(), a.getValue());
                    }
                }
            }
            AtFiles.utimensat(fd, null, m.mtimeSec(), m.mtimeNsec(), 0);
        }

        private void doDirectoryDone(String path, Meta m) throws IOException {
            if (path.isEmpty()) {
                if (whole) {
                    int fd = AtFiles.openat2(base, ".", O_RDONLY | O_DIRECTORY, 0, BENEATH);
                    try {
                        setMeta(fd, m);
                    } finally {
                        Syscalls.close(fd);
                    }
                }
                return;
            }
            int fd = AtFiles.openat2(parent(path), name(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, BENEATH);
            try {
                setMeta(fd, m);
            } finally {
                Syscalls.close(fd);
            }
        }

        @Override
        public void file(String path, Meta m, Content c) throws IOException {
            try {
                doFile(path, m, c);
            } catch (LinuxException e) {
                throw failed(path, e);
            }
        }

        private void doFile(String path, Meta m, Content c) throws IOException {
            int dir = parent(path);
            clear(dir, name(path), path, false);
            int fd = AtFiles.openat2(dir, name(path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600, BENEATH);
            try {
                if (exact) {
                    reflinked += c.cloneTo(fd) ? 1 : 0;
                    bytes += m.size();
                } else {
                    bytes += c.to(fd);
                }
                setMeta(fd, m);
            } finally {
                Syscalls.close(fd);
            }
        }

        @Override
        public void symlink(String path, Meta m, String target) throws IOException {
            try {
                doSymlink(path, m, target);
            } catch (LinuxException e) {
                throw failed(path, e);
            }
        }

        private void doSymlink(String path, Meta m, String target) throws IOException {
            int dir = parent(path);
            clear(dir, name(path), path, false);
            AtFiles.symlinkat(target, dir, name(path));
            AtFiles.fchownat(dir, name(path), owner(m.uid(), uid), owner(m.gid(), gid), AT_SYMLINK_NOFOLLOW);
            AtFiles.utimensat(dir, name(path), m.mtimeSec(), m.mtimeNsec(), AT_SYMLINK_NOFOLLOW);
        }

        @Override
        public void hardlink(String path, String target) throws IOException {
            try {
                doHardlink(path, target);
            } catch (LinuxException e) {
                throw failed(path, e);
            }
        }

        private void doHardlink(String path, String target) throws IOException {
            int dir = parent(path);
            clear(dir, name(path), path, false);
            int slash = target.lastIndexOf('/');
            int targetDir = slash < 0 ? base : openDir(target.substring(0, slash));
            try {
                AtFiles.linkat(targetDir, name(target), dir, name(path));
            } finally {
                if (targetDir != base) {
                    Syscalls.close(targetDir);
                }
            }
        }

        @Override
        public void special(String path, Meta m) throws IOException {
            try {
                doSpecial(path, m);
            } catch (LinuxException e) {
                throw failed(path, e);
            }
        }

        private void doSpecial(String path, Meta m) throws IOException {
            int dir = parent(path);
            clear(dir, name(path), path, false);
            AtFiles.mknodat(dir, name(path), m.type() | 0600, m.rdev());
            AtFiles.fchownat(dir, name(path), owner(m.uid(), uid), owner(m.gid(), gid), AT_SYMLINK_NOFOLLOW);
            AtFiles.lchmodat(dir, name(path), m.permissions());
            AtFiles.utimensat(dir, name(path), m.mtimeSec(), m.mtimeNsec(), AT_SYMLINK_NOFOLLOW);
        }

        @Override
        public void close() {
            dropCache();
        }
    }

    // ------------------------------------------------------------------ tar streams

    /** Writes entries as a tar stream (POSIX/PAX: long names, big files, owners, devices). */
    static final class TarSink implements Sink {
        private final TarArchiveOutputStream tar;
        /** A whole tree's archive (volume export): the base itself is the entry "./". */
        private final boolean whole;
        private long bytes;

        TarSink(OutputStream out) {
            this(out, false);
        }

        TarSink(OutputStream out, boolean whole) {
            this.whole = whole;
            this.tar = new TarArchiveOutputStream(out);
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            tar.setAddPaxHeadersForNonAsciiNames(true);
        }

        private static TarArchiveEntry entry(String name, byte type, Meta m) {
            TarArchiveEntry e = new TarArchiveEntry(name, type);
            if (m != null) {
                e.setMode(m.mode());
                e.setIds(m.uid(), m.gid());
                e.setLastModifiedTime(java.nio.file.attribute.FileTime.from(
                        java.time.Instant.ofEpochSecond(m.mtimeSec(), m.mtimeNsec())));
                ArchiveXattrs.write(e, m.xattrs());
            }
            return e;
        }

        @Override
        public void directory(String path, Meta m) throws IOException {
            if (!path.isEmpty() || whole) {
                tar.putArchiveEntry(entry(path.isEmpty() ? "./" : path + "/", TarConstants.LF_DIR, m));
                tar.closeArchiveEntry();
            }
        }

        @Override
        public void directoryDone(String path, Meta m) {}

        @Override
        public void file(String path, Meta m, Content c) throws IOException {
            TarArchiveEntry e = entry(path, TarConstants.LF_NORMAL, m);
            e.setSize(m.size());
            tar.putArchiveEntry(e);
            c.to(tar, m.size());
            tar.closeArchiveEntry();
            bytes += m.size();
        }

        @Override
        public void symlink(String path, Meta m, String target) throws IOException {
            TarArchiveEntry e = entry(path, TarConstants.LF_SYMLINK, m);
            e.setLinkName(target);
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
        }

        @Override
        public void hardlink(String path, String target) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(path, TarConstants.LF_LINK);
            e.setLinkName(target);
            // the file's time is its first name's; not the time of the export (the same tree, the same archive)
            e.setLastModifiedTime(java.nio.file.attribute.FileTime.fromMillis(0));
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
        }

        @Override
        public void special(String path, Meta m) throws IOException {
            byte type = switch (m.type()) {
                case S_IFIFO -> TarConstants.LF_FIFO;
                case S_IFCHR -> TarConstants.LF_CHR;
                default -> TarConstants.LF_BLK;
            };
            TarArchiveEntry e = entry(path, type, m);
            if (type != TarConstants.LF_FIFO) {
                long dev = m.rdev();
                e.setDevMajor((int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL)));
                e.setDevMinor((int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL)));
            }
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
        }

        @Override
        public long bytes() {
            return bytes;
        }

        /** A regular file entry (0644, root's) holding data: what an archive says about itself. */
        void raw(String name, byte[] data) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
            e.setMode(0100644);
            e.setSize(data.length);
            tar.putArchiveEntry(e);
            tar.write(data);
            tar.closeArchiveEntry();
        }

        /** Ends the archive (the stream stays open). */
        void finish() throws IOException {
            tar.finish();
            tar.flush();
        }
    }

    /** Feeds a tar stream's entries to sink (see {@link TarReading#readTar}). */
    static void readTar(InputStream in, Sink sink) throws IOException {
        TarReading.readTar(in, sink, null);
    }

    /** An archive name made relative: no leading "/" or "./", no "." parts; ".." is refused. */
    static String clean(String name) throws IOException {
        List<String> parts = new ArrayList<>();
        for (String p : name.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                throw new IOException("archive entry " + name + ": a name with .. is not allowed");
            }
            parts.add(p);
        }
        return String.join("/", parts);
    }
}
