package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull commit, export and import on real containers: a stopped and a running container committed
 * (files, deletions, the run's config, --change, -m, -a), a container exported and imported back
 * (from a file and from stdin, plain and gzip) and run, and bad input refused with exit 125.
 */
class CommitExportImportTest {
    static final ObjectMapper JSON = BuildFixture.JSON;
    static BuildFixture fx;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new BuildFixture("hull-commit-");
    }

    @AfterAll
    static void tearDown() throws Exception {
        fx.hull.run("rm", "-f", "cei-live");
        fx.close();
    }

    static HullCommand.Result ok(String... args) throws Exception {
        return fx.ok(args);
    }

    @Test
    void diffListsWhatTheContainerChangedAsDocker() throws Exception {
        ok("run", "--name", "cei-diff", "--network", "none", "busybox", "sh", "-c",
                "echo hi > /tmp/x; rm /etc/group; mkdir /newdir; echo > /newdir/f");
        try {
            assertThat(ok("diff", "cei-diff").out()).as("docker's lines, in path order; no /etc/hosts of Hull's own")
                    .isEqualTo("C /etc\nD /etc/group\nA /newdir\nA /newdir/f\nC /tmp\nA /tmp/x\n");
            assertThat(ok("container", "diff", "cei-diff").out()).startsWith("C /etc\nD /etc/group\n");
            HullCommand.Result r = fx.hull.run("diff", "cei-no-such");
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).contains("no such container: cei-no-such");
        } finally {
            fx.hull.run("rm", "-f", "cei-diff");
        }
    }

    static JsonNode config(String image) throws Exception {
        return fx.config(image);
    }

    static List<String> entries(Path tar) throws Exception {
        List<String> out = new ArrayList<>();
        try (InputStream f = Files.newInputStream(tar); TarArchiveInputStream in = new TarArchiveInputStream(f)) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                out.add(e.getName());
            }
        }
        return out;
    }

    @Test
    void aContainerWithADiskOfItsOwnIsCommittedAndExported() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")),
                "no /dev/loop-control: no sized disks");
        ok("run", "--name", "cei-disk", "--storage-opt", "size=64m", "busybox", "sh", "-c", "echo on-disk > /made");
        try {
            Path tar = fx.dir.resolve("cei-disk.tar");
            ok("export", "-o", tar.toString(), "cei-disk");
            assertThat(entries(tar)).contains("made");
            ok("commit", "cei-disk", "cei-disk:1");
            assertThat(ok("run", "--rm", "cei-disk:1", "cat", "/made").out()).isEqualTo("on-disk\n");
        } finally {
            fx.hull.run("rm", "-f", "cei-disk");
            fx.hull.run("rmi", "cei-disk:1");
        }
    }

    @Test
    void commitKeepsTheChangesAndTheRunsConfig() throws Exception {
        ok("run", "--name", "cei-stopped", "-e", "X=1", "-w", "/srv", "busybox", "sh", "-c",
                "echo data > /made; rm /etc/group; pwd > /where");
        String id = ok("commit", "-c", "CMD [\"cat\", \"/made\", \"/where\"]", "-c", "ENV Y=2", "-c", "EXPOSE 80",
                "-m", "my message", "-a", "Me <me@example.com>", "cei-stopped", "snap:1").out().strip();
        assertThat(id).matches("sha256:[0-9a-f]{64}");
        assertThat(ok("run", "--rm", "snap:1").out()).isEqualTo("data\n/srv\n");
        assertThat(ok("run", "--rm", "snap:1", "sh", "-c", "test -e /etc/group || echo gone; echo $X$Y").out())
                .isEqualTo("gone\n12\n");
        JsonNode cfg = config("snap:1");
        assertThat(cfg.get("author").asText()).isEqualTo("Me <me@example.com>");
        assertThat(cfg.path("config").path("WorkingDir").asText()).isEqualTo("/srv");
        assertThat(cfg.path("config").path("ExposedPorts").has("80/tcp")).isTrue();
        JsonNode last = cfg.get("history").get(cfg.get("history").size() - 1);
        assertThat(last.get("comment").asText()).isEqualTo("my message");
        assertThat(last.get("created_by").asText()).isEqualTo("sh -c echo data > /made; rm /etc/group; pwd > /where");
        assertThat(cfg.path("rootfs").path("diff_ids").size()).isEqualTo(2);
        // a running container: paused for the commit, running after it
        ok("run", "-d", "--name", "cei-live", "busybox", "sh", "-c", "echo live > /live; sleep 1000");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (fx.hull.run("exec", "cei-live", "cat", "/live").exit() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        ok("commit", "cei-live", "snap:2");
        assertThat(ok("run", "--rm", "--entrypoint", "cat", "snap:2", "/live").out()).isEqualTo("live\n");
        assertThat(ok("inspect", "-f", "{{.State.Status}}", "cei-live").out().strip()).isEqualTo("running");
        ok("rm", "-f", "cei-live", "cei-stopped");
    }

    @Test
    void exportThenImportRunsTheSameFiles() throws Exception {
        ok("run", "--name", "cei-exp", "busybox", "sh", "-c", "echo exported > /made; rm /etc/group");
        Path tar = fx.dir.resolve("exp.tar");
        ok("export", "-o", tar.toString(), "cei-exp");
        List<String> names = entries(tar);
        assertThat(names).contains("made", "bin/busybox", "etc/passwd").doesNotContain("etc/group")
                .noneMatch(n -> n.contains(".wh."));
        String id = ok("import", "-c", "CMD [\"cat\", \"/made\"]", "-c", "ENV FROM=import", tar.toString(), "flat:1")
                .out().strip();
        assertThat(id).matches("sha256:[0-9a-f]{64}");
        assertThat(ok("run", "--rm", "flat:1").out()).isEqualTo("exported\n");
        assertThat(ok("run", "--rm", "flat:1", "sh", "-c", "echo $FROM; ls /etc/group 2>&1 || true").out())
                .startsWith("import\n").contains("No such file");
        JsonNode cfg = config("flat:1");
        assertThat(cfg.get("history").size()).isEqualTo(1);
        assertThat(cfg.get("history").get(0).get("comment").asText()).isEqualTo("Imported from " + tar);
        // to stdout, gzip'ed, from stdin
        Path out = fx.dir.resolve("stdout.tar");
        Process p = fx.hull.builder("export", "cei-exp").redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(entries(out)).isEqualTo(names);
        Path gz = fx.dir.resolve("stdout.tar.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            Files.copy(out, o);
        }
        HullCommand.Result r = fx.hull.runWithInput(gz, "import", "-", "flat:2");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(ok("run", "--rm", "flat:2", "cat", "/made").out()).isEqualTo("exported\n");
        assertThat(config("flat:2").get("history").get(0).get("comment").asText()).isEqualTo("Imported from -");
        ok("rm", "cei-exp");
    }

    @Test
    void badInputIsRefusedWith125() throws Exception {
        HullCommand.Result r = fx.hull.run("commit", "cei-nope", "x:1");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("hull: no such container: cei-nope");
        Path junk = fx.dir.resolve("junk.txt");
        Files.writeString(junk, "not a tar at all\n".repeat(100));
        r = fx.hull.run("import", junk.toString(), "x:1");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("hull: " + junk + " is not a tar archive");
        r = fx.hull.run("import", "-c", "RUN echo", junk.toString());
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("hull: ");
        ok("create", "--name", "cei-bad", "busybox", "true");
        r = fx.hull.run("commit", "-c", "RUN echo", "cei-bad");
        assertThat(r.exit()).isEqualTo(125);
        assertThat(r.err()).contains("hull: --change RUN echo: RUN cannot be a change");
        assertThat(fx.hull.run("images", "-q", "x").out()).isEmpty();
        ok("rm", "cei-bad");
    }
}
