package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A failing create must undo only what it made, and report cleanly. */
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
}
