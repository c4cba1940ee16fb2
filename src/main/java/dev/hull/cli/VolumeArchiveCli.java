package dev.hull.cli;

import dev.hull.engine.Engine;
import dev.hull.engine.VolumeArchives;
import dev.hull.engine.VolumeStore;
import dev.hull.runtime.RuntimeError;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull volume export} and {@code hull volume import}: a volume's content as a tar (podman's commands). */
final class VolumeArchiveCli {
    private VolumeArchiveCli() {}

    @Command(name = "export", mixinStandardHelpOptions = true, description = {"Write a volume's content as a tar:"
        + " owners, modes, times, hard links, device nodes, ACLs, file capabilities and user.* attributes, and the"
        + " volume's own owner and mode. A container writing to the volume meanwhile can make the copy"
        + " inconsistent: stop it first for a consistent backup.", "", "Examples:",
        "  hull volume export -o data.tar data", "  hull volume export data | gzip > data.tar.gz"},
            sortOptions = false)
    static final class Export implements Callable<Integer> {
        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write here (default: stdout).")
        Path output;
        @Parameters(index = "0", paramLabel = "VOLUME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                VolumeStore volumes = Engine.defaults().volumes();
                volumes.get(name); // a missing volume: its error, before any file is made
                VolumeArchives a = new VolumeArchives(volumes);
                ArchiveOutput.write(output, out -> a.export(name, out));
                return 0;
            });
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = {"Add a tar's content (plain, gzip or"
        + " zstd) to a volume that exists, replacing what is in the way; owners, modes, ACLs, file capabilities"
        + " and user.* attributes are kept (other attributes, such as trusted.*, are not). Sparse files stay"
        + " sparse.", "", "An import cut short (killed, or its archive truncated) can be gone on with: --resume with"
        + " the whole archive skips what was written, after checking it is the same archive.", "", "Examples:",
        "  hull volume create data && hull volume import data data.tar",
        "  gunzip -c data.tar.gz | hull volume import data -", "  hull volume import --resume data data.tar"},
            sortOptions = false)
    static final class Import implements Callable<Integer> {
        @Option(names = "--resume", description = "Go on with an interrupted import of this archive.")
        boolean resume;
        @Parameters(index = "0", paramLabel = "VOLUME")
        String name;
        @Parameters(index = "1", paramLabel = "FILE|-")
        String file;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                VolumeStore volumes = Engine.defaults().volumes();
                volumes.get(name); // a missing volume: its error first
                VolumeArchives a = new VolumeArchives(volumes);
                if (file.equals("-")) {
                    imported(a, System.in);
                    return 0;
                }
                Path f = Invocation.current().resolve(Path.of(file));
                try (var o = dev.hull.runtime.CallerFiles.openRead(f, null)) { // with the caller's rights
                    if (!Files.isRegularFile(o.path())) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, f + ": no such file");
                    }
                    try (InputStream in = new BufferedInputStream(Files.newInputStream(o.path()), 1 << 16)) {
                        imported(a, in);
                    }
                } catch (java.io.IOException e) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
                }
                return 0;
            });
        }

        private void imported(VolumeArchives a, InputStream in) throws Exception {
            try {
                a.importInto(name, in, resume);
            } catch (java.io.IOException e) {
                if (a.importing(name)) {
                    System.err.println("hull: volume " + name + ": the import stopped (" + e.getMessage() + "); once"
                            + " the archive is whole, hull volume import --resume " + name + " FILE goes on from there");
                }
                throw e;
            }
        }
    }
}
