package dev.hull.runtime;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.linux.cgroup.CgroupLayout;
import dev.hull.linux.cgroup.CgroupManagers;
import dev.hull.linux.cgroup.CgroupResources;
import dev.hull.linux.cgroup.Resources;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The runtime's resource operations on an existing container: {@code update}, {@code pause}, {@code resume},
 * {@code events} (stats and OOM notifications, shaped as runc prints them) and {@code ps}.
 */
public final class ResourceControl {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final BigInteger MAX_UINT64 = new BigInteger("18446744073709551615");

    private final ContainerRuntime rt;
    private CgroupLayout layout;

    public ResourceControl(ContainerRuntime rt) {
        this.rt = rt;
    }

    private CgroupLayout layout() throws IOException {
        if (layout == null) {
            layout = CgroupLayout.detect();
        }
        return layout;
    }

    /** The cgroup of a container. */
    CgroupResources cgroup(ContainerRecord rec) throws IOException {
        if (rec.cgroupPath().equals(dev.hull.linux.cgroup.CgroupManagers.NONE)) {
            throw new IOException("container " + rec.id() + " has no cgroup of its own (rootless, with no cgroup"
                    + " delegated to the user)");
        }
        return new CgroupResources(layout(), rec.cgroupPath());
    }

    private ContainerRecord live(String id, String verb) throws RuntimeError, IOException {
        ContainerRecord rec = rt.store().load(id);
        if (rt.status(rec).equals("stopped")) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "cannot " + verb + " container \"" + id
                    + "\": it is stopped");
        }
        return rec;
    }

    /** {@code update}: writes the given resources (device rules are ignored, as in runc). */
    public void update(String id, Resources r) throws RuntimeError, IOException {
        cgroup(live(id, "update")).apply(r, true);
    }

    /** {@code pause}: freezes every process of a created or running container. */
    public void pause(String id) throws RuntimeError, IOException {
        ContainerRecord rec = rt.store().load(id);
        String status = rt.status(rec);
        if (!status.equals("running") && !status.equals("created")) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "cannot pause container \"" + id + "\": it is "
                    + status + ", not running");
        }
        cgroup(rec).freeze();
    }

    /** {@code resume}: thaws a paused container. */
    public void resume(String id) throws RuntimeError, IOException {
        ContainerRecord rec = rt.store().load(id);
        String status = rt.status(rec);
        if (!status.equals("paused")) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "cannot resume container \"" + id + "\": it is "
                    + status + ", not paused");
        }
        cgroup(rec).thaw();
    }

    /**
     * {@code ps}: the pids (host view) of every process in the container's cgroup; for a container
     * without one (rootless), every process in its init's pid namespace.
     */
    public List<Integer> pids(String id) throws RuntimeError, IOException {
        ContainerRecord rec = rt.store().load(id);
        if (rec.cgroupPath().equals(CgroupManagers.NONE)) {
            return rt.status(rec).equals("stopped") ? List.of() : inPidNamespaceOf(rec.pid());
        }
        return CgroupManagers.forRecord(layout(), rec.cgroupPath(), rec.id()).pids();
    }

    /** The processes (in /proc) whose pid namespace is init's. */
    private static List<Integer> inPidNamespaceOf(int init) throws IOException {
        java.nio.file.Path proc = java.nio.file.Path.of("/proc");
        java.nio.file.Path ns = java.nio.file.Files.readSymbolicLink(proc.resolve(init + "/ns/pid"));
        List<Integer> out = new java.util.ArrayList<>();
        try (var dirs = java.nio.file.Files.newDirectoryStream(proc, p -> p.getFileName().toString().matches("[0-9]+"))) {
            for (java.nio.file.Path d : dirs) {
                try {
                    if (java.nio.file.Files.readSymbolicLink(d.resolve("ns/pid")).equals(ns)) {
                        out.add(Integer.parseInt(d.getFileName().toString()));
                    }
                } catch (IOException gone) {
                    // ended meanwhile, or not ours to read
                }
            }
        }
        return out;
    }

    /** One {"type":"stats","id":...,"data":{...}} event. */
    public ObjectNode statsEvent(String id) throws RuntimeError, IOException {
        ContainerRecord rec = live(id, "get stats of");
        ObjectNode ev = F.objectNode();
        ev.put("type", "stats");
        ev.put("id", id);
        ev.set("data", stats(cgroup(rec)));
        return ev;
    }

    /**
     * {@code events}: every interval a stats event, and an {"type":"oom"} event each time the OOM killer kills a
     * process of the container (polled from the memory controller's oom_kill counter every 100 ms). Returns when
     * the container has stopped.
     */
    public void events(String id, Duration interval, Consumer<ObjectNode> sink) throws RuntimeError, IOException {
        ContainerRecord rec = live(id, "get events of");
        CgroupResources cg = cgroup(rec);
        long ooms = cg.oomKills();
        long nextStats = System.nanoTime() + interval.toNanos();
        while (true) {
            long now = cg.oomKills();
            for (; ooms < now; ooms++) {
                ObjectNode ev = F.objectNode();
                ev.put("type", "oom");
                ev.put("id", id);
                sink.accept(ev);
            }
            if (rt.status(rec).equals("stopped")) {
                return;
            }
            if (System.nanoTime() - nextStats >= 0) {
                try {
                    sink.accept(statsEvent(id));
                } catch (RuntimeError e) {
                    return; // stopped meanwhile
                }
                nextStats += interval.toNanos();
            }
            try {
                Thread.sleep(Math.min(100, Math.max(1, interval.toMillis())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ---------------------------------------------------------------- stats (runc's types.Stats)

    /** The runc-shaped statistics of a cgroup (what {@link #statsEvent} carries as data), on cgroup v1 and v2. */
    public static ObjectNode stats(CgroupResources cg) throws IOException {
        ObjectNode data = F.objectNode();
        data.set("cpu", cpu(cg));
        data.set("memory", memory(cg));
        data.set("pids", pids(cg));
        data.set("blkio", blkio(cg));
        data.set("hugetlb", hugetlb(cg));
        return data;
    }

    private static String read(Path f) throws IOException {
        try {
            return Files.readString(f).strip();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static long num(Path f) throws IOException {
        String s = read(f);
        if (s == null || s.isEmpty()) {
            return 0;
        }
        return s.equals("max") ? -1 : Long.parseUnsignedLong(s);
    }

    private static void putU64(ObjectNode n, String k, long v) {
        if (v < 0) {
            n.put(k, v == -1 ? MAX_UINT64 : new BigInteger(Long.toUnsignedString(v)));
        } else {
            n.put(k, v);
        }
    }

    private static java.util.Map<String, Long> keyed(Path f) throws IOException {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        String s = read(f);
        if (s == null) {
            return out;
        }
        for (String l : s.split("\n")) {
            String[] kv = l.strip().split("\\s+");
            if (kv.length == 2) {
                try {
                    out.put(kv[0], kv[1].equals("max") ? -1 : Long.parseUnsignedLong(kv[1]));
                } catch (NumberFormatException ignored) {
                    // skip
                }
            }
        }
        return out;
    }

    private static ObjectNode cpu(CgroupResources cg) throws IOException {
        ObjectNode cpu = F.objectNode();
        ObjectNode usage = cpu.putObject("usage");
        ObjectNode thr = cpu.putObject("throttling");
        CgroupResources.Target acct = cg.target("cpuacct", "cpu");
        if (acct != null && !acct.v2()) {
            usage.put("total", num(acct.dir().resolve("cpuacct.usage")));
            ArrayNode per = usage.putArray("percpu");
            String s = read(acct.dir().resolve("cpuacct.usage_percpu"));
            if (s != null && !s.isBlank()) {
                for (String v : s.split("\\s+")) {
                    per.add(Long.parseLong(v));
                }
            }
            var st = keyed(acct.dir().resolve("cpuacct.stat")); // USER_HZ ticks
            usage.put("kernel", st.getOrDefault("system", 0L) * 10_000_000L);
            usage.put("user", st.getOrDefault("user", 0L) * 10_000_000L);
        } else if (acct != null) {
            var st = keyed(acct.dir().resolve("cpu.stat")); // microseconds
            usage.put("total", st.getOrDefault("usage_usec", 0L) * 1000);
            usage.put("kernel", st.getOrDefault("system_usec", 0L) * 1000);
            usage.put("user", st.getOrDefault("user_usec", 0L) * 1000);
            thr.put("periods", st.getOrDefault("nr_periods", 0L));
            thr.put("throttledPeriods", st.getOrDefault("nr_throttled", 0L));
            thr.put("throttledTime", st.getOrDefault("throttled_usec", 0L) * 1000);
        }
        CgroupResources.Target c = cg.target("cpu", "cpu");
        if (c != null && !c.v2()) {
            var st = keyed(c.dir().resolve("cpu.stat"));
            thr.put("periods", st.getOrDefault("nr_periods", 0L));
            thr.put("throttledPeriods", st.getOrDefault("nr_throttled", 0L));
            thr.put("throttledTime", st.getOrDefault("throttled_time", 0L));
        }
        return cpu;
    }

    private static ObjectNode entry(Path dir, String usage, String max, String limit, String failcnt)
            throws IOException {
        ObjectNode e = F.objectNode();
        putU64(e, "limit", num(dir.resolve(limit)));
        e.put("usage", num(dir.resolve(usage)));
        if (max != null) {
            e.put("max", num(dir.resolve(max)));
        }
        e.put("failcnt", failcnt == null ? 0 : num(dir.resolve(failcnt)));
        return e;
    }

    private static ObjectNode memory(CgroupResources cg) throws IOException {
        ObjectNode m = F.objectNode();
        CgroupResources.Target t = cg.target("memory", "memory");
        if (t == null) {
            return m;
        }
        Path d = t.dir();
        var raw = keyed(d.resolve("memory.stat"));
        if (!t.v2()) {
            m.put("cache", raw.getOrDefault("total_cache", raw.getOrDefault("cache", 0L)));
            m.set("usage", entry(d, "memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.limit_in_bytes",
                    "memory.failcnt"));
            m.set("swap", entry(d, "memory.memsw.usage_in_bytes", "memory.memsw.max_usage_in_bytes",
                    "memory.memsw.limit_in_bytes", "memory.memsw.failcnt"));
            m.set("kernel", entry(d, "memory.kmem.usage_in_bytes", "memory.kmem.max_usage_in_bytes",
                    "memory.kmem.limit_in_bytes", "memory.kmem.failcnt"));
            m.set("kernelTCP", entry(d, "memory.kmem.tcp.usage_in_bytes", "memory.kmem.tcp.max_usage_in_bytes",
                    "memory.kmem.tcp.limit_in_bytes", "memory.kmem.tcp.failcnt"));
        } else {
            m.put("cache", raw.getOrDefault("file", 0L));
            ObjectNode u = entry(d, "memory.current", "memory.peak", "memory.max", null);
            u.put("failcnt", keyed(d.resolve("memory.events")).getOrDefault("max", 0L));
            m.set("usage", u);
            m.set("swap", entry(d, "memory.swap.current", "memory.swap.peak", "memory.swap.max", null));
        }
        ObjectNode r = m.putObject("raw");
        raw.forEach((k, v) -> putU64(r, k, v));
        return m;
    }

    private static ObjectNode pids(CgroupResources cg) throws IOException {
        ObjectNode p = F.objectNode();
        CgroupResources.Target t = cg.target("pids", "pids");
        if (t != null) {
            p.put("current", num(t.dir().resolve("pids.current")));
            long lim = num(t.dir().resolve("pids.max"));
            p.put("limit", lim < 0 ? 0 : lim); // runc: 0 means unlimited
        }
        return p;
    }

    private static ObjectNode blkio(CgroupResources cg) throws IOException {
        ObjectNode b = F.objectNode();
        CgroupResources.Target t = cg.target("blkio", "io");
        if (t == null) {
            return b;
        }
        if (!t.v2()) {
            b.set("ioServiceBytesRecursive", blkioEntries(t.dir().resolve("blkio.throttle.io_service_bytes_recursive")));
            b.set("ioServicedRecursive", blkioEntries(t.dir().resolve("blkio.throttle.io_serviced_recursive")));
        } else {
            ArrayNode bytes = b.putArray("ioServiceBytesRecursive");
            ArrayNode ios = b.putArray("ioServicedRecursive");
            String s = read(t.dir().resolve("io.stat"));
            if (s != null) {
                for (String l : s.split("\n")) {
                    String[] f = l.strip().split("\\s+");
                    if (f.length < 2 || !f[0].contains(":")) {
                        continue;
                    }
                    long maj = Long.parseLong(f[0].substring(0, f[0].indexOf(':')));
                    long min = Long.parseLong(f[0].substring(f[0].indexOf(':') + 1));
                    for (int i = 1; i < f.length; i++) {
                        String[] kv = f[i].split("=");
                        if (kv.length != 2) {
                            continue;
                        }
                        ArrayNode into = kv[0].endsWith("bytes") ? bytes : kv[0].endsWith("ios") ? ios : null;
                        if (into != null) {
                            ObjectNode e = into.addObject();
                            e.put("major", maj);
                            e.put("minor", min);
                            e.put("op", kv[0].startsWith("r") ? "Read" : kv[0].startsWith("w") ? "Write" : "Discard");
                            e.put("value", Long.parseUnsignedLong(kv[1]));
                        }
                    }
                }
            }
        }
        return b;
    }

    private static ArrayNode blkioEntries(Path f) throws IOException {
        ArrayNode a = F.arrayNode();
        String s = read(f);
        if (s == null) {
            return a;
        }
        for (String l : s.split("\n")) {
            String[] x = l.strip().split("\\s+");
            if (x.length != 3 || !x[0].contains(":")) {
                continue;
            }
            ObjectNode e = a.addObject();
            e.put("major", Long.parseLong(x[0].substring(0, x[0].indexOf(':'))));
            e.put("minor", Long.parseLong(x[0].substring(x[0].indexOf(':') + 1)));
            e.put("op", x[1]);
            e.put("value", Long.parseUnsignedLong(x[2]));
        }
        return a;
    }

    private static ObjectNode hugetlb(CgroupResources cg) throws IOException {
        ObjectNode h = F.objectNode();
        CgroupResources.Target t = cg.target("hugetlb", "hugetlb");
        if (t == null) {
            return h;
        }
        try (var s = Files.list(t.dir())) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                String suffix = t.v2() ? ".current" : ".usage_in_bytes";
                if (!n.startsWith("hugetlb.") || !n.endsWith(suffix) || n.contains(".rsvd.")) {
                    continue;
                }
                String size = n.substring("hugetlb.".length(), n.length() - suffix.length());
                ObjectNode e = h.putObject(size);
                String base = "hugetlb." + size;
                e.put("usage", num(t.dir().resolve(base + suffix)));
                if (t.v2()) {
                    e.put("failcnt", keyed(t.dir().resolve(base + ".events")).getOrDefault("max", 0L));
                } else {
                    e.put("max", num(t.dir().resolve(base + ".max_usage_in_bytes")));
                    e.put("failcnt", num(t.dir().resolve(base + ".failcnt")));
                }
            }
        }
        return h;
    }
}
