package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull build --output: the image as an oci-archive and a docker-archive that another store loads
 * (hull load) and skopeo reads, and as a directory of its files; bad specs are clear errors.
 */
class BuildOutputTest {
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-buildout-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.close();
    }

    @Test
    void archivesLoadElsewhereAndLocalIsTheImagesFiles() throws Exception {
        Path c = fx.context("out", "FROM busybox\nRUN echo built > /hello\nCMD [\"cat\", \"/hello\"]\n");
        Path oci = fx.dir.resolve("img.oci.tar");
        Path docker = fx.dir.resolve("img.docker.tar");
        Path local = fx.dir.resolve("rootfs");
        fx.ok("build", "-t", "outimg:1", "--output", "type=oci-archive,dest=" + oci, c.toString());
        fx.ok("build", "-t", "outimg:1", "-o", "type=docker,dest=" + docker, c.toString());
        fx.ok("build", "-o", local.toString(), c.toString());
        String id = fx.ok("images", "-q", "--no-trunc", "outimg:1").out().strip();

        assertThat(Files.readString(local.resolve("hello"))).isEqualTo("built\n");
        assertThat(local.resolve("bin/busybox")).isRegularFile();
        for (Path archive : new Path[] {oci, docker}) {
            Path other = fx.dir.resolve("home-" + archive.getFileName());
            HullCommand load = new HullCommand(other, fx.dir.resolve("state-" + archive.getFileName()),
                    Map.of("HULL_NO_SERVICE", "1"));
            HullCommand.Result r = load.run("load", "-i", archive.toString());
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(load.run("images", "-q", "--no-trunc", "outimg:1").out().strip()).as(archive.toString())
                    .isEqualTo(id);
            r = load.run("run", "--rm", "outimg:1");
            assertThat(r.out()).as(r.toString()).isEqualTo("built\n");
        }
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");
        for (String ref : new String[] {"oci-archive:" + oci, "docker-archive:" + docker}) {
            Process p = new ProcessBuilder("skopeo", "inspect", "--config", ref).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).as(ref).contains("\"cat\"", "echo built");
        }
    }

    @Test
    void tarOutputToAFileAndToStdoutWithTheProgressOnStderr() throws Exception {
        Path c = fx.context("tarout", "FROM busybox\nRUN echo tarred > /hello && echo run-output-line\n");
        Path file = fx.dir.resolve("fs.tar");
        fx.ok("build", "--output", "type=tar,dest=" + file, c.toString());
        Path piped = fx.dir.resolve("piped.tar");
        Process p = fx.hull.builder("build", "--no-cache", "-o", "-", c.toString())
                .redirectOutput(piped.toFile()).redirectError(ProcessBuilder.Redirect.PIPE).start();
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        assertThat(err).as("the progress and RUN's output go to stderr").contains("run-output-line").contains("RUN");
        for (Path tar : new Path[] {file, piped}) {
            Path x = Files.createDirectories(fx.dir.resolve("x-" + tar.getFileName()));
            Process t = new ProcessBuilder("tar", "-xf", tar.toString(), "-C", x.toString()).redirectErrorStream(true)
                    .start();
            String out = new String(t.getInputStream().readAllBytes());
            assertThat(t.waitFor()).as(tar + ": " + out).isZero();
            assertThat(Files.readString(x.resolve("hello"))).as(tar.toString()).isEqualTo("tarred\n");
            assertThat(x.resolve("bin/busybox")).isRegularFile();
        }
    }

    @Test
    void badOutputsAreClearErrors() throws Exception {
        Path c = fx.context("badout", "FROM busybox\n");
        Path full = Files.createDirectories(fx.dir.resolve("full"));
        Files.writeString(full.resolve("x"), "x");
        Map<String, String> cases = Map.of(
                "type=zip,dest=/tmp/x", "--output type=zip: use oci-archive, docker-archive, tar or local",
                "type=oci", "use type=TYPE,dest=PATH",
                "type=local,dest=-", "type=local writes a directory, not to stdout",
                "type=oci,dest=/tmp/x,compression=zstd", "compression: not supported",
                "type=local,dest=" + full, "not an empty directory");
        for (var e : cases.entrySet()) {
            HullCommand.Result r = fx.hull.run("build", "--output", e.getKey(), c.toString());
            assertThat(r.exit()).as(r.toString()).isNotZero();
            assertThat(r.err()).as(r.toString()).startsWith("hull: ").contains(e.getValue());
        }
        assertThat(Files.readString(full.resolve("x"))).isEqualTo("x");
    }
}
