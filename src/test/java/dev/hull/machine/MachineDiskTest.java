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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code machine create --disk SIZE [--encrypt --key-file F]}: everything a booted machine writes is on
 * a sized disk of its own — df / inside shows the limit, dd past it ends in ENOSPC inside with the bytes
 * in the disk's image, {@code set --disk} grows it, rm leaves no mount or loop device; an encrypted
 * disk's image holds no plaintext the machine wrote. Uses MachineTest's template (built once per JVM).
 */
class MachineDiskTest {
    static final long MIB = 1L << 20;

    @BeforeAll
    static void setUp() throws Exception {
        MachineTest.setUp();
    }

    @AfterAll
    static void tearDown() throws Exception {
        MachineTest.tearDown();
    }

    @Test
    void aSizedDiskLimitsAllItWritesGrowsAndGoesWithRm() throws Exception {
        String name = unique("md-sized");
        ok("machine", "create", name, "--disk", "256m");
        made.add(name);
        JsonNode m = inspect(name).get("Machine");
        assertThat(m.get("DiskSize").asLong()).isEqualTo(256 * MIB);
        assertThat(m.get("DiskEncrypted").asBoolean()).isFalse();
        Path image = Path.of(m.get("DiskImage").asText());
        Path dir = image.getParent();
        assertThat(ok("machine", "ls").out()).containsPattern(name + "\\s+created\\s.*[0-9.]+[KMG]?/256M\\s+false");
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        assertThat(dfSize(name)).as("df / inside: the disk's size, less ext4's own").isBetween(200 * MIB, 256 * MIB);

        // a marker written inside lands in the image in the clear (what the encrypted test looks for)
        String marker = "hull-plain-" + unique("marker");
        ok("machine", "exec", name, "sh", "-c", "echo " + marker + " > /root/plain.txt && sync");
        assertThat(contains(image, marker)).as("the unencrypted image holds the marker").isTrue();

        // past the limit: ENOSPC inside; the bytes are in the image, not beside it on the host
        HullCommand.Result dd = hull.run("machine", "exec", name, "dd", "if=/dev/zero", "of=/root/fill", "bs=1M",
                "count=400");
        assertThat(dd.exit()).as(dd.toString()).isNotZero();
        assertThat(dd.err()).contains("No space left on device");
        assertThat(hostBytes(dir)).as("what the machine's directory holds on the host's filesystem (du -x)")
                .isLessThan(256 * MIB + 32 * MIB);
        assertThat(inspect(name).get("Machine").get("Disk").asLong()).as("used, as df inside").isGreaterThan(200 * MIB);
        ok("machine", "exec", name, "sh", "-c", "rm /root/fill && sync");

        // a disk only grows; growing is online where the kernel lets Hull, else stopped
        HullCommand.Result shrink = hull.run("machine", "set", name, "--disk", "128m");
        assertThat(shrink.exit()).isEqualTo(125);
        assertThat(shrink.err()).contains("only grows");
        HullCommand.Result grow = hull.run("machine", "set", name, "--disk", "384m");
        if (grow.exit() != 0) {
            assertThat(grow.exit()).isEqualTo(125);
            assertThat(grow.err()).as("refused live only for lack of CAP_SYS_RESOURCE").contains("stop it");
            System.out.println("MachineDiskTest: grown stopped (" + grow.err().strip() + ")");
            ok("machine", "stop", name);
            ok("machine", "set", name, "--disk", "384m");
            ok("machine", "start", name);
            MachineTest.assertBooted(name);
        } else {
            System.out.println("MachineDiskTest: grown live");
        }
        assertThat(dfSize(name)).as("df / inside after the grow").isBetween(330 * MIB, 384 * MIB);
        assertThat(inspect(name).get("Machine").get("DiskSize").asLong()).isEqualTo(384 * MIB);
        assertThat(ok("machine", "exec", name, "cat", "/root/plain.txt").out().strip()).isEqualTo(marker);
        assertThat(ok("machine", "ls").out()).containsPattern(name + "\\s+running\\s.*/384M\\s+false");

        ok("machine", "rm", "-f", name);
        made.remove(name);
        assertThat(dir).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/mounts"))).doesNotContain(dir.toString());
        assertThat(losetup()).as("a loop device on the machine's image").doesNotContain(image.toString());
    }

    @Test
    void anEncryptedDiskHoldsNoPlaintext() throws Exception {
        Path key = MachineTest.dir.resolve("machine.key");
        byte[] k = new byte[32];
        new java.security.SecureRandom().nextBytes(k);
        Files.write(key, k);
        String name = unique("md-crypt");
        HullCommand.Result noDisk = hull.run("machine", "create", name, "--encrypt", "--key-file", key.toString());
        assertThat(noDisk.exit()).isEqualTo(125);
        assertThat(noDisk.err()).contains("--encrypt needs a disk").contains("--disk SIZE");
        HullCommand.Result noKey = hull.run("machine", "create", name, "--disk", "128m", "--encrypt");
        assertThat(noKey.exit()).isEqualTo(125);
        assertThat(noKey.err()).contains("--encrypt needs --key-file");
        assertThat(ok("machine", "ls").out()).doesNotContain(name);

        ok("machine", "create", name, "--disk", "128m", "--encrypt", "--key-file", key.toString());
        made.add(name);
        JsonNode m = inspect(name).get("Machine");
        assertThat(m.get("DiskEncrypted").asBoolean()).isTrue();
        assertThat(m.get("DiskLocked").asBoolean()).isFalse();
        Path image = Path.of(m.get("DiskImage").asText());
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        String content = "hull-secret-" + unique("content");
        String file = "hull-secret-" + unique("name");
        ok("machine", "exec", name, "sh", "-c", "echo " + content + " > /root/" + file + " && sync");
        assertThat(ok("machine", "exec", name, "cat", "/root/" + file).out().strip()).isEqualTo(content);
        assertThat(contains(image, content)).as("the file's contents in the raw image").isFalse();
        assertThat(contains(image, file)).as("the file's name in the raw image").isFalse();

        // as after a host reboot: the disk unmounted, its key gone; start refuses and names the fix
        ok("machine", "stop", name);
        Path dir = image.getParent();
        dev.hull.disk.Disk.release(dir);
        for (int i = 0; i < 600 && !dev.hull.disk.Disk.boundLoops(image).isEmpty(); i++) {
            Thread.sleep(100); // the stopped machine's namespace lets go of the filesystem
        }
        HullCommand.Result locked = hull.run("machine", "start", name);
        assertThat(locked.exit()).as(locked.toString()).isEqualTo(125);
        assertThat(locked.err()).contains("encrypted and locked").contains("hull machine set " + name + " --key-file");
        assertThat(inspect(name).get("Machine").get("DiskLocked").asBoolean()).isTrue();
        Path wrong = MachineTest.dir.resolve("wrong.key");
        Files.write(wrong, new byte[32]);
        assertThat(hull.run("machine", "set", name, "--key-file", wrong.toString()).exit()).isEqualTo(125);
        ok("machine", "set", name, "--key-file", key.toString());
        ok("machine", "start", name);
        MachineTest.assertBooted(name);
        assertThat(ok("machine", "exec", name, "cat", "/root/" + file).out().strip()).isEqualTo(content);
        ok("machine", "rm", "-f", name);
        made.remove(name);
        assertThat(losetup()).doesNotContain(image.toString());
    }

    /** df's size of / inside the machine, in bytes. */
    static long dfSize(String name) throws Exception {
        List<String> lines = ok("machine", "exec", name, "df", "-B1", "--output=size", "/").out().strip().lines().toList();
        return Long.parseLong(lines.getLast().strip());
    }

    /** Whether the file holds the text's bytes (read in chunks that overlap by the text's length). */
    static boolean contains(Path file, String text) throws Exception {
        byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
        byte[] buf = new byte[(4 << 20) + needle.length];
        try (InputStream in = Files.newInputStream(file)) {
            int have = 0;
            for (int n; (n = in.read(buf, have, buf.length - have)) > 0;) {
                have += n;
                if (have == buf.length) {
                    if (indexOf(buf, have, needle) >= 0) {
                        return true;
                    }
                    System.arraycopy(buf, have - needle.length, buf, 0, needle.length);
                    have = needle.length;
                }
            }
            return indexOf(buf, have, needle) >= 0;
        }
    }

    private static int indexOf(byte[] buf, int len, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= len; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (buf[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Bytes du -x counts in dir: on the host's filesystem only (the image's allocated blocks, not its mount). */
    static long hostBytes(Path dir) throws Exception {
        Process p = new ProcessBuilder("du", "-s", "-x", "-B1", dir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return Long.parseLong(out.split("\\s+")[0]);
    }

    static String losetup() throws Exception {
        Process p = new ProcessBuilder("losetup", "-a").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
