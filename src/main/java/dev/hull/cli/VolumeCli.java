package dev.hull.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.cli.format.GoStruct;
import dev.hull.engine.Engine;
import dev.hull.engine.VolumeStore;
import dev.hull.image.ImageService;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull volume create|ls|inspect|rm|prune}: named volumes, docker's commands. */
final class VolumeCli {
    private VolumeCli() {}

    /** KEY=VALUE (or KEY: an empty value) pairs, as --label takes them. */
    static Map<String, String> labels(List<String> given) throws RuntimeError {
        Map<String, String> out = new LinkedHashMap<>();
        for (String l : given) {
            int eq = l.indexOf('=');
            String key = eq < 0 ? l : l.substring(0, eq);
            if (key.isEmpty()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--label " + l + ": use KEY=VALUE");
            }
            out.put(key, eq < 0 ? "" : l.substring(eq + 1));
        }
        return out;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = {"Create a named volume.", "",
        "A volume is a directory Hull keeps (HULL_HOME/volumes/NAME/_data) for containers to mount with"
            + " -v NAME:/path; its content outlives the containers. hull run -v NAME:/path makes a missing volume"
            + " on the fly; the first container to mount a new, empty volume fills it with what its image has at"
            + " that path (docker's copy-up). Without NAME, the volume gets a random 64-hex-digit name.", "",
        "With -o size=SIZE the volume is a disk of its own, a hard limit (a sparse ext4 image on a loop device):"
            + " writes past it fail with ENOSPC; add -o encrypt=true -o key-file=FILE to encrypt its names and"
            + " contents (fscrypt) with a key of its own, stored only wrapped by FILE's key.", "",
        "Examples:", "  hull volume create data", "  hull volume create --label team=web cache",
        "  hull volume create -o size=1g quota",
        "  hull run --rm -v data:/srv busybox sh -c 'echo hi > /srv/greeting'"}, sortOptions = false)
    static final class Create implements Callable<Integer> {
        @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "A label (repeatable).")
        List<String> labels = new ArrayList<>();
        @Option(names = {"-d", "--driver"}, defaultValue = "local", description = "Volume driver: local (the only"
                + " one).")
        String driver;
        @Option(names = {"-o", "--opt"}, paramLabel = "KEY=VALUE", description = "size=SIZE (e.g. 1g: a disk of its"
                + " own), encrypt=true, key-file=FILE (repeatable).")
        List<String> opts = new ArrayList<>();
        @Parameters(arity = "0..1", paramLabel = "NAME", description = "Letters, digits, _ . - (starting with a"
                + " letter or digit).")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                if (!driver.equals("local")) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--driver " + driver + ": Hull has the local"
                            + " driver only");
                }
                dev.hull.disk.DiskSpec disk = dev.hull.disk.DiskSpec.parse(opts, "--opt", false);
                System.out.println(Engine.defaults().volumes().create(name, labels(labels), disk).name());
                return 0;
            });
        }
    }

    /** --filter name=TEXT (part of the name), label=KEY[=VALUE], dangling=true|false, driver=local. */
    static Predicate<VolumeStore.Volume> filter(List<String> filters, Map<String, List<String>> inUse)
            throws RuntimeError {
        Predicate<VolumeStore.Volume> all = v -> true;
        for (String f : filters) {
            int eq = f.indexOf('=');
            if (eq <= 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--filter " + f + ": use KEY=VALUE");
            }
            String k = f.substring(0, eq);
            String value = f.substring(eq + 1);
            Predicate<VolumeStore.Volume> p = switch (k) {
                case "name" -> v -> v.name().contains(value);
                case "label" -> {
                    int e2 = value.indexOf('=');
                    yield e2 < 0 ? v -> v.labels().containsKey(value)
                            : v -> value.substring(e2 + 1).equals(v.labels().get(value.substring(0, e2)));
                }
                case "dangling" -> {
                    if (!value.matches("true|false|1|0")) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--filter dangling=" + value
                                + ": true or false");
                    }
                    boolean dangling = value.equals("true") || value.equals("1");
                    yield v -> inUse.containsKey(v.name()) != dangling;
                }
                case "driver" -> v -> value.equals("local");
                default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--filter " + k
                        + ": use name, label, dangling or driver");
            };
            all = all.and(p);
        }
        return all;
    }

    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true, description = {"List volumes.", "",
        "Filters: name=TEXT (part of the name), label=KEY[=VALUE], dangling=true (no container uses it) or false,"
            + " driver=local.", "", "Examples:", "  hull volume ls", "  hull volume ls -q --filter dangling=true",
        "  hull volume ls --format json --filter label=team=web"})
    static final class Ls implements Callable<Integer> {
        @Option(names = {"-q", "--quiet"}, description = "Only names.")
        boolean quiet;
        @Option(names = {"-f", "--filter"}, paramLabel = "KEY=VALUE", description = "Filter (repeatable; all must"
                + " match).")
        List<String> filters = new ArrayList<>();
        @Option(names = "--format", defaultValue = "table", description = "table (default), table TEMPLATE, json (one"
                + " object per line: Name, Driver, Mountpoint, Scope, CreatedAt, Labels, InUse) or a Go template over"
                + " docker's fields: {{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}} {{.Labels}} {{.Label \"k\"}}"
                + " {{.Links}} {{.Size}}.")
        String format;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                boolean json = Listing.isJson(format);
                Listing listing = quiet || json ? null : Listing.of(format, Rows.VOLUMES_TABLE, Rows.VOLUMES_HEADERS);
                Engine engine = Engine.defaults();
                Map<String, List<String>> inUse = engine.volumesInUse();
                Predicate<VolumeStore.Volume> keep = filter(filters, inUse);
                for (VolumeStore.Volume v : engine.volumes().list()) {
                    if (!keep.test(v)) {
                        continue;
                    }
                    if (quiet) {
                        System.out.println(v.name());
                    } else if (json) {
                        ObjectNode n = inspect(v);
                        n.put("InUse", inUse.containsKey(v.name()));
                        System.out.println(ImageCli.JSON.writer().without(SerializationFeature.INDENT_OUTPUT)
                                .writeValueAsString(n));
                    } else {
                        listing.add(Rows.withLabels(new GoStruct("*formatter.volumeContext").value("Name", v.name())
                                .value("Driver", "local").value("Scope", "local")
                                .value("Mountpoint", v.mountpoint().toString()).value("Links", "N/A")
                                .value("Size", "N/A"), v.labels()));
                    }
                }
                if (listing != null) {
                    listing.print();
                }
                return 0;
            });
        }
    }

    /** A volume as docker's volume inspect shows it. */
    static ObjectNode inspect(VolumeStore.Volume v) {
        ObjectNode n = ImageCli.JSON.createObjectNode();
        n.put("CreatedAt", v.createdAt());
        n.put("Driver", "local");
        ObjectNode labels = n.putObject("Labels");
        v.labels().forEach(labels::put);
        n.put("Mountpoint", v.mountpoint().toString());
        n.put("Name", v.name());
        n.putObject("Options");
        n.put("Scope", "local");
        VolumeDiskCli.describe(v, n);
        return n;
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = {"Show volumes in detail (JSON,"
        + " docker's fields: Name, Driver, Mountpoint, CreatedAt, Labels, Options, Scope).", "", "Examples:",
        "  hull volume inspect data", "  hull volume inspect -f '{{.Mountpoint}}' data"})
    static final class Inspect implements Callable<Integer> {
        @Option(names = {"-f", "--format"}, description = "A template: {{.Mountpoint}}, {{json .Labels}}.")
        String format;
        @Parameters(arity = "1..*", paramLabel = "VOLUME")
        List<String> names;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                VolumeStore store = Engine.defaults().volumes();
                return ContainerCli.printInspected(names, format, name -> inspect(store.get(name)));
            });
        }
    }

    @Command(name = "rm", aliases = "remove", mixinStandardHelpOptions = true, description = {"Remove volumes and"
        + " their content.", "", "A volume that a container uses (running or not) is refused: remove the container"
            + " first. -f only makes a missing volume no error.", "", "Example:", "  hull volume rm data cache"})
    static final class Rm implements Callable<Integer> {
        @Option(names = {"-f", "--force"}, description = "No error for a volume that does not exist.")
        boolean force;
        @Parameters(arity = "1..*", paramLabel = "VOLUME")
        List<String> names;

        @Override
        public Integer call() {
            Engine engine = Engine.defaults();
            int failed = 0;
            for (String name : names) {
                try {
                    engine.volumes().remove(name, force, engine::volumesInUse);
                    System.out.println(name);
                } catch (Exception e) {
                    System.err.println("hull: " + e.getMessage());
                    failed = 1;
                }
            }
            return failed;
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true, description = {"Remove every volume no container"
        + " uses, with its content.", "",
        "Unused anonymous volumes (-v /path, an image's VOLUME) go as named ones do: unlike docker's, which"
            + " prunes only anonymous volumes unless -a, prune removes every unused volume, with or without -a."
            + " Hull never asks for confirmation.", "", "Examples:", "  hull volume prune", "  hull volume prune --filter"
            + " label=tmp"})
    static final class Prune implements Callable<Integer> {
        @Option(names = {"-a", "--all"}, description = "Accepted for docker's habit (every unused volume goes"
                + " either way).")
        boolean all;
        @Option(names = {"-f", "--force"}, description = "Accepted for docker's habit (Hull never asks).")
        boolean force;
        @Option(names = "--filter", paramLabel = "KEY=VALUE", description = "Only volumes matching: label=KEY[=VALUE]"
                + " or name=TEXT.")
        List<String> filters = new ArrayList<>();

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                Engine engine = Engine.defaults();
                Predicate<VolumeStore.Volume> keep = filter(filters, Map.of());
                VolumeStore.Pruned p = engine.volumes().prune(engine::volumesInUse, keep);
                if (!p.names().isEmpty()) {
                    System.out.println("Deleted Volumes:");
                    p.names().forEach(System.out::println);
                    System.out.println();
                }
                System.out.println("Total reclaimed space: " + ImageService.humanSize(p.bytes()));
                return 0;
            });
        }
    }

    @Command(name = "volume", mixinStandardHelpOptions = true, description = {"Manage named volumes.", "",
        "Examples:", "  hull volume create data", "  hull run --rm -v data:/srv busybox ls /srv", "  hull volume ls",
        "  hull volume rm data"})
    static final class Group implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    /** Adds {@code hull volume} to hull's command line. */
    static void addTo(CommandLine hull) {
        hull.addSubcommand("volume", group());
    }

    static CommandLine group() {
        CommandLine g = new CommandLine(new Group());
        for (Object sub : new Object[] {new Create(), new Ls(), new Inspect(), new Rm(), new Prune(),
            new VolumeDiskCli.Lock(), new VolumeDiskCli.Unlock(), new VolumeDiskCli.Resize(),
            new VolumeArchiveCli.Export(), new VolumeArchiveCli.Import()}) {
            g.addSubcommand(new CommandLine(sub));
        }
        return g;
    }
}
