package dev.hull.build;

import dev.hull.linux.Syscalls;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;

/**
 * The layer of a COPY or ADD, written straight from its sources (no container): the Dockerfile
 * reference's rules — a directory source copies its contents; a file goes to the destination, or
 * into it when the destination ends with "/" or is a directory already; missing parents are made
 * (0755, root); files from the context belong to root (0:0) unless --chown; --chmod sets every
 * mode; ADD of a local tar archive (plain, gzip, bzip2, zstd) extracts it into the destination.
 * Parent directories that exist below keep their owner and mode in the layer, so the overlay shows
 * them as they were.
 */
final class CopyLayer {
    private final List<Path> lower;
    private final LayerTar tar;
    private final long now;

    CopyLayer(List<Path> lowerLowestFirst, Long epoch) {
        this.lower = lowerLowestFirst;
        this.now = epoch != null ? epoch : System.currentTimeMillis() / 1000;
        this.tar = new LayerTar(this::parent);
    }

    LayerTar tar() {
        return tar;
    }

    /** What the layers below have at rel (not followed), or null: the top layer that has it wins; a whiteout hides. */
    Path lower(String rel) throws IOException {
        if (rel.isEmpty()) {
            return null;
        }
        for (int i = lower.size() - 1; i >= 0; i--) {
            Path p = lower.get(i).resolve(rel);
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                LayerTar.Entry e = LayerTar.of(p);
                return e != null && e.type == LayerTar.Type.WHITEOUT ? null : p;
            }
        }
        return null;
    }

    /**
     * rel with the image's symbolic links on the way followed, inside the image (an absolute
     * target starts again at its root, ".." stops there): COPY into /bin/ of an image whose /bin is
     * a link to usr/bin writes usr/bin/..., as docker does, instead of a directory hiding the link.
     * The last component is followed only when it must be a directory (whole).
     */
    String resolve(String rel, boolean whole) throws IOException {
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(rel.split("/")));
        java.util.ArrayList<String> done = new java.util.ArrayList<>();
        int hops = 0;
        while (!todo.isEmpty()) {
            String part = todo.pollFirst();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!done.isEmpty()) {
                    done.remove(done.size() - 1);
                }
                continue;
            }
            String path = done.isEmpty() ? part : String.join("/", done) + "/" + part;
            Path p = todo.isEmpty() && !whole ? null : lower(path);
            if (p != null && Files.isSymbolicLink(p)) {
                if (++hops > 40) {
                    throw new IllegalArgumentException(rel + ": too many levels of symbolic links in the image");
                }
                String link = Files.readSymbolicLink(p).toString();
                if (link.startsWith("/")) {
                    done.clear();
                }
                List<String> parts = List.of(link.split("/"));
                for (int i = parts.size() - 1; i >= 0; i--) {
                    todo.addFirst(parts.get(i));
                }
                continue;
            }
            done.add(part);
        }
        return String.join("/", done);
    }

    private boolean lowerIsDir(String rel) throws IOException {
        Path p = lower(rel);
        return p != null && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
    }

    private LayerTar.Entry parent(String rel) throws IOException {
        Path p = lower(rel);
        if (p != null && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            LayerTar.Entry l = LayerTar.of(p);
            return new LayerTar.Entry(LayerTar.Type.DIR, l.mode, l.uid, l.gid, l.mtime);
        }
        return new LayerTar.Entry(LayerTar.Type.DIR, 0755, 0, 0, now);
    }

    /**
     * Copies matches to target (an absolute path in the image). toDir: the destination is a
     * directory whatever it is now; extract: ADD's archive rule; chmod, owner ({uid, gid}) or null;
     * keepOwners: the sources' owners stay (COPY --from), else 0:0.
     */
    void copy(List<BuildContext.Match> matches, String target, boolean toDir, boolean extract, Integer chmod,
            long[] owner, boolean keepOwners, Path tmp) throws IOException {
        String dest = resolve(DockerIgnore.clean(target), toDir || matches.stream().anyMatch(BuildContext.Match::dir));
        if (!dest.isEmpty() && toDir && !lowerIsDir(dest)
                && (matches.isEmpty() || matches.stream().anyMatch(m -> m.pivot() != null))) {
            tar.put(dest, parent(dest)); // there even when nothing is copied into it
        }
        for (BuildContext.Match m : matches) {
            Path root = m.root();
            if (m.pivot() != null) {
                parents(m, dest, chmod, owner, keepOwners);
                continue;
            }
            if (m.dir()) {
                for (String f : m.files()) {
                    String sub = f.equals(m.rel()) ? "" : m.rel().isEmpty() ? f : f.substring(m.rel().length() + 1);
                    String to = sub.isEmpty() ? dest : dest.isEmpty() ? sub : dest + "/" + sub;
                    Path src = f.isEmpty() ? root : root.resolve(f);
                    if (sub.isEmpty()) {
                        if (to.isEmpty()) {
                            continue; // the image's root: nothing to write
                        }
                        LayerTar.Entry e = lowerIsDir(to) ? parent(to) : LayerTar.of(src);
                        if (!lowerIsDir(to)) {
                            fix(e, chmod, owner, keepOwners);
                        }
                        tar.put(to, e);
                        continue;
                    }
                    LayerTar.Entry e = LayerTar.of(src);
                    if (e == null || e.type == LayerTar.Type.WHITEOUT) {
                        continue;
                    }
                    fix(e, chmod, owner, keepOwners);
                    tar.put(to, e);
                }
                continue;
            }
            Path src = root.resolve(m.rel());
            String base = m.rel().substring(m.rel().lastIndexOf('/') + 1);
            if (extract && Files.isRegularFile(src, LinkOption.NOFOLLOW_LINKS) && isTar(src)) {
                extract(src, dest, owner, tmp);
                continue;
            }
            String to = toDir || lowerIsDir(dest) || dest.isEmpty() ? (dest.isEmpty() ? base : dest + "/" + base) : dest;
            LayerTar.Entry e = LayerTar.of(src);
            if (e == null) {
                throw new IllegalArgumentException(m.rel() + " is a socket: it cannot be copied");
            }
            fix(e, chmod, owner, keepOwners);
            e.inode = null;
            tar.put(to, e);
        }
    }

    /**
     * COPY --parents: the match under dest by its path from the pivot, the directories on that path
     * as the source has them.
     */
    private void parents(BuildContext.Match m, String dest, Integer chmod, long[] owner, boolean keepOwners)
            throws IOException {
        List<String> paths = new java.util.ArrayList<>();
        String name = m.name(m.rel());
        String at = m.pivot();
        for (String part : name.isEmpty() ? new String[0] : name.split("/")) {
            at = at.isEmpty() ? part : at + "/" + part;
            if (!at.equals(m.rel())) {
                paths.add(at);
            }
        }
        paths.addAll(m.files());
        for (String f : paths) {
            String n = m.name(f);
            if (n.isEmpty()) {
                continue; // the pivot itself: the destination
            }
            LayerTar.Entry e = LayerTar.of(f.isEmpty() ? m.root() : m.root().resolve(f));
            if (e == null || e.type == LayerTar.Type.WHITEOUT) {
                continue;
            }
            fix(e, chmod, owner, keepOwners);
            tar.put(dest.isEmpty() ? n : dest + "/" + n, e);
        }
    }

    private static void fix(LayerTar.Entry e, Integer chmod, long[] owner, boolean keepOwners) {
        if (!keepOwners) {
            e.uid = 0;
            e.gid = 0;
        }
        if (owner != null) {
            e.uid = owner[0];
            e.gid = owner[1];
        }
        if (chmod != null && e.type != LayerTar.Type.SYMLINK) {
            e.mode = chmod;
        }
        e.inode = null; // a hard link in the context is copied as two files (docker's COPY does too)
    }

    private static InputStream open(Path p) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS), 1 << 16);
        in.mark(4);
        byte[] magic = in.readNBytes(3);
        in.reset();
        if (magic.length == 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
            return new BZip2CompressorInputStream(in);
        }
        return dev.hull.image.unpack.Compression.decompressAny(in);
    }

    /** Whether p is a tar archive (maybe compressed): "ustar" at offset 257 of its first block. */
    static boolean isTar(Path p) {
        try (InputStream in = open(p)) {
            byte[] block = in.readNBytes(512);
            return block.length == 512 && new String(block, 257, 5, java.nio.charset.StandardCharsets.US_ASCII)
                    .equals("ustar");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** ADD's extraction: every entry below dest, none outside it; owners from the archive unless --chown. */
    private void extract(Path archive, String dest, long[] owner, Path tmp) throws IOException {
        Map<String, LayerTar.Entry> files = new HashMap<>();
        Path dir = Files.createTempDirectory(tmp, "add-");
        int n = 0;
        try (TarArchiveInputStream in = new TarArchiveInputStream(open(archive))) {
            for (TarArchiveEntry t; (t = in.getNextEntry()) != null; ) {
                String raw = t.getName();
                String rel;
                try {
                    rel = BuildContext.clean(raw);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(archive.getFileName() + ": entry " + raw
                            + " points outside the destination (refused)");
                }
                if (rel.isEmpty()) {
                    continue;
                }
                String to = dest.isEmpty() ? rel : dest + "/" + rel;
                long mtime = t.getModTime().getTime() / 1000;
                LayerTar.Entry e;
                if (t.isDirectory()) {
                    e = new LayerTar.Entry(LayerTar.Type.DIR, t.getMode() & 07777, t.getLongUserId(), t.getLongGroupId(), mtime);
                } else if (t.isSymbolicLink()) {
                    e = new LayerTar.Entry(LayerTar.Type.SYMLINK, 0777, t.getLongUserId(), t.getLongGroupId(), mtime);
                    e.link = t.getLinkName();
                } else if (t.isLink()) {
                    String target;
                    try {
                        target = BuildContext.clean(t.getLinkName());
                    } catch (IllegalArgumentException x) {
                        throw new IllegalArgumentException(archive.getFileName() + ": hard link " + raw
                                + " points outside the destination (refused)");
                    }
                    LayerTar.Entry first = files.get(target);
                    if (first == null) {
                        throw new IllegalArgumentException(archive.getFileName() + ": hard link " + raw
                                + " to " + t.getLinkName() + ", which the archive has not shown before");
                    }
                    e = new LayerTar.Entry(LayerTar.Type.FILE, first.mode, first.uid, first.gid, first.mtime);
                    e.content = first.content;
                    e.size = first.size;
                    e.inode = "add:" + target;
                    first.inode = "add:" + target;
                } else if (t.isFile()) {
                    e = new LayerTar.Entry(LayerTar.Type.FILE, t.getMode() & 07777, t.getLongUserId(), t.getLongGroupId(), mtime);
                    Path f = dir.resolve(String.valueOf(n++));
                    Files.copy(in, f);
                    e.content = f;
                    e.size = Files.size(f);
                    files.put(rel, e);
                } else if (t.isCharacterDevice() || t.isBlockDevice() || t.isFIFO()) {
                    e = new LayerTar.Entry(t.isCharacterDevice() ? LayerTar.Type.CHAR : t.isBlockDevice()
                            ? LayerTar.Type.BLOCK : LayerTar.Type.FIFO, t.getMode() & 07777, t.getLongUserId(),
                            t.getLongGroupId(), mtime);
                    e.rdev = Syscalls.makedev(t.getDevMajor(), t.getDevMinor());
                } else {
                    continue; // pax/global headers are consumed by the reader; nothing else belongs in a layer
                }
                if (owner != null) {
                    e.uid = owner[0];
                    e.gid = owner[1];
                }
                tar.put(to, e);
            }
        }
    }
}
