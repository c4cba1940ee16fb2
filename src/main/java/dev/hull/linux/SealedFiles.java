package dev.hull.linux;

import static dev.hull.linux.Native.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Handles on a file that nobody can write through, whoever gets hold of them — for a program that
 * processes entering a container run from (a process in the container may open their
 * {@code /proc/PID/exe}; the CVE-2019-5736 class). Two ways, both descriptors only:
 * <ul>
 * <li>{@link #readOnlyOverlay}: the file seen through a lower-only overlayfs (two lower layers, no
 * upper: read-only in the superblock, so no remount makes it writable), mounted with the new mount
 * API and attached to no directory (no path reaches it, so nothing can remount it). Zero copy:
 * overlayfs maps the real file, so every process running it shares the host file's page cache.
 * Needs CAP_SYS_ADMIN and overlayfs.</li>
 * <li>{@link #sealedMemfd}: a copy in a memfd sealed against writes, growth, shrinking and
 * further sealing. Costs the file's size in memory per copy.</li>
 * </ul>
 */
public final class SealedFiles {
    private static final long SYS_MEMFD_CREATE = 319;
    private static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_EXEC = 0x10;
    private static final int F_ADD_SEALS = 1033, F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4,
            F_SEAL_WRITE = 8;

    private static final class SYSCALL2 {
        static final MemorySegment F = symbol("syscall");
    }
    private static final class FCNTL {
        static final MemorySegment F = symbol("fcntl");
    }

    private SealedFiles() {}

    /**
     * An O_PATH, close-on-exec descriptor of {@code file} seen through a detached, read-only,
     * lower-only overlayfs of its directory. The second lower layer overlayfs needs is an empty
     * directory made for the mount and removed right after it (the mount holds it).
     */
    public static int readOnlyOverlay(Path file) throws IOException {
        Path real = file.toRealPath();
        Path dir = real.getParent();
        if (dir.toString().contains(",")) { // DetachedMounts takes mount(2)-style "k=v,k=v" options
            throw new IOException("cannot make a read-only overlay of " + real + ": its directory's name has a comma");
        }
        Path empty = emptyDirectory();
        int mnt = -1;
        try {
            mnt = DetachedMounts.mount("overlay", "lowerdir=" + escape(dir.toString()) + ":" + escape(empty.toString()),
                    DetachedMounts.MOUNT_ATTR_RDONLY | DetachedMounts.MOUNT_ATTR_NOSUID | DetachedMounts.MOUNT_ATTR_NODEV);
            return AtFiles.openat2(mnt, real.getFileName().toString(), AtFiles.O_PATH | AtFiles.O_NOFOLLOW, 0,
                    AtFiles.RESOLVE_BENEATH | AtFiles.RESOLVE_NO_SYMLINKS);
        } finally {
            if (mnt >= 0) {
                Syscalls.close(mnt); // the file's descriptor keeps the mount
            }
            Files.deleteIfExists(empty); // the mount holds the layer; the name is not needed
        }
    }

    /**
     * A new, empty 0700 directory in java.io.tmpdir named by pid and clock. Not
     * Files.createTempDirectory: its random name comes from a SecureRandom, whose set-up (seeding,
     * the security providers) is ~10 ms of a cold hull-runtime create. mkdir fails on any existing
     * name (a symlink included), so a name taken by someone else is skipped, never used.
     */
    private static Path emptyDirectory() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        String prefix = "hull-sealed-" + ProcessHandle.current().pid() + "-";
        for (int attempt = 0;; attempt++) {
            try {
                return Files.createDirectory(tmp.resolve(prefix + Long.toHexString(System.nanoTime() + attempt)),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /** A close-on-exec memfd named {@code name} holding a copy of {@code file}, sealed read-only. */
    public static int sealedMemfd(Path file, String name) throws IOException {
        byte[] content = Files.readAllBytes(file);
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment n = cstr(arena, name);
            long r = call(st, SYSCALL2.F, SYS_MEMFD_CREATE, n.address(), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
            if (r < 0 && errno(st) == Errno.EINVAL) { // kernels before 6.3 know no MFD_EXEC
                r = call(st, SYSCALL2.F, SYS_MEMFD_CREATE, n.address(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
            }
            if (r < 0) {
                throw new LinuxException("memfd_create(\"" + name + "\")", errno(st));
            }
            fd = (int) r;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
        try {
            Syscalls.writeFully(fd, content);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment st = arena.allocate(CALL_STATE);
                int r = (int) call(st, FCNTL.F, fd, F_ADD_SEALS,
                        F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
                if (r < 0) {
                    throw new LinuxException("fcntl(memfd, F_ADD_SEALS)", errno(st));
                }
            }
            return fd;
        } catch (LinuxException e) {
            Syscalls.close(fd);
            throw e;
        } catch (Throwable t) {
            Syscalls.close(fd);
            throw unexpected(t);
        }
    }

    /** overlayfs's escaping of a lowerdir path: backslashes, then the layer separator. */
    private static String escape(String path) {
        return path.replace("\\", "\\\\").replace(":", "\\:");
    }
}
