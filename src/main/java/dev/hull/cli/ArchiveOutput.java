package dev.hull.cli;

import dev.hull.service.Stdio;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Where a command that writes an archive (save, export, volume export) writes it: to -o FILE —
 * written as an unnamed file in its directory (O_TMPFILE), named .FILE.part once whole and moved into
 * place, so a failed or killed command leaves nothing (a file system without O_TMPFILE: written as
 * .FILE.part, removed on failure; only a kill leaves that), never a truncated archive under the name — or to stdout, which must not be a
 * terminal. On the warm path FILE is the client's (its directory, umask and ownership), and
 * stdout the client's.
 */
final class ArchiveOutput {
    private ArchiveOutput() {}

    /** Writes an archive to the stream it is given. */
    @FunctionalInterface
    interface Body {
        void write(OutputStream out) throws Exception;
    }

    static void write(Path output, Body body) throws Exception {
        if (output == null) {
            if (Stdio.isTerminal()) {
                throw new IllegalArgumentException("refusing to write an archive to a terminal: give -o FILE or"
                        + " redirect stdout");
            }
            System.out.flush();
            OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
            body.write(out);
            out.flush();
            return;
        }
        Path file = Invocation.current().resolve(output);
        Path part = file.resolveSibling("." + file.getFileName() + ".part");
        // Made anew, never opened as found: in a directory others may write (/tmp), what is there (a
        // stale .part, or another user's file or symlink to /etc/...) is removed, not written through;
        // one put back meanwhile makes the create fail (O_EXCL, which follows no symlink).
        // root and cold commands: written as an unnamed file (O_TMPFILE), so a kill leaves nothing
        if (!dev.hull.runtime.CallerFiles.restricted()) {
            int tmp = unnamed(file.getParent());
            if (tmp >= 0) {
                // written as a file with no name at all (O_TMPFILE): a command killed meanwhile leaves nothing
                try {
                    try (OutputStream out = new BufferedOutputStream(dev.hull.linux.AtFiles.outputStream(tmp), 1 << 16)) {
                        body.write(out);
                    }
                    Files.deleteIfExists(part);
                    // named once whole; a .part put back meanwhile makes this fail (linkat replaces nothing)
                    dev.hull.linux.AtFiles.linkat(dev.hull.linux.AtFiles.AT_FDCWD, "/proc/self/fd/" + tmp,
                            dev.hull.linux.AtFiles.AT_FDCWD, part.toString(), AT_SYMLINK_FOLLOW);
                } finally {
                    dev.hull.linux.Syscalls.close(tmp);
                }
                dev.hull.runtime.CallerFiles.madeFor(part);
                Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return;
            }
        }
        // For a warm caller other than root the removal, the create and the move are done with the
        // caller's rights (CallerFiles): it cannot make the service write where it may not.
        dev.hull.runtime.CallerFiles.Opened made;
        try {
            made = dev.hull.runtime.CallerFiles.asCaller(() -> {
                Files.deleteIfExists(part);
                if (!dev.hull.runtime.CallerFiles.restricted()) {
                    return null;
                }
                int fd = dev.hull.linux.Syscalls.open(part.toString(), dev.hull.linux.Syscalls.O_WRONLY
                        | dev.hull.linux.Syscalls.O_CREAT | dev.hull.linux.Syscalls.O_EXCL
                        | dev.hull.linux.Syscalls.O_CLOEXEC, 0600);
                return new dev.hull.runtime.CallerFiles.Opened(fd, Path.of("/proc/self/fd/" + fd));
            });
        } catch (java.nio.file.AccessDeniedException e) {
            throw dev.hull.runtime.CallerFiles.refused("-o", output, dev.hull.linux.Errno.EACCES);
        } catch (java.io.IOException e) {
            if (e instanceof dev.hull.linux.LinuxException le) {
                throw dev.hull.runtime.CallerFiles.refused("-o", output, le.errno());
            }
            throw e;
        }
        try (OutputStream out = new BufferedOutputStream(made != null ? Files.newOutputStream(made.path())
                : Files.newOutputStream(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS), 1 << 16)) {
            body.write(out);
        } catch (Exception e) {
            dev.hull.runtime.CallerFiles.asCaller(() -> Files.deleteIfExists(part));
            throw e;
        } finally {
            if (made != null) {
                made.close();
            }
        }
        dev.hull.runtime.CallerFiles.madeFor(part); // the client's umask and ownership (warm)
        dev.hull.runtime.CallerFiles.asCaller(() -> Files.move(part, file, StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE));
    }

    /**
     * An unnamed file (O_TMPFILE) in dir, 0666 less the umask as any new file (a cold command's is its
     * caller's; a warm one's is set to the client's by madeFor); -1 where its file system has none (the
     * .part file then).
     */
    private static int unnamed(Path dir) {
        try {
            return dev.hull.linux.AtFiles.openat2(dev.hull.linux.AtFiles.AT_FDCWD, dir.toString(),
                    O_TMPFILE | dev.hull.linux.AtFiles.O_WRONLY | dev.hull.linux.AtFiles.O_CLOEXEC, 0666, 0);
        } catch (dev.hull.linux.LinuxException e) {
            return -1;
        }
    }

    private static final int AT_SYMLINK_FOLLOW = 0x400; // through /proc/self/fd: no CAP_DAC_READ_SEARCH needed
    private static final int O_TMPFILE = 020000000 | 0200000; // __O_TMPFILE | O_DIRECTORY
}
