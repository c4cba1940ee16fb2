package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.HullCommand;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull build --output} into a directory other users can write (a sticky /tmp-like one of the
 * test's own): an archive's temporary .FILE.part another user planted as a symlink to a root-only
 * file is never written through, and the image's tree is never flattened into a directory (or through
 * a link) another user owns.
 */
class BuildOutputEscapeTest {
    static HullBox box;
    static Path shared;
    static Path context;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("output");
        shared = Files.createTempDirectory(Path.of("/tmp"), "hull-output-shared-"); // others can reach it
        Files.setAttribute(shared, "unix:mode", 01777);
        context = Files.createDirectories(box.dir.resolve("ctx"));
        Files.writeString(context.resolve("Dockerfile"), "FROM busybox\nCOPY marker /marker\n");
        Files.writeString(context.resolve("marker"), "built\n");
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
        if (shared != null) {
            dev.hull.image.SnapshotStore.deleteTree(shared);
        }
    }

    /** Runs a command as uid/gid 65534 (another user of the host). */
    static void asNobody(String... cmd) throws Exception {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("setpriv", "--reuid=65534",
                "--regid=65534", "--clear-groups"));
        all.addAll(java.util.List.of(cmd));
        Process p = new ProcessBuilder(all).inheritIO().start();
        assertThat(p.waitFor()).as(String.join(" ", cmd)).isZero();
    }

    @Test
    void anArchivesPartFileIsNeverWrittenThroughAnotherUsersLink() throws Exception {
        for (String type : new String[] {"tar", "oci", "docker"}) {
            Path out = shared.resolve("out-" + type + ".tar");
            asNobody("ln", "-s", box.canary.file().toString(), shared.resolve(".out-" + type + ".tar.part").toString());
            box.hull.ok("build", "-q", "--output", "type=" + type + ",dest=" + out, context.toString());
            box.canary.assertUntouched();
            assertThat(Files.isRegularFile(out, LinkOption.NOFOLLOW_LINKS)).as(type).isTrue();
            assertThat(Files.size(out)).as(type).isGreaterThan(1024);
        }
    }

    @Test
    void theTreeGoesOnlyIntoANewDirectoryOrOneOfTheCallersOwn() throws Exception {
        Path theirs = shared.resolve("theirs");
        asNobody("mkdir", theirs.toString());
        HullCommand.Result r = box.hull.run("build", "-q", "--output", "type=local,dest=" + theirs, context.toString());
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.err()).contains("belongs to uid 65534");
        try (var s = Files.list(theirs)) {
            assertThat(s.count()).as("nothing written into another user's directory").isZero();
        }
        Path link = shared.resolve("link");
        Path empty = Files.createDirectories(box.dir.resolve("empty-target"));
        asNobody("ln", "-s", empty.toString(), link.toString());
        r = box.hull.run("build", "-q", "--output", "type=local,dest=" + link, context.toString());
        assertThat(r.exit()).as("%s", r).isNotZero();
        try (var s = Files.list(empty)) {
            assertThat(s.count()).as("nothing written through another user's link").isZero();
        }
        Path mine = shared.resolve("mine");
        box.hull.ok("build", "-q", "--output", "type=local,dest=" + mine, context.toString());
        assertThat(Files.readString(mine.resolve("marker"))).isEqualTo("built\n");
        Path existing = Files.createDirectories(shared.resolve("existing-own"));
        box.hull.ok("build", "-q", "--output", "type=local,dest=" + existing, context.toString());
        assertThat(Files.readString(existing.resolve("marker"))).isEqualTo("built\n");
    }
}
