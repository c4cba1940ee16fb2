package dev.hull.build;

import dev.hull.build.StagePlan.StageDef;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs a build's stages as their dependencies allow: a stage starts when the stages it names
 * (its base, COPY --from, RUN --mount from=) are built, at most jobs at a time, earlier stages
 * first. The first failure stops the others (their threads are interrupted: a RUN step's
 * container is killed) and is the build's error. The pool's threads are made by the calling
 * thread, so they inherit its caller (environment, the service client's stdio).
 */
final class StageScheduler {
    private StageScheduler() {}

    @FunctionalInterface
    interface Work {
        Stage build(StageDef d) throws BuildException, IOException, RuntimeError;
    }

    /** Builds plan's needed stages with work; returns them by index. */
    static Map<Integer, Stage> run(StagePlan plan, int jobs, Work work, BuildProgress progress)
            throws BuildException, IOException, RuntimeError {
        Map<Integer, Stage> built = new ConcurrentHashMap<>();
        List<StageDef> waiting = new ArrayList<>(plan.needed);
        Map<Future<Stage>, StageDef> running = new HashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, Math.max(1, waiting.size())),
                Thread.ofPlatform().name("hull-build-stage-", 0).factory());
        CompletionService<Stage> done = new ExecutorCompletionService<>(pool);
        Throwable failure = null;
        try {
            while (failure == null && (!waiting.isEmpty() || !running.isEmpty())) {
                for (var it = waiting.iterator(); it.hasNext() && running.size() < jobs;) {
                    StageDef d = it.next();
                    if (built.keySet().containsAll(plan.deps(d))) {
                        it.remove();
                        running.put(done.submit(() -> work.build(d)), d);
                    }
                }
                if (running.isEmpty()) {
                    throw new IllegalStateException("stages wait for each other: " + waiting);
                }
                Future<Stage> f;
                try {
                    f = done.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = new BuildException("interrupted");
                    break;
                }
                StageDef d = running.remove(f);
                try {
                    built.put(d.index(), f.get());
                    progress.finish(d.index());
                } catch (ExecutionException e) {
                    failure = e.getCause();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = new BuildException("interrupted");
                }
            }
        } finally {
            stop(pool);
            progress.releaseAll();
        }
        if (failure != null) {
            throw rethrow(failure);
        }
        return new LinkedHashMap<>(built);
    }

    /** Interrupts the stages still running and waits for them to end (their cleanup included). */
    private static void stop(ExecutorService pool) {
        pool.shutdownNow();
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                try {
                    if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static BuildException rethrow(Throwable t) throws IOException, RuntimeError {
        switch (t) {
            case BuildException e -> {
                return e;
            }
            case IOException e -> throw e;
            case RuntimeError e -> throw e;
            case UncheckedIOException e -> throw e.getCause();
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException(t);
        }
    }
}
