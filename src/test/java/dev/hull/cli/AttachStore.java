package dev.hull.cli;

import dev.hull.image.SnapshotStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A test class's own Hull stores (warm, through the test service, and cold), removed with their containers after it. */
abstract class AttachStore {
    static Path dir;

    @BeforeAll
    static void makeStores() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-attach-test-");
    }

    @AfterAll
    static void dropStores() throws Exception {
        for (boolean warm : new boolean[] {true, false}) {
            HullCommand hull = hull(warm);
            for (String id : hull.run("ps", "-a", "-q", "--no-trunc").out().split("\n")) {
                if (!id.isBlank()) {
                    hull.run("rm", "-f", id);
                }
            }
        }
        SnapshotStore.deleteTree(dir);
    }

    static HullCommand hull(boolean warm) {
        Path store = dir.resolve(warm ? "warm" : "cold");
        return warm ? HullCommand.warm(store.resolve("home"), store.resolve("state"), Map.of())
                : HullCommand.cold(store.resolve("home"), store.resolve("state"), Map.of("HULL_NO_SERVICE", "1"));
    }

    static String state(HullCommand hull, String name) throws Exception {
        return hull.ok("ps", "-a", "--filter", "name=" + name, "--format", "{{.State}}").out().strip();
    }
}
