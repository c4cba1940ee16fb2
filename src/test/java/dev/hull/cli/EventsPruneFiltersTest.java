package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * hull events, hull system prune, hull images -a/--filter and hull network ls --filter (issue 15), through the
 * real command line, on a store of this class's own.
 */
class EventsPruneFiltersTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        hull = HullCommand.inTraversableDir("hull-events-", Map.of());
        dir = hull.dir();
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (String n : hull.run("network", "ls", "-q", "-f", "name=ev").out().lines().toList()) {
            hull.run("network", "rm", n);
        }
        HullCommand.removeAll(hull);
    }

    static HullCommand hull(boolean warm) {
        return warm ? HullCommand.warm(dir.resolve("home"), dir.resolve("state"), Map.of())
                : HullCommand.cold(dir.resolve("home"), dir.resolve("state"), Map.of());
    }

    @Test
    void eventsReplaysTheHistoryFilteredAndFormatted() throws Exception {
        hull.ok("run", "--name", "ev-a", "--label", "team=x", "busybox", "true");
        hull.ok("create", "--name", "ev-b", "busybox", "true");
        String idA = hull.ok("inspect", "-f", "{{.Id}}", "ev-a").out().strip();

        List<JsonNode> a = new ArrayList<>();
        for (String line : hull.ok("events", "--since", "10m", "--until", "0s", "--filter", "container=ev-a",
                "--format", "json").out().lines().toList()) {
            a.add(JSON.readTree(line));
        }
        assertThat(a).extracting(n -> n.path("Actor").path("Attributes").path("name").asText()).containsOnly("ev-a");
        assertThat(a).extracting(n -> n.path("Action").asText()).contains("create", "start", "die");
        assertThat(a).extracting(n -> n.path("id").asText()).containsOnly(idA);

        assertThat(hull.ok("events", "--since", "10m", "--until", "0s", "--filter", "event=create", "--filter",
                "label=team=x", "--format", "{{.Action}} {{.Actor.Attributes.name}}").out()).isEqualTo("create ev-a\n");
        String plain = hull.ok("events", "--since", "10m", "--until", "0s", "-f", "container=ev-b").out();
        assertThat(plain.lines().toList()).singleElement().asString()
                .matches("\\S+ container create [0-9a-f]{64} \\(image=busybox, name=ev-b\\)");

        HullCommand.Result bad = hull.run("events", "--until", "0s", "--filter", "colour=red");
        assertThat(bad.exit()).as("%s", bad).isNotZero();
        assertThat(bad.err()).contains("invalid filter 'colour'");
        // system events is the same command
        assertThat(hull.ok("system", "events", "--since", "10m", "--until", "0s", "-f", "container=ev-b", "-f",
                "event=create", "--format", "{{.Actor.Attributes.name}}").out()).isEqualTo("ev-b\n");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void eventsStreamsUntilItsReaderGoesAway(boolean warm) throws Exception {
        HullCommand h = hull(warm);
        String prefix = "ev-s" + warm;
        List<String> cmd = new ArrayList<>(h.builder("events", "--filter", "container=" + prefix, "--format",
                "{{.Action}} {{.Actor.Attributes.name}}").command());
        String pipeline = String.join(" ", cmd.stream().map(x -> "'" + x + "'").toList()) + " | head -1";
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", pipeline);
        pb.environment().putAll(h.builder().environment());
        Path out = Files.createTempFile(dir, "events", ".out");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // events come until the pipeline has ended: hull events must see its reader gone at the next one
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            for (int i = 0; p.isAlive() && System.nanoTime() < deadline; i++) {
                h.ok("create", "--name", prefix + "-" + i, "busybox", "true");
                p.waitFor(1, TimeUnit.SECONDS);
            }
            assertThat(p.isAlive()).as("hull events still running after head -1 ended").isFalse();
            assertThat(Files.readString(out)).matches("create " + prefix + "-\\d+\n");
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
        // --until in the future: the stream ends by itself
        HullCommand.Result r = h.run("events", "--until", java.time.Instant.now().plusSeconds(2).toString());
        assertThat(r.exit()).as("%s", r).isZero();
    }

    @Test
    void systemPruneRemovesWhatNothingUsesAndVolumesOnlyWithTheFlag() throws Exception {
        hull.ok("run", "--name", "pr-stopped", "-v", "pr-vol:/v", "busybox", "true");
        hull.ok("run", "-d", "--name", "pr-running", "busybox", "sleep", "600");
        hull.ok("network", "create", "pr-net");
        hull.ok("commit", "pr-stopped", "pr-img:1");
        String idStopped = hull.ok("inspect", "-f", "{{.Id}}", "pr-stopped").out().strip();

        HullCommand.Result r = hull.ok("system", "prune", "-f");
        assertThat(r.out()).contains("Deleted Containers:\n" + idStopped + "\n").contains("pr-net")
                .contains("Total reclaimed space:");
        assertThat(hull.ok("ps", "-a", "--format", "{{.Names}}").out().lines().toList())
                .contains("pr-running").doesNotContain("pr-stopped");
        assertThat(hull.ok("network", "ls", "-q").out().lines().toList()).doesNotContain("pr-net");
        assertThat(hull.ok("volume", "ls", "-q").out().lines().toList()).contains("pr-vol");
        assertThat(hull.ok("images", "--format", "{{.Repository}}").out().lines().toList()).contains("pr-img");

        r = hull.ok("system", "prune", "-a", "--volumes", "-f");
        assertThat(r.out()).contains("Deleted Volumes:\npr-vol\n").contains("Deleted Images:");
        assertThat(hull.ok("volume", "ls", "-q").out().lines().toList()).doesNotContain("pr-vol");
        List<String> images = hull.ok("images", "--format", "{{.Repository}}").out().lines().toList();
        assertThat(images).doesNotContain("pr-img").contains("busybox"); // busybox: pr-running uses it
        assertThat(hull.ok("ps", "--format", "{{.Names}}").out().lines().toList()).contains("pr-running");
        hull.ok("rm", "-f", "pr-running");
    }

    @Test
    void imagesFilters() throws Exception {
        hull.ok("create", "--name", "if-src", "busybox", "true");
        try {
            hull.ok("commit", "-c", "LABEL team=red", "if-src", "ifimg:one");
            hull.ok("commit", "if-src", "ifimg:two");
            String dangling = hull.ok("commit", "if-src").out().strip();
            List<String> names = lines("images", "-a", "--format", "{{.Repository}}:{{.Tag}}");
            assertThat(names).contains("ifimg:one", "ifimg:two", "<none>:<none>");
            assertThat(lines("images", "-q", "--no-trunc", "-f", "dangling=true")).singleElement().asString()
                    .endsWith(dangling.replaceFirst("^sha256:", ""));
            assertThat(lines("images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "dangling=false"))
                    .contains("ifimg:one", "ifimg:two").doesNotContain("<none>:<none>");
            assertThat(lines("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=ifimg:*"))
                    .containsExactlyInAnyOrder("ifimg:one", "ifimg:two");
            assertThat(lines("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=if*"))
                    .containsExactlyInAnyOrder("ifimg:one", "ifimg:two");
            assertThat(lines("images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "label=team=red"))
                    .containsExactly("ifimg:one");
            assertThat(lines("images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "label=team=blue")).isEmpty();
            assertThat(lines("images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "since=ifimg:one"))
                    .containsExactlyInAnyOrder("ifimg:two", "<none>:<none>");
            assertThat(lines("images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "before=ifimg:two"))
                    .contains("ifimg:one").doesNotContain("ifimg:two", "<none>:<none>");
            HullCommand.Result bad = hull.run("images", "-f", "colour=red");
            assertThat(bad.exit()).as("%s", bad).isNotZero();
            assertThat(bad.err()).contains("invalid filter 'colour'");
        } finally {
            hull.run("rm", "-f", "if-src");
        }
    }

    @Test
    void networkLsFilters() throws Exception {
        hull.ok("network", "create", "--label", "team=x", "evnet-a");
        hull.ok("network", "create", "evnet-b");
        String idB = hull.ok("network", "inspect", "-f", "{{.Id}}", "evnet-b").out().strip();
        assertThat(lines("network", "ls", "-q", "-f", "name=evnet-")).containsExactlyInAnyOrder("evnet-a", "evnet-b");
        assertThat(lines("network", "ls", "-q", "-f", "label=team=x")).containsExactly("evnet-a");
        assertThat(lines("network", "ls", "-q", "-f", "label=team")).containsExactly("evnet-a");
        assertThat(lines("network", "ls", "-q", "-f", "id=" + idB.substring(0, 12))).containsExactly("evnet-b");
        assertThat(lines("network", "ls", "-q", "-f", "name=evnet-", "-f", "driver=bridge"))
                .containsExactlyInAnyOrder("evnet-a", "evnet-b");
        assertThat(lines("network", "ls", "-q", "-f", "name=evnet-", "-f", "driver=macvlan")).isEmpty();
        assertThat(lines("network", "ls", "-q", "-f", "type=custom")).contains("evnet-a", "evnet-b")
                .doesNotContain("bridge", "host", "none");
        assertThat(lines("network", "ls", "--format", "{{.Name}}", "-f", "type=builtin")).doesNotContain("evnet-a");
        HullCommand.Result bad = hull.run("network", "ls", "-f", "colour=red");
        assertThat(bad.exit()).as("%s", bad).isNotZero();
        assertThat(bad.err()).contains("invalid filter 'colour'");
    }

    private static List<String> lines(String... args) throws Exception {
        return hull.ok(args).out().lines().toList();
    }
}
