package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Reads a container's json-file log (ID-json.log and its rotated ID-json.log.1, .2, ...): each line
 * {"log":"...","stream":"stdout|stderr","time":"RFC 3339"}, as docker writes them.
 */
public final class ContainerLogs {
    /** One log entry. */
    public record Entry(String stream, String log, Instant time) {}

    /** What {@code hull logs} asks for. tail: last N entries (-1: all); since/until: null for no bound. */
    public record Query(int tail, Instant since, Instant until, boolean timestamps, boolean follow) {}

    private ContainerLogs() {}

    /** "2026-11-30T10:00:00Z", or a duration back from now: 10s, 5m, 2h, 1h30m. */
    public static Instant parseTime(String s) {
        try {
            return Instant.parse(s);
        } catch (java.time.format.DateTimeParseException e) {
            try {
                return Instant.now().minus(Duration.parse("PT" + s.toUpperCase(java.util.Locale.ROOT)));
            } catch (java.time.format.DateTimeParseException e2) {
                throw new IllegalArgumentException("\"" + s + "\": use a time (2026-11-30T10:00:00Z) or a"
                        + " duration before now (30s, 5m, 2h)");
            }
        }
    }

    /** The log files, oldest first. */
    static List<Path> files(Path live) {
        List<Path> out = new ArrayList<>();
        for (int n = 1; ; n++) {
            Path p = live.resolveSibling(live.getFileName() + "." + n);
            if (!Files.exists(p)) {
                break;
            }
            out.add(0, p);
        }
        out.add(live);
        return out;
    }

    static Entry parse(String line) {
        try {
            JsonNode n = ContainerStore.JSON.readTree(line);
            return new Entry(n.path("stream").asText("stdout"), n.path("log").asText(""),
                    Instant.parse(n.path("time").asText()));
        } catch (IOException | RuntimeException e) {
            return null; // a torn last line (the writer was killed mid-write)
        }
    }

    /** Prints the entries the query selects; with follow, goes on until stillRunning says no. */
    public static void print(Path live, Query q, PrintStream out, PrintStream err, BooleanSupplier stillRunning)
            throws IOException {
        Deque<Entry> tail = new ArrayDeque<>();
        for (Path f : files(live)) {
            if (!Files.exists(f)) {
                continue;
            }
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                Entry e = parse(line);
                if (e == null || !selected(e, q)) {
                    continue;
                }
                if (q.tail() < 0) {
                    emit(e, q, out, err);
                } else if (q.tail() > 0) {
                    tail.addLast(e);
                    if (tail.size() > q.tail()) {
                        tail.removeFirst();
                    }
                }
            }
        }
        tail.forEach(e -> emit(e, q, out, err));
        out.flush();
        err.flush();
        if (q.follow()) {
            follow(live, q, out, err, stillRunning);
        }
    }

    private static boolean selected(Entry e, Query q) {
        return (q.since() == null || !e.time().isBefore(q.since())) && (q.until() == null || e.time().isBefore(q.until()));
    }

    private static void emit(Entry e, Query q, PrintStream out, PrintStream err) {
        PrintStream to = e.stream().equals("stderr") ? err : out;
        String text = q.timestamps() ? e.time() + " " + e.log() : e.log();
        to.print(text);
    }

    /** Reads what is appended to the live file from its current end; reopens it when rotated. */
    private static void follow(Path live, Query q, PrintStream out, PrintStream err, BooleanSupplier stillRunning)
            throws IOException {
        Object key = fileKey(live);
        long pos = Files.exists(live) ? Files.size(live) : 0;
        StringBuilder partial = new StringBuilder();
        boolean lastRound = false;
        for (;;) {
            boolean running = stillRunning.getAsBoolean();
            Object now = fileKey(live);
            if (now != null && !now.equals(key)) { // rotated (or truncated and replaced): start at the top
                key = now;
                pos = 0;
                partial.setLength(0);
            }
            if (Files.exists(live)) {
                long size = Files.size(live);
                if (size < pos) { // truncated in place (max-file=1)
                    pos = 0;
                }
                if (size > pos) {
                    try (RandomAccessFile f = new RandomAccessFile(live.toFile(), "r")) {
                        f.seek(pos);
                        byte[] buf = new byte[(int) Math.min(size - pos, 1 << 20)];
                        f.readFully(buf);
                        pos += buf.length;
                        partial.append(new String(buf, StandardCharsets.UTF_8));
                    }
                    int nl;
                    while ((nl = partial.indexOf("\n")) >= 0) {
                        Entry e = parse(partial.substring(0, nl));
                        partial.delete(0, nl + 1);
                        if (e != null && selected(e, q)) {
                            emit(e, q, out, err);
                        }
                    }
                    out.flush();
                    err.flush();
                    if (out.checkError() || err.checkError()) {
                        return; // the reader went away (hull logs -f | head): as docker, on the next write
                    }
                    continue;
                }
            }
            if (lastRound) {
                return;
            }
            if (!running) {
                lastRound = true; // one more read: what was written before it ended
                continue;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }
}
