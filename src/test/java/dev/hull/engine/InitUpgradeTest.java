package dev.hull.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.Annotations;
import org.junit.jupiter.api.Test;

/**
 * A --init container made by an older Hull bound the host's executor at /dev/hull-init (a privileged
 * container could remount that bind read-write); its config is rewritten to today's form when it
 * starts again: no bind, the user's args, the init exec'd from the executor's sealed executable.
 */
class InitUpgradeTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void anOlderInitConfigLosesTheBindOfTheHostsExecutor() throws Exception {
        ObjectNode spec = (ObjectNode) JSON.readTree("""
                {"process": {"args": ["/dev/hull-init", "--init", "--", "sh", "-c", "sleep 1"]},
                 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                            {"destination": "/dev/hull-init", "type": "bind", "source": "/opt/hull/hull-executor",
                             "options": ["bind", "ro"]}],
                 "annotations": {"run.hull.rootfs.overlay": "lowerdir=/a"}}
                """);
        assertThat(ContainerSpecBuilder.upgradeInit(spec)).isTrue();
        assertThat(spec.toString()).doesNotContain("hull-init").doesNotContain("hull-executor");
        assertThat(spec.path("process").path("args").toString()).isEqualTo("[\"sh\",\"-c\",\"sleep 1\"]");
        assertThat(spec.path("annotations").path(Annotations.INIT).asText()).isEqualTo("true");
        assertThat(spec.path("annotations").path(Annotations.EXEC_SIGNALS_BLOCKED).asText()).isEqualTo("true");
        assertThat(spec.path("mounts").size()).isEqualTo(1);
        // today's configs are left as they are
        assertThat(ContainerSpecBuilder.upgradeInit(spec)).isFalse();
    }
}
