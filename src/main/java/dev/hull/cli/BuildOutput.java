package dev.hull.cli;

import dev.hull.build.BuildException;
import dev.hull.engine.Engine;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.archive.ImageArchives;
import dev.hull.image.unpack.LayerFlattener;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code hull build --output}: where the built image goes besides Hull's store (docker buildx's
 * and buildah's spelling): {@code type=oci-archive,dest=F} (also {@code type=oci}), {@code
 * type=docker-archive,dest=F} ({@code type=docker}; what {@code hull load}, {@code docker load}
 * and skopeo read), {@code type=local,dest=DIR} (the image's files; a bare path means this too),
 * {@code type=tar,dest=F} (the image's files as one tar). An archive is written beside its dest
 * and renamed into place; {@code dest=-} (and a bare {@code -o -}: a tar) writes it to stdout, and
 * the build's progress goes to stderr then, as with docker.
 */
record BuildOutput(String type, String dest) {

    static BuildOutput parse(String spec) throws BuildException {
        if (!spec.contains("=")) {
            return new BuildOutput(spec.equals("-") ? "tar" : "local", spec);
        }
        Map<String, String> kv = BuildCli.keyValues(spec, "--output " + spec + ": use type=TYPE,dest=PATH");
        String type = kv.remove("type");
        String dest = kv.remove("dest");
        if (type == null || dest == null || dest.isEmpty()) {
            throw new BuildException("--output " + spec + ": use type=TYPE,dest=PATH");
        }
        if (!kv.isEmpty()) {
            throw new BuildException("--output " + spec + ": " + String.join(", ", kv.keySet())
                    + ": not supported (only type and dest)");
        }
        type = switch (type) {
            case "oci", "oci-archive" -> "oci-archive";
            case "docker", "docker-archive" -> "docker-archive";
            case "local" -> "local";
            case "tar" -> "tar";
            default -> throw new BuildException("--output type=" + type
                    + ": use oci-archive, docker-archive, tar or local");
        };
        if (dest.equals("-") && type.equals("local")) {
            throw new BuildException("--output " + spec + ": type=local writes a directory, not to stdout (type=tar"
                    + " does)");
        }
        return new BuildOutput(type, dest);
    }

    /** Whether the output goes to stdout (the build's progress then goes to stderr). */
    boolean toStdout() {
        return dest.equals("-");
    }

    /** With the output on stdout, a terminal there is refused before building (docker's rule). */
    void checkStdout(int[] stdio) throws BuildException {
        if (toStdout() && dev.hull.linux.FdControl.isTerminal(stdio == null ? 1 : stdio[1])) {
            throw new BuildException("--output " + dest + ": stdout is a terminal; redirect it to a file or a pipe");
        }
    }

    /** Writes image (named tags, or none) where this says. */
    void write(Engine engine, Invocation inv, ImageRecord image, List<String> tags) throws IOException, BuildException {
        ImageService images = engine.images();
        if (type.equals("local")) {
            writeLocal(images, image, inv.resolve(Path.of(dest)));
            return;
        }
        if (toStdout()) {
            java.io.PrintStream stdout = System.out; // the caller's (a warm command's is its client's)
            OutputStream out = new BufferedOutputStream(stdout, 1 << 16);
            archive(engine, image, tags, out);
            out.flush();
            return;
        }
        try { // .FILE.part made anew (never written through what another user put there), then moved
            ArchiveOutput.write(inv.resolve(Path.of(dest)), out -> archive(engine, image, tags, out));
        } catch (IOException | BuildException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * The image's tree into dir: made here, or an empty directory of the caller's own that is not a
     * symbolic link. Written through a descriptor of it ({@link #writeTree}), so that a parent swapped
     * meanwhile cannot send the writes elsewhere; another user's directory (one in /tmp, or a link to one) is refused, since
     * its owner could swap what is being written below it.
     */
    private void writeLocal(ImageService images, ImageRecord image, Path dir) throws IOException, BuildException {
        boolean made = false;
        try {
            // never through a symlink: mkdir makes no path a link names; with a warm caller's rights
            // (CallerFiles): a member of the service's group makes a directory only where it may
            dev.hull.runtime.CallerFiles.asCaller(() -> Files.createDirectory(dir));
            made = true;
        } catch (java.nio.file.AccessDeniedException e) {
            throw new BuildException("--output " + dest + ": permission denied (the service makes it with your rights)");
        } catch (java.nio.file.FileAlreadyExistsException e) {
            var a = Files.readAttributes(dir, "unix:mode,uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            dev.hull.runtime.Caller c = dev.hull.runtime.Caller.current();
            int uid = c != null && c.uid() >= 0 ? c.uid() : dev.hull.linux.AtFiles.geteuid();
            int owner = (Integer) a.get("uid");
            if (((Integer) a.get("mode") & 0170000) != 0040000 || hasEntries(dir)) {
                throw new BuildException("--output " + dest + ": not an empty directory");
            }
            if (owner != uid && (owner != 0 || dev.hull.runtime.CallerFiles.restricted())) {
                throw new BuildException("--output " + dest + ": the directory belongs to uid " + owner
                        + ", not to you; give a new path (Hull makes it)");
            }
        }
        if (made && !dev.hull.runtime.CallerFiles.restricted()) { // a restricted caller made it: its own already
            dev.hull.runtime.Caller.madeFor(dir);
        }
        int fd;
        try {
            fd = dev.hull.runtime.CallerFiles.asCaller(() -> dev.hull.linux.Syscalls.open(dir.toString(),
                    dev.hull.linux.Syscalls.O_RDONLY | dev.hull.linux.Syscalls.O_DIRECTORY
                    | dev.hull.linux.Syscalls.O_NOFOLLOW | dev.hull.linux.Syscalls.O_CLOEXEC, 0));
        } catch (dev.hull.linux.LinuxException e) {
            throw new BuildException("--output " + dest + ": " + e.getMessage());
        }
        try {
            writeTree(images, image, fd, dest);
        } finally {
            dev.hull.linux.Syscalls.close(fd);
        }
    }

    /**
     * The image's files into the directory fd, entry by entry relative to it ({@link
     * dev.hull.engine.LayerTreeCopy}: openat2 beneath, no symlink followed, what is in an entry's way
     * replaced, never written through): the directory fd is, never a path that names it (a path can be
     * re-resolved elsewhere; a subdirectory swapped for a link meanwhile makes the copy fail). label
     * names the destination in errors.
     */
    static void writeTree(ImageService images, ImageRecord image, int fd, String label) throws IOException {
        dev.hull.engine.LayerTreeCopy.copy(images.unpack(image), "/", fd, label);
    }

    private void archive(Engine engine, ImageRecord image, List<String> tags, OutputStream out)
            throws IOException {
        ImageService images = engine.images();
        if (type.equals("tar")) {
            Path tmp = Files.createTempDirectory(Files.createDirectories(engine.home().resolve("tmp")), "output-");
            try {
                LayerFlattener.flatten(images.unpack(image), tmp);
                dev.hull.engine.ContainerFiles.tarOf(tmp, out);
            } finally {
                dev.hull.image.SnapshotStore.deleteTree(tmp);
            }
        } else if (type.equals("oci-archive")) {
            ImageArchives.saveOciArchive(List.of(image), images.store(), out);
        } else {
            ImageArchives.saveDockerArchive(List.of(image), List.of(new ArrayList<>(tags)), images.store(), out);
        }
    }

    private static boolean hasEntries(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }
}
