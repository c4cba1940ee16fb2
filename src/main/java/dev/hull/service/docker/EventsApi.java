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
    private static final List<String> FILTERS = dev.hull.engine.EventMessages.FILTERS;

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
        return dev.hull.engine.EventMessages.message(ev);
    }

    static boolean include(EventLog.Event ev, Map<String, List<String>> f) {
        return dev.hull.engine.EventMessages.include(ev, f);
    }
}
