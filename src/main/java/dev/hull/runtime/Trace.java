package dev.hull.runtime;

/**
 * Phase timings for the runtime's own operations, printed to stderr when
 * HULL_TRACE=1 (or -Dhull.trace=true): "hull-trace: create.spawn 1.234 ms".
 * Used to find where a command spends its time; costs nothing when off.
 * On the warm path the client's HULL_TRACE counts (and the lines reach its
 * stderr); a server started with HULL_TRACE=1 traces every command.
 */
public final class Trace {
    private static final boolean ON = "1".equals(System.getenv("HULL_TRACE")) || Boolean.getBoolean("hull.trace");
    private final boolean on;
    private long last;

    private Trace(boolean on) {
        this.on = on;
        this.last = on ? System.nanoTime() : 0;
    }

    public static Trace start() {
        return new Trace(ON || Caller.current() != null && "1".equals(Caller.getenv("HULL_TRACE")));
    }

    /** Prints the time since the previous mark (or the start) under this name. */
    public void mark(String phase) {
        if (!on) {
            return;
        }
        long now = System.nanoTime();
        System.err.printf("hull-trace: %-24s %8.3f ms%n", phase, (now - last) / 1e6);
        last = now;
    }
}
