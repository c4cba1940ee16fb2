package dev.hull.build;

import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.MediaTypes;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * A layer as a tree of entries, written as a deterministic tar: a directory before its children,
 * then its opaque marker ({@code .wh..wh..opq}), then the children in name order; no user or group
 * names, no access or change times; mtimes clamped to SOURCE_DATE_EPOCH when it is set; a file
 * seen twice (same inode) becomes a hard link to its first path. Deletions are {@code .wh.NAME}
 * whiteouts. The same tree gives the same bytes, so the same digest.
 */
final class LayerTar {
    enum Type { DIR, FILE, SYMLINK, WHITEOUT, CHAR, BLOCK, FIFO }

    static final class Entry {
        final Type type;
        int mode;
        long uid;
        long gid;
        long mtime;
        /** A regular file's content. */
        Path content;
        long size;
        String link;
        boolean opaque;
        /** For hard links: the file's identity (dev:ino), or null. */
        String inode;
        long rdev;
        final TreeMap<String, Entry> children = new TreeMap<>();

        Entry(Type type, int mode, long uid, long gid, long mtime) {
            this.type = type;
            this.mode = mode;
            this.uid = uid;
            this.gid = gid;
            this.mtime = mtime;
        }
    }

    /** Metadata of a directory made implicitly as some entry's parent. */
    @FunctionalInterface
    interface ParentMeta {
        Entry of(String path) throws IOException;
    }

    private final Entry root = new Entry(Type.DIR, 0755, 0, 0, 0);
    private final ParentMeta parents;
    private int count;

    LayerTar(ParentMeta parents) {
        this.parents = parents;
    }

    int size() {
        return count;
    }

    /** The entry at path ("a/b"), or null. */
    Entry get(String path) {
        Entry e = root;
        for (String part : path.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            e = e.children.get(part);
            if (e == null) {
                return null;
            }
        }
        return e;
    }

    /**
     * Puts e at path (relative, '/'-separated), replacing what was there (a directory over a
     * directory keeps the children). Missing parents are made with {@link ParentMeta}.
     */
    void put(String path, Entry e) throws IOException {
        String[] parts = DockerIgnore.clean(path).split("/");
        if (parts.length == 1 && parts[0].isEmpty()) {
            // the root itself: only its metadata matters (a layer has no entry for it)
            return;
        }
        Entry dir = root;
        StringBuilder sofar = new StringBuilder();
        for (int i = 0; i < parts.length - 1; i++) {
            sofar.append(i == 0 ? "" : "/").append(parts[i]);
            Entry next = dir.children.get(parts[i]);
            if (next == null || next.type != Type.DIR) {
                next = parents.of(sofar.toString());
                dir.children.put(parts[i], next);
                count++;
            }
            dir = next;
        }
        Entry old = dir.children.put(parts[parts.length - 1], e);
        if (old != null && old.type == Type.DIR && e.type == Type.DIR) {
            e.children.putAll(old.children);
        } else {
            count++;
        }
    }

    /** Writes the tar, mtimes clamped to epoch (seconds) when not null. */
    void write(OutputStream out, Long epoch) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        writeChildren(tar, "", root, epoch, new HashMap<>());
        tar.finish();
    }

    private void writeChildren(TarArchiveOutputStream tar, String prefix, Entry dir, Long epoch,
            Map<String, String> links) throws IOException {
        if (dir.opaque) {
            TarArchiveEntry t = new TarArchiveEntry(prefix + ".wh..wh..opq", TarConstants.LF_NORMAL);
            t.setMode(0100000);
            t.setModTime(FileTime.fromMillis(0));
            put(tar, t, null);
        }
        for (var c : dir.children.entrySet()) {
            String name = prefix + c.getKey();
            Entry e = c.getValue();
            long mtime = epoch != null && e.mtime > epoch ? epoch : e.mtime;
            TarArchiveEntry t;
            switch (e.type) {
                case DIR -> t = new TarArchiveEntry(name + "/", TarConstants.LF_DIR);
                case FILE -> {
                    String first = e.inode == null ? null : links.putIfAbsent(e.inode, name);
                    if (first != null) {
                        t = new TarArchiveEntry(name, TarConstants.LF_LINK);
                        t.setLinkName(first);
                    } else {
                        t = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
                        t.setSize(e.size);
                    }
                }
                case SYMLINK -> {
                    t = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
                    t.setLinkName(e.link);
                }
                case WHITEOUT -> {
                    int slash = name.lastIndexOf('/');
                    t = new TarArchiveEntry(name.substring(0, slash + 1) + ".wh." + name.substring(slash + 1),
                            TarConstants.LF_NORMAL);
                    t.setMode(0100000);
                    t.setModTime(FileTime.fromMillis(0));
                    put(tar, t, null);
                    continue;
                }
                case CHAR, BLOCK, FIFO -> {
                    t = new TarArchiveEntry(name, e.type == Type.CHAR ? TarConstants.LF_CHR
                            : e.type == Type.BLOCK ? TarConstants.LF_BLK : TarConstants.LF_FIFO);
                    t.setDevMajor((int) ((e.rdev >>> 8) & 0xfff | (e.rdev >>> 32) & ~0xfffL));
                    t.setDevMinor((int) (e.rdev & 0xff | (e.rdev >>> 12) & ~0xffL));
                }
                default -> throw new IllegalStateException();
            }
            int typeBits = switch (e.type) {
                case DIR -> 0040000;
                case SYMLINK -> 0120000;
                case CHAR -> 0020000;
                case BLOCK -> 0060000;
                case FIFO -> 0010000;
                default -> 0100000;
            };
            t.setMode(typeBits | (e.mode & 07777));
            t.setUserId(e.uid);
            t.setGroupId(e.gid);
            t.setUserName("");
            t.setGroupName("");
            t.setModTime(FileTime.fromMillis(mtime * 1000));
            put(tar, t, e.type == Type.FILE && !t.isLink() ? e : null);
            if (e.type == Type.DIR) {
                writeChildren(tar, name + "/", e, epoch, links);
            }
        }
    }

    private static void put(TarArchiveOutputStream tar, TarArchiveEntry t, Entry content) throws IOException {
        tar.putArchiveEntry(t);
        if (content != null && content.size > 0) {
            try (InputStream in = Files.newInputStream(content.content, LinkOption.NOFOLLOW_LINKS)) {
                long copied = in.transferTo(tar);
                if (copied != content.size) {
                    throw new IOException(content.content + " changed size while it was being read");
                }
            }
        }
        tar.closeArchiveEntry();
    }

    /** An entry for an existing file (not followed), with its own metadata. */
    static Entry of(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime,size,ino,dev,nlink,rdev",
                LinkOption.NOFOLLOW_LINKS);
        int mode = (int) a.get("mode");
        long mtime = ((FileTime) a.get("lastModifiedTime")).toMillis() / 1000;
        long uid = ((Number) a.get("uid")).longValue();
        long gid = ((Number) a.get("gid")).longValue();
        int fmt = mode & Syscalls.S_IFMT;
        Entry e;
        if (fmt == Syscalls.S_IFDIR) {
            e = new Entry(Type.DIR, mode, uid, gid, mtime);
        } else if (fmt == 0120000) {
            e = new Entry(Type.SYMLINK, mode, uid, gid, mtime);
            e.link = Files.readSymbolicLink(p).toString();
        } else if (fmt == 0100000) {
            e = new Entry(Type.FILE, mode, uid, gid, mtime);
            e.content = p;
            e.size = (long) a.get("size");
            if (((Number) a.get("nlink")).intValue() > 1) {
                e.inode = a.get("dev") + ":" + a.get("ino");
            }
        } else if (fmt == Syscalls.S_IFCHR) {
            e = new Entry((long) a.get("rdev") == 0 ? Type.WHITEOUT : Type.CHAR, mode, uid, gid, mtime);
            e.rdev = (long) a.get("rdev");
        } else if (fmt == 0060000) {
            e = new Entry(Type.BLOCK, mode, uid, gid, mtime);
            e.rdev = (long) a.get("rdev");
        } else if (fmt == Syscalls.S_IFIFO) {
            e = new Entry(Type.FIFO, mode, uid, gid, mtime);
        } else {
            return null; // a socket: not part of a layer
        }
        return e;
    }

    /** The tar written to tmp, gzip'ed into the content store: its descriptor and diff id. */
    record Stored(Descriptor descriptor, String diffId, long tarSize) {}

    /**
     * Writes the tar once, through its digest (the diff id) into gzip and through the blob's digest
     * into a temp file, which then goes into the store: no uncompressed copy is written and read
     * back. gzip at its fastest level (as buildkit's and moby's defaults trade size for time, a
     * build's layers are made far more often than pulled; the diff id, and so the image id, does not
     * depend on it).
     */
    Stored store(ContentStore content, Path tmpDir, Long epoch) throws IOException {
        Path gzFile = Files.createTempFile(tmpDir, "layer-", ".tar.gz");
        try {
            MessageDigest diff = Digest.sha256();
            MessageDigest blob = Digest.sha256();
            long[] tarSize = {0};
            try (OutputStream gz = gzip(new DigestOutputStream(new java.io.BufferedOutputStream(
                    Files.newOutputStream(gzFile), 1 << 16), blob));
                    OutputStream tarOut = new java.io.BufferedOutputStream(new java.io.FilterOutputStream(
                            new DigestOutputStream(gz, diff)) {
                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            out.write(b, off, len);
                            tarSize[0] += len;
                        }

                        @Override
                        public void write(int b) throws IOException {
                            out.write(b);
                            tarSize[0]++;
                        }
                    }, 1 << 16)) {
                write(tarOut, epoch);
            }
            return put(content, gzFile, blob, diff, tarSize[0]);
        } finally {
            Files.deleteIfExists(gzFile);
        }
    }

    /** gzip at its fastest level into out. */
    private static OutputStream gzip(OutputStream out) throws IOException {
        return new GZIPOutputStream(out, 1 << 16) {
            {
                def.setLevel(java.util.zip.Deflater.BEST_SPEED);
            }
        };
    }

    /** The gzip'ed layer in gzFile into the content store, by its digest. */
    private static Stored put(ContentStore content, Path gzFile, MessageDigest blob, MessageDigest diff, long tarSize)
            throws IOException {
        Digest blobDigest = Digest.of("sha256", blob);
        long size = Files.size(gzFile);
        try (ContentStore.Writer w = content.writer(blobDigest, size)) {
            if (!w.complete()) {
                w.truncate();
                try (InputStream in = Files.newInputStream(gzFile)) {
                    in.transferTo(w.stream());
                }
                w.commit();
            }
        }
        return new Stored(new Descriptor(MediaTypes.OCI_LAYER_GZIP, blobDigest, size), Digest.of("sha256", diff).toString(),
                tarSize);
    }

    /** A tar file gzip'ed into the content store (read once: its diff id and the blob's digest together). */
    static Stored storeTar(ContentStore content, Path tarFile, Path tmpDir) throws IOException {
        Path gzFile = Files.createTempFile(tmpDir, "layer-", ".tar.gz");
        try {
            MessageDigest diff = Digest.sha256();
            MessageDigest blob = Digest.sha256();
            try (InputStream in = new java.security.DigestInputStream(Files.newInputStream(tarFile), diff);
                    OutputStream out = gzip(new DigestOutputStream(
                            new java.io.BufferedOutputStream(Files.newOutputStream(gzFile), 1 << 16), blob))) {
                in.transferTo(out);
            }
            return put(content, gzFile, blob, diff, Files.size(tarFile));
        } finally {
            Files.deleteIfExists(gzFile);
        }
    }
}
