package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * The {@link EventLog}'s events as docker shows them, for every front door ({@code hull events}, the
 * Docker API's /events): dockerd's events.Message, and moby's event filters
 * (daemon/events/filter.go): type, event, container, image, network, volume, label, scope, daemon.
 */
public final class EventMessages {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The filter keys an events request may give. */
    public static final List<String> FILTERS = List.of("type", "event", "container", "image", "network", "volume",
            "label", "scope", "daemon");

    private EventMessages() {}

    /** dockerd's events.Message: status/id/from (containers and images), Type, Action, Actor, scope, time. */
    public static ObjectNode message(EventLog.Event ev) {
        ObjectNode n = JSON.createObjectNode();
        if (ev.type().equals("container") || ev.type().equals("image")) {
            n.put("status", ev.action());
            n.put("id", ev.id());
            String from = ev.attributes().get("image");
            if (from != null) {
                n.put("from", from);
            }
        }
        n.put("Type", ev.type());
        n.put("Action", ev.action());
        ObjectNode actor = n.putObject("Actor");
        actor.put("ID", ev.id());
        ObjectNode a = actor.putObject("Attributes");
        ev.attributes().forEach(a::put);
        n.put("scope", "local");
        n.put("time", ev.timeNano() / 1_000_000_000L);
        n.put("timeNano", ev.timeNano());
        return n;
    }

    /** Whether an event passes the filters (each key: any of its values; every key given must hold). */
    public static boolean include(EventLog.Event ev, Map<String, List<String>> f) {
        String name = ev.attributes().get("name");
        return exact(f, "type", ev.type()) && exact(f, "event", ev.action()) && exact(f, "scope", "local")
                && (!f.containsKey("container") || ev.type().equals("container") && fuzzy(f, "container", ev.id(), name))
                && (!f.containsKey("network") || ev.type().equals("network") && fuzzy(f, "network", ev.id(), name))
                && (!f.containsKey("volume") || ev.type().equals("volume") && fuzzy(f, "volume", ev.id(), name))
                && (!f.containsKey("image") || anyEquals(f.get("image"), ev.attributes().get("image"),
                        ev.type().equals("image") ? ev.id() : null, untagged(ev.attributes().get("image"))))
                && labelsMatch(f, ev.attributes());
    }

    /**
     * dockerd's label filters on an object's labels: every "label" value (KEY or KEY=VALUE) holds
     * and no "label!" value does.
     */
    public static boolean labelsMatch(Map<String, List<String>> filters, Map<String, String> labels) {
        for (String l : filters.getOrDefault("label", List.of())) {
            if (!hasLabel(labels, l)) {
                return false;
            }
        }
        for (String l : filters.getOrDefault("label!", List.of())) {
            if (hasLabel(labels, l)) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasLabel(Map<String, String> labels, String filter) {
        int eq = filter.indexOf('=');
        return eq < 0 ? labels.containsKey(filter) : filter.substring(eq + 1).equals(labels.get(filter.substring(0, eq)));
    }

    private static boolean exact(Map<String, List<String>> f, String key, String value) {
        List<String> v = f.get(key);
        return v == null || v.isEmpty() || v.contains(value);
    }

    /** moby's FuzzyMatch: equal, or a prefix of, the id or the name. */
    private static boolean fuzzy(Map<String, List<String>> f, String key, String id, String name) {
        List<String> v = f.get(key);
        if (v == null || v.isEmpty()) {
            return true;
        }
        for (String s : v) {
            if (id.startsWith(s) || name != null && (name.equals(s) || name.startsWith(s))) {
                return true;
            }
        }
        return false;
    }

    private static boolean anyEquals(List<String> wanted, String... values) {
        for (String v : values) {
            if (v != null && wanted.contains(v)) {
                return true;
            }
        }
        return wanted.isEmpty();
    }

    private static String untagged(String image) {
        if (image == null) {
            return null;
        }
        int colon = image.lastIndexOf(':');
        return colon > image.lastIndexOf('/') ? image.substring(0, colon) : image;
    }
}
