package dev.hull.engine;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.ImageConfig;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
        process.set("capabilities", SpecSecurity.capabilities(o));
        // docker leaves no_new_privs off unless --security-opt no-new-privileges asks (setuid binaries work)
        process.put("noNewPrivileges", false);
        ObjectNode u = process.putObject("user");
        u.put("uid", user.uid());
        u.put("gid", user.gid());
        if (!user.additionalGids().isEmpty()) {
            ArrayNode g = u.putArray("additionalGids");
            user.additionalGids().forEach(g::add);
        }
        SpecResources.rlimits(process, o.ulimits);
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
        SpecSecurity.apply(o, process, linux);
        SpecResources.apply(o, linux);
        network(o, (ArrayNode) linux.get("namespaces"));
        ArrayNode mounts = (ArrayNode) spec.get("mounts");
        if (o.privileged) {
            SpecSecurity.privilegedMountsAndDevices(mounts, linux);
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
        if (parts[1].replaceAll("/+", "/").equals("/")) { // docker's words
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid volume specification: '" + v + "': invalid"
                    + " mount config for type \"bind\": invalid specification: destination can't be '/'");
        }
        Path host;
        if (parts[0].startsWith("/") || parts[0].startsWith(".")) {
            host = dev.hull.runtime.Caller.absolute(Path.of(parts[0])).normalize();
            if (!Files.exists(host, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                // docker's -v (not --mount): a missing host directory is made, with its missing parents (0755)
                try {
                    Files.createDirectories(host);
                } catch (IOException e) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "-v " + v + ": " + host + " does not exist"
                            + " and cannot be made: " + e.getMessage());
                }
            }
        } else {
            host = volumes.mountpoint(parts[0], true);
        }
        String mode = "rw";
        String propagation = null;
        boolean idmap = false;
        for (String x : (parts.length == 3 ? parts[2] : "rw").split(",")) { // docker's modes: ro|rw, propagation, nocopy
            if (x.equals("ro") || x.equals("rw")) {
                mode = x;
            } else if (MountFlag.PROPAGATIONS.contains(x)) {
                propagation = x;
            } else if (UsernsAuto.idmapOption(x)) { // podman's: with --userns=auto, the container's mappings
                idmap = true;
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
        if (idmap) {
            opts.add("idmap");
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
        try { // the caller's file, read with its rights (a warm caller other than root reads only what it may)
            for (String line : dev.hull.runtime.CallerFiles.readString(f, null).split("\r?\n")) {
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
