package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code hull info}'s Disks line says what the store's own filesystem offers for project quotas: here
 * a store on an XFS the test makes on a loop device (never the host's /), mounted with pquota where this
 * kernel's XFS has quotas ("possible"), else plain (and the line names the missing kernel option).
 */
class DiskQuotaInfoTest {
    private Path dir;
    private Path mnt;

    @BeforeEach
    void setUp() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/mkfs.xfs")), "no mkfs.xfs (apt-get install xfsprogs)");
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no loop devices here");
        dir = Files.createTempDirectory("hull-quota-info-");
        mnt = dir.resolve("xfs");
        Files.createDirectory(mnt);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (dir != null) {
            sh("umount " + mnt + " 2>/dev/null || true");
            SnapshotStore.deleteTree(dir);
        }
    }

    @Test
    void infoSaysWhatTheStoresXfsOffersForProjectQuotas() throws Exception {
        Path img = dir.resolve("xfs.img");
        sh("truncate -s 320M " + img + " && mkfs.xfs -q " + img);
        boolean quotas = Files.exists(Path.of("/proc/fs/xfs/xqmstat"));
        sh("mount -o loop" + (quotas ? ",pquota " : " ") + img + " " + mnt);
        Path home = mnt.resolve("home");
        HullCommand hull = new HullCommand(home, dir.resolve("state"), Map.of("HULL_NO_SERVICE", "1"));
        HullCommand.Result r = hull.run("info");
        assertThat(r.exit()).as(r.toString()).isZero();
        String line = r.out().lines().filter(l -> l.startsWith("Disks: ")).findFirst().orElseThrow();
        assertThat(line).contains("project quotas: ").contains("the store is on xfs (" + mnt + ")");
        if (quotas) {
            assertThat(line).contains("possible: the store is on xfs (" + mnt + ") with project quotas");
        } else {
            assertThat(line).contains("unavailable").contains("this kernel's XFS has no quotas (CONFIG_XFS_QUOTA)");
        }
    }

    private static void sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-ec", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(script + "\n" + out).isZero();
    }
}
