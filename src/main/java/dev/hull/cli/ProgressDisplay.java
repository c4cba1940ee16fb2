package dev.hull.cli;

import dev.hull.service.Stdio;
import dev.hull.image.Descriptor;
import dev.hull.image.registry.PullProgress;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Shows a pull's or push's per-layer progress. On a terminal, one line per layer
 * redrawn in place (ANSI cursor-up), like docker:
 * {@code abcd1234ef56: Downloading [=====>          ]  12.3MB/45.6MB}, at most ~10
 * redraws a second. Elsewhere (a pipe, a log), plain lines at each layer's start and end only.
 * Thread-safe.
 */
public final class ProgressDisplay implements PullProgress {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR = 50;

    private final PrintStream out;
    private final boolean terminal;
    private final String activeVerb;
    private final String startStatus;
    private final Map<String, String> lines = new LinkedHashMap<>();
    private int drawn;
    private long lastDraw;

    /**
     * @param activeVerb "Downloading" or "Pushing"
     * @param startStatus what a layer says before bytes move: "Pulling fs layer" or "Preparing"
     */
    public ProgressDisplay(PrintStream out, boolean terminal, String activeVerb, String startStatus) {
        this.out = out;
        this.terminal = terminal;
        this.activeVerb = activeVerb;
        this.startStatus = startStatus;
    }

    /** For a pull to stdout, redrawing if stdout is a terminal. */
    public static ProgressDisplay forPull(PrintStream out) {
        return new ProgressDisplay(out, isTerminal(), "Downloading", "Pulling fs layer");
    }

    /** For a push to stdout, redrawing if stdout is a terminal. */
    public static ProgressDisplay forPush(PrintStream out) {
        return new ProgressDisplay(out, isTerminal(), "Pushing", "Preparing");
    }

    static boolean isTerminal() {
        return Stdio.isTerminal(); // the client's terminal on the warm path
    }

    private static String key(Descriptor d) {
        return d.digest();
    }

    private static String shortId(Descriptor d) {
        String hex = d.digest().substring(d.digest().indexOf(':') + 1);
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
    }

    @Override
    public synchronized void started(Descriptor layer, String shortId) {
        lines.put(key(layer), shortId + ": " + startStatus);
        if (terminal) {
            redraw();
        } else {
            out.println(shortId + ": " + startStatus);
            out.flush();
        }
    }

    @Override
    public synchronized void progress(Descriptor layer, long done, long total) {
        if (!terminal) {
            return;
        }
        lines.put(key(layer), shortId(layer) + ": " + activeVerb + " " + bar(done, total));
        long now = System.nanoTime();
        if (now - lastDraw >= REDRAW_NANOS) {
            redraw();
        }
    }

    @Override
    public synchronized void done(Descriptor layer, String status) {
        lines.put(key(layer), shortId(layer) + ": " + status);
        if (terminal) {
            redraw();
        } else {
            out.println(shortId(layer) + ": " + status);
            out.flush();
        }
    }

    /** Current lines, in layer order (for tests). */
    synchronized List<String> lines() {
        return new ArrayList<>(lines.values());
    }

    private void redraw() {
        StringBuilder b = new StringBuilder();
        if (drawn > 0) {
            b.append("\u001b[").append(drawn).append('A');
        }
        for (String line : lines.values()) {
            b.append("\r\u001b[2K").append(line).append('\n');
        }
        out.print(b);
        out.flush();
        drawn = lines.size();
        lastDraw = System.nanoTime();
    }

    static String bar(long done, long total) {
        if (total <= 0) {
            return human(done);
        }
        int filled = (int) Math.min(BAR, done * BAR / total);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < BAR; i++) {
            b.append(i < filled ? '=' : i == filled ? '>' : ' ');
        }
        b.append("] ");
        String sizes = human(done) + "/" + human(total);
        b.append(" ".repeat(Math.max(0, 15 - sizes.length()))).append(sizes);
        return b.toString();
    }

    /** Decimal units, as docker shows them: 12.3MB. */
    static String human(long bytes) {
        if (bytes < 1000) {
            return bytes + "B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f%s", v, units[u]);
    }
}
