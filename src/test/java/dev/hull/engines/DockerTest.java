package dev.hull.engines;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
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
 * docker.io's dockerd (20.10, Debian's) drives hull-runtime as an added runtime (--add-runtime), warm
 * and cold, with runc as the control: exit codes 0/3, 127 and 126 (docker maps the runtime's error
 * text: runc's words are the contract), run -d, exec, stop, ps -a. dockerd has its own data root,
 * exec root, socket and pidfile, no bridge and no iptables, and talks to a containerd of the test's
 * own (never the host's /run/containerd/containerd.sock, which dockerd would otherwise pick up).
 * The docker CLI is docker.io's /usr/bin/docker (a newer one may be earlier on PATH).
 */
class DockerTest {
    static final String DOCKERD = "/usr/sbin/dockerd";
    static final String DOCKER = "/usr/bin/docker";
    static final List<String> RUNTIMES = Engines.RUNTIMES;

    static Path dir;
    static Process server;
    static Containerd containerd;
    static Process dockerd;

    @BeforeAll
    static void setUp() throws Exception {
        String missing = Containerd.missing();
        Assumptions.assumeTrue(missing == null, () -> "docker cannot run: " + missing);
        Assumptions.assumeTrue(Engines.installed(DOCKERD) && Engines.installed(DOCKER),
                "docker cannot run: /usr/sbin/dockerd or /usr/bin/docker is missing (./test installs Debian's docker.io)");
        dir = Engines.base("docker");
        Path socket = dir.resolve("runtime.sock");
        Engines.writeRuntimes(dir, socket);
        server = Engines.startServer(dir, socket);
        containerd = Containerd.start(dir, "hull-docker-test", """
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                """);
        Path sock = dir.resolve("docker.sock");
        dockerd = Engines.start(dir, "dockerd", Map.of(), List.of(DOCKERD, "--data-root", dir.resolve("data").toString(),
                "--exec-root", dir.resolve("exec").toString(), "-H", "unix://" + sock, "--pidfile",
                dir.resolve("dockerd.pid").toString(), "--containerd", containerd.address.toString(),
                "--containerd-namespace", "hull-docker-test", "--containerd-plugins-namespace", "hull-docker-test-plugins",
                "--cgroup-parent", "/hull-docker-test", "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--userland-proxy=false",
                "--config-file", writeConfig(),
                "--add-runtime", "hull-warm=" + Engines.runtime(dir, "hull-warm"),
                "--add-runtime", "hull-cold=" + Engines.runtime(dir, "hull-cold"),
                "--add-runtime", "test-runc=" + Engines.runtime(dir, "runc")));
        assertThat(Engines.waitUntil(() -> !dockerd.isAlive() || Files.exists(sock) && docker("version").exit() == 0))
                .isTrue();
        assertThat(dockerd.isAlive()).as("dockerd: %s", Engines.read(dir.resolve("dockerd.err"))).isTrue();
        Engines.Result load = docker("load", "-i", Engines.busyboxArchive(dir).toString());
        assertThat(load.exit()).as("%s", load).isZero();
    }

    static String writeConfig() throws java.io.IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, "{}\n");
        return f.toString();
    }

    @AfterAll
    static void tearDown() {
        if (dir == null) {
            return;
        }
        if (dockerd != null) {
            String ids = docker("ps", "-a", "-q").out();
            for (String id : ids.lines().toList()) {
                docker("rm", "-f", id);
            }
            Engines.stop(dockerd, dir);
        }
        if (containerd != null) {
            containerd.close();
        }
        Engines.stop(server, dir);
        Engines.remove(dir);
        Engines.removeCgroups("hull-docker-test");
    }

    static Engines.Result docker(String... args) {
        List<String> cmd = new ArrayList<>(List.of(DOCKER, "-H", "unix://" + dir.resolve("docker.sock")));
        cmd.addAll(List.of(args));
        // The CLI's own config dir is ours too (no host credentials or contexts).
        return Engines.run(dir, Map.of("DOCKER_CONFIG", dir.resolve("cli").toString()), cmd);
    }

    static String rt(String runtime) {
        return runtime.equals("runc") ? "test-runc" : runtime;
    }

    static Engines.Result run(String runtime, String... rest) {
        List<String> a = new ArrayList<>(List.of("run", "--runtime", rt(runtime), "--network", "none"));
        a.addAll(List.of(rest));
        return docker(a.toArray(String[]::new));
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void runPassesOutputAndExitCodes(String runtime) {
        Engines.Result ok = run(runtime, "--rm", "busybox", "sh", "-c", "echo hello from pid $$");
        assertThat(ok.exit()).as("%s", ok).isZero();
        assertThat(ok.out()).isEqualTo("hello from pid 1\n");
        Engines.Result three = run(runtime, "--rm", "busybox", "sh", "-c", "echo err >&2; exit 3");
        assertThat(three.exit()).as("%s", three).isEqualTo(3);
        assertThat(three.err()).isEqualTo("err\n");
        Engines.Result notFound = run(runtime, "--rm", "busybox", "no-such-command");
        assertThat(notFound.exit()).as("%s", notFound).isEqualTo(127);
        Engines.Result cannotRun = run(runtime, "--rm", "busybox", "/etc/passwd");
        assertThat(cannotRun.exit()).as("%s", cannotRun).isEqualTo(126);
        assertThat(docker("ps", "-a", "-q").out()).isBlank();
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void detachedExecAndStop(String runtime) {
        String name = "d-" + runtime;
        Engines.Result d = run(runtime, "-d", "--name", name, "busybox", "sleep", "600");
        assertThat(d.exit()).as("%s", d).isZero();
        assertThat(docker("ps", "--format", "{{.Names}} {{.Status}}").out()).contains(name + " Up");
        Engines.Result exec = docker("exec", name, "sh", "-c", "echo exec sees $(cat /proc/1/comm); exit 5");
        assertThat(exec.exit()).as("%s", exec).isEqualTo(5);
        assertThat(exec.out()).isEqualTo("exec sees sleep\n");
        // docker 20.10 reports an exec that cannot start as 126, with runc as with Hull.
        Engines.Result missing = docker("exec", name, "no-such-command");
        assertThat(missing.exit()).as("%s", missing).isEqualTo(126);
        assertThat(missing.out() + missing.err()).contains("executable file not found in $PATH");
        Engines.Result stop = docker("stop", "-t", "1", name);
        assertThat(stop.exit()).as("%s", stop).isZero();
        assertThat(docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name).out().strip())
                .isEqualTo("exited 137");
        assertThat(docker("ps", "-a", "--format", "{{.Names}} {{.Status}}").out()).contains(name + " Exited (137)");
        assertThat(docker("rm", name).exit()).isZero();

        String self = "self-" + runtime;
        assertThat(run(runtime, "-d", "--name", self, "busybox", "sh", "-c", "trap 'exit 143' TERM; echo trap set; sleep 600 & wait")
                .exit()).isZero();
        // Not before the shell handles SIGTERM (as PID 1 it ignores it until then).
        assertThat(Engines.waitUntil(() -> docker("logs", self).out().contains("trap set"))).isTrue();
        Engines.Result term = docker("stop", "-t", "120", self);
        assertThat(term.exit()).as("%s", term).isZero();
        assertThat(docker("wait", self).out().strip()).isEqualTo("143");
        assertThat(docker("rm", self).exit()).isZero();
    }
}
