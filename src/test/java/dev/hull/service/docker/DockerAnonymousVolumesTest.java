package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docker's anonymous volumes through the docker CLI (and hull's own command line, on the same
 * store): an image's VOLUME, {@code -v /path} (Config.Volumes) and a {@code --mount} volume without
 * source each get a 64-hex volume filled from the image, labelled as dockerd labels them; {@code
 * rm -v} and {@code run --rm} take them, a plain rm keeps them, --volumes-from carries them, and
 * {@code volume prune} without -a takes only unused anonymous ones.
 */
class DockerAnonymousVolumesTest extends ApiServiceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String IMAGE = "anonvol/seeded:1";

    @BeforeAll
    static void image() throws Exception {
        ok(api.hull("run", "--rm", "busybox", "true")); // the built-in busybox image, in the service's store
        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM busybox
                RUN mkdir -p /data /logs && echo seed > /data/f && chmod 0750 /data
                VOLUME /data
                VOLUME ["/logs"]
                """);
        ok(api.run(null, List.of("env", "DOCKER_BUILDKIT=0", ApiService.DOCKER.toString(), "build", "-q", "-t", IMAGE,
                "."), ctx));
    }

    /** The container's volume mounts: destination → volume name. */
    static java.util.Map<String, String> volumeMounts(String container) throws Exception {
        JsonNode mounts = JSON.readTree(ok(api.docker("inspect", "-f", "{{json .Mounts}}", container)).out());
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        for (JsonNode m : mounts) {
            if (m.path("Type").asText().equals("volume")) {
                out.put(m.path("Destination").asText(), m.path("Name").asText());
            }
        }
        return out;
    }

    static boolean exists(String volume) throws Exception {
        return api.docker("volume", "inspect", volume).exit() == 0;
    }

    @Test
    void theImagesVolumesAndDashVPathsGetVolumesFilledFromTheImage() throws Exception {
        ok(api.docker("create", "--name", "av-one", "-v", "/extra", "--mount", "type=volume,target=/mounted",
                "-v", "av-named:/logs", IMAGE, "true"));
        var mounts = volumeMounts("av-one");
        // /logs is the named volume's (no anonymous one under it); the others are anonymous
        assertThat(mounts.keySet()).containsExactly("/data", "/extra", "/logs", "/mounted");
        assertThat(mounts.get("/logs")).isEqualTo("av-named");
        for (String dst : List.of("/data", "/extra", "/mounted")) {
            String name = mounts.get(dst);
            assertThat(name).as(dst).matches("[0-9a-f]{64}");
            assertThat(ok(api.docker("volume", "inspect", "-f", "{{json .Labels}}", name)).out().strip())
                    .isEqualTo("{\"com.docker.volume.anonymous\":\"\"}");
        }
        assertThat(ok(api.docker("volume", "ls", "-q")).out().lines()).contains(mounts.get("/data"), mounts.get("/extra"));
        // docker's copy-up: the image's /data, with its mode, is in the new volume
        assertThat(ok(api.docker("run", "--rm", "--volumes-from", "av-one", "busybox", "sh", "-c",
                "cat /data/f; stat -c %a /data")).out()).isEqualTo("seed\n750\n");
        // --volumes-from carried the volumes: what one container writes, the other sees
        ok(api.docker("run", "--rm", "--volumes-from", "av-one", "busybox", "sh", "-c", "echo shared > /extra/s"));
        assertThat(ok(api.docker("run", "--rm", "-v", mounts.get("/extra") + ":/x", "busybox", "cat", "/x/s")).out())
                .isEqualTo("shared\n");

        // a plain rm keeps them; prune without -a takes the unused anonymous ones, not the named one
        ok(api.docker("rm", "av-one"));
        for (String name : mounts.values()) {
            assertThat(exists(name)).as(name).isTrue();
        }
        String pruned = ok(api.docker("volume", "prune", "-f")).out();
        for (String dst : List.of("/data", "/extra", "/mounted")) {
            assertThat(pruned).contains(mounts.get(dst));
            assertThat(exists(mounts.get(dst))).isFalse();
        }
        assertThat(exists("av-named")).isTrue();
        ok(api.docker("volume", "rm", "av-named"));
    }

    @Test
    void rmDashVTakesTheAnonymousVolumesOnlyNamedAndSharedOnesStay() throws Exception {
        ok(api.docker("create", "--name", "av-rmv", "-v", "av-kept:/kept", IMAGE, "true"));
        var mounts = volumeMounts("av-rmv");
        ok(api.docker("create", "--name", "av-user", "--volumes-from", "av-rmv", "busybox", "true"));
        assertThat(volumeMounts("av-user")).isEqualTo(mounts);
        ok(api.docker("rm", "-v", "av-rmv")); // /logs is still av-user's: it stays
        assertThat(exists(mounts.get("/data"))).isTrue();
        assertThat(exists("av-kept")).isTrue();
        ok(api.hull("rm", "-v", "av-user")); // hull's own rm -v: now nobody uses them
        assertThat(exists(mounts.get("/data"))).isFalse();
        assertThat(exists(mounts.get("/logs"))).isFalse();
        assertThat(exists("av-kept")).isTrue();
        ok(api.docker("volume", "rm", "av-kept"));
    }

    @Test
    void runDashDashRmTakesThemAttachedOrDetached() throws Exception {
        List<String> before = volumes();
        assertThat(ok(api.docker("run", "--rm", "-v", "/scratch", IMAGE, "cat", "/data/f")).out()).isEqualTo("seed\n");
        assertThat(ok(api.hull("run", "--rm", "-v", "/scratch", IMAGE, "cat", "/data/f")).out()).isEqualTo("seed\n");
        ok(api.docker("run", "-d", "--rm", "--name", "av-detached", IMAGE, "sleep", "1"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (api.docker("inspect", "av-detached").exit() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); // its monitor removes the volumes after the container
        while (!volumes().equals(before) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(volumes()).isEqualTo(before);
    }

    @Test
    void aCreateThatFailsLeavesNoVolume() throws Exception {
        List<String> before = volumes();
        ApiService.Result r = api.docker("create", "--name", "av-bad", "--stop-signal", "NOSUCHSIG", "-v", "/x", IMAGE);
        assertThat(r.exit()).as(r.toString()).isNotZero();
        ApiService.Result h = api.hull("create", "--stop-signal", "NOSUCHSIG", "-v", "/x", IMAGE);
        assertThat(h.exit()).as(h.toString()).isEqualTo(125);
        assertThat(volumes()).isEqualTo(before);
    }

    /** This service's volumes that are anonymous (its store is this class's own). */
    static List<String> volumes() throws Exception {
        List<String> out = new ArrayList<>();
        for (String n : ok(api.docker("volume", "ls", "-q", "--filter", "label=com.docker.volume.anonymous"))
                .out().lines().toList()) {
            out.add(n);
        }
        return out;
    }
}
