package dev.hull.machine;

import static dev.hull.machine.MachineTest.hull;
import static dev.hull.machine.MachineTest.inspect;
import static dev.hull.machine.MachineTest.made;
import static dev.hull.machine.MachineTest.ok;
import static dev.hull.machine.MachineTest.unique;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.engine.Lxcfs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * lxcfs in machines: a booted machine's {@code free}, /proc/cpuinfo, /proc/stat, /proc/uptime and
 * /sys/devices/system/cpu/online show its own limits (live after {@code machine set}) and its own uptime,
 * while the host's /proc stays the host's; {@code hull run --lxcfs} gives a container the same. Uses
 * MachineTest's template (built once per JVM). The host's one lxcfs daemon stays (every Hull shares it).
 */
class MachineLxcfsTest {
    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(Lxcfs.unavailable() == null, "lxcfs cannot run here: " + Lxcfs.unavailable());
        MachineTest.setUp();
    }

    @AfterAll
    static void tearDown() throws Exception {
        MachineTest.tearDown();
    }

    @Test
    void aMachineSeesItsOwnLimitsAndUptimeAndTheHostIsUnaffected() throws Exception {
        long hostTotal = memTotalKib(Files.readString(Path.of("/proc/meminfo")));
        String name = unique("ml-lxcfs");
        ok("machine", "create", name, "--memory", "512m", "--cpus", "1");
        made.add(name);
        assertThat(inspect(name).get("Machine").get("Lxcfs").asText()).isEqualTo("used at start");
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        assertThat(inspect(name).get("Machine").get("Lxcfs").asText()).isEqualTo("used");
        assertThat(ok("info").out()).containsPattern("Lxcfs: used by machines \\((Hull's daemon|the host's"
                + " lxcfs.service) on /var/lib/(hull/)?lxcfs\\)");

        // free (procps: /proc/meminfo) inside: the machine's 512 MiB
        String free = ok("machine", "exec", name, "free", "-m").out();
        assertThat(free).as(free).containsPattern("Mem:\\s+512\\s");
        assertThat(memTotalKib(ok("machine", "exec", name, "cat", "/proc/meminfo").out())).isEqualTo(512 * 1024);
        // one CPU's worth of quota: one processor in cpuinfo, one cpuN line in stat, cpu/online 0
        assertThat(ok("machine", "exec", name, "grep", "-c", "^processor", "/proc/cpuinfo").out().strip())
                .isEqualTo("1");
        assertThat(ok("machine", "exec", name, "grep", "-c", "^cpu[0-9]", "/proc/stat").out().strip())
                .isEqualTo("1");
        assertThat(ok("machine", "exec", name, "cat", "/sys/devices/system/cpu/online").out().strip())
                .isEqualTo("0");
        // uptime: since the machine booted, not the host's
        double uptime = Double.parseDouble(ok("machine", "exec", name, "cat", "/proc/uptime").out().split(" ")[0]);
        double hostUptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
        assertThat(uptime).as("the machine's uptime (s) vs the host's %s", hostUptime).isLessThan(hostUptime);
        assertThat(ok("machine", "exec", name, "uptime").out()).contains("load average");

        // set: the new limit shows at once (lxcfs reads the cgroup at each read)
        ok("machine", "set", name, "--memory", "768m");
        assertThat(ok("machine", "exec", name, "free", "-m").out()).containsPattern("Mem:\\s+768\\s");

        // the host is unaffected
        assertThat(memTotalKib(Files.readString(Path.of("/proc/meminfo")))).isEqualTo(hostTotal);

        // a restart binds them again
        ok("machine", "restart", name);
        MachineTest.assertBooted(name);
        assertThat(ok("machine", "exec", name, "free", "-m").out()).containsPattern("Mem:\\s+768\\s");
        ok("machine", "rm", "-f", name);
        made.remove(name);
    }

    @Test
    void runWithLxcfsOnlyWhenAsked() throws Exception {
        String with = ok("run", "--rm", "--lxcfs", "-m", "64m", "busybox", "cat", "/proc/meminfo").out();
        assertThat(memTotalKib(with)).isEqualTo(64 * 1024);
        String without = ok("run", "--rm", "-m", "64m", "busybox", "cat", "/proc/meminfo").out();
        assertThat(memTotalKib(without)).as("a container without --lxcfs: the host's /proc/meminfo")
                .isEqualTo(memTotalKib(Files.readString(Path.of("/proc/meminfo"))));
    }

    static long memTotalKib(String meminfo) {
        for (String l : meminfo.lines().toList()) {
            if (l.startsWith("MemTotal:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no MemTotal in " + meminfo);
    }
}
