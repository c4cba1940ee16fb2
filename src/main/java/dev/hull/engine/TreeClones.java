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
}
