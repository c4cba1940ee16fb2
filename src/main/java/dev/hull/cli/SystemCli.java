package dev.hull.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.DiskUsage;
import dev.hull.engine.Engine;
import dev.hull.engine.SystemInfo;
import dev.hull.image.ImageService;
import dev.hull.image.Reference;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hull system df}, {@code hull system info} (also {@code hull info}), {@code hull version}. */
final class SystemCli {
    private SystemCli() {}

    /** Adds {@code hull system df|info}, {@code hull info} and {@code hull version} to hull's command line. */
    static void addTo(picocli.CommandLine hull) {
        picocli.CommandLine system = hull.getSubcommands().get("system");
        system.addSubcommand("df", new picocli.CommandLine(new Df()));
        system.addSubcommand("info", new picocli.CommandLine(new Info()));
        system.addSubcommand("events", new picocli.CommandLine(new EventsCli()));
        system.addSubcommand("prune", new picocli.CommandLine(new SystemPruneCli()));
        hull.addSubcommand("info", new picocli.CommandLine(new Info()));
        hull.addSubcommand("version", new picocli.CommandLine(new VersionCommand()));
    }

    static void checkFormat(String format) throws RuntimeError {
        if (!format.equals("table") && !format.equals("json")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--format " + format + ": use table or json");
        }
    }

    static String line(JsonNode n) throws Exception {
        return ImageCli.JSON.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(n);
    }

    @Command(name = "df", mixinStandardHelpOptions = true, description = {"Show the disk space images, containers"
        + " and volumes take.", "",
        "SIZE: images' unpacked layers (a layer shared by several images counted once), containers' writable"
            + " layers (with the copy snapshotter, a container's whole copy of its image), volumes' files."
            + " ACTIVE: images and volumes that containers use, containers that run."
            + " RECLAIMABLE: what hull image prune -a, hull container prune and hull volume prune would free.", "",
        "--format json prints one object per type (sizes in bytes); with -v, one object with Images, Containers"
            + " and Volumes lists.", "", "Examples:", "  hull system df", "  hull system df -v",
        "  hull system df --format json"})
    static final class Df implements Callable<Integer> {
        @Option(names = {"-v", "--verbose"}, description = "Every image, container and volume.")
        boolean verbose;
        @Option(names = "--format", defaultValue = "table", description = "table (default), table TEMPLATE, json or a"
                + " Go template over docker's fields: {{.Type}} {{.TotalCount}} {{.Active}} {{.Size}}"
                + " {{.Reclaimable}} (without -v).")
        String format;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                if (verbose) {
                    checkFormat(format);
                }
                DiskUsage du = DiskUsage.of(Engine.defaults());
                if (format.equals("json")) {
                    if (verbose) {
                        System.out.println(ImageCli.JSON.writeValueAsString(verboseJson(du)));
                    } else {
                        for (DiskUsage.Summary s : du.summary()) {
                            ObjectNode n = ImageCli.JSON.createObjectNode();
                            n.put("Type", s.type());
                            n.put("TotalCount", s.total());
                            n.put("Active", s.active());
                            n.put("Size", s.size());
                            n.put("Reclaimable", s.reclaimable());
                            System.out.println(line(n));
                        }
                    }
                    return 0;
                }
                if (verbose) {
                    printVerbose(du);
                    return 0;
                }
                Listing listing = Listing.of(format, Rows.DF_TABLE, Rows.DF_HEADERS);
                for (DiskUsage.Summary s : du.summary()) {
                    listing.add(new dev.hull.cli.format.GoStruct("*formatter.diskUsageContext").value("Type", s.type())
                            .value("TotalCount", Integer.toString(s.total()))
                            .value("Active", Integer.toString(s.active()))
                            .value("Size", ImageService.humanSize(s.size()))
                            .value("Reclaimable", ImageService.humanSize(s.reclaimable()) + percent(s)));
                }
                listing.print();
                return 0;
            });
        }

        private static String percent(DiskUsage.Summary s) {
            return s.size() == 0 ? "" : " (" + Math.round(100.0 * s.reclaimable() / s.size()) + "%)";
        }

        private static ObjectNode verboseJson(DiskUsage du) {
            ObjectNode root = ImageCli.JSON.createObjectNode();
            ArrayNode images = root.putArray("Images");
            for (DiskUsage.ImageUsage i : du.images()) {
                ObjectNode n = images.addObject();
                n.put("ID", i.image().id());
                ArrayNode names = n.putArray("RepoTags");
                i.image().names().forEach(x -> names.add(Reference.parse(x).familiar()));
                n.put("CreatedAt", i.image().created());
                n.put("Size", i.size());
                n.put("SharedSize", i.sharedSize());
                n.put("UniqueSize", i.uniqueSize());
                n.put("Containers", i.containers());
            }
            ArrayNode containers = root.putArray("Containers");
            for (DiskUsage.ContainerUsage c : du.containers()) {
                ObjectNode n = containers.addObject();
                n.put("ID", c.info().id());
                n.put("Names", c.info().name());
                n.put("Image", c.info().image());
                n.put("Command", String.join(" ", c.info().args()));
                n.put("CreatedAt", c.info().created());
                n.put("State", c.status());
                n.put("Size", c.size());
                ArrayNode vols = n.putArray("Volumes");
                c.volumes().forEach(vols::add);
            }
            ArrayNode volumes = root.putArray("Volumes");
            for (DiskUsage.VolumeUsage v : du.volumes()) {
                ObjectNode n = volumes.addObject();
                n.put("Name", v.volume().name());
                n.put("Driver", "local");
                n.put("Mountpoint", v.volume().mountpoint().toString());
                n.put("Links", v.links());
                n.put("Size", v.size());
            }
            return root;
        }

        private static void printVerbose(DiskUsage du) {
            System.out.println("Images space usage:");
            System.out.println();
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE",
                "CONTAINERS"});
            for (DiskUsage.ImageUsage i : du.images()) {
                List<String> names = i.image().names().isEmpty() ? List.of("") : i.image().names();
                for (String name : names) {
                    String repo = "<none>";
                    String tag = "<none>";
                    if (!name.isEmpty()) {
                        Reference ref = Reference.parse(name);
                        repo = ref.familiarName();
                        tag = ref.tag() == null ? "<none>" : ref.tag();
                    }
                    rows.add(new String[] {repo, tag, i.image().digest().shortHex(), ImageCli.ago(i.image().created()),
                        ImageService.humanSize(i.size()), ImageService.humanSize(i.sharedSize()),
                        ImageService.humanSize(i.uniqueSize()), Integer.toString(i.containers())});
                }
            }
            ContainerCli.printTable(rows);
            System.out.println();
            System.out.println("Containers space usage:");
            System.out.println();
            rows = new ArrayList<>();
            rows.add(new String[] {"CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS",
                "NAMES"});
            for (DiskUsage.ContainerUsage c : du.containers()) {
                String cmd = String.join(" ", c.info().args());
                if (cmd.length() > 20) {
                    cmd = cmd.substring(0, 19) + "…";
                }
                rows.add(new String[] {c.info().shortId(), c.info().image(), "\"" + cmd + "\"",
                    Integer.toString(c.volumes().size()), ImageService.humanSize(c.size()), ImageCli.ago(c.info().created()),
                    c.status(), c.info().name()});
            }
            ContainerCli.printTable(rows);
            System.out.println();
            System.out.println("Local Volumes space usage:");
            System.out.println();
            rows = new ArrayList<>();
            rows.add(new String[] {"VOLUME NAME", "LINKS", "SIZE"});
            for (DiskUsage.VolumeUsage v : du.volumes()) {
                rows.add(new String[] {v.volume().name(), Integer.toString(v.links()), ImageService.humanSize(v.size())});
            }
            ContainerCli.printTable(rows);
        }
    }

    /** 8.5GiB: docker's binary units for memory. */
    static String binarySize(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + "B" : String.format(Locale.ROOT, "%.3g%s", v, units[u]);
    }

    @Command(name = "info", mixinStandardHelpOptions = true, description = {"Show Hull's and the host's"
        + " configuration: containers by state, images, volumes, where the store and state live, the snapshotter,"
        + " the cgroup version and layout, kernel, OS, CPUs, memory, seccomp; the config file"
        + " (/etc/hull/hull.json or $HULL_CONFIG) and the defaults new containers get from it.", "",
        "--format json uses docker's field names (Containers, ContainersRunning, Driver, CgroupVersion,"
            + " KernelVersion, NCPU, MemTotal, SecurityOptions, LoggingDriver, ...) plus HullRootDir, StateDir,"
            + " CgroupLayout, Config, Defaults, WritableLayerLimit, Disks, Lxcfs.", "",
        "Examples:", "  hull info", "  hull system info --format json"})
    static final class Info implements Callable<Integer> {
        @Option(names = {"-f", "--format"}, defaultValue = "table", description = "table (default: text), json or a"
                + " Go template over the json's fields: {{.KernelVersion}}, {{json .Defaults}}.")
        String format;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                ObjectNode n = SystemInfo.collect(Engine.defaults(), Version.HULL);
                if (format.equals("json")) {
                    System.out.println(ImageCli.JSON.writeValueAsString(n));
                    return 0;
                }
                if (!format.equals("table")) {
                    System.out.println(Listing.document(format, n));
                    return 0;
                }
                String[][] lines = {
                    {"Hull Version", n.path("ServerVersion").asText() + " (build " + dev.hull.service.BuildInfo.id() + ")"},
                    {"Service", ServiceCli.describe()},
                    {"Containers", n.path("Containers").asText()},
                    {" Running", n.path("ContainersRunning").asText()},
                    {" Paused", n.path("ContainersPaused").asText()},
                    {" Stopped", n.path("ContainersStopped").asText()},
                    {"Images", n.path("Images").asText()},
                    {"Volumes", n.path("Volumes").asText()},
                    {"Storage Root (HULL_HOME)", n.path("HullRootDir").asText()},
                    {"State Dir (HULL_STATE)", n.path("StateDir").asText()},
                    {"Rootless", n.path("Rootless").asText()},
                    {"Snapshotter", n.path("Driver").asText()},
                    {"Cgroup Driver", n.path("CgroupDriver").asText()},
                    {"Cgroup Version", n.path("CgroupVersion").asText() + " (" + n.path("CgroupLayout").asText() + ")"},
                    {"Kernel Version", n.path("KernelVersion").asText()},
                    {"Operating System", n.path("OperatingSystem").asText()},
                    {"OSType", n.path("OSType").asText()},
                    {"Architecture", n.path("Architecture").asText()},
                    {"CPUs", n.path("NCPU").asText()},
                    {"Total Memory", binarySize(n.path("MemTotal").asLong())},
                    {"Security Options", n.path("SecurityOptions").isEmpty() ? "none"
                        : n.path("SecurityOptions").get(0).asText().contains("seccomp") ? "seccomp (profile: builtin)"
                        : n.path("SecurityOptions").get(0).asText()},
                    {"Java Version", n.path("JavaVersion").asText()},
                    {"Config File", configLine(n.path("Config"))},
                    {"Default PIDs Limit", n.has("Defaults") ? pidsLine(n.path("Defaults").path("PidsLimit").asLong())
                        : "unknown (the config file is invalid)"},
                    {"Default Log Rotation", n.has("Defaults") ? logLine(n.path("Defaults").path("LogConfig"))
                        : "unknown (the config file is invalid)"},
                    {"Writable Layer Limit", n.path("WritableLayerLimit").asText()},
                    {"Disks", n.path("Disks").asText()},
                    {"Lxcfs", n.path("Lxcfs").asText()},
                };
                for (String[] l : lines) {
                    System.out.println(l[0] + ": " + l[1]);
                }
                return 0;
            });
        }
    }

    /** "/etc/hull/hull.json", with "(not found: built-in defaults)" or "(invalid: ...)" when so. */
    static String configLine(com.fasterxml.jackson.databind.JsonNode c) {
        String file = c.path("File").asText();
        if (c.has("Error")) {
            String error = c.path("Error").asText();
            String prefix = "config file " + file + ": ";
            return file + " (invalid: " + (error.startsWith(prefix) ? error.substring(prefix.length()) : error) + ")";
        }
        return c.path("Found").asBoolean() ? file : file + " (not found: built-in defaults)";
    }

    static String pidsLine(long limit) {
        return (limit > 0 ? Long.toString(limit) : "none") + " (a run's --pids-limit overrides it; -1: none)";
    }

    static String logLine(com.fasterxml.jackson.databind.JsonNode lc) {
        var opts = lc.path("Config");
        if (!opts.has("max-size")) {
            return "none (the json-file log grows without bound; a run's --log-opt max-size= sets one)";
        }
        return "max-size " + opts.path("max-size").asText() + ", max-file " + opts.path("max-file").asText("1")
                + " (" + lc.path("Type").asText() + "; a run's --log-opt max-size=, max-file= override them)";
    }

    @Command(name = "version", mixinStandardHelpOptions = true, description = {"Show Hull's version: the command"
        + " line and the engine, this build and the service the command ran in (if any), the OCI spec it implements, Java, and the"
        + " executor binary.", "", "Examples:", "  hull version", "  hull version --format json"})
    static final class VersionCommand implements Callable<Integer> {
        @Option(names = {"-f", "--format"}, defaultValue = "table", description = "table (default: text), json or a"
                + " Go template over the json's fields: {{.Client.Version}}, {{.Server.Version}} (Server: the"
                + " Engine, as docker names it).")
        String format;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                ObjectNode n = ImageCli.JSON.createObjectNode();
                ObjectNode client = n.putObject("Client");
                client.put("Version", Version.HULL);
                client.put("JavaVersion", System.getProperty("java.version"));
                client.put("JavaHome", System.getProperty("java.home"));
                client.put("Os", "linux");
                client.put("Arch", System.getProperty("os.arch"));
                ObjectNode engine = n.putObject("Engine");
                engine.put("Version", Version.HULL);
                engine.put("OciSpecVersion", ContainerRuntime.OCI_VERSION);
                String executor;
                try {
                    executor = dev.hull.runtime.executor.ExecutorSession.binary().toAbsolutePath().toString();
                } catch (RuntimeException e) {
                    executor = "not found (" + e.getMessage() + ")";
                }
                engine.put("Executor", executor);
                engine.put("Build", dev.hull.service.BuildInfo.id());
                dev.hull.service.WarmServer.Status service = dev.hull.service.WarmServer.current();
                if (service != null) {
                    ObjectNode sv = engine.putObject("Service");
                    sv.put("Pid", service.pid());
                    sv.put("Build", service.build());
                    sv.put("Started", service.started().toString());
                    sv.put("UptimeSeconds", java.time.Duration.between(service.started(), java.time.Instant.now())
                            .toSeconds());
                    sv.put("Socket", service.socket().toString());
                    sv.put("IdleTimeoutSeconds", service.idleTimeout().toSeconds());
                    sv.put("CommandsServed", service.served());
                }
                engine.put("KernelVersion", java.nio.file.Files.readString(java.nio.file.Path.of(
                        "/proc/sys/kernel/osrelease")).strip());
                if (format.equals("json")) {
                    System.out.println(ImageCli.JSON.writeValueAsString(n));
                    return 0;
                }
                if (!format.equals("table")) {
                    ObjectNode data = n.deepCopy();
                    data.set("Server", engine);
                    System.out.println(Listing.document(format, data));
                    return 0;
                }
                System.out.println("Client:");
                System.out.println(" Version:       " + Version.HULL);
                System.out.println(" Java version:  " + client.path("JavaVersion").asText() + " ("
                        + client.path("JavaHome").asText() + ")");
                System.out.println(" OS/Arch:       linux/" + client.path("Arch").asText());
                System.out.println();
                System.out.println("Engine:");
                System.out.println(" Version:       " + Version.HULL);
                System.out.println(" OCI spec:      " + ContainerRuntime.OCI_VERSION);
                System.out.println(" Executor:      " + executor);
                System.out.println(" Build:         " + dev.hull.service.BuildInfo.id());
                System.out.println(" Service:       " + ServiceCli.describe());
                System.out.println(" Kernel:        " + engine.path("KernelVersion").asText());
                return 0;
            });
        }
    }
}
