package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's safe defaults (issue 12) through the real {@code hull} command line: a pids limit of
 * 2048 and json-file log rotation (max-size 20m, max-file 5) for every new container unless its
 * flags say otherwise, changed by the config file HULL_CONFIG names (else /etc/hull/hull.json; a
 * missing file means the built-in defaults), a bad config file refused naming the file and the key,
 * and {@code hull info} showing the defaults in effect. Each test points HULL_CONFIG at a file of
 * its own, so the host's /etc/hull/hull.json never matters.
 */
class EngineDefaultsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Prints one ~100-byte line 12000 times: ~1.9 MB of json-file log, far past 64k x 5. */
    static final String CHATTY = "i=0; while [ $i -lt 12000 ]; do echo \"line $i"
            + " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\";"
            + " i=$((i+1)); done";
    /** One json-file entry of a CHATTY line, generously. */
    static final long LINE = 300;
    /** The container's pids.max, cgroup v1 (pids controller mounted at /sys/fs/cgroup/pids) or v2. */
    static final String PIDS_MAX = "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max";

    static Flags f;
    static Path missing;
    static HullCommand builtin;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Flags("defaults");
        missing = f.dir.resolve("no-such-hull.json");
        builtin = hull(missing);
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    /** hull with HULL_CONFIG=config and the fixture's store. */
    static HullCommand hull(Path config) {
        return new HullCommand(f.dir.resolve("home"), f.dir.resolve("state"), Map.of("HULL_CONFIG", config.toString()));
    }

    static Path config(String name, String json) throws Exception {
        Path p = f.dir.resolve(name);
        Files.writeString(p, json);
        return p;
    }

    static String ok(HullCommand h, String... args) throws Exception {
        HullCommand.Result r = h.run(args);
        assertThat(r.exit()).as("hull " + String.join(" ", args) + "\n" + r).isZero();
        return r.out();
    }

    static JsonNode inspect(HullCommand h, String name) throws Exception {
        return JSON.readTree(ok(h, "inspect", name)).get(0);
    }

    /** The container's json-file log and its rotated files: name -> size. */
    static Map<String, Long> logFiles(String id) throws Exception {
        Path dir = f.engine.containers().logFile(id).getParent();
        Map<String, Long> sizes = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(id + "-json.log")).toList()) {
                sizes.put(p.getFileName().toString().substring(id.length()), Files.size(p));
            }
        }
        return sizes;
    }

    @Test
    void anAttachedRunGetsAllItsOutputWhileTheLogRotatesFast() throws Exception {
        // The monitor used to hand an attached client one 4 KiB chunk per poll round while reading
        // 64 KiB: a fast writer outran a client that kept up (here a file, always writable) and the
        // client was muted — 2-4 thousand of these 12000 lines arrived with rotation at 64k.
        HullCommand.Result r = builtin.run("run", "--rm", "--network", "none", "--log-opt", "max-size=64k",
                "busybox", "sh", "-c", CHATTY);
        assertThat(r.exit()).as("%s", r.err()).isZero();
        assertThat(r.out().lines().count()).isEqualTo(12000);
    }

    @Test
    void withoutFlagsAContainerGetsPidsLimit2048AndMinusOneOrZeroLiftIt() throws Exception {
        assertThat(ok(builtin, "run", "--rm", "busybox", "sh", "-c", PIDS_MAX)).isEqualTo("2048\n");
        assertThat(ok(builtin, "run", "--rm", "--pids-limit", "-1", "busybox", "sh", "-c", PIDS_MAX))
                .isEqualTo("max\n");
        assertThat(ok(builtin, "run", "--rm", "--pids-limit", "0", "busybox", "sh", "-c", PIDS_MAX))
                .isEqualTo("max\n");
        assertThat(ok(builtin, "run", "--rm", "--pids-limit", "50", "busybox", "sh", "-c", PIDS_MAX))
                .isEqualTo("50\n");
        // what create recorded: inspect shows the effective values (docker's HostConfig fields)
        ok(builtin, "create", "--name", "plain", "busybox", "true");
        ok(builtin, "create", "--name", "unlimited", "--pids-limit", "-1", "busybox", "true");
        try {
            JsonNode hc = inspect(builtin, "plain").path("HostConfig");
            assertThat(hc.path("PidsLimit").asLong()).isEqualTo(2048);
            assertThat(hc.path("LogConfig").path("Config").toString()).isEqualTo("{\"max-size\":\"20m\",\"max-file\":\"5\"}");
            assertThat(inspect(builtin, "unlimited").path("HostConfig").path("PidsLimit").asLong()).isZero();
        } finally {
            builtin.run("rm", "-f", "plain", "unlimited");
        }
    }

    @Test
    void aConfigFileChangesThePidsLimitDefault() throws Exception {
        HullCommand h = hull(config("pids.json", "{\"pidsLimit\": 100}\n"));
        assertThat(ok(h, "run", "--rm", "busybox", "sh", "-c", PIDS_MAX)).isEqualTo("100\n");
        assertThat(ok(h, "run", "--rm", "--pids-limit", "7", "busybox", "sh", "-c", PIDS_MAX)).isEqualTo("7\n");
        assertThat(ok(h, "run", "--rm", "--pids-limit", "-1", "busybox", "sh", "-c", PIDS_MAX)).isEqualTo("max\n");
        // 0 in the file: no default limit
        assertThat(ok(hull(config("nopids.json", "{\"pidsLimit\": 0}")), "run", "--rm", "busybox", "sh", "-c",
                PIDS_MAX)).isEqualTo("max\n");
    }

    @Test
    void aConfigFileRotatesTheLogWithinMaxSizeTimesMaxFile() throws Exception {
        HullCommand h = hull(config("small.json", "{\"logMaxSize\": \"64k\", \"logMaxFiles\": 3}\n"));
        ok(h, "run", "-d", "--network", "none", "--name", "chatty", "busybox", "sh", "-c", CHATTY);
        try {
            assertThat(ok(h, "wait", "chatty")).isEqualTo("0\n");
            String id = inspect(h, "chatty").path("Id").asText();
            Map<String, Long> files = logFiles(id);
            long total = files.values().stream().mapToLong(Long::longValue).sum();
            assertThat(total).as("bytes in " + files).isLessThanOrEqualTo(64 * 1024 * 3 + LINE);
            assertThat(files).as("log files").containsOnlyKeys("-json.log", "-json.log.1", "-json.log.2");
            assertThat(inspect(h, "chatty").path("HostConfig").path("LogConfig").path("Config").toString())
                    .isEqualTo("{\"max-size\":\"64k\",\"max-file\":\"3\"}");
            for (var e : files.entrySet()) {
                assertThat(e.getValue()).as(e.getKey()).isLessThanOrEqualTo(64 * 1024);
            }
            // hull logs: the newest lines, ending with the last one
            String logs = ok(h, "logs", "chatty");
            assertThat(logs.lines().reduce((a, b) -> b).orElseThrow()).startsWith("line 11999 x");
        } finally {
            h.run("rm", "-f", "chatty");
        }
    }

    @Test
    void logOptMaxSizeOverridesTheDefaultSizeAndKeepsTheDefaultFileCount() throws Exception {
        // docker's merge of daemon and container log-opts: the run's keys win, the others come from the config
        ok(builtin, "run", "-d", "--network", "none", "--name", "chatty5", "--log-opt", "max-size=64k", "busybox",
                "sh", "-c", CHATTY);
        try {
            assertThat(ok(builtin, "wait", "chatty5")).isEqualTo("0\n");
            String id = inspect(builtin, "chatty5").path("Id").asText();
            Map<String, Long> files = logFiles(id);
            long total = files.values().stream().mapToLong(Long::longValue).sum();
            assertThat(total).as("bytes in " + files).isLessThanOrEqualTo(64 * 1024 * 5 + LINE);
            assertThat(files).as("log files").containsOnlyKeys("-json.log", "-json.log.1", "-json.log.2",
                    "-json.log.3", "-json.log.4");
            assertThat(inspect(builtin, "chatty5").path("HostConfig").path("LogConfig").path("Config").toString())
                    .isEqualTo("{\"max-size\":\"64k\",\"max-file\":\"5\"}");
        } finally {
            builtin.run("rm", "-f", "chatty5");
        }
        // max-size=-1 (docker's "unlimited"): no rotation, and no max-file from the config with it
        ok(builtin, "create", "--name", "norotate", "--log-opt", "max-size=-1", "busybox", "true");
        try {
            assertThat(inspect(builtin, "norotate").path("HostConfig").path("LogConfig").path("Config").toString())
                    .isEqualTo("{\"max-size\":\"-1\"}");
        } finally {
            builtin.run("rm", "-f", "norotate");
        }
        HullCommand.Result r = builtin.run("create", "--log-opt", "max-size=-1", "--log-opt", "max-file=3", "busybox",
                "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).contains("max-file needs max-size");
    }

    @Test
    void aBadConfigFileIsAnErrorNamingTheFileAndTheKey() throws Exception {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"unknown.json", "{\"pidLimit\": 100}", "pidLimit"});
        cases.add(new String[] {"type.json", "{\"pidsLimit\": \"lots\"}", "pidsLimit"});
        cases.add(new String[] {"negative.json", "{\"pidsLimit\": -1}", "pidsLimit"});
        cases.add(new String[] {"size.json", "{\"logMaxSize\": \"-5m\"}", "logMaxSize"});
        cases.add(new String[] {"sizetype.json", "{\"logMaxSize\": true}", "logMaxSize"});
        cases.add(new String[] {"files.json", "{\"logMaxFiles\": 0}", "logMaxFiles"});
        cases.add(new String[] {"fraction.json", "{\"logMaxFiles\": 2.5}", "logMaxFiles"});
        cases.add(new String[] {"manyfiles.json", "{\"logMaxFiles\": 1000000}", "logMaxFiles"});
        cases.add(new String[] {"broken.json", "{\"pidsLimit\": 100", "JSON"});
        cases.add(new String[] {"array.json", "[1]", "object"});
        for (String[] c : cases) {
            Path file = config(c[0], c[1]);
            for (String cmd : List.of("run", "create")) {
                HullCommand.Result r = hull(file).run(cmd, "--rm", "busybox", "true");
                assertThat(r.exit()).as(c[1] + ": " + r).isEqualTo(125);
                assertThat(r.err()).as(c[1]).contains(file.toString()).contains(c[2]);
            }
        }
        // an empty object, and a missing file: the built-in defaults
        assertThat(ok(hull(config("empty.json", "{}")), "run", "--rm", "busybox", "sh", "-c", PIDS_MAX))
                .isEqualTo("2048\n");
    }

    @Test
    void infoShowsTheDefaultsInEffectAndTheWritableLayerLimit() throws Exception {
        String text = ok(builtin, "info");
        assertThat(text).contains("Config File: " + missing + " (not found: built-in defaults)")
                .contains("Default PIDs Limit: 2048").contains("Default Log Rotation: max-size 20m, max-file 5")
                .contains("no limit on a container's writable layer");
        JsonNode n = JSON.readTree(ok(builtin, "info", "--format", "json"));
        assertThat(n.path("Defaults").path("PidsLimit").asLong()).isEqualTo(2048);
        assertThat(n.path("Defaults").path("LogConfig").path("Config").toString())
                .isEqualTo("{\"max-size\":\"20m\",\"max-file\":\"5\"}");
        assertThat(n.path("WritableLayerLimit").asText()).contains("storage-opt size");

        Path small = config("info.json", "{\"pidsLimit\": 100, \"logMaxSize\": \"64k\", \"logMaxFiles\": 3}");
        assertThat(ok(hull(small), "info")).contains("Config File: " + small)
                .contains("Default PIDs Limit: 100").contains("Default Log Rotation: max-size 64k, max-file 3");
        n = JSON.readTree(ok(hull(small), "info", "--format", "json"));
        assertThat(n.path("Config").path("File").asText()).isEqualTo(small.toString());
        assertThat(n.path("Defaults").path("PidsLimit").asLong()).isEqualTo(100);

        Path none = config("none.json", "{\"pidsLimit\": 0, \"logMaxSize\": 0}");
        assertThat(ok(hull(none), "info")).contains("Default PIDs Limit: none").contains("Default Log Rotation: none");

        // a bad file: info still answers, and says what is wrong
        Path bad = config("bad-info.json", "{\"pidLimit\": 1}");
        assertThat(ok(hull(bad), "info")).contains("Config File: " + bad + " (invalid: ").contains("pidLimit");
    }
}
