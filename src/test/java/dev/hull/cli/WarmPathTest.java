package dev.hull.cli;

import dev.hull.service.WarmServer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.BusyboxRootfs;
import dev.hull.runtime.executor.ExecutorSession;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The warm path (client → resident JVM) and the cold path (a JVM per command)
 * must behave the same: same output, same exit codes, same containers. Each
 * scenario runs through the client with a server listening ("warm") and with
 * no server, where the client falls back to the cold launcher ("cold").
 */
class WarmPathTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path socket;
    static Path noSocket;
    static Path coldLauncher;
    static Path stateRoot;
    static Path bundle;
    static WarmServer server;
    static Thread serverThread;

    @BeforeAll
    static void startServer() throws Exception {
        socket = tmp.resolve("warm.sock");
        noSocket = tmp.resolve("nobody-listens.sock");
        stateRoot = tmp.resolve("state");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        coldLauncher = tmp.resolve("hull-runtime-cold");
        Files.writeString(coldLauncher, "#!/bin/sh\nexec " + java + " --enable-native-access=ALL-UNNAMED"
                + " -Dhull.program=hull-runtime -Dhull.executor=" + ExecutorSession.binary()
                + " -cp '" + System.getProperty("java.class.path") + "' dev.hull.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(coldLauncher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path rootfs = BusyboxRootfs.ensure(Path.of(System.getProperty("hull.home", "."), "target/test-rootfs/busybox"));
        bundle = tmp.resolve("bundle");
        Files.createDirectories(bundle);
        ObjectNode spec = DefaultSpec.create(false);
        ((ObjectNode) spec.get("process")).put("terminal", false);
        ObjectNode root = (ObjectNode) spec.get("root");
        root.put("path", rootfs.toString());
        root.put("readonly", true);
        Files.write(bundle.resolve("config.json"), JSON.writeValueAsBytes(spec));
        server = WarmServer.bind(socket);
        serverThread = Thread.ofPlatform().daemon().start(() -> {
            try {
                server.serve(new ServiceCommands());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
        serverThread.join(2000);
        // Whatever a failed test left running must not outlive the class (it would hold surefire's pipes).
        var rt = new dev.hull.runtime.ContainerRuntime(stateRoot);
        for (String id : rt.store().ids()) {
            rt.delete(id, true);
        }
    }

    record Result(int code, String out, String err) {}

    /** Runs hull-runtime through the client; warm uses the live socket, cold one nobody listens on. */
    static Result client(boolean warm, Path cwd, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ExecutorSession.binary().toString(), "--client",
                (warm ? socket : noSocket).toString(), coldLauncher.toString(), "--root", stateRoot.toString()));
        cmd.addAll(args);
        // Files, not pipes: a detached container keeps its stdio open after the client exits.
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("client finished").isTrue();
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Path configWithArgs(String name, List<String> args) throws IOException {
        ObjectNode spec = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
        ArrayNode a = ((ObjectNode) spec.get("process")).putArray("args");
        args.forEach(a::add);
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.write(dir.resolve("config.json"), JSON.writeValueAsBytes(spec));
        return dir;
    }

    /**
     * A subreaper (as containerd's shim and conmon are) that runs hull-runtime create through the
     * client, then prints its pid, the init's and the init's parent's, and reaps the init after a
     * kill: the engine's view of the process tree.
     */
    static final String SUBREAPER = """
            import ctypes, json, os, subprocess, sys
            ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
            client, sock, cold, root, bundle, cid = sys.argv[1:7]
            rt = [client, "--client", sock, cold, "--root", root]
            err = open(os.path.join(root + "-create.err"), "w")
            r = subprocess.run(rt + ["create", "--bundle", bundle, cid], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=err)
            if r.returncode != 0:
                print("create failed", r.returncode, open(root + "-create.err").read()); sys.exit(1)
            st = json.loads(subprocess.run(rt + ["state", cid], capture_output=True, text=True).stdout)
            pid = st["pid"]
            ppid = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1])
            print("me", os.getpid(), "init", pid, "parent", ppid)
            subprocess.run(rt + ["kill", cid, "KILL"], stdout=subprocess.DEVNULL)
            try:
                print("reaped", os.waitpid(pid, 0)[0] == pid)
            except ChildProcessError:
                print("reaped", False)
            subprocess.run(rt + ["delete", "--force", cid], stdout=subprocess.DEVNULL)
            """;

    @Test
    void theInitOfAWarmCreateIsInTheCallersProcessTree() throws Exception {
        // Under an engine the init must be the caller's (its subreaper's) child, as with runc: the shim
        // reaps it and sees its exit. Through the server the executor was the server's child, and the
        // init went to PID 1 when it exited: ctr/docker run --rm hung, podman showed Exited (-1).
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")),
                "needs python3 (./test installs it) to be a subreaper");
        Path script = tmp.resolve("subreaper.py");
        Files.writeString(script, SUBREAPER);
        Path b = configWithArgs("tree", List.of("sleep", "600"));
        for (boolean warm : new boolean[] {true, false}) {
            Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), ExecutorSession.binary().toString(),
                    (warm ? socket : noSocket).toString(), coldLauncher.toString(), stateRoot.toString(), b.toString(),
                    "tree-" + warm).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            String[] w = out.trim().split("\\s+");
            assertThat(w.length).as(out).isGreaterThanOrEqualTo(8);
            assertThat(w[5]).as((warm ? "warm: " : "cold: ") + out).isEqualTo(w[1]); // the init's parent is the caller
            assertThat(out).as(out).contains("reaped True");
        }
    }

    @Test
    void bothPathsGiveTheSameFeaturesAndErrors() throws Exception {
        Result warmFeatures = client(true, tmp, List.of("features"));
        Result coldFeatures = client(false, tmp, List.of("features"));
        assertThat(warmFeatures.code()).isZero();
        assertThat(warmFeatures.out()).isEqualTo(coldFeatures.out()).contains("ociVersionMax");

        Result warmMissing = client(true, tmp, List.of("state", "no-such-container"));
        Result coldMissing = client(false, tmp, List.of("state", "no-such-container"));
        assertThat(warmMissing.code()).isEqualTo(1).isEqualTo(coldMissing.code());
        assertThat(warmMissing.err()).isEqualTo(coldMissing.err())
                .contains("container \"no-such-container\" does not exist");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void foregroundRunPassesOutputAndExitStatusAndResolvesTheBundleAgainstTheClientsCwd(boolean warm)
            throws Exception {
        Path dir = configWithArgs("exit7-" + warm, List.of("sh", "-c", "echo out-$$; echo err >&2; exit 7"));
        Result r = client(warm, dir, List.of("run", "--bundle", ".", "exit7-" + warm));
        assertThat(r.out()).isEqualTo("out-1\n");
        assertThat(r.err()).isEqualTo("err\n");
        assertThat(r.code()).isEqualTo(7);
        assertThat(stateRoot.resolve("exit7-" + warm)).doesNotExist();
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void signalsToTheClientReachTheContainer(boolean warm) throws Exception {
        String id = "sig-" + warm;
        Path dir = configWithArgs(id, List.of("sh", "-c", "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done"));
        List<String> cmd = new ArrayList<>(List.of(ExecutorSession.binary().toString(), "--client",
                (warm ? socket : noSocket).toString(), coldLauncher.toString(), "--root", stateRoot.toString(),
                "run", "--bundle", dir.toString(), id));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        var reader = p.inputReader();
        assertThat(reader.readLine()).isEqualTo("ready");
        p.toHandle().destroy(); // SIGTERM to the client (or, cold, to the JVM it became)
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(42);
        assertThat(stateRoot.resolve(id)).doesNotExist();
    }

    @Test
    void detachedContainerCreatedWarmIsVisibleCold() throws Exception {
        Path dir = configWithArgs("shared", List.of("sleep", "100"));
        assertThat(client(true, dir, List.of("create", "shared")).code()).isZero();
        Result state = client(false, dir, List.of("state", "shared"));
        assertThat(JSON.readTree(state.out()).path("status").asText()).isEqualTo("created");
        assertThat(client(true, dir, List.of("start", "shared")).code()).isZero();
        assertThat(JSON.readTree(client(false, dir, List.of("state", "shared")).out()).path("status").asText())
                .isEqualTo("running");
        assertThat(client(true, dir, List.of("delete", "--force", "shared")).code()).isZero();
        assertThat(client(false, dir, List.of("state", "shared")).code()).isEqualTo(1);
    }

    /** Runs the client under script(1), which gives it a terminal; returns exit code and output. */
    static Result clientUnderScript(boolean warm, Path cwd, List<String> args) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")),
                "needs script(1) from util-linux to give the client a terminal");
        List<String> cmd = new ArrayList<>(List.of(ExecutorSession.binary().toString(), "--client",
                (warm ? socket : noSocket).toString(), coldLauncher.toString(), "--root", stateRoot.toString()));
        cmd.addAll(args);
        StringBuilder line = new StringBuilder();
        for (String a : cmd) {
            line.append('\'').append(a.replace("'", "'\\''")).append("' ");
        }
        Path out = Files.createTempFile(tmp, "script", ".txt");
        Process p = new ProcessBuilder("script", "-qec", line.toString(), "/dev/null").directory(cwd.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile()).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("script finished").isTrue();
        return new Result(p.exitValue(), Files.readString(out), "");
    }

    static long consoleThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .filter(t -> t.getName().startsWith("hull-console-")).count();
    }

    @Test
    void attachedTerminalRunsThroughTheWarmServerUseTheClientsTerminalAndLeaveNoThreads() throws Exception {
        ObjectNode spec = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) spec.get("process");
        process.put("terminal", true);
        process.putArray("args").add("sh").add("-c").add("tty; echo tty-ok; exit 3");
        Path dir = tmp.resolve("tty");
        Files.createDirectories(dir);
        Files.write(dir.resolve("config.json"), JSON.writeValueAsBytes(spec));
        int before = Thread.activeCount();
        assertThat(consoleThreads()).isZero();
        for (int i = 0; i < 5; i++) {
            Result r = clientUnderScript(true, dir, List.of("run", "--bundle", ".", "tty-" + i));
            assertThat(r.code()).as("%s", r).isEqualTo(3);
            assertThat(r.out()).contains("/dev/pts/0").contains("tty-ok");
            assertThat(stateRoot.resolve("tty-" + i)).doesNotExist();
        }
        // The server answers before its connection thread has finished: wait (bounded) for them to end.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((consoleThreads() > 0 || Thread.activeCount() > before) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(consoleThreads()).as("relay threads of finished runs").isZero();
        assertThat(Thread.activeCount()).as("live threads after 5 attached runs").isLessThanOrEqualTo(before);
    }

    @Test
    void preserveFdsThroughTheClientTakesTheColdPathAndWorks() throws Exception {
        Path dir = configWithArgs("preserve", List.of("sh", "-c", "echo via-fd3 >&3"));
        Path file = tmp.resolve("fd3-out.txt");
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "exec 3>\"$0\"; exec \"$@\"", file.toString(),
                ExecutorSession.binary().toString(), "--client", socket.toString(), coldLauncher.toString(),
                "--root", stateRoot.toString(), "run", "--preserve-fds", "1", "--bundle", ".", "preserve"));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(Files.readString(file)).isEqualTo("via-fd3\n");
    }
}
