package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A docker user's habits at the command line, warm and cold: a mistyped command or flag gets picocli's
 * suggestions with the exit 125 of a bad flag, {@code hull -v} is {@code hull --version}, and help prints no
 * picocli warning.
 */
class CliPolishTest {
    static Path dir;
    static List<HullCommand> both;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-cli-polish-");
        both = List.of(HullCommand.cold(dir.resolve("home"), dir.resolve("state"), Map.of()),
                HullCommand.warm(dir.resolve("home"), dir.resolve("state"), Map.of()));
    }

    @AfterAll
    static void tearDown() throws Exception {
        dev.hull.image.SnapshotStore.deleteTree(dir);
    }

    @Test
    void typosGetSuggestions() throws Exception {
        for (HullCommand hull : both) {
            String how = hull.warm() ? "warm" : "cold";
            HullCommand.Result r = hull.run("imags");
            assertThat(r.exit()).as(how + " " + r).isEqualTo(125);
            assertThat(r.err()).as(how).contains("Did you mean: hull image or hull images");
            r = hull.run("run", "--rmm", "busybox", "true");
            assertThat(r.exit()).as(how + " " + r).isEqualTo(125);
            assertThat(r.err()).as(how).contains("Unknown option: '--rmm'").contains("Possible solutions: --rm");
            r = hull.run("volume", "lss");
            assertThat(r.exit()).as(how + " " + r).isEqualTo(125);
            assertThat(r.err()).as(how).contains("Did you mean: volume ls");
        }
    }

    @Test
    void dashVIsTheVersionAndHelpHasNoWarnings() throws Exception {
        for (HullCommand hull : both) {
            String how = hull.warm() ? "warm" : "cold";
            HullCommand.Result v = hull.ok("-v");
            assertThat(v.out()).as(how).startsWith("hull version ").isEqualTo(hull.ok("--version").out());
            for (String[] help : new String[][] {{"--help"}, {"run", "--help"}, {"-v"}}) {
                HullCommand.Result h = hull.ok(help);
                assertThat(h.err()).as(how + " " + String.join(" ", help)).doesNotContain("picocli WARN");
            }
        }
    }
}
