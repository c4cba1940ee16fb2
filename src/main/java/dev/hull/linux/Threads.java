package dev.hull.linux;

/** Threads that carry per-thread kernel state (a namespace joined, filesystem credentials taken). */
public final class Threads {
    private Threads() {}

    /** Waits for t to end, keeping an interrupt for afterwards (t must not be abandoned). */
    public static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        for (;;) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
