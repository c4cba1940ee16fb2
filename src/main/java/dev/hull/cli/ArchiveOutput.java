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
 * written beside it as .FILE.part and moved into place only when complete, so a failed or killed
 * command never leaves a truncated archive under the name — or to stdout, which must not be a
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
}
