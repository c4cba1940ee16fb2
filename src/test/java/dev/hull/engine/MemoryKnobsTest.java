package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.runtime.RuntimeError;
import org.junit.jupiter.api.Test;

/** The decision of --oom-kill-disable and --memory-swappiness on each cgroup layout (SpecResources.memoryKnobs). */
class MemoryKnobsTest {
    static final String V2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2"
            + " rw,nsdelegate\n";
    static final String HYBRID = "30 23 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:4 - cgroup2 cgroup2 rw\n"
            + "31 23 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:5 - cgroup cgroup rw,memory\n";
    static final String HYBRID_NO_MEMORY = "30 23 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:4 - cgroup2 cgroup2"
            + " rw\n31 23 0:27 / /sys/fs/cgroup/pids rw,nosuid shared:5 - cgroup cgroup rw,pids\n";

    static CreateOptions options(Boolean oom, Long swappiness, long memory) {
        CreateOptions o = new CreateOptions();
        o.oomKillDisable = oom;
        o.memorySwappiness = swappiness;
        o.memory = memory;
        return o;
    }

    static ObjectNode apply(CreateOptions o, String mountinfo) throws RuntimeError {
        ObjectNode res = new ObjectMapper().createObjectNode();
        SpecResources.memoryKnobs(o, res, () -> CgroupLayout.parse(mountinfo));
        return res;
    }

    @Test
    void v1SetsBoth() throws Exception {
        CreateOptions o = options(true, 30L, 1 << 26);
        assertThat(apply(o, HYBRID).toString()).isEqualTo("{\"memory\":{\"disableOOMKiller\":true,\"swappiness\":30}}");
        assertThat(o.warnings).isEmpty();
        assertThat(o.oomKillDisable).isTrue();
        assertThat(o.memorySwappiness).isEqualTo(30);
    }

    @Test
    void v1WithoutALimitWarnsAsDockerd() throws Exception {
        CreateOptions o = options(true, null, 0);
        assertThat(apply(o, HYBRID).toString()).isEqualTo("{\"memory\":{\"disableOOMKiller\":true}}");
        assertThat(o.warnings).containsExactly("OOM killer is disabled for the container, but no memory limit is set,"
                + " this can result in the system running out of resources.");
    }

    @Test
    void v2DiscardsBothWithDockerdsWarnings() throws Exception {
        for (String layout : new String[] {V2, HYBRID_NO_MEMORY}) {
            CreateOptions o = options(true, 0L, 1 << 26);
            assertThat(apply(o, layout).toString()).isEqualTo("{}");
            assertThat(o.warnings).containsExactly(
                    "Your kernel does not support OomKillDisable. OomKillDisable discarded.",
                    "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory"
                            + " swappiness discarded.");
            assertThat(o.oomKillDisable).as("not kept: inspect shows what applies").isNull();
            assertThat(o.memorySwappiness).isNull();
        }
    }

    @Test
    void unsetAndMinusOneAskNothing() throws Exception {
        CreateOptions o = options(null, -1L, 0);
        assertThat(apply(o, V2).toString()).isEqualTo("{}");
        assertThat(o.warnings).isEmpty();
        assertThat(o.memorySwappiness).isNull();
        assertThatThrownBy(() -> apply(options(null, 101L, 0), HYBRID)).hasMessage("Invalid value: 101, valid memory"
                + " swappiness range is 0-100");
    }
}
