package dev.hull.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.build.BuildException;
import dev.hull.build.BuildRequest;
import dev.hull.build.Builder;
import dev.hull.build.ContextTar;
import dev.hull.engine.Engine;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.SnapshotRecord;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.RuntimeError;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull build} and {@code hull history}. */
final class BuildCli {
    private BuildCli() {}

    @Command(name = "build", mixinStandardHelpOptions = true, description = {"Build an image from a Dockerfile.", "",
        "Each instruction is a step; RUN steps run as Hull containers on the layers so far, COPY and ADD"
            + " take files from the context (less what .dockerignore leaves out). A step whose parent,"
            + " instruction and copied files are unchanged comes from the cache (CACHED).", "",
        "Examples:", "  hull build -t app:1 .", "  hull build -f build/Dockerfile --build-arg VERSION=2 --target runtime .",
        "  tar -c . | hull build -t app -", "  hull build - < Dockerfile"}, sortOptions = false)
    static final class Build implements Callable<Integer> {
        @Option(names = {"-t", "--tag"}, paramLabel = "NAME[:TAG]", description = "Name the image (repeatable).")
        List<String> tags = new ArrayList<>();
        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "The Dockerfile (default: CONTEXT/Dockerfile; - for stdin).")
        String file;
        @Option(names = "--build-arg", paramLabel = "KEY[=VALUE]", description = "A build argument (without =VALUE: from the environment).")
        List<String> buildArgs = new ArrayList<>();
        @Option(names = "--target", paramLabel = "STAGE", description = "Build up to this stage.")
        String target;
        @Option(names = "--no-cache", description = "Do not use the build cache.")
        boolean noCache;
        @Option(names = "--pull", description = "Pull every FROM image from its registry again, even when the store"
                + " has it.")
        boolean pull;
        @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "The platform to build for"
                + " (default this host's): FROM images are pulled for it; a RUN step for another CPU needs an emulator"
                + " in binfmt_misc (qemu-user-static).")
        String platform;
        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label for the image (repeatable).")
        List<String> labels = new ArrayList<>();
        @Option(names = {"-o", "--output"}, paramLabel = "type=TYPE,dest=PATH", description = "Also write the image"
                + " here: type=oci-archive|docker-archive,dest=FILE (what hull load, docker load and skopeo read),"
                + " type=tar,dest=FILE (its files as a tar) or type=local,dest=DIR (its files; a bare DIR means this"
                + " too); dest=- (or -o -, a tar): to stdout, the progress then on stderr.")
        String output;
        @Option(names = "--iidfile", paramLabel = "FILE", description = "Write the image id to this file.")
        Path iidfile;
        @Option(names = {"-q", "--quiet"}, description = "Print only the image id (RUN output is shown only when a step fails).")
        boolean quiet;
        @Option(names = "--progress", paramLabel = "auto|plain|tty|quiet", description = "plain: a line per step,"
                + " RUN output as it comes; tty: a view redrawn in place on stderr (running steps, their last output"
                + " lines, times); auto (the default): tty when stderr is a terminal, else plain; quiet: as -q.")
        String progress = "auto";
        @Option(names = "--network", paramLabel = "bridge|host|none", description = "The network RUN steps join"
                + " (default bridge; RUN --network= overrides it per step).")
        String network = "bridge";
        @Option(names = "--secret", paramLabel = "id=ID,src=FILE|env=VAR", description = "A secret RUN"
                + " --mount=type=secret,id=ID sees (at /run/secrets/ID); never in a layer or the history (repeatable).")
        List<String> secrets = new ArrayList<>();
        @Option(names = "--ssh", paramLabel = "default|default=KEY[,KEY]", description = "Let the git fetch of the"
                + " context and of ADD, and RUN --mount=type=ssh steps (an agent socket), use an ssh identity: default,"
                + " the agent at SSH_AUTH_SOCK; default=KEY,..., these key files. Without it, git over ssh uses no key,"
                + " agent or ssh configuration of this host and RUN steps get no agent.")
        List<String> ssh = new ArrayList<>();
        @Mixin
        RegistryCli.Access access = new RegistryCli.Access();
        @Parameters(index = "0", paramLabel = "CONTEXT|URL|-", description = "The build context: a directory, a git"
                + " repository (https://.../x.git, git://..., git@host:x.git; #REF:DIR picks a branch, tag or commit"
                + " and a directory), or - for a tar (or a lone Dockerfile) on stdin.")
        String context;

        @Override
        public Integer call() {
            Path tmpContext = null;
            Path copiedContext = null;
            Path sshTmp = null;
            dev.hull.build.SshForward forward = dev.hull.build.SshForward.NONE;
            try {
                Invocation inv = Invocation.current();
                Engine engine = ContainerCli.engine(access, "missing", null, null, false);
                BuildRequest req = new BuildRequest();
                req.tags = tags;
                req.target = target;
                req.noCache = noCache;
                req.pull = pull;
                if (platform != null) {
                    req.platform = platform(platform);
                }
                req.stdio = inv.stdio();
                switch (progress) {
                    case "plain" -> { }
                    case "auto", "tty" -> // plain lines where stderr is not a terminal
                        req.tty = dev.hull.linux.FdControl.isTerminal(inv.stdio() == null ? 2 : inv.stdio()[2]);
                    case "quiet" -> quiet = true;
                    default -> throw new BuildException("--progress " + progress + ": use auto, plain, tty or quiet");
                }
                req.quiet = quiet;
                req.jobs(dev.hull.runtime.Caller.getenv("HULL_BUILD_JOBS"));
                BuildOutput out = output == null ? null : BuildOutput.parse(output);
                if (out != null && out.toStdout()) { // stdout carries the output: progress and RUN's go to stderr
                    out.checkStdout(inv.stdio());
                    int[] base = inv.stdio() == null ? new int[] {0, 1, 2} : inv.stdio();
                    req.stdio = new int[] {base[0], base[2], base[2]};
                    req.out = System.err;
                }
                if (!network.matches("bridge|host|none|default")) {
                    throw new BuildException("--network " + network + ": use bridge, host or none");
                }
                req.network = network.equals("default") ? "bridge" : network;
                if (!ssh.isEmpty()) { // copies of key files, root's only, for this build
                    sshTmp = dev.hull.build.BuildDebris.tempDir(engine.home(), "ssh");
                    dev.hull.runtime.Caller c = dev.hull.runtime.Caller.current();
                    forward = dev.hull.build.SshForward.parse(ssh, dev.hull.runtime.Caller.environment(), inv::resolve,
                            c == null ? -1 : c.uid(), sshTmp);
                    req.ssh = forward;
                }
                for (String sec : secrets) {
                    secret(inv, sec, req.secrets);
                }
                for (String a : buildArgs) {
                    int eq = a.indexOf('=');
                    if (eq < 0) {
                        String v = dev.hull.runtime.Caller.getenv(a);
                        if (v != null) {
                            req.buildArgs.put(a, v);
                        }
                    } else {
                        req.buildArgs.put(a.substring(0, eq), a.substring(eq + 1));
                    }
                }
                for (String l : labels) {
                    int eq = l.indexOf('=');
                    req.labels.put(eq < 0 ? l : l.substring(0, eq), eq < 0 ? "" : l.substring(eq + 1));
                }
                String sde = req.buildArgs.containsKey("SOURCE_DATE_EPOCH") ? req.buildArgs.get("SOURCE_DATE_EPOCH")
                        : dev.hull.runtime.Caller.getenv("SOURCE_DATE_EPOCH");
                if (sde != null && !sde.isEmpty()) {
                    try {
                        req.sourceDateEpoch = Long.parseLong(sde);
                    } catch (NumberFormatException e) {
                        throw new BuildException("SOURCE_DATE_EPOCH=" + sde + ": not a number of seconds");
                    }
                }
                byte[] stdinDockerfile = null;
                if (context.equals("-")) {
                    byte[] in = System.in.readAllBytes();
                    if (ContextTar.isTar(in)) {
                        tmpContext = dev.hull.build.BuildDebris.tempDir(engine.home(), "context");
                        ContextTar.extract(new java.io.ByteArrayInputStream(in), tmpContext);
                        req.context = tmpContext;
                    } else {
                        stdinDockerfile = in;
                    }
                } else if (dev.hull.build.GitSource.isGit(context)) { // URL#REF:DIR, cloned here
                    tmpContext = dev.hull.build.BuildDebris.tempDir(engine.home(), "context");
                    req.context = dev.hull.build.GitSource.fetch(context, tmpContext, "context", req.ssh);
                } else if (dev.hull.runtime.CallerFiles.restricted()) {
                    // a warm caller other than root: the build reads a copy made with the caller's rights
                    Path tmpRoot = Files.createDirectories(engine.home().resolve("tmp"));
                    copiedContext = Files.createTempDirectory(tmpRoot, "context-");
                    Path into = Files.createDirectory(copiedContext.resolve("context"));
                    dev.hull.build.CallerContext.copy(inv.resolve(Path.of(context)), context, into,
                            copiedContext.resolve("context.tar"));
                    req.context = into;
                } else {
                    Path dir = inv.resolve(Path.of(context));
                    if (!Files.isDirectory(dir)) {
                        throw new BuildException("context " + context + ": not a directory");
                    }
                    req.context = dir;
                }
                if (stdinDockerfile != null) {
                    if (file != null && !file.equals("-")) {
                        throw new BuildException("-f " + file + ": the context came on stdin as a Dockerfile");
                    }
                    req.dockerfileName = "Dockerfile";
                    req.dockerfileText = new String(stdinDockerfile, StandardCharsets.UTF_8);
                } else if (file != null && file.equals("-")) {
                    if (context.equals("-")) {
                        throw new BuildException("-f - and CONTEXT - cannot both come on stdin");
                    }
                    req.dockerfileText = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
                } else {
                    Path df;
                    if (tmpContext != null) { // a tar's or repository's: its links stay inside it
                        String name = file == null ? "Dockerfile" : file;
                        df = dev.hull.build.ContextTar.fileInside(tmpContext, dev.hull.build.ContextTar.inside(name));
                        if (df == null) {
                            df = dev.hull.build.ContextTar.fileInside(req.context, dev.hull.build.ContextTar.inside(name));
                        }
                        req.dockerfileName = name;
                    } else if (file == null) {
                        df = req.context.resolve("Dockerfile");
                        req.dockerfileName = "Dockerfile";
                    } else {
                        df = inv.resolve(Path.of(file));
                        if (!Files.exists(df) && req.context != null) {
                            df = req.context.resolve(file);
                        }
                        req.dockerfileName = file;
                    }
                    if (df == null || !Files.isRegularFile(df)) {
                        throw new BuildException("cannot read the Dockerfile: " + (file == null ? context + "/Dockerfile" : file)
                                + " does not exist");
                    }
                    req.dockerfileText = tmpContext != null || copiedContext != null && df.startsWith(copiedContext)
                            ? Files.readString(df) // in a copy of Hull's (a tar's, a repository's, the caller's context)
                            : dev.hull.runtime.CallerFiles.readString(df, "-f"); // the caller's: with its rights
                }
                Builder builder = new Builder(engine, (Builder.PlatformSource) (text, plat) -> {
                    try {
                        return RegistryCli.pull(engine.images(), access, text, plat, false, System.err);
                    } catch (IOException e) {
                        throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "image " + text
                                + " is not here and pulling it failed: " + e.getMessage(), e);
                    }
                });
                Builder.Result r = builder.build(req);
                if (out != null) {
                    out.write(engine, inv, r.image(), r.tags());
                }
                if (iidfile != null) {
                    dev.hull.runtime.CallerFiles.writeString(inv.resolve(iidfile), "--iidfile", r.image().id());
                }
                dev.hull.build.BuildSummary.lines(r, quiet).forEach(
                        out != null && out.toStdout() ? System.err::println : System.out::println);
                return 0;
            } catch (BuildException e) {
                System.out.flush();
                System.err.println("hull: " + e.getMessage());
                return 1;
            } catch (Exception e) {
                System.out.flush();
                System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                return 1;
            } finally {
                forward.close();
                if (sshTmp != null) {
                    try {
                        SnapshotStore.deleteTree(sshTmp);
                    } catch (IOException ignored) {
                        // a later prune takes it
                    }
                }
                for (Path t : new Path[] {tmpContext, copiedContext}) {
                    if (t != null) {
                        try {
                            SnapshotStore.deleteTree(t);
                        } catch (IOException ignored) {
                            // a later prune takes it
                        }
                    }
                }
            }
        }
    }

    /**
     * --platform OS/ARCH[/VARIANT]: the platform the build makes (one; linux). A RUN step for
     * another platform than this host's needs an emulator in binfmt_misc; other steps do not.
     */
    static dev.hull.image.Platform platform(String text) throws BuildException {
        return BuildRequest.platform(text);
    }

    /** A flag's KEY=VALUE,KEY=VALUE... (--secret, --output); usage is the error for a part without =. */
    static Map<String, String> keyValues(String spec, String usage) throws BuildException {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new BuildException(usage);
            }
            kv.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
        }
        return kv;
    }

    /** --secret id=ID[,src=FILE|,env=VAR][,type=file|env] (docker's; without src or env: the variable ID). */
    static void secret(Invocation inv, String spec, Map<String, byte[]> into) throws BuildException, IOException {
        Map<String, String> kv = keyValues(spec, "--secret " + spec + ": use id=ID,src=FILE or id=ID,env=VAR");
        String id = kv.remove("id");
        String src = kv.containsKey("src") ? kv.remove("src") : kv.remove("source");
        String env = kv.remove("env");
        String type = kv.remove("type");
        if (id == null || id.isEmpty() || !kv.isEmpty() || src != null && env != null) {
            throw new BuildException("--secret " + spec + ": use id=ID,src=FILE or id=ID,env=VAR");
        }
        if ("env".equals(type) && src != null) {
            env = src;
            src = null;
        }
        if (src != null) { // with the caller's rights: a member of the service's group reads only its own files
            try (dev.hull.runtime.CallerFiles.Opened f = dev.hull.runtime.CallerFiles.openRead(inv.resolve(Path.of(src)),
                    "--secret " + spec + ":")) {
                if (!Files.isRegularFile(f.path())) {
                    throw new BuildException("--secret " + spec + ": " + src + " is not a file");
                }
                into.put(id, Files.readAllBytes(f.path()));
            } catch (IOException e) {
                throw new BuildException(e.getMessage().startsWith("--secret") ? e.getMessage()
                        : "--secret " + spec + ": " + e.getMessage());
            }
            return;
        }
        String value = dev.hull.runtime.Caller.getenv(env != null ? env : id);
        if (value == null) {
            throw new BuildException("--secret " + spec + ": the variable " + (env != null ? env : id) + " is not set");
        }
        into.put(id, value.getBytes(StandardCharsets.UTF_8));
    }

    @Command(name = "builder", mixinStandardHelpOptions = true, description = "Manage hull build's cache.",
            subcommands = {BuilderPrune.class})
    static final class BuilderGroup {}

    @Command(name = "prune", mixinStandardHelpOptions = true, description = {"Remove hull build's cache: every step's"
        + " entry and every RUN --mount=type=cache directory not in use (oldest use first, within the bounds given).",
        "", "The steps' layers are then unreferenced blobs: hull image prune removes them.", "", "Examples:",
        "  hull builder prune", "  hull builder prune --filter until=24h --keep-storage 1g"}, sortOptions = false)
    static final class BuilderPrune implements Callable<Integer> {
        @Option(names = {"-f", "--force"}, description = "Do not ask (hull never asks; for docker's habit).")
        boolean force;
        @Option(names = {"-a", "--all"}, description = "Every entry (hull always considers every one; for docker's"
                + " habit).")
        boolean all;
        @Option(names = "--filter", paramLabel = "until=TIME", description = "Only what was last used before TIME:"
                + " a duration back from now (24h, 90m), a unix time or an RFC 3339 time.")
        List<String> filters = new ArrayList<>();
        @Option(names = {"--keep-storage", "--reserved-space"}, paramLabel = "SIZE", description = "Never prune the"
                + " cache below SIZE (512m, 1g).")
        String reserved;
        @Option(names = "--max-used-space", paramLabel = "SIZE", description = "Prune until the cache is at most SIZE.")
        String maxUsed;
        @Option(names = "--min-free-space", paramLabel = "SIZE", description = "Prune until its filesystem has SIZE"
                + " free.")
        String minFree;

        @Override
        public Integer call() {
            return ImageCli.guarded(() -> {
                java.time.Instant until = null;
                for (String f : filters) {
                    if (!f.startsWith("until=")) {
                        throw new IllegalArgumentException("--filter " + f + ": only until=TIME is supported");
                    }
                    until = dev.hull.build.BuildCachePrune.until(f.substring(6), java.time.Instant.now());
                }
                var options = new dev.hull.build.BuildCachePrune.Options(until, size(reserved, "--keep-storage"),
                        size(maxUsed, "--max-used-space"), size(minFree, "--min-free-space"));
                long freed = dev.hull.build.BuildCachePrune.prune(Engine.defaults().home(), options,
                        new ArrayList<>());
                System.out.println("Total reclaimed space: " + ImageService.humanSize(freed));
                return 0;
            });
        }

        private static long size(String v, String flag) {
            try {
                return v == null ? 0 : Engine.parseSize(v, flag);
            } catch (RuntimeError e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }
    }

    /** docker history's default table and its headers, for --format 'table TEMPLATE'. */
    static final String HISTORY_TABLE = "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
    static final Map<String, String> HISTORY_HEADERS = Map.of("ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt",
            "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT");

    @Command(name = "history", mixinStandardHelpOptions = true, description = {"Show how an image was made: one line per"
        + " history entry of its config, newest first.", "", "Example:", "  hull history app:1"}, sortOptions = false)
    static final class History implements Callable<Integer> {
        @Option(names = "--no-trunc", description = "Do not shorten ids and commands.")
        boolean noTrunc;
        @Option(names = {"-q", "--quiet"}, description = "Print only the image id.")
        boolean quiet;
        @Option(names = {"-H", "--human"}, negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Sizes and dates in human-readable form (default true).")
        boolean human;
        @Option(names = "--format", paramLabel = "FORMAT", description = "table (default), json (one JSON object a"
                + " line), or a Go template: {{.ID}} {{.CreatedSince}} {{.CreatedAt}} {{.CreatedBy}} {{.Size}}"
                + " {{.Comment}}, 'table TEMPLATE' with headers.")
        String format;
        @Parameters(index = "0", paramLabel = "IMAGE")
        String image;

        @Override
        public Integer call() {
            return ImageCli.guarded(() -> {
                ImageService images = Engine.defaults().images();
                ImageRecord r = images.get(image);
                ObjectMapper json = new ObjectMapper();
                JsonNode config = json.readTree(images.store().content().read(r.config().parsedDigest()));
                Map<String, SnapshotRecord> snaps = images.store().read().snapshots;
                List<String> chains = r.chainIds();
                List<String[]> rows = new ArrayList<>();
                List<ObjectNode> objects = new ArrayList<>();
                int layer = 0;
                List<JsonNode> history = new ArrayList<>();
                config.path("history").forEach(history::add);
                long[] sizes = new long[history.size()];
                for (int i = 0; i < history.size(); i++) {
                    if (!history.get(i).path("empty_layer").asBoolean(false) && layer < r.layers().size()) {
                        SnapshotRecord s = layer < chains.size() ? snaps.get(chains.get(layer)) : null;
                        sizes[i] = s != null ? s.size() : r.layers().get(layer).size();
                        layer++;
                    }
                }
                for (int i = history.size() - 1; i >= 0; i--) {
                    JsonNode h = history.get(i);
                    String id = i == history.size() - 1 ? (noTrunc ? r.id() : r.digest().shortHex()) : "<missing>";
                    if (quiet) {
                        if (i == history.size() - 1) {
                            System.out.println(id);
                        }
                        continue;
                    }
                    String createdBy = h.path("created_by").asText("");
                    String shown = noTrunc || createdBy.length() <= 45 ? createdBy : createdBy.substring(0, 44) + "…";
                    String created = h.path("created").asText(null);
                    rows.add(new String[] {id, human ? ImageCli.ago(created) : String.valueOf(created), shown,
                            human ? ImageService.humanSize(sizes[i]) : String.valueOf(sizes[i]),
                            h.path("comment").asText("")});
                    ObjectNode o = json.createObjectNode();
                    o.put("ID", id);
                    o.put("CreatedAt", created);
                    o.put("CreatedBy", createdBy);
                    o.put("Size", sizes[i]);
                    o.put("Comment", h.path("comment").asText(""));
                    o.put("EmptyLayer", h.path("empty_layer").asBoolean(false));
                    objects.add(o);
                }
                if (quiet) {
                    return 0;
                }
                if ("json".equals(format)) {
                    for (ObjectNode o : objects) {
                        System.out.println(json.writeValueAsString(o));
                    }
                    return 0;
                }
                if (format != null && !format.equals("table")) { // a Go template, as docker history's
                    Listing listing = Listing.of(format, HISTORY_TABLE, HISTORY_HEADERS);
                    for (int k = 0; k < rows.size(); k++) {
                        String[] row = rows.get(k);
                        ObjectNode o = objects.get(k);
                        listing.add(new dev.hull.cli.format.GoStruct("*formatter.historyContext").value("ID", row[0])
                                .value("CreatedSince", row[1]).value("CreatedAt", Rows.goTime(o.path("CreatedAt")
                                        .asText(null))).value("CreatedBy", row[2]).value("Size", row[3])
                                .value("Comment", row[4]));
                    }
                    listing.print();
                    return 0;
                }
                String[] head = {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"};
                int[] w = new int[head.length];
                for (int i = 0; i < head.length; i++) {
                    w[i] = head[i].length();
                    for (String[] row : rows) {
                        w[i] = Math.max(w[i], row[i].length());
                    }
                }
                List<String[]> all = new ArrayList<>();
                all.add(head);
                all.addAll(rows);
                for (String[] row : all) {
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < row.length; i++) {
                        sb.append(row[i]);
                        if (i < row.length - 1) {
                            sb.append(" ".repeat(w[i] - row[i].length() + 3));
                        }
                    }
                    System.out.println(sb.toString().stripTrailing());
                }
                return 0;
            });
        }
    }

}
