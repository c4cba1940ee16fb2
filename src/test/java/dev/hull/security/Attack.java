package dev.hull.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.BusyboxRootfs;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * An attack's fixture: a private directory under /tmp with a runtime state root, a hull store, a
 * canary the attack aims at, and Hull's executor as a <em>copy the test owns</em> — every Hull
 * command of the attack runs that copy ({@code -Dhull.executor}), so an attack on "the host's
 * executor" hits the copy, never the build's binary. Hull runs as its own processes (hull-runtime and
 * hull command lines), so a descriptor the test leaks into them is really inherited.
 */
final class Attack implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final Path dir;
    final Path executor;
    final Path root;
    final Path home;
    final Path state;
    private final List<String> runtimeIds = new ArrayList<>();

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    Attack(String name) throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-attack-" + name + "-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path exeDir = Files.createDirectories(dir.resolve("exe"));
        executor = exeDir.resolve("hull-executor");
        Files.copy(Path.of(System.getProperty("hull.executor")), executor, StandardCopyOption.COPY_ATTRIBUTES);
        root = dir.resolve("runtime");
        home = dir.resolve("home");
        state = dir.resolve("state");
    }

    /** The shared busybox rootfs of the runtime tests (used read-only). */
    static Path rootfs() throws IOException {
        Path home = Path.of(System.getProperty("hull.home", System.getProperty("user.dir"))).toAbsolutePath();
        return BusyboxRootfs.ensure(home.resolve("target/test-rootfs/busybox"));
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /** The java command line of hull ("hull") or hull-runtime ("hull-runtime"), on the copied executor. */
    List<String> command(String program, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-Dhull.program=" + program, "-Dhull.executor=" + executor,
                "-cp", System.getProperty("java.class.path"), "dev.hull.cli.Main"));
        if (program.equals("hull-runtime")) {
            cmd.addAll(List.of("--root", root.toString()));
        }
        cmd.addAll(List.of(args));
        return cmd;
    }

    Result runtime(String... args) throws Exception {
        return run(null, command("hull-runtime", args));
    }

    Result hull(String... args) throws Exception {
        return run(null, command("hull", args));
    }

    /**
     * Runs cmd as a caller that leaked a descriptor would: bash opens {@code leaked} (a directory or
     * file of the test) on fd 9 without close-on-exec, then execs cmd, which inherits it.
     */
    Result withLeakedFd9(Path leaked, List<String> cmd) throws Exception {
        List<String> c = new ArrayList<>(List.of("bash", "-c", "exec 9<\"$0\"; exec \"$@\"", leaked.toString()));
        c.addAll(cmd);
        return run(null, c);
    }

    Result run(Path stdin, List<String> cmd) throws Exception {
        Path out = Files.createTempFile(dir, "cmd-", ".out");
        Path err = Files.createTempFile(dir, "cmd-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from((stdin == null ? Path.of("/dev/null") : stdin).toFile()));
        pb.environment().put("HULL_HOME", home.toString());
        pb.environment().put("HULL_STATE", state.toString());
        pb.environment().put("HULL_COLD", "1");
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError(String.join(" ", cmd) + " did not finish in 300 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /**
     * A bundle under the fixture: the busybox rootfs read-only, its own {@code out} directory (mode
     * 0777) bound read-write on /out, the default confinement, {@code args} as the process.
     */
    Path bundle(String name, String... args) throws IOException {
        Path b = Files.createDirectories(dir.resolve("bundles").resolve(name));
        Path out = Files.createDirectories(b.resolve("out"));
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxrwxrwx"));
        ObjectNode config = DefaultSpec.create(false);
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        ArrayNode a = process.putArray("args");
        for (String s : args) {
            a.add(s);
        }
        ObjectNode r = (ObjectNode) config.get("root");
        r.put("path", rootfs().toString());
        r.put("readonly", true);
        ObjectNode m = ((ArrayNode) config.get("mounts")).addObject();
        m.put("destination", "/out");
        m.put("type", "bind");
        m.put("source", out.toString());
        m.putArray("options").add("rbind").add("rw");
        write(b, config);
        return b;
    }

    static ObjectNode config(Path bundle) throws IOException {
        return (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
    }

    static void write(Path bundle, ObjectNode config) throws IOException {
        JSON.writerWithDefaultPrettyPrinter().writeValue(bundle.resolve("config.json").toFile(), config);
    }

    /** The runtime container id is deleted (forced) when the fixture closes. */
    void track(String id) {
        runtimeIds.add(id);
    }

    /** hull-runtime create; the id is deleted (forced) when the fixture closes. */
    Result create(String id, Path bundle) throws Exception {
        runtimeIds.add(id);
        return runtime("create", "--bundle", bundle.toString(), id);
    }

    /** The host pid of a runtime container's init. */
    int pid(String id) throws Exception {
        Result r = runtime("state", id);
        if (r.exit() != 0) {
            throw new AssertionError("state " + id + ": " + r);
        }
        return JSON.readTree(r.out()).path("pid").asInt();
    }

    /** Waits (up to 120 s, polling) for one of the files to appear; true if one did. */
    static boolean await(Path... files) throws InterruptedException {
        for (int i = 0; i < 2400; i++) {
            for (Path f : files) {
                if (Files.exists(f)) {
                    return true;
                }
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Override
    public void close() throws Exception {
        for (String id : runtimeIds) {
            runtime("delete", "--force", id);
        }
        if (Files.isDirectory(home)) { // the engine's containers: every one in this fixture's own store
            for (String id : hull("ps", "-aq").out().split("\\s+")) {
                if (!id.isBlank()) {
                    hull("rm", "-f", id);
                }
            }
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a busy mount point or a file a container still holds: left for the OS
                }
            }
        }
    }
}
