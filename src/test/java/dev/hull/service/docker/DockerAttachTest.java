package dev.hull.service.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.AttachTest;
import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * docker attach and docker start -ai through the Docker API: the real docker CLI on a pty (a python
 * script holds it, {@link AttachTest#DRIVER}) joins a running container's stdio — its monitor's
 * attach.sock, bridged to the hijacked connection — types, reads, and leaves with the detach keys.
 */
class DockerAttachTest extends ApiServiceTest {
    static final String READER = "while read x; do echo got-$x; case $x in quit) exit 3;; esac; done";

    /** docker args on a pty the driver holds, through steps: what the terminal showed, then "EXIT status". */
    static String onPty(List<Map<String, Object>> steps, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(ApiService.DOCKER.toString()));
        argv.addAll(List.of(args));
        return AttachTest.onPty(tmp, api.env(), steps, argv);
    }

    static Map<String, Object> step(String send, String until) {
        return AttachTest.step(send, until);
    }

    static String state(String name) throws Exception {
        return ApiService.ok(api.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name)).out().strip();
    }

    @Test
    void attachToARunningTerminalTypesAndDetaches() throws Exception {
        String name = "att-tty";
        ApiService.ok(api.docker("run", "-d", "-it", "--name", name, "--network", "none", "busybox", "sh", "-c",
                READER));
        String out = onPty(List.of(step("hello\n", "got-hello"), step("\u0010\u0011", null)), "attach", name);
        assertThat(out).as(out).contains("got-hello");
        assertThat(state(name)).as("detached with ctrl-p ctrl-q, it runs on").isEqualTo("running 0");

        // again (the monitor let the first client go), with keys of the client's choosing
        out = onPty(List.of(step("again\n", "got-again"), step("\u0018", null)), "attach", "--detach-keys",
                "ctrl-x", name);
        assertThat(out).as(out).contains("got-again");
        assertThat(state(name)).isEqualTo("running 0");

        out = onPty(List.of(step("quit\n", null)), "attach", name);
        assertThat(out).as(out).contains("got-quit").endsWith("EXIT 3\n");
        assertThat(state(name)).isEqualTo("exited 3");
        ApiService.ok(api.docker("rm", name));
    }

    /**
     * docker exec -it --detach-keys: the CLI keeps the keys it reads to itself and closes its connection;
     * the exec runs on (as dockerd's does), its terminal held by the container's monitor, and the events
     * say exec_create, exec_start, exec_detach; a plain exec's end is an exec_die with its exit code.
     */
    @Test
    void execItWithDetachKeysLeavesTheExecRunning() throws Exception {
        String name = "exec-detach-api";
        String since = Long.toString(System.currentTimeMillis() / 1000 - 1);
        ApiService.ok(api.docker("run", "-d", "--name", name, "--network", "none", "busybox", "sleep", "100000"));
        try {
            String script = "read x; echo got-$x; while [ ! -e /tmp/stop ]; do echo tick; sleep 0.2; done; touch /tmp/done";
            String out = onPty(List.of(step("hi\n", "got-hi"), step("\u0018", null)), "exec", "-it",
                    "--detach-keys", "ctrl-x", name, "sh", "-c", script);
            // the CLI detaches itself (its own message and exit status)
            assertThat(out).as(out).contains("got-hi", "read escape sequence").containsPattern("EXIT \\d+\n$");
            awaitEvent(since, name, "exec_detach", 1);
            assertThat(api.docker("exec", name, "test", "-e", "/tmp/done").exit()).as("ran on, not hung up").isEqualTo(1);
            assertThat(ApiService.ok(api.docker("exec", name, "sh", "-c", "ps -o args | grep -c '[r]ead x'")).out().strip())
                    .as("the detached shell still runs").isEqualTo("1");
            ApiService.ok(api.docker("exec", name, "touch", "/tmp/stop"));
            int code = 1;
            for (int i = 0; i < 600 && code != 0; i++) { // a condition polled, generously
                code = api.docker("exec", name, "test", "-e", "/tmp/done").exit();
                if (code != 0) {
                    Thread.sleep(200);
                }
            }
            assertThat(code).as("the detached exec ran on and finished").isZero();
            // the default keys (ctrl-p ctrl-q) detach too
            out = onPty(List.of(step("again\n", "got-again"), step("\u0010\u0011", null)), "exec", "-it", name,
                    "sh", "-c", "read x; echo got-$x; sleep 100001");
            assertThat(out).as(out).contains("got-again", "read escape sequence").containsPattern("EXIT \\d+\n$");
            awaitEvent(since, name, "exec_detach", 2);
            assertThat(ApiService.ok(api.docker("exec", name, "sh", "-c", "ps -o args | grep -c '[s]leep 100001$'"))
                    .out().strip()).isEqualTo("1");

            assertThat(api.docker("exec", name, "sh", "-c", "exit 7").exit()).isEqualTo(7);
            String until = Long.toString(System.currentTimeMillis() / 1000 + 1);
            String events = ApiService.ok(api.docker("events", "--since", since, "--until", until, "--filter",
                    "container=" + name, "--format", "{{.Action}}|{{.Actor.Attributes.exitCode}}")).out();
            assertThat(events).as(events).contains("exec_create: sh -c " + script + "|<no value>\n",
                    "exec_start: sh -c " + script + "|<no value>\n", "exec_detach|<no value>\n", "exec_die|7\n");
            assertThat(events.indexOf("exec_create: sh -c exit 7")).as(events)
                    .isLessThan(events.indexOf("exec_start: sh -c exit 7")).isLessThan(events.indexOf("exec_die|7"));
        } finally {
            api.docker("rm", "-f", name);
        }
    }

    /** Waits (generously) until the container's events since then hold count actions starting with action. */
    static void awaitEvent(String since, String name, String action, int count) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (;;) {
            String until = Long.toString(System.currentTimeMillis() / 1000 + 1);
            long n = ApiService.ok(api.docker("events", "--since", since, "--until", until, "--filter",
                    "container=" + name, "--format", "{{.Action}}")).out().lines().filter(l -> l.startsWith(action)).count();
            if (n >= count) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(count + " " + action + " events for " + name + " not seen in 60 s");
            }
            Thread.sleep(200);
        }
    }

    @Test
    void attachToARunningContainerWithoutATerminalFeedsItsStdin() throws Exception {
        String name = "att-pipe";
        ApiService.ok(api.docker("run", "-d", "-i", "--name", name, "--network", "none", "busybox", "sh", "-c",
                READER));
        String out = onPty(List.of(step("one\n", "got-one"), step("quit\n", null)), "attach", name);
        assertThat(out).as(out).contains("got-one", "got-quit").endsWith("EXIT 3\n");
        assertThat(state(name)).isEqualTo("exited 3");
        ApiService.ok(api.docker("rm", name));

    }

    @Test
    void startAiTakesTheTerminalAndTheDetachKeys() throws Exception {
        String name = "att-start";
        ApiService.ok(api.docker("create", "-it", "--name", name, "--network", "none", "busybox", "sh", "-c", READER));
        String out = onPty(List.of(step("hello\n", "got-hello"), step("\u0010\u0011", null)), "start", "-ai", name);
        assertThat(out).as(out).contains("got-hello");
        assertThat(state(name)).as("detached, it runs on").isEqualTo("running 0");
        // a line's echo first: the CLI asks for the container's next exit (wait, condition=next-exit)
        // right after it attaches, and an exit before that request (quit typed at once) is not the
        // next one, for dockerd as for Hull: the CLI would wait on. And quit only once the CLI's
        // start (a no-op on a running container) was served: the CLI passes keys on before it sends
        // that, and a start arriving after the exit would start the container again, in dockerd too
        String id = ApiService.ok(api.docker("inspect", "-f", "{{.Id}}", name)).out().strip();
        out = onPty(List.of(step("again\n", "got-again"), AttachTest.stepAfter("quit\n", api.dir.resolve(
                "service.log"), "/containers/" + id + "/start\n", 2)), "start", "-ai", name);
        assertThat(out).as(out).contains("got-quit").endsWith("EXIT 3\n");
        ApiService.ok(api.docker("rm", name));
    }

    @Test
    void attachWithLogsReplaysTheLogFirst() throws Exception {
        String name = "att-logs";
        ApiService.ok(api.docker("run", "-d", "-i", "--name", name, "--network", "none", "busybox", "sh", "-c",
                "echo before; " + READER));
        for (int i = 0; i < 600 && !api.docker("logs", name).out().contains("before"); i++) {
            Thread.sleep(100); // a generous wait for a condition
        }
        // curl speaks the hijack's request but no stream: logs=1&stream=0 is the log alone, framed
        Result r = api.curl("-s", "-o", tmp.resolve("att.bin").toString(), "-X", "POST",
                "http://d/v1.51/containers/" + name + "/attach?logs=1&stream=0&stdout=1&stderr=1");
        assertThat(r.exit()).as("%s", r).isZero();
        byte[] all = Files.readAllBytes(tmp.resolve("att.bin")); // curl -i: the headers first
        String text = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(text).startsWith("HTTP/1.1 200");
        byte[] b = text.substring(text.indexOf("\r\n\r\n") + 4).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(b).startsWith(1, 0, 0, 0, 0, 0, 0, 7);
        assertThat(new String(b, 8, b.length - 8)).isEqualTo("before\n");
        ApiService.ok(api.docker("rm", "-f", name));
    }
}
