package dev.hull.engine;

import static dev.hull.linux.AtFiles.*;

import dev.hull.image.unpack.LayerFlattener;
import dev.hull.linux.AtFiles;
import dev.hull.linux.FdXattrs;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Copies what an image shows at one of its directories into a directory descriptor, straight from
 * the image's layer directories: the layers are merged as overlayfs merges them (a 0:0 character
 * device hides the name below it, an opaque or a non-directory entry hides the lower layers'
 * directory), read with {@link TreeCopy.Walker} and written with {@link TreeCopy.DirWriter}. Every
 * entry is made relative to the target's descriptor (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
 * O_EXCL | O_NOFOLLOW) and its owner, mode, xattrs and times are set on its descriptor: a target that
 * someone else changes meanwhile (a container that mounts the same volume and swaps a directory for a
 * symlink) can make the copy fail, never make it write outside the target.
 */
public final class LayerTreeCopy {
    private final TreeCopy.Walker walker;
    private final TreeCopy.DirWriter sink;

    private LayerTreeCopy(TreeCopy.DirWriter sink) {
        this.sink = sink;
        this.walker = new TreeCopy.Walker(sink, -1, true);
    }

    /**
     * Copies the image's directory dir (absolute in the image, "/" for its root) into targetFd (an
     * open directory), with the directory's own owner, mode and times applied to the target; xattrs
     * except overlayfs's (and, without root, all but user.*). label names the target in messages.
     * False, copying nothing, when the image has no directory there or the path passes a symlink.
     */
    public static boolean copy(List<Path> layersLowestFirst, String dir, int targetFd, String label) throws IOException {
        List<Path> sources = LayerFlattener.subtreeSources(layersLowestFirst, dir);
        if (sources.isEmpty()) {
            return false;
        }
        boolean root = Syscalls.getuid() == 0;
        List<Integer> fds = new ArrayList<>();
        try (TreeCopy.DirWriter w = TreeCopy.DirWriter.keeping(targetFd, label,
                name -> !LayerFlattener.isOverlayXattr(name) && (root || name.startsWith("user.")))) {
            for (Path s : sources) {
                fds.add(AtFiles.openat2(AT_FDCWD, s.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 0));
            }
            new LayerTreeCopy(w).directory(fds, "");
        } finally {
            fds.forEach(Syscalls::close);
        }
        return true;
    }

    /**
     * The merged directory whose layers' descriptors are dirs (top-most first, already cut where an
     * upper one hides the rest), as path.
     */
    private void directory(List<Integer> dirs, String path) throws IOException {
        int top = dirs.get(0);
        TreeCopy.Meta m = TreeCopy.Meta.of(AtFiles.fstat(top)).withXattrs(FdXattrs.read(top));
        sink.directory(path, m);
        TreeSet<String> names = new TreeSet<>();
        for (int d : dirs) {
            names.addAll(AtFiles.list(d));
        }
        for (String n : names) {
            entry(dirs, n, path.isEmpty() ? n : path + "/" + n);
        }
        sink.directoryDone(path, m);
    }

    /** The name in the merged directory dirs: the top-most layer that has it decides. */
    private void entry(List<Integer> dirs, String name, String path) throws IOException {
        List<Integer> below = new ArrayList<>();
        try {
            for (int d : dirs) {
                AtFiles.Stat s = AtFiles.lstatOrNull(d, name);
                if (s == null) {
                    continue;
                }
                if (!s.isDirectory()) {
                    boolean whiteout = s.type() == S_IFCHR && s.rdev() == 0;
                    if (below.isEmpty() && !whiteout) {
                        walker.entry(d, name, path); // a file, symlink or device: this layer's
                    }
                    break; // deleted or replaced here: nothing below shows through
                }
                int fd = AtFiles.openat2(d, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, TreeCopy.BENEATH);
                below.add(fd);
                if (opaque(fd)) {
                    break;
                }
            }
            if (!below.isEmpty()) {
                directory(below, path);
            }
        } finally {
            below.forEach(Syscalls::close);
        }
    }

    private static boolean opaque(int fd) throws LinuxException {
        byte[] v = FdXattrs.read(fd).get(LayerFlattener.OPAQUE_XATTR);
        return v != null && v.length == 1 && v[0] == 'y';
    }

    /**
     * Empties the directory dfd (what a failed copy left), never through a symlink: each directory
     * below is opened relative to its parent's descriptor with O_NOFOLLOW. Best effort against a tree
     * that someone else keeps changing: the first failure is thrown once everything else was tried.
     */
    public static void empty(int dfd) throws IOException {
        IOException first = null;
        for (String n : AtFiles.list(dfd)) {
            try {
                AtFiles.Stat s = AtFiles.lstatOrNull(dfd, n);
                if (s == null) {
                    continue;
                }
                if (s.isDirectory()) {
                    int fd = AtFiles.openat2(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, TreeCopy.BENEATH);
                    try {
                        AtFiles.fchmod(fd, 0700); // a 0500 directory of the image's is not in root's way, but is in a user's
                        empty(fd);
                    } finally {
                        Syscalls.close(fd);
                    }
                }
                AtFiles.unlinkat(dfd, n, s.isDirectory() ? AT_REMOVEDIR : 0);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
