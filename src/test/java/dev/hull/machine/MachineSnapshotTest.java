package dev.hull.machine;

import static dev.hull.machine.MachineTest.hull;
import static dev.hull.machine.MachineTest.inspect;
import static dev.hull.machine.MachineTest.made;
import static dev.hull.machine.MachineTest.ok;
import static dev.hull.machine.MachineTest.unique;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.cli.HullCommand;
import dev.hull.disk.Disk;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull machine snapshot|snapshots|restore|snapshot rm|clone|lock|unlock} on booted Debian
 * machines (MachineTest's template): a snapshot of a running machine (frozen for the copy, thawed
 * after) restores a file changed since to its old bytes, with the template file it deleted still
 * deleted; a clone boots beside its source with an identity of its own; an encrypted disk's snapshot
 * holds no plaintext, and lock/unlock evict and add back its key.
 */
class MachineSnapshotTest {
    @BeforeAll
    static void setUp() throws Exception {
        MachineTest.setUp();
    }

    @AfterAll
    static void tearDown() throws Exception {
        MachineTest.tearDown();
    }

    private static String exec(String name, String script) throws Exception {
        return ok("machine", "exec", name, "sh", "-c", script).out().strip();
    }

    private static String status(String name) throws Exception {
        return inspect(name).get("State").get("Status").asText();
    }

    @Test
    void aRunningMachinesSnapshotRestoresWhatChangedSince() throws Exception {
        String name = unique("ms-snap");
        ok("machine", "create", name);
        made.add(name);
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        exec(name, "echo v1 > /root/f && ln /root/f /root/f.link && rm /etc/issue.net && sync");

        HullCommand.Result s = ok("machine", "snapshot", name, "before");
        assertThat(s.out().strip()).isEqualTo("before");
        assertThat(status(name)).as("thawed after the copy").isEqualTo("running");
        ok("machine", "snapshot", name); // a default name with the time
        HullCommand.Result clash = hull.run("machine", "snapshot", name, "before");
        assertThat(clash.exit()).isEqualTo(125);
        assertThat(clash.err()).startsWith("hull: ").contains("has a snapshot before already");
        HullCommand.Result bad = hull.run("machine", "snapshot", name, "../x");
        assertThat(bad.exit()).isEqualTo(125);
        assertThat(bad.err()).contains("snapshot name ../x");

        String table = ok("machine", "snapshots", name).out();
        assertThat(table).containsPattern("NAME\\s+CREATED\\s+SIZE").containsPattern("\\nbefore\\s+20\\d\\d-")
                .containsPattern("\\nsnap-20\\d{6}-\\d{6}\\s");
        JsonNode first = MachineTest.JSON.readTree(ok("machine", "snapshots", "--format", "json", name).out()
                .lines().findFirst().orElseThrow());
        assertThat(first.get("Name").asText()).isEqualTo("before");
        assertThat(first.get("Running").asBoolean()).isTrue();
        assertThat(first.get("Size").asLong()).isPositive();

        exec(name, "echo v2 > /root/f && rm /root/f.link && touch /root/new");
        HullCommand.Result running = hull.run("machine", "restore", name, "before");
        assertThat(running.exit()).isEqualTo(125);
        assertThat(running.err()).contains("machine " + name + " is running: stop it first");
        assertThat(exec(name, "cat /root/f")).isEqualTo("v2");

        ok("machine", "stop", name);
        HullCommand.Result unknown = hull.run("machine", "restore", name, "nosuch");
        assertThat(unknown.exit()).isEqualTo(125);
        assertThat(unknown.err()).contains("has no snapshot nosuch");
        ok("machine", "restore", name, "before");
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        assertThat(exec(name, "cat /root/f")).isEqualTo("v1");
        assertThat(exec(name, "stat -c %h /root/f")).as("its hard link back").isEqualTo("2");
        assertThat(exec(name, "ls /root/new /etc/issue.net 2>&1 || true")).contains("No such file").doesNotContain(
                "/root/new\n");

        ok("machine", "snapshot", "rm", name, "before");
        assertThat(ok("machine", "snapshots", name).out()).doesNotContain("before");
        assertThat(hull.run("machine", "snapshot", "rm", name, "before").err()).contains("has no snapshot before");
        ok("machine", "rm", "-f", name);
        made.remove(name);
    }

    @Test
    void aCloneBootsBesideItsSourceWithAnIdentityOfItsOwn() throws Exception {
        String src = unique("ms-src");
        ok("machine", "create", src, "--memory", "256m");
        made.add(src);
        ok("machine", "start", src);
        MachineTest.assertBooted(src);
        exec(src, "echo golden > /root/g && sync");
        String srcKey = exec(src, "cat /etc/ssh/ssh_host_ed25519_key.pub");
        String srcId = exec(src, "cat /etc/machine-id");
        ok("machine", "stop", src);

        String clone = unique("ms-clone");
        HullCommand.Result exists = hull.run("machine", "clone", src, src);
        assertThat(exists.exit()).isEqualTo(125);
        ok("machine", "clone", src, clone);
        made.add(clone);
        ok("machine", "start", src);
        ok("machine", "start", clone);
        MachineTest.assertBooted(src);
        MachineTest.assertBooted(clone);
        assertThat(exec(clone, "cat /root/g")).isEqualTo("golden");
        assertThat(exec(clone, "hostname")).isEqualTo(clone);
        assertThat(exec(clone, "cat /etc/machine-id")).isNotEqualTo(srcId)
                .isEqualTo(inspect(clone).get("Id").asText().substring(0, 32));
        HullCommand.Result key = hull.run("machine", "exec", clone, "cat", "/etc/ssh/ssh_host_ed25519_key.pub");
        for (int i = 0; i < 120 && key.exit() != 0; i++) { // made by hull-ssh-keygen.service at its first boot
            Thread.sleep(250);
            key = hull.run("machine", "exec", clone, "cat", "/etc/ssh/ssh_host_ed25519_key.pub");
        }
        assertThat(key.out().strip()).startsWith("ssh-ed25519 ").isNotEqualTo(srcKey);
        assertThat(exec(src, "cat /etc/ssh/ssh_host_ed25519_key.pub")).isEqualTo(srcKey);
        JsonNode a = inspect(src).get("NetworkSettings");
        JsonNode b = inspect(clone).get("NetworkSettings");
        assertThat(inspect(clone).get("Machine").get("IPv4").asText()).isNotEmpty()
                .isNotEqualTo(inspect(src).get("Machine").get("IPv4").asText());
        assertThat(b.toString()).doesNotContain(a.path("MacAddress").asText("no-mac-here"));

        // a clone of the running source (frozen for the copy) of a file written since
        exec(src, "echo later > /root/g && sync");
        String live = unique("ms-live");
        ok("machine", "clone", src, live);
        made.add(live);
        assertThat(status(src)).isEqualTo("running");
        ok("machine", "start", live);
        MachineTest.assertBooted(live);
        assertThat(exec(live, "cat /root/g")).isEqualTo("later");
        for (String n : new String[] {src, clone, live}) {
            ok("machine", "rm", "-f", n);
            made.remove(n);
        }
    }

    @Test
    void anEncryptedDisksSnapshotIsCiphertextAndLockEvictsItsKey() throws Exception {
        Path key = MachineTest.dir.resolve("snap.key");
        byte[] k = new byte[32];
        new java.security.SecureRandom().nextBytes(k);
        Files.write(key, k);
        String name = unique("ms-crypt");
        ok("machine", "create", name, "--disk", "192m", "--encrypt", "--key-file", key.toString());
        made.add(name);
        Path image = Path.of(inspect(name).get("Machine").get("DiskImage").asText());
        Path dir = image.getParent();
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        String marker = "hull-snap-" + unique("secret");
        exec(name, "echo " + marker + " > /root/s");
        ok("machine", "snapshot", name, "one");
        assertThat(status(name)).isEqualTo("running");
        Path snapImage = dir.resolve("snapshots/one/disk.img");
        assertThat(snapImage).exists();
        assertThat(MachineDiskTest.contains(snapImage, marker)).as("the snapshot holds the disk's ciphertext").isFalse();
        exec(name, "echo overwritten > /root/s");

        HullCommand.Result lockRunning = hull.run("machine", "lock", name);
        assertThat(lockRunning.exit()).isEqualTo(125);
        assertThat(lockRunning.err()).contains("is running");
        ok("machine", "stop", name);
        ok("machine", "restore", name, "one", "--key-file", key.toString());
        assertThat(inspect(name).get("Machine").get("DiskLocked").asBoolean()).isFalse();
        assertThat(Disk.boundLoops(image)).as("one loop device on the image, the restored one's").hasSize(1);

        ok("machine", "lock", name);
        assertThat(inspect(name).get("Machine").get("DiskLocked").asBoolean()).isTrue();
        try (var names = Files.list(Disk.content(dir))) {
            assertThat(names.map(p -> p.getFileName().toString())).as("names on the host while locked")
                    .doesNotContain("upper", "work");
        }
        Path upperRoot = Disk.content(dir).resolve("upper/root");
        HullCommand.Result start = hull.run("machine", "start", name);
        assertThat(start.exit()).isEqualTo(125);
        assertThat(start.err()).contains("locked");
        Path wrong = MachineTest.dir.resolve("snap-wrong.key");
        Files.write(wrong, new byte[32]);
        HullCommand.Result bad = hull.run("machine", "unlock", name, "--key-file", wrong.toString());
        assertThat(bad.exit()).isEqualTo(125);
        assertThat(bad.err()).startsWith("hull: ");
        ok("machine", "unlock", name, "--key-file", key.toString());
        assertThat(Files.readString(upperRoot.resolve("s")).strip()).isEqualTo(marker);
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        assertThat(exec(name, "cat /root/s")).isEqualTo(marker);

        HullCommand.Result noDisk = hull.run("machine", "lock", unique("ms-none"));
        assertThat(noDisk.exit()).isEqualTo(125);
        ok("machine", "rm", "-f", name);
        made.remove(name);
        assertThat(dir).doesNotExist();
        assertThat(MachineDiskTest.losetup()).doesNotContain(image.toString());
        assertThat(Files.readString(Path.of("/proc/mounts"))).doesNotContain(dir.toString());
    }

    @Test
    void anExportImportsAsTheSameMachineElsewhere() throws Exception {
        String name = unique("ms-exp");
        // --privileged: the device node made inside (mknod) and the host ids written into its layer below are a
        // privileged machine's; MachineUsernsTest exports and imports an unprivileged one
        ok("machine", "create", name, "--memory", "200m", "--privileged");
        made.add(name);
        // attributes the template's tools cannot set from inside: set on the stopped machine's layer from the host
        Path upper = upper(name);
        sh("mkdir -p " + upper + "/srv/d && cd " + upper + "/srv/d && echo data > f && ln f h && chown 1234:5678 f"
                + " && chmod 4710 f && setfattr -n user.tag -v v1 f && setfacl -m u:99:r f");
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        exec(name, "truncate -s 100M /srv/sparse && echo end >> /srv/sparse && mknod /srv/null c 1 3"
                + " && rm -rf /etc/apt/apt.conf.d && mkdir /etc/apt/apt.conf.d && echo x > /etc/apt/apt.conf.d/only"
                + " && rm /etc/issue && sync");
        String before = exec(name, "stat -c '%h %u:%g %a %s' /srv/d/f; stat -c '%F %t:%T' /srv/null;"
                + " ls /etc/apt/apt.conf.d; cat /etc/machine-id");
        // exported running (frozen for the copy, thawed after): the archive imported below
        Path tar = MachineTest.dir.resolve(name + ".tar");
        ok("machine", "export", name, tar.toString());
        assertThat(status(name)).as("thawed after the export").isEqualTo("running");
        assertThat(exec(name, "echo alive")).isEqualTo("alive");
        ok("machine", "stop", name);
        Path stopped = MachineTest.dir.resolve(name + "-stopped.tar");
        ok("machine", "export", name, stopped.toString());
        assertThat(sh("tar -tf " + stopped + " 2>/dev/null | grep -c '^upper/srv/d/f$'").strip()).isEqualTo("1");
        String list = sh("tar -tvf " + tar + " | head -3");
        assertThat(list).contains("hull-machine.json").contains("upper/");
        String config = sh("tar -xOf " + tar + " hull-machine.json");
        assertThat(config).contains("\"Format\" : \"hull-machine/1\"").contains("\"Distro\" : \"debian:12\"")
                .contains("\"Plaintext\" : true").contains("\"Memory\" : " + (200L << 20));

        String moved = unique("ms-moved");
        HullCommand.Result clash = hull.run("machine", "import", tar.toString(), name);
        assertThat(clash.exit()).isEqualTo(125);
        HullCommand.Result notArchive = hull.run("machine", "import", MachineTest.dir.resolve("template.log").toString(),
                unique("ms-bad"));
        assertThat(notArchive.exit()).isEqualTo(125);
        ProcessBuilder pb = hull.builder("machine", "import", "-", moved).redirectInput(tar.toFile());
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor()).as(err).isZero();
        made.add(moved);
        ok("machine", "start", moved);
        MachineTest.assertBooted(moved);
        assertThat(exec(moved, "stat -c '%h %u:%g %a %s' /srv/d/f; stat -c '%F %t:%T' /srv/null;"
                + " ls /etc/apt/apt.conf.d; cat /etc/machine-id")).as("the same files, the same machine id")
                .isEqualTo(before);
        String attrs = "getfattr --only-values -n user.tag f; echo; getfacl -pn f | grep user:99";
        assertThat(sh("cd " + upper(moved) + "/srv/d && " + attrs)).isEqualTo(sh("cd " + upper + "/srv/d && " + attrs))
                .contains("v1").contains("user:99:r--");
        assertThat(exec(moved, "ls /etc/issue 2>&1 || true")).contains("No such file");
        assertThat(exec(moved, "du -k /srv/sparse | cut -f1; tail -c 4 /srv/sparse")).isEqualTo("4\nend");
        assertThat(inspect(moved).get("Machine").get("Memory").asLong()).isEqualTo(200L << 20);
        for (String n : new String[] {name, moved}) {
            ok("machine", "rm", "-f", n);
            made.remove(n);
        }
    }

    @Test
    void aSnapshotKilledWhileTheMachineWasFrozenIsThawedByTheNext() throws Exception {
        String name = unique("ms-frozen");
        ok("machine", "create", name);
        made.add(name);
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        // what a snapshot killed mid-copy leaves: the machine frozen, its marker naming a process that is gone
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path root = MachineTest.engine.containers().dir(inspect(name).get("Id").asText()).resolve("snapshots");
        Files.createDirectories(root);
        Files.writeString(root.resolve(".frozen-" + gone.pid()), "");
        Files.createDirectories(root.resolve(".tmp-half-" + gone.pid()));
        ok("pause", name);
        assertThat(status(name)).isEqualTo("paused");
        assertThat(ok("machine", "snapshots", name).out().lines().count()).as("no half snapshot listed").isEqualTo(1);
        assertThat(status(name)).isEqualTo("running");
        assertThat(root.resolve(".frozen-" + gone.pid())).doesNotExist();
        ok("machine", "snapshot", name, "after");
        assertThat(root.resolve(".tmp-half-" + gone.pid())).doesNotExist();
        assertThat(exec(name, "echo alive")).isEqualTo("alive");
        ok("machine", "rm", "-f", name);
        made.remove(name);
    }

    /** The machine's upper layer on the host (a machine without a disk of its own). */
    static Path upper(String name) throws Exception {
        return MachineTest.engine.containers().dir(inspect(name).get("Id").asText()).resolve("upper");
    }

    static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-ec", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(script + "\n" + out).isZero();
        return out;
    }
}
