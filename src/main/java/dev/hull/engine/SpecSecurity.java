package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.seccomp.DefaultSeccomp;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.CapabilityNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The security half of a container's OCI config: capabilities, --privileged, seccomp, LSM and no-new-privileges options. */
final class SpecSecurity {
    private SpecSecurity() {}

    /** The capabilities docker gives a container by default. */
    static final List<String> DOCKER_CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    /**
     * docker's rules: --privileged has every capability (--cap-add/--cap-drop do not matter);
     * --cap-add ALL: all but the dropped ones; --cap-drop ALL: only the added ones; otherwise the
     * defaults without the dropped ones, plus the added ones (an added one wins over its drop).
     */
    static ObjectNode capabilities(CreateOptions o) throws RuntimeError {
        Set<String> add = new LinkedHashSet<>();
        Set<String> drop = new LinkedHashSet<>();
        for (String c : o.capAdd) {
            add.add(c.equalsIgnoreCase("ALL") ? "ALL" : capName(c, "--cap-add"));
        }
        for (String c : o.capDrop) {
            drop.add(c.equalsIgnoreCase("ALL") ? "ALL" : capName(c, "--cap-drop"));
        }
        Set<String> caps = new LinkedHashSet<>();
        if (o.privileged) {
            caps.addAll(hostCaps());
        } else if (add.contains("ALL")) {
            hostCaps().stream().filter(c -> !drop.contains(c)).forEach(caps::add);
        } else if (drop.contains("ALL")) {
            caps.addAll(add);
        } else {
            DOCKER_CAPS.stream().filter(c -> !drop.contains(c)).forEach(caps::add);
            caps.addAll(add);
        }
        var n = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        ObjectNode out = n.objectNode();
        for (String set : new String[] {"bounding", "effective", "permitted"}) {
            ArrayNode arr = out.putArray(set);
            caps.forEach(arr::add);
        }
        return out;
    }

    /**
     * Every capability this host can give: docker's "all" (--privileged, --cap-add ALL) — asking for
     * more would only make the runtime warn that it cannot.
     */
    private static List<String> hostCaps() {
        var host = dev.hull.runtime.HostPrivileges.current();
        long have = host.bounding() & host.permitted() & host.allCaps();
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < CapabilityNames.NAMES.size(); i++) {
            if ((have & (1L << i)) != 0) {
                out.add(CapabilityNames.NAMES.get(i));
            }
        }
        return out;
    }

    private static String capName(String c, String flag) throws RuntimeError {
        String name = c.toUpperCase(Locale.ROOT);
        if (!name.startsWith("CAP_")) {
            name = "CAP_" + name;
        }
        if (!CapabilityNames.NAMES.contains(name)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + " " + c + ": unknown capability");
        }
        return name;
    }

    static void apply(CreateOptions o, ObjectNode process, ObjectNode linux) throws RuntimeError,
            IOException {
        List<String> bounding = new ArrayList<>();
        process.path("capabilities").path("bounding").forEach(c -> bounding.add(c.asText()));
        JsonNode seccomp = o.privileged ? null : DefaultSeccomp.profile(bounding);
        for (String opt : o.securityOpts) {
            String[] kv = opt.split("[=:]", 2);
            switch (kv[0]) {
                case "seccomp" -> {
                    if (kv.length < 2) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--security-opt " + opt
                                + ": use seccomp=unconfined or seccomp=PROFILE.json");
                    }
                    seccomp = kv[1].equals("unconfined") ? null : seccompProfile(dev.hull.runtime.Caller.resolve(Path.of(kv[1])), bounding);
                }
                case "no-new-privileges" -> {
                    if (kv.length == 2 && !kv[1].equals("true") && !kv[1].equals("false")) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--security-opt " + opt
                                + ": use no-new-privileges, no-new-privileges=true or =false");
                    }
                    process.put("noNewPrivileges", kv.length < 2 || kv[1].equals("true"));
                }
                case "label", "apparmor" -> {
                    if (kv.length < 2 || !(kv[1].equals("disable") || kv[1].equals("unconfined"))) {
                        throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--security-opt " + opt
                                + ": this host has no LSM to apply it (only disable/unconfined are accepted)");
                    }
                }
                default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--security-opt " + opt
                        + ": use seccomp=unconfined|FILE or no-new-privileges");
            }
        }
        if (seccomp != null) {
            linux.set("seccomp", seccomp);
        } else {
            linux.remove("seccomp");
        }
        if (o.privileged) {
            linux.remove("maskedPaths");
            linux.remove("readonlyPaths");
            ObjectNode res = linux.has("resources") ? (ObjectNode) linux.get("resources") : linux.putObject("resources");
            ArrayNode devices = res.putArray("devices");
            ObjectNode all = devices.addObject();
            all.put("allow", true);
            all.put("access", "rwm");
        }
    }

    /**
     * docker's --privileged: /sys and the cgroup mounts read-write, and the host's devices in the
     * container's /dev (the device cgroup already allows them all).
     */
    static void privilegedMountsAndDevices(ArrayNode mounts, ObjectNode linux) {
        for (JsonNode m : mounts) {
            String dest = m.path("destination").asText();
            if ((dest.equals("/sys") || dest.equals("/sys/fs/cgroup")) && m.get("options") instanceof ArrayNode opts) {
                for (int i = opts.size() - 1; i >= 0; i--) {
                    if (opts.get(i).asText().equals("ro")) {
                        opts.remove(i);
                    }
                }
                opts.add("rw");
            }
        }
        ArrayNode devices = linux.putArray("devices");
        for (Path dev : hostDevices(Path.of("/dev"))) {
            try {
                Map<String, Object> a = Files.readAttributes(dev, "unix:mode,rdev,uid,gid",
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) a.get("mode");
                long rdev = (Long) a.get("rdev");
                String type = (mode & 0170000) == 0020000 ? "c" : (mode & 0170000) == 0060000 ? "b" : null;
                if (type == null) {
                    continue;
                }
                ObjectNode d = devices.addObject();
                d.put("path", dev.toString());
                d.put("type", type);
                d.put("major", ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
                d.put("minor", (rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
                d.put("fileMode", mode & 07777);
                d.put("uid", (Integer) a.get("uid"));
                d.put("gid", (Integer) a.get("gid"));
            } catch (IOException | RuntimeException e) {
                // gone meanwhile, or unreadable: left out
            }
        }
    }

    /** The host's device nodes under dir, as runc's HostDevices: not pts, shm, mqueue, the console or ptmx. */
    private static List<Path> hostDevices(Path dir) {
        List<Path> out = new ArrayList<>();
        try (var entries = Files.list(dir)) {
            for (Path p : entries.sorted().toList()) {
                String name = p.getFileName().toString();
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    if (!Set.of("pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev").contains(name)) {
                        out.addAll(hostDevices(p));
                    }
                } else if (!(dir.toString().equals("/dev") && (name.equals("console") || name.equals("ptmx")))) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            // an unreadable directory: its devices are left out
        }
        return out;
    }

    /**
     * A seccomp profile file: the OCI linux.seccomp shape, or docker's (archMap, names lists, and
     * rules that apply only with or without some capabilities, on some architectures or from some
     * kernel on: includes/excludes, decided here for this container as docker does).
     */
    private static JsonNode seccompProfile(Path file, List<String> caps) throws RuntimeError {
        JsonNode n;
        try {
            n = ContainerStore.JSON.readTree(dev.hull.runtime.CallerFiles.readAllBytes(file, null)); // caller's rights
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--security-opt seccomp=" + file + ": "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
        if (!(n instanceof ObjectNode profile) || !n.has("defaultAction")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--security-opt seccomp=" + file
                    + ": not a seccomp profile (no defaultAction)");
        }
        if (n.has("listenerPath")) { // its agent gets the listener once, from Java: a monitor's restart could not
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--security-opt seccomp=" + file
                    + ": listenerPath (seccomp user notification) is for the OCI runtime (hull runtime), not hull run");
        }
        ObjectNode out = profile.deepCopy();
        if (out.has("archMap")) { // docker's: architectures with their sub-architectures
            ArrayNode arches = out.putArray("architectures");
            for (JsonNode m : profile.get("archMap")) {
                arches.add(m.path("architecture").asText());
                m.path("subArchitectures").forEach(arches::add);
            }
            out.remove("archMap");
        }
        out.remove("defaultErrno");
        ArrayNode calls = out.has("syscalls") ? (ArrayNode) out.get("syscalls") : null;
        if (calls != null) {
            for (int i = calls.size() - 1; i >= 0; i--) {
                if (calls.get(i) instanceof ObjectNode oc) {
                    if (!applies(oc.path("includes"), oc.path("excludes"), caps)) {
                        calls.remove(i);
                        continue;
                    }
                    if (oc.has("name") && !oc.has("names")) {
                        oc.putArray("names").add(oc.get("name").asText());
                    }
                    oc.remove(List.of("name", "comment", "includes", "excludes"));
                }
            }
        }
        return out;
    }

    /** docker's rule filter: every included capability held, none excluded; this architecture; kernel new enough. */
    private static boolean applies(JsonNode includes, JsonNode excludes, List<String> caps) {
        String arch = System.getProperty("os.arch"); // amd64, as docker's Go names
        for (JsonNode c : includes.path("caps")) {
            if (!caps.contains(c.asText())) {
                return false;
            }
        }
        for (JsonNode c : excludes.path("caps")) {
            if (caps.contains(c.asText())) {
                return false;
            }
        }
        if (includes.path("arches").size() > 0) {
            boolean found = false;
            for (JsonNode a : includes.path("arches")) {
                found |= a.asText().equals(arch);
            }
            if (!found) {
                return false;
            }
        }
        for (JsonNode a : excludes.path("arches")) {
            if (a.asText().equals(arch)) {
                return false;
            }
        }
        String min = includes.path("minKernel").asText("");
        return min.isEmpty() || compareVersions(System.getProperty("os.version"), min) >= 0;
    }

    /** 6.1.0-18-amd64 against 4.8: numeric dotted parts, the rest ignored. */
    private static int compareVersions(String a, String b) {
        String[] x = a.split("[^0-9.]", 2)[0].split("\\.");
        String[] y = b.split("[^0-9.]", 2)[0].split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long p = i < x.length && !x[i].isEmpty() && x[i].length() < 10 ? Long.parseLong(x[i]) : 0;
            long q = i < y.length && !y[i].isEmpty() && y[i].length() < 10 ? Long.parseLong(y[i]) : 0;
            if (p != q) {
                return Long.compare(p, q);
            }
        }
        return 0;
    }

}
