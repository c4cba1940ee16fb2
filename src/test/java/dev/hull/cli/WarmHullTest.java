package dev.hull.cli;

import dev.hull.service.WarmServer;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.SnapshotStore;
import dev.hull.image.testing.RegistryServer;
import dev.hull.runtime.executor.ExecutorSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code hull} commands through the warm server and cold must behave the same: output, exit
 * codes, stdin, errors, containers, the client's environment and signals. Each scenario runs
 * through the client (hull-executor --client --program hull, what bin/hull runs) with a server
 * listening ("warm") and with none, where the client falls back to a cold JVM ("cold").
 */
class WarmHullTest {
    static Path tmp;
    static Path socket;
    static Path noSocket;
    static Path coldLauncher;
    static Path home;
    static Path state;
    static WarmServer server;
    static Thread serverThread;

    @BeforeAll
    static void startServer() throws Exception {
        tmp = Files.createTempDirectory(Path.of("/tmp"), "hull-warm-cli-");
        socket = tmp.resolve("warm.sock");
        noSocket = tmp.resolve("nobody-listens.sock");
        home = tmp.resolve("home");
        state = tmp.resolve("state");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        coldLauncher = tmp.resolve("hull-cold");
        Files.writeString(coldLauncher, "#!/bin/sh\nexec " + java + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
                + " --enable-native-access=ALL-UNNAMED -Dhull.program=hull -Dhull.executor=" + ExecutorSession.binary()
                + " -cp '" + System.getProperty("java.class.path") + "' dev.hull.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(coldLauncher, PosixFilePermissions.fromString("rwxr-xr-x"));
        server = WarmServer.bind(socket);
        serverThread = Thread.ofPlatform().daemon().start(() -> {
            try {
                server.serve(new ServiceCommands());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        // The built-in busybox image, made once (by a warm command: it is the same store either way).
        Result r = client(true, tmp, Map.of(), "images", "-q", "busybox");
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(client(true, tmp, Map.of(), "run", "--rm", "busybox", "true").code()).isZero();
    }

    @AfterAll
    static void stopServer() throws Exception {
        // Whatever a test left running must not outlive the class (it would hold surefire's pipes).
        for (Path h : List.of(home, tmp.resolve("home-a"), tmp.resolve("home-b"))) {
            if (Files.isDirectory(h)) {
                Map<String, String> env = Map.of("HULL_HOME", h.toString());
                for (String id : client(true, tmp, env, "ps", "-a", "-q", "--no-trunc").out().split("\n")) {
                    if (!id.isBlank()) {
                        client(true, tmp, env, "rm", "-f", id);
                    }
                }
            }
        }
        server.close();
        serverThread.join(2000);
        SnapshotStore.deleteTree(tmp);
    }

    record Result(int code, String out, String err) {}

    static List<String> command(boolean warm, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ExecutorSession.binary().toString(), "--client", "--program",
                "hull", (warm ? socket : noSocket).toString(), coldLauncher.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static ProcessBuilder builder(boolean warm, Path cwd, Map<String, String> env, String... args) {
        ProcessBuilder pb = new ProcessBuilder(command(warm, args)).directory(cwd.toFile());
        pb.environment().put("HULL_HOME", home.toString());
        pb.environment().put("HULL_STATE", state.toString());
        pb.environment().remove("HULL_TRACE");
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs hull through the client, stdin from the given file (or /dev/null). */
    static Result client(boolean warm, Path cwd, Map<String, String> env, Path stdin, String... args) throws Exception {
        // Files, not pipes: a detached container keeps its stdio open after the client exits.
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = builder(warm, cwd, env, args).redirectInput(ProcessBuilder.Redirect.from(
                (stdin != null ? stdin : Path.of("/dev/null")).toFile())).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("hull " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Result client(boolean warm, Path cwd, Map<String, String> env, String... args) throws Exception {
        return client(warm, cwd, env, null, args);
    }

    static Result hull(boolean warm, String... args) throws Exception {
        return client(warm, tmp, Map.of(), args);
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void runPassesStdoutStderrAndTheExitCode(boolean warm) throws Exception {
        Result r = hull(warm, "run", "--rm", "busybox", "echo", "hello");
        assertThat(r).isEqualTo(new Result(0, "hello\n", ""));
        r = hull(warm, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7");
        assertThat(r).isEqualTo(new Result(7, "out\n", "err\n"));
        r = hull(warm, "run", "--rm", "busybox", "no-such-command");
        assertThat(r.code()).as("%s", r).isEqualTo(127);
        assertThat(r.err()).contains("no-such-command");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void stdinReachesAnInteractiveContainer(boolean warm) throws Exception {
        Path in = tmp.resolve("stdin-" + warm + ".txt");
        Files.writeString(in, "line one\nline two\n");
        Result r = client(warm, tmp, Map.of(), in, "run", "--rm", "-i", "busybox", "sh", "-c", "wc -l; echo done");
        assertThat(r).isEqualTo(new Result(0, "2\ndone\n", ""));
        // without -i the container's stdin is empty
        r = client(warm, tmp, Map.of(), in, "run", "--rm", "busybox", "wc", "-l");
        assertThat(r).isEqualTo(new Result(0, "0\n", ""));
    }

    @Test
    void errorsReadTheSameWarmAndCold() throws Exception {
        Result warm = hull(true, "run", "--rm", "--pull", "never", "no-such-image:1", "true");
        Result cold = hull(false, "run", "--rm", "--pull", "never", "no-such-image:1", "true");
        assertThat(warm.code()).as("%s", warm).isEqualTo(125);
        assertThat(warm).isEqualTo(cold);
        assertThat(warm.err()).startsWith("hull: ").contains("no-such-image");
        assertThat(warm.out()).isEmpty();

        // a picocli usage error, and help text
        warm = hull(true, "run", "--no-such-flag", "busybox");
        cold = hull(false, "run", "--no-such-flag", "busybox");
        assertThat(warm).isEqualTo(cold);
        assertThat(warm.code()).isNotZero();
        assertThat(warm.err()).contains("--no-such-flag");
        warm = hull(true, "ps", "--help");
        assertThat(warm).isEqualTo(hull(false, "ps", "--help"));
        assertThat(warm.out()).contains("Usage: hull ps");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void detachedContainerPsLogsRm(boolean warm) throws Exception {
        String name = "bg-" + warm;
        Result r = hull(warm, "run", "-d", "--name", name, "busybox", "sh", "-c", "echo logged; echo to-err >&2; sleep 100");
        assertThat(r.code()).as("%s", r).isZero();
        String id = r.out().strip();
        assertThat(id).matches("[0-9a-f]{64}");
        // (run -d can return before the monitor has written its first status: then ps says
        // "Created" for a moment — an engine race, not the warm path's; so wait for "Up".)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Result ps;
        do {
            ps = hull(warm, "ps");
            assertThat(ps.code()).isZero();
        } while (!ps.out().contains("Up ") && System.nanoTime() < deadline);
        assertThat(ps.out()).contains(name).contains(id.substring(0, 12)).contains("Up ");
        Result logs;
        do {
            logs = hull(warm, "logs", name);
        } while (!logs.out().contains("logged") && System.nanoTime() < deadline);
        assertThat(logs.out()).isEqualTo("logged\n");
        assertThat(logs.err()).isEqualTo("to-err\n");
        // the other path sees the same container
        assertThat(hull(!warm, "ps", "-q").out()).contains(id.substring(0, 12));
        Result rm = hull(warm, "rm", name);
        assertThat(rm.code()).isEqualTo(1);
        assertThat(rm.err()).contains("rm --force");
        assertThat(hull(warm, "rm", "-f", name)).isEqualTo(new Result(0, name + "\n", ""));
        assertThat(hull(warm, "ps", "-a").out()).doesNotContain(name);
    }

    @Test
    void eachClientsEnvironmentDecidesItsStore() throws Exception {
        Path a = tmp.resolve("home-a");
        Path b = tmp.resolve("home-b");
        Map<String, String> envA = Map.of("HULL_HOME", a.toString(), "HULL_STATE", tmp.resolve("state-a").toString());
        Map<String, String> envB = Map.of("HULL_HOME", b.toString(), "HULL_STATE", tmp.resolve("state-b").toString());
        Result created = client(true, tmp, envA, "create", "--name", "only-in-a", "busybox", "true");
        assertThat(created.code()).as("%s", created).isZero();
        assertThat(client(true, tmp, envB, "images", "-q").out()).isEmpty(); // b's store has nothing yet
        assertThat(client(true, tmp, envB, "ps", "-a").out()).doesNotContain("only-in-a");
        assertThat(client(true, tmp, envA, "ps", "-a").out()).contains("only-in-a");
        assertThat(client(false, tmp, envA, "ps", "-a").out()).contains("only-in-a");
        assertThat(hull(true, "ps", "-a").out()).doesNotContain("only-in-a");
        assertThat(Files.isDirectory(a.resolve("containers"))).isTrue();
        assertThat(b.resolve("containers")).doesNotExist();
        assertThat(client(true, tmp, envA, "rm", "only-in-a").code()).isZero();
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void theClientsVariablesAndWorkingDirectoryApply(boolean warm) throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("cwd-" + warm));
        Files.createDirectories(cwd.resolve("data"));
        Files.writeString(cwd.resolve("data/file"), "from the client's directory\n");
        Files.writeString(cwd.resolve("vars.env"), "FROM_FILE=yes\n");
        Result r = client(warm, cwd, Map.of("GREETING", "hi-" + warm), "run", "--rm", "-e", "GREETING",
                "--env-file", "vars.env", "-v", "./data:/data:ro", "busybox", "sh", "-c",
                "echo $GREETING $FROM_FILE; cat /data/file");
        assertThat(r).isEqualTo(new Result(0, "hi-" + warm + " yes\nfrom the client's directory\n", ""));
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void saveAndLoadUseTheClientsStdioAndPaths(boolean warm) throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("archive-" + warm));
        // save to stdout (a file here), load from stdin; and -o relative to the client's cwd
        Path tar = cwd.resolve("stdout.tar");
        Process p = builder(warm, cwd, Map.of(), "save", "busybox").redirectOutput(tar.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(Files.size(tar)).isGreaterThan(100_000);
        assertThat(client(warm, cwd, Map.of(), "save", "-o", "rel.tar", "busybox").code()).isZero();
        assertThat(Files.mismatch(tar, cwd.resolve("rel.tar"))).isEqualTo(-1);
        Result load = client(warm, cwd, Map.of(), tar, "load", "--name", "loaded-" + warm + ":1");
        assertThat(load.code()).as("%s", load).isZero();
        assertThat(load.out()).contains("Loaded image");
        assertThat(hull(warm, "images").out()).contains("loaded-" + warm);
        assertThat(hull(warm, "rmi", "loaded-" + warm + ":1").code()).isZero();
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void cpStreamsATarThroughTheClientsStdoutAndStdin(boolean warm) throws Exception {
        String name = "cp-stream-" + warm;
        assertThat(hull(warm, "run", "-d", "--name", name, "busybox", "sh", "-c",
                "echo payload-" + warm + " > /tmp/file; sleep 1000").code()).isZero();
        try {
            // CONTAINER:PATH - : the tar goes to the client's stdout (it went to the service's own once: 0 bytes here)
            Path tar = tmp.resolve(name + ".tar");
            Process p = builder(warm, tmp, Map.of(), "cp", name + ":/tmp/file", "-")
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(tar.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(Files.newInputStream(tar))) {
                var e = in.getNextEntry();
                assertThat(e).isNotNull();
                assertThat(e.getName()).isEqualTo("file");
                assertThat(new String(in.readAllBytes())).isEqualTo("payload-" + warm + "\n");
            }
            // - CONTAINER:DIR : the tar comes from the client's stdin
            Result in = client(warm, tmp, Map.of(), tar, "cp", "-", name + ":/root");
            assertThat(in.code()).as("%s", in).isZero();
            assertThat(hull(warm, "exec", name, "cat", "/root/file").out()).isEqualTo("payload-" + warm + "\n");
        } finally {
            hull(warm, "rm", "-f", name);
        }
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void streamingCommandsEndWhenTheirReaderGoesAway(boolean warm) throws Exception {
        String name = "chatty-" + warm;
        assertThat(hull(warm, "run", "-d", "--name", name, "busybox", "sh", "-c",
                "while true; do echo line; sleep 0.1; done").code()).isZero();
        try {
            for (String cmd : List.of("stats --format json " + name, "logs -f " + name)) {
                List<String> line = command(warm, cmd.split(" "));
                String pipeline = String.join(" ", line.stream().map(a -> "'" + a + "'").toList()) + " | head -1";
                ProcessBuilder pb = new ProcessBuilder("sh", "-c", pipeline).directory(tmp.toFile());
                pb.environment().putAll(builder(warm, tmp, Map.of()).environment());
                Path outFile = Files.createTempFile(tmp, "head", ".out");
                Process p = pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .redirectOutput(outFile.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                // It never ended (EPIPE ignored) before: the pipeline waited for hull forever.
                boolean ended = p.waitFor(60, TimeUnit.SECONDS);
                if (!ended) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor();
                }
                assertThat(ended).as("%s ended after head -1", cmd).isTrue();
                assertThat(Files.readString(outFile).lines().count()).as(cmd).isEqualTo(1);
            }
        } finally {
            hull(warm, "rm", "-f", name);
        }
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void aFileSavedForTheClientHasTheClientsUmask(boolean warm) throws Exception {
        for (String umask : List.of("077", "022")) {
            Path out = tmp.resolve("umask-" + umask + "-" + warm + ".tar");
            List<String> cmd = new ArrayList<>(List.of("sh", "-c", "umask " + umask + "; exec \"$@\"", "sh"));
            cmd.addAll(command(warm, "save", "-o", out.toString(), "busybox"));
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
            pb.environment().putAll(builder(warm, tmp, Map.of()).environment());
            Process p = pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            // The service's own umask is not the client's (it was the first command's, or systemd's).
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(out)))
                    .as("umask %s", umask).isEqualTo(umask.equals("077") ? "rw-------" : "rw-r--r--");
        }
    }

    /** The start of a python script that runs argv on a new pty of 30x100 (m its master, pid argv's), size() resizes. */
    static final String PTY_START = """
            import fcntl, json, os, select, struct, sys, termios, time
            def size(fd, r, c): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
            m, s = os.openpty(); size(m, 30, 100)
            pid = os.fork()
            if pid == 0:
                os.setsid(); fcntl.ioctl(s, termios.TIOCSCTTY, 0)
                for i in (0, 1, 2): os.dup2(s, i)
                os.execvp(sys.argv[1], sys.argv[1:])
            os.close(s)
            """;

    /** Runs argv on a new pty of 30x100, then resizes it to 40x120 and feeds lines until the output shows that size. */
    static final String RESIZER = PTY_START + """
            out, resized, deadline = b"", False, time.time() + 90
            while time.time() < deadline:
                if not resized and b"30 100" in out:
                    size(m, 40, 120); resized = True  # the kernel sends SIGWINCH to the client
                if resized:
                    if b"40 120" in out: break
                    os.write(m, b"again\\n")
                r, _, _ = select.select([m], [], [], 0.2)
                if r:
                    try: out += os.read(m, 4096)
                    except OSError: break
            os.write(m, b"\\x04")
            time.sleep(0.5)
            sys.stdout.write(out.decode(errors="replace")); sys.stdout.flush()
            os.kill(pid, 9) if os.waitpid(pid, os.WNOHANG) == (0, 0) else None
            """;

    /** hull args run under {@link #RESIZER}: what the terminal showed. */
    private String underResizer(boolean warm, String... args) throws Exception {
        return underScript(warm, RESIZER, Map.of(), args);
    }

    /** hull args run by a python script (a pty it holds), with env: what the script printed. */
    private String underScript(boolean warm, String python, Map<String, String> env, String... args) throws Exception {
        Path script = Files.createTempFile(tmp, "pty-", ".py");
        Files.writeString(script, python);
        List<String> cmd = new ArrayList<>(List.of("python3", script.toString()));
        cmd.addAll(command(warm, args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
        pb.environment().putAll(builder(warm, tmp, Map.of()).environment());
        pb.environment().putAll(env);
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void execItFollowsTheClientsWindowSize(boolean warm) throws Exception {
        String name = "resize-" + warm;
        assertThat(hull(warm, "run", "-d", "--name", name, "busybox", "sleep", "1000").code()).isZero();
        try {
            String out = underResizer(warm, "exec", "-it", name, "sh", "-c", "stty size; while read x; do stty size; done");
            assertThat(out).as("the pty starts at the client's size").contains("30 100");
            // The warm path kept 30x100 before: the client relayed SIGWINCH, nobody resized the pty.
            assertThat(out).as("and follows its resize").contains("40 120");
        } finally {
            hull(warm, "rm", "-f", name);
        }
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void runItTakesAndFollowsTheClientsWindowSize(boolean warm) throws Exception {
        String name = "run-resize-" + warm;
        try {
            String out = underResizer(warm, "run", "-it", "--name", name, "busybox", "sh", "-c",
                    "stty size; while read x; do stty size; done");
            // The monitor's pty was 24x80 whatever the caller's terminal, and never resized.
            assertThat(out).as("the pty starts at the client's size").contains("30 100");
            assertThat(out).as("and follows its resize").contains("40 120");
        } finally {
            hull(warm, "rm", "-f", name);
        }
    }

    /** Runs argv on a pty; after "ready", types a probe line, then the detach keys (hex in DETACH); prints the exit. */
    static final String DETACHER = """
            import fcntl, os, select, sys, termios, time
            m, s = os.openpty()
            pid = os.fork()
            if pid == 0:
                os.setsid(); fcntl.ioctl(s, termios.TIOCSCTTY, 0)
                for i in (0, 1, 2): os.dup2(s, i)
                os.execvp(sys.argv[1], sys.argv[1:])
            os.close(s)
            out, deadline, step, status = b"", time.time() + 90, 0, None
            while time.time() < deadline and status is None:
                if step == 0 and b"ready" in out:
                    os.write(m, b"\\x18zz\\x10q\\n"); step = 1  # keys of the sequences, not whole ones: they pass
                elif step == 1 and b"got-" in out.split(b"ready", 1)[1]:
                    os.write(m, bytes.fromhex(os.environ["DETACH"])); step = 2
                r, _, _ = select.select([m], [], [], 0.2)
                if r:
                    try: out += os.read(m, 4096)
                    except OSError: pass
                w, st = os.waitpid(pid, os.WNOHANG)
                if w == pid: status = os.waitstatus_to_exitcode(st)
            sys.stdout.write(out.decode(errors="replace")); sys.stdout.write("\\nEXIT %s\\n" % status); sys.stdout.flush()
            """;

    @ParameterizedTest(name = "warm={0} keys={1}")
    @CsvSource({"true,,1011", "false,,1011", "true,'ctrl-x,y',1879", "false,'ctrl-x,y',1879"})
    void theDetachKeysLeaveTheContainerRunning(boolean warm, String keys, String typed) throws Exception {
        String name = "detach-" + warm + "-" + typed;
        try {
            List<String> run = new ArrayList<>(List.of("run", "-it", "--name", name));
            if (keys != null) {
                run.addAll(List.of("--detach-keys", keys));
            }
            run.addAll(List.of("busybox", "sh", "-c", "echo ready; read x; echo got-$x; while true; do sleep 1; done"));
            String out = underScript(warm, DETACHER, Map.of("DETACH", typed), run.toArray(String[]::new));
            assertThat(out).as("the probe reached the container").contains("got-\u0018zz\u0010q");
            assertThat(out).as("hull returned 0 on the detach keys").endsWith("EXIT 0\n");
            Result ps = hull(warm, "ps", "--filter", "name=" + name, "--format", "{{.State}}");
            assertThat(ps.out()).as("the container runs on").isEqualTo("running\n");
        } finally {
            hull(warm, "rm", "-f", name);
        }
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void pushAndPullShowTheirProgressToTheClient(boolean warm) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(RegistryServer.BINARY),
                "needs Debian's docker-registry");
        try (RegistryServer registry = RegistryServer.builder(tmp.resolve("registry-" + warm)).start()) {
            String remote = registry.host() + "/warm/bb:" + warm;
            Result push = hull(warm, "push", "--tls-verify=false", "busybox", remote);
            assertThat(push.code()).as("%s", push).isZero();
            assertThat(push.out()).contains("The push refers to repository").contains(": Pushed")
                    .contains("digest: sha256:");
            // into an empty store: the layer downloads on the pull's own threads, which print progress
            Map<String, String> other = Map.of("HULL_HOME", tmp.resolve("pull-home-" + warm).toString());
            Result pull = client(warm, tmp, other, "pull", "--tls-verify=false", remote);
            assertThat(pull.code()).as("%s", pull).isZero();
            assertThat(pull.out()).contains(": Pulling fs layer").contains(": Pull complete")
                    .contains("Status: Downloaded").endsWith(remote + "\n");
            assertThat(client(warm, tmp, other, "images").out()).contains(registry.host() + "/warm/bb");
        }
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void aSignalToTheClientReachesTheForegroundContainer(boolean warm) throws Exception {
        Process p = builder(warm, tmp, Map.of(), "run", "--rm", "busybox", "sh", "-c",
                "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        var reader = p.inputReader();
        assertThat(reader.readLine()).isEqualTo("ready");
        p.toHandle().destroy(); // SIGTERM to the client (or, cold, to the JVM it became)
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(reader.readLine()).isEqualTo("got-term");
        assertThat(p.exitValue()).isEqualTo(42);
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {true, false})
    void interruptingAFollowEndsItLikeACommandOfItsOwn(boolean warm) throws Exception {
        String name = "follow-" + warm;
        assertThat(hull(warm, "run", "-d", "--name", name, "busybox", "sh", "-c",
                "echo first; sleep 100").code()).isZero();
        Process p = builder(warm, tmp, Map.of(), "logs", "-f", name).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        var reader = p.inputReader();
        assertThat(reader.readLine()).isEqualTo("first");
        Runtime.getRuntime().exec(new String[] {"kill", "-INT", Long.toString(p.pid())}).waitFor();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("logs -f ended by SIGINT").isTrue();
        assertThat(p.exitValue()).isEqualTo(130);
        assertThat(hull(warm, "rm", "-f", name).code()).isZero();
    }

    @Test
    void whatNeedsAProcessOfItsOwnRunsCold() throws Exception {
        // login without a password prompts on the terminal: the server sends it back to a cold JVM,
        // which (no terminal here) says so, as a plain cold run does.
        Result warm = hull(true, "login", "-u", "someone", "127.0.0.1:9");
        Result cold = hull(false, "login", "-u", "someone", "127.0.0.1:9");
        assertThat(warm).isEqualTo(cold);
        assertThat(warm.err()).contains("no password");
        // a second server on a live socket is refused
        Result second = hull(true, "system", "service", "--socket", socket.toString());
        assertThat(second.code()).isEqualTo(1);
        assertThat(second.err()).contains("already listens");
        assertThat(ServiceCommands.needsColdPath(new String[] {"login", "-u", "x", "--password-stdin", "r"})).isFalse();
        assertThat(ServiceCommands.needsColdPath(new String[] {"system", "service"})).isTrue();
        assertThat(ServiceCommands.needsColdPath(new String[] {"run", "busybox", "login"})).isFalse();
    }

    @Test
    void manyClientsAtOnceEachGetTheirOwnOutput() throws Exception {
        String images = hull(true, "images").out();
        String help = hull(true, "run", "--help").out();
        assertThat(images).contains("busybox");
        List<Process> ps = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            Path out = tmp.resolve("many-" + i + ".txt");
            outs.add(out);
            Map<String, String> env = new HashMap<>();
            env.put("N", Integer.toString(i));
            String[] args = switch (i % 3) {
                case 0 -> new String[] {"run", "--rm", "-e", "N", "busybox", "sh", "-c",
                    "for j in 1 2 3; do echo client-$N; done"};
                case 1 -> new String[] {"images"}; // System.out, routed per client
                default -> new String[] {"run", "--help"}; // picocli's own writer
            };
            ps.add(builder(true, tmp, env, args).redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start());
        }
        for (int i = 0; i < ps.size(); i++) {
            assertThat(ps.get(i).waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(ps.get(i).exitValue()).isZero();
            String expected = switch (i % 3) {
                case 0 -> ("client-" + i + "\n").repeat(3);
                case 1 -> images;
                default -> help;
            };
            assertThat(Files.readString(outs.get(i))).isEqualTo(expected);
        }
    }
}
