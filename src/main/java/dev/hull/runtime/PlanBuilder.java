package dev.hull.runtime;

import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.Device;
import dev.hull.runtime.spec.Linux;
import dev.hull.runtime.spec.Mount;
import dev.hull.runtime.spec.MountOptions;
import dev.hull.runtime.spec.Namespace;
import dev.hull.runtime.spec.Process;
import dev.hull.runtime.spec.Spec;
import dev.hull.runtime.spec.TimeOffset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a validated spec into the executor's plan. Every decision about what
 * the container looks like is made here, in Java; the executor only carries
 * the ops out in order.
 */
public final class PlanBuilder {
    // clone/unshare/setns flags
    static final long CLONE_NEWTIME = 0x80, CLONE_NEWNS = 0x20000, CLONE_NEWCGROUP = 0x02000000,
            CLONE_NEWUTS = 0x04000000, CLONE_NEWIPC = 0x08000000, CLONE_NEWUSER = 0x10000000,
            CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000;
    // mount flags
    static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32, MS_BIND = 4096,
            MS_REC = 16384, MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20;
    static final long S_IFCHR = 0020000, S_IFBLK = 0060000, S_IFIFO = 0010000;

    /** The order namespaces are joined in: user first (it grants the rights for the rest), mount last. */
    static final List<String> JOIN_ORDER = List.of("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount");

    /** What the plan needs beyond the spec. */
    public record Context(String containerId, Path bundle, Path rootfs, Path stateDir, Path execFifo,
            List<Path> cgroupDirs, CgroupLayout cgroupLayout, boolean detach, int preserveFds, Monitor monitor) {
        public Context(String containerId, Path bundle, Path rootfs, Path stateDir, Path execFifo,
                List<Path> cgroupDirs, CgroupLayout cgroupLayout, boolean detach, int preserveFds) {
            this(containerId, bundle, rootfs, stateDir, execFifo, cgroupDirs, cgroupLayout, detach, preserveFds, null);
        }
        public Context(String containerId, Path bundle, Path rootfs, Path stateDir, Path execFifo,
                List<Path> cgroupDirs, CgroupLayout cgroupLayout, boolean detach) {
            this(containerId, bundle, rootfs, stateDir, execFifo, cgroupDirs, cgroupLayout, detach, 0);
        }
    }

    private PlanBuilder() {}

    /** Whether the spec asks for a namespace of this type, new or joined by path. */
    static boolean has(List<Namespace> namespaces, String type) {
        return namespaces.stream().anyMatch(n -> n.type().equals(type));
    }

    public static long nsFlag(String type) {
        return switch (type) {
            case "pid" -> CLONE_NEWPID;
            case "network" -> CLONE_NEWNET;
            case "mount" -> CLONE_NEWNS;
            case "ipc" -> CLONE_NEWIPC;
            case "uts" -> CLONE_NEWUTS;
            case "user" -> CLONE_NEWUSER;
            case "cgroup" -> CLONE_NEWCGROUP;
            case "time" -> CLONE_NEWTIME;
            default -> throw new IllegalArgumentException("unknown namespace type " + type);
        };
    }

    public static Plan build(Spec spec, Context ctx) throws ConfigException {
        Linux linux = spec.linux();
        Process proc = spec.process();
        if (proc == null) {
            throw new ConfigException("config.json: process: required to create a container");
        }
        if (spec.root() == null) {
            throw new ConfigException("config.json: root: required on Linux");
        }
        List<Namespace> namespaces = linux == null ? List.of() : linux.namespaces();
        // A mount namespace of the container's: a new one, or one joined by path — runc sets the
        // container up inside a joined one too (its mounts, pivot_root), as the validation suite expects.
        boolean newMountNs = has(namespaces, "mount");
        if (!newMountNs) {
            // Without a mount namespace of its own, the container shares the host's mount table:
            // Hull then makes no mount at all (nothing could leak) and enters the rootfs with chroot.
            String why = " needs a new mount namespace (a \"mount\" entry without a path in linux.namespaces)";
            if (!spec.mounts().isEmpty()) {
                throw new ConfigException("config.json: mounts:" + why);
            }
            if (spec.root().readonly()) {
                throw new ConfigException("config.json: root.readonly:" + why);
            }
            if (spec.annotations().containsKey(Annotations.ROOTFS_OVERLAY)) {
                throw new ConfigException("config.json: annotations." + Annotations.ROOTFS_OVERLAY + ":" + why);
            }
            if (namespaces.stream().anyMatch(n -> n.type().equals("user") && n.path() == null)) {
                throw new ConfigException("config.json: linux.namespaces: a new user namespace" + why
                        + " here (its devices are bind mounts)");
            }
        }

        Privileges privileges = Privileges.of(spec);

        Plan plan = new Plan();
        Monitor mon = ctx.monitor();
        if (mon != null) { // first: the executor forks here, so everything after runs in the monitor
            plan.monitor(mon.statusFile().toString(), mon.logFile() == null ? "" : mon.logFile().toString(), mon.logMaxSize(),
                    mon.logMaxFiles(), mon.restart().mode(), mon.restart().maxRetries(),
                    mon.stopMarker().toString(), mon.stdinInherit(), mon.detachKeys() == null ? "" : mon.detachKeys(),
                    mon.stdinPipe());
            for (Path dir : ctx.cgroupDirs()) {
                plan.monitorCgroup(dir.resolve("cgroup.procs").toString());
            }
            if (spec.linux() != null && spec.linux().namespace("user").map(n -> n.path() == null).orElse(false)
                    && dev.hull.linux.Syscalls.getuid() == 0) { // a restart's new init gets the maps the first one got
                plan.monitorIdMaps(RootlessRuntime.mapText(spec.linux().uidMappings()),
                        RootlessRuntime.mapText(spec.linux().gidMappings()));
            }
            if (!mon.onExit().isEmpty()) {
                plan.monitorOnExit(mon.onExit());
            } else if (!mon.onEnd().isEmpty()) {
                plan.monitorOnEnd(mon.onEnd());
            }
            if (mon.health() != null) {
                Monitor.Health h = mon.health();
                plan.monitorHealth(h.intervalMs(), h.startIntervalMs(), h.startPeriodMs(), h.argv());
            }
        }
        plan.mode(ctx.detach());
        plan.reserve(ctx.stateDir().toString());
        // What to undo if creation is aborted (the CLI is killed, the init fails).
        plan.onAbortUnlink(ctx.execFifo().toString());
        plan.onAbortUnlink(ctx.stateDir().resolve(StateStore.STATE_FILE).toString());
        plan.onAbortUnlink(ctx.stateDir().resolve(StateStore.STATE_FILE + ".tmp").toString());
        ProcessControl.onAbort(plan, spec, ctx);
        plan.onAbortRmdir(ctx.stateDir().toString());
        for (Path dir : ctx.cgroupDirs()) {
            plan.onAbortRmdir(dir.toString());
        }

        // Join existing namespaces, in an order that keeps the rights to do so.
        long cloneFlags = 0;
        boolean newUserNs = false, newCgroupNs = false;
        // as runc: the hostname is set in the container's uts namespace, new or joined by path
        boolean utsNs = has(namespaces, "uts");
        for (String type : JOIN_ORDER) {
            for (Namespace ns : namespaces) {
                if (!ns.type().equals(type)) {
                    continue;
                }
                if (ns.path() != null) {
                    plan.setns(ns.path(), nsFlag(type));
                } else if (type.equals("time")) {
                    plan.unshare(CLONE_NEWTIME);
                    plan.writeFile("/proc/self/timens_offsets", timeOffsets(linux.timeOffsets()));
                } else if (type.equals("cgroup")) {
                    newCgroupNs = true; // unshared by the init once it sits in its cgroup
                } else {
                    cloneFlags |= nsFlag(type);
                    newUserNs |= type.equals("user");
                }
            }
        }
        if (linux != null && !linux.timeOffsets().isEmpty()
                && namespaces.stream().noneMatch(n -> n.type().equals("time") && n.path() == null)) {
            throw new ConfigException("config.json: linux.timeOffsets: needs a new time namespace");
        }
        Map<Integer, Integer> trees = IdmappedMounts.plan(plan, spec, ctx, dev.hull.linux.AtFiles.geteuid() != 0,
                (cloneFlags & CLONE_NEWUSER) != 0);
        plan.clone(cloneFlags);
        ProcessControl.afterClone(plan, spec);

        // ---- in the container init, after GO ----
        if (newUserNs && !trees.containsKey(-1)) {
            becomeRoot(plan, linux);
        }
        if ((cloneFlags & CLONE_NEWNET) != 0) {
            plan.loopbackUp();
        }
        if (newCgroupNs) {
            plan.unshareInChild(CLONE_NEWCGROUP);
        }

        String rootfs = ctx.rootfs().toString();
        if (newMountNs) {
            plan.mount(null, "/", null, MS_REC | rootPropagation(linux), null, 0);
            if (rootPropagation(linux) == MS_SHARED) {
                // As runc: "/" stays shared with the host (a bidirectional volume's bind joins the host's peer
                // group, so mounts made in the container reach the host), but the mount that holds the rootfs
                // is made private, so the rootfs bind and what is mounted under it stay in the container (and
                // pivot_root accepts it: the new root's parent must not be shared).
                plan.mount(null, rootfs, null, MS_PRIVATE, null, Plan.T_CONTAINING);
            }
        }
        String overlay = spec.annotations().get(Annotations.ROOTFS_OVERLAY);
        if (trees.containsKey(-1)) {
            plan.mountTree(trees.get(-1), rootfs, 0);
        } else if (overlay != null) {
            plan.mount("overlay", rootfs, "overlay", 0, overlay, 0);
        } else {
            if (newMountNs) {
                plan.mount(rootfs, rootfs, null, MS_BIND | MS_REC, null, 0);
            }
        }
        plan.openRoot(rootfs);
        if (newUserNs && trees.containsKey(-1)) {
            becomeRoot(plan, linux); // the idmapped rootfs is in place and open
        }

        boolean devBoundFromHost = false;
        boolean procMounted = false;
        for (int i = 0; i < spec.mounts().size(); i++) {
            Mount m = spec.mounts().get(i);
            String dest = m.destination().startsWith("/") ? m.destination() : "/" + m.destination();
            MountOptions.Parsed o = MountOptions.parse(m.options());
            boolean bind = o.bind() || o.recursiveBind() || "bind".equals(m.type());
            if (bind) {
                if (m.source() == null) {
                    throw new ConfigException("config.json: mounts[" + i + "].source: a bind mount needs a source");
                }
                Path src = ctx.bundle().resolve(m.source());
                if (!Files.exists(src)) {
                    throw new ConfigException("config.json: mounts[" + i + "].source: " + src + " does not exist");
                }
                devBoundFromHost |= dest.equals("/dev");
                long createAs = Files.isDirectory(src) ? Plan.T_MKDIR : Plan.T_MKFILE;
                if (trees.containsKey(i)) {
                    plan.mountTree(trees.get(i), dest, Plan.T_IN_ROOT | createAs);
                } else {
                    plan.mount(src.toString(), dest, null, MS_BIND | (o.recursiveBind() ? MS_REC : 0), null,
                            Plan.T_IN_ROOT | createAs);
                }
                long extra = o.flags() & ~(MS_BIND | MS_REC | MS_REMOUNT);
                if (extra != 0 || o.clearFlags() != 0) {
                    plan.mount(null, dest, null, MS_REMOUNT | MS_BIND | extra, null,
                            Plan.T_IN_ROOT | Plan.T_KEEP_LOCKED);
                }
            } else if ("cgroup".equals(m.type())) {
                mountCgroups(plan, dest, o, ctx.cgroupLayout(),
                        has(namespaces, "cgroup") ? null : ctx.cgroupDirs(),
                        writableCgroups(spec.annotations().get(Annotations.CGROUP_WRITABLE)));
            } else {
                if (m.type() == null) {
                    throw new ConfigException("config.json: mounts[" + i + "].type: required for a non-bind mount");
                }
                procMounted |= dest.equals("/proc");
                plan.mount(m.source() == null ? m.type() : m.source(), dest, m.type(), o.flags(), emptyToNull(o.data()),
                        Plan.T_IN_ROOT | Plan.T_MKDIR | (special(m.type(), dest) ? Plan.T_REAL_DIR : 0));
            }
            if (o.propagationFlags() != 0) {
                plan.mount(null, dest, null, o.propagationFlags(), null, Plan.T_IN_ROOT);
            }
        }

        if (!devBoundFromHost) {
            devices(plan, linux, newUserNs || dev.hull.linux.UserNamespaces.nested(), procMounted);
        }
        ProcessControl.beforePivotRoot(plan, spec, ctx);
        plan.openFifo(ctx.execFifo().toString());
        if (newMountNs) {
            plan.pivotRoot(rootfs);
        } else {
            plan.chroot(rootfs);
        }
        if ("shared".equals(propagationName(linux)) || "rshared".equals(propagationName(linux))) {
            plan.mount(null, "/", null, MS_SHARED | MS_REC, null, 0);
        }

        // The terminal right after pivot_root: its /dev/console target is made before a read-only root
        // is made read-only; bound only in a mount namespace of the container's own, on a /dev of its own.
        ProcessControl.terminal(plan, proc, newMountNs && !devBoundFromHost);
        if ("true".equals(spec.annotations().get(Annotations.MKDIR_CWD)) && proc.cwd() != null
                && !proc.cwd().equals("/")) {
            plan.mkdir(proc.cwd(), 0755); // before a read-only root is made read-only
        }
        if (spec.root().readonly()) {
            plan.mount(null, "/", null, MS_REMOUNT | MS_BIND | MS_RDONLY, null, Plan.T_KEEP_LOCKED);
        }
        privileges.planAfterPivot(plan); // sysctls, readonlyPaths, maskedPaths
        if ("unbindable".equals(propagationName(linux)) || "runbindable".equals(propagationName(linux))) {
            // last of the mounts: in an unbindable tree neither the rootfs nor a masked or read-only
            // path could have been bound (runc sets it at the end too)
            plan.mount(null, "/", null, MS_UNBINDABLE | MS_REC, null, 0);
        }
        if (spec.hostname() != null) {
            if (!utsNs) {
                throw new ConfigException("config.json: hostname: setting a hostname needs a uts namespace (new or joined)");
            }
            plan.sethostname(spec.hostname());
        }
        if (spec.domainname() != null) {
            if (!utsNs) {
                throw new ConfigException("config.json: domainname: setting a domainname needs a uts namespace (new or joined)");
            }
            plan.setdomainname(spec.domainname());
        }
        PlanSeccomp.Seccomp seccomp = PlanSeccomp.compile(spec, SeccompNotify.executorFd(spec, proc, true, ctx.preserveFds()));
        processSteps(plan, proc, newUserNs, privileges, seccomp);
        if ("true".equals(spec.annotations().get(Annotations.EXEC_SIGNALS_BLOCKED))) {
            // before ready: `start` returns once its byte is in the exec fifo, so a stop can come while
            // the init (PID 1, no handlers yet) still waits there; blocked, the signal stays pending
            plan.blockSignals();
        }
        plan.ready();
        plan.waitStart();
        ProcessControl.beforeExec(plan, spec, ctx.preserveFds());
        loadSeccompLast(plan, proc, seccomp);
        if ("true".equals(spec.annotations().get(Annotations.INIT))) {
            List<String> init = new ArrayList<>(List.of("hull-init", "--init", "--"));
            init.addAll(proc.args());
            plan.execSelf(init);
        } else {
            plan.exec(proc.args());
        }
        return plan;
    }

    /**
     * Kernel file systems whose target must be a real directory, with no symlink on its path (runc
     * refuses proc and sysfs on a symlink): an image's /proc -> /elsewhere would otherwise put procfs
     * there, where the masked and read-only /proc paths, resolved by name, miss it.
     */
    static boolean special(String type, String dest) {
        return switch (type) {
            case "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2" -> true;
            default -> List.of("/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue").contains(dest);
        };
    }

    /**
     * The steps that turn the init (or an exec'd process, see {@link ExecPlanBuilder}) into the
     * configured process: cwd, ids, umask, env, executable lookup. Shared by create and exec so both
     * get the same confinement.
     */
    static void processSteps(Plan plan, Process proc, boolean inUserNs, Privileges privileges,
            PlanSeccomp.Seccomp seccomp) {
        privileges.planLabel(plan); // the LSM exec label (its procfs is open for that write only)
        plan.chdir(proc.cwd() == null ? "/" : proc.cwd());
        privileges.planBeforeUser(plan); // rlimits, scheduler, ioprio, personality, bounding set + keepcaps
        // Seccomp (see PlanSeccomp): without noNewPrivileges the filter needs CAP_SYS_ADMIN, so it is
        // loaded before the process's ids (and capabilities) are set; with it, as the last step before exec.
        if (PlanSeccomp.early(seccomp, proc.noNewPrivileges())) {
            PlanSeccomp.load(plan, seccomp, false);
        }
        var user = proc.user();
        if (user != null) {
            if (!user.additionalGids().isEmpty() || !inUserNs) {
                plan.setgroups(user.additionalGids());
            }
            plan.setgid(user.gid());
            plan.setuid(user.uid());
            plan.umask(user.umask() == null ? 022 : user.umask());
        } else {
            plan.umask(022);
        }
        plan.env(proc.env());
        plan.resolveExec(pathOf(proc.env()), proc.args().get(0));
        privileges.planAfterUser(plan); // capset, ambient, no_new_privs
        if (PlanSeccomp.beforeReady(seccomp, proc.noNewPrivileges())) {
            PlanSeccomp.load(plan, seccomp, true);
        }
    }

    /** With noNewPrivileges the filter is the very last step before exec (it needs no capability then). */
    static void loadSeccompLast(Plan plan, Process proc, PlanSeccomp.Seccomp seccomp) {
        if (PlanSeccomp.beforeExec(seccomp, proc.noNewPrivileges())) {
            PlanSeccomp.load(plan, seccomp, true);
        }
    }

    private static void devices(Plan plan, Linux linux, boolean userNs, boolean procMounted) {
        List<Device> devs = new ArrayList<>();
        for (String[] d : new String[][] {{"/dev/null", "1", "3"}, {"/dev/zero", "1", "5"}, {"/dev/full", "1", "7"},
                {"/dev/random", "1", "8"}, {"/dev/urandom", "1", "9"}, {"/dev/tty", "5", "0"}}) {
            devs.add(new Device("c", d[0], Long.parseLong(d[1]), Long.parseLong(d[2]), 0666, 0L, 0L));
        }
        if (linux != null) {
            for (Device d : linux.devices()) {
                devs.removeIf(x -> x.path().equals(d.path()));
                devs.add(d);
            }
        }
        boolean ptmxDevice = false;
        for (Device d : devs) {
            ptmxDevice |= d.path().equals("/dev/ptmx");
            Path parent = Path.of(d.path()).getParent();
            if (parent != null && !parent.toString().equals("/")) {
                plan.mkdir(parent.toString(), 0755);
            }
            if (userNs) {
                // mknod is not allowed in a user namespace: bind the host's node instead.
                plan.mount(d.path(), d.path(), null, MS_BIND, null, Plan.T_IN_ROOT | Plan.T_MKFILE);
            } else {
                long type = switch (d.type()) {
                    case "b" -> S_IFBLK;
                    case "p" -> S_IFIFO;
                    default -> S_IFCHR;
                };
                long mode = type | (d.fileMode() == null ? 0666 : d.fileMode() & 07777);
                plan.mknod(d.path(), mode, makedev(d.major(), d.minor()), d.uid() == null ? 0 : d.uid(),
                        d.gid() == null ? 0 : d.gid());
            }
        }
        plan.mkdir("/dev", 0755);
        plan.symlink("/proc/self/fd", "/dev/fd");
        plan.symlink("/proc/self/fd/0", "/dev/stdin");
        plan.symlink("/proc/self/fd/1", "/dev/stdout");
        plan.symlink("/proc/self/fd/2", "/dev/stderr");
        if (!ptmxDevice) {
            plan.symlink("pts/ptmx", "/dev/ptmx");
        }
        if (procMounted) {
            plan.symlink("/proc/kcore", "/dev/core");
        }
    }

    /** glibc's makedev encoding. */
    static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12)
                | (minor & 0xffL);
    }

    /**
     * A cgroup mount. On cgroup v1 (and hybrid) hosts, a tmpfs with one mount per hierarchy: in a
     * cgroup namespace, the hierarchy itself (its root is the namespace's); without one
     * ({@code ownDirs}: the container's cgroup directories), as runc does, a bind of the
     * container's own directory of that hierarchy — mounting the hierarchy would show the host's
     * whole tree, other containers included.
     */
    private static void mountCgroups(Plan plan, String dest, MountOptions.Parsed o, CgroupLayout layout,
            List<Path> ownDirs, java.util.Set<String> writable) {
        long flags = o.flags() & ~MS_RDONLY;
        boolean ro = (o.flags() & MS_RDONLY) != 0;
        if (layout.mode() == CgroupLayout.Mode.V2) {
            plan.mount("cgroup2", dest, "cgroup2", writable.contains("unified") ? flags : o.flags(), null,
                    Plan.T_IN_ROOT | Plan.T_MKDIR | Plan.T_REAL_DIR);
            return;
        }
        plan.mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755",
                Plan.T_IN_ROOT | Plan.T_MKDIR | Plan.T_REAL_DIR);
        for (CgroupLayout.V1Hierarchy h : layout.v1()) {
            String name = String.join(",", h.controllers()).replace("name=", "");
            hierarchy(plan, h.mountPoint(), dest + "/" + name, "cgroup", String.join(",", h.controllers()), flags,
                    ro && !writable.contains(name), ownDirs);
        }
        if (layout.unifiedMount() != null) {
            hierarchy(plan, layout.unifiedMount(), dest + "/unified", "cgroup2", null, flags,
                    ro && !writable.contains("unified"), ownDirs);
        }
        if (ro) {
            plan.mount(null, dest, null, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755",
                    Plan.T_IN_ROOT);
        }
    }

    /** The hierarchy names of {@link Annotations#CGROUP_WRITABLE} (none if absent). */
    private static java.util.Set<String> writableCgroups(String value) {
        java.util.Set<String> out = new java.util.HashSet<>();
        if (value != null) {
            for (String n : value.split(",")) {
                if (!n.isBlank()) {
                    out.add(n.strip());
                }
            }
        }
        return out;
    }

    /**
     * One hierarchy (mounted on the host at mountPoint) on target: the container's own directory of
     * it bound there when ownDirs lists one (no cgroup namespace), else the hierarchy mounted.
     */
    private static void hierarchy(Plan plan, Path mountPoint, String target, String fstype, String data, long flags,
            boolean ro, List<Path> ownDirs) {
        Path own = ownDirs == null ? null : ownDirs.stream()
                .filter(d -> d.startsWith(mountPoint) && !d.equals(mountPoint)).findFirst().orElse(null);
        if (own == null) {
            plan.mount(fstype, target, fstype, flags | (ro ? MS_RDONLY : 0), data, Plan.T_IN_ROOT | Plan.T_MKDIR);
            return;
        }
        plan.mount(own.toString(), target, null, MS_BIND, null, Plan.T_IN_ROOT | Plan.T_MKDIR);
        plan.mount(null, target, null, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC | (ro ? MS_RDONLY : 0),
                null, Plan.T_IN_ROOT | Plan.T_KEEP_LOCKED);
    }

    private static String propagationName(Linux linux) {
        return linux == null ? null : linux.rootfsPropagation();
    }

    /**
     * Propagation for "/" in the new mount namespace while the rootfs is set up. Shared stays shared (as runc's
     * prepareRoot: a slave step would cut the container off from the host's peer groups, and a bidirectional
     * ("rshared") volume would then only receive); the mount holding the rootfs is made private instead.
     */
    private static long rootPropagation(Linux linux) {
        String p = propagationName(linux);
        if (p == null) {
            return MS_SLAVE;
        }
        return switch (p.startsWith("r") ? p.substring(1) : p) {
            case "private", "unbindable" -> MS_PRIVATE; // unbindable: made so after pivot_root
            case "shared" -> MS_SHARED; // and "/" made shared again after pivot_root (a peer group of its own)
            default -> MS_SLAVE;
        };
    }

    /**
     * Become root of the new user namespace (the maps are written by now). With an idmapped rootfs (the
     * engine's --userns=auto), only once it is mounted and open: until then the init is the host's root to the
     * host's files, and the rootfs may sit in a directory only root may walk (the engine's store); bind
     * sources are trees the executor opened ({@link IdmappedMounts}), and pivot_root goes through the open root.
     */
    private static void becomeRoot(Plan plan, Linux linux) {
        if (maps(linux.gidMappings(), 0)) {
            plan.setgid(0);
        }
        if (maps(linux.uidMappings(), 0)) {
            plan.setuid(0);
        }
    }

    private static boolean maps(List<dev.hull.runtime.spec.IdMapping> maps, long id) {
        for (var m : maps) {
            if (id >= m.containerID() && id < m.containerID() + m.size()) {
                return true;
            }
        }
        return false;
    }

    private static String timeOffsets(Map<String, TimeOffset> offsets) {
        StringBuilder sb = new StringBuilder();
        for (var e : offsets.entrySet()) {
            sb.append(e.getKey()).append(' ').append(e.getValue().secs()).append(' ')
                    .append(e.getValue().nanosecs()).append('\n');
        }
        return sb.toString();
    }

    static String pathOf(List<String> env) {
        String path = null;
        for (String e : env) {
            if (e.startsWith("PATH=")) {
                path = e.substring(5);
            }
        }
        return path;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
