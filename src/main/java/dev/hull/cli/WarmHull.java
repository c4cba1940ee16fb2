package dev.hull.cli;

import dev.hull.runtime.Caller;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hull} commands on the warm path: the server runs them for bin/hull's client with
 * the client's working directory, environment ({@link Caller}), stdio ({@link Stdio}) and
 * exit code; and {@code hull system service}, the server itself.
 */
final class WarmHull {
    private WarmHull() {}

    /**
     * Built command lines for reuse: building hull's picocli model (reflection over every
     * command's annotations) costs milliseconds; picocli resets options before each parse.
     */
    private static final ConcurrentLinkedQueue<CommandLine> POOL = new ConcurrentLinkedQueue<>();

    /**
     * Commands the server hands back to the client to run cold ("C"): they need a process of
     * their own. The server itself (system service, runtime-server), and login when it would
     * prompt for the password on the terminal (System.console(), which only the client has).
     * (--preserve-fds never gets here: the client runs it cold without asking.)
     */
    static boolean needsColdPath(String[] argv) {
        List<String> a = List.of(argv);
        if (a.isEmpty()) {
            return false;
        }
        return switch (a.get(0)) {
            case "runtime-server" -> true;
            case "system" -> a.size() > 1 && a.get(1).equals("service");
            case "login" -> a.stream().noneMatch(x -> x.equals("--password-stdin") || x.equals("-p")
                    || x.startsWith("-p=") || x.equals("--password") || x.startsWith("--password="));
            default -> false;
        };
    }

    /** Runs one hull command for a client; inv carries its cwd, output, stdio fds and signal target. */
    static int execute(Invocation inv, String[] args) throws Exception {
        CommandLine cl = POOL.poll();
        if (cl == null) {
            cl = build();
        }
        try {
            cl.setOut(inv.out());
            cl.setErr(inv.err());
            cl.setColorScheme(CommandLine.Help.defaultColorScheme(ansi() ? CommandLine.Help.Ansi.ON
                    : CommandLine.Help.Ansi.OFF));
            ((RuntimeCli) cl.getSubcommands().get("runtime").getCommand()).inv = inv;
            CommandLine c = cl;
            return Invocation.with(inv, () -> c.execute(args));
        } finally {
            inv.out().flush();
            inv.err().flush();
            POOL.offer(cl);
        }
    }

    /** Colours in help and usage errors: picocli's own rules (Ansi.AUTO), for the client's terminal and variables. */
    static boolean ansi() {
        var env = Caller.environment();
        if (env.containsKey("NO_COLOR")) {
            return false;
        }
        String force = env.get("CLICOLOR_FORCE");
        if (force != null && !force.equals("0")) {
            return true;
        }
        return !"0".equals(env.get("CLICOLOR")) && Stdio.isTerminal();
    }

    private static CommandLine build() {
        CommandLine cl = HullCli.commandLine();
        // Paths on the command line (load -i, save -o, --cert-dir ...) are the client's: relative
        // ones resolve against its directory. hull runtime resolves its own (Invocation.resolve).
        for (var e : cl.getSubcommands().entrySet()) {
            if (!e.getKey().equals("runtime")) {
                e.getValue().registerConverter(Path.class, s -> Caller.resolve(Path.of(s)));
            }
        }
        return cl;
    }

    /** Adds {@code hull system service} to hull's command line. */
    static void register(CommandLine hull) {
        hull.getSubcommands().get("system").addSubcommand("service", new CommandLine(new Service()));
    }

    @Command(name = "service", mixinStandardHelpOptions = true, description = {
        "Run Hull's warm server in the foreground (like docker's daemon, but optional).", "",
        "bin/hull and bin/hull-runtime hand each command to it (argv, working directory, environment, stdin/stdout/"
            + "stderr, signals) when its socket exists, so a command costs no JVM start; without it they start a JVM"
            + " of their own. Either way the command behaves the same: the containers, images and state are the same"
            + " files (HULL_HOME and HULL_STATE come from each client's environment).", "",
        "Commands that always run in their own JVM: system service and runtime-server (the server itself), login"
            + " without -p/--password-stdin (it prompts on your terminal), and anything with --preserve-fds.", "",
        "Socket: --socket, else $HULL_RUNTIME_SOCKET, else /run/hull/runtime.sock (one socket for both launchers;"
            + " mode 0600: root only; 0660 root:hull when a group hull exists, whose members may then use it, as"
            + " docker's group: that is root's power). The server refuses any other caller (SO_PEERCRED), whatever"
            + " the socket's mode. Stop it with SIGTERM or SIGINT.", "",
        "Example:", "  hull system service &", "  hull run --rm busybox true    # now without a JVM start"})
    static final class Service implements Callable<Integer> {
        @Option(names = "--socket", description = "Socket path (default: $HULL_RUNTIME_SOCKET or "
                + "/run/hull/runtime.sock).")
        Path socket;

        @Option(names = "--group", paramLabel = "GROUP", description = "Members of GROUP may use the server too, if"
                + " it exists (default: ${DEFAULT-VALUE}).", defaultValue = WarmServer.DEFAULT_GROUP)
        String group;

        @Override
        public Integer call() throws Exception {
            if (Caller.current() != null) {
                System.err.println("hull: system service runs in a process of its own, not in a warm server");
                return 125;
            }
            Path path = socket != null ? socket : WarmServer.socketPath();
            WarmServer server;
            try {
                server = WarmServer.bind(path, group);
            } catch (java.io.IOException e) {
                System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                return 1;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.close();
                } catch (java.io.IOException ignored) {
                    // exiting anyway
                }
            }));
            System.err.println("hull: warm server listening on " + path + " (hull and hull-runtime commands)");
            server.serve();
            return 0;
        }
    }
}
