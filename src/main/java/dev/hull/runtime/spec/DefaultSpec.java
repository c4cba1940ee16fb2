package dev.hull.runtime.spec;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The starter {@code config.json} that {@code hull spec} writes: the same document as
 * {@code runc spec} (and {@code runc spec --rootless}), with hostname "hull" and ociVersion
 * {@link SpecParser#SPEC_VERSION}.
 */
public final class DefaultSpec {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String[] CAPS = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

    private DefaultSpec() {}

    /**
     * Builds the default spec. With {@code rootless}, like {@code runc spec --rootless}: no network
     * namespace, a new user namespace mapping container root to the current effective uid/gid, /sys
     * bind-mounted (rbind, read-only) from the host instead of a new sysfs, uid=/gid= mount options
     * dropped (e.g. devpts gid=5), and no linux.resources. Both carry Hull's default seccomp
     * profile (Docker's equivalent, {@code DefaultSeccomp}) for the default capabilities.
     */
    public static ObjectNode create(boolean rootless) {
        ObjectNode spec = F.objectNode();
        spec.put("ociVersion", SpecParser.SPEC_VERSION);

        ObjectNode process = spec.putObject("process");
        process.put("terminal", true);
        ObjectNode user = process.putObject("user");
        user.put("uid", 0);
        user.put("gid", 0);
        strings(process.putArray("args"), "sh");
        strings(process.putArray("env"),
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm");
        process.put("cwd", "/");
        ObjectNode caps = process.putObject("capabilities");
        strings(caps.putArray("bounding"), CAPS);
        strings(caps.putArray("effective"), CAPS);
        strings(caps.putArray("permitted"), CAPS);
        ObjectNode nofile = process.putArray("rlimits").addObject();
        nofile.put("type", "RLIMIT_NOFILE");
        nofile.put("hard", 1024);
        nofile.put("soft", 1024);
        process.put("noNewPrivileges", true);

        ObjectNode root = spec.putObject("root");
        root.put("path", "rootfs");
        root.put("readonly", true);
        spec.put("hostname", "hull");

        ArrayNode mounts = spec.putArray("mounts");
        mount(mounts, "/proc", "proc", "proc");
        mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
        if (rootless) {
            mount(mounts, "/dev/pts", "devpts", "devpts",
                    "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620");
        } else {
            mount(mounts, "/dev/pts", "devpts", "devpts",
                    "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
        }
        mount(mounts, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k");
        mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
        if (rootless) {
            mount(mounts, "/sys", "none", "/sys", "rbind", "nosuid", "noexec", "nodev", "ro");
        } else {
            mount(mounts, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
        }
        mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro");

        ObjectNode linux = spec.putObject("linux");
        if (rootless) {
            idMap(linux.putArray("uidMappings"), Ids.euid());
            idMap(linux.putArray("gidMappings"), Ids.egid());
        }
        strings(linux.putArray("maskedPaths"),
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
                "/sys/devices/virtual/tpm");
        strings(linux.putArray("readonlyPaths"),
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
        if (!rootless) {
            ObjectNode deny = linux.putObject("resources").putArray("devices").addObject();
            deny.put("allow", false);
            deny.put("access", "rwm");
        }
        ArrayNode ns = linux.putArray("namespaces");
        for (String t : rootless
                ? new String[] {"pid", "ipc", "uts", "mount", "cgroup", "user"}
                : new String[] {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
            ns.addObject().put("type", t);
        }
        // Unlike runc's spec, Hull's default confines syscalls too: a profile equivalent to
        // Docker's default, shaped by the bounding capabilities above.
        linux.set("seccomp", dev.hull.linux.seccomp.DefaultSeccomp.profile(java.util.List.of(CAPS)));
        return spec;
    }

    private static void strings(ArrayNode a, String... values) {
        for (String v : values) {
            a.add(v);
        }
    }

    private static void mount(ArrayNode mounts, String dest, String type, String source, String... options) {
        ObjectNode m = mounts.addObject();
        m.put("destination", dest);
        m.put("type", type);
        m.put("source", source);
        if (options.length > 0) {
            strings(m.putArray("options"), options);
        }
    }

    private static void idMap(ArrayNode a, long hostId) {
        ObjectNode m = a.addObject();
        m.put("containerID", 0);
        m.put("hostID", hostId);
        m.put("size", 1);
    }

    /** Effective uid/gid of this process, from /proc/self/status (no JNI, no extra JDK modules). */
    static final class Ids {
        private Ids() {}

        static long euid() {
            return field("Uid:");
        }

        static long egid() {
            return field("Gid:");
        }

        private static long field(String prefix) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith(prefix)) {
                        // "Uid:\treal\teffective\tsaved\tfs"
                        String[] f = line.substring(prefix.length()).trim().split("\\s+");
                        return Long.parseLong(f[1]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("cannot read effective " + prefix + " from /proc/self/status", e);
            }
            throw new IllegalStateException("no " + prefix + " line in /proc/self/status");
        }
    }
}
