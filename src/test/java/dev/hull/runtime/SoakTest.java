package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Many containers through one JVM, as the warm server runs them: nothing may
 * accumulate — descriptors, threads, state, cgroups, mounts, processes.
 * A short round runs in every suite; the long one is tagged slow (./test --slow).
 */
class SoakTest {
    static Path base;
    static ContainerRuntime rt;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("soak");
        rt = new ContainerRuntime(ContainerTests.root(base));
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    private static long openFds() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static void soak(int rounds) throws Exception {
        Bundles.Bundle b = Bundles.create(base, "soak");
        b.args("/bin/true");
        b.write();
        // warm up: first runs load classes, start JVM-internal threads, open jars
        for (int i = 0; i < 5; i++) {
            assertThat(rt.run(Bundles.id("soak-warm"), b.dir, null, false, null)).isZero();
        }
        Set<String> mounts = Host.mountPoints();
        long fds = openFds();
        int threads = Thread.activeCount();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            String id = Bundles.id("soak");
            ids.add(id);
            assertThat(rt.run(id, b.dir, null, false, null)).as("run %d", i).isZero();
            // and the detached life: create, start, wait, delete
            String d = Bundles.id("soak-d");
            ids.add(d);
            rt.create(d, b.dir, null);
            rt.start(d);
            assertThat(Host.await(() -> {
                try {
                    return rt.state(d).status().equals("stopped");
                } catch (Exception e) {
                    return false;
                }
            })).as("%s stopped", d).isTrue();
            rt.delete(d, false);
        }
        assertThat(openFds()).as("open descriptors after %d rounds", rounds).isLessThanOrEqualTo(fds + 2);
        assertThat(Thread.activeCount()).as("live threads").isLessThanOrEqualTo(threads + 2);
        assertThat(rt.list()).isEmpty();
        for (String id : ids) {
            Host.assertNoTraces(ContainerTests.root(base), id, mounts);
        }
    }

    @Test
    void twentyRoundsLeaveNothingBehind() throws Exception {
        soak(20);
    }

    @Test
    @Tag("slow")
    void fiveHundredRoundsLeaveNothingBehind() throws Exception {
        soak(500);
    }
}
