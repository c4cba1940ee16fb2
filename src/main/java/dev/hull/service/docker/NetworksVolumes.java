package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.Engine;
import dev.hull.engine.VolumeStore;
import dev.hull.engine.network.NetworkInfo;
import dev.hull.engine.network.NetworkStore;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** /networks/... and /volumes/...: list, inspect, create, remove. */
final class NetworksVolumes {

    boolean route(Exchange x) throws Exception {
        return x.seg(0).equals("networks") ? networks(x) : volumes(x);
    }

    // ---------------------------------------------------------------- networks

    private boolean networks(Exchange x) throws Exception {
        Engine e = Engine.defaults();
        if (x.is("GET", "networks")) {
            Map<String, List<String>> filters = x.filters();
            ArrayNode out = Exchange.JSON.createArrayNode();
            for (ObjectNode n : dev.hull.engine.NetworkInspector.all(e, false)) {
                if (matches(n, filters)) {
                    out.add(n);
                }
            }
            x.json(200, out);
        } else if (x.is("POST", "networks", "create")) {
            JsonNode b = x.body();
            String name = b.path("Name").asText("");
            if (name.isEmpty()) {
                throw ApiError.badRequest("network create needs a Name");
            }
            String driver = b.path("Driver").asText("");
            if (!driver.isEmpty() && !driver.equals("bridge")) {
                throw ApiError.badRequest("network driver " + driver + ": Hull has the bridge driver only");
            }
            if (b.path("EnableIPv6").asBoolean()) {
                throw ApiError.badRequest("EnableIPv6: Hull's networks are IPv4 only");
            }
            if (CreateTranslation.isSet(b.path("Options"))) {
                throw ApiError.badRequest("network Options are not supported by Hull");
            }
            String subnet = null;
            String gateway = null;
            JsonNode cfg = b.path("IPAM").path("Config");
            if (cfg.size() > 1) {
                throw ApiError.badRequest("IPAM.Config: Hull takes one subnet per network");
            }
            if (cfg.size() == 1) {
                subnet = emptyToNull(cfg.get(0).path("Subnet").asText(""));
                gateway = emptyToNull(cfg.get(0).path("Gateway").asText(""));
            }
            Map<String, String> labels = new LinkedHashMap<>();
            b.path("Labels").properties().forEach(l -> labels.put(l.getKey(), l.getValue().asText()));
            if (NetworkStore.predefined(name) || e.networking().store().read(name) != null) {
                throw ApiError.conflict("network with name " + name + " already exists");
            }
            NetworkInfo n = e.networking().store().create(name, subnet, gateway, b.path("Internal").asBoolean(),
                    labels);
            ObjectNode r = Exchange.JSON.createObjectNode();
            r.put("Id", n.id());
            r.put("Warning", "");
            x.json(201, r);
        } else if (x.path.size() == 3 && x.method.equals("POST") && (x.seg(2).equals("connect")
                || x.seg(2).equals("disconnect"))) {
            JsonNode b = x.body();
            String container = b.path("Container").asText("");
            NetworkInfo n = network(e, x.seg(1));
            if (x.seg(2).equals("connect")) {
                JsonNode ep = b.path("EndpointConfig");
                e.connect(n.name(), Containers.info(e, container).id(), emptyToNull(ep.path("IPAMConfig")
                        .path("IPv4Address").asText("")), CreateTranslation.strings(ep.path("Aliases"), "Aliases"));
            } else {
                e.disconnect(n.name(), Containers.info(e, container).id());
            }
            x.empty(200);
        } else if (x.path.size() == 2 && x.method.equals("GET") || x.path.size() == 2 && x.method.equals("HEAD")) {
            String ref = x.seg(1);
            for (String pseudo : List.of("host", "none")) {
                if (ref.equals(pseudo)) {
                    x.json(200, DockerShapes.network(dev.hull.engine.NetworkInspector.pseudo(pseudo)));
                    return true;
                }
            }
            x.json(200, DockerShapes.network(dev.hull.engine.NetworkInspector.inspect(e, network(e, ref), true)));
        } else if (x.path.size() == 2 && x.method.equals("DELETE")) {
            String ref = x.seg(1);
            if (ref.equals("host") || ref.equals("none")) {
                throw new ApiError(403, ref + " is a pre-defined network and cannot be removed");
            }
            NetworkInfo n = network(e, ref);
            if (NetworkStore.predefined(n.name())) {
                throw new ApiError(403, n.name() + " is a pre-defined network and cannot be removed");
            }
            try {
                e.removeNetwork(n.name());
            } catch (RuntimeError err) {
                if (err.kind() == RuntimeError.Kind.WRONG_STATE) {
                    throw new ApiError(403, "error while removing network: " + err.getMessage());
                }
                throw err;
            }
            x.empty(204);
        } else {
            return false;
        }
        return true;
    }

    private static NetworkInfo network(Engine e, String ref) throws IOException, ApiError {
        try {
            if (ref.equals(NetworkStore.DEFAULT)) {
                return e.networking().store().defaultNetwork();
            }
            return e.networking().store().resolve(ref);
        } catch (RuntimeError err) {
            if (err.kind() == RuntimeError.Kind.NOT_FOUND) {
                throw ApiError.notFound("network " + ref + " not found");
            }
            throw ApiError.of(err);
        }
    }

    private static Map<String, String> networkLabels(ObjectNode n) {
        Map<String, String> labels = new LinkedHashMap<>();
        n.path("Labels").properties().forEach(l -> labels.put(l.getKey(), l.getValue().asText()));
        return labels;
    }

    private static boolean matches(ObjectNode n, Map<String, List<String>> filters) {
        return Exchange.filtersMatch(filters, (key, v) -> switch (key) {
            case "name" -> n.path("Name").asText().contains(v);
            case "id" -> n.path("Id").asText().startsWith(v);
            case "driver" -> n.path("Driver").asText().equals(v);
            case "type" -> v.equals(NetworkStore.predefined(n.path("Name").asText())
                    || n.path("Name").asText().equals("host") || n.path("Name").asText().equals("none")
                    ? "builtin" : "custom");
            default -> true;
        }, networkLabels(n));
    }

    // ---------------------------------------------------------------- volumes

    private boolean volumes(Exchange x) throws Exception {
        Engine e = Engine.defaults();
        VolumeStore store = e.volumes();
        if (x.is("GET", "volumes")) {
            Map<String, List<String>> filters = x.filters();
            Map<String, List<String>> inUse = e.volumesInUse();
            ObjectNode r = Exchange.JSON.createObjectNode();
            ArrayNode vs = r.putArray("Volumes");
            for (VolumeStore.Volume v : store.list()) {
                if (volumeMatches(v, inUse, filters)) {
                    vs.add(volume(v));
                }
            }
            r.putArray("Warnings");
            x.json(200, r);
        } else if (x.is("POST", "volumes", "create")) {
            JsonNode b = x.body();
            String driver = b.path("Driver").asText("");
            if (!driver.isEmpty() && !driver.equals("local")) {
                throw ApiError.badRequest("volume driver " + driver + ": Hull has the local driver only");
            }
            if (CreateTranslation.isSet(b.path("DriverOpts"))) {
                throw ApiError.badRequest("DriverOpts are not supported by Hull's volumes");
            }
            Map<String, String> labels = new LinkedHashMap<>();
            b.path("Labels").properties().forEach(l -> labels.put(l.getKey(), l.getValue().asText()));
            String name = b.path("Name").asText("");
            VolumeStore.Volume v = store.create(name.isEmpty() ? null : name, labels);
            x.json(201, volume(v));
        } else if (x.path.size() == 2 && (x.method.equals("GET") || x.method.equals("HEAD"))) {
            x.json(200, volume(get(store, x.seg(1))));
        } else if (x.path.size() == 2 && x.method.equals("DELETE")) {
            String name = x.seg(1);
            get(store, name);
            try {
                store.remove(name, x.flag("force"), e::volumesInUse);
            } catch (RuntimeError err) {
                if (err.kind() == RuntimeError.Kind.WRONG_STATE || err.kind() == RuntimeError.Kind.EXISTS) {
                    throw ApiError.conflict("remove " + name + ": volume is in use - " + err.getMessage());
                }
                throw err;
            }
            x.empty(204);
        } else {
            return false;
        }
        return true;
    }

    private static VolumeStore.Volume get(VolumeStore store, String name) throws IOException, ApiError {
        try {
            return store.get(name);
        } catch (RuntimeError err) {
            if (err.kind() == RuntimeError.Kind.NOT_FOUND) {
                throw ApiError.notFound("get " + name + ": no such volume");
            }
            throw ApiError.of(err);
        }
    }

    private static boolean volumeMatches(VolumeStore.Volume v, Map<String, List<String>> inUse,
            Map<String, List<String>> filters) {
        return Exchange.filtersMatch(filters, (key, val) -> switch (key) {
            case "name" -> v.name().contains(val);
            case "dangling" -> (val.equals("true") || val.equals("1")) != inUse.containsKey(v.name());
            case "driver" -> val.equals("local");
            default -> true;
        }, v.labels() == null ? Map.of() : v.labels());
    }

    static ObjectNode volume(VolumeStore.Volume v) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("Name", v.name());
        n.put("Driver", "local");
        n.put("Mountpoint", v.mountpoint().toString());
        n.put("CreatedAt", v.createdAt());
        ObjectNode labels = n.putObject("Labels");
        if (v.labels() != null) {
            v.labels().forEach(labels::put);
        }
        n.put("Scope", "local");
        n.putObject("Options");
        return n;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
