package dev.hull.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerInspector;
import dev.hull.engine.ContainerLogs;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.runtime.DetachKeys;
import dev.hull.runtime.RuntimeError;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The container commands: docker's habits (run, create, start, stop, ps, logs, exec, rm, ...). */
final class ContainerCli {
    private ContainerCli() {}

    /** Errors as "hull: message"; exit 1 (docker's, for every command but run/create/start). */
    static int guarded(int failure, Callable<Integer> body) {
        try {
            return body.call();
        } catch (RuntimeError e) {
            System.err.println("hull: " + e.getMessage());
            return failure;
        } catch (Exception e) {
            System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return failure;
        }
    }

    /** 127 command not found, 126 cannot be run, else 125: docker's codes for a container that did not start. */
    static int startFailure(RuntimeError e) {
        String m = e.getMessage();
        // the texts docker matches in runc's errors, which the executor words the same way
        if (m.contains("executable file not found") || m.contains("exec: ") && m.contains("no such file or directory")) {
            return 127;
        }
        if (m.contains("exec: ") && m.contains("permission denied")) {
            return 126;
        }
        return 125;
    }

    static Engine engine(RegistryCli.Access access, String pull, String platform, String image, boolean quiet)
            throws Exception {
        Engine engine = Engine.defaults();
        dev.hull.image.Platform plat = platform == null ? dev.hull.image.Platform.host()
                : dev.hull.image.Platform.parse(platform);
        Engine.ImageSource fromRegistry = text -> {
            try {
                return RegistryCli.pull(engine.images(), access, text, plat, quiet, System.err);
            } catch (java.io.IOException e) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "image " + text
                        + " is not here and pulling it failed: " + e.getMessage(), e);
            }
        };
        switch (pull) {
            case "missing" -> engine.imageSource(fromRegistry);
            case "never" -> { }
            case "always" -> {
                engine.imageSource(fromRegistry);
                if (image != null && !dev.hull.image.BusyboxImage.isBuiltinName(image)) {
                    fromRegistry.fetch(image);
                }
            }
            default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                    "--pull " + pull + ": use missing, always or never");
        }
        return engine;
    }

    /** The caller's stdio; with sigProxy, the signals it gets go on to the container (docker's --sig-proxy). */
    static Engine.Attach attach(boolean sigProxy, String detachKeys) throws RuntimeError {
        Invocation inv = Invocation.current();
        return new Engine.Attach(inv.stdio(), sigProxy ? inv.onStarted() : pid -> { }, DetachKeys.parse(detachKeys));
    }

    /** A foreground run's status: the container's, or 0 once the caller detached (the container runs on). */
    static int exitStatus(int code) {
        return code == Engine.DETACHED ? 0 : code;
    }

    @Command(name = "run", description = {"Run a command in a new container.", "",
        "In the foreground (the default) Hull shows the container's output and exits with its status;"
            + " with -d it prints the container's id once it runs. Either way a small monitor process"
            + " (no JVM) stays with the container: it keeps its log (hull logs), records how it ended"
            + " (hull ps -a) and restarts it if --restart says so.", "",
        "Examples:", "  hull run --rm busybox echo hello", "  hull run --rm -e GREETING=hi busybox sh -c 'echo $GREETING'",
        "  hull run --rm -v /srv/data:/data:ro busybox ls /data", "  hull run -d --name web --restart always busybox httpd -f",
        "  hull run --rm -m 64m --cpus 0.5 --pids-limit 50 busybox sh"}, sortOptions = false)
    static final class Run implements Callable<Integer> {
        @Option(names = {"-d", "--detach"}, description = "Run in the background and print the container id.")
        boolean detach;
        @Mixin
        ContainerOptions options = new ContainerOptions();
        @Option(names = "--pull", defaultValue = "missing", description = "missing (default: pull when not here),"
                + " always, or never.")
        String pull;
        @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "Platform to pull.")
        String platform;
        @Option(names = {"-q", "--quiet"}, description = "No pull progress.")
        boolean quiet;
        @Mixin
        RegistryCli.Access access = new RegistryCli.Access();
        @Option(names = "--sig-proxy", arity = "0..1", defaultValue = "true", fallbackValue = "true",
                description = "In the foreground: the signals hull gets go on to the container (default true;"
                        + " false: they end hull only, the container runs on).")
        boolean sigProxy;
        @Option(names = "--detach-keys", defaultValue = DetachKeys.DEFAULT, description = "With -it: these keys"
                + " leave the container running and return (default ${DEFAULT-VALUE}).")
        String detachKeys;
        @Option(names = {"-a", "--attach"}, paramLabel = "STREAM", description = "In the foreground: only these of"
                + " STDIN, STDOUT, STDERR reach this terminal (repeatable; default: STDOUT and STDERR, and STDIN"
                + " with -i). The log keeps everything.")
        List<String> attachStreams = new ArrayList<>();
        @Option(names = "--help", usageHelp = true, description = "Show this help.")
        boolean help;
        @Parameters(index = "0", paramLabel = "IMAGE", description = "Image to run (name, name:tag, name@digest or id;"
                + " built in: busybox).")
        String image;
        @Parameters(index = "1..*", paramLabel = "COMMAND", description = "Command and arguments (default: the image's"
                + " Cmd).")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            AttachedStreams streams = null;
            try {
                if (detach && !attachStreams.isEmpty()) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "Conflicting options: -a and -d");
                }
                streams = AttachedStreams.of(attachStreams);
                CreateOptions o = options.toCreateOptions(image, command);
                Engine engine = engine(access, pull, platform, image, quiet);
                Engine.Attach a = detach ? null : attach(sigProxy, detachKeys);
                Engine.Run r = engine.run(o, detach, a == null ? null : streams.apply(a));
                if (detach) {
                    System.out.println(r.container().id());
                }
                return exitStatus(r.exitCode());
            } catch (RuntimeError e) {
                System.err.println("hull: " + e.getMessage());
                return startFailure(e);
            } catch (Exception e) {
                System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                return 125;
            } finally {
                if (streams != null) {
                    streams.close();
                }
            }
        }
    }

    @Command(name = "create", description = {"Create a container (not started: hull start runs it).", "",
        "Takes the same options as hull run.", "", "Example:", "  hull create --name job busybox echo done",
        "  hull start -a job"}, sortOptions = false)
    static final class Create implements Callable<Integer> {
        @Mixin
        ContainerOptions options = new ContainerOptions();
        @Option(names = "--pull", defaultValue = "missing", description = "missing, always, or never.")
        String pull;
        @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "Platform to pull.")
        String platform;
        @Option(names = {"-q", "--quiet"}, description = "No pull progress.")
        boolean quiet;
        @Mixin
        RegistryCli.Access access = new RegistryCli.Access();
        @Option(names = "--help", usageHelp = true, description = "Show this help.")
        boolean help;
        @Parameters(index = "0", paramLabel = "IMAGE")
        String image;
        @Parameters(index = "1..*", paramLabel = "COMMAND")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            return guarded(125, () -> {
                CreateOptions o = options.toCreateOptions(image, command);
                ContainerInfo info = engine(access, pull, platform, image, quiet).create(o);
                System.out.println(info.id());
                return 0;
            });
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = {"Start stopped or created containers.",
        "", "With -a, shows the container's output and exits with its status."})
    static final class Start implements Callable<Integer> {
        @Option(names = {"-a", "--attach"}, description = "Attach to the output and wait for the end (one container).")
        boolean attach;
        @Option(names = {"-i", "--interactive"}, description = "With -a: the container reads your stdin.")
        boolean interactive;
        @Option(names = "--sig-proxy", arity = "0..1", defaultValue = "true", fallbackValue = "true",
                description = "With -a: the signals hull gets go on to the container (default true).")
        boolean sigProxy;
        @Option(names = "--detach-keys", defaultValue = DetachKeys.DEFAULT, description = "With -ai and a terminal:"
                + " these keys leave the container running and return (default ${DEFAULT-VALUE}).")
        String detachKeys;
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            if (attach && refs.size() > 1) {
                System.err.println("hull: start -a takes one container");
                return 1;
            }
            Engine engine = Engine.defaults();
            int failed = 0;
            for (String ref : refs) {
                try {
                    if (attach) {
                        return exitStatus(engine.start(ref, attach(sigProxy, detachKeys)));
                    }
                    engine.start(ref, null);
                    System.out.println(ref);
                } catch (RuntimeError e) {
                    System.err.println("hull: " + ref + ": " + e.getMessage());
                    failed = startFailure(e) == 125 ? 1 : startFailure(e);
                } catch (Exception e) {
                    System.err.println("hull: " + ref + ": " + e.getMessage());
                    failed = 1;
                }
            }
            return failed;
        }
    }

    /** Runs action on each container, printing its reference; 1 if any failed. */
    static int each(List<String> refs, RefAction action) {
        int failed = 0;
        for (String ref : refs) {
            try {
                action.apply(ref);
                System.out.println(ref);
            } catch (Exception e) {
                System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                failed = 1;
            }
        }
        return failed;
    }

    @FunctionalInterface
    interface RefAction {
        void apply(String ref) throws Exception;
    }

    @Command(name = "cleanup", hidden = true, description = "What a container's monitor runs when the container"
        + " ended by itself: its network wiring (published ports, address, namespace) goes.")
    static final class Cleanup implements Callable<Integer> {
        @Parameters(paramLabel = "CONTAINER")
        String ref;

        @Override
        public Integer call() {
            return guarded(1, () -> {
                Engine.defaults().cleanup(ref);
                return 0;
            });
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = {"Stop running containers: the stop"
        + " signal (--stop-signal, the image's, or SIGTERM), then SIGKILL after the timeout.", "",
        "A stopped container is not restarted by its restart policy."})
    static final class Stop implements Callable<Integer> {
        @Option(names = {"-t", "--timeout", "--time"}, paramLabel = "SECONDS", description = "Seconds to wait"
                + " before SIGKILL (default: the container's --stop-timeout, else 10; --time: docker's old name).")
        Integer time;
        @Option(names = {"-s", "--signal"}, paramLabel = "SIGNAL", description = "Signal to send first, by name or"
                + " number (default: the container's --stop-signal, the image's, or SIGTERM).")
        String signal;
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            Engine engine = Engine.defaults();
            return each(refs, ref -> engine.stop(ref, time, signal));
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true, description = "Stop, then start containers.")
    static final class Restart implements Callable<Integer> {
        @Option(names = {"-t", "--timeout", "--time"}, paramLabel = "SECONDS", description = "Seconds to wait"
                + " before SIGKILL (--time: docker's old name).")
        Integer time;
        @Option(names = {"-s", "--signal"}, paramLabel = "SIGNAL", description = "Signal to send first, by name or"
                + " number (default: the container's stop signal).")
        String signal;
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            Engine engine = Engine.defaults();
            return each(refs, ref -> engine.restart(ref, time, signal));
        }
    }

    @Command(name = "kill", mixinStandardHelpOptions = true, description = "Send a signal (default SIGKILL) to"
            + " containers' main process.")
    static final class Kill implements Callable<Integer> {
        @Option(names = {"-s", "--signal"}, defaultValue = "KILL", description = "Signal name or number.")
        String signal;
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            Engine engine = Engine.defaults();
            return each(refs, ref -> engine.kill(ref, signal));
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = {"Remove containers.", "",
        "A running container needs --force (it is killed first)."})
    static final class Rm implements Callable<Integer> {
        @Option(names = {"-f", "--force"}, description = "Kill a running container, then remove it.")
        boolean force;
        @Option(names = {"-v", "--volumes"}, description = "Remove the container's anonymous volumes too (named"
                + " volumes stay, and one another container uses).")
        boolean volumes;
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            Engine engine = Engine.defaults();
            return each(refs, ref -> engine.remove(ref, force, volumes));
        }
    }

    @Command(name = "wait", mixinStandardHelpOptions = true, description = "Wait for containers to end; print"
            + " their exit codes.")
    static final class Wait implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            Engine engine = Engine.defaults();
            int failed = 0;
            for (String ref : refs) {
                try {
                    System.out.println(engine.await(ref));
                } catch (Exception e) {
                    System.err.println("hull: " + e.getMessage());
                    failed = 1;
                }
            }
            return failed;
        }
    }

    @Command(name = "rename", mixinStandardHelpOptions = true, description = "Rename a container.")
    static final class Rename implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String ref;
        @Parameters(index = "1", paramLabel = "NEW_NAME")
        String name;

        @Override
        public Integer call() {
            return guarded(1, () -> {
                Engine.defaults().rename(ref, name);
                return 0;
            });
        }
    }

    @Command(name = "ps", mixinStandardHelpOptions = true, description = {"List containers (running ones; -a: all).",
        "", "Filters: status=created|running|paused|restarting|exited, name=TEXT, id=PREFIX, label=KEY[=VALUE],"
            + " ancestor=IMAGE, exited=CODE, health=starting|healthy|unhealthy|none.", "", "Examples:", "  hull ps -a", "  hull ps -q --filter status=exited",
        "  hull ps --format json"})
    static final class Ps implements Callable<Integer> {
        @Option(names = {"-a", "--all"}, description = "Show all containers, not only running ones.")
        boolean all;
        @Option(names = {"-q", "--quiet"}, description = "Only ids.")
        boolean quiet;
        @Option(names = "--no-trunc", description = "Full ids and commands.")
        boolean noTrunc;
        @Option(names = {"-f", "--filter"}, paramLabel = "KEY=VALUE", description = "Filter (repeatable).")
        List<String> filters = new ArrayList<>();
        @Option(names = "--format", defaultValue = "table", description = "table (default), table TEMPLATE, json"
                + " (one object per line) or a Go template over docker's fields: {{.ID}} {{.Image}} {{.Command}}"
                + " {{.CreatedAt}} {{.RunningFor}} {{.Status}} {{.State}} {{.Ports}} {{.Names}} {{.Labels}}"
                + " {{.Label \"k\"}} {{.Mounts}} {{.Networks}} {{.LocalVolumes}} {{.Size}}.")
        String format;
        @Option(names = {"-n", "--last"}, defaultValue = "-1", paramLabel = "N", description = "The N last created"
                + " containers (any state).")
        int last;
        @Option(names = {"-l", "--latest"}, description = "The last created container (any state).")
        boolean latest;
        @Option(names = {"-s", "--size"}, description = "Add the SIZE column: what each wrote (and with its image).")
        boolean size;

        @Override
        public Integer call() {
            return guarded(1, () -> {
                Engine engine = Engine.defaults();
                boolean json = Listing.isJson(format);
                int limit = latest ? 1 : last;
                Listing listing = quiet || json ? null : Listing.of(format,
                        size ? Rows.PS_TABLE + "\t{{.Size}}" : Rows.PS_TABLE, Rows.PS_HEADERS);
                ContainerRow.Sizes sizes = new ContainerRow.Sizes(engine);
                List<ContainerInfo> shown = new ArrayList<>();
                java.util.Map<String, Engine.State> states = new java.util.HashMap<>();
                for (ContainerInfo c : engine.containers().list()) {
                    Engine.State s = engine.state(c);
                    if (!all && limit < 0 && !s.running() && filters.stream().noneMatch(f -> f.startsWith("status="))) {
                        continue;
                    }
                    if (matches(engine, c, s)) {
                        shown.add(c);
                        states.put(c.id(), s);
                    }
                }
                if (limit >= 0 && shown.size() > limit) { // the list is oldest first: the last N created
                    shown = shown.subList(shown.size() - limit, shown.size());
                }
                shown = shown.reversed(); // newest first, as docker lists them
                for (ContainerInfo c : shown) {
                    Engine.State s = states.get(c.id());
                    if (quiet) {
                        System.out.println(noTrunc ? c.id() : c.shortId());
                    } else if (json) {
                        System.out.println(ImageCli.JSON.writer().without(
                                com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                                .writeValueAsString(ContainerRow.json(engine, c, s)));
                    } else {
                        listing.add(ContainerRow.of(engine, c, s, !noTrunc, sizes));
                    }
                }
                if (listing != null) {
                    listing.print();
                }
                return 0;
            });
        }

        private boolean matches(Engine engine, ContainerInfo c, Engine.State s) throws RuntimeError, java.io.IOException {
            for (String f : filters) {
                int eq = f.indexOf('=');
                if (eq <= 0) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--filter " + f + ": use KEY=VALUE");
                }
                String k = f.substring(0, eq);
                String v = f.substring(eq + 1);
                boolean ok = switch (k) {
                    case "status" -> s.status().equals(v);
                    case "name" -> c.name().contains(v);
                    case "id" -> c.id().startsWith(v);
                    case "ancestor" -> v.equals(c.image()) || c.imageId().startsWith(v.replace("sha256:", ""));
                    case "exited" -> s.status().equals("exited") && Integer.toString(s.exitCode()).equals(v);
                    case "label" -> {
                        var labels = c.options() == null ? java.util.Map.<String, String>of() : c.options().labels;
                        int e2 = v.indexOf('=');
                        yield e2 < 0 ? labels.containsKey(v) : v.substring(e2 + 1).equals(labels.get(v.substring(0, e2)));
                    }
                    case "health" -> {
                        if (!List.of("starting", "healthy", "unhealthy", "none").contains(v)) {
                            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "Unrecognised filter value for health: " + v);
                        }
                        yield engine.healthStatus(c, s).equals(v);
                    }
                    default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--filter " + k
                            + ": use status, name, id, label, ancestor, exited or health");
                };
                if (!ok) {
                    return false;
                }
            }
            return true;
        }
    }

    static void printTable(List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < cols; i++) {
                sb.append(r[i]);
                if (i < cols - 1) {
                    sb.append(" ".repeat(w[i] - r[i].length() + 3));
                }
            }
            System.out.println(sb.toString().stripTrailing());
        }
    }

    static String since(String iso) {
        return dev.hull.engine.ContainerInspector.since(iso);
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, description = {"Show a container's output (its"
        + " json-file log, kept across restarts).", "", "Examples:", "  hull logs web", "  hull logs -f --tail 10 web",
        "  hull logs --since 5m -t web"})
    static final class Logs implements Callable<Integer> {
        @Option(names = {"-f", "--follow"}, description = "Keep printing new output until the container ends.")
        boolean follow;
        @Option(names = {"-n", "--tail"}, defaultValue = "all", description = "Only the last N lines (default all).")
        String tail;
        @Option(names = "--since", description = "Only output from this time on (2026-11-30T10:00:00Z) or this long"
                + " ago (10m, 2h).")
        String since;
        @Option(names = "--until", description = "Only output before this time (or this long ago).")
        String until;
        @Option(names = {"-t", "--timestamps"}, description = "Prefix each line with its time.")
        boolean timestamps;
        @Option(names = "--details", description = "Show the extra attributes the log driver keeps (Hull's json-file"
                + " keeps none: the output is the same).")
        boolean details;
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String ref;

        @Override
        public Integer call() {
            return guarded(1, () -> {
                Engine engine = Engine.defaults();
                ContainerInfo c = engine.containers().resolve(ref);
                Engine.checkReadable(c);
                int n;
                try {
                    n = tail.equals("all") ? -1 : Integer.parseInt(tail);
                } catch (NumberFormatException e) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--tail " + tail + ": a number or all");
                }
                ContainerLogs.Query q = new ContainerLogs.Query(n, since == null ? null : ContainerLogs.parseTime(since),
                        until == null ? null : ContainerLogs.parseTime(until), timestamps, follow);
                ContainerLogs.print(engine.containers().logFile(c.id()), q, System.out, System.err, () -> {
                    try {
                        return engine.containers().read(c.id()) != null && engine.state(c).running();
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
                return 0;
            });
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = {"Show containers in detail (JSON,"
        + " docker's field names).", "", "--format takes {{.Path.To.Field}} and {{json .Path}}, e.g.",
        "  hull inspect -f '{{.State.Pid}}' web"})
    static final class Inspect implements Callable<Integer> {
        @Option(names = {"-f", "--format"}, description = "A template: {{.State.Status}}, {{json .Config}}.")
        String format;
        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> refs;

        @Override
        public Integer call() {
            return guarded(1, () -> {
                Engine engine = Engine.defaults();
                return printInspected(refs, format,
                        ref -> ContainerInspector.inspect(engine, engine.containers().resolve(ref)));
            });
        }
    }

    /** What an inspect command shows of one thing it was given; a RuntimeError: there is no such thing. */
    @FunctionalInterface
    interface Inspection {
        ObjectNode of(String ref) throws Exception;
    }

    /** inspect's output: one JSON array of every thing given, or the --format template once per thing; 1 if any was missing. */
    static int printInspected(List<String> refs, String format, Inspection inspection) throws Exception {
        if (format != null && !Listing.isJson(format)) {
            Listing.check(format);
        }
        ArrayNode out = ImageCli.JSON.createArrayNode();
        int failed = 0;
        for (String ref : refs) {
            try {
                ObjectNode n = inspection.of(ref);
                if (format != null && !Listing.isJson(format)) {
                    System.out.println(Listing.document(format, n));
                } else {
                    out.add(n);
                }
            } catch (RuntimeError e) {
                System.err.println("hull: " + e.getMessage());
                failed = 1;
            }
        }
        if (format == null || Listing.isJson(format)) { // docker: "[]" when there was nothing
            System.out.println(out.isEmpty() ? "[]" : ImageCli.JSON.writeValueAsString(out));
        }
        return failed;
    }

    @Command(name = "exec", description = {"Run a command in a running container.", "",
        "Examples:", "  hull exec web ps", "  hull exec -it web sh", "  hull exec -u nobody -w /tmp -e X=1 web env"},
            sortOptions = false)
    static final class Exec implements Callable<Integer> {
        @Option(names = {"-i", "--interactive"}, description = "The command reads your stdin.")
        boolean interactive;
        @Option(names = {"-t", "--tty"}, description = "Give the command a terminal.")
        boolean tty;
        @Option(names = {"-d", "--detach"}, description = "Run it in the background.")
        boolean detach;
        @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]", description = "Run as this user (name or number).")
        String user;
        @Option(names = {"-e", "--env"}, paramLabel = "KEY[=VALUE]", description = "Set an environment variable.")
        List<String> env = new ArrayList<>();
        @Option(names = "--env-file", paramLabel = "FILE", description = "Read KEY=VALUE lines (# comments) from a file.")
        List<String> envFiles = new ArrayList<>();
        @Option(names = {"-w", "--workdir"}, description = "Working directory.")
        String workdir;
        @Option(names = "--privileged", description = "All capabilities for this command.")
        boolean privileged;
        @Option(names = "--detach-keys", paramLabel = "KEYS", description = "With -it, these keys leave the command"
                + " running and return (default ctrl-p,ctrl-q).")
        String detachKeys;
        @Option(names = "--help", usageHelp = true, description = "Show this help.")
        boolean help;
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String ref;
        @Parameters(index = "1..*", paramLabel = "COMMAND")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            String keys;
            try {
                keys = dev.hull.runtime.DetachKeys.parse(detachKeys == null ? dev.hull.runtime.DetachKeys.DEFAULT
                        : detachKeys);
            } catch (RuntimeError e) {
                System.err.println("hull: " + e.getMessage());
                return 125;
            }
            try {
                Invocation inv = Invocation.current();
                List<String> allEnv = Engine.envFileLines(envFiles.stream()
                        .map(f -> dev.hull.runtime.Caller.absolute(java.nio.file.Path.of(f)).toString()).toList());
                allEnv.addAll(env);
                int code = Engine.defaults().exec(ref, new Engine.ExecRequest(command, allEnv, user, workdir, tty,
                        interactive, detach, privileged, inv.stdio(), inv.onStarted(), keys));
                return code == Engine.DETACHED ? 0 : code; // the keys: it runs on
            } catch (RuntimeError e) {
                System.err.println("hull: " + e.getMessage());
                return e.kind() == RuntimeError.Kind.NOT_FOUND || e.kind() == RuntimeError.Kind.WRONG_STATE ? 1
                        : startFailure(e) == 125 ? 126 : startFailure(e);
            } catch (Exception e) {
                System.err.println("hull: " + e.getMessage());
                return 126;
            }
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true, description = "Remove all stopped containers"
            + " (and what killed creations left).")
    static final class Prune implements Callable<Integer> {
        @Option(names = {"-f", "--force"}, description = "Do not ask (Hull never asks; accepted for docker's habit).")
        boolean force;

        @Override
        public Integer call() {
            return guarded(1, () -> {
                dev.hull.engine.Pruning.containers(Engine.defaults(), null).removed()
                        .forEach(c -> System.out.println(c.id()));
                return 0;
            });
        }
    }

    /** {@code hull container ...}: the same commands under docker's management-command names. */
    static CommandLine containerGroup() {
        CommandLine group = new CommandLine(new Group());
        for (Object sub : new Object[] {new Run(), new Create(), new Start(), new Stop(), new Restart(), new Kill(),
            new Rm(), new Wait(), new Rename(), new Ps(), new Logs(), new Inspect(), new Exec(), new Prune(),
            new NetworkCli.Port(), new Cleanup(), new AttachCommand()}) {
            CommandLine cl = new CommandLine(sub);
            group.addSubcommand(cl.getCommandName(), cl);
        }
        group.getSubcommands().get("run").getCommandSpec().parser().stopAtPositional(true);
        group.getSubcommands().get("create").getCommandSpec().parser().stopAtPositional(true);
        group.getSubcommands().get("exec").getCommandSpec().parser().stopAtPositional(true);
        group.addSubcommand("ls", new CommandLine(new Ps()));
        ContainerResourceCli.addTo(group);
        return group;
    }

    @Command(name = "container", mixinStandardHelpOptions = true, description = "Manage containers (hull container"
            + " ls, rm, prune, ...).")
    static final class Group implements Runnable {
        @picocli.CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    /** docker's PORTS column: "0.0.0.0:8080->80/tcp, 443/tcp" (published while running, then exposed ones). */
    static String portsText(Engine engine, ContainerInfo c, Engine.State s) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        java.util.Set<String> published = new java.util.HashSet<>();
        var st = s.running() ? engine.networking().state(c.id()) : null;
        if (st != null) {
            for (var p : st.ports()) {
                out.add((p.hostIp() == null ? "0.0.0.0" : p.hostIp()) + ":" + p.hostPort() + "->" + p.containerPort()
                        + "/" + p.protocol());
                published.add(p.containerPort() + "/" + p.protocol());
            }
        }
        for (String e : c.exposedPorts()) {
            String key = e.contains("/") ? e : e + "/tcp";
            if (!published.contains(key)) {
                out.add(key);
            }
        }
        return String.join(", ", out);
    }

    /** The networks the container is on (as configured), comma-separated. */
    static String networksText(ContainerInfo c) {
        if (c.options() == null) {
            return "";
        }
        List<String> out = new ArrayList<>(List.of(c.options().network));
        c.options().connections.forEach(x -> out.add(x.network));
        return String.join(",", out);
    }
}
