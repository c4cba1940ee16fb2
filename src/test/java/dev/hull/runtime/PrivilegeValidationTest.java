package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.Capabilities;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.Namespace;
import dev.hull.runtime.spec.Rlimit;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Privileges' decisions against a made-up host (no kernel involved). */
class PrivilegeValidationTest {
    static final ObjectMapper M = new ObjectMapper();
    static final long ALL = (1L << 41) - 1, SYS_RESOURCE = 1L << 24;
    /** Like this machine: no CAP_SYS_RESOURCE, RLIMIT_NOFILE hard limit 20000. */
    static final HostPrivileges HOST = new HostPrivileges(ALL & ~SYS_RESOURCE, ALL & ~SYS_RESOURCE,
            ALL & ~SYS_RESOURCE, 40, List.of(-1L, -1L, -1L, -1L, -1L, -1L, 1000L, 20000L), 1048576, Set.of());

    static Capabilities caps(List<String> b, List<String> e, List<String> i, List<String> p, List<String> a) {
        return new Capabilities(b, e, i, p, a);
    }

    @Test
    void capabilityMasks() throws Exception {
        var c = Privileges.caps(caps(List.of("CAP_CHOWN", "CAP_NET_BIND_SERVICE"), List.of("CAP_NET_BIND_SERVICE"),
                List.of("CAP_NET_BIND_SERVICE"), List.of("CAP_CHOWN", "CAP_NET_BIND_SERVICE"),
                List.of("CAP_NET_BIND_SERVICE")), HOST, false);
        assertThat(c).isEqualTo(new Privileges.Caps(1 | 1 << 10, 1 << 10, 1 | 1 << 10, 1 << 10, 1 << 10));
    }

    @Test
    void aCapabilityTheHostLacksIsLeftOutUnlessInAUserNamespace() throws Exception {
        var req = caps(List.of("CAP_SYS_RESOURCE", "CAP_KILL"), List.of("CAP_SYS_RESOURCE"), List.of(),
                List.of("CAP_SYS_RESOURCE"), List.of());
        assertThat(Privileges.caps(req, HOST, false)).isEqualTo(new Privileges.Caps(1 << 5, 0, 0, 0, 0));
        assertThat(Privileges.caps(req, HOST, true))
                .isEqualTo(new Privileges.Caps(SYS_RESOURCE | 1 << 5, SYS_RESOURCE, SYS_RESOURCE, 0, 0));
    }

    @Test
    void inconsistentSetsAreRejected() {
        assertThatThrownBy(() -> Privileges.caps(caps(List.of("CAP_KILL"), List.of("CAP_KILL"), List.of(), List.of(),
                List.of()), HOST, false)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("process.capabilities.effective: CAP_KILL not in the permitted set");
        assertThatThrownBy(() -> Privileges.caps(caps(List.of(), List.of(), List.of("CAP_KILL"), List.of(),
                List.of()), HOST, false)).hasMessageContaining("process.capabilities.inheritable: CAP_KILL");
        assertThatThrownBy(() -> Privileges.caps(caps(List.of("CAP_KILL"), List.of(), List.of(), List.of(),
                List.of("CAP_BOGUS")), HOST, false)).hasMessageContaining("process.capabilities.ambient[0]")
                .hasMessageContaining("CAP_BOGUS");
    }

    @Test
    void rlimits() throws Exception {
        assertThat(Privileges.rlimits(List.of(new Rlimit("RLIMIT_NOFILE", 20000, 1024)), HOST))
                .containsExactly(new Privileges.Limit(7, 1024, 20000));
        assertThatThrownBy(() -> Privileges.rlimits(List.of(new Rlimit("RLIMIT_CORE", 0, 0),
                new Rlimit("RLIMIT_NOFILE", 1048576, 1024)), HOST)).hasMessage("config.json: process.rlimits[1]:"
                + " RLIMIT_NOFILE hard limit 1048576 exceeds this host's ceiling 20000 (no CAP_SYS_RESOURCE)");
        assertThatThrownBy(() -> Privileges.rlimits(List.of(new Rlimit("RLIMIT_NPROC", -1, 10)), HOST))
                .hasMessageContaining("RLIMIT_NPROC hard limit unlimited exceeds this host's ceiling 1000");
        assertThatThrownBy(() -> Privileges.rlimits(List.of(new Rlimit("RLIMIT_CPU", 1, 2)), HOST))
                .hasMessageContaining("process.rlimits[0]: RLIMIT_CPU soft limit 2 exceeds its hard limit 1");
        assertThatThrownBy(() -> Privileges.rlimits(List.of(new Rlimit("RLIMIT_BOGUS", 1, 1)), HOST))
                .hasMessageContaining("process.rlimits[0].type");
    }

    @Test
    void sysctls() throws Exception {
        List<Namespace> all = List.of(new Namespace("ipc", null), new Namespace("network", null),
                new Namespace("uts", null));
        assertThat(Privileges.sysctlPath("kernel.shmmax", all)).isEqualTo("kernel/shmmax");
        assertThat(Privileges.sysctlPath("fs.mqueue.msg_max", all)).isEqualTo("fs/mqueue/msg_max");
        assertThat(Privileges.sysctlPath("net.ipv4.conf.all.forwarding", all)).isEqualTo("net/ipv4/conf/all/forwarding");
        assertThat(Privileges.sysctlPath("net/ipv4/conf/eth0.100/forwarding", all))
                .isEqualTo("net/ipv4/conf/eth0.100/forwarding");
        assertThat(Privileges.sysctlPath("kernel.hostname", all)).isEqualTo("kernel/hostname");
        assertThatThrownBy(() -> Privileges.sysctlPath("kernel.shmmax", List.of()))
                .hasMessageContaining("linux.sysctl: \"kernel.shmmax\": needs the container's own ipc namespace");
        assertThatThrownBy(() -> Privileges.sysctlPath("net.core.somaxconn",
                List.of(new Namespace("network", "/proc/self/ns/net"))))
                .hasMessageContaining("own network namespace");
        assertThatThrownBy(() -> Privileges.sysctlPath("vm.swappiness", all)).hasMessageContaining("not namespaced");
        assertThatThrownBy(() -> Privileges.sysctlPath("net/../../vm/swappiness", all))
                .hasMessageContaining("not a valid sysctl name");
    }

    @Test
    void schedulerAndIoPriority() throws Exception {
        ObjectNode s = M.createObjectNode().put("policy", "SCHED_RR").put("priority", 10);
        s.putArray("flags").add("SCHED_FLAG_RESET_ON_FORK");
        assertThat(Privileges.scheduler(s)).isEqualTo(new Privileges.Sched(2, 1, 0, 10, 0, 0, 0));
        assertThatThrownBy(() -> Privileges.scheduler(M.createObjectNode().put("policy", "SCHED_ISO")))
                .hasMessageContaining("process.scheduler.policy");
        assertThatThrownBy(() -> Privileges.scheduler(M.createObjectNode().put("policy", "SCHED_OTHER").put("nice", 30)))
                .hasMessageContaining("process.scheduler.nice");
        assertThat(Privileges.ioPriority(M.createObjectNode().put("class", "IOPRIO_CLASS_BE").put("priority", 6)))
                .isEqualTo(2L << 13 | 6);
        assertThatThrownBy(() -> Privileges.ioPriority(M.createObjectNode().put("class", "IOPRIO_CLASS_BE")
                .put("priority", 8))).hasMessageContaining("process.ioPriority.priority");
    }

    @Test
    void planOrder() throws Exception {
        // Bounding set before setuid, capset after, no_new_privs last: checked on a whole plan.
        ObjectNode spec = dev.hull.runtime.spec.DefaultSpec.create(false);
        ((ObjectNode) spec.get("process")).put("terminal", false);
        ((ObjectNode) spec.get("root")).put("path", "/");
        var parsed = dev.hull.runtime.spec.SpecParser.parse(M.writeValueAsBytes(spec), "config.json");
        Plan plan = PlanBuilder.build(parsed, new PlanBuilder.Context("x", java.nio.file.Path.of("/tmp"),
                java.nio.file.Path.of("/"), java.nio.file.Path.of("/tmp/x"), java.nio.file.Path.of("/tmp/x/f"),
                List.of(), new dev.hull.linux.cgroup.CgroupLayout(dev.hull.linux.cgroup.CgroupLayout.Mode.V2,
                        java.nio.file.Path.of("/sys/fs/cgroup"), List.of()), true));
        List<String> names = plan.ops().stream().map(o -> o.toString().replaceAll("\\[.*", "")).toList();
        assertThat(names).containsSubsequence("pivot-root", "readonly-path", "mask-path", "rlimit", "cap-bounding",
                "setgid", "setuid", "caps", "prctl", "ready", "exec");
    }
}
