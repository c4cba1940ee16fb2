package dev.hull.cli;

import dev.hull.service.Stdio;
import dev.hull.engine.Engine;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.archive.ImageArchives;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull load} and {@code hull save}: images as files, without a registry. */
final class ArchiveCli {
    private ArchiveCli() {}

    @Command(name = "load", mixinStandardHelpOptions = true, description = {"Load images from a docker-archive (what docker save writes), an"
        + " oci-archive or an OCI layout directory; plain, gzip or zstd.", "", "Examples:",
        "  hull load -i app.tar", "  zstd -dc app.tar.zst | hull load", "  hull load -i ./oci-layout-dir --name app:1"},
            sortOptions = false)
    static final class Load implements Callable<Integer> {
        @Option(names = {"-i", "--input"}, paramLabel = "FILE|DIR", description = "Read from this (default: stdin).")
        Path input;
        @Option(names = "--name", description = "Also give the loaded image this name.")
        String name;
        @Option(names = {"-q", "--quiet"}, description = "Print only image ids.")
        boolean quiet;

        @Override
        public Integer call() {
            return ImageCli.guarded(() -> {
                List<ImageRecord> loaded;
                // -i is the caller's file, opened with its rights (a warm caller other than root reads only what it may)
                try (var in = input == null ? null : dev.hull.runtime.CallerFiles.openRead(input, "-i")) {
                    if (in != null && in.fd() >= 0 && Files.isDirectory(in.path())) {
                        throw new IllegalArgumentException("-i " + input + ": an OCI layout directory is read as root,"
                                + " which the service does only for root; give an archive (tar -C DIR -cf - . | hull load)");
                    }
                    loaded = dev.hull.engine.ImageFiles.load(Engine.defaults(), in == null ? null : in.path(),
                            input == null ? System.in : null, name);
                }
                for (ImageRecord r : loaded) {
                    if (quiet) {
                        System.out.println(r.id());
                    } else if (r.names().isEmpty()) {
                        System.out.println("Loaded image ID: " + r.id());
                    } else {
                        for (String n : r.names()) {
                            System.out.println("Loaded image: " + dev.hull.image.Reference.parse(n).familiar());
                        }
                    }
                }
                return 0;
            });
        }
    }

    @Command(name = "save", mixinStandardHelpOptions = true, description = {"Write images to a file or directory.", "", "Formats:",
        "  docker-archive  what docker save writes (default); docker load, podman load and skopeo read it",
        "  oci-archive     an OCI image layout in a tar", "  oci-dir         an OCI image layout directory (-o DIR)",
        "", "Examples:", "  hull save -o busybox.tar busybox", "  hull save --format oci-dir -o ./layout app:1 app:2"},
            sortOptions = false)
    static final class Save implements Callable<Integer> {
        @Option(names = {"-o", "--output"}, paramLabel = "FILE|DIR", description = "Write here (default: stdout;"
                + " required for oci-dir).")
        Path output;
        @Option(names = "--format", defaultValue = "docker-archive", description = "docker-archive, oci-archive or oci-dir.")
        String format;
        @Parameters(arity = "1..*", paramLabel = "IMAGE")
        List<String> names;

        @Override
        public Integer call() {
            return ImageCli.guarded(() -> {
                Engine engine = Engine.defaults();
                ImageService images = engine.images();
                dev.hull.engine.ImageFiles.Selection selection = dev.hull.engine.ImageFiles.select(engine, names);
                List<ImageRecord> records = selection.images();
                switch (format) {
                    case "oci-dir" -> {
                        if (output == null) {
                            throw new IllegalArgumentException("--format oci-dir needs -o DIR");
                        }
                        if (dev.hull.runtime.CallerFiles.restricted()) { // a directory tree written as root
                            throw new IllegalArgumentException("--format oci-dir: the service writes a directory only"
                                    + " for root; use --format oci-archive -o FILE (or hull save run as root)");
                        }
                        ImageArchives.saveOciLayout(records, images.store(), Invocation.current().resolve(output));
                    }
                    case "docker-archive", "oci-archive" -> {
                        ArchiveOutput.write(output, out -> {
                            if (format.equals("docker-archive")) {
                                dev.hull.engine.ImageFiles.saveDockerArchive(engine, selection, out);
                            } else {
                                ImageArchives.saveOciArchive(records, images.store(), out);
                            }
                        });
                    }
                    default -> throw new IllegalArgumentException("--format " + format
                            + ": use docker-archive, oci-archive or oci-dir");
                }
                for (ImageRecord r : records) { // docker's save event, named by the image's ID
                    String id = dev.hull.engine.ImageEvents.sha(r.id());
                    dev.hull.engine.ImageEvents.record(engine, "save", id, id, r);
                }
                return 0;
            });
        }
    }
}
