package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code --userns=auto} shifts a named volume's data directory into the container's range only
 * when it is still empty: the check looks at the directory itself, by descriptor, never through a
 * symlink standing at its path (a volume directory swapped for a link to an empty directory elsewhere
 * is not "empty", so nothing there is ever chowned).
 */
class UsernsAutoEmptyDirTest {
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-userns-empty-");
    }

    @AfterEach
    void tearDown() throws Exception {
        dev.hull.image.SnapshotStore.deleteTree(dir);
    }

    @Test
    void anEmptyDirectoryIsEmptyOneWithAnEntryIsNot() throws Exception {
        Path data = Files.createDirectories(dir.resolve("vol/_data"));
        assertThat(UsernsAuto.isEmptyDir(data)).isTrue();
        Files.writeString(data.resolve("f"), "x");
        assertThat(UsernsAuto.isEmptyDir(data)).isFalse();
        assertThat(UsernsAuto.isEmptyDir(dir.resolve("missing"))).isFalse();
        assertThat(UsernsAuto.isEmptyDir(data.resolve("f"))).as("a file").isFalse();
    }

    @Test
    void aVolumeDirectorySwappedForASymlinkIsNotFollowed() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere")); // empty: a path-based look says "empty"
        Path vol = Files.createDirectories(dir.resolve("vol"));
        Path data = Files.createSymbolicLink(vol.resolve("_data"), elsewhere);
        assertThat(UsernsAuto.isEmptyDir(data)).isFalse();
    }
}
