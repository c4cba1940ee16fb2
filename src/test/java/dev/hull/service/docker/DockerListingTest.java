package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.service.docker.ApiService.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The service's listing (docker ps, GET /containers/json, warm hull ps) remembers what it parsed
 * and checks it by a stat: what happens outside the service — a cold hull command, a monitor
 * recording an exit, a kill -9 of the container's processes — shows at once, as the store on
 * disk says. Each step lists right after the change (within the kernel's coarse file-clock
 * granularity), twice (the second from memory).
 */
class DockerListingTest extends ApiServiceTest {

    /** A cold hull command: its own JVM, not the service. */
    private static Result cold(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("env", "HULL_NO_SERVICE=1",
                ApiService.HULL_DIR.resolve("bin/hull").toString()));
        cmd.addAll(List.of(args));
        return api.run(null, cmd);
    }

    /** What docker ps -a says of the container: its state word, or "" when not listed. */
    private static String listed(String name) throws Exception {
        String first = listedOnce(name);
        assertThat(listedOnce(name)).as("listed twice in a row").isEqualTo(first);
        return first;
    }

    private static String listedOnce(String name) throws Exception {
        return ok(api.docker("ps", "-a", "--filter", "name=^/" + name + "$", "--format", "{{.State}}")).out().strip();
    }

    /** Waits generously for the listing to say want (a monitor records an exit after the kill). */
    private static void awaitListed(String name, String want) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String now;
        while (!(now = listedOnce(name)).equals(want)) { // (changing meanwhile: once a round)
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " is listed as '" + now + "', never '" + want + "'");
            }
            Thread.sleep(50);
        }
        assertThat(listed(name)).isEqualTo(want); // and it stays so
    }

    @Test
    void listingShowsWhatColdCommandsDid() throws Exception {
        String name = "lst-cold-" + ProcessHandle.current().pid();
        try {
            ok(cold("create", "--name", name, "--network", "none", "busybox", "sleep", "1000"));
            assertThat(listed(name)).isEqualTo("created");
            ok(cold("start", name));
            assertThat(listed(name)).isEqualTo("running");
            ok(cold("pause", name));
            assertThat(listed(name)).isEqualTo("paused");
            ok(cold("unpause", name));
            assertThat(listed(name)).isEqualTo("running");
            ok(cold("stop", "-t", "1", name));
            assertThat(listed(name)).isEqualTo("exited");
            ok(cold("start", name));
            assertThat(listed(name)).isEqualTo("running");
            // the record rewritten within the same clock tick as the listing before it
            ok(cold("rename", name, name + "-b"));
            assertThat(listed(name + "-b")).isEqualTo("running");
            assertThat(listed(name)).isEmpty();
            ok(cold("rename", name + "-b", name));
            assertThat(listed(name)).isEqualTo("running");
            // warm hull ps: the same engine, the same memo
            Result ps = ok(api.run(null, List.of("env", "-u", "HULL_NO_SERVICE",
                    ApiService.HULL_DIR.resolve("bin/hull").toString(), "ps", "-a", "--filter", "name=" + name,
                    "--format", "{{.Names}} {{.State}}")));
            assertThat(ps.out().strip()).isEqualTo(name + " running");
            ok(cold("rm", "-f", name));
            assertThat(listed(name)).isEmpty();
        } finally {
            cold("rm", "-f", name);
            cold("rm", "-f", name + "-b");
        }
    }

    @Test
    void listingShowsProcessesKilledOutsideTheService() throws Exception {
        String name = "lst-kill-" + ProcessHandle.current().pid();
        try {
            ok(api.docker("run", "-d", "--name", name, "--network", "none", "busybox", "sleep", "1000"));
            assertThat(listed(name)).isEqualTo("running");
            // the container's init killed: its monitor records the exit
            long pid = Long.parseLong(ok(api.docker("inspect", "-f", "{{.State.Pid}}", name)).out().strip());
            ok(api.run(null, List.of("kill", "-9", Long.toString(pid))));
            awaitListed(name, "exited");
            assertThat(ok(api.docker("ps", "-a", "--filter", "name=^/" + name + "$", "--format", "{{.Status}}"))
                    .out()).startsWith("Exited (137)");

            // monitor and init both killed: nothing records it; the listing sees the processes are gone
            ok(api.docker("start", name));
            assertThat(listed(name)).isEqualTo("running");
            long init = Long.parseLong(ok(api.docker("inspect", "-f", "{{.State.Pid}}", name)).out().strip());
            long monitor = Long.parseLong(ok(cold("inspect", "-f", "{{.State.MonitorPid}}", name)).out().strip());
            assertThat(monitor).isPositive().isNotEqualTo(init);
            ok(api.run(null, List.of("kill", "-9", Long.toString(monitor))));
            ProcessHandle.of(monitor).ifPresent(h -> h.onExit().join());
            assertThat(listed(name)).as("the init outlives its monitor").isEqualTo("running");
            ok(api.run(null, List.of("kill", "-9", Long.toString(init))));
            awaitListed(name, "exited");
            ok(api.docker("rm", name));
            assertThat(listed(name)).isEmpty();
        } finally {
            api.docker("rm", "-f", name);
        }
    }
}
