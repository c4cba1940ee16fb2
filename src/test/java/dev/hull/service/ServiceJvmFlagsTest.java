package dev.hull.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's JVM flags (bin/hull adds heap settings for {@code system service}) must keep the
 * AOT cache usable: scripts/aot-train trains the cache with an ordinary command's flags, and a JVM
 * given a cache it cannot map exits at once ("Unable to use AOT cache"), so the auto-started service
 * never listened and every command ran cold. -Xms16m with -Xmn16m did that: no old generation left
 * for the cache's archived heap objects. The flags are the ones bin/hull really passes (read through
 * a stand-in java that prints its arguments); the cache is a small one made here with them.
 */
class ServiceJvmFlagsTest {
    private static final Path HULL = Path.of(System.getProperty("hull.home", ".")).toAbsolutePath().resolve("bin/hull");
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    @TempDir
    Path tmp;

    @Test
    void theServiceJvmStartsWithAnAotCacheTrainedOnAnOrdinaryCommandsFlags() throws Exception {
        List<String> ordinary = jvmFlags("--version");
        List<String> service = jvmFlags("system", "service");
        assertThat(service).as("bin/hull gives the service heap settings of its own").isNotEqualTo(ordinary)
                .containsAll(ordinary);

        Path jar = helloJar();
        Path cache = tmp.resolve("hello.aot");
        List<String> train = new ArrayList<>(List.of(JAVA.toString(), "-XX:AOTCacheOutput=" + cache));
        train.addAll(ordinary);
        train.addAll(List.of("-cp", jar.toString(), "Hello", "training"));
        assertThat(run(train)).contains("hello training");
        assertThat(cache).as("the AOT cache was written").isRegularFile();

        for (List<String> flags : List.of(ordinary, service)) {
            List<String> cmd = new ArrayList<>(List.of(JAVA.toString(), "-XX:AOTCache=" + cache));
            cmd.addAll(flags);
            cmd.addAll(List.of("-cp", jar.toString(), "Hello", "cached"));
            assertThat(run(cmd)).as("java %s", flags).contains("hello cached");
        }
    }

    /** The JVM flags bin/hull passes for args: what a stand-in java (HULL_JAVA_HOME) is given before -cp, no -D. */
    private List<String> jvmFlags(String... args) throws Exception {
        Path home = Files.createDirectories(tmp.resolve("fake-jdk/bin"));
        Path java = home.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        java.toFile().setExecutable(true);
        List<String> cmd = new ArrayList<>(List.of(HULL.toString()));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("HULL_JAVA_HOME", home.getParent().toString());
        pb.environment().put("HULL_COLD", "1"); // no service: the script's own exec
        pb.environment().put("HULL_NO_SERVICE", "1");
        pb.environment().put("HULL_RUNTIME_SOCKET", tmp.resolve("none.sock").toString());
        List<String> flags = new ArrayList<>();
        for (String a : run(pb).split("\n")) {
            if (a.equals("-cp")) {
                return flags;
            }
            if (a.startsWith("-") && !a.startsWith("-D") && !a.startsWith("-XX:AOTCache")) {
                flags.add(a);
            }
        }
        throw new AssertionError("bin/hull " + String.join(" ", args) + " passed no -cp: " + flags);
    }

    private Path helloJar() throws IOException {
        Path src = Files.writeString(tmp.resolve("Hello.java"),
                "public class Hello { public static void main(String[] a) { System.out.println(\"hello \" + a[0]); } }");
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        assertThat(ToolProvider.findFirst("javac").orElseThrow().run(System.out, System.err, "-d", classes.toString(),
                src.toString())).isZero();
        Path jar = tmp.resolve("hello.jar");
        assertThat(ToolProvider.findFirst("jar").orElseThrow().run(System.out, System.err, "cf", jar.toString(), "-C",
                classes.toString(), "Hello.class")).isZero();
        return jar;
    }

    private static String run(List<String> cmd) throws Exception {
        return run(new ProcessBuilder(cmd).redirectErrorStream(true));
    }

    private static String run(ProcessBuilder pb) throws Exception {
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s ends", pb.command()).isTrue();
        assertThat(p.exitValue()).as("%s exits 0; output:\n%s", pb.command(), out).isZero();
        return out;
    }
}
