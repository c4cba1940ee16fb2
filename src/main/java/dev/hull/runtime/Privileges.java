package dev.hull.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.CapabilityNames;
import dev.hull.runtime.spec.Capabilities;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.Linux;
import dev.hull.runtime.spec.Namespace;
import dev.hull.runtime.spec.Process;
import dev.hull.runtime.spec.Rlimit;
import dev.hull.runtime.spec.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The "privilege" part of a container's confinement: capabilities, noNewPrivileges, rlimits,
 * oomScoreAdj, ioPriority, scheduler, personality, sysctls, masked and read-only paths, LSM labels.
 * Everything is validated and decided here when the plan is built; the executor only carries out
 * the ops (70-89, see docs/executor-protocol.md). {@link PlanBuilder} calls the four
 * {@code plan*} methods at their places in the init's sequence:
 * <ol>
 * <li>{@link #planAfterPivot}: sysctls (through the container's /proc), then read-only paths, then
 *     masked paths (as runc does);
 * <li>{@link #planBeforeUser}: rlimits, scheduler, I/O priority, personality (while the init still
 *     holds every capability), then the bounding set is cut and PR_SET_KEEPCAPS set, so the
 *     permitted set survives a setuid to a non-root user;
 * <li>{@link #planLabel}: the LSM exec label, first of the process's steps (see there);
 * <li>{@link #planAfterUser}: capset of effective/permitted/inheritable, ambient raise, and last
 *     PR_SET_NO_NEW_PRIVS (before any seccomp op, which needs it).
 * </ol>
 * A capability this host cannot give (not in Hull's own bounding/permitted set, e.g. CAP_SYS_RESOURCE
 * on a host that lacks it, or beyond the kernel's cap_last_cap) is left out of every set: the
 * container still runs. runc filters only names it does not know or that lie beyond the kernel's
 * last capability (it warns "ignoring unknown or unavailable capabilities"); a capability merely
 * missing from its own permitted set reaches capset, which the kernel refuses with EPERM. Hull
 * leaves such capabilities out instead, and makes unknown names an error naming the field.
 */
public final class Privileges {
    static final long PR_SET_NO_NEW_PRIVS = 38;
    static final long PER_LINUX = 0, PER_LINUX32 = 8;

    private static final List<String> RLIMITS = List.of("RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA",
            "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK",
            "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO",
            "RLIMIT_RTTIME");
    private static final List<String> SCHED_POLICIES = List.of("SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",
            "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE");
    private static final List<String> SCHED_FLAGS = List.of("SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",
            "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS",
            "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX");
    private static final List<String> IPC_SYSCTLS = List.of("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
            "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced");

    /** Capability masks, after leaving out what the host cannot give. */
    record Caps(long bounding, long effective, long permitted, long inheritable, long ambient) {}

    record Limit(int resource, long soft, long hard) {}

    record Sched(long policy, long flags, long nice, long priority, long runtime, long deadline, long period) {}

    private final Caps caps;
    private final boolean noNewPrivileges;
    private final List<Limit> rlimits;
    private final Long ioprio;
    private final Sched sched;
    private final Long personality;
    private final Map<String, String> sysctls; // key as a path under /proc/sys -> value
    private final List<String> maskedPaths;
    private final List<String> readonlyPaths;
    private final String[] lsmExec; // attr file, fallback, content
    private final Integer oomScoreAdj;
    private long allCaps;

    private Privileges(Caps caps, boolean noNewPrivileges, List<Limit> rlimits, Long ioprio, Sched sched,
            Long personality, Map<String, String> sysctls, List<String> maskedPaths, List<String> readonlyPaths,
            String[] lsmExec, Integer oomScoreAdj) {
        this.caps = caps;
        this.noNewPrivileges = noNewPrivileges;
        this.rlimits = rlimits;
        this.ioprio = ioprio;
        this.sched = sched;
        this.personality = personality;
        this.sysctls = sysctls;
        this.maskedPaths = maskedPaths;
        this.readonlyPaths = readonlyPaths;
        this.lsmExec = lsmExec;
        this.oomScoreAdj = oomScoreAdj;
    }

    /** Validates the spec's privilege settings against this host. */
    public static Privileges of(Spec spec) throws ConfigException {
        return of(spec, HostPrivileges.current());
    }

    static Privileges of(Spec spec, HostPrivileges host) throws ConfigException {
        Process proc = spec.process();
        Linux linux = spec.linux();
        List<Namespace> namespaces = linux == null ? List.of() : linux.namespaces();
        boolean userNs = namespaces.stream().anyMatch(n -> n.type().equals("user"));
        Caps caps = proc.capabilities() == null ? null : caps(proc.capabilities(), host, userNs);
        List<Limit> limits = rlimits(proc.rlimits(), host);
        Long ioprio = ioPriority(proc.raw() == null ? null : proc.raw().get("ioPriority"));
        Sched sched = scheduler(proc.raw() == null ? null : proc.raw().get("scheduler"));
        Integer oom = proc.oomScoreAdj();
        if (oom != null && (oom < -1000 || oom > 1000)) {
            throw new ConfigException("config.json: process.oomScoreAdj: " + oom + " is out of range -1000..1000");
        }
        Long persona = null;
        Map<String, String> sysctls = new TreeMap<>();
        List<String> masked = List.of(), readonly = List.of();
        if (linux != null) {
            if (linux.personalityDomain() != null) {
                JsonNode flags = linux.raw() == null ? null : linux.raw().path("personality").get("flags");
                if (flags != null && flags.isArray() && !flags.isEmpty()) {
                    throw new ConfigException("config.json: linux.personality.flags: not supported by Hull"
                            + " (only the domain, LINUX or LINUX32)");
                }
                persona = linux.personalityDomain().equals("LINUX32") ? PER_LINUX32 : PER_LINUX;
            }
            for (var e : new TreeMap<>(linux.sysctl()).entrySet()) {
                sysctls.put(sysctlPath(e.getKey(), namespaces), e.getValue());
            }
            masked = paths(linux.maskedPaths(), "linux.maskedPaths");
            readonly = paths(linux.readonlyPaths(), "linux.readonlyPaths");
        }
        String[] lsm = lsm(proc, linux, host);
        Privileges p = new Privileges(caps, proc.noNewPrivileges(), limits, ioprio, sched, persona, sysctls, masked,
                readonly, lsm, oom);
        p.allCaps = host.allCaps();
        return p;
    }

    // ---- the plan ----

    /** After pivot_root (the container's /proc is in place): sysctls, read-only paths, masked paths. */
    public void planAfterPivot(Plan plan) {
        sysctls.forEach(plan::sysctl);
        readonlyPaths.forEach(plan::readonlyPath);
        maskedPaths.forEach(plan::maskPath);
    }

    /** Before setgroups/setgid/setuid. */
    public void planBeforeUser(Plan plan) {
        for (Limit l : rlimits) {
            plan.rlimit(l.resource(), l.soft(), l.hard());
        }
        if (sched != null) {
            plan.sched(sched.policy(), sched.flags(), sched.nice(), sched.priority(), sched.runtime(),
                    sched.deadline(), sched.period());
        }
        if (ioprio != null) {
            plan.ioprio(ioprio);
        }
        if (personality != null) {
            plan.personality(personality);
        }
        if (caps != null) {
            plan.capBounding(allCaps & ~caps.bounding());
        }
    }

    /**
     * The LSM label for the exec, first of the process's steps: it takes effect at the exec only, and
     * written while the process still holds its capabilities and no seccomp filter, the executor
     * opens its own procfs for this write alone and closes it at once (an exec'd process held that
     * procfs, which has no mask, from its first op to a label write after its setuid).
     */
    public void planLabel(Plan plan) {
        if (lsmExec != null) {
            plan.lsmExec(lsmExec[0], lsmExec[1], lsmExec[2]);
        }
    }

    /** After setuid, before the init reports ready. */
    public void planAfterUser(Plan plan) {
        if (caps != null) {
            plan.caps(caps.effective(), caps.permitted(), caps.inheritable(), caps.ambient());
        }
        if (noNewPrivileges) {
            plan.prctl(PR_SET_NO_NEW_PRIVS, 1);
        }
    }

    /** process.oomScoreAdj, written by Java between the init's PID and GO (the init inherits nothing else). */
    public static void applyOomScoreAdj(Spec spec, int pid) throws RuntimeError {
        Integer oom = spec.process() == null ? null : spec.process().oomScoreAdj();
        if (oom == null) {
            return;
        }
        Path file = Path.of("/proc", Integer.toString(pid), "oom_score_adj");
        try {
            Files.writeString(file, oom.toString());
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "config.json: process.oomScoreAdj: writing " + oom
                    + " to " + file + " failed: " + e.getMessage()
                    + (oom < 0 ? " (lowering it needs CAP_SYS_RESOURCE)" : ""));
        }
    }

    Caps caps() {
        return caps;
    }

    // ---- validation ----

    static Caps caps(Capabilities c, HostPrivileges host, boolean userNs) throws ConfigException {
        // In a user namespace (new or joined) the init holds every capability of that namespace.
        long availBounding = userNs ? host.allCaps() : host.bounding() & host.allCaps();
        long availPermitted = userNs ? host.allCaps() : host.permitted() & host.allCaps();
        String at = "config.json: process.capabilities.";
        long askedBounding = mask(c.bounding(), "bounding"), askedPermitted = mask(c.permitted(), "permitted");
        long askedEffective = mask(c.effective(), "effective"), askedInheritable = mask(c.inheritable(), "inheritable");
        long askedAmbient = mask(c.ambient(), "ambient");
        long bounding = askedBounding & availBounding;
        long permitted = askedPermitted & availPermitted & availBounding;
        long effective = askedEffective & availPermitted & availBounding;
        long inheritable = askedInheritable & availBounding;
        long ambient = askedAmbient & availPermitted & availBounding;
        // The runtime spec: a capability the platform cannot give SHOULD be logged as a warning, and
        // the container still created (runc does both).
        long missing = (askedBounding | askedInheritable) & ~availBounding
                | (askedPermitted | askedEffective | askedAmbient) & ~(availPermitted & availBounding);
        if (missing != 0) {
            System.err.println("warning: process.capabilities: " + names(missing)
                    + " cannot be given on this host (not in Hull's own capability sets): left out");
        }
        if ((ambient & ~(permitted & inheritable)) != 0) {
            // runc raises each ambient capability and only warns when the kernel refuses (`runc spec`
            // lists ambient ones that are not inheritable)
            System.err.println("warning: process.capabilities.ambient: " + names(ambient & ~(permitted & inheritable))
                    + " not in both the permitted and the inheritable set, so the kernel cannot raise them: left out");
            ambient &= permitted & inheritable;
        }
        if ((effective & ~permitted) != 0) {
            throw new ConfigException(at + "effective: " + names(effective & ~permitted)
                    + " not in the permitted set (the kernel requires effective ⊆ permitted)");
        }
        if ((inheritable & ~bounding) != 0) {
            throw new ConfigException(at + "inheritable: " + names(inheritable & ~bounding)
                    + " not in the bounding set (the kernel requires inheritable ⊆ bounding)");
        }
        return new Caps(bounding, effective, permitted, inheritable, ambient);
    }

    private static long mask(List<String> names, String set) throws ConfigException {
        long m = 0;
        for (int i = 0; i < names.size(); i++) {
            int n = CapabilityNames.number(names.get(i));
            if (n < 0) {
                throw new ConfigException("config.json: process.capabilities." + set + "[" + i + "]: unknown capability \""
                        + names.get(i) + "\" (expected one of CAP_CHOWN ... " + CapabilityNames.name(
                                CapabilityNames.NAMES.size() - 1) + ")");
            }
            m |= 1L << n;
        }
        return m;
    }

    static String names(long mask) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            if ((mask >>> i & 1) != 0) {
                out.add(CapabilityNames.name(i));
            }
        }
        return String.join(", ", out);
    }

    static List<Limit> rlimits(List<Rlimit> rlimits, HostPrivileges host) throws ConfigException {
        List<Limit> out = new ArrayList<>();
        for (int i = 0; i < rlimits.size(); i++) {
            Rlimit r = rlimits.get(i);
            String at = "config.json: process.rlimits[" + i + "]";
            int res = RLIMITS.indexOf(r.type());
            if (res < 0) {
                throw new ConfigException(at + ".type: unknown rlimit \"" + r.type() + "\" (expected one of "
                        + String.join(", ", RLIMITS) + ")");
            }
            if (Long.compareUnsigned(r.soft(), r.hard()) > 0) {
                throw new ConfigException(at + ": " + r.type() + " soft limit " + Long.toUnsignedString(r.soft())
                        + " exceeds its hard limit " + Long.toUnsignedString(r.hard()));
            }
            long ceiling = host.ceiling(res);
            if (ceiling != -1 && Long.compareUnsigned(r.hard(), ceiling) > 0) {
                throw new ConfigException(at + ": " + r.type() + " hard limit " + unlimited(r.hard())
                        + " exceeds this host's ceiling " + ceiling
                        + (host.hasCapSysResource() ? " (fs.nr_open)" : " (no CAP_SYS_RESOURCE)"));
            }
            out.add(new Limit(res, r.soft(), r.hard()));
        }
        return out;
    }

    private static String unlimited(long v) {
        return v == -1 ? "unlimited" : Long.toUnsignedString(v);
    }

    static Long ioPriority(JsonNode io) throws ConfigException {
        if (io == null || io.isNull()) {
            return null;
        }
        String at = "config.json: process.ioPriority";
        long cls = switch (io.path("class").asText()) {
            case "IOPRIO_CLASS_RT" -> 1;
            case "IOPRIO_CLASS_BE" -> 2;
            case "IOPRIO_CLASS_IDLE" -> 3;
            default -> throw new ConfigException(at + ".class: unknown class \"" + io.path("class").asText() + "\"");
        };
        long prio = io.path("priority").asLong(0);
        if (prio < 0 || prio > 7) {
            throw new ConfigException(at + ".priority: " + prio + " is out of range 0..7");
        }
        return cls << 13 | (cls == 3 ? 0 : prio);
    }

    static Sched scheduler(JsonNode s) throws ConfigException {
        if (s == null || s.isNull()) {
            return null;
        }
        String at = "config.json: process.scheduler";
        String name = s.path("policy").asText();
        int policy = SCHED_POLICIES.indexOf(name);
        if (policy < 0) {
            throw new ConfigException(at + ".policy: unknown policy \"" + name + "\"");
        }
        if (name.equals("SCHED_ISO")) {
            throw new ConfigException(at + ".policy: SCHED_ISO is not implemented by Linux");
        }
        long nice = s.path("nice").asLong(0);
        if (nice < -20 || nice > 19) {
            throw new ConfigException(at + ".nice: " + nice + " is out of range -20..19");
        }
        long prio = s.path("priority").asLong(0);
        boolean rt = name.equals("SCHED_FIFO") || name.equals("SCHED_RR");
        if (rt && (prio < 1 || prio > 99)) {
            throw new ConfigException(at + ".priority: " + name + " needs a priority in 1..99, got " + prio);
        }
        if (!rt && prio != 0) {
            throw new ConfigException(at + ".priority: " + name + " takes no priority (0), got " + prio);
        }
        long flags = 0;
        JsonNode f = s.get("flags");
        if (f != null) {
            for (int i = 0; i < f.size(); i++) {
                int bit = SCHED_FLAGS.indexOf(f.get(i).asText());
                if (bit < 0) {
                    throw new ConfigException(at + ".flags[" + i + "]: unknown flag \"" + f.get(i).asText() + "\"");
                }
                flags |= 1L << bit;
            }
        }
        long runtime = s.path("runtime").asLong(0), deadline = s.path("deadline").asLong(0),
                period = s.path("period").asLong(0);
        if (name.equals("SCHED_DEADLINE")) {
            if (runtime <= 0 || (deadline != 0 && runtime > deadline) || (period != 0 && deadline > period)) {
                throw new ConfigException(at + ": SCHED_DEADLINE needs 0 < runtime <= deadline <= period");
            }
        } else if (runtime != 0 || deadline != 0 || period != 0) {
            throw new ConfigException(at + ": runtime, deadline and period are for SCHED_DEADLINE only");
        }
        return new Sched(policy, flags, nice, prio, runtime, deadline, period);
    }

    /**
     * The path under /proc/sys of a sysctl key, if it belongs to a namespace the container has of
     * its own: ipc (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*), network (net.*), uts
     * (kernel.hostname, kernel.domainname). Anything else would change the host: an error.
     */
    static String sysctlPath(String key, List<Namespace> namespaces) throws ConfigException {
        String at = "config.json: linux.sysctl: \"" + key + "\"";
        if (!key.matches("[A-Za-z0-9_.\\-/]+") || key.contains("..") || key.startsWith(".") || key.startsWith("/")) {
            throw new ConfigException(at + ": not a valid sysctl name");
        }
        String dotted = key.replace('/', '.');
        String ns;
        if (IPC_SYSCTLS.contains(dotted) || dotted.startsWith("kernel.shm") || dotted.startsWith("kernel.msg")
                || dotted.startsWith("fs.mqueue.")) {
            ns = "ipc";
        } else if (dotted.startsWith("net.")) {
            ns = "network";
        } else if (dotted.equals("kernel.hostname") || dotted.equals("kernel.domainname")) {
            ns = "uts";
        } else {
            throw new ConfigException(at + ": not namespaced (it would change the host): Hull only sets sysctls"
                    + " of the container's own ipc (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*),"
                    + " network (net.*) or uts (kernel.hostname, kernel.domainname) namespace");
        }
        Namespace own = null;
        for (Namespace n : namespaces) {
            if (n.type().equals(ns)) {
                own = n;
            }
        }
        boolean hosts = own == null;
        if (own != null && own.path() != null) {
            String proc = ns.equals("network") ? "net" : ns;
            try {
                hosts = Files.isSameFile(Path.of(own.path()), Path.of("/proc/self/ns/" + proc));
            } catch (IOException e) {
                hosts = false; // the join itself will report a bad path
            }
        }
        if (hosts) {
            throw new ConfigException(at + ": needs the container's own " + ns + " namespace"
                    + " (linux.namespaces has none), else it would change the host's");
        }
        return key.indexOf('/') >= 0 ? key : key.replace('.', '/');
    }

    private static List<String> paths(List<String> paths, String field) throws ConfigException {
        for (int i = 0; i < paths.size(); i++) {
            if (!paths.get(i).startsWith("/")) {
                throw new ConfigException("config.json: " + field + "[" + i + "]: must be an absolute path, got \""
                        + paths.get(i) + "\"");
            }
        }
        return paths;
    }

    static String[] lsm(Process proc, Linux linux, HostPrivileges host) throws ConfigException {
        String have = host.lsms().isEmpty() ? "none" : String.join(",", host.lsms());
        String[] exec = null;
        if (proc.apparmorProfile() != null && !proc.apparmorProfile().isEmpty()) {
            if (!host.lsms().contains("apparmor")) {
                throw new ConfigException("config.json: process.apparmorProfile: this host has no AppArmor (its"
                        + " active LSMs: " + have + "); remove the field to run without a profile");
            }
            exec = new String[] {"/proc/self/attr/apparmor/exec", "/proc/self/attr/exec",
                    "exec " + proc.apparmorProfile()};
        }
        if (proc.selinuxLabel() != null && !proc.selinuxLabel().isEmpty()) {
            if (!host.lsms().contains("selinux")) {
                throw new ConfigException("config.json: process.selinuxLabel: this host has no SELinux (its"
                        + " active LSMs: " + have + "); remove the field");
            }
            if (exec != null) {
                throw new ConfigException("config.json: process.selinuxLabel: set together with apparmorProfile;"
                        + " Hull applies one LSM label");
            }
            exec = new String[] {"/proc/self/attr/exec", null, proc.selinuxLabel()};
        }
        if (linux != null && linux.mountLabel() != null && !linux.mountLabel().isEmpty()) {
            if (!host.lsms().contains("selinux")) {
                throw new ConfigException("config.json: linux.mountLabel: this host has no SELinux (its active LSMs: "
                        + have + "); remove the field");
            }
            throw new ConfigException("config.json: linux.mountLabel: SELinux mount labels are not supported by"
                    + " Hull yet");
        }
        return exec;
    }
}
