package dev.hull.image.unpack;

import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The copy-snapshot fallback when overlayfs is not available: applies overlay-format layer directories
 * (as {@link LayerUnpacker} makes them), lowest first, onto one directory. A 0:0 character device
 * deletes the path below it; an opaque directory hides the lower directory's content; hard links
 * within a layer stay hard links; ownership, modes, xattrs (except trusted.overlay.*) and mtimes are
 * kept. Nothing is followed: every path in target is lstat-ed and replaced when it is not a directory.
 */
public final class LayerFlattener {
    private final Path target;
    private final boolean root = Syscalls.getuid() == 0;
    private final SparseWriter writer = new SparseWriter();
    /** Directory modes and times, applied at the end deepest first; keyed by relative path, upper layers win. */
    private final TreeMap<String, DirMeta> dirs = new TreeMap<>();

    private record DirMeta(Path path, int depth, int mode, FileTime mtime) {}

    private LayerFlattener(Path target) {
        this.target = target;
    }

    public static void flatten(List<Path> layersLowestFirst, Path target) throws IOException {
        LayerFlattener f = new LayerFlattener(target.toRealPath());
        for (Path layer : layersLowestFirst) {
            f.apply(layer.toRealPath());
        }
        f.finish();
    }

    /**
     * Copies what the image shows at dir (an absolute path in the image, "/" for its root) into
     * target, an existing directory: the layers' directories at that path merged as overlayfs
     * merges them (a whiteout or a non-directory in an upper layer hides the lower ones, so does an
     * opaque directory at the path or above it), with owner, mode and times, the directory's own
     * applied to target. This is docker's copy-up of an image's files into a new volume. Returns
     * false, copying nothing, when the image has no directory there or the path passes a symlink
     * (where it leads is the container's business, not the image's layout).
     */
    public static boolean flattenSubtree(List<Path> layersLowestFirst, String dir, Path target) throws IOException {
        List<Path> sources = subtreeSources(layersLowestFirst, dir);
        if (sources.isEmpty()) {
            return false;
        }
        java.util.Collections.reverse(sources);
        flatten(sources, target);
        return true;
    }

    /**
     * The layers' directories that make up what the image shows at dir (an absolute path in the
     * image), top-most first: each layer's directory at that path, down to the first layer whose
     * whiteout, non-directory or opaque directory (at the path or above) hides the ones below.
     * Empty when the image has no directory there or the path passes a symlink.
     */
    public static List<Path> subtreeSources(List<Path> layersLowestFirst, String dir) throws IOException {
        List<String> parts = new ArrayList<>();
        for (String p : dir.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                return new ArrayList<>();
            }
            parts.add(p);
        }
        List<Path> sources = new ArrayList<>(); // top-most first
        for (int i = layersLowestFirst.size() - 1; i >= 0; i--) {
            Path p = layersLowestFirst.get(i).toRealPath();
            boolean hides = false;
            boolean present = true;
            for (String part : parts) {
                p = p.resolve(part);
                BasicFileAttributes a = Fs.lstat(p);
                if (a == null) {
                    present = false;
                    break; // this layer says nothing here; lower ones may
                }
                if (!a.isDirectory()) {
                    if (sources.isEmpty() && !(a.isOther() && Overlay.isWhiteout(p))) {
                        return new ArrayList<>(); // the image shows a file or symlink here, not a directory
                    }
                    present = false;
                    hides = true; // deleted (or replaced) in this layer: nothing below shows through
                    break;
                }
                hides |= Overlay.isOpaque(p);
            }
            if (present) {
                sources.add(p);
            }
            if (hides) {
                break;
            }
        }
        return sources;
    }

    /** The overlayfs xattr that marks a layer's directory opaque (it hides the lower layers' one). */
    public static final String OPAQUE_XATTR = Overlay.OPAQUE_XATTR;

    /** Whether an extended attribute belongs to overlayfs (the layer format), not to the image's file. */
    public static boolean isOverlayXattr(String name) {
        return name.startsWith(Overlay.XATTR_PREFIX);
    }

    /**
     * Where the image shows rel (a path in the image): the top-most layer's entry as overlayfs
     * merges them (a whiteout, a non-directory on the way or an opaque directory above it hides the
     * lower layers), or null when the image has nothing there or the way passes a symlink (resolved
     * in the container, not here).
     */
    public static Path locate(List<Path> layersLowestFirst, String rel) throws IOException {
        String[] parts = rel.split("/");
        for (int i = layersLowestFirst.size() - 1; i >= 0; i--) {
            Path p = layersLowestFirst.get(i);
            boolean hides = false;
            for (int k = 0; k < parts.length; k++) {
                p = p.resolve(parts[k]);
                BasicFileAttributes a = Fs.lstat(p);
                if (a == null) {
                    break; // this layer says nothing here; lower ones may
                }
                if (a.isOther() && Overlay.isWhiteout(p)) {
                    return null; // deleted here
                }
                if (k == parts.length - 1) {
                    return p;
                }
                if (!a.isDirectory()) {
                    return null; // a file or a symlink on the way
                }
                hides |= Overlay.isOpaque(p);
            }
            if (hides) {
                return null;
            }
        }
        return null;
    }

    private void apply(Path layer) throws IOException {
        Map<Object, Path> copies = new HashMap<>(); // inode in this layer -> its first copy, for hard links
        Files.walkFileTree(layer, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String rel = layer.relativize(dir).toString();
                Path dst = target.resolve(rel);
                BasicFileAttributes existing = Fs.lstat(dst);
                if (existing != null && existing.isDirectory()) {
                    if (Overlay.isOpaque(dir)) {
                        clear(rel, dst);
                    }
                } else {
                    remove(rel, dst);
                    Files.createDirectory(dst);
                }
                copyOwnerAndXattrs(dir, dst);
                dirs.put(rel, new DirMeta(dst, rel.isEmpty() ? 0 : rel.split("/").length, mode(dir) & 07777,
                        attrs.lastModifiedTime()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String rel = layer.relativize(file).toString();
                Path dst = target.resolve(rel);
                remove(rel, dst);
                if (attrs.isOther() && Overlay.isWhiteout(file)) {
                    return FileVisitResult.CONTINUE;
                }
                Object inode = attrs.fileKey();
                Path first = copies.get(inode);
                if (first != null) {
                    Files.createLink(dst, first);
                    return FileVisitResult.CONTINUE;
                }
                int mode = mode(file);
                if (attrs.isSymbolicLink()) {
                    Syscalls.symlink(Files.readSymbolicLink(file).toString(), dst.toString());
                } else if (attrs.isRegularFile()) {
                    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                        writer.write(in, dst, bytes -> {});
                    }
                } else {
                    long rdev = (long) Files.getAttribute(file, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
                    Syscalls.mknod(dst.toString(), (mode & Syscalls.S_IFMT) | 0600, rdev);
                }
                copyOwnerAndXattrs(file, dst);
                if (!attrs.isSymbolicLink()) {
                    Syscalls.lchmod(dst.toString(), mode & 07777);
                }
                Fs.setTimes(dst, attrs.lastModifiedTime());
                if ((int) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS) > 1) {
                    copies.put(inode, dst);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Empties the directory dst (an opaque upper directory hides what was below). */
    private void clear(String rel, Path dst) throws IOException {
        try (var children = Files.list(dst)) {
            for (Path child : (Iterable<Path>) children::iterator) {
                remove(rel.isEmpty() ? child.getFileName().toString() : rel + "/" + child.getFileName(), child);
            }
        }
    }

    private void remove(String rel, Path dst) throws IOException {
        Fs.deleteTree(dst);
        dirs.remove(rel);
        dirs.subMap(rel + "/", rel + "0").clear(); // '0' follows '/': everything under rel
    }

    private static int mode(Path p) throws IOException {
        return (int) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Owner (lchown, before any chmod: it clears setuid) and xattrs except overlayfs's own; without
     * root, only user.* xattrs, and ownership only where it already matches or may be given.
     */
    private void copyOwnerAndXattrs(Path src, Path dst) throws IOException {
        int uid = (int) Files.getAttribute(src, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int gid = (int) Files.getAttribute(src, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        if (uid != (int) Files.getAttribute(dst, "unix:uid", LinkOption.NOFOLLOW_LINKS)
                || gid != (int) Files.getAttribute(dst, "unix:gid", LinkOption.NOFOLLOW_LINKS)) {
            Syscalls.lchown(dst.toString(), uid, gid);
        }
        for (String name : Syscalls.llistxattr(src.toString())) {
            if (!name.startsWith(Overlay.XATTR_PREFIX) && (root || name.startsWith("user."))) {
                byte[] value = Syscalls.lgetxattr(src.toString(), name);
                if (value != null) {
                    Syscalls.lsetxattr(dst.toString(), name, value);
                }
            }
        }
    }

    private void finish() throws IOException {
        List<DirMeta> all = new ArrayList<>(dirs.values());
        all.sort(Comparator.comparingInt(DirMeta::depth).reversed());
        for (DirMeta d : all) {
            Syscalls.lchmod(d.path().toString(), d.mode());
            Fs.setTimes(d.path(), d.mtime());
        }
    }
}
