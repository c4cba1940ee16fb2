package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull run's resource flags, end to end: the container reads its own cgroup files (its cgroup
 * namespace shows its own cgroup as the root) and its own rlimits, and the limits are enforced.
 * Paths are cgroup v1's (this host: hybrid, memory/cpu/pids bound to v1).
 */
class RunLimitsTest {
    static Flags f;
    static boolean v1Memory;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("run-limits");
        v1Memory = Files.exists(Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    static final String MEM = "/sys/fs/cgroup/memory/";

    @Test
    void memoryLimitIsSetAndAnAllocationBeyondItIsOomKilled() throws Exception {
        assumeTrue(v1Memory, "cgroup v1 memory controller");
        boolean swapAccounting = Files.exists(Path.of(MEM + "memory.memsw.limit_in_bytes"));
        String out = f.output("--rm", "-m", "32m", "busybox", "sh", "-c", "cat " + MEM + "memory.limit_in_bytes;"
                + " cat " + MEM + "memory.memsw.limit_in_bytes 2>/dev/null || echo none");
        // docker: -m alone allows as much swap again (memory+swap = 2 x memory)
        assertThat(out).isEqualTo("33554432\n" + (swapAccounting ? "67108864" : "none") + "\n");
        // tail keeps the whole "line" of /dev/zero in memory: killed by the OOM killer, 128+9
        Flags.Result r = f.run("--rm", "-m", "32m", "busybox", "tail", "/dev/zero");
        assertThat(r.exit()).as(r.toString()).isEqualTo(137);
        assertThat(catchMessage("--memory", "12zz", "busybox", "true")).contains("--memory 12zz");
    }

    @Test
    void oomKillIsShownByInspect() throws Exception {
        Flags.Result r = f.run("-m", "32m", "busybox", "tail", "/dev/zero");
        assertThat(r.exit()).isEqualTo(137);
        assertThat(dev.hull.engine.ContainerInspector.inspect(f.engine, f.engine.containers().read(f.lastId))
                .path("State").path("OOMKilled").asBoolean()).isTrue();
    }

    @Test
    void memorySwapIsMemoryPlusSwap() throws Exception {
        assumeTrue(Files.exists(Path.of(MEM + "memory.memsw.limit_in_bytes")), "swap accounting");
        assertThat(f.output("--rm", "-m", "32m", "--memory-swap", "96m", "busybox", "cat",
                MEM + "memory.memsw.limit_in_bytes")).isEqualTo("100663296\n");
        // -1: unlimited swap (the kernel's "no limit" value, a multiple of the page size)
        String unlimited = f.output("--rm", "-m", "32m", "--memory-swap", "-1", "busybox", "cat",
                MEM + "memory.memsw.limit_in_bytes").trim();
        assertThat(Long.parseLong(unlimited)).isGreaterThan(1L << 60);
        // equal to -m: no swap at all
        assertThat(f.output("--rm", "-m", "32m", "--memory-swap", "32m", "busybox", "cat",
                MEM + "memory.memsw.limit_in_bytes")).isEqualTo("33554432\n");
        assertThat(catchMessage("-m", "32m", "--memory-swap", "16m", "busybox", "true")).contains("--memory-swap");
        assertThat(catchMessage("--memory-swap", "64m", "busybox", "true")).contains("--memory-swap needs --memory");
    }

    @Test
    void cpusSetTheCfsQuota() throws Exception {
        assertThat(f.output("--rm", "--cpus", "0.5", "busybox", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
                "/sys/fs/cgroup/cpu/cpu.cfs_period_us")).isEqualTo("50000\n100000\n");
        assertThat(f.output("--rm", "--cpus", "1.25", "busybox", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"))
                .isEqualTo("125000\n");
        // no --cpus: no quota
        assertThat(f.output("--rm", "busybox", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")).isEqualTo("-1\n");
        assertThat(catchMessage("--cpus", "-1", "busybox", "true")).contains("--cpus");
    }

    @Test
    void cpuSharesSetTheWeight() throws Exception {
        assertThat(f.output("--rm", "--cpu-shares", "512", "busybox", "cat", "/sys/fs/cgroup/cpu/cpu.shares"))
                .isEqualTo("512\n");
        assertThat(f.output("--rm", "-c", "2048", "busybox", "cat", "/sys/fs/cgroup/cpu/cpu.shares")).isEqualTo("2048\n");
    }

    @Test
    void cpusetCpusIsWhereTheContainerRuns() throws Exception {
        String host = allowedList(Files.readString(Path.of("/proc/self/status")));
        assumeTrue(host.contains("1"), "the host has a CPU 1 (allowed: " + host + ")");
        assertThat(allowedList(f.output("--rm", "--cpuset-cpus", "1", "busybox", "cat", "/proc/self/status")))
                .isEqualTo("1");
        assertThat(allowedList(f.output("--rm", "--cpuset-cpus", "0,1", "busybox", "cat", "/proc/self/status")))
                .isEqualTo("0-1");
        assertThat(allowedList(f.output("--rm", "busybox", "cat", "/proc/self/status"))).isEqualTo(host);
        String online = Files.readString(Path.of("/sys/devices/system/cpu/online")).trim();
        assertThat(catchMessage("--cpuset-cpus", "4096", "busybox", "true")).contains("--cpuset-cpus 4096")
                .contains(online);
        assertThat(catchMessage("--cpuset-cpus", "1-x", "busybox", "true")).contains("--cpuset-cpus 1-x");
    }

    static String allowedList(String status) {
        return status.lines().filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow()
                .substring("Cpus_allowed_list:".length()).trim();
    }

    @Test
    void pidsLimitStopsAForkLoop() throws Exception {
        // 30 background sleeps wanted; the 10-process limit (the shell and $(seq) count too) stops the loop
        Flags.Result r = f.run("--rm", "--pids-limit", "10", "busybox", "sh", "-c",
                "cat /sys/fs/cgroup/pids/pids.max; for i in $(seq 1 30); do sleep 10 & echo started; done; echo all");
        assertThat(r.out()).startsWith("10\n").doesNotContain("all");
        long started = r.out().lines().filter(l -> l.equals("started")).count();
        assertThat(started).isBetween(1L, 9L);
        assertThat(r.err()).contains("can't fork");
        // -1 or 0: no limit
        assertThat(f.output("--rm", "--pids-limit", "-1", "busybox", "cat", "/sys/fs/cgroup/pids/pids.max"))
                .isEqualTo("max\n");
    }

    @Test
    void ulimitSetsSoftAndHard() throws Exception {
        assertThat(f.output("--rm", "--ulimit", "nofile=1024:2048", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"))
                .isEqualTo("1024\n2048\n");
        // one value: soft = hard; names as docker's (nproc, core, ...)
        assertThat(f.output("--rm", "--ulimit", "nofile=512", "--ulimit", "nproc=100:200", "busybox", "sh", "-c",
                "ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu")).isEqualTo("512\n512\n100\n200\n");
        assertThat(catchMessage("--ulimit", "bogus", "busybox", "true")).contains("--ulimit bogus");
        assertThat(catchMessage("--ulimit", "nofile=2048:1024", "busybox", "true")).contains("--ulimit nofile=2048:1024");
        assertThat(catchMessage("--ulimit", "nofile=ten", "busybox", "true")).contains("--ulimit nofile=ten");
    }

    @Test
    void unknownUlimitNameIsAnErrorNamingTheFlag() throws Exception {
        assertThat(catchMessage("--ulimit", "nosuch=1", "busybox", "true")).contains("--ulimit nosuch=1");
    }

    static String catchMessage(String... args) throws Exception {
        try {
            Flags.Result r = f.run(args);
            throw new AssertionError("hull run " + String.join(" ", args) + " did not fail: " + r);
        } catch (dev.hull.runtime.RuntimeError e) {
            return e.getMessage();
        }
    }
}
