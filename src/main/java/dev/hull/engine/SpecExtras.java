package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * docker's create flags that set one field of the OCI spec each: --domainname, --sysctl, --oom-score-adj,
 * --shm-size, --group-add, --cpu-period/--cpu-quota, --cpuset-mems, --memory-reservation, --annotation and
 * the API's MaskedPaths/ReadonlyPaths (the runtime applies them).
 */
final class SpecExtras {
    /** Sysctls of the container's own namespaces, as docker allows them (the rest would change the host). */
    private static final Set<String> IPC_SYSCTLS = Set.of("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
            "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced");

    /** The image's /etc/group, read only when a group name must be looked up. */
    interface GroupFile {
        byte[] read() throws IOException;
    }

    private SpecExtras() {
    }

    static void apply(ObjectNode spec, CreateOptions o, GroupFile groups) throws RuntimeError, IOException {
        ObjectNode process = (ObjectNode) spec.get("process");
        ObjectNode linux = (ObjectNode) spec.get("linux");
        if (o.domainname != null && !o.domainname.isEmpty()) {
            spec.put("domainname", o.domainname);
        }
        if (o.oomScoreAdj != null) {
            if (o.oomScoreAdj < -1000 || o.oomScoreAdj > 1000) {
                throw bad("--oom-score-adj " + o.oomScoreAdj + ": the range is -1000 to 1000");
            }
            process.put("oomScoreAdj", o.oomScoreAdj);
        }
        if (!o.sysctls.isEmpty()) {
            ObjectNode sysctl = linux.has("sysctl") ? (ObjectNode) linux.get("sysctl") : linux.putObject("sysctl");
            for (var e : o.sysctls.entrySet()) {
                String k = e.getKey();
                boolean net = k.startsWith("net.");
                if (!net && !k.startsWith("fs.mqueue.") && !IPC_SYSCTLS.contains(k)) {
                    throw bad("--sysctl " + k + ": not allowed (only the container's own namespaces' sysctls: net.*,"
                            + " fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*)");
                }
                if (!net && !k.startsWith("fs.mqueue.") && "host".equals(o.ipc)) {
                    throw bad("--sysctl " + k + ": not allowed with --ipc host (it would change the host's)");
                }
                if (net && "host".equals(o.network)) {
                    throw bad("--sysctl " + k + ": not allowed with --network host (it would change the host's)");
                }
                sysctl.put(k, e.getValue());
            }
        }
        if (o.shmSize != null) {
            if (o.shmSize <= 0) {
                throw bad("--shm-size must be above 0");
            }
            for (JsonNode m : spec.get("mounts")) {
                if (m.path("destination").asText().equals("/dev/shm") && m.has("options")) {
                    ArrayNode opts = (ArrayNode) m.get("options");
                    for (int i = 0; i < opts.size(); i++) {
                        if (opts.get(i).asText().startsWith("size=")) {
                            opts.set(i, "size=" + Math.max(1, o.shmSize / 1024) + "k");
                        }
                    }
                }
            }
        }
        limits(o, linux);
        annotations(spec, o);
        systemPaths(o, linux);
        if (!o.groupAdd.isEmpty()) {
            ObjectNode user = (ObjectNode) process.get("user");
            ArrayNode gids = user.has("additionalGids") ? (ArrayNode) user.get("additionalGids")
                    : user.putArray("additionalGids");
            for (String g : o.groupAdd) {
                gids.add(g.matches("[0-9]+") ? Long.parseLong(g) : groupId(g, groups.read()));
            }
        }
    }

    /** --annotation KEY=VALUE: OCI annotations; Hull's own (run.hull.*) steer its runtime and are refused. */
    private static void annotations(ObjectNode spec, CreateOptions o) throws RuntimeError {
        if (o.annotations.isEmpty()) {
            return;
        }
        ObjectNode ann = object(spec, "annotations");
        for (var e : o.annotations.entrySet()) {
            String k = e.getKey();
            if (k.isEmpty() || k.startsWith("run.hull.") || k.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw bad("--annotation " + k + "=" + e.getValue() + ": " + (k.startsWith("run.hull.")
                        ? "run.hull.* annotations are Hull's own (they steer its runtime)" : "not a valid key"));
            }
            ann.put(k, e.getValue());
        }
    }

    /**
     * HostConfig.MaskedPaths / ReadonlyPaths (the docker CLI sends both empty for --security-opt
     * systempaths=unconfined): the lists replace the defaults, as dockerd's; --privileged has none.
     */
    private static void systemPaths(CreateOptions o, ObjectNode linux) throws RuntimeError {
        for (boolean masked : new boolean[] {true, false}) {
            List<String> paths = masked ? o.maskedPaths : o.readonlyPaths;
            if (paths == null || o.privileged) {
                continue;
            }
            ArrayNode out = linux.putArray(masked ? "maskedPaths" : "readonlyPaths");
            for (String p : paths) {
                if (!p.startsWith("/") || p.contains("\0") || java.util.Arrays.asList(p.split("/")).contains("..")) {
                    throw bad((masked ? "MaskedPaths " : "ReadonlyPaths ") + p + ": use absolute paths without ..");
                }
                out.add(p);
            }
        }
    }

    /** The cgroup flags beside -m and --cpus, with docker's checks and words. */
    private static void limits(CreateOptions o, ObjectNode linux) throws RuntimeError {
        ObjectNode res = object(linux, "resources");
        if (o.cpuPeriod != null || o.cpuQuota != null) {
            if (o.cpus > 0) {
                throw bad("Conflicting options: Nano CPUs and CPU Period cannot both be set");
            }
            if (o.cpuPeriod != null && (o.cpuPeriod < 1000 || o.cpuPeriod > 1_000_000)) {
                throw bad("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 second (i.e. 1000000)");
            }
            if (o.cpuQuota != null && o.cpuQuota > 0 && o.cpuQuota < 1000) {
                throw bad("CPU cfs quota can not be less than 1ms (i.e. 1000)");
            }
            ObjectNode cpu = object(res, "cpu");
            cpu.put("period", o.cpuPeriod != null ? o.cpuPeriod : 100_000);
            cpu.put("quota", o.cpuQuota != null && o.cpuQuota > 0 ? o.cpuQuota : -1);
        }
        if (o.cpusetMems != null) {
            if (!o.cpusetMems.matches("[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*")) {
                throw bad("--cpuset-mems " + o.cpusetMems + ": use a list like 0 or 0-1 or 0,2");
            }
            object(res, "cpu").put("mems", o.cpusetMems);
        }
        if (o.memoryReservation != null) {
            if (o.memory > 0 && o.memory < o.memoryReservation) {
                throw bad("Minimum memory limit can not be less than memory reservation limit, see usage");
            }
            object(res, "memory").put("reservation", o.memoryReservation);
        }
    }

    private static ObjectNode object(ObjectNode parent, String name) {
        return parent.has(name) ? (ObjectNode) parent.get(name) : parent.putObject(name);
    }

    private static long groupId(String name, byte[] groupFile) throws RuntimeError {
        if (groupFile != null) {
            for (String line : new String(groupFile, StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.split(":");
                if (f.length >= 3 && f[0].equals(name) && f[2].matches("[0-9]+")) {
                    return Long.parseLong(f[2]);
                }
            }
        }
        throw bad("--group-add " + name + ": no such group in the image's /etc/group (give a number)");
    }

    private static RuntimeError bad(String msg) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, msg);
    }
}
