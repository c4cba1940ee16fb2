package dev.hull.engine;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The resource half of a container's OCI config: --ulimit rlimits and the cgroup limits (memory, CPU, pids, block I/O). */
final class SpecResources {
    private SpecResources() {}

    static void rlimits(ObjectNode process, List<String> ulimits) throws RuntimeError {
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


    /** docker's smallest -m (linuxMinMemory): 6 MiB. */
    static final long MIN_MEMORY = 6L << 20;

    static void apply(CreateOptions o, ObjectNode linux) throws RuntimeError {
        ObjectNode res = linux.has("resources") ? (ObjectNode) linux.get("resources") : linux.putObject("resources");
        if (o.memory > 0 && o.memory < MIN_MEMORY) { // docker's floor and words
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "Minimum memory limit allowed is 6MB");
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        if (o.cpus > cpus) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, String.format(java.util.Locale.ROOT, "range of CPUs is"
                    + " from 0.01 to %d.00, as there are only %d CPUs available", cpus, cpus));
        }
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
        memoryKnobs(o, res, () -> dev.hull.linux.cgroup.CgroupLayout.detect());
    }

    /** How the cgroup layout is read (a test gives another). */
    interface LayoutSource {
        dev.hull.linux.cgroup.CgroupLayout get() throws IOException;
    }

    /**
     * --oom-kill-disable and --memory-swappiness: cgroup v1's memory.oom_control and memory.swappiness.
     * cgroup v2 has neither: there, as dockerd does, the flag is discarded with dockerd's warning (in
     * o.warnings) and left out of the options kept, so inspect shows what applies.
     */
    static void memoryKnobs(CreateOptions o, ObjectNode res, LayoutSource layouts) throws RuntimeError {
        if (o.memorySwappiness != null && o.memorySwappiness == -1) {
            o.memorySwappiness = null; // docker's default: unset
        }
        if (o.memorySwappiness != null && (o.memorySwappiness < 0 || o.memorySwappiness > 100)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "Invalid value: " + o.memorySwappiness
                    + ", valid memory swappiness range is 0-100");
        }
        if (o.oomKillDisable == null && o.memorySwappiness == null) {
            return;
        }
        boolean v1;
        try {
            v1 = memoryOnV1(layouts.get());
        } catch (IOException | RuntimeException e) {
            v1 = false;
        }
        if (!v1) {
            if (Boolean.TRUE.equals(o.oomKillDisable)) {
                o.warnings.add("Your kernel does not support OomKillDisable. OomKillDisable discarded.");
            }
            if (o.memorySwappiness != null) {
                o.warnings.add("Your kernel does not support memory swappiness capabilities or the cgroup is not"
                        + " mounted. Memory swappiness discarded.");
            }
            o.oomKillDisable = null;
            o.memorySwappiness = null;
            return;
        }
        ObjectNode m = res.has("memory") ? (ObjectNode) res.get("memory") : res.putObject("memory");
        if (Boolean.TRUE.equals(o.oomKillDisable)) {
            m.put("disableOOMKiller", true);
            if (o.memory <= 0) { // dockerd's words
                o.warnings.add("OOM killer is disabled for the container, but no memory limit is set, this can"
                        + " result in the system running out of resources.");
            }
        }
        if (o.memorySwappiness != null) {
            m.put("swappiness", o.memorySwappiness);
        }
    }

    /** Whether the memory controller is a cgroup v1 one (memory.oom_control, memory.swappiness exist). */
    static boolean memoryOnV1(dev.hull.linux.cgroup.CgroupLayout layout) {
        return layout.mode() != dev.hull.linux.cgroup.CgroupLayout.Mode.V2 && layout.v1Hierarchy("memory").isPresent();
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

}
