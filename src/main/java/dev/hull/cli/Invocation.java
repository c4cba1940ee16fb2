package dev.hull.cli;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.IntConsumer;

/**
 * Where one command runs: its working directory, output streams, the stdio
 * descriptors its containers get, and what to do with a foreground
 * container's pid (forward signals to it). The cold path uses this process's
 * own; the warm server builds one per client.
 *
 * @param stdio the container's stdin/stdout/stderr descriptors, or null for this process's
 */
record Invocation(Path cwd, PrintWriter out, PrintWriter err, int[] stdio, IntConsumer onStarted) {

    private static final ThreadLocal<Invocation> CURRENT = new ThreadLocal<>();

    /** The invocation the running command serves: a warm server's client, else this process. */
    static Invocation current() {
        Invocation inv = CURRENT.get();
        return inv != null ? inv : ofThisProcess();
    }

    /** Runs body with inv as {@link #current()} on this thread. */
    static <T> T with(Invocation inv, java.util.concurrent.Callable<T> body) throws Exception {
        return dev.hull.runtime.ThreadScope.with(CURRENT, inv, body);
    }

    static Invocation ofThisProcess() {
        return new Invocation(Path.of("").toAbsolutePath(), writer(System.out), writer(System.err), null,
                SignalForwarder::forwardTo);
    }

    static PrintWriter writer(OutputStream out) {
        return new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    }

    Path resolve(Path p) {
        return p == null ? null : cwd.resolve(p);
    }
}
