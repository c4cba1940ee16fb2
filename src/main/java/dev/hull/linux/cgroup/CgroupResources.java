package dev.hull.linux.cgroup;

import dev.hull.linux.Bpf;
import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a container's {@link Resources} into its cgroup, on v1, hybrid and v2 hosts, and carries out the other
 * cgroup operations of the runtime (freeze, thaw, OOM counter).
 *
 * <p>Each controller is written where it lives: in its v1 hierarchy if the host has one for it, otherwise in
 * the cgroup2 leaf if that lists the controller in {@code cgroup.controllers} (on this kind of hybrid host,
 * hugetlb is only on cgroup2). A field asked for whose controller exists nowhere is an error naming the
 * field. A value the kernel rejects is an error naming the field, the file and the value.
 *
 * <p>v1 → v2 conversions are runc's: cpu.shares → cpu.weight = 1 + (shares - 2) * 9999 / 262142; cpu quota and
 * period → cpu.max "quota period" ("max" for -1); blkio weight (10..1000) → io.weight = 1 + (w - 10) * 9999 /
 * 990 (io.bfq.weight takes the blkio value as is); memory.swap (memory+swap on v1) → memory.swap.max = swap -
 * limit; reservation → memory.low; throttles → io.max "rbps/wbps/riops/wiops". Not available on v2 and ignored
 * there like runc does: kernel, kernelTCP, swappiness, disableOOMKiller, blockIO leafWeight. realtime cpu and
 * network (net_cls/net_prio) are errors on v2. {@code unified} is an error unless the host is pure cgroup v2.
 */
public final class CgroupResources {
    private final CgroupLayout layout;
    private final String cgroupPath;
    private final Path unifiedLeaf;

    public CgroupResources(CgroupLayout layout, String cgroupPath) {
        this.layout = layout;
        this.cgroupPath = CgroupManagers.normalize(cgroupPath);
        this.unifiedLeaf = layout.unifiedMount() == null ? null
                : CgroupFs.chain(layout.unifiedMount(), this.cgroupPath).getLast();
    }

    /** Where a controller's files are: a directory, and whether it uses the v2 file names. */
    public record Target(Path dir, boolean v2) {
        Path file(String name) {
            return dir.resolve(name);
        }
    }

    /** The v1 hierarchy of v1Name, else the cgroup2 leaf if it has v2Name enabled, else null. */
    public Target target(String v1Name, String v2Name) throws IOException {
        var h = layout.v1Hierarchy(v1Name);
        if (h.isPresent()) {
            return new Target(CgroupFs.chain(h.get().mountPoint(), cgroupPath).getLast(), false);
        }
        if (unifiedLeaf != null && v2Name != null) {
            String ctl = CgroupFs.readOrNull(unifiedLeaf.resolve("cgroup.controllers"));
            if (ctl != null && List.of(ctl.split("\\s+")).contains(v2Name)) {
                return new Target(unifiedLeaf, true);
            }
        }
        return null;
    }

    private Target need(String field, String v1Name, String v2Name) throws IOException {
        Target t = target(v1Name, v2Name);
        if (t == null) {
            throw new IOException(field + ": the " + v1Name + (v2Name != null && !v2Name.equals(v1Name) ? "/" + v2Name
                    : "") + " controller is not available for cgroup " + cgroupPath + " on this host");
        }
        return t;
    }

    /** The cgroup2 leaf of this container, or null on a v1-only host. */
    public Path unifiedLeaf() {
        return unifiedLeaf;
    }

    // ---------------------------------------------------------------- apply

    /**
     * Writes every given field. With {@code update}, device rules are ignored (as runc update does) and
     * memory.checkBeforeUpdate is honoured.
     */
    public void apply(Resources r, boolean update) throws IOException {
        if (r.unified() != null && !r.unified().isEmpty() && layout.mode() != CgroupLayout.Mode.V2) {
            throw new IOException("linux.resources.unified: cannot be used on a cgroup v1 host (this host is "
                    + layout.mode() + "; unified keys need a pure cgroup v2 host)");
        }
        if (r.cpu() != null) {
            cpu(r.cpu());
        }
        if (r.memory() != null) {
            memory(r.memory(), update);
        }
        if (r.pidsLimit() != null && r.pidsLimit() != 0) {
            Target t = need("linux.resources.pids.limit", "pids", "pids");
            write("linux.resources.pids.limit", t.file("pids.max"), r.pidsLimit() > 0 ? r.pidsLimit().toString() : "max");
        }
        if (r.blockIO() != null) {
            blockIO(r.blockIO());
        }
        if (r.hugepageLimits() != null) {
            for (int i = 0; i < r.hugepageLimits().size(); i++) {
                Resources.Hugepage h = r.hugepageLimits().get(i);
                String f = "linux.resources.hugepageLimits[" + i + "]";
                Target t = need(f, "hugetlb", "hugetlb");
                Path file = t.file("hugetlb." + h.pageSize() + (t.v2() ? ".max" : ".limit_in_bytes"));
                if (!Files.exists(file)) {
                    throw new IOException(f + ".pageSize: this host has no " + h.pageSize() + " huge pages (no "
                            + file + ")");
                }
                write(f + ".limit", file, Long.toString(h.limit()));
            }
        }
        if (r.rdma() != null) {
            for (Map.Entry<String, Resources.Rdma> e : r.rdma().entrySet()) {
                String f = "linux.resources.rdma." + e.getKey();
                Target t = need(f, "rdma", "rdma");
                StringBuilder line = new StringBuilder(e.getKey());
                if (e.getValue().hcaHandles() != null) {
                    line.append(" hca_handle=").append(e.getValue().hcaHandles());
                }
                if (e.getValue().hcaObjects() != null) {
                    line.append(" hca_object=").append(e.getValue().hcaObjects());
                }
                write(f, t.file("rdma.max"), line.toString());
            }
        }
        if (r.network() != null) {
            network(r.network());
        }
        if (r.devices() != null && !update) {
            devices(r.devices());
        }
        if (r.unified() != null) {
            for (Map.Entry<String, String> e : r.unified().entrySet()) {
                String f = "linux.resources.unified." + e.getKey();
                Path file = unifiedLeaf.resolve(e.getKey());
                if (!Files.exists(file)) {
                    String ctl = e.getKey().substring(0, e.getKey().indexOf('.'));
                    throw new IOException(f + ": no such file " + file + " (is the " + ctl
                            + " controller enabled for this cgroup?)");
                }
                write(f, file, e.getValue());
            }
        }
    }

    private void cpu(Resources.Cpu c) throws IOException {
        String p = "linux.resources.cpu";
        if (c.cpus() != null || c.mems() != null) {
            Target t = need(p + (c.cpus() != null ? ".cpus" : ".mems"), "cpuset", "cpuset");
            if (c.cpus() != null) {
                write(p + ".cpus", t.file("cpuset.cpus"), c.cpus());
            }
            if (c.mems() != null) {
                write(p + ".mems", t.file("cpuset.mems"), c.mems());
            }
        }
        boolean shares = c.shares() != null && c.shares() != 0;
        boolean quota = c.quota() != null && c.quota() != 0;
        boolean period = c.period() != null && c.period() != 0;
        boolean rt = (c.realtimePeriod() != null && c.realtimePeriod() != 0)
                || (c.realtimeRuntime() != null && c.realtimeRuntime() != 0);
        if (!shares && !quota && !period && !rt && c.burst() == null && c.idle() == null) {
            return;
        }
        Target t = need(p, "cpu", "cpu");
        if (!t.v2()) {
            if (shares) {
                write(p + ".shares", t.file("cpu.shares"), c.shares().toString());
                String back = CgroupFs.readOrNull(t.file("cpu.shares"));
                if (back != null && Long.parseLong(back) != c.shares()) {
                    throw new IOException(p + ".shares: the kernel set cpu.shares to " + back + " instead of "
                            + c.shares() + " (allowed range: 2 to 262144)");
                }
            }
            if (period) {
                try {
                    write(p + ".period", t.file("cpu.cfs_period_us"), c.period().toString());
                } catch (IOException e) {
                    if (!quota) {
                        throw e;
                    }
                    // The new period may only fit with the new quota: write the quota first (as runc does).
                    write(p + ".quota", t.file("cpu.cfs_quota_us"), c.quota().toString());
                    write(p + ".period", t.file("cpu.cfs_period_us"), c.period().toString());
                }
            }
            if (quota) {
                write(p + ".quota", t.file("cpu.cfs_quota_us"), c.quota().toString());
            }
            if (c.burst() != null) {
                write(p + ".burst", t.file("cpu.cfs_burst_us"), c.burst().toString());
            }
            if (c.realtimePeriod() != null && c.realtimePeriod() != 0) {
                write(p + ".realtimePeriod", t.file("cpu.rt_period_us"), c.realtimePeriod().toString());
            }
            if (c.realtimeRuntime() != null && c.realtimeRuntime() != 0) {
                write(p + ".realtimeRuntime", t.file("cpu.rt_runtime_us"), c.realtimeRuntime().toString());
            }
        } else {
            if (rt) {
                throw new IOException(p + ".realtimeRuntime/realtimePeriod: realtime cpu limits are not supported on"
                        + " cgroup v2");
            }
            if (shares) {
                write(p + ".shares", t.file("cpu.weight"), Long.toString(sharesToWeight(c.shares())));
            }
            if (quota || period) {
                String v = quota && c.quota() > 0 ? c.quota().toString() : "max";
                if (period) {
                    v += " " + c.period();
                }
                write(p + (quota ? ".quota" : ".period"), t.file("cpu.max"), v);
            }
            if (c.burst() != null) {
                write(p + ".burst", t.file("cpu.max.burst"), c.burst().toString());
            }
        }
        if (c.idle() != null) {
            write(p + ".idle", t.file("cpu.idle"), c.idle().toString());
        }
    }

    /** runc's conversion of cgroup v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000). */
    public static long sharesToWeight(long shares) {
        if (shares == 0) {
            return 0;
        }
        return 1 + ((Math.max(shares, 2) - 2) * 9999) / 262142;
    }

    /** runc's conversion of a blkio weight (10..1000) to io.weight (1..10000). */
    public static long blkioToIoWeight(long w) {
        return w == 0 ? 0 : 1 + (w - 10) * 9999 / 990;
    }

    private static boolean set(Long v) {
        return v != null && v != 0;
    }

    private void memory(Resources.Memory m, boolean update) throws IOException {
        String p = "linux.resources.memory";
        boolean any = set(m.limit()) || set(m.reservation()) || set(m.swap()) || set(m.kernel())
                || set(m.kernelTCP()) || m.swappiness() != null || m.disableOOMKiller() != null
                || m.useHierarchy() != null;
        if (!any) {
            return;
        }
        Target t = need(p, "memory", "memory");
        if (update && m.checkBeforeUpdate() && set(m.limit()) && m.limit() > 0) {
            String usage = CgroupFs.readOrNull(t.file(t.v2() ? "memory.current" : "memory.usage_in_bytes"));
            if (usage != null && Long.parseLong(usage) > m.limit()) {
                throw new IOException(p + ".limit: " + m.limit() + " is below the current usage " + usage
                        + " (memory.checkBeforeUpdate is set)");
            }
        }
        if (!t.v2()) {
            long limit = m.limit() == null ? 0 : m.limit();
            long swap = m.swap() == null ? 0 : m.swap();
            Path memsw = t.file("memory.memsw.limit_in_bytes");
            if (limit == -1 && swap == 0 && Files.exists(memsw)) {
                swap = -1;
            }
            if (update && limit > 0 && swap == 0 && Files.exists(memsw)) {
                // Only the memory limit is changing. If swap was off (memsw == limit) keep it off; and memsw may
                // never be below the limit, so raise it with the limit rather than fail (docker update does this).
                long curMem = Long.parseUnsignedLong(CgroupFs.readOrNull(t.file("memory.limit_in_bytes")));
                long curMemsw = Long.parseUnsignedLong(CgroupFs.readOrNull(memsw));
                if (curMemsw == curMem || curMemsw < limit) {
                    swap = limit;
                }
            }
            if (swap != 0 && !Files.exists(memsw)) {
                throw new IOException(p + ".swap: this host's kernel has no swap accounting (no " + memsw + ")");
            }
            boolean swapFirst = false;
            if (limit != 0 && swap != 0) {
                String cur = CgroupFs.readOrNull(t.file("memory.limit_in_bytes"));
                swapFirst = swap == -1 || (cur != null && Long.parseUnsignedLong(cur) < swap);
            }
            if (swapFirst) {
                write(p + ".swap", memsw, Long.toString(swap));
            }
            if (limit != 0) {
                write(p + ".limit", t.file("memory.limit_in_bytes"), Long.toString(limit));
            }
            if (!swapFirst && swap != 0) {
                write(p + ".swap", memsw, Long.toString(swap));
            }
            if (set(m.reservation())) {
                write(p + ".reservation", t.file("memory.soft_limit_in_bytes"), m.reservation().toString());
            }
            if (set(m.kernel())) {
                writeDeprecated(p + ".kernel", t.file("memory.kmem.limit_in_bytes"), m.kernel().toString());
            }
            if (set(m.kernelTCP())) {
                write(p + ".kernelTCP", t.file("memory.kmem.tcp.limit_in_bytes"), m.kernelTCP().toString());
            }
            if (m.swappiness() != null) {
                write(p + ".swappiness", t.file("memory.swappiness"), m.swappiness().toString());
            }
            if (m.disableOOMKiller() != null && m.disableOOMKiller()) {
                write(p + ".disableOOMKiller", t.file("memory.oom_control"), "1");
            }
            if (m.useHierarchy() != null) {
                write(p + ".useHierarchy", t.file("memory.use_hierarchy"), m.useHierarchy() ? "1" : "0");
            }
        } else {
            long limit = m.limit() == null ? 0 : m.limit();
            long swap = m.swap() == null ? 0 : m.swap();
            String swapMax = null;
            if (limit == -1 && swap == 0) {
                swapMax = "max";
            } else if (swap == -1) {
                swapMax = "max";
            } else if (swap != 0) {
                if (limit == 0 || limit == -1) {
                    throw new IOException(p + ".swap: cannot set a swap limit without a memory limit on cgroup v2");
                }
                if (swap < limit) {
                    throw new IOException(p + ".swap: memory+swap (" + swap + ") must be >= memory.limit ("
                            + limit + ")");
                }
                swapMax = Long.toString(swap - limit);
            }
            if (swapMax != null) {
                Path f = t.file("memory.swap.max");
                if (Files.exists(f)) {
                    write(p + ".swap", f, swapMax);
                } else if (!swapMax.equals("max") && !swapMax.equals("0")) {
                    throw new IOException(p + ".swap: this host's kernel has no swap accounting (no " + f + ")");
                }
            }
            if (limit != 0) {
                write(p + ".limit", t.file("memory.max"), limit == -1 ? "max" : Long.toString(limit));
            }
            if (set(m.reservation())) {
                write(p + ".reservation", t.file("memory.low"),
                        m.reservation() == -1 ? "max" : m.reservation().toString());
            }
        }
    }

    private void blockIO(Resources.BlockIO b) throws IOException {
        String p = "linux.resources.blockIO";
        boolean any = (b.weight() != null && b.weight() != 0) || (b.leafWeight() != null && b.leafWeight() != 0)
                || !b.weightDevice().isEmpty() || !b.throttleReadBps().isEmpty() || !b.throttleWriteBps().isEmpty()
                || !b.throttleReadIops().isEmpty() || !b.throttleWriteIops().isEmpty();
        if (!any) {
            return;
        }
        Target t = need(p, "blkio", "io");
        if (!t.v2()) {
            if (b.weight() != null && b.weight() != 0) {
                write(p + ".weight", weightFile(p + ".weight", t, "blkio.weight", "blkio.bfq.weight"),
                        b.weight().toString());
            }
            if (b.leafWeight() != null && b.leafWeight() != 0) {
                write(p + ".leafWeight", t.file("blkio.leaf_weight"), b.leafWeight().toString());
            }
            for (int i = 0; i < b.weightDevice().size(); i++) {
                Resources.WeightDevice wd = b.weightDevice().get(i);
                String f = p + ".weightDevice[" + i + "]";
                if (wd.weight() != null && wd.weight() != 0) {
                    Path file = weightFile(f + ".weight", t, "blkio.weight_device", "blkio.bfq.weight_device");
                    write(f + ".weight", file, wd.major() + ":" + wd.minor() + " " + wd.weight());
                }
                if (wd.leafWeight() != null && wd.leafWeight() != 0) {
                    write(f + ".leafWeight", t.file("blkio.leaf_weight_device"),
                            wd.major() + ":" + wd.minor() + " " + wd.leafWeight());
                }
            }
            throttleV1(p + ".throttleReadBpsDevice", t.file("blkio.throttle.read_bps_device"), b.throttleReadBps());
            throttleV1(p + ".throttleWriteBpsDevice", t.file("blkio.throttle.write_bps_device"), b.throttleWriteBps());
            throttleV1(p + ".throttleReadIOPSDevice", t.file("blkio.throttle.read_iops_device"), b.throttleReadIops());
            throttleV1(p + ".throttleWriteIOPSDevice", t.file("blkio.throttle.write_iops_device"),
                    b.throttleWriteIops());
        } else {
            Path bfq = t.file("io.bfq.weight");
            if (b.weight() != null && b.weight() != 0) {
                if (Files.exists(bfq)) {
                    write(p + ".weight", bfq, b.weight().toString());
                } else {
                    write(p + ".weight", t.file("io.weight"), "default " + blkioToIoWeight(b.weight()));
                }
            }
            for (int i = 0; i < b.weightDevice().size(); i++) {
                Resources.WeightDevice wd = b.weightDevice().get(i);
                String f = p + ".weightDevice[" + i + "]";
                if (wd.weight() != null && wd.weight() != 0) {
                    if (Files.exists(bfq)) {
                        write(f + ".weight", bfq, wd.major() + ":" + wd.minor() + " " + wd.weight());
                    } else {
                        write(f + ".weight", t.file("io.weight"),
                                wd.major() + ":" + wd.minor() + " " + blkioToIoWeight(wd.weight()));
                    }
                }
            }
            throttleV2(p + ".throttleReadBpsDevice", t, "rbps", b.throttleReadBps());
            throttleV2(p + ".throttleWriteBpsDevice", t, "wbps", b.throttleWriteBps());
            throttleV2(p + ".throttleReadIOPSDevice", t, "riops", b.throttleReadIops());
            throttleV2(p + ".throttleWriteIOPSDevice", t, "wiops", b.throttleWriteIops());
        }
    }

    private static Path weightFile(String field, Target t, String cfq, String bfq) throws IOException {
        if (Files.exists(t.file(cfq))) {
            return t.file(cfq);
        }
        if (Files.exists(t.file(bfq))) {
            return t.file(bfq);
        }
        throw new IOException(field + ": this host's I/O schedulers offer no weights (neither " + t.file(cfq)
                + " nor " + t.file(bfq) + " exists)");
    }

    private void throttleV1(String field, Path file, List<Resources.ThrottleDevice> list) throws IOException {
        for (int i = 0; i < list.size(); i++) {
            Resources.ThrottleDevice d = list.get(i);
            write(field + "[" + i + "]", file, d.major() + ":" + d.minor() + " " + d.rate());
        }
    }

    private void throttleV2(String field, Target t, String key, List<Resources.ThrottleDevice> list)
            throws IOException {
        for (int i = 0; i < list.size(); i++) {
            Resources.ThrottleDevice d = list.get(i);
            write(field + "[" + i + "]", t.file("io.max"), d.major() + ":" + d.minor() + " " + key + "="
                    + (d.rate() == 0 ? "max" : Long.toString(d.rate())));
        }
    }

    private void network(Resources.Network n) throws IOException {
        String p = "linux.resources.network";
        if (n.classID() != null) {
            Target t = need(p + ".classID", "net_cls", null);
            write(p + ".classID", t.file("net_cls.classid"), n.classID().toString());
        }
        if (!n.priorities().isEmpty()) {
            Target t = need(p + ".priorities", "net_prio", null);
            for (Map.Entry<String, Long> e : n.priorities().entrySet()) {
                write(p + ".priorities", t.file("net_prio.ifpriomap"), e.getKey() + " " + e.getValue());
            }
        }
    }

    /** v1: "a" to devices.deny, then each rule to devices.allow/deny in order. v2: an eBPF program. */
    private void devices(List<Resources.DeviceRule> rules) throws IOException {
        String p = "linux.resources.devices";
        var h = layout.v1Hierarchy("devices");
        if (h.isPresent()) {
            Path dir = CgroupFs.chain(h.get().mountPoint(), cgroupPath).getLast();
            for (int i = 0; i < rules.size(); i++) {
                Resources.DeviceRule r = rules.get(i);
                write(p + " (rule " + i + ")", dir.resolve(r.allow() ? "devices.allow" : "devices.deny"), r.v1Line());
            }
            return;
        }
        if (unifiedLeaf == null) {
            throw new IOException(p + ": no devices controller and no cgroup2 hierarchy on this host");
        }
        attachDeviceProgram(unifiedLeaf, rules);
    }

    /** Compiles the rules ({@link DeviceFilter}) and attaches the program to the cgroup2 directory. */
    public static void attachDeviceProgram(Path cgroup2Dir, List<Resources.DeviceRule> rules) throws IOException {
        byte[] prog = DeviceFilter.compile(rules);
        int progFd;
        try {
            progFd = Bpf.progLoad(Bpf.BPF_PROG_TYPE_CGROUP_DEVICE, prog, DeviceFilter.LICENSE);
        } catch (LinuxException e) {
            throw new IOException("linux.resources.devices: cannot load the eBPF device program: " + e.getMessage(), e);
        }
        try {
            int dirFd = Syscalls.open(cgroup2Dir.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY
                    | Syscalls.O_CLOEXEC, 0);
            try {
                Bpf.progAttach(dirFd, progFd, Bpf.BPF_CGROUP_DEVICE, Bpf.BPF_F_ALLOW_MULTI);
            } catch (LinuxException e) {
                throw new IOException("linux.resources.devices: cannot attach the eBPF device program to "
                        + cgroup2Dir + ": " + e.getMessage(), e);
            } finally {
                Syscalls.close(dirFd);
            }
        } finally {
            Syscalls.close(progFd); // the attachment holds its own reference
        }
    }

    // ---------------------------------------------------------------- freezer

    private Target freezer() throws IOException {
        var h = layout.v1Hierarchy("freezer");
        if (h.isPresent()) {
            return new Target(CgroupFs.chain(h.get().mountPoint(), cgroupPath).getLast(), false);
        }
        if (unifiedLeaf != null && Files.exists(unifiedLeaf.resolve("cgroup.freeze"))) {
            return new Target(unifiedLeaf, true);
        }
        return null;
    }

    /** Freezes every process of the cgroup and waits (up to 10 s) until the kernel reports it frozen. */
    public void freeze() throws IOException {
        Target t = freezer();
        if (t == null) {
            throw new IOException("cannot pause: no freezer (v1 freezer hierarchy or cgroup2 cgroup.freeze) on this host");
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        Path file = t.file(t.v2() ? "cgroup.freeze" : "freezer.state");
        write("freezer", file, t.v2() ? "1" : "FROZEN");
        while (!isFrozen()) {
            if (System.nanoTime() - deadline > 0) {
                thaw();
                throw new IOException("cannot pause: " + t.dir() + " did not become frozen within 10 s");
            }
            if (!t.v2()) {
                write("freezer", file, "FROZEN"); // v1 may need a nudge while tasks are in FREEZING
            }
            CgroupFs.sleep(2);
        }
    }

    public void thaw() throws IOException {
        Target t = freezer();
        if (t == null) {
            throw new IOException("cannot resume: no freezer on this host");
        }
        if (t.v2()) {
            write("freezer", t.file("cgroup.freeze"), "0");
        } else {
            CgroupV1Manager.thaw(t.dir());
        }
    }

    /** Whether the cgroup is frozen (v1 freezer.state FROZEN; v2 cgroup.events "frozen 1"). */
    public boolean isFrozen() throws IOException {
        Target t = freezer();
        if (t == null) {
            return false;
        }
        if (!t.v2()) {
            return "FROZEN".equals(CgroupFs.readOrNull(t.file("freezer.state")));
        }
        String ev = CgroupFs.readOrNull(t.file("cgroup.events"));
        return ev != null && ev.lines().anyMatch(l -> l.strip().equals("frozen 1"));
    }

    /** Whether the cgroup is asked to be frozen (also while still freezing). */
    public boolean isFreezing() throws IOException {
        Target t = freezer();
        if (t == null) {
            return false;
        }
        String s = CgroupFs.readOrNull(t.file(t.v2() ? "cgroup.freeze" : "freezer.state"));
        return s != null && (s.equals("1") || s.equals("FROZEN") || s.equals("FREEZING"));
    }

    // ---------------------------------------------------------------- OOM

    /** How many processes the OOM killer killed in this cgroup (v1 memory.oom_control / v2 memory.events). */
    public long oomKills() throws IOException {
        Target t = target("memory", "memory");
        if (t == null) {
            return 0;
        }
        String text = CgroupFs.readOrNull(t.file(t.v2() ? "memory.events" : "memory.oom_control"));
        return text == null ? 0 : keyed(text).getOrDefault("oom_kill", 0L);
    }

    /** "key value" lines into a map (unparseable values skipped). */
    static Map<String, Long> keyed(String text) {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (String l : text.split("\n")) {
            String[] kv = l.strip().split("\\s+");
            if (kv.length == 2) {
                try {
                    out.put(kv[0], kv[1].equals("max") ? -1 : Long.parseUnsignedLong(kv[1]));
                } catch (NumberFormatException ignored) {
                    // not a number
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- writes

    /** One write(2) of value to file; a failure names the field, the file, the value and the errno. */
    static void write(String field, Path file, String value) throws IOException {
        int fd;
        try {
            fd = Syscalls.open(file.toString(), Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
        } catch (LinuxException e) {
            throw new IOException(field + ": cannot write \"" + value + "\" to " + file + ": "
                    + Errno.describe(e.errno()), e);
        }
        try {
            Syscalls.writeFully(fd, value.getBytes(StandardCharsets.UTF_8));
        } catch (LinuxException e) {
            throw new IOException(field + ": the kernel rejected \"" + value + "\" for " + file + ": "
                    + Errno.describe(e.errno()), e);
        } finally {
            Syscalls.close(fd);
        }
    }

    /** Kernel memory limits are deprecated: kernels that refuse them (EOPNOTSUPP, no file) are ignored, like runc. */
    private static void writeDeprecated(String field, Path file, String value) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try {
            write(field, file, value);
        } catch (IOException e) {
            if (e.getCause() instanceof LinuxException le && le.errno() == Errno.EOPNOTSUPP) {
                return; // EOPNOTSUPP
            }
            throw e;
        }
    }

    /** Lines of a file, empty if missing. */
    static List<String> lines(Path file) throws IOException {
        String s = CgroupFs.readOrNull(file);
        return s == null || s.isEmpty() ? List.of() : new ArrayList<>(List.of(s.split("\n")));
    }
}
