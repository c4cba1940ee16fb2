package dev.hull.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code hull} CLI run as its own process, with its own store: cold (a JVM of the test
 * classpath per command) or warm (through the static client, as bin/hull runs it, to a service
 * in this JVM: {@link TestService}). Which one: -Dhull.test.warm=all|none|half (the default:
 * every other test class by name, so the suite runs half its CLI tests each way); a class whose
 * tests kill the hull process or look at it asks for {@link #cold}.
 */
public final class HullCommand {
    private final Path home;
    private final Path state;
    private final Map<String, String> env;
    private final boolean warm;

    public HullCommand(Path home, Path state, Map<String, String> env) {
        this(home, state, env, warmFor(StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
                .walk(f -> f.map(StackWalker.StackFrame::getDeclaringClass).filter(c -> c != HullCommand.class)
                        .findFirst().orElse(HullCommand.class))));
    }

    private HullCommand(Path home, Path state, Map<String, String> env, boolean warm) {
        this.home = home;
        this.state = state;
        this.env = env;
        this.warm = warm;
    }

    /** Always a JVM per command: for tests that kill or inspect the hull process itself. */
    public static HullCommand cold(Path home, Path state, Map<String, String> env) {
        return new HullCommand(home, state, env, false);
    }

    /** Always through the test's service. */
    public static HullCommand warm(Path home, Path state, Map<String, String> env) {
        return new HullCommand(home, state, env, true);
    }

    /** Whether commands go through the test's service. */
    /**
     * A store of a test class's own in a new directory under /tmp (prefix), traversable as /run/hull is:
     * a container's root in a user namespace opens its exec fifo in the state directory.
     */
    static HullCommand inTraversableDir(String prefix, Map<String, String> env) throws IOException {
        Path dir = java.nio.file.Files.createTempDirectory(Path.of("/tmp"), prefix);
        java.nio.file.Files.setPosixFilePermissions(dir,
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return new HullCommand(dir.resolve("home"), dir.resolve("state"), env);
    }

    /** The directory {@link #inTraversableDir} made. */
    Path dir() {
        return home.getParent();
    }

    /** Removes every container of the store, then its directory (a test class's end). */
    static void removeAll(HullCommand hull) throws IOException, InterruptedException {
        if (hull == null) {
            return;
        }
        for (String line : hull.run("ps", "-aq").out().lines().toList()) {
            hull.run("rm", "-f", line.strip());
        }
        dev.hull.image.SnapshotStore.deleteTree(hull.dir());
    }

    public boolean warm() {
        return warm;
    }

    static boolean warmFor(Class<?> testClass) {
        return switch (System.getProperty("hull.test.warm", "half")) {
            case "all" -> true;
            case "none" -> false;
            default -> (testClass.getName().hashCode() & 1) == 0;
        };
    }

    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    public ProcessBuilder builder(String... args) {
        List<String> cmd = new ArrayList<>(warm ? TestService.client() : TestService.coldCommand());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HULL_HOME", home.toString());
        pb.environment().put("HULL_STATE", state.toString());
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs hull with args, stdin from /dev/null, and waits up to 300 s. */
    public Result run(String... args) throws IOException, InterruptedException {
        return runWithInput(Path.of("/dev/null"), args);
    }

    /** Runs hull with args; fails the test unless it exits 0. */
    public Result ok(String... args) throws IOException, InterruptedException {
        Result r = run(args);
        org.assertj.core.api.Assertions.assertThat(r.exit()).as("hull " + String.join(" ", args) + "\n" + r).isZero();
        return r;
    }

    /** Runs hull with args and stdin from a file. */
    public Result runWithInput(Path stdin, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("hull-cli-", ".out");
        Path err = Files.createTempFile("hull-cli-", ".err");
        try {
            Process p = builder(args).redirectInput(ProcessBuilder.Redirect.from(stdin.toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("hull " + String.join(" ", args) + " did not finish in 300 s");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
