package dev.hull.runtime;

import dev.hull.linux.cgroup.CgroupLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The cgroup subtree a container in a user namespace of its own manages itself ({@link Annotations#CGROUP_WRITABLE}:
 * systemd as PID 1) is handed to the namespace's root, as LXC does for its unprivileged containers and
 * systemd's delegation rules ask: without it the mount is writable, but every file in it is the host root's,
 * which the container's root is not. v1's named hierarchy (no controller: every file of the directory) and the
 * cgroup2 directory (only the directory and the files the kernel lists as delegatable in
 * /sys/kernel/cgroup/delegate: never a controller's limit, which stays the host's to set).
 */
final class CgroupDelegation {
    private static final Path DELEGATE = Path.of("/sys/kernel/cgroup/delegate");
    private static final List<String> DELEGATE_DEFAULT = List.of("cgroup.procs", "cgroup.threads",
            "cgroup.subtree_control");

    private CgroupDelegation() {}

    /** Chowns the container's directories (dirs) of the writable hierarchies to uid:gid. */
    static void handOver(CgroupLayout layout, List<Path> dirs, String annotation, long uid, long gid)
            throws IOException {
        if (uid < 0 || gid < 0) {
            return; // root is not mapped: nobody inside to hand it to
        }
        Set<String> writable = new java.util.HashSet<>();
        for (String n : annotation.split(",")) {
            writable.add(n.strip());
        }
        for (Path d : dirs) {
            if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            String hierarchy = hierarchyOf(layout, d);
            if (hierarchy == null || !writable.contains(hierarchy)) {
                continue;
            }
            chown(d, uid, gid);
            if (hierarchy.equals("unified")) {
                for (String f : delegatable()) {
                    chownIfThere(d.resolve(f), uid, gid);
                }
            } else {
                try (Stream<Path> s = Files.list(d)) {
                    for (Path f : (Iterable<Path>) s::iterator) {
                        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                            chownIfThere(f, uid, gid);
                        }
                    }
                }
            }
        }
    }

    /** "unified" for the cgroup2 mount, a v1 hierarchy's name (systemd for name=systemd), or null. */
    private static String hierarchyOf(CgroupLayout layout, Path dir) {
        if (layout.unifiedMount() != null && dir.startsWith(layout.unifiedMount())) {
            return "unified";
        }
        if (layout.v1() == null) {
            return null;
        }
        for (CgroupLayout.V1Hierarchy h : layout.v1()) {
            if (dir.startsWith(h.mountPoint())) {
                return String.join(",", h.controllers()).replace("name=", "");
            }
        }
        return null;
    }

    private static List<String> delegatable() {
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(DELEGATE)) {
                if (!line.isBlank() && !line.strip().contains("/") && !line.strip().contains("..")) {
                    out.add(line.strip());
                }
            }
            return out.isEmpty() ? DELEGATE_DEFAULT : out;
        } catch (IOException e) {
            return DELEGATE_DEFAULT; // a kernel before 4.15
        }
    }

    private static void chown(Path p, long uid, long gid) throws IOException {
        dev.hull.linux.Syscalls.lchown(p.toString(), (int) uid, (int) gid);
    }

    private static void chownIfThere(Path p, long uid, long gid) throws IOException {
        try {
            chown(p, uid, gid);
        } catch (dev.hull.linux.LinuxException e) {
            if (e.errno() != 2) { // ENOENT: a file this kernel does not have
                throw e;
            }
        }
    }
}
