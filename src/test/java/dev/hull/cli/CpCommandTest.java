package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * hull cp through the real CLI, on a container of the copy snapshotter (its rootfs a plain
 * directory): both directions, tar streams on stdin/stdout with "-", and the argument errors.
 * (The overlay cases, running and stopped, and the symlink safety are ContainerFilesTest's.)
 */
class CpCommandTest {
    static Path dir;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-cp-cli-");
        hull = new HullCommand(dir.resolve("home"), dir.resolve("state"), Map.of("HULL_SNAPSHOTTER", "copy"));
        HullCommand.Result r = hull.run("create", "--name", "box", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            hull.run("rm", "-f", "box");
        } finally {
            SnapshotStore.deleteTree(dir);
        }
    }

    static Path rootfs() throws Exception {
        try (var s = Files.list(dir.resolve("home/containers"))) {
            return s.filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).findFirst().orElseThrow()
                    .resolve("rootfs");
        }
    }

    @Test
    void copiesInAndOutOfACopySnapshotterContainer() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/site"));
        Files.writeString(src.resolve("index.html"), "<h1>hi</h1>\n");
        HullCommand.Result r = hull.run("cp", src.toString(), "box:/srv");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).isEqualTo("Successfully copied 12B to box:/srv\n");
        assertThat(rootfs().resolve("srv/index.html")).hasContent("<h1>hi</h1>");
        Path out = Files.createDirectories(dir.resolve("out"));
        r = hull.run("cp", "-q", "box:/srv/index.html", out + "/");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(out.resolve("index.html")).hasContent("<h1>hi</h1>");
        r = hull.run("container", "cp", "box:/srv/.", out + "/again");
        assertThat(out.resolve("again/index.html")).as(r.toString()).hasContent("<h1>hi</h1>");
    }

    @Test
    void tarStreamsOnStdoutAndStdin() throws Exception {
        ProcessBuilder pb = hull.builder("cp", "box:/bin/busybox", "-");
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] tar = p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                names.add(e.getName() + " " + e.getSize() + " " + Integer.toOctalString(e.getMode() & 07777));
            }
        }
        assertThat(names).containsExactly("busybox " + Files.size(rootfs().resolve("bin/busybox")) + " 755");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry e = new TarArchiveEntry("conf/app.ini");
            byte[] data = "[app]\n".getBytes(StandardCharsets.UTF_8);
            e.setSize(data.length);
            e.setMode(0100600);
            e.setIds(1000, 1000);
            out.putArchiveEntry(e);
            out.write(data);
            out.closeArchiveEntry();
        }
        Path input = Files.write(dir.resolve("in.tar"), bytes.toByteArray());
        HullCommand.Result r = hull.runWithInput(input, "cp", "-", "box:/etc");
        assertThat(r.exit()).as(r.toString()).isZero();
        Path ini = rootfs().resolve("etc/conf/app.ini");
        assertThat(ini).hasContent("[app]");
        assertThat(Files.getAttribute(ini, "unix:uid")).isEqualTo(0); // root's in the container, unless -a
        r = hull.runWithInput(input, "cp", "-a", "-", "box:/etc");
        assertThat(Files.getAttribute(ini, "unix:uid")).as(r.toString()).isEqualTo(1000);
    }

    @Test
    void argumentErrorsSayWhatIsWrong() throws Exception {
        HullCommand.Result r = hull.run("cp", "/etc/hostname", "/tmp/x");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("one side must be CONTAINER:PATH");
        r = hull.run("cp", "box:/a", "box:/b");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("copying between containers is not supported");
        r = hull.run("cp", "nosuch:/a", "/tmp/x");
        assertThat(r.err()).contains("no such container: nosuch");
        r = hull.run("cp", "box:/no/such/file", dir.resolve("never").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("no such file or directory: box:/no/such/file");
        assertThat(dir.resolve("never")).doesNotExist();
        r = hull.run("cp", "--help");
        assertThat(r.out()).contains("/.").contains("Examples:").contains("symlinks");
    }
}
