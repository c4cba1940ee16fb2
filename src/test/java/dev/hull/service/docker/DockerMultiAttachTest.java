package dev.hull.service.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.cli.AttachTest;
import dev.hull.cli.MultiAttachTest.Client;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Several docker clients attached with stdin to one container through the API at once, as dockerd allows:
 * two {@code docker attach} on terminals, and a {@code docker start -ai} without a terminal beside a
 * {@code docker attach} — every client's keys reach the container, every client gets its output and its end.
 */
class DockerMultiAttachTest extends ApiServiceTest {
    static final String LOOP = "while read x; do echo got-$x; case $x in quit) exit 3;; esac; done; echo eof; exit 6";

    static String pty(List<Map<String, Object>> steps, String... args) {
        List<String> argv = new ArrayList<>(List.of(ApiService.DOCKER.toString()));
        argv.addAll(List.of(args));
        try {
            return AttachTest.onPty(tmp, api.env(), steps, argv);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Client docker(String tag, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(ApiService.DOCKER.toString()));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().putAll(api.env());
        return new Client(pb, tmp, tag);
    }

    static String state(String name) throws Exception {
        return ApiService.ok(api.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name)).out().strip();
    }

    @Test
    void twoTerminalsAttachedAtOnce() throws Exception {
        String name = "multi-tty";
        ApiService.ok(api.docker("run", "-d", "-it", "--name", name, "--network", "none", "busybox", "sh", "-c", LOOP));
        // A types ping until it sees what only B types; B waits to see A's ping (it is attached then)
        CompletableFuture<String> a = CompletableFuture.supplyAsync(() -> pty(List.of(
                AttachTest.step("ping\n", "got-second"), AttachTest.step("quit\n", null)), "attach", name));
        String b = pty(List.of(AttachTest.step("", "got-ping"), AttachTest.step("second\n", "got-second"),
                AttachTest.step("", null)), "attach", name);
        String aOut = a.get(300, TimeUnit.SECONDS);
        assertThat(aOut).as(aOut).contains("got-second").endsWith("EXIT 3\n");
        assertThat(b).as(b).contains("got-quit").endsWith("EXIT 3\n");
        assertThat(state(name)).isEqualTo("exited 3");
        ApiService.ok(api.docker("rm", name));
    }

    @Test
    void startAiWithoutATerminalBesideAnAttach() throws Exception {
        String name = "multi-pipe";
        ApiService.ok(api.docker("create", "-i", "--name", name, "--network", "none", "busybox", "sh", "-c", LOOP));
        Client owner = docker("multi-start", "start", "-ai", name);
        owner.type("one\n");
        owner.await("got-one");
        Client b = docker("multi-attach", "attach", name);
        b.type("two\n");
        b.await("got-two");
        owner.await("got-two");
        // the starting client's stdin ends: the container's does (StdinOnce); both see the end
        owner.closeStdin();
        assertThat(owner.exit()).as(owner.toString()).isEqualTo(6);
        assertThat(owner.out()).isEqualTo("got-one\ngot-two\neof\n");
        assertThat(b.exit()).as(b.toString()).isEqualTo(6);
        assertThat(b.out()).isEqualTo("got-two\neof\n");
        assertThat(state(name)).isEqualTo("exited 6");
        ApiService.ok(api.docker("rm", name));
    }

    @Test
    void aStartAiClientThatVanishesIsLetGo() throws Exception {
        String name = "multi-leave";
        // a client without a terminal that vanishes is noticed when its connection takes the next output
        // (dockerd's too: its stdin's end alone is docker's half-close); the wait for the container's end
        // then lets the monitor drop it (before, the monitor held the session until the container ended)
        ApiService.ok(api.docker("create", "-i", "--name", name, "--network", "none", "busybox", "sh", "-c",
                "echo up; while sleep 1; do echo tick; done"));
        Client owner = docker("leave-start", "start", "-ai", name);
        owner.await("up");
        String id = ApiService.ok(api.docker("inspect", "-f", "{{.Id}}", name)).out().strip();
        Path status = Path.of(api.env().get("HULL_HOME"), "containers", id, "status.json");
        int monitor = new ObjectMapper().readTree(status.toFile()).get("monitorPid").asInt();
        Path conn = Path.of("/proc/" + monitor + "/fd/3"); // the monitor's end of the starting client's session
        assertThat(Files.readSymbolicLink(conn).toString()).startsWith("socket:");
        owner.kill(); // SIGKILL: no signal is proxied, the connection just closes
        String now = "";
        for (int i = 0; i < 1200 && !now.equals("/dev/null"); i++) { // generous: a condition, not a timing
            now = Files.readSymbolicLink(conn).toString();
            if (!now.equals("/dev/null")) {
                Thread.sleep(100);
            }
        }
        assertThat(now).as("the monitor let the vanished client's session go").isEqualTo("/dev/null");
        assertThat(state(name)).as("the container runs on").isEqualTo("running 0");
        ApiService.ok(api.docker("rm", "-f", name));
    }
}
