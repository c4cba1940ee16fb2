package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.network.NetworkRequest;
import dev.hull.engine.network.NetworkStore;
import dev.hull.engine.network.Networking;
import dev.hull.engine.network.PortSpec;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link Engine}'s container-side network operations: what a container asks of the network,
 * network connect/disconnect/rm, joining another container's namespace, and claiming an idle
 * container whose wiring can be reclaimed. {@link Networking} does the wiring itself.
 */
final class ContainerNetworkOps {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Engine engine;
    private final ContainerStore containers;
    private final Networking networking;

    ContainerNetworkOps(Engine engine) {
        this.engine = engine;
        this.containers = engine.containers();
        this.networking = engine.networking();
    }

    private Engine.State state(ContainerInfo info) throws IOException {
        return engine.state(info);
    }

    private ContainerRecord requireRunning(ContainerInfo info) throws IOException, RuntimeError {
        return engine.requireRunning(info);
    }

    /** {@code --network container:NAME}: the config's network namespace becomes NAME's (which must run). */
    void joinContainerNetwork(ContainerInfo info, String ref) throws IOException, RuntimeError {
        ContainerInfo other = containers.resolve(ref);
        if (other.id().equals(info.id())) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--network container:" + ref + " is this container");
        }
        ContainerRecord rec = requireRunning(other);
        var st = networking.state(other.id());
        String path = st != null ? st.netns() : "/proc/" + rec.pid() + "/ns/net";
        Path config = containers.dir(info.id()).resolve("config.json");
        ObjectNode spec = (ObjectNode) JSON.readTree(config.toFile());
        ContainerSpecBuilder.joinNetwork(spec, path);
        ContainerStarter.rewriteConfig(config, spec);
    }

    /** What the container asks of the network, from its options. */
    NetworkRequest networkRequest(ContainerInfo info) throws RuntimeError {
        return networkRequest(info.id(), info.name(), info.options() != null ? info.options() : new CreateOptions(),
                info.exposedPorts() == null ? List.of() : info.exposedPorts());
    }

    static NetworkRequest networkRequest(String id, String name, CreateOptions o, List<String> exposed)
            throws RuntimeError {
        String mode = o.network == null ? "bridge" : o.network;
        List<NetworkRequest.Attachment> attachments = new ArrayList<>();
        List<PortSpec> ports = new ArrayList<>();
        try {
            if (NetworkRequest.wired(mode) || o.ip != null) {
                attachments.add(new NetworkRequest.Attachment(mode, o.ip, o.networkAliases));
            }
            for (CreateOptions.Connection c : o.connections) {
                attachments.add(new NetworkRequest.Attachment(c.network, c.ip, c.aliases));
            }
            for (String p : o.publish) {
                ports.addAll(PortSpec.parse(p));
            }
            for (String e : o.expose) {
                PortSpec.exposed(e); // checked also without -P
            }
            if (o.publishAll) {
                java.util.Set<String> keys = new java.util.LinkedHashSet<>(exposed);
                keys.addAll(o.expose);
                for (String k : keys) {
                    for (PortSpec e : PortSpec.exposed(k)) {
                        if (ports.stream().noneMatch(p -> p.containerPort() == e.containerPort()
                                && p.protocol().equals(e.protocol()))) {
                            ports.add(e);
                        }
                    }
                }
            }
            // what goes into /etc/hosts and resolv.conf (the container's and its peers'): one word each
            for (String h : o.addHosts) {
                dev.hull.engine.network.HostFiles.checkAddHost(h);
            }
            for (String a : o.networkAliases) {
                dev.hull.engine.network.HostFiles.checkName(a, "--network-alias");
            }
            for (CreateOptions.Connection c : o.connections) {
                for (String a : c.aliases) {
                    dev.hull.engine.network.HostFiles.checkName(a, "--alias");
                }
            }
            if (o.hostname != null) {
                dev.hull.engine.network.HostFiles.checkName(o.hostname, "--hostname");
            }
            for (String d : o.dnsSearch) {
                dev.hull.engine.network.HostFiles.checkName(d, "--dns-search");
            }
            for (String d : o.dns) {
                dev.hull.engine.network.HostFiles.checkAddress(d, "--dns");
            }
            for (String d : o.dnsOptions) {
                if (!d.matches("[A-Za-z0-9:._-]{1,64}")) {
                    throw new IllegalArgumentException("--dns-option " + d + ": an option like ndots:2 or rotate");
                }
            }
            if (o.macAddress != null) {
                dev.hull.linux.net.Netlink.parseMac(o.macAddress);
            }
        } catch (IllegalArgumentException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
        String hostname = o.hostname != null ? o.hostname : id.substring(0, 12);
        return new NetworkRequest(id, name, hostname, mode, attachments, ports, o.macAddress, o.dns, o.dnsSearch,
                o.dnsOptions, o.addHosts);
    }

    /**
     * The container's lock if nothing runs in it and nobody changes it (or a no-op if it is gone);
     * null if it is busy. For reclaiming what ended containers left.
     */
    Closeable claimIdle(String id) {
        Path dir = containers.dir(id);
        if (!Files.isDirectory(dir)) {
            return () -> { };
        }
        try {
            Closeable l = dev.hull.image.FileLocks.tryExclusive(dir.resolve("lock"));
            if (l == null) {
                return null;
            }
            ContainerInfo info = containers.read(id);
            if (info != null) {
                Engine.State s = state(info);
                if (s.running() || s.monitor() != null && s.monitor().monitorAlive()) {
                    l.close();
                    return null;
                }
            }
            return l;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** network name → names of the containers (running or not) configured to be on it. */
    public java.util.Map<String, List<String>> networksInUse() throws IOException {
        java.util.Map<String, List<String>> out = new java.util.TreeMap<>();
        for (ContainerInfo c : containers.list()) {
            CreateOptions o = c.options();
            if (o == null) {
                continue;
            }
            List<String> nets = new ArrayList<>();
            nets.add(o.network == null ? "bridge" : o.network);
            o.connections.forEach(x -> nets.add(x.network));
            for (String n : nets) {
                var info = NetworkRequest.wired(n) ? networking.store().read(n) : null;
                if (info != null || n.equals("bridge")) {
                    out.computeIfAbsent(n, k -> new ArrayList<>()).add(c.name());
                }
            }
        }
        return out;
    }

    /** {@code hull network rm}: refused while a container (running or not) is configured to be on it. */
    public void removeNetwork(String ref) throws IOException, RuntimeError {
        var n = networking.store().resolve(ref);
        if (NetworkStore.predefined(n.name())) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "network " + n.name()
                    + " is predefined: it cannot be removed");
        }
        List<String> users = networksInUse().get(n.name());
        if (users != null) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "network " + n.name() + " is used by container(s) "
                    + String.join(", ", users) + ": remove them or `hull network disconnect` them first");
        }
        networking.removeNetwork(n);
        networking.store().event("destroy", n, java.util.Map.of());
    }

    /** {@code hull network connect}: on the network now if it runs, and at every start. */
    public void connect(String network, String ref, String ip, List<String> aliases) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            info = locked.info();
            CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
            var n = networking.store().resolve(network);
            NetworkRequest before = networkRequest(info);
            if (!before.wired()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "container " + info.name() + " runs with --network "
                        + before.mode() + ": it cannot join other networks");
            }
            for (NetworkRequest.Attachment a : before.attachments()) {
                if (networking.store().resolve(a.network()).name().equals(n.name())) {
                    throw new RuntimeError(RuntimeError.Kind.EXISTS, "container " + info.name()
                            + " is already on network " + n.name());
                }
            }
            o.connections.add(new CreateOptions.Connection(n.name(), ip, aliases));
            networking.check(networkRequest(info.id(), info.name(), o, List.of()));
            if (state(info).running()) {
                networking.connect(info.id(), new NetworkRequest.Attachment(n.name(), ip, aliases));
            }
            containers.write(info);
            networking.store().event("connect", n, java.util.Map.of("container", info.id()));
        }
    }

    /** {@code hull network disconnect}. */
    public void disconnect(String network, String ref) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            info = locked.info();
            CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
            var n = networking.store().resolve(network);
            boolean primary = networkRequest(info).wired()
                    && networking.store().resolve(o.network).name().equals(n.name());
            boolean connected = o.connections.removeIf(c -> c.network.equals(n.name()));
            if (!primary && !connected) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "container " + info.name() + " is not on network "
                        + n.name());
            }
            if (state(info).running()) {
                networking.disconnect(info.id(), n.name());
            }
            if (primary) { // the next network takes its place; with none left, only loopback
                if (o.connections.isEmpty()) {
                    o.network = "none";
                    o.ip = null;
                    o.networkAliases = new ArrayList<>();
                } else {
                    CreateOptions.Connection next = o.connections.removeFirst();
                    o.network = next.network;
                    o.ip = next.ip;
                    o.networkAliases = next.aliases;
                }
            }
            containers.write(info);
            networking.store().event("disconnect", n, java.util.Map.of("container", info.id()));
        }
    }
}
