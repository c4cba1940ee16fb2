package dev.hull.build;

import dev.hull.build.Dockerfile.Instruction;
import dev.hull.engine.Engine;
import dev.hull.image.ContentStore;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.runtime.RuntimeError;
import dev.hull.image.unpack.LayerFlattener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every step of one build shares: the engine and the store, the request, the build's temp
 * directory, the step states RUN containers are made from, the containers in flight (removed
 * whatever happens), the progress lines, and the cache lookup every step goes through.
 */
final class BuildSession {
    final Engine engine;
    final ImageService images;
    final ContentStore content;
    final BuildCache cache;
    final BuildRequest req;
    final Long epoch;
    final Path tmp;
    /** Step states RUN containers are made from, by id (the engine asks for them by that name). */
    final Map<String, ImageRecord> states = new ConcurrentHashMap<>();
    final Set<String> liveContainers = ConcurrentHashMap.newKeySet();
    /** Step containers being removed in the background ({@link #removeLater}). */
    private final List<Thread> removals = new java.util.ArrayList<>();
    private int steps;
    private BuildProgress progress;

    BuildSession(Engine engine, BuildCache cache, BuildRequest req, Path tmp) {
        this.engine = engine;
        this.images = engine.images();
        this.content = images.store().content();
        this.cache = cache;
        this.req = req;
        this.epoch = req.sourceDateEpoch;
        this.tmp = tmp;
    }

    // ---------------------------------------------------------------- progress

    /** The build has total steps; its stages, in file order, write their lines through progress. */
    void steps(int total, BuildProgress progress) {
        steps = total;
        this.progress = progress;
    }

    /** "step/steps" of s, for messages. */
    String position(Stage s) {
        return s.step + "/" + steps;
    }

    /** Starts s's next step, in: the line that says so. */
    void header(Stage s, Instruction in) throws BuildException {
        if (Thread.currentThread().isInterrupted()) {
            throw new BuildException("interrupted");
        }
        s.step++;
        if (!req.quiet) {
            progress.step(s.index, label(s), s.step + "/" + steps, in.original());
        }
    }

    /** A base image's ONBUILD trigger, run after its FROM (not a step of the Dockerfile's count). */
    void trigger(Stage s, Instruction in) throws BuildException {
        if (Thread.currentThread().isInterrupted()) {
            throw new BuildException("interrupted");
        }
        line(s, "--> ONBUILD " + in.original());
    }

    void done(Stage s, boolean cached, long t0) {
        String id = Digest.parse(s.id).shortHex();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!req.quiet) {
            String text = progress.dockerWording() ? (cached ? " ---> Using cache\n ---> " : " ---> ") + id
                    : cached ? "--> CACHED " + id : String.format(Locale.ROOT, "--> %s (%.1fs)", id, seconds);
            progress.done(s.index, text, cached, seconds);
        }
    }

    /** The stage's name in progress lines. */
    private static String label(Stage s) {
        return s.name != null ? s.name : "stage-" + s.index;
    }

    BuildProgress progress() {
        return progress;
    }

    private void line(Stage s, String text) {
        if (!req.quiet) {
            progress.line(s.index, text);
        }
    }

    // ---------------------------------------------------------------- step containers

    /**
     * Removes a finished step's container (in liveContainers) in the background: deleting its
     * directory and upper tree is off the build's path. {@link #awaitRemovals} waits for them; a
     * removal that failed leaves the container in liveContainers for the build's clean-up.
     */
    void removeLater(String id) {
        Thread t = Thread.ofPlatform().daemon().name("hull-build-rm").unstarted(() -> {
            try {
                engine.remove(id, true);
                liveContainers.remove(id);
            } catch (Exception e) {
                // the clean-up at the build's end tries again, and reports nothing either
            }
        });
        synchronized (removals) {
            removals.add(t);
        }
        t.start();
    }

    /** Waits for every removal {@link #removeLater} started (uninterruptibly: the clean-up needs them done). */
    void awaitRemovals() {
        List<Thread> all;
        synchronized (removals) {
            all = List.copyOf(removals);
        }
        boolean interrupted = false;
        for (Thread t : all) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- cache

    @FunctionalInterface
    interface Work {
        void run() throws BuildException, IOException, RuntimeError;
    }

    /**
     * The step from the cache, or done by work (which commits s) and cached. The key: s's state,
     * text (the instruction as history shows it), extra (what else the step depends on) and the
     * ARGs in scope (what $NAME expanded to in this instruction, and RUN's environment).
     */
    boolean cached(Stage s, String text, String extra, Work work) throws BuildException, IOException, RuntimeError {
        StringBuilder scope = new StringBuilder();
        new TreeMap<>(s.args).forEach((k, v) -> scope.append(k).append('=').append(v).append('\n'));
        String key = BuildCache.key(s.id, text, extra, scope.toString());
        if (!req.noCache) {
            BuildCache.Entry e = cache.get(key);
            if (e != null) {
                s.load(content, e.config(), e.layers(), e.diffIds());
                return true;
            }
        }
        work.run();
        cache.put(key, new BuildCache.Entry(s.id, s.layers, s.diffIds));
        return false;
    }

    /** Where a RUN step of s writes (not with -q: its log then). */
    BuildProgress.RunOutput runOutput(Stage s, int[] base) throws IOException {
        return progress.run(s.index, label(s), base);
    }

    /** image's root filesystem as one directory in the build's temp dir (the caller deletes it). */
    Path flatten(ImageRecord image) throws IOException, RuntimeError {
        Path flat = Files.createTempDirectory(tmp, "from-");
        LayerFlattener.flatten(images.unpack(image), flat);
        return flat;
    }

    /** s's layers unpacked, lowest first. */
    List<Path> unpack(Stage s) throws IOException, RuntimeError {
        return images.unpack(s.record(List.of(), null));
    }
}
