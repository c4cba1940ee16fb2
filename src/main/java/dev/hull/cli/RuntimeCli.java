package dev.hull.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.Signals;
import dev.hull.runtime.StateStore;
import dev.hull.runtime.spec.Json;
import dev.hull.runtime.spec.State;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code hull-runtime}: the OCI runtime command line, a drop-in for runc's,
 * so containerd, Kubernetes and podman can drive Hull.
 *
 * <p>Its picocli model is declared in code ({@link CommandModel}), not with annotations: reading
 * annotations spins proxy classes that the AOT cache cannot hold, which cost a cold call ~50 ms.
 */
public final class RuntimeCli {

    /** The subcommands, in the order help lists them. */
    private static final List<String> COMMANDS = List.of("create", "start", "state", "kill", "delete", "run", "list",
            "spec", "features", "exec", "update", "pause", "resume", "events", "ps");

    /** A new command object for one of {@link #COMMANDS} (a switch: no lambda class to spin per command). */
    private static Sub command(String name) {
        return switch (name) {
            case "create" -> new Create();
            case "start" -> new Start();
            case "state" -> new StateCmd();
            case "kill" -> new Kill();
            case "delete" -> new Delete();
            case "run" -> new Run();
            case "list" -> new RuntimeInfoCommands.ListCmd();
            case "spec" -> new RuntimeInfoCommands.Spec();
            case "features" -> new RuntimeInfoCommands.FeaturesCmd();
            case "exec" -> new ExecCommand();
            case "update" -> new RuntimeResourceCommands.Update();
            case "pause" -> new RuntimeResourceCommands.Pause();
            case "resume" -> new RuntimeResourceCommands.Resume();
            case "events" -> new RuntimeResourceCommands.Events();
            case "ps" -> new RuntimeResourceCommands.Ps();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static final String EXCLUDES = "picocli.converters.excludes";
    /** The global options that take a value (runc's): skipped when looking for the command's name. */
    private static final java.util.Set<String> VALUED = java.util.Set.of("--root", "--log", "--log-format", "--criu",
            "--rootless");

    /** Where the current command runs; set per command when a pooled instance is reused. */
    Invocation inv;

    RuntimeCli(Invocation inv) {
        this.inv = inv;
    }

    /**
     * Command lines ready for reuse by the warm server: building picocli's model
     * (reflection over every command's annotations) costs milliseconds per
     * command; picocli resets options to their defaults before each parse.
     */
    private static final java.util.concurrent.ConcurrentLinkedQueue<CommandLine> POOL =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    Path root;
    Path log;
    String logFormat;
    boolean debug;
    boolean systemdCgroup;
    String criu;
    String rootless;

    /** runc's global options (before the command), --help and --version. */
    private CommandSpec spec() {
        CommandModel m = CommandModel.of("hull-runtime", this).describe(
                "Hull's OCI runtime: runs OCI bundles (a rootfs and a config.json) like runc.", "",
                "A typical life: spec, create, start, state, kill, delete. run does create+start (and, in the"
                        + " foreground, waits and deletes).");
        m.option("--root=<root>", Path.class, v -> root = v, "Directory for container state (default:"
                + " /run/hull-runtime; rootless: $XDG_RUNTIME_DIR/hull-runtime, else /tmp/hull-runtime-UID).");
        m.option("--log=<log>", Path.class, v -> log = v, "Also write errors (and with --debug, debug lines) to this file.");
        m.option("--log-format=<logFormat>", String.class, v -> logFormat = v,
                "Format of --log lines: text or json (default: ${DEFAULT-VALUE}).").defaultValue("text");
        m.flag("--debug", v -> debug = v, "Log debug information.");
        m.flag("--systemd-cgroup", v -> systemdCgroup = v, "Use systemd for cgroups (not supported yet: an error).");
        m.option("--criu=<criu>", String.class, v -> criu = v, "Accepted for runc compatibility; ignored.").hidden();
        m.option("--rootless=auto|true|false", String.class, v -> rootless = v, "Run as an ordinary user (runc's"
                + " semantics): containers get no cgroup (limits are refused), a user namespace is mapped by the user"
                + " (newuidmap beyond the user's own id); auto (the default): when the caller is not root.");
        m.flag("-h, --help", v -> { }, "Show this help message and exit.").usageHelp();
        m.flag("-V, --version", v -> { }, "Print version information and exit.").versionHelp();
        CommandSpec spec = m.spec().versionProvider(new Version());
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put("0", "success");
        codes.put("1", "the operation failed (the message says why)");
        codes.put("2", "bad command line");
        codes.put("N", "run in the foreground exits with the container's status (128+signal if killed)");
        spec.usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(codes);
        return spec;
    }

    ContainerRuntime runtime() throws RuntimeError {
        if (systemdCgroup) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                    "--systemd-cgroup is not supported yet: Hull manages cgroupfs directly (v1 and v2)");
        }
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--log-format must be text or json, not " + logFormat);
        }
        boolean rl = dev.hull.runtime.RootlessRuntime.mode(rootless);
        Path dir = root != null ? inv.resolve(root) : rl ? dev.hull.runtime.RootlessRuntime.defaultRoot()
                : StateStore.DEFAULT_ROOT;
        if (rl) {
            dev.hull.runtime.RootlessRuntime.checkRoot(dir);
        }
        ContainerRuntime rt = new ContainerRuntime(dir).withStdio(inv.stdio()).withRootless(rl);
        try {
            rt.store().tightenRoot(); // a root an older Hull made 0755 (see StateStore.ROOT_MODE)
        } catch (java.io.IOException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, e.getMessage(), e);
        }
        return rt;
    }

    void logError(String message) {
        if (log == null) {
            return;
        }
        String line;
        String time = Instant.now().toString();
        if ("json".equals(logFormat)) {
            ObjectNode n = JsonNodeFactory.instance.objectNode();
            n.put("level", "error");
            n.put("msg", message);
            n.put("time", time);
            line = n.toString();
        } else {
            line = "time=\"" + time + "\" level=error msg=\"" + message.replace("\"", "\\\"") + "\"";
        }
        try {
            Files.writeString(inv.resolve(log), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // stderr still has the message
        }
    }

    /** Base for subcommands: runs, and turns errors into a message and exit code 1. */
    abstract static class Sub implements Callable<Integer> {
        RuntimeCli parent;

        /** Declares the command's description, options and parameters, bound to its fields. */
        abstract void define(CommandModel m);

        abstract int execute(ContainerRuntime rt) throws Exception;

        @Override
        public Integer call() {
            try {
                return execute(parent.runtime());
            } catch (RuntimeError e) {
                return fail(e.getMessage());
            } catch (IOException e) {
                return fail(e.getMessage() == null ? e.toString() : e.getMessage());
            } catch (Exception e) {
                if (parent.debug) {
                    e.printStackTrace(parent.inv.err());
                }
                return fail(e.toString());
            }
        }

        int fail(String message) {
            parent.logError(message);
            parent.inv.err().println("hull-runtime: " + message);
            return 1;
        }
    }

    /** What create, run and exec share: the pid file, the terminal's console socket, descriptors to pass on. */
    static final class LaunchOptions {
        Path pidFile;
        String consoleSocket;
        int preserveFds;

        void define(CommandModel m) {
            m.option("--pid-file=<pidFile>", Path.class, v -> pidFile = v,
                    "Write the pid (host view) of the container's process here.");
            m.option("--console-socket=<consoleSocket>", String.class, v -> consoleSocket = v,
                    "Unix socket to receive the pty master (SCM_RIGHTS) when the process has a terminal.");
            m.option("--preserve-fds=<preserveFds>", int.class, v -> preserveFds = v,
                    "Pass this many more fds (3, 4, ...) of this process to the container's process, as 3, 4, ...")
                    .defaultValue("0");
        }

        /** Sets the console socket and preserved fds on rt; returns the pid file, resolved against the caller's cwd. */
        Path applyTo(ContainerRuntime rt, Invocation inv) throws RuntimeError {
            rt.withPreserveFds(preserveFds);
            rt.withConsoleSocket(inv.resolve(consoleSocket == null ? null : Path.of(consoleSocket)));
            return inv.resolve(pidFile);
        }
    }

    static final class Create extends Sub {
        Path bundle;
        final LaunchOptions launch = new LaunchOptions();
        boolean noPivot;
        boolean noNewKeyring;
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Create a container from a bundle; its process waits for start.");
            m.option("-b, --bundle=<bundle>", Path.class, v -> bundle = v, "Bundle directory (default: current).")
                    .defaultValue(".");
            launch.define(m);
            m.flag("--no-pivot", v -> noPivot = v).hidden();
            m.flag("--no-new-keyring", v -> noNewKeyring = v).hidden();
            m.param(0, "ID", String.class, v -> id = v, "Container id (A-Z a-z 0-9 _ + - .).");
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            rt.create(id, parent.inv.resolve(bundle), launch.applyTo(rt, parent.inv));
            return 0;
        }
    }

    static final class Start extends Sub {
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Start a created container: its process execs now.");
            m.param(0, "ID", String.class, v -> id = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            rt.start(id);
            return 0;
        }
    }

    static final class StateCmd extends Sub {
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Print a container's state as JSON (the OCI state schema).");
            m.param(0, "ID", String.class, v -> id = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            State s = rt.state(id);
            parent.inv.out().println(Json.write(s.toJson(), true));
            return 0;
        }
    }

    static final class Kill extends Sub {
        boolean all;
        String id;
        String signal;

        @Override
        void define(CommandModel m) {
            m.describe("Send a signal (default TERM) to the container's init, or with --all to every process in it."
                    + " Signals by name (TERM, SIGKILL) or number.");
            m.flag("-a, --all", v -> all = v, "Signal every process of the container.");
            m.param(0, "ID", String.class, v -> id = v);
            m.param(1, "SIGNAL", String.class, v -> signal = v).defaultValue("TERM");
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            // runc takes 0 (a check that the container runs); no other signal command does
            rt.kill(id, signal.trim().equals("0") ? 0 : Signals.parse(signal), all);
            return 0;
        }
    }

    static final class Delete extends Sub {
        boolean force;
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Delete a stopped or created container, and everything it held.");
            m.flag("-f, --force", v -> force = v, "Kill the container first if it runs; a missing one is fine.");
            m.param(0, "ID", String.class, v -> id = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            rt.delete(id, force);
            return 0;
        }
    }

    static final class Run extends Sub {
        Path bundle;
        boolean detach;
        final LaunchOptions launch = new LaunchOptions();
        boolean noPivot;
        boolean noNewKeyring;
        boolean keep;
        String id;

        @Override
        void define(CommandModel m) {
            m.describe("Create and start a container. In the foreground (the default) it forwards signals, waits,"
                    + " deletes the container and exits with its status.");
            m.option("-b, --bundle=<bundle>", Path.class, v -> bundle = v, "Bundle directory (default: current).")
                    .defaultValue(".");
            m.flag("-d, --detach", v -> detach = v, "Return once the container runs.");
            launch.define(m);
            m.flag("--no-pivot", v -> noPivot = v).hidden();
            m.flag("--no-new-keyring", v -> noNewKeyring = v).hidden();
            m.flag("--keep", v -> keep = v).hidden();
            m.param(0, "ID", String.class, v -> id = v);
        }

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            return rt.run(id, parent.inv.resolve(bundle), launch.applyTo(rt, parent.inv), detach,
                    parent.inv.onStarted());
        }
    }

    /** The whole command line: every command (help, the warm server's pool, hull runtime ...). */
    static CommandLine commandLine(Invocation inv) {
        return commandLine(inv, COMMANDS);
    }

    private static CommandLine commandLine(Invocation inv, Iterable<String> commands) {
        RuntimeCli top = new RuntimeCli(inv);
        CommandLine cl = new CommandLine(top.spec());
        for (String name : commands) {
            Sub sub = command(name);
            sub.parent = top;
            CommandModel m = CommandModel.of(name, sub);
            sub.define(m);
            cl.addSubcommand(name, new CommandLine(m.spec()));
        }
        cl.addSubcommand("help", CommandModel.helpCommand());
        cl.setUsageHelpAutoWidth(true);
        CommandLine exec = cl.getSubcommands().get("exec");
        if (exec != null) {
            exec.setStopAtPositional(true); // exec ID sh -c ...: -c is the command's
        }
        cl.setOut(inv.out());
        cl.setErr(inv.err());
        return cl;
    }

    /**
     * The command args name, past runc's global options ({@code --root X --log Y create ...}), if
     * it is one of ours; null for help, a typo, or no command.
     */
    static String named(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (VALUED.contains(a)) {
                i++;
            } else if (!a.startsWith("-")) {
                return COMMANDS.contains(a) ? a : null;
            }
        }
        return null;
    }

    /**
     * One command in this JVM. A cold JVM would spend most of a short runtime call building
     * picocli's model of every command: only the one called is built (all of them for help, a
     * typo or no command, where the message lists them).
     */
    public static int main(String[] args) {
        Invocation inv = Invocation.ofThisProcess();
        String only = named(args);
        // picocli registers converters for java.sql and java.time types and Path through reflection in
        // every command line it builds (class initialisation, lookups): none of ours takes such a type
        // (CommandModel converts Path itself). Only while building ours: the hull CLI takes Paths.
        String excluded = System.setProperty(EXCLUDES, "java\\.(sql|time|nio\\.file)\\..*");
        CommandLine cl;
        try {
            cl = only != null ? commandLine(inv, List.of(only)) : commandLine(inv);
        } finally {
            if (excluded == null) {
                System.clearProperty(EXCLUDES);
            } else {
                System.setProperty(EXCLUDES, excluded);
            }
        }
        try {
            return cl.execute(args);
        } finally {
            inv.out().flush();
            inv.err().flush();
        }
    }

    /** Runs one command; with pooled, reuses a command line from an earlier command (warm server). */
    static int execute(Invocation inv, String[] args, boolean pooled) {
        CommandLine cl = pooled ? POOL.poll() : null;
        try {
            if (cl == null) {
                cl = commandLine(inv);
            } else {
                ((RuntimeCli) cl.getCommand()).inv = inv;
                cl.setOut(inv.out());
                cl.setErr(inv.err());
            }
            return cl.execute(args);
        } finally {
            inv.out().flush();
            inv.err().flush();
            if (pooled && cl != null) {
                POOL.offer(cl);
            }
        }
    }

    static {
        // keep StateStore's default in one place
        assert StateStore.DEFAULT_ROOT.toString().equals("/run/hull-runtime");
    }
}
