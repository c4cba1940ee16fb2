package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull run --uidmap/--gidmap CONTAINER_ID:HOST_ID:AMOUNT} (podman's) through the real command: the
 * container's user namespace has exactly the mappings given (the gid ones are the uid ones when only
 * --uidmap is given, as podman's), the image's files are the container root's (idmapped layers), what it
 * writes lands in its upper layer with the mapped host ids; bad or overlapping maps are refused.
 */
class UidmapTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Host ids far from the --userns=auto pool (1 << 30 .. 1 << 31), apart per test JVM. */
    static final long BASE = 3_000_000_000L + (ProcessHandle.current().pid() % 1000) * 200_000L;
    static Path dir;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(dev.hull.runtime.spec.Features.create().path("linux").path("mountExtensions")
                .path("idmap").path("enabled").asBoolean(), "--uidmap needs idmapped mounts (root, Linux 5.12+)");
        hull = HullCommand.inTraversableDir("hull-uidmap-", Map.of());
        dir = hull.dir();
    }

    @AfterAll
    static void tearDown() throws Exception {
        HullCommand.removeAll(hull);
    }

    static JsonNode inspect(String name) throws Exception {
        return JSON.readTree(hull.ok("inspect", name).out()).get(0);
    }

    static long owner(Path p, String what) throws Exception {
        return Integer.toUnsignedLong((Integer) Files.getAttribute(p, "unix:" + what,
                java.nio.file.LinkOption.NOFOLLOW_LINKS)); // ids above 2^31 come as negative ints
    }

    @Test
    void theContainerGetsExactlyTheMapsGiven() throws Exception {
        String name = "uidmap-a";
        long gidBase = BASE + 100_000;
        hull.ok("run", "-d", "--name", name, "--network", "none", "--uidmap", "0:" + BASE + ":1000", "--uidmap",
                "1000:" + (BASE + 5000) + ":64536", "--gidmap", "0:" + gidBase + ":65536", "busybox", "sh", "-c",
                "touch /made; mkdir /home/u; chown 1001:7 /home/u; sleep 1000");
        try {
            assertThat(hull.ok("exec", name, "cat", "/proc/self/uid_map").out().lines().map(String::strip)
                    .map(l -> l.replaceAll("\\s+", " ")).toList())
                    .containsExactly("0 " + BASE + " 1000", "1000 " + (BASE + 5000) + " 64536");
            assertThat(hull.ok("exec", name, "cat", "/proc/self/gid_map").out().strip().replaceAll("\\s+", " "))
                    .isEqualTo("0 " + gidBase + " 65536");
            assertThat(hull.ok("exec", name, "id").out()).startsWith("uid=0(root) gid=0(root)");
            assertThat(hull.ok("exec", name, "stat", "-c", "%u:%g", "/", "/bin", "/etc/passwd").out().split("\n"))
                    .as("the image's files are the container root's (idmapped layers)").containsOnly("0:0");
            JsonNode c = inspect(name);
            int pid = c.path("State").path("Pid").asInt();
            String status = Files.readString(Path.of("/proc/" + pid + "/status"));
            assertThat(status).as("the container's root seen from the host").containsPattern("(?m)^Uid:\\s+" + BASE + "\\s")
                    .containsPattern("(?m)^Gid:\\s+" + gidBase + "\\s");
            assertThat(c.path("HostConfig").path("IDMappings").toString()).isEqualTo("{\"UidMap\":[\"0:" + BASE
                    + ":1000\",\"1000:" + (BASE + 5000) + ":64536\"],\"GidMap\":[\"0:" + gidBase + ":65536\"]}");
            Path upper = dir.resolve("home/containers").resolve(c.path("Id").asText()).resolve("upper");
            for (int i = 0; i < 6000 && !Files.exists(upper.resolve("home/u")); i++) {
                Thread.sleep(20);
            }
            assertThat(owner(upper, "uid")).as("the upper layer is the container root's").isEqualTo(BASE);
            assertThat(owner(upper, "gid")).isEqualTo(gidBase);
            assertThat(owner(upper.resolve("made"), "uid")).as("a file the container's root made").isEqualTo(BASE);
            assertThat(owner(upper.resolve("made"), "gid")).isEqualTo(gidBase);
            assertThat(owner(upper.resolve("home/u"), "uid")).as("chown 1001 inside: the second range")
                    .isEqualTo(BASE + 5000 + 1);
            assertThat(owner(upper.resolve("home/u"), "gid")).isEqualTo(gidBase + 7);
        } finally {
            hull.run("rm", "-f", name);
        }
    }

    @Test
    void withoutGidmapTheGidsAreTheUidMaps() throws Exception {
        HullCommand.Result r = hull.ok("run", "--rm", "--network", "none", "--uidmap", "0:" + (BASE + 150_000) + ":2000",
                "busybox", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; echo x > /tmp/f; stat -c %u:%g /tmp/f");
        List<String> lines = r.out().lines().map(l -> l.strip().replaceAll("\\s+", " ")).toList();
        assertThat(lines).containsExactly("0 " + (BASE + 150_000) + " 2000", "0 " + (BASE + 150_000) + " 2000", "0:0");
    }

    @Test
    void aFreshNamedVolumeIsShiftedIntoOneRange() throws Exception {
        long base = 2_100_000_000L + (ProcessHandle.current().pid() % 100) * 65536L; // below 2^31: shiftable
        String vol = "uidmap-vol-" + ProcessHandle.current().pid();
        hull.ok("run", "--rm", "--network", "none", "--uidmap", "0:" + base + ":65536", "-v", vol + ":/etc",
                "busybox", "sh", "-c", "touch /etc/made");
        try {
            Path data = Path.of(hull.ok("volume", "inspect", "-f", "{{.Mountpoint}}", vol).out().strip());
            assertThat(owner(data.resolve("passwd"), "uid")).as("the image's /etc, copied up and shifted")
                    .isEqualTo(base);
            assertThat(owner(data.resolve("made"), "uid")).as("written by the container's root").isEqualTo(base);
            assertThat(owner(data.resolve("made"), "gid")).isEqualTo(base);
        } finally {
            hull.run("volume", "rm", vol);
        }
    }

    @Test
    void badMapsAreRefused() throws Exception {
        for (String[] c : new String[][] {
                {"--uidmap 0:1000", "--uidmap 0:1000: use CONTAINER_ID:HOST_ID:AMOUNT"},
                {"--uidmap 0:x:5", "--uidmap 0:x:5: use CONTAINER_ID:HOST_ID:AMOUNT"},
                {"--uidmap 0:100000:0", "--uidmap 0:100000:0: the amount must be at least 1"},
                {"--uidmap 0:4294967290:10", "ids must stay below 4294967295"},
                {"--uidmap 0:100000:10 --uidmap 5:200000:10", "--uidmap 5:200000:10: its container ids overlap those"
                        + " of 0:100000:10"},
                {"--uidmap 0:100000:10 --uidmap 10:100005:10", "--uidmap 10:100005:10: its host ids overlap those of"
                        + " 0:100000:10"},
                {"--uidmap 1:100000:10", "--uidmap: the container's user 0 is not mapped"},
                {"--uidmap 0:100000:10 -u 50", "--uidmap: the container's user 50 is not mapped"},
                {"--uidmap 0:100000:10 --userns auto", "--uidmap/--gidmap and --userns auto conflict"},
                {"--uidmap 0:100000:10 --privileged", "--uidmap/--gidmap and --privileged conflict"}}) {
            List<String> args = new ArrayList<>(List.of("create", "--name", "uidmap-bad", "--network", "none"));
            args.addAll(List.of(c[0].split(" ")));
            args.add("busybox");
            HullCommand.Result r = hull.run(args.toArray(String[]::new));
            assertThat(r.exit()).as(r.toString()).isEqualTo(125);
            assertThat(r.err()).as(c[0]).startsWith("hull: ").contains(c[1]);
        }
        assertThat(hull.ok("ps", "-aq", "--filter", "name=uidmap-bad").out()).as("nothing made").isEmpty();
    }
}
