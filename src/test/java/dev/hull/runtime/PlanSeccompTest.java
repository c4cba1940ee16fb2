package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.DefaultSpec;
import dev.hull.runtime.spec.SpecParser;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where the seccomp op goes in the plan (runc's order), and bad profiles fail at plan time. */
class PlanSeccompTest {
    static List<String> ops(ObjectNode config) throws Exception {
        var spec = SpecParser.parse(Bundles.JSON.writeValueAsBytes(config), "config.json");
        Path b = Path.of("/tmp/hull-plan-seccomp");
        Plan plan = PlanBuilder.build(spec, new PlanBuilder.Context("x", b, b.resolve("rootfs"), b.resolve("state"),
                b.resolve("state/fifo"), List.of(), new CgroupLayout(CgroupLayout.Mode.V2, Path.of("/sys/fs/cgroup"),
                        List.of()), true));
        return plan.ops().stream().map(o -> o.toString().replaceAll("\\[.*", "")).toList();
    }

    static ObjectNode config(boolean noNewPrivileges) {
        ObjectNode c = DefaultSpec.create(false);
        ObjectNode proc = (ObjectNode) c.get("process");
        proc.put("terminal", false);
        proc.put("noNewPrivileges", noNewPrivileges);
        ObjectNode user = proc.putObject("user");
        user.put("uid", 1000);
        user.put("gid", 1000);
        ObjectNode s = ((ObjectNode) c.get("linux")).putObject("seccomp");
        s.put("defaultAction", "SCMP_ACT_ALLOW");
        s.putArray("syscalls").addObject().put("action", "SCMP_ACT_ERRNO").putArray("names").add("mkdir");
        return c;
    }

    @Test
    void withNoNewPrivilegesTheFilterIsTheLastStepBeforeExec() throws Exception {
        List<String> ops = ops(config(true));
        assertThat(ops.subList(ops.size() - 4, ops.size())).containsExactly("wait-start", "prctl", "seccomp", "exec");
        assertThat(ops).containsOnlyOnce("seccomp");
    }

    @Test
    void withoutItTheFilterIsLoadedBeforeTheIdsAreSet() throws Exception {
        List<String> ops = ops(config(false));
        assertThat(ops).containsOnlyOnce("seccomp").doesNotContain("prctl");
        assertThat(ops.indexOf("seccomp")).isLessThan(ops.indexOf("setgroups")).isLessThan(ops.indexOf("setgid"))
                .isLessThan(ops.indexOf("setuid"));
    }

    @Test
    void noSeccompNoOp() throws Exception {
        ObjectNode c = config(true);
        ((ObjectNode) c.get("linux")).remove("seccomp");
        assertThat(ops(c)).doesNotContain("seccomp");
    }

    @Test
    void badProfileIsAConfigError() {
        ObjectNode c = config(true);
        ((ObjectNode) c.at("/linux/seccomp/syscalls/0")).putArray("names").add("mkdri");
        assertThatThrownBy(() -> ops(c)).isInstanceOf(ConfigException.class)
                .hasMessage("config.json: linux.seccomp.syscalls[0].names[0]: unknown syscall \"mkdri\" for x86_64");
    }
}
