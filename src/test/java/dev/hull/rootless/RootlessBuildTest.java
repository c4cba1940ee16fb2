package dev.hull.rootless;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.cli.HullCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code hull build} as an ordinary user (issue 19: "build untested rootless"): RUN steps in the user's
 * namespace, a deletion carried as a whiteout in the layer, COPY --chown to an id of the user's
 * subordinate range, the image in the user's store only, and run from there.
 */
class RootlessBuildTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final RootlessUser.Fixture FIXTURE = new RootlessUser.Fixture("hulltest-rlbuild");

    @Test
    void aDockerfileBuildsAndRunsInTheUsersStore() throws Exception {
        RootlessUser user = FIXTURE.user();
        HullCommand.Result r = user.as(Map.of(), "sh", "-c", "mkdir -p ctx && echo payload > ctx/f && printf '"
                + "FROM busybox\\n"
                + "RUN mkdir /d && echo gone > /d/x && echo kept > /d/y\\n"
                + "COPY --chown=1000:1001 f /f\\n"
                + "RUN rm /d/x\\n"
                + "CMD [\"cat\", \"/f\"]\\n' > ctx/Dockerfile");
        assertThat(r.exit()).as(r.toString()).isZero();
        r = user.hull("build", "-t", "rlbuild:1", "ctx");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Successfully tagged rlbuild:1");
        r = user.hull("run", "--rm", "rlbuild:1");
        assertThat(r.out()).as(r.toString()).isEqualTo("payload\n");
        r = user.hull("run", "--rm", "rlbuild:1", "sh", "-c", "ls /d; stat -c %u:%g /f");
        assertThat(r.out()).as(r.toString()).isEqualTo("y\n1000:1001\n");
        // the deletion is a whiteout in the last RUN's layer, not a missing file only in this container
        r = user.hull("history", "--no-trunc", "rlbuild:1");
        assertThat(r.out()).as(r.toString()).contains("rm /d/x");
        r = user.hull("images", "--format", "{{.Repository}}:{{.Tag}}");
        assertThat(r.out()).as(r.toString()).contains("rlbuild:1");
        // the user's store, not the host root's
        assertThat(user.home.resolve(".local/share/hull/images.json")).exists();
        assertThat(Files.readString(user.home.resolve(".local/share/hull/images.json"))).contains("rlbuild");
        Path rootImages = Path.of("/var/lib/hull/images.json");
        if (Files.exists(rootImages)) {
            assertThat(Files.readString(rootImages)).doesNotContain("rlbuild");
        }
        r = user.hull("rmi", "rlbuild:1");
        assertThat(r.exit()).as(r.toString()).isZero();
    }
}
