package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A container with a user namespace of its own (--userns=auto) keeps its files with host ids of its range:
 * hull cp (out and in, to and from tars), hull export and hull commit carry them with the ids as seen inside,
 * running and stopped, on the copy snapshotter (its copy shifted at create) and on the overlay one (its upper
 * layer in the range, its image layers idmapped). A file owned by 1000 inside comes out as 1000; one copied in
 * as 1234 is 1234 inside; a copy into a stopped overlay leaves no directory it copied up owned by nobody.
 */
class UsernsFilesTest {
    static HullCommand copy;
    static HullCommand overlay;

    @BeforeAll
    static void setUp() throws Exception {
        copy = HullCommand.inTraversableDir("hull-userns-files-copy-", Map.of("HULL_SNAPSHOTTER", "copy"));
        overlay = HullCommand.inTraversableDir("hull-userns-files-ovl-", Map.of());
    }

    @AfterAll
    static void tearDown() throws Exception {
        HullCommand.removeAll(copy);
        HullCommand.removeAll(overlay);
    }

    @Test
    void copySnapshotter() throws Exception {
        crossing(copy, "ufiles-copy", false);
    }

    @Test
    void overlaySnapshotter() throws Exception {
        Assumptions.assumeTrue(dev.hull.runtime.spec.Features.create().path("linux").path("mountExtensions")
                .path("idmap").path("enabled").asBoolean(), "--userns=auto on overlay needs idmapped mounts");
        crossing(overlay, "ufiles-ovl", true);
        HullCommand.Result r = overlay.ok("run", "--rm", "--network", "none", "ufiles-ovl-img", "stat", "-c", "%u:%g",
                "/f", "/run-a", "/run-plain", "/home/stop-a");
        assertThat(r.out().lines().toList()).as("hull commit: the layer has the ids as seen inside")
                .containsExactly("1000:1001", "1234:1235", "0:0", "1234:1235");
        overlay.ok("rmi", "ufiles-ovl-img");
    }

    private static void crossing(HullCommand hull, String name, boolean overlay) throws Exception {
        Path dir = Files.createDirectory(hull.dir().resolve("files"));
        Path in = Files.writeString(dir.resolve("in"), "in\n");
        Files.setAttribute(in, "unix:uid", 1234);
        Files.setAttribute(in, "unix:gid", 1235);
        hull.ok("run", "-d", "--name", name, "--network", "none", "--userns=auto", "busybox", "sh", "-c",
                "[ -e /f ] || { echo hi > /f; chown 1000:1001 /f; touch /ready; }; exec sleep 1000");
        awaitReady(hull, name);

        out(hull, name, dir.resolve("running"));
        into(hull, name, in, dir, "/run");
        assertThat(hull.ok("exec", name, "stat", "-c", "%u:%g", "/run-a", "/run-plain", "/run-tar").out().lines()
                .toList()).as("copied into the running container").containsExactly("1234:1235", "0:0", "1236:1237");

        hull.ok("stop", "-t", "0", name);
        out(hull, name, dir.resolve("stopped"));
        into(hull, name, in, dir, "/home/stop"); // /home is the image's: a stopped overlay copies it up
        hull.ok("start", name);
        assertThat(hull.ok("exec", name, "stat", "-c", "%u:%g", "/home", "/home/stop-a", "/home/stop-plain",
                "/home/stop-tar").out().lines().toList()).as("copied into the stopped container")
                .containsExactly("0:0", "1234:1235", "0:0", "1236:1237");

        Path far = Files.writeString(dir.resolve("far"), "far\n");
        Files.setAttribute(far, "unix:uid", 70000);
        HullCommand.Result r = hull.run("cp", "-a", far.toString(), name + ":/far");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("uid 70000 is not mapped in the user namespace of container " + name);
        if (overlay) {
            hull.ok("commit", name, name + "-img");
        }
        hull.ok("rm", "-f", name);
    }

    /** cp -a out, cp out as a tar, export: /f is 1000:1001 as inside, the image's /etc/passwd root's. */
    private static void out(HullCommand hull, String name, Path to) throws Exception {
        Files.createDirectory(to);
        hull.ok("cp", "-a", name + ":/f", to.resolve("f").toString());
        assertThat(owner(to.resolve("f"))).as("cp -a out").isEqualTo("1000:1001");
        String tar = hull.ok("cp", name + ":/f", "-").out();
        assertThat(owners(tar.getBytes(StandardCharsets.UTF_8))).as("cp out to a tar").containsEntry("f", "1000:1001");
        Path exported = to.resolve("export.tar");
        hull.ok("export", "-o", exported.toString(), name);
        Map<String, String> all = owners(Files.readAllBytes(exported));
        assertThat(all).as("export").containsEntry("f", "1000:1001").containsEntry("etc/passwd", "0:0");
    }

    /** prefix-a: cp -a of a 1234:1235 file; prefix-plain: cp (the container's root); prefix-tar: cp -a - of 1236:1237. */
    private static void into(HullCommand hull, String name, Path in, Path dir, String prefix) throws Exception {
        hull.ok("cp", "-a", in.toString(), name + ":" + prefix + "-a");
        hull.ok("cp", in.toString(), name + ":" + prefix + "-plain");
        Path tar = dir.resolve("in-" + prefix.replace('/', '_') + ".tar");
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(Files.newOutputStream(tar))) {
            TarArchiveEntry e = new TarArchiveEntry(prefix.substring(prefix.lastIndexOf('/') + 1) + "-tar");
            e.setSize(3);
            e.setIds(1236, 1237);
            t.putArchiveEntry(e);
            t.write("in\n".getBytes(StandardCharsets.UTF_8));
            t.closeArchiveEntry();
        }
        String parent = prefix.substring(0, prefix.lastIndexOf('/') + 1);
        HullCommand.Result r = hull.runWithInput(tar, "cp", "-a", "-", name + ":" + parent);
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    static String owner(Path p) throws Exception {
        return Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) + ":"
                + Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    /** A tar's entries (names without "./" or a trailing "/") and their owners. */
    static Map<String, String> owners(byte[] tar) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        try (TarArchiveInputStream t = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = t.getNextEntry()) != null) {
                String n = e.getName().replaceFirst("^\\./", "").replaceFirst("/$", "");
                out.put(n, e.getLongUserId() + ":" + e.getLongGroupId());
            }
        }
        return out;
    }

    static void awaitReady(HullCommand hull, String name) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (hull.run("exec", name, "test", "-e", "/ready").exit() != 0) {
            assertThat(System.nanoTime()).as(name + " never made /ready").isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
