package dev.hull.machine;

import static dev.hull.machine.MachineTest.hull;
import static dev.hull.machine.MachineTest.inspect;
import static dev.hull.machine.MachineTest.made;
import static dev.hull.machine.MachineTest.ok;
import static dev.hull.machine.MachineTest.unique;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.HullCommand;
import dev.hull.image.unpack.XattrTarInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull machine import --resume}: an unprivileged machine's import killed (kill -9) midway leaves the
 * machine incomplete (it does not start); a resume with another archive is refused, one with the same archive
 * goes on without writing again what was written, and the machine is then the same as an uninterrupted
 * import's (its re-export is, entry by entry, owners, modes, times, xattrs, ACLs, hard links, devices), its
 * files in its own id range, the ids its ACLs name too (as a clone's). Uses MachineTest's template.
 */
class MachineImportResumeTest {
    @BeforeAll
    static void setUp() throws Exception {
        MachineTest.setUp();
    }

    @AfterAll
    static void tearDown() throws Exception {
        MachineTest.tearDown();
    }

    static Path upper(String name) throws Exception {
        return MachineTest.engine.containers().dir(inspect(name).get("Id").asText()).resolve("upper");
    }

    static long rangeOf(String name) throws Exception {
        return inspect(name).get("Machine").get("UserNamespace").get("uid").asLong();
    }

    /** An archive's entries but its config, as the machine sees them, one line each (content by digest). */
    static List<String> entries(Path tar) throws Exception {
        List<String> out = new ArrayList<>();
        try (InputStream f = Files.newInputStream(tar); XattrTarInputStream in = new XattrTarInputStream(f)) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().equals("hull-machine.json")) {
                    continue;
                }
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                in.transferTo(new java.security.DigestOutputStream(OutputStream.nullOutputStream(), d));
                StringBuilder x = new StringBuilder();
                new TreeMap<>(in.xattrs()).forEach((k, v) -> x.append(' ').append(k).append('=')
                        .append(HexFormat.of().formatHex(v)));
                out.add(e.getName() + " " + e.getMode() + " " + e.getLongUserId() + ":" + e.getLongGroupId() + " "
                        + e.getSize() + " " + e.getLastModifiedTime() + " " + e.getLinkName() + " " + e.getDevMajor()
                        + "," + e.getDevMinor() + x + " " + HexFormat.of().formatHex(d.digest()));
            }
        }
        return out;
    }

    @Test
    void anImportKilledMidwayIsIncompleteAndResumesToTheSameMachine() throws Exception {
        String src = unique("mr-src");
        ok("machine", "create", src);
        made.add(src);
        long r = rangeOf(src);
        Path up = upper(src);
        // written from the host into the stopped machine's layer, owned as its root (and a user) inside would
        // own them: 600 files, then a sparse file the cut falls in, then links, a device, ACLs after it
        MachineSnapshotTest.sh("mkdir -p " + up + "/srv/a && cd " + up + "/srv && for i in $(seq 100 699); do"
                + " head -c 3000 /dev/urandom > a/f$i; done && truncate -s 24M b-sparse && echo tail >> b-sparse"
                + " && mkdir c && echo linked > c/one && ln c/one c/two && ln a/f102 c/early-link"
                + " && mknod c/cdev c 1 3 && setfattr -n user.note -v v1 c/one"
                + " && chown -R " + r + ":" + r + " . && chown " + (r + 1000) + ":" + (r + 1000) + " a/f100"
                + " && setfacl -m u:" + (r + 1234) + ":rwx c && setfacl -d -m g:" + (r + 4321) + ":r-x c"
                + " && touch -d 2001-02-03T04:05:06 a c");
        Path archive = MachineTest.dir.resolve(src + ".tar");
        ok("machine", "export", src, archive.toString());
        String ref = unique("mr-ref");
        ok("machine", "import", archive.toString(), ref);
        made.add(ref);

        // the import reads half of the archive from a pipe; once it recorded progress, kill -9
        HullCommand cold = HullCommand.cold(MachineTest.dir.resolve("home"), MachineTest.dir.resolve("state"),
                Map.of("HULL_NO_SERVICE", "1"));
        String res = unique("mr-res");
        Process p = cold.builder("machine", "import", "-", res).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        made.add(res);
        byte[] whole = Files.readAllBytes(archive);
        Path journal = null;
        try (OutputStream in = p.getOutputStream()) {
            in.write(whole, 0, whole.length / 2);
            in.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (System.nanoTime() < deadline && p.isAlive() && recorded(journal) < 512) {
                if (journal == null && hull.run("machine", "inspect", res).exit() == 0) {
                    journal = upper(res).resolveSibling("import-journal.json");
                }
                Thread.sleep(100); // polling a condition, with a generous deadline
            }
            assertThat(recorded(journal)).as("entries the import recorded before it was killed")
                    .isGreaterThanOrEqualTo(512);
            p.destroyForcibly(); // SIGKILL
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(p.exitValue()).as("killed, not ended").isEqualTo(137);
        HullCommand.Result start = hull.run("machine", "start", res);
        assertThat(start.exit()).as(start.toString()).isNotZero();
        assertThat(start.err()).contains("incomplete").contains("--resume");
        String early = MachineSnapshotTest.sh("stat -c %z " + upper(res).resolve("srv/a/f100"));

        // another machine's archive is refused; the machine stays as it was
        Path other = MachineTest.dir.resolve(ref + ".tar");
        ok("machine", "export", ref, other.toString());
        HullCommand.Result refused = hull.run("machine", "import", "--resume", other.toString(), res);
        assertThat(refused.exit()).as(refused.toString()).isEqualTo(125);
        assertThat(refused.err()).contains("not the archive the interrupted import read");
        assertThat(journal).exists();

        // the same archive: goes on, and the machine is an uninterrupted import's twin
        HullCommand.Result resumed = hull.run("machine", "import", "--resume", archive.toString(), res);
        assertThat(resumed.exit()).as(resumed.toString()).isZero();
        assertThat(resumed.err()).containsPattern("resuming its import after \\d+ entries");
        assertThat(journal).doesNotExist();
        assertThat(MachineSnapshotTest.sh("stat -c %z " + upper(res).resolve("srv/a/f100")))
                .as("written before the kill, not written again").isEqualTo(early);
        Path again = MachineTest.dir.resolve(res + ".tar");
        ok("machine", "export", res, again.toString());
        List<String> want = entries(other);
        assertThat(want).anySatisfy(l -> assertThat(l).startsWith("upper/srv/a/f100 ").contains(" 1000:1000 "))
                .anySatisfy(l -> assertThat(l).startsWith("upper/srv/c/ ").contains("system.posix_acl_access"));
        assertThat(entries(again)).isEqualTo(want);
        assertThat(entries(other)).isEqualTo(entries(archive));

        // on the host: its own range, its ACLs naming its range's ids, the sparse file sparse, links links
        long rr = rangeOf(res);
        assertThat(rr).isNotEqualTo(r);
        Path u = upper(res);
        assertThat(Files.getAttribute(u.resolve("srv/a/f100"), "unix:uid")).isEqualTo((int) (rr + 1000));
        assertThat(MachineSnapshotTest.sh("getfacl -pn " + u.resolve("srv/c"))).contains("user:" + (rr + 1234) + ":rwx")
                .contains("default:group:" + (rr + 4321) + ":r-x");
        assertThat(Long.parseLong(MachineSnapshotTest.sh("stat -c %b " + u.resolve("srv/b-sparse")).strip()) * 512)
                .as("the sparse file stays sparse").isLessThan(1 << 20);
        assertThat(MachineSnapshotTest.sh("stat -c %i " + u.resolve("srv/a/f102") + " " + u.resolve("srv/c/early-link"))
                .lines().distinct()).hasSize(1);

        // a clone shifts the ACLs' ids into its range too
        String clone = unique("mr-cln");
        ok("machine", "clone", src, clone);
        made.add(clone);
        assertThat(MachineSnapshotTest.sh("getfacl -pn " + upper(clone).resolve("srv/c")))
                .contains("user:" + (rangeOf(clone) + 1234) + ":rwx")
                .contains("default:group:" + (rangeOf(clone) + 4321) + ":r-x");
        for (String m : new String[] {src, ref, res, clone}) {
            ok("machine", "rm", "-f", m);
            made.remove(m);
        }
    }

    private static long recorded(Path journal) {
        if (journal == null || !Files.exists(journal)) {
            return 0;
        }
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(journal.toFile()).get("Entries").asLong();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
