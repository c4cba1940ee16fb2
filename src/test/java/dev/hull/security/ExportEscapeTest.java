package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.build.ContainerImages;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull export} and {@code hull commit} read a container's files on the host, by host paths: a
 * running container that swaps a directory for a symlink to a host path (the canary's) while they walk
 * must not get the host's files into the tar or the image (docker cp's CVE-2018-15664, here for export
 * and commit). Hull freezes the container meanwhile, so the walk sees one state of its files.
 */
class ExportEscapeTest {
    static HullBox box;
    static String c;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("export");
        c = box.canary.dir.toString();
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    /**
     * A container that keeps renaming a directory and a symlink to the canary's path in and out of one
     * name, /race/d, every 50 ms. The directory holds files named as the canary's (file, and two of
     * 32 MiB that take a walk time to copy): a walk that listed it and meets the symlink on the way
     * finds every name it still has to read in the canary's directory.
     */
    static String racer(String name) throws Exception {
        // the canary's path in the container holds a decoy: what the container itself sees there is fine
        String image = box.image("evil/" + name + ":1", new HullBox.Layer().dirs(c).file(c.substring(1) + "/file",
                "decoy\n"));
        String id = box.detached("--name", name, image, "sh", "-c", "mkdir -p /race/d && cd /race"
                + " && dd if=/dev/urandom of=d/hosts bs=1M count=32 2>/dev/null && echo container > d/file"
                + " && cp d/hosts d/hostname && ln -s " + c + " l && touch /ready"
                + " && while :; do mv -T d t; mv -T l d; usleep 50000; mv -T d l; mv -T t d; usleep 50000; done");
        box.awaitMarker(id, "/ready");
        return id;
    }

    @Test
    void exportAndCommitOfARacingContainerNeverReadTheHost() throws Exception {
        String racer = racer("export-race");
        ContainerImages images = new ContainerImages(box.engine);
        List<String> failures = new ArrayList<>();
        int done = 0;
        for (int i = 0; i < 12; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                images.export("export-race", out);
                done++;
            } catch (Exception e) {
                failures.add(String.valueOf(e.getMessage())); // the tree changed under the walk
                continue;
            }
            String tar = CopyEscapeTest.tarContents(out.toByteArray());
            assertThat(tar).as("export %d", i).contains("race/").doesNotContain(box.canary.secret);
        }
        System.out.println("export of a racing container: " + done + " done, " + failures.size() + " failed"
                + (failures.isEmpty() ? "" : ", e.g. " + failures.get(0)));
        assertThat(failures).as("exports of a frozen container: its files hold still").isEmpty();
        for (int i = 0; i < 3; i++) { // and commit, which reads the same files the same way
            images.commit("export-race", "evil/export-race-commit:" + i, new ContainerImages.Meta(null, null, List.of()));
            assertThat(box.output("--rm", "evil/export-race-commit:" + i, "sh", "-c",
                    "cat /race/*/file; grep -l HULL-CANARY /race/*/* 2>/dev/null; true"))
                    .as("commit %d", i).doesNotContain(box.canary.secret).doesNotContain("/race/");
        }
        assertThat(box.engine.state(box.info(racer)).status()).as("the container runs on after the exports")
                .isEqualTo("running");
        box.remove(racer);
        box.canary.assertUntouched();
    }

    /**
     * {@code hull volume export} of a volume a running container owns: the container swaps regular
     * files and FIFOs (renameat2 RENAME_EXCHANGE, 64 pairs, without pause) while the host's root
     * walks it. A walker that opens by name after its lstat opens whatever took the name meanwhile:
     * a FIFO here, which the container's blocked writer notices ("opened"); a device node the
     * container made (CAP_MKNOD, which it cannot open itself: the device cgroup) in an attack, and
     * opening a device can act (a watchdog arms, a tape rewinds). The host must never open one.
     */
    @Test
    void volumeExportOfARacingContainerNeverOpensWhatIsNotARegularFile() throws Exception {
        String volume = "vx-race-" + Long.toHexString(System.nanoTime());
        box.engine.volumes().create(volume, java.util.Map.of());
        java.nio.file.Path content = box.engine.volumes().mountpoint(volume, false);
        String id = box.detached("-v", volume + ":/v", "-v", box.helperVolume(), "busybox", "sh", "-c",
                "cd /v && i=0; while [ $i -lt 64 ]; do echo data > f$i; mkfifo p$i; ln p$i w$i;"
                + " (: > w$i; touch opened) & i=$((i+1)); done; touch ready;"
                + " exec /helper/escape-helper exchange /v 64");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!java.nio.file.Files.exists(content.resolve("ready"))) {
            assertThat(System.nanoTime()).as("the container set its volume up within 120 s").isLessThan(deadline);
            Thread.sleep(20);
        }
        dev.hull.engine.VolumeArchives archives = new dev.hull.engine.VolumeArchives(box.engine.volumes());
        int done = 0, changed = 0;
        for (int i = 0; i < 100 && !java.nio.file.Files.exists(content.resolve("opened")); i++) {
            try {
                archives.export(volume, java.io.OutputStream.nullOutputStream());
                done++;
            } catch (java.io.IOException e) {
                changed++; // "changed while it was copied": refused, which is fine
            }
        }
        System.out.println("volume export of a racing volume: " + done + " done, " + changed + " refused");
        assertThat(content.resolve("opened")).as("a FIFO the container swapped in was opened by the host").doesNotExist();
        box.remove(id);
    }
}
