package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.build.BuildException;
import dev.hull.build.BuildRequest;
import dev.hull.build.BuildSummary;
import dev.hull.build.Builder;
import dev.hull.build.ContextTar;
import dev.hull.engine.Engine;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import dev.hull.image.SnapshotStore;
import dev.hull.image.registry.PullProgress;
import dev.hull.image.registry.RegistryException;
import dev.hull.linux.FdControl;
import dev.hull.linux.FdInputStream;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.RuntimeError;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.io.Content;

/**
 * POST /build: dockerd's classic builder API (what {@code docker build} sends without BuildKit,
 * and docker-compose's {@code build:}). The body is the context as a tar (any compression); the
 * image is built by Hull's builder exactly as {@code hull build} builds it, and the answer streams
 * dockerd's JSON messages: {"stream": …} for progress and RUN output, {"aux": {"ID": …}} with the
 * image id, and {"errorDetail": …} when the build fails.
 */
final class Builds {
    boolean route(Exchange x) throws Exception {
        if (x.is("POST", "build")) {
            build(x);
            return true;
        }
        if (x.is("POST", "build", "prune")) {
            prune(x);
            return true;
        }
        return false;
    }

    /**
     * POST /build/prune ({@code docker builder prune}): hull builder prune with BuildKit's bounds: the
     * until filter, keep-storage (reserved-space), max-used-space, min-free-space. all is taken: Hull's
     * cache has no "dangling" kind apart, a prune always considers every entry no build holds.
     * Other filters are refused by name.
     */
    private void prune(Exchange x) throws Exception {
        long reserved = Math.max(bytes(x, "keep-storage"), bytes(x, "reserved-space"));
        java.time.Instant until = null;
        String filters = x.param("filters");
        if (filters != null && !filters.isBlank()) {
            JsonNode f;
            try {
                f = Exchange.JSON.readTree(filters);
            } catch (IOException bad) {
                throw ApiError.badRequest("invalid filters: " + bad.getMessage());
            }
            for (var e : f.properties()) {
                List<String> values = new java.util.ArrayList<>();
                if (e.getValue().isArray()) { // the old form: {"until": ["24h"]}
                    e.getValue().forEach(v -> values.add(v.asText()));
                } else {
                    e.getValue().fieldNames().forEachRemaining(values::add);
                }
                if (values.isEmpty()) {
                    continue;
                }
                if (!e.getKey().equals("until")) {
                    throw ApiError.badRequest("filter " + e.getKey() + " is not supported by Hull's build cache"
                            + " prune (until is)");
                }
                if (values.size() > 1) {
                    throw ApiError.badRequest("more than one until filter specified");
                }
                try {
                    until = dev.hull.build.BuildCachePrune.until(values.getFirst(), java.time.Instant.now());
                } catch (IllegalArgumentException bad) {
                    throw ApiError.badRequest(bad.getMessage());
                }
            }
        }
        var options = new dev.hull.build.BuildCachePrune.Options(until, reserved, bytes(x, "max-used-space"),
                bytes(x, "min-free-space"));
        List<String> removed = new java.util.ArrayList<>();
        long freed = dev.hull.build.BuildCachePrune.prune(Engine.defaults().home(), options, removed);
        ObjectNode r = Exchange.JSON.createObjectNode();
        ArrayNode ids = r.putArray("CachesDeleted");
        removed.forEach(ids::add);
        r.put("SpaceReclaimed", freed);
        x.json(200, r);
    }

    /** A byte count parameter (the docker CLI sends bytes); absent: 0. */
    private static long bytes(Exchange x, String name) throws ApiError {
        String v = x.param(name);
        if (v == null || v.isEmpty()) {
            return 0;
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(name + " " + v + ": a number of bytes");
        }
    }

    private void build(Exchange x) throws Exception {
        BuildRequest req;
        try {
            req = request(x);
        } catch (ApiError e) {
            discardBody(x); // the CLI sends the whole context before it reads an answer: else it sees a broken pipe
            throw e;
        }
        Engine engine = Engine.defaults();
        Path context = dev.hull.build.BuildDebris.tempDir(engine.home(), "context");
        JsonProgress out = null;
        int[] pipe = null;
        Thread pump = null;
        try {
            String remote = x.param("remote");
            if (remote != null && !remote.isEmpty()) { // a git repository (URL#REF:DIR), cloned here
                try {
                    req.context = dev.hull.build.GitSource.fetch(remote, context, "remote",
                            dev.hull.build.SshForward.NONE) /* the classic builder has no --ssh: never an identity */;
                } catch (BuildException e) {
                    throw ApiError.badRequest(e.getMessage());
                }
            } else {
                try (InputStream body = Content.Source.asInputStream(x.request)) {
                    ContextTar.extract(body, context);
                } catch (BuildException e) {
                    throw ApiError.badRequest(e.getMessage());
                } catch (IOException e) {
                    throw ApiError.badRequest("the build context: " + (e.getMessage() == null ? e : e.getMessage()));
                }
                req.context = context;
            }
            String name = x.param("dockerfile", "Dockerfile");
            Path df;
            try {
                df = ContextTar.fileInside(req.context, ContextTar.inside(name)); // its links resolved inside
            } catch (BuildException e) {
                throw ApiError.badRequest("dockerfile " + name + " leaves the context");
            }
            if (df == null) {
                throw new ApiError(500, "Cannot locate specified Dockerfile: " + name);
            }
            req.dockerfileName = name;
            req.dockerfileText = Files.readString(df);

            out = new JsonProgress(x, null, null); // streams, no layer progress
            PrintStream progress = new PrintStream(new StreamLines(out), true, StandardCharsets.UTF_8);
            req.out = progress;
            req.err = progress;
            // RUN steps write to a pipe of ours; its lines become {"stream"} messages too.
            pipe = FdControl.pipe();
            int devnull = Syscalls.open("/dev/null", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            req.stdio = new int[] {devnull, pipe[1], pipe[1]};
            int readEnd = pipe[0];
            JsonProgress sink = out;
            pump = Thread.ofPlatform().daemon().name("hull-build-output").start(() -> {
                try (InputStream in = new FdInputStream(readEnd); OutputStream lines = new StreamLines(sink)) {
                    in.transferTo(lines);
                } catch (IOException ignored) {
                    // the build's own messages say what happened
                }
            });
            try {
                Builder.Result r = new Builder(engine, (Builder.PlatformSource) (ref, platform) -> pull(engine.images(),
                        ref, platform)).build(req);
                Syscalls.close(pipe[1]);
                pipe[1] = -1;
                pump.join(30_000);
                String id = r.image().id();
                out.send(Exchange.JSON.createObjectNode().set("aux", Exchange.JSON.createObjectNode().put("ID", id)));
                for (String line : BuildSummary.lines(r, req.quiet)) {
                    stream(out, line + "\n");
                }
            } catch (BuildException | RuntimeError | IOException e) {
                if (pipe[1] >= 0) {
                    Syscalls.close(pipe[1]);
                    pipe[1] = -1;
                }
                pump.join(30_000);
                failed(out, e.getMessage() == null ? e.toString() : e.getMessage());
            } finally {
                Syscalls.close(devnull);
            }
            out.finish();
        } finally {
            if (pipe != null) {
                if (pipe[1] >= 0) {
                    Syscalls.close(pipe[1]);
                }
                if (pump == null || !pump.isAlive()) {
                    Syscalls.close(pipe[0]);
                }
            }
            SnapshotStore.deleteTree(context);
        }
    }

    /** Reads the context a refused build sent, up to 256 MiB, so the client gets to read the refusal. */
    private static void discardBody(Exchange x) {
        try (InputStream body = Content.Source.asInputStream(x.request)) {
            byte[] buf = new byte[1 << 16];
            long left = 256L << 20;
            for (int n; left > 0 && (n = body.read(buf)) > 0; left -= n) {
                // discarded
            }
        } catch (IOException | RuntimeException ignored) {
            // the client went: nobody reads the answer
        }
    }

    /** The query's build options, checked before the body is read. */
    private static BuildRequest request(Exchange x) throws ApiError {
        String remote = x.param("remote");
        if (remote != null && !remote.isEmpty() && !dev.hull.build.GitSource.isGit(remote)) {
            throw ApiError.badRequest("remote build contexts other than git repositories (a tar or Dockerfile URL)"
                    + " are not supported by Hull: send the context as a tar");
        }
        if ("2".equals(x.param("version"))) {
            throw ApiError.badRequest("BuildKit (version=2) is not supported by Hull: use the classic builder"
                    + " (DOCKER_BUILDKIT=0)");
        }
        BuildRequest req = new BuildRequest();
        String platform = x.param("platform");
        if (platform != null && !platform.isEmpty()) { // docker build --platform: as hull build --platform
            try {
                req.platform = BuildRequest.platform(platform);
            } catch (BuildException e) {
                throw ApiError.badRequest(e.getMessage());
            }
        }
        req.pull = x.flag("pull"); // docker build --pull: FROM and COPY --from images pulled again
        for (var f : x.request.getHttpURI().getQuery() == null ? java.util.List.<String>of()
                : java.util.List.of(x.request.getHttpURI().getQuery().split("&"))) {
            if (f.startsWith("t=")) {
                req.tags.add(java.net.URLDecoder.decode(f.substring(2), StandardCharsets.UTF_8));
            }
        }
        req.target = empty(x.param("target"));
        req.noCache = x.flag("nocache");
        req.quiet = x.flag("q");
        req.dockerWording = true; // docker build and docker-compose print it; tools parse it
        putAll(x, "buildargs", req.buildArgs);
        putAll(x, "labels", req.labels);
        String network = x.param("networkmode", "default");
        req.network = switch (network) {
            case "", "default", "bridge" -> "bridge";
            case "host", "none" -> network;
            default -> throw ApiError.badRequest("networkmode " + network + ": Hull's builds join bridge, host or none");
        };
        return req;
    }

    private static String empty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** A query parameter holding a JSON object of strings (buildargs, labels) into map. */
    private static void putAll(Exchange x, String name, Map<String, String> map) throws ApiError {
        String v = x.param(name);
        if (v == null || v.isEmpty()) {
            return;
        }
        try {
            JsonNode n = Exchange.JSON.readTree(v);
            if (!n.isObject()) {
                throw ApiError.badRequest(name + ": not a JSON object");
            }
            for (var e : n.properties()) {
                if (!e.getValue().isNull()) { // dockerd: a null build-arg is "take it from the environment": none here
                    map.put(e.getKey(), e.getValue().asText());
                }
            }
        } catch (IOException e) {
            throw ApiError.badRequest(name + ": " + e.getMessage());
        }
    }

    /**
     * A FROM (or COPY --from) image the store lacks, has for another platform, or --pull asks for
     * again: pulled for platform as POST /images/create pulls (the service's credentials).
     */
    private static ImageRecord pull(ImageService images, String text, Platform platform)
            throws IOException, RuntimeError {
        Reference ref;
        try {
            ref = Reference.parse(text);
        } catch (IllegalArgumentException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid reference " + text + ": " + e.getMessage());
        }
        try {
            return Images.pull(images, ref, platform, PullProgress.NONE);
        } catch (RegistryException e) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "image " + text + " is not here and pulling it failed: "
                    + e.getMessage(), e);
        }
    }

    /** A {"stream"} message: progress or RUN output. */
    static void stream(JsonProgress out, String text) {
        out.send(Exchange.JSON.createObjectNode().put("stream", text));
    }

    /** dockerd's failed build: errorDetail with the code the docker CLI exits with. */
    private static void failed(JsonProgress out, String message) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.putObject("errorDetail").put("code", 1).put("message", message);
        n.put("error", message);
        out.send(n);
    }

    /** Bytes to {"stream"} messages, a message per whole line (the rest on flush or close). */
    static final class StreamLines extends OutputStream {
        private final JsonProgress to;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        StreamLines(JsonProgress to) {
            this.to = to;
        }

        @Override
        public synchronized void write(int b) {
            line.write(b);
            if (b == '\n' || line.size() >= 8192) {
                flush();
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            for (int i = off; i < off + len; i++) {
                write(b[i]);
            }
        }

        @Override
        public synchronized void flush() {
            if (line.size() > 0) {
                stream(to, line.toString(StandardCharsets.UTF_8));
                line.reset();
            }
        }

        @Override
        public void close() {
            flush();
        }
    }
}
