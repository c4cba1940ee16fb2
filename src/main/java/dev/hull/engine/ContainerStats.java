package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupResources;
import dev.hull.runtime.ContainerRecord;
import dev.hull.runtime.ResourceControl;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code hull stats}: what a container uses, read from its cgroup (cgroup v1 or v2 files, through
 * {@link ResourceControl#stats}) and its init's /proc entries, computed and shown as docker does.
 *
 * <ul>
 *   <li>CPU %: the cgroup's CPU time between two samples over the wall time between them, so 100% is
 *       one whole CPU (a container using two CPUs fully shows 200%).</li>
 *   <li>MEM USAGE: the cgroup's usage less its inactive file cache (docker's rule); LIMIT: the memory
 *       limit, or the host's RAM when there is none (or it is above the RAM).</li>
 *   <li>NET I/O: received / sent bytes of the container's network namespace (its init's
 *       /proc/PID/net/dev, loopback left out); null ("--") with --network host, whose traffic is the
 *       host's.</li>
 *   <li>BLOCK I/O: bytes read / written (v1 blkio.throttle.io_service_bytes_recursive, v2 io.stat).</li>
 *   <li>PIDS: pids.current.</li>
 * </ul>
 */
public final class ContainerStats {
    private ContainerStats() {}

    /**
     * One reading of a container's counters.
     *
     * @param nanos    System.nanoTime() when read
     * @param cpuNanos CPU time used so far, all CPUs together
     * @param netRx    bytes received (null: host network, not the container's own)
     */
    public record Sample(long nanos, long cpuNanos, long memUsage, long memLimit, long blkRead, long blkWrite,
            long pids, Long netRx, Long netTx) {}

    /** A container's usage, ready to show; for a container that is not running everything is 0. */
    public record Usage(String id, String name, boolean running, double cpuPercent, long memUsage, long memLimit,
            Long netRx, Long netTx, long blkRead, long blkWrite, long pids) {

        public double memPercent() {
            return memLimit <= 0 ? 0 : 100.0 * memUsage / memLimit;
        }

        public String shortId() {
            return id.length() > 12 ? id.substring(0, 12) : id;
        }
    }

    /** The table's column titles, docker's. */
    public static final String[] TITLES = {"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
        "BLOCK I/O", "PIDS"};

    /** A reading of a running (or paused) container; null if it is not running. */
    public static Sample sample(Engine engine, ContainerInfo info) throws IOException {
        ContainerRecord rec;
        try {
            rec = engine.requireRunning(info);
        } catch (RuntimeError e) {
            return null;
        }
        CreateOptions o = info.options() != null ? info.options() : new CreateOptions();
        try {
            if (rec.cgroupPath().equals(dev.hull.linux.cgroup.CgroupManagers.NONE)) {
                throw new IOException("rootless: stats of " + info.name() + ": the container has no cgroup of its own"
                        + " to read (" + Rootless.noDelegation() + ")");
            }
            CgroupResources cg = new CgroupResources(CgroupLayout.detect(), rec.cgroupPath());
            return read(cg, rec.pid(), "host".equals(o.network), hostMemory());
        } catch (NoSuchFileException e) {
            return null; // ended (its cgroup removed) while being read
        }
    }

    /** Reads the counters of a cgroup (v1 or v2 layout) and of the init's network namespace. */
    public static Sample read(CgroupResources cg, int initPid, boolean hostNetwork, long hostMemory)
            throws IOException {
        long now = System.nanoTime();
        JsonNode s = ResourceControl.stats(cg);
        long cpu = s.path("cpu").path("usage").path("total").asLong();
        JsonNode mem = s.path("memory");
        long usage = mem.path("usage").path("usage").asLong();
        JsonNode raw = mem.path("raw");
        // docker: v1 subtracts total_inactive_file, v2 inactive_file (the page cache the kernel drops first)
        JsonNode inactive = raw.has("total_inactive_file") ? raw.get("total_inactive_file") : raw.path("inactive_file");
        if (inactive.isNumber() && inactive.asLong() < usage) {
            usage -= inactive.asLong();
        }
        JsonNode lim = mem.path("usage").path("limit");
        long limit = hostMemory;
        if (lim.isIntegralNumber() && lim.canConvertToLong() && lim.asLong() > 0 && lim.asLong() < hostMemory) {
            limit = lim.asLong();
        }
        long read = 0;
        long write = 0;
        for (JsonNode e : s.path("blkio").path("ioServiceBytesRecursive")) {
            String op = e.path("op").asText().toLowerCase(Locale.ROOT);
            if (op.equals("read")) {
                read += e.path("value").asLong();
            } else if (op.equals("write")) {
                write += e.path("value").asLong();
            }
        }
        long pids = s.path("pids").path("current").asLong();
        Long rx = null;
        Long tx = null;
        if (!hostNetwork) {
            long[] net = netDev(initPid);
            rx = net[0];
            tx = net[1];
        }
        return new Sample(now, cpu, usage, limit, read, write, pids, rx, tx);
    }

    /** The usage to show: the latest sample, with CPU % from the one before (0 without one). */
    public static Usage usage(ContainerInfo info, Sample before, Sample now) {
        if (now == null) {
            return new Usage(info.id(), info.name(), false, 0, 0, 0, 0L, 0L, 0, 0, 0);
        }
        double cpu = 0;
        if (before != null && now.nanos() > before.nanos() && now.cpuNanos() >= before.cpuNanos()) {
            cpu = 100.0 * (now.cpuNanos() - before.cpuNanos()) / (now.nanos() - before.nanos());
        }
        return new Usage(info.id(), info.name(), true, cpu, now.memUsage(), now.memLimit(), now.netRx(), now.netTx(),
                now.blkRead(), now.blkWrite(), now.pids());
    }

    /** One table row, as docker prints it. */
    public static String[] row(Usage u) {
        return new String[] {u.shortId(), u.name(), percent(u.cpuPercent()),
            binarySize(u.memUsage()) + " / " + binarySize(u.memLimit()), percent(u.memPercent()), netIo(u),
            decimalSize(u.blkRead()) + " / " + decimalSize(u.blkWrite()), Long.toString(u.pids())};
    }

    /**
     * docker's {@code stats --format json} object (its keys, its strings), plus a "Hull" object with the
     * same values as numbers (bytes, percents) for scripts.
     */
    public static ObjectNode json(Usage u, String given) {
        String[] r = row(u);
        ObjectNode n = ContainerStore.JSON.createObjectNode();
        n.put("BlockIO", r[6]);
        n.put("CPUPerc", r[2]);
        n.put("Container", given != null ? given : u.name());
        n.put("ID", r[0]);
        n.put("MemPerc", r[4]);
        n.put("MemUsage", r[3]);
        n.put("Name", u.name());
        n.put("NetIO", r[5]);
        n.put("PIDs", r[7]);
        ObjectNode h = n.putObject("Hull");
        h.put("Id", u.id());
        h.put("Running", u.running());
        h.put("CPUPercent", Math.round(u.cpuPercent() * 100) / 100.0);
        h.put("MemoryUsage", u.memUsage());
        h.put("MemoryLimit", u.memLimit());
        h.put("MemoryPercent", Math.round(u.memPercent() * 100) / 100.0);
        if (u.netRx() != null) {
            h.put("NetRx", u.netRx());
            h.put("NetTx", u.netTx());
        } else {
            h.putNull("NetRx");
            h.putNull("NetTx");
        }
        h.put("BlockRead", u.blkRead());
        h.put("BlockWrite", u.blkWrite());
        h.put("Pids", u.pids());
        return n;
    }

    private static String netIo(Usage u) {
        if (u.netRx() == null) {
            return "--";
        }
        return decimalSize(u.netRx()) + " / " + decimalSize(u.netTx());
    }

    static String percent(double p) {
        return String.format(Locale.ROOT, "%.2f%%", p);
    }

    private static final String[] BINARY = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    private static final String[] DECIMAL = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};

    /** docker's units.BytesSize: 1024-based, 4 significant digits ("1.5MiB", "64MiB", "23.54GiB"). */
    public static String binarySize(long bytes) {
        return size(bytes, 1024, BINARY, 4);
    }

    /** docker's units.HumanSizeWithPrecision(n, 3): 1000-based, 3 significant digits ("0B", "1.23kB"). */
    public static String decimalSize(long bytes) {
        return size(bytes, 1000, DECIMAL, 3);
    }

    private static String size(long bytes, double base, String[] units, int digits) {
        double v = bytes;
        int i = 0;
        while (v >= base && i < units.length - 1) {
            v /= base;
            i++;
        }
        String num = new BigDecimal(v).round(new MathContext(digits, RoundingMode.HALF_EVEN)).stripTrailingZeros()
                .toPlainString();
        return num + units[i];
    }

    /** Received and sent bytes of every interface but lo in the network namespace of pid. */
    static long[] netDev(int pid) throws IOException {
        long rx = 0;
        long tx = 0;
        String text;
        try {
            text = Files.readString(Path.of("/proc", Integer.toString(pid), "net", "dev"));
        } catch (NoSuchFileException e) {
            return new long[] {0, 0};
        }
        for (String l : text.split("\n")) {
            int colon = l.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String iface = l.substring(0, colon).strip();
            String[] f = l.substring(colon + 1).strip().split("\\s+");
            if (iface.equals("lo") || f.length < 9) {
                continue;
            }
            rx += Long.parseLong(f[0]);
            tx += Long.parseLong(f[8]);
        }
        return new long[] {rx, tx};
    }

    /** MemTotal of /proc/meminfo, in bytes. */
    public static long hostMemory() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (l.startsWith("MemTotal:")) {
                return Long.parseLong(l.substring(9).strip().split("\\s+")[0]) * 1024;
            }
        }
        throw new IOException("/proc/meminfo has no MemTotal");
    }
}
