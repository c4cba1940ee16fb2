package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.ImageConfig;
import dev.hull.linux.seccomp.DefaultSeccomp;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.CapabilityNames;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Turns docker's create/run flags and the image's config into an OCI config.json. */
final class ContainerSpecBuilder {
    /**
     * Where an older Hull bound --init's tiny init (the executor binary) into the container; its
     * containers' config.json may still hold that mount. Now the init is exec'd from the executor's
     * sealed executable (annotation run.hull.init) and no host file is bound.
     */
    static final String INIT_PATH = "/dev/hull-init";

    /** The capabilities docker gives a container by default. */
    static final List<String> DOCKER_CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    private ContainerSpecBuilder() {}

    /** Entrypoint + command by docker's rules: --entrypoint drops the image's Cmd. */
    static List<String> args(CreateOptions o, ImageConfig.Config ic) throws RuntimeError {
        List<String> cmd = new ArrayList<>();
        if (o.entrypoint != null) {
            if (!o.entrypoint.isEmpty()) {
                cmd.add(o.entrypoint);
            }
        } else if (ic.entrypoint() != null) {
            cmd.addAll(ic.entrypoint());
        }
        if (!o.command.isEmpty()) {
            cmd.addAll(o.command);
        } else if (o.entrypoint == null && ic.cmd() != null) {
            cmd.addAll(ic.cmd());
        }
        if (cmd.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "no command: the image " + o.image
                    + " has no Entrypoint or Cmd; give one after the image name");
        }
        return cmd;
    }

    static ObjectNode build(CreateOptions o, ImageConfig.Config ic, ImageUser user, String id, List<String> args,
            String overlay, Path dir, VolumeStore volumes) throws RuntimeError, IOException {
        ObjectNode spec = DefaultSpec.create(false);
        ObjectNode process = (ObjectNode) spec.get("process");
        process.put("terminal", o.tty);
        ArrayNode a = process.putArray("args");
        args.forEach(a::add);
        String hostname = o.hostname != null ? o.hostname : id.substring(0, 12);
        Map<String, String> envs = new LinkedHashMap<>();
        envs.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        envs.put("HOSTNAME", hostname);
        if (ic.env() != null) {
            ic.env().forEach(e -> putEnv(envs, e)); // the image's win over Hull's defaults, as in docker
        }
        envs.putIfAbsent("HOME", user.home());
        if (o.tty) {
            envs.putIfAbsent("TERM", "xterm");
        }
        List<String> given = new ArrayList<>();
        for (String f : o.envFiles) {
            given.addAll(readEnvFile(Path.of(f)));
        }
        given.addAll(o.env);
        for (String e : given) {
            if (e.contains("=")) {
                putEnv(envs, e);
            } else if (dev.hull.runtime.Caller.getenv(e) != null) {
                putEnv(envs, e + "=" + dev.hull.runtime.Caller.getenv(e)); // -e NAME: the host's value; unset on the host: unset
            }
        }
        ArrayNode env = process.putArray("env");
        envs.forEach((k, v) -> env.add(k + "=" + v));
        String cwd = o.workdir != null ? o.workdir : ic.workingDir() != null && !ic.workingDir().isEmpty()
                ? ic.workingDir() : "/";
        if (!cwd.startsWith("/")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "-w " + cwd + ": the working directory must be"
                    + " an absolute path");
        }
        process.put("cwd", cwd);
        process.set("capabilities", capabilities(o));
        // docker leaves no_new_privs off unless --security-opt no-new-privileges asks (setuid binaries work)
        process.put("noNewPrivileges", false);
        ObjectNode u = process.putObject("user");
        u.put("uid", user.uid());
        u.put("gid", user.gid());
        if (!user.additionalGids().isEmpty()) {
            ArrayNode g = u.putArray("additionalGids");
            user.additionalGids().forEach(g::add);
        }
        rlimits(process, o.ulimits);
        ObjectNode root = (ObjectNode) spec.get("root");
        root.put("path", dir.resolve("rootfs").toString());
        root.put("readonly", o.readOnly);
        spec.put("hostname", hostname);
        ObjectNode ann = spec.putObject("annotations");
        if (overlay != null) {
            ann.put(Annotations.ROOTFS_OVERLAY, overlay);
        }
        // docker makes a missing working directory: the executor does, inside the container's root (on
        // the host, a path through the image's symlinks could reach outside it)
        ann.put(Annotations.MKDIR_CWD, "true");
        if (o.init) { // the tiny init blocks signals itself; from the exec on, none is dropped
            ann.put(Annotations.INIT, "true");
            ann.put(Annotations.EXEC_SIGNALS_BLOCKED, "true");
        }
        ObjectNode linux = (ObjectNode) spec.get("linux");
        security(o, process, linux);
        resources(o, linux);
        network(o, (ArrayNode) linux.get("namespaces"));
        ArrayNode mounts = (ArrayNode) spec.get("mounts");
        if (o.privileged) {
            privilegedMountsAndDevices(mounts, linux);
        }
        if ("always".equals(o.systemd)) {
            SystemdSpec.apply(spec, id);
        }
        for (String v : o.volumes) {
            volume(mounts, v, volumes);
        }
        NamespaceFlags.apply(o, spec, dir);
        for (String t : o.tmpfs) {
            String[] p = t.split(":", 2);
            if (!p[0].startsWith("/")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--tmpfs " + t + ": use /PATH[:OPTIONS]");
            }
            ObjectNode m = mounts.addObject();
            m.put("destination", p[0]);
            m.put("type", "tmpfs");
            m.put("source", "tmpfs");
            ArrayNode opts = m.putArray("options");
            for (String d : new String[] {"nosuid", "nodev", "noexec"}) {
                opts.add(d);
            }
            if (p.length > 1) {
                for (String x : p[1].split(",")) {
                    opts.add(x);
                }
            }
        }
        return spec;
    }

    /**
     * docker's rules: --privileged has every capability (--cap-add/--cap-drop do not matter);
     * --cap-add ALL: all but the dropped ones; --cap-drop ALL: only the added ones; otherwise the
     * defaults without the dropped ones, plus the added ones (an added one wins over its drop).
     */
    private static ObjectNode capabilities(CreateOptions o) throws RuntimeError {
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

    private static void rlimits(ObjectNode process, List<String> ulimits) throws RuntimeError {
        if (ulimits.isEmpty()) {
            return;
        }
        ArrayNode out = process.has("rlimits") ? (ArrayNode) process.get("rlimits") : process.putArray("rlimits");
        for (String u : ulimits) {
            String[] kv = u.split("=", 2);
            if (kv.length != 2) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ulimit " + u + ": use NAME=SOFT[:HARD]");
            }
            if (!ULIMITS.contains(kv[0])) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ulimit " + u + ": unknown limit " + kv[0]
                        + " (use one of " + String.join(", ", ULIMITS) + ")");
            }
            String type = "RLIMIT_" + kv[0].toUpperCase(Locale.ROOT);
            String[] sh = kv[1].split(":", 2);
            long soft;
            long hard;
            try {
                soft = parseLimit(sh[0]);
                hard = sh.length > 1 ? parseLimit(sh[1]) : soft;
            } catch (NumberFormatException e) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ulimit " + u + ": limits are numbers or"
                        + " unlimited");
            }
            if (Long.compareUnsigned(soft, hard) > 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ulimit " + u + ": the soft limit is above"
                        + " the hard one");
            }
            for (int i = out.size() - 1; i >= 0; i--) {
                if (out.get(i).path("type").asText().equals(type)) {
                    out.remove(i);
                }
            }
            ObjectNode r = out.addObject();
            r.put("type", type);
            r.put("hard", hard);
            r.put("soft", soft);
        }
    }

    /** docker's --ulimit names. */
    static final List<String> ULIMITS = List.of("as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue",
            "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack");

    private static long parseLimit(String s) {
        return s.equals("unlimited") || s.equals("-1") ? -1L : Long.parseLong(s);
    }

    private static void security(CreateOptions o, ObjectNode process, ObjectNode linux) throws RuntimeError,
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
    private static void privilegedMountsAndDevices(ArrayNode mounts, ObjectNode linux) {
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
            n = ContainerStore.JSON.readTree(Files.readAllBytes(file));
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

    private static void resources(CreateOptions o, ObjectNode linux) throws RuntimeError {
        ObjectNode res = linux.has("resources") ? (ObjectNode) linux.get("resources") : linux.putObject("resources");
        if (o.memorySwap > 0 && o.memory <= 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--memory-swap needs --memory (-m): it is the"
                    + " limit of memory and swap together");
        }
        if (o.memory > 0 || o.memorySwap != 0) {
            ObjectNode m = res.putObject("memory");
            if (o.memory > 0) {
                m.put("limit", o.memory);
            }
            if (o.memorySwap != 0) {
                if (o.memorySwap > 0 && o.memorySwap < o.memory) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--memory-swap must be at least --memory"
                            + " (it counts memory and swap together), or -1 for unlimited swap");
                }
                m.put("swap", o.memorySwap);
            } else if (o.memory > 0 && swapAccounting()) {
                m.put("swap", 2 * o.memory); // docker: -m alone allows as much swap again
            }
        }
        if (o.cpus > 0 || o.cpuShares > 0 || o.cpusetCpus != null) {
            ObjectNode c = res.putObject("cpu");
            if (o.cpus > 0) {
                c.put("period", 100000);
                c.put("quota", Math.round(o.cpus * 100000));
            }
            if (o.cpuShares > 0) {
                c.put("shares", o.cpuShares);
            }
            if (o.cpusetCpus != null) {
                checkCpuset(o.cpusetCpus);
                c.put("cpus", o.cpusetCpus);
            }
        }
        if (o.pidsLimit != null && o.pidsLimit > 0) {
            res.putObject("pids").put("limit", o.pidsLimit);
        }
        BlockIoFlags.apply(o, res);
    }

    /** --cpuset-cpus LIST (0-2,4): well formed, and only CPUs this host has online (as docker checks). */
    private static void checkCpuset(String list) throws RuntimeError {
        Set<Integer> want = cpuList(list);
        if (want == null || want.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpuset-cpus " + list + ": use a list like 0-2,4");
        }
        String online;
        try {
            online = Files.readString(Path.of("/sys/devices/system/cpu/online")).trim();
        } catch (IOException e) {
            return; // the kernel will say
        }
        Set<Integer> have = cpuList(online);
        if (have != null && !have.containsAll(want)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpuset-cpus " + list + ": this host's CPUs are "
                    + online);
        }
    }

    /** A kernel cpu list (0-2,4) as numbers; null if malformed. */
    private static Set<Integer> cpuList(String list) {
        Set<Integer> out = new java.util.TreeSet<>();
        for (String part : list.split(",")) {
            String[] r = part.trim().split("-", 2);
            try {
                int from = Integer.parseInt(r[0].trim());
                int to = r.length > 1 ? Integer.parseInt(r[1].trim()) : from;
                if (from < 0 || to < from || to > 8191) {
                    return null;
                }
                for (int i = from; i <= to; i++) {
                    out.add(i);
                }
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return out;
    }

    /** Whether the kernel limits memory+swap here (docker sets its default swap limit only then). */
    private static boolean swapAccounting() {
        try {
            var layout = dev.hull.linux.cgroup.CgroupLayout.detect();
            var v1 = layout.v1Hierarchy("memory");
            if (v1.isPresent()) {
                return Files.exists(v1.get().mountPoint().resolve("memory.memsw.limit_in_bytes"));
            }
            if (layout.unifiedMount() == null) {
                return false;
            }
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                if (line.startsWith("0::/")) { // a non-root cgroup has memory.swap.max if swap is accounted
                    return Files.exists(layout.unifiedMount().resolve(line.substring(4)).resolve("memory.swap.max"));
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void network(CreateOptions o, ArrayNode namespaces) throws RuntimeError {
        String network = o.network == null ? "bridge" : o.network;
        if (network.equals("host")) {
            for (int i = namespaces.size() - 1; i >= 0; i--) {
                if (namespaces.get(i).path("type").asText().equals("network")) {
                    namespaces.remove(i);
                }
            }
        } else if (network.isEmpty() || network.equals("container:")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--network " + network
                    + ": use bridge, a network's name, none, host or container:NAME");
        }
        // none: a new namespace of its own (made by the clone); bridge, NAME, container:NAME: joined
        // by path (see joinNetwork), the path set when the engine knows it
    }

    /** The network namespace the container joins (its own, bind-mounted, or another container's). */
    /**
     * An older --init config (a bind of the host's executor at {@link #INIT_PATH}, args prefixed with
     * it) in today's form: no bind, the user's args, annotation run.hull.init. True if it changed.
     */
    static boolean upgradeInit(ObjectNode spec) {
        boolean changed = false;
        ArrayNode mounts = (ArrayNode) spec.path("mounts");
        for (int i = mounts.size() - 1; i >= 0; i--) {
            if (INIT_PATH.equals(mounts.get(i).path("destination").asText())) {
                mounts.remove(i);
                changed = true;
            }
        }
        ArrayNode args = (ArrayNode) spec.path("process").path("args");
        if (args.size() >= 3 && INIT_PATH.equals(args.get(0).asText()) && "--init".equals(args.get(1).asText())
                && "--".equals(args.get(2).asText())) {
            args.remove(0);
            args.remove(0);
            args.remove(0);
            ObjectNode ann = spec.has("annotations") ? (ObjectNode) spec.get("annotations") : spec.putObject("annotations");
            ann.put(Annotations.INIT, "true");
            ann.put(Annotations.EXEC_SIGNALS_BLOCKED, "true");
            changed = true;
        }
        return changed;
    }

    static void joinNetwork(ObjectNode spec, String path) {
        for (var n : spec.path("linux").path("namespaces")) {
            if (n.path("type").asText().equals("network")) {
                ((ObjectNode) n).put("path", path);
            }
        }
    }

    /** /etc/hostname, /etc/hosts and /etc/resolv.conf bound from files in dir (docker's way). */
    static void hostFiles(ObjectNode spec, Path dir, boolean hostnameFile) {
        ArrayNode mounts = (ArrayNode) spec.get("mounts");
        List<String> files = hostnameFile ? List.of("hostname", "hosts", "resolv.conf") : List.of("hosts", "resolv.conf");
        for (String f : files) {
            ObjectNode m = mounts.addObject();
            m.put("destination", "/etc/" + f);
            m.put("type", "bind");
            m.put("source", dir.resolve(f).toString());
            ArrayNode opts = m.putArray("options");
            opts.add("rbind");
            opts.add("rprivate");
        }
    }

    private static void volume(ArrayNode mounts, String v, VolumeStore volumes) throws RuntimeError, IOException {
        String[] parts = v.split(":");
        if (parts.length < 2 || parts.length > 3 || !parts[1].startsWith("/") || parts[0].isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT,
                    "-v " + v + ": use HOST_PATH:CONTAINER_PATH[:ro] or VOLUME_NAME:CONTAINER_PATH[:ro]");
        }
        Path host;
        if (parts[0].startsWith("/") || parts[0].startsWith(".")) {
            host = dev.hull.runtime.Caller.absolute(Path.of(parts[0])).normalize();
            if (!Files.exists(host)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "-v " + v + ": " + host + " does not exist");
            }
        } else {
            host = volumes.mountpoint(parts[0], true);
        }
        String mode = "rw";
        String propagation = null;
        for (String x : (parts.length == 3 ? parts[2] : "rw").split(",")) { // docker's modes: ro|rw, propagation, nocopy
            if (x.equals("ro") || x.equals("rw")) {
                mode = x;
            } else if (MountFlag.PROPAGATIONS.contains(x)) {
                propagation = x;
            } else if (!x.equals("nocopy") && !x.equals("z") && !x.equals("Z")) { // z/Z: no SELinux here to relabel for
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "-v " + v + ": the mode is ro or rw (with"
                        + " nocopy or a propagation: rprivate, rshared, rslave...), not " + x);
            }
        }
        ObjectNode m = mounts.addObject();
        m.put("destination", parts[1]);
        m.put("type", "bind");
        m.put("source", host.toString());
        ArrayNode opts = m.putArray("options");
        opts.add("rbind");
        opts.add(mode);
        if (propagation != null) {
            opts.add(propagation);
        }
    }

    /** The destinations of -v volumes with docker's nocopy mode: no copy-up of the image's files into them. */
    static Set<String> noCopy(CreateOptions o) {
        Set<String> out = new java.util.HashSet<>();
        for (String v : o.volumes) {
            String[] parts = v.split(":");
            if (parts.length == 3 && List.of(parts[2].split(",")).contains("nocopy")) {
                out.add(parts[1]);
            }
        }
        return out;
    }

    static List<String> readEnvFile(Path f) throws RuntimeError {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(f)) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    out.add(t);
                }
            }
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--env-file " + f + ": "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
        return out;
    }

    private static void putEnv(Map<String, String> envs, String e) {
        int eq = e.indexOf('=');
        if (eq > 0) {
            envs.put(e.substring(0, eq), e.substring(eq + 1));
        }
    }
}
