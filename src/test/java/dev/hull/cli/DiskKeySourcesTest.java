package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.linux.Keyring;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An encrypted volume's key-encryption key from root's user keyring ({@code key-file=keyring:NAME})
 * and from a passphrase typed on a terminal ({@code key-file=passphrase}, on a pty the test holds),
 * through the hull CLI: made, locked, refused with the wrong key, unlocked with the right one.
 */
class DiskKeySourcesTest {
    static Flags f;

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no /dev/loop-control: no loop devices");
        Assumptions.assumeTrue(Files.exists(Path.of("/sys/fs/ext4/features/encryption")),
                "this kernel's ext4 has no encryption (fscrypt)");
        f = new Flags("diskkeys");
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    static HullCommand.Result ok(String... args) throws Exception {
        HullCommand.Result r = f.hull.run(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    /** hull args on a pty the test holds, through steps: what the terminal showed, then "EXIT status". */
    static String onPty(List<java.util.Map<String, Object>> steps, String... args) throws Exception {
        ProcessBuilder hb = f.hull.builder(args);
        return AttachTest.onPty(f.dir, hb.environment(), steps, hb.command());
    }

    /** Nothing typed until the prompt shows: typed earlier, the terminal would still echo it. */
    static final java.util.Map<String, Object> PROMPT = AttachTest.stepOnce("", "Passphrase for the disk's key:");

    static String read(String volume, String file) throws Exception {
        return f.output("--rm", "-v", volume + ":/v", "busybox", "cat", "/v/" + file);
    }

    @Test
    void aKeyFromRootsUserKeyringWrapsTheDiskKey() throws Exception {
        String key = "hull-test-kek-" + System.nanoTime();
        String vol = "kr-" + System.nanoTime();
        byte[] secret = java.security.SecureRandom.getSeed(32);
        long id = Keyring.addUserKey(key, secret);
        try {
            ok("volume", "create", "-o", "size=32m", "-o", "encrypt=true", "-o", "key-file=keyring:" + key, vol);
            f.output("--rm", "-v", vol + ":/v", "busybox", "sh", "-c", "echo kept > /v/f");
            ok("volume", "lock", vol);
            assertThat(f.run("--rm", "-v", vol + ":/v", "busybox", "cat", "/v/f").exit()).isNotZero();
            // another keyring key is the wrong one
            String other = key + "-other";
            long otherId = Keyring.addUserKey(other, java.security.SecureRandom.getSeed(32));
            try {
                HullCommand.Result bad = f.hull.run("volume", "unlock", "--key-file", "keyring:" + other, vol);
                assertThat(bad.exit()).as(bad.toString()).isEqualTo(1);
                assertThat(bad.err()).contains("wrong key for volume " + vol);
            } finally {
                Keyring.unlink(otherId);
            }
            ok("volume", "unlock", "--key-file", "keyring:" + key, vol);
            assertThat(read(vol, "f")).isEqualTo("kept\n");
            // the same bytes in a file are the same key
            ok("volume", "lock", vol);
            Path file = f.dir.resolve("kek");
            Files.write(file, secret);
            ok("volume", "unlock", "--key-file", file.toString(), vol);
            assertThat(read(vol, "f")).isEqualTo("kept\n");
            assertThat(Files.readString(f.dir.resolve("home/volumes").resolve(vol).resolve("disk.json")))
                    .doesNotContain(java.util.HexFormat.of().formatHex(secret))
                    .doesNotContain(java.util.Base64.getEncoder().encodeToString(secret));
        } finally {
            Keyring.unlink(id);
        }
        // gone from the keyring: a clear error naming the keyring and how to add it
        ok("volume", "lock", vol);
        HullCommand.Result gone = f.hull.run("volume", "unlock", "--key-file", "keyring:" + key, vol);
        assertThat(gone.exit()).as(gone.toString()).isEqualTo(1);
        assertThat(gone.err()).contains("root's user keyring has no user key " + key).contains("keyctl add user");
        ok("volume", "rm", vol);
    }

    @Test
    void aPassphraseTypedOnTheTerminalWrapsTheDiskKey() throws Exception {
        String vol = "pp-" + System.nanoTime();
        String pass = "correct horse " + System.nanoTime();
        // made: the passphrase twice (a command asking for one runs where the terminal is, warm or cold)
        String out = onPty(List.of(PROMPT, AttachTest.stepOnce(pass + "\n", "again"),
                AttachTest.stepOnce(pass + "\n", null)), "volume", "create", "-o", "size=32m", "-o", "encrypt=true",
                "-o", "key-file=passphrase", vol);
        assertThat(out).as(out).contains("Passphrase for the disk's key:").endsWith("EXIT 0\n").doesNotContain(pass);
        f.output("--rm", "-v", vol + ":/v", "busybox", "sh", "-c", "echo typed > /v/f");
        ok("volume", "lock", vol);

        out = onPty(List.of(PROMPT, AttachTest.stepOnce("not the passphrase\n", null)), "volume", "unlock",
                "--key-file", "passphrase", vol);
        assertThat(out).as(out).contains("wrong key for volume " + vol + ": not the passphrase").endsWith("EXIT 1\n");
        assertThat(f.run("--rm", "-v", vol + ":/v", "busybox", "cat", "/v/f").exit()).isNotZero();

        out = onPty(List.of(PROMPT, AttachTest.stepOnce(pass + "\n", null)), "volume", "unlock", "--key-file",
                "passphrase", vol);
        assertThat(out).as(out).endsWith("EXIT 0\n");
        assertThat(read(vol, "f")).isEqualTo("typed\n");

        // two different passphrases at creation, or none on a terminal: refused, nothing made
        String vol2 = vol + "-x";
        out = onPty(List.of(PROMPT, AttachTest.stepOnce(pass + "\n", "again"), AttachTest.stepOnce(
                "other one\n", null)), "volume", "create", "-o", "size=32m", "-o", "encrypt=true", "-o", "key-file=passphrase", vol2);
        assertThat(out).as(out).contains("the two differ").endsWith("EXIT 1\n");
        HullCommand.Result noTty = f.hull.run("volume", "create", "-o", "size=32m", "-o", "encrypt=true", "-o",
                "key-file=passphrase", vol2);
        assertThat(noTty.exit()).as(noTty.toString()).isNotZero();
        assertThat(noTty.err()).contains("no terminal to type it on");
        assertThat(f.hull.run("volume", "inspect", vol2).exit()).isNotZero();
        assertThat(new String(Files.readAllBytes(f.dir.resolve("home/volumes").resolve(vol).resolve("disk.json")),
                StandardCharsets.UTF_8)).doesNotContain(pass);
        ok("volume", "rm", vol);
    }
}
