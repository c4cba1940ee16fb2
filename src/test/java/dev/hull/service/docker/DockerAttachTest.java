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
