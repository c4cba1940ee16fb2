package dev.hull.build;

import dev.hull.linux.FdOutputStream;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.CallerFiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * A build context directory of a warm caller other than root ({@link CallerFiles#restricted}),
 * copied before the build with the caller's rights: a thread with the caller's filesystem
 * credentials walks it (never following a symbolic link) and writes it as a tar into a file of
 * root's it was handed by descriptor; the tar is then unpacked into a root-only directory as a
 * context that came on stdin is ({@link ContextTar#extract}), and the build reads only that copy.
 * A file or directory the caller may not read fails the build, naming it.
 */
public final class CallerContext {
    private CallerContext() {}

    /** dir (the caller's, as it named it) copied into into (an empty directory of root's); scratch: a new file's path. */
    public static void copy(Path dir, String named, Path into, Path scratch) throws IOException, BuildException {
        int fd = Syscalls.open(scratch.toString(), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_EXCL
                | Syscalls.O_CLOEXEC, 0600);
        try {
            try {
                CallerFiles.asCaller(() -> {
                    if (!Files.isDirectory(dir)) {
                        throw new BuildException("context " + named + ": not a directory");
                    }
                    write(dir, named, new FdOutputStream(fd));
                    return null;
                });
            } catch (IOException e) {
                if (e.getCause() instanceof BuildException b) {
                    throw b;
                }
                throw e;
            }
            try (InputStream in = Files.newInputStream(scratch)) {
                ContextTar.extract(in, into);
            }
        } finally {
            Syscalls.close(fd);
            Files.deleteIfExists(scratch);
        }
    }

    /** The tree at dir as a tar on out: directories, regular files and symbolic links (as links). */
    private static void write(Path dir, String named, OutputStream raw) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new BufferedOutputStream(raw, 1 << 16));
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                if (!d.equals(dir)) {
                    TarArchiveEntry e = new TarArchiveEntry(dir.relativize(d) + "/", TarConstants.LF_DIR);
                    e.setMode(mode(d));
                    e.setModTime(a.lastModifiedTime());
                    tar.putArchiveEntry(e);
                    tar.closeArchiveEntry();
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                String rel = dir.relativize(f).toString();
                if (a.isSymbolicLink()) {
                    TarArchiveEntry e = new TarArchiveEntry(rel, TarConstants.LF_SYMLINK);
                    e.setLinkName(Files.readSymbolicLink(f).toString());
                    tar.putArchiveEntry(e);
                    tar.closeArchiveEntry();
                } else if (a.isRegularFile()) {
                    InputStream opened;
                    try {
                        opened = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS);
                    } catch (IOException e) {
                        return visitFileFailed(f, e);
                    }
                    try (InputStream in = opened) {
                        TarArchiveEntry e = new TarArchiveEntry(rel);
                        e.setSize(a.size());
                        e.setMode(mode(f));
                        e.setModTime(a.lastModifiedTime());
                        tar.putArchiveEntry(e);
                        long n = in.transferTo(tar);
                        if (n != a.size()) {
                            throw new IOException("context " + named + ": " + rel + " changed while it was read");
                        }
                        tar.closeArchiveEntry();
                    }
                } // devices, fifos, sockets: nothing a context needs
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                throw new IOException("context " + named + ": " + dir.relativize(f) + ": "
                        + (e instanceof java.nio.file.AccessDeniedException
                                ? "Permission denied (the service reads the context with your rights)" : e.getMessage()));
            }
        });
        tar.close(); // its last block is written only on close; the descriptor is not closed (FdOutputStream)
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }
}
