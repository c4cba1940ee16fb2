package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.disk.Mounts;
import dev.hull.image.FileLocks;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

/**
 * LXCFS (Debian's {@code lxcfs}, LXC's FUSE filesystem) for containers that ask for it
 * ({@link CreateOptions#lxcfs}, every machine): its /proc/meminfo, cpuinfo, stat, uptime, loadavg,
 * diskstats, swaps and /sys/devices/system/cpu/online answer with the reading process's own cgroup
 * limits and usage, so {@code free}, {@code top} and {@code uptime} inside tell the truth. One daemon
 * serves the host: an lxcfs already mounted at /var/lib/lxcfs (Debian's lxcfs.service) is used, else
 * Hull starts its own on {@link #OWN} (with loadavg and CPU-quota views), under a lock, at the first
 * start that needs it; the container's files are bound over its /proc ones (LXC's mount hook) at
 * each start, and dropped when no lxcfs can run (the container then sees the host's).
 */
public final class Lxcfs {
    /** Hull's own lxcfs mount point, one for the host (every Hull home shares it). */
    public static final Path OWN = Path.of("/var/lib/hull/lxcfs");
    /** Where Debian's lxcfs.service mounts it. */
    static final Path SYSTEM = Path.of("/var/lib/lxcfs");
    static final Path BINARY = Path.of("/usr/bin/lxcfs");
    /** What lxcfs virtualizes under proc/ (LXC binds each one the container's /proc has). */
    static final List<String> PROC = List.of("cpuinfo", "diskstats", "loadavg", "meminfo", "slabinfo", "stat",
            "swaps", "uptime");
    static final String CPU_ONLINE = "sys/devices/system/cpu/online";

    private Lxcfs() {}

    /** The lxcfs mount on the host now (answering), or null. */
    public static Path mounted() throws IOException {
        for (Path p : List.of(SYSTEM, OWN)) {
            Mounts.Mount m = Mounts.at(p);
            if (m != null && m.type().equals("fuse.lxcfs") && Files.isReadable(p.resolve("proc/uptime"))) {
                return p;
            }
        }
        return null;
    }

    /** Why no lxcfs can serve containers here, or null when one can. */
    public static String unavailable() {
        if (Rootless.active()) {
            return "rootless (lxcfs serves every user from one root daemon)";
        }
        if (!Files.isExecutable(BINARY)) {
            return "not installed (apt-get install lxcfs)";
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return "no /dev/fuse";
        }
        return null;
    }

    /** hull info's line: which lxcfs containers get, or why none. */
    public static String describe() {
        String why = unavailable();
        if (why != null) {
            return "unavailable: " + why + "; machines see the host's /proc/meminfo, cpuinfo, stat, uptime";
        }
        try {
            Path at = mounted();
            if (at == null) {
                return "used by machines (not running: the first machine started starts it on " + OWN + ")";
            }
            return "used by machines (" + (at.equals(OWN) ? "Hull's daemon" : "the host's lxcfs.service") + " on "
                    + at + ")";
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /**
     * The mounted lxcfs, Hull's own started when none is (a dead one's stale mount detached first);
     * null when lxcfs cannot run here (see {@link #unavailable}), with why on the warning stream.
     */
    static Path ensure() throws IOException {
        if (unavailable() != null) {
            return null;
        }
        Path at = mounted();
        if (at != null) {
            return at;
        }
        Files.createDirectories(OWN.getParent());
        try (Closeable lock = FileLocks.exclusive(OWN.resolveSibling("lxcfs.lock"))) {
            at = mounted();
            if (at != null) {
                return at; // another Hull started it meanwhile
            }
            if (Mounts.at(OWN) != null) { // its daemon died: "Transport endpoint is not connected"
                try {
                    Syscalls.umount2(OWN.toString(), Syscalls.MNT_DETACH);
                } catch (LinuxException e) {
                    throw new IOException("lxcfs on " + OWN + " does not answer and cannot be detached: " + e.getMessage());
                }
            }
            Files.createDirectories(OWN);
            // lxcfs stays in the foreground (as lxcfs.service runs it): a session of its own (setsid), no
            // stdio of this command's, and its mount awaited (generously: the host may be loaded)
            Path log = OWN.resolveSibling("lxcfs.log");
            Process p = new ProcessBuilder("setsid", BINARY.toString(), "--foreground", "--enable-loadavg",
                    "--enable-cfs", "--enable-pidfd", "--pidfile", OWN.resolveSibling("lxcfs.pid").toString(),
                    OWN.toString())
                    .directory(new java.io.File("/")) // holds no directory of the caller's
                    .redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            try {
                for (int i = 0; i < 1200 && (at = mounted()) == null && (p.isAlive() || p.exitValue() == 0); i++) {
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while lxcfs started");
            }
            if (at == null) {
                p.destroy();
                throw new IOException("lxcfs on " + OWN + " failed" + (p.isAlive() ? " to mount within 60 s" : "")
                        + ": " + Files.readString(log).strip().replaceAll("\\s+", " "));
            }
            return at;
        }
    }

    /**
     * The container's config.json made to bind lxcfs's files (at) over its /proc ones, or none of them
     * (at null); the binds of an earlier start, from whichever lxcfs, replaced. Returns whether it changed.
     */
    static boolean bind(ObjectNode spec, Path at) throws IOException {
        ArrayNode mounts = (ArrayNode) spec.get("mounts");
        boolean changed = false;
        for (Iterator<JsonNode> it = mounts.iterator(); it.hasNext();) {
            String src = it.next().path("source").asText();
            if (src.startsWith(OWN + "/") || src.startsWith(SYSTEM + "/")) {
                it.remove();
                changed = true;
            }
        }
        if (at == null) {
            return changed;
        }
        for (String f : PROC) {
            add(mounts, at.resolve("proc").resolve(f), "/proc/" + f);
        }
        add(mounts, at.resolve(CPU_ONLINE), "/" + CPU_ONLINE);
        return true;
    }

    private static void add(ArrayNode mounts, Path source, String dest) {
        if (!Files.exists(source)) {
            return; // an older lxcfs without it
        }
        ObjectNode m = mounts.addObject();
        m.put("destination", dest);
        m.put("type", "bind");
        m.put("source", source.toString());
        ArrayNode opts = m.putArray("options");
        opts.add("bind");
        opts.add("rprivate");
    }

    /** Whether a container's config binds lxcfs's files (what it saw at its last start). */
    public static boolean bound(JsonNode spec) {
        for (JsonNode m : spec.path("mounts")) {
            String src = m.path("source").asText();
            if (src.startsWith(OWN + "/") || src.startsWith(SYSTEM + "/")) {
                return true;
            }
        }
        return false;
    }
}
