package dev.hull.cli;

import dev.hull.runtime.Caller;
import dev.hull.service.Commands;
import dev.hull.service.Request;
import dev.hull.service.Session;
import dev.hull.service.Stdio;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import picocli.CommandLine;

/**
 * The command lines the service ({@link dev.hull.service.WarmServer}) runs: {@code hull} and
 * {@code hull-runtime}, for a client's request, with the client's working directory, environment
 * ({@link Caller}), stdio ({@link Stdio}) and exit code.
 */
public final class ServiceCommands implements Commands {
    public ServiceCommands() {}

    @Override
    public boolean needsOwnProcess(Request request) {
        return request.hull() && needsColdPath(request.argv());
    }

    @Override
    public int run(Request request, Session session) throws Exception {
        Invocation inv = new Invocation(session.cwd(), Invocation.writer(session.out()),
                Invocation.writer(session.err()), session.stdio(), session.onStarted());
        return request.hull() ? execute(inv, request.argv()) : RuntimeCli.execute(inv, request.argv(), true);
    }

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
            case "machine", "volume", "run", "create", "update" -> dev.hull.disk.KeySources.asksPassphrase(a);
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
            String[] argv = HullCli.dockerArgs(args);
            return Invocation.with(inv, () -> c.execute(argv));
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
}
