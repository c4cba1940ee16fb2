package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hull run --userns=auto[:size=N]} (podman's) through the real command: the container's root is
 * root inside and a host uid of a range leased for it outside; two containers get disjoint ranges; what it
 * writes into a volume or a bound directory has the range's ids, or the host's root's through -v ...:idmap;
 * a restart keeps the range and rm gives it back.
 */
class UsernsAutoTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(dev.hull.runtime.spec.Features.create().path("linux").path("mountExtensions")
                .path("idmap").path("enabled").asBoolean(), "--userns=auto needs idmapped mounts (root, Linux 5.12+)");
        hull = HullCommand.inTraversableDir("hull-userns-", Map.of("HULL_NO_SERVICE", "1"));
        dir = hull.dir();
    }

    @AfterAll
    static void tearDown() throws Exception {
        HullCommand.removeAll(hull);
    }

    static JsonNode inspect(String name) throws Exception {
        return JSON.readTree(hull.ok("inspect", name).out()).get(0);
    }

    /** "0:HOST:SIZE" of the container's uid map, from inspect (podman's IDMappings). */
    static long[] uidMap(String name) throws Exception {
        JsonNode hc = inspect(name).path("HostConfig");
        assertThat(hc.path("UsernsMode").asText()).startsWith("auto");
        String[] p = hc.path("IDMappings").path("UidMap").get(0).asText().split(":");
        assertThat(hc.path("IDMappings").path("GidMap").get(0).asText()).isNotEmpty();
        return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])};
    }

    static long hostUid(int pid) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("Uid:")) {
                return Long.parseLong(l.split("\\s+")[1]);
            }
        }
        throw new AssertionError("no Uid: line for " + pid);
    }

    static long uid(Path p) throws Exception {
        return ((Number) Files.getAttribute(p, "unix:uid")).longValue();
    }

    @Test
    void rootInsideIsAHostUidOfItsRangeAndWritesLandWithIt() throws Exception {
        String name = "userns-a-" + ProcessHandle.current().pid();
        String vol = name + "-vol";
        Path bind = Files.createDirectories(dir.resolve("bind-a"));
        Files.setPosixFilePermissions(bind, PosixFilePermissions.fromString("rwxrwxrwx"));
        hull.ok("run", "-d", "--name", name, "--userns=auto", "-v", vol + ":/data", "-v", bind + ":/b",
                "-v", bind + ":/bi:idmap", "busybox", "sh", "-c",
                "id -u > /data/id; touch /data/v /b/plain /bi/idmapped /made; sleep 1000");
        long[] map = uidMap(name);
        assertThat(map[0]).isZero();
        assertThat(map[2]).isEqualTo(65536);
        int pid = inspect(name).path("State").path("Pid").asInt();
        assertThat(hostUid(pid)).as("the container's root seen from the host").isEqualTo(map[1]);
        assertThat(hull.ok("exec", name, "id", "-u").out().strip()).isEqualTo("0");
        assertThat(hull.ok("exec", name, "stat", "-c", "%u:%g", "/", "/bin", "/etc/passwd").out().split("\n"))
                .as("the image's files are the container root's (idmapped layers)").containsOnly("0:0");
        Path data = Path.of(hull.ok("volume", "inspect", "-f", "{{.Mountpoint}}", vol).out().strip());
        awaitFile(bind.resolve("idmapped"));
        assertThat(Files.readString(data.resolve("id")).strip()).isEqualTo("0");
        assertThat(uid(data.resolve("v"))).as("a file written into a volume").isEqualTo(map[1]);
        assertThat(uid(bind.resolve("plain"))).as("into a bound directory").isEqualTo(map[1]);
        assertThat(uid(bind.resolve("idmapped"))).as("through -v ...:idmap: the host's root").isZero();

        hull.ok("restart", name);
        assertThat(uidMap(name)).as("a restart keeps the range").containsExactly(map);
        int pid2 = inspect(name).path("State").path("Pid").asInt();
        assertThat(hostUid(pid2)).isEqualTo(map[1]);

        Path home = dir.resolve("home");
        Path lease = leaseOf(home, name);
        assertThat(lease).as("the range is leased").isNotNull();
        hull.ok("rm", "-f", name);
        assertThat(lease).as("rm gives the range back").doesNotExist();
        hull.ok("volume", "rm", vol);
    }

    @Test
    void twoContainersGetDisjointRangesOfTheSizeAsked() throws Exception {
        String a = "userns-b1-" + ProcessHandle.current().pid(), b = "userns-b2-" + ProcessHandle.current().pid();
        hull.ok("create", "--name", a, "--network", "none", "--userns=auto:size=1024", "busybox", "true");
        hull.ok("create", "--name", b, "--network", "none", "--userns=auto:size=2048", "busybox", "true");
        long[] ma = uidMap(a), mb = uidMap(b);
        assertThat(ma[2]).isEqualTo(1024);
        assertThat(mb[2]).isEqualTo(2048);
        assertThat(ma[1] + ma[2] <= mb[1] || mb[1] + mb[2] <= ma[1]).as("disjoint: %s %s", List.of(ma[1], ma[2]),
                List.of(mb[1], mb[2])).isTrue();
        assertThat(hull.ok("start", "-a", a).exit()).isZero();
        hull.ok("rm", a, b);
    }

    @Test
    void refusals() throws Exception {
        for (String[] c : new String[][] {
                {"--userns=auto:size=0", "use host (the default) or auto[:size=N]"},
                {"--userns=private", "use host (the default) or auto[:size=N]"},
                {"--privileged --userns=auto", "--userns auto and --privileged conflict"},
                {"-v /tmp:/x:idmap", "an idmapped volume needs --userns=auto"}}) {
            List<String> args = new java.util.ArrayList<>(List.of("run", "--rm", "--network", "none"));
            args.addAll(List.of(c[0].split(" ")));
            args.addAll(List.of("busybox", "true"));
            HullCommand.Result r = hull.run(args.toArray(String[]::new));
            assertThat(r.exit()).as(r.toString()).isEqualTo(125);
            assertThat(r.err()).as(c[0]).startsWith("hull: ").contains(c[1]);
        }
    }

    /** The lease file of the container named name (its directory under home), or null. */
    static Path leaseOf(Path home, String name) throws Exception {
        String id = inspect(name).path("Id").asText();
        try (var files = Files.list(Path.of("/var/lib/hull-subids"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().startsWith(".")
                        && Files.readAllLines(f).get(0).equals(home.resolve("containers").resolve(id).toString())) {
                    return f;
                }
            }
        }
        return null;
    }

    static void awaitFile(Path p) throws InterruptedException {
        for (int i = 0; i < 6000 && !Files.exists(p); i++) {
            Thread.sleep(20);
        }
        assertThat(p).exists();
    }
}
