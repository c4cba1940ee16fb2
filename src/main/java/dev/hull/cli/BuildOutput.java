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
 * and skopeo read), {@code type=local,dest=DIR} (the image's files; a bare path means this too).
 * An archive is written beside its dest and renamed into place.
 */
record BuildOutput(String type, String dest) {

    static BuildOutput parse(String spec) throws BuildException {
        if (!spec.contains("=")) {
            return new BuildOutput("local", spec);
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
            default -> throw new BuildException("--output type=" + type
                    + ": use oci-archive, docker-archive or local");
        };
        if (dest.equals("-")) {
            throw new BuildException("--output " + spec + ": dest=- (stdout) is not supported: stdout carries the"
                    + " build's progress; give a file or directory");
        }
        return new BuildOutput(type, dest);
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
        Path file = inv.resolve(Path.of(dest));
        Path tmp = file.resolveSibling("." + file.getFileName() + ".part");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            archive(images, image, tags, out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        dev.hull.runtime.Caller.madeFor(tmp);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void archive(ImageService images, ImageRecord image, List<String> tags, OutputStream out)
            throws IOException {
        if (type.equals("oci-archive")) {
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
