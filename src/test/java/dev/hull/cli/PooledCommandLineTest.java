package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm server reuses picocli command lines between commands: an option
 * given to one command must not leak into the next.
 */
class PooledCommandLineTest {
    @TempDir
    Path tmp;

    private String run(Path cwd, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Invocation inv = new Invocation(cwd, Invocation.writer(out), Invocation.writer(err), null, pid -> { });
        int code = RuntimeCli.execute(inv, args, true);
        return code + "|" + out.toString(StandardCharsets.UTF_8) + "|" + err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void optionsOfOneCommandDoNotLeakIntoTheNext() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        Path root = tmp.resolve("state");
        for (int i = 0; i < 3; i++) { // several rounds, so pooled instances are surely reused
            Files.deleteIfExists(a.resolve("config.json"));
            Files.deleteIfExists(b.resolve("config.json"));
            assertThat(run(a, "--root", root.toString(), "spec", "--rootless")).startsWith("0|");
            assertThat(run(b, "--root", root.toString(), "spec")).startsWith("0|");
            assertThat(Files.readString(a.resolve("config.json"))).contains("uidMappings");
            assertThat(Files.readString(b.resolve("config.json"))).doesNotContain("uidMappings");
            assertThat(run(a, "--root", root.toString(), "list", "--format", "json")).startsWith("0|[ ]");
            assertThat(run(a, "--root", root.toString(), "list")).startsWith("0|ID ");
            // a global option (--root) set once must not stick either
            assertThat(run(a, "list", "-q")).startsWith("0|");
        }
    }
}
