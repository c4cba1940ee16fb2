package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code hull attach} (and {@code start -ai}, {@code run -it --rm} then the detach keys), warm and cold:
 * a terminal container's pty sized to the caller's window and following it, the keys relayed, the
 * detach keys leaving it running, the exit code of its end; without a terminal its output from now
 * on, its exit code and --sig-proxy. Terminals are ptys a python script holds ({@link #DRIVER}).
 */
public class AttachTest extends AttachStore {
    /**
     * Runs argv on a new pty of 30x100 and works through STEPS (JSON): each step types "send" (first
     * resizing the pty to "resize" if given) again every second until "until" shows in the output since
     * the step began (no "until": until argv ends). Prints the output, then "EXIT status".
     */
    public static final String DRIVER = WarmHullTest.PTY_START + """
            steps = json.loads(os.environ["STEPS"])
            out, deadline, status, i, mark, sent = b"", time.time() + 120, None, 0, 0, 0.0
            while time.time() < deadline and status is None:
                if i < len(steps):
                    st = steps[i]
                    if st.get("until") and st["until"].encode() in out[mark:]:
                        i += 1; mark = len(out); sent = 0.0
                        continue
                    aw = st.get("await")
                    ready = not aw or open(aw["file"], "rb").read().count(aw["text"].encode()) >= aw["count"]
                    if ready and (sent == 0.0 or (not st.get("once") and time.time() - sent > 1)):
                        if sent == 0.0 and "resize" in st: size(m, *st["resize"])
                        os.write(m, st["send"].encode("latin-1")); sent = time.time()
                r, _, _ = select.select([m], [], [], 0.2)
                if r:
                    try: out += os.read(m, 4096)
                    except OSError: pass
                w, ws = os.waitpid(pid, os.WNOHANG)
                if w == pid: status = os.waitstatus_to_exitcode(ws)
            try:
                while select.select([m], [], [], 0.2)[0]: out += os.read(m, 4096)
            except OSError: pass
            sys.stdout.write(out.decode(errors="replace")); sys.stdout.write("\\nEXIT %s\\n" % status)
            sys.stdout.flush()
            """;

    public static Map<String, Object> step(String send, String until) {
        return until == null ? Map.of("send", send) : Map.of("send", send, "until", until);
    }

    /** A step sent once, not again while until has not shown (a typed secret must not reach an echoing terminal). */
    public static Map<String, Object> stepOnce(String send, String until) {
        return until == null ? Map.of("send", send, "once", true) : Map.of("send", send, "until", until, "once", true);
    }

    /** A step sent only once file holds text count times (a log line of what the client did). */
    public static Map<String, Object> stepAfter(String send, Path file, String text, int count) {
        return Map.of("send", send, "await", Map.of("file", file.toString(), "text", text, "count", count));
    }

    /** hull args on a pty the driver holds, through steps: what the terminal showed, then "EXIT status". */
    static String onPty(HullCommand hull, List<Map<String, Object>> steps, String... args) throws Exception {
        ProcessBuilder hb = hull.builder(args);
        return onPty(dir, hb.environment(), steps, hb.command());
    }

    /** argv (with env) on a pty the driver (written in dir) holds, through steps: what it showed, then "EXIT status". */
    public static String onPty(Path dir, Map<String, String> env, List<Map<String, Object>> steps, List<String> argv)
            throws Exception {
        Path script = dir.resolve("driver.py");
        if (!Files.exists(script)) {
            Files.writeString(script, DRIVER);
        }
        List<String> cmd = new ArrayList<>(List.of("python3", script.toString()));
        cmd.addAll(argv);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("STEPS", new ObjectMapper().writeValueAsString(steps));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(150, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    static final String READER = "while read x; do echo got-$x; stty size; case $x in quit) exit 3;; esac; done";

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void attachJoinsTheTerminalFollowsTheWindowAndDetaches(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "attach-tty-" + warm;
        hull.ok("run", "-dit", "--name", name, "--network", "none", "busybox", "sh", "-c", READER);
        // the pty was made 24x80 (run -d has no terminal): the attach gives it the caller's size, then
        // follows its resize; the detach keys leave it running
        String out = onPty(hull, List.of(step("hello\n", "30 100"),
                Map.of("resize", List.of(40, 120), "send", "again\n", "until", "40 120"),
                step("\u0010\u0011", null)), "attach", name);
        assertThat(out).as("the keys reached the container").contains("got-hello");
        assertThat(out).as("the pty took the caller's size").contains("30 100");
        assertThat(out).as("and followed its resize").contains("40 120");
        assertThat(out).as("ctrl-p ctrl-q: hull returns 0").endsWith("EXIT 0\n");
        assertThat(state(hull, name)).as("the container runs on").isEqualTo("running");
        // attached again: its end is the attach's exit code; other detach keys pass through first
        out = onPty(hull, List.of(step("\u0018x\n", "got-\u0018x"), step("quit\n", null)),
                "attach", "--detach-keys", "ctrl-x,y", name);
        assertThat(out).endsWith("EXIT 3\n");
        assertThat(state(hull, name)).isEqualTo("exited");
        HullCommand.Result r = hull.run("attach", name);
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("hull: You cannot attach to a stopped container, start it first\n");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void attachWithoutATerminalShowsTheOutputAndExitsWithTheContainer(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "attach-out-" + warm;
        hull.ok("run", "-d", "--name", name, "--network", "none", "busybox", "sh", "-c",
                "while [ ! -e /tmp/go ]; do echo tick; sleep 0.2; done; echo out; echo err >&2; exit 7");
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        Process p = hull.builder("attach", name).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        awaitContent(out, "tick", err); // attached: the output from now on reaches it
        hull.ok("exec", name, "touch", "/tmp/go");
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(err)).isEqualTo(7);
        assertThat(Files.readString(out)).endsWith("tick\nout\n");
        assertThat(Files.readString(err)).isEqualTo("err\n");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void attachFeedsTheStdinOfAContainerMadeWithI(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "attach-in-" + warm;
        // run -d -i: docker keeps its stdin open (before, it read /dev/null and got EOF at once)
        hull.ok("run", "-d", "-i", "--name", name, "--network", "none", "busybox", "sh", "-c",
                "read a; echo got-$a; read b; echo got-$b >&2; exit 4");
        Path in = dir.resolve(name + ".in");
        Files.writeString(in, "one\ntwo\n");
        HullCommand.Result r = hull.runWithInput(in, "attach", name);
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.out()).isEqualTo("got-one\n");
        assertThat(r.err()).isEqualTo("got-two\n");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void attachProxiesSignalsUnlessToldNot(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "attach-sig-" + warm;
        hull.ok("run", "-d", "--name", name, "--network", "none", "busybox", "sh", "-c",
                "trap 'echo term; exit 9' TERM; while true; do echo tick; sleep 0.2; done");
        // --sig-proxy=false: SIGTERM ends hull only
        Path out = dir.resolve(name + ".out");
        attachThenTerm(hull, out, "attach", "--sig-proxy=false", name);
        assertThat(state(hull, name)).as("the container runs on").isEqualTo("running");
        // by default the container gets it, and hull exits with its status
        Files.delete(out);
        assertThat(attachThenTerm(hull, out, "attach", name)).as(Files.readString(out)).isEqualTo(9);
        assertThat(Files.readString(out)).endsWith("term\n");
    }

    /** hull args with its output in out; once the container's output shows there, SIGTERM to hull: its exit code. */
    private static int attachThenTerm(HullCommand hull, Path out, String... args) throws Exception {
        Process p = hull.builder(args).redirectOutput(out.toFile()).redirectErrorStream(true).start();
        awaitContent(out, "tick", out);
        p.destroy();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void runItRmDetachedIsRemovedWhenItEnds(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "attach-rm-" + warm;
        String out = onPty(hull, List.of(step("hi\n", "got-hi"), step("\u0010\u0011", null)), "run", "-it", "--rm",
                "--name", name, "--network", "none", "busybox", "sh", "-c",
                "read x; echo got-$x; while [ ! -e /tmp/stop ]; do sleep 0.2; done");
        assertThat(out).endsWith("EXIT 0\n");
        assertThat(state(hull, name)).as("detached, it runs on").isEqualTo("running");
        hull.ok("exec", name, "touch", "/tmp/stop");
        String left = "?";
        for (int i = 0; i < 240 && !left.isEmpty(); i++) { // a generous wait for the removal, not a timing
            left = hull.ok("ps", "-a", "-q", "--filter", "name=" + name).out().strip();
            if (!left.isEmpty()) {
                Thread.sleep(500);
            }
        }
        assertThat(left).as("docker's --rm: removed once it ended").isEmpty();
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void startAiTakesTheTerminalAndTheDetachKeys(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "attach-start-" + warm;
        hull.ok("create", "-it", "--name", name, "--network", "none", "busybox", "sh", "-c", READER);
        String out = onPty(hull, List.of(step("hello\n", "30 100"), step("\u0010\u0011", null)), "start", "-ai", name);
        assertThat(out).contains("got-hello").endsWith("EXIT 0\n");
        assertThat(state(hull, name)).isEqualTo("running");
        out = onPty(hull, List.of(step("quit\n", null)), "attach", name);
        assertThat(out).endsWith("EXIT 3\n");
    }

    private static void awaitContent(Path file, String text, Path err) throws Exception {
        for (int i = 0; i < 600; i++) { // generous: a condition, not a timing
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(file + " never showed " + text + "; " + Files.readString(err));
    }
}
