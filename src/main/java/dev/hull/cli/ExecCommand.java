package dev.hull.cli;

import dev.hull.runtime.ContainerExec;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.Capabilities;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.Process;
import dev.hull.runtime.spec.SpecParser;
import dev.hull.runtime.spec.User;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull-runtime exec}: runs a new process in a created or running container (like runc exec). */
@Command(name = "exec", description = {"Run a new process in a created or running container: it joins the"
        + " container's namespaces and cgroup. In the foreground (the default) waits and exits with its status.",
    "Without --process, the container's config.json process gives the defaults (env, cwd, user) and ARGS the command."})
final class ExecCommand extends RuntimeCli.Sub {
    @Option(names = {"-p", "--process"}, description = "A process.json (the config's process object) to run.")
    Path processFile;
    @Option(names = {"-t", "--tty"}, description = "Give the process a terminal.")
    boolean tty;
    @picocli.CommandLine.Mixin
    RuntimeCli.LaunchOptions launch;
    @Option(names = "--cwd", description = "Working directory in the container.")
    String cwd;
    @Option(names = {"-e", "--env"}, description = "K=V added to the environment (repeatable).")
    List<String> env = new ArrayList<>();
    @Option(names = {"-u", "--user"}, description = "UID[:GID] to run as.")
    String user;
    @Option(names = {"-g", "--additional-gids"}, description = "Additional group ids (repeatable).")
    List<Long> additionalGids = new ArrayList<>();
    @Option(names = {"-c", "--cap"}, description = "Add a capability to the bounding, effective, permitted sets"
            + " (repeatable).")
    List<String> caps = new ArrayList<>();
    @Option(names = "--no-new-privs", description = "Set no_new_privs for the process.")
    boolean noNewPrivs;
    @Option(names = {"-d", "--detach"}, description = "Return once the process runs.")
    boolean detach;
    @Parameters(index = "0", paramLabel = "ID")
    String id;
    @Parameters(index = "1..*", paramLabel = "ARGS", description = "The command and its arguments.")
    List<String> args = new ArrayList<>();

    @Override
    int execute(ContainerRuntime rt) throws Exception {
        Path pidFile = launch.applyTo(rt, parent.inv);
        Process proc = processFile != null ? fromFile(parent.inv.resolve(processFile)) : fromConfig(rt);
        return ContainerExec.exec(rt, id, proc, detach, pidFile,
                detach ? null : parent.inv.onStarted());
    }

    private Process fromFile(Path file) throws Exception {
        if (!args.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "give either --process or ARGS, not both");
        }
        byte[] json;
        try {
            json = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--process " + file + ": no such file");
        }
        try {
            return SpecParser.parseProcess(json, file.toString());
        } catch (ConfigException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
        }
    }

    private Process fromConfig(ContainerRuntime rt) throws Exception {
        if (args.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "exec needs a command (ARGS) or --process FILE");
        }
        Process base = ContainerExec.spec(rt, id).process();
        List<String> environment = new ArrayList<>(base.env());
        for (String e : env) {
            if (!e.contains("=")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--env " + e + ": expected K=V");
            }
            String key = e.substring(0, e.indexOf('=') + 1);
            environment.removeIf(x -> x.startsWith(key));
            environment.add(e);
        }
        User u = base.user();
        if (user != null) {
            String[] parts = user.split(":", 2);
            try {
                long uid = Long.parseLong(parts[0]);
                long gid = parts.length > 1 ? Long.parseLong(parts[1]) : (u == null ? 0 : u.gid());
                u = new User(uid, gid, u == null ? null : u.umask(), u == null ? List.of() : u.additionalGids(), null);
            } catch (NumberFormatException ex) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--user " + user + ": expected UID[:GID] (numbers)");
            }
        }
        if (!additionalGids.isEmpty()) {
            u = u == null ? new User(0, 0, null, additionalGids, null)
                    : new User(u.uid(), u.gid(), u.umask(), additionalGids, u.username());
        }
        Capabilities c = base.capabilities();
        if (!caps.isEmpty()) {
            c = c == null ? new Capabilities(caps, caps, List.of(), caps, List.of())
                    : new Capabilities(plus(c.bounding(), caps), plus(c.effective(), caps), c.inheritable(),
                            plus(c.permitted(), caps), c.ambient());
        }
        return new Process(tty, tty ? base.consoleSize() : null, u, args, null, environment,
                cwd != null ? cwd : base.cwd(), noNewPrivs || base.noNewPrivileges(), c, base.rlimits(),
                base.apparmorProfile(), base.oomScoreAdj(), base.selinuxLabel(), base.raw());
    }

    private static List<String> plus(List<String> a, List<String> b) {
        List<String> l = new ArrayList<>(a);
        for (String s : b) {
            if (!l.contains(s)) {
                l.add(s);
            }
        }
        return l;
    }
}
