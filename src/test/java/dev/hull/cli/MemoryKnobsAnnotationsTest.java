package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --oom-kill-disable}, {@code --memory-swappiness} and {@code --annotation} through the real
 * command, warm and cold: cgroup v1's memory.oom_control and memory.swappiness of the container's cgroup,
 * the annotation in its config.json and inspect; on a pure cgroup v2 layout (a mount namespace of the
 * test's own, as MachineCgroupV2Test makes) both flags are discarded with dockerd's warnings on stderr.
 */
class MemoryKnobsAnnotationsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-memknobs-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (dir != null) {
            HullCommand hull = HullCommand.cold(dir.resolve("home"), dir.resolve("state"), Map.of());
            for (String id : hull.run("ps", "-aq").out().lines().toList()) {
                hull.run("rm", "-f", id.strip());
            }
            dev.hull.image.SnapshotStore.deleteTree(dir);
        }
    }

    static List<HullCommand> both() {
        return List.of(HullCommand.cold(dir.resolve("home"), dir.resolve("state"), Map.of()),
                HullCommand.warm(dir.resolve("home"), dir.resolve("state"), Map.of()));
    }

    @Test
    void theV1MemoryFilesAndTheAnnotationReachTheContainer() throws Exception {
        CgroupLayout layout = CgroupLayout.detect();
        Assumptions.assumeTrue(layout.v1Hierarchy("memory").isPresent(), "the memory controller is not a cgroup v1"
                + " one here (see onAPureV2LayoutBothAreDiscardedWithDockersWarnings)");
        for (HullCommand hull : both()) {
            String name = "mk-v1-" + (hull.warm() ? "warm" : "cold");
            HullCommand.Result r = hull.ok("run", "-d", "--name", name, "--network", "none", "-m", "64m",
                    "--oom-kill-disable", "--memory-swappiness", "7", "--annotation", "org.example.k=v 1",
                    "--annotation", "com.example.empty=", "busybox", "sleep", "300");
            assertThat(r.err()).as("a limit is set: no warning").doesNotContain("WARNING");
            try {
                String path = hull.ok("inspect", "-f", "{{.Hull.CgroupPath}}", name).out().strip();
                Path mem = new CgroupResources(layout, path).target("memory", "memory").dir();
                assertThat(Files.readString(mem.resolve("memory.oom_control"))).contains("oom_kill_disable 1");
                assertThat(Files.readString(mem.resolve("memory.swappiness")).strip()).isEqualTo("7");
                JsonNode c = JSON.readTree(hull.ok("inspect", name).out()).get(0);
                JsonNode hc = c.path("HostConfig");
                assertThat(hc.path("OomKillDisable").asBoolean()).isTrue();
                assertThat(hc.path("MemorySwappiness").asLong()).isEqualTo(7);
                assertThat(hc.path("Annotations").toString()).isEqualTo("{\"org.example.k\":\"v 1\",\"com.example.empty\":\"\"}");
                JsonNode spec = JSON.readTree(Files.readAllBytes(Path.of(c.path("Hull").path("Bundle").asText(),
                        "config.json")));
                assertThat(spec.path("annotations").path("org.example.k").asText()).isEqualTo("v 1");
                assertThat(spec.path("annotations").has("com.example.empty")).isTrue();
            } finally {
                hull.run("rm", "-f", name);
            }
            // without -m: created, with dockerd's warning on the caller's stderr
            r = hull.ok("create", "--name", name + "-nolimit", "--network", "none", "--oom-kill-disable", "busybox");
            assertThat(r.err()).isEqualTo("WARNING: OOM killer is disabled for the container, but no memory limit is"
                    + " set, this can result in the system running out of resources.\n");
            hull.ok("rm", name + "-nolimit");
            // unset by default: the kernel's
            hull.ok("create", "--name", name + "-none", "--network", "none", "busybox");
            JsonNode hc = JSON.readTree(hull.ok("inspect", name + "-none").out()).get(0).path("HostConfig");
            assertThat(hc.path("OomKillDisable").isBoolean() && !hc.path("OomKillDisable").asBoolean()).isTrue();
            assertThat(hc.path("MemorySwappiness").isNull()).isTrue();
            assertThat(hc.has("Annotations")).as("omitted when none, as dockerd's").isFalse();
            hull.ok("rm", name + "-none");
        }
    }

    @Test
    void systempathsUnconfinedUnmasksProcAsTheDockerCli() throws Exception {
        String probe = "grep -c ' /proc/timer_list ' /proc/self/mountinfo; grep -c ' /proc/sys ' /proc/self/mountinfo"
                + " || true";
        for (HullCommand hull : both()) {
            assertThat(hull.ok("run", "--rm", "--network", "none", "busybox", "sh", "-c", probe).out())
                    .as("masked by default: a mount over /proc/timer_list, /proc/sys bound read-only")
                    .isEqualTo("1\n1\n");
            assertThat(hull.ok("run", "--rm", "--network", "none", "--security-opt", "systempaths=unconfined",
                    "busybox", "sh", "-c", probe).out()).isEqualTo("0\n0\n");
        }
    }

    @Test
    void badValuesAreRefused() throws Exception {
        HullCommand hull = HullCommand.cold(dir.resolve("home"), dir.resolve("state"), Map.of());
        for (String[] c : new String[][] {
                {"--memory-swappiness 101", "Invalid value: 101, valid memory swappiness range is 0-100"},
                {"--memory-swappiness -2", "Invalid value: -2, valid memory swappiness range is 0-100"},
                {"--annotation run.hull.rootfs.idmap=true", "run.hull.* annotations are Hull's own"},
                {"--annotation novalue", "--annotation novalue: use KEY=VALUE"}}) {
            List<String> args = new ArrayList<>(List.of("create", "--name", "mk-bad", "--network", "none"));
            args.addAll(List.of(c[0].split(" ")));
            args.add("busybox");
            HullCommand.Result r = hull.run(args.toArray(String[]::new));
            assertThat(r.exit()).as(r.toString()).isEqualTo(125);
            assertThat(r.err()).as(c[0]).startsWith("hull: ").contains(c[1]);
        }
        assertThat(hull.ok("ps", "-aq", "--filter", "name=mk-bad").out()).as("nothing made").isEmpty();
    }

    @Test
    void onAPureV2LayoutBothAreDiscardedWithDockersWarnings() throws Exception {
        CgroupLayout layout = CgroupLayout.detect();
        Assumptions.assumeTrue(layout.mode() != CgroupLayout.Mode.V2, "the host is pure cgroup v2 already: the"
                + " warning is what every create says (this test makes a v2 view on a v1 host)");
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys/fs/cgroup/unified/")), "no cgroup2 hierarchy beside"
                + " the v1 ones (/sys/fs/cgroup/unified)");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "no unshare (util-linux)");
        String script = """
                umount -R /sys/fs/cgroup
                mount -t cgroup2 cgroup2 /sys/fs/cgroup
                "$@" create --name mk-v2 --network none --pids-limit -1 --oom-kill-disable --memory-swappiness 5 busybox
                "$@" inspect -f 'inspect={{.HostConfig.OomKillDisable}} {{json .HostConfig.MemorySwappiness}}' mk-v2
                "$@" rm mk-v2
                """;
        // a JVM per command, in the namespace (not through a service, which lives in the host's)
        ProcessBuilder pb = HullCommand.cold(dir.resolve("home"), dir.resolve("state"),
                Map.of("HULL_NO_SERVICE", "1")).builder();
        List<String> cmd = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "sh", "-ec", script,
                "sh"));
        cmd.addAll(pb.command());
        pb.command(cmd).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.\n")
                .contains("WARNING: Your kernel does not support memory swappiness capabilities or the cgroup is not"
                        + " mounted. Memory swappiness discarded.\n")
                .as("what was discarded is not shown as applied").contains("inspect=false null\n");
    }
}
