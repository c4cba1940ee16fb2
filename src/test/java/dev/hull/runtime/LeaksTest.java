package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Nothing outlives a container: not after delete, not after a failed create, not after a killed CLI. */
class LeaksTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("leaks");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    @Test
    void nothingLeftAfterDelete() throws Exception {
        Set<String> mounts = Host.mountPoints();
        ContainerRuntime rt = new ContainerRuntime(root);
        Bundles.Bundle b = Bundles.create(base, "b").args("sleep", "1000")
                .mount("/mnt/a", "tmpfs", "tmpfs", "size=1m").write();
        String id = Bundles.id("del");
        ContainerRecord rec = rt.create(id, b.dir, null);
        rt.start(id);
        assertThat(Host.processesOf(id)).contains(rec.pid());
        assertThat(Host.cgroupDirs(id)).anySatisfy(d -> assertThat(d).isDirectory());
        rt.kill(id, 9, false);
        assertThat(Host.await(() -> !ContainerRuntime.alive(rec.pid(), rec.startTime()))).isTrue();
        rt.delete(id, false);
        Host.assertNoTraces(root, id, mounts, b.dir);
    }

    @Test
    void killAllReachesEveryProcess() throws Exception {
        ContainerRuntime rt = new ContainerRuntime(root);
        Bundles.Bundle b = Bundles.create(base, "b").args("sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000").write();
        String id = Bundles.id("killall");
        rt.create(id, b.dir, null);
        rt.start(id);
        assertThat(Host.await(() -> Host.processesOf(id).size() >= 3)).as("three processes").isTrue();
        rt.kill(id, 9, true);
        assertThat(Host.await(() -> Host.processesOf(id).isEmpty())).isTrue();
        rt.delete(id, false);
        Host.assertNoTraces(root, id, Host.mountPoints(), b.dir);
    }

    @Test
    void nothingLeftAfterAFailedCreate() throws Exception {
        Set<String> mounts = Host.mountPoints();
        Bundles.Bundle b = Bundles.create(base, "b").args("nope").write();
        String id = Bundles.id("nope");
        Host.Result r = Host.cli(root, "create", "-b", b.dir.toString(), id);
        assertThat(r.exit()).as("%s", r).isEqualTo(1);
        assertThat(r.err()).contains("exec: \"nope\": executable file not found in $PATH").contains(id);
        Host.assertNoTraces(root, id, mounts, b.dir);

        Bundles.Bundle badMount = Bundles.create(base, "b").args("true")
                .mount("/mnt/a", "no-such-fs-type", "x").write();
        String id2 = Bundles.id("badfs");
        Host.Result r2 = Host.cli(root, "run", "-b", badMount.dir.toString(), id2);
        assertThat(r2.exit()).as("%s", r2).isEqualTo(1);
        assertThat(r2.err()).contains("/mnt/a").contains("no-such-fs-type");
        Host.assertNoTraces(root, id2, mounts, badMount.dir);

        Bundles.Bundle badCwd = Bundles.create(base, "b").args("true");
        badCwd.process().put("cwd", "/no/such/dir");
        badCwd.write();
        String id3 = Bundles.id("badcwd");
        Host.Result r3 = Host.cli(root, "create", "-b", badCwd.dir.toString(), id3);
        assertThat(r3.exit()).as("%s", r3).isEqualTo(1);
        assertThat(r3.err()).contains("/no/such/dir");
        Host.assertNoTraces(root, id3, mounts, badCwd.dir);
    }

    @Test
    void nothingLeftAfterAForegroundRun() throws Exception {
        Set<String> mounts = Host.mountPoints();
        ContainerRuntime rt = new ContainerRuntime(root);
        Bundles.Bundle b = Bundles.create(base, "b").args("sh", "-c", "sleep 1000 & exit 0").write();
        String id = Bundles.id("fg");
        assertThat(rt.run(id, b.dir, null, false, null)).isZero();
        Host.assertNoTraces(root, id, mounts, b.dir);
    }

    /**
     * SIGKILL the CLI at different points of create: afterwards the container either does not exist
     * at all (no state, cgroup, process) or is a complete created container that delete removes.
     */
    @Test
    void killingTheCliMidCreateLeavesNothingHalfMade() throws Exception {
        Set<String> mounts = Host.mountPoints();
        Bundles.Bundle b = Bundles.create(base, "b").args("sleep", "1000");
        for (int i = 0; i < 150; i++) {
            b.mount("/mnt/a", "tmpfs", "tmpfs", "size=1m"); // a setup that takes a while
        }
        b.write();
        ContainerRuntime rt = new ContainerRuntime(root);
        int[] delaysMicros = {0, 200, 1000, 3000, 8000, 20000, 60000};
        int complete = 0;
        for (int delay : delaysMicros) {
            String id = Bundles.id("killed");
            Path stateDir = root.resolve(id);
            Process cli = new ProcessBuilder(Host.cliCommand(root, "create", "-b", b.dir.toString(), id))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            assertThat(Host.await(() -> Files.exists(stateDir) || !cli.isAlive())).isTrue();
            TimeUnit.MICROSECONDS.sleep(delay);
            cli.destroyForcibly(); // SIGKILL
            assertThat(cli.waitFor(30, TimeUnit.SECONDS)).isTrue();
            // Wait until it settles: gone, or complete.
            Host.await(() -> !Files.exists(stateDir) || Files.exists(stateDir.resolve(StateStore.STATE_FILE))
                    && Host.cgroupDirs(id).stream().anyMatch(Files::exists) && isCreated(rt, id));
            if (Files.exists(stateDir)) {
                assertThat(stateDir.resolve(StateStore.STATE_FILE))
                        .as("killed after %d us: a state dir is left; it must hold a complete container", delay)
                        .exists();
                assertThat(rt.state(id).status()).as("killed after %d us", delay).isEqualTo("created");
                complete++;
                rt.delete(id, true);
            }
            Host.assertNoTraces(root, id, mounts, b.dir);
        }
        assertThat(complete).as("some kills land after the commit").isLessThanOrEqualTo(delaysMicros.length);
    }

    private static boolean isCreated(ContainerRuntime rt, String id) {
        try {
            return rt.state(id).status().equals("created");
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void listIgnoresNothingAndShowsOnlyRealContainers() throws Exception {
        ContainerRuntime rt = new ContainerRuntime(root);
        List<String> before = rt.list().stream().map(s -> s.id()).toList();
        assertThat(before).as("no container left over by the other tests of this class").isEmpty();
    }
}
