package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.disk.Disk;
import dev.hull.disk.Mounts;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sized disks: the host mounts an ext4 image only of a disk Hull made (a volume's, a container's),
 * never one a container wrote. A container owns what is in its plain volume; the files of a disk
 * (disk.json, disk.img, disk/data) written there must not make Hull attach and mount that image on the
 * host — the kernel parsing a crafted ext4 — when a later container binds that path.
 */
class DiskEscapeTest {
    static HullBox box;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("disk");
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    @Test
    void aDiskAContainerWroteIntoItsVolumeIsNeverMountedOnTheHost() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no /dev/loop-control: no loop devices");
        Path mkfs = Path.of("/usr/sbin/mkfs.ext4");
        Assumptions.assumeTrue(Files.isExecutable(mkfs), "no mkfs.ext4 (e2fsprogs): the test makes the image");
        String vol = "disk-escape-" + ProcessHandle.current().pid();
        // the attacker's container makes the files of a disk in its plain volume (the image's bytes are
        // its choice: here a fresh ext4 with a marker file, made on the host for want of mkfs in busybox)
        Path img = box.dir.resolve("evil.img");
        try (var f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(32L << 20);
        }
        Path content = Files.createDirectories(box.dir.resolve("evil-content").resolve("data"));
        Files.writeString(content.resolve("marker"), "the attacker's filesystem\n");
        assertThat(new ProcessBuilder(mkfs.toString(), "-q", "-F", "-d", content.getParent().toString(), img.toString())
                .inheritIO().start().waitFor()).isZero();
        box.output("--rm", "-v", vol + ":/v", "-v", img + ":/evil.img:ro", "busybox", "sh", "-c",
                "mkdir -p /v/evil/disk/data && cp /evil.img /v/evil/disk.img && echo '{\"Size\":33554432}' >"
                        + " /v/evil/disk.json");
        Path data = box.engine.volumes().mountpoint(vol, false);
        Path evil = data.resolve("evil");
        assertThat(Disk.exists(evil)).as("the container wrote a disk's files").isTrue();
        // a later container binds that directory by its host path
        try {
            String out = box.output("--rm", "-v", evil.resolve("disk").resolve("data") + ":/x", "busybox", "ls", "-a",
                    "/x");
            assertThat(out).as("what the later container sees").doesNotContain("marker");
            assertThat(Mounts.under(evil)).as("mounts under the container's files").isEmpty();
            assertThat(Disk.boundLoops(evil.resolve("disk.img"))).as("loop devices on the container's image").isEmpty();
        } finally {
            Disk.release(evil);
        }
    }
}
