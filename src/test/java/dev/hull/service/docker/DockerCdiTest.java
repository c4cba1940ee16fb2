package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docker CLI's CDI devices and --gpus through the Docker API (HostConfig.DeviceRequests: driver
 * "cdi", and GPU requests by count or ids), against CDI specs in this class's own spec directory,
 * named by the service's config file.
 */
class DockerCdiTest {
    @TempDir
    static Path tmp;
    static ApiService api;

    @BeforeAll
    static void startService() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(ApiService.DOCKER), "the docker CLI is not at " + ApiService.DOCKER);
        Path cdi = Files.createDirectories(tmp.resolve("cdi"));
        Files.writeString(cdi.resolve("test.json"), """
                {"cdiVersion": "0.6.0", "kind": "test.hull.dev/api", "devices": [
                  {"name": "n0", "containerEdits": {"env": ["HULL_CDI=n0"],
                   "deviceNodes": [{"path": "/dev/hull-api-null", "hostPath": "/dev/null"}]}}]}
                """);
        Files.writeString(cdi.resolve("nvidia.json"), """
                {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "devices": [
                  {"name": "0", "containerEdits": {"env": ["GPU=0"]}},
                  {"name": "1", "containerEdits": {"env": ["GPU=1"]}},
                  {"name": "all", "containerEdits": {"env": ["GPU=all"]}}]}
                """);
        Files.writeString(tmp.resolve("hull.json"), "{\"cdiSpecDirs\": [\"" + cdi + "\"]}"); // the service's HULL_CONFIG
        api = ApiService.start(tmp);
    }

    @AfterAll
    static void stopService() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    @Test
    void cdiDevicesAndGpus() throws Exception {
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--device", "test.hull.dev/api=n0", "busybox",
                "sh", "-c", "echo $HULL_CDI; stat -c '%t %T' /dev/hull-api-null")).out()).isEqualTo("n0\n1 3\n");
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--gpus", "all", "busybox", "sh", "-c",
                "echo $GPU")).out()).isEqualTo("all\n");
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--gpus", "1", "busybox", "sh", "-c",
                "echo $GPU")).out()).isEqualTo("0\n");
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--gpus", "device=1", "busybox", "sh", "-c",
                "echo $GPU")).out()).isEqualTo("1\n");
        Result r = api.docker("run", "--rm", "--network", "none", "--device", "test.hull.dev/api=nope", "busybox", "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).contains("unresolvable CDI devices test.hull.dev/api=nope");
    }
}
