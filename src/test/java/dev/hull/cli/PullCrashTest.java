package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.ImageConfig;
import dev.hull.image.ImageFixtures;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.SnapshotStore;
import dev.hull.image.testing.RegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of {@code hull pull} while it downloads and while it unpacks, against
 * a real registry: after each kill the store is consistent (hull system check
 * finds nothing corrupt, hull images works), and the next pull finishes,
 * keeping the blobs that were already whole.
 */
class PullCrashTest {
    static Path dir;
    static RegistryServer registry;
    static String remote;
    static String bigFileSha;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-pull-crash-");
        registry = RegistryServer.builder(dir.resolve("registry")).start();
        Path sourceHome = dir.resolve("source");
        ImageService source = new ImageService(sourceHome);
        ImageRecord busybox = source.getOrBuildBuiltin("busybox");
        byte[] bb;
        try (var in = source.store().content().open(busybox.layers().get(0).parsedDigest())) {
            bb = new java.util.zip.GZIPInputStream(in).readAllBytes();
        }
        Random random = new Random(42);
        List<byte[]> layers = new ArrayList<>(List.of(bb));
        for (int i = 0; i < 3; i++) {
            byte[] big = new byte[12 << 20];
            random.nextBytes(big);
            if (i == 0) {
                bigFileSha = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(big));
            }
            layers.add(ImageFixtures.tarBytes(Map.of("data/big" + i, big)));
        }
        Map<String, byte[]> many = new LinkedHashMap<>();
        for (int i = 0; i < 6000; i++) {
            many.put("many/f" + i, ("file " + i + "\n").getBytes());
        }
        layers.add(ImageFixtures.tarBytes(many));
        ImageFixtures.image(source.store(), "crash/app:1",
                new ImageConfig.Config(null, null, null, null, List.of("sh"), null, null, null, null), layers, null);
        remote = registry.host() + "/crash/app:1";
        HullCommand hull = HullCommand.cold(sourceHome, dir.resolve("state"), Map.of());
        HullCommand.Result r = hull.run("push", "--tls-verify=false", "crash/app:1", remote);
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (registry != null) {
            registry.close();
        }
        SnapshotStore.deleteTree(dir);
    }

    /** Starts hull pull, waits until the condition holds (or the pull ends), then kill -9. True if killed. */
    static boolean killPullWhen(HullCommand hull, BooleanSupplier condition) throws Exception {
        Process p = hull.builder("pull", "--tls-verify=false", remote)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (p.isAlive() && !condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        boolean killed = p.isAlive();
        p.destroyForcibly();
        p.waitFor();
        return killed;
    }

    static boolean exists(Path dir, String prefix, long minSize) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var s = Files.list(dir)) {
            return s.anyMatch(f -> f.getFileName().toString().startsWith(prefix) && !f.toString().endsWith(".lock")
                    && (minSize <= 0 || sizeOf(f) >= minSize));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static long sizeOf(Path f) {
        try {
            return Files.size(f);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    static void assertConsistent(HullCommand hull) throws Exception {
        HullCommand.Result check = hull.run("system", "check");
        assertThat(check.exit()).as(check.toString()).isZero();
        assertThat(check.out()).contains("no problems found");
        HullCommand.Result images = hull.run("images");
        assertThat(images.exit()).as(images.toString()).isZero();
    }

    @Test
    void killedPullsLeaveAConsistentStoreAndTheNextPullFinishes() throws Exception {
        Path home = dir.resolve("target-home");
        HullCommand hull = HullCommand.cold(home, dir.resolve("state"), Map.of()); // kill -9 of the hull JVM
        Path ingest = home.resolve("content/ingest");
        Path blobs = home.resolve("content/blobs/sha256");
        Path snapshots = home.resolve("snapshots");
        List<String> killedAt = new ArrayList<>();
        // 1: mid-download of some layer (a partial blob with bytes in it)
        if (killPullWhen(hull, () -> exists(ingest, "sha256-", 1 << 20))) {
            killedAt.add("download");
        }
        assertConsistent(hull);
        // 2: after some blobs are whole, before the image is recorded
        if (killPullWhen(hull, () -> exists(blobs, "", 0) && countFiles(blobs) >= 3)) {
            killedAt.add("between blobs");
        }
        assertConsistent(hull);
        long wholeBlobs = countFiles(blobs);
        // 3: mid-unpack (a temp snapshot directory exists)
        if (killPullWhen(hull, () -> exists(snapshots, ".tmp-", 0))) {
            killedAt.add("unpack");
        }
        assertConsistent(hull);
        assertThat(killedAt).as("the kills hit the pull at work").contains("download", "unpack");
        assertThat(wholeBlobs).as("blobs finished before a kill are kept").isPositive();

        HullCommand.Result pull = hull.run("pull", "--tls-verify=false", remote);
        assertThat(pull.exit()).as(pull.toString()).isZero();
        assertThat(pull.out()).contains("Already exists");
        HullCommand.Result check = hull.run("system", "check");
        assertThat(check.out()).as(check.toString()).contains("no problems found");
        HullCommand.Result prune = hull.run("image", "prune");
        assertThat(prune.exit()).as(prune.toString()).isZero();
        check = hull.run("system", "check");
        assertThat(check.out()).as(check.toString()).doesNotContain("leftover");
        HullCommand.Result run = hull.run("run", "--rm", remote, "sh", "-c",
                "sha256sum /data/big0 | cut -d' ' -f1; ls /many | wc -l");
        assertThat(run.out()).as(run.toString()).isEqualTo(bigFileSha + "\n6000\n");
    }

    static long countFiles(Path d) {
        try (var s = Files.list(d)) {
            return s.count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
