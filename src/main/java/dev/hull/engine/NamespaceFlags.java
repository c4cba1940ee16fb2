package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * docker's --pid, --ipc, --uts, --cgroupns, --device, --device-cgroup-rule, --cgroup-parent and --volumes-from: which namespaces
 * the container shares (the host's, or another container's, joined when it starts), the host devices
 * it gets (a node in its /dev, allowed in its device cgroup with the permissions given, nothing
 * more), and another container's mounts. Each weakens isolation only as docker's does.
 */
final class NamespaceFlags {
    /** docker's --device-cgroup-rule. */
    private static final Pattern CGROUP_RULE = Pattern.compile("^([acb]) ([0-9]+|\\*):([0-9]+|\\*) ([rwm]{1,3})$");
    /** A shareable container's /dev/shm, in its directory: another's --ipc container: binds it too. */
    static final String SHM_DIR = "shm";

    private NamespaceFlags() {}

    /**
     * At create, before the spec: the modes checked, --uts host's hostname (the host's), the
     * containers named by --pid/--ipc container: found (the IPC donor must be shareable), and
     * --volumes-from's mounts added to o.volumes.
     */
    static void atCreate(CreateOptions o, ContainerStore containers, String id) throws RuntimeError, IOException {
        if (o.pid != null && !o.pid.isEmpty() && !o.pid.equals("host") && !container(o.pid)) {
            throw bad("--pid: invalid PID mode");
        }
        if (o.uts != null && !o.uts.isEmpty() && !o.uts.equals("host")) {
            throw bad("--uts: invalid UTS mode");
        }
        if (o.cgroupns != null && !o.cgroupns.isEmpty() && !o.cgroupns.equals("host")
                && !o.cgroupns.equals("private")) {
            throw bad("--cgroupns: invalid CGROUP mode (use host or private)");
        }
        String ipc = o.ipc == null ? "" : o.ipc;
        if (!List.of("", "private", "shareable", "none", "host").contains(ipc) && !container(ipc)) {
            throw bad("invalid IPC mode: " + ipc);
        }
        if ("host".equals(o.uts)) {
            if (o.hostname != null && !o.hostname.isEmpty()) {
                throw bad("Conflicting options: hostname and the UTS mode");
            }
            o.hostname = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        }
        if (container(o.pid)) {
            other(containers, o.pid, id, "--pid");
        }
        if (container(ipc)) {
            ContainerInfo donor = other(containers, ipc, id, "--ipc");
            String mode = donor.options() == null || donor.options().ipc == null ? "" : donor.options().ipc;
            if (!mode.equals("shareable") && !mode.equals("host")) {
                throw bad("container " + ipc.substring("container:".length()) + ": non-shareable IPC (hint: use"
                        + " IpcMode:shareable for the donor container)");
            }
        }
        for (String from : o.volumesFrom) {
            String[] p = from.split(":", 2);
            String mode = p.length > 1 ? p[1] : null;
            if (mode != null && !mode.equals("ro") && !mode.equals("rw")) {
                throw bad("invalid mode: " + mode);
            }
            ContainerInfo src = other(containers, "container:" + p[0], id, "--volumes-from");
            for (String v : src.options() == null ? List.<String>of() : src.options().volumes) {
                String[] f = v.split(":");
                if (f.length < 2) {
                    continue;
                }
                String modes = f.length > 2 ? f[2] : "rw";
                if (mode != null) { // ro or rw for all of them; the other modes kept
                    modes = mode + modes.replaceAll("(^|,)(ro|rw)(?=,|$)", "").replaceAll("^,?", ",");
                    modes = modes.endsWith(",") ? modes.substring(0, modes.length() - 1) : modes;
                }
                o.volumes.add(f[0] + ":" + f[1] + ":" + modes);
            }
        }
    }

    private static boolean container(String mode) {
        return mode != null && mode.startsWith("container:") && mode.length() > "container:".length();
    }

    private static ContainerInfo other(ContainerStore containers, String mode, String id, String flag)
            throws RuntimeError, IOException {
        ContainerInfo info = containers.resolve(mode.substring("container:".length()));
        if (info.id().equals(id)) {
            throw bad(flag + " " + mode + " is this container");
        }
        return info;
    }

    /** The spec's namespaces, /dev/shm, devices and device rules as the flags say. */
    static void apply(CreateOptions o, ObjectNode spec, Path dir) throws RuntimeError, IOException {
        ObjectNode linux = (ObjectNode) spec.get("linux");
        ArrayNode ns = (ArrayNode) linux.get("namespaces");
        if ("host".equals(o.pid)) {
            removeNamespace(ns, "pid");
        }
        if ("host".equals(o.uts)) {
            removeNamespace(ns, "uts");
            spec.remove("hostname"); // the host's, which the container cannot change
        }
        if ("host".equals(o.cgroupns)) {
            if (spec.path("annotations").has(dev.hull.runtime.Annotations.CGROUP_WRITABLE)) {
                throw bad("--cgroupns host: systemd as the container's init needs a cgroup namespace of its own");
            }
            removeNamespace(ns, "cgroup");
        }
        String ipc = o.ipc == null ? "" : o.ipc;
        ArrayNode mounts = (ArrayNode) spec.get("mounts");
        switch (ipc) {
            case "none" -> removeMount(mounts, "/dev/shm");
            case "host" -> {
                removeNamespace(ns, "ipc");
                shmBind(mounts, "/dev/shm");
            }
            case "shareable" -> {
                Path shm = Files.createDirectories(dir.resolve(SHM_DIR));
                Files.setAttribute(shm, "unix:mode", 01777);
                shmBind(mounts, shm.toString());
            }
            default -> { } // private; container:NAME is joined at start (joinAtStart)
        }
        if (o.cgroupParent != null && !o.cgroupParent.isEmpty()) {
            String parent = o.cgroupParent.replaceAll("^/+|/+$", "");
            if (parent.isEmpty() || List.of(parent.split("/+")).stream().anyMatch(c -> c.equals(".") || c.equals(".."))
                    || parent.contains("\0") || parent.contains("\n")) {
                throw bad("--cgroup-parent " + o.cgroupParent + ": use a cgroup path like /my-group (no . or ..)");
            }
            // docker's cgroupfs driver: PARENT/ID from the hierarchy's root (relative to init's cgroup, the root)
            linux.put("cgroupsPath", "/" + parent + "/" + dir.getFileName());
        }
        ObjectNode res = linux.has("resources") ? (ObjectNode) linux.get("resources") : linux.putObject("resources");
        ArrayNode rules = res.has("devices") ? (ArrayNode) res.get("devices") : res.putArray("devices");
        ArrayNode devices = linux.has("devices") ? (ArrayNode) linux.get("devices") : linux.putArray("devices");
        for (String d : o.devices) {
            if (!CdiDevices.isQualifiedName(d)) { // vendor.com/class=name: a CDI device, CdiDevices
                device(d, devices, rules);
            }
        }
        for (String r : o.deviceCgroupRules) {
            Matcher m = CGROUP_RULE.matcher(r);
            if (!m.matches()) {
                throw bad("invalid argument \"" + r + "\" for \"--device-cgroup-rule\" flag: invalid device cgroup"
                        + " format '" + r + "'");
            }
            ObjectNode rule = rules.addObject();
            rule.put("allow", true);
            rule.put("type", m.group(1));
            if (!m.group(2).equals("*")) {
                rule.put("major", Long.parseLong(m.group(2)));
            }
            if (!m.group(3).equals("*")) {
                rule.put("minor", Long.parseLong(m.group(3)));
            }
            rule.put("access", m.group(4));
        }
    }

    /**
     * --device HOST[:CONTAINER][:PERMS] by docker's rules: HOST a device node (symlinks followed, as
     * docker's) or a directory of them; each made at CONTAINER (default HOST) with the host's mode and
     * owner, and allowed in the device cgroup with PERMS only.
     */
    private static void device(String spec, ArrayNode devices, ArrayNode rules) throws RuntimeError {
        String[] p = spec.split(":", -1);
        if (p.length > 3 || p[0].isEmpty()) {
            throw bad("bad format for path: " + spec);
        }
        String perms = "rwm";
        String dst = null;
        if (p.length == 3) {
            if (!validPerms(p[2])) {
                throw bad("bad mode specified: " + p[2]);
            }
            perms = p[2];
            dst = p[1];
        } else if (p.length == 2) {
            if (validPerms(p[1])) {
                perms = p[1];
            } else {
                dst = p[1];
            }
        }
        if (dst == null) {
            dst = p[0];
        }
        if (!dst.startsWith("/")) {
            throw bad(dst + " is not an absolute path");
        }
        Path host = dev.hull.runtime.Caller.absolute(Path.of(p[0]));
        List<Path[]> nodes = new ArrayList<>(); // host node, path in the container
        if (Files.isDirectory(host)) {
            try (var walk = Files.walk(host)) {
                for (Path f : walk.sorted().toList()) {
                    if (!Files.isDirectory(f) && type(f) != null) {
                        nodes.add(new Path[] {f, Path.of(dst).resolve(host.relativize(f))});
                    }
                }
            } catch (IOException e) {
                throw gathering(p[0], e.getMessage());
            }
        } else if (!Files.exists(host)) {
            throw gathering(p[0], "no such file or directory");
        } else if (type(host) == null) {
            throw gathering(p[0], "not a device node");
        } else {
            nodes.add(new Path[] {host, Path.of(dst)});
        }
        for (Path[] n : nodes) {
            try {
                HostDevice.stat(n[0]).addTo(n[1].toString(), perms, devices, rules);
            } catch (IOException e) {
                throw gathering(p[0], e.getMessage());
            }
        }
    }

    private static RuntimeError gathering(String path, String why) {
        return bad("error gathering device information while adding custom device \"" + path + "\": " + why);
    }

    /** "c", "b", or null: not a device node. */
    private static String type(Path p) {
        try {
            HostDevice d = HostDevice.stat(p);
            return d == null ? null : d.type();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** docker's validDeviceMode: r, w and m, each at most once. */
    private static boolean validPerms(String s) {
        return !s.isEmpty() && s.matches("[rwm]+") && s.chars().distinct().count() == s.length();
    }

    /**
     * At start: --pid/--ipc container:NAME join NAME's namespace (which must run), and the IPC joiner
     * binds NAME's /dev/shm. The config is rewritten only when it asks for that.
     */
    static void joinAtStart(Engine engine, ContainerStore containers, ContainerInfo info, CreateOptions o)
            throws IOException, RuntimeError {
        if (!container(o.pid) && !container(o.ipc)) {
            return;
        }
        Path config = containers.dir(info.id()).resolve("config.json");
        ObjectNode spec = (ObjectNode) ContainerStore.JSON.readTree(config.toFile());
        ArrayNode ns = (ArrayNode) spec.path("linux").path("namespaces");
        if (container(o.pid)) {
            ContainerInfo other = other(containers, o.pid, info.id(), "--pid");
            join(ns, "pid", "/proc/" + engine.requireRunning(other).pid() + "/ns/pid");
        }
        if (container(o.ipc)) {
            ContainerInfo donor = other(containers, o.ipc, info.id(), "--ipc");
            join(ns, "ipc", "/proc/" + engine.requireRunning(donor).pid() + "/ns/ipc");
            boolean host = donor.options() != null && "host".equals(donor.options().ipc);
            ArrayNode mounts = (ArrayNode) spec.get("mounts");
            shmBind(mounts, host ? "/dev/shm" : containers.dir(donor.id()).resolve(SHM_DIR).toString());
        }
        ContainerStarter.rewriteConfig(config, spec);
    }

    private static void join(ArrayNode ns, String type, String path) {
        removeNamespace(ns, type);
        ObjectNode n = ns.addObject();
        n.put("type", type);
        n.put("path", path);
    }

    private static void removeNamespace(ArrayNode ns, String type) {
        for (int i = ns.size() - 1; i >= 0; i--) {
            if (ns.get(i).path("type").asText().equals(type)) {
                ns.remove(i);
            }
        }
    }

    private static void removeMount(ArrayNode mounts, String dest) {
        for (int i = mounts.size() - 1; i >= 0; i--) {
            JsonNode m = mounts.get(i);
            if (m.path("destination").asText().equals(dest)) {
                mounts.remove(i);
            }
        }
    }

    /** /dev/shm as a bind of source, where the tmpfs was (the mounts after it stay after it). */
    private static void shmBind(ArrayNode mounts, String source) {
        for (JsonNode m : mounts) {
            if (m.path("destination").asText().equals("/dev/shm")) {
                ObjectNode b = (ObjectNode) m;
                b.put("type", "bind");
                b.put("source", source);
                ArrayNode opts = b.putArray("options");
                for (String x : new String[] {"rbind", "nosuid", "nodev", "noexec"}) {
                    opts.add(x);
                }
                return;
            }
        }
    }

    private static RuntimeError bad(String msg) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, msg);
    }
}
