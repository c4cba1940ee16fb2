package dev.hull.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.image.SnapshotStore;
import dev.hull.runtime.RuntimeError;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sized disks against the kernel: a sparse ext4 image on an autoclear loop device, its hard limit
 * (ENOSPC inside, the bytes in the image), online growth, release (no loop device or mount left),
 * and fscrypt encryption (no plaintext name or content in the raw image; lock and unlock).
 */
class DiskTest {
    Path dir;

    @BeforeEach
    void setUp() throws IOException {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no /dev/loop-control: no loop devices");
        Assumptions.assumeTrue(Mkfs.find() != null, "no mkfs.ext4 (e2fsprogs)");
        dir = Files.createTempDirectory(Path.of("/var/tmp"), "hull-disk-");
    }

    @AfterEach
    void tearDown() throws IOException {
        if (dir != null) {
            Disk.release(dir);
            SnapshotStore.deleteTree(dir);
        }
    }

    static List<String> loopsOf(Path image) throws IOException {
        return Disk.boundLoops(image);
    }

    /** Waits (generously) for the autoclear of the image's loop device, which the kernel does after the unmount. */
    static void awaitNoLoop(Path image) throws Exception {
        for (int i = 0; i < 600 && !loopsOf(image).isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(loopsOf(image)).as("loop devices still bound to " + image).isEmpty();
    }

    /** Writes 1 MiB blocks to file until the disk is full; returns the error and how many bytes went in. */
    static long fill(Path file, IOException[] error) {
        byte[] block = new byte[1 << 20];
        java.util.Arrays.fill(block, (byte) 'x');
        long written = 0;
        try (FileOutputStream out = new FileOutputStream(file.toFile())) {
            for (;;) {
                out.write(block);
                written += block.length;
                if (written > (1L << 30)) {
                    break;
                }
            }
            out.getFD().sync();
        } catch (IOException e) {
            error[0] = e;
        }
        return written;
    }

    @Test
    void aSizedDiskStopsWritesAtItsSizeAndIsReleasedWhole() throws Exception {
        Disk.create(dir, new DiskSpec(64L << 20, false, null));
        Path data = Disk.content(dir);
        assertThat(Mounts.at(Disk.mountPoint(dir))).isNotNull();
        assertThat(loopsOf(Disk.image(dir))).hasSize(1);
        long total = Files.getFileStore(data).getTotalSpace();
        assertThat(total).isBetween(40L << 20, 64L << 20);
        assertThat(Disk.status(dir).allocated()).as("sparse image").isLessThan(32L << 20);

        IOException[] error = new IOException[1];
        long written = fill(data.resolve("big"), error);
        assertThat(error[0]).as("a write past the size fails").isNotNull();
        assertThat(error[0].getMessage()).contains("No space left on device");
        assertThat(written).isLessThanOrEqualTo(64L << 20);

        Disk.grow(dir, 128L << 20, "test disk", null);
        assertThat(Files.getFileStore(data).getTotalSpace()).isGreaterThan(total + (50L << 20));
        Files.write(data.resolve("after-grow"), new byte[8 << 20]);
        assertThat(Disk.meta(dir).Size()).isEqualTo(128L << 20);

        Disk.release(dir);
        assertThat(Mounts.under(dir)).isEmpty();
        awaitNoLoop(Disk.image(dir));
        // the bytes landed in the image (flushed by the unmount), not elsewhere on the host
        assertThat(Disk.status(dir).allocated()).isGreaterThanOrEqualTo(written + (8L << 20) - (4L << 20));
        Disk.mount(dir); // again, as after a reboot: the content is still there
        assertThat(Files.size(Disk.content(dir).resolve("after-grow"))).isEqualTo(8 << 20);
        Disk.release(dir);
        awaitNoLoop(Disk.image(dir));
    }

    @Test
    void twoCommandsMountingAnUnmountedDiskAtOnceShareOneLoopDevice() throws Exception {
        // after a reboot two containers of one volume start at once: each finds the disk unmounted. Two
        // loop devices on one image would be two ext4 instances writing the same blocks
        Disk.create(dir, new DiskSpec(32L << 20, false, null));
        for (int round = 0; round < 8; round++) {
            Disk.release(dir);
            awaitNoLoop(Disk.image(dir));
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(4);
            List<java.util.concurrent.Future<?>> mounts = new java.util.ArrayList<>();
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
                for (int i = 0; i < 4; i++) {
                    mounts.add(pool.submit(() -> {
                        start.await();
                        Disk.mount(dir);
                        return null;
                    }));
                }
                for (var f : mounts) {
                    f.get();
                }
            }
            assertThat(loopsOf(Disk.image(dir))).as("round %d: loop devices on the image", round).hasSize(1);
        }
    }

    @Test
    void anEncryptedDiskKeepsNoPlaintextAndLocks() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/sys/fs/ext4/features/encryption")),
                "this kernel's ext4 has no encryption (fscrypt)");
        Path key = dir.resolve("key");
        Files.write(key, KeyWrap.newDiskKey());
        Disk.create(dir, new DiskSpec(32L << 20, true, key));
        Path data = Disk.content(dir);
        String marker = "HULL-PLAINTEXT-MARKER-" + System.nanoTime();
        String name = "hull-secret-name-" + System.nanoTime();
        Files.writeString(data.resolve(name), marker.repeat(100));
        assertThat(Files.readString(data.resolve(name))).startsWith(marker);
        assertThat(Disk.status(dir).locked()).isFalse();

        assertThat(Disk.lock(dir, "test disk")).as("no file in use").isFalse();
        assertThat(Disk.status(dir).locked()).isTrue();
        try (var s = Files.list(data)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).hasSize(1).doesNotContain(name);
        }
        assertThatThrownBy(() -> Files.readString(data.resolve(name))).isInstanceOf(IOException.class);

        Path wrong = dir.resolve("wrong");
        Files.write(wrong, KeyWrap.newDiskKey());
        assertThatThrownBy(() -> Disk.unlock(dir, wrong, "test disk")).isInstanceOf(RuntimeError.class)
                .hasMessageContaining("wrong key");
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        for (Path notAFile : List.of(fifo, Path.of("/dev/zero"))) {
            assertThatThrownBy(() -> Disk.unlock(dir, notAFile, "test disk")).as("%s: refused, not read forever",
                    notAFile).isInstanceOf(RuntimeError.class).hasMessageContaining("is not a regular file");
        }
        Disk.unlock(dir, key, "test disk");
        assertThat(Files.readString(data.resolve(name))).startsWith(marker);

        Disk.release(dir); // everything on the image, nothing cached
        awaitNoLoop(Disk.image(dir));
        byte[] raw = Files.readAllBytes(Disk.image(dir));
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        assertThat(text).doesNotContain(marker).doesNotContain(name);
        assertThat(text).as("the image holds a name written in the clear (sanity: the search works)")
                .contains("lost+found");
        assertThat(new String(Files.readAllBytes(Disk.image(dir).resolveSibling("disk.json")), StandardCharsets.UTF_8))
                .contains("WrappedKey").doesNotContain(java.util.HexFormat.of().formatHex(Files.readAllBytes(key)));
    }
}
