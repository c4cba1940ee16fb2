package dev.hull.image.unpack;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.linux.Syscalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerUnpackerTest {
    private static final String WHAT = "image test/x:1 layer sha256:feed";
    private static final java.nio.file.attribute.FileTime WHOLE_SECOND =
            java.nio.file.attribute.FileTime.fromMillis(1_600_000_000_000L);
    private static final UnpackLimits LIMITS = new UnpackLimits(1L << 32, 1000, 0);

    @TempDir
    Path tmp;
    private Path target;

    @BeforeEach
    void makeTarget() throws IOException {
        target = Files.createDirectory(tmp.resolve("target"));
    }

    private LayerUnpacker.Result unpack(byte[] layer) throws IOException {
        return new LayerUnpacker(true).unpack(new ByteArrayInputStream(layer), target, LIMITS, WHAT);
    }

    private static int mode(Path p) throws IOException {
        return (int) Files.getAttribute(p, "unix:mode", NOFOLLOW_LINKS);
    }

    @Test
    void filesDirectoriesAndModesIncludingSetuidAndSticky() throws IOException {
        unpack(new TarBuilder().dir("etc", 0750).file("etc/passwd", "root:x:0:0\n", 0644)
                .file("usr/bin/su", "su", 04755).file("usr/bin/wall", "w", 02755).dir("tmp", 01777).bytes());

        assertThat(Files.readString(target.resolve("etc/passwd"))).isEqualTo("root:x:0:0\n");
        assertThat(mode(target.resolve("etc")) & 07777).isEqualTo(0750);
        assertThat(mode(target.resolve("etc/passwd")) & 07777).isEqualTo(0644);
        assertThat(mode(target.resolve("usr/bin/su")) & 07777).isEqualTo(04755);
        assertThat(mode(target.resolve("usr/bin/wall")) & 07777).isEqualTo(02755);
        assertThat(mode(target.resolve("tmp")) & 07777).isEqualTo(01777);
        assertThat(mode(target.resolve("usr")) & 07777).as("implicit parent").isEqualTo(0755);
    }

    @Test
    void namesAreNormalizedAndTheRootEntryAppliesToTarget() throws IOException {
        unpack(new TarBuilder().dir("./", 0711).file("./a//b/./c", "c", 0644).file("/etc/abs", "abs", 0600).bytes());

        assertThat(Files.readString(target.resolve("a/b/c"))).isEqualTo("c");
        assertThat(Files.readString(target.resolve("etc/abs"))).isEqualTo("abs");
        assertThat(mode(target) & 07777).isEqualTo(0711);
    }

    @Test
    void symlinksKeepTheirTargetVerbatim() throws IOException {
        unpack(new TarBuilder().symlink("lib", "usr/lib").symlink("abs", "/etc/../nowhere//x/").bytes());

        assertThat(Files.isSymbolicLink(target.resolve("lib"))).isTrue();
        assertThat(Files.readSymbolicLink(target.resolve("lib")).toString()).isEqualTo("usr/lib");
        assertThat(Files.readSymbolicLink(target.resolve("abs")).toString()).isEqualTo("/etc/../nowhere//x/");
    }

    @Test
    void hardLinksShareTheInode() throws IOException {
        unpack(new TarBuilder().file("bin/busybox", "bb", 0755).hardlink("bin/sh", "bin/busybox")
                .hardlink("./bin/ls", "/bin/busybox").bytes());

        Object key = Files.getAttribute(target.resolve("bin/busybox"), "unix:ino");
        assertThat(Files.getAttribute(target.resolve("bin/sh"), "unix:ino")).isEqualTo(key);
        assertThat(Files.getAttribute(target.resolve("bin/ls"), "unix:ino")).isEqualTo(key);
        assertThat((int) Files.getAttribute(target.resolve("bin/sh"), "unix:nlink")).isEqualTo(3);
        assertThat(Files.readString(target.resolve("bin/ls"))).isEqualTo("bb");
    }

    @Test
    void fifoAndCharacterDeviceAsRoot() throws IOException {
        TarArchiveEntry fifo = TarBuilder.entry("run/fifo", TarConstants.LF_FIFO);
        fifo.setMode(0620);
        TarArchiveEntry null_ = TarBuilder.entry("dev/null", TarConstants.LF_CHR);
        null_.setMode(0666);
        null_.setDevMajor(1);
        null_.setDevMinor(3);
        TarArchiveEntry disk = TarBuilder.entry("dev/sda", TarConstants.LF_BLK);
        disk.setMode(0660);
        disk.setDevMajor(8);
        disk.setDevMinor(0);
        unpack(new TarBuilder().add(fifo, null).add(null_, null).add(disk, null).bytes());

        assertThat(mode(target.resolve("run/fifo"))).isEqualTo(Syscalls.S_IFIFO | 0620);
        assertThat(mode(target.resolve("dev/null"))).isEqualTo(Syscalls.S_IFCHR | 0666);
        assertThat((long) Files.getAttribute(target.resolve("dev/null"), "unix:rdev")).isEqualTo(Syscalls.makedev(1, 3));
        assertThat(mode(target.resolve("dev/sda"))).isEqualTo(Syscalls.S_IFBLK | 0660);
        assertThat((long) Files.getAttribute(target.resolve("dev/sda"), "unix:rdev")).isEqualTo(Syscalls.makedev(8, 0));
    }

    @Test
    void withoutRootDeviceNodesAreSkippedAndWhiteoutsRefused() throws IOException {
        TarArchiveEntry null_ = TarBuilder.entry("dev/null", TarConstants.LF_CHR);
        null_.setDevMajor(1);
        null_.setDevMinor(3);
        var result = new LayerUnpacker(false).unpack(new ByteArrayInputStream(
                new TarBuilder().add(null_, null).file("f", "f", 0644).bytes()), target, LIMITS, WHAT);
        assertThat(Files.exists(target.resolve("dev/null"), NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.readString(target.resolve("f"))).isEqualTo("f");
        assertThat(result.entries()).isEqualTo(2);

        Path other = Files.createDirectory(tmp.resolve("other"));
        assertThatThrownBy(() -> new LayerUnpacker(false).unpack(new ByteArrayInputStream(
                new TarBuilder().file("etc/.wh.passwd", "", 0).bytes()), other, LIMITS, WHAT))
                .isInstanceOf(LayerException.class).hasMessageContaining(WHAT).hasMessageContaining("etc/.wh.passwd")
                .hasMessageContaining("root");
    }

    @Test
    void ownershipAsRoot() throws IOException {
        TarArchiveEntry file = TarBuilder.entry("home/u/f", TarConstants.LF_NORMAL);
        file.setIds(1000, 1000);
        file.setMode(04750);
        TarArchiveEntry dir = TarBuilder.entry("home/u", TarConstants.LF_DIR);
        dir.setIds(1000, 1001);
        dir.setMode(0700);
        TarArchiveEntry link = TarBuilder.entry("home/u/l", TarConstants.LF_SYMLINK);
        link.setLinkName("/etc/shadow");
        link.setIds(1002, 1003);
        unpack(new TarBuilder().add(dir, null).add(file, new byte[0]).add(link, null).bytes());

        assertThat(Files.getAttribute(target.resolve("home/u/f"), "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(target.resolve("home/u/f"), "unix:gid")).isEqualTo(1000);
        assertThat(mode(target.resolve("home/u/f")) & 07777).as("setuid survives chown").isEqualTo(04750);
        assertThat(Files.getAttribute(target.resolve("home/u"), "unix:gid")).isEqualTo(1001);
        assertThat(Files.getAttribute(target.resolve("home/u/l"), "unix:uid", NOFOLLOW_LINKS)).isEqualTo(1002);
        assertThat(Files.getAttribute(target.resolve("home/u/l"), "unix:gid", NOFOLLOW_LINKS)).isEqualTo(1003);
    }

    @Test
    void xattrsIncludingBinaryFileCapabilities() throws IOException {
        // VFS_CAP_REVISION_2 | effective; permitted = cap_setuid (bit 7: the byte 0x80, not valid UTF-8)
        // and cap_net_bind_service (bit 10).
        byte[] cap = {0x01, 0, 0, 0x02, (byte) 0x80, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        TarArchiveEntry ping = TarBuilder.entry("bin/ping", TarConstants.LF_NORMAL);
        ping.setMode(0755);
        ping.setSize(4);
        ping.setIds(0, 0);
        ping.setModTime(WHOLE_SECOND); // else the writer adds its own PAX header for the mtime
        byte[] pax = concat(TarBuilder.paxRecord("SCHILY.xattr.security.capability", cap),
                TarBuilder.paxRecord("SCHILY.xattr.user.note", "hi ✓".getBytes(StandardCharsets.UTF_8)),
                TarBuilder.paxRecord("SCHILY.xattr.trusted.overlay.redirect", "/x".getBytes(StandardCharsets.UTF_8)));
        TarArchiveEntry dir = TarBuilder.entry("data", TarConstants.LF_DIR);
        dir.setMode(0755);
        dir.addPaxHeader("SCHILY.xattr.user.dir", "d");
        unpack(new TarBuilder().rawPax(pax).add(ping, "ping".getBytes(StandardCharsets.UTF_8)).add(dir, null).bytes());

        String p = target.resolve("bin/ping").toString();
        assertThat(Syscalls.lgetxattr(p, "security.capability")).isEqualTo(cap);
        assertThat(new String(Syscalls.lgetxattr(p, "user.note"), StandardCharsets.UTF_8)).isEqualTo("hi ✓");
        assertThat(Syscalls.lgetxattr(p, "trusted.overlay.redirect")).as("overlayfs's own, never from an image").isNull();
        assertThat(Files.readString(target.resolve("bin/ping"))).isEqualTo("ping");
        assertThat(Syscalls.lgetxattr(target.resolve("data").toString(), "user.dir")).isEqualTo(new byte[] {'d'});
        assertThat(Syscalls.llistxattr(target.resolve("data").toString())).containsExactly("user.dir");
    }

    @Test
    void mtimesOnFilesDirectoriesAndSymlinks() throws IOException {
        unpack(new TarBuilder().dir("d", 0755).dir("d/e", 0555).file("d/e/f", "f", 0644).symlink("d/l", "e/f")
                .file("d/late", "written after d's own entry", 0644).bytes());

        for (String p : new String[] {"d", "d/e", "d/e/f", "d/l", "d/late"}) {
            assertThat(Files.getLastModifiedTime(target.resolve(p), NOFOLLOW_LINKS)).as(p).isEqualTo(TarBuilder.MTIME);
            assertThat(Files.getAttribute(target.resolve(p), "lastAccessTime", NOFOLLOW_LINKS)).as(p)
                    .isEqualTo(TarBuilder.MTIME);
        }
        assertThat(mode(target.resolve("d/e")) & 07777).isEqualTo(0555);
    }

    @Test
    void paxSparseEntryIsWrittenSparse() throws IOException {
        long size = 1L << 30, at = 512L << 20;
        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, (byte) 'x');
        byte[] map = new byte[512];
        // the map: segment count, then offset and size of each; GNU tar ends it with (realsize, 0)
        byte[] mapText = ("2\n" + at + "\n4096\n" + size + "\n0\n").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(mapText, 0, map, 0, mapText.length);
        byte[] pax = concat(TarBuilder.paxRecord("GNU.sparse.major", "1".getBytes(StandardCharsets.US_ASCII)),
                TarBuilder.paxRecord("GNU.sparse.minor", "0".getBytes(StandardCharsets.US_ASCII)),
                TarBuilder.paxRecord("GNU.sparse.name", "disk.img".getBytes(StandardCharsets.US_ASCII)),
                TarBuilder.paxRecord("GNU.sparse.realsize", String.valueOf(size).getBytes(StandardCharsets.US_ASCII)));
        TarArchiveEntry e = TarBuilder.entry("GNUSparseFile.0/disk.img", TarConstants.LF_NORMAL);
        e.setMode(0644);
        e.setSize(512 + 4096);
        e.setModTime(WHOLE_SECOND);
        // and a plain entry: 8 MiB of zeros, then a byte
        byte[] zeros = new byte[(8 << 20) + 1];
        zeros[zeros.length - 1] = 1;
        byte[] sparseTar = new TarBuilder().rawPax(pax).add(e, concat(map, data)).file("zeros", zeros, 0644).bytes();
        unpack(sparseTar);

        Path img = target.resolve("disk.img");
        assertThat(Files.size(img)).isEqualTo(size);
        assertThat(allocatedBlocks(img)).as("512-byte blocks allocated").isLessThan(64);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
            f.seek(at - 1);
            assertThat(f.read()).isEqualTo(0);
            assertThat(f.read()).isEqualTo('x');
            f.seek(at + 4095);
            assertThat(f.read()).isEqualTo('x');
            assertThat(f.read()).isEqualTo(0);
        }
        assertThat(Files.size(target.resolve("zeros"))).isEqualTo(zeros.length);
        assertThat(allocatedBlocks(target.resolve("zeros"))).isLessThan(64);
        assertThat(Files.readAllBytes(target.resolve("zeros"))).isEqualTo(zeros);
    }

    private static long allocatedBlocks(Path p) throws IOException {
        try {
            Process proc = new ProcessBuilder("stat", "-c", "%b", p.toString()).redirectErrorStream(true).start();
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertThat(proc.waitFor()).as("stat: " + out).isZero();
            return Long.parseLong(out);
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesInOverlayFormat() throws IOException {
        unpack(new TarBuilder().dir("etc", 0755).file("etc/.wh.shadow", "", 0).dir("opt", 0755)
                .file("opt/.wh..wh..opq", "", 0).file("opt/new", "n", 0644).file("gone/.wh..wh..opq", "", 0).bytes());

        Path wh = target.resolve("etc/shadow");
        assertThat(mode(wh) & Syscalls.S_IFMT).isEqualTo(Syscalls.S_IFCHR);
        assertThat((long) Files.getAttribute(wh, "unix:rdev")).isZero();
        assertThat(Files.exists(target.resolve("etc/.wh.shadow"), NOFOLLOW_LINKS)).isFalse();
        assertThat(Syscalls.lgetxattr(target.resolve("opt").toString(), "trusted.overlay.opaque"))
                .isEqualTo(new byte[] {'y'});
        assertThat(Syscalls.lgetxattr(target.resolve("gone").toString(), "trusted.overlay.opaque"))
                .isEqualTo(new byte[] {'y'});
        assertThat(Syscalls.lgetxattr(target.resolve("etc").toString(), "trusted.overlay.opaque")).isNull();
        assertThat(Files.exists(target.resolve("opt/.wh..wh..opq"), NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.readString(target.resolve("opt/new"))).isEqualTo("n");
    }

    @Test
    void plainGzipAndZstdGiveTheSameDiffIdTheSha256OfThePlainTar() throws IOException {
        byte[] plain = new TarBuilder().file("a", "a".repeat(100_000), 0644).symlink("b", "a").bytes();
        String expected = sha256(plain);
        for (Compression c : Compression.values()) {
            byte[] blob = TarBuilder.compress(c, plain);
            try (var in = new java.io.BufferedInputStream(new ByteArrayInputStream(blob))) {
                assertThat(Compression.detect(in)).isEqualTo(c);
            }
            Path dir = Files.createDirectory(tmp.resolve("t-" + c));
            var r = new LayerUnpacker(true).unpack(new ByteArrayInputStream(blob), dir, LIMITS, WHAT);
            assertThat(r.diffId()).as(c.name()).isEqualTo(expected);
            assertThat(r.uncompressedBytes()).as(c.name()).isEqualTo(plain.length);
            assertThat(r.entries()).isEqualTo(2);
            assertThat(Files.readString(dir.resolve("a"))).isEqualTo("a".repeat(100_000));
        }
    }

    @Test
    void paddingAfterTheTarEndCountsInTheDiffId() throws IOException {
        byte[] plain = concat(new TarBuilder().file("a", "a", 0644).bytes(), new byte[10240]);
        var r = unpack(plain);
        assertThat(r.uncompressedBytes()).isEqualTo(plain.length);
        assertThat(r.diffId()).isEqualTo(
                sha256(plain));
    }

    @Test
    void laterEntriesReplaceEarlierOnes() throws IOException {
        unpack(new TarBuilder()
                .file("f", "old", 0644).file("f", "new", 0600)
                .file("x", "file first", 0644).dir("x", 0700).file("x/in", "in", 0644)
                .dir("y", 0755).file("y/child", "c", 0644).file("y", "now a file", 0644)
                .dir("m", 0755).file("m/keep", "k", 0644).dir("m", 0701)
                .symlink("s", "f").dir("s", 0750).file("s/ok", "ok", 0644)
                .bytes());

        assertThat(Files.readString(target.resolve("f"))).isEqualTo("new");
        assertThat(mode(target.resolve("f")) & 07777).isEqualTo(0600);
        assertThat(Files.readString(target.resolve("x/in"))).isEqualTo("in");
        assertThat(Files.readString(target.resolve("y"))).isEqualTo("now a file");
        assertThat(Files.readString(target.resolve("m/keep"))).as("a directory over a directory merges").isEqualTo("k");
        assertThat(mode(target.resolve("m")) & 07777).isEqualTo(0701);
        assertThat(Files.isDirectory(target.resolve("s"), NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.readString(target.resolve("s/ok"))).isEqualTo("ok");
        assertThat(Files.readString(target.resolve("f"))).isEqualTo("new");
    }

    static String sha256(byte[] b) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] concat(byte[]... parts) {
        var out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
