package dev.hull.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The {@code hull} CLI run as its own process (a JVM of the test classpath), with its own store. */
public final class HullCommand {
    private final Path home;
    private final Path state;
    private final Map<String, String> env;

    public HullCommand(Path home, Path state, Map<String, String> env) {
        this.home = home;
        this.state = state;
        this.env = env;
    }

    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    public ProcessBuilder builder(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-Dhull.program=hull", "-Dhull.executor=" + System.getProperty("hull.executor"),
                "-cp", System.getProperty("java.class.path"), "dev.hull.cli.Main"));
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
