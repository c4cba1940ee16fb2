package dev.hull.runtime;

import static dev.hull.runtime.Host.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** create / start / state / kill / delete / list / run through the hull-runtime CLI, as containerd would. */
class LifecycleTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("lifecycle");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    static JsonNode state(String id) throws Exception {
        Host.Result r = Host.cli(root, "state", id);
        assertThat(r.exit()).as("state %s: %s", id, r).isZero();
        return Bundles.JSON.readTree(r.out());
    }

    static void awaitStatus(String id, String status) throws Exception {
        ContainerRuntime rt = new ContainerRuntime(root); // in-process polling; the CLI's answer is checked below
        boolean reached = Host.await(() -> {
            try {
                return rt.state(id).status().equals(status);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(state(id).path("status").asText()).as("status of %s (waited for %s)", id, status)
                .isEqualTo(status);
        assertThat(reached).isTrue();
    }

    /** A container whose init (sh, pid 1) exits 3 on SIGTERM; PID 1 ignores signals it has no handler for. */
    static Bundles.Bundle termable() {
        return Bundles.create(base, "b").script("trap 'exit 3' TERM; echo up; sleep 1000 & wait").write();
    }

    @Test
    void fullLifecycleThroughTheCli() throws Exception {
        Set<String> mounts = Host.mountPoints();
        Bundles.Bundle b = termable();
        String id = Bundles.id("life");

        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        JsonNode s = state(id);
        assertThat(s.path("status").asText()).isEqualTo("created");
        assertThat(s.path("id").asText()).isEqualTo(id);
        assertThat(s.path("bundle").asText()).isEqualTo(b.dir.toString());
        int pid = s.path("pid").asInt();
        assertThat(pid).isPositive();
        assertThat(Host.processAlive(pid)).as("init %d alive", pid).isTrue();
        assertThat(Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup"))).contains("/hull/" + id);
        assertThat(b.out.resolve("stdout")).as("the process must not run before start").doesNotExist();

        Host.Result list = Host.cli(root, "list", "--format", "json");
        ok(list);
        JsonNode arr = Bundles.JSON.readTree(list.out());
        assertThat(arr.isArray()).isTrue();
        assertThat(arr).anySatisfy(n -> {
            assertThat(n.path("id").asText()).isEqualTo(id);
            assertThat(n.path("status").asText()).isEqualTo("created");
            assertThat(n.path("pid").asInt()).isEqualTo(pid);
        });

        ok(Host.cli(root, "start", id));
        awaitStatus(id, "running");
        assertThat(Host.await(() -> Files.exists(b.out.resolve("stdout")))).isTrue();
        assertThat(state(id).path("pid").asInt()).isEqualTo(pid);

        Host.Result again = Host.cli(root, "start", id);
        assertThat(again.exit()).as("%s", again).isNotZero();
        assertThat(again.err()).contains(id).contains("running").contains("not created");

        Host.Result del = Host.cli(root, "delete", id);
        assertThat(del.exit()).as("%s", del).isNotZero();
        assertThat(del.err()).contains("running").contains("--force");
        assertThat(Host.processAlive(pid)).isTrue();

        ok(Host.cli(root, "kill", id, "TERM"));
        awaitStatus(id, "stopped");
        assertThat(state(id).has("pid")).as("a stopped container has no pid").isFalse();

        Host.Result killStopped = Host.cli(root, "kill", id, "KILL");
        assertThat(killStopped.exit()).isNotZero();
        assertThat(killStopped.err()).contains("not running");

        ok(Host.cli(root, "delete", id));
        Host.Result gone = Host.cli(root, "state", id);
        assertThat(gone.exit()).isNotZero();
        assertThat(gone.err()).contains("\"" + id + "\" does not exist");
        Host.assertNoTraces(root, id, mounts, b.dir);
    }

    @Test
    void killBySignalNumberAndByName() throws Exception {
        Bundles.Bundle b = termable();
        String byNumber = Bundles.id("kill-num");
        String byName = Bundles.id("kill-name");
        ok(Host.cli(root, "run", "--detach", "--bundle", b.dir.toString(), byNumber));
        ok(Host.cli(root, "run", "-d", "--bundle", b.dir.toString(), byName));
        awaitStatus(byNumber, "running");
        awaitStatus(byName, "running");

        ok(Host.cli(root, "kill", byNumber, "15"));
        awaitStatus(byNumber, "stopped");
        assertThat(state(byName).path("status").asText()).as("the other container is untouched").isEqualTo("running");

        ok(Host.cli(root, "kill", byName, "SIGKILL"));
        awaitStatus(byName, "stopped");

        Host.Result bad = Host.cli(root, "kill", byName, "NOSUCHSIG");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("NOSUCHSIG");

        ok(Host.cli(root, "delete", byNumber));
        ok(Host.cli(root, "delete", byName));
        assertThat(Host.cli(root, "list", "-q").out()).doesNotContain(byNumber).doesNotContain(byName);
    }

    @Test
    void forceDeleteRemovesRunningAndCreatedContainers() throws Exception {
        Set<String> mounts = Host.mountPoints();
        Bundles.Bundle b = Bundles.create(base, "b").args("sleep", "1000").write();
        String running = Bundles.id("force-run");
        String created = Bundles.id("force-created");
        ok(Host.cli(root, "run", "-d", "-b", b.dir.toString(), running));
        ok(Host.cli(root, "create", "-b", b.dir.toString(), created));
        int runningPid = state(running).path("pid").asInt();
        int createdPid = state(created).path("pid").asInt();

        ok(Host.cli(root, "delete", "--force", running));
        ok(Host.cli(root, "delete", "-f", created));
        assertThat(Host.processAlive(runningPid)).isFalse();
        assertThat(Host.processAlive(createdPid)).isFalse();
        Host.assertNoTraces(root, running, mounts, b.dir);
        Host.assertNoTraces(root, created, mounts, b.dir);

        ok(Host.cli(root, "delete", "--force", "never-existed"));
        Host.Result plain = Host.cli(root, "delete", "never-existed");
        assertThat(plain.exit()).isNotZero();
        assertThat(plain.err()).contains("does not exist");
    }

    @Test
    void foregroundRunExitsWithTheContainersStatus() throws Exception {
        Set<String> mounts = Host.mountPoints();
        Bundles.Bundle b = Bundles.create(base, "b").args("sh", "-c", "echo hello-from-run; exit 7").write();
        String id = Bundles.id("run7");
        Host.Result r = Host.cli(root, "run", "--bundle", b.dir.toString(), id);
        assertThat(r.exit()).as("%s", r).isEqualTo(7);
        assertThat(r.out()).contains("hello-from-run");
        Host.assertNoTraces(root, id, mounts, b.dir);

        // Without a pid namespace, so that sh is not a namespace init (which ignores SIGKILL from inside).
        Bundles.Bundle killed = Bundles.create(base, "b").args("sh", "-c", "kill -KILL $$");
        killed.replaceNamespace("pid", null).namespaces().remove(killed.namespaces().size() - 1);
        killed.write();
        String id2 = Bundles.id("run-killed");
        Host.Result k = Host.cli(root, "run", "-b", killed.dir.toString(), id2);
        assertThat(k.exit()).as("%s", k).isEqualTo(128 + 9);
        Host.assertNoTraces(root, id2, mounts, killed.dir);
    }

    @Test
    void bundleDefaultsToTheCurrentDirectoryAndPidFileIsWritten() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").args("sleep", "1000").write();
        String id = Bundles.id("cwd");
        Path pidFile = b.dir.resolve("init.pid");
        ok(Host.cli(root, b.dir, "create", "--pid-file", pidFile.toString(), id));
        assertThat(Files.readString(pidFile).trim()).isEqualTo(Integer.toString(state(id).path("pid").asInt()));
        Host.Result dup = Host.cli(root, b.dir, "create", id);
        assertThat(dup.exit()).isNotZero();
        assertThat(dup.err()).contains("already exists");
        assertThat(state(id).path("status").asText()).as("the failed duplicate must not hurt the original")
                .isEqualTo("created");
        ok(Host.cli(root, "delete", "-f", id));
    }

    @Test
    void signalsBlockedBeforeExecAreQueuedFromCreateOn() throws Exception {
        // `hull run --init` asks for this: a signal sent while the init still waits for `start` (it is
        // PID 1 and has no handlers yet) must stay pending for the process it becomes, not be dropped
        Bundles.Bundle b = Bundles.create(base, "blocked").args("sleep", "100");
        ((com.fasterxml.jackson.databind.node.ObjectNode) b.config.with("annotations"))
                .put(Annotations.EXEC_SIGNALS_BLOCKED, "true");
        b.write();
        String id = Bundles.id("blocked");
        ok(Host.cli(root, "create", "--bundle", b.dir.toString(), id));
        int pid = state(id).path("pid").asInt();
        ok(Host.cli(root, "kill", id, "TERM"));
        ok(Host.cli(root, "start", id));
        assertThat(Host.await(() -> pendingOf(pid) == 1L << (15 - 1))).as("SIGTERM pending in %d", pid)
                .isTrue();
        assertThat(Host.processAlive(pid)).isTrue();
        ok(Host.cli(root, "delete", "-f", id));
    }

    /** The signals pending for the whole process (ShdPnd), as a bit mask. */
    private static long pendingOf(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
                if (line.startsWith("ShdPnd:")) {
                    return Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        } catch (java.io.IOException e) {
            return -1;
        }
        return -1;
    }
}
