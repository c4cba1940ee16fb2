package dev.hull.engines;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * containerd (1.6, Debian's) drives hull-runtime through its runc shim (io.containerd.runc.v2 with
 * --runc-binary), warm (through the test's own runtime server) and cold (a JVM per call), with
 * runc as the control in the same daemon: output, exit codes, exec, kill, and the process tree the
 * shim needs (the container's init is the shim's child, or the shim never sees it end).
 */
class ContainerdCtrTest {
    static final String IMAGE = "docker.io/library/busybox:latest";
    static final List<String> RUNTIMES = Engines.RUNTIMES;

    static Path dir;
    static Process server;
    static Containerd containerd;

    @BeforeAll
    static void setUp() throws Exception {
        String missing = Containerd.missing();
        Assumptions.assumeTrue(missing == null, () -> "containerd cannot run: " + missing);
        dir = Engines.base("ctr");
        Path socket = dir.resolve("runtime.sock");
        Engines.writeRuntimes(dir, socket);
        server = Engines.startServer(dir, socket);
        containerd = Containerd.start(dir, "hull-ctr-test", """
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                """);
        Path tar = Engines.busyboxArchive(dir);
        Engines.Result r = containerd.ctr("images", "import", tar.toString());
        assertThat(r.exit()).as("ctr images import: %s", r).isZero();
    }

    @AfterAll
    static void tearDown() {
        if (dir == null) {
            return;
        }
        if (containerd != null) {
            for (String line : containerd.ctr("task", "ls", "-q").out().lines().toList()) {
                containerd.ctr("task", "kill", "-s", "KILL", line);
            }
            for (String line : containerd.ctr("containers", "ls", "-q").out().lines().toList()) {
                Engines.waitUntil(() -> containerd.ctr("task", "delete", "-f", line).exit() != 0
                        || true);
                containerd.ctr("containers", "rm", line);
            }
            containerd.close();
        }
        Engines.stop(server, dir);
        Engines.remove(dir);
        // ctr puts each container's cgroup under one named after the namespace.
        Engines.removeCgroups("hull-ctr-test");
    }

    /** ctr run's arguments for this runtime (its own runc root and fifo dir under ours). */
    static List<String> run(String runtime, String... rest) {
        List<String> a = new ArrayList<>(List.of("run", "--runtime", "io.containerd.runc.v2", "--runc-binary",
                Engines.runtime(dir, runtime).toString(), "--runc-root", dir.resolve("runc-root").toString(),
                "--fifo-dir", dir.resolve("fifo").toString()));
        a.addAll(List.of(rest));
        return a;
    }

    static Engines.Result ctr(List<String> args) {
        return containerd.ctr(args.toArray(String[]::new));
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void runPassesOutputAndExitCodes(String runtime) {
        String id = "out-" + runtime;
        Engines.Result ok = ctr(run(runtime, "--rm", IMAGE, id, "sh", "-c", "echo hello from pid $$"));
        assertThat(ok.exit()).as("%s", ok).isZero();
        assertThat(ok.out()).isEqualTo("hello from pid 1\n");
        Engines.Result three = ctr(run(runtime, "--rm", IMAGE, id, "sh", "-c", "echo to-stderr >&2; exit 3"));
        assertThat(three.exit()).as("%s", three).isEqualTo(3);
        assertThat(three.err()).contains("to-stderr");
        // --rm removed the container each time: the same id was free for the second run, and is now.
        assertThat(containerd.ctr("containers", "ls", "-q").out().lines()).doesNotContain(id);
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void execKillAndTheProcessTree(String runtime) throws Exception {
        String id = "tree-" + runtime;
        List<String> cmd = containerd.ctrCommand(run(runtime, "--rm", IMAGE, id, "sleep", "600").toArray(String[]::new));
        Process fg = Engines.start(dir, id, Map.of(), cmd);
        try {
            long[] pid = {0};
            assertThat(Engines.waitUntil(() -> {
                for (String l : containerd.ctr("task", "ls").out().lines().toList()) {
                    String[] f = l.trim().split("\\s+");
                    if (f.length == 3 && f[0].equals(id) && f[2].equals("RUNNING")) {
                        pid[0] = Long.parseLong(f[1]);
                        return true;
                    }
                }
                return !fg.isAlive();
            })).isTrue();
            assertThat(pid[0]).as("running: %s", Engines.read(dir.resolve(id + ".err"))).isPositive();
            // runc's process tree: the init is the shim's own child (the shim reaps it and reports its exit).
            long parent = Engines.parent(pid[0]);
            assertThat(Engines.comm(pid[0])).isEqualTo("sleep");
            assertThat(Engines.cmdline(parent)).startsWith(Containerd.SHIM)
                    .contains(containerd.address.toString()).contains(id);

            Engines.Result exec = containerd.ctr("task", "exec", "--exec-id", "e1", "--fifo-dir",
                    dir.resolve("fifo").toString(), id, "sh", "-c", "echo exec sees $(cat /proc/1/comm); exit 4");
            assertThat(exec.exit()).as("%s", exec).isEqualTo(4);
            assertThat(exec.out()).isEqualTo("exec sees sleep\n");
            Engines.Result missing = containerd.ctr("task", "exec", "--exec-id", "e2", "--fifo-dir",
                    dir.resolve("fifo").toString(), id, "no-such-command");
            assertThat(missing.exit()).as("%s", missing).isNotZero();

            Engines.Result kill = containerd.ctr("task", "kill", "-s", "KILL", id);
            assertThat(kill.exit()).as("%s", kill).isZero();
            assertThat(fg.waitFor(Engines.LONG.toSeconds(), TimeUnit.SECONDS)).as("ctr run ended after the kill")
                    .isTrue();
            assertThat(fg.exitValue()).as(Engines.read(dir.resolve(id + ".err"))).isEqualTo(137);
            assertThat(Files.exists(Path.of("/proc/" + pid[0]))).isFalse();
            assertThat(containerd.ctr("containers", "ls", "-q").out().lines()).doesNotContain(id);
        } finally {
            if (fg.isAlive()) {
                containerd.ctr("task", "kill", "-s", "KILL", id);
                fg.waitFor(60, TimeUnit.SECONDS);
                fg.destroyForcibly();
            }
        }
    }

    @org.junit.jupiter.api.Test
    void aClientWhoseServerIsGoneFallsBackAndTheNextCallFindsAService() {
        // The socket file is there but nobody answers (a service that died): the static client falls back
        // to a JVM, which starts a service on that socket (in the background, its output to its log,
        // not to the shim's pipes, or the shim would wait for them); the later calls go to it.
        Path auto = dir.resolve("auto.sock");
        assertThat(Engines.listening(auto)).isFalse();
        Engines.Result first = ctr(run("hull-auto", "--rm", IMAGE, "auto", "sh", "-c", "echo fell back; exit 6"));
        assertThat(first.exit()).as("%s", first).isEqualTo(6);
        assertThat(first.out()).isEqualTo("fell back\n");
        assertThat(Engines.waitUntil(() -> Engines.listening(auto)))
                .as("a service listens: %s", Engines.read(dir.resolve("auto.sock.log"))).isTrue();
        Engines.Result warm = ctr(run("hull-auto", "--rm", IMAGE, "auto", "sh", "-c", "echo warm; exit 7"));
        assertThat(warm.exit()).as("%s", warm).isEqualTo(7);
        assertThat(warm.out()).isEqualTo("warm\n");
    }

    @ParameterizedTest
    @FieldSource("RUNTIMES")
    void aDetachedTaskEndsByItselfAndIsDeleted(String runtime) {
        String id = "self-" + runtime;
        Engines.Result d = ctr(run(runtime, "-d", IMAGE, id, "sh", "-c", "exit 7"));
        assertThat(d.exit()).as("%s", d).isZero();
        assertThat(Engines.waitUntil(() -> containerd.ctr("task", "ls").out().lines()
                .anyMatch(l -> l.startsWith(id + " ") && l.contains("STOPPED")))).isTrue();
        Engines.Result del = containerd.ctr("task", "delete", id);
        assertThat(del.exit()).as("%s", del).isEqualTo(0);
        assertThat(del.err()).contains("exit code 7");
        assertThat(containerd.ctr("containers", "rm", id).exit()).isZero();
    }
}
