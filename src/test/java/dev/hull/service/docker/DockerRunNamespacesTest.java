package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The docker CLI's --mount, --device, --pid, --ipc and --uts against a Hull service of this class's own:
 * HostConfig.Mounts, Devices, DeviceCgroupRules, PidMode, IpcMode, UTSMode and VolumesFrom reach the
 * container as hull run's flags do.
 */
class DockerRunNamespacesTest extends ApiServiceTest {
    @Test
    void mountsDevicesAndNamespaces() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("f"), "bound\n");
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--mount", "type=bind,src=" + src
                + ",dst=/data,readonly", "busybox", "sh", "-c", "cat /data/f; (touch /data/x) 2>/dev/null || echo ro"))
                .out()).isEqualTo("bound\nro\n");
        Result missing = api.docker("run", "--rm", "--network", "none", "--mount", "type=bind,src=" + tmp.resolve("nope")
                + ",dst=/x", "busybox", "true");
        assertThat(missing.exit()).as(missing.toString()).isEqualTo(125);
        assertThat(missing.err()).contains("bind source path does not exist: " + tmp.resolve("nope"));
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--device", "/dev/kmsg:/dev/k:r", "busybox", "sh",
                "-c", "(echo hull-docker-test > /dev/k) 2>/dev/null && echo written || echo denied")).out())
                .isEqualTo("denied\n");
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--device-cgroup-rule", "c 1:11 w", "busybox", "sh",
                "-c", "mknod /dev/k c 1 11 && echo hull-docker-test > /dev/k && echo written")).out())
                .isEqualTo("written\n");
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--pid", "host", "--uts", "host", "busybox",
                "sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/uts")).out())
                .isEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")) + "\n"
                        + Files.readSymbolicLink(Path.of("/proc/self/ns/uts")) + "\n");
        ok(api.docker("run", "-d", "--name", "ns-donor", "--network", "none", "--ipc", "shareable", "-v",
                src + ":/src", "busybox", "sh", "-c", "echo donor > /dev/shm/m; exec sleep 300"));
        try {
            assertThat(ok(api.docker("inspect", "-f", "{{.HostConfig.IpcMode}}", "ns-donor")).out()).isEqualTo("shareable\n");
            String shm = "";
            for (int i = 0; i < 600 && !shm.equals("donor\n"); i++) { // its first line may not have run yet
                shm = api.docker("run", "--rm", "--network", "none", "--ipc", "container:ns-donor", "busybox", "sh", "-c",
                        "cat /dev/shm/m 2>/dev/null").out();
                Thread.sleep(shm.equals("donor\n") ? 0 : 100);
            }
            assertThat(shm).isEqualTo("donor\n");
            assertThat(ok(api.docker("run", "--rm", "--network", "none", "--volumes-from", "ns-donor:ro", "busybox",
                    "cat", "/src/f")).out()).isEqualTo("bound\n");
        } finally {
            api.docker("rm", "-f", "ns-donor");
        }
    }

    @Test
    void kernelTunablesAndTheDiskSizeReachTheContainer() throws Exception {
        assertThat(ok(api.docker("run", "--rm", "--network", "none", "--domainname", "example.org", "--sysctl",
                "kernel.shmmax=123456", "--oom-score-adj", "500", "--shm-size", "8m", "--group-add", "1234",
                "--cpuset-mems", "0", "--memory-reservation", "32m", "busybox", "sh", "-c",
                "cat /proc/sys/kernel/domainname /proc/sys/kernel/shmmax /proc/self/oom_score_adj;"
                        + " df -k /dev/shm | tail -1 | awk '{print $2}'; id -G")).out())
                .isEqualTo("example.org\n123456\n500\n8192\n0 1234\n");
        long kib = Long.parseLong(ok(api.docker("run", "--rm", "--network", "none", "--storage-opt", "size=64m",
                "busybox", "sh", "-c", "df -k / | tail -1 | awk '{print $2}'")).out().strip());
        assertThat(kib).as("the root's disk is the 64 MiB asked for").isBetween(40_000L, 66_000L);
        Result bad = api.docker("run", "--rm", "--network", "none", "--storage-opt", "inodes=5", "busybox", "true");
        assertThat(bad.exit()).isEqualTo(125);
        assertThat(bad.err()).contains("HostConfig.StorageOpt inodes is not supported by Hull (size is)");
    }
}
