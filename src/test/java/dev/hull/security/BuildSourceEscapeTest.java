package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.build.testing.GitServer;
import dev.hull.cli.HullCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull build} against contexts, repositories and images whose symbolic links lead to host paths
 * (the canary's): COPY's sources, a context's Dockerfile and a repository's #REF:DIR resolve their links
 * inside the context, repository or image — as docker does — and never read the host's files, which
 * Hull's builder runs as root.
 */
class BuildSourceEscapeTest {
    static HullBox box;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("build");
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    /** A context directory of this test's holding the Dockerfile text and a link l -> / (the host's root, on the host). */
    static Path context(String name, String dockerfile) throws Exception {
        Path ctx = Files.createDirectories(box.dir.resolve(name));
        Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
        Files.createSymbolicLink(ctx.resolve("l"), Path.of("/"));
        return ctx;
    }

    static Path tarOf(Path dir) throws Exception {
        Path tar = box.dir.resolve(dir.getFileName() + ".tar");
        Process p = new ProcessBuilder("tar", "-C", dir.toString(), "-cf", tar.toString(), ".").inheritIO().start();
        assertThat(p.waitFor()).isZero();
        return tar;
    }

    static void assertNothingRead(HullCommand.Result r) {
        assertThat(r.exit()).as("%s", r).isNotZero();
        assertThat(r.out() + r.err()).doesNotContain(box.canary.secret);
        box.canary.assertUntouched();
    }

    @Test
    void aContextsLinksResolveInsideTheContext() throws Exception {
        Path ctx = context("inside", "FROM busybox\nCOPY rel/file /a\nCOPY abs/file /b\nCMD [\"cat\", \"/a\", \"/b\"]\n");
        Files.createDirectories(ctx.resolve("sub"));
        Files.writeString(ctx.resolve("sub/file"), "the context's own\n");
        Files.createSymbolicLink(ctx.resolve("rel"), Path.of("sub"));
        Files.createSymbolicLink(ctx.resolve("abs"), Path.of("/sub")); // the context's /sub, not the host's
        box.hull.ok("build", "-q", "-t", "escape-inside:1", ctx.toString());
        assertThat(box.hull.ok("run", "--rm", "--network", "none", "escape-inside:1").out())
                .isEqualTo("the context's own\nthe context's own\n");
    }

    @Test
    void copyThroughALinkToTheHostsRootFindsNothing() throws Exception {
        String dockerfile = "FROM busybox\nCOPY l" + box.canary.file() + " /stolen\n";
        assertNothingRead(box.hull.run("build", "-t", "escape-dir:1", context("dir", dockerfile).toString()));
        assertNothingRead(box.hull.runWithInput(tarOf(context("tar", dockerfile)), "build", "-t", "escape-tar:1", "-"));
        assertThat(box.hull.run("image", "inspect", "escape-dir:1").exit()).isNotZero();
        assertThat(box.hull.run("image", "inspect", "escape-tar:1").exit()).isNotZero();
    }

    @Test
    void aTarContextsDockerfileLinkedToAHostFileIsNotRead() throws Exception {
        Path ctx = Files.createDirectories(box.dir.resolve("dflink"));
        Files.createSymbolicLink(ctx.resolve("Dockerfile"), box.canary.file());
        HullCommand.Result r = box.hull.runWithInput(tarOf(ctx), "build", "-t", "escape-df:1", "-");
        assertNothingRead(r);
        assertThat(r.err()).contains("Dockerfile");
    }

    @Test
    void copyFromAnImageResolvesItsLinksInTheImage() throws Exception {
        String canaryDir = box.canary.dir.toString();
        // the image's /app -> the canary's path; the image also has a file of its own at that path
        box.image("escape-from:1", new HullBox.Layer().symlink("app", canaryDir).dirs(canaryDir)
                .file(canaryDir.substring(1) + "/file", "the image's own\n"));
        Path ctx = Files.createDirectories(box.dir.resolve("from"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox\nCOPY --from=escape-from:1 /app/file /got\n"
                + "CMD [\"cat\", \"/got\"]\n");
        box.hull.ok("build", "-q", "-t", "escape-from-built:1", ctx.toString());
        assertThat(box.hull.ok("run", "--rm", "--network", "none", "escape-from-built:1").out())
                .isEqualTo("the image's own\n");
        box.canary.assertUntouched();
    }

    @Test
    void aRepositorysLinksStayInTheRepository() throws Exception {
        Assumptions.assumeTrue(GitServer.available(), "needs git (./test installs it)");
        // a directory of the host's with a Dockerfile: what #REF:DIR through the repository's link would reach
        Path hostDir = Files.createDirectories(box.dir.resolve("hostctx"));
        Files.writeString(hostDir.resolve("Dockerfile"), "FROM busybox\nCOPY . /hostcopy\n");
        Files.writeString(hostDir.resolve("private.txt"), box.canary.secret + "\n");
        try (GitServer git = new GitServer(Files.createDirectories(box.dir.resolve("git")), work -> {
            Files.createSymbolicLink(work.resolve("app/l"), Path.of("/"));
            Files.writeString(work.resolve("app/Dockerfile"), "FROM busybox\nCOPY l" + box.canary.file()
                    + " /stolen\n");
        })) {
            assertNothingRead(box.hull.run("build", "-t", "escape-git:1", git.url + "#main:app"));
            HullCommand.Result r = box.hull.run("build", "-t", "escape-git-dir:1", git.url + "#main:app/l" + hostDir);
            assertNothingRead(r);
            assertThat(r.err()).contains("is not a directory in the repository");
        }
    }
}
