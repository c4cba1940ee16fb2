package dev.hull.runtime;

import dev.hull.linux.Errno;
import dev.hull.linux.FsCredentials;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Host files a caller names on the command line (--env-file, -f Dockerfile, load -i, save -o,
 * --secret src=...), opened with the caller's rights. A cold command is the caller's own process;
 * the service runs commands as root for root and the members of its group, and a member must not
 * read /etc/shadow or replace /etc/passwd by naming it. So for a caller other than root the
 * service opens the file on a thread with the caller's filesystem credentials
 * ({@link FsCredentials}): the kernel checks the caller's rights on the whole path, a file made is
 * the caller's, and from then on Hull reads or writes only through that descriptor — or through
 * its /proc/self/fd path, which reopens the same file and never the path again.
 *
 * <p>Not this rule: -v host binds and hull runtime bundles, which are root's power by design (a
 * member of the group is root, as a member of docker's is).
 */
public final class CallerFiles {
    private CallerFiles() {}

    /** Whether paths the caller names must be opened with its rights: a root service's caller other than root. */
    public static boolean restricted() {
        Caller c = Caller.current();
        return c != null && c.uid() > 0 && Syscalls.getuid() == 0;
    }

    /** body run with the caller's filesystem rights when {@link #restricted}, else as it is. It must start no thread. */
    public static <T> T asCaller(Callable<T> body) throws IOException {
        Caller c = Caller.current();
        try {
            if (!restricted()) {
                return body.call();
            }
            return FsCredentials.as(c.uid(), c.gid(), c.groups(), body);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * A caller's file opened: {@link #path} is where Hull reads or writes it (the descriptor's
     * /proc/self/fd path when the caller's rights were applied, else the file's own), closed with it.
     */
    public static final class Opened implements AutoCloseable {
        private final int fd;
        private final Path path;

        public Opened(int fd, Path path) {
            this.fd = fd;
            this.path = path;
        }

        public Path path() {
            return path;
        }

        /** The descriptor, or -1 when the file was not opened here (a cold or root caller's: use {@link #path}). */
        public int fd() {
            return fd;
        }

        @Override
        public void close() {
            if (fd >= 0) {
                Syscalls.close(fd);
            }
        }
    }

    /**
     * file (resolved against the caller's directory) opened to read; what names the flag in errors.
     * Non-blocking, so that a fifo named here does not hang the open (check what it is through
     * {@link Opened#path} before reading).
     */
    public static Opened openRead(Path file, String what) throws IOException {
        return open(file, what, Syscalls.O_RDONLY | Syscalls.O_NONBLOCK, 0);
    }

    /** file created or truncated to be written, as the caller's (mode 0666 less its umask). */
    public static Opened openWrite(Path file, String what) throws IOException {
        Caller c = Caller.current();
        int mode = c != null && c.umask() >= 0 ? 0666 & ~c.umask() : 0666;
        return open(file, what, Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_TRUNC, mode);
    }

    private static Opened open(Path file, String what, int flags, int mode) throws IOException {
        Path p = Caller.resolve(file);
        if (!restricted()) {
            return new Opened(-1, p);
        }
        int fd = asCaller(() -> {
            try {
                return Syscalls.open(p.toString(), flags | Syscalls.O_CLOEXEC | Syscalls.O_NOCTTY, mode);
            } catch (LinuxException e) {
                throw refused(what, file, e.errno());
            }
        });
        return new Opened(fd, Path.of("/proc/self/fd/" + fd));
    }

    /**
     * A file made at the caller's request where it asked ({@link Caller#madeFor}): given the mode
     * the caller's own process would have given it — with the caller's rights when restricted (it
     * made the file, so the file is already its own; root never changes what is at the path then).
     */
    public static void madeFor(Path file) throws IOException {
        Caller c = Caller.current();
        if (!restricted()) {
            Caller.madeFor(file);
        } else if (c.umask() >= 0) {
            asCaller(() -> {
                Syscalls.lchmod(file.toString(), 0666 & ~c.umask());
                return null;
            });
        }
    }

    /** The error for a file the caller's rights do not reach. */
    public static IOException refused(String what, Path file, int errno) {
        Caller c = Caller.current();
        String who = errno == Errno.EACCES || errno == Errno.EPERM
                ? " (the service opens it with your rights, uid " + (c == null ? "?" : c.uid()) + ")" : "";
        return new IOException((what == null ? "" : what + " ") + file + ": " + Errno.describe(errno) + who);
    }

    /** The whole file, read with the caller's rights. */
    public static byte[] readAllBytes(Path file, String what) throws IOException {
        try (Opened o = openRead(file, what)) {
            return java.nio.file.Files.readAllBytes(o.path());
        }
    }

    public static String readString(Path file, String what) throws IOException {
        return new String(readAllBytes(file, what), StandardCharsets.UTF_8);
    }

    /** text written to file (created or truncated) with the caller's rights. */
    public static void writeString(Path file, String what, String text) throws IOException {
        try (Opened o = openWrite(file, what)) {
            java.nio.file.Files.writeString(o.path(), text);
        }
    }
}
