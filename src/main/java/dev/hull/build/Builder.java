package dev.hull.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.build.Dockerfile.Instruction;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.image.ContentStore;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.Manifest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Reference;
import dev.hull.image.SnapshotStore;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code hull build}: a Dockerfile's stages built into an image in Hull's store. Metadata
 * instructions change the config; COPY and ADD write their layer straight from the context (no
 * container); RUN runs as a Hull container made by the engine (same runtime, seccomp and network
 * defaults as {@code hull run}) on an overlay of the layers so far, and its layer is the overlay's
 * upper directory as a deterministic tar ({@link UpperDiff}). Every step goes through the
 * {@link BuildCache}. Only the final image is recorded; the steps' layers and configs are blobs the
 * cache refers to (an image prune collects them). Step containers are removed whatever happens,
 * also when the build is interrupted (a shutdown hook in a JVM of its own).
 */
public final class Builder {
    private final Engine engine;
    private final ImageService images;
    private final ContentStore content;
    private final BuildCache cache;
    private final Engine.ImageSource pull;
    /** Step states RUN containers are made from, by id (the engine asks for them by that name). */
    private final Map<String, ImageRecord> states = new ConcurrentHashMap<>();
    private final Set<String> liveContainers = ConcurrentHashMap.newKeySet();

    private BuildRequest req;
    private Long epoch;
    private Path tmp;
    private int step;
    private int steps;

    /** pull fetches a FROM image the store lacks (the CLI's registry pull), or null. */
    public Builder(Engine engine, Engine.ImageSource pull) {
        this.engine = engine;
        this.images = engine.images();
        this.content = images.store().content();
        this.cache = new BuildCache(engine.home(), content);
        this.pull = pull;
    }

    public record Result(ImageRecord image, List<String> tags) {}

    public Result build(BuildRequest request) throws BuildException, IOException, RuntimeError {
        this.req = request;
        this.epoch = request.sourceDateEpoch;
        Dockerfile df = Dockerfile.parse(request.dockerfileName, request.dockerfileText);
        List<String> tags = new ArrayList<>();
        for (String t : request.tags) {
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
        DockerIgnore ignore = DockerIgnore.none();
        if (request.context != null && Files.isRegularFile(request.context.resolve(".dockerignore"))) {
            ignore = DockerIgnore.parse(Files.readString(request.context.resolve(".dockerignore")));
        }
        BuildContext ctx = request.context == null ? null : new BuildContext(request.context, ignore);
        engine.imageSource(text -> {
            ImageRecord r = states.get(text);
            if (r != null) {
                return r;
            }
            if (pull == null) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "image " + text + " is not here");
            }
            return pull.fetch(text);
        });
        Thread hook = new Thread(this::cleanUp, "hull-build-cleanup");
        Path tmpRoot = Files.createDirectories(engine.home().resolve("tmp"));
        tmp = Files.createTempDirectory(tmpRoot, "build-");
        boolean hooked = false;
        try (Closeable lease = images.lease()) {
            try {
                Runtime.getRuntime().addShutdownHook(hook);
                hooked = true;
            } catch (IllegalStateException shuttingDown) {
                throw new BuildException("interrupted");
            }
            Stage fin = run(df, ctx);
            if (!request.labels.isEmpty()) {
                ObjectNode labels = labels(fin);
                request.labels.forEach(labels::put);
                fin.write(content);
            }
            Manifest manifest = new Manifest(2, MediaTypes.OCI_MANIFEST,
                    fin.record(List.of(), null).config(), fin.layers, null);
            Digest manifestDigest = content.write(Stage.JSON.writeValueAsBytes(manifest));
            ImageRecord rec = images.store().put(fin.record(tags, manifestDigest.toString()));
            return new Result(rec, tags);
        } finally {
            if (hooked) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs (or ran) anyway
                }
            }
            cleanUp();
        }
    }

    /** Removes what a build in flight holds: its step containers and temp files. Safe to call twice. */
    private void cleanUp() {
        boolean interrupted = Thread.interrupted(); // file locks (interruptible channels) must work here
        try {
            removeLeftovers();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void removeLeftovers() {
        for (String id : List.copyOf(liveContainers)) {
            try {
                engine.remove(id, true);
            } catch (Exception ignored) {
                // reported by the step that failed
            }
            liveContainers.remove(id);
        }
        if (tmp != null) {
            try {
                SnapshotStore.deleteTree(tmp);
            } catch (IOException ignored) {
                // a later prune takes it
            }
        }
    }

    // ---------------------------------------------------------------- stages

    private record StageDef(String name, int index, Instruction from, String base, List<Instruction> body) {}

    private Stage run(Dockerfile df, BuildContext ctx) throws BuildException, IOException, RuntimeError {
        // global ARGs (before the first FROM) and the stages
        Map<String, String> globals = new LinkedHashMap<>();
        Set<String> declared = new HashSet<>();
        List<StageDef> defs = new ArrayList<>();
        Words words = new Words(df.escape());
        List<Instruction> body = null;
        for (Instruction in : df.instructions()) {
            if (in.keyword().equals("FROM")) {
                List<String> w = expand(in, () -> words.words(in.args(), globals));
                String name = null;
                if (w.size() == 3 && w.get(1).equalsIgnoreCase("AS")) {
                    name = w.get(2).toLowerCase(Locale.ROOT);
                    if (!name.matches("[a-z][a-z0-9._-]*")) {
                        throw in.error("invalid stage name \"" + w.get(2) + "\": use letters, digits, . _ -, starting with a letter");
                    }
                    for (StageDef d : defs) {
                        if (name.equals(d.name())) {
                            throw in.error("stage name \"" + name + "\" is used twice (also at line " + d.from().line() + ")");
                        }
                    }
                } else if (w.size() != 1) {
                    throw in.error("FROM takes an image and optionally AS NAME: FROM " + in.args());
                }
                if (in.flags().containsKey("platform")) {
                    throw in.error("FROM --platform is not supported yet: Hull builds for this host's platform");
                }
                if (w.get(0).isEmpty()) {
                    throw in.error("FROM names no image (an ARG used before FROM has no value?)");
                }
                body = new ArrayList<>();
                defs.add(new StageDef(name, defs.size(), in, w.get(0), body));
            } else if (body == null) {
                if (!in.keyword().equals("ARG")) {
                    throw in.error("the first instruction must be FROM (only ARG may come before it), not " + in.keyword());
                }
                for (String a : expand(in, () -> words.words(in.args(), globals))) {
                    int eq = a.indexOf('=');
                    String k = eq < 0 ? a : a.substring(0, eq);
                    declared.add(k);
                    String v = req.buildArgs.containsKey(k) ? req.buildArgs.get(k) : eq < 0 ? null : a.substring(eq + 1);
                    if (v != null) {
                        globals.put(k, v);
                    }
                }
            } else {
                body.add(in);
            }
        }
        if (defs.isEmpty()) {
            throw new BuildException(df.name() + ": no FROM instruction: a Dockerfile must start with FROM (only ARG may come before it)");
        }
        StageDef target = defs.get(defs.size() - 1);
        if (req.target != null) {
            target = defs.stream().filter(d -> req.target.equalsIgnoreCase(d.name())).findFirst()
                    .orElseThrow(() -> new BuildException("--target " + req.target + ": no stage has that name"
                            + " (stages: " + String.join(", ", defs.stream().map(d -> d.name() == null
                                    ? "#" + d.index() : d.name()).toList()) + ")"));
        }
        // only the stages the target needs, in order
        Set<Integer> need = new HashSet<>();
        mark(target, defs, need, globals, words);
        steps = 0;
        for (StageDef d : defs) {
            if (need.contains(d.index())) {
                steps += 1 + d.body().size();
            }
        }
        Map<Integer, Stage> built = new HashMap<>();
        Set<String> used = new HashSet<>(declared);
        Stage last = null;
        for (StageDef d : defs) {
            if (!need.contains(d.index())) {
                continue;
            }
            last = buildStage(d, defs, built, globals, words, ctx, used);
            built.put(d.index(), last);
            if (d == target) {
                break;
            }
        }
        List<String> unused = new ArrayList<>();
        for (String k : req.buildArgs.keySet()) {
            if (!used.contains(k)) {
                unused.add(k);
            }
        }
        if (!unused.isEmpty()) {
            req.err.println("hull: [Warning] One or more build-args " + unused + " were not consumed");
        }
        return last;
    }

    private void mark(StageDef d, List<StageDef> defs, Set<Integer> need, Map<String, String> globals, Words words)
            throws BuildException {
        if (!need.add(d.index())) {
            return;
        }
        StageDef base = stageRef(d.base(), defs, d.index());
        if (base != null) {
            mark(base, defs, need, globals, words);
        }
        for (Instruction in : d.body()) {
            String from = in.flags().get("from");
            if (in.keyword().equals("COPY") && from != null) {
                StageDef s = stageRef(from, defs, d.index());
                if (s != null) {
                    mark(s, defs, need, globals, words);
                }
            }
        }
    }

    /** The stage named (or numbered) ref, defined before index; null if ref names no stage (an image). */
    private static StageDef stageRef(String ref, List<StageDef> defs, int before) {
        for (StageDef d : defs) {
            if (d.index() < before && (ref.equalsIgnoreCase(d.name()) || ref.equals(String.valueOf(d.index())))) {
                return d;
            }
        }
        return null;
    }

    private Stage buildStage(StageDef d, List<StageDef> defs, Map<Integer, Stage> built, Map<String, String> globals,
            Words words, BuildContext ctx, Set<String> used) throws BuildException, IOException, RuntimeError {
        Stage s = new Stage(d.name(), d.index());
        Instruction from = d.from();
        header(from);
        long t0 = System.nanoTime();
        StageDef baseStage = stageRef(d.base(), defs, d.index());
        if (baseStage != null) {
            Stage b = built.get(baseStage.index());
            s.load(content, b.id, b.layers, b.diffIds);
        } else if (d.base().equalsIgnoreCase("scratch")) {
            s.scratch();
            s.write(content);
        } else {
            ImageRecord base;
            try {
                base = engine.image(d.base());
            } catch (RuntimeError e) {
                throw from.error("FROM " + d.base() + ": " + e.getMessage());
            }
            s.load(content, base.id(), base.layers(), base.diffIds());
        }
        done(s, false, t0);
        for (Instruction in : d.body()) {
            header(in);
            t0 = System.nanoTime();
            boolean cached = step(s, in, words, globals, ctx, built, defs, used);
            done(s, cached, t0);
        }
        return s;
    }

    private void header(Instruction in) throws BuildException {
        if (Thread.currentThread().isInterrupted()) {
            throw new BuildException("interrupted");
        }
        step++;
        if (!req.quiet) {
            req.out.println("STEP " + step + "/" + steps + ": " + in.original());
            req.out.flush();
        }
    }

    private void done(Stage s, boolean cached, long t0) {
        if (!req.quiet) {
            String id = Digest.parse(s.id).shortHex();
            req.out.println(cached ? "--> CACHED " + id
                    : String.format(Locale.ROOT, "--> %s (%.1fs)", id, (System.nanoTime() - t0) / 1e9));
            req.out.flush();
        }
    }

    // ---------------------------------------------------------------- steps

    /** Runs one instruction on s; true if it came from the cache. */
    private boolean step(Stage s, Instruction in, Words words, Map<String, String> globals, BuildContext ctx,
            Map<Integer, Stage> built, List<StageDef> defs, Set<String> used)
            throws BuildException, IOException, RuntimeError {
        Map<String, String> vars = s.vars();
        String kw = in.keyword();
        String text = in.text();
        switch (kw) {
            case "ARG" -> {
                // ARG changes what later steps see, not the image: no cache entry, no history
                for (String a : expand(in, () -> words.words(in.args(), vars))) {
                    int eq = a.indexOf('=');
                    String k = eq < 0 ? a : a.substring(0, eq);
                    if (!k.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                        throw in.error("ARG " + a + ": not a valid name");
                    }
                    used.add(k);
                    String v = req.buildArgs.containsKey(k) ? req.buildArgs.get(k)
                            : eq >= 0 ? a.substring(eq + 1) : globals.get(k);
                    if (v != null) {
                        s.args.put(k, v);
                    } else {
                        s.args.remove(k);
                    }
                }
                return false;
            }
            case "RUN" -> {
                if (!in.flags().isEmpty()) {
                    throw in.error("RUN --" + in.flags().keySet().iterator().next() + " is not supported yet");
                }
                List<String> argv = in.json() != null ? in.json() : concat(s.shell(), in.args());
                List<String> extra = new ArrayList<>();
                Set<String> envNames = new HashSet<>();
                for (String e : s.env()) {
                    envNames.add(e.contains("=") ? e.substring(0, e.indexOf('=')) : e);
                }
                s.args.forEach((k, v) -> {
                    if (!envNames.contains(k)) {
                        extra.add(k + "=" + v);
                    }
                });
                String createdBy = "RUN " + String.join(" ", argv);
                return cached(s, createdBy, in, String.join("\n", extra),
                        () -> s.commit(content, createdBy, runStep(s, in, argv, extra), epoch));
            }
            case "COPY", "ADD" -> {
                return copy(s, in, words, vars, ctx, built, defs);
            }
            default -> {
                return cached(s, text, in, "", () -> {
                    meta(s, in, words, vars);
                    s.commit(content, text, null, epoch);
                });
            }
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws BuildException, IOException, RuntimeError;
    }

    /** The step from the cache, or done by work (which commits s) and cached. */
    private boolean cached(Stage s, String text, Instruction in, String extra, Work work)
            throws BuildException, IOException, RuntimeError {
        // the ARGs in scope: what $NAME expanded to in this instruction (and RUN's environment)
        StringBuilder scope = new StringBuilder();
        new java.util.TreeMap<>(s.args).forEach((k, v) -> scope.append(k).append('=').append(v).append('\n'));
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

    private static List<String> concat(List<String> a, String b) {
        List<String> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }

    interface Expansion<T> {
        T get();
    }

    private static <T> T expand(Instruction in, Expansion<T> e) throws BuildException {
        try {
            return e.get();
        } catch (IllegalArgumentException x) {
            throw in.error(in.keyword() + ": " + x.getMessage());
        }
    }

    private static ObjectNode labels(Stage s) {
        JsonNode l = s.cc().get("Labels");
        return l != null && l.isObject() ? (ObjectNode) l : s.cc().putObject("Labels");
    }

    /** The instructions that only change the config. */
    private void meta(Stage s, Instruction in, Words words, Map<String, String> vars) throws BuildException {
        ObjectNode cc = s.cc();
        switch (in.keyword()) {
            case "ENV" -> {
                for (Map.Entry<String, String> kv : pairs(in, words, vars).entrySet()) {
                    s.setEnv(kv.getKey(), kv.getValue());
                }
            }
            case "LABEL" -> {
                ObjectNode labels = labels(s);
                pairs(in, words, vars).forEach(labels::put);
            }
            case "MAINTAINER" -> s.config.put("author", in.args());
            case "WORKDIR" -> {
                String w = expand(in, () -> words.word(in.args(), vars));
                cc.put("WorkingDir", w.startsWith("/") ? normalize(w) : normalize(s.workdir() + "/" + w));
            }
            case "USER" -> cc.put("User", expand(in, () -> words.word(in.args(), vars)));
            case "STOPSIGNAL" -> cc.put("StopSignal", expand(in, () -> words.word(in.args(), vars)));
            case "EXPOSE" -> {
                ObjectNode ports = cc.has("ExposedPorts") && cc.get("ExposedPorts").isObject()
                        ? (ObjectNode) cc.get("ExposedPorts") : cc.putObject("ExposedPorts");
                for (String p : expand(in, () -> words.words(in.args(), vars))) {
                    String proto = "tcp";
                    int slash = p.indexOf('/');
                    if (slash >= 0) {
                        proto = p.substring(slash + 1).toLowerCase(Locale.ROOT);
                        p = p.substring(0, slash);
                    }
                    if (!proto.matches("tcp|udp|sctp") || !p.matches("\\d{1,5}(-\\d{1,5})?")) {
                        throw in.error("EXPOSE " + p + (slash >= 0 ? "/" + proto : "") + ": not a port (80, 80/udp, 8000-8010)");
                    }
                    String[] range = p.split("-");
                    int lo = Integer.parseInt(range[0]);
                    int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
                    if (lo < 1 || hi > 65535 || hi < lo) {
                        throw in.error("EXPOSE " + p + ": ports are 1-65535");
                    }
                    for (int port = lo; port <= hi; port++) {
                        ports.putObject(port + "/" + proto);
                    }
                }
            }
            case "VOLUME" -> {
                ObjectNode vols = cc.has("Volumes") && cc.get("Volumes").isObject()
                        ? (ObjectNode) cc.get("Volumes") : cc.putObject("Volumes");
                List<String> list = in.json() != null ? in.json() : expand(in, () -> words.words(in.args(), vars));
                for (String v : list) {
                    if (v.isBlank()) {
                        throw in.error("VOLUME with an empty path");
                    }
                    vols.putObject(v);
                }
            }
            case "CMD" -> {
                putArray(cc, "Cmd", in.json() != null ? in.json() : concat(s.shell(), in.args()));
                s.cmdSet = true;
            }
            case "ENTRYPOINT" -> {
                putArray(cc, "Entrypoint", in.json() != null ? in.json() : concat(s.shell(), in.args()));
                if (!s.cmdSet) {
                    cc.putNull("Cmd"); // docker: a new ENTRYPOINT drops the base image's CMD
                    cc.remove("Cmd");
                }
            }
            case "SHELL" -> putArray(cc, "Shell", in.json());
            case "ONBUILD" -> {
                String trigger = in.args().strip();
                String kw = trigger.split("\\s+")[0].toUpperCase(Locale.ROOT);
                if (kw.equals("ONBUILD") || kw.equals("FROM") || kw.equals("MAINTAINER")) {
                    throw in.error("ONBUILD " + kw + " is not allowed");
                }
                ArrayNode a = cc.has("OnBuild") && cc.get("OnBuild").isArray() ? (ArrayNode) cc.get("OnBuild")
                        : cc.putArray("OnBuild");
                a.add(trigger);
            }
            case "HEALTHCHECK" -> healthcheck(s, in);
            default -> throw in.error("unknown instruction: " + in.keyword());
        }
    }

    private static void putArray(ObjectNode o, String field, List<String> values) {
        ArrayNode a = o.putArray(field);
        values.forEach(a::add);
    }

    /** ENV and LABEL: key=value pairs (quotes and escapes as the shell's), or the legacy "ENV key value". */
    private static Map<String, String> pairs(Instruction in, Words words, Map<String, String> vars)
            throws BuildException {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> raw = expand(in, () -> words.splitRaw(in.args()));
        if (!raw.isEmpty() && !raw.get(0).contains("=")) {
            if (raw.size() < 2) {
                throw in.error(in.keyword() + " " + in.args() + ": needs key=value (or \"" + in.keyword()
                        + " key value\")");
            }
            String rest = in.args().strip().substring(raw.get(0).length()).strip();
            out.put(expand(in, () -> words.word(raw.get(0), vars)), expand(in, () -> words.word(rest, vars)));
            return out;
        }
        for (String r : raw) {
            int eq = r.indexOf('=');
            if (eq <= 0) {
                throw in.error(in.keyword() + ": \"" + r + "\" is not key=value");
            }
            String k = expand(in, () -> words.word(r.substring(0, eq), vars));
            String v = expand(in, () -> words.word(r.substring(eq + 1), vars));
            out.put(k, v);
        }
        return out;
    }

    private static void healthcheck(Stage s, Instruction in) throws BuildException {
        ObjectNode hc = Stage.JSON.createObjectNode();
        String args = in.args().strip();
        if (args.equalsIgnoreCase("NONE")) {
            if (!in.flags().isEmpty()) {
                throw in.error("HEALTHCHECK NONE takes no flags");
            }
            hc.putArray("Test").add("NONE");
            s.cc().set("Healthcheck", hc);
            return;
        }
        String[] parts = args.split("\\s+", 2);
        if (!parts[0].equalsIgnoreCase("CMD") || parts.length < 2) {
            throw in.error("HEALTHCHECK takes NONE or [OPTIONS] CMD command");
        }
        ArrayNode test = hc.putArray("Test");
        List<String> json = jsonForm(parts[1]);
        if (json != null) {
            test.add("CMD");
            json.forEach(test::add);
        } else {
            test.add("CMD-SHELL");
            test.add(parts[1]);
        }
        for (Map.Entry<String, String> f : in.flags().entrySet()) {
            String v = f.getValue() == null ? "" : f.getValue();
            switch (f.getKey()) {
                case "interval" -> hc.put("Interval", duration(in, f.getKey(), v));
                case "timeout" -> hc.put("Timeout", duration(in, f.getKey(), v));
                case "start-period" -> hc.put("StartPeriod", duration(in, f.getKey(), v));
                case "start-interval" -> hc.put("StartInterval", duration(in, f.getKey(), v));
                case "retries" -> {
                    try {
                        hc.put("Retries", Integer.parseInt(v));
                    } catch (NumberFormatException e) {
                        throw in.error("HEALTHCHECK --retries=" + v + ": not a number");
                    }
                }
                default -> throw in.error("HEALTHCHECK has no flag --" + f.getKey());
            }
        }
        s.cc().set("Healthcheck", hc);
    }

    private static List<String> jsonForm(String text) {
        if (!text.startsWith("[")) {
            return null;
        }
        try {
            JsonNode n = Stage.JSON.readTree(text);
            if (!n.isArray()) {
                return null;
            }
            List<String> out = new ArrayList<>();
            for (JsonNode e : n) {
                if (!e.isTextual()) {
                    return null;
                }
                out.add(e.asText());
            }
            return out;
        } catch (IOException e) {
            return null;
        }
    }

    /** Go's durations as Docker takes them (30s, 1m30s, 500ms) in nanoseconds. */
    static long duration(Instruction in, String flag, String v) throws BuildException {
        var m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)").matcher(v);
        int pos = 0;
        double total = 0;
        while (m.find() && m.start() == pos) {
            double n = Double.parseDouble(m.group(1));
            total += n * switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            pos = m.end();
        }
        if (pos == 0 || pos != v.length()) {
            throw in.error("HEALTHCHECK --" + flag + "=" + v + ": not a duration (30s, 1m30s, 500ms)");
        }
        return (long) total;
    }

    static String normalize(String path) {
        String c = DockerIgnore.clean(path);
        return "/" + c;
    }

    // ---------------------------------------------------------------- RUN

    /** Runs argv in a container on s's layers; returns the layer it made. */
    private LayerTar.Stored runStep(Stage s, Instruction in, List<String> argv, List<String> extraEnv)
            throws BuildException, IOException, RuntimeError {
        states.put(s.id, s.record(List.of(), null));
        CreateOptions o = new CreateOptions();
        o.image = s.id;
        o.entrypoint = "";
        o.command = new ArrayList<>(argv);
        o.env = new ArrayList<>(extraEnv);
        o.labels.put("dev.hull.build", "step");
        o.logOpts.put("max-size", "-1");
        ContainerInfo info;
        try {
            info = engine.create(o);
        } catch (RuntimeError e) {
            throw in.error("RUN: the step's container could not be made: " + e.getMessage());
        }
        liveContainers.add(info.id());
        Path log = null;
        int devnull = -1;
        int logFd = -1;
        try {
            if (!"overlay".equals(info.snapshotter())) {
                throw in.error("RUN needs overlayfs (the " + info.snapshotter() + " snapshotter is not supported by hull build yet)");
            }
            devnull = Syscalls.open("/dev/null", Syscalls.O_RDONLY, 0);
            int[] stdio;
            if (req.quiet) {
                log = Files.createTempFile(tmp, "run-", ".log");
                logFd = Syscalls.open(log.toString(), Syscalls.O_WRONLY, 0);
                stdio = new int[] {devnull, logFd, logFd};
            } else {
                int[] base = req.stdio != null ? req.stdio : new int[] {0, 1, 2};
                stdio = new int[] {devnull, base[1], base[2]};
            }
            // Hull's service interrupts a command's thread when its client gets Ctrl-C (the cold
            // path's JVM runs the shutdown hook instead): the step's container is killed then.
            Thread caller = Thread.currentThread();
            java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
            String id = info.id();
            Thread watch = Thread.ofPlatform().daemon().name("hull-build-watch").start(() -> {
                while (!over.get()) {
                    if (caller.isInterrupted()) {
                        cancelled.set(true);
                        try {
                            engine.kill(id, "KILL");
                        } catch (Exception ignored) {
                            // it ended meanwhile
                        }
                        return;
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            int code;
            try {
                code = engine.start(info.id(), new Engine.Attach(stdio, pid -> { }));
            } finally {
                over.set(true);
                watch.interrupt();
            }
            if (cancelled.get() || caller.isInterrupted()) {
                throw new BuildException("interrupted");
            }
            if (code != 0) {
                String tail = "";
                if (log != null) {
                    List<String> lines = Files.readAllLines(log);
                    tail = "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
                }
                throw in.error("RUN failed (step " + step + "/" + steps + "): the command '" + String.join(" ", argv)
                        + "' returned a non-zero code: " + code + tail);
            }
            Path dir = engine.containers().dir(info.id());
            List<Path> lower = images.unpack(s.record(List.of(), null));
            LayerTar tar = UpperDiff.read(dir.resolve("upper"), dir.resolve("config.json"), lower);
            return tar.store(content, tmp, epoch);
        } finally {
            if (devnull >= 0) {
                Syscalls.close(devnull);
            }
            if (logFd >= 0) {
                Syscalls.close(logFd);
            }
            boolean interrupted = Thread.interrupted(); // file locks (interruptible channels) must work here
            try {
                engine.remove(info.id(), true);
            } finally {
                liveContainers.remove(info.id());
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    // ---------------------------------------------------------------- COPY / ADD

    private boolean copy(Stage s, Instruction in, Words words, Map<String, String> vars, BuildContext ctx,
            Map<Integer, Stage> built, List<StageDef> defs) throws BuildException, IOException, RuntimeError {
        boolean add = in.keyword().equals("ADD");
        for (String f : in.flags().keySet()) {
            if (!Set.of("from", "chown", "chmod", "link").contains(f)) {
                throw in.error(in.keyword() + " --" + f + " is not supported yet");
            }
        }
        List<String> list = in.json() != null ? new ArrayList<>(in.json())
                : new ArrayList<>(expand(in, () -> words.words(in.args(), vars)));
        if (in.json() != null) {
            for (int i = 0; i < list.size(); i++) {
                String w = list.get(i);
                list.set(i, expand(in, () -> words.word(w.replace("\"", "\\\"").replace("'", "\\'"), vars)));
            }
        }
        if (list.size() < 2) {
            throw in.error(in.keyword() + " needs a source and a destination");
        }
        String dest = list.remove(list.size() - 1);
        List<String> sources = list;
        String from = in.flags().get("from");
        BuildContext source = ctx;
        Path flat = null;
        String fromId = "context";
        if (from != null) {
            String f = expand(in, () -> words.word(from, vars));
            StageDef d = stageRef(f, defs, s.index);
            ImageRecord image;
            if (d != null) {
                Stage st = built.get(d.index());
                image = st.record(List.of(), null);
            } else {
                try {
                    image = engine.image(f);
                } catch (RuntimeError e) {
                    throw in.error("COPY --from=" + f + ": no stage has that name, and the image: " + e.getMessage());
                }
            }
            fromId = image.id();
            flat = Files.createTempDirectory(tmp, "from-");
            dev.hull.image.unpack.LayerFlattener.flatten(images.unpack(image), flat);
            source = new BuildContext(flat, DockerIgnore.none());
        } else if (ctx == null) {
            throw in.error(in.keyword() + " needs a build context (the Dockerfile came on stdin without one)");
        }
        for (String src : sources) {
            if (src.matches("(?i)(https?|git)://.*") || src.startsWith("git@")) {
                throw in.error(in.keyword() + " " + src + ": remote URLs are not supported by hull build"
                        + (add ? " (download it with RUN wget, or COPY a file you downloaded into the context)" : ""));
            }
        }
        // what is copied, and its content digest: the cache key
        List<BuildContext.Match> matches = new ArrayList<>();
        for (String src : sources) {
            try {
                matches.addAll(source.match(src));
            } catch (IllegalArgumentException e) {
                throw in.error(in.keyword() + " " + src + ": " + e.getMessage());
            }
        }
        String digest = source.digest(matches);
        String extra = fromId + "\n" + digest;
        String text = in.text();
        try {
            return cached(s, text, in, extra, () -> {
                List<Path> lower = images.unpack(s.record(List.of(), null));
                CopyLayer layer = new CopyLayer(lower, epoch);
                Integer chmod = null;
                if (in.flags().containsKey("chmod")) {
                    String m = in.flags().get("chmod");
                    if (m == null || !m.matches("[0-7]{3,4}")) {
                        throw in.error(in.keyword() + " --chmod=" + m + ": use an octal mode like 755 or 0644");
                    }
                    chmod = Integer.parseInt(m, 8);
                }
                long[] owner = null;
                if (in.flags().containsKey("chown")) {
                    String c = expand(in, () -> words.word(String.valueOf(in.flags().get("chown")), vars));
                    try {
                        owner = Owners.resolve(c, lower);
                    } catch (IllegalArgumentException e) {
                        throw in.error(in.keyword() + " --chown=" + c + ": " + e.getMessage());
                    }
                }
                String target = dest.startsWith("/") ? dest : s.workdir() + "/" + dest;
                boolean toDir = dest.endsWith("/") || dest.endsWith("/.") || dest.equals(".");
                if (matches.size() > 1 && !toDir) {
                    throw in.error(in.keyword() + " with more than one source file: the destination must be a"
                            + " directory and end with a / (" + dest + ")");
                }
                try {
                    layer.copy(matches, target, toDir, add && ctx != null && from == null, chmod, owner,
                            from != null, tmp);
                } catch (IllegalArgumentException e) {
                    throw in.error(in.keyword() + ": " + e.getMessage());
                }
                s.commit(content, text, layer.tar().store(content, tmp, epoch), epoch);
            });
        } finally {
            if (flat != null) {
                SnapshotStore.deleteTree(flat);
            }
        }
    }
}
