package dev.hull.service.docker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerInspector;
import dev.hull.engine.Engine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Containers as dockerd shows them: inspect, the list (GET /containers/json, its filters), a list entry. */
final class ContainerViews {
    private ContainerViews() {}

    // ---------------------------------------------------------------- inspect / list

    static ObjectNode inspect(Engine e, String ref) throws IOException, ApiError {
        ContainerInfo c = Containers.info(e, ref);
        ObjectNode n = ContainerInspector.inspect(e, c);
        ObjectNode config = (ObjectNode) n.get("Config");
        var o = c.options();
        if (o != null) {
            config.put("AttachStdin", false);
            config.put("StdinOnce", false);
            if (o.entrypoint != null) {
                ArrayNode ep = config.putArray("Entrypoint");
                if (!o.entrypoint.isEmpty()) {
                    ep.add(o.entrypoint);
                }
            }
        }
        ObjectNode state = (ObjectNode) n.get("State");
        state.remove("MonitorPid");
        n.put("Platform", "linux");
        n.put("MountLabel", "");
        n.put("ProcessLabel", "");
        n.put("AppArmorProfile", "");
        n.putArray("ExecIDs");
        return DockerShapes.container(n);
    }

    static void list(Exchange x) throws Exception {
        boolean all = x.flag("all");
        Integer limit = x.intParam("limit");
        Map<String, List<String>> filters = x.filters();
        for (String k : filters.keySet()) {
            if (!List.of("name", "label", "label!", "status", "id", "exited", "ancestor", "network", "health").contains(k)
                    && !ListFilters.KEYS.contains(k)) {
                throw ApiError.badRequest("invalid filter '" + k + "'");
            }
        }
        for (String v : filters.getOrDefault("health", List.of())) {
            if (!List.of("starting", "healthy", "unhealthy", "none").contains(v)) {
                throw ApiError.badRequest("Unrecognised filter value for health: " + v);
            }
        }
        Engine e = Engine.defaults();
        ListFilters more = new ListFilters(e, filters);
        List<ContainerInfo> cs = new ArrayList<>(e.containers().list());
        cs.sort((a, b) -> b.created().compareTo(a.created()));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(64 + 1024 * cs.size());
        out.write('[');
        int listed = 0;
        for (ContainerInfo c : cs) {
            Engine.State s = e.state(c);
            boolean statusFilter = filters.containsKey("status");
            if (!all && !s.running() && !statusFilter) {
                continue;
            }
            if (!matches(c, s, filters, more) || filters.containsKey("health")
                    && !filters.get("health").contains(e.healthStatus(c, s))) {
                continue;
            }
            if (listed++ > 0) {
                out.write(',');
            }
            out.write(listed(e, c, s));
            if (limit != null && limit > 0 && listed >= limit) {
                break;
            }
        }
        out.write(']');
        x.jsonBytes(200, out.toByteArray());
    }

    /** A list entry as JSON, and what it was made of (the values the engine's file memos share while unchanged). */
    private record Listed(ContainerInfo info, Engine.State state, Object network, String statusText, byte[] json) {}

    /**
     * Each container's list entry as last written: made again only when its record, its state, its
     * network or its status text (docker's "Up 5 minutes", which moves with the clock) is another.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, Listed> LISTED =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static byte[] listed(Engine e, ContainerInfo c, Engine.State s) throws IOException {
        var net = s.running() ? e.networking().state(c.id()) : null;
        String text = ContainerInspector.statusText(e, c, s);
        Listed known = LISTED.get(c.id());
        if (known != null && known.info() == c && known.state().equals(s) && known.network() == net
                && known.statusText().equals(text)) {
            return known.json();
        }
        byte[] json = Exchange.JSON.writeValueAsBytes(summary(c, s, net, text));
        if (LISTED.size() > 8192) {
            LISTED.clear(); // containers come and go: forget the lot rather than keep the gone ones
        }
        LISTED.put(c.id(), new Listed(c, s, net, text, json));
        return json;
    }

    private static boolean matches(ContainerInfo c, Engine.State s, Map<String, List<String>> filters,
            ListFilters more) {
        return Exchange.filtersMatch(filters, (key, v) -> switch (key) {
            case "name" -> nameMatches(c.name(), v);
            case "id" -> c.id().startsWith(v);
            case "status" -> s.status().equals(v);
            case "exited" -> s.status().equals("exited") && Integer.toString(s.exitCode()).equals(v);
            case "ancestor" -> v.equals(c.image()) || c.imageId().replace("sha256:", "")
                    .startsWith(v.replace("sha256:", ""));
            case "network" -> c.options() != null && (v.equals(c.options().network)
                    || c.options().connections.stream().anyMatch(n -> n.network.equals(v)));
            default -> more.test(c, key, v);
        }, c.options() == null ? Map.of() : c.options().labels);
    }

    /** dockerd's name filter: a regular expression searched in "/name". */
    private static boolean nameMatches(String name, String pattern) {
        try {
            return java.util.regex.Pattern.compile(pattern).matcher("/" + name).find();
        } catch (java.util.regex.PatternSyntaxException e) {
            return name.contains(pattern);
        }
    }

    static ObjectNode summary(Engine e, ContainerInfo c, Engine.State s) throws IOException {
        return summary(c, s, s.running() ? e.networking().state(c.id()) : null, ContainerInspector.statusText(e, c, s));
    }

    private static ObjectNode summary(ContainerInfo c, Engine.State s, dev.hull.engine.network.NetworkState net,
            String statusText) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("Id", c.id());
        n.putArray("Names").add("/" + c.name());
        n.put("Image", c.image());
        n.put("ImageID", c.imageId().startsWith("sha256:") ? c.imageId() : "sha256:" + c.imageId());
        n.put("Command", String.join(" ", c.args()));
        n.put("Created", ContainerInspector.instant(c.created()).getEpochSecond());
        ArrayNode ports = n.putArray("Ports");
        if (net != null) {
            for (var p : net.ports()) {
                ObjectNode port = ports.addObject();
                port.put("IP", p.hostIp() == null ? "0.0.0.0" : p.hostIp());
                port.put("PrivatePort", p.containerPort());
                port.put("PublicPort", p.hostPort());
                port.put("Type", p.protocol());
            }
        }
        ObjectNode labels = n.putObject("Labels");
        if (c.options() != null) {
            c.options().labels.forEach(labels::put);
        }
        n.put("State", s.status());
        n.put("Status", statusText);
        n.putObject("HostConfig").put("NetworkMode", c.options() == null ? "bridge" : c.options().network);
        ObjectNode nets = n.putObject("NetworkSettings").putObject("Networks");
        if (net != null) {
            for (var ep : net.endpoints()) {
                ObjectNode x = nets.putObject(ep.network());
                x.put("NetworkID", ep.networkId());
                x.put("IPAddress", ep.ip());
                x.put("IPPrefixLen", ep.prefix());
                x.put("Gateway", ep.gateway());
                x.put("MacAddress", ep.mac());
            }
        }
        n.putArray("Mounts");
        return DockerShapes.listedContainer(n);
    }

}
