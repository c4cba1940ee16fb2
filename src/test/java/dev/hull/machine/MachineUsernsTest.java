package dev.hull.machine;

import static dev.hull.machine.MachineTest.hull;
import static dev.hull.machine.MachineTest.inspect;
import static dev.hull.machine.MachineTest.made;
import static dev.hull.machine.MachineTest.ok;
import static dev.hull.machine.MachineTest.unique;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.cli.HullCommand;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Machines are unprivileged by default: systemd boots in a user namespace whose root is a range of 65536 host
 * ids leased for the machine (released at rm, two machines never share one); root inside cannot write a host
 * file host root owns bound in read-write, cannot load a module, cannot see the host's processes, where a
 * {@code --privileged} machine (the host's ids) can write it. A clone, an export and an import keep the owners
 * as the machine sees them. Uses MachineTest's template (built once per JVM).
 */
class MachineUsernsTest {
    static final Path LEASES = Path.of("/var/lib/hull-subids");

    @BeforeAll
    static void setUp() throws Exception {
        MachineTest.setUp();
    }

    @AfterAll
    static void tearDown() throws Exception {
        MachineTest.tearDown();
    }

    @Test
    void aMachinesRootIsARangeOfItsOwnWithNoHostPrivilege() throws Exception {
        Path share = Files.createTempDirectory(MachineTest.dir, "share-");
        Files.setPosixFilePermissions(share, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = share.resolve("hosts-file");
        Files.writeString(file, "host\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Path bogus = share.resolve("bogus.ko"); // not a module: host root gets past the permission check, EPERM is it
        Files.write(bogus, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static is not installed (the"
                + " template has no insmod: the test binds the host's static busybox in for it)");

        String a = unique("mu-a"), b = unique("mu-b");
        ok("machine", "create", a, "-v", share + ":/share", "-v", "/bin/busybox:/hostbin/busybox:ro");
        made.add(a);
        ok("machine", "create", b);
        made.add(b);
        JsonNode ua = inspect(a).get("Machine"), ub = inspect(b).get("Machine");
        assertThat(ua.get("Privileged").asBoolean()).isFalse();
        long startA = ua.get("UserNamespace").get("uid").asLong(), startB = ub.get("UserNamespace").get("uid").asLong();
        assertThat(ua.get("UserNamespace").get("size").asLong()).isEqualTo(65536);
        assertThat(startA).isGreaterThan(0);
        assertThat(Math.abs(startA - startB)).as("two machines, disjoint ranges").isGreaterThanOrEqualTo(65536);
        assertThat(ok("machine", "ls").out()).containsPattern(a + "\\s+created\\s.*uid:" + startA + ":65536");
        Path leaseA = lease(a);
        assertThat(leaseA).as("machine " + a + "'s lease in " + LEASES).isNotNull();

        ok("machine", "start", a);
        MachineTest.assertBooted(a);
        assertThat(ok("machine", "exec", a, "cat", "/proc/self/uid_map").out().strip().split("\\s+"))
                .containsExactly("0", String.valueOf(startA), "65536");
        // systemd's own cgroup subtree is its root's (handed over), the limits' hierarchies are not
        assertThat(ok("machine", "exec", a, "stat", "-c", "%u", "/sys/fs/cgroup/systemd/cgroup.procs").out().strip())
                .isEqualTo("0");
        HullCommand.Result write = hull.run("machine", "exec", a, "sh", "-c", "echo machine >> /share/hosts-file");
        assertThat(write.exit()).as(write.toString()).isNotZero();
        assertThat(write.err()).contains("Permission denied");
        assertThat(Files.readString(file)).isEqualTo("host\n");
        HullCommand.Result insmod = hull.run("machine", "exec", a, "/hostbin/busybox", "insmod", "/share/bogus.ko");
        assertThat(insmod.exit()).as(insmod.toString()).isNotZero();
        assertThat(insmod.err()).contains("Operation not permitted");
        // the host's processes (this JVM among them) are not in its /proc
        String comms = ok("machine", "exec", a, "sh", "-c", "cat /proc/[0-9]*/comm").out();
        assertThat(comms).contains("systemd").doesNotContain("java");
        assertThat(ok("machine", "exec", a, "sh", "-c", "ls -d /proc/[0-9]* | wc -l").out().strip())
                .satisfies(n -> assertThat(Integer.parseInt(n)).isLessThan(40));

        // a file a user inside owns lands in the range on the host
        ok("machine", "exec", a, "sh", "-c", "echo mine > /root/owned && chown 1000:1000 /root/owned");
        Path upper = MachineTest.dir.resolve("home/containers").resolve(inspect(a).get("Id").asText()).resolve("upper");
        assertThat(Files.getAttribute(upper.resolve("root/owned"), "unix:uid")).isEqualTo((int) (startA + 1000));

        // export: owners as seen inside; import and clone: the same owners inside, their own range outside
        Path tar = MachineTest.dir.resolve(a + ".tar");
        ok("machine", "export", a, tar.toString());
        assertThat(owner(tar, "upper/root/owned")).containsExactly(1000L, 1000L);
        String imported = unique("mu-imp"), clone = unique("mu-cln");
        ok("machine", "import", tar.toString(), imported);
        made.add(imported);
        ok("machine", "clone", a, clone);
        made.add(clone);
        for (String m : new String[] {imported, clone}) {
            JsonNode u = inspect(m).get("Machine").get("UserNamespace");
            assertThat(u).as(m + " runs in a user namespace").isNotNull();
            assertThat(u.get("uid").asLong()).isNotEqualTo(startA);
            ok("machine", "start", m);
            MachineTest.assertBooted(m);
            assertThat(ok("machine", "exec", m, "stat", "-c", "%u:%g", "/root/owned").out().strip())
                    .isEqualTo("1000:1000");
            assertThat(ok("machine", "exec", m, "stat", "-c", "%u", "/etc/shadow", "/root").out().strip().split("\\s+"))
                    .containsOnly("0");
            ok("machine", "rm", "-f", m);
        }

        ok("machine", "rm", "-f", a);
        assertThat(Files.exists(leaseA)).as("rm gives the range back").isFalse();
        ok("machine", "rm", "-f", b);
    }

    @Test
    void aPrivilegedMachineKeepsTheHostsIds() throws Exception {
        Path share = Files.createTempDirectory(MachineTest.dir, "share-");
        Path file = share.resolve("hosts-file");
        Files.writeString(file, "host\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        String p = unique("mu-priv");
        ok("machine", "create", p, "--privileged", "-v", share + ":/share");
        made.add(p);
        JsonNode m = inspect(p).get("Machine");
        assertThat(m.get("Privileged").asBoolean()).isTrue();
        assertThat(m.has("UserNamespace")).isFalse();
        assertThat(lease(p)).isNull();
        ok("machine", "start", p);
        MachineTest.assertBooted(p);
        assertThat(ok("machine", "exec", p, "cat", "/proc/self/uid_map").out().strip().split("\\s+"))
                .containsExactly("0", "0", "4294967295");
        ok("machine", "exec", p, "sh", "-c", "echo machine >> /share/hosts-file");
        assertThat(Files.readString(file)).as("the host's root: the write the unprivileged machine cannot make")
                .isEqualTo("host\nmachine\n");
        ok("machine", "rm", "-f", p);
    }

    @Test
    void withoutIdmappedLayersTheCopyIsShiftedOnceAtCreate() throws Exception {
        // the copy snapshotter (no overlayfs, or HULL_SNAPSHOTTER=copy): the machine's own copy of the template
        HullCommand copy = new HullCommand(MachineTest.dir.resolve("home"), MachineTest.dir.resolve("state"),
                java.util.Map.of("HULL_NO_SERVICE", "1", "HULL_SNAPSHOTTER", "copy"));
        String name = unique("mu-copy");
        HullCommand.Result r = copy.run("machine", "create", name);
        assertThat(r.exit()).as(r.toString()).isZero();
        made.add(name);
        JsonNode u = inspect(name).get("Machine").get("UserNamespace");
        long start = u.get("uid").asLong();
        Path rootfs = MachineTest.dir.resolve("home/containers").resolve(inspect(name).get("Id").asText())
                .resolve("rootfs");
        assertThat(Files.getAttribute(rootfs.resolve("etc/shadow"), "unix:uid")).isEqualTo((int) start);
        assertThat(Files.getAttribute(rootfs.resolve("etc/shadow"), "unix:gid")).isEqualTo((int) (start + 42));
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        assertThat(ok("machine", "exec", name, "stat", "-c", "%u:%g", "/etc/shadow").out().strip()).isEqualTo("0:42");
        assertThat(ok("machine", "exec", name, "cat", "/proc/self/uid_map").out().strip().split("\\s+"))
                .containsExactly("0", String.valueOf(start), "65536");
        Path lease = lease(name);
        ok("machine", "rm", "-f", name);
        assertThat(Files.exists(lease)).isFalse();
    }

    /** The lease file naming the machine's container directory, or null. */
    private static Path lease(String machine) throws Exception {
        String id = inspect(machine).get("Id").asText();
        if (!Files.isDirectory(LEASES)) {
            return null;
        }
        try (var files = Files.list(LEASES)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().startsWith(".")
                        && Files.readAllLines(f).getFirst().endsWith("/" + id)) {
                    return f;
                }
            }
        }
        return null;
    }

    private static long[] owner(Path tar, String name) throws Exception {
        try (InputStream in = Files.newInputStream(tar); TarArchiveInputStream t = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e = t.getNextEntry(); e != null; e = t.getNextEntry()) {
                if (e.getName().equals(name)) {
                    return new long[] {e.getLongUserId(), e.getLongGroupId()};
                }
            }
        }
        throw new AssertionError(name + " not in " + tar);
    }
}
