package dev.hull.runtime;

import dev.hull.linux.seccomp.SeccompCompiler;
import dev.hull.linux.seccomp.SeccompException;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.Spec;

/**
 * The seccomp part of the plan: {@code linux.seccomp} compiled to a BPF program (in Java, by
 * {@link SeccompCompiler}) and loaded by the executor's {@code seccomp} op (60).
 *
 * <p>Where the op goes (runc's order): with {@code process.noNewPrivileges} the init sets
 * PR_SET_NO_NEW_PRIVS and loads the filter as the last step before execve, after the exec fifo, so
 * the filter constrains nothing but the user's program. Without it, loading a filter needs
 * CAP_SYS_ADMIN, so it is loaded before the process's gid/groups/uid are set (and before
 * capabilities are dropped, which must stay after it): the remaining init steps (setgroups,
 * setresgid, setresuid, umask, the ready/start handshake: read, write, poll, close, prctl, execve)
 * then run under the filter, as they do under runc.
 */
final class PlanSeccomp {
    static final long PR_SET_NO_NEW_PRIVS = 38;

    private PlanSeccomp() {}

    /** The compiled filter, or null when the config has no linux.seccomp. */
    static SeccompCompiler.Filter compile(Spec spec) throws ConfigException {
        if (spec.linux() == null || spec.linux().seccomp() == null || spec.linux().seccomp().isNull()) {
            return null;
        }
        try {
            return SeccompCompiler.compile(spec.linux().seccomp(), "linux.seccomp");
        } catch (SeccompException e) {
            throw new ConfigException("config.json: " + e.getMessage(), e);
        }
    }

    static void load(Plan plan, SeccompCompiler.Filter filter, boolean noNewPrivileges) {
        if (noNewPrivileges) {
            plan.prctl(PR_SET_NO_NEW_PRIVS, 1); // harmless if set already
        }
        plan.seccomp(filter.flags(), filter.program());
    }
}
