package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.build.BuildException;
import dev.hull.build.GitSource;
import dev.hull.build.SshForward;
import dev.hull.build.testing.GitServer;
import dev.hull.cli.HullCommand;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A build's git fetch over ssh uses only the identity the caller forwards ({@code hull build
 * --ssh}), never the service's: a real sshd of the test's own (127.0.0.1, a free port, a host key
 * and an authorized key made here, nothing of the host's) serves a repository. Without a forward
 * the fetch is refused by the server for want of a key; with the authorized key's file, or an
 * ssh-agent of the test's holding it, it clones; another key is refused. The service's git
 * configuration (HOME's .gitconfig: insteadOf, credential helpers) is not used either.
 */
class GitSshIdentityTest {
    static Path dir;
    static Process sshd;
    static Process agent;
    static String agentSock;
    static String url;
    static Path knownHosts;
    static int port;
    static HullBox box;

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(GitServer.available(), "needs git (./test installs it)");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/sshd")) && Files.isExecutable(Path.of("/usr/bin/ssh-agent")),
                "needs sshd and ssh-agent (./test installs openssh-server)");
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-git-ssh-");
        for (String k : List.of("host", "user", "other")) {
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hull-test-" + k, "-f", dir.resolve(k).toString());
        }
        Files.copy(dir.resolve("user.pub"), dir.resolve("authorized_keys"));
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.writeString(work.resolve("Dockerfile"), "FROM busybox\n");
        Files.writeString(work.resolve("secret"), "only with the key\n");
        GitServer.git(work, "init", "-q");
        GitServer.git(work, "add", "-A");
        GitServer.git(work, "commit", "-q", "-m", "one");
        GitServer.git(dir, "clone", "-q", "--bare", work.toString(), "repo.git");
        Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory
        for (int attempt = 0; attempt < 5 && sshd == null; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path config = dir.resolve("sshd_config");
            Files.writeString(config, String.join("\n", "ListenAddress 127.0.0.1", "Port " + port,
                    "HostKey " + dir.resolve("host"), "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                    "PidFile " + dir.resolve("sshd.pid"), "PermitRootLogin prohibit-password", "AllowUsers root",
                    "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
                    "PubkeyAuthentication yes", "") + "\n");
            Process p = new ProcessBuilder("/usr/sbin/sshd", "-D", "-e", "-f", config.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("sshd.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (p.isAlive() && System.nanoTime() < deadline) {
                try (Socket probe = new Socket("127.0.0.1", port)) {
                    sshd = p;
                    break;
                } catch (IOException notYet) {
                    Thread.sleep(50);
                }
            }
            if (sshd == null) {
                p.destroyForcibly().waitFor();
            }
        }
        assertThat(sshd).as("sshd started: %s", Files.readString(dir.resolve("sshd.log"))).isNotNull();
        knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, "[127.0.0.1]:" + port + " " + Files.readString(dir.resolve("host.pub")));
        url = "ssh://root@127.0.0.1:" + port + dir.resolve("repo.git");
        agentSock = dir.resolve("agent.sock").toString();
        agent = new ProcessBuilder("ssh-agent", "-D", "-a", agentSock).redirectErrorStream(true)
                .redirectOutput(dir.resolve("agent.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(Path.of(agentSock)) && agent.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Path.of(agentSock)).as("ssh-agent listens").exists();
        run(Map.of("SSH_AUTH_SOCK", agentSock), "ssh-add", "-q", dir.resolve("user").toString());
        box = new HullBox("git-ssh");
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (Process p : new Process[] {sshd, agent}) {
            if (p != null) {
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            }
        }
        if (box != null) {
            box.close();
        }
        if (dir != null) {
            dev.hull.image.SnapshotStore.deleteTree(dir);
        }
    }

    static String run(String... cmd) throws Exception {
        return run(Map.of(), cmd);
    }

    static String run(Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", cmd), out).isZero();
        return out;
    }

    /** The fetch of the test's repository with forward (its host key trusted); the clone's secret file. */
    static String fetch(SshForward forward) throws Exception {
        Path tmp = Files.createTempDirectory(dir, "fetch-");
        try (SshForward f = forward.knownHosts(List.of(knownHosts))) {
            return Files.readString(GitSource.fetch(url, tmp, "context", f).resolve("secret"));
        } finally {
            dev.hull.image.SnapshotStore.deleteTree(tmp);
        }
    }

    static SshForward forward(Map<String, String> env, int callerUid, String... specs) throws Exception {
        return SshForward.parse(List.of(specs), env, p -> p, callerUid, Files.createTempDirectory(dir, "keys-"));
    }

    @Test
    void withoutAForwardNoIdentityIsOffered() throws Exception {
        assertThatThrownBy(() -> fetch(SshForward.NONE)).isInstanceOf(BuildException.class)
                .hasMessageContaining("Permission denied (publickey)");
        Map<String, String> env = GitSource.environment(SshForward.NONE, dir.resolve("empty-home"));
        assertThat(env).doesNotContainKeys("SSH_AUTH_SOCK", "SSH_AGENT_PID", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_SSH")
                .containsEntry("HOME", dir.resolve("empty-home").toString())
                .containsEntry("GIT_CONFIG_NOSYSTEM", "1").containsEntry("GIT_CONFIG_GLOBAL", "/dev/null");
        assertThat(env.get("GIT_SSH_COMMAND")).contains("'-F' '/dev/null'", "'IdentityAgent=none'",
                "'IdentitiesOnly=yes'", "'IdentityFile=none'", "'BatchMode=yes'");
    }

    @Test
    void theForwardedKeyFileClonesAnotherKeyDoesNot() throws Exception {
        assertThat(fetch(forward(Map.of(), -1, "default=" + dir.resolve("user")))).isEqualTo("only with the key\n");
        assertThatThrownBy(() -> fetch(forward(Map.of(), -1, "default=" + dir.resolve("other"))))
                .isInstanceOf(BuildException.class).hasMessageContaining("Permission denied (publickey)");
        assertThat(fetch(forward(Map.of(), -1, "default=" + dir.resolve("other") + "," + dir.resolve("user"))))
                .isEqualTo("only with the key\n");
    }

    /**
     * git's ssh command, run by hand with -v and an agent holding the authorized key in its
     * environment: no identity file is even looked at, no key offered, the login refused. The
     * control: ssh as git ran it before (only BatchMode) logs in with that agent.
     */
    @Test
    void gitsSshLooksAtNoIdentityEvenWithAnAgentAround() throws Exception {
        String line = GitSource.environment(SshForward.NONE.knownHosts(List.of(knownHosts)), dir).get("GIT_SSH_COMMAND");
        String target = " -v -p " + port + " root@127.0.0.1 true";
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", line + target).redirectErrorStream(true);
        pb.environment().put("SSH_AUTH_SOCK", agentSock);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isNotZero();
        assertThat(out).contains("Permission denied (publickey)").doesNotContain("identity file", "Will attempt key",
                "Offering public key");
        pb = new ProcessBuilder("sh", "-c", "ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile=" + knownHosts + target)
                .redirectErrorStream(true);
        pb.environment().put("SSH_AUTH_SOCK", agentSock);
        p = pb.start();
        out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("the control logs in with the agent: %s", out).isZero();
        assertThat(out).as("what the check looks for is what ssh -v says").contains("identity file", "Offering public key");
    }

    @Test
    void theForwardedAgentClones() throws Exception {
        assertThat(fetch(forward(Map.of("SSH_AUTH_SOCK", agentSock), -1, "default"))).isEqualTo("only with the key\n");
    }

    @Test
    void aCallerForwardsOnlyWhatIsItsOwn() throws Exception {
        assertThatThrownBy(() -> forward(Map.of(), 65534, "default=" + dir.resolve("user")))
                .isInstanceOf(BuildException.class).hasMessageContaining("belongs to uid 0, not to you");
        assertThatThrownBy(() -> forward(Map.of("SSH_AUTH_SOCK", agentSock), 65534, "default"))
                .isInstanceOf(BuildException.class).hasMessageContaining("belongs to uid 0, not to you");
        Path link = dir.resolve("key-link");
        Files.createSymbolicLink(link, dir.resolve("user"));
        assertThatThrownBy(() -> forward(Map.of(), -1, "default=" + link))
                .isInstanceOf(BuildException.class).hasMessageContaining("a symbolic link");
        assertThatThrownBy(() -> forward(Map.of(), -1, "default")).isInstanceOf(BuildException.class)
                .hasMessageContaining("SSH_AUTH_SOCK is not set");
        assertThatThrownBy(() -> forward(Map.of(), -1, "deploy=" + dir.resolve("user")))
                .isInstanceOf(BuildException.class).hasMessageContaining("only the id default");
    }

    /**
     * The service's HOME has a .gitconfig whose insteadOf sends example.invalid to a real repository
     * (git daemon): the build of the example.invalid URL must not reach it. Cold: the CLI process is
     * the service whose environment git would inherit.
     */
    @Test
    void theServicesGitConfigurationIsNotUsed() throws Exception {
        Path home = Files.createDirectories(dir.resolve("service-home"));
        try (GitServer git = new GitServer(Files.createDirectories(dir.resolve("daemon")))) {
            Files.writeString(home.resolve(".gitconfig"), "[url \"" + git.url + "\"]\n\tinsteadOf = git://example.invalid/x.git\n");
            HullCommand hull = HullCommand.cold(box.dir.resolve("home"), box.dir.resolve("state"), Map.of("HOME", home.toString()));
            HullCommand.Result r = hull.run("build", "-q", "git://example.invalid/x.git#:app");
            assertThat(r.exit()).as("%s", r).isNotZero();
            assertThat(r.err()).contains("example.invalid");
        }
    }

    /** The flag through the CLI: a key file lent to a build (git:// here: unused), its copy gone afterwards; a bad id refused. */
    @Test
    void theCliLendsAKeyForOneBuildOnly() throws Exception {
        try (GitServer git = new GitServer(Files.createDirectories(dir.resolve("daemon-cli")))) {
            box.hull.ok("build", "-q", "--ssh", "default=" + dir.resolve("user"), git.url + "#:app");
        }
        try (var s = Files.list(box.dir.resolve("home/tmp"))) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.contains("ssh-")).toList())
                    .as("the key's copy is removed with the build").isEmpty();
        }
        HullCommand.Result r = box.hull.run("build", "-q", "--ssh", "deploy=" + dir.resolve("user"), dir.toString());
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.err()).contains("only the id default");
        r = box.hull.run("build", "-q", "--ssh", "default=" + dir.resolve("no-such-key"), dir.toString());
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.err()).contains("no-such-key", "No such file");
    }

    @Test
    void theDockerfileCannotAskForTheIdentity() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx-mount"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nRUN --mount=type=ssh,required true\n");
        HullCommand hull = HullCommand.cold(box.dir.resolve("home"), box.dir.resolve("state"),
                Map.of("SSH_AUTH_SOCK", agentSock)); // the caller has an agent but lends none
        HullCommand.Result r = hull.run("build", "-q", ctx.toString());
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.err()).contains("lent no ssh identity", "--ssh default");
    }
}
