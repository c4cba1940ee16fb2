package dev.hull.linux;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The modes of the directories that hold what Hull keeps for root: container layers, image
 * snapshots, volumes, runtime state and control sockets (issue 12, the CVE-2021-41091 class). A
 * host user who can walk into a container's upper directory or an image's snapshot can run a
 * setuid-root binary that the container wrote or the image shipped, and be root. So each root is
 * private ({@link #PRIVATE}), or {@link #TRAVERSABLE} where a process that is not host root must
 * still walk through it (the caller says why); nothing below a root is reachable without
 * traversing it, so the roots are enough: one stat each, no tree walk.
 *
 * <p>Modes are only ever tightened: an existing directory loses the permission bits the wanted
 * mode does not have, and keeps stricter ones an administrator chose.
 */
public final class SecureDirs {
    /** Root only: rwx------. */
    public static final int PRIVATE = 0700;
    /** Root, plus search (not read: no listing) for everyone else: rwx--x--x. */
    public static final int TRAVERSABLE = 0711;

    private SecureDirs() {}

    /**
     * Makes dir (missing parents get the default mode) with exactly mode, or tightens an existing
     * one to at most mode (see {@link #tighten}); returns dir.
     */
    public static Path ensure(Path dir, int mode) throws IOException {
        if (tighten(dir, mode)) {
            return dir;
        }
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(permissions(mode)));
        } catch (FileAlreadyExistsException e) {
            tighten(dir, mode); // made meanwhile by someone else
            return dir;
        }
        Files.setPosixFilePermissions(dir, permissions(mode)); // exactly mode, whatever the umask took away
        return dir;
    }

    /**
     * If dir exists (symlinks followed), removes the permission bits mode does not have: one stat,
     * and a chmod only when something has to go. Returns whether dir exists; fails if it is not a
     * directory or cannot be changed.
     */
    public static boolean tighten(Path dir, int mode) throws IOException {
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(dir, PosixFileAttributes.class);
        } catch (NoSuchFileException e) {
            return false;
        }
        if (!a.isDirectory()) {
            throw new IOException(dir + " is not a directory");
        }
        Set<PosixFilePermission> have = a.permissions();
        Set<PosixFilePermission> keep = EnumSet.noneOf(PosixFilePermission.class);
        keep.addAll(have);
        keep.retainAll(permissions(mode));
        if (!keep.equals(have)) {
            try {
                Files.setPosixFilePermissions(dir, keep);
            } catch (IOException e) {
                throw new IOException("cannot restrict " + dir + " to mode 0" + Integer.toOctalString(mode(keep))
                        + " (it is 0" + Integer.toOctalString(mode(have)) + ", open to other users): " + e, e);
            }
        }
        return true;
    }

    /** The permission bits of dir (symlinks followed), e.g. 0700. */
    public static int mode(Path dir) throws IOException {
        return mode(Files.getPosixFilePermissions(dir));
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ ... OTHERS_EXECUTE
        for (int i = 0; i < 9; i++) {
            if ((mode & (0400 >> i)) != 0) {
                s.add(bits[i]);
            }
        }
        return s;
    }

    static int mode(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) {
            m |= 0400 >> p.ordinal();
        }
        return m;
    }
}
