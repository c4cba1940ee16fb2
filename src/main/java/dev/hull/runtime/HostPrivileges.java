package dev.hull.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What this host lets a container have: the capability sets Hull itself holds (a container init
 * without a user namespace inherits them), the highest capability the kernel knows, the hard
 * resource limits Hull may not exceed, and the Linux security modules that are active.
 *
 * @param bounding this process's bounding set (CapBnd)
 * @param permitted this process's permitted set (CapPrm)
 * @param effective this process's effective set (CapEff)
 * @param capLastCap /proc/sys/kernel/cap_last_cap
 * @param hardLimits hard rlimits of this process, by resource number (-1 = unlimited)
 * @param nrOpen /proc/sys/fs/nr_open: the kernel's ceiling for RLIMIT_NOFILE
 * @param lsms active LSMs ("apparmor", "selinux", ...)
 */
public record HostPrivileges(long bounding, long permitted, long effective, int capLastCap, List<Long> hardLimits,
        long nrOpen, Set<String> lsms) {
    static final int CAP_SYS_RESOURCE = 24;

    /** Row names of /proc/PID/limits, in resource number order (RLIMIT_CPU = 0 ...). */
    static final List<String> LIMIT_ROWS = List.of("Max cpu time", "Max file size", "Max data size",
            "Max stack size", "Max core file size", "Max resident set", "Max processes", "Max open files",
            "Max locked memory", "Max address space", "Max file locks", "Max pending signals",
            "Max msgqueue size", "Max nice priority", "Max realtime priority", "Max realtime timeout");

    private static HostPrivileges current;

    public HostPrivileges {
        hardLimits = List.copyOf(hardLimits);
        lsms = Set.copyOf(lsms);
    }

    /** Every capability the kernel knows. */
    public long allCaps() {
        return capLastCap >= 63 ? -1L : (1L << (capLastCap + 1)) - 1;
    }

    public boolean hasCapSysResource() {
        return (effective >>> CAP_SYS_RESOURCE & 1) != 0;
    }

    /** The hard limit this process may set for a resource (-1 = unlimited). */
    public long ceiling(int resource) {
        if (hasCapSysResource()) {
            return resource == 7 ? nrOpen : -1; // RLIMIT_NOFILE is capped by fs.nr_open even then
        }
        return resource < hardLimits.size() ? hardLimits.get(resource) : -1;
    }

    /** This process's view, read once. */
    public static synchronized HostPrivileges current() {
        if (current == null) {
            try {
                current = detect();
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("cannot read this host's privileges from /proc: " + e.getMessage(), e);
            }
        }
        return current;
    }

    static HostPrivileges detect() throws IOException {
        long bnd = 0, prm = 0, eff = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapBnd:")) {
                bnd = Long.parseUnsignedLong(line.substring(7).trim(), 16);
            } else if (line.startsWith("CapPrm:")) {
                prm = Long.parseUnsignedLong(line.substring(7).trim(), 16);
            } else if (line.startsWith("CapEff:")) {
                eff = Long.parseUnsignedLong(line.substring(7).trim(), 16);
            }
        }
        int last = Integer.parseInt(read("/proc/sys/kernel/cap_last_cap"));
        long nrOpen = Long.parseLong(read("/proc/sys/fs/nr_open"));
        return new HostPrivileges(bnd, prm, eff, last, readHardLimits(), nrOpen, readLsms());
    }

    /**
     * A small /proc or /sys file, trimmed. Not Files.readString: it sizes its first read by the file's
     * size (0 here) and a sysctl file answers a read at a non-zero offset with EOF, so "40" came back as "4".
     */
    static String read(String path) throws IOException {
        try (var in = Files.newInputStream(Path.of(path))) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        }
    }

    private static List<Long> readHardLimits() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/limits"));
        List<Long> out = new ArrayList<>();
        for (String row : LIMIT_ROWS) {
            long hard = -1;
            for (String line : lines) {
                if (line.startsWith(row + " ")) {
                    String[] f = line.substring(row.length()).trim().split("\\s+");
                    hard = f[1].equals("unlimited") ? -1 : Long.parseLong(f[1]);
                }
            }
            out.add(hard);
        }
        return out;
    }

    /** From /sys/kernel/security/lsm when securityfs is mounted; else from what the modules expose. */
    static Set<String> readLsms() {
        Set<String> out = new LinkedHashSet<>();
        try {
            for (String s : read("/sys/kernel/security/lsm").split(",")) {
                if (!s.isBlank()) {
                    out.add(s.trim());
                }
            }
            return out;
        } catch (IOException e) {
            // securityfs not mounted: look at the modules' own files
        }
        try {
            if (read("/sys/module/apparmor/parameters/enabled").equals("Y")) {
                out.add("apparmor");
            }
        } catch (IOException e) {
            // no AppArmor
        }
        if (Files.exists(Path.of("/sys/fs/selinux/enforce"))) {
            out.add("selinux");
        }
        return out;
    }
}
