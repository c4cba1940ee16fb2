package dev.hull.cli;

import static dev.hull.cli.AttachTest.step;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several clients attached with stdin at once, as docker allows: every one's keys reach the container,
 * every one gets its output and its end, warm and cold, with and without a terminal, and beside the
 * client the container was started with. (The container's monitor served one at a time before: a second
 * waited for the first to leave.) Terminals are ptys {@link AttachTest#DRIVER} holds.
 */
public class MultiAttachTest extends AttachStore {
    static final String LOOP = "while read x; do echo got-$x; case $x in quit) exit 3;; esac; done; echo eof; exit 6";

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void twoTerminalsTypeIntoOneContainer(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "multi-tty-" + warm;
        hull.ok("run", "-dit", "--name", name, "--network", "none", "busybox", "sh", "-c", LOOP);
        // A types ping until it sees what only B types; B first waits to see A's ping (it is attached
        // then), types its line, and stays until the end A's quit makes
        CompletableFuture<String> a = CompletableFuture.supplyAsync(() -> pty(hull, List.of(
                step("ping\n", "got-second"), step("quit\n", null)), "attach", name));
        String b = pty(hull, List.of(step("", "got-ping"), step("second\n", "got-second"), step("", null)),
                "attach", name);
        String aOut = a.get(300, TimeUnit.SECONDS);
        assertThat(aOut).as("A saw B's keys echoed: " + aOut).contains("got-second").endsWith("EXIT 3\n");
        assertThat(b).as("B got the output and the end of A's quit: " + b).contains("got-quit").endsWith("EXIT 3\n");
        assertThat(state(hull, name)).isEqualTo("exited");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void twoPipesFeedOneContainerWithoutATerminal(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "multi-pipe-" + warm;
        hull.ok("run", "-d", "-i", "--name", name, "--network", "none", "busybox", "sh", "-c", LOOP);
        Client a = new Client(hull, name + "-a", "attach", name);
        a.type("one\n");
        a.await("got-one");
        Client b = new Client(hull, name + "-b", "attach", name);
        b.type("two\n"); // waits in B's pipe until the monitor takes B
        b.await("got-two");
        a.await("got-two");
        a.type("quit\n");
        assertThat(a.exit()).as(a.toString()).isEqualTo(3);
        assertThat(b.exit()).as(b.toString()).isEqualTo(3);
        assertThat(b.out()).isEqualTo("got-two\ngot-quit\n");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void anAttachTypesBesideTheStartingClientWhoseStdinEndClosesTheContainers(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "multi-owner-" + warm;
        Client owner = new Client(hull, name + "-run", "run", "-i", "--name", name, "--network", "none",
                "busybox", "sh", "-c", LOOP);
        owner.type("one\n");
        owner.await("got-one");
        Client b = new Client(hull, name + "-b", "attach", name);
        b.type("two\n");
        b.await("got-two");
        owner.await("got-two");
        // docker run -i's StdinOnce: the starting client's stdin ends, so does the container's
        owner.closeStdin();
        assertThat(owner.exit()).as(owner.toString()).isEqualTo(6);
        assertThat(owner.out()).isEqualTo("got-one\ngot-two\neof\n");
        assertThat(b.exit()).as(b.toString()).isEqualTo(6);
        assertThat(b.out()).isEqualTo("got-two\neof\n");
        hull.ok("rm", name);
    }

    private static String pty(HullCommand hull, List<Map<String, Object>> steps, String... args) {
        try {
            ProcessBuilder hb = hull.builder(args);
            return AttachTest.onPty(dir, hb.environment(), steps, hb.command());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A command with its stdin a pipe the test writes, its output in files (also for the Docker API's test). */
    public static final class Client {
        final Process p;
        final OutputStream in;
        final Path out;
        final Path err;

        Client(HullCommand hull, String tag, String... args) throws Exception {
            this(hull.builder(args), dir, tag);
        }

        public Client(ProcessBuilder pb, Path dir, String tag) throws Exception {
            out = dir.resolve(tag + ".out");
            err = dir.resolve(tag + ".err");
            p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            in = p.getOutputStream();
        }

        public void type(String text) throws Exception {
            in.write(text.getBytes(StandardCharsets.UTF_8));
            in.flush();
        }

        /** SIGKILL: the client vanishes without a word. */
        public void kill() throws Exception {
            p.destroyForcibly().waitFor();
        }

        public void closeStdin() throws Exception {
            in.close();
        }

        public void await(String text) throws Exception {
            for (int i = 0; i < 1200; i++) { // generous: a condition, not a timing
                if (Files.exists(out) && Files.readString(out).contains(text)) {
                    return;
                }
                if (!p.isAlive()) {
                    break;
                }
                Thread.sleep(100);
            }
            throw new AssertionError("never showed " + text + ": " + this);
        }

        public int exit() throws Exception {
            assertThat(p.waitFor(300, TimeUnit.SECONDS)).as(toString()).isTrue();
            return p.exitValue();
        }

        public String out() throws Exception {
            return Files.readString(out);
        }

        @Override
        public String toString() {
            try {
                return "out: " + Files.readString(out) + "\nerr: " + Files.readString(err);
            } catch (Exception e) {
                return e.toString();
            }
        }
    }
}
