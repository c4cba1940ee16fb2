package dev.hull.runtime;

import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.Namespace;
import dev.hull.runtime.spec.Process;
import dev.hull.runtime.spec.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The plan for {@code exec}: join every namespace the container's init is in (user first, mount
 * last; the executor's clone makes the new process a member of the joined pid namespace), then
 * the same process steps as the init ({@link PlanBuilder#processSteps}), and no wait on the exec
 * fifo. setns into the mount namespace puts root and cwd at that namespace's root, which is the
 * container's root after its pivot_root, so no chroot is needed.
 */
final class ExecPlanBuilder {
    private ExecPlanBuilder() {}

    /** /proc/PID/ns/ file names of the spec's namespace types. */
    static String nsFile(String type) {
        return switch (type) {
            case "network" -> "net";
            case "mount" -> "mnt";
            default -> type;
        };
    }

    /**
     * As root, the container's user namespace is joined after the others (but mount): a namespace it joined by path
     * (a bridge network's, owned by the host's) is no longer ours to join from inside it, while those the
     * container made are owned by its user namespace, which we (root of an ancestor) may enter them from.
     */
    static final List<String> EXEC_JOIN_ORDER = List.of("ipc", "uts", "network", "pid", "cgroup", "time", "user", "mount");

    static Plan build(Spec spec, Process proc, int initPid, boolean detach, int preserveFds) throws IOException {
        Plan plan = new Plan();
        plan.mode(detach);
        List<Namespace> namespaces = spec.linux() == null ? List.of() : spec.linux().namespaces();
        boolean inUserNs = false;
        // A container without a mount namespace (new or joined by path: both are pivoted into the rootfs)
        // was entered with chroot: so is its exec (else its process, cwd and terminal would be the host's).
        boolean ownMountNs = PlanBuilder.has(namespaces, "mount");
        // An unprivileged caller (rootless hull-runtime) gets its rights over the others from the user namespace
        for (String type : dev.hull.linux.AtFiles.geteuid() == 0 ? EXEC_JOIN_ORDER : PlanBuilder.JOIN_ORDER) {
            if (namespaces.stream().noneMatch(n -> n.type().equals(type))) {
                continue; // shared with the host: nothing to join
            }
            Path theirs = Path.of("/proc", Integer.toString(initPid), "ns", nsFile(type));
            Path ours = Path.of("/proc/self/ns", nsFile(type));
            if (Files.readSymbolicLink(theirs).equals(Files.readSymbolicLink(ours))) {
                continue; // joining the namespace we are in (user: EINVAL) changes nothing
            }
            plan.setns(theirs.toString(), PlanBuilder.nsFlag(type));
            inUserNs |= type.equals("user");
        }
        plan.clone(0);
        if (!ownMountNs) {
            plan.chroot("/proc/" + initPid + "/root");
        }
        ProcessControl.terminal(plan, proc, false);
        Privileges privileges;
        try {
            // The exec'd process gets the same confinement rules as the init, from its own process section.
            privileges = Privileges.of(new Spec(spec.ociVersion(), proc, spec.root(), spec.hostname(),
                    spec.domainname(), spec.mounts(), spec.linux(), spec.hooks(), spec.annotations(), spec.raw()));
        } catch (dev.hull.runtime.spec.ConfigException e) {
            throw new IOException(e.getMessage(), e);
        }
        PlanSeccomp.Seccomp seccomp;
        try {
            seccomp = PlanSeccomp.compile(spec, SeccompNotify.executorFd(spec, proc, false, preserveFds));
        } catch (dev.hull.runtime.spec.ConfigException e) {
            throw new IOException(e.getMessage(), e);
        }
        PlanBuilder.processSteps(plan, proc, inUserNs, privileges, seccomp);
        plan.ready();
        if (preserveFds > 0) {
            plan.preserveFds(ProcessControl.preservedFrom(proc, false), preserveFds);
        }
        PlanBuilder.loadSeccompLast(plan, proc, seccomp);
        plan.exec(proc.args());
        return plan;
    }
}
