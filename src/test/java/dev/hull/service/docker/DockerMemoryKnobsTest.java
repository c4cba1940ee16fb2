package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupResources;
import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The docker CLI's --oom-kill-disable, --memory-swappiness, --annotation and --security-opt
 * systempaths=unconfined against a Hull service of this class's own: HostConfig.OomKillDisable,
 * MemorySwappiness, Annotations and MaskedPaths/ReadonlyPaths reach the container, inspect shows them,
 * and create's Warnings reach the CLI.
 */
class DockerMemoryKnobsTest extends ApiServiceTest {
    @Test
    void oomKillDisableSwappinessAndAnnotations() throws Exception {
        CgroupLayout layout = CgroupLayout.detect();
        Assumptions.assumeTrue(layout.v1Hierarchy("memory").isPresent(), "the memory controller is not a cgroup v1"
                + " one here: dockerd discards both flags there (MemoryKnobsAnnotationsTest checks the warnings)");
        ok(api.docker("run", "-d", "--name", "dk-mem", "--network", "none", "-m", "64m", "--oom-kill-disable",
                "--memory-swappiness", "9", "--annotation", "org.example.a=b", "busybox", "sleep", "300"));
        try {
            String path = ok(api.hull("inspect", "-f", "{{.Hull.CgroupPath}}", "dk-mem")).out().strip();
            Path mem = new CgroupResources(layout, path).target("memory", "memory").dir();
            assertThat(Files.readString(mem.resolve("memory.oom_control"))).contains("oom_kill_disable 1");
            assertThat(Files.readString(mem.resolve("memory.swappiness")).strip()).isEqualTo("9");
            assertThat(ok(api.docker("inspect", "-f", "{{.HostConfig.OomKillDisable}} {{.HostConfig.MemorySwappiness}}"
                    + " {{json .HostConfig.Annotations}}", "dk-mem")).out())
                    .isEqualTo("true 9 {\"org.example.a\":\"b\"}\n");
            String bundle = ok(api.hull("inspect", "-f", "{{.Hull.Bundle}}", "dk-mem")).out().strip();
            assertThat(Files.readString(Path.of(bundle, "config.json"))).contains("\"org.example.a\" : \"b\"");
        } finally {
            api.docker("rm", "-f", "dk-mem");
        }
        Result r = ok(api.docker("create", "--name", "dk-mem-nolimit", "--network", "none", "--oom-kill-disable",
                "busybox"));
        assertThat(r.err()).as("create's Warnings, printed by the CLI").contains("WARNING: OOM killer is disabled for"
                + " the container, but no memory limit is set, this can result in the system running out of resources.");
        api.docker("rm", "dk-mem-nolimit");
        // the docker CLI checks the range itself: the API's own check, raw
        Result raw = ok(api.curl("-X", "POST", "-H", "Content-Type: application/json", "-d",
                "{\"Image\":\"busybox\",\"HostConfig\":{\"MemorySwappiness\":101,\"NetworkMode\":\"none\"}}",
                "http://d/containers/create"));
        assertThat(raw.out()).startsWith("HTTP/1.1 400").contains("Invalid value: 101, valid memory swappiness range"
                + " is 0-100");
        raw = ok(api.curl("-X", "POST", "-H", "Content-Type: application/json", "-d",
                "{\"Image\":\"busybox\",\"HostConfig\":{\"MaskedPaths\":[\"proc/kcore\"],\"NetworkMode\":\"none\"}}",
                "http://d/containers/create"));
        assertThat(raw.out()).startsWith("HTTP/1.1 400").contains("MaskedPaths proc/kcore: use absolute paths");
        Result bad = api.docker("create", "--network", "none", "--annotation", "run.hull.rootfs.idmap=true", "busybox");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("run.hull.* annotations are Hull's own");
    }

    @Test
    void systempathsUnconfinedUnmasksProc() throws Exception {
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "busybox", "sh", "-c",
                "grep -c ' /proc/timer_list ' /proc/self/mountinfo; grep -c ' /proc/sys ' /proc/self/mountinfo || true")).out())
                .as("masked by default: a mount over /proc/timer_list, /proc/sys bound read-only")
                .isEqualTo("1\n1\n");
        ok(api.docker("create", "--name", "dk-sp", "--network", "none", "--security-opt", "systempaths=unconfined",
                "busybox", "sh", "-c", "grep -c ' /proc/timer_list ' /proc/self/mountinfo; grep -c ' /proc/sys ' /proc/self/mountinfo || true"));
        try {
            assertThat(ok(api.docker("inspect", "-f", "{{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}}",
                    "dk-sp")).out()).isEqualTo("[] []\n");
            assertThat(ok(api.docker("start", "-a", "dk-sp")).out()).isEqualTo("0\n0\n");
        } finally {
            api.docker("rm", "-f", "dk-sp");
        }
    }
}
