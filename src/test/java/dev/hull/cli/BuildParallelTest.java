package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull build runs independent stages side by side: two stages that can only finish if the other
 * runs at the same time (each RUN waits for a file the other's RUN makes in a shared cache mount)
 * build; the output is in file order with RUN lines marked by their stage; a parallel build gives
 * the same image and the same lines as HULL_BUILD_JOBS=1; a failing stage stops the others.
 */
class BuildParallelTest {
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-buildpar-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    /** A RUN that makes /meet/mine and waits (up to 5 min) for /meet/theirs, in a cache mount both stages share. */
    static String meet(String id, String mine, String theirs) {
        return "RUN --mount=type=cache,id=" + id + ",target=/meet touch /meet/" + mine + " && i=0 && until [ -e /meet/"
                + theirs + " ]; do i=$((i+1)); [ $i -lt 3000 ] || exit 7; sleep 0.1; done && echo " + mine + " met "
                + theirs + " && echo " + mine + " > /" + mine + "\n";
    }

    @Test
    void independentStagesOverlapAndTheirLinesStayInFileOrder() throws Exception {
        String id = "meet-" + UUID.randomUUID();
        Path c = fx.context("overlap", "FROM busybox AS left\n" + meet(id, "left", "right")
                + "FROM busybox AS right\n" + meet(id, "right", "left")
                + "FROM busybox\nCOPY --from=left /left /left\nCOPY --from=right /right /right\n");
        HullCommand.Result r = fx.ok("build", "-t", "overlap:1", c.toString());
        List<String> lines = r.out().lines().toList();
        int left = lines.indexOf("STEP 1/7: FROM busybox AS left");
        int leftRun = lines.indexOf("[left] left met right");
        int right = lines.indexOf("STEP 3/7: FROM busybox AS right");
        int rightRun = lines.indexOf("[right] right met left");
        int last = lines.indexOf("STEP 5/7: FROM busybox");
        assertThat(List.of(left, leftRun, right, rightRun, last)).as(r.out()).doesNotContain(-1).isSorted();
        assertThat(fx.ok("run", "--rm", "overlap:1", "cat", "/left", "/right").out()).isEqualTo("left\nright\n");
        fx.nothingLeftBehind();
    }

    @Test
    void parallelAndSequentialBuildsGiveTheSameImageAndLines() throws Exception {
        Path c = fx.context("same", """
                FROM busybox AS one
                RUN echo one > /one && echo made one
                FROM busybox AS two
                RUN echo two > /two && echo made two
                FROM one AS three
                RUN echo three > /three && echo made three
                FROM busybox
                COPY --from=two /two /two
                COPY --from=three /one /three /
                """);
        HullCommand seq = new HullCommand(fx.home, fx.dir.resolve("state"),
                Map.of("HULL_NO_SERVICE", "1", "HULL_BUILD_JOBS", "1", "SOURCE_DATE_EPOCH", "0"));
        HullCommand par = new HullCommand(fx.home, fx.dir.resolve("state"),
                Map.of("HULL_NO_SERVICE", "1", "HULL_BUILD_JOBS", "3", "SOURCE_DATE_EPOCH", "0"));
        HullCommand.Result a = seq.run("build", "--no-cache", "--iidfile", fx.dir.resolve("seq.iid").toString(),
                c.toString());
        assertThat(a.exit()).as(a.toString()).isZero();
        HullCommand.Result b = par.run("build", "--no-cache", "--iidfile", fx.dir.resolve("par.iid").toString(),
                c.toString());
        assertThat(b.exit()).as(b.toString()).isZero();
        assertThat(java.nio.file.Files.readString(fx.dir.resolve("par.iid")))
                .isEqualTo(java.nio.file.Files.readString(fx.dir.resolve("seq.iid")));
        assertThat(timeless(b.out())).isEqualTo(timeless(a.out()));
        assertThat(a.out()).contains("[one] made one\n", "[two] made two\n", "[three] made three\n");
        HullCommand jobs0 = new HullCommand(fx.home, fx.dir.resolve("state"),
                Map.of("HULL_NO_SERVICE", "1", "HULL_BUILD_JOBS", "none"));
        HullCommand.Result j = jobs0.run("build", c.toString());
        assertThat(j.exit()).isNotZero();
        assertThat(j.err()).contains("hull: HULL_BUILD_JOBS=none: not a number");
    }

    /** The output without the steps' times. */
    static String timeless(String out) {
        return out.replaceAll("\\(\\d+\\.\\ds\\)", "(t)");
    }

    @Test
    void aFailingStageStopsTheOthersAndLeavesNothing() throws Exception {
        Path c = fx.context("fail", """
                FROM busybox AS slow
                RUN echo slow started && sleep 300
                FROM busybox AS bad
                RUN echo bad says bye && exit 3
                FROM busybox
                COPY --from=slow /etc/passwd /a
                COPY --from=bad /etc/passwd /b
                """);
        HullCommand.Result r = fx.hull.run("build", "-t", "parfail:1", c.toString());
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("returned a non-zero code: 3");
        assertThat(r.out()).contains("[bad] bad says bye");
        assertThat(fx.hull.run("images", "-q", "parfail:1").out()).isEmpty();
        fx.nothingLeftBehind();
    }

    @Test
    void aStageNamedByAGlobalArgIsWaitedFor() throws Exception {
        Path c = fx.context("argfrom", """
                ARG SRC=maker
                FROM busybox AS maker
                RUN sleep 1 && echo made > /made
                FROM busybox
                ARG SRC
                COPY --from=${SRC} /made /made
                """);
        fx.ok("build", "-t", "argfrom:1", c.toString());
        assertThat(fx.ok("run", "--rm", "argfrom:1", "cat", "/made").out()).isEqualTo("made\n");
        // SRC=busybox names an image: the maker stage is not needed, and busybox has no /made
        HullCommand.Result r = fx.hull.run("build", "--build-arg", "SRC=busybox", "-t", "argfrom:2", c.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.out()).doesNotContain("AS maker").contains("STEP 1/3: FROM busybox\n");
        assertThat(r.err()).contains("COPY /made");
    }
}
