package dev.hull.service.docker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.Engine;
import dev.hull.engine.EventLog;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * GET /events: the engine's {@link EventLog} as dockerd streams it — one JSON message a line
 * (Type, Action, Actor{ID, Attributes}, scope, time, timeNano; status/id/from for containers).
 * since replays the past first; until ends the stream once that time has come (in the past: the
 * history only); without until the stream goes on until the client leaves. Filters as moby's
 * (daemon/events/filter.go): type, event, container, image, network, volume, label.
 */
final class EventsApi {
    private static final List<String> FILTERS = List.of("type", "event", "container", "image", "network", "volume",
            "label", "scope", "daemon");

    boolean route(Exchange x) throws Exception {
        if (!x.is("GET", "events")) {
            return false;
        }
        Map<String, List<String>> filters = x.filters();
        for (String k : filters.keySet()) {
            if (!FILTERS.contains(k)) {
                throw ApiError.badRequest("invalid filter '" + k + "'");
            }
        }
        Instant since = x.time("since");
        Instant until = x.time("until");
        if (since != null && until != null && until.isBefore(since)) {
            throw ApiError.badRequest("`since` time (" + x.param("since") + ") cannot be after `until` time ("
                    + x.param("until") + ")");
        }
        Engine e = Engine.defaults();
        EventLog log = e.events();
        EventLog.Watch watch = log.watch(e); // before the history: nothing falls between the two
        OutputStream out = x.stream(200, "application/json");
        out.flush();
        java.util.Set<String> replayed = new java.util.HashSet<>();
        try {
            if (since != null) {
                for (EventLog.Event ev : log.history(e, since, until)) {
                    replayed.add(ev.key());
                    send(out, ev, filters);
                }
            }
            long quiet = 0;
            while (until == null || Instant.now().isBefore(until)) {
                List<EventLog.Event> fresh = watch.poll();
                for (EventLog.Event ev : fresh) {
                    if ((until == null || !ev.time().isAfter(until)) && !replayed.contains(ev.key())) {
                        send(out, ev, filters);
                    }
                }
                if (fresh.isEmpty() && ++quiet % 50 == 0) { // every 5 s of quiet: whitespace finds a client gone
                    out.write('\n');
                    out.flush();
                }
                Thread.sleep(100);
            }
        } catch (IOException gone) {
            x.callback.failed(gone);
            return true;
        }
        x.finish(out);
        return true;
    }

    private static void send(OutputStream out, EventLog.Event ev, Map<String, List<String>> filters)
            throws IOException {
        if (!include(ev, filters)) {
            return;
        }
        out.write(Exchange.JSON.writeValueAsBytes(message(ev)));
        out.write('\n');
        out.flush();
    }

    /** dockerd's events.Message. */
    static ObjectNode message(EventLog.Event ev) {
        ObjectNode n = Exchange.JSON.createObjectNode();
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

    static boolean include(EventLog.Event ev, Map<String, List<String>> f) {
        String name = ev.attributes().get("name");
        return exact(f, "type", ev.type()) && exact(f, "event", ev.action()) && exact(f, "scope", "local")
                && (!f.containsKey("container") || ev.type().equals("container") && fuzzy(f, "container", ev.id(), name))
                && (!f.containsKey("network") || ev.type().equals("network") && fuzzy(f, "network", ev.id(), name))
                && (!f.containsKey("volume") || ev.type().equals("volume") && fuzzy(f, "volume", ev.id(), name))
                && (!f.containsKey("image") || anyEquals(f.get("image"), ev.attributes().get("image"),
                        ev.type().equals("image") ? ev.id() : null, untagged(ev.attributes().get("image"))))
                && Exchange.labelsMatch(f, ev.attributes());
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
