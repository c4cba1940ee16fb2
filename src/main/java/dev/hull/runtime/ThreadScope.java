package dev.hull.runtime;

import java.util.concurrent.Callable;

/** A thread-local value for the length of one call: what the service sets per command (caller, terminal, launcher). */
public final class ThreadScope {
    private ThreadScope() {}

    /** Runs body with local set to value on this thread (and, for an inheritable one, threads it starts), then restores it. */
    public static <V, T> T with(ThreadLocal<V> local, V value, Callable<T> body) throws Exception {
        V before = local.get();
        local.set(value);
        try {
            return body.call();
        } finally {
            if (before == null) {
                local.remove();
            } else {
                local.set(before);
            }
        }
    }
}
