package dev.hull.build;

import dev.hull.linux.FdControl;
import dev.hull.linux.FdInputStream;
import dev.hull.linux.Syscalls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A build's progress lines, in the same order whether its stages run one after another or side
 * by side: the first unfinished stage (in file order) writes as it goes; a stage running beside
 * it is held back and written when every stage before it is done. With more than one stage, RUN
 * output reaches us through a pipe and each of its lines is prefixed with the stage's name
 * ({@code [build] ...}), as buildkit's plain progress marks a line with its step.
 */
final class BuildProgress {
    private final PrintStream out;
    private final List<Integer> order;
    private final boolean prefixed;
    /** --progress tty: the view every line goes to instead (null: plain lines). */
    private final TtyProgress view;
    private final Map<Integer, StringBuilder> held = new HashMap<>();
    private final Set<Integer> finished = new HashSet<>();
    private int head;
    /** dockerd's classic builder's words ({@link BuildRequest#dockerWording}). */
    private boolean dockerWording;

    /** order: the stages' indices in file order. */
    BuildProgress(PrintStream out, List<Integer> order) {
        this(out, order, null);
    }

    /** With a view (--progress tty), every step, result and output line goes to it instead. */
    BuildProgress(PrintStream out, List<Integer> order, TtyProgress view) {
        this.out = out;
        this.order = order;
        this.prefixed = order.size() > 1;
        this.view = view;
    }

    /** The stage starts its step position ("3/7"), text: the instruction; label: the stage's name. */
    void step(int stage, String label, String position, String text) {
        if (view != null) {
            view.start(stage, "[" + (prefixed ? label + " " : "") + position + "] " + text.replace('\n', ' '));
        } else {
            line(stage, dockerWording ? "Step " + position + " : " + text : "STEP " + position + ": " + text);
        }
    }

    /** Words the steps as dockerd's classic builder does. */
    BuildProgress dockerWording(boolean on) {
        dockerWording = on;
        return this;
    }

    boolean dockerWording() {
        return dockerWording;
    }

    /** The stage's step is done: its result line (plain), from the cache or in seconds. */
    void done(int stage, String text, boolean cached, double seconds) {
        if (view != null) {
            view.finish(stage, cached, seconds);
        } else {
            line(stage, text);
        }
    }

    /** One line of the stage's. */
    synchronized void line(int stage, String text) {
        if (view != null) {
            view.note(stage, text);
            return;
        }
        if (head < order.size() && order.get(head) == stage || head >= order.size()) {
            out.println(text);
            out.flush();
        } else {
            held.computeIfAbsent(stage, k -> new StringBuilder()).append(text).append('\n');
        }
    }

    /** The stage is done: the stages after it that were held back are written, up to the next unfinished one. */
    synchronized void finish(int stage) {
        finished.add(stage);
        while (head < order.size() && finished.contains(order.get(head))) {
            head++;
            if (head < order.size()) {
                release(order.get(head));
            }
        }
    }

    /** Writes all that is held (the build failed or ended): from now on every line goes out at once. */
    synchronized void releaseAll() {
        if (view != null) {
            view.close();
        }
        for (int i = head + 1; i < order.size(); i++) {
            release(order.get(i));
        }
        head = order.size();
    }

    private void release(int stage) {
        StringBuilder h = held.remove(stage);
        if (h != null) {
            out.print(h);
            out.flush();
        }
    }

    /** Where a RUN step of this stage writes: its descriptors, closed (and drained) when the step ends. */
    interface RunOutput extends AutoCloseable {
        int[] stdio();

        @Override
        void close();
    }

    /**
     * base (stdin, stdout, stderr) as they are for a single stage; with more than one, a pipe whose
     * lines become this stage's lines, prefixed with label.
     */
    RunOutput run(int stage, String label, int[] base) throws IOException {
        if (!prefixed && view == null) {
            return new RunOutput() {
                public int[] stdio() {
                    return base;
                }

                public void close() {}
            };
        }
        int[] pipe = FdControl.pipe();
        Thread pump = Thread.ofPlatform().daemon().name("hull-build-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(new FdInputStream(pipe[0]),
                    StandardCharsets.UTF_8))) {
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                    if (view != null) {
                        view.output(stage, l);
                    } else {
                        line(stage, "[" + label + "] " + l);
                    }
                }
            } catch (IOException ignored) {
                // the step's own result says what happened
            } finally {
                Syscalls.close(pipe[0]);
            }
        });
        int[] stdio = {base[0], pipe[1], pipe[1]};
        return new RunOutput() {
            private boolean closed;

            public int[] stdio() {
                return stdio;
            }

            public void close() {
                if (closed) {
                    return;
                }
                closed = true;
                Syscalls.close(pipe[1]);
                boolean interrupted = Thread.interrupted();
                try {
                    pump.join(30_000);
                } catch (InterruptedException e) {
                    interrupted = true;
                } finally {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
    }
}
