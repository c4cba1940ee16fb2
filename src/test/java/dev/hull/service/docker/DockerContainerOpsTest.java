package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.body;
import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.testing.RegistryServer;
import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What is done to running containers and to images besides their lifecycle — pause, top, stats,
 * update, docker cp both ways, export; save, load, push — with the docker CLI (curl where the CLI
 * hides the answer) against a Hull service of this class's own.
 */
class DockerContainerOpsTest extends ApiServiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void pauseTopStatsAndUpdate() throws Exception {
        ok(api.docker("run", "-d", "--name", "ops", "busybox", "sh", "-c", "while true; do sleep 0.2; done"));
        try {
            ok(api.docker("pause", "ops"));
            assertThat(ok(api.docker("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "ops")).out().strip())
                    .isEqualTo("paused true");
            assertThat(ok(api.docker("ps", "--filter", "name=^/ops$", "--format", "{{.Status}}")).out())
                    .endsWith("(Paused)\n");
            assertThat(api.docker("pause", "ops").exit()).as("pausing a paused container").isNotZero();
            ok(api.docker("unpause", "ops"));
            assertThat(ok(api.docker("inspect", "-f", "{{.State.Status}}", "ops")).out().strip()).isEqualTo("running");

            Result top = ok(api.docker("top", "ops"));
            assertThat(top.out().lines().findFirst().orElseThrow().split("\\s+"))
                    .containsExactly("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
            assertThat(top.out()).contains("sh -c while true; do sleep 0.2; done");
            Result topPid = ok(api.docker("top", "ops", "-o", "pid,comm"));
            assertThat(topPid.out().lines().findFirst().orElseThrow().split("\\s+")).containsExactly("PID", "COMMAND");

            // one-shot: the CLI's own columns, computed from dockerd's StatsJSON
            Result stats = ok(api.docker("stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}|{{.PIDs}}", "ops"));
            String[] f = stats.out().strip().split("\\|");
            assertThat(f[0]).isEqualTo("ops");
            assertThat(f[1]).matches("[0-9.]+[KMG]?i?B / [0-9.]+[KMG]iB");
            assertThat(Integer.parseInt(f[2])).isPositive();
            JsonNode once = JSON.readTree(body(ok(api.curl("http://hull/v1.51/containers/ops/stats?stream=false"))));
            assertThat(once.path("name").asText()).isEqualTo("/ops");
            assertThat(once.path("cpu_stats").path("system_cpu_usage").asLong())
                    .isGreaterThan(once.path("precpu_stats").path("system_cpu_usage").asLong());
            assertThat(once.path("memory_stats").path("usage").asLong()).isPositive();
            assertThat(once.path("pids_stats").path("current").asLong()).isPositive();
            // streamed: an object a second, until the client leaves
            Path streamed = tmp.resolve("stats.txt");
            Process p = new ProcessBuilder("curl", "-s", "-N", "--unix-socket", api.dockerSocket.toString(),
                    "http://hull/containers/ops/stats").redirectOutput(streamed.toFile()).start();
            try {
                ApiService.awaitFile(streamed, t -> t.lines().count() >= 2, "two streamed stats");
            } finally {
                p.destroy();
            }
            for (String line : Files.readAllLines(streamed).subList(0, 2)) {
                assertThat(JSON.readTree(line).path("id").asText()).hasSize(64);
            }

            ok(api.docker("update", "--memory", "64m", "--memory-swap", "128m", "--restart", "on-failure:2", "ops"));
            assertThat(ok(api.docker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}"
                    + " {{.HostConfig.RestartPolicy.MaximumRetryCount}}", "ops")).out().strip())
                    .isEqualTo("67108864 on-failure 2");
            assertThat(ok(api.docker("stats", "--no-stream", "--format", "{{.MemUsage}}", "ops")).out().strip())
                    .endsWith("/ 64MiB"); // the cgroup's new limit
            Result refused = api.docker("update", "--kernel-memory", "10m", "ops");
            assertThat(refused.exit()).isNotZero();
        } finally {
            api.docker("rm", "-f", "ops");
        }
    }

    @Test
    void logDriverNoneHasNothingToReadAsWithDockerd() throws Exception {
        ok(api.docker("run", "--name", "ops-nolog", "--log-driver", "none", "busybox", "echo", "x"));
        try {
            assertThat(ok(api.docker("inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "ops-nolog")).out().strip())
                    .isEqualTo("none");
            Result logs = api.docker("logs", "ops-nolog");
            assertThat(logs.exit()).isNotZero();
            assertThat(logs.err()).contains("configured logging driver does not support reading");
            assertThat(api.docker("run", "--rm", "--log-driver", "gelf", "busybox", "true").err())
                    .contains("HostConfig.LogConfig.Type gelf: Hull logs with json-file, local or none");
            // the Blkio* fields reach the engine's checks (they were refused as unsupported before)
            assertThat(api.docker("create", "--device-read-bps", "/dev/null:1mb", "busybox").err())
                    .contains("/dev/null is not a block device");
        } finally {
            api.docker("rm", "-f", "ops-nolog");
        }
    }

    @Test
    void copyBothWaysAndExport() throws Exception {
        ok(api.docker("run", "-d", "--name", "files", "busybox", "sleep", "1000"));
        try {
            Path in = Files.writeString(tmp.resolve("to-container.txt"), "from the host\n");
            ok(api.docker("cp", in.toString(), "files:/tmp/"));
            assertThat(ok(api.docker("exec", "files", "cat", "/tmp/to-container.txt")).out()).isEqualTo("from the host\n");
            Path dir = Files.createDirectories(tmp.resolve("tree/sub"));
            Files.writeString(dir.resolve("leaf"), "leaf\n");
            ok(api.docker("cp", tmp.resolve("tree").toString(), "files:/srv"));
            assertThat(ok(api.docker("exec", "files", "cat", "/srv/sub/leaf")).out()).isEqualTo("leaf\n");

            ok(api.docker("exec", "files", "sh", "-c", "mkdir -p /made/deep && echo made > /made/deep/f"));
            Path out = Files.createDirectories(tmp.resolve("out"));
            ok(api.docker("cp", "files:/made", out.toString()));
            assertThat(Files.readString(out.resolve("made/deep/f"))).isEqualTo("made\n");
            ok(api.docker("cp", "files:/made/deep/f", out.resolve("copy.txt").toString()));
            assertThat(Files.readString(out.resolve("copy.txt"))).isEqualTo("made\n");
            Result missing = api.docker("cp", "files:/no/such", out.toString());
            assertThat(missing.exit()).isNotZero();
            assertThat(missing.err()).contains("Could not find the file /no/such");

            // HEAD: the stat docker cp decides by (Go's FileMode: the directory bit is 1<<31)
            Result head = ok(api.curl("-I", "http://hull/v1.51/containers/files/archive?path=/made"));
            assertThat(head.out()).startsWith("HTTP/1.1 200");
            String header = head.out().lines().filter(l -> l.startsWith("X-Docker-Container-Path-Stat: ")).findFirst()
                    .orElseThrow().substring("X-Docker-Container-Path-Stat: ".length()).strip();
            JsonNode stat = JSON.readTree(Base64.getDecoder().decode(header));
            assertThat(stat.path("name").asText()).isEqualTo("made");
            assertThat(stat.path("mode").asLong()).isEqualTo((1L << 31) | 0755);
            Result headMissing = ok(api.curl("-I", "http://hull/containers/files/archive?path=/nothing"));
            assertThat(headMissing.out()).startsWith("HTTP/1.1 404");

            Path tar = tmp.resolve("export.tar");
            ok(api.docker("export", "-o", tar.toString(), "files"));
            Result listing = ok(api.run(null, List.of("tar", "-tf", tar.toString())));
            assertThat(listing.out().lines().toList()).contains("bin/busybox", "made/deep/f", "tmp/to-container.txt",
                    "proc/").noneMatch(l -> l.startsWith("proc/") && !l.equals("proc/")); // a mount point: empty
        } finally {
            api.docker("rm", "-f", "files");
        }
    }

    @Test
    void saveLoadAndPush() throws Exception {
        ok(api.docker("tag", "busybox", "trip/bb:1"));
        Path archive = tmp.resolve("bb.tar");
        ok(api.docker("save", "-o", archive.toString(), "trip/bb:1"));
        assertThat(ok(api.run(null, List.of("tar", "-tf", archive.toString()))).out()).contains("manifest.json");
        ok(api.docker("rmi", "trip/bb:1"));
        assertThat(api.docker("image", "inspect", "trip/bb:1").exit()).isNotZero();
        Result load = ok(api.docker("load", "-i", archive.toString()));
        assertThat(load.out()).isEqualTo("Loaded image: trip/bb:1\n");
        assertThat(ok(api.docker("run", "--rm", "trip/bb:1", "echo", "loaded")).out()).isEqualTo("loaded\n");
        Result bad = api.dockerIn("not a tar", "load");
        assertThat(bad.exit()).isNotZero();

        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry")).start()) {
            String remote = registry.host() + "/suite/pushed:1";
            ok(api.docker("tag", "busybox", remote));
            Result push = ok(api.docker("push", remote));
            assertThat(push.out()).contains("The push refers to repository [" + registry.host() + "/suite/pushed]",
                    "1: digest: sha256:");
            ok(api.docker("rmi", remote));
            Result pull = ok(api.docker("pull", remote));
            assertThat(pull.out()).contains("Status: Downloaded newer image for " + remote);
            assertThat(ok(api.docker("run", "--rm", remote, "echo", "pushed")).out()).isEqualTo("pushed\n");
            ok(api.docker("rmi", remote));
        }
        ok(api.docker("rmi", "trip/bb:1"));
    }
}
