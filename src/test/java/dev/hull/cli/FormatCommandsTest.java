package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** --format's Go templates through the real command line: ps, images, volume ls, network ls, df, stats, info, version, inspect, history. */
class FormatCommandsTest {
    static Path root;
    static HullCommand hull;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "hull-format-");
        hull = new HullCommand(root.resolve("home"), root.resolve("state"), Map.of("HULL_NO_SERVICE", "1"));
        ok("create", "--name", "fmt-created", "--label", "team=web", "--label", "tier=db", "busybox", "sleep", "1");
        ok("volume", "create", "--label", "owner=fmt", "fmt-vol");
    }

    @AfterAll
    static void tearDown() throws Exception {
        hull.run("rm", "--force", "fmt-created", "fmt-running");
        hull.run("volume", "rm", "fmt-vol");
        dev.hull.image.SnapshotStore.deleteTree(root);
    }

    static HullCommand.Result ok(String... args) throws Exception {
        return hull.ok(args);
    }

    static String ps(String format) throws Exception {
        return ok("ps", "-a", "--filter", "name=fmt-created", "--format", format).out();
    }

    /** docker history's fields; before, any --format but table and json was refused. */
    @Test
    void historyTakesDockersFields() throws Exception {
        ok("tag", "busybox", "fmt-hist:1");
        try {
            String out = ok("history", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}", "fmt-hist:1").out();
            assertThat(out.lines().toList()).hasSize(1).first().asString()
                    .matches("[0-9a-f]{12}\\|hull: busybox from /bin/busybox\\|[0-9.]+[kM]?B\\|");
            assertThat(ok("history", "--format", "table {{.CreatedBy}}", "fmt-hist:1").out())
                    .startsWith("CREATED BY\n");
            HullCommand.Result r = hull.run("history", "--format", "{{.Nope}}", "fmt-hist:1");
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).contains("can't evaluate field Nope");
        } finally {
            hull.run("rmi", "fmt-hist:1");
        }
    }

    @Test
    void psTakesDockersFieldsMethodsAndFunctions() throws Exception {
        assertThat(ps("{{.Names}}")).isEqualTo("fmt-created\n");
        assertThat(ps("{{.Names}} {{.State}} {{.Status}} {{.Image}} {{.Command}}"))
                .isEqualTo("fmt-created created Created busybox \"sleep 1\"\n");
        assertThat(ps("{{.Label \"team\"}}|{{.Label \"none\"}}|{{.Labels}}")).isEqualTo("web||team=web,tier=db\n");
        assertThat(ps("{{upper .Names}} {{len .Names}} {{title .State}} {{printf \"%-13s|\" .Names}}"))
                .isEqualTo("FMT-CREATED 11 Created fmt-created  |\n");
        assertThat(ps("{{range $i, $p := split .Names \"-\"}}{{if $i}},{{end}}{{$p}}{{end}} {{join (split .Labels \",\") \";\"}}"))
                .isEqualTo("fmt,created team=web;tier=db\n");
        assertThat(ps("{{- if eq .State \"created\" -}}  new  {{- else}}old{{end}}")).isEqualTo("new\n");
        assertThat(ps("{{json .Names}} {{index (split .Names \"-\") 1}}")).isEqualTo("\"fmt-created\" created\n");
        assertThat(ps("{{.CreatedAt}}")).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0000 UTC\n");
        assertThat(ps("{{.RunningFor}}")).endsWith(" ago\n");
        String json = ps("{{json .}}");
        assertThat(new ObjectMapper().readTree(json).path("Names").asText()).isEqualTo("fmt-created");
        assertThat(json).startsWith("{\"Command\":"); // docker marshals a row with sorted keys
    }

    @Test
    void tableHasDockersHeaderAndColumns() throws Exception {
        assertThat(ps("table {{.Names}}\\t{{.State}}\\t{{.Command}}")).isEqualTo(
                "NAMES         STATE     COMMAND\n"
                + "fmt-created   created   \"sleep 1\"\n");
        assertThat(ps("table")).startsWith("CONTAINER ID   IMAGE     COMMAND     CREATED").contains("   fmt-created\n");
        assertThat(ok("ps", "--filter", "name=nothing-has-this-name", "--format", "table {{.ID}}").out())
                .isEqualTo("CONTAINER ID\n");
    }

    @Test
    void errorsAreDockersAndExitNonZero() throws Exception {
        HullCommand.Result r = hull.run("ps", "-a", "--format", "{{.Nope}}");
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("hull: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in"
                + " type *formatter.ContainerContext\n");
        assertThat(r.out()).doesNotContain("<no value>");
        r = hull.run("ps", "--format", "{{.Names");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("hull: template parsing error: template: :1: unclosed action\n");
        r = hull.run("images", "--format", "{{nosuchfunc .ID}}");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("function \"nosuchfunc\" not defined");
        r = hull.run("inspect", "-f", "{{.State.Nope}}", "fmt-created");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("at <.State.Nope>: map has no entry for key \"Nope\"");
    }

    @Test
    void imagesVolumesNetworksAndDiskUsage() throws Exception {
        assertThat(ok("images", "--format", "{{.Repository}}:{{.Tag}}").out()).contains("busybox:latest\n");
        assertThat(ok("images", "busybox", "--format", "{{.ID}}").out()).matches("[0-9a-f]{12}\n");
        assertThat(ok("images", "busybox", "--format", "table {{.Repository}}\\t{{.Tag}}").out())
                .isEqualTo("REPOSITORY   TAG\nbusybox      latest\n");
        assertThat(ok("volume", "ls", "--filter", "name=fmt-vol", "--format", "{{.Name}} {{.Driver}} {{.Label \"owner\"}}")
                .out()).isEqualTo("fmt-vol local fmt\n");
        assertThat(ok("volume", "ls", "--filter", "name=fmt-vol", "--format", "{{.Mountpoint}}").out())
                .isEqualTo(root.resolve("home/volumes/fmt-vol/_data") + "\n");
        assertThat(ok("volume", "ls", "--filter", "name=fmt-vol").out()).isEqualTo("DRIVER    VOLUME NAME\nlocal     fmt-vol\n");
        assertThat(ok("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}").out())
                .contains("bridge bridge local\n").contains("host host local\n").contains("none null local\n");
        assertThat(ok("system", "df", "--format", "{{.Type}}").out()).isEqualTo("Images\nContainers\nLocal Volumes\n");
        assertThat(ok("system", "df", "--format", "table {{.Type}}\\t{{.TotalCount}}").out())
                .startsWith("TYPE            TOTAL\nImages          ");
    }

    @Test
    void infoVersionAndInspectTemplates() throws Exception {
        assertThat(ok("info", "--format", "{{.Driver}}|{{json .Containers}}").out()).matches("\\w+\\|\\d+\n");
        assertThat(ok("version", "--format", "{{.Client.Version}}={{.Server.Version}}").out())
                .matches("(\\S+)=\\1\n");
        assertThat(ok("inspect", "-f", "{{.Name}} {{.State.Status}} {{index .Config.Labels \"team\"}}"
                + " {{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}} {{len .Config.Labels}}", "fmt-created")
                .out()).isEqualTo("/fmt-created created web team=web;tier=db; 2\n");
        assertThat(ok("volume", "inspect", "-f", "{{.Name}} {{json .Labels}}", "fmt-vol").out())
                .isEqualTo("fmt-vol {\"owner\":\"fmt\"}\n");
        assertThat(ok("network", "inspect", "-f", "{{.Name}} {{.Driver}}", "bridge").out()).isEqualTo("bridge bridge\n");
    }

    @Test
    void statsTakesATemplate() throws Exception {
        ok("run", "-d", "--name", "fmt-running", "busybox", "sleep", "300");
        assertThat(ok("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "fmt-running").out())
                .isEqualTo("fmt-running 1\n");
        assertThat(ok("stats", "--no-stream", "--format", "table {{.Container}}\\t{{.PIDs}}", "fmt-running").out())
                .isEqualTo("CONTAINER     PIDS\nfmt-running   1\n");
        assertThat(new ObjectMapper().readTree(ok("stats", "--no-stream", "--format", "json", "fmt-running").out())
                .path("Hull").path("Pids").asInt()).isEqualTo(1);
    }
}
