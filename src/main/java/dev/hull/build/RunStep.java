package dev.hull.build;

import dev.hull.build.Dockerfile.Instruction;
import dev.hull.engine.CreateOptions;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * RUN: the command (exec form, or the stage's SHELL with the text and its heredocs), the ARGs in
 * scope that no ENV shadows in its environment (as docker passes them, not kept in the image), its
 * --mounts ({@link MountSetup}) and --network, through the cache; on a miss it runs in a
 * {@link StepContainer} and its layer is committed.
 */
final class RunStep {
    private RunStep() {}

    static boolean run(BuildSession b, Stage s, Instruction in, BuildContext ctx, CopyStep.Sources sources)
            throws BuildException, IOException, RuntimeError {
        for (String f : in.flags().keySet()) {
            if (!f.equals("network")) {
                throw in.error("RUN --" + f + " is not supported yet");
            }
        }
        String network = network(b, in);
        List<RunMount> mounts = new ArrayList<>();
        int ssh = 0;
        for (String m : in.mounts()) {
            RunMount mount = RunMount.parse(in, m, ssh);
            ssh += mount.type().equals("ssh") ? 1 : 0;
            mounts.add(mount);
        }
        Heredoc script = script(in);
        List<String> argv = command(s, in, script);
        List<String> extra = argEnv(s);
        String createdBy = "RUN " + String.join(" ", argv);
        CreateOptions o = new CreateOptions();
        o.entrypoint = "";
        o.command = new ArrayList<>(argv);
        o.env = new ArrayList<>(extra);
        o.network = network;
        String key = String.join("\n", extra) + "\n" + in.text() + "\n"
                + MountSetup.key(b, s, in, mounts, ctx, sources) + "network " + network;
        String sshSock = sshAuthSock(s, mounts);
        if (sshSock != null) {
            o.env.add(sshSock);
        }
        return b.cached(s, createdBy, key, () -> {
            String why = Binfmt.missing(s.platform);
            if (why != null) {
                throw in.error("RUN for " + s.platform + " on this " + dev.hull.image.Platform.host()
                        + " host needs an emulator: " + why);
            }
            Path pipes = script == null ? null : pipes(b, o, script);
            try (MountSetup setup = MountSetup.prepare(b, s, in, mounts, ctx, sources, o)) {
                s.commit(b.content, createdBy, StepContainer.run(b, s, in, o, String.join(" ", argv)), b.epoch);
            } finally {
                if (pipes != null) {
                    SnapshotStore.deleteTree(pipes);
                }
            }
        });
    }

    /**
     * SSH_AUTH_SOCK=the first ssh mount's target, as BuildKit sets it (unless the stage's ENV sets
     * it), in the step's environment only; null without an ssh mount.
     */
    private static String sshAuthSock(Stage s, List<RunMount> mounts) {
        for (String e : s.env()) {
            if (e.startsWith("SSH_AUTH_SOCK=")) {
                return null;
            }
        }
        for (RunMount m : mounts) {
            if (m.type().equals("ssh")) {
                return "SSH_AUTH_SOCK=" + m.target();
            }
        }
        return null;
    }

    /** RUN --network|host|default (the build's --network). */
    private static String network(BuildSession b, Instruction in) throws BuildException {
        String n = in.flags().getOrDefault("network", "default");
        return switch (n == null ? "" : n) {
            case "default" -> b.req.network;
            case "none", "host" -> n;
            default -> throw in.error("RUN --network=" + n + ": use none, host or default");
        };
    }

    /**
     * The heredoc that is the whole command and starts with "#!" (a script run by its interpreter,
     * as Docker runs it: a file under /dev/pipes/), or null.
     */
    private static Heredoc script(Instruction in) {
        if (in.json() == null && in.heredocs().size() == 1 && Heredoc.marker(in.args().strip()) != null
                && in.heredocs().getFirst().content().startsWith("#!")) {
            return in.heredocs().getFirst();
        }
        return null;
    }

    /**
     * The argv: the exec form; a script heredoc's file; a heredoc that is the whole command run by
     * the shell as its script; else the shell with the line and each heredoc's lines and end (the
     * shell reads them as its own here-documents, quoting and {@code <<-} included).
     */
    private static List<String> command(Stage s, Instruction in, Heredoc script) {
        if (in.json() != null) {
            return in.json();
        }
        if (script != null) {
            return List.of("/dev/pipes/" + script.name());
        }
        if (in.heredocs().size() == 1 && Heredoc.marker(in.args().strip()) != null) {
            return MetaStep.concat(s.shell(), in.heredocs().getFirst().content());
        }
        StringBuilder line = new StringBuilder(in.args());
        for (Heredoc h : in.heredocs()) {
            line.append('\n').append(h.content()).append(h.name());
        }
        return MetaStep.concat(s.shell(), line.toString());
    }

    /** Writes the script heredoc into a directory bound read-only at /dev/pipes; returns the directory. */
    private static Path pipes(BuildSession b, CreateOptions o, Heredoc script) throws IOException {
        Path dir = Files.createTempDirectory(b.tmp, "pipes-");
        Path f = dir.resolve(script.name());
        Files.writeString(f, script.data());
        dev.hull.linux.Syscalls.lchmod(f.toString(), 0755);
        dev.hull.linux.Syscalls.lchmod(dir.toString(), 0755);
        o.volumes.add(dir + ":/dev/pipes:ro");
        return dir;
    }

    /** NAME=value for each ARG in scope that the stage's Env does not set. */
    static List<String> argEnv(Stage s) {
        List<String> extra = new ArrayList<>();
        Set<String> envNames = new HashSet<>();
        for (String e : s.env()) {
            envNames.add(e.contains("=") ? e.substring(0, e.indexOf('=')) : e);
        }
        s.args.forEach((k, v) -> {
            if (!envNames.contains(k)) {
                extra.add(k + "=" + v);
            }
        });
        return extra;
    }
}
