package dev.hull.runtime;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A caller's terminal changed size: the service hears its client's SIGWINCH and tells the ptys
 * this command relays to ({@link ConsoleRelay}), which copy the caller's new size. A command in a
 * process of its own handles SIGWINCH itself and needs none of this.
 */
public final class WindowChanges {
    private static final InheritableThreadLocal<WindowChanges> CURRENT = new InheritableThreadLocal<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** Runs body with changes as the current command's (on this thread and threads it starts). */
    public static <T> T with(WindowChanges changes, Callable<T> body) throws Exception {
        return ThreadScope.with(CURRENT, changes, body);
    }

    static WindowChanges current() {
        return CURRENT.get();
    }

    /** The caller's terminal changed size. */
    public void changed() {
        listeners.forEach(Runnable::run);
    }

    /** r runs at every change from now on, and once now: a change before it was added went unheard. */
    void add(Runnable r) {
        listeners.add(r);
        r.run();
    }

    void remove(Runnable r) {
        listeners.remove(r);
    }
}
