package dev.hull.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.Signals;
import dev.hull.runtime.StateStore;
import dev.hull.runtime.spec.DefaultSpec;
import dev.hull.runtime.spec.Features;
import dev.hull.runtime.spec.Json;
import dev.hull.runtime.spec.State;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code hull-runtime}: the OCI runtime command line, a drop-in for runc's,
 * so containerd, Kubernetes and podman can drive Hull.
 */
@Command(name = "hull-runtime", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Hull's OCI runtime: runs OCI bundles (a rootfs and a config.json) like runc.",
            "", "A typical life: spec, create, start, state, kill, delete. run does create+start (and, in the"
                + " foreground, waits and deletes)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the operation failed (the message says why)", "2:bad command line",
            "N:run in the foreground exits with the container's status (128+signal if killed)"})
public final class RuntimeCli {

    /** The subcommands, in the order help lists them (added in code: see {@link #main}). */
    private static final Class<?>[] COMMANDS = {Create.class, Start.class, StateCmd.class, Kill.class, Delete.class,
        Run.class, ListCmd.class, Spec.class, FeaturesCmd.class, ExecCommand.class, RuntimeResourceCommands.Update.class,
        RuntimeResourceCommands.Pause.class, RuntimeResourceCommands.Resume.class, RuntimeResourceCommands.Events.class,
        RuntimeResourceCommands.Ps.class};
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

    @Option(names = "--root", description = "Directory for container state (default: /run/hull-runtime; rootless:"
            + " $XDG_RUNTIME_DIR/hull-runtime, else /tmp/hull-runtime-UID).")
    Path root;

    @Option(names = "--log", description = "Also write errors (and with --debug, debug lines) to this file.")
    Path log;

    @Option(names = "--log-format", description = "Format of --log lines: text or json (default: ${DEFAULT-VALUE}).",
            defaultValue = "text")
    String logFormat;

    @Option(names = "--debug", description = "Log debug information.")
    boolean debug;

    @Option(names = "--systemd-cgroup", description = "Use systemd for cgroups (not supported yet: an error).")
    boolean systemdCgroup;

    @Option(names = "--criu", hidden = true, description = "Accepted for runc compatibility; ignored.")
    String criu;

    @Option(names = "--rootless", paramLabel = "auto|true|false", description = "Run as an ordinary user (runc's"
            + " semantics): containers get no cgroup (limits are refused), a user namespace is mapped by the user"
            + " (newuidmap beyond the user's own id); auto (the default): when the caller is not root.")
    String rootless;

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
        @ParentCommand
        RuntimeCli parent;

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
        @Option(names = "--pid-file", description = "Write the pid (host view) of the container's process here.")
        Path pidFile;
        @Option(names = "--console-socket", description = "Unix socket to receive the pty master (SCM_RIGHTS) when"
                + " the process has a terminal.")
        String consoleSocket;
        @Option(names = "--preserve-fds", defaultValue = "0", description = "Pass this many more fds (3, 4, ...)"
                + " of this process to the container's process, as 3, 4, ...")
        int preserveFds;

        /** Sets the console socket and preserved fds on rt; returns the pid file, resolved against the caller's cwd. */
        Path applyTo(ContainerRuntime rt, Invocation inv) throws RuntimeError {
            rt.withPreserveFds(preserveFds);
            rt.withConsoleSocket(inv.resolve(consoleSocket == null ? null : Path.of(consoleSocket)));
            return inv.resolve(pidFile);
        }
    }

    @Command(name = "create", description = "Create a container from a bundle; its process waits for start.")
    static final class Create extends Sub {
        @Option(names = {"-b", "--bundle"}, defaultValue = ".", description = "Bundle directory (default: current).")
        Path bundle;
        @Mixin
        LaunchOptions launch;
        @Option(names = "--no-pivot", hidden = true)
        boolean noPivot;
        @Option(names = "--no-new-keyring", hidden = true)
        boolean noNewKeyring;
        @Parameters(index = "0", paramLabel = "ID", description = "Container id (A-Z a-z 0-9 _ + - .).")
        String id;

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            rt.create(id, parent.inv.resolve(bundle), launch.applyTo(rt, parent.inv));
            return 0;
        }
    }

    @Command(name = "start", description = "Start a created container: its process execs now.")
    static final class Start extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            rt.start(id);
            return 0;
        }
    }

    @Command(name = "state", description = "Print a container's state as JSON (the OCI state schema).")
    static final class StateCmd extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            State s = rt.state(id);
            parent.inv.out().println(Json.write(s.toJson(), true));
            return 0;
        }
    }

    @Command(name = "kill", description = "Send a signal (default TERM) to the container's init, or with --all to"
            + " every process in it. Signals by name (TERM, SIGKILL) or number.")
    static final class Kill extends Sub {
        @Option(names = {"-a", "--all"}, description = "Signal every process of the container.")
        boolean all;
        @Parameters(index = "0", paramLabel = "ID")
        String id;
        @Parameters(index = "1", paramLabel = "SIGNAL", defaultValue = "TERM")
        String signal;

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            // runc takes 0 (a check that the container runs); no other signal command does
            rt.kill(id, signal.trim().equals("0") ? 0 : Signals.parse(signal), all);
            return 0;
        }
    }

    @Command(name = "delete", description = "Delete a stopped or created container, and everything it held.")
    static final class Delete extends Sub {
        @Option(names = {"-f", "--force"}, description = "Kill the container first if it runs; a missing one is fine.")
        boolean force;
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            rt.delete(id, force);
            return 0;
        }
    }

    @Command(name = "run", description = "Create and start a container. In the foreground (the default) it forwards"
            + " signals, waits, deletes the container and exits with its status.")
    static final class Run extends Sub {
        @Option(names = {"-b", "--bundle"}, defaultValue = ".", description = "Bundle directory (default: current).")
        Path bundle;
        @Option(names = {"-d", "--detach"}, description = "Return once the container runs.")
        boolean detach;
        @Mixin
        LaunchOptions launch;
        @Option(names = "--no-pivot", hidden = true)
        boolean noPivot;
        @Option(names = "--no-new-keyring", hidden = true)
        boolean noNewKeyring;
        @Option(names = "--keep", hidden = true)
        boolean keep;
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            return rt.run(id, parent.inv.resolve(bundle), launch.applyTo(rt, parent.inv), detach,
                    parent.inv.onStarted());
        }
    }

    @Command(name = "list", description = "List containers.")
    static final class ListCmd extends Sub {
        @Option(names = {"-f", "--format"}, defaultValue = "table", description = "table or json.")
        String format;
        @Option(names = {"-q", "--quiet"}, description = "Print ids only.")
        boolean quiet;

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            List<State> states = rt.list();
            if (quiet) {
                states.forEach(s -> parent.inv.out().println(s.id()));
                return 0;
            }
            switch (format) {
                case "json" -> {
                    ArrayNode arr = JsonNodeFactory.instance.arrayNode();
                    for (State s : states) {
                        ObjectNode n = arr.addObject();
                        n.put("ociVersion", s.ociVersion());
                        n.put("id", s.id());
                        n.put("pid", s.pid());
                        n.put("status", s.status());
                        n.put("bundle", s.bundle());
                        n.put("rootfs", rt.store().load(s.id()).rootfs());
                        n.put("created", rt.store().load(s.id()).created());
                        ObjectNode ann = n.putObject("annotations");
                        s.annotations().forEach(ann::put);
                    }
                    parent.inv.out().println(Json.write(arr, true));
                }
                case "table" -> {
                    PrintWriter out = parent.inv.out();
                    out.printf("%-20s %-8s %-10s %-40s %s%n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
                    for (State s : states) {
                        out.printf("%-20s %-8d %-10s %-40s %s%n", s.id(), s.pid(), s.status(), s.bundle(),
                                rt.store().load(s.id()).created());
                    }
                }
                default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                        "--format must be table or json, not " + format);
            }
            return 0;
        }
    }

    @Command(name = "spec", description = "Write a default config.json (like runc spec) into the bundle directory.")
    static final class Spec extends Sub {
        @Option(names = {"-b", "--bundle"}, defaultValue = ".", description = "Where to write config.json.")
        Path bundle;
        @Option(names = "--rootless", description = "A spec for a rootless container (user namespace).")
        boolean rootlessSpec;

        @Override
        int execute(ContainerRuntime rt) throws Exception {
            Path file = parent.inv.resolve(bundle).resolve("config.json");
            try {
                Files.write(file, Json.write(DefaultSpec.create(rootlessSpec), true).getBytes(StandardCharsets.UTF_8),
                        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                throw new RuntimeError(RuntimeError.Kind.EXISTS, "File " + file + " exists. Remove it first");
            }
            return 0;
        }
    }

    @Command(name = "features", description = "Print what this runtime supports, as JSON (the OCI features schema).")
    static final class FeaturesCmd extends Sub {
        @Override
        int execute(ContainerRuntime rt) throws Exception {
            parent.inv.out().println(Json.write(Features.create(), true));
            return 0;
        }
    }

    /** The whole command line: every command (help, the warm server's pool, hull runtime ...). */
    static CommandLine commandLine(Invocation inv) {
        return commandLine(inv, COMMANDS);
    }

    private static CommandLine commandLine(Invocation inv, Class<?>... commands) {
        CommandLine cl = new CommandLine(new RuntimeCli(inv));
        for (Class<?> c : commands) {
            cl.addSubcommand(new CommandLine(CommandObjects.of(c)));
        }
        cl.addSubcommand(new CommandLine.HelpCommand());
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
    static Class<?> named(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (VALUED.contains(a)) {
                i++;
            } else if (!a.startsWith("-")) {
                for (Class<?> c : COMMANDS) {
                    if (c.getAnnotation(Command.class).name().equals(a)) {
                        return c;
                    }
                }
                return null;
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
        Class<?> only = named(args);
        CommandLine cl = only != null ? commandLine(inv, only) : commandLine(inv);
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
