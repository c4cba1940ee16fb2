package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull build's --progress tty (and auto on a terminal): under script(1), a real pseudo-terminal,
 * the view is redrawn in place (the header with steps done, each step with its stage and time,
 * the running RUN's last output lines, a failed step's output kept under ERROR); without a
 * terminal the same flags give plain lines, without escape sequences.
 */
class BuildProgressTtyTest {
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-buildtty-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    /** hull args run by script(1) in a pseudo-terminal: its exit code and everything the terminal got. */
    private static HullCommand.Result underScript(String... args) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")),
                "script(1) is not installed (bsdutils): no pseudo-terminal to test the tty view in");
        ProcessBuilder pb = fx.hull.builder(args);
        String line = pb.command().stream().map(a -> "'" + a.replace("'", "'\\''") + "'")
                .collect(Collectors.joining(" "));
        pb.command(List.of("/usr/bin/script", "-qefc", line, "/dev/null"));
        Path out = Files.createTempFile(fx.dir, "script-", ".out");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("hull " + String.join(" ", args) + " under script did not finish in 300 s");
        }
        return new HullCommand.Result(p.exitValue(), Files.readString(out).replace("\r\n", "\n"), "");
    }

    @Test
    void aTerminalGetsTheRedrawnView() throws Exception {
        Path c = fx.context("view", """
                FROM busybox AS build
                RUN for i in 1 2 3 4 5 6 7 8 9; do echo "output line $i"; done
                FROM busybox
                COPY --from=build /etc/passwd /copied
                RUN echo final step
                """);
        HullCommand.Result r = underScript("build", "-t", "tty:1", c.toString());
        assertThat(r.exit()).as(r.out()).isZero();
        String t = r.out();
        assertThat(t).as(t).contains("[+] Building ").contains("(0/5)").contains("(5/5) FINISHED\u001b[K")
                .contains("\u001b[K", "\u001b[J")
                .containsPattern(" => \\[build 1/5\\] FROM busybox AS build +[0-9]+\\.[0-9]s")
                .containsPattern(" => \\[build 2/5\\] RUN for i in .* +[0-9]+\\.[0-9]s")
                .containsPattern(" => \\[stage-1 4/5\\] COPY --from=build /etc/passwd /copied +[0-9]+\\.[0-9]s")
                .contains(" => => # output line 9", " => => # final step")
                .contains("Successfully built ", "Successfully tagged tty:1")
                .doesNotContain("STEP 1/5", "--> ");
        assertThat(t).as("the running step shows its last 6 lines at most")
                .doesNotContainPattern("=> => # output line 1\u001b\\[K\n(?: => => # output line [0-9]\u001b\\[K\n){6}");

        r = underScript("build", "--progress", "tty", "-t", "tty:1", c.toString());
        assertThat(r.out()).as(r.out()).containsPattern(" => CACHED \\[build 2/5\\] RUN for i in")
                .containsPattern(" => CACHED \\[stage-1 5/5\\] RUN echo final step").contains("(5/5) FINISHED");

        r = underScript("build", "--progress", "plain", "-t", "tty:1", c.toString());
        assertThat(r.out()).as("--progress plain on a terminal: lines").contains("STEP 2/5: RUN for i in")
                .contains("--> CACHED ").doesNotContain("[+] Building", "\u001b[");
        fx.nothingLeftBehind();
    }

    @Test
    void aFailedStepKeepsItsOutput() throws Exception {
        Path c = fx.context("fail", "FROM busybox\nRUN echo first; echo second >&2; exit 3\n");
        HullCommand.Result r = underScript("build", c.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).as(r.out()).containsPattern(" => ERROR \\[2/2\\] RUN echo first; echo second >&2; exit 3 +[0-9.]+s")
                .contains("------\u001b[K\n > [2/2] RUN echo first; echo second >&2; exit 3:\u001b[K\n first\u001b[K\n"
                        + " second\u001b[K\n------")
                .contains("(1/2) FAILED")
                .contains("hull: Dockerfile:2: RUN failed (step 2/2): the command '/bin/sh -c echo first; echo second >&2;"
                        + " exit 3' returned a non-zero code: 3");
        fx.nothingLeftBehind();
    }

    @Test
    void withoutATerminalPlainLines() throws Exception {
        Path c = fx.context("plain", "FROM busybox\nRUN echo hello from run\n");
        for (String progress : List.of("tty", "auto")) {
            HullCommand.Result r = fx.ok("build", "--progress", progress, "--no-cache", c.toString());
            assertThat(r.out()).as(progress).contains("STEP 1/2: FROM busybox", "STEP 2/2: RUN echo hello from run",
                    "hello from run\n", "Successfully built ").doesNotContain("\u001b");
            assertThat(r.err()).as(progress).doesNotContain("\u001b", "[+] Building");
        }
        HullCommand.Result r = fx.hull.run("build", "--progress", "fancy", c.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("hull: --progress fancy: use auto, plain, tty or quiet");
    }
}
