package dev.hull.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A git repository as a build context ({@code hull build URL#REF:DIR}) or an ADD source, as
 * docker takes them: {@code https://…/x.git}, {@code git://…}, {@code git@host:x.git}, with an
 * optional fragment {@code #REF} (a branch, tag or commit; default: the remote's HEAD) and
 * {@code :DIR} (a directory inside the repository). Cloned with the host's git (only the http,
 * https, git and ssh transports; no prompts, no submodules), its {@code .git} left out as
 * BuildKit does by default. git runs with an environment of its own: no configuration of the
 * service's (HOME an empty directory, no system or global gitconfig: no credential helper, no
 * insteadOf) and, over ssh, only the identity the caller forwarded ({@link SshForward}).
 */
public final class GitSource {
    private static final long TIMEOUT_MINUTES = 10;

    private GitSource() {}

    /** Whether text names a git repository (docker's rules). */
    public static boolean isGit(String text) {
        return text.matches("(?i)(git|ssh)://.*") || text.startsWith("git@")
                || text.matches("(?i)https?://[^#]*\\.git(#.*)?");
    }

    /**
     * Clones url (with its #REF:DIR fragment) into a new directory under tmp; the directory to use
     * (DIR inside the clone, or the clone). what names the source in errors.
     */
    public static Path fetch(String url, Path tmp, String what, SshForward ssh) throws IOException, BuildException {
        String repo = url;
        String ref = "";
        String dir = "";
        int hash = url.indexOf('#');
        if (hash >= 0) {
            repo = url.substring(0, hash);
            String frag = url.substring(hash + 1);
            int colon = frag.indexOf(':');
            ref = colon < 0 ? frag : frag.substring(0, colon);
            dir = colon < 0 ? "" : frag.substring(colon + 1);
        }
        if (repo.startsWith("-") || ref.startsWith("-")) {
            throw new BuildException(what + " " + url + ": not a git URL");
        }
        Path base = Files.createTempDirectory(tmp, "git-");
        Path clone = base.resolve("repo");
        Path home = Files.createDirectory(base.resolve("home"));
        Git git = new Git(ssh, home);
        List<String> cmd = new ArrayList<>(List.of("clone", "--quiet", "--depth", "1"));
        if (!ref.isEmpty()) {
            cmd.addAll(List.of("--branch", ref));
        }
        cmd.addAll(List.of("--", repo, clone.toString()));
        String failed = git.run(cmd, null);
        if (failed != null && !ref.isEmpty()) { // not a branch or tag: a commit, from a full clone
            deleteQuietly(clone);
            if (git.run(List.of("clone", "--quiet", "--no-checkout", "--", repo, clone.toString()), null) == null) {
                failed = git.run(List.of("checkout", "--quiet", "--detach", ref), clone);
            }
        }
        if (failed != null) {
            throw new BuildException(what + " " + url + ": git could not fetch it: " + failed);
        }
        dev.hull.image.SnapshotStore.deleteTree(clone.resolve(".git"));
        deleteQuietly(home);
        Path out = clone;
        if (!dir.isEmpty()) {
            if (!clone.resolve(dir).normalize().startsWith(clone)) {
                throw new BuildException(what + " " + url + ": " + dir + " is not a directory in the repository");
            }
            String inside;
            try { // the repository's links resolved in the repository, never through the host's files
                inside = BuildContext.inRoot(clone, dir, true);
            } catch (IllegalArgumentException e) {
                throw new BuildException(what + " " + url + ": " + dir + ": " + e.getMessage());
            }
            out = inside.isEmpty() ? clone : clone.resolve(inside);
            if (!Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) {
                throw new BuildException(what + " " + url + ": " + dir + " is not a directory in the repository");
            }
        }
        return out;
    }

    /** The service's environment variables git may still see: the way out (proxies), nothing that is an identity. */
    private static final List<String> PASSED = List.of("PATH", "LANG", "LC_ALL", "TZ", "http_proxy", "https_proxy",
            "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "ALL_PROXY", "all_proxy");

    /**
     * git's environment: the service's PATH, locale and proxies only; HOME and XDG_CONFIG_HOME an
     * empty directory, no system or global configuration; ssh as {@link SshForward#sshCommand}
     * says, SSH_AUTH_SOCK only when an agent was forwarded.
     */
    public static java.util.Map<String, String> environment(SshForward ssh, Path home) {
        java.util.Map<String, String> env = new java.util.TreeMap<>();
        for (String k : PASSED) {
            String v = System.getenv(k);
            if (v != null) {
                env.put(k, v);
            }
        }
        env.putIfAbsent("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("HOME", home.toString());
        env.put("XDG_CONFIG_HOME", home.toString());
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        env.put("GIT_TERMINAL_PROMPT", "0");
        env.put("GIT_SSH_COMMAND", ssh.sshCommand());
        if (ssh.agentPath() != null) {
            env.put("SSH_AUTH_SOCK", ssh.agentPath());
        }
        return env;
    }

    private record Git(SshForward ssh, Path home) {
        String run(List<String> args, Path dir) throws IOException {
            return git(args, dir, environment(ssh, home));
        }
    }

    /** Runs git with args (in dir, or here); null when it succeeded, else its last line of error. */
    private static String git(List<String> args, Path dir, java.util.Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("git", "-c", "core.hooksPath=/dev/null",
                "-c", "protocol.allow=never", "-c", "protocol.http.allow=always", "-c", "protocol.https.allow=always",
                "-c", "protocol.git.allow=always", "-c", "protocol.ssh.allow=always"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return "cannot run git (apt-get install git): " + e.getMessage();
        }
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return "no answer in " + TIMEOUT_MINUTES + " minutes";
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (p.exitValue() == 0) {
            return null;
        }
        // the cause: the first line that is not chatter (ssh's or git's own error before "fatal:")
        return out.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("Cloning into")
                        && !l.startsWith("Please make sure") && !l.startsWith("and the repository"))
                .findFirst().orElse("exit " + p.exitValue()).replaceFirst("^(fatal|error|warning): ", "");
    }

    private static void deleteQuietly(Path p) {
        try {
            dev.hull.image.SnapshotStore.deleteTree(p);
        } catch (IOException ignored) {
            // under the build's temp dir, which goes at the end
        }
    }
}
