package dev.hull.engine;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.cgroup.CgroupLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code hull info}: the engine and the host it runs on, with docker's field names where docker
 * has the field (Containers, ContainersRunning, Images, Driver, CgroupVersion, KernelVersion,
 * OperatingSystem, NCPU, MemTotal, SecurityOptions, LoggingDriver ...) and Hull's own for the rest
 * (HullRootDir, StateDir, CgroupLayout, Volumes, Config, Defaults, WritableLayerLimit, Disks, Lxcfs).
 */
public final class SystemInfo {
    private SystemInfo() {}

    public static ObjectNode collect(Engine engine, String version) throws IOException {
        ObjectNode n = ContainerStore.JSON.createObjectNode();
        int running = 0;
        int paused = 0;
        int stopped = 0;
        var containers = engine.containers().list();
        for (ContainerInfo c : containers) {
            switch (engine.state(c).status()) {
                case "running", "restarting" -> running++;
                case "paused" -> paused++;
                default -> stopped++;
            }
        }
        n.put("Containers", containers.size());
        n.put("ContainersRunning", running);
        n.put("ContainersPaused", paused);
        n.put("ContainersStopped", stopped);
        n.put("Images", engine.images().list().size());
        n.put("Volumes", engine.volumes().list().size());
        n.put("ServerVersion", version);
        String snapshotter;
        try {
            snapshotter = Engine.snapshotter();
        } catch (dev.hull.runtime.RuntimeError e) {
            snapshotter = "invalid: " + e.getMessage();
        }
        n.put("Driver", snapshotter);
        n.put("HullRootDir", engine.home().toAbsolutePath().toString());
        n.put("StateDir", engine.stateRoot().toAbsolutePath().toString());
        n.put("CgroupDriver", "cgroupfs");
        n.put("Rootless", Rootless.active() ? Rootless.describe() : "no");
        try {
            CgroupLayout layout = CgroupLayout.detect();
            n.put("CgroupVersion", layout.mode() == CgroupLayout.Mode.V2 ? "2" : "1");
            n.put("CgroupLayout", layout.mode().name().toLowerCase(Locale.ROOT));
        } catch (IOException e) {
            n.put("CgroupVersion", "");
            n.put("CgroupLayout", "none (" + e.getMessage() + ")");
        }
        n.put("KernelVersion", read("/proc/sys/kernel/osrelease"));
        n.put("OperatingSystem", osName());
        n.put("OSType", "linux");
        n.put("Architecture", architecture());
        n.put("NCPU", Runtime.getRuntime().availableProcessors());
        n.put("MemTotal", memTotal());
        ArrayNode sec = n.putArray("SecurityOptions");
        if (seccompAvailable()) {
            sec.add("name=seccomp,profile=builtin");
        }
        if (Rootless.active()) {
            sec.add("name=rootless"); // as dockerd says it: clients (Testcontainers) look for it
        }
        n.put("JavaVersion", System.getProperty("java.version"));
        n.put("LoggingDriver", "json-file");
        defaults(engine, n);
        return n;
    }

    /** What a text line says of the writable layer's size (no limit until storage-opt size exists). */
    public static final String WRITABLE_LAYER_LIMIT = "none by default (no limit on a container's writable layer"
            + " unless --storage-opt size=SIZE gives it a disk of its own)";

    /**
     * Config: the config file and whether it was found (or its error); Defaults: what a new container
     * gets without flags (docker's HostConfig names: PidsLimit, 0 for none, and LogConfig); the
     * writable-layer limit. A bad config file is reported here, not thrown: info still answers.
     */
    static void defaults(Engine engine, ObjectNode n) {
        ObjectNode file = n.putObject("Config");
        try {
            EngineConfig c = engine.config();
            file.put("File", c.file().toString());
            file.put("Found", c.found());
            ObjectNode d = n.putObject("Defaults");
            d.put("PidsLimit", c.pidsLimit());
            ObjectNode lc = d.putObject("LogConfig");
            lc.put("Type", "json-file");
            ObjectNode opts = lc.putObject("Config");
            CreateOptions o = new CreateOptions();
            c.applyTo(o);
            o.logOpts.forEach(opts::put);
        } catch (dev.hull.runtime.RuntimeError e) {
            file.put("File", EngineConfig.location().toString());
            file.put("Found", true);
            file.put("Error", e.getMessage());
        }
        n.put("WritableLayerLimit", WRITABLE_LAYER_LIMIT);
        n.put("Disks", dev.hull.disk.DiskHost.describe(engine.home()));
        n.put("Lxcfs", Lxcfs.describe());
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** PRETTY_NAME of /etc/os-release (else /usr/lib/os-release), as docker shows it. */
    static String osName() {
        for (String f : new String[] {"/etc/os-release", "/usr/lib/os-release"}) {
            for (String line : read(f).split("\n")) {
                if (line.startsWith("PRETTY_NAME=")) {
                    return line.substring(12).replaceAll("^\"|\"$", "");
                }
            }
        }
        return "Linux";
    }

    /** uname -m's name for the JVM's architecture. */
    static String architecture() {
        String a = System.getProperty("os.arch");
        return switch (a) {
            case "amd64" -> "x86_64";
            case "x86" -> "i686";
            default -> a;
        };
    }

    /** Bytes of RAM (MemTotal of /proc/meminfo); 0 if unknown. */
    static long memTotal() {
        for (String line : read("/proc/meminfo").split("\n")) {
            if (line.startsWith("MemTotal:")) {
                String[] f = line.substring(9).trim().split("\\s+");
                try {
                    return Long.parseLong(f[0]) * 1024;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    /** The kernel filters system calls (seccomp mode 2): /proc/self/status has the Seccomp field. */
    static boolean seccompAvailable() {
        return read("/proc/self/status").contains("\nSeccomp:") && Files.exists(Path.of("/proc/sys/kernel/seccomp"));
    }
}
