package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each namespace the config asks for is really a new (or the joined) one, seen from inside and outside. */
class IsolationTest {
    static Path base;
    static ContainerRuntime rt;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("isolation");
        rt = new ContainerRuntime(ContainerTests.root(base));
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    Bundles.Bundle bundle() {
        return Bundles.create(base, "b");
    }

    @Test
    void everyNamespaceDiffersFromTheHosts() throws Exception {
        String out = ContainerTests.output(rt, bundle(),
                "for n in pid net ipc uts mnt cgroup; do echo $n=$(readlink /proc/self/ns/$n); done");
        for (String line : out.strip().split("\n")) {
            String[] kv = line.split("=", 2);
            assertThat(kv[1]).as("namespace %s inside", kv[0]).isNotBlank()
                    .isNotEqualTo(Host.readlink("/proc/self/ns/" + kv[0]));
        }
        assertThat(out.strip().split("\n")).hasSize(6);
    }

    @Test
    void initIsPid1() throws Exception {
        assertThat(ContainerTests.output(rt, bundle(), "echo $$; ps -o pid= 2>/dev/null | wc -l").split("\n")[0])
                .isEqualTo("1");
    }

    @Test
    void hostnameIsTheConfigs() throws Exception {
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        Bundles.Bundle b = bundle();
        b.config.put("hostname", "hull-iso-test");
        b.config.put("domainname", "hull.example");
        String out = ContainerTests.output(rt, b, "hostname; cat /proc/sys/kernel/domainname");
        assertThat(out).isEqualTo("hull-iso-test\nhull.example\n");
        assertThat(Files.readString(Path.of("/proc/sys/kernel/hostname")).strip()).isEqualTo(host);
    }

    @Test
    void mountsInsideAreNotSeenOutside() throws Exception {
        Set<String> before = Host.mountPoints();
        String inside = "hull-inside-" + ProcessHandle.current().pid(); // this test's source name, not another run's
        String out = ContainerTests.output(rt, bundle().addCaps("CAP_SYS_ADMIN"),
                "mount -t tmpfs " + inside + " /mnt/a && grep -c " + inside + " /proc/self/mountinfo;"
                        + " wc -l </proc/self/mountinfo");
        assertThat(out.split("\n")[0]).isEqualTo("1");
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(inside);
        assertThat(Host.mountPoints()).doesNotContain(Bundles.rootfs().resolve("mnt/a").toString());
        Set<String> after = Host.mountPoints();
        after.removeAll(before);
        assertThat(after).noneMatch(m -> m.startsWith(Bundles.rootfs().toString()));
    }

    @Test
    void networkNamespaceHasOnlyLoopback() throws Exception {
        String out = ContainerTests.output(rt, bundle(),
                "ls /sys/class/net; echo --; tail -n +3 /proc/net/dev; echo --; cat /sys/class/net/lo/flags");
        String[] parts = out.split("--\n");
        assertThat(parts[0].strip()).isEqualTo("lo");
        assertThat(parts[1].strip().split("\n")).hasSize(1).allMatch(l -> l.strip().startsWith("lo:"));
        assertThat(Integer.decode(parts[2].strip()) & 1).as("lo is up (IFF_UP), like runc leaves it").isEqualTo(1);
    }

    @Test
    void ipcNamespaceHidesHostQueues() throws Exception {
        Process mk = new ProcessBuilder("ipcmk", "-Q").redirectErrorStream(true).start();
        String made = new String(mk.getInputStream().readAllBytes());
        assumeThat(mk.waitFor()).as("ipcmk -Q (util-linux) creates a host message queue: %s", made).isZero();
        String qid = made.replaceAll("[^0-9]", "");
        try {
            assertThat(Files.readAllLines(Path.of("/proc/sysvipc/msg"))).hasSizeGreaterThan(1);
            String out = ContainerTests.output(rt, bundle(), "wc -l </proc/sysvipc/msg");
            assertThat(out.strip()).as("only the header line of /proc/sysvipc/msg").isEqualTo("1");
        } finally {
            new ProcessBuilder("ipcrm", "-q", qid).inheritIO().start().waitFor();
        }
    }

    @Test
    void cgroupNamespaceIsRootedAtTheContainersCgroup() throws Exception {
        Bundles.Bundle b = bundle().script("cat /proc/self/cgroup").write();
        String id = Bundles.id("cgns");
        ContainerRecord rec = rt.create(id, b.dir, null);
        try {
            List<String> hostView = Files.readAllLines(Path.of("/proc", Integer.toString(rec.pid()), "cgroup"));
            assertThat(hostView).as("the init's cgroups seen from the host").isNotEmpty()
                    .allMatch(l -> l.endsWith("/hull/" + id), "ends with /hull/" + id);
            rt.start(id);
            assertThat(Host.await(() -> !ContainerRuntime.alive(rec.pid(), rec.startTime()))).isTrue();
        } finally {
            rt.delete(id, true);
        }
        List<String> inside = Arrays.asList(b.stdout().strip().split("\n"));
        assertThat(inside).isNotEmpty().allMatch(l -> l.endsWith(":/"), "ends with :/");
    }

    @Test
    void userNamespaceMapsRootToAnUnprivilegedHostUid() throws Exception {
        Bundles.Bundle b = bundle();
        b.namespace("user", null);
        for (String f : new String[] {"uidMappings", "gidMappings"}) {
            var m = b.linux().putArray(f).addObject();
            m.put("containerID", 0);
            m.put("hostID", 100000);
            m.put("size", 65536);
        }
        b.withoutMount("/sys/fs/cgroup"); // cgroup v1 cannot be mounted in a user namespace
        String out = ContainerTests.output(rt, b,
                "id -u; id -g; cat /proc/self/uid_map; touch /out/made-inside; mkdir /out/dir-inside");
        String[] lines = out.split("\n");
        assertThat(lines[0]).isEqualTo("0");
        assertThat(lines[1]).isEqualTo("0");
        assertThat(lines[2].trim().split("\\s+")).containsExactly("0", "100000", "65536");
        assertThat(Files.getAttribute(b.out.resolve("made-inside"), "unix:uid")).isEqualTo(100000);
        assertThat(Files.getAttribute(b.out.resolve("made-inside"), "unix:gid")).isEqualTo(100000);
        assertThat(Files.getAttribute(b.out.resolve("dir-inside"), "unix:uid")).isEqualTo(100000);
    }

    @Test
    void timeNamespaceAppliesTheOffsets() throws Exception {
        Bundles.Bundle b = bundle();
        b.namespace("time", null);
        var offsets = b.linux().putObject("timeOffsets");
        offsets.putObject("monotonic").put("secs", 7 * 86400).put("nanosecs", 0);
        offsets.putObject("boottime").put("secs", 30 * 86400).put("nanosecs", 0);
        String out = ContainerTests.output(rt, b, "cat /proc/self/timens_offsets; cut -d' ' -f1 /proc/uptime");
        double hostUptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
        assertThat(out).contains("monotonic      604800         0").contains("boottime      2592000         0");
        String[] lines = out.strip().split("\n");
        double inside = Double.parseDouble(lines[lines.length - 1]);
        // uptime follows CLOCK_BOOTTIME: shifted by the 30-day offset (a generous margin, no timing).
        assertThat(inside - hostUptime).isBetween(30 * 86400 - 3600.0, 30 * 86400 + 3600.0);
    }

    @Test
    void joiningAnotherContainersNetworkNamespaceByPath() throws Exception {
        Bundles.Bundle a = bundle().args("sleep", "1000").write();
        String idA = Bundles.id("net-a");
        ContainerRecord recA = rt.create(idA, a.dir, null);
        try {
            String nsA = Host.readlink("/proc/" + recA.pid() + "/ns/net");
            Bundles.Bundle b = bundle();
            b.replaceNamespace("network", "/proc/" + recA.pid() + "/ns/net");
            String out = ContainerTests.output(rt, b, "readlink /proc/self/ns/net; readlink /proc/self/ns/uts");
            String[] lines = out.split("\n");
            assertThat(lines[0]).isEqualTo(nsA).isNotEqualTo(Host.readlink("/proc/self/ns/net"));
            assertThat(lines[1]).as("uts is still a new one").isNotEqualTo(Host.readlink("/proc/" + recA.pid() + "/ns/uts"));
        } finally {
            rt.delete(idA, true);
        }
    }
}
