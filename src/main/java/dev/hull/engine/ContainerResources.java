package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupResources;
import dev.hull.linux.cgroup.Resources;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.Monitor;
import dev.hull.runtime.ResourceControl;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.ResourcesSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@code hull pause}, {@code unpause} and {@code update}: a container's cgroup changed while it runs
 * (through {@link ResourceControl}), and, for update, the new values kept in its config.json
 * (linux.resources) and container.json (its {@link CreateOptions}), so the next start has them too.
 * Everything happens under the container's lock.
 */
public final class ContainerResources {
    private ContainerResources() {}

    /** {@code hull pause}: freezes every process of the container (cgroup freezer). */
    public static ContainerInfo pause(Engine engine, String ref) throws IOException, RuntimeError {
        ContainerInfo info = engine.containers().resolve(ref);
        try (ContainerStore.Locked locked = engine.containers().lock(info)) {
            info = locked.info();
            String status = engine.state(info).status();
            if (status.equals("paused")) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name()
                        + " is already paused");
            }
            if (!status.equals("running")) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name()
                        + " is not running (" + status + ")");
            }
            ContainerRecord rec = engine.requireRunning(info);
            new ResourceControl(engine.runtime()).pause(rec.id());
            engine.events().container("pause", info, java.util.Map.of());
            return info;
        }
    }

    /** {@code hull unpause}: thaws a paused container. */
    public static ContainerInfo unpause(Engine engine, String ref) throws IOException, RuntimeError {
        ContainerInfo info = engine.containers().resolve(ref);
        try (ContainerStore.Locked locked = engine.containers().lock(info)) {
            info = locked.info();
            String status = engine.state(info).status();
            if (!status.equals("paused")) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name()
                        + " is not paused (" + status + ")");
            }
            ContainerRecord rec = engine.requireRunning(info);
            new ResourceControl(engine.runtime()).resume(rec.id());
            engine.events().container("unpause", info, java.util.Map.of());
            return info;
        }
    }

    /**
     * What {@code hull update} changes; null fields are left as they are.
     *
     * @param memory     bytes, above 0
     * @param memorySwap memory + swap in bytes (at least memory), or -1 for unlimited swap
     * @param cpus       CPUs (0: no limit)
     * @param cpuShares  relative weight, above 0
     * @param cpusetCpus CPUs to run on, e.g. "0-1"
     * @param pidsLimit  most processes (0 or below: no limit)
     * @param restart    restart policy: no, on-failure[:N], always, unless-stopped
     */
    public record Update(Long memory, Long memorySwap, Double cpus, Long cpuShares, String cpusetCpus,
            Long pidsLimit, String restart) {
        boolean resources() {
            return memory != null || memorySwap != null || cpus != null || cpuShares != null || cpusetCpus != null
                    || pidsLimit != null;
        }

        public boolean empty() {
            return !resources() && restart == null;
        }
    }

    /**
     * {@code hull update}: checks the new values, writes them into the cgroup of a running (or paused,
     * or restarting) container, then keeps them in config.json and container.json. A value the kernel
     * refuses fails the update and nothing is kept. A new restart policy is kept for the next start and
     * also handed to the running container's monitor (the restart-policy file it reads before each
     * decision), so it applies at once.
     */
    public static ContainerInfo update(Engine engine, String ref, Update u) throws IOException, RuntimeError {
        if (u.empty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "update: nothing to change (give --memory, --cpus,"
                    + " --pids-limit, --restart, ...)");
        }
        ContainerInfo info = engine.containers().resolve(ref);
        try (ContainerStore.Locked locked = engine.containers().lock(info)) {
            info = locked.info();
            CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
            Monitor.RestartPolicy policy = null;
            if (u.restart() != null) {
                try {
                    policy = Monitor.RestartPolicy.parse(u.restart());
                } catch (IllegalArgumentException e) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, e.getMessage());
                }
                if (o.autoRemove && policy.mode() != 0) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "container " + info.name() + " was made"
                            + " with --rm: it cannot get restart policy " + policy + " (a container that restarts"
                            + " is never done to be removed)");
                }
            }
            Path configFile = engine.containers().dir(info.id()).resolve("config.json");
            ObjectNode spec = (ObjectNode) ContainerStore.JSON.readTree(Files.readAllBytes(configFile));
            ObjectNode linux = spec.get("linux") instanceof ObjectNode l ? l : spec.putObject("linux");
            ObjectNode res = linux.get("resources") instanceof ObjectNode r ? r : linux.putObject("resources");
            ObjectNode live = ContainerStore.JSON.createObjectNode(); // the linux.resources to write now
            apply(u, o, res, live);
            if (u.resources()) {
                Engine.State s = engine.state(info);
                if (s.running()) {
                    writeLive(engine, info, s, live);
                }
            }
            if (policy != null) {
                o.restart = policy.toString();
                writeAtomically(restartPolicyFile(engine, info.id()), policy.mode() + " " + policy.maxRetries() + "\n");
            }
            writeAtomically(configFile, ContainerStore.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(spec));
            ContainerInfo updated = new ContainerInfo(info.id(), info.name(), info.image(), info.imageId(),
                    info.created(), info.exposedPorts(), info.volumes(), info.snapshotter(), info.args(), o,
                    info.stopSignal());
            engine.containers().write(updated);
            engine.events().container("update", updated, java.util.Map.of());
            return updated;
        }
    }

    /** Where the container's monitor finds a restart policy changed after it started (see monitor.c). */
    static Path restartPolicyFile(Engine engine, String id) {
        return engine.containers().stopMarker(id).resolveSibling("restart-policy");
    }

    /**
     * Checks u against the container's options o and changes o, its persisted linux.resources (res)
     * and the delta to write into the live cgroup (live, the same shape) to match.
     */
    static void apply(Update u, CreateOptions o, ObjectNode res, ObjectNode live) throws RuntimeError {
        long memory = u.memory() != null ? u.memory() : o.memory;
        long swap = u.memorySwap() != null ? u.memorySwap() : o.memorySwap;
        if (u.memory() != null && u.memory() <= 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--memory must be above 0");
        }
        if (u.memorySwap() != null) {
            if (u.memorySwap() < -1 || u.memorySwap() == 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--memory-swap must be a size (memory plus"
                        + " swap), or -1 for unlimited swap");
            }
            if (memory <= 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--memory-swap needs a memory limit: the"
                        + " container has none, give --memory too");
            }
        }
        if (swap > 0 && swap < memory) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, u.memorySwap() == null
                    ? "--memory " + memory + " is above the container's memory+swap limit (" + swap + "): give"
                        + " --memory-swap too (at least --memory, or -1)"
                    : "--memory-swap must be at least --memory (it counts memory and swap together), or -1");
        }
        if (u.memory() != null || u.memorySwap() != null) {
            ObjectNode m = child(res, "memory");
            ObjectNode lm = child(live, "memory");
            if (u.memory() != null) {
                o.memory = memory;
                m.put("limit", memory);
                lm.put("limit", memory);
            }
            if (u.memorySwap() != null) {
                o.memorySwap = swap;
                m.put("swap", swap);
                lm.put("swap", swap);
                if (u.memory() == null) {
                    lm.put("limit", memory); // v2 computes swap.max from both
                }
            }
        }
        if (u.cpus() != null) {
            if (u.cpus() < 0 || u.cpus().isNaN() || u.cpus().isInfinite()) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpus must be 0 (no limit) or above");
            }
            if (u.cpus() > 0 && Math.round(u.cpus() * 100000) < 1000) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpus " + u.cpus() + ": the smallest is 0.01");
            }
            o.cpus = u.cpus();
            ObjectNode c = child(res, "cpu");
            ObjectNode lc = child(live, "cpu");
            if (u.cpus() > 0) {
                long quota = Math.round(u.cpus() * 100000);
                c.put("period", 100000);
                c.put("quota", quota);
                lc.put("period", 100000);
                lc.put("quota", quota);
            } else {
                c.remove("period");
                c.remove("quota");
                lc.put("quota", -1); // no quota
            }
        }
        if (u.cpuShares() != null) {
            if (u.cpuShares() <= 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpu-shares must be above 0 (1024 is the"
                        + " default weight)");
            }
            o.cpuShares = u.cpuShares();
            child(res, "cpu").put("shares", u.cpuShares());
            child(live, "cpu").put("shares", u.cpuShares());
        }
        if (u.cpusetCpus() != null) {
            if (!u.cpusetCpus().matches("\\d+(-\\d+)?(,\\d+(-\\d+)?)*")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--cpuset-cpus " + u.cpusetCpus()
                        + ": use a list like 0-1 or 0,2");
            }
            o.cpusetCpus = u.cpusetCpus();
            child(res, "cpu").put("cpus", u.cpusetCpus());
            child(live, "cpu").put("cpus", u.cpusetCpus());
        }
        if (u.pidsLimit() != null) {
            if (u.pidsLimit() > 0) {
                o.pidsLimit = u.pidsLimit();
                child(res, "pids").put("limit", u.pidsLimit());
                child(live, "pids").put("limit", u.pidsLimit());
            } else {
                o.pidsLimit = 0L;
                res.remove("pids");
                child(live, "pids").put("limit", -1); // no limit
            }
        }
        if (res.get("cpu") instanceof ObjectNode c && c.isEmpty()) {
            res.remove("cpu");
        }
    }

    private static ObjectNode child(ObjectNode n, String name) {
        return n.get(name) instanceof ObjectNode c ? c : n.putObject(name);
    }

    private static void writeLive(Engine engine, ContainerInfo info, Engine.State s, JsonNode live)
            throws IOException, RuntimeError {
        Resources r;
        try {
            r = ResourcesSpec.parse(live, "linux.resources");
        } catch (ConfigException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "update: " + e.getMessage());
        }
        try {
            if (s.status().equals("restarting")) {
                // Between two runs: no init, but the cgroup the next one joins is there.
                ContainerRecord rec = engine.runtimeRecord(info);
                if (rec != null) {
                    new CgroupResources(CgroupLayout.detect(), rec.cgroupPath()).apply(r, true);
                }
                return;
            }
            ContainerRecord rec = engine.requireRunning(info);
            new ResourceControl(engine.runtime()).update(rec.id(), r);
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "container " + info.name() + ": " + e.getMessage()
                    + " (the container's settings are unchanged for its next start; its cgroup may have taken the"
                    + " values written before the refused one)", e);
        }
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
