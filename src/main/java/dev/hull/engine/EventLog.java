package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What happened to containers, networks and volumes, whichever front door did it (the hull
 * command line, the service, the Docker API): one JSON line per event appended to HOME/events.log
 * (O_APPEND, one write a line, so concurrent writers never interleave), docker's event model —
 * type, action, the actor's id and attributes, the time in nanoseconds. The log is rotated into
 * events.log.1 past {@link #MAX_BYTES}.
 *
 * <p>A container's end is its monitor's to see, not the engine's (no JVM waits on a detached
 * container): "die" events are read from the monitors' status files (finishedAt, exitCode) — at
 * once by {@link #history} and as they change by a {@link Watch} — and written to the log when the
 * container is removed, so a removed container's end is still in the history.
 */
public final class EventLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long MAX_BYTES = 8L << 20;

    /** One event; attributes as docker's Actor.Attributes (name, image, exitCode, ...). */
    public record Event(String type, String action, String id, Map<String, String> attributes, long timeNano) {
        public Instant time() {
            return Instant.ofEpochSecond(0, timeNano);
        }

        /** What tells two events apart (the same event read twice has the same key). */
        public String key() {
            return type + " " + action + " " + id + " " + timeNano;
        }
    }

    private final Path file;

    public EventLog(Path home) {
        this.file = home.resolve("events.log");
    }

    /**
     * What the log is now (its file's identity, size and modification time; null without one): a
     * pause or unpause, recorded after the freezer changed, changes it.
     */
    public Object stamp() {
        try {
            var a = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
            return List.of(a.fileKey() == null ? "" : a.fileKey(), a.size(), a.lastModifiedTime().to(
                    java.util.concurrent.TimeUnit.NANOSECONDS));
        } catch (IOException e) {
            return null;
        }
    }

    /** The attributes docker gives a container's events: its name, its image, its labels. */
    public static Map<String, String> containerAttributes(ContainerInfo c) {
        Map<String, String> a = new LinkedHashMap<>();
        if (c.options() != null && c.options().labels != null) {
            a.putAll(c.options().labels);
        }
        a.put("image", c.image());
        a.put("name", c.name());
        return a;
    }

    /** Records a container's event (attributes: its own plus extra). Never fails its caller. */
    public void container(String action, ContainerInfo c, Map<String, String> extra) {
        Map<String, String> a = containerAttributes(c);
        a.putAll(extra);
        record("container", action, c.id(), a, now());
    }

    /**
     * The action dockerd gives an exec's exec_create and exec_start events: the prefix, the program
     * and its arguments joined by spaces ("exec_start: /bin/sh -c true"; a program alone keeps the
     * space dockerd leaves after it).
     */
    public static String execAction(String prefix, List<String> cmd) {
        return prefix + ": " + cmd.getFirst() + " " + String.join(" ", cmd.subList(1, cmd.size()));
    }

    /**
     * Records an exec's events as dockerd does (exec_create, exec_start: execID; exec_die: execID
     * and exitCode) with the container's attributes.
     */
    public void exec(String action, ContainerInfo c, String execId, Integer exitCode) {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("execID", execId);
        if (exitCode != null) {
            extra.put("exitCode", Integer.toString(exitCode));
        }
        container(action, c, extra);
    }

    /**
     * Records an image's event as dockerd does: the actor is the image's sha256:ID (the reference for
     * pull and push), its attributes the image's labels and a name (the new tag for tag, the reference
     * for pull and push, else the ID).
     */
    public void image(String action, String actor, String name, dev.hull.image.ImageConfig config) {
        Map<String, String> a = new java.util.TreeMap<>();
        if (config != null && config.config() != null && config.config().labels() != null) {
            a.putAll(config.config().labels());
        }
        a.put("name", name);
        record("image", action, actor, a, now());
    }

    /** Appends an event; an event that cannot be written is lost, never the action's failure. */
    public void record(String type, String action, String id, Map<String, String> attributes, long timeNano) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", type);
        n.put("action", action);
        n.put("id", id);
        ObjectNode a = n.putObject("attributes");
        attributes.forEach(a::put);
        n.put("timeNano", timeNano);
        try {
            byte[] line = (JSON.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8);
            Files.createDirectories(file.getParent());
            if (Files.exists(file) && Files.size(file) > MAX_BYTES) {
                Files.move(file, rotated(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                ch.write(java.nio.ByteBuffer.wrap(line));
            }
        } catch (IOException | RuntimeException e) {
            // the action happened; only its event is lost
        }
    }

    public static long now() {
        Instant t = Instant.now();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    private Path rotated() {
        return file.resolveSibling("events.log.1");
    }

    /**
     * Every event from since to until (null: no bound), oldest first: the log's, and the ends of the
     * containers that still exist (from their monitors' status).
     */
    public List<Event> history(Engine engine, Instant since, Instant until) throws IOException {
        List<Event> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Path p : List.of(rotated(), file)) {
            for (Event e : read(p, 0, null)) {
                if (within(e, since, until) && seen.add(e.key())) {
                    out.add(e);
                }
            }
        }
        for (Event e : ends(engine, engine.containers().list(), Map.of())) {
            if (within(e, since, until) && seen.add(e.key())) {
                out.add(e);
            }
        }
        out.sort(java.util.Comparator.comparingLong(Event::timeNano));
        return out;
    }

    private static boolean within(Event e, Instant since, Instant until) {
        Instant t = e.time();
        return (since == null || !t.isBefore(since)) && (until == null || !t.isAfter(until));
    }

    /** Events of the log file p from byte offset on; next (if given) gets the offset after the last whole line. */
    private static List<Event> read(Path p, long offset, long[] next) throws IOException {
        List<Event> out = new ArrayList<>();
        if (!Files.exists(p)) {
            if (next != null) {
                next[0] = 0;
            }
            return out;
        }
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
            long size = f.length();
            if (offset > size) {
                offset = 0; // rotated meanwhile: a new file
            }
            byte[] b = new byte[(int) Math.min(size - offset, Integer.MAX_VALUE - 8)];
            f.seek(offset);
            f.readFully(b);
            int start = 0;
            for (int i = 0; i < b.length; i++) {
                if (b[i] == '\n') {
                    Event e = parse(new String(b, start, i - start, StandardCharsets.UTF_8));
                    if (e != null) {
                        out.add(e);
                    }
                    start = i + 1;
                }
            }
            if (next != null) {
                next[0] = offset + start;
            }
        }
        return out;
    }

    private static Event parse(String line) {
        try {
            JsonNode n = JSON.readTree(line);
            Map<String, String> a = new LinkedHashMap<>();
            n.path("attributes").properties().forEach(e -> a.put(e.getKey(), e.getValue().asText()));
            return new Event(n.path("type").asText(), n.path("action").asText(), n.path("id").asText(), a,
                    n.path("timeNano").asLong());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * What the monitors saw of every container after the time known for it (none: all): each end, and
     * each restart under the restart policy (a die and a start per restart, as dockerd's).
     */
    private static List<Event> ends(Engine engine, List<ContainerInfo> containers, Map<String, Long> known)
            throws IOException {
        List<Event> out = new ArrayList<>();
        for (ContainerInfo c : containers) {
            long after = known.getOrDefault(c.id(), Long.MIN_VALUE);
            for (Event e : monitorEvents(engine, c)) {
                if (e.timeNano() > after) {
                    out.add(e);
                }
            }
        }
        return out;
    }

    /** The lines of a monitor's STATUS.events: {"action": die|start, "time", "exitCode"}. */
    private static final dev.hull.linux.FileMemo<List<JsonNode>> MONITOR_EVENTS = new dev.hull.linux.FileMemo<>(b -> {
        List<JsonNode> out = new ArrayList<>();
        for (String line : new String(b, StandardCharsets.UTF_8).split("\n")) {
            try {
                out.add(JSON.readTree(line));
            } catch (IOException e) {
                // a line cut by a full disk: skipped
            }
        }
        return out;
    });

    /**
     * A container's ends and restarts, oldest first, from its monitor's STATUS.events; a container
     * whose monitor kept none (an older Hull's) has its last end only, from its status.
     */
    static List<Event> monitorEvents(Engine engine, ContainerInfo c) throws IOException {
        Path status = engine.containers().statusFile(c.id());
        List<JsonNode> lines = MONITOR_EVENTS.read(status.resolveSibling(status.getFileName() + ".events"));
        if (lines == null) {
            Event e = end(engine, c);
            return e == null ? List.of() : List.of(e);
        }
        List<Event> out = new ArrayList<>();
        for (JsonNode n : lines) {
            String action = n.path("action").asText();
            Instant t;
            try {
                t = Instant.parse(n.path("time").asText());
            } catch (RuntimeException e) {
                continue;
            }
            if (!action.equals("die") && !action.equals("start")) {
                continue;
            }
            Map<String, String> a = containerAttributes(c);
            if (action.equals("die")) {
                a.put("exitCode", Integer.toString(n.path("exitCode").asInt()));
            }
            out.add(new Event("container", action, c.id(), a, t.getEpochSecond() * 1_000_000_000L + t.getNano()));
        }
        return out;
    }

    /** A container's last "die", from its monitor's status; null if it has not ended. */
    static Event end(Engine engine, ContainerInfo c) throws IOException {
        MonitorStatus m = MonitorStatus.read(engine.containers().statusFile(c.id()));
        if (m == null || m.finishedAt() == null || m.finishedAt().isEmpty() || m.status().equals("running")) {
            return null;
        }
        Instant t;
        try {
            t = Instant.parse(m.finishedAt());
        } catch (RuntimeException e) {
            return null;
        }
        Map<String, String> a = containerAttributes(c);
        a.put("exitCode", Integer.toString(m.exitCode()));
        return new Event("container", "die", c.id(), a, t.getEpochSecond() * 1_000_000_000L + t.getNano());
    }

    /** Writes what a container's monitor saw to the log before it is removed (its files go with it). */
    void endBeforeRemoval(Engine engine, ContainerInfo c) {
        try {
            for (Event e : monitorEvents(engine, c)) {
                record(e.type(), e.action(), e.id(), e.attributes(), e.timeNano());
            }
        } catch (IOException | RuntimeException ignored) {
            // only the event is lost
        }
    }

    /** Events as they happen, from now on: {@link #poll} returns those that came since the last poll. */
    public Watch watch(Engine engine) throws IOException {
        return new Watch(engine);
    }

    public final class Watch {
        private final Engine engine;
        private long offset;
        /** Per container, the time of the last of its monitor's events reported. */
        private final Map<String, Long> ended = new HashMap<>();
        /** The ends reported (from the status files and the log both): the latest few thousand. */
        private final Set<String> seen = java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > 4096;
            }
        });

        private Watch(Engine engine) throws IOException {
            this.engine = engine;
            this.offset = Files.exists(file) ? Files.size(file) : 0;
            for (Event e : ends(engine, engine.containers().list(), Map.of())) {
                ended.merge(e.id(), e.timeNano(), Math::max);
                seen.add(e.key());
            }
        }

        public List<Event> poll() throws IOException {
            long[] next = {offset};
            List<Event> out = new ArrayList<>();
            for (Event e : read(file, offset, next)) {
                if (seen.add(e.key())) { // a monitor's die or start comes both ways (its file, then the log at rm)
                    out.add(e);
                }
            }
            offset = next[0];
            List<ContainerInfo> now = engine.containers().list();
            ended.keySet().retainAll(now.stream().map(ContainerInfo::id).toList()); // the removed ones' go
            for (Event e : ends(engine, now, ended)) {
                ended.merge(e.id(), e.timeNano(), Math::max);
                if (seen.add(e.key())) {
                    out.add(e);
                }
            }
            out.sort(java.util.Comparator.comparingLong(Event::timeNano));
            return out;
        }
    }
}
