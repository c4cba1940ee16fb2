package dev.hull.engines;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.image.BusyboxRootfs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * What the engine tests share: commands run with generous deadlines, the runtimes an engine is
 * given (Hull warm, Hull cold, runc), the busybox image as a docker-archive, a warm server of the
 * test's own, and the teardown of everything under a test's own directory (processes, mounts, files).
 *
 * <p>The Hull runtimes are wrappers like bin/hull-runtime, but on the classes under test (./test runs
 * the tests before the jar is made): "hull-warm" hands the command to the test's own server through
 * the static client (bin/hull-runtime's warm path: executor --client SOCKET FALLBACK ARGS, with
 * HULL_COLD=1 for the fallback), "hull-cold" starts a JVM per call.
 */
final class Engines {
    static final Duration LONG = Duration.ofSeconds(180);
    static final List<String> RUNTIMES = List.of("hull-warm", "hull-cold", "runc");

    private Engines() {}

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    /** Runs a command to its end (stdin /dev/null, output to files: a detached child may keep pipes open). */
    static Result run(Path dir, Map<String, String> env, List<String> cmd) {
        try {
            Path out = Files.createTempFile(dir, "cmd", ".out");
            Path err = Files.createTempFile(dir, "cmd", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(LONG.toSeconds(), TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in " + LONG.toSeconds() + " s");
            }
            Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Result run(Path dir, String... cmd) {
        return run(dir, Map.of(), List.of(cmd));
    }

    /** Starts a command in the background, its output to files named after it. */
    static Process start(Path dir, String name, Map<String, String> env, List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(dir.resolve(name + ".out").toFile()).redirectError(dir.resolve(name + ".err").toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Waits (generously, never a fixed sleep) until the condition holds; false at the deadline. */
    static boolean waitUntil(BooleanSupplier condition) {
        long end = System.nanoTime() + LONG.toNanos();
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }

    /** A fresh directory for one test class under /tmp (short: socket paths must fit 108 bytes). */
    static Path base(String name) throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "hull-" + name + "-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        return dir;
    }

    static Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    static Path executor() {
        return Path.of(System.getProperty("hull.executor"));
    }

    static List<String> hullCommand(String program, String... args) {
        List<String> cmd = new ArrayList<>(List.of(java().toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED", "-Dhull.program=" + program,
                "-Dhull.executor=" + executor(), "-cp", System.getProperty("java.class.path"), "dev.hull.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static Path script(Path file, String body) throws IOException {
        Files.writeString(file, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** The repository's bin/hull-runtime, the script engines are given. */
    static Path hullRuntime() {
        return Path.of(System.getProperty("hull.home", ".")).toAbsolutePath().resolve("bin/hull-runtime");
    }

    /**
     * The runtimes' wrappers, in dir/bin, each running the repository's bin/hull-runtime on the classes
     * under test (HULL_CLASSPATH: ./test runs before the jar exists) with its own socket:
     * hull-warm (the test's own server listens on socket: the static client, no JVM), hull-cold (no
     * service, a JVM per call), hull-auto (a socket file that nobody listens on: the client falls back
     * to a JVM, which starts a service there for the next call), and runc, crun.
     */
    static void writeRuntimes(Path dir, Path socket) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        String env = "export HULL_CLASSPATH='" + System.getProperty("java.class.path") + "'\n";
        String exec = "exec '" + hullRuntime() + "' \"$@\"\n";
        script(bin.resolve("hull-warm"), env + "export HULL_RUNTIME_SOCKET='" + socket + "'\n" + exec);
        script(bin.resolve("hull-cold"), env + "export HULL_RUNTIME_SOCKET='" + dir.resolve("none.sock")
                + "' HULL_NO_SERVICE=1\n" + exec);
        Path stale = dir.resolve("auto.sock");
        try (var ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.bind(java.net.UnixDomainSocketAddress.of(stale));
        }
        script(bin.resolve("hull-auto"), env + "export HULL_RUNTIME_SOCKET='" + stale + "'\n" + exec);
        script(bin.resolve("runc"), "exec /usr/sbin/runc \"$@\"\n");
        script(bin.resolve("crun"), "exec /usr/bin/crun \"$@\"\n");
    }

    /** The path an engine is given for a runtime name. */
    static Path runtime(Path dir, String name) {
        return dir.resolve("bin").resolve(name);
    }

    /** Starts a warm server of the test's own (a process: `hull runtime-server --socket`) and waits for its socket. */
    static Process startServer(Path dir, Path socket) throws IOException {
        Process p = start(dir, "runtime-server", Map.of("HULL_NO_SERVICE", "1"),
                // no Docker API beside it: its default, docker.sock in the same directory, is dockerd's here
                hullCommand("hull", "runtime-server", "--socket", socket.toString(), "--docker-socket", "none"));
        assertThat(waitUntil(() -> Files.exists(socket) || !p.isAlive())).isTrue();
        assertThat(p.isAlive()).as("runtime server: %s", read(dir.resolve("runtime-server.err"))).isTrue();
        return p;
    }

    /** The built-in busybox image as a docker-archive (hull save, in a store of the test's own). */
    static Path busyboxArchive(Path dir) throws IOException {
        Path tar = dir.resolve("busybox.tar");
        Result r = run(dir, Map.of("HULL_HOME", dir.resolve("hull-home").toString(), "HULL_NO_SERVICE", "1"),
                hullCommand("hull", "save", "-o", tar.toString(), "busybox"));
        assertThat(r.exit()).as("hull save busybox: %s", r).isZero();
        return tar;
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The parent pid and the command name of a process, from /proc. */
    static long parent(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    static String comm(long pid) throws IOException {
        return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
    }

    static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** Stops a process and every process left behind that names dir on its command line (shims, conmon...). */
    static void stop(Process p, Path dir) {
        if (p != null && p.isAlive()) {
            p.destroy();
            try {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(30, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Ends whatever process names dir in its command line or environment (our engines' shims and
     * conmons, a service a cold hull-runtime started on a socket of ours).
     */
    static void killLeftovers(Path dir) {
        String d = dir.toString() + "/";
        long me = ProcessHandle.current().pid();
        ProcessHandle.allProcesses().filter(h -> h.pid() != me && (cmdline(h.pid()).contains(d)
                || environ(h.pid()).contains("HULL_RUNTIME_SOCKET=" + d))).forEach(ProcessHandle::destroyForcibly);
    }

    static String environ(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Whether a server answers on the socket. */
    static boolean listening(Path socket) {
        try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Unmounts everything under dir (deepest first), then removes it. */
    static void remove(Path dir) {
        killLeftovers(dir);
        try {
            for (int round = 0; round < 5; round++) {
                List<String> mounts = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                        .map(l -> l.split(" ")[4]).filter(m -> m.startsWith(dir + "/") || m.equals(dir.toString()))
                        .sorted(Comparator.comparing(String::length).reversed()).toList();
                if (mounts.isEmpty()) {
                    break;
                }
                for (String m : mounts) {
                    run(Path.of("/"), "umount", "-l", m.replace("\\040", " "));
                }
            }
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ignored) {
                        // reported by the check below
                    }
                });
            }
        } catch (IOException ignored) {
            // best effort: a directory under /tmp
        }
    }

    /** Removes the cgroup NAME (a top-level one a test gave its engine as parent) and what is below it, in every hierarchy. */
    static void removeCgroups(String name) {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                Path top = h.resolve(name);
                if (Files.isDirectory(top) && !Files.isSymbolicLink(h)) {
                    try (Stream<Path> walk = Files.walk(top)) {
                        walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).forEach(d -> {
                            try {
                                Files.delete(d);
                            } catch (IOException ignored) {
                                // busy: something still runs there
                            }
                        });
                    }
                }
            }
        } catch (IOException ignored) {
            // best effort
        }
    }

    static boolean installed(String path) {
        return Files.isExecutable(Path.of(path));
    }

    static Path rootfs() throws IOException {
        return BusyboxRootfs.ensure(Path.of(System.getProperty("hull.home", "."), "target/test-rootfs/busybox"));
    }
}
