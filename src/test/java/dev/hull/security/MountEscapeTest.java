package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Mount destinations that an image turns into symlinks to host paths (CVE-2015-3629's class, runc's
 * "symlink in mount destination"; CVE-2021-30465 for the racing form): /etc/hosts and friends,
 * {@code -v} and {@code --tmpfs} targets, a named volume's copy-up, /dev and /sys themselves. Every
 * mount must land inside the container's root (the path is resolved with openat2 RESOLVE_IN_ROOT and
 * the mount made on the descriptor), so the canary the symlinks name is never written, never
 * mounted on, and never read into the container.
 */
class MountEscapeTest {
    static HullBox box;
    static String c;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("mount");
        c = box.canary.dir.toString();
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    /** "../" enough times to climb out of any rootfs, then the absolute path p. */
    static String climbing(String p) {
        return "../".repeat(40) + p.substring(1);
    }

    /** The image's own copy of the canary's path, with files of its own at hosts, hostname, resolv.conf. */
    static HullBox.Layer withDecoy(HullBox.Layer l) {
        l.dirs(c + "/sub");
        for (String f : List.of("hosts", "hostname", "resolv.conf")) {
            l.file(c.substring(1) + "/" + f, "the image's decoy\n");
        }
        return l;
    }

    @Test
    void hostFilesThroughImageSymlinksLandInTheRootfs() throws Exception {
        // Hull binds its own hosts, hostname and resolv.conf over the image's: the image makes them
        // symlinks to the canary's files (absolute, and relative climbing far above the root); once
        // with the same path inside the image (the binds land on its decoys), once without (refused)
        for (boolean decoy : List.of(true, false)) {
            HullBox.Layer l = new HullBox.Layer().dir("etc").symlink("etc/hosts", c + "/hosts")
                    .symlink("etc/hostname", climbing(c + "/hostname")).symlink("etc/resolv.conf", c + "/resolv.conf");
            String image = box.image("evil/etc-files-" + decoy + ":1", decoy ? withDecoy(l) : l);
            Object r = box.runOrRefusal("--rm", "--hostname", "box", image, "sh", "-c",
                    "cat /etc/hosts /etc/hostname /etc/resolv.conf; grep -c ' " + c + "/' /proc/self/mountinfo");
            if (decoy) {
                assertThat(r).isInstanceOf(HullBox.Result.class);
                HullBox.Result res = (HullBox.Result) r;
                assertThat(res.exit()).as(res.toString()).isZero();
                assertThat(res.out()).doesNotContain(box.canary.secret).doesNotContain("decoy").contains("localhost")
                        .contains("box\n").endsWith("3\n");
            } else if (r instanceof HullBox.Result res) {
                assertThat(res.out() + res.err()).doesNotContain(box.canary.secret);
            }
            box.canary.assertUntouched();
        }
        // the whole /etc a symlink to the canary directory
        for (boolean decoy : List.of(true, false)) {
            HullBox.Layer l = new HullBox.Layer().symlink("etc", c);
            String image = box.image("evil/etc-dir-" + decoy + ":1", decoy ? withDecoy(l) : l);
            Object r = box.runOrRefusal("--rm", "--hostname", "box", image, "sh", "-c", "cat /etc/hosts /etc/hostname");
            if (r instanceof HullBox.Result res) {
                assertThat(res.out() + res.err()).doesNotContain(box.canary.secret);
                if (decoy) {
                    assertThat(res.out()).as(res.toString()).contains("localhost").contains("box\n");
                }
            }
            box.canary.assertUntouched();
        }
    }

    @Test
    void volumeAndTmpfsTargetsThroughImageSymlinksLandInTheRootfs() throws Exception {
        String image = box.image("evil/targets:1", withDecoy(new HullBox.Layer()).symlink("data", c)
                .symlink("rel", climbing(c)).dir("deep").symlink("deep/link", c + "/sub"));
        Path src = Files.createDirectories(box.dir.resolve("volume-src"));
        Files.writeString(src.resolve("file"), "from the volume\n");
        String out = box.output("--rm", "-v", src + ":/data/x:ro", "-v", src + ":/rel/y:ro", "--tmpfs",
                "/deep/link/t:size=1232k", image, "sh", "-c",
                "cat /data/x/file /rel/y/file; cat " + c + "/file 2>&1; awk '{print $5}' /proc/self/mountinfo");
        // inside the container the symlinks lead to the same paths in its own root: the mounts are there
        assertThat(out).startsWith("from the volume\nfrom the volume\n").doesNotContain(box.canary.secret)
                .contains("\n" + c + "/x\n").contains("\n" + c + "/y\n").contains("\n" + c + "/sub/t\n");
        box.canary.assertUntouched();
        // the same targets where the image has no such path: refused, or made inside the root
        String bare = box.image("evil/targets-bare:1", new HullBox.Layer().symlink("data", c).symlink("rel", climbing(c)));
        for (String target : List.of("/data/x", "/rel/y")) {
            Object r = box.runOrRefusal("--rm", "-v", src + ":" + target + ":ro", bare, "cat", target + "/file");
            if (r instanceof HullBox.Result res) {
                assertThat(res.out()).as(res.toString()).isEqualTo("from the volume\n");
            }
            box.canary.assertUntouched();
        }
    }

    @Test
    void aNamedVolumesCopyUpNeverFollowsAnImageSymlink() throws Exception {
        // docker copies the image's files at the target into a new named volume: here the image's
        // "files" are a symlink to the canary directory — nothing of the host may be copied in
        String image = box.image("evil/copy-up:1", withDecoy(new HullBox.Layer()).symlink("data", c).dir("nested")
                .symlink("nested/dir", climbing(c)));
        String out = box.output("--rm", "-v", "copyup1:/data", "-v", "copyup2:/nested/dir", image, "sh", "-c",
                "ls -A /data /nested/dir; cat /data/file /nested/dir/file 2>&1; true");
        assertThat(out).doesNotContain(box.canary.secret);
        for (String v : List.of("copyup1", "copyup2")) {
            try (Stream<Path> s = Files.list(box.engine.volumes().mountpoint(v, false))) {
                assertThat(s.toList()).as("volume %s after the copy-up", v).isEmpty();
            }
        }
        box.canary.assertUntouched();
    }

    @Test
    void devAndSysAsImageSymlinksToTheHost() throws Exception {
        // the runtime's own mounts (/dev tmpfs, devpts, shm, mqueue, sysfs, cgroups) and device nodes
        // made through the image's /dev and /sys, symlinks to the canary: inside the root, or refused
        List<String> outcomes = new ArrayList<>();
        for (var layer : List.of(new HullBox.Layer().dirs(c + "/dev").symlink("dev", c + "/dev"),
                new HullBox.Layer().dirs(c + "/sys").symlink("sys", c + "/sys"),
                new HullBox.Layer().symlink("dev", c + "/dev").symlink("sys", c + "/sys"),
                new HullBox.Layer().symlink("dev", climbing(c)).symlink("sys", climbing(c + "/sub")))) {
            String image = box.image("evil/dev-sys-" + outcomes.size() + ":1", layer);
            Object r = box.runOrRefusal("--rm", image, "sh", "-c", "cat /dev/null " + c + "/dev/null " + c
                    + "/sub/secret; ls /sys | wc -l");
            if (r instanceof HullBox.Result res) {
                assertThat(res.out() + res.err()).doesNotContain(box.canary.secret);
                outcomes.add("ran: " + res.exit());
            } else {
                outcomes.add("refused: " + ((Exception) r).getMessage());
            }
            box.canary.assertUntouched();
        }
        System.out.println("/dev and /sys as symlinks to the host: " + outcomes);
    }

    @Test
    void aMountTargetSwappedToASymlinkByAnotherContainerStaysInTheRoot() throws Exception {
        // CVE-2021-30465: container A shares a volume with B and keeps renaming, at the path of B's
        // mount target, a directory and symlinks to the canary (a host path) and to "/", while B is
        // created again and again. Each B either fails or has its tmpfs inside its own root (visible
        // in its own mountinfo: a mount made outside the root would not be); the canary gets nothing.
        String swapper = box.detached("-v", "race:/shared", "busybox", "sh", "-c",
                "cd /shared && mkdir -p d && ln -sfn " + c + "/sub l1 && ln -sfn / l2 && touch /ready &&"
                        + " while :; do mv -T d d.tmp; mv -T l1 d; mv -T d l1; mv -T l2 d; mv -T d l2; mv -T d.tmp d; done");
        box.awaitMarker(swapper, "/ready");
        int ran = 0;
        List<String> refusals = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            Object r = box.runOrRefusal("--rm", "-v", "race:/vol", "--tmpfs", "/vol/d/t:size=1232k", "busybox", "sh",
                    "-c", "grep size=1232k /proc/self/mountinfo | awk '{print $5}'");
            if (r instanceof HullBox.Result res) {
                if (res.exit() == 0) {
                    // where it shows: /t, /vol/d/t, or wherever A has renamed that directory of the volume
                    assertThat(res.out()).as("attempt %d: the tmpfs, seen inside B: %s", i, res).matches("/[^\n]*\n");
                    ran++;
                } else {
                    refusals.add("exit " + res.exit() + ": " + res.err().strip());
                }
            } else {
                refusals.add(((Exception) r).getMessage());
            }
            box.canary.assertUntouched();
        }
        System.out.println("mount target swapped during creation: " + ran + " ran inside the root, refused: " + refusals);
        box.remove(swapper);
        box.canary.assertUntouched();
    }
}
