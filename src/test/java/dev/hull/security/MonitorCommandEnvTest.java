package dev.hull.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.engine.MonitorStatus;
import dev.hull.runtime.Caller;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A container's monitor is root and outlives the command that started it: the hull commands it
 * execs (--rm's removal, the healthcheck, the clean-up) must not carry code a non-root caller chose.
 * The caller's HULL_CLASSPATH (bin/hull runs those classes instead of the jar) is kept only for a
 * caller that is root; HULL_CONFIG is resolved at create and recorded with the container. The
 * caller here is the service's view of a client (uid 4242 vs 0, as the warm server passes it),
 * the launcher the real bin/hull, and the "classpath" a class of the test's that leaves a marker.
 */
class MonitorCommandEnvTest {
    static HullBox box;
    static Path evil;

    @BeforeAll
    static void setUp() throws Exception {
        box = new HullBox("monitor-env");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Assumptions.assumeTrue(javac != null, "no Java compiler in this JVM (the test compiles its stand-in hull)");
        Path src = Files.createDirectories(box.dir.resolve("evil-src/dev/hull/cli")).resolve("Main.java");
        Files.writeString(src, """
                package dev.hull.cli;
                public class Main {
                    public static void main(String[] args) throws Exception {
                        java.nio.file.Files.writeString(java.nio.file.Path.of(System.getenv("HULL_HOME"), "..",
                                "ran-" + args[0]), String.join(" ", args) + "\\n");
                    }
                }
                """);
        evil = Files.createDirectories(box.dir.resolve("evil-cp"));
        assertThat(javac.run(null, null, null, "-d", evil.toString(), src.toString())).isZero();
    }

    @AfterAll
    static void tearDown() throws Exception {
        box.close();
    }

    @Test
    void aMonitorRunsTheCallersClasspathOnlyForRootAndTheConfigFileRecordedAtCreate() throws Exception {
        Path hull = Path.of(System.getProperty("hull.home", ".")).toAbsolutePath().resolve("bin/hull");
        Assumptions.assumeTrue(Files.isExecutable(hull), "bin/hull is not at " + hull);
        Files.writeString(box.dir.resolve("conf.json"), "{\"pidsLimit\": 1234}\n");
        for (int uid : List.of(0, 4242)) {
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("HULL_CLASSPATH", evil.toString());
            env.put("HULL_NO_SERVICE", "1");
            env.put("HULL_CONFIG", "conf.json"); // relative to the caller's directory, box.dir
            Caller caller = new Caller(box.dir, env, uid, uid, -1);
            String before = System.getProperty("hull.launcher");
            String id;
            System.setProperty("hull.launcher", hull.toString()); // the monitor's commands go through bin/hull
            try {
                id = Caller.with(caller, () -> box.engine.run(HullBox.parse("-d", "--rm", "busybox", "sh", "-c",
                        "while [ ! -e /tmp/go ]; do sleep 0.1; done"), true, null)).container().id();
            } finally {
                if (before == null) {
                    System.clearProperty("hull.launcher");
                } else {
                    System.setProperty("hull.launcher", before);
                }
            }
            var info = box.info(id);
            assertThat(info.options().configFile).isEqualTo(box.dir.resolve("conf.json").toString());
            assertThat(info.options().pidsLimit).isEqualTo(1234L);
            Path status = box.engine.containers().statusFile(id);
            MonitorStatus m = await(status);
            Files.writeString(Path.of("/proc/" + m.pid() + "/root/tmp/go"), "");
            // the container ends by itself: its monitor execs the --rm command; wait until that has ended
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (MonitorStatus.alive(m.monitorPid(), m.monitorStartTime())) {
                assertThat(System.nanoTime()).as("the monitor of %s and its --rm command ended within 300 s", id)
                        .isLessThan(deadline);
                Thread.sleep(50);
            }
            Path ran = box.dir.resolve("ran-rm");
            if (uid == 0) {
                // root's own classpath: what the test suite and developers use bin/hull with
                assertThat(ran).as("root's HULL_CLASSPATH ran as the monitor's --rm").exists();
                assertThat(Files.readString(ran)).contains("rm --force --volumes " + id);
                Files.delete(ran);
            } else {
                assertThat(ran).as("uid %d's HULL_CLASSPATH must not run in the root monitor", uid).doesNotExist();
            }
            try {
                box.remove(id); // the real --rm needs the jar, which ./test builds after the tests
            } catch (Exception gone) {
                // removed by its monitor
            }
        }
    }

    /** The status the monitor wrote once the container runs (generous wait: the host is loaded). */
    static MonitorStatus await(Path status) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        MonitorStatus m;
        while ((m = MonitorStatus.read(status)) == null || m.pid() <= 0) {
            assertThat(System.nanoTime()).as("the monitor recorded a start within 60 s").isLessThan(deadline);
            Thread.sleep(20);
        }
        return m;
    }
}
