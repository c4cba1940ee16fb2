package dev.hull.linux.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** CgroupV1Manager against this host's real v1 (hybrid or legacy) hierarchies. */
class CgroupV1ManagerTest {

    static CgroupLayout layout;
    CgroupV1Manager manager;
    final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(CgroupTestSupport.isRoot(), "cgroup tests need root (running as " + System.getProperty("user.name") + ")");
        layout = CgroupLayout.detect();
        assumeTrue(!layout.v1().isEmpty(), "host has no cgroup v1 hierarchies (mode " + layout.mode()
                + "); v1 manager tests need a LEGACY or HYBRID host");
        manager = new CgroupV1Manager(layout, CgroupTestSupport.uniquePath("v1"));
    }

    @AfterEach
    void tearDown() throws IOException {
        CgroupTestSupport.killQuietly(processes);
        if (manager != null) {
            manager.destroy();
        }
    }

    @AfterAll
    static void noLeaks() throws IOException {
        if (layout == null || layout.v1().isEmpty()) {
            return;
        }
        List<Path> roots = new ArrayList<>(layout.v1().stream().map(CgroupLayout.V1Hierarchy::mountPoint).toList());
        if (layout.unifiedMount() != null) {
            roots.add(layout.unifiedMount());
        }
        assertThat(CgroupTestSupport.leakCheck(roots)).as("leaked test cgroups").isEmpty();
    }

    private Process start(Process p) {
        processes.add(p);
        return p;
    }

    @Test
    void createAddPidsDestroy() throws Exception {
        assertThat(manager.exists()).isFalse();
        manager.create();
        assertThat(manager.paths()).hasSize(layout.v1().size() + (layout.unifiedMount() != null ? 1 : 0))
                .allMatch(Files::isDirectory);
        Process p = start(CgroupTestSupport.sleeper());
        manager.addProcess((int) p.pid());

        List<String> lines = CgroupTestSupport.procCgroup(p.pid());
        for (CgroupLayout.V1Hierarchy h : layout.v1()) {
            Set<String> want = new HashSet<>(h.controllers());
            assertThat(lines).as("/proc/%d/cgroup line for %s", p.pid(), want).anySatisfy(l -> {
                String[] f = l.split(":", 3);
                assertThat(Set.of(f[1].split(","))).isEqualTo(want);
                assertThat(f[2]).isEqualTo(manager.cgroupPath());
            });
        }
        if (layout.unifiedMount() != null) {
            assertThat(lines).contains("0::" + manager.cgroupPath());
        }
        assertThat(manager.pids()).containsExactly((int) p.pid());

        manager.destroy();
        CgroupTestSupport.awaitDead(p);
        assertThat(p.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
        assertThat(manager.paths()).noneMatch(Files::exists);
        assertThat(manager.exists()).isFalse();
        assertThat(manager.pids()).isEmpty();
        manager.destroy(); // idempotent
        assertThat(Path.of("/proc/self/cgroup")).exists(); // and the test JVM survived, obviously
    }

    @Test
    void cpusetIsInitializedFromParent() throws IOException {
        Path cpuset = manager.path("cpuset");
        assumeTrue(cpuset != null, "no cpuset hierarchy on this host");
        manager.create();
        Path mount = layout.v1Hierarchy("cpuset").orElseThrow().mountPoint();
        assertThat(Files.readString(cpuset.resolve("cpuset.cpus")).strip())
                .isNotEmpty().isEqualTo(Files.readString(mount.resolve("cpuset.cpus")).strip());
        assertThat(Files.readString(cpuset.resolve("cpuset.mems")).strip())
                .isNotEmpty().isEqualTo(Files.readString(mount.resolve("cpuset.mems")).strip());
        assertThat(Files.readString(cpuset.getParent().resolve("cpuset.cpus")).strip()).isNotEmpty();
    }

    @Test
    void forkingProcessTreeIsFullyKilled() throws Exception {
        manager.create();
        Process sh = start(new ProcessBuilder("sh", "-c", "read x; sleep 1000 & sleep 1000 & wait").start());
        manager.addProcess((int) sh.pid());
        try (OutputStream in = sh.getOutputStream()) {
            in.write("go\n".getBytes());
        }
        List<Integer> pids = awaitPids(3);
        manager.destroy();
        CgroupTestSupport.awaitDead(sh);
        for (int pid : pids) {
            assertThat(CgroupTestSupport.deadOrZombie(pid)).as("pid %d killed", pid).isTrue();
        }
        assertThat(manager.exists()).isFalse();
    }

    /** Pure v1 (no cgroup2 part, so no cgroup.kill): the freezer + per-pid kill path must do the work. */
    @Test
    void legacyOnlyManagerKillsForkingTreeViaFreezer() throws Exception {
        assumeTrue(layout.v1Hierarchy("freezer").isPresent(), "no freezer hierarchy on this host");
        manager = new CgroupV1Manager(new CgroupLayout(CgroupLayout.Mode.LEGACY, null, layout.v1()),
                CgroupTestSupport.uniquePath("v1legacy"));
        assertThat(manager.paths()).hasSize(layout.v1().size());
        forkingProcessTreeIsFullyKilled();
    }

    /** A child freezer cgroup frozen by the "container" itself must not make destroy() hang. */
    @Test
    void selfFrozenChildCgroupIsThawedAndKilled() throws Exception {
        Path freezer = manager.path("freezer");
        assumeTrue(freezer != null, "no freezer hierarchy on this host");
        manager = new CgroupV1Manager(new CgroupLayout(CgroupLayout.Mode.LEGACY, null, layout.v1()),
                CgroupTestSupport.uniquePath("v1frozen"));
        freezer = manager.path("freezer");
        manager.create();
        Process p = start(CgroupTestSupport.sleeper());
        manager.addProcess((int) p.pid());
        Path child = Files.createDirectory(freezer.resolve("frozen-child"));
        Files.writeString(child.resolve("cgroup.procs"), Long.toString(p.pid()));
        Files.writeString(child.resolve("freezer.state"), "FROZEN");
        long until = System.nanoTime() + 5_000_000_000L;
        while (!Files.readString(child.resolve("freezer.state")).strip().equals("FROZEN") && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(Files.readString(child.resolve("freezer.state")).strip()).isEqualTo("FROZEN");

        manager.destroy();
        CgroupTestSupport.awaitDead(p);
        assertThat(child).doesNotExist();
        assertThat(manager.exists()).isFalse();
    }

    @Test
    void childCgroupsAreRemovedDeepestFirst() throws Exception {
        manager.create();
        Path freezer = manager.path("freezer");
        Path pidsDir = manager.path("pids");
        assumeTrue(pidsDir != null, "no pids hierarchy");
        Path child = Files.createDirectories(pidsDir.resolve("sub/inner"));
        Process a = start(CgroupTestSupport.sleeper());
        Process b = start(CgroupTestSupport.sleeper());
        manager.addProcess((int) a.pid());
        manager.addProcess((int) b.pid());
        Files.writeString(child.resolve("cgroup.procs"), Long.toString(b.pid()));
        assertThat(manager.pids()).containsExactlyInAnyOrder((int) a.pid(), (int) b.pid());
        manager.destroy();
        CgroupTestSupport.awaitDead(a);
        CgroupTestSupport.awaitDead(b);
        assertThat(child).doesNotExist();
        assertThat(manager.paths()).noneMatch(Files::exists);
        if (freezer != null) {
            assertThat(freezer).doesNotExist();
        }
    }

    /**
     * subtree() lists no directory whose link count is 2 (a delete would otherwise stat every control
     * file of every hierarchy): cgroupfs must count child cgroups in it, in every hierarchy, at any depth.
     */
    @Test
    void linkCountsShowChildCgroupsSoLeavesNeedNoListing() throws Exception {
        manager.create();
        for (Path d : manager.paths()) {
            assertThat(CgroupFs.linkCount(d)).as("%s, a leaf", d).isEqualTo(2);
            assertThat(CgroupFs.subtree(d)).containsExactly(d);
            Path inner = Files.createDirectories(d.resolve("sub/inner"));
            assertThat(CgroupFs.linkCount(d)).as("%s, with a child", d).isEqualTo(3);
            assertThat(CgroupFs.linkCount(d.resolve("sub"))).as("%s/sub, with a child", d).isEqualTo(3);
            assertThat(CgroupFs.subtree(d)).containsExactly(d, d.resolve("sub"), inner);
        }
        manager.destroy();
        assertThat(manager.paths()).noneMatch(Files::exists);
        assertThat(CgroupFs.linkCount(manager.paths().get(0))).as("a removed cgroup").isZero();
    }

    @Test
    void createRefusesLeafWithProcesses() throws Exception {
        manager.create();
        Process p = start(CgroupTestSupport.sleeper());
        manager.addProcess((int) p.pid());
        assertThatThrownBy(manager::create).isInstanceOf(IOException.class).hasMessageContaining("already contains processes");
    }

    @Test
    void destroyOfNeverCreatedCgroupIsNoOp() throws IOException {
        manager.destroy();
        assertThat(manager.exists()).isFalse();
    }

    private List<Integer> awaitPids(int n) throws Exception {
        long until = System.nanoTime() + 5_000_000_000L;
        List<Integer> pids;
        while ((pids = manager.pids()).size() < n && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(pids).hasSize(n);
        return pids;
    }
}
