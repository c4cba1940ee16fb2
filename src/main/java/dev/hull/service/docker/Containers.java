package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerLogs;
import dev.hull.engine.Engine;
import dev.hull.engine.MonitorStatus;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * /containers/... and /exec/...: the container lifecycle on {@link Engine}, as dockerd answers it.
 * A foreground {@code docker run} is create, attach (hijacked: kept here until the start),
 * wait (headers at once, the status when it ends), start — the start then runs the container
 * attached to the hijacked connection, as {@code hull run} attaches it to a terminal.
 */
final class Containers {
    private final DockerApiServer api;
    /** Attachments waiting for their container's start, by container id. */
    private final Map<String, Hijack.Bridge> pendingAttach = new ConcurrentHashMap<>();
    /** The exit codes of containers this server removed (AutoRemove), for wait?condition=removed. */
    private final Map<String, Integer> removedExit = new ConcurrentHashMap<>();
    private final Execs execs = new Execs();
    private final AttachApi attaches = new AttachApi(pendingAttach);

    Containers(DockerApiServer api) {
        this.api = api;
    }

    boolean route(Exchange x) throws Exception {
        if (x.seg(0).equals("exec")) {
            return execs.route(x);
        }
        if (x.is("POST", "containers", "create")) {
            create(x);
        } else if (x.is("GET", "containers", "json")) {
            ContainerViews.list(x);
        } else if (x.path.size() == 2 && x.method.equals("DELETE")) {
            remove(x);
        } else if (x.path.size() != 3) {
            return false;
        } else {
            String ref = x.seg(1);
            switch (x.method + " " + x.seg(2)) {
                case "GET json", "HEAD json" -> x.json(200, ContainerViews.inspect(Engine.defaults(), ref));
                case "POST start" -> start(x, ref);
                case "POST stop" -> stop(x, ref);
                case "POST restart" -> {
                    Engine e = Engine.defaults();
                    e.restart(info(e, ref).id(), x.intParam("t"));
                    x.empty(204);
                }
                case "POST kill" -> kill(x, ref);
                case "POST wait" -> await(x, ref);
                case "POST rename" -> {
                    String name = x.param("name");
                    if (name == null || name.isEmpty()) {
                        throw ApiError.badRequest("rename needs a name");
                    }
                    Engine e = Engine.defaults();
                    e.rename(info(e, ref).id(), name.startsWith("/") ? name.substring(1) : name);
                    x.empty(204);
                }
                case "POST attach" -> attaches.attach(x, ref);
                case "POST resize" -> {
                    Engine e = Engine.defaults();
                    ContainerInfo c = info(e, ref);
                    var rec = e.requireRunning(c);
                    resize(rec.pid(), x);
                    x.empty(200);
                }
                case "GET logs" -> logs(x, ref);
                case "GET changes" -> changes(x, ref);
                case "POST exec" -> execs.create(x, ref);
                default -> {
                    return false;
                }
            }
        }
        return true;
    }

    /** docker diff: Kind 0 modified, 1 added, 2 deleted (dockerd's numbers); null when nothing changed, as dockerd. */
    private static void changes(Exchange x, String ref) throws IOException, ApiError {
        Engine e = Engine.defaults();
        var list = dev.hull.engine.ContainerChanges.of(e, info(e, ref));
        var out = Exchange.JSON.createArrayNode();
        for (var c : list) {
            out.addObject().put("Path", c.path()).put("Kind", c.kind().ordinal());
        }
        x.json(200, out.isEmpty() ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : out);
    }

    static ContainerInfo info(Engine e, String ref) throws IOException, ApiError {
        try {
            return e.containers().resolve(ref);
        } catch (RuntimeError err) {
            if (err.kind() == RuntimeError.Kind.NOT_FOUND) {
                throw ApiError.notFound("No such container: " + ref);
            }
            throw ApiError.of(err);
        }
    }

    // ---------------------------------------------------------------- create

    private void create(Exchange x) throws Exception {
        JsonNode body = x.body();
        if (!body.isObject()) {
            throw ApiError.badRequest("container create needs a JSON object (Config, HostConfig, NetworkingConfig)");
        }
        var o = CreateTranslation.options(body, x.param("name"));
        Engine e = Engine.defaults();
        ContainerInfo info;
        try {
            info = e.create(o);
        } catch (RuntimeError err) {
            if (err.kind() == RuntimeError.Kind.NOT_FOUND && isImageMissing(e, o.image)) {
                throw ApiError.notFound("No such image: " + Images.withTag(o.image));
            }
            throw err;
        }
        ObjectNode r = Exchange.JSON.createObjectNode();
        r.put("Id", info.id());
        o.warnings.forEach(r.putArray("Warnings")::add); // what create discarded (OomKillDisable on cgroup v2...)
        x.json(201, r);
    }

    private static boolean isImageMissing(Engine e, String image) {
        try {
            e.images().getOrBuildBuiltin(image);
            return false;
        } catch (dev.hull.image.ImageNotFoundException nf) {
            return true;
        } catch (IOException | RuntimeException other) {
            return false;
        }
    }

    // ---------------------------------------------------------------- start / stop / kill / rm

    private void start(Exchange x, String ref) throws Exception {
        if (x.param("checkpoint") != null) {
            throw ApiError.notImplemented("checkpoints are not supported by Hull");
        }
        Engine e = Engine.defaults();
        ContainerInfo c = info(e, ref);
        Engine.State s = e.state(c);
        if (s.running()) {
            if (s.status().equals("paused")) {
                throw ApiError.conflict("cannot start a paused container, try unpause instead");
            }
            x.empty(304);
            return;
        }
        Hijack.Bridge attached = pendingAttach.remove(c.id());
        if (attached == null) {
            e.start(c.id(), null);
            x.empty(204);
            return;
        }
        CompletableFuture<Void> started = new CompletableFuture<>();
        String id = c.id();
        boolean autoRemove = c.options() != null && c.options().autoRemove;
        Thread waiter = Thread.ofPlatform().daemon().name("hull-api-attached-" + c.shortId()).unstarted(() -> {
            int code = 125;
            try {
                Engine engine = Engine.defaults();
                code = engine.start(id, new Engine.Attach(attached.theirs, pid -> {
                    attached.started = true;
                    attached.releaseTheirs();
                    started.complete(null);
                }, attached.detachKeys));
                if (autoRemove && code != Engine.DETACHED) { // detached (the keys): it runs on
                    removedExit.put(id, code);
                    engine.remove(id, true, true); // AutoRemove: its anonymous volumes too, as dockerd
                }
            } catch (Exception err) {
                if (!started.isDone()) {
                    started.completeExceptionally(err);
                } else {
                    DockerApiServer.log("container " + id + ", attached: " + err);
                }
                if (autoRemove) {
                    removedExit.put(id, code);
                    try {
                        Engine.defaults().remove(id, true, true);
                    } catch (Exception again) {
                        DockerApiServer.log("container " + id + " (AutoRemove): " + again);
                    }
                }
                attached.abandon();
            } finally {
                started.complete(null);
                attached.exited(code);
            }
        });
        // The client's connection closes once the container runs (docker start -a left, killed): the
        // wait for its end is interrupted and the monitor lets this client go; the container runs on.
        attached.onClientGone(() -> {
            if (attached.started) {
                waiter.interrupt();
            }
        });
        waiter.start();
        try {
            started.get();
        } catch (ExecutionException err) {
            Throwable t = err.getCause();
            if (t instanceof RuntimeError r) {
                throw r;
            }
            throw t instanceof Exception ex ? ex : new IOException(t);
        }
        x.empty(204);
    }

    private void stop(Exchange x, String ref) throws Exception {
        Engine e = Engine.defaults();
        ContainerInfo c = info(e, ref);
        if (!e.state(c).running()) {
            x.empty(304);
            return;
        }
        e.stop(c.id(), x.intParam("t"), x.param("signal"));
        x.empty(204);
    }

    private void kill(Exchange x, String ref) throws Exception {
        Engine e = Engine.defaults();
        ContainerInfo c = info(e, ref);
        if (!e.state(c).running()) {
            throw ApiError.conflict("Cannot kill container: " + ref + ": container " + c.id() + " is not running");
        }
        e.kill(c.id(), x.param("signal", "SIGKILL"));
        x.empty(204);
    }

    private void remove(Exchange x) throws Exception {
        Engine e = Engine.defaults();
        String ref = x.seg(1);
        ContainerInfo c = info(e, ref);
        if (x.flag("link")) {
            throw ApiError.notImplemented("links are not supported by Hull");
        }
        Engine.State s = e.state(c);
        if (s.running() && !x.flag("force")) {
            throw ApiError.conflict("cannot remove container \"/" + c.name() + "\": container is " + s.status()
                    + ": stop the container before removing or force remove");
        }
        if (!s.running()) {
            removedExit.put(c.id(), s.exitCode());
        }
        e.remove(c.id(), x.flag("force"), x.flag("v")); // v=1: its anonymous volumes too
        Hijack.Bridge b = pendingAttach.remove(c.id());
        if (b != null) {
            b.abandon();
        }
        x.empty(204);
    }

    // ---------------------------------------------------------------- wait

    /**
     * condition not-running (the default: at once if it is not running), next-exit (its next end),
     * removed. The 200 and headers go out at once (the docker CLI starts the container only once
     * its wait is answered), the {"StatusCode"} when the condition holds.
     */
    private void await(Exchange x, String ref) throws Exception {
        String condition = x.param("condition", "not-running");
        if (!List.of("not-running", "next-exit", "removed", "").contains(condition)) {
            throw ApiError.badRequest("invalid condition: " + condition);
        }
        Engine e = Engine.defaults();
        ContainerInfo c = info(e, ref);
        String id = c.id();
        MonitorStatus before = MonitorStatus.read(e.containers().statusFile(id));
        String baseline = before == null ? null : before.startedAt() + "|" + before.finishedAt();
        OutputStream out = x.stream(200, "application/json");
        out.flush();
        org.eclipse.jetty.util.FutureCallback committed = new org.eclipse.jetty.util.FutureCallback();
        x.response.write(false, org.eclipse.jetty.util.BufferUtil.EMPTY_BUFFER, committed);
        committed.get(30, TimeUnit.SECONDS);
        int code = 0;
        long rounds = 0;
        for (;;) {
            ContainerInfo now = e.containers().read(id);
            if (now == null) {
                Integer removed = removedExit.get(id);
                if (removed != null) {
                    code = removed;
                }
                if (condition.equals("removed") || condition.equals("next-exit")) {
                    break;
                }
                break;
            }
            Engine.State s = e.state(now);
            if (!s.running() && !s.status().equals("created")) {
                code = s.exitCode();
            }
            boolean done = switch (condition) {
                case "next-exit" -> {
                    MonitorStatus m = s.monitor();
                    String mark = m == null ? null : m.startedAt() + "|" + m.finishedAt();
                    yield s.status().equals("exited") && m != null && !mark.equals(baseline);
                }
                case "removed" -> false;
                default -> !s.running();
            };
            if (done) {
                break;
            }
            Thread.sleep(20);
            if (++rounds % 250 == 0) { // every 5 s: a newline (JSON whitespace) finds a client that went away
                try {
                    out.write('\n');
                    out.flush();
                } catch (IOException gone) {
                    x.callback.failed(gone);
                    return;
                }
            }
        }
        ObjectNode r = Exchange.JSON.createObjectNode();
        r.put("StatusCode", code);
        r.putNull("Error");
        out.write(Exchange.JSON.writeValueAsBytes(r));
        out.write('\n');
        x.finish(out);
    }

    static void resize(int pid, Exchange x) throws ApiError {
        Integer h = x.intParam("h");
        Integer w = x.intParam("w");
        if (h == null || w == null || h < 0 || w < 0) {
            throw ApiError.badRequest("resize needs h and w");
        }
        // The process's terminal is its stdin: the pty's slave, reopened through /proc.
        int fd;
        try {
            fd = dev.hull.linux.Syscalls.open("/proc/" + pid + "/fd/0", dev.hull.linux.Syscalls.O_RDWR
                    | dev.hull.linux.Syscalls.O_CLOEXEC | 0400 /* O_NOCTTY */, 0);
        } catch (dev.hull.linux.LinuxException err) {
            throw ApiError.conflict("cannot resize: the process has no terminal (" + err.getMessage() + ")");
        }
        try {
            if (!dev.hull.linux.FdControl.isTerminal(fd)) {
                throw ApiError.conflict("cannot resize: the process has no terminal (it was started without a tty)");
            }
            dev.hull.linux.FdPassing.setWindowSize(fd, h, w);
        } catch (dev.hull.linux.LinuxException err) {
            throw new ApiError(500, err.getMessage());
        } finally {
            dev.hull.linux.Syscalls.close(fd);
        }
    }

    // ---------------------------------------------------------------- logs

    private void logs(Exchange x, String ref) throws Exception {
        Engine e = Engine.defaults();
        ContainerInfo c = info(e, ref);
        boolean stdout = x.flag("stdout");
        boolean stderr = x.flag("stderr");
        if (!stdout && !stderr) {
            throw ApiError.badRequest("Bad parameters: you must choose at least one stream");
        }
        String tailText = x.param("tail", "all");
        int tail;
        try {
            tail = tailText.equals("all") || tailText.isEmpty() ? -1 : Integer.parseInt(tailText);
        } catch (NumberFormatException err) {
            throw ApiError.badRequest("invalid tail: " + tailText);
        }
        Instant since = x.time("since");
        Instant until = x.time("until");
        if (c.options() != null && !c.options().keepsLog()) {
            throw ApiError.notImplemented("configured logging driver does not support reading"); // dockerd's 501
        }
        boolean tty = c.options() != null && c.options().tty;
        boolean follow = x.flag("follow");
        OutputStream body = x.stream(200, tty ? "application/vnd.docker.raw-stream"
                : "application/vnd.docker.multiplexed-stream");
        Frames out = Frames.onBody(body, tty ? 0 : 1);
        Frames err = Frames.onBody(body, tty ? 0 : 2);
        try (PrintStream o = new PrintStream(stdout ? out : OutputStream.nullOutputStream(), false,
                StandardCharsets.UTF_8);
                PrintStream er = new PrintStream(stderr ? err : OutputStream.nullOutputStream(), false,
                        StandardCharsets.UTF_8)) {
            ContainerLogs.print(e.containers().logFile(c.id()), new ContainerLogs.Query(tail < 0 ? -1 : tail, since,
                    until, x.flag("timestamps"), follow), o, er,
                    () -> !out.failed && !err.failed && AttachApi.running(e, c));
        }
        x.finish(body);
    }

}
