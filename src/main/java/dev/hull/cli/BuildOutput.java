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
import java.nio.file.StandardCopyOption;
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
            Path dir = inv.resolve(Path.of(dest));
            if (Files.exists(dir) && (!Files.isDirectory(dir) || hasEntries(dir))) {
                throw new BuildException("--output " + dest + ": not an empty directory");
            }
            Files.createDirectories(dir);
            LayerFlattener.flatten(images.unpack(image), dir);
            return;
        }
        if (toStdout()) {
            java.io.PrintStream stdout = System.out; // the caller's (a warm command's is its client's)
            OutputStream out = new BufferedOutputStream(stdout, 1 << 16);
            archive(engine, image, tags, out);
            out.flush();
            return;
        }
        Path file = inv.resolve(Path.of(dest));
        Path tmp = file.resolveSibling("." + file.getFileName() + ".part");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            archive(engine, image, tags, out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        dev.hull.runtime.Caller.madeFor(tmp);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
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
