package dev.hull.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.cli.format.GoStruct;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.DiskUsage;
import dev.hull.engine.Engine;
import dev.hull.image.ImageService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A container as hull ps shows it: docker's ContainerContext fields for templates, and the ps JSON line. */
final class ContainerRow {
    private ContainerRow() {
    }

    /** The writable layers' sizes, read once and only when a template asks for .Size. */
    static final class Sizes {
        private final Engine engine;
        private DiskUsage usage;

        Sizes(Engine engine) {
            this.engine = engine;
        }

        String of(String id) {
            try {
                if (usage == null) {
                    usage = DiskUsage.of(engine);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return usage.containers().stream().filter(u -> u.info().id().equals(id)).findFirst()
                    .map(u -> ImageService.humanSize(u.size())).orElse("0B");
        }
    }

    static GoStruct of(Engine engine, ContainerInfo c, Engine.State s, boolean trunc, Sizes sizes) throws IOException {
        String cmd = String.join(" ", c.args());
        if (trunc && cmd.length() > 20) {
            cmd = cmd.substring(0, 19) + "…";
        }
        String ports = ContainerCli.portsText(engine, c, s);
        Map<String, String> labels = c.options() == null ? Map.of() : c.options().labels;
        GoStruct row = new GoStruct("*formatter.ContainerContext")
                .value("ID", trunc ? c.shortId() : c.id())
                .value("Image", c.image())
                .value("Command", "\"" + cmd + "\"")
                .value("CreatedAt", Rows.goTime(c.created()))
                .value("RunningFor", ContainerCli.since(c.created()) + " ago")
                .value("Ports", ports)
                .value("State", s.status())
                .value("Status", dev.hull.engine.ContainerInspector.statusText(engine, c, s))
                .field("Size", () -> sizes.of(c.id()))
                .value("Names", c.name())
                .value("Mounts", String.join(",", mounts(c)))
                .value("LocalVolumes", Long.toString(mounts(c).stream().filter(m -> !m.startsWith("/")).count()))
                .value("Networks", ContainerCli.networksText(c));
        return Rows.withLabels(row, labels);
    }

    /** The sources of its volumes and binds: volume names, host paths. */
    private static List<String> mounts(ContainerInfo c) {
        List<String> out = new ArrayList<>();
        if (c.options() != null) {
            for (String v : c.options().volumes) {
                int colon = v.indexOf(':');
                out.add(colon < 0 ? v : v.substring(0, colon));
            }
        }
        return out;
    }

    /** hull ps --format json: docker's keys, Labels as an object, and the exit code, restarts and pid. */
    static ObjectNode json(Engine engine, ContainerInfo c, Engine.State s) throws IOException {
        ObjectNode n = ImageCli.JSON.createObjectNode();
        n.put("ID", c.id());
        n.put("Names", c.name());
        n.put("Image", c.image());
        n.put("Command", String.join(" ", c.args()));
        n.put("CreatedAt", c.created());
        n.put("State", s.status());
        n.put("Status", dev.hull.engine.ContainerInspector.statusText(engine, c, s));
        n.put("ExitCode", s.exitCode());
        n.put("RestartCount", s.monitor() == null ? 0 : s.monitor().restartCount());
        n.put("Pid", s.running() && s.monitor() != null ? s.monitor().pid() : 0);
        n.put("Ports", ContainerCli.portsText(engine, c, s));
        n.put("Networks", ContainerCli.networksText(c));
        ObjectNode labels = n.putObject("Labels");
        if (c.options() != null) {
            c.options().labels.forEach(labels::put);
        }
        return n;
    }
}
