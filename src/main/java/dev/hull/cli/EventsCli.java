package dev.hull.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.cli.format.Template;
import dev.hull.cli.format.TemplateException;
import dev.hull.engine.ContainerLogs;
import dev.hull.engine.Engine;
import dev.hull.engine.EventLog;
import dev.hull.engine.EventMessages;
import dev.hull.runtime.RuntimeError;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hull events} (also {@code hull system events}): the engine's {@link EventLog}, as docker's events command shows it. */
@Command(name = "events", mixinStandardHelpOptions = true, description = {"Show what happens to containers, images,"
    + " networks and volumes, whichever front door did it (hull, the service, the Docker API).", "",
    "Without --until the stream goes on until Ctrl-C (or until its reader goes away); --since replays the past"
        + " first. Times: RFC 3339 (2026-12-01T10:00:00Z), unix seconds, or a duration back from now (10m, 2h).", "",
    "Filters (repeatable; values of one key: any; different keys: all): container=NAME|ID, image=IMAGE,"
        + " event=ACTION, type=container|image|network|volume, network=, volume=, label=KEY[=VALUE].", "",
    "Examples:", "  hull events", "  hull events --since 1h --until 0s --filter container=web",
    "  hull events --filter type=container --filter event=die --format json",
    "  hull events --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'"}, sortOptions = false)
final class EventsCli implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX");

    @Option(names = "--since", paramLabel = "TIME", description = "Replay the events since TIME first.")
    String since;
    @Option(names = "--until", paramLabel = "TIME", description = "End at TIME (in the past: the history only).")
    String until;
    @Option(names = {"-f", "--filter"}, paramLabel = "KEY=VALUE", description = "Filter (repeatable).")
    List<String> filters = new ArrayList<>();
    @Option(names = "--format", description = "json (docker's events.Message, one object a line) or a Go template"
            + " over its fields: {{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes}} {{.Status}} {{.ID}}"
            + " {{.From}} {{.Scope}} {{.Time}} {{.TimeNano}}.")
    String format;

    @Override
    public Integer call() {
        return ContainerCli.guarded(1, () -> {
            Map<String, List<String>> f = filters(filters);
            Instant from = since == null ? null : time(since);
            Instant to = until == null ? null : time(until);
            if (from != null && to != null && to.isBefore(from)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--since " + since + " is after --until " + until);
            }
            Template template = null;
            if (format != null && !Listing.isJson(format)) {
                try {
                    template = Template.parse(format);
                } catch (TemplateException e) {
                    throw Listing.error(e);
                }
            }
            Engine engine = Engine.defaults();
            EventLog log = engine.events();
            EventLog.Watch watch = log.watch(engine); // before the history: nothing falls between the two
            Set<String> replayed = new HashSet<>();
            if (from != null) {
                for (EventLog.Event ev : log.history(engine, from, to)) {
                    replayed.add(ev.key());
                    if (!print(ev, f, template)) {
                        return 0;
                    }
                }
            }
            while (to == null || Instant.now().isBefore(to)) {
                for (EventLog.Event ev : watch.poll()) {
                    if ((to == null || !ev.time().isAfter(to)) && !replayed.contains(ev.key())
                            && !print(ev, f, template)) {
                        return 0; // the reader went away (hull events | head -1)
                    }
                }
                Thread.sleep(100);
            }
            return 0;
        });
    }

    /** Prints an event that passes the filters; false once the reader has gone. */
    private boolean print(EventLog.Event ev, Map<String, List<String>> f, Template template) throws Exception {
        if (!EventMessages.include(ev, f)) {
            return true;
        }
        ObjectNode m = EventMessages.message(ev);
        String line;
        if (format != null && Listing.isJson(format)) {
            line = SystemCli.line(m);
        } else if (template != null) {
            try {
                line = template.execute(goFields(m));
            } catch (TemplateException e) {
                throw Listing.error(e);
            }
        } else {
            line = plain(ev);
        }
        System.out.println(line);
        System.out.flush();
        return !System.out.checkError();
    }

    /** docker's default line: time, type, action, actor ID and (sorted) attributes. */
    static String plain(EventLog.Event ev) {
        StringBuilder s = new StringBuilder(TIME.format(ev.time().atZone(ZoneId.systemDefault())));
        s.append(' ').append(ev.type()).append(' ').append(ev.action()).append(' ').append(ev.id());
        if (!ev.attributes().isEmpty()) {
            List<String> a = new ArrayList<>();
            new TreeMap<>(ev.attributes()).forEach((k, v) -> a.add(k + "=" + v));
            s.append(" (").append(String.join(", ", a)).append(')');
        }
        return s.toString();
    }

    /** The Message under its Go field names, as a template sees it. */
    private static ObjectNode goFields(ObjectNode m) {
        ObjectNode n = ImageCli.JSON.createObjectNode();
        n.put("Status", m.path("status").asText(""));
        n.put("ID", m.path("id").asText(""));
        n.put("From", m.path("from").asText(""));
        n.set("Type", m.get("Type"));
        n.set("Action", m.get("Action"));
        n.set("Actor", m.get("Actor"));
        n.set("Scope", m.get("scope"));
        n.set("Time", m.get("time"));
        n.set("TimeNano", m.get("timeNano"));
        return n;
    }

    /** --filter KEY=VALUE values by key; an unknown key is refused, as dockerd does. */
    static Map<String, List<String>> filters(List<String> given) throws RuntimeError {
        Map<String, List<String>> f = new LinkedHashMap<>();
        for (String s : given) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--filter " + s + ": use KEY=VALUE");
            }
            String k = s.substring(0, eq);
            if (!EventMessages.FILTERS.contains(k)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid filter '" + k + "'");
            }
            f.computeIfAbsent(k, x -> new ArrayList<>()).add(s.substring(eq + 1));
        }
        return f;
    }

    /** RFC 3339, unix seconds (with a fraction) or a duration back from now. */
    static Instant time(String s) throws RuntimeError {
        if (s.matches("\\d+(\\.\\d+)?")) {
            java.math.BigDecimal d = new java.math.BigDecimal(s);
            long sec = d.longValue();
            return Instant.ofEpochSecond(sec, d.subtract(java.math.BigDecimal.valueOf(sec)).movePointRight(9).longValue());
        }
        try {
            return ContainerLogs.parseTime(s);
        } catch (IllegalArgumentException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
    }
}
