package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupResources;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.ResourcesSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stats and update code paths on both cgroup file layouts. This host is a v1 hybrid whose cgroup2
 * hierarchy has no memory, cpu, io or pids controller (they are bound to v1), so a private cgroup2
 * mount cannot show them: the v2 (and v1) files are laid out here as the kernel names and formats
 * them, and the real reading and writing code runs against them. The real-kernel side is in
 * dev.hull.cli.ContainerStatsTest.
 */
class ContainerStatsLayoutTest {
    static final long HOST_MEMORY = 16L << 30;

    @TempDir
    Path root;

    /** A cgroup v2 leaf /hull/x under root with the given files (and every controller enabled). */
    CgroupResources v2(Map<String, String> files) throws Exception {
        Path leaf = Files.createDirectories(root.resolve("hull/x"));
        Files.writeString(leaf.resolve("cgroup.controllers"), "cpuset cpu io memory hugetlb pids\n");
        for (var e : files.entrySet()) {
            Files.writeString(leaf.resolve(e.getKey()), e.getValue());
        }
        return new CgroupResources(new CgroupLayout(CgroupLayout.Mode.V2, root, List.of()), "/hull/x");
    }

    static final Map<String, String> V2_FILES = Map.of(
            "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\nnr_throttled 0\n"
                    + "throttled_usec 0\n",
            "memory.current", "10485760\n",
            "memory.max", "67108864\n",
            "memory.stat", "anon 4194304\nfile 6291456\ninactive_anon 0\nactive_anon 4194304\ninactive_file 2097152\n"
                    + "active_file 4194304\n",
            "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
            "pids.current", "4\n",
            "pids.max", "50\n",
            "io.stat", "8:0 rbytes=1048576 wbytes=2097152 rios=10 wios=20 dbytes=0 dios=0\n"
                    + "8:16 rbytes=1000 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");

    @Test
    void readsTheCgroupV2Files() throws Exception {
        ContainerStats.Sample s = ContainerStats.read(v2(V2_FILES), 1, true, HOST_MEMORY);
        assertThat(s.cpuNanos()).isEqualTo(2_500_000_000L);
        assertThat(s.memUsage()).as("usage less inactive_file").isEqualTo(10485760 - 2097152);
        assertThat(s.memLimit()).isEqualTo(64L << 20);
        assertThat(s.blkRead()).isEqualTo(1048576 + 1000);
        assertThat(s.blkWrite()).isEqualTo(2097152);
        assertThat(s.pids()).isEqualTo(4);
        assertThat(s.netRx()).as("host network: none of its own").isNull();
    }

    @Test
    void withoutAMemoryLimitTheHostMemoryIsTheLimit() throws Exception {
        Map<String, String> files = new java.util.HashMap<>(V2_FILES);
        files.put("memory.max", "max\n");
        ContainerStats.Sample s = ContainerStats.read(v2(files), 1, true, HOST_MEMORY);
        assertThat(s.memLimit()).isEqualTo(HOST_MEMORY);
    }

    @Test
    void readsTheCgroupV1Files() throws Exception {
        Path cpu = Files.createDirectories(root.resolve("cpu,cpuacct/hull/x"));
        Files.writeString(cpu.resolve("cpuacct.usage"), "7000000000\n");
        Files.writeString(cpu.resolve("cpuacct.usage_percpu"), "3000000000 4000000000\n");
        Files.writeString(cpu.resolve("cpuacct.stat"), "user 600\nsystem 100\n");
        Path mem = Files.createDirectories(root.resolve("memory/hull/x"));
        Files.writeString(mem.resolve("memory.usage_in_bytes"), "5242880\n");
        Files.writeString(mem.resolve("memory.limit_in_bytes"), "9223372036854771712\n"); // none
        Files.writeString(mem.resolve("memory.stat"), "cache 1048576\nrss 4194304\ninactive_file 524288\n"
                + "total_cache 1048576\ntotal_rss 4194304\ntotal_inactive_file 1048576\n");
        Path pids = Files.createDirectories(root.resolve("pids/hull/x"));
        Files.writeString(pids.resolve("pids.current"), "2\n");
        Files.writeString(pids.resolve("pids.max"), "max\n");
        Path blkio = Files.createDirectories(root.resolve("blkio/hull/x"));
        Files.writeString(blkio.resolve("blkio.throttle.io_service_bytes_recursive"), "8:0 Read 100\n8:0 Write 200\n"
                + "8:0 Sync 300\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 300\nTotal 300\n");
        CgroupLayout layout = new CgroupLayout(CgroupLayout.Mode.LEGACY, null, List.of(
                new CgroupLayout.V1Hierarchy(root.resolve("cpu,cpuacct"), List.of("cpu", "cpuacct")),
                new CgroupLayout.V1Hierarchy(root.resolve("memory"), List.of("memory")),
                new CgroupLayout.V1Hierarchy(root.resolve("pids"), List.of("pids")),
                new CgroupLayout.V1Hierarchy(root.resolve("blkio"), List.of("blkio"))));
        ContainerStats.Sample s = ContainerStats.read(new CgroupResources(layout, "/hull/x"), 1, true, HOST_MEMORY);
        assertThat(s.cpuNanos()).isEqualTo(7_000_000_000L);
        assertThat(s.memUsage()).as("usage less total_inactive_file").isEqualTo(5242880 - 1048576);
        assertThat(s.memLimit()).as("no limit: the host's memory").isEqualTo(HOST_MEMORY);
        assertThat(s.blkRead()).isEqualTo(100);
        assertThat(s.blkWrite()).isEqualTo(200);
        assertThat(s.pids()).isEqualTo(2);
    }

    @Test
    void cpuPercentIsCpuTimeOverWallTime() {
        ContainerInfo info = new ContainerInfo("a".repeat(64), "web", "busybox", "b".repeat(64), null, List.of(),
                List.of(), "overlay", List.of("sh"), new CreateOptions(), "SIGTERM");
        var before = new ContainerStats.Sample(1_000_000_000L, 4_000_000_000L, 0, 1, 0, 0, 1, 0L, 0L);
        var after = new ContainerStats.Sample(3_000_000_000L, 7_000_000_000L, 512L << 20, 1L << 30, 1234, 0, 2,
                2000L, 999L);
        ContainerStats.Usage u = ContainerStats.usage(info, before, after);
        assertThat(u.cpuPercent()).as("1.5 CPUs over 2 s").isEqualTo(150.0);
        assertThat(u.memPercent()).isEqualTo(50.0);
        assertThat(ContainerStats.row(u)).containsExactly("aaaaaaaaaaaa", "web", "150.00%", "512MiB / 1GiB", "50.00%",
                "2kB / 999B", "1.23kB / 0B", "2");
        ObjectNode j = ContainerStats.json(u, "web");
        assertThat(j.path("CPUPerc").asText()).isEqualTo("150.00%");
        assertThat(j.path("Hull").path("CPUPercent").asDouble()).isEqualTo(150.0);
        // no earlier sample: 0%, not a guess
        assertThat(ContainerStats.usage(info, null, after).cpuPercent()).isZero();
        // not running: zeros
        assertThat(ContainerStats.row(ContainerStats.usage(info, before, null))).containsExactly("aaaaaaaaaaaa", "web",
                "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0");
    }

    @Test
    void sizesAreDockers() {
        assertThat(ContainerStats.binarySize(0)).isEqualTo("0B");
        assertThat(ContainerStats.binarySize(64L << 20)).isEqualTo("64MiB");
        assertThat(ContainerStats.binarySize(1572864)).isEqualTo("1.5MiB");
        assertThat(ContainerStats.binarySize(25276063744L)).isEqualTo("23.54GiB");
        assertThat(ContainerStats.binarySize(741376)).isEqualTo("724KiB");
        assertThat(ContainerStats.decimalSize(999)).isEqualTo("999B");
        assertThat(ContainerStats.decimalSize(1_234_567)).isEqualTo("1.23MB");
    }

    /** The files update writes, empty as the kernel's are before a write (writes do not truncate). */
    CgroupResources v2ForUpdate() throws Exception {
        return v2(Map.of("memory.max", "", "memory.swap.max", "", "cpu.max", "", "cpu.weight", "", "cpuset.cpus", "",
                "pids.max", ""));
    }

    static String file(Path root, String name) throws Exception {
        return Files.readString(root.resolve("hull/x").resolve(name));
    }

    @Test
    void updateWritesTheCgroupV2FilesAndKeepsTheSpec() throws Exception {
        CreateOptions o = new CreateOptions();
        o.memory = 64L << 20;
        ObjectNode res = (ObjectNode) ContainerStore.JSON.readTree("{\"memory\":{\"limit\":67108864},\"devices\":[]}");
        ObjectNode live = ContainerStore.JSON.createObjectNode();
        ContainerResources.apply(new ContainerResources.Update(96L << 20, 128L << 20, 0.5, 512L, "0", 30L, null),
                o, res, live);
        v2ForUpdate().apply(ResourcesSpec.parse(live, "linux.resources"), true);
        assertThat(file(root, "memory.max")).isEqualTo(Long.toString(96L << 20));
        assertThat(file(root, "memory.swap.max")).as("swap alone on v2").isEqualTo(Long.toString(32L << 20));
        assertThat(file(root, "cpu.max")).isEqualTo("50000 100000");
        assertThat(file(root, "cpu.weight")).isEqualTo(Long.toString(CgroupResources.sharesToWeight(512)));
        assertThat(file(root, "cpuset.cpus")).isEqualTo("0");
        assertThat(file(root, "pids.max")).isEqualTo("30");
        // what the next start gets (config.json's linux.resources) and what inspect shows
        assertThat(res.toString()).isEqualTo("{\"memory\":{\"limit\":100663296,\"swap\":134217728},\"devices\":[],"
                + "\"cpu\":{\"period\":100000,\"quota\":50000,\"shares\":512,\"cpus\":\"0\"},\"pids\":{\"limit\":30}}");
        assertThat(o.memory).isEqualTo(96L << 20);
        assertThat(o.memorySwap).isEqualTo(128L << 20);
        assertThat(o.cpus).isEqualTo(0.5);
        assertThat(o.cpuShares).isEqualTo(512);
        assertThat(o.cpusetCpus).isEqualTo("0");
        assertThat(o.pidsLimit).isEqualTo(30);
    }

    @Test
    void liftingLimitsWritesMaxOnCgroupV2AndDropsThemFromTheSpec() throws Exception {
        CreateOptions o = new CreateOptions();
        o.cpus = 0.5;
        o.pidsLimit = 30L;
        ObjectNode res = (ObjectNode) ContainerStore.JSON.readTree(
                "{\"cpu\":{\"period\":100000,\"quota\":50000},\"pids\":{\"limit\":30}}");
        ObjectNode live = ContainerStore.JSON.createObjectNode();
        ContainerResources.apply(new ContainerResources.Update(null, null, 0.0, null, null, 0L, null), o, res, live);
        v2ForUpdate().apply(ResourcesSpec.parse(live, "linux.resources"), true);
        assertThat(file(root, "cpu.max")).isEqualTo("max");
        assertThat(file(root, "pids.max")).isEqualTo("max");
        assertThat(file(root, "memory.max")).as("not touched").isEmpty();
        assertThat(res.toString()).isEqualTo("{}");
        assertThat(o.cpus).isZero();
        assertThat(o.pidsLimit).isZero();
    }

    @Test
    void updateRefusesWhatCannotBe() {
        CreateOptions o = new CreateOptions();
        o.memory = 64L << 20;
        o.memorySwap = 128L << 20;
        ObjectNode res = ContainerStore.JSON.createObjectNode();
        ObjectNode live = ContainerStore.JSON.createObjectNode();
        assertThatThrownBy(() -> ContainerResources.apply(new ContainerResources.Update(256L << 20, null, null, null,
                null, null, null), o, res, live)).isInstanceOf(RuntimeError.class)
                .hasMessageContaining("above the container's memory+swap limit").hasMessageContaining("--memory-swap");
        CreateOptions none = new CreateOptions();
        assertThatThrownBy(() -> ContainerResources.apply(new ContainerResources.Update(null, 64L << 20, null, null,
                null, null, null), none, res, live)).isInstanceOf(RuntimeError.class)
                .hasMessageContaining("needs a memory limit");
        assertThatThrownBy(() -> ContainerResources.apply(new ContainerResources.Update(null, null, 0.001, null,
                null, null, null), none, res, live)).isInstanceOf(RuntimeError.class)
                .hasMessageContaining("the smallest is 0.01");
        assertThatThrownBy(() -> ContainerResources.apply(new ContainerResources.Update(null, null, null, null,
                "0-a", null, null), none, res, live)).isInstanceOf(RuntimeError.class)
                .hasMessageContaining("--cpuset-cpus 0-a");
        assertThat(o.memory).as("unchanged after a refusal").isEqualTo(64L << 20);
    }

    @Test
    void topColumnsAreFormattedAsPsDoes() {
        assertThat(ContainerTop.cpuTime(0)).isEqualTo("00:00:00");
        assertThat(ContainerTop.cpuTime(3725)).isEqualTo("01:02:05");
        assertThat(ContainerTop.cpuTime(90061)).isEqualTo("1-01:01:01");
        assertThat(ContainerTop.tty(0)).isEqualTo("?");
        assertThat(ContainerTop.tty((136 << 8) | 3)).isEqualTo("pts/3");
        assertThat(ContainerTop.tty((4 << 8) | 1)).isEqualTo("tty1");
        long now = java.time.Instant.now().getEpochSecond();
        assertThat(ContainerTop.stime(now - 60)).matches("\\d\\d:\\d\\d");
        assertThat(ContainerTop.stime(now - 3 * 86400)).matches("[A-Z][a-z]{2}\\d\\d");
    }

    @Test
    void topOfThisProcessReadsProc() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        ContainerTop.Top top = ContainerTop.fromProc(List.of(self, Integer.MAX_VALUE)); // the second is no process
        assertThat(top.processes()).hasSize(1);
        List<String> row = top.processes().get(0);
        assertThat(row.get(1)).isEqualTo(Integer.toString(self));
        assertThat(row.get(2)).isEqualTo(Long.toString(ProcessHandle.current().parent().map(ProcessHandle::pid)
                .orElse(0L)));
        assertThat(row.get(7)).as("argv joined with spaces").contains("java").doesNotContain("\0");
        assertThat(row.get(0)).isEqualTo("root"); // the tests run as root
    }
}
