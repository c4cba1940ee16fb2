package dev.hull.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SnapshotStore#deleteTree}, the one tree removal of the store (containers, snapshots, volumes, layers),
 * with another remover at work in the same tree: a container's monitor still unlinking its sockets while
 * {@code run --rm} removes the directory made {@code hull run --rm} fail (exit 125, the message only the
 * vanished socket's path). Two removals of one tree at once must both succeed and leave nothing.
 */
class DeleteTreeTest {
    @TempDir
    Path tmp;

    @Test
    void twoRemoversOfOneTreeBothSucceed() throws Exception {
        Path root = tmp.resolve("tree");
        for (int d = 0; d < 40; d++) {
            Path dir = Files.createDirectories(root.resolve("d" + d).resolve("sub"));
            for (int f = 0; f < 250; f++) {
                Files.writeString(dir.resolve("f" + f), "x");
                Files.createSymbolicLink(dir.getParent().resolve("l" + f), Path.of("/etc/passwd"));
            }
        }
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> removers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                removers.add(pool.submit(() -> {
                    go.await();
                    SnapshotStore.deleteTree(root);
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> r : removers) {
                r.get(); // throws what the removal threw (a NoSuchFileException before the fix)
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(root).doesNotExist();
        assertThat(Path.of("/etc/passwd")).exists(); // links are removed, never followed
    }

    @Test
    void directoriesWithoutPermissionsAndSingleFilesAreRemoved() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("locked/inner"));
        Files.writeString(root.resolve("f"), "x");
        Files.setPosixFilePermissions(root, java.util.Set.of());
        Files.setPosixFilePermissions(root.getParent(), java.util.Set.of());
        SnapshotStore.deleteTree(tmp.resolve("locked"));
        assertThat(tmp.resolve("locked")).doesNotExist();

        Path file = Files.writeString(tmp.resolve("file"), "x");
        SnapshotStore.deleteTree(file);
        assertThat(file).doesNotExist();
        SnapshotStore.deleteTree(tmp.resolve("absent")); // nothing to do, no error
    }
}
