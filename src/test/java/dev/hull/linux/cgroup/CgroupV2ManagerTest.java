package dev.hull.linux.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * CgroupV2Manager against a private cgroup2 mount (on a hybrid host this is the same hierarchy as
 * /sys/fs/cgroup/unified; on a pure-v2 host it is the host hierarchy).
 */
class CgroupV2ManagerTest {

    static final List<Path> ROOTS_SEEN = new ArrayList<>();
    Path mount;
    CgroupV2Manager manager;
    final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void mountCgroup2() throws Exception {
        assumeTrue(CgroupTestSupport.isRoot(), "cgroup tests need root (running as " + System.getProperty("user.name") + ")");
        mount = Files.createTempDirectory("hull-cg2-");
        Process m = new ProcessBuilder("mount", "-t", "cgroup2", "none", mount.toString())
                .redirectErrorStream(true).start();
        boolean done = m.waitFor(10, TimeUnit.SECONDS);
        String out = new String(m.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!done || m.exitValue() != 0) {
            Files.deleteIfExists(mount);
            mount = null;
            assumeTrue(false, "cannot mount a private cgroup2 instance (mount -t cgroup2 none <tmp>): "
                    + (done ? "exit " + m.exitValue() + ": " + out : "timed out"));
        }
        ROOTS_SEEN.add(mount);
        manager = new CgroupV2Manager(mount, CgroupTestSupport.uniquePath("v2"));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            CgroupTestSupport.killQuietly(processes);
            if (manager != null) {
                manager.destroy();
            }
        } finally {
            if (mount != null) {
                // Leak check of this mount (the hierarchy survives the umount, so check before).
                List<String> leaks = CgroupTestSupport.leakCheck(List.of(mount));
                Process u = new ProcessBuilder("umount", mount.toString()).redirectErrorStream(true).start();
                assertThat(u.waitFor(10, TimeUnit.SECONDS) && u.exitValue() == 0).as("umount %s", mount).isTrue();
                Files.deleteIfExists(mount);
                assertThat(leaks).as("leaked test cgroups").isEmpty();
            }
        }
    }

    /** The private mounts are gone; check the host's cgroup2 mount (same hierarchy on hybrid/v2 hosts). */
    @AfterAll
    static void noLeaks() throws IOException {
        CgroupLayout layout = CgroupLayout.detect();
        if (layout.unifiedMount() != null) {
            assertThat(CgroupTestSupport.leakCheck(List.of(layout.unifiedMount()))).as("leaked test cgroups").isEmpty();
        }
        for (Path p : ROOTS_SEEN) {
            assertThat(p).as("private mount point removed").doesNotExist();
        }
    }

    private Process start(Process p) {
        processes.add(p);
        return p;
    }

    @Test
    void createAddPidsDestroy() throws Exception {
        assertThat(manager.exists()).isFalse();
        manager.create();
        assertThat(manager.path()).isDirectory();
        assertThat(manager.paths()).containsExactly(manager.path());
        Process p = start(CgroupTestSupport.sleeper());
        manager.addProcess((int) p.pid());
        assertThat(CgroupTestSupport.procCgroup(p.pid())).contains("0::" + manager.cgroupPath());
        assertThat(manager.pids()).containsExactly((int) p.pid());

        manager.destroy();
        CgroupTestSupport.awaitDead(p);
        assertThat(p.exitValue()).isEqualTo(128 + 9);
        assertThat(manager.path()).doesNotExist();
        assertThat(manager.path().getParent()).as("parent is not removed").isDirectory();
        manager.destroy(); // idempotent
        assertThat(manager.exists()).isFalse();
    }

    @Test
    void controllersAreEnabledBestEffortAndLeafKeepsEmptySubtreeControl() throws IOException {
        manager.create();
        Path leaf = manager.path();
        Path parent = leaf.getParent();
        // Whatever the root offers (e.g. only hugetlb on a hybrid host) is enabled in the parent Hull created,
        // so it is available in the leaf; the leaf itself must not enable anything (processes must be able to join).
        String rootAvail = Files.readString(mount.resolve("cgroup.controllers")).strip();
        assertThat(Files.readString(parent.resolve("cgroup.subtree_control")).strip().split("\\s+"))
                .containsExactlyInAnyOrder(rootAvail.isEmpty() ? new String[] {""} : rootAvail.split("\\s+"));
        assertThat(Files.readString(leaf.resolve("cgroup.controllers")).strip()).isEqualTo(
                Files.readString(parent.resolve("cgroup.subtree_control")).strip());
        assertThat(Files.readString(leaf.resolve("cgroup.subtree_control")).strip()).isEmpty();
    }

    @Test
    void nestedChildCgroupsAreRemoved() throws Exception {
        manager.create();
        Path c2 = Files.createDirectories(manager.path().resolve("c1/c2"));
        Path c3 = Files.createDirectories(manager.path().resolve("c3"));
        Process a = start(CgroupTestSupport.sleeper());
        Process b = start(CgroupTestSupport.sleeper());
        manager.addProcess((int) a.pid());
        manager.addProcess((int) b.pid());
        Files.writeString(c2.resolve("cgroup.procs"), Long.toString(b.pid()));
        assertThat(CgroupTestSupport.procCgroup(b.pid())).contains("0::" + manager.cgroupPath() + "/c1/c2");
        assertThat(manager.pids()).containsExactlyInAnyOrder((int) a.pid(), (int) b.pid());

        manager.destroy();
        CgroupTestSupport.awaitDead(a);
        CgroupTestSupport.awaitDead(b);
        assertThat(c2).doesNotExist();
        assertThat(c3).doesNotExist();
        assertThat(manager.path()).doesNotExist();
    }

    @Test
    void forkingProcessIsFullyKilled() throws Exception {
        forkingTreeIsKilled();
    }

    @Test
    void forkingProcessIsFullyKilledWithoutCgroupKill() throws Exception {
        manager.useCgroupKill = false; // the path for kernels < 5.14
        forkingTreeIsKilled();
    }

    private void forkingTreeIsKilled() throws Exception {
        manager.create();
        Process sh = start(new ProcessBuilder("sh", "-c", "read x; sleep 1000 & sleep 1000 & wait").start());
        manager.addProcess((int) sh.pid());
        try (OutputStream in = sh.getOutputStream()) {
            in.write("go\n".getBytes(StandardCharsets.UTF_8)); // fork only after joining the cgroup
        }
        long until = System.nanoTime() + 5_000_000_000L;
        List<Integer> pids;
        while ((pids = manager.pids()).size() < 3 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(pids).hasSize(3).contains((int) sh.pid());

        manager.destroy();
        CgroupTestSupport.awaitDead(sh);
        for (int pid : pids) {
            assertThat(CgroupTestSupport.deadOrZombie(pid)).as("pid %d killed", pid).isTrue();
        }
        assertThat(manager.path()).doesNotExist();
    }

    @Test
    void createRefusesLeafWithProcessesAndAddToMissingCgroupFails() throws Exception {
        Process p = start(CgroupTestSupport.sleeper());
        assertThatThrownBy(() -> manager.addProcess((int) p.pid())).isInstanceOf(IOException.class)
                .hasMessageContaining("does not exist");
        manager.create();
        manager.addProcess((int) p.pid());
        assertThatThrownBy(manager::create).isInstanceOf(IOException.class)
                .hasMessageContaining("already contains processes");
    }

    @Test
    void neverKillsTheCallingProcess() {
        // Exercised on the helper directly: a manager test that really contained the JVM would, on a regression,
        // cgroup.kill the JVM's own cgroup (on a v2 desktop: the developer's session).
        int self = (int) ProcessHandle.current().pid();
        assertThatThrownBy(() -> CgroupFs.kill(List.of(self))).isInstanceOf(IOException.class)
                .hasMessageContaining("calling process");
        assertThat(ProcessHandle.current().isAlive()).isTrue();
    }
}
