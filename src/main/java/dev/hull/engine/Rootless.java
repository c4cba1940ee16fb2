package dev.hull.engine;

import dev.hull.engine.network.NetworkStore;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.Caller;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Rootless mode: Hull run by an ordinary user, inside the user's own user namespace (bin/hull-userns
 * makes or joins it and marks the commands it runs with HULL_ROOTLESS=1). The JVM is root there but
 * nothing of the host's is its own: the store, the state and the config are the user's, by the XDG
 * rules (podman's rootless layout):
 * <ul>
 * <li>store (HULL_HOME): {@code $XDG_DATA_HOME/hull}, else {@code ~/.local/share/hull};
 * <li>state (HULL_STATE): {@code $XDG_RUNTIME_DIR/hull}, else {@code /tmp/hull-UID} (0700; bin/hull-userns
 * applies the same rule for the namespace holder's pid, and passes it down as HULL_STATE);
 * <li>config (hull.json, registries.json): {@code $XDG_CONFIG_HOME/hull}, else {@code ~/.config/hull}.
 * </ul>
 * What needs the host's root refuses with an error that names what is missing ({@link #refuse}):
 * cgroup limits (no delegated cgroup), and networks other than none where no user-mode network
 * stack can run ({@link RootlessNetwork}: the default network falls back to none).
 */
public final class Rootless {
    private Rootless() {}

    /** Whether this command runs rootless: marked by bin/hull-userns and really in a mapped user namespace. */
    public static boolean active() {
        return "1".equals(Caller.getenv("HULL_ROOTLESS")) && dev.hull.linux.UserNamespaces.nested();
    }

    /** The default store: $XDG_DATA_HOME/hull, else ~/.local/share/hull. */
    public static Path home() {
        return xdg("XDG_DATA_HOME", ".local/share");
    }

    /** The default state: $XDG_RUNTIME_DIR/hull when that is a directory, else /tmp/hull-UID (the user's uid outside). */
    public static Path state() {
        String run = Caller.getenv("XDG_RUNTIME_DIR");
        if (run != null && !run.isEmpty() && Files.isDirectory(Path.of(run))) {
            return Path.of(run, "hull");
        }
        return Path.of("/tmp/hull-" + outsideUid());
    }

    /** The config directory: $XDG_CONFIG_HOME/hull, else ~/.config/hull. */
    public static Path config() {
        return xdg("XDG_CONFIG_HOME", ".config");
    }

    private static Path xdg(String var, String underHome) {
        String v = Caller.getenv(var);
        if (v != null && !v.isEmpty()) {
            return Path.of(v, "hull");
        }
        String home = Caller.getenv("HOME");
        if (home == null || home.isEmpty()) {
            throw new IllegalStateException("hull: rootless: neither " + var + " nor HOME is set");
        }
        return Path.of(home, underHome, "hull");
    }

    /** The uid this namespace's root is outside (the first line of uid_map: "0 UID 1"). */
    static long outsideUid() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/uid_map")).trim().split("\\s+");
            return Long.parseLong(f[1]);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("hull: rootless: cannot read /proc/self/uid_map: " + e.getMessage(), e);
        }
    }

    /**
     * The options of a rootless container, before the config file's defaults: cgroup limits refused
     * (no cgroup is delegated: {@link #noDelegation}), the default pids limit left out, and, without a
     * user-mode network stack (networked false: {@link RootlessNetwork#choose}), the network: the
     * default ("bridge") falls back to none (a network namespace with only loopback), anything else is
     * refused, naming why.
     */
    static void limit(CreateOptions o, boolean networked) throws RuntimeError {
        java.util.Map<String, Boolean> limits = new java.util.LinkedHashMap<>();
        limits.put("-m/--memory", o.memory > 0);
        limits.put("--memory-swap", o.memorySwap != 0);
        limits.put("--cpus", o.cpus > 0);
        limits.put("--cpu-shares", o.cpuShares > 0);
        limits.put("--cpuset-cpus", o.cpusetCpus != null);
        limits.put("--pids-limit", o.pidsLimit != null && o.pidsLimit > 0);
        limits.put("--oom-kill-disable", Boolean.TRUE.equals(o.oomKillDisable));
        limits.put("--memory-swappiness", o.memorySwappiness != null && o.memorySwappiness >= 0);
        limits.put("--cgroup-parent", o.cgroupParent != null && !o.cgroupParent.isEmpty());
        limits.put("--device/--device-cgroup-rule", !o.devices.isEmpty() || !o.deviceCgroupRules.isEmpty());
        for (var l : limits.entrySet()) {
            if (l.getValue()) {
                throw refuse(l.getKey(), noDelegation());
            }
        }
        o.pidsLimit = 0L; // not the config file's default: nothing could hold it
        String mode = o.network == null ? NetworkStore.DEFAULT : o.network;
        if (mode.equals("host")) { // the user's own network namespace, the host's: no stack needed (adapt: /sys)
            if (!o.publish.isEmpty() || o.publishAll) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                        "-p/--publish has no meaning with --network host: the container's ports are the host's");
            }
            return;
        }
        if (networked) {
            return;
        }
        String why = RootlessNetwork.choose().why();
        if (!o.publish.isEmpty() || o.publishAll) {
            throw refuse("-p/--publish", "published ports need a user-mode network stack: " + why);
        }
        if (mode.equals(NetworkStore.DEFAULT) && o.ip == null && o.connections.isEmpty()) {
            o.network = "none";
        } else if (!mode.equals("none") || o.ip != null || !o.connections.isEmpty()) {
            throw refuse("--network " + mode, "only none here (the default falls back to none): " + why);
        }
    }

    /** Why a rootless container can have no cgroup limit on this host. */
    static String noDelegation() {
        String host;
        try {
            host = switch (dev.hull.linux.cgroup.CgroupLayout.detect().mode()) {
                case V2 -> "this host mounts cgroup v2, but rootless Hull does not use a delegated cgroup yet";
                case HYBRID -> "this host mounts cgroup v1 (hybrid), which cannot be delegated to a user";
                case LEGACY -> "this host mounts cgroup v1, which cannot be delegated to a user";
            };
        } catch (IOException | RuntimeException e) {
            host = "this host's cgroups are unreadable (" + e.getMessage() + ")";
        }
        return "a limit needs a cgroup delegated to the user, and none is: " + host + " (a cgroup v2 host,"
                + " systemd.unified_cgroup_hierarchy=1, whose user@.service has Delegate=memory pids cpu, is needed)";
    }

    /**
     * The spec of a rootless container: no cgroup of its own ({@link Annotations#NO_CGROUP}); with
     * {@code --network host} it stays in the user's network namespace, the host's, whose sysfs belongs to the
     * host's root: /sys is the host's bound read-only instead, as podman and runc do rootless.
     */
    static void adapt(com.fasterxml.jackson.databind.node.ObjectNode spec, CreateOptions o) {
        ((com.fasterxml.jackson.databind.node.ObjectNode) spec.get("annotations")).put(Annotations.NO_CGROUP, "true");
        if ("host".equals(o.network)) {
            UsernsAuto.sysfsBound(spec);
        }
    }

    /**
     * {@code hull info}'s line: the namespace's mappings (the user's ranges, as mapped when the namespace was
     * made: {@code hull system migrate} after they change), cgroup delegation, and the network.
     */
    static String describe() {
        RootlessNetwork.Choice net = RootlessNetwork.choose();
        return "yes (uid_map " + map("uid_map") + "; gid_map " + map("gid_map") + "; cgroup delegation: none, "
                + delegationFact() + "; network: " + (net.tool() == null ? "none, " : "") + net.why()
                + (net.tool() == null ? "" : dev.hull.engine.network.UserModeNetwork.hostLoopback()
                        ? ", the host's loopback reachable (HULL_ROOTLESS_HOST_LOOPBACK=1)"
                        : ", the host's loopback unreachable") + ")";
    }

    private static String map(String file) {
        try {
            return Files.readString(Path.of("/proc/self", file)).trim().replaceAll("\\s+", " ");
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    /** Why no cgroup is delegated here, in a few words. */
    private static String delegationFact() {
        try {
            return switch (dev.hull.linux.cgroup.CgroupLayout.detect().mode()) {
                case V2 -> "cgroup v2 host, delegated cgroups not used yet: limits refused";
                case HYBRID -> "cgroup v1 (hybrid) host: limits refused";
                case LEGACY -> "cgroup v1 host: limits refused";
            };
        } catch (IOException | RuntimeException e) {
            return "cgroups unreadable (" + e.getMessage() + ")";
        }
    }

    /**
     * The pid of the user's namespace holder recorded in pidFile ("PID START", bin/hull-userns) when it is
     * that very process (its start time) and in this user namespace, else -1: gone, or another by now.
     */
    public static int holder(Path pidFile) {
        try {
            String[] f = Files.readString(pidFile).trim().split("\\s+");
            Path proc = Path.of("/proc", f[0]);
            String stat = Files.readString(proc.resolve("stat"));
            String start = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]; // field 22, the start time
            boolean same = f.length > 1 && start.equals(f[1]) && Files.readSymbolicLink(proc.resolve("ns/user"))
                    .equals(Files.readSymbolicLink(Path.of("/proc/self/ns/user")));
            return same ? Integer.parseInt(f[0]) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The error for what rootless Hull cannot do yet: "hull: rootless: WHAT: WHY". */
    public static RuntimeError refuse(String what, String why) {
        return new RuntimeError(RuntimeError.Kind.FAILED,
                "rootless: " + what + ": " + why);
    }
}
