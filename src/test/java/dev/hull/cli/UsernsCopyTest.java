package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --userns=auto} and a one-range {@code --uidmap} on the copy snapshotter (HULL_SNAPSHOTTER=copy):
 * no idmapped layers, the container's copy of the image is shifted into its range at create (podman's
 * fallback), so the image's files are the container root's inside and the range's outside, and what the
 * container writes lands in its rootfs with the range's ids.
 */
class UsernsCopyTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Below 2^31 (shiftable), away from the --userns=auto pool (1 << 30 .. 1 << 31) by its top. */
    static final long BASE = 2_100_000_000L + (ProcessHandle.current().pid() % 100) * 65536L;
    static Path dir;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        hull = HullCommand.inTraversableDir("hull-userns-copy-", Map.of("HULL_SNAPSHOTTER", "copy"));
        dir = hull.dir();
    }

    @AfterAll
    static void tearDown() throws Exception {
        HullCommand.removeAll(hull);
    }

    static long owner(Path p, String what) throws Exception {
        return Integer.toUnsignedLong((Integer) Files.getAttribute(p, "unix:" + what,
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    /** The container's copy and what it wrote: owned by uid and gid (the range's root). */
    static void check(String name, long uid, long gid) throws Exception {
        JsonNode c = JSON.readTree(hull.ok("inspect", name).out()).get(0);
        Path rootfs = dir.resolve("home/containers").resolve(c.path("Id").asText()).resolve("rootfs");
        assertThat(owner(rootfs, "uid")).as("the copy's root").isEqualTo(uid);
        assertThat(owner(rootfs.resolve("etc/passwd"), "uid")).as("an image file, shifted").isEqualTo(uid);
        assertThat(owner(rootfs.resolve("etc/passwd"), "gid")).isEqualTo(gid);
        assertThat(owner(rootfs.resolve("made"), "uid")).as("a file the container's root made").isEqualTo(uid);
        assertThat(owner(rootfs.resolve("made"), "gid")).isEqualTo(gid);
    }

    @Test
    void usernsAutoShiftsTheCopy() throws Exception {
        HullCommand.Result r = hull.ok("run", "--name", "ucopy-auto", "--network", "none", "--userns=auto", "busybox",
                "sh", "-c", "id -u; stat -c %u:%g / /bin /etc/passwd; touch /made");
        assertThat(r.out()).isEqualTo("0\n0:0\n0:0\n0:0\n");
        String[] map = hull.ok("inspect", "-f", "{{index .HostConfig.IDMappings.UidMap 0}}", "ucopy-auto").out().strip()
                .split(":");
        check("ucopy-auto", Long.parseLong(map[1]), Long.parseLong(hull.ok("inspect", "-f",
                "{{index .HostConfig.IDMappings.GidMap 0}}", "ucopy-auto").out().strip().split(":")[1]));
        assertThat(hull.ok("start", "-a", "ucopy-auto").out()).as("a restart: not shifted again")
                .isEqualTo("0\n0:0\n0:0\n0:0\n");
        hull.ok("rm", "ucopy-auto");
    }

    @Test
    void oneRangeUidmapShiftsTheCopyAndSeveralAreRefused() throws Exception {
        HullCommand.Result r = hull.ok("run", "--name", "ucopy-map", "--network", "none", "--uidmap", "0:" + BASE
                + ":65536", "busybox", "sh", "-c", "cat /proc/self/uid_map; stat -c %u:%g / /etc/passwd; touch /made");
        assertThat(r.out().replaceAll("[ \t]+", " ").strip()).isEqualTo("0 " + BASE + " 65536\n0:0\n0:0");
        check("ucopy-map", BASE, BASE);
        hull.ok("rm", "ucopy-map");
        HullCommand.Result bad = hull.run("create", "--name", "ucopy-bad", "--network", "none", "--uidmap", "0:" + BASE
                + ":1000", "--uidmap", "1000:" + (BASE + 2000) + ":1000", "busybox");
        assertThat(bad.exit()).as(bad.toString()).isEqualTo(125);
        assertThat(bad.err()).contains("this store copies layers").contains("give one mapping from 0");
    }
}
