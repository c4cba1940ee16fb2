package dev.hull.image;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Runs tasks (transfers, layer unpacks) at most n at a time; the first failure cancels the rest and is thrown. */
public final class Parallel {
    @FunctionalInterface
    public interface Task {
        void run() throws IOException;
    }

    private Parallel() {}

    /** Runs tasks on up to n daemon threads named namePrefix0, namePrefix1, …; returns when all are done. */
    public static void run(List<Task> tasks, int n, String namePrefix) throws IOException {
        if (tasks.isEmpty()) {
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(n, tasks.size()),
                Thread.ofPlatform().daemon().name(namePrefix, 0).factory());
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Task t : tasks) {
                futures.add(pool.submit(() -> {
                    t.run();
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    futures.forEach(other -> other.cancel(true));
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) {
                        throw io;
                    }
                    if (c instanceof RuntimeException re) {
                        throw re;
                    }
                    if (c instanceof Error err) {
                        throw err;
                    }
                    throw new IOException(c);
                } catch (InterruptedException e) {
                    futures.forEach(other -> other.cancel(true));
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted");
                }
            }
        } finally {
            pool.shutdownNow();
            try {
                // no task may outlive a failure: wait for the cancelled ones to stop
                pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
