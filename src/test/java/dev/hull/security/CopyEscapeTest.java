package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.HullCommand;
import dev.hull.engine.ContainerFiles;
import dev.hull.runtime.Caller;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull cp} against containers whose files are symlinks to host paths (the canary's), and
 * against a container that swaps a directory for such a symlink while the copies run (docker cp's
 * CVE-2018-15664, CVE-2019-14271's class): no copy, in or out, to a directory or as a tar stream, ever
 * reads or writes the host outside the paths the user named. ContainerFilesTest covers the overlay
 * snapshotter's running and stopped containers one case at a time; here the copy snapshotter (its
 * rootfs a plain host directory: the links there are real host symlinks), through the real command
 * line, and the race.
 */
class CopyEscapeTest {
    static HullBox box;
    static String c;
    static final ContainerFiles.Options PLAIN = new ContainerFiles.Options(false, false);
    static final ContainerFiles.Options FOLLOW = new ContainerFiles.Options(true, false);

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("copy");
        c = box.canary.dir.toString();
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    static String climbing(String p) {
        return "../".repeat(40) + p.substring(1);
    }

    /** Every regular file's content below (or at) p, read without following any symlink. */
    static String contentsBelow(Path p) throws Exception {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    b.append(Files.readString(f, StandardCharsets.ISO_8859_1));
                }
            }
        }
        return b.toString();
    }

    static byte[] tar(Map<String, String> files) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bytes)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : files.entrySet()) {
                byte[] data = e.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry te = new TarArchiveEntry(e.getKey(), true);
                te.setSize(data.length);
                t.putArchiveEntry(te);
                t.write(data);
                t.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    static String tarContents(byte[] tar) throws Exception {
        StringBuilder b = new StringBuilder();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                b.append(e.getName()).append(' ').append(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
            }
        }
        return b.toString();
    }

    @Test
    void aCopySnapshotterContainersHostSymlinksNeverReachTheHost() throws Exception {
        // the image holds links to the canary (absolute, climbing, a directory link) and, at the
        // canary's path in the container, a decoy; with the copy snapshotter they are real symlinks
        // in a host directory, the container's rootfs
        String image = box.image("evil/cp-links:1", new HullBox.Layer().dirs(c).file(c.substring(1) + "/file", "decoy\n")
                .symlink("evil-abs", c + "/file").symlink("evil-rel", climbing(c + "/file")).symlink("evil-dir", c)
                .symlink("evil-abs-w", c + "/file"));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("HULL_SNAPSHOTTER", "copy");
        String id = Caller.with(new Caller(box.dir, env), () -> box.engine.create(HullBox.parse("--name", "cp-copy",
                image, "true")).id());
        try {
            Path rootfs = box.engine.containers().dir(id).resolve("rootfs");
            assertThat(Files.isSymbolicLink(rootfs.resolve("evil-abs"))).as("a real host symlink in the rootfs").isTrue();
            ContainerFiles files = new ContainerFiles(box.engine);
            Path out = Files.createDirectories(box.dir.resolve("cp-out"));
            // out: followed (-L) the links lead to the decoy; not followed, they come out as links
            files.copyOut("cp-copy", "/evil-abs", out + "/abs", FOLLOW);
            files.copyOut("cp-copy", "/evil-rel", out + "/rel", FOLLOW);
            files.copyOut("cp-copy", "/evil-dir/file", out + "/via-dir", PLAIN);
            files.copyOut("cp-copy", "/evil-dir/.", out + "/dir", PLAIN);
            files.copyOut("cp-copy", "../../.." + c + "/file", out + "/dotdot", PLAIN);
            files.copyOut("cp-copy", "/evil-abs", out + "/link", PLAIN);
            assertThat(Files.isSymbolicLink(out.resolve("link"))).isTrue();
            ByteArrayOutputStream tarOut = new ByteArrayOutputStream();
            files.exportTar("cp-copy", "/evil-dir/.", tarOut, PLAIN);
            assertThat(contentsBelow(out)).doesNotContain(box.canary.secret).contains("decoy");
            assertThat(tarContents(tarOut.toByteArray())).doesNotContain(box.canary.secret).contains("decoy");
            // in: onto a link (the link is replaced), into a directory link, with .., as tars
            Path payload = Files.writeString(box.dir.resolve("payload"), "PAYLOAD\n");
            files.copyIn(payload.toString(), "cp-copy", "/evil-abs-w", PLAIN);
            files.copyIn(payload.toString(), "cp-copy", "/evil-dir/", PLAIN);
            files.copyIn(payload.toString(), "cp-copy", "/../../.." + c + "/dotdot", PLAIN);
            for (byte[] t : List.of(tar(Map.of("evil-dir/tar-through-link", "X")),
                    tar(Map.of(climbing(c + "/tar-dotdot"), "X")), tar(Map.of(c + "/tar-abs", "X")))) {
                try {
                    files.importTar(new ByteArrayInputStream(t), "cp-copy", "/", PLAIN);
                } catch (Exception e) {
                    // refused (a name through a symlink, or with ..): fine, as long as nothing left the root
                }
            }
            assertThat(Files.readString(rootfs.resolve(c.substring(1) + "/payload"))).isEqualTo("PAYLOAD\n");
            box.canary.assertUntouched();
            // the same through the real command line (a JVM of its own)
            Path cli = Files.createDirectories(box.dir.resolve("cp-cli"));
            HullCommand.Result r = box.hull.run("cp", "-L", "cp-copy:/evil-rel", cli + "/rel");
            assertThat(r.exit()).as(r.toString()).isZero();
            r = box.hull.run("cp", payload.toString(), "cp-copy:/evil-dir/cli-payload");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(contentsBelow(cli)).isEqualTo("decoy\n");
            box.canary.assertUntouched();
        } finally {
            box.engine.remove(id, true);
        }
    }

    @Test
    void aContainerSwappingADirectoryForAHostSymlinkCannotRedirectCopies() throws Exception {
        // CVE-2018-15664: while cp walks /race/d, the container renames a directory and a symlink to the
        // canary's path in and out of that name (and, at the canary's path in the container, a decoy)
        String image = box.image("evil/cp-race:1", new HullBox.Layer().dirs(c).file(c.substring(1) + "/file", "decoy\n"));
        String racer = box.detached("--name", "cp-race", image, "sh", "-c",
                "mkdir -p /race/d && echo container > /race/d/file && ln -sfn " + c + " /race/l && touch /ready &&"
                        + " cd /race && while :; do mv -T d d.tmp; mv -T l d; usleep 2000; mv -T d l; mv -T d.tmp d; usleep 1000; done");
        box.awaitMarker(racer, "/ready");
        ContainerFiles files = new ContainerFiles(box.engine);
        Path payload = Files.createDirectories(box.dir.resolve("race-payload"));
        Files.writeString(payload.resolve("file"), "PAYLOAD\n");
        Path outs = Files.createDirectories(box.dir.resolve("race-out"));
        List<String> failures = new ArrayList<>();
        int copied = 0;
        long t0 = System.nanoTime();
        java.util.Random ops = new java.util.Random(15664); // a mix of the four, in no fixed rhythm
        for (int i = 0; i < 80; i++) {
            try {
                switch (ops.nextInt(5) % 4) {
                    case 0 -> files.copyOut("cp-race", "/race/d", outs + "/out-" + i, PLAIN);
                    case 1 -> files.copyIn(payload + "/.", "cp-race", "/race/d", PLAIN);
                    case 2 -> {
                        ByteArrayOutputStream t = new ByteArrayOutputStream();
                        files.exportTar("cp-race", "/race/d/.", t, PLAIN);
                        assertThat(tarContents(t.toByteArray())).doesNotContain(box.canary.secret);
                    }
                    default -> files.importTar(new ByteArrayInputStream(tar(Map.of("d/tar-" + i, "TAR\n"))), "cp-race",
                            "/race", PLAIN);
                }
                copied++;
            } catch (Exception e) {
                failures.add(e.getMessage()); // the tree changed under the copy (the link met, then gone): it may fail, not escape
            }
        }
        long links;
        try (Stream<Path> s = Files.list(outs)) {
            links = s.filter(Files::isSymbolicLink).count();
        }

        System.out.println("(" + (System.nanoTime() - t0) / 1_000_000 + " ms) cp against a racing container: " + copied + " copies done (" + links + " copies out met"
                + " the symlink), " + failures.size() + " failed" + (failures.isEmpty() ? "" : ", e.g. " + failures.get(0)));
        assertThat(contentsBelow(outs)).doesNotContain(box.canary.secret);
        box.canary.assertUntouched();
        box.remove(racer);
        box.canary.assertUntouched();
    }
}
