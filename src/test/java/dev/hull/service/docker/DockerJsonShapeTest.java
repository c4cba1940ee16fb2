package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON shapes of Hull's Docker API against a private dockerd 20.10 (Debian's docker.io, a peer
 * started here): the same objects made on both (a running container on no network with a label,
 * busybox from the same archive, a network, a volume), the same GETs at API 1.41 (dockerd 20.10's),
 * and the key sets compared recursively (the names of maps keyed by data — labels, networks, ports,
 * options — count as one key). Every key dockerd has Hull has, except {@link #NOT_IN_HULL}, each with
 * its reason. Keys only Hull has are Hull's own (its Hull section) or dockerd's omitempty fields.
 */
class DockerJsonShapeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Keys dockerd has and Hull does not, by request, and why. */
    static final Map<String, Set<String>> NOT_IN_HULL = Map.of(
            // An image is no overlay mount of its own in Hull (its layers are shared read-only snapshots):
            // dockerd names a merged, upper and work directory that exist only for its containers.
            "/images/busybox/json", Set.of("GraphDriver.Data.MergedDir", "GraphDriver.Data.UpperDir",
                    "GraphDriver.Data.WorkDir"),
            // Hull runs no containerd: there is no commit of one to report.
            "/info", Set.of("ContainerdCommit", "ContainerdCommit.ID", "ContainerdCommit.Expected"));
    /** Fields whose keys are data (names, ports, labels): compared as one "*". */
    static final Set<String> KEYED_BY_DATA = Set.of("Labels", "Networks", "Ports", "ExposedPorts", "Options",
            "Volumes", "Containers", "Runtimes", "IndexConfigs", "DriverOpts", "Tmpfs", "Sysctls", "StorageOpt",
            "Annotations", "PortBindings");

    @TempDir
    static Path tmp;
    static ApiService api;
    static PrivateDockerd dockerd;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(ApiService.DOCKER), "the docker CLI is not at " + ApiService.DOCKER);
        Assumptions.assumeTrue(Files.isExecutable(PrivateDockerd.DOCKERD), "Debian's dockerd (docker.io) is not installed");
        api = ApiService.start(Files.createDirectories(tmp.resolve("hull")));
        dockerd = PrivateDockerd.start(tmp.resolve("dockerd"));
        Path busybox = tmp.resolve("busybox.tar");
        ok(api.hull("save", "-o", busybox.toString(), "busybox")); // the built-in busybox, the same bytes for both
        ok(dockerd.docker("load", "-i", busybox.toString()));
        for (boolean hull : new boolean[] {true, false}) {
            ok(docker(hull, "run", "-d", "--name", "shape-c", "--network", "none", "-l", "shape=1", "busybox", "sleep",
                    "1000"));
            ok(docker(hull, "network", "create", "shape-net"));
            ok(docker(hull, "volume", "create", "shape-vol"));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (dockerd != null) {
                dockerd.close();
            }
        } finally {
            if (api != null) {
                api.close();
            }
        }
    }

    static ApiService.Result docker(boolean hull, String... args) throws Exception {
        return hull ? api.docker(args) : dockerd.docker(args);
    }

    /** Every key path of n: a.b for objects, a[].b for what arrays hold, * for a map keyed by data. */
    static Set<String> keys(JsonNode n) {
        Set<String> out = new TreeSet<>();
        keys(n, "", "", out);
        return out;
    }

    private static void keys(JsonNode n, String path, String field, Set<String> out) {
        if (n.isObject()) {
            boolean data = KEYED_BY_DATA.contains(field) || path.endsWith("LogConfig.Config");
            for (var e : n.properties()) {
                String k = data ? "*" : e.getKey();
                String p = path.isEmpty() ? k : path + "." + k;
                out.add(p);
                keys(e.getValue(), p, e.getKey(), out);
            }
        } else if (n.isArray()) {
            for (JsonNode x : n) {
                keys(x, path + "[]", field, out);
            }
        }
    }

    @Test
    void hullHasEveryKeyDockerdHasButTheDocumentedOnes() throws Exception {
        Map<String, String> paths = new LinkedHashMap<>();
        paths.put("/containers/shape-c/json", "/containers/shape-c/json");
        paths.put("/images/busybox/json", "/images/busybox/json");
        paths.put("/networks/shape-net", "/networks/shape-net");
        paths.put("/volumes/shape-vol", "/volumes/shape-vol");
        paths.put("/info", "/info");
        paths.put("/version", "/version");
        paths.put("/containers/json", "/containers/json?filters=%7B%22name%22%3A%5B%22shape-c%22%5D%7D");
        paths.put("/images/json", "/images/json");
        Map<String, Set<String>> missing = new LinkedHashMap<>();
        for (var e : paths.entrySet()) {
            String theirs = dockerd.get("/v1.41" + e.getValue());
            String ours = ApiService.body(ok(api.curl("http://localhost/v1.41" + e.getValue())));
            Set<String> want = keys(JSON.readTree(theirs));
            assertThat(want).as("dockerd's %s", e.getKey()).isNotEmpty();
            want.removeAll(keys(JSON.readTree(ours)));
            missing.put(e.getKey(), want);
        }
        Map<String, Set<String>> expected = new LinkedHashMap<>();
        for (String p : paths.keySet()) {
            expected.put(p, NOT_IN_HULL.getOrDefault(p, Set.of()));
        }
        assertThat(missing).isEqualTo(expected);
    }
}
