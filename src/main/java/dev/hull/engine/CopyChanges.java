package dev.hull.engine;

import dev.hull.engine.ContainerChanges.Change;
import dev.hull.engine.ContainerChanges.Kind;
import dev.hull.image.unpack.LayerFlattener;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a container on the copy snapshotter changed: its flattened copy (rootfs) compared with its
 * image's layers as overlayfs would merge them, as dockerd's vfs driver compares trees. A path only the
 * copy has is added (A), one only the image has is deleted (D), one both have is modified (C) when its
 * type, mode, owner (the copy's shifted back through the container's user namespace) or device differ,
 * or, for a non-directory, its size, mtime or link target; a directory the image has is also modified
 * when something below it changed. The runtime's own mount points (an empty file or directory the image
 * lacked, and a directory made only to hold them) are left out, as for the overlay.
 */
final class CopyChanges {
    private CopyChanges() {}

    static void walk(Path rootfs, List<Path> lower, ContainerIds ids, Set<String> mountPoints, List<Change> out)
            throws IOException {
        walk(rootfs, "", image(lower, ""), lower, ids, mountPoints, out);
    }

    /** Adds the changes under dir (rel in the container) against below (the image's entries there); true if any. */
    private static boolean walk(Path dir, String prefix, Map<String, Path> below, List<Path> lower, ContainerIds ids,
            Set<String> mountPoints, List<Change> out) throws IOException {
        TreeSet<String> names = new TreeSet<>(below.keySet());
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(p -> names.add(p.getFileName().toString()));
        }
        boolean any = false;
        for (String n : names) {
            Path p = dir.resolve(n);
            String rel = prefix.isEmpty() ? n : prefix + "/" + n;
            Path old = below.get(n);
            Map<String, Object> a = attrs(p);
            if (a == null) {
                out.add(new Change("/" + rel, Kind.DELETED));
                any = true;
                continue;
            }
            int fmt = (int) a.get("mode") & Syscalls.S_IFMT;
            if (old == null && mountPoints.contains(rel) && empty(p, fmt, (long) a.get("size"))) {
                continue; // made by the runtime as a mount point
            }
            Map<String, Object> o = old == null ? null : attrs(old);
            boolean oldDir = o != null && ((int) o.get("mode") & Syscalls.S_IFMT) == Syscalls.S_IFDIR;
            boolean changed = o != null && differ(a, o, p, old, ids);
            int at = out.size();
            if (o == null || changed) {
                out.add(new Change("/" + rel, o == null ? Kind.ADDED : Kind.MODIFIED));
            }
            if (fmt == Syscalls.S_IFDIR) {
                Map<String, Path> inImage = oldDir ? image(lower, rel) : Map.of();
                boolean inside = walk(p, rel, inImage, lower, ids, mountPoints, out);
                if (o == null && !inside && holdsMountPoint(rel, mountPoints)) {
                    out.remove(at); // made only to hold a mount point
                    continue;
                }
                if (inside && !changed && o != null) {
                    out.add(at, new Change("/" + rel, Kind.MODIFIED)); // docker lists the parent of a change
                }
                any |= inside;
            }
            any |= o == null || changed;
        }
        return any;
    }

    /** The image's entries in directory rel, merged as overlayfs merges the layers (whiteouts and opaque dirs hide). */
    private static Map<String, Path> image(List<Path> lower, String rel) throws IOException {
        Map<String, Path> out = new TreeMap<>();
        Set<String> hidden = new TreeSet<>();
        for (Path d : LayerFlattener.subtreeSources(lower, "/" + rel)) { // top-most first
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
                for (Path c : ds) {
                    String n = c.getFileName().toString();
                    if (out.containsKey(n) || hidden.contains(n)) {
                        continue;
                    }
                    Map<String, Object> a = attrs(c);
                    if (((int) a.get("mode") & Syscalls.S_IFMT) == Syscalls.S_IFCHR && (long) a.get("rdev") == 0) {
                        hidden.add(n); // a whiteout
                    } else {
                        out.put(n, c);
                    }
                }
            }
        }
        return out;
    }

    private static Map<String, Object> attrs(Path p) throws IOException {
        try {
            return Files.readAttributes(p, "unix:mode,uid,gid,rdev,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** Whether the copy's entry a differs from the image's o (owners compared as the container sees them). */
    private static boolean differ(Map<String, Object> a, Map<String, Object> o, Path p, Path old, ContainerIds ids)
            throws IOException {
        int mode = (int) a.get("mode");
        long uid = Integer.toUnsignedLong((int) a.get("uid")), gid = Integer.toUnsignedLong((int) a.get("gid"));
        if (mode != (int) o.get("mode") || ids.uidOut(uid) != Integer.toUnsignedLong((int) o.get("uid"))
                || ids.gidOut(gid) != Integer.toUnsignedLong((int) o.get("gid")) || (long) a.get("rdev") != (long) o.get("rdev")) {
            return true;
        }
        int fmt = mode & Syscalls.S_IFMT;
        if (fmt == Syscalls.S_IFDIR) {
            return false; // a directory's size and mtime follow its entries, which are compared one by one
        }
        if ((long) a.get("size") != (long) o.get("size")
                || !((FileTime) a.get("lastModifiedTime")).equals(o.get("lastModifiedTime"))) {
            return true;
        }
        return fmt == 0120000 && !Files.readSymbolicLink(p).equals(Files.readSymbolicLink(old));
    }

    private static boolean empty(Path p, int fmt, long size) throws IOException {
        if (fmt == Syscalls.S_IFDIR) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                return !ds.iterator().hasNext();
            }
        }
        return fmt == Syscalls.S_IFREG && size == 0;
    }

    private static boolean holdsMountPoint(String rel, Set<String> mountPoints) {
        for (String m : mountPoints) {
            if (m.startsWith(rel + "/")) {
                return true;
            }
        }
        return false;
    }
}
