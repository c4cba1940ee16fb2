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

/** {@code hull-runtime exec}: runs a new process in a created or running container (like runc exec). */
final class ExecCommand extends RuntimeCli.Sub {
    Path processFile;
    boolean tty;
    final RuntimeCli.LaunchOptions launch = new RuntimeCli.LaunchOptions();
    String cwd;
    List<String> env = new ArrayList<>();
    String user;
    List<Long> additionalGids = new ArrayList<>();
    List<String> caps = new ArrayList<>();
    boolean noNewPrivs;
    boolean detach;
    String id;
    List<String> args = new ArrayList<>();

    @Override
    void define(CommandModel m) {
        m.describe("Run a new process in a created or running container: it joins the container's namespaces and"
                + " cgroup. In the foreground (the default) waits and exits with its status.",
                "Without --process, the container's config.json process gives the defaults (env, cwd, user) and ARGS"
                + " the command.");
        m.option("-p, --process=<processFile>", Path.class, v -> processFile = v,
                "A process.json (the config's process object) to run.");
        m.flag("-t, --tty", v -> tty = v, "Give the process a terminal.");
        launch.define(m);
        m.option("--cwd=<cwd>", String.class, v -> cwd = v, "Working directory in the container.");
        m.repeated("-e, --env=<env>", String.class, v -> env = v, "K=V added to the environment (repeatable).");
        m.option("-u, --user=<user>", String.class, v -> user = v, "UID[:GID] to run as.");
        m.repeated("-g, --additional-gids=<additionalGids>", Long.class, v -> additionalGids = v,
                "Additional group ids (repeatable).");
        m.repeated("-c, --cap=<caps>", String.class, v -> caps = v,
                "Add a capability to the bounding, effective, permitted sets (repeatable).");
        m.flag("--no-new-privs", v -> noNewPrivs = v, "Set no_new_privs for the process.");
        m.flag("-d, --detach", v -> detach = v, "Return once the process runs.");
        m.param(0, "ID", String.class, v -> id = v);
        m.rest(1, "ARGS", String.class, v -> args = v, "The command and its arguments.");
    }

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
