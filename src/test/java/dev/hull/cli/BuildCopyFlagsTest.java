package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * COPY --parents and COPY/ADD --exclude as Docker's Dockerfile reference has them: --parents keeps
 * each source's path (from the context's root, or from a "/./" pivot; ** for any number of
 * directories), also from a stage; --exclude leaves out what its patterns match below each source;
 * both are part of the step's cache key (a file left out changing is still a hit).
 */
class BuildCopyFlagsTest {
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-buildcopy-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    private static Path tree(String name, String dockerfile) throws Exception {
        Path c = fx.context(name, dockerfile);
        for (String f : List.of("x/a.txt", "x/y/a.txt", "x/y/b.txt", "src/a.txt", "src/a/b.txt", "src/a/b/c.txt",
                "src/a/b/d.md", "dir1/f.png", "dir1/f.txt", "home.txt", "home.md", "homer")) {
            Files.createDirectories(c.resolve(f).getParent());
            Files.writeString(c.resolve(f), f + "\n");
        }
        return c;
    }

    /** Every path below dir in the image, sorted, one a line. */
    private static String find(String image, String dir) throws Exception {
        return fx.ok("run", "--rm", image, "sh", "-c", "cd " + dir + " && find . | sort").out();
    }

    @Test
    void parentsKeepTheSourcesPaths() throws Exception {
        Path c = tree("parents", """
                FROM busybox AS base
                RUN mkdir -p /test/a/b/c/d/e /test/a/b2/c/d/e && touch /test/a/b/c/d/foo /test/a/b2/c/d/e/bar
                FROM busybox
                COPY ./x/a.txt ./x/y/a.txt /flat/
                COPY --parents ./x/a.txt ./x/y/a.txt /p1/
                COPY --parents ./x/./y/*.txt /p2/
                COPY --parents src/**/*.txt /p3/
                COPY --parents src /p4
                COPY --parents=false x/y /p5/
                COPY --from=base --parents /test/a/b/./c/d /p6/
                COPY --from=base --parents /test/a/./*/c /p7/
                COPY --parents nothing-matches-* /p8/
                """);
        fx.ok("build", "-t", "parents:1", c.toString());
        assertThat(find("parents:1", "/flat")).as("without --parents: by name, the last one wins").isEqualTo(".\n./a.txt\n");
        assertThat(fx.ok("run", "--rm", "parents:1", "cat", "/flat/a.txt").out()).isEqualTo("x/y/a.txt\n");
        assertThat(find("parents:1", "/p1")).isEqualTo(".\n./x\n./x/a.txt\n./x/y\n./x/y/a.txt\n");
        assertThat(fx.ok("run", "--rm", "parents:1", "cat", "/p1/x/a.txt", "/p1/x/y/a.txt").out())
                .isEqualTo("x/a.txt\nx/y/a.txt\n");
        assertThat(find("parents:1", "/p2")).as("only what follows ./").isEqualTo(".\n./y\n./y/a.txt\n./y/b.txt\n");
        assertThat(find("parents:1", "/p3")).as("** is any number of directories, none too")
                .isEqualTo(".\n./src\n./src/a\n./src/a.txt\n./src/a/b\n./src/a/b.txt\n./src/a/b/c.txt\n");
        assertThat(find("parents:1", "/p4")).as("a directory keeps its own name (the destination is a directory)")
                .isEqualTo(".\n./src\n./src/a\n./src/a.txt\n./src/a/b\n./src/a/b.txt\n./src/a/b/c.txt\n./src/a/b/d.md\n");
        assertThat(find("parents:1", "/p5")).as("--parents=false: the directory's contents")
                .isEqualTo(".\n./a.txt\n./b.txt\n");
        assertThat(find("parents:1", "/p6")).as("from a stage, from the pivot")
                .isEqualTo(".\n./c\n./c/d\n./c/d/e\n./c/d/foo\n");
        assertThat(find("parents:1", "/p7")).as("a wildcard before the pivot")
                .isEqualTo(".\n./b\n./b/c\n./b/c/d\n./b/c/d/e\n./b/c/d/foo\n./b2\n./b2/c\n./b2/c/d\n./b2/c/d/e\n./b2/c/d/e/bar\n");
        assertThat(find("parents:1", "/p8")).as("a glob that matches nothing: an empty destination").isEqualTo(".\n");

        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nCOPY --parents x/nothing /p/\n");
        HullCommand.Result r = fx.hull.run("build", c.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("hull: Dockerfile:2: COPY x/nothing: x/nothing: no such file or directory in the build context");
        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nADD --parents x /p/\n");
        r = fx.hull.run("build", c.toString());
        assertThat(r.err()).contains("hull: Dockerfile:2: ADD has no flag --parents");
        fx.nothingLeftBehind();
    }

    @Test
    void excludeLeavesOutWhatItsPatternsMatch() throws Exception {
        Path c = tree("exclude", """
                FROM busybox AS base
                RUN mkdir -p /data/keep /data/skip && touch /data/keep/k /data/skip/s /data/top.log
                FROM busybox
                ARG EXT=md
                COPY --exclude=*.txt --exclude=*.${EXT} hom* /e1/
                COPY --exclude=*/*.png --exclude=src --exclude=x/**/b.txt . /e2/
                ADD --exclude=*.png dir1 /e3/
                COPY --exclude=* dir1 /e4/
                COPY --from=base --exclude=skip --exclude=*.log /data /e5/
                COPY --parents --exclude=src/**/*.md src /e6/
                """);
        HullCommand.Result built = fx.ok("build", "-t", "exclude:1", c.toString());
        assertThat(built.out()).contains("STEP 5/10: COPY --exclude=*.txt --exclude=*.${EXT} hom* /e1/");
        assertThat(find("exclude:1", "/e1")).as("a file source: its name").isEqualTo(".\n./homer\n");
        assertThat(find("exclude:1", "/e2")).as("below a directory source: the path from it")
                .isEqualTo(".\n./Dockerfile\n./dir1\n./dir1/f.txt\n./home.md\n./home.txt\n./homer\n./x\n./x/a.txt\n"
                        + "./x/y\n./x/y/a.txt\n");
        assertThat(find("exclude:1", "/e3")).isEqualTo(".\n./f.txt\n");
        assertThat(find("exclude:1", "/e4")).as("everything left out: the directory alone").isEqualTo(".\n");
        assertThat(find("exclude:1", "/e5")).as("from a stage").isEqualTo(".\n./keep\n./keep/k\n");
        assertThat(find("exclude:1", "/e6")).as("with --parents: from the pivot")
                .isEqualTo(".\n./src\n./src/a\n./src/a.txt\n./src/a/b\n./src/a/b.txt\n./src/a/b/c.txt\n");
        assertThat(fx.ok("history", "--no-trunc", "exclude:1").out()).contains("--exclude=*/*.png --exclude=src");

        // the cache: a file left out changing is still a hit; one copied is not; another pattern is another step
        Files.writeString(c.resolve("dir1/f.png"), "changed\n");
        HullCommand.Result again = fx.ok("build", "-t", "exclude:2", c.toString());
        assertThat(again.out().lines().filter(l -> l.startsWith("--> CACHED")).count()).as(again.out()).isEqualTo(7);
        Files.writeString(c.resolve("homer"), "changed\n");
        List<String> lines = fx.ok("build", "-t", "exclude:3", c.toString()).out().lines().toList();
        assertThat(lines.get(lines.indexOf("STEP 5/10: COPY --exclude=*.txt --exclude=*.${EXT} hom* /e1/") + 1))
                .doesNotStartWith("--> CACHED");
        assertThat(fx.ok("run", "--rm", "exclude:3", "cat", "/e1/homer").out()).isEqualTo("changed\n");
        lines = fx.ok("build", "--build-arg", "EXT=txt", "-t", "exclude:4", c.toString()).out().lines().toList();
        assertThat(lines.get(lines.indexOf("STEP 5/10: COPY --exclude=*.txt --exclude=*.${EXT} hom* /e1/") + 1))
                .doesNotStartWith("--> CACHED");
        assertThat(find("exclude:4", "/e1")).isEqualTo(".\n./home.md\n./homer\n");

        Files.writeString(c.resolve("Dockerfile"), "FROM busybox\nCOPY --exclude x /p/\n");
        HullCommand.Result r = fx.hull.run("build", c.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("hull: Dockerfile:2: COPY --exclude needs a pattern (--exclude=*.txt)");
        fx.nothingLeftBehind();
    }
}
