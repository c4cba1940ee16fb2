package dev.hull.build;

import dev.hull.linux.FdPassing;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --progress tty}: a build's progress as a compact view redrawn in place, as buildkit's
 * terminal display shows it. Each finished step stays as one line ({@code => [build 2/5] RUN make
 * 3.2s}, {@code => CACHED [3/5] COPY ...}); below them a live block — a header with the time and
 * the steps done, every running step with its time so far and the last lines of its output — is
 * redrawn (ANSI cursor up and erase) as output comes and a few times a second. Lines are cut to
 * the terminal's width so that none wraps. When the build ends, a step still running is the one
 * that failed: it stays as an ERROR line with the last lines of its output. Thread-safe.
 */
final class TtyProgress {
    private static final int TAIL = 6;
    private static final int KEPT = 20;
    private static final long TICK_MILLIS = 200;

    /** A step running: its label ("[build 2/5] RUN make"), start, and output's last lines. */
    private static final class Running {
        final String label;
        final long t0 = System.nanoTime();
        final ArrayDeque<String> kept = new ArrayDeque<>();
        /** Output came since the last redraw. */
        boolean fresh;

        Running(String label) {
            this.label = label;
        }
    }

    private final PrintStream out;
    private final int fd;
    private final int total;
    private final long t0 = System.nanoTime();
    private final Map<Integer, Running> running = new LinkedHashMap<>();
    private final List<String> pending = new ArrayList<>();
    private int done;
    private int drawn;
    private boolean closed;
    private Thread ticker;

    /** out: where the view goes; fd: its descriptor (for the terminal's width); total: the build's steps. */
    TtyProgress(PrintStream out, int fd, int total) {
        this.out = out;
        this.fd = fd;
        this.total = total;
    }

    /** The stage starts a step. */
    synchronized void start(int stage, String label) {
        Running before = running.put(stage, new Running(clean(label)));
        if (before != null) { // a step that ended without a result line (an ONBUILD trigger's)
            pending.add(" => " + before.label);
        }
        if (ticker == null && !closed) {
            ticker = Thread.ofPlatform().daemon().name("hull-build-tty").start(this::tick);
        }
        redraw();
    }

    /** The stage's step is done (from the cache, or in seconds). */
    synchronized void finish(int stage, boolean cached, double seconds) {
        Running r = running.get(stage);
        if (r == null) {
            return;
        }
        if (r.fresh) {
            redraw(); // its last lines shown once before the step folds into one line
        }
        running.remove(stage);
        done++;
        pending.add(cached ? " => CACHED " + r.label : timed(" => " + r.label, seconds));
        redraw();
    }

    /** A line of the step's output (RUN's). */
    synchronized void output(int stage, String line) {
        Running r = running.get(stage);
        if (r == null) {
            pending.add(clean(line));
        } else {
            r.fresh = true;
            r.kept.addLast(clean(line));
            if (r.kept.size() > KEPT) {
                r.kept.removeFirst();
            }
            return; // shown at the next tick or when the step ends: a chatty step costs no redraw a line
        }
        redraw();
    }

    /** A line that stays (a warning, an ONBUILD trigger). */
    synchronized void note(int stage, String line) {
        pending.add(clean(line));
        redraw();
    }

    /**
     * The build is over: a step still running failed (or was stopped), and stays as an ERROR line
     * with the last lines of its output; the header says how it ended.
     */
    void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = ticker;
        }
        if (t != null) {
            t.interrupt();
        }
        synchronized (this) {
            boolean failed = !running.isEmpty();
            for (Running r : running.values()) {
                pending.add(timed(" => ERROR " + r.label, (System.nanoTime() - r.t0) / 1e9));
                if (!r.kept.isEmpty()) {
                    pending.add("------");
                    pending.add(" > " + r.label + ":");
                    r.kept.forEach(l -> pending.add(" " + l));
                    pending.add("------");
                }
            }
            running.clear();
            pending.add(header() + (failed ? " FAILED" : " FINISHED"));
            redraw();
        }
    }

    private void tick() {
        while (true) {
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                if (closed) {
                    return;
                }
                if (!running.isEmpty()) {
                    redraw();
                }
            }
        }
    }

    private String header() {
        return String.format(Locale.ROOT, "[+] Building %.1fs (%d/%d)", (System.nanoTime() - t0) / 1e9, done, total);
    }

    /** Up over the live block, the lines that stay, then the live block again (unless closed). */
    private void redraw() {
        int cols = width();
        StringBuilder b = new StringBuilder();
        if (drawn > 0) {
            b.append("\r\033[").append(drawn).append('A');
        }
        for (String l : pending) {
            b.append(fit(l, cols)).append("\033[K\n");
        }
        pending.clear();
        drawn = 0;
        if (!closed) {
            List<String> live = new ArrayList<>();
            live.add(header());
            for (Running r : running.values()) {
                r.fresh = false;
                live.add(timed(" => " + r.label, (System.nanoTime() - r.t0) / 1e9));
                int skip = Math.max(0, r.kept.size() - TAIL);
                int i = 0;
                for (String l : r.kept) {
                    if (i++ >= skip) {
                        live.add(" => => # " + l);
                    }
                }
            }
            for (String l : live) {
                b.append(fit(l, cols)).append("\033[K\n");
            }
            drawn = live.size();
        }
        b.append("\033[J");
        out.print(b);
        out.flush();
    }

    private int width() {
        try {
            int cols = FdPassing.windowSize(fd)[1];
            return cols > 20 ? cols : 80;
        } catch (java.io.IOException | RuntimeException e) {
            return 80;
        }
    }

    /** text and the seconds, right-aligned in a line of the terminal's width. */
    private String timed(String text, double seconds) {
        String t = String.format(Locale.ROOT, "%.1fs", seconds);
        int cols = width() - 1;
        int room = cols - t.length() - 1;
        String left = text.length() > room ? text.substring(0, Math.max(0, room)) : text;
        return left + " ".repeat(Math.max(1, cols - left.length() - t.length())) + t;
    }

    private static String fit(String line, int cols) {
        return line.length() < cols ? line : line.substring(0, cols - 1);
    }

    /** An output line as one line of text: what a carriage return redrew, control characters as spaces. */
    private static String clean(String line) {
        String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
        l = l.substring(l.lastIndexOf('\r') + 1);
        StringBuilder b = new StringBuilder(l.length());
        for (int i = 0; i < l.length(); i++) {
            char c = l.charAt(i);
            if (c == '\t') {
                b.append("    ");
            } else if (c == '\033') { // an escape sequence of the command's own (colours): dropped
                int j = i + 1;
                if (j < l.length() && l.charAt(j) == '[') {
                    j++;
                    while (j < l.length() && (l.charAt(j) < 0x40 || l.charAt(j) > 0x7e)) {
                        j++;
                    }
                }
                i = j;
            } else {
                b.append(c < ' ' || c == 0x7f ? ' ' : c);
            }
        }
        return b.toString();
    }
}
