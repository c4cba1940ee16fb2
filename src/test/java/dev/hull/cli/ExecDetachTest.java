package dev.hull.cli;

import static dev.hull.cli.AttachTest.step;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code hull exec -it} and the detach keys (docker's default ctrl-p ctrl-q, or {@code --detach-keys}), warm
 * and cold: hull returns 0 and the exec'd process runs on, its terminal kept open by the container's monitor
 * (closing it would hang the process up). Terminals are ptys {@link AttachTest#DRIVER} holds.
 */
public class ExecDetachTest extends AttachStore {
    /** A shell that echoes a line, then waits for /tmp/stopN and leaves /tmp/doneN: it ran on after the detach. */
    static String[] shell(String name, String n) {
        return new String[] {"exec", "-it", name, "sh", "-c",
            "read x; echo got-$x; while [ ! -e /tmp/stop" + n + " ]; do echo tick; sleep 0.2; done; touch /tmp/done" + n};
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void theDetachKeysLeaveTheExecRunning(boolean warm) throws Exception {
        HullCommand hull = hull(warm);
        String name = "exec-detach-" + warm;
        hull.ok("run", "-d", "--name", name, "--network", "none", "busybox", "sleep", "100000");
        ProcessBuilder pb = hull.builder(shell(name, "1"));
        String out = AttachTest.onPty(dir, pb.environment(), List.of(step("hi\n", "got-hi"), step("\u0010\u0011", null)),
                pb.command());
        assertThat(out).as(out).contains("got-hi").endsWith("EXIT 0\n");
        ranOn(hull, name, "1");

        // keys of the caller's choosing; the default ones pass through then
        List<String> args = new java.util.ArrayList<>(List.of(shell(name, "2")));
        args.addAll(2, List.of("--detach-keys", "ctrl-x,y"));
        pb = hull.builder(args.toArray(String[]::new));
        out = AttachTest.onPty(dir, pb.environment(), List.of(step("\u0010x\n", "got-\u0010x"), step("\u0018y", null)),
                pb.command());
        assertThat(out).as(out).endsWith("EXIT 0\n");
        ranOn(hull, name, "2");

        HullCommand.Result r = hull.run("exec", "-it", "--detach-keys", "ctrl-1", name, "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: --detach-keys ctrl-1: invalid key");
    }

    /** The detached shell still runs: told to stop, it leaves its mark. */
    static void ranOn(HullCommand hull, String name, String n) throws Exception {
        assertThat(hull.run("exec", name, "test", "-e", "/tmp/done" + n).exit()).as("not ended yet").isEqualTo(1);
        hull.ok("exec", name, "touch", "/tmp/stop" + n);
        int code = 1;
        for (int i = 0; i < 600 && code != 0; i++) { // generous: a condition, not a timing
            code = hull.run("exec", name, "test", "-e", "/tmp/done" + n).exit();
            if (code != 0) {
                Thread.sleep(200);
            }
        }
        assertThat(code).as("the detached exec ran on and finished").isZero();
    }
}
