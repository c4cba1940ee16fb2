package dev.hull.build;

import dev.hull.image.unpack.Compression;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A build context that comes as a tar (plain, gzip, bzip2, xz or zstd): {@code hull build -} and
 * the Docker API's POST /build. Unpacked into a fresh directory of the build's own; the archive is
 * hostile input: no entry lands outside the directory, nothing is written or read through a
 * symbolic link (the archive's own links are made as links, never followed), a hard link copies a
 * regular file of the archive only, devices and fifos are skipped.
 */
public final class ContextTar {
    private ContextTar() {}

    /** Whether data (possibly compressed) starts with a tar header: a context, not a lone Dockerfile. */
    public static boolean isTar(byte[] data) {
        try (InputStream in = Compression.decompressAny(new BufferedInputStream(new java.io.ByteArrayInputStream(data)))) {
            byte[] block = in.readNBytes(512);
            return block.length == 512 && new String(block, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Unpacks the tar on in into dir (an empty directory of the caller's). */
    public static void extract(InputStream raw, Path dir) throws IOException, BuildException {
        try (TarArchiveInputStream in = new TarArchiveInputStream(Compression.decompressAny(
                raw instanceof BufferedInputStream b ? b : new BufferedInputStream(raw)))) {
            boolean whole = false; // the last entry's data came in full
            for (TarArchiveEntry e; (e = next(in, whole)) != null; ) {
                whole = false;
                String rel = inside(e.getName());
                if (rel.isEmpty()) {
                    continue;
                }
                Path p = dir.resolve(rel);
                noLinkBetween(dir, p.getParent(), e.getName());
                Files.createDirectories(p.getParent());
                if (e.isDirectory()) {
                    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        Files.deleteIfExists(p);
                        Files.createDirectory(p);
                    }
                } else if (e.isSymbolicLink()) {
                    deleteFile(p);
                    Files.createSymbolicLink(p, Path.of(e.getLinkName()));
                } else if (e.isLink()) {
                    Path target = dir.resolve(inside(e.getLinkName()));
                    noLinkBetween(dir, target.getParent(), e.getLinkName());
                    if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
                        throw new BuildException("context tar: entry " + e.getName() + " is a hard link to "
                                + e.getLinkName() + ", which is not a file earlier in the archive (refused)");
                    }
                    deleteFile(p);
                    Files.copy(target, p, LinkOption.NOFOLLOW_LINKS);
                } else if (e.isFile()) {
                    deleteFile(p);
                    whole = Files.copy(in, p) == e.getSize();
                } else {
                    continue; // devices, fifos: nothing a context needs
                }
                if (!e.isSymbolicLink()) {
                    dev.hull.linux.Syscalls.lchmod(p.toString(), e.getMode() & 07777);
                    Files.setLastModifiedTime(p, FileTime.fromMillis(e.getModTime().getTime()));
                }
            }
        }
    }

    /**
     * The next entry, or null at the end. The docker CLI (28.x) sends a context whose Dockerfile
     * it added from outside without the last entry's padding and the end-of-archive blocks (its
     * data is all there; dockerd's reader takes it): an archive that ends right after an entry's
     * whole data ends there.
     */
    private static TarArchiveEntry next(TarArchiveInputStream in, boolean afterWholeEntry) throws IOException {
        try {
            return in.getNextEntry();
        } catch (IOException e) {
            if (afterWholeEntry && in.read() < 0 && String.valueOf(e.getMessage()).contains("Truncated")) {
                return null;
            }
            throw e;
        }
    }

    /**
     * The regular file at rel in a context directory, its symbolic links resolved inside the context
     * (never through the host's files); null if there is none. How a Dockerfile of a tar or git
     * context is found.
     */
    public static Path fileInside(Path context, String rel) throws IOException {
        try {
            return BuildContext.fileInRoot(context, rel);
        } catch (IllegalArgumentException e) { // a loop of links
            return null;
        }
    }

    /** An archive path as a relative path that stays inside (".." cannot climb above the top). */
    public static String inside(String name) throws BuildException {
        List<String> parts = new ArrayList<>();
        for (String s : name.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (parts.isEmpty()) {
                    throw new BuildException("context tar: entry " + name + " leaves the context (refused)");
                }
                parts.removeLast();
                continue;
            }
            parts.add(s);
        }
        return String.join("/", parts);
    }

    /** Refuses a path whose directories below dir include a symbolic link (the archive's own). */
    private static void noLinkBetween(Path dir, Path parent, String entry) throws BuildException {
        for (Path q = parent; q != null && !q.equals(dir); q = q.getParent()) {
            if (Files.isSymbolicLink(q)) {
                throw new BuildException("context tar: entry " + entry + " goes through a symlink (refused)");
            }
        }
    }

    /** Makes room for an entry: a file or link there goes; a directory there is an error (as in tar). */
    private static void deleteFile(Path p) throws IOException, BuildException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new BuildException("context tar: " + p.getFileName() + " is both a directory and a file (refused)");
        }
        Files.deleteIfExists(p);
    }
}
