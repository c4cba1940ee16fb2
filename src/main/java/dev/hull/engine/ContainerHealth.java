package dev.hull.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.linux.FdControl;
import dev.hull.linux.FdInputStream;
import dev.hull.linux.Syscalls;
import dev.hull.runtime.Monitor;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Healthchecks (docker's HEALTHCHECK, --health-*): the container's monitor runs {@code hull
 * healthcheck run ID} at each interval (see {@link #monitorHealth}); that command execs the check in
 * the container as {@code hull exec} does, with its timeout, and records the result beside the
 * container (containers/ID/health.json: docker's State.Health, with the start it belongs to).
 */
final class ContainerHealth {
    static final int LOG_ENTRIES = 5, OUTPUT_MAX = 4096;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private final Engine engine;
    private final ContainerStore containers;

    ContainerHealth(Engine engine) {
        this.engine = engine;
        this.containers = engine.containers();
    }

    /** At create: the flags' healthcheck with the image's for what they left open, checked as dockerd does. */
    static void atCreate(CreateOptions o, com.fasterxml.jackson.databind.JsonNode imageConfig) throws RuntimeError {
        HealthConfig image = HealthConfig.fromJson(imageConfig == null ? null : imageConfig.path("config").path("Healthcheck"));
        HealthConfig merged = HealthConfig.merge(o.healthcheck, image);
        if (merged != null) {
            merged.validate();
        }
        o.healthcheck = merged;
    }

    /** What the monitor runs, or null when the container has no check. */
    static Monitor.Health monitorHealth(CreateOptions o, List<String> command) {
        HealthConfig h = o.healthcheck;
        if (h == null || h.disabled()) {
            return null;
        }
        long startInterval = h.startPeriod > 0 ? h.startIntervalOrDefault() / 1_000_000 : 0;
        return new Monitor.Health(Math.max(1, h.intervalOrDefault() / 1_000_000), startInterval,
                h.startPeriod / 1_000_000, command);
    }

    private Path file(String id) {
        return containers.dir(id).resolve("health.json");
    }

    /**
     * docker's State.Health: null without a check, or for a container never started; "starting" with no
     * results yet at each start (what health.json holds is of an earlier start).
     */
    HealthState state(ContainerInfo info, Engine.State s) throws IOException {
        HealthConfig h = info.options() == null ? null : info.options().healthcheck;
        if (h == null || h.disabled() || s.monitor() == null) {
            return null;
        }
        HealthState stored = read(info.id());
        if (stored != null && Objects.equals(stored.startedAt(), s.monitor().startedAt())) {
            return stored;
        }
        return s.running() || stored == null ? new HealthState("starting", 0, List.of(), s.monitor().startedAt()) : stored;
    }

    private HealthState read(String id) throws IOException {
        try {
            return JSON.readValue(Files.readAllBytes(file(id)), HealthState.class);
        } catch (NoSuchFileException e) {
            return null;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            return null; // replaced whole (tmp + rename): only a foreign write could be torn
        }
    }

    /**
     * {@code hull healthcheck run}: runs the check once now and records it; the status after it
     * (healthy, unhealthy or starting).
     */
    String run(String ref) throws IOException, RuntimeError {
        ContainerInfo info = containers.resolve(ref);
        HealthConfig h = info.options() == null ? null : info.options().healthcheck;
        if (h == null || h.disabled()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "container " + info.name() + " has no defined healthcheck");
        }
        Engine.State before = engine.state(info);
        if (!before.status().equals("running") || before.monitor() == null) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " is not running");
        }
        String startedAt = before.monitor().startedAt();
        HealthState.Result r = probe(info, h);
        try (ContainerStore.Locked locked = containers.lock(info)) {
            Engine.State now = engine.state(locked.info());
            HealthState old = state(locked.info(), now);
            if (old == null || !now.running() || !Objects.equals(now.monitor().startedAt(), startedAt)) {
                // it stopped (or started again) meanwhile: this result is of no start that is
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + info.name() + " stopped during"
                        + " its healthcheck");
            }
            HealthState next = next(old, r, h, startedAt);
            write(info.id(), next);
            if (!next.status().equals(old.status())) {
                engine.events().container("health_status: " + next.status(), locked.info(), Map.of());
            }
            return next.status();
        }
    }

    /** dockerd's rules: a success makes it healthy; a failure counts unless starting within the start period. */
    static HealthState next(HealthState old, HealthState.Result r, HealthConfig h, String startedAt) {
        String status = old.status();
        int streak = old.failingStreak();
        if (r.exitCode() == 0) {
            status = "healthy";
            streak = 0;
        } else {
            boolean counts = true;
            if (status.equals("starting") && h.startPeriod > 0 && startedAt != null) {
                Duration since = Duration.between(Instant.parse(startedAt), Instant.parse(r.start()));
                counts = since.toNanos() >= h.startPeriod;
            }
            if (counts) {
                streak++;
                if (streak >= h.retriesOrDefault()) {
                    status = "unhealthy";
                }
            }
        }
        List<HealthState.Result> log = new ArrayList<>(old.log());
        log.add(r);
        while (log.size() > LOG_ENTRIES) {
            log.removeFirst();
        }
        return new HealthState(status, streak, log, startedAt);
    }

    private void write(String id, HealthState s) throws IOException {
        Path f = file(id);
        Path tmp = f.resolveSibling("health.json.tmp");
        Files.write(tmp, JSON.writeValueAsBytes(s));
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The check, exec'd in the container (its user, env, workdir) with stdout and stderr kept; killed at its timeout. */
    private HealthState.Result probe(ContainerInfo info, HealthConfig h) throws IOException, RuntimeError {
        String start = Instant.now().toString();
        long timeout = h.timeoutOrDefault();
        int[] pipe = FdControl.pipe();
        Output out = new Output(pipe[0]);
        Thread reader = Thread.ofPlatform().daemon().name("health-output").start(out);
        AtomicInteger pid = new AtomicInteger();
        AtomicBoolean timedOut = new AtomicBoolean();
        CountDownLatch ended = new CountDownLatch(1);
        Thread killer = Thread.ofPlatform().daemon().name("health-timeout").start(() -> {
            try {
                if (!ended.await(timeout, TimeUnit.NANOSECONDS)) {
                    synchronized (pid) {
                        if (pid.get() > 0 && ended.getCount() > 0) {
                            timedOut.set(true);
                            Syscalls.kill(pid.get(), 9);
                        }
                    }
                }
            } catch (InterruptedException | dev.hull.linux.LinuxException e) {
                // ended meanwhile
            }
        });
        // dockerd's events for the probe's exec: exec_create, exec_start, then exec_die with its code
        String execId = newExecId();
        EventLog events = engine.events();
        events.exec(EventLog.execAction("exec_create", h.command()), info, execId, null);
        events.exec(EventLog.execAction("exec_start", h.command()), info, execId, null);
        int code;
        String error = null;
        try {
            code = engine.exec(info.id(), new Engine.ExecRequest(h.command(), List.of(), null, null, false, false,
                    false, false, new int[] {0, pipe[1], pipe[1]}, p -> pid.set(p)));
        } catch (RuntimeError e) {
            if (!engine.state(info).running()) {
                throw e;
            }
            code = -1;
            error = e.getMessage();
        } finally {
            synchronized (pid) {
                ended.countDown();
            }
            Syscalls.close(pipe[1]);
        }
        killer.interrupt();
        try {
            reader.join(2000); // a process the check left behind may hold the pipe: not waited for
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (error == null) {
            events.exec("exec_die", info, execId, code);
        }
        String end = Instant.now().toString();
        if (timedOut.get()) {
            return new HealthState.Result(start, end, -1, "Health check exceeded timeout (" + HealthConfig.format(timeout) + ")");
        }
        return new HealthState.Result(start, end, code, error != null ? error : out.text());
    }

    /** An exec's ID as dockerd makes them: 32 random bytes in hex. */
    static String newExecId() {
        byte[] rnd = new byte[32];
        RANDOM.nextBytes(rnd);
        return java.util.HexFormat.of().formatHex(rnd);
    }

    /** The check's output: the first 4 KiB kept, the rest read and dropped; the read end closed at EOF. */
    private static final class Output implements Runnable {
        private final int fd;
        private final byte[] kept = new byte[OUTPUT_MAX];
        private int len;

        Output(int fd) {
            this.fd = fd;
        }

        @Override
        public void run() {
            try {
                InputStream in = new FdInputStream(fd);
                byte[] buf = new byte[8192];
                for (int n; (n = in.read(buf)) > 0;) {
                    synchronized (this) {
                        int take = Math.min(n, kept.length - len);
                        System.arraycopy(buf, 0, kept, len, take);
                        len += take;
                    }
                }
            } catch (IOException e) {
                // what was read is kept
            } finally {
                Syscalls.close(fd);
            }
        }

        synchronized String text() {
            return new String(kept, 0, len, StandardCharsets.UTF_8);
        }
    }
}
