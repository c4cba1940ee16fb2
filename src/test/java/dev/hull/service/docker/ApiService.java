package dev.hull.service.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Hull service of a test class's own (bin/hull system service on sockets in dir, with its own
 * HULL_HOME and HULL_STATE: every container, image, network and volume in it is the class's),
 * and the real clients run against its Docker API: the docker CLI, curl, docker-compose.
 */
final class ApiService implements AutoCloseable {
    static final Path HULL_DIR = Path.of(System.getProperty("hull.home", ".")).toAbsolutePath();
    static final Path DOCKER = Path.of("/usr/local/bin/docker");

    final Path dir;
    final Path socket;
    final Path dockerSocket;
    private final Process service;

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private ApiService(Path dir, Process service) {
        this.dir = dir;
        this.socket = dir.resolve("run/hull.sock");
        this.dockerSocket = dir.resolve("run/docker.sock");
        this.service = service;
    }

    static ApiService start(Path dir) throws Exception {
        Path socket = Files.createDirectories(dir.resolve("run")).resolve("hull.sock");
        ProcessBuilder pb = new ProcessBuilder(HULL_DIR.resolve("bin/hull").toString(), "system", "service",
                "--socket", socket.toString(), "--idle-timeout", "0", "--debug");
        pb.environment().remove("HULL_NO_SERVICE");
        pb.environment().remove("HULL_COLD");
        ApiService api = new ApiService(dir, null);
        pb.environment().putAll(api.env());
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(dir.resolve("service.log").toFile()).redirectErrorStream(true).start();
        api = new ApiService(dir, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!answers(api.dockerSocket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("the service did not serve " + api.dockerSocket + ":\n"
                        + Files.readString(dir.resolve("service.log")));
            }
            Thread.sleep(50);
        }
        return api;
    }

    /** The service's process (bin/hull execs the JVM). */
    long servicePid() {
        return service.pid();
    }

    static boolean answers(Path p) {
        try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(p))) {
            return ch.isConnected();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("HULL_RUNTIME_SOCKET", socket.toString());
        env.put("HULL_HOME", dir.resolve("home").toString());
        env.put("HULL_STATE", dir.resolve("state").toString());
        env.put("HULL_CLASSPATH", System.getProperty("java.class.path"));
        env.put("HULL_CONFIG", dir.resolve("hull.json").toString()); // absent: built-in defaults
        env.put("DOCKER_CONFIG", dir.resolve("docker-config").toString()); // no credentials or contexts of the host
        env.put("DOCKER_HOST", "unix://" + dockerSocket);
        return env;
    }

    Result run(String stdin, List<String> cmd) throws Exception {
        return run(stdin, cmd, null);
    }

    /** cmd (in cwd, when given) with this service's environment; its output once it ends. */
    Result run(String stdin, List<String> cmd, Path cwd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env());
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Path in = Files.createTempFile(dir, "in", ".txt");
        Files.writeString(in, stdin == null ? "" : stdin);
        Process p = pb.redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError(cmd + " did not finish in 300 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    Result docker(String... args) throws Exception {
        return dockerIn(null, args);
    }

    Result dockerIn(String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(DOCKER.toString()));
        cmd.addAll(List.of(args));
        return run(stdin, cmd);
    }

    /** A raw request with curl: -i, so the status line and headers come first. */
    Result curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-i", "--unix-socket", dockerSocket.toString()));
        cmd.addAll(List.of(args));
        return run(null, cmd);
    }

    Result hull(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(HULL_DIR.resolve("bin/hull").toString()));
        cmd.addAll(List.of(args));
        return run(null, cmd);
    }

    /** A docker command left running, its output (both streams) to out. */
    Process spawn(Path out, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(DOCKER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env());
        return pb.redirectOutput(out.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    void awaitLog(String container, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!docker("logs", container).out().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(container + " never logged " + text);
            }
            Thread.sleep(50);
        }
    }

    /** Waits (generously) until the file's text satisfies the condition. */
    static void awaitFile(Path file, java.util.function.Predicate<String> condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (;;) {
            String text = Files.exists(file) ? Files.readString(file) : "";
            if (condition.test(text)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting for " + what + "; " + file + " has:\n" + text);
            }
            Thread.sleep(50);
        }
    }

    static Result ok(Result r) {
        assertThat(r.exit()).as("%s", r).isZero();
        return r;
    }

    static String body(Result r) {
        int i = r.out().indexOf("\r\n\r\n");
        return i < 0 ? "" : r.out().substring(i + 4);
    }

    /** Every container this service's store has is removed (with its monitor), then the service stops. */
    @Override
    public void close() throws Exception {
        try {
            Result ps = docker("ps", "-aq");
            for (String id : ps.out().split("\\s+")) {
                if (!id.isBlank()) {
                    docker("rm", "-f", id);
                }
            }
        } finally {
            service.destroy();
            if (!service.waitFor(30, TimeUnit.SECONDS)) {
                service.destroyForcibly().waitFor();
            }
        }
    }
}
