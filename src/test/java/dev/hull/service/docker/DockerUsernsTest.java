package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HostConfig.UsernsMode: dockerd's "" and host; of podman's compat API's modes, auto[:size=N] and private
 * (Hull's --userns=auto: a user namespace of its own, its ids leased from the hull subid entries); the
 * rest (keep-id, nomap, ns:PATH) a 400 naming the value. The docker CLI refuses --userns other than host
 * itself ("invalid USER mode"), so auto and private are created by a request of this class's (as
 * docker-compose's userns_mode or a podman-minded client sends them) and run by the CLI (start -a), and
 * the container's /proc/self/uid_map tells which namespace it has. The store is in a traversable
 * directory (the range's ids must reach the image's layers).
 */
class DockerUsernsTest {
    static Path dir;
    static ApiService api;

    @BeforeAll
    static void startService() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(ApiService.DOCKER), "the docker CLI is not at " + ApiService.DOCKER);
        Assumptions.assumeTrue(dev.hull.runtime.spec.Features.create().path("linux").path("mountExtensions")
                .path("idmap").path("enabled").asBoolean(), "--userns=auto needs idmapped mounts (root, Linux 5.12+)");
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-docker-userns-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        api = ApiService.start(dir);
    }

    @AfterAll
    static void stopService() throws Exception {
        try {
            if (api != null) {
                api.close();
            }
        } finally {
            if (dir != null) {
                dev.hull.image.SnapshotStore.deleteTree(dir);
            }
        }
    }

    /** POST /containers/create of busybox cat /proc/self/uid_map with this UsernsMode, named name. */
    static Result create(String name, String mode) throws Exception {
        return api.curl("-X", "POST", "-H", "Content-Type: application/json", "-d",
                "{\"Image\":\"busybox\",\"Cmd\":[\"cat\",\"/proc/self/uid_map\"],\"HostConfig\":{\"UsernsMode\":\""
                        + mode + "\",\"NetworkMode\":\"none\"}}", "http://hull/v1.51/containers/create?name=" + name);
    }

    /** The uid_map's one line, split: container id, host id, count. */
    static long[] uidMap(String out) {
        assertThat(out.lines().toList()).as(out).hasSize(1);
        String[] p = out.strip().split("\\s+");
        return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])};
    }

    @Test
    void hostAndEmptyAreTheHostsIds() throws Exception {
        assertThat(uidMap(ok(api.docker("run", "--rm", "--network", "none", "--userns", "host", "busybox", "cat",
                "/proc/self/uid_map")).out())).containsExactly(0, 0, 4294967295L);
        assertThat(create("un-empty", "").out()).contains("201 Created");
        assertThat(uidMap(ok(api.docker("start", "-a", "un-empty")).out())).containsExactly(0, 0, 4294967295L);
        assertThat(ok(api.docker("inspect", "-f", "{{.HostConfig.UsernsMode}}", "un-empty")).out()).isEqualTo("\n");
        ok(api.docker("rm", "un-empty"));
    }

    @Test
    void autoAndPrivateAreANamespaceOfTheirOwn() throws Exception {
        for (String[] c : new String[][] {{"un-auto", "auto"}, {"un-private", "private"}, {"un-sized", "auto:size=1000"}}) {
            Result r = create(c[0], c[1]);
            assertThat(r.out()).as(r.toString()).contains("201 Created");
        }
        long[] auto = uidMap(ok(api.docker("start", "-a", "un-auto")).out());
        long[] priv = uidMap(ok(api.docker("start", "-a", "un-private")).out());
        long[] sized = uidMap(ok(api.docker("start", "-a", "un-sized")).out());
        assertThat(auto[0]).isZero();
        assertThat(auto[1]).as("root of the container is not the host's").isPositive();
        assertThat(auto[2]).isEqualTo(65536);
        assertThat(priv[0]).isZero();
        assertThat(priv[1]).isPositive();
        assertThat(priv[2]).isEqualTo(65536);
        assertThat(sized[2]).isEqualTo(1000);
        // three leases, three ranges that do not overlap
        long[][] all = {auto, priv, sized};
        for (int i = 0; i < all.length; i++) {
            for (int j = i + 1; j < all.length; j++) {
                assertThat(all[i][1] + all[i][2] <= all[j][1] || all[j][1] + all[j][2] <= all[i][1])
                        .as("ranges %d and %d overlap", i, j).isTrue();
            }
        }
        assertThat(ok(api.docker("inspect", "-f", "{{.HostConfig.UsernsMode}}", "un-auto", "un-private", "un-sized"))
                .out()).isEqualTo("auto\nauto\nauto:size=1000\n");
        // the CLI removes them at once: the service gives their ranges back from two threads
        ok(api.docker("rm", "-f", "un-auto", "un-private", "un-sized"));
        assertThat(api.docker("ps", "-aq", "--filter", "name=un-").out()).isEmpty();
    }

    @Test
    void theRestIsRefusedNamingTheValue() throws Exception {
        for (String mode : new String[] {"keep-id", "nomap", "ns:/proc/1/ns/user", "container:x"}) {
            Result r = create("un-bad", mode);
            assertThat(r.out()).as(r.toString()).contains("400 Bad Request")
                    .contains("HostConfig.UsernsMode " + mode + " is not supported by Hull");
        }
        Result size = create("un-bad", "auto:size=x");
        assertThat(size.out()).as(size.toString()).contains("400 Bad Request").contains("auto:size=x");
        assertThat(api.docker("ps", "-aq", "--filter", "name=un-bad").out()).isEmpty();
        // the docker CLI itself lets only host through
        Result cli = api.docker("run", "--rm", "--userns", "auto", "busybox", "true");
        assertThat(cli.exit()).isEqualTo(125);
        assertThat(cli.err()).contains("invalid USER mode");
    }
}
