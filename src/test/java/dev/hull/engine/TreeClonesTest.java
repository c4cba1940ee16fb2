package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import dev.hull.linux.AtFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link TreeClones}: a machine's writable layer copied exactly (owners, modes, times, ACLs, file
 * capabilities, user.* and trusted.overlay.* attributes, whiteouts, FIFOs, symlinks, hard links), with
 * a sparse file staying sparse on ext4 (the host's store here) and its content reflinked — sharing the
 * source's blocks — on a loop-mounted XFS.
 */
class TreeClonesTest {
    static final long MIB = 1L << 20;
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-treeclones-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        sh("umount " + dir.resolve("xfs") + " 2>/dev/null || true");
        SnapshotStore.deleteTree(dir);
    }

    static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-ec", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(script + "\n" + out).isZero();
        return out;
    }

    /** A tree like an overlay's upper layer, with everything a copy can lose. */
    static void fill(Path t) throws Exception {
        sh("mkdir -p " + t + " && cd " + t + " && mkdir -p etc/opaque var/lib && echo hello > etc/file"
                + " && ln etc/file etc/link && ln -s ../etc/file var/sym && mkfifo var/fifo"
                + " && mknod etc/gone c 0 0 && setfattr -n trusted.overlay.opaque -v y etc/opaque"
                + " && setfattr -n user.note -v kept etc/file && setfacl -m u:1234:rwx etc/opaque"
                + " && cp /bin/true var/lib/ping && setcap cap_net_raw+ep var/lib/ping"
                + " && chown 1000:1001 etc/file && chmod 4751 var/lib/ping && chmod 0640 etc/file"
                + " && truncate -s 64M var/sparse && echo tail | dd of=var/sparse bs=1 seek=50000000 conv=notrunc"
                + " 2>/dev/null && touch -d '2001-02-03 04:05:06' etc/file");
    }

    /** One line per entry: type, mode, owner, links, size, device, mtime, attributes, link target. */
    static String describe(Path p) throws Exception {
        return sh("cd " + p + " && find . | sort | while read f; do"
                + " stat -c '%n %F %a %u:%g %h %s %t,%T %Y' \"$f\";"
                + " [ -L \"$f\" ] && readlink \"$f\" || getfattr -h -d -m - -e hex \"$f\" 2>/dev/null | grep -v '^#'"
                + " || true; done");
    }

    @Test
    void anExactCopyKeepsEverythingAndSparseFilesStaySparse() throws Exception {
        Path src = dir.resolve("src");
        fill(src);
        Path dst = dir.resolve("dst");
        TreeClones.Copied c = TreeClones.copy(src, dst);
        assertThat(describe(dst)).isEqualTo(describe(src));
        assertThat(describe(dst)).contains("trusted.overlay.opaque=0x79").contains("security.capability")
                .contains("system.posix_acl_access").contains("user.note=0x6b657074").contains("4751 0:0")
                .contains("character special file").contains("fifo");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(dst.resolve("var/sparse").toFile(), "r")) {
            byte[] b = new byte[5];
            f.seek(50_000_000);
            f.readFully(b);
            assertThat(new String(b, StandardCharsets.US_ASCII)).isEqualTo("tail\n");
            assertThat(f.length()).isEqualTo(64 * MIB);
        }
        assertThat(AtFiles.allocated(dst.resolve("var/sparse").toString())).as("a 64 MiB file with one block of data:"
                + " copied sparse").isLessThan(MIB);
        assertThat(c.bytes()).isGreaterThan(64 * MIB);
        if (Files.getFileStore(dir).type().equals("ext4")) {
            assertThat(c.reflinked()).as("ext4 shares no blocks").isZero();
        }
    }

    @Test
    void onXfsTheContentIsReflinked() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/mkfs.xfs")) || Files.isExecutable(
                Path.of("/sbin/mkfs.xfs")), "mkfs.xfs is not installed (apt-get install xfsprogs): no XFS to reflink on");
        Path img = dir.resolve("xfs.img");
        Path mnt = dir.resolve("xfs");
        Files.createDirectories(mnt);
        sh("truncate -s 512M " + img + " && mkfs.xfs -q -m reflink=1 " + img + " && mount -o loop " + img + " " + mnt);
        Path src = mnt.resolve("src");
        fill(src);
        sh("head -c 32M /dev/urandom > " + src.resolve("var/big") + " && sync");
        long before = free(mnt);
        TreeClones.Copied c = TreeClones.copy(src, mnt.resolve("dst"));
        sh("sync");
        assertThat(describe(mnt.resolve("dst"))).isEqualTo(describe(src));
        assertThat(c.reflinked()).as("every regular file with content reflinked").isGreaterThanOrEqualTo(3);
        assertThat(before - free(mnt)).as("a 32 MiB file's copy shares its blocks: the free space barely moves")
                .isLessThan(8 * MIB);
        assertThat(sh("xfs_io -c 'fiemap -v' " + mnt.resolve("dst/var/big") + " | tail -n +3"))
                .as("its extents are flagged shared (0x2000)").containsPattern("0x[0-9a-f]*2[0-9a-f]{3}\\b");
        assertThat(Files.mismatch(src.resolve("var/big"), mnt.resolve("dst/var/big"))).isEqualTo(-1);
    }

    private static long free(Path p) throws Exception {
        return Files.getFileStore(p).getUnallocatedSpace();
    }
}
