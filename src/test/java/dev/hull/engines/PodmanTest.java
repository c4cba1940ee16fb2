package dev.hull.engines;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * podman (4.3, Debian's, with conmon) drives hull-runtime through --runtime, warm and cold, with runc
 * as the control: exit codes (the container's own, 127 and 126 from the runtime's error text), run
 * -d, exec, stop (SIGTERM handled: 143; ignored: SIGKILL after the timeout, 137), ps -a. Everything
 * podman keeps is under the test's own directory (--root, --runroot, --tmpdir, network config);
 * root here lacks CAP_SYS_RESOURCE, so the ulimits are given at or below the host's.
 */
class PodmanTest {
    static final String PODMAN = "/usr/bin/podman";
    static final List<String> RUNTIMES = Engines.RUNTIMES;
    static final String IMAGE = "localhost/busybox:latest";

    static Path dir;
    static Process server;
    static boolean hadLibpodParent;

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(Engines.installed(PODMAN) && Engines.installed("/usr/bin/conmon"),
                "podman cannot run: /usr/bin/podman or /usr/bin/conmon is missing (./test installs Debian's podman)");
        // podman (cgroupfs) puts every conmon in /libpod_parent/conmon: removed afterwards if it is ours.
        hadLibpodParent = java.nio.file.Files.exists(Path.of("/sys/fs/cgroup/memory/libpod_parent"));
        dir = Engines.base("podman");
        Path socket = dir.resolve("runtime.sock");
        Engines.writeRuntimes(dir, socket);
        server = Engines.startServer(dir, socket);
        // Our own containers.conf: no host settings, volumes in our dir.
        java.nio.file.Files.writeString(dir.resolve("containers.conf"), """
                [engine]
                volume_path = "%1$s/volumes"
                """.formatted(dir));
        Path tar = Engines.busyboxArchive(dir);
        Engines.Result load = podman("load", "-i", tar.toString());
        assertThat(load.exit()).as("%s", load).isZero();
        assertThat(load.out()).contains(IMAGE);
    }

    @AfterAll
    static void tearDown() {
        if (dir == null) {
            return;
        }
        podman("rm", "-a", "-f", "-t", "0");
        podman("system", "reset", "-f");
        Engines.stop(server, dir);
        Engines.remove(dir);
        Engines.removeCgroups("hull-podman-test");
        if (!hadLibpodParent) {
            Engines.removeCgroups("libpod_parent");
        }
    }

    static Engines.Result podman(String... args) {
        List<String> cmd = new ArrayList<>(List.of(PODMAN, "--root", dir.resolve("root").toString(), "--runroot",
                dir.resolve("runroot").toString(), "--tmpdir", dir.resolve("tmp").toString(), "--network-config-dir",
                dir.resolve("net").toString(), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file"));
        cmd.addAll(List.of(args));
        return Engines.run(dir, Map.of("CONTAINERS_CONF", dir.resolve("containers.conf").toString()), cmd);
    }

    static Engines.Result run(String runtime, String... rest) {
        List<String> a = new ArrayList<>(List.of("run", "--runtime", Engines.runtime(dir, runtime).toString(),
                "--network", "none", "--cgroup-parent", "/hull-podman-test", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"));
        a.addAll(List.of(rest));
        return podman(a.toArray(String[]::new));
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void runPassesOutputAndExitCodes(String runtime) {
        Engines.Result ok = run(runtime, "--rm", IMAGE, "sh", "-c", "echo hello from pid $$");
        assertThat(ok.exit()).as("%s", ok).isZero();
        assertThat(ok.out()).isEqualTo("hello from pid 1\n");
        Engines.Result three = run(runtime, "--rm", IMAGE, "sh", "-c", "exit 3");
        assertThat(three.exit()).as("%s", three).isEqualTo(3);
        Engines.Result notFound = run(runtime, "--rm", IMAGE, "no-such-command");
        assertThat(notFound.exit()).as("%s", notFound).isEqualTo(127);
        Engines.Result cannotRun = run(runtime, "--rm", IMAGE, "/etc/passwd");
        assertThat(cannotRun.exit()).as("%s", cannotRun).isEqualTo(126);
        assertThat(podman("ps", "-a", "-q").out()).isBlank();
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void detachedExecAndStop(String runtime) {
        String name = "d-" + runtime;
        Engines.Result d = run(runtime, "-d", "--name", name, IMAGE, "sleep", "600");
        assertThat(d.exit()).as("%s", d).isZero();
        assertThat(podman("ps", "--format", "{{.Names}} {{.Status}}").out()).contains(name + " Up");
        Engines.Result exec = podman("exec", name, "sh", "-c", "echo exec sees $(cat /proc/1/comm); exit 5");
        assertThat(exec.exit()).as("%s", exec).isEqualTo(5);
        assertThat(exec.out()).isEqualTo("exec sees sleep\n");
        assertThat(podman("exec", name, "no-such-command").exit()).isEqualTo(127);
        // sleep as PID 1 ignores SIGTERM: podman kills it after the timeout.
        Engines.Result stop = podman("stop", "-t", "1", name);
        assertThat(stop.exit()).as("%s", stop).isZero();
        assertThat(podman("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name).out().strip())
                .isEqualTo("exited 137");
        assertThat(podman("ps", "-a", "--format", "{{.Names}} {{.Status}}").out()).contains(name + " Exited (137)");
        assertThat(podman("rm", name).exit()).isZero();
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void aStopThatTheContainerHandlesAndOneThatEndsByItself(String runtime) {
        String name = "term-" + runtime;
        Engines.Result d = run(runtime, "-d", "--name", name, IMAGE, "sh", "-c",
                "trap 'exit 143' TERM; echo trap set; sleep 600 & wait");
        assertThat(d.exit()).as("%s", d).isZero();
        // Not before the shell handles SIGTERM (as PID 1 it ignores it until then).
        assertThat(Engines.waitUntil(() -> podman("logs", name).out().contains("trap set"))).isTrue();
        Engines.Result stop = podman("stop", "-t", "120", name);
        assertThat(stop.exit()).as("%s", stop).isZero();
        assertThat(podman("inspect", "-f", "{{.State.ExitCode}}", name).out().strip()).isEqualTo("143");
        assertThat(podman("rm", name).exit()).isZero();

        String self = "self-" + runtime;
        assertThat(run(runtime, "-d", "--name", self, IMAGE, "sh", "-c", "exit 9").exit()).isZero();
        Engines.Result wait = podman("wait", self);
        assertThat(wait.out().strip()).as("%s", wait).isEqualTo("9");
        assertThat(podman("ps", "-a", "--format", "{{.Names}} {{.Status}}").out()).contains(self + " Exited (9)");
        assertThat(podman("rm", self).exit()).isZero();
    }
}
