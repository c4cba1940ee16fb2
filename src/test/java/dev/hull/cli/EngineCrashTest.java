package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.engine.network.OwnedLeases;
import dev.hull.testing.OwnedMounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of {@code hull run -d} at many points of its work: afterwards {@code hull ps -a} works
 * and tells the truth, the name can be used again, and after {@code hull rm -f} and
 * {@code hull container prune} nothing is left: no container directory, runtime state, cgroup,
 * monitor or container process.
 */
class EngineCrashTest {
    static Path root;
    static HullCommand hull;
    /**
     * What the killed runs' containers sleep: unique to this JVM, so that their processes are told
     * from those of another run of this test on the host (those are none of this one's business).
     */
    static final String NAP = "4321" + ProcessHandle.current().pid();
    /** Every container id this test saw (its leases and mounts are looked for by these and by its home). */
    static final Set<String> ids = new HashSet<>();

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "hull-engine-crash-");
        hull = HullCommand.cold(root.resolve("home"), root.resolve("state"), Map.of()); // kills the hull JVM
        HullCommand.Result r = hull.run("run", "--rm", "busybox", "true"); // makes the image
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    @AfterAll
    static void tearDown() throws Exception {
        hull.run("rm", "--force", "crash");
        dev.hull.image.SnapshotStore.deleteTree(root);
    }

    @Test
    void killedRunsLeaveATruthfulStoreAndNothingAfterCleanup() throws Exception {
        // the checks and the cleanup run in this JVM (the engine API the CLI uses): only the killed runs are processes
        dev.hull.engine.Engine engine = new dev.hull.engine.Engine(root.resolve("home"), root.resolve("state"));
        List<String> outcomes = new ArrayList<>();
        for (int delay : new int[] {100, 250, 400, 550, 700, 900, 1200}) {
            Process p = hull.builder("run", "-d", "--name", "crash", "busybox", "sleep", NAP)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            Thread.sleep(delay);
            boolean killed = p.isAlive();
            p.destroyForcibly().waitFor();
            String status = "none";
            for (dev.hull.engine.ContainerInfo c : engine.containers().list()) {
                ids.add(c.id());
                assertThat(c.name()).isEqualTo("crash");
                dev.hull.engine.Engine.State s = engine.state(c);
                status = s.status();
                if (s.running()) {
                    assertThat(isAlive(s.monitor().pid())).as("ps says running: its init lives").isTrue();
                }
                engine.remove(c.id(), true);
            }
            outcomes.add(delay + "ms:" + (killed ? "killed" : "finished") + ":" + status);
            engine.containers().removeDebris(); // what `hull container prune` removes
            assertNothingLeft();
        }
        assertThat(outcomes).as("some kills hit the run at work").anyMatch(o -> o.contains(":killed:"));
        // the name is free again, and prune through the CLI works
        HullCommand.Result again = hull.run("create", "--name", "crash", "busybox", "true");
        assertThat(again.exit()).as(again.toString()).isZero();
        ids.add(again.out().trim());
        HullCommand.Result prune = hull.run("container", "prune", "--force");
        assertThat(prune.exit()).as(prune.toString()).isZero();
        assertThat(prune.out()).contains(again.out().trim());
        assertNothingLeft();
    }

    private static boolean isAlive(int pid) {
        return pid > 0 && Files.exists(Path.of("/proc", Integer.toString(pid)));
    }

    private static void assertNothingLeft() throws Exception {
        assertThat(list(root.resolve("home/containers"))).as("container dirs").isEmpty();
        assertThat(list(root.resolve("home/names"))).as("names").isEmpty();
        assertThat(list(root.resolve("state"))).as("runtime state").allMatch(n -> n.equals("netns"));
        assertThat(list(root.resolve("state/netns"))).as("network namespaces").isEmpty();
        // leases of this home or of its containers (/run/hull-net is shared with every Hull home on the host)
        var store = new dev.hull.engine.network.NetworkStore(root.resolve("home"));
        store.defaultNetwork();
        assertThat(OwnedLeases.of(store, ids)).as("address and port leases").isEmpty();
        assertThat(OwnedMounts.owned(List.of(root), ids)).as("mounts in %s or naming its containers", root).isEmpty();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    assertThat(cmd).as("process %s", p.getFileName()).doesNotContain("sleep " + NAP + " ");
                    if (Files.readString(p.resolve("comm")).trim().equals("hull-monitor")) {
                        try (Stream<Path> fds = Files.list(p.resolve("fd"))) {
                            for (Path fd : fds.toList()) {
                                assertThat(Files.readSymbolicLink(fd).toString()).as("a monitor of ours")
                                        .doesNotStartWith(root.toString());
                            }
                        }
                    }
                } catch (java.io.IOException e) {
                    // exited meanwhile (NoSuchFileException, or ESRCH while reading it)
                }
            }
        }
        for (String h : new String[] {"memory", "pids", "cpu", "unified"}) {
            Path dir = Path.of("/sys/fs/cgroup", h, "hull");
            for (String c : list(dir)) {
                assertThat(Files.isDirectory(dir.resolve(c)) && hasProcs(dir.resolve(c))).as("busy cgroup %s", c)
                        .isFalse();
            }
        }
    }

    private static boolean hasProcs(Path cg) throws Exception {
        Path procs = cg.resolve("cgroup.procs");
        return Files.exists(procs) && !Files.readString(procs).isBlank()
                && Files.readString(procs).lines().anyMatch(l -> {
                    try {
                        return new String(Files.readAllBytes(Path.of("/proc", l.trim(), "cmdline")))
                                .replace('\0', ' ').contains("sleep " + NAP + " ");
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
    }

    private static List<String> list(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".lock")).toList();
        }
    }
}
