package dev.hull.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast by default: the real bin/hull and bin/hull-runtime, run as a user runs them, start Hull's
 * service themselves, and the service's lifetime rules hold. Each test has its own socket (so its
 * own service, lock and log), HULL_HOME and HULL_STATE, and stops every service it started; the
 * scripts run this build's classes (HULL_CLASSPATH: the jar is packaged after the tests).
 */
class ServiceLifecycleTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path HULL_DIR = Path.of(System.getProperty("hull.home", ".")).toAbsolutePath();
    private static final Path HULL = HULL_DIR.resolve("bin/hull");
    private static final Path HULL_RUNTIME = HULL_DIR.resolve("bin/hull-runtime");

    @TempDir
    Path tmp;
    Path socket;
    private final List<Long> services = new ArrayList<>();

    record Result(int exit, String out, String err) {}

    @BeforeEach
    void ownSocket() throws IOException {
        socket = Files.createDirectories(tmp.resolve("run")).resolve("hull.sock");
    }

    /** Every service this test saw is stopped (SIGKILL: nothing here depends on a clean exit). */
    @AfterEach
    void stopServices() throws Exception {
        services.addAll(servicesLogged()); // every service that ever listened on our socket
        for (long pid : services) {
            ProcessHandle.of(pid).filter(p -> isOurs(p.pid())).ifPresent(p -> {
                p.destroyForcibly();
                p.onExit().join();
            });
        }
    }

    /** Whether pid is still a service of our socket (its whole command line names it: a pid can be reused). */
    boolean isOurs(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).contains(socket.toString());
        } catch (IOException e) {
            return false;
        }
    }

    Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("HULL_RUNTIME_SOCKET", socket.toString());
        env.put("HULL_HOME", tmp.resolve("home").toString());
        env.put("HULL_STATE", tmp.resolve("state").toString());
        env.put("HULL_CLASSPATH", System.getProperty("java.class.path"));
        env.put("HULL_CONFIG", tmp.resolve("hull.json").toString()); // absent: built-in defaults
        return env;
    }

    Result run(Map<String, String> extraEnv, Path program, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(program.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("HULL_NO_SERVICE");
        pb.environment().remove("HULL_COLD");
        pb.environment().putAll(env());
        pb.environment().putAll(extraEnv);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError(cmd + " did not finish in 300 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    Result hull(String... args) throws Exception {
        return run(Map.of(), HULL, args);
    }

    /** hull version --format json's Engine.Service (missing: the command ran in its own JVM). */
    JsonNode serviceSeenBy(Map<String, String> extraEnv) throws Exception {
        Result r = run(extraEnv, HULL, "version", "--format", "json");
        assertThat(r.exit()).as("%s", r).isZero();
        return JSON.readTree(r.out()).path("Engine").path("Service");
    }

    /** The pids of every service that listened on our socket, from its log (oldest first). */
    List<Long> servicesLogged() {
        List<Long> pids = new ArrayList<>();
        try {
            if (Files.exists(log())) {
                var m = java.util.regex.Pattern.compile("service listening on " + java.util.regex.Pattern.quote(
                        socket.toString()) + " \\(build \\S+, pid (\\d+)").matcher(Files.readString(log()));
                while (m.find()) {
                    pids.add(Long.parseLong(m.group(1)));
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return pids;
    }

    /**
     * The live service on our socket: the newest one its log names, if that process is still there.
     * (Not by scanning every process's command line: a service's can be too long to read whole.)
     */
    java.util.Optional<Long> servicePid() {
        List<Long> pids = servicesLogged();
        return pids.isEmpty() ? java.util.Optional.empty()
                : ProcessHandle.of(pids.get(pids.size() - 1)).filter(ProcessHandle::isAlive).map(ProcessHandle::pid);
    }

    /** The service's CommandsServed now (-1 if it cannot be asked). */
    private long servedNow() {
        try {
            return serviceSeenBy(Map.of()).path("CommandsServed").asLong();
        } catch (Exception e) {
            return -1;
        }
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting (120 s) for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /**
     * Whether a service is up on our socket: it accepts connections and its log names it alive. (The
     * socket listens a little before the service logs its line, after starting the Docker API: the
     * connect alone would let a test read the log too early.)
     */
    boolean answers() {
        return connects() && servicePid().isPresent();
    }

    boolean connects() {
        try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
            return ch.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether someone (a service, or one starting) holds our socket's service lock. */
    boolean lockHeld() throws IOException {
        int fd = ServiceLock.tryAcquire(socket);
        if (fd >= 0) {
            Syscalls.close(fd);
            return false;
        }
        return true;
    }

    Path log() {
        return socket.resolveSibling(socket.getFileName() + ".log");
    }

    @Test
    void theFirstCommandStartsTheServiceAndTheNextOnesRunInIt() throws Exception {
        assertThat(serviceSeenBy(Map.of()).isMissingNode()).as("the first command runs in its own JVM").isTrue();
        await("the service answers on " + socket, this::answers);
        JsonNode service = serviceSeenBy(Map.of());
        assertThat(service.path("Pid").asLong()).isPositive();
        assertThat(service.path("Build").asText()).isEqualTo(BuildInfo.id()).isNotEqualTo("unknown");
        assertThat(service.path("Socket").asText()).isEqualTo(socket.toString());
        assertThat(service.path("IdleTimeoutSeconds").asLong()).isEqualTo(3 * 3600);
        long pid = service.path("Pid").asLong();
        services.add(pid);
        assertThat(serviceSeenBy(Map.of()).path("Pid").asLong()).as("the same service").isEqualTo(pid);

        // Detached from whoever started it: its own session, cwd /, no stdio of the first command's, and
        // out of its cgroup (a shim's or a login's: it would die with it).
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        assertThat(Long.parseLong(f[3])).as("session id").isEqualTo(pid);
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/cwd"))).isEqualTo(Path.of("/"));
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/0"))).isEqualTo(Path.of("/dev/null"));
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/2"))).isEqualTo(log());
        assertThat(Files.readString(Path.of("/proc/" + pid + "/cgroup"))).as(Files.readString(log()))
                .contains(":/hull-service\n");
        assertThat(Files.readString(log())).contains("service listening on " + socket);
        assertThat(lockHeld()).isTrue();

        // A container through it works, and hull-runtime uses the same service.
        Result r = hull("run", "--rm", "busybox", "echo", "hello");
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.out()).isEqualTo("hello\n");
        long served = serviceSeenBy(Map.of()).path("CommandsServed").asLong();
        Result list = run(Map.of(), HULL_RUNTIME, "--root", tmp.resolve("rt").toString(), "list");
        assertThat(list.exit()).as("%s", list).isZero();
        assertThat(serviceSeenBy(Map.of()).path("CommandsServed").asLong()).as("hull-runtime list went warm")
                .isEqualTo(served + 2);
    }

    @Test
    void hullRuntimeStartsTheServiceToo() throws Exception {
        Result list = run(Map.of(), HULL_RUNTIME, "--root", tmp.resolve("rt").toString(), "list");
        assertThat(list.exit()).as("%s", list).isZero();
        await("the service answers", this::answers);
        assertThat(serviceSeenBy(Map.of()).path("Pid").asLong()).isPositive();
    }

    @Test
    void twentyRacingFirstCommandsStartOneService() throws Exception {
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ProcessBuilder pb = new ProcessBuilder(HULL.toString(), "version", "--format", "json");
            pb.environment().remove("HULL_NO_SERVICE");
            pb.environment().putAll(env());
            ps.add(pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start());
        }
        for (Process p : ps) {
            assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        }
        await("the service answers", this::answers);
        assertThat(servicesLogged()).as("services ever started (its log)").hasSize(1);
        assertThat(serviceSeenBy(Map.of()).path("Pid").asLong()).isEqualTo(servicesLogged().get(0));
        assertThat(Files.readString(log())).doesNotContain("another Hull service runs or is starting");
    }

    @Test
    void anIdleServiceExitsAndTheNextCommandStartsAnother() throws Exception {
        Files.writeString(tmp.resolve("hull.json"), "{\"serviceIdleTimeout\": \"1s\"}");
        assertThat(hull("version").exit()).isZero();
        // Only its log is looked at: with 1 s to live, the service may come and go between two looks.
        await("a service started and stopped idle", () -> {
            try {
                return Files.exists(log()) && Files.readString(log()).contains("service stopped: idle for 1 s");
            } catch (IOException e) {
                return false;
            }
        });
        long first = servicesLogged().get(0);
        services.add(first);
        await("the idle service exits", () -> ProcessHandle.of(first).isEmpty());
        assertThat(Files.exists(socket)).as("its socket is gone").isFalse();
        assertThat(lockHeld()).as("its lock is released").isFalse();
        assertThat(Files.readString(log())).contains("service stopped: idle for 1 s");

        // The next one with the default timeout, so that it is still there when looked for under load.
        Files.delete(tmp.resolve("hull.json"));
        assertThat(hull("version").exit()).isZero();
        await("a new service answers", this::answers);
        assertThat(serviceSeenBy(Map.of()).path("Pid").asLong()).isNotEqualTo(first);
    }

    @Test
    void optingOutNeitherStartsNorUsesTheService() throws Exception {
        assertThat(serviceSeenBy(Map.of("HULL_NO_SERVICE", "1")).isMissingNode()).isTrue();
        Result r = hull("--no-service", "version");
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.out()).contains("Service:       not used");
        Files.writeString(tmp.resolve("hull.json"), "{\"autoStartService\": false}");
        assertThat(hull("version").exit()).isZero();
        assertThat(servicePid()).as("no service started").isEmpty();
        assertThat(lockHeld()).isFalse();
        assertThat(Files.exists(socket)).isFalse();

        // With a service running, HULL_NO_SERVICE=1 and --no-service still never reach it.
        Files.delete(tmp.resolve("hull.json"));
        assertThat(hull("version").exit()).isZero();
        await("the service answers", this::answers);
        long served = serviceSeenBy(Map.of()).path("CommandsServed").asLong();
        assertThat(serviceSeenBy(Map.of("HULL_NO_SERVICE", "1")).isMissingNode()).isTrue();
        assertThat(hull("--no-service", "ps").exit()).isZero();
        assertThat(serviceSeenBy(Map.of()).path("CommandsServed").asLong()).as("only the two version queries")
                .isEqualTo(served + 1);
    }

    /** A client binary of another build: this build's executor sources compiled with another HULL_BUILD. */
    Path otherBuildsClient() throws Exception {
        Path exe = tmp.resolve("other-build-executor");
        Path c = HULL_DIR.resolve("src/main/c");
        Process p = new ProcessBuilder("gcc", "-static", "-O2", "-std=gnu11", "-DHULL_BUILD=\"an-older-build\"", "-o",
                exe.toString(), c.resolve("executor.c").toString(), c.resolve("monitor.c").toString(),
                c.resolve("init.c").toString(), c.resolve("client.c").toString(), c.resolve("attach.c").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        return exe;
    }

    @Test
    void aClientOfAnotherBuildRetiresTheServiceOnceNothingRunsThroughIt() throws Exception {
        Path other = otherBuildsClient();
        assertThat(hull("version").exit()).isZero();
        await("the service answers", this::answers);
        long old = serviceSeenBy(Map.of()).path("Pid").asLong();
        services.add(old);

        // A foreground container runs through the service until the test lets it go.
        Path gate = Files.createDirectories(tmp.resolve("gate"));
        ProcessBuilder pb = new ProcessBuilder(HULL.toString(), "run", "--rm", "--network", "none", "-v",
                gate + ":/gate", "busybox", "sh", "-c", "touch /gate/running; while [ ! -e /gate/go ]; do sleep 0.05;"
                + " done; echo finished");
        pb.environment().putAll(env());
        Path longOut = tmp.resolve("long.out");
        Process longRun = pb.redirectOutput(longOut.toFile()).redirectError(tmp.resolve("long.err").toFile()).start();
        await("the container runs", () -> Files.exists(gate.resolve("running")));

        // The other build's command is not run by this service: the client runs it cold (its launcher
        // is this build's bin/hull here, which is what shows), and the service retires...
        Result r = run(Map.of("HULL_COLD", "1"), other, "--client", "--program", "hull", socket.toString(),
                HULL.toString(), "version", "--format", "json");
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(JSON.readTree(r.out()).path("Engine").has("Service")).as("ran in its own JVM").isFalse();
        assertThat(Files.readString(log())).contains("service retiring: a client of build an-older-build asked");
        // ...but not while the container's command runs through it; meanwhile others go cold.
        assertThat(ProcessHandle.of(old)).isPresent();
        assertThat(serviceSeenBy(Map.of()).isMissingNode()).as("sent cold while retiring").isTrue();
        Files.writeString(gate.resolve("go"), "");
        assertThat(longRun.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(longRun.exitValue()).isZero();
        assertThat(Files.readString(longOut)).isEqualTo("finished\n");
        await("the old service exits", () -> ProcessHandle.of(old).isEmpty());

        assertThat(hull("version").exit()).isZero();
        await("a new service answers", this::answers);
        assertThat(serviceSeenBy(Map.of()).path("Pid").asLong()).isNotEqualTo(old);
    }

    @Test
    void aServerThatVanishesBeforeTakingTheCommandSendsItCold() throws Exception {
        // What a client meets when the service is being killed (its socket still accepts for a
        // moment, nobody answers): the connection closes before "A". Nothing of the command ran
        // there, so the client runs it cold instead of failing it (found: ps right after a kill -9
        // of the service failed with "the Hull service ended before this command finished").
        Path dying = tmp.resolve("dying.sock");
        try (var server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            server.bind(java.net.UnixDomainSocketAddress.of(dying));
            Thread t = Thread.ofPlatform().daemon().start(() -> {
                try (var c = server.accept()) {
                    c.read(java.nio.ByteBuffer.allocate(1 << 16)); // takes the request, then goes
                } catch (IOException ignored) {
                    // the test ended
                }
            });
            Result r = run(Map.of("HULL_COLD", "1", "HULL_NO_SERVICE", "1"),
                    dev.hull.runtime.executor.ExecutorSession.binary(), "--client", "--program", "hull",
                    dying.toString(), HULL.toString(), "version", "--format", "json");
            t.join(10_000);
            assertThat(r.exit()).as("%s", r).isZero();
            assertThat(JSON.readTree(r.out()).path("Engine").has("Service")).as("ran in its own JVM").isFalse();
        }
    }

    @Test
    void aServiceKilledMidCommandLosesNothingAndTheNextCommandStartsANewOne() throws Exception {
        assertThat(hull("version").exit()).isZero();
        await("the service answers", this::answers);
        long pid = serviceSeenBy(Map.of()).path("Pid").asLong();
        services.add(pid);

        Result detached = hull("run", "-d", "--name", "keeps-running", "--network", "none", "busybox", "sleep", "1000");
        assertThat(detached.exit()).as("%s", detached).isZero();

        Path gate = Files.createDirectories(tmp.resolve("gate"));
        ProcessBuilder pb = new ProcessBuilder(HULL.toString(), "run", "--name", "attached", "--network", "none", "-v",
                gate + ":/gate", "busybox", "sh", "-c", "touch /gate/running; while [ ! -e /gate/go ]; do sleep 0.05;"
                + " done; echo finished");
        pb.environment().putAll(env());
        Path err = tmp.resolve("attached.err");
        Process attached = pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
        await("the attached container runs", () -> Files.exists(gate.resolve("running")));

        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        assertThat(attached.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(attached.exitValue()).as("the in-flight command fails").isEqualTo(125);
        assertThat(Files.readString(err)).contains("the Hull service ended before this command finished");

        // Nothing lost: both containers run on (their monitors own them), the store answers, and the
        // next command (through a stale socket) runs cold and starts a new service.
        Result ps = hull("ps", "--format", "json");
        assertThat(ps.exit()).as("%s", ps).isZero();
        Map<String, String> states = new HashMap<>();
        for (String line : ps.out().strip().split("\n")) {
            JsonNode c = JSON.readTree(line);
            states.put(c.path("Names").asText(), c.path("State").asText());
        }
        assertThat(states).containsEntry("keeps-running", "running").containsEntry("attached", "running");
        await("a new service answers", this::answers);
        long second = serviceSeenBy(Map.of()).path("Pid").asLong();
        services.add(second);
        assertThat(second).isNotEqualTo(pid);

        Files.writeString(gate.resolve("go"), "");
        Result waited = hull("wait", "attached");
        assertThat(waited.exit()).as("%s", waited).isZero();
        assertThat(waited.out().strip()).isEqualTo("0");
        assertThat(hull("logs", "attached").out()).isEqualTo("finished\n");
        assertThat(hull("rm", "-f", "keeps-running", "attached").exit()).isZero();
        assertThat(hull("ps", "-a", "-q").out()).isEmpty();
    }

    @Test
    void socketActivationUsesTheSocketSystemdPasses() throws Exception {
        // What systemd does for contrib/hull.socket: bind and listen, then exec the service with the
        // socket as fd 3, LISTEN_FDS=1 and LISTEN_PID its own pid.
        String py = """
                import os, socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.bind(sys.argv[1]); s.listen(16)
                os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
                os.environ["LISTEN_FDS"] = "1"; os.environ["LISTEN_PID"] = str(os.getpid())
                os.execv(sys.argv[2], [sys.argv[2], "system", "service", "--socket", sys.argv[1]])
                """;
        // No command of this test may start a service of its own meanwhile.
        Files.writeString(tmp.resolve("hull.json"), "{\"autoStartService\": false}");
        ProcessBuilder pb = new ProcessBuilder("python3", "-c", py, socket.toString(), HULL.toString());
        pb.environment().putAll(env());
        Process service = pb.redirectOutput(tmp.resolve("sd.out").toFile()).redirectErrorStream(true).start();
        services.add(service.pid());
        await("the activated service serves", () -> {
            try {
                return !serviceSeenBy(Map.of()).isMissingNode();
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(serviceSeenBy(Map.of()).path("Pid").asLong()).isEqualTo(service.pid());
        service.destroy(); // SIGTERM: systemd's stop
        assertThat(service.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.exists(socket)).as("systemd's socket is left to systemd").isTrue();
    }

    @Test
    void aStrayListenPidDoesNotMakeTheServiceTakeADescriptorThatIsNotASocket() throws Exception {
        // LISTEN_PID names the service, but fd 3 is no socket (here: closed at exec, so the JVM opens its
        // own file there). Taking it would pull the JVM's class file from under it (it crashed so once).
        String py = """
                import os, sys
                os.environ["LISTEN_FDS"] = "1"; os.environ["LISTEN_PID"] = str(os.getpid())
                os.execv(sys.argv[2], [sys.argv[2], "system", "service", "--socket", sys.argv[1]])
                """;
        Files.writeString(tmp.resolve("hull.json"), "{\"autoStartService\": false}");
        ProcessBuilder pb = new ProcessBuilder("python3", "-c", py, socket.toString(), HULL.toString());
        pb.environment().putAll(env());
        Process service = pb.redirectErrorStream(true).start();
        String out = new String(service.getInputStream().readAllBytes());
        assertThat(service.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(service.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains("descriptor 3 is not a listening unix stream socket");
        assertThat(lockHeld()).isFalse();
    }

    @Test
    void aServiceWhoseJarIsRewrittenRetiresBeforeItRunsAnotherCommand() throws Exception {
        // The service runs from a jar of its own here (a copy of this build's classes), as bin/hull runs
        // target/hull.jar; a rebuild rewrites that file under the running JVM.
        Path jar = tmp.resolve("hull-copy.jar");
        Path classes = Path.of(BuildInfo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jar").toString(), "cf",
                jar.toString(), "-C", classes.toString(), ".").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        String cp = java.util.Arrays.stream(System.getProperty("java.class.path").split(":"))
                .map(e -> Path.of(e).toAbsolutePath().equals(classes.toAbsolutePath()) ? jar.toString() : e)
                .collect(java.util.stream.Collectors.joining(":"));
        Map<String, String> fromJar = Map.of("HULL_CLASSPATH", cp);
        assertThat(run(fromJar, HULL, "version").exit()).isZero();
        await("the service answers", this::answers);
        long old = serviceSeenBy(fromJar).path("Pid").asLong();
        services.add(old);

        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertThat(serviceSeenBy(fromJar).isMissingNode()).as("the next command runs in its own JVM").isTrue();
        assertThat(Files.readString(log())).contains("service retiring: its jar " + jar + " changed on disk");
        await("the old service exits", () -> ProcessHandle.of(old).isEmpty());
        await("a new service answers", this::answers);
        assertThat(serviceSeenBy(fromJar).path("Pid").asLong()).isNotEqualTo(old);
    }

    @Test
    void aDetachedRmContainersMonitorRemovesItThroughTheSameService() throws Exception {
        assertThat(hull("version").exit()).isZero();
        await("the service answers", this::answers);
        services.add(serviceSeenBy(Map.of()).path("Pid").asLong());
        long served = serviceSeenBy(Map.of()).path("CommandsServed").asLong();
        Result r = hull("run", "-d", "--rm", "--network", "none", "busybox", "true");
        assertThat(r.exit()).as("%s", r).isZero();
        Path dir = tmp.resolve("home/containers").resolve(r.out().strip());
        await("the monitor removed the container", () -> !Files.exists(dir));
        // The version query, the run, and the monitor's rm: the rm went to this service, not to one it
        // would have started on the default socket (the monitor's command lacked HULL_RUNTIME_SOCKET).
        // A command counts once it has answered, which the rm does after the container's directory is
        // gone: waited for (and so over before the next test counts its own). Each query counts too,
        // once it has answered: the ones made before are taken off.
        long[] queries = {0};
        await("the monitor's rm served by this service", () -> servedNow() - queries[0]++ == served + 3);
    }
}
