package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hull.cli.HullCommand;
import dev.hull.image.testing.RegistryServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile images, end to end: layers that reach outside themselves are refused by {@code hull
 * load} and {@code hull pull} (the unpacker's every case is LayerHostileTest's, the archive's
 * ArchiveHostileTest's: here, that both commands refuse them and the host's canary is untouched);
 * the links an image may legally hold (absolute symlinks to host paths, hard links to them) are
 * followed only inside the container, also when it writes through them; the image files Hull itself
 * reads on the host (/etc/passwd, /etc/group, the working directory) are never read or made through
 * the image's symlinks; device nodes an image ships cannot be opened.
 */
class ImageEscapeTest {
    static HullBox box;
    static String c;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("image");
        c = box.canary.dir.toString();
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    /** Layers no unpacker may apply: each aims at the canary. */
    static Map<String, HullBox.Layer> hostileLayers() {
        String rel = "../".repeat(40) + c.substring(1);
        Map<String, HullBox.Layer> m = new LinkedHashMap<>();
        m.put("dotdot", new HullBox.Layer().file(rel + "/pwned", "PWNED"));
        m.put("write-through-absolute-symlink", new HullBox.Layer().symlink("evil", c).file("evil/pwned", "PWNED"));
        m.put("write-through-relative-symlink", new HullBox.Layer().symlink("evil", rel).file("evil/file", "PWNED"));
        m.put("write-through-symlink-chain", new HullBox.Layer().dir("d").symlink("d/one", c).symlink("two", "d/one")
                .dir("two/newdir"));
        m.put("hardlink-to-host-file", new HullBox.Layer().hardlink("h", c + "/file"));
        m.put("hardlink-through-symlink", new HullBox.Layer().symlink("evil", c).hardlink("h", "evil/file"));
        m.put("whiteout-through-symlink", new HullBox.Layer().symlink("evil", c).file("evil/.wh.file", ""));
        return m;
    }

    @Test
    void hullLoadRefusesLayersThatReachOutside() throws Exception {
        // through the real command line once
        Path archive = box.dockerArchive("evil/load:1", hostileLayers().get("write-through-absolute-symlink"), Map.of());
        java.util.Set<String> blobs = blobs();
        HullCommand.Result r = box.hull.run("load", "-i", archive.toString());
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("evil/pwned");
        // a refused load leaves nothing: no record (not listed), none of its blobs
        assertThat(box.hull.run("images").out()).as("hull images after the refused load").doesNotContain("evil/load");
        assertThat(box.engine.images().store().find("evil/load:1")).isEmpty();
        assertThat(blobs()).as("the store's blobs after the refused load: none new").isSubsetOf(blobs);
        assertThat(box.runOrRefusal("--rm", "evil/load:1", "true")).as("running the refused image")
                .isInstanceOf(Exception.class);
        box.canary.assertUntouched();
        // and each hostile layer through the same code in-process
        for (var e : hostileLayers().entrySet()) {
            Path a = box.dockerArchive("evil/" + e.getKey() + ":1", e.getValue(), Map.of());
            assertThatThrownBy(() -> box.load(a)).as(e.getKey()).isInstanceOf(IOException.class);
            assertThat(box.engine.images().store().find("evil/" + e.getKey() + ":1")).as(e.getKey()).isEmpty();
            assertThat(blobs()).as(e.getKey()).isSubsetOf(blobs);
            assertThat(box.runOrRefusal("--rm", "evil/" + e.getKey() + ":1", "true")).as(e.getKey())
                    .isInstanceOf(Exception.class);
            box.canary.assertUntouched();
            assertThat(Files.getAttribute(box.canary.file(), "unix:nlink")).as(e.getKey()).isEqualTo(1);
        }
    }

    /** The digests of the blobs the test's store holds. */
    static java.util.Set<String> blobs() throws IOException {
        java.util.Set<String> out = new java.util.TreeSet<>();
        box.engine.images().store().content().list().forEach(d -> out.add(d.toString()));
        return out;
    }

    @Test
    void hullImportedTarsThatReachOutsideNeverRun() throws Exception {
        // hull import stores the tar as it is, as the one layer of an image: running it unpacks that
        // layer with the same checks as a pulled one's
        for (var e : hostileLayers().entrySet()) {
            String ref = "evil/import-" + e.getKey() + ":1";
            Object imported;
            try {
                imported = new dev.hull.build.ContainerImages(box.engine).importTar(
                        new java.io.ByteArrayInputStream(e.getValue().bytes()), e.getKey(), ref,
                        new dev.hull.build.ContainerImages.Meta(null, null, List.of()));
            } catch (Exception refused) {
                imported = refused;
            }
            if (!(imported instanceof Exception)) {
                assertThat(box.runOrRefusal("--rm", ref, "true")).as(e.getKey()).isInstanceOf(Exception.class);
            }
            box.canary.assertUntouched();
            assertThat(Files.getAttribute(box.canary.file(), "unix:nlink")).as(e.getKey()).isEqualTo(1);
        }
    }

    @Test
    void hullPullRefusesLayersThatReachOutside() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed (it pushes"
                + " the hostile image to the test registry)");
        Assumptions.assumeTrue(Files.isExecutable(RegistryServer.BINARY), "docker-registry is not installed");
        try (RegistryServer registry = RegistryServer.builder(box.dir.resolve("registry")).start()) {
            List<String> outcomes = new ArrayList<>();
            for (String name : List.of("hardlink-through-symlink")) {
                Path archive = box.dockerArchive("evil/" + name + ":1", hostileLayers().get(name), Map.of());
                String ref = registry.host() + "/evil/" + name + ":1";
                RegistryServer.run(null, "skopeo", "copy", "--dest-tls-verify=false", "docker-archive:" + archive,
                        "docker://" + ref);
                HullCommand.Result r = box.hull.run("pull", "-q", "--tls-verify=false", ref);
                assertThat(r.exit()).as("hull pull %s: %s", ref, r).isNotZero();
                assertThat(box.runOrRefusal("--rm", ref, "true")).as("running %s", ref).isInstanceOf(Exception.class);
                outcomes.add(name + ": " + r.err().strip());
                box.canary.assertUntouched();
                assertThat(Files.getAttribute(box.canary.file(), "unix:nlink")).as(name).isEqualTo(1);
            }
            System.out.println("hull pull of hostile layers: " + outcomes);
        }
    }

    @Test
    void linksTheImageHoldsAreFollowedOnlyInsideTheContainer() throws Exception {
        // legal in an image: absolute and climbing symlinks to the host's paths, a hard link to such a
        // symlink. The container reads and writes through them: it must meet its own files (the image
        // ships a decoy at the canary's path), never the canary's
        String rel = "../".repeat(40) + c.substring(1);
        String image = box.image("evil/links:1", new HullBox.Layer().dirs(c).file(c.substring(1) + "/file", "decoy\n")
                .symlink("evil-dir", c).symlink("evil-file", c + "/file").symlink("evil-rel", rel)
                .hardlink("hard-to-link", "evil-file"));
        String out = box.output("--rm", image, "sh", "-c", "cat /evil-file /evil-rel/file /hard-to-link;"
                + " echo PWNED > /evil-file; echo PWNED > /evil-dir/new; echo PWNED >> /evil-rel/file;"
                + " echo PWNED >> /hard-to-link; ls /evil-dir; cat /evil-dir/file");
        assertThat(out).doesNotContain(box.canary.secret).startsWith("decoy\ndecoy\ndecoy\n");
        assertThat(out).endsWith("file\nnew\nPWNED\nPWNED\nPWNED\n");
        box.canary.assertUntouched();
        // without a decoy the same links lead nowhere in the container
        String bare = box.image("evil/links-bare:1", new HullBox.Layer().symlink("evil-dir", c)
                .symlink("evil-file", c + "/file").symlink("evil-rel", rel));
        HullBox.Result r = box.run("--rm", bare, "sh", "-c", "cat /evil-file /evil-rel/file;"
                + " echo PWNED > /evil-file; echo PWNED > /evil-dir/new; ls -A /evil-dir");
        assertThat(r.out() + r.err()).doesNotContain(box.canary.secret);
        box.canary.assertUntouched();
    }

    @Test
    void imageFilesHullReadsOnTheHostAreNotReadThroughSymlinks() throws Exception {
        // Hull resolves -u NAME in the image's /etc/passwd and /etc/group on the host, before the
        // container exists: the image makes them symlinks to the canary's passwd, which has a user
        // "canary" (uid 4242) that the image does not have
        String image = box.image("evil/passwd:1", new HullBox.Layer().dir("etc").symlink("etc/passwd", c + "/passwd")
                .symlink("etc/group", "../".repeat(40) + c.substring(1) + "/group"));
        Object r = box.runOrRefusal("--rm", "-u", "canary", image, "id");
        if (r instanceof HullBox.Result res) {
            assertThat(res.exit()).as("%s", res).isNotZero();
            assertThat(res.out()).doesNotContain("4242");
        } else {
            assertThat(((Exception) r).getMessage()).contains("canary").doesNotContain("4242");
        }
        // the image's own default user is used, not the canary's
        assertThat(box.output("--rm", image, "id", "-u")).isEqualTo("0\n");
        box.canary.assertUntouched();
    }

    @Test
    void aWorkingDirectoryThroughAnImageSymlinkIsMadeInTheContainer() throws Exception {
        // docker makes a missing working directory; the image's WorkingDir passes through a symlink to
        // the canary. Overlay snapshotter (the default): the directory is made in the container's
        // upper layer, never on the host
        String image = box.image("evil/workdir:1", new HullBox.Layer().symlink("w", c),
                Map.of("WorkingDir", "/w/made-by-hull"));
        Object r = box.runOrRefusal("--rm", image, "pwd");
        assertThat(r).isInstanceOf(HullBox.Result.class);
        assertThat(box.canary.dir.resolve("made-by-hull")).doesNotExist();
        box.canary.assertUntouched();
        // the same with -w: the user names the directory, the image's symlink decides where it would go
        String plain = box.image("evil/workdir-w:1", new HullBox.Layer().symlink("w", c));
        box.runOrRefusal("--rm", "-w", "/w/made-by-w", plain, "pwd");
        assertThat(box.canary.dir.resolve("made-by-w")).doesNotExist();
        box.canary.assertUntouched();
    }

    @Test
    // Did not hold before: Engine.makeWorkdir ran Files.createDirectories(rootfs/<WorkingDir>) on the
    // copy snapshotter's flattened rootfs, following the image's symlinks onto the host. The executor
    // now makes the directory inside the container's root (annotation run.hull.cwd.mkdir).
    void aWorkingDirectoryThroughAnImageSymlinkIsNotMadeOnTheHostByTheCopySnapshotter() throws Exception {
        // its own canary: while this does not hold, the other tests' canary stays clean
        Canary own = new Canary(box.dir.resolve("canary-copy"));
        String image = box.image("evil/workdir-copy:1", new HullBox.Layer().symlink("w", own.dir.toString()),
                Map.of("WorkingDir", "/w/made-by-hull"));
        box.runOrRefusalWithEnv(Map.of("HULL_SNAPSHOTTER", "copy"), "--rm", image, "pwd");
        assertThat(own.dir.resolve("made-by-hull")).doesNotExist();
        own.assertUntouched();
        // the same with -w: the user names the directory, the image's symlink decides where it goes
        String plain = box.image("evil/workdir-copy-w:1", new HullBox.Layer().symlink("w", own.dir.toString()));
        box.runOrRefusalWithEnv(Map.of("HULL_SNAPSHOTTER", "copy"), "--rm", "-w", "/w/made-by-w", plain, "pwd");
        assertThat(own.dir.resolve("made-by-w")).doesNotExist();
        own.assertUntouched();
    }

    @Test
    void deviceNodesShippedInTheImageCannotBeOpened() throws Exception {
        // an image may hold device nodes (the unpacker makes them, as root): the device cgroup is what
        // stops the container from opening the host's disk or kernel memory through them
        String[] disk = ConfinementEscapeTest.hostBlockDevice();
        String image = box.image("evil/devices:1", new HullBox.Layer().dir("nodes")
                .device("nodes/disk", 'b', Integer.parseInt(disk[0]), Integer.parseInt(disk[1]))
                .device("nodes/mem", 'c', 1, 1).device("nodes/kmsg", 'c', 1, 11));
        HullBox.Result r = box.run("--rm", image, "sh", "-c", "ls /nodes | wc -l; for n in disk mem kmsg; do"
                + " head -c 4096 /nodes/$n > /dev/null && echo OPENED $n; done; true");
        assertThat(r.out()).as(r.toString()).isEqualTo("3\n");
        assertThat(r.err()).contains("/nodes/disk: Operation not permitted").contains("/nodes/mem: Operation not permitted")
                .contains("/nodes/kmsg: Operation not permitted");
    }
}
