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
 *
 * <p>A filter with SCMP_ACT_NOTIFY is loaded by op 61 ({@code seccomp-notify}), which also sends the
 * listener fd to Java on the notify socket ({@link SeccompNotify}); Java passes it on to
 * {@code listenerPath} during create, so the filter must be loaded before {@code ready}: with
 * noNewPrivileges it is the last step before {@code ready} (after PR_SET_NO_NEW_PRIVS) instead of
 * the last before exec.
 */
final class PlanSeccomp {
    static final long PR_SET_NO_NEW_PRIVS = 38;

    private PlanSeccomp() {}

    /** A compiled filter and, when it notifies, the executor's fd the listener fd is sent on. */
    record Seccomp(SeccompCompiler.Filter filter, int notifyFd) {}

    /** The compiled filter, or null when the config has no linux.seccomp; notifyFd as in {@link Seccomp}. */
    static Seccomp compile(Spec spec, int notifyFd) throws ConfigException {
        SeccompCompiler.Filter f = compile(spec);
        return f == null ? null : new Seccomp(f, f.notifies() ? notifyFd : -1);
    }

    static SeccompCompiler.Filter compile(Spec spec) throws ConfigException {
        if (spec.linux() == null || spec.linux().seccomp() == null || spec.linux().seccomp().isNull()) {
            return null;
        }
        com.fasterxml.jackson.databind.JsonNode profile = spec.linux().seccomp();
        SeccompCompiler.Filter cached = COMPILED.get(profile); // JsonNode: deep equals and hashCode
        if (cached != null) {
            return cached;
        }
        try {
            SeccompCompiler.Filter f = SeccompCompiler.compile(profile, "linux.seccomp");
            if (COMPILED.size() >= 16) {
                COMPILED.clear();
            }
            COMPILED.put(profile.deepCopy(), f); // a key of its own: nobody can change it
            return f;
        } catch (SeccompException e) {
            throw new ConfigException("config.json: " + e.getMessage(), e);
        }
    }

    /**
     * Filters compiled in this JVM, by the profile (its JSON tree): the warm server meets the same
     * profile (Docker's default, for hull run) over and over, and compiling it is the largest
     * piece of Java work in a create (~1-3 ms, done twice: for the plan and the notify check).
     * A Filter is never changed (the plan copies the program).
     */
    private static final java.util.Map<com.fasterxml.jackson.databind.JsonNode, SeccompCompiler.Filter> COMPILED =
            new java.util.concurrent.ConcurrentHashMap<>();

    static void load(Plan plan, Seccomp s, boolean noNewPrivileges) {
        if (noNewPrivileges) {
            plan.prctl(PR_SET_NO_NEW_PRIVS, 1); // harmless if set already
        }
        if (s.filter().notifies()) {
            plan.seccompNotify(s.filter().flags(), s.filter().program(), s.notifyFd());
        } else {
            plan.seccomp(s.filter().flags(), s.filter().program());
        }
    }

    /** Where the op goes: early (before the ids) without noNewPrivileges, else late; see the class comment. */
    static boolean early(Seccomp s, boolean noNewPrivileges) {
        return s != null && !noNewPrivileges;
    }

    /** With noNewPrivileges, a notifying filter is loaded just before ready (Java must get its fd during create). */
    static boolean beforeReady(Seccomp s, boolean noNewPrivileges) {
        return s != null && noNewPrivileges && s.filter().notifies();
    }

    /** With noNewPrivileges, any other filter is the very last step before exec. */
    static boolean beforeExec(Seccomp s, boolean noNewPrivileges) {
        return s != null && noNewPrivileges && !s.filter().notifies();
    }
}
