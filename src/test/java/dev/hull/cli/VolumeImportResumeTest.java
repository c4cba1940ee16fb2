package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull volume import --resume}: an import killed (kill -9) midway goes on from the entries it recorded,
 * without writing them again, and ends with a volume the same as an uninterrupted import's (owners, modes,
 * times, xattrs, ACLs, file capabilities, hard links, sparse files, device nodes); a resume with another archive,
 * or with the archive still cut short, is refused.
 */
class VolumeImportResumeTest {
    static Path dir;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-volresume-");
        // a JVM per command: the test kills the importing process itself
        hull = HullCommand.cold(dir.resolve("home"), dir.resolve("state"), Map.of());
    }

    @AfterAll
    static void tearDown() throws Exception {
        SnapshotStore.deleteTree(dir);
    }

    static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-ec", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(script + "\n" + out).isZero();
        return out;
    }

    private static Path volume(String name) throws Exception {
        hull.ok("volume", "create", name);
        return Path.of(hull.ok("volume", "inspect", "-f", "{{.Mountpoint}}", name).out().trim());
    }

    /** Every entry of the tree at p: type, mode, owner, links, size, device, time, attributes, ACLs, content. */
    static String describe(Path p) throws Exception {
        return sh("cd " + p + " && find . | sort | while read f; do"
                + " stat -c '%n %F %a %u:%g %h %s %t,%T %Y' \"$f\";"
                + " [ -L \"$f\" ] && readlink \"$f\" || getfattr -h -d -m - -e hex \"$f\" 2>/dev/null | grep -v '^#'"
                + " || true; [ -f \"$f\" ] && [ ! -L \"$f\" ] && sha256sum < \"$f\" || true; done;"
                + " getfacl -R -p -n . 2>/dev/null");
    }

    private static long entries(Path journal) throws Exception {
        if (!Files.exists(journal)) {
            return 0;
        }
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(journal.toFile()).get("Entries").asLong();
        } catch (java.io.IOException e) {
            return 0; // being replaced meanwhile (it is renamed into place, but be lenient)
        }
    }

    @Test
    void anImportKilledMidwayResumesToTheSameVolumeAndRefusesAnotherArchive() throws Exception {
        Path src = volume("res-src");
        // 600 small files first, then a sparse file the cut falls in, then links, devices, ACLs after it
        sh("cd " + src + " && mkdir a && for i in $(seq 100 699); do head -c 3000 /dev/urandom > a/f$i; done"
                + " && chown 1000:1001 a/f100 && chmod 4750 a/f100 && setfattr -n user.note -v early a/f101"
                + " && truncate -s 24M b-sparse && echo tail >> b-sparse && dd if=/dev/urandom of=b-sparse bs=4k"
                + " count=1 seek=1000 conv=notrunc status=none"
                + " && mkdir c && echo linked > c/one && ln c/one c/two && ln a/f102 c/early-link"
                + " && setfacl -m u:1234:rwx c && setfacl -d -m g:4321:r-x c && setcap cap_net_raw+ep c/one"
                + " && mknod c/cdev c 1 3 && mkfifo c/ff && ln -s ../a/f100 c/sym && touch -d 2001-02-03T04:05:06 c a"
                + " && chown 999:998 . && chmod 0751 .");
        Path archive = dir.resolve("whole.tar");
        hull.ok("volume", "export", "-o", archive.toString(), "res-src");
        Path ref = volume("res-ref");
        hull.ok("volume", "import", "res-ref", archive.toString());
        String want = describe(ref);
        assertThat(want).contains("user.note=").contains("security.capability=").contains("user:1234:rwx")
                .contains("default:group:4321:r-x").contains("4750 1000:1001").contains("character special file")
                .contains("fifo").contains(" 999:998 ");

        // the import gets half of the archive through a pipe; once it recorded progress, kill -9
        Path res = volume("res-res");
        Path journal = res.getParent().resolve("import-journal.json");
        Process p = hull.builder("volume", "import", "res-res", "-").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] whole = Files.readAllBytes(archive);
        try (OutputStream in = p.getOutputStream()) {
            in.write(whole, 0, whole.length / 2);
            in.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (entries(journal) < 512 && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(50); // polling a condition, with a generous deadline
            }
            assertThat(entries(journal)).as("entries the import recorded before it was killed").isGreaterThanOrEqualTo(512);
            p.destroyForcibly(); // SIGKILL: the JVM gets no chance to clean up
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } catch (java.io.IOException pipeClosed) {
            // the process died before all was written: the assertions below say what it left
        }
        assertThat(p.exitValue()).as("killed, not ended").isEqualTo(137);
        long recorded = entries(journal);
        String early = sh("stat -c %z " + res.resolve("a/f100")); // its change time: a rewrite would renew it

        // another archive (the same volume with one file changed) is refused, and writes nothing
        sh("echo changed > " + src.resolve("a/f100"));
        Path other = dir.resolve("other.tar");
        hull.ok("volume", "export", "-o", other.toString(), "res-src");
        HullCommand.Result r = hull.run("volume", "import", "--resume", "res-res", other.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("not the archive the interrupted import read");
        assertThat(entries(journal)).isEqualTo(recorded);
        // the archive still cut short: refused as such
        Path half = dir.resolve("half.tar");
        try (OutputStream o = Files.newOutputStream(half)) {
            o.write(whole, 0, whole.length / 2);
        }
        r = hull.run("volume", "import", "--resume", "res-res", half.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("hull volume import --resume res-res FILE");

        // the whole archive: the resume skips what was written and ends with what an uninterrupted import made
        hull.ok("volume", "import", "--resume", "res-res", archive.toString());
        assertThat(journal).as("the journal goes when the import ends whole").doesNotExist();
        assertThat(describe(res)).isEqualTo(want);
        assertThat(sh("stat -c %z " + res.resolve("a/f100"))).as("an entry written before the kill is not written"
                + " again").isEqualTo(early);
        long blocks = Long.parseLong(sh("stat -c %b " + res.resolve("b-sparse")).trim());
        assertThat(blocks * 512).as("the 24 MiB sparse file stays sparse").isLessThan(1 << 20);
        assertThat(sh("stat -c %i " + res.resolve("c/one") + " " + res.resolve("c/two")).lines().distinct())
                .as("hard links stay links").hasSize(1);
        assertThat(sh("stat -c %i " + res.resolve("a/f102") + " " + res.resolve("c/early-link")).lines().distinct())
                .as("a link after the kill to a file before it").hasSize(1);

        // without --resume and nothing interrupted, --resume is a clear error
        r = hull.run("volume", "import", "--resume", "res-ref", archive.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("no interrupted import to resume");
    }

    /** Reads all of in (for a process's output nobody else reads). */
    static void drain(InputStream in) throws Exception {
        in.transferTo(OutputStream.nullOutputStream());
    }
}
