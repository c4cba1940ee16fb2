package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A failing create must undo only what it made, and report cleanly; racing starts start once. */
class CreateSafetyTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("safety");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    @Test
    void aCreateThatReusesALiveContainersCgroupFailsWithoutHarmingIt() throws Exception {
        ContainerRuntime rt = new ContainerRuntime(root);
        String cgroupPath = "/hull/safety-shared-" + ProcessHandle.current().pid();
        Bundles.Bundle a = Bundles.create(base, "a").args("sleep", "1000");
        a.linux().put("cgroupsPath", cgroupPath);
        a.write();
        String victim = Bundles.id("victim");
        ContainerRecord rec = rt.create(victim, a.dir, null);
        rt.start(victim);
        try {
            Bundles.Bundle b = Bundles.create(base, "b").args("true");
            b.linux().put("cgroupsPath", cgroupPath);
            b.write();
            String intruder = Bundles.id("intruder");
            assertThatThrownBy(() -> rt.create(intruder, b.dir, null)).isInstanceOf(RuntimeError.class);
            assertThat(rt.state(victim).status()).as("the first container survives").isEqualTo("running");
            assertThat(ContainerRuntime.alive(rec.pid(), rec.startTime())).isTrue();
            assertThat(root.resolve(intruder)).doesNotExist();
        } finally {
            rt.delete(victim, true);
        }
    }

    @Test
    void aVeryLongErrorComesBackWholeAndClean() throws Exception {
        ContainerRuntime rt = new ContainerRuntime(root);
        String option = "x".repeat(700) + "=1";
        Bundles.Bundle b = Bundles.create(base, "long").args("true").mount("/mnt/t", "tmpfs", "tmpfs", option);
        b.write();
        String id = Bundles.id("long");
        assertThatThrownBy(() -> rt.create(id, b.dir, null))
                .isInstanceOf(RuntimeError.class)
                .satisfies(e -> {
                    String m = e.getMessage();
                    assertThat(m).contains("mount tmpfs on /mnt/t").contains(option);
                    assertThat(m.chars().allMatch(c -> c >= 0x20 && c < 0x7f))
                            .as("only printable characters in: %s", m).isTrue();
                });
        assertThat(root.resolve(id)).doesNotExist();
    }

    @Test
    void twoStartsAtOnceStartTheContainerOnce() throws Exception {
        ContainerRuntime rt = new ContainerRuntime(root);
        Bundles.Bundle b = Bundles.create(base, "race").script("echo started >> /out/starts; sleep 1000");
        b.write();
        String id = Bundles.id("race");
        rt.create(id, b.dir, null);
        try {
            java.util.concurrent.CyclicBarrier barrier = new java.util.concurrent.CyclicBarrier(4);
            java.util.List<java.util.concurrent.Future<String>> results = new java.util.ArrayList<>();
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
                for (int i = 0; i < 4; i++) {
                    results.add(pool.submit(() -> {
                        barrier.await();
                        try {
                            // a fresh runtime each, as separate commands of the warm server would be
                            new ContainerRuntime(root).start(id);
                            return "ok";
                        } catch (RuntimeError e) {
                            return e.kind().name();
                        }
                    }));
                }
            }
            java.util.List<String> outcomes = new java.util.ArrayList<>();
            for (var f : results) {
                outcomes.add(f.get());
            }
            assertThat(outcomes).containsOnlyOnce("ok").containsOnly("ok", "WRONG_STATE");
            assertThat(Host.await(() -> b.out.resolve("starts").toFile().length() > 0)).isTrue();
            Thread.sleep(200);
            assertThat(java.nio.file.Files.readString(b.out.resolve("starts"))).isEqualTo("started\n");
        } finally {
            rt.delete(id, true);
        }
    }
}
