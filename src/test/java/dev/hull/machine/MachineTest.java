package dev.hull.machine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.cli.HullCommand;
import dev.hull.engine.Engine;
import dev.hull.image.SnapshotStore;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.net.Netlink;
import dev.hull.linux.net.Nftables;
import dev.hull.testing.HostLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull machine} with a real Debian 12 root built by mmdebstrap and systemd booting in it. The
 * template is built once for the class (in its own Hull home), every machine is an overlay of it.
 * The machines' default network is bridge hulltm0 on 10.234.0.0/24, this test's own.
 */
class MachineTest {
    static final String BRIDGE = "hulltm0";
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;
    static HullCommand hull;
    static Engine engine;
    static HostLock names;
    static final List<String> made = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mmdebstrap")),
                "mmdebstrap is not installed (apt-get install mmdebstrap): no Debian template can be built");
        names = HostLock.exclusive("MachineTest");
        dir = Files.createTempDirectory("hull-machine-test-");
        Path home = dir.resolve("home");
        Path state = dir.resolve("state");
        engine = new Engine(home, state);
        engine.networking().store().defineDefault(BRIDGE, "10.234.0.0/24");
        hull = new HullCommand(home, state, Map.of("HULL_NO_SERVICE", "1"));
        // the template: built once here (mmdebstrap from the host's apt mirror), timed for the report
        String name = unique("mt-first");
        long t0 = System.nanoTime();
        Process p = hull.builder("machine", "create", name, "--memory", "256m").redirectErrorStream(true)
                .redirectOutput(dir.resolve("template.log").toFile()).start();
        made.add(name);
        assertThat(p.waitFor(1800, TimeUnit.SECONDS)).as("the template build ends within 30 min").isTrue();
        String log = Files.readString(dir.resolve("template.log"));
        assertThat(p.exitValue()).as(log).isZero();
        assertThat(log).contains("building the debian:12 template");
        System.out.printf("MachineTest: template debian:12 built and first machine created in %.1f s%n",
                (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (hull != null) {
                for (String m : made) {
                    hull.run("machine", "rm", "-f", m);
                }
                try (Netlink nl = Netlink.open()) {
                    nl.deleteLink(BRIDGE);
                } catch (Exception e) {
                    // not made
                }
                new Nftables(Engine.NFT_TABLE).removeNetwork(BRIDGE);
                SnapshotStore.deleteTree(dir);
            }
        } finally {
            if (names != null) {
                names.close();
            }
        }
    }

    static String unique(String prefix) {
        return prefix + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    }

    static HullCommand.Result ok(String... args) throws Exception {
        HullCommand.Result r = hull.run(args);
        assertThat(r.exit()).as("hull " + String.join(" ", args) + "\n" + r).isZero();
        return r;
    }

    /** systemctl is-system-running --wait: running, or degraded with the failed units shown. */
    static void assertBooted(String name) throws Exception {
        HullCommand.Result r = hull.run("machine", "exec", name, "systemctl", "is-system-running", "--wait");
        // right after start, systemd may not listen on its bus yet: a generous wait for that
        for (int i = 0; i < 240 && r.err().contains("Failed to connect to bus"); i++) {
            Thread.sleep(250);
            r = hull.run("machine", "exec", name, "systemctl", "is-system-running", "--wait");
        }
        String state = r.out().strip();
        if (state.equals("degraded")) {
            System.out.println("MachineTest: " + name + " degraded; failed units:\n"
                    + hull.run("machine", "exec", name, "systemctl", "--failed", "--no-pager").out());
        }
        assertThat(state).as(r.toString()).isIn("running", "degraded");
    }

    static JsonNode inspect(String name) throws Exception {
        return JSON.readTree(ok("machine", "inspect", name).out()).get(0);
    }

    @Test
    void bootsStopsCleanlyStartsAgainAndRmLeavesNothing() throws Exception {
        String name = unique("mt-boot");
        Path key = dir.resolve("id.pub");
        Files.writeString(key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJq7 test@hull\n");
        long t0 = System.nanoTime();
        ok("machine", "create", name, "--memory", "256m", "--cpus", "1", "--ssh-key", key.toString());
        made.add(name);
        System.out.printf("MachineTest: create from the cached template: %.2f s (%s)%n",
                (System.nanoTime() - t0) / 1e9, hull.warm() ? "warm, through the test's service" : "a cold JVM");
        String id = inspect(name).get("Id").asText();
        ok("machine", "start", name);
        assertBooted(name);

        assertThat(ok("machine", "shell", name, "--", "cat", "/proc/1/comm").out().strip()).isEqualTo("systemd");
        assertThat(ok("machine", "exec", name, "hostname").out().strip()).isEqualTo(name);
        assertThat(ok("machine", "exec", name, "systemd-detect-virt", "--container").out().strip())
                .isEqualTo("container-other");
        assertThat(ok("machine", "exec", name, "cat", "/root/.ssh/authorized_keys").out()).contains("test@hull");
        assertThat(ok("machine", "exec", name, "systemctl", "is-active", "ssh").out().strip()).isEqualTo("active");
        // the machine id: its own, from its container id
        assertThat(ok("machine", "exec", name, "cat", "/etc/machine-id").out().strip()).isEqualTo(id.substring(0, 32));
        // the memory limit, as the machine sees its own cgroup
        String limit = CgroupLayout.detect().mode() == CgroupLayout.Mode.V2
                ? "/sys/fs/cgroup/memory.max" : "/sys/fs/cgroup/memory/memory.limit_in_bytes";
        assertThat(ok("machine", "exec", name, "cat", limit).out().strip()).isEqualTo(Long.toString(256L << 20));
        // its address on this test's bridge, shown by ls and inspect
        String ip = inspect(name).get("Machine").get("IPv4").asText();
        assertThat(ip).startsWith("10.234.0.");
        assertThat(ok("machine", "exec", name, "ip", "-4", "-o", "addr", "show", "eth0").out()).contains(ip + "/");
        assertThat(ok("machine", "ls").out()).containsPattern(name + "\\s+running\\s+" + ip.replace(".", "\\.")
                + "\\s+1\\.0\\s+256M\\s+false");

        // stop: systemd shuts down (its console says so) and exits 0, no SIGKILL
        ok("machine", "stop", name);
        JsonNode st = inspect(name).get("State");
        assertThat(st.get("Status").asText()).isEqualTo("exited");
        assertThat(st.get("ExitCode").asInt()).as("systemd's exit, not 137 (SIGKILL)").isZero();
        String console = ok("machine", "logs", name).out();
        assertThat(console).contains("Welcome to").contains("shutdown.target").contains("Exiting container.");
        assertThat(console).doesNotContain("console-getty.service: Failed");

        ok("machine", "start", name);
        assertBooted(name);

        ok("machine", "rm", "-f", name);
        made.remove(name);
        assertThat(ok("machine", "ls", "--format", "json").out()).doesNotContain(id);
        assertThat(engine.containers().dir(id)).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
        CgroupLayout layout = CgroupLayout.detect();
        List<Path> roots = new ArrayList<>();
        layout.v1().forEach(h -> roots.add(h.mountPoint()));
        if (layout.unifiedMount() != null) {
            roots.add(layout.unifiedMount());
        }
        for (Path root : roots) {
            try (var walk = Files.walk(root, 3)) {
                assertThat(walk.filter(p -> p.getFileName().toString().contains(id)).toList())
                        .as("cgroups of the machine under " + root).isEmpty();
            }
        }
    }

    @Test
    void restartBootsAgainAndSecondCreateUsesTheTemplate() throws Exception {
        String name = unique("mt-again");
        HullCommand.Result r = ok("machine", "create", name, "--hostname", "other", "--pids", "500");
        made.add(name);
        assertThat(r.err()).doesNotContain("building the");
        ok("machine", "start", name);
        assertBooted(name);
        assertThat(ok("machine", "exec", name, "hostname").out().strip()).isEqualTo("other");
        ok("machine", "restart", name);
        assertBooted(name);
        assertThat(inspect(name).get("State").get("Status").asText()).isEqualTo("running");
    }

    @Test
    void badInputIsRefused() throws Exception {
        HullCommand.Result r = hull.run("machine", "create", unique("mt-bad"), "--distro", "fedora:40");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: --distro fedora:40");
        r = hull.run("machine", "start", "mt-no-such-machine");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: ");
        r = hull.run("machine", "create", unique("mt-bad"), "--ssh-key", dir.resolve("missing.pub").toString());
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("--ssh-key").contains("no such file");
        assertThat(ok("machine", "ls", "--format", "json").out()).doesNotContain("mt-bad");
    }
}
