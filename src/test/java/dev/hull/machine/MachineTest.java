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
    static final List<String> nets = new ArrayList<>();

    /** Builds the template once for the test JVM (MachineDiskTest uses it too); removed when the JVM exits. */
    @BeforeAll
    static synchronized void setUp() throws Exception {
        if (hull != null) {
            return;
        }
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mmdebstrap")),
                "mmdebstrap is not installed (apt-get install mmdebstrap): no Debian template can be built");
        names = HostLock.exclusive("MachineTest");
        dir = Files.createTempDirectory("hull-machine-test-");
        // traversable (as /run/hull is): a machine's root, an unprivileged host uid, opens its exec fifo in state/
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Path home = dir.resolve("home");
        Path state = dir.resolve("state");
        engine = new Engine(home, state);
        engine.networking().store().defineDefault(BRIDGE, "10.234.0.0/24");
        Runtime.getRuntime().addShutdownHook(new Thread(MachineTest::cleanUp));
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

    /** The class's machines and networks removed (the template stays for the next class). */
    @AfterAll
    static synchronized void tearDown() throws Exception {
        if (hull == null) {
            return;
        }
        for (String m : made) {
            hull.run("machine", "rm", "-f", m);
        }
        made.clear();
        for (String n : nets) {
            hull.run("network", "rm", n);
        }
        nets.clear();
    }

    private static void cleanUp() {
        try {
            if (hull != null) {
                try (Netlink nl = Netlink.open()) {
                    nl.deleteLink(BRIDGE);
                } catch (Exception e) {
                    // not made
                }
                new Nftables(Engine.NFT_TABLE).removeNetwork(BRIDGE);
                SnapshotStore.deleteTree(dir);
            }
        } catch (Exception e) {
            System.err.println("MachineTest: cleaning up " + dir + ": " + e);
        } finally {
            if (names != null) {
                try {
                    names.close();
                } catch (java.io.IOException e) {
                    // the JVM ends: its lock goes with it
                }
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
        // ("offline": systemd's manager is not up yet, as a machine in a user namespace can answer then)
        for (int i = 0; i < 240 && (r.err().contains("Failed to connect to bus") || r.out().strip().equals("offline"));
                i++) {
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
                + "\\s+1\\.0\\s+256M\\s+[0-9.]+[KMG]?\\s+false");

        // stop: systemd shuts down (its console says so) and exits 0, no SIGKILL
        ok("machine", "stop", name);
        JsonNode st = inspect(name).get("State");
        assertThat(st.get("Status").asText()).isEqualTo("exited");
        assertThat(st.get("ExitCode").asInt()).as("a power-off (exit 0), not 137 (SIGKILL)").isZero();
        String console = ok("machine", "logs", name).out();
        assertThat(console).contains("Welcome to").contains("shutdown.target").contains("Halting system."); // SIGRTMIN+3: halt.target
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
            List<Path> found = new ArrayList<>();
            named(root, id, 3, found);
            assertThat(found).as("cgroups of the machine under " + root).isEmpty();
        }
    }

    /** Entries below dir (depth levels) whose name contains id; others' cgroups that vanish meanwhile are skipped. */
    static void named(Path dir, String id, int depth, List<Path> found) throws java.io.IOException {
        if (depth == 0) {
            return;
        }
        try (var entries = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path p : entries) {
                if (p.getFileName().toString().contains(id)) {
                    found.add(p);
                }
                named(p, id, depth - 1, found);
            }
        } catch (java.nio.file.NoSuchFileException | java.nio.file.NotDirectoryException e) {
            // another Hull's container ended while we looked
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

    /** systemctl reboot inside: the machine boots again (a new init); poweroff inside: it stops, exit 0, for good. */
    @Test
    void rebootInsideBootsItAgainAndPowerOffInsideStopsIt() throws Exception {
        String name = unique("mt-reboot");
        ok("machine", "create", name, "--network", "none");
        made.add(name);
        ok("machine", "start", name);
        assertBooted(name);
        long pid = inspect(name).get("State").get("Pid").asLong();
        hull.run("machine", "exec", name, "systemctl", "reboot"); // its exec may end with the machine's processes
        JsonNode m = inspect(name);
        for (long end = System.nanoTime() + 180_000_000_000L; System.nanoTime() < end
                && !(m.get("RestartCount").asInt() >= 1 && m.get("State").get("Status").asText().equals("running"));) {
            Thread.sleep(250);
            m = inspect(name);
        }
        assertThat(m.get("State").get("Status").asText()).as("running again after the reboot: " + m.get("State"))
                .isEqualTo("running");
        assertThat(m.get("RestartCount").asInt()).isEqualTo(1);
        assertThat(m.get("State").get("Pid").asLong()).as("a new init").isNotEqualTo(pid);
        assertBooted(name);
        assertThat(ok("machine", "logs", name).out()).contains("Rebooting.");
        assertThat(ok("machine", "exec", name, "cat", "/proc/1/comm").out().strip()).isEqualTo("systemd");

        hull.run("machine", "exec", name, "systemctl", "poweroff");
        m = inspect(name);
        for (long end = System.nanoTime() + 180_000_000_000L; System.nanoTime() < end
                && !m.get("State").get("Status").asText().equals("exited");) {
            Thread.sleep(250);
            m = inspect(name);
        }
        assertThat(m.get("State").get("Status").asText()).as(m.get("State").toString()).isEqualTo("exited");
        assertThat(m.get("State").get("ExitCode").asInt()).as("a clean power-off").isZero();
        assertThat(m.get("RestartCount").asInt()).as("no restart after a power-off").isEqualTo(1);
        assertThat(ok("machine", "logs", name).out()).contains("Powering off.");
    }

    /** An interactive {@code hull machine console} under script(1) (a terminal): keys in, output read as it comes. */
    static final class ConsoleSession implements AutoCloseable {
        final Process p;
        final StringBuffer out = new StringBuffer();
        final Thread reader;

        ConsoleSession(HullCommand h, String name) throws Exception {
            List<String> cmd = h.builder("machine", "console", name).command();
            StringBuilder line = new StringBuilder();
            for (String a : cmd) {
                line.append('\'').append(a.replace("'", "'\\''")).append("' ");
            }
            ProcessBuilder pb = h.builder("machine", "console", name);
            pb.command("script", "-qfec", line.toString(), "/dev/null").redirectErrorStream(true);
            p = pb.start();
            reader = Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[4096];
                try (var in = p.getInputStream()) {
                    for (int n; (n = in.read(buf)) > 0;) {
                        out.append(new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8));
                    }
                } catch (java.io.IOException e) {
                    // ended
                }
            });
        }

        void type(String keys) throws Exception {
            p.getOutputStream().write(keys.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            p.getOutputStream().flush();
        }

        /** Waits (generously) until the output since from contains text; returns where it ends. */
        int await(String text, int from, String retype) throws Exception {
            for (int i = 0; i < 1200; i++) {
                int at = out.indexOf(text, from);
                if (at >= 0) {
                    return at + text.length();
                }
                if (retype != null && i % 40 == 39) {
                    type(retype);
                }
                Thread.sleep(100);
            }
            throw new AssertionError("the console never showed \"" + text + "\"; it showed:\n" + out);
        }

        /** Logs in as root on the getty (from output position at); returns where the shell's prompt ends. */
        int login(String host, String password, int at) throws Exception {
            type("\r");
            at = await("login:", at, "\r");
            type("root\r");
            at = await("Password:", at, null);
            type(password + "\r");
            return await("root@" + host, at, null);
        }

        int end() throws Exception {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the console client ended:\n" + out).isTrue();
            reader.join(10_000);
            return p.exitValue();
        }

        @Override
        public void close() {
            p.destroyForcibly();
        }
    }

    /** The test's service (warm console commands run in this JVM) ends its console relay threads. */
    static void awaitNoConsoleThreads() throws InterruptedException {
        for (int i = 0; i < 300 && Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().startsWith("hull-console-")); i++) {
            Thread.sleep(100); // the service answers before its relay threads have quite ended
        }
        assertThat(Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName))
                .as("the warm consoles' relay threads ended").noneMatch(n -> n.startsWith("hull-console-"));
    }

    @Test
    void consoleLogsInSetChangesLimitsLiveIpStatsAndAutostart() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")),
                "needs script(1) from util-linux to give the console client a terminal");
        String net = unique("mt-net");
        ok("network", "create", "--subnet", "10.235.0.0/24", net);
        nets.add(net);
        String name = unique("mt-con");
        Path pw = dir.resolve("root-password");
        Files.writeString(pw, "s3cret-con\n");
        // --ip: outside the subnet, and another machine's, are refused; nothing is left made
        HullCommand.Result r = hull.run("machine", "create", unique("mt-bad"), "--network", net, "--ip", "10.99.0.5");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: ").contains("10.99.0.5");
        ok("machine", "create", name, "--network", net, "--ip", "10.235.0.50", "--memory", "256m", "--cpus", "1",
                "--root-password-file", pw.toString(), "--autostart");
        made.add(name);
        String other = unique("mt-bad");
        r = hull.run("machine", "create", other, "--network", net, "--ip", "10.235.0.50");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: --ip 10.235.0.50 is machine " + name + "'s address on network " + net);
        assertThat(ok("machine", "ls", "--format", "json").out()).doesNotContain("mt-bad");

        // autostart: start --all-autostart boots it (the only machine here marked so)
        assertThat(ok("machine", "start", "--all-autostart").out()).contains(name);
        assertBooted(name);
        assertThat(inspect(name).get("Machine").get("IPv4").asText()).isEqualTo("10.235.0.50");
        assertThat(ok("machine", "exec", name, "ip", "-4", "-o", "addr", "show", "eth0").out()).contains("10.235.0.50/24");
        assertThat(ok("machine", "ls").out()).containsPattern(name + "\\s+running\\s+10\\.235\\.0\\.50\\s+1\\.0\\s+256M\\s+"
                + "[0-9.]+[KMG]?\\s+true");
        assertThat(JSON.readTree(ok("machine", "ls", "--format", "json").out().lines()
                .filter(l -> l.contains(name)).findFirst().orElseThrow()).get("Disk").asLong()).isPositive();

        // the console: a login on the getty, a command, a second client refused, ctrl-a q (cold, then warm)
        int at;
        try (ConsoleSession con = new ConsoleSession(HullCommand.cold(dir.resolve("home"), dir.resolve("state"),
                Map.of("HULL_NO_SERVICE", "1")), name)) {
            at = con.await("ctrl-a q to detach", 0, null);
            at = con.login(name, "s3cret-con", at);
            HullCommand.Result second = hull.run("machine", "console", name);
            assertThat(second.exit()).as(second.toString()).isEqualTo(125);
            assertThat(second.err()).contains("the console is attached elsewhere already");
            con.type("echo con$((6*7))\r");
            at = con.await("con42", at, null);
            con.type("exit\r"); // logged out: the getty comes back
            at = con.await("login:", at, "\r");
            con.type("\u0001q");
            assertThat(con.end()).isZero();
            assertThat(con.out.toString()).contains("Detached from " + name + "'s console");
        }
        // the monitor stayed the terminal's only reader: the machine's log has the session too
        assertThat(ok("machine", "logs", name).out()).contains("con42");
        // warm, through the service: the client's terminal relayed by the service in this JVM
        try (ConsoleSession con = new ConsoleSession(HullCommand.warm(dir.resolve("home"), dir.resolve("state"),
                Map.of("HULL_NO_SERVICE", "1")), name)) {
            at = con.await("ctrl-a q to detach", 0, null);
            assertThat(Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                    .map(Thread::getName)).as("the test's service relays this console").contains("hull-console-attach");
            at = con.login(name, "s3cret-con", at);
            // the echo's output seen before the exit: the getty that comes back after the exit flushes
            // what the terminal still holds (tcflush), which can be output the monitor had not read yet
            con.type("echo warm$((6*7))\r");
            at = con.await("warm42", at, null);
            con.type("exit\r");
            con.await("login:", at, "\r");
            con.type("\u0001q");
            assertThat(con.end()).isZero();
        }
        awaitNoConsoleThreads();
        // a warm client that gets SIGTERM (as on a closed terminal) lets go: its service thread stops reading
        // the client's input (a pipe the test keeps open) and the console is free for the next client
        Process gone = HullCommand.warm(dir.resolve("home"), dir.resolve("state"), Map.of("HULL_NO_SERVICE", "1"))
                .builder("machine", "console", name).redirectErrorStream(true).start();
        StringBuilder said = new StringBuilder();
        var goneOut = gone.getInputStream();
        while (said.indexOf("ctrl-a q") < 0) {
            int b = goneOut.read();
            assertThat(b).as("the console connected: " + said).isNotNegative();
            said.append((char) b);
        }
        gone.destroy();
        assertThat(gone.waitFor(60, TimeUnit.SECONDS)).isTrue();
        awaitNoConsoleThreads();
        HullCommand.Result next = hull.run("machine", "console", name); // stdin /dev/null: attaches, input ends
        assertThat(next.exit()).as(next.toString()).isZero();
        assertThat(next.err()).contains("Input ended");
        gone.getOutputStream().close();

        // set: memory and CPUs change in the running machine's cgroups, autostart off
        ok("machine", "set", name, "--memory", "384m", "--cpus", "2", "--autostart", "false");
        boolean v2 = CgroupLayout.detect().mode() == CgroupLayout.Mode.V2;
        String memFile = v2 ? "/sys/fs/cgroup/memory.max" : "/sys/fs/cgroup/memory/memory.limit_in_bytes";
        String cpuFile = v2 ? "/sys/fs/cgroup/cpu.max" : "/sys/fs/cgroup/cpu/cpu.cfs_quota_us";
        assertThat(ok("machine", "exec", name, "cat", memFile).out().strip()).isEqualTo(Long.toString(384L << 20));
        assertThat(ok("machine", "exec", name, "cat", cpuFile).out().strip()).startsWith("200000");
        assertThat(ok("machine", "ls").out()).containsPattern(name + "\\s+running\\s+10\\.235\\.0\\.50\\s+2\\.0\\s+384M\\s+"
                + "[0-9.]+[KMG]?\\s+false");
        r = hull.run("machine", "set", name);
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).startsWith("hull: set: nothing to change");

        // stats: one reading of this machine, in numbers
        JsonNode st = JSON.readTree(ok("machine", "stats", "--no-stream", "--format", "json", name).out());
        assertThat(st.get("Name").asText()).isEqualTo(name);
        assertThat(st.get("MemoryLimit").asLong()).isEqualTo(384L << 20);
        assertThat(st.get("MemoryUsage").asLong()).isPositive();
        assertThat(st.get("Pids").asLong()).isPositive();
        assertThat(st.get("NetRx").asLong()).isNotNegative();
        assertThat(st.get("Disk").asLong()).isPositive();
        assertThat(ok("machine", "stats", "--no-stream", name).out()).contains("MEM USAGE / LIMIT").contains(name);

        // a console attached while the machine powers off ends with it
        try (ConsoleSession con = new ConsoleSession(hull, name)) {
            con.await("ctrl-a q to detach", 0, null);
            ok("machine", "stop", name);
            assertThat(con.end()).isZero();
            assertThat(con.out.toString()).contains("The console closed");
        }
        r = hull.run("machine", "console", name);
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("is not running");
        // autostart is off now: --all-autostart leaves it; the new limits are kept for its next boot
        assertThat(ok("machine", "start", "--all-autostart").out()).doesNotContain(name);
        assertThat(inspect(name).get("State").get("Status").asText()).isEqualTo("exited");
        ok("machine", "start", name);
        assertBooted(name);
        assertThat(ok("machine", "exec", name, "cat", memFile).out().strip()).isEqualTo(Long.toString(384L << 20));
        assertThat(inspect(name).get("Machine").get("IPv4").asText()).isEqualTo("10.235.0.50");
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
