package dev.hull.engine;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.ResourceControl;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code hull top}: the processes of a running container: the pids of its cgroup, described from the
 * host's /proc in the columns of {@code ps -ef} (UID PID PPID C STIME TTY TIME CMD; host pids and
 * user names, as docker shows them). Nothing runs inside the container, so images without ps work.
 * With ps options, the host's own ps runs with them and only the container's rows are kept (docker's
 * way); that needs ps on the host.
 */
public final class ContainerTop {
    private ContainerTop() {}

    /** docker's ContainerTopOKBody: the column titles and one row of strings per process. */
    public record Top(List<String> titles, List<List<String>> processes) {
        public ObjectNode json() {
            ObjectNode n = ContainerStore.JSON.createObjectNode();
            ArrayNode t = n.putArray("Titles");
            titles.forEach(t::add);
            ArrayNode ps = n.putArray("Processes");
            for (List<String> p : processes) {
                ArrayNode row = ps.addArray();
                p.forEach(row::add);
            }
            return n;
        }
    }

    public static final List<String> TITLES = List.of("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
    /** USER_HZ: the unit of /proc/PID/stat times (100 on every Linux architecture Hull runs on). */
    private static final long HZ = 100;

    /** The container's processes; psArgs empty for the built-in ps -ef columns. */
    public static Top top(Engine engine, String ref, List<String> psArgs) throws IOException, RuntimeError {
        ContainerInfo info = engine.containers().resolve(ref);
        ContainerRecord rec = engine.requireRunning(info);
        List<Integer> pids = new ArrayList<>(new ResourceControl(engine.runtime()).pids(rec.id()));
        pids.sort(null);
        if (psArgs == null || psArgs.isEmpty()) {
            return fromProc(pids);
        }
        return hostPs(pids, psArgs);
    }

    /** ps -ef's columns for the given pids, read from /proc (a process that ends meanwhile is left out). */
    public static Top fromProc(List<Integer> pids) throws IOException {
        Map<Integer, String> users = users();
        long bootSeconds = bootTime();
        double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).strip().split("\\s+")[0]);
        List<List<String>> rows = new ArrayList<>();
        for (int pid : pids) {
            List<String> row = describe(pid, users, bootSeconds, uptime);
            if (row != null) {
                rows.add(row);
            }
        }
        return new Top(TITLES, rows);
    }

    private static List<String> describe(int pid, Map<Integer, String> users, long bootSeconds, double uptime)
            throws IOException {
        Path dir = Path.of("/proc", Integer.toString(pid));
        String stat;
        String status;
        byte[] cmdline;
        try {
            stat = Files.readString(dir.resolve("stat"));
            status = Files.readString(dir.resolve("status"));
            cmdline = Files.readAllBytes(dir.resolve("cmdline"));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            if (!Files.exists(dir)) {
                return null; // ended while being read (ESRCH)
            }
            throw e;
        }
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        int ppid = Integer.parseInt(f[1]);
        long ttyNr = Long.parseLong(f[4]);
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        long start = Long.parseLong(f[19]);
        int uid = -1;
        for (String l : status.split("\n")) {
            if (l.startsWith("Uid:")) {
                uid = Integer.parseInt(l.substring(4).strip().split("\\s+")[1]); // effective, as ps -ef
            }
        }
        String user = users.getOrDefault(uid, Integer.toString(uid));
        double seconds = uptime - (double) start / HZ;
        long c = seconds <= 0 ? 0 : Math.min(99, (long) ((double) ticks / HZ * 100 / seconds));
        StringBuilder cmd = new StringBuilder();
        int end = cmdline.length;
        while (end > 0 && cmdline[end - 1] == 0) {
            end--;
        }
        for (String a : new String(cmdline, 0, end, StandardCharsets.UTF_8).split("\0", -1)) {
            if (!cmd.isEmpty()) {
                cmd.append(' ');
            }
            cmd.append(a);
        }
        String command = end == 0 ? "[" + comm + "]" : cmd.toString();
        return List.of(user, Integer.toString(pid), Integer.toString(ppid), Long.toString(c),
                stime(bootSeconds + start / HZ), tty(ttyNr), cpuTime(ticks / HZ), command);
    }

    /** ps's STIME: HH:MM within the last 24 hours, else MmmDD, else the year. */
    static String stime(long epochSeconds) {
        ZonedDateTime t = Instant.ofEpochSecond(epochSeconds).atZone(ZoneId.systemDefault());
        long age = Instant.now().getEpochSecond() - epochSeconds;
        String pattern = age < 86400 ? "HH:mm" : age < 365L * 86400 ? "MMMdd" : "yyyy";
        return t.format(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH));
    }

    /** ps's TIME: [DD-]HH:MM:SS. */
    static String cpuTime(long s) {
        String hms = String.format(Locale.ROOT, "%02d:%02d:%02d", (s / 3600) % 24, (s / 60) % 60, s % 60);
        return s >= 86400 ? (s / 86400) + "-" + hms : hms;
    }

    /** The controlling terminal of tty_nr (/proc/PID/stat field 7), as ps names it; "?" for none. */
    static String tty(long nr) {
        if (nr == 0) {
            return "?";
        }
        long major = (nr >> 8) & 0xfff;
        long minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
        if (major >= 136 && major <= 143) {
            return "pts/" + ((major - 136) * 256 + minor);
        }
        if (major == 4) {
            return minor < 64 ? "tty" + minor : "ttyS" + (minor - 64);
        }
        if (major == 5 && minor == 1) {
            return "console";
        }
        return major + ":" + minor;
    }

    private static long bootTime() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/stat"))) {
            if (l.startsWith("btime ")) {
                return Long.parseLong(l.substring(6).strip());
            }
        }
        throw new IOException("/proc/stat has no btime");
    }

    /** The host's user names by uid (/etc/passwd), as the host's ps shows them. */
    private static Map<Integer, String> users() {
        Map<Integer, String> out = new HashMap<>();
        try {
            for (String l : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = l.split(":");
                if (f.length > 2) {
                    try {
                        out.putIfAbsent(Integer.parseInt(f[2]), f[0]);
                    } catch (NumberFormatException ignored) {
                        // not a user line
                    }
                }
            }
        } catch (IOException e) {
            // numbers then
        }
        return out;
    }

    /** The host's ps with psArgs, its rows kept for the container's pids (by its PID column). */
    static Top hostPs(List<Integer> pids, List<String> psArgs) throws IOException, RuntimeError {
        List<String> cmd = new ArrayList<>(List.of("ps"));
        cmd.addAll(psArgs);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "top with ps options runs the host's ps, which is not"
                    + " here (" + e.getMessage() + "): install procps, or run hull top without options");
        }
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, String.join(" ", cmd) + " failed: "
                        + text.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        List<String> lines = text.lines().toList();
        if (lines.isEmpty()) {
            return new Top(List.of(), List.of());
        }
        List<String> titles = List.of(lines.getFirst().trim().split("\\s+"));
        int col = titles.indexOf("PID");
        if (col < 0) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, String.join(" ", cmd) + ": its output has no PID"
                    + " column (ps options must keep it, e.g. -o pid,comm)");
        }
        Set<Integer> mine = Set.copyOf(pids);
        List<List<String>> rows = new ArrayList<>();
        for (String l : lines.subList(1, lines.size())) {
            // the last column (usually the command) may hold spaces: split into at most titles.size() fields
            String[] f = l.trim().split("\\s+", titles.size());
            if (f.length > col && f[col].chars().allMatch(Character::isDigit) && !f[col].isEmpty()
                    && mine.contains(Integer.parseInt(f[col]))) {
                rows.add(List.of(f));
            }
        }
        return new Top(titles, rows);
    }
}
