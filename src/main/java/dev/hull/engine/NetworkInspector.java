package dev.hull.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.network.NetworkInfo;
import dev.hull.engine.network.NetworkState;
import dev.hull.engine.network.NetworkStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A network as docker's network inspect shows it, for every front door (hull network inspect/ls,
 * the Docker API's /networks): dockerd's fields (Name, Id, Created, Scope, Driver, EnableIPv6,
 * IPAM, Internal, Attachable, Ingress, Containers, Options, Labels) plus Hull's DNS.
 */
public final class NetworkInspector {
    private NetworkInspector() {}

    /** bridge plus the user-defined networks, and docker's two pseudo-networks host and none. */
    public static List<ObjectNode> all(Engine engine, boolean withContainers) throws IOException, dev.hull.runtime.RuntimeError {
        List<ObjectNode> out = new ArrayList<>();
        NetworkStore store = engine.networking().store();
        out.add(inspect(engine, store.defaultNetwork(), withContainers));
        for (NetworkInfo n : store.list()) {
            if (!n.name().equals(NetworkStore.DEFAULT)) {
                out.add(inspect(engine, n, withContainers));
            }
        }
        out.add(pseudo("host"));
        out.add(pseudo("none"));
        return out;
    }

    private static final java.util.Map<String, String> PSEUDO_IDS = new java.util.concurrent.ConcurrentHashMap<>();

    /** A pseudo network's id (the sha256 of its name), computed once a name: listings ask it of every container. */
    public static String pseudoId(String name) {
        return PSEUDO_IDS.computeIfAbsent(name, n -> java.util.HexFormat.of().formatHex(
                dev.hull.linux.Sha256.newDigest().digest(("hull network " + n).getBytes(StandardCharsets.UTF_8))));
    }

    /** docker's pseudo-networks: host (the host's network) and none (loopback only). */
    public static ObjectNode pseudo(String name) {
        ObjectNode p = ContainerStore.JSON.createObjectNode();
        p.put("Name", name);
        p.put("Id", pseudoId(name));
        p.put("Created", "0001-01-01T00:00:00Z");
        p.put("Scope", "local");
        p.put("Driver", name.equals("host") ? "host" : "null");
        p.put("EnableIPv6", false);
        p.putObject("IPAM").put("Driver", "default").putArray("Config");
        p.put("Internal", false);
        p.put("Attachable", false);
        p.put("Ingress", false);
        p.putObject("Containers");
        p.putObject("Options");
        p.putObject("Labels");
        return p;
    }

    /** A network (Containers: those on it now, with withContainers). */
    public static ObjectNode inspect(Engine engine, NetworkInfo n, boolean withContainers) throws IOException {
        ObjectNode o = ContainerStore.JSON.createObjectNode();
        o.put("Name", n.name());
        o.put("Id", n.id());
        o.put("Created", n.created());
        o.put("Scope", "local");
        o.put("Driver", n.driver());
        o.put("EnableIPv6", false);
        ObjectNode ipam = o.putObject("IPAM");
        ipam.put("Driver", "default");
        ipam.putNull("Options");
        ObjectNode cfg = ipam.putArray("Config").addObject();
        cfg.put("Subnet", n.subnet());
        cfg.put("Gateway", n.gateway());
        o.put("Internal", n.internal());
        o.put("Attachable", false);
        o.put("Ingress", false);
        ObjectNode containers = o.putObject("Containers");
        if (withContainers) {
            for (String id : engine.networking().users(n)) {
                NetworkState st = engine.networking().state(id);
                ContainerInfo c = engine.containers().read(id);
                if (st == null || c == null) {
                    continue;
                }
                for (NetworkState.Endpoint e : st.endpoints()) {
                    if (e.network().equals(n.name())) {
                        ObjectNode x = containers.putObject(id);
                        x.put("Name", c.name());
                        x.put("EndpointID", "");
                        x.put("MacAddress", e.mac());
                        x.put("IPv4Address", e.ip() + "/" + e.prefix());
                        x.put("IPv6Address", "");
                    }
                }
            }
        }
        o.putObject("Options").put("com.docker.network.bridge.name", n.bridge());
        ObjectNode labels = o.putObject("Labels");
        n.labels().forEach(labels::put);
        o.put("DNS", n.dns());
        return o;
    }
}
