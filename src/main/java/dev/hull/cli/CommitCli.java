package dev.hull.cli;

import dev.hull.build.ContainerImages;
import dev.hull.engine.Engine;
import dev.hull.image.ImageRecord;
import dev.hull.service.Stdio;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull commit}, {@code hull export} and {@code hull import}: images from containers and tars. */
final class CommitCli {
    private CommitCli() {}

    /** -c and -m, as commit and import take them. */
    static final class Changes {
        @Option(names = {"-c", "--change"}, paramLabel = "INSTRUCTION", description = "A Dockerfile instruction for the"
                + " config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR ... (repeatable).")
        List<String> changes = new ArrayList<>();
        @Option(names = {"-m", "--message"}, description = "The history entry's comment (import's default: Imported"
                + " from FILE).")
        String message;
    }

    @Command(name = "commit", mixinStandardHelpOptions = true, description = {"Make an image of a container's changes.",
        "", "Its changed files become a layer on its image; its command, entrypoint, env, working dir, user and labels"
            + " go into the config, then each --change. A running container is paused meanwhile.", "", "Examples:",
        "  hull commit web web:snapshot", "  hull commit -c 'CMD [\"httpd\", \"-f\"]' -c 'EXPOSE 80' -m 'add site' web"},
            sortOptions = false)
    static final class Commit implements Callable<Integer> {
        @Mixin
        Changes changes = new Changes();
        @Option(names = {"-a", "--author"}, description = "The image's author (\"Name <email>\").")
        String author;
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String container;
        @Parameters(index = "1", arity = "0..1", paramLabel = "REPOSITORY[:TAG]")
        String ref;

        @Override
        public Integer call() {
            return guarded(() -> {
                ImageRecord r = new ContainerImages(Engine.defaults()).commit(container, ref,
                        new ContainerImages.Meta(changes.message, author, changes.changes));
                System.out.println(r.id());
                return 0;
            });
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, description = {"Write a container's filesystem as a tar.",
        "", "A running container is paused meanwhile.", "", "Examples:", "  hull export -o web.tar web", "  hull export web | tar -t"}, sortOptions = false)
    static final class Export implements Callable<Integer> {
        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write here (default: stdout).")
        Path output;
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String container;

        @Override
        public Integer call() {
            return guarded(() -> {
                ContainerImages c = new ContainerImages(Engine.defaults());
                ArchiveOutput.write(output, out -> c.export(container, out));
                return 0;
            });
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = {"Make an image of a filesystem tar.", "",
        "The tar (plain, gzip, bzip2, xz or zstd) becomes the image's one layer; --change sets its config.", "",
        "Examples:", "  hull import rootfs.tar.gz debian:local", "  hull export web | hull import -c 'CMD [\"sh\"]' - web:flat"},
            sortOptions = false)
    static final class Import implements Callable<Integer> {
        @Mixin
        Changes changes = new Changes();
        @Parameters(index = "0", paramLabel = "FILE|-")
        String file;
        @Parameters(index = "1", arity = "0..1", paramLabel = "REPOSITORY[:TAG]")
        String ref;

        @Override
        public Integer call() {
            return guarded(() -> {
                ContainerImages c = new ContainerImages(Engine.defaults());
                ContainerImages.Meta meta = new ContainerImages.Meta(changes.message, null, changes.changes);
                ImageRecord r;
                if (file.equals("-")) {
                    r = c.importTar(System.in, "-", ref, meta);
                } else {
                    // the caller's file, opened with its rights (a warm caller other than root reads only what it may)
                    try (var f = dev.hull.runtime.CallerFiles.openRead(Invocation.current().resolve(Path.of(file)), null)) {
                        if (!Files.isRegularFile(f.path())) {
                            throw new IllegalArgumentException(file + ": no such file");
                        }
                        try (InputStream in = Files.newInputStream(f.path())) {
                            r = c.importTar(in, file, ref, meta);
                        }
                    }
                }
                System.out.println(r.id());
                return 0;
            });
        }
    }

    /** Every failure is Hull's (exit 125), its message prefixed "hull: ". */
    private static int guarded(Callable<Integer> body) {
        try {
            return body.call();
        } catch (Exception e) {
            System.out.flush();
            System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 125;
        }
    }
}
