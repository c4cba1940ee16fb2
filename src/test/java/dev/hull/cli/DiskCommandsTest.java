package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.disk.Disk;
import dev.hull.disk.DiskSpec;
import dev.hull.disk.Mounts;
import dev.hull.linux.Syscalls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sized and encrypted disks through hull: --storage-opt size= (the container's root), volume create
 * -o size=/encrypt=/key-file=, volume lock/unlock/resize; ENOSPC inside with the bytes in the
 * disk's image; nothing mounted or bound to a loop device after removal, a killed monitor, or a
 * killed creation; no plaintext name or content in an encrypted image.
 */
class DiskCommandsTest {
    static Flags f;
    static Path home;

    /** What a sized disk needs of the host: loop devices and mkfs.ext4. */
    static void assumeDisks() {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no /dev/loop-control: no loop devices");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/mkfs.ext4")) || Files.isExecutable(
                Path.of("/sbin/mkfs.ext4")), "no mkfs.ext4 (e2fsprogs)");
    }

    @BeforeAll
    static void setUp() throws Exception {
        assumeDisks();
        f = new Flags("disks");
        home = f.dir.resolve("home");
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    static HullCommand.Result hull(String... args) throws Exception {
        return f.hull.run(args);
    }

    static void ok(HullCommand.Result r) {
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    /** Nothing of the disk in dir is left: no mount under dir, no loop device bound to its image (waits for autoclear). */
    static void assertReleased(Path dir) throws Exception {
        Path image = Disk.image(dir);
        for (int i = 0; i < 600 && !Disk.boundLoops(image).isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(Disk.boundLoops(image)).as("loop devices bound to " + image).isEmpty();
        assertThat(Mounts.under(dir)).as("mounts under " + dir).isEmpty();
    }

    @Test
    void aSizedRootStopsWritesInsideAndIsReleasedWithItsContainer() throws Exception {
        String id = f.create("--storage-opt", "size=64m", "busybox", "sh", "-c",
                "df -k / | tail -1; dd if=/dev/zero of=/big bs=1M count=200; echo dd=$?; sync; ls -l /big");
        Path dir = f.engine.containers().dir(id);
        HullCommand.Result r = hull("start", "-a", id);
        String[] df = r.out().lines().findFirst().orElseThrow().trim().split("\\s+");
        assertThat(Long.parseLong(df[1]) * 1024).as(r.toString()).isBetween(40L << 20, 64L << 20);
        assertThat(r.err()).contains("No space left on device");
        assertThat(r.out()).contains("dd=1");
        long written = Long.parseLong(r.out().lines().filter(l -> l.contains("/big")).findFirst().orElseThrow()
                .trim().split("\\s+")[4]);
        assertThat(written).isBetween(30L << 20, 64L << 20);
        // the bytes landed in the container's image, not in the host's free space elsewhere
        assertThat(Disk.status(dir).allocated()).isGreaterThanOrEqualTo(written);
        assertThat(Disk.status(dir).size()).isEqualTo(64L << 20);
        f.remove(id);
        assertReleased(dir);
        assertThat(dir).doesNotExist();
    }

    @Test
    void racingWritersAllStopAtTheLimit() throws Exception {
        String out = f.output("--rm", "--storage-opt", "size=64m", "busybox", "sh", "-c",
                "for i in 1 2 3 4; do (dd if=/dev/zero of=/f$i bs=1M count=100 2>&1 | grep -o 'No space left on device')"
                + " & done; wait; sync; du -ck /f1 /f2 /f3 /f4 | tail -1");
        assertThat(out.lines().filter(l -> l.equals("No space left on device")).count()).as(out).isEqualTo(4);
        long total = Long.parseLong(out.lines().reduce((a, b) -> b).orElseThrow().trim().split("\\s+")[0]) * 1024;
        assertThat(total).as(out).isBetween(30L << 20, 64L << 20);
    }

    @Test
    void whatAKilledContainerCreationLeftMountedIsDetachedByContainerPrune() throws Exception {
        // what a create killed after making and mounting its disk leaves: a container directory without its record
        Path debris = f.engine.containers().dir(java.util.HexFormat.of().formatHex(java.security.SecureRandom
                .getSeed(32)));
        assertPruneClearsAMountedDisk(debris, "container", "prune");
    }

    /** Makes a mounted disk in debris (what a killed command left), runs hull args, asserts nothing of it is left. */
    static void assertPruneClearsAMountedDisk(Path debris, String... args) throws Exception {
        Files.createDirectories(debris);
        Disk.create(debris, new DiskSpec(32L << 20, false, null));
        assertThat(Mounts.under(debris)).isNotEmpty();
        ok(hull(args));
        assertReleased(debris);
        assertThat(debris).doesNotExist();
    }

    @Test
    void updateGrowsAContainersDisk() throws Exception {
        String id = f.create("--storage-opt", "size=32m", "busybox", "sh", "-c", "df -k / | tail -1");
        ok(hull("update", "--storage-opt", "size=96m", id));
        HullCommand.Result r = hull("start", "-a", id);
        assertThat(Long.parseLong(r.out().trim().split("\\s+")[1]) * 1024).as(r.toString())
                .isBetween(80L << 20, 96L << 20);
        assertThat(f.engine.containers().read(id).options().storageOpts).containsExactly("size=100663296");
        HullCommand.Result smaller = hull("update", "--storage-opt", "size=48m", id);
        assertThat(smaller.exit()).isEqualTo(1);
        assertThat(smaller.err()).contains("only grows");
        String plain = f.create("busybox", "true");
        assertThat(hull("update", "--storage-opt", "size=1g", plain).err()).contains("has no disk of its own");
        f.remove(id);
        f.remove(plain);
    }

    @Test
    void aKilledMonitorLeavesTheDiskToRemovalWhichReleasesIt() throws Exception {
        String id = f.detached("--storage-opt", "size=32m", "busybox", "sleep", "1000");
        Path dir = f.engine.containers().dir(id);
        assertThat(Disk.boundLoops(Disk.image(dir))).hasSize(1);
        var m = f.status(id);
        Syscalls.kill(m.monitorPid(), 9);
        Syscalls.kill(m.pid(), 9);
        f.awaitExited(id, 60_000);
        ok(hull("start", id)); // again after the crash: its disk is there and mounted
        f.remove(id);
        assertReleased(dir);
    }

    @Test
    void badStorageOptionsAreRefusedClearly() throws Exception {
        HullCommand.Result r = hull("run", "--rm", "--storage-opt", "size=12zz", "busybox", "true");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("hull: --storage-opt size=12zz");
        r = hull("run", "--rm", "--storage-opt", "color=red", "busybox", "true");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("--storage-opt color");
        r = hull("volume", "create", "-o", "size=1m", "tiny-" + System.nanoTime());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("at least 16m");
    }

    @Test
    void aSizedVolumeIsAHardLimitThatGrowsAndGoesWithTheVolume() throws Exception {
        String name = "quota-" + System.nanoTime();
        ok(hull("volume", "create", "-o", "size=48m", name));
        Path dir = home.resolve("volumes").resolve(name);
        Flags.Result r = f.run("--rm", "-v", name + ":/q", "busybox", "sh", "-c",
                "dd if=/dev/zero of=/q/f bs=1M count=100; echo dd=$?; df -k /q | tail -1");
        assertThat(r.err()).as(r.toString()).contains("No space left on device");
        assertThat(r.out()).contains("dd=1");
        ok(hull("volume", "resize", name, "96m"));
        String df = f.output("--rm", "-v", name + ":/q", "busybox", "sh", "-c", "rm /q/f; df -k /q | tail -1");
        assertThat(Long.parseLong(df.trim().split("\\s+")[1]) * 1024).isBetween(80L << 20, 96L << 20);
        assertThat(hull("volume", "inspect", "-f", "{{json .Status}}", name).out()).contains("\"Size\":100663296");
        // grown while a container holds it: online, or (where the kernel refuses that) refused with the reason;
        // either way the host's mount and the container's are one filesystem (one loop device), never two
        String user = f.detached("-v", name + ":/q", "busybox", "sleep", "1000");
        HullCommand.Result grow = hull("volume", "resize", name, "112m");
        if (grow.exit() != 0) {
            assertThat(grow.err()).contains("is in use");
        }
        Files.writeString(dir.resolve("disk").resolve("data").resolve("from-host"), "same fs");
        assertThat(hull("exec", user, "cat", "/q/from-host").out()).isEqualTo("same fs");
        assertThat(Disk.boundLoops(Disk.image(dir))).hasSize(1);
        f.remove(user);
        ok(hull("volume", "rm", name));
        assertReleased(dir);
        assertThat(dir).doesNotExist();
    }

    @Test
    void whatAKilledVolumeCreationLeftMountedIsDetachedByPrune() throws Exception {
        // exactly what a create killed after making and mounting its disk leaves: a hidden directory with it mounted
        assertPruneClearsAMountedDisk(home.resolve("volumes").resolve(".creating-killed-" + System.nanoTime()),
                "volume", "prune");
    }

    @Test
    void anEncryptedVolumeHidesNamesAndContentsAndLocks() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/sys/fs/ext4/features/encryption")),
                "this kernel's ext4 has no encryption (fscrypt)");
        Path key = f.dir.resolve("volume.key");
        Files.write(key, java.security.SecureRandom.getSeed(32));
        String marker = "PLAINTEXT-MARKER-" + System.nanoTime();
        String file = "secret-name-" + System.nanoTime();
        String plain = "plain-" + System.nanoTime();
        String sec = "sec-" + System.nanoTime();
        ok(hull("volume", "create", "-o", "size=32m", plain));
        ok(hull("volume", "create", "-o", "size=32m", "-o", "encrypt=true", "-o", "key-file=" + key, sec));
        String write = "for i in $(seq 200); do echo " + marker + "; done > /v/" + file + "; sync";
        f.output("--rm", "-v", plain + ":/v", "busybox", "sh", "-c", write);
        f.output("--rm", "-v", sec + ":/v", "busybox", "sh", "-c", write);
        assertThat(f.output("--rm", "-v", sec + ":/v", "busybox", "sh", "-c", "ls /v; head -1 /v/" + file))
                .isEqualTo(file + "\n" + marker + "\n");
        // the control: the same bytes on a plain disk are in its image in the clear
        assertThat(rawImage(plain)).contains(marker).contains(file);
        assertThat(rawImage(sec)).doesNotContain(marker).doesNotContain(file);
        assertThat(Files.readString(home.resolve("volumes").resolve(sec).resolve("disk.json")))
                .contains("WrappedKey").contains("\"Encrypted\" : true");

        ok(hull("volume", "lock", sec));
        assertThat(hull("volume", "inspect", "-f", "{{json .Status}}", sec).out()).contains("\"Locked\":true");
        Path data = home.resolve("volumes").resolve(sec).resolve("disk").resolve("data");
        try (var s = Files.list(data)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).hasSize(1).doesNotContain(file);
        }
        Flags.Result r = f.run("--rm", "-v", sec + ":/v", "busybox", "cat", "/v/" + file);
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.out()).doesNotContain(marker);

        // a locked volume's backup: a clear error, no archive of ciphertext names
        HullCommand.Result export = hull("volume", "export", "-o", f.dir.resolve("locked.tar").toString(), sec);
        assertThat(export.exit()).as(export.toString()).isEqualTo(1);
        assertThat(export.err()).contains("hull: volume " + sec + " is locked");
        assertThat(f.dir.resolve("locked.tar")).doesNotExist();

        Path wrong = f.dir.resolve("wrong.key");
        Files.write(wrong, java.security.SecureRandom.getSeed(32));
        HullCommand.Result bad = hull("volume", "unlock", "--key-file", wrong.toString(), sec);
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("hull: wrong key for volume " + sec);
        ok(hull("volume", "unlock", "--key-file", key.toString(), sec));
        assertThat(f.output("--rm", "-v", sec + ":/v", "busybox", "head", "-1", "/v/" + file)).isEqualTo(marker + "\n");
        ok(hull("volume", "export", "-o", f.dir.resolve("unlocked.tar").toString(), sec));
        assertThat(Files.readString(f.dir.resolve("unlocked.tar"), java.nio.charset.StandardCharsets.ISO_8859_1))
                .as("the unlocked volume's backup holds its plaintext").contains(marker);
        // growing it (unmounted where online resizing is refused) keeps it unlocked with its key file
        ok(hull("volume", "resize", "--key-file", key.toString(), sec, "48m"));
        assertThat(f.output("--rm", "-v", sec + ":/v", "busybox", "head", "-1", "/v/" + file)).isEqualTo(marker + "\n");
        ok(hull("volume", "rm", plain, sec));
        assertReleased(home.resolve("volumes").resolve(sec));
    }

    @Test
    void anEncryptedRootKeepsNoPlaintextAndStartsOnlyUnlocked() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/sys/fs/ext4/features/encryption")),
                "this kernel's ext4 has no encryption (fscrypt)");
        Path key = f.dir.resolve("root.key");
        Files.write(key, java.security.SecureRandom.getSeed(32));
        String marker = "ROOT-MARKER-" + System.nanoTime();
        String file = "root-secret-" + System.nanoTime();
        String id = f.create("--storage-opt", "size=64m", "--storage-opt", "encrypt=true", "--storage-opt",
                "key-file=" + key, "busybox", "sh", "-c", "test -f /" + file + " || { for i in $(seq 200); do echo "
                + marker + "; done > /" + file + "; }; sync; head -1 /" + file);
        HullCommand.Result r = hull("start", "-a", id);
        assertThat(r.out()).as(r.toString()).isEqualTo(marker + "\n");
        Path dir = f.engine.containers().dir(id);
        String raw = new String(Files.readAllBytes(Disk.image(dir)), StandardCharsets.ISO_8859_1);
        assertThat(raw).doesNotContain(marker).doesNotContain(file);

        Disk.lock(dir, "test"); // the key gone, as after a reboot
        r = hull("start", "-a", id);
        assertThat(r.exit()).as(r.toString()).isEqualTo(1); // docker's start: 1 when it cannot start
        assertThat(r.err()).contains("encrypted and locked").contains("hull update --storage-opt key-file=FILE");
        Path wrong = f.dir.resolve("wrong-root.key");
        Files.write(wrong, java.security.SecureRandom.getSeed(32));
        assertThat(hull("update", "--storage-opt", "key-file=" + wrong, id).err()).contains("wrong key");
        ok(hull("update", "--storage-opt", "key-file=" + key, id));
        r = hull("start", "-a", id);
        assertThat(r.out()).as(r.toString()).isEqualTo(marker + "\n"); // its file from the first run, read back
        f.remove(id);
        assertReleased(dir);
    }

    private static String rawImage(String volume) throws Exception {
        return new String(Files.readAllBytes(Disk.image(home.resolve("volumes").resolve(volume))),
                StandardCharsets.ISO_8859_1);
    }

    @Test
    void infoNamesTheDiskMechanism() throws Exception {
        HullCommand.Result r = hull("info");
        assertThat(r.out()).contains("Disks: loop (a sparse ext4 image on a loop device per disk)");
    }
}
