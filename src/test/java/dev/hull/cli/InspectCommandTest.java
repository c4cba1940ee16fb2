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

/** hull inspect looks a name up as docker's does: container, image, network, volume; --type narrows it. */
class InspectCommandTest {
    static Path root;
    static HullCommand hull;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "hull-inspect-");
        hull = new HullCommand(root.resolve("home"), root.resolve("state"), Map.of("HULL_NO_SERVICE", "1"));
        ok("create", "--name", "insp-same", "busybox", "true");
        ok("volume", "create", "insp-same");
        ok("volume", "create", "insp-vol");
    }

    @AfterAll
    static void tearDown() throws Exception {
        hull.run("rm", "--force", "insp-same");
        hull.run("volume", "rm", "insp-same", "insp-vol");
        dev.hull.image.SnapshotStore.deleteTree(root);
    }

    static HullCommand.Result ok(String... args) throws Exception {
        return hull.ok(args);
    }

    @Test
    void aNameIsAContainerThenAnImageANetworkAVolume() throws Exception {
        JsonNode all = JSON.readTree(ok("inspect", "insp-same", "busybox", "bridge", "insp-vol").out());
        assertThat(all).hasSize(4);
        assertThat(all.get(0).path("Name").asText()).isEqualTo("/insp-same");
        assertThat(all.get(0).has("State")).isTrue();
        assertThat(all.get(1).path("RepoTags").toString()).contains("busybox:latest");
        assertThat(all.get(2).path("Name").asText()).isEqualTo("bridge");
        assertThat(all.get(2).has("IPAM")).isTrue();
        assertThat(all.get(3).path("Mountpoint").asText()).endsWith("/volumes/insp-vol/_data");
        assertThat(ok("inspect", "-f", "{{.Driver}}", "bridge").out()).isEqualTo("bridge\n");
        assertThat(ok("inspect", "-f", "{{.Os}}", "busybox").out()).isEqualTo("linux\n");
    }

    @Test
    void typeChoosesBetweenThingsOfOneName() throws Exception {
        assertThat(ok("inspect", "-f", "{{.Name}}", "insp-same").out()).isEqualTo("/insp-same\n"); // the container
        assertThat(ok("inspect", "--type", "volume", "-f", "{{.Name}} {{.Driver}}", "insp-same").out())
                .isEqualTo("insp-same local\n");
        assertThat(ok("inspect", "--type", "container", "-f", "{{.State.Status}}", "insp-same").out())
                .isEqualTo("created\n");
        HullCommand.Result r = hull.run("inspect", "--type", "image", "insp-same");
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("hull: No such image: insp-same\n");
        r = hull.run("inspect", "--type", "pod", "insp-same");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("hull: \"pod\" is not a valid value for --type\n");
    }

    @Test
    void anUnknownNameIsDockersErrorAndExitOne() throws Exception {
        HullCommand.Result r = hull.run("inspect", "insp-nothing-has-this-name");
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("hull: No such object: insp-nothing-has-this-name\n");
        assertThat(r.out()).isEqualTo("[]\n");
        r = hull.run("inspect", "-f", "{{.Name}}", "insp-vol", "insp-nothing-has-this-name");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("insp-vol\n");
        r = hull.run("inspect", "-f", "{{.Name", "insp-vol");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("hull: template parsing error: template: :1: unclosed action\n");
        assertThat(r.out()).isEmpty();
    }
}
