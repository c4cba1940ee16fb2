package dev.hull.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.Engine;
import dev.hull.engine.network.NetworkInfo;
import dev.hull.engine.network.NetworkState;
import dev.hull.engine.network.NetworkStore;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull network create|ls|inspect|rm|connect|disconnect|prune} and {@code hull port}: docker's commands. */
final class NetworkCli {
    private NetworkCli() {}

    @Command(name = "create", mixinStandardHelpOptions = true, description = {"Create a bridge network.", "",
        "Containers on it (hull run --network NAME) get an address from its subnet, reach each other by container"
            + " name, --network-alias and short id (each one's /etc/hosts lists its running peers), and reach out"
            + " through NAT unless --internal. Containers on different networks cannot reach each other."
            + " Without --subnet, the network gets the first free /24 of 10.90.0.0/16.", "",
        "Examples:", "  hull network create web", "  hull network create --subnet 10.91.0.0/24 --gateway 10.91.0.254 db",
        "  hull network create --internal backend"}, sortOptions = false)
    static final class Create implements Callable<Integer> {
        @Option(names = "--subnet", paramLabel = "CIDR", description = "IPv4 subnet, e.g. 10.91.0.0/24.")
        String subnet;
        @Option(names = "--gateway", paramLabel = "ADDRESS", description = "The bridge's (the host's) address on it"
                + " (default: the subnet's first).")
        String gateway;
        @Option(names = "--internal", description = "No way out: no NAT, no default route, no traffic to other"
                + " networks.")
        boolean internal;
        @Option(names = {"-d", "--driver"}, defaultValue = "bridge", description = "bridge (the only driver).")
        String driver;
        @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "A label (repeatable).")
        List<String> labels = new ArrayList<>();
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                if (!driver.equals("bridge")) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--driver " + driver
                            + ": Hull has the bridge driver only");
                }
                Engine engine = Engine.defaults();
                if (dev.hull.engine.Rootless.active() && engine.networking().userMode() == null) {
                    throw dev.hull.engine.Rootless.refuse("network create", "a rootless network needs a user-mode"
                            + " network stack: " + dev.hull.engine.RootlessNetwork.choose().why());
                }
                NetworkInfo n = engine.networking().store().create(name, subnet, gateway, internal,
                        VolumeCli.labels(labels));
                System.out.println(n.id());
                return 0;
            });
        }
    }

    private static List<ObjectNode> all(Engine engine, boolean withContainers) throws Exception {
        return dev.hull.engine.NetworkInspector.all(engine, withContainers);
    }

    static ObjectNode inspect(Engine engine, NetworkInfo n, boolean withContainers) throws Exception {
        return dev.hull.engine.NetworkInspector.inspect(engine, n, withContainers);
    }

    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true, description = {"List networks.", "",
        "Filters (repeatable; values of one key: any; keys: all): name=TEXT (part of the name), id=TEXT (part of"
            + " the id), driver=DRIVER, label=KEY[=VALUE], type=builtin|custom, scope=local.", "",
        "Examples:", "  hull network ls", "  hull network ls -q", "  hull network ls --format json",
        "  hull network ls --filter driver=bridge --filter label=team"})
    static final class Ls implements Callable<Integer> {
        @Option(names = {"-f", "--filter"}, paramLabel = "KEY=VALUE", description = "Filter (repeatable).")
        List<String> filters = new ArrayList<>();
        @Option(names = {"-q", "--quiet"}, description = "Only names.")
        boolean quiet;
        @Option(names = "--no-trunc", description = "Full ids.")
        boolean noTrunc;
        @Option(names = "--format", defaultValue = "table", description = "table (default), table TEMPLATE, json (one"
                + " object per line: docker's network inspect fields without Containers) or a Go template over"
                + " docker's fields: {{.ID}} {{.Name}} {{.Driver}} {{.Scope}} {{.IPv6}} {{.Internal}} {{.Labels}}"
                + " {{.Label \"k\"}} {{.CreatedAt}}.")
        String format;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                boolean json = Listing.isJson(format);
                Listing listing = quiet || json ? null : Listing.of(format, Rows.NETWORKS_TABLE, Rows.NETWORKS_HEADERS);
                java.util.Map<String, List<String>> f = filters(filters);
                for (ObjectNode n : all(Engine.defaults(), false)) {
                    if (!matches(n, f)) {
                        continue;
                    }
                    if (quiet) {
                        System.out.println(n.path("Name").asText());
                    } else if (json) {
                        n.remove("Containers");
                        System.out.println(ImageCli.JSON.writer().without(SerializationFeature.INDENT_OUTPUT)
                                .writeValueAsString(n));
                    } else {
                        listing.add(row(n, !noTrunc));
                    }
                }
                if (listing != null) {
                    listing.print();
                }
                return 0;
            });
        }

        private static final List<String> KEYS = List.of("name", "id", "driver", "label", "type", "scope");

        static java.util.Map<String, List<String>> filters(List<String> given) throws RuntimeError {
            java.util.Map<String, List<String>> f = new java.util.LinkedHashMap<>();
            for (String s : given) {
                int eq = s.indexOf('=');
                if (eq <= 0) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--filter " + s + ": use KEY=VALUE");
                }
                String k = s.substring(0, eq);
                if (!KEYS.contains(k)) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid filter '" + k + "'");
                }
                String v = s.substring(eq + 1);
                if (k.equals("type") && !v.equals("builtin") && !v.equals("custom")) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid filter: 'type'='" + v + "'");
                }
                f.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
            }
            return f;
        }

        /** docker's network list filters on a network inspect object. */
        static boolean matches(ObjectNode n, java.util.Map<String, List<String>> f) {
            String name = n.path("Name").asText();
            boolean builtin = List.of("bridge", "host", "none").contains(name);
            java.util.Map<String, String> labels = new java.util.TreeMap<>();
            n.path("Labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
            return any(f, "name", v -> name.contains(v)) && any(f, "id", v -> n.path("Id").asText().contains(v))
                    && any(f, "driver", v -> v.equals(n.path("Driver").asText()))
                    && any(f, "scope", v -> v.equals(n.path("Scope").asText("local")))
                    && any(f, "type", v -> v.equals("builtin") == builtin)
                    && dev.hull.engine.EventMessages.labelsMatch(f, labels);
        }

        private static boolean any(java.util.Map<String, List<String>> f, String key,
                java.util.function.Predicate<String> p) {
            List<String> v = f.get(key);
            return v == null || v.stream().anyMatch(p);
        }

        /** docker's networkContext fields of a network inspect object. */
        private static dev.hull.cli.format.GoStruct row(ObjectNode n, boolean trunc) {
            String id = n.path("Id").asText();
            java.util.Map<String, String> labels = new java.util.TreeMap<>();
            n.path("Labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
            return Rows.withLabels(new dev.hull.cli.format.GoStruct("*formatter.networkContext")
                    .value("ID", trunc && id.length() > 12 ? id.substring(0, 12) : id)
                    .value("Name", n.path("Name").asText()).value("Driver", n.path("Driver").asText())
                    .value("Scope", n.path("Scope").asText("local"))
                    .value("IPv6", Boolean.toString(n.path("EnableIPv6").asBoolean()))
                    .value("Internal", Boolean.toString(n.path("Internal").asBoolean()))
                    .value("CreatedAt", Rows.goTime(n.path("Created").asText(null))), labels);
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = {"Show networks in detail (JSON,"
        + " docker's fields: Name, Id, Driver, IPAM.Config, Internal, Containers, Options, Labels).", "",
        "Examples:", "  hull network inspect web", "  hull network inspect -f '{{json .IPAM.Config}}' bridge"})
    static final class Inspect implements Callable<Integer> {
        @Option(names = {"-f", "--format"}, description = "A template: {{.Id}}, {{json .Containers}}.")
        String format;
        @Parameters(arity = "1..*", paramLabel = "NETWORK")
        List<String> refs;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                Engine engine = Engine.defaults();
                return ContainerCli.printInspected(refs, format,
                        ref -> inspect(engine, engine.networking().store().resolve(ref), true));
            });
        }
    }

    @Command(name = "rm", aliases = "remove", mixinStandardHelpOptions = true, description = {"Remove networks:"
        + " their bridge, NAT rules and record.", "",
        "A network a container is configured to use (running or not) is refused: remove the container or"
            + " disconnect it first. bridge, host and none cannot be removed.", "", "Example:",
        "  hull network rm web db"})
    static final class Rm implements Callable<Integer> {
        @Option(names = {"-f", "--force"}, description = "No error for a network that does not exist.")
        boolean force;
        @Parameters(arity = "1..*", paramLabel = "NETWORK")
        List<String> refs;

        @Override
        public Integer call() {
            Engine engine = Engine.defaults();
            return ContainerCli.each(refs, ref -> {
                try {
                    engine.removeNetwork(ref);
                } catch (RuntimeError e) {
                    if (!(force && e.kind() == RuntimeError.Kind.NOT_FOUND)) {
                        throw e;
                    }
                }
            });
        }
    }

    @Command(name = "connect", mixinStandardHelpOptions = true, description = {"Put a container on one more"
        + " network.", "", "A running container gets a new interface (eth1, eth2, ...) at once; a stopped one at its"
            + " next start. Its peers there find it by name and --alias.", "", "Examples:",
        "  hull network connect web app", "  hull network connect --ip 10.91.0.10 --alias cache db app"})
    static final class Connect implements Callable<Integer> {
        @Option(names = "--ip", paramLabel = "ADDRESS", description = "Its address on that network.")
        String ip;
        @Option(names = "--alias", paramLabel = "NAME", description = "Another name for it there (repeatable).")
        List<String> aliases = new ArrayList<>();
        @Parameters(index = "0", paramLabel = "NETWORK")
        String network;
        @Parameters(index = "1", paramLabel = "CONTAINER")
        String container;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                Engine.defaults().connect(network, container, ip, aliases);
                return 0;
            });
        }
    }

    @Command(name = "disconnect", mixinStandardHelpOptions = true, description = {"Take a container off a"
        + " network (its interface there goes at once if it runs).", "", "Example:", "  hull network disconnect web app"})
    static final class Disconnect implements Callable<Integer> {
        @Option(names = {"-f", "--force"}, description = "Accepted for docker's habit.")
        boolean force;
        @Parameters(index = "0", paramLabel = "NETWORK")
        String network;
        @Parameters(index = "1", paramLabel = "CONTAINER")
        String container;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                Engine.defaults().disconnect(network, container);
                return 0;
            });
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true, description = {"Remove every user-defined network"
        + " no container uses, and what ended containers left (addresses, published ports, namespaces);"
            + " write Hull's nftables rules again where they are missing (after a firewall reload flushed them).", "",
        "Hull never asks for confirmation.", "", "Example:", "  hull network prune"})
    static final class Prune implements Callable<Integer> {
        @Option(names = {"-f", "--force"}, description = "Accepted for docker's habit (Hull never asks).")
        boolean force;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                Engine engine = Engine.defaults();
                List<String> removed = dev.hull.engine.Pruning.networks(engine, null);
                engine.networking().restoreRules(); // a firewall reload may have flushed them
                if (!removed.isEmpty()) {
                    System.out.println("Deleted Networks:");
                    removed.forEach(System.out::println);
                }
                return 0;
            });
        }
    }

    @Command(name = "port", mixinStandardHelpOptions = true, description = {"Show a running container's published"
        + " ports: CONTAINER_PORT/PROTO -> HOST_IP:HOST_PORT, or the host side of one port.", "", "Examples:",
        "  hull port web", "  hull port web 80", "  hull port web 53/udp"})
    static final class Port implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String container;
        @Parameters(index = "1", arity = "0..1", paramLabel = "PORT[/PROTO]")
        String port;

        @Override
        public Integer call() {
            return ContainerCli.guarded(1, () -> {
                Engine engine = Engine.defaults();
                ContainerInfo c = engine.containers().resolve(container);
                NetworkState st = engine.state(c).running() ? engine.networking().state(c.id()) : null;
                String want = port == null ? null : port.contains("/") ? port : port + "/tcp";
                boolean found = false;
                for (var p : st == null ? List.<dev.hull.linux.net.Nftables.PortMapping>of() : st.ports()) {
                    String key = p.containerPort() + "/" + p.protocol();
                    String host = (p.hostIp() == null ? "0.0.0.0" : p.hostIp()) + ":" + p.hostPort();
                    if (want == null) {
                        System.out.println(key + " -> " + host);
                        found = true;
                    } else if (want.equals(key)) {
                        System.out.println(host);
                        found = true;
                    }
                }
                if (want != null && !found) {
                    throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "no public port '" + want
                            + "' published for " + c.name());
                }
                return 0;
            });
        }
    }

    @Command(name = "network", mixinStandardHelpOptions = true, description = {"Manage networks.", "",
        "Every container is on the default network, bridge (kernel bridge hull0, " + NetworkStore.DEFAULT_SUBNET
            + "), unless --network says otherwise. Published ports (-p) and NAT are nftables rules in the table"
            + " `ip hull`.", "", "Examples:", "  hull network create web",
        "  hull run -d --network web --name api busybox httpd -f -p 80",
        "  hull run --rm --network web busybox wget -qO- http://api/", "  hull network ls", "  hull network rm web"})
    static final class Group implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    /** Adds {@code hull network} to hull's command line. */
    static void addTo(CommandLine hull) {
        CommandLine g = new CommandLine(new Group());
        for (Object sub : new Object[] {new Create(), new Ls(), new Inspect(), new Rm(), new Connect(),
            new Disconnect(), new Prune()}) {
            g.addSubcommand(new CommandLine(sub));
        }
        hull.addSubcommand("network", g);
    }
}
