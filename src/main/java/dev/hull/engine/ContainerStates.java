package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;

/**
 * What a container is doing, for the {@link Engine}: docker's status words from the monitor's
 * status file and the liveness of the processes it names, the runtime's record, OOM kills.
 */
final class ContainerStates {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Engine engine;
    private final ContainerStore containers;
    private final ContainerRuntime runtime;

    ContainerStates(Engine engine) {
        this.engine = engine;
        this.containers = engine.containers();
        this.runtime = engine.runtime();
    }

    /**
     * created (never started), running, paused, restarting or exited. A monitor that is gone
     * while its file says running (killed, or the host rebooted) means exited, unless the init it
     * named still runs.
     */
    public Engine.State state(ContainerInfo info) throws IOException {
        MonitorStatus m = MonitorStatus.read(containers.statusFile(info.id()));
        if (m == null) {
            return new Engine.State("created", null);
        }
        switch (m.status()) {
            case "running" -> {
                if (!m.initAlive()) { // (the monitor is looked at only then: one /proc read a running container)
                    if (m.monitorAlive()) { // between the init's end and the monitor's record of it
                        return new Engine.State("running", m);
                    }
                    MonitorStatus again = MonitorStatus.read(containers.statusFile(info.id()));
                    if (again != null && !again.status().equals("running")) {
                        return state(info); // it recorded the end and left between the read and the check
                    }
                    return new Engine.State("exited", lost(m, "the container's monitor ended without recording its exit"
                            + " (killed, or the host restarted)"));
                }
                return new Engine.State(frozen(info) ? "paused" : "running", m);
            }
            case "restarting" -> {
                return m.monitorAlive() ? new Engine.State("restarting", m) : new Engine.State("exited", m);
            }
            default -> {
                return new Engine.State("exited", m);
            }
        }
    }

    private static MonitorStatus lost(MonitorStatus m, String why) {
        return new MonitorStatus("exited", 0, 0, m.monitorPid(), m.monitorStartTime(), m.startedAt(), "",
                255, m.restartCount(), why);
    }

    /** The runtime's records as frozen() last parsed them (state.json is replaced whole). */
    private static final dev.hull.linux.FileMemo<ContainerRecord> RECORDS =
            new dev.hull.linux.FileMemo<>(b -> ContainerRecord.fromJson(JSON.readTree(b)));
    /** The host's cgroup mounts, read once: they do not move while a service runs. */
    private static volatile dev.hull.linux.cgroup.CgroupLayout layout;

    /** Each cgroup's resources handle, by its path (made once: the layout does not change while a service runs). */
    private static final java.util.concurrent.ConcurrentHashMap<String, dev.hull.linux.cgroup.CgroupResources> CGROUPS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** A cgroup's freezer as last read, and the event log's stamp read before it. */
    private record Frozen(Object stamp, boolean frozen) {}

    /**
     * The freezer each cgroup had when read last (a listing asks it of every running container): valid
     * while the event log is unchanged, as pause and unpause record their events after the freezer moved.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, Frozen> FROZEN =
            new java.util.concurrent.ConcurrentHashMap<>();

    private boolean frozen(ContainerInfo info) {
        try {
            ContainerRecord rec = RECORDS.read(runtime.store().dir(info.id()).resolve(
                    dev.hull.runtime.StateStore.STATE_FILE));
            if (rec == null) {
                return false;
            }
            if (layout == null) {
                layout = dev.hull.linux.cgroup.CgroupLayout.detect();
            }
            String path = rec.cgroupPath();
            var cg = CGROUPS.get(path);
            if (cg == null) {
                if (CGROUPS.size() > 4096) {
                    CGROUPS.clear(); // containers come and go: kept only for those listed lately
                }
                cg = new dev.hull.linux.cgroup.CgroupResources(layout, path);
                CGROUPS.put(path, cg);
            }
            Object stamp = engine.events().stamp(); // before the freezer: a pause after it changes the stamp
            Frozen known = FROZEN.get(path);
            if (stamp != null && known != null && stamp.equals(known.stamp())) {
                return known.frozen();
            }
            boolean frozen = cg.isFrozen();
            if (stamp != null) {
                if (FROZEN.size() > 4096) {
                    FROZEN.clear();
                }
                FROZEN.put(path, new Frozen(stamp, frozen));
            }
            return frozen;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The runtime's record of the container, with the pid of the init the monitor runs now (a
     * restart makes a new one); null if the runtime has no record (never started, or removed).
     */
    public ContainerRecord runtimeRecord(ContainerInfo info) throws IOException {
        ContainerRecord rec;
        try {
            rec = runtime.store().load(info.id());
        } catch (RuntimeError e) {
            return null;
        }
        MonitorStatus m = MonitorStatus.read(containers.statusFile(info.id()));
        if (m != null && m.status().equals("running") && m.pid() > 0 && m.pid() != rec.pid()) {
            rec = new ContainerRecord(rec.id(), m.pid(), m.pidStartTime(), rec.bundle(), rec.rootfs(), rec.created(),
                    rec.ociVersion(), rec.cgroupPath(), rec.cgroupDirs(), rec.annotations());
            runtime.store().save(rec);
        }
        return rec;
    }

    /** The kernel's OOM killer ended a process of the container (its cgroup's count, kept until the next start). */
    public boolean oomKilled(ContainerInfo info) {
        try {
            ContainerRecord rec = runtime.store().load(info.id());
            return new dev.hull.linux.cgroup.CgroupResources(dev.hull.linux.cgroup.CgroupLayout.detect(),
                    rec.cgroupPath()).oomKills() > 0;
        } catch (IOException | RuntimeError | RuntimeException e) {
            return false;
        }
    }

    /** The running container's runtime id, its record synced with the monitor; fails if it is not running. */
    public ContainerRecord requireRunning(ContainerInfo info) throws IOException, RuntimeError {
        Engine.State s = state(info);
        if (!s.status().equals("running") && !s.status().equals("paused")) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " is not running"
                    + " (" + s.status() + ")");
        }
        ContainerRecord rec = runtimeRecord(info);
        if (rec == null) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " is not running");
        }
        return rec;
    }
}
