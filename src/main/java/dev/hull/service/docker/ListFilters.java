package dev.hull.service.docker;

import dev.hull.engine.ContainerInfo;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.engine.network.PortSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The GET /containers/json filters of dockerd's list beyond the everyday ones: before and since (a
 * container's name or id: made before or after it), volume (a volume's name, a bind's source or a
 * mount's destination), expose and publish (PORT[-PORT][/PROTO]: exposed, or published to the
 * host), isolation (only "default" on Linux) and is-task (no swarm: never true). health is
 * ContainerViews' (it needs the engine's health state).
 */
final class ListFilters {
    static final Set<String> KEYS = Set.of("before", "since", "volume", "expose", "publish", "isolation", "is-task");

    /** The creation times of the containers before and since name (a 404 for one that does not exist). */
    private final Map<String, java.time.Instant> created = new HashMap<>();

    ListFilters(Engine e, Map<String, List<String>> filters) throws IOException, ApiError {
        for (String k : List.of("before", "since")) {
            for (String ref : filters.getOrDefault(k, List.of())) {
                created.put(ref, java.time.Instant.parse(Containers.info(e, ref).created()));
            }
        }
    }

    /** Whether c passes the filter key=v (true for keys this class does not know). */
    boolean test(ContainerInfo c, String key, String v) {
        CreateOptions o = c.options() != null ? c.options() : new CreateOptions();
        return switch (key) {
            case "before" -> java.time.Instant.parse(c.created()).isBefore(created.get(v));
            case "since" -> java.time.Instant.parse(c.created()).isAfter(created.get(v));
            case "volume" -> volumeMatches(o, v);
            case "expose" -> portMatches(exposed(c, o), v);
            case "publish" -> portMatches(published(c, o), v);
            case "isolation" -> v.equals("default");
            case "is-task" -> v.equals("false") || v.equals("0");
            default -> true;
        };
    }

    private static boolean volumeMatches(CreateOptions o, String v) {
        for (String spec : o.volumes) {
            String[] p = spec.split(":");
            if (p.length >= 2 && (p[0].equals(v) || p[1].equals(v))) {
                return true;
            }
        }
        for (String t : o.tmpfs) {
            if (t.split(":", 2)[0].equals(v)) {
                return true;
            }
        }
        return false;
    }

    /** The container's exposed ports as PORT/PROTO: the image's and --expose. */
    private static List<String> exposed(ContainerInfo c, CreateOptions o) {
        List<String> out = new ArrayList<>(c.exposedPorts());
        out.addAll(o.expose);
        return out;
    }

    /** The container ports it publishes: -p, and every exposed one with -P. */
    private static List<String> published(ContainerInfo c, CreateOptions o) {
        List<String> out = new ArrayList<>();
        for (String p : o.publish) {
            try {
                for (PortSpec s : PortSpec.parse(p)) {
                    out.add(s.containerPort() + "/" + s.protocol());
                }
            } catch (RuntimeException bad) {
                // refused at create: none
            }
        }
        if (o.publishAll) {
            out.addAll(exposed(c, o));
        }
        return out;
    }

    /** dockerd's port filter: PORT or START-END, with /PROTO (tcp when left out). */
    private static boolean portMatches(List<String> ports, String filter) {
        String[] f = filter.split("/", 2);
        String proto = f.length > 1 ? f[1] : "tcp";
        int start;
        int end;
        try {
            String[] range = f[0].split("-", 2);
            start = Integer.parseInt(range[0]);
            end = range.length > 1 ? Integer.parseInt(range[1]) : start;
        } catch (NumberFormatException e) {
            return false;
        }
        for (String p : ports) {
            String[] x = p.split("/", 2);
            try {
                int port = Integer.parseInt(x[0]);
                if (port >= start && port <= end && (x.length > 1 ? x[1] : "tcp").equals(proto)) {
                    return true;
                }
            } catch (NumberFormatException e) {
                // not a port
            }
        }
        return false;
    }
}
