package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A build killed with -9 in the middle of a RUN step (no shutdown hook runs) leaves its step
 * container running, its temp directory (with the copies of its secret and its key) and the
 * ssh-agent it started for the step; the next build removes all of that (their owner, the killed
 * process, is gone) and finds the steps before the killed one in its cache.
 */
class BuildKilledTest {
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-buildkill-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    @Test
    void aBuildKilledWithSigkillLeavesNothingButReusableCache() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh-agent")),
                "needs ssh-agent (./test installs openssh-server, which brings openssh-client)");
        String token = "killed-" + UUID.randomUUID().toString().substring(0, 8);
        Path key = fx.dir.resolve("id");
        assertThat(new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString())
                .redirectErrorStream(true).start().waitFor()).isZero();
        Path secret = fx.dir.resolve("secret.txt");
        Files.writeString(secret, "the secret of " + token + "\n");
        Path c = fx.context("kill", "FROM busybox\nRUN echo ready > /r-" + token + "\n"
                + "RUN --mount=type=secret,id=tok --mount=type=ssh,required echo started-" + token
                + " && sleep 7777 && echo " + token + "-end\n");
        Process p = fx.hull.builder("build", "--secret", "id=tok,src=" + secret, "--ssh", "default=" + key,
                c.toString()).redirectErrorStream(true).start();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        InputStream out = p.getInputStream();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!seen.toString(StandardCharsets.UTF_8).contains("started-" + token + "\n") && System.nanoTime() < deadline) {
            int b = out.read();
            if (b < 0) {
                break;
            }
            seen.write(b);
        }
        assertThat(seen.toString(StandardCharsets.UTF_8)).contains("started-" + token + "\n"); // the step's output
        new ProcessBuilder("kill", "-KILL", String.valueOf(p.pid())).start().waitFor();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        out.transferTo(java.io.OutputStream.nullOutputStream());
        // what the killed build left: nobody removed it
        assertThat(fx.hull.run("ps", "-a", "-q").out()).as("the step container").isNotBlank();
        assertThat(BuildSshMountTest.processesMentioning(token + "-end")).as("the step's command").isNotEmpty();
        List<String> agents = agents();
        assertThat(agents).as("the step's ssh-agent").hasSize(1).allMatch(cmd -> cmd.startsWith("ssh-agent -D -a "));
        try (var s = Files.list(fx.home.resolve("tmp"))) {
            assertThat(s.toList()).as("the build's temp dirs (key and secret copies)").isNotEmpty();
        }
        // the next build: the first step from the cache, the debris gone
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nRUN echo ready > /r-" + token + "\n");
        HullCommand.Result r = fx.ok("build", "-t", "killed:next", c.toString());
        assertThat(r.out()).contains("--> CACHED");
        assertThat(fx.ok("run", "--rm", "killed:next", "cat", "/r-" + token).out()).isEqualTo("ready\n");
        fx.nothingLeftBehind();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // a killed process's entry goes when reaped
        List<String> left;
        while (!(left = BuildSshMountTest.processesMentioning(token + "-end")).isEmpty() && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        assertThat(left).as("the step's command").isEmpty();
        String agentCmd = agents.getFirst();
        while (!(left = BuildSshMountTest.processesMentioning(agentCmd.substring(agentCmd.lastIndexOf(' ') + 1)))
                .isEmpty() && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        assertThat(left).as("the step's ssh-agent").isEmpty();
    }

    /** The command lines of the ssh-agents the build's temp dirs name (a note agent-PID each). */
    static List<String> agents() throws Exception {
        List<String> out = new java.util.ArrayList<>();
        try (var notes = Files.find(fx.home.resolve("tmp"), 3, (p, a) -> p.getFileName().toString().startsWith("agent-"))) {
            for (Path n : notes.toList()) {
                Path cmdline = Path.of("/proc", n.getFileName().toString().substring(6), "cmdline");
                if (Files.exists(cmdline)) {
                    out.add(new String(Files.readAllBytes(cmdline)).replace('\0', ' ').strip());
                }
            }
        }
        return out;
    }
}
