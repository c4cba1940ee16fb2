package dev.hull.build;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.build.Dockerfile.Instruction;
import dev.hull.build.StagePlan.StageDef;
import dev.hull.engine.Engine;
import dev.hull.image.ImageRecord;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code hull build}: a Dockerfile's stages built into an image in Hull's store. The stages the
 * target needs are resolved by {@link StagePlan}; each instruction is a step: metadata
 * instructions change the config ({@link MetaStep}); COPY and ADD write their layer straight from
 * the context ({@link CopyStep}); RUN runs as a Hull container ({@link RunStep},
 * {@link StepContainer}). Every step goes through the {@link BuildCache}. Only the final image is
 * recorded; the steps' layers and configs are blobs the cache refers to (an image prune collects
 * them). Step containers and temp files are removed whatever happens, also when the build is
 * interrupted (a shutdown hook in a JVM of its own).
 */
public final class Builder {
    private final Engine engine;
    private final PlatformSource pull;

    /** Where a FROM image the store lacks (or has for another platform) comes from: a registry pull. */
    @FunctionalInterface
    public interface PlatformSource {
        ImageRecord fetch(String image, Platform platform) throws IOException, RuntimeError;
    }
    private final BuildCache cache;

    /** pull fetches a FROM image the store lacks (the Docker API's pull, this host's platform only), or null. */
    public Builder(Engine engine, Engine.ImageSource pull) {
        this(engine, pull == null ? null : (PlatformSource) (image, platform) -> pull.fetch(image));
    }

    /** pull fetches a FROM image the store lacks, or has for another platform (the CLI's registry pull), or null. */
    public Builder(Engine engine, PlatformSource pull) {
        this.engine = engine;
        this.pull = pull;
        this.cache = new BuildCache(engine.home(), engine.images().store().content());
    }

    public record Result(ImageRecord image, List<String> tags) {}

    public Result build(BuildRequest req) throws BuildException, IOException, RuntimeError {
        Dockerfile df = Dockerfile.parse(req.dockerfileName, req.dockerfileText);
        List<String> tags = tags(req.tags);
        DockerIgnore ignore = DockerIgnore.none();
        Path ignoreFile = req.context == null ? null : BuildContext.fileInRoot(req.context, ".dockerignore");
        if (ignoreFile != null) {
            ignore = DockerIgnore.parse(Files.readString(ignoreFile));
        }
        BuildContext ctx = req.context == null ? null : new BuildContext(req.context, ignore);
        BuildDebris.sweep(engine); // what builds killed with -9 left
        BuildSession b = new BuildSession(engine, cache, req, BuildDebris.tempDir(engine.home(), "session"));
        engine.imageSource(text -> {
            ImageRecord r = b.states.get(text);
            if (r != null) {
                return r;
            }
            if (pull == null) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "image " + text + " is not here");
            }
            return pull.fetch(text, Platform.host());
        });
        Thread hook = new Thread(() -> cleanUp(b), "hull-build-cleanup");
        boolean hooked = false;
        try (Closeable lease = b.images.lease()) {
            try {
                Runtime.getRuntime().addShutdownHook(hook);
                hooked = true;
            } catch (IllegalStateException shuttingDown) {
                throw new BuildException("interrupted");
            }
            Stage fin = stages(b, df, ctx);
            if (!req.labels.isEmpty()) {
                ObjectNode labels = MetaStep.labels(fin);
                req.labels.forEach(labels::put);
                fin.write(b.content);
            }
            return new Result(fin.save(b.images, tags), tags);
        } finally {
            if (hooked) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs (or ran) anyway
                }
            }
            cleanUp(b);
        }
    }

    static List<String> tags(List<String> given) throws BuildException {
        List<String> tags = new ArrayList<>();
        for (String t : given) {
            try {
                Reference r = Reference.parse(t);
                if (r.digest() != null) {
                    throw new BuildException("-t " + t + ": a tag cannot contain a digest");
                }
                tags.add(r.toString());
            } catch (IllegalArgumentException e) {
                throw new BuildException("-t " + t + ": " + e.getMessage());
            }
        }
        return tags;
    }

    /** Removes what a build in flight holds: its step containers and temp files. Safe to call twice. */
    private void cleanUp(BuildSession b) {
        boolean interrupted = Thread.interrupted(); // file locks (interruptible channels) must work here
        try {
            b.awaitRemovals();
            for (String id : List.copyOf(b.liveContainers)) {
                try {
                    engine.remove(id, true);
                } catch (Exception ignored) {
                    // reported by the step that failed
                }
                b.liveContainers.remove(id);
            }
            try {
                SnapshotStore.deleteTree(b.tmp);
            } catch (IOException ignored) {
                // a later prune takes it
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- stages

    /**
     * Builds the stages the target needs, side by side where they allow ({@link StageScheduler});
     * returns the target's final state.
     */
    /**
     * The FROM image of d for d's platform: the store's when it is of that platform (and not
     * --pull), else pulled for it — a registry's index picks the platform's manifest.
     */
    private ImageRecord base(BuildSession b, StageDef d) throws BuildException, IOException {
        Platform want = d.platform();
        ImageRecord base = null;
        String why = null;
        if (!b.req.pull) {
            try {
                base = engine.images().getOrBuildBuiltin(d.base());
                if (base.platform() == null || base.platform().architecture() == null || want.matches(base.platform())) {
                    return base;
                }
                why = "the image here is " + base.platform();
            } catch (dev.hull.image.ImageNotFoundException e) {
                why = e.getMessage();
            }
        }
        if (pull == null) {
            throw d.from().error("FROM " + d.base() + ": " + why);
        }
        try {
            base = pull.fetch(d.base(), want);
        } catch (RuntimeError e) {
            throw d.from().error("FROM " + d.base() + (b.req.pull ? " (--pull)" : "") + (why == null ? "" : ": " + why)
                    + (base != null ? ", not " + want + "; pulling it for " + want + " failed" : "") + ": "
                    + e.getMessage());
        }
        if (base.platform() != null && base.platform().architecture() != null && !want.matches(base.platform())) {
            throw d.from().error("FROM " + d.base() + ": the registry has it for " + base.platform() + ", not " + want);
        }
        return base;
    }

    private Stage stages(BuildSession b, Dockerfile df, BuildContext ctx)
            throws BuildException, IOException, RuntimeError {
        StagePlan plan = StagePlan.of(df, b.req.buildArgs, b.req.target,
                b.req.platform != null ? b.req.platform : Platform.host());
        List<Integer> order = plan.needed.stream().map(StageDef::index).toList();
        b.steps(plan.steps(), b.req.tty && !b.req.quiet ? new BuildProgress(b.req.out, order, new TtyProgress(
                b.req.err, b.req.stdio != null ? b.req.stdio[2] : 2, plan.steps()))
                : new BuildProgress(b.req.out, order).dockerWording(b.req.dockerWording));
        Map<Integer, Stage> built = new ConcurrentHashMap<>();
        Set<String> used = ConcurrentHashMap.newKeySet();
        used.addAll(plan.declared);
        Map<String, ImageRecord> pulled = new java.util.HashMap<>();
        CopyStep.Sources sources = (ref, before, in) -> {
            StageDef d = plan.stageRef(ref, before);
            if (d != null) {
                Stage done = built.get(d.index());
                if (done == null) { // a name the plan could not see (a stage ARG in it)
                    throw in.error(in.keyword() + " --from=" + ref + ": the stage is not built yet (name stages"
                            + " with global ARGs only, or literally)");
                }
                return done.record(List.of(), null);
            }
            if (b.req.pull && pull != null) {
                return pulledAgain(ref, plan.defs.get(before).platform(), in, pulled);
            }
            try {
                return engine.image(ref);
            } catch (RuntimeError e) {
                throw in.error(in.keyword() + " --from=" + ref + ": no stage has that name, and the image: "
                        + e.getMessage());
            }
        };
        built.putAll(StageScheduler.run(plan, b.req.jobs, d -> {
            Stage s = stage(b, plan, d, built, ctx, sources, used);
            built.put(d.index(), s);
            return s;
        }, b.progress()));
        Stage last = built.get(plan.target.index());
        List<String> unused = new ArrayList<>();
        for (String k : b.req.buildArgs.keySet()) {
            if (!used.contains(k)) {
                unused.add(k);
            }
        }
        if (!unused.isEmpty()) {
            b.req.err.println("hull: [Warning] One or more build-args " + unused + " were not consumed");
        }
        return last;
    }

    private Stage stage(BuildSession b, StagePlan plan, StageDef d, Map<Integer, Stage> built, BuildContext ctx,
            CopyStep.Sources sources, Set<String> used) throws BuildException, IOException, RuntimeError {
        Stage s = new Stage(d.name(), d.index());
        s.platform = d.platform();
        s.step = plan.firstStep(d) - 1;
        b.header(s, d.from());
        long t0 = System.nanoTime();
        StageDef baseStage = plan.stageRef(d.base(), d.index());
        if (baseStage != null) {
            Stage base = built.get(baseStage.index());
            s.load(b.content, base.id, base.layers, base.diffIds);
        } else if (d.base().equalsIgnoreCase("scratch")) {
            s.scratch();
            s.write(b.content);
        } else {
            ImageRecord base = base(b, d);
            s.load(b.content, base.id(), base.layers(), base.diffIds());
        }
        b.done(s, false, t0);
        for (Instruction in : triggers(b, s, d.from())) {
            b.trigger(s, in);
            t0 = System.nanoTime();
            boolean cached = step(b, s, in, plan, ctx, sources, used);
            b.done(s, cached, t0);
        }
        for (Instruction in : d.body()) {
            b.header(s, in);
            t0 = System.nanoTime();
            boolean cached = step(b, s, in, plan, ctx, sources, used);
            b.done(s, cached, t0);
        }
        return s;
    }

    /**
     * The base image's ONBUILD triggers, as instructions at the FROM's line, taken out of s's config
     * (they run here, in the child; docker's child image has none).
     */
    private static List<Instruction> triggers(BuildSession b, Stage s, Instruction from)
            throws BuildException, IOException {
        com.fasterxml.jackson.databind.JsonNode on = s.cc().get("OnBuild");
        if (on == null || !on.isArray() || on.isEmpty()) {
            s.cc().remove("OnBuild");
            return List.of();
        }
        List<Instruction> out = new ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode t : on) {
            Dockerfile df;
            try {
                df = Dockerfile.parse(from.file(), t.asText());
            } catch (BuildException e) {
                throw from.error("the base image's ONBUILD " + t.asText() + ": " + e.getMessage());
            }
            for (Instruction in : df.instructions()) {
                out.add(new Instruction(from.file(), from.line(), in.keyword(), in.flags(), in.mounts(), in.excludes(),
                        in.args(), in.json(), in.heredocs(), in.original()));
            }
        }
        s.cc().remove("OnBuild");
        s.write(b.content);
        return out;
    }

    /** Runs one instruction on s; true if it came from the cache. */
    private static boolean step(BuildSession b, Stage s, Instruction in, StagePlan plan, BuildContext ctx,
            CopyStep.Sources sources, Set<String> used) throws BuildException, IOException, RuntimeError {
        Words words = plan.words;
        switch (in.keyword()) {
            case "ARG" -> {
                arg(b, s, in, plan, used);
                return false;
            }
            case "RUN" -> {
                return RunStep.run(b, s, in, ctx, sources);
            }
            case "COPY", "ADD" -> {
                return CopyStep.run(b, s, in, words, ctx, sources);
            }
            default -> {
                Map<String, String> vars = s.vars();
                return b.cached(s, in.text(), "", () -> {
                    MetaStep.apply(s, in, words, vars);
                    s.commit(b.content, in.text(), null, b.epoch);
                });
            }
        }
    }

    /**
     * --pull and {@code COPY --from=IMAGE} (or {@code RUN --mount=...,from=IMAGE}): the image pulled
     * from its registry again for platform, once per build (the steps naming it share the pull).
     */
    private ImageRecord pulledAgain(String ref, Platform platform, Instruction in, Map<String, ImageRecord> pulled)
            throws BuildException, IOException {
        synchronized (pulled) {
            ImageRecord r = pulled.get(ref);
            if (r != null) {
                return r;
            }
            try {
                r = pull.fetch(ref, platform);
            } catch (RuntimeError e) {
                throw in.error((in.keyword().equals("RUN") ? "RUN --mount from=" : in.keyword() + " --from=") + ref
                        + " (--pull): no stage has that name, and pulling the"
                        + " image failed: " + e.getMessage());
            }
            pulled.put(ref, r);
            return r;
        }
    }

    /** ARG changes what later steps see, not the image: no cache entry, no history. */
    private static void arg(BuildSession b, Stage s, Instruction in, StagePlan plan, Set<String> used)
            throws BuildException {
        Map<String, String> vars = s.vars();
        for (String a : in.expand(() -> plan.words.words(in.args(), vars))) {
            int eq = a.indexOf('=');
            String k = eq < 0 ? a : a.substring(0, eq);
            if (!k.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw in.error("ARG " + a + ": not a valid name");
            }
            used.add(k);
            String v = b.req.buildArgs.containsKey(k) ? b.req.buildArgs.get(k)
                    : eq >= 0 ? a.substring(eq + 1) : plan.globals.get(k);
            if (v != null) {
                s.args.put(k, v);
            } else {
                s.args.remove(k);
            }
        }
    }
}
