package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.DefaultSpec;
import dev.hull.runtime.spec.Spec;
import dev.hull.runtime.spec.SpecParser;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The LSM exec label is the first of a process's steps (init and exec alike): before its cwd, its
 * seccomp filter, its ids and capabilities. It takes effect at the exec only; written there, the
 * executor opens its own procfs (no mask, no read-only path) for that write alone, while the process
 * still holds its capabilities and no filter of the user's can refuse the procfs. A host with
 * AppArmor is assumed (the plan is only built, never run).
 */
class LabelOrderTest {
    static final ObjectMapper M = new ObjectMapper();

    static List<String> steps(boolean noNewPrivileges) throws Exception {
        ObjectNode c = DefaultSpec.create(false);
        ObjectNode proc = (ObjectNode) c.get("process");
        proc.put("terminal", false);
        proc.put("noNewPrivileges", noNewPrivileges);
        proc.put("apparmorProfile", "hull-test");
        ObjectNode user = proc.putObject("user");
        user.put("uid", 1000);
        user.put("gid", 1000);
        ObjectNode s = ((ObjectNode) c.get("linux")).putObject("seccomp");
        s.put("defaultAction", "SCMP_ACT_ALLOW");
        s.putArray("syscalls").addObject().put("action", "SCMP_ACT_ERRNO").putArray("names").add("mkdir");
        Spec spec = SpecParser.parse(M.writeValueAsBytes(c), "config.json");
        HostPrivileges here = HostPrivileges.current();
        Set<String> lsms = new HashSet<>(here.lsms());
        lsms.add("apparmor");
        HostPrivileges host = new HostPrivileges(here.bounding(), here.permitted(), here.effective(), here.capLastCap(),
                here.hardLimits(), here.nrOpen(), lsms);
        Plan plan = new Plan().clone(0);
        PlanBuilder.processSteps(plan, spec.process(), false, Privileges.of(spec, host), PlanSeccomp.compile(spec, -1));
        PlanBuilder.loadSeccompLast(plan, spec.process(), PlanSeccomp.compile(spec, -1));
        return plan.ops().stream().map(o -> o.toString().replaceAll("\\[.*", "")).toList();
    }

    @Test
    void theLabelIsWrittenFirstOfTheProcessSteps() throws Exception {
        for (boolean nnp : new boolean[] {false, true}) {
            List<String> ops = steps(nnp);
            assertThat(ops).as("noNewPrivileges %s: %s", nnp, ops).containsOnlyOnce("lsm-exec", "seccomp");
            assertThat(ops.get(1)).as("the first step after the clone: %s", ops).isEqualTo("lsm-exec");
            assertThat(ops.indexOf("lsm-exec")).as("%s", ops).isLessThan(ops.indexOf("chdir"))
                    .isLessThan(ops.indexOf("seccomp")).isLessThan(ops.indexOf("setuid")).isLessThan(ops.indexOf("caps"));
        }
    }
}
