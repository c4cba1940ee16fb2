package dev.hull.engine;

import dev.hull.engine.network.Networking;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.Signals;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;

/**
 * How containers end, for the {@link Engine}: stop (the stop signal, then SIGKILL), kill, rm and
 * wait, each under the container's lock.
 */
final class ContainerEnding {
    private final Engine engine;
    private final ContainerStore containers;
    private final ContainerRuntime runtime;
    private final Networking networking;
    private final EventLog events;

    ContainerEnding(Engine engine) {
        this.engine = engine;
        this.containers = engine.containers();
        this.runtime = engine.runtime();
        this.networking = engine.networking();
        this.events = engine.events();
    }

    private Engine.State state(ContainerInfo info) throws IOException {
        return engine.state(info);
    }

    private ContainerRecord requireRunning(ContainerInfo info) throws IOException, RuntimeError {
        return engine.requireRunning(info);
    }

    private ContainerRecord runtimeRecord(ContainerInfo info) throws IOException {
        return engine.runtimeRecord(info);
    }

    // ---------------------------------------------------------------- stop / kill / rm / wait

    /**
     * {@code hull stop}: the stop signal, then SIGKILL after timeout seconds; no restart follows.
     * Returns once the container has ended. A stopped container is left as it is.
     */
    public void stop(String ref, Integer timeoutSeconds) throws IOException, RuntimeError {
        stop(ref, timeoutSeconds, null);
    }

    /** As {@link #stop(String, Integer)}, with signal (docker's stop -s) instead of the container's stop signal. */
    public void stop(String ref, Integer timeoutSeconds, String signal) throws IOException, RuntimeError {
        int sig = signal == null || signal.isEmpty() ? 0 : Signals.parse(signal); // a bad one refused before anything
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            boolean wasRunning = state(locked.info()).running();
            stopLocked(locked.info(), timeoutSeconds, sig);
            if (!state(locked.info()).running()) {
                networking.tearDown(info.id());
            }
            if (wasRunning) {
                events.container("stop", locked.info(), java.util.Map.of());
            }
        }
    }

    /** signal: 0 for the container's stop signal. */
    private void stopLocked(ContainerInfo info, Integer timeoutSeconds, int signal) throws IOException, RuntimeError {
        Engine.State s = state(info);
        if (!s.running()) {
            return;
        }
        Files.writeString(containers.stopMarker(info.id()), Instant.now().toString());
        CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
        int timeout = timeoutSeconds != null ? timeoutSeconds : o.stopTimeout != null ? o.stopTimeout
                : Engine.DEFAULT_STOP_TIMEOUT;
        ContainerRecord rec = runtimeRecord(info);
        if (s.status().equals("running") && rec != null) {
            int sig = signal != 0 ? signal : Signals.parse(info.stopSignal() != null ? info.stopSignal() : "SIGTERM");
            signal(info, rec, sig, false);
            if (!awaitInitGone(rec, timeout * 1000L)) {
                signal(info, rec, 9, true);
            }
        } else if (s.status().equals("paused") && rec != null) {
            signal(info, rec, 9, true);
        }
        // A restart the monitor began before it saw the stop request: its new init is in the same
        // cgroup, so killing the cgroup's processes ends it too.
        for (int round = 0; round < 3 && !awaitMonitor(info, 5_000); round++) {
            ContainerRecord now = runtimeRecord(info);
            if (now != null) {
                signal(info, now, 9, true);
            }
        }
    }

    private void signal(ContainerInfo info, ContainerRecord rec, int sig, boolean all) throws IOException {
        try {
            runtime.kill(info.id(), sig, all);
            if (all && sig == 9) {
                try { // a frozen process cannot die
                    new dev.hull.linux.cgroup.CgroupResources(dev.hull.linux.cgroup.CgroupLayout.detect(),
                            rec.cgroupPath()).thaw();
                } catch (IOException | RuntimeException ignored) {
                    // not frozen, or no freezer
                }
            }
        } catch (RuntimeError e) {
            // ended meanwhile
        }
    }

    private static boolean awaitInitGone(ContainerRecord rec, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (MonitorStatus.alive(rec.pid(), rec.startTime())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(5);
        }
        return true;
    }

    /** Waits until the monitor is gone (it recorded the end), or the time is up. */
    private boolean awaitMonitor(ContainerInfo info, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        for (;;) {
            MonitorStatus m = MonitorStatus.read(containers.statusFile(info.id()));
            // exited is its last word (an --rm container's monitor then becomes `hull rm`, same pid)
            if (m == null || !m.monitorAlive() || m.status().equals("exited")) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(5);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** {@code hull kill}: a signal to the container's main process (the restart policy still applies). */
    public void kill(String ref, String signal) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        int sig = Signals.parse(signal);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            ContainerRecord rec = requireRunning(locked.info());
            runtime.kill(locked.info().id(), sig, false);
            events.container("kill", locked.info(), java.util.Map.of("signal", Integer.toString(sig)));
            if (rec != null && sig == 9) {
                awaitInitGone(rec, 5000);
            }
        }
    }

    /** {@code hull rm}: removes a container that is not running (with force, kills it first). */
    public ContainerInfo remove(String ref, boolean force) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            info = locked.info();
            Engine.State s = state(info);
            if (s.running()) {
                if (!force) {
                    throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " is "
                            + s.status() + ": stop it first, or use rm --force");
                }
                Files.writeString(containers.stopMarker(info.id()), Instant.now().toString());
                ContainerRecord rec = runtimeRecord(info);
                if (rec != null) {
                    signal(info, rec, 9, true);
                }
                if (!awaitMonitor(info, 15_000)) {
                    throw new RuntimeError(RuntimeError.Kind.FAILED, "container " + info.name()
                            + ": its monitor did not end within 15 s");
                }
            }
            runtime.delete(info.id(), true);
            networking.release(info.id());
            events.endBeforeRemoval(engine, info);
            containers.remove(info);
            events.container("destroy", info, java.util.Map.of());
            return info;
        }
    }

    /** {@code hull wait}: blocks until the container ends for good (no restart pending); its exit code. */
    public int await(String ref) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        for (;;) {
            if (containers.read(info.id()) == null) {
                throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "container " + info.name() + " was removed");
            }
            Engine.State s = state(info);
            if (!s.running() && !s.status().equals("created")) {
                return s.exitCode();
            }
            sleep(s.status().equals("created") ? 50 : 10);
        }
    }
}
