package dev.hull.engine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What a container's monitor last wrote (containers/ID/status.json): running (with the init's
 * pid), restarting (waiting out the backoff), or exited (with the code). The monitor replaces the
 * file atomically; a monitor that died leaves the file as it was, which {@link #alive} tells.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record MonitorStatus(String status, int pid, long pidStartTime, int monitorPid, long monitorStartTime,
        String startedAt, String finishedAt, int exitCode, int restartCount, String error) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The monitor replaces its file whole: a stat tells whether what was parsed last is still it. */
    private static final dev.hull.linux.FileMemo<MonitorStatus> FILES =
            new dev.hull.linux.FileMemo<>(b -> JSON.readValue(b, MonitorStatus.class));

    /** null if the container has never been started. */
    public static MonitorStatus read(Path file) throws IOException {
        try {
            return FILES.read(file);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            return null; // only an old monitor's partial write (pre-rename) could be torn; treat as never started
        }
    }

    /** The monitor is still there (same process: pid and start time). */
    public boolean monitorAlive() {
        return monitorPid > 0 && alive(monitorPid, monitorStartTime);
    }

    /** The init this status names is still there. */
    public boolean initAlive() {
        return pid > 0 && alive(pid, pidStartTime);
    }

    /** A process found alive: its pid, start time. */
    private record Known(int pid, long startTime) {}

    /** A pidfd, polled and closed under its own lock (never polled once closed, its number reused). */
    private static final class Pidfd {
        private int fd;

        Pidfd(int fd) {
            this.fd = fd;
        }

        synchronized boolean exited() {
            if (fd < 0) {
                return true;
            }
            try {
                return dev.hull.linux.FdControl.pollInFor(0, fd)[0] != 0;
            } catch (dev.hull.linux.LinuxException | RuntimeException e) {
                return true;
            }
        }

        synchronized void close() {
            if (fd >= 0) {
                dev.hull.linux.Syscalls.close(fd);
                fd = -1;
            }
        }
    }

    /**
     * A pidfd for each process found alive (a listing asks of every running container): poll tells whether
     * it still is in one call, where /proc/PID/stat takes three and a parse. Those that ended are closed
     * when asked about again, or when another is added.
     */
    private static final java.util.concurrent.ConcurrentHashMap<Known, Pidfd> PIDFDS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The process exists, is no zombie, and started at startTime (not a later process with its pid). */
    public static boolean alive(int pid, long startTime) {
        Known k = new Known(pid, startTime);
        Pidfd known = PIDFDS.get(k);
        if (known != null) {
            if (!known.exited()) {
                return true;
            }
            forget(k, known);
            return false;
        }
        if (!aliveNow(pid, startTime)) {
            return false;
        }
        Pidfd p;
        try {
            p = new Pidfd(dev.hull.linux.Syscalls.pidfdOpen(pid));
        } catch (dev.hull.linux.LinuxException | RuntimeException e) {
            return aliveNow(pid, startTime);
        }
        // the pidfd is of the process that has the pid now: that it is ours, /proc tells once more
        if (!aliveNow(pid, startTime)) {
            p.close();
            return false;
        }
        if (PIDFDS.putIfAbsent(k, p) != null) {
            p.close();
        } else {
            PIDFDS.forEach((other, o) -> { // those that ended and were not asked about again
                if (o != p && o.exited()) {
                    forget(other, o);
                }
            });
        }
        return true;
    }

    private static void forget(Known k, Pidfd p) {
        PIDFDS.remove(k, p);
        p.close();
    }

    private static boolean aliveNow(int pid, long startTime) {
        byte[] b = new byte[512];
        int n;
        try (var in = Files.newInputStream(Path.of("/proc/" + pid + "/stat"))) {
            n = in.readNBytes(b, 0, b.length);
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return aliveIn(b, n, startTime);
    }

    /**
     * Whether /proc/PID/stat's first n bytes tell a live process (no zombie) that started at startTime:
     * the state after the command's ")", and field 22 (the start time). Parsed in place: listings ask this
     * of every running container.
     */
    static boolean aliveIn(byte[] b, int n, long startTime) {
        int i = n - 1;
        while (i >= 0 && b[i] != ')') {
            i--;
        }
        if (i < 0 || i + 2 >= n) {
            return false;
        }
        i += 2; // the state
        if (b[i] == 'Z' || b[i] == 'X') {
            return false;
        }
        for (int field = 3; field < 22; field++) { // skip to field 22
            while (i < n && b[i] != ' ') {
                i++;
            }
            while (i < n && b[i] == ' ') {
                i++;
            }
        }
        long v = 0;
        int digits = 0;
        for (; i < n && b[i] >= '0' && b[i] <= '9'; i++, digits++) {
            v = v * 10 + (b[i] - '0');
        }
        return digits > 0 && v == startTime;
    }
}
