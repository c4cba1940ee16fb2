package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.engine.Engine;
import dev.hull.image.ImageRecord;
import dev.hull.linux.AtFiles;
import dev.hull.linux.Syscalls;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull build --output type=local}'s tree write goes into the directory its descriptor is,
 * entry by entry: never re-resolved by a path (the descriptor's /proc/self/fd link names a path that
 * can be another directory), and a link standing where the image has a directory is replaced, not
 * written through.
 */
class BuildOutputTreeTest {
    static Path dir;
    static Engine engine;
    static ImageRecord busybox;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-output-tree-");
        engine = new Engine(dir.resolve("home"), dir.resolve("state"));
        busybox = engine.images().getOrBuildBuiltin("busybox");
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (dir != null) {
            dev.hull.image.SnapshotStore.deleteTree(dir);
        }
    }

    static int openDir(Path p) throws Exception {
        return Syscalls.open(p.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_NOFOLLOW
                | Syscalls.O_CLOEXEC, 0);
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertThat(p.waitFor()).as(String.join(" ", cmd)).isZero();
    }

    /**
     * The destination is a directory of a mount then detached (umount -l): its descriptor's
     * /proc/self/fd link reads as the path the directory had inside the mount, which on the host is
     * the canary. Written through a path (what flattening into /proc/self/fd/N did: it resolves the
     * link), the image's files land in the canary; through the descriptor, in the destination.
     */
    @Test
    void theTreeGoesWhereTheDescriptorIsNotWhereItsPathLeads() throws Exception {
        Path canary = Files.createDirectories(dir.resolve("canary"));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        sh("mount", "-t", "tmpfs", "-o", "size=64m", "hull-output-test", mnt.toString());
        int fd;
        try {
            Path dest = Files.createDirectories(mnt.resolve(canary.toString().substring(1)));
            fd = openDir(dest);
        } finally {
            sh("umount", "-l", mnt.toString());
        }
        try {
            assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd))).isEqualTo(canary);
            BuildOutput.writeTree(engine.images(), busybox, fd, "test");
            assertThat(AtFiles.list(fd)).contains("bin");
            assertThat(AtFiles.lstatOrNull(fd, "bin/busybox")).isNotNull();
        } finally {
            Syscalls.close(fd);
        }
        try (var s = Files.list(canary)) {
            assertThat(s.toList()).as("nothing written into the path the descriptor's link names").isEmpty();
        }
    }

    @Test
    void aLinkWhereTheImageHasADirectoryIsReplacedNotWrittenThrough() throws Exception {
        Path canary = Files.createDirectories(dir.resolve("canary-link"));
        Path dest = Files.createDirectories(dir.resolve("dest-link"));
        Files.createSymbolicLink(dest.resolve("bin"), canary);
        int fd = openDir(dest);
        try {
            BuildOutput.writeTree(engine.images(), busybox, fd, "test");
        } finally {
            Syscalls.close(fd);
        }
        try (var s = Files.list(canary)) {
            assertThat(s.toList()).as("nothing written through the link").isEmpty();
        }
        assertThat(Files.isDirectory(dest.resolve("bin"), LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.isRegularFile(dest.resolve("bin/busybox"), LinkOption.NOFOLLOW_LINKS)).isTrue();
        List<String> names;
        try (var s = Files.list(dest)) {
            names = s.map(p -> p.getFileName().toString()).toList();
        }
        assertThat(names).contains("bin");
    }
}
