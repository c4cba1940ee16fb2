package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A named volume's copy-up (docker's: an empty named volume gets the image's files at its mount
 * path) raced by another container that already mounts the same, still empty volume: it swaps each
 * directory the copy makes for a symlink to a host directory (the canary). "Two containers that
 * cooperate (a shared volume) to race a third's creation" is in docs/security.md's threat model.
 * The copy-up must write by descriptor only: the host directory stays untouched, and the create
 * either succeeds with the files inside the volume or fails cleanly.
 */
class CopyUpRaceTest {
    static HullBox box;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("copyup-race");
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    @Test
    void aCopyUpNeverWritesThroughASymlinkARacingContainerSwapsIn() throws Exception {
        // the image's /data/sub: names the canary has (file, hosts, passwd) and many more, so that the
        // copy is long enough for the racer to get in
        HullBox.Layer l = new HullBox.Layer().dir("data").dir("data/sub");
        for (String f : new String[] {"file", "hosts", "passwd"}) {
            l.file("data/sub/" + f, "the image's " + f + "\n");
        }
        for (int i = 1; i <= 3000; i++) {
            l.file("data/sub/f" + i, "image-content-" + i + "\n");
        }
        String image = box.image("evil/copy-up-race:1", l);
        String c = box.canary.dir.toString();
        int raced = 0;
        for (int round = 1; round <= 3; round++) {
            String vol = "race" + round + "-" + Long.toHexString(System.nanoTime());
            // the racer mounts the (empty) volume and keeps replacing a real /v/sub by a symlink to the canary
            String racer = box.detached("-v", vol + ":/v", "busybox", "sh", "-c", "touch /tmp/ready; while :; do"
                    + " if [ -d /v/sub ] && [ ! -L /v/sub ]; then mv /v/sub /v/sub.x; ln -s " + c + " /v/sub; fi; done");
            box.awaitMarker(racer, "/tmp/ready");
            Object r = box.runOrRefusal("--rm", "-v", vol + ":/data", image, "true");
            if (r instanceof HullBox.Result res) {
                assertThat(res.exit()).as(res.toString()).isZero();
            }
            box.canary.assertUntouched();
            Path data = box.engine.volumes().mountpoint(vol, false);
            boolean swapped = Files.isSymbolicLink(data.resolve("sub")) || Files.exists(data.resolve("sub.x"),
                    LinkOption.NOFOLLOW_LINKS);
            if (!(r instanceof HullBox.Result)) {
                assertThat(r.toString()).contains("copying the image's /data into volume " + vol);
                // a failed copy-up empties the volume again; only the racer's own work may be left
                try (Stream<Path> s = Files.list(data)) {
                    assertThat(s.map(p -> p.getFileName().toString()).toList()).as("volume %s after a refused create (%s)",
                            vol, r).isSubsetOf("sub", "sub.x");
                }
                swapped = true; // the copy-up only fails because the racer got in
            }
            raced += swapped ? 1 : 0;
            System.out.println("copy-up race round " + round + ": " + (swapped ? "raced, " : "not raced, ")
                    + (r instanceof HullBox.Result ? "created" : "refused: " + r));
            box.remove(racer);
        }
        Assumptions.assumeTrue(raced > 0, "the racing container never swapped a directory during a copy-up: nothing"
                + " was tested");
    }
}
