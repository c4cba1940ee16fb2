package dev.hull.runtime;

import dev.hull.linux.Syscalls;
import dev.hull.linux.cgroup.Resources;
import dev.hull.runtime.spec.IdMapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * hull-runtime run by an ordinary user, with runc's {@code --rootless} semantics: a bundle whose
 * config.json has a user namespace mapping the user (as {@code hull-runtime spec --rootless} writes)
 * runs without root.
 * <ul>
 * <li>{@code --rootless auto} (the default) is rootless when the caller is not root, or root of a user
 * namespace other than the host's (rootless Hull's {@code hull runtime}); {@code true} and
 * {@code false} force it ({@link #mode});
 * <li>the state root defaults to {@code $XDG_RUNTIME_DIR/hull-runtime}, else {@code /tmp/hull-runtime-UID}
 * ({@link #defaultRoot}), never /run;
 * <li>no cgroup: none is delegated to users on the hosts Hull supports yet, so a container gets none,
 * and a config asking for limits is refused naming that ({@link #refuseLimits}), where runc would
 * ignore a cgroup it cannot write only when nothing is asked of it;
 * <li>the user namespace is mapped from outside: a single mapping of the caller's own id is written
 * directly (after "deny" in setgroups, which the kernel requires of an unprivileged gid_map); anything
 * more goes through the setuid newuidmap/newgidmap (Debian's uidmap), which check /etc/subuid and
 * /etc/subgid ({@link #writeIdMaps}).
 * </ul>
 */
public final class RootlessRuntime {
    private RootlessRuntime() {}

    /** The --rootless value: true when rootless (auto: the caller is not root); bad input is an error. */
    public static boolean mode(String flag) throws RuntimeError {
        String f = flag == null ? "auto" : flag;
        return switch (f) {
            case "auto" -> Syscalls.getuid() != 0 || dev.hull.linux.UserNamespaces.nested();
            case "true" -> true;
            case "false" -> false;
            default -> throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--rootless must be auto, true or false, not "
                    + f);
        };
    }

    /** A rootless runtime's default state root: $XDG_RUNTIME_DIR/hull-runtime, else /tmp/hull-runtime-UID. */
    public static Path defaultRoot() {
        String run = Caller.getenv("XDG_RUNTIME_DIR");
        if (run != null && !run.isEmpty() && Files.isDirectory(Path.of(run))) {
            return Path.of(run, "hull-runtime");
        }
        return Path.of("/tmp/hull-runtime-" + hostUid());
    }

    /** This process's uid as the host sees it (through /proc/self/uid_map: root of a user's namespace is that user). */
    static long hostUid() {
        long uid = Syscalls.getuid();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/uid_map"))) {
                String[] f = line.trim().split("\\s+");
                long inside = Long.parseLong(f[0]);
                if (uid >= inside && uid < inside + Long.parseLong(f[2])) {
                    return Long.parseLong(f[1]) + uid - inside;
                }
            }
        } catch (IOException | RuntimeException e) {
            return uid;
        }
        return uid;
    }

    /**
     * A state root in /tmp must be the caller's own real directory (another user could have made it
     * first, or planted a symlink there): made 0700 when missing, refused otherwise.
     */
    public static void checkRoot(Path root) throws RuntimeError {
        if (!root.startsWith("/tmp")) {
            return;
        }
        try {
            if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(root, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            }
            int owner = (Integer) Files.getAttribute(root, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (!Files.isDirectory(root, java.nio.file.LinkOption.NOFOLLOW_LINKS) || owner != Syscalls.getuid()) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "--root " + root
                        + ": not a directory of this user's (another user's, or a symlink); not used");
            }
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "--root " + root + ": " + e.getMessage(), e);
        }
    }

    /** Refuses a rootless container's cgroup limits: no cgroup is delegated to the user. */
    public static void refuseLimits(Resources r) throws RuntimeError {
        String asked = asked(r);
        if (asked != null) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "config.json: linux.resources." + asked
                    + ": a rootless container has no cgroup (none is delegated to the user), so it can have no limits");
        }
    }

    /** The first limit r asks for (zeros are "not given", as containerd sends them), or null; devices are not limits. */
    static String asked(Resources r) {
        if (r == null) {
            return null;
        }
        var m = r.memory();
        if (m != null && (positive(m.limit()) || positive(m.reservation()) || positive(m.swap()) || positive(m.kernel())
                || positive(m.kernelTCP()))) {
            return "memory";
        }
        var c = r.cpu();
        if (c != null && (positive(c.shares()) || positive(c.quota()) || positive(c.period())
                || (c.cpus() != null && !c.cpus().isEmpty()) || (c.mems() != null && !c.mems().isEmpty()))) {
            return "cpu";
        }
        if (positive(r.pidsLimit())) {
            return "pids";
        }
        if (r.blockIO() != null && (r.blockIO().weight() != null || notEmpty(r.blockIO().weightDevice())
                || notEmpty(r.blockIO().throttleReadBps()) || notEmpty(r.blockIO().throttleWriteBps())
                || notEmpty(r.blockIO().throttleReadIops()) || notEmpty(r.blockIO().throttleWriteIops()))) {
            return "blockIO";
        }
        if (notEmpty(r.hugepageLimits())) {
            return "hugepageLimits";
        }
        if (r.unified() != null && !r.unified().isEmpty()) {
            return "unified";
        }
        if (r.rdma() != null && !r.rdma().isEmpty()) {
            return "rdma";
        }
        return r.network() != null ? "network" : null;
    }

    private static boolean positive(Long v) {
        return v != null && v > 0;
    }

    private static boolean notEmpty(List<?> l) {
        return l != null && !l.isEmpty();
    }

    /**
     * Maps the user namespace of pid: directly when this process is root (of its namespace: it has
     * CAP_SETUID there), or for an ordinary user's single mapping of its own id; else through
     * newuidmap/newgidmap.
     */
    static void writeIdMaps(int pid, List<IdMapping> uids, List<IdMapping> gids) throws IOException, RuntimeError {
        Path proc = Path.of("/proc", Integer.toString(pid));
        boolean root = Syscalls.getuid() == 0;
        if (root || ownOnly(uids, Syscalls.getuid())) {
            write(proc.resolve("uid_map"), uids);
        } else {
            helper("newuidmap", pid, uids);
        }
        if (root) {
            write(proc.resolve("gid_map"), gids);
        } else if (ownOnly(gids, egid())) {
            Files.writeString(proc.resolve("setgroups"), "deny"); // the kernel's condition for an unprivileged gid_map
            write(proc.resolve("gid_map"), gids);
        } else {
            helper("newgidmap", pid, gids);
        }
    }

    /** This process's effective gid (the "Gid:" line of /proc/self/status: real, effective, ...). */
    private static long egid() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Gid:")) {
                return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
            }
        }
        throw new IOException("no Gid: line in /proc/self/status");
    }

    private static boolean ownOnly(List<IdMapping> maps, long id) {
        return maps.size() == 1 && maps.get(0).size() == 1 && maps.get(0).hostID() == id;
    }

    private static void write(Path file, List<IdMapping> maps) throws IOException {
        // One write: the kernel accepts a map only once, whole.
        Files.writeString(file, mapText(maps));
    }

    /** A uid_map/gid_map file's text: "containerID hostID size" lines. */
    static String mapText(List<IdMapping> maps) {
        StringBuilder sb = new StringBuilder();
        for (IdMapping m : maps) {
            sb.append(m.containerID()).append(' ').append(m.hostID()).append(' ').append(m.size()).append('\n');
        }
        return sb.toString();
    }

    private static void helper(String tool, int pid, List<IdMapping> maps) throws IOException, RuntimeError {
        Path bin = Path.of("/usr/bin", tool);
        if (!Files.isExecutable(bin)) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "config.json: linux." + (tool.equals("newuidmap")
                    ? "uidMappings" : "gidMappings") + " maps more than your own id, which takes " + bin
                    + " (Debian: apt-get install uidmap)");
        }
        List<String> argv = new ArrayList<>(List.of(bin.toString(), Integer.toString(pid)));
        for (IdMapping m : maps) {
            argv.addAll(List.of(Long.toString(m.containerID()), Long.toString(m.hostID()), Long.toString(m.size())));
        }
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new RuntimeError(RuntimeError.Kind.FAILED, tool + " did not finish in 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeError(RuntimeError.Kind.FAILED, tool + ": interrupted");
        }
        if (p.exitValue() != 0) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, tool + " refused the mappings of config.json (your ranges"
                    + " in /etc/subuid and /etc/subgid decide what you may map): " + out);
        }
    }
}
