package dev.hull.machine;

import static dev.hull.machine.MachineTest.ok;
import static dev.hull.machine.MachineTest.unique;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.linux.cgroup.CgroupLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A machine boots on a pure cgroup v2 layout, on this v1-hybrid host too: Hull runs in a mount namespace
 * of the test's own where /sys/fs/cgroup is the cgroup2 hierarchy alone (the v1 mounts detached there),
 * so Hull sees a v2 host and systemd inside a unified one. The controllers stay bound to v1 on a hybrid
 * host, so the machine is made without limits (--pids 0); what is checked is systemd's boot and power-off
 * on cgroup2, Hull's cgroup namespace and writable subtree, and that its cgroup goes with rm.
 */
class MachineCgroupV2Test {
    @BeforeAll
    static void setUp() throws Exception {
        CgroupLayout layout = CgroupLayout.detect();
        Assumptions.assumeTrue(layout.mode() != CgroupLayout.Mode.V2, "the host is pure cgroup v2 already: MachineTest"
                + " boots machines on it");
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys/fs/cgroup/unified/")), "no cgroup2 hierarchy beside"
                + " the v1 ones (/sys/fs/cgroup/unified) to boot a machine on");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "no unshare (util-linux)");
        MachineTest.setUp();
    }

    @AfterAll
    static void tearDown() throws Exception {
        MachineTest.tearDown();
    }

    @Test
    void aMachineBootsAndPowersOffOnAPureCgroupV2Layout() throws Exception {
        ok("run", "--rm", "--lxcfs", "busybox", "true"); // the host's lxcfs, started outside the test's namespace
        String name = unique("mv2");
        String script = """
                umount -R /sys/fs/cgroup
                mount -t cgroup2 cgroup2 /sys/fs/cgroup
                trap '"$@" machine rm -f NAME >/dev/null 2>&1 || true' EXIT
                "$@" info | grep 'Cgroup Version'
                "$@" machine create NAME --network none --pids 0
                id=$("$@" machine inspect NAME | grep -m 1 '"Id"' | sed 's/.*: *"\\([0-9a-f]*\\)".*/\\1/')
                echo "id=$id"
                "$@" machine start NAME
                i=0
                until s=$("$@" machine exec NAME systemctl is-system-running --wait 2>&1); \
                    case "$s" in *"Failed to connect to bus"*) false;; *) true;; esac; do
                  i=$((i+1)); [ $i -lt 480 ] || break; sleep 0.25
                done
                echo "state=$s"
                [ "$s" = running ] || "$@" machine exec NAME systemctl --failed --no-pager || true
                echo "fs=$("$@" machine exec NAME stat -fc %T /sys/fs/cgroup)"
                echo "init=$("$@" machine exec NAME cat /proc/1/cgroup)"
                "$@" machine exec NAME sh -c 'mkdir /sys/fs/cgroup/hull-probe && rmdir /sys/fs/cgroup/hull-probe && echo writable'
                "$@" machine stop NAME
                "$@" machine ls
                "$@" machine rm NAME
                """.replace("NAME", name);
        // a JVM per command, in the namespace (not through a service, which lives in the host's)
        ProcessBuilder pb = dev.hull.cli.HullCommand.cold(MachineTest.dir.resolve("home"), MachineTest.dir.resolve("state"),
                java.util.Map.of("HULL_NO_SERVICE", "1")).builder();
        List<String> cmd = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "sh", "-ec", script, "sh"));
        cmd.addAll(pb.command());
        pb.command(cmd).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        System.out.println("MachineCgroupV2Test:\n" + out);
        assertThat(out).as("Hull in the namespace sees v2").contains("Cgroup Version: 2 (v2)");
        assertThat(out).containsPattern("state=(running|degraded)\n");
        assertThat(out).contains("fs=cgroup2fs").contains("writable");
        assertThat(out).as("PID 1 in init.scope of the cgroup2 hierarchy (the v1 ones' lines stay: the kernel still"
                + " has them)").containsPattern("(?m)^0::/init.scope$");
        assertThat(out).containsPattern(name + "\\s+exited");
        String id = out.lines().filter(l -> l.startsWith("id=")).findFirst().orElseThrow().substring(3).strip();
        assertThat(id).isNotEmpty();
        assertThat(Path.of("/sys/fs/cgroup/unified/hull", id)).as("its cgroup, gone with rm").doesNotExist();
        assertThat(ok("machine", "ls").out()).doesNotContain(name);
    }
}
