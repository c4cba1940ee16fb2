package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RUN --mount=type=ssh (BuildKit's): the step's SSH_AUTH_SOCK is a socket in its container relaying
 * to the agent {@code hull build --ssh default} lends, or to an agent Hull starts with the key file
 * {@code --ssh default=KEY} lends. The check is real: the host's own ssh-add (copied into the
 * context with its libraries, run through its loader) lists the lent key in the step. The socket,
 * its directory, the agent and the variable leave no trace in a layer, the config or the store; a
 * build lent no identity gets no socket (and an error where the mount is required).
 */
class BuildSshMountTest {
    static BuildFixture fx;
    static Process agent;
    static Path agentSock;
    static Path key;
    static String fingerprint;
    static Path ctx;

    @BeforeAll
    static void setUp() throws Exception {
        for (String tool : List.of("ssh-agent", "ssh-add", "ssh-keygen")) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin", tool)),
                    "needs " + tool + " (./test installs openssh-server, which brings openssh-client)");
        }
        fx = new BuildFixture("hull-buildssh-");
        key = fx.dir.resolve("id");
        run(Map.of(), "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hull-ssh-mount-" + UUID.randomUUID(),
                "-f", key.toString());
        fingerprint = run(Map.of(), "ssh-keygen", "-l", "-f", key + ".pub").strip();
        agentSock = fx.dir.resolve("agent.sock");
        agent = new ProcessBuilder("ssh-agent", "-D", "-a", agentSock.toString()).redirectErrorStream(true)
                .redirectOutput(fx.dir.resolve("agent.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(agentSock) && agent.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(agentSock).as("ssh-agent listens").exists();
        run(Map.of("SSH_AUTH_SOCK", agentSock.toString()), "ssh-add", "-q", key.toString());
        ctx = Files.createDirectories(fx.dir.resolve("ctx"));
        Path tools = Files.createDirectories(ctx.resolve("ssh"));
        // ssh-add and what it links, flat in one directory: the step runs it through the loader
        Matcher m = Pattern.compile("(/\\S+) \\(0x").matcher(run(Map.of(), "ldd", "/usr/bin/ssh-add"));
        String loader = null;
        while (m.find()) {
            Path lib = Path.of(m.group(1));
            Files.copy(lib, tools.resolve(lib.getFileName().toString()));
            if (lib.getFileName().toString().startsWith("ld-linux")) {
                loader = lib.getFileName().toString();
            }
        }
        assertThat(loader).as("ssh-add's loader").isNotNull();
        Files.copy(Path.of("/usr/bin/ssh-add"), tools.resolve("ssh-add"));
        Files.writeString(ctx.resolve("ssh-add.sh"), "#!/bin/sh\nexec /opt/ssh/" + loader
                + " --library-path /opt/ssh /opt/ssh/ssh-add \"$@\"\n");
        tools.toFile().setExecutable(true);
        ctx.resolve("ssh-add.sh").toFile().setExecutable(true, false);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (agent != null) {
            agent.destroy();
            agent.waitFor(30, TimeUnit.SECONDS);
        }
        if (fx != null) {
            fx.close();
        }
    }

    static String run(Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", cmd), out).isZero();
        return out;
    }

    /** hull with this environment (the caller's SSH_AUTH_SOCK) on the fixture's store. */
    static HullCommand hull(Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        all.put("HULL_NO_SERVICE", "1");
        return new HullCommand(fx.home, fx.dir.resolve("state"), all);
    }

    static final String DOCKERFILE = """
            FROM busybox
            COPY ssh/ /opt/ssh/
            COPY ssh-add.sh /usr/local/bin/ssh-add
            RUN --mount=type=ssh echo "$SSH_AUTH_SOCK" > /sock && stat -c '%%a %%u %%F' "$SSH_AUTH_SOCK" > /mode \\
                && ssh-add -l > /keys-%1$s
            RUN --mount=type=ssh,target=/tmp/agent/a.sock,uid=1,gid=2,mode=0660,required \\
                stat -c '%%a %%u %%g' /tmp/agent/a.sock > /mode2 && ssh-add -l > /keys2 && echo "$SSH_AUTH_SOCK" > /sock2
            """;

    void assertLentKeyListedWithoutTrace(String image) throws Exception {
        HullCommand h = hull(Map.of());
        String out = h.run("run", "--rm", image, "cat", "/sock", "/mode", "/keys-" + image.replace(':', '-'), "/mode2",
                "/keys2", "/sock2").out();
        assertThat(out).isEqualTo("/run/buildkit/ssh_agent.0\n600 0 socket\n" + fingerprint + "\n660 1 2\n"
                + fingerprint + "\n/tmp/agent/a.sock\n");
        assertThat(h.run("run", "--rm", image, "sh", "-c", "ls -a /run /tmp; echo \"[$SSH_AUTH_SOCK]\"").out())
                .as("no mount point, socket or variable in the image").doesNotContain("buildkit", "agent")
                .endsWith("[]\n");
        Map<String, byte[]> files = layerFiles(image);
        assertThat(files.keySet()).contains("sock", "mode", "keys2")
                .noneMatch(n -> n.contains("buildkit") || n.contains("ssh_agent") || n.startsWith("tmp/"));
        JsonNode config = fx.config(image);
        assertThat(config.path("config").path("Env").toString()).doesNotContain("SSH_AUTH_SOCK");
        fx.nothingLeftBehind();
        assertThat(processesMentioning(fx.home.toString())).as("no ssh-agent of Hull's left").isEmpty();
    }

    @Test
    void theCallersAgentLentWithSshDefaultListsItsKeyInTheStep() throws Exception {
        Files.writeString(ctx.resolve("Dockerfile"), DOCKERFILE.formatted("ssh-agent-1"));
        HullCommand h = hull(Map.of("SSH_AUTH_SOCK", agentSock.toString()));
        HullCommand.Result r = h.run("build", "-t", "ssh:agent-1", "--ssh", "default", ctx.toString());
        assertThat(r.exit()).as("%s", r).isZero();
        assertLentKeyListedWithoutTrace("ssh:agent-1");
    }

    @Test
    void aKeyFileLentIsServedByAnAgentHullStartsForTheStep() throws Exception {
        Files.writeString(ctx.resolve("Dockerfile"), DOCKERFILE.formatted("ssh-key-1"));
        HullCommand h = hull(Map.of()); // no agent of the caller's at all
        HullCommand.Result r = h.run("build", "-t", "ssh:key-1", "--ssh", "default=" + key, ctx.toString());
        assertThat(r.exit()).as("%s", r).isZero();
        assertLentKeyListedWithoutTrace("ssh:key-1");
    }

    @Test
    void aBuildLentNoIdentityGetsNoAgent() throws Exception {
        Path c = fx.context("ssh-none", """
                FROM busybox
                RUN --mount=type=ssh (test -S "$SSH_AUTH_SOCK" && echo there || echo none) > /agent
                """);
        // the caller has an agent, but does not lend it: the step sees none
        HullCommand h = hull(Map.of("SSH_AUTH_SOCK", agentSock.toString()));
        HullCommand.Result r = h.run("build", "-t", "ssh:none", c.toString());
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(h.run("run", "--rm", "ssh:none", "cat", "/agent").out()).isEqualTo("none\n");
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN --mount=type=ssh,required=true true\n");
        r = h.run("build", c.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("hull: Dockerfile:2: RUN --mount type=ssh: this build was lent no ssh identity");
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN --mount=type=ssh,id=deploy true\n");
        r = h.run("build", "--ssh", "default", c.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("Dockerfile:2: RUN --mount=type=ssh,id=deploy: id=deploy: only the id default");
        fx.nothingLeftBehind();
    }

    static List<String> processesMentioning(String s) throws Exception {
        List<String> out = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    if (cmd.contains(s)) {
                        out.add(p.getFileName() + ": " + cmd);
                    }
                } catch (java.io.IOException gone) {
                    // ended meanwhile
                }
            }
        }
        return out;
    }

    /** Every entry of the layers the build added to busybox's. */
    static Map<String, byte[]> layerFiles(String image) throws Exception {
        return fx.layerFiles(image, false);
    }
}
