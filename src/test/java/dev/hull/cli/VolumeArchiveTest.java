package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import dev.hull.linux.Syscalls;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull volume export} and {@code import}: a round trip keeps what a backup must (owners,
 * modes, hard links, device nodes, FIFOs, symlinks, ACLs, file capabilities, user.* attributes,
 * sparse files, the volume's own owner and mode), through a file and through a pipe; a hostile
 * archive writes nothing outside the volume and plants no trusted.* attribute.
 */
class VolumeArchiveTest {
    static Path dir;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-volarch-");
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of());
    }

    @AfterAll
    static void tearDown() throws Exception {
        SnapshotStore.deleteTree(dir);
    }

    private static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-ec", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(script + "\n" + out).isZero();
        return out;
    }

    private static Path volume(String name) throws Exception {
        hull.ok("volume", "create", name);
        return Path.of(hull.ok("volume", "inspect", "-f", "{{.Mountpoint}}", name).out().trim());
    }

    /** What a backup must keep of the tree at p, one line per entry (names sorted), comparable across copies. */
    private static String describe(Path p) throws Exception {
        return sh("cd " + p + " && find . | sort | while read f; do"
                + " stat -c '%n %F %a %u:%g %h %s %t,%T %Y' \"$f\";"
                + " [ -L \"$f\" ] && readlink \"$f\" || getfattr -h -d -m - -e hex \"$f\" 2>/dev/null | grep -v '^#'"
                + " || true; done; getfacl -p -n d 2>/dev/null");
    }

    @Test
    void aRoundTripKeepsEverythingABackupNeedsAndSparseFilesStaySparse() throws Exception {
        Path src = volume("arch-src");
        sh("cd " + src + " && echo hello > a && ln a b && mkdir -p d/e && echo deep > d/e/f"
                + " && setfattr -n user.note -v 'some text' a && setfattr -n user.bin -v 0x00ff10 d/e/f"
                + " && setfacl -m u:1234:rwx d && setfacl -d -m g:4321:r-x d && setcap cap_net_raw+ep a"
                + " && chown 1000:1001 d/e/f && chmod 4750 d/e/f && mknod cdev c 1 3 && mkfifo ff"
                + " && ln -s /etc/passwd outside && truncate -s 64M sparse && echo tail >> sparse"
                + " && chown 999:998 . && chmod 0751 . && touch -d 2001-02-03T04:05:06 a d");
        // through a file, named relative to the command's directory (the client's, on the warm path)
        Process p = hull.builder("volume", "export", "-o", "backup.tar", "arch-src").directory(dir.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(dir.resolve("backup.tar")).isRegularFile();
        assertThat(dir.resolve(".backup.tar.part")).doesNotExist();
        Path dst = volume("arch-dst");
        hull.ok("volume", "import", "arch-dst", dir.resolve("backup.tar").toString());
        String want = describe(src);
        assertThat(want).contains("user.note=").contains("security.capability=").contains("user:1234:rwx")
                .contains("default:group:4321:r-x").contains("4750 1000:1001").contains(" 999:998 ")
                .contains("character special file").contains("fifo");
        assertThat(describe(dst)).isEqualTo(want);
        assertThat(Files.readString(dst.resolve("d/e/f"))).isEqualTo("deep\n");
        long blocks = Long.parseLong(sh("stat -c %b " + dst.resolve("sparse")).trim());
        assertThat(blocks * 512).as("the 64 MiB sparse file stays sparse").isLessThan(1 << 20);
        assertThat(Files.size(dst.resolve("sparse"))).isEqualTo((64L << 20) + 5);

        // through a pipe: export to stdout, import from stdin (the client's stdio on the warm path)
        Path piped = dir.resolve("piped.tar");
        p = hull.builder("volume", "export", "arch-src").redirectOutput(piped.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        Path third = volume("arch-third");
        HullCommand.Result r = hull.runWithInput(piped, "volume", "import", "arch-third", "-");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(describe(third)).isEqualTo(want);
    }

    @Test
    void aHostileArchiveWritesNothingOutsideTheVolumeAndPlantsNoTrustedAttribute() throws Exception {
        Path v = volume("arch-hostile");
        Path canary = Files.createDirectories(dir.resolve("canary"));
        Path dotdot = tar(dir.resolve("dotdot.tar"), t -> file(t, "../../../../../.." + canary + "/escaped", null));
        HullCommand.Result r = hull.run("volume", "import", "arch-hostile", dotdot.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("a name with .. is not allowed");

        Path viaLink = tar(dir.resolve("link.tar"), t -> {
            TarArchiveEntry l = new TarArchiveEntry("lnk", TarConstants.LF_SYMLINK);
            l.setLinkName(canary.toString());
            t.putArchiveEntry(l);
            t.closeArchiveEntry();
            file(t, "lnk/planted", null);
        });
        r = hull.run("volume", "import", "arch-hostile", viaLink.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("a symlink is on the way");

        Path attrs = tar(dir.resolve("attrs.tar"), t -> file(t, "x", Map.of(
                "SCHILY.xattr.trusted.overlay.redirect", "/etc", "SCHILY.xattr.user.ok", "yes")));
        hull.ok("volume", "import", "arch-hostile", attrs.toString());
        assertThat(Syscalls.lgetxattr(v.resolve("x").toString(), "user.ok")).isEqualTo("yes".getBytes());
        assertThat(Syscalls.lgetxattr(v.resolve("x").toString(), "trusted.overlay.redirect")).isNull();
        try (var s = Files.list(canary)) {
            assertThat(s.toList()).as("what the archives put outside the volume").isEmpty();
        }
    }

    @Test
    void anOutputFileIsNeverWrittenThroughWhatAnotherUserPutAtItsPartName() throws Exception {
        // -o in a directory others may write (/tmp): another user plants .NAME.part, the name the
        // archive is written under before it is moved into place, as a symlink to a file of root's
        Path v = volume("arch-part");
        Files.writeString(v.resolve("payload"), "from the volume\n");
        Path victim = Files.writeString(dir.resolve("victim"), "root's file\n");
        Path out = dir.resolve("planted.tar");
        Files.createSymbolicLink(dir.resolve(".planted.tar.part"), victim);
        hull.ok("volume", "export", "-o", out.toString(), "arch-part");
        assertThat(Files.readString(victim)).isEqualTo("root's file\n");
        assertThat(out).isRegularFile();
        assertThat(Files.isSymbolicLink(out)).isFalse();
        assertThat(sh("tar -tf " + out)).contains("payload");
        // a regular file there (another user's, which it could read or change later) is not reused either
        Files.delete(out);
        Path theirs = Files.writeString(dir.resolve(".planted.tar.part"), "");
        Path kept = Files.createLink(dir.resolve("theirs-kept"), theirs); // the same file, by another name
        hull.ok("volume", "export", "-o", out.toString(), "arch-part");
        assertThat(kept).isEmptyFile();
        assertThat(sh("tar -tf " + out)).contains("payload");
    }

    @Test
    void anExportKilledMidwayLeavesNoFile() throws Exception {
        Path v = volume("arch-killed");
        sh("truncate -s 4G " + v.resolve("big")); // 4 GiB of zeros in the tar: the export is still writing when killed
        Path out = Files.createDirectories(dir.resolve("killed-out"));
        // a JVM of its own (not the test's service): the process killed is the one writing
        HullCommand cold = HullCommand.cold(dir.resolve("home"), dir.resolve("state"), Map.of());
        Process p = cold.builder("volume", "export", "-o", out.resolve("k.tar").toString(), "arch-killed")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && System.nanoTime() < deadline && written(p.pid(), out) < (8 << 20)) {
            Thread.sleep(20); // polling a condition, with a generous deadline
        }
        assertThat(written(p.pid(), out)).as("the export was writing its archive").isGreaterThanOrEqualTo(8 << 20);
        p.destroyForcibly();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        try (var s = Files.list(out)) {
            assertThat(s.toList()).as("what a killed export left in its directory").isEmpty();
        }
    }

    /** How far process pid has written a file it has open in dir (its descriptors' offsets), 0 if none. */
    private static long written(long pid, Path dir) throws Exception {
        long most = 0;
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith(dir + "/")) {
                        String info = Files.readString(Path.of("/proc/" + pid + "/fdinfo/" + fd.getFileName()));
                        most = Math.max(most, Long.parseLong(info.lines().filter(l -> l.startsWith("pos:"))
                                .findFirst().orElse("pos: 0").substring(4).trim()));
                    }
                } catch (java.io.IOException e) {
                    // closed meanwhile
                }
            }
        } catch (java.io.IOException e) {
            return 0; // the process is gone
        }
        return most;
    }

    @Test
    void aMissingVolumeIsAClearErrorAndLeavesNoFile() throws Exception {
        HullCommand.Result r = hull.run("volume", "export", "-o", dir.resolve("none.tar").toString(), "arch-none");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("hull: no such volume: arch-none");
        assertThat(dir.resolve("none.tar")).doesNotExist();
        assertThat(dir.resolve(".none.tar.part")).doesNotExist();
        r = hull.run("volume", "import", "arch-none", dir.resolve("none.tar").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("hull: no such volume: arch-none");
        hull.ok("volume", "create", "arch-some");
        r = hull.run("volume", "import", "arch-some", dir.resolve("none.tar").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("none.tar: no such file");
    }

    interface Entries {
        void write(TarArchiveOutputStream t) throws Exception;
    }

    private static Path tar(Path f, Entries entries) throws Exception {
        try (OutputStream o = Files.newOutputStream(f); TarArchiveOutputStream t = new TarArchiveOutputStream(o)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            entries.write(t);
        }
        return f;
    }

    private static void file(TarArchiveOutputStream t, String name, Map<String, String> pax) throws Exception {
        byte[] data = "planted\n".getBytes();
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setSize(data.length);
        e.setMode(0100644);
        if (pax != null) {
            pax.forEach(e::addPaxHeader);
        }
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
    }
}
