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

    /** The process exists, is no zombie, and started at startTime (not a later process with its pid). */
    public static boolean alive(int pid, long startTime) {
        try {
            String s = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
            char state = f[0].charAt(0);
            return state != 'Z' && state != 'X' && Long.parseLong(f[19]) == startTime;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
