package dev.hull.linux.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.hull.linux.cgroup.Resources.DeviceRule;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cgroup v2 side of resource control on the real kernel, using this host's cgroup2 mount (on a hybrid host
 * only hugetlb is enabled there, but device programs and cgroup.freeze work on any cgroup2 directory): the
 * eBPF device program compiled by {@link DeviceFilter} is loaded, attached, and denies what it should; a
 * {@link CgroupResources} for a pure-v2 layout freezes, writes hugetlb limits and unified keys, and names the
 * field when a controller is missing.
 */
class DeviceProgramTest {
    static final List<DeviceRule> NULL_ONLY = List.of(
            new DeviceRule(false, 'a', null, null, "rwm"),
            new DeviceRule(true, 'c', 1L, 3L, "rwm"));

    Path unified;
    String cgPath;
    Path dir;
    final List<Process> procs = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        assumeThat(CgroupTestSupport.isRoot()).as("needs root").isTrue();
        CgroupLayout layout = CgroupLayout.detect();
        assumeThat(layout.unifiedMount()).as("needs a cgroup2 mount").isNotNull();
        unified = layout.unifiedMount();
        cgPath = CgroupTestSupport.uniquePath("devprog");
        dir = CgroupFs.chain(unified, cgPath).getLast();
    }

    @AfterEach
    void tearDown() throws Exception {
        CgroupTestSupport.killQuietly(procs);
        if (dir != null && Files.exists(dir.resolve("cgroup.freeze"))) {
            CgroupFs.write(dir.resolve("cgroup.freeze"), "0"); // never leave it frozen
        }
        for (Process p : procs) {
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null) {
            new CgroupV2Manager(unified, cgPath).destroy();
            try {
                Files.deleteIfExists(unified.resolve(CgroupTestSupport.TOP)); // fails harmlessly if still in use
            } catch (IOException ignored) {
                // another test's cgroup is below it
            }
        }
        assertThat(dir == null || !Files.exists(dir)).as("test cgroup %s removed", dir).isTrue();
    }

    /** Starts sh in the cgroup (it waits for a line on stdin before running script) and returns its output. */
    String runIn(Path cgroup, String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "read go; " + script).redirectErrorStream(true).start();
        procs.add(p);
        CgroupFs.write(cgroup.resolve("cgroup.procs"), Long.toString(p.pid()));
        try (OutputStream in = p.getOutputStream()) {
            in.write("go\n".getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void theCompiledProgramDeniesWhatTheRulesDeny() throws Exception {
        new CgroupV2Manager(unified, cgPath).create();
        String before = runIn(dir, "(exec 3</dev/zero) && echo zero-ok");
        assertThat(before).as("without a program /dev/zero opens").isEqualTo("zero-ok\n");

        CgroupResources.attachDeviceProgram(dir, NULL_ONLY);
        String out = runIn(dir, "(exec 3</dev/null) && echo null-ok; (exec 3</dev/zero) && echo zero-ok; echo end");
        assertThat(out).contains("null-ok").doesNotContain("zero-ok").contains("Operation not permitted")
                .endsWith("end\n");
    }

    @Test
    void accessBitsAreASubsetMatch() throws Exception {
        new CgroupV2Manager(unified, cgPath).create();
        CgroupResources.attachDeviceProgram(dir, List.of(
                new DeviceRule(false, 'a', null, null, "rwm"),
                new DeviceRule(true, 'c', 1L, 3L, "r")));
        String out = runIn(dir, "(exec 3</dev/null) && echo read-ok; (exec 3>/dev/null) && echo write-ok; echo end");
        assertThat(out).contains("read-ok").doesNotContain("write-ok").endsWith("end\n");
    }

    @Test
    void aPureV2LayoutAppliesDevicesFreezesAndWritesHugetlb() throws Exception {
        CgroupLayout v2 = new CgroupLayout(CgroupLayout.Mode.V2, unified, List.of());
        new CgroupV2Manager(unified, cgPath).create();
        CgroupResources cg = new CgroupResources(v2, cgPath);

        List<DeviceRule> rules = new ArrayList<>(NULL_ONLY);
        cg.apply(new Resources(null, null, null, null, null, rules, null, null, null), false);
        assertThat(runIn(dir, "(exec 3</dev/zero) && echo zero-ok; echo end")).doesNotContain("zero-ok");

        // cgroup.freeze: the process stops, then runs again.
        Process p = new ProcessBuilder("/bin/sh", "-c", "while :; do :; done").start();
        procs.add(p);
        CgroupFs.write(dir.resolve("cgroup.procs"), Long.toString(p.pid()));
        cg.freeze();
        assertThat(cg.isFrozen()).isTrue();
        assertThat(Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"))).isNotNull();
        long cpu0 = CgroupResources.keyed(Files.readString(dir.resolve("cpu.stat"))).get("usage_usec");
        Thread.sleep(200);
        assertThat(CgroupResources.keyed(Files.readString(dir.resolve("cpu.stat"))).get("usage_usec"))
                .as("no CPU used while frozen").isEqualTo(cpu0);
        cg.thaw();
        assertThat(cg.isFrozen()).isFalse();

        String ctl = Files.readString(dir.resolve("cgroup.controllers"));
        if (ctl.contains("hugetlb") && Files.exists(dir.resolve("hugetlb.2MB.max"))) {
            cg.apply(new Resources(null, null, null, null, List.of(new Resources.Hugepage("2MB", 4L << 20)), null,
                    null, null, null), true);
            assertThat(Files.readString(dir.resolve("hugetlb.2MB.max")).strip()).isEqualTo(Long.toString(4L << 20));
            cg.apply(new Resources(null, null, null, null, null, null, Map.of("hugetlb.2MB.max", "8388608"), null,
                    null), true);
            assertThat(Files.readString(dir.resolve("hugetlb.2MB.max")).strip()).isEqualTo("8388608");
        }
        if (!ctl.contains("pids")) {
            assertThatThrownBy(() -> cg.apply(new Resources(null, null, 5L, null, null, null, null, null, null), true))
                    .hasMessageContaining("linux.resources.pids.limit").hasMessageContaining("not available");
        }
        assertThatThrownBy(() -> cg.apply(new Resources(null, null, null, null, null, null,
                Map.of("nosuch.file", "1"), null, null), true))
                .hasMessageContaining("linux.resources.unified.nosuch.file");
    }

    @Test
    void unifiedIsRejectedOnAV1Host() throws Exception {
        CgroupLayout layout = CgroupLayout.detect();
        assumeThat(layout.mode()).as("a v1 or hybrid host").isNotEqualTo(CgroupLayout.Mode.V2);
        dir = null; // nothing is created
        CgroupResources cg = new CgroupResources(layout, cgPath);
        assertThatThrownBy(() -> cg.apply(new Resources(null, null, null, null, null, null,
                Map.of("memory.high", "1000000"), null, null), false))
                .hasMessageContaining("linux.resources.unified").hasMessageContaining("cgroup v1");
    }

    @Test
    void theJavaModelMatchesRuncSemantics() {
        List<DeviceRule> rules = new ArrayList<>(NULL_ONLY);
        assertThat(DeviceFilter.allows(rules, 'c', 1, 3, "rw")).isTrue();
        assertThat(DeviceFilter.allows(rules, 'c', 1, 5, "r")).isFalse();
        assertThat(DeviceFilter.allows(rules, 'b', 1, 3, "r")).isFalse();
        rules.add(new DeviceRule(false, 'c', 1L, 3L, "w")); // later rules win
        assertThat(DeviceFilter.allows(rules, 'c', 1, 3, "w")).isFalse();
        assertThat(DeviceFilter.allows(rules, 'c', 1, 3, "r")).isTrue();
        rules.add(new DeviceRule(true, 'a', null, null, "rwm")); // catch-all at the end allows everything
        assertThat(DeviceFilter.allows(rules, 'b', 8, 0, "rwm")).isTrue();
        // The catch-all ends the program: nothing after its block.
        byte[] prog = DeviceFilter.compile(rules);
        assertThat(prog.length).isEqualTo(8 * (6 + 2));
    }
}
