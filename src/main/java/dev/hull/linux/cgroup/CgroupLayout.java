package dev.hull.linux.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The cgroup filesystems mounted on this machine, as seen from {@code /proc/self/mountinfo}.
 *
 * <ul>
 *   <li>{@link Mode#V2}: only a cgroup2 ("unified") mount, no v1 hierarchy.</li>
 *   <li>{@link Mode#HYBRID}: v1 hierarchies plus a cgroup2 mount (typically at /sys/fs/cgroup/unified).</li>
 *   <li>{@link Mode#LEGACY}: v1 hierarchies only.</li>
 * </ul>
 *
 * <p>When the same hierarchy is mounted more than once (bind mounts, a private cgroup2 mount, ...), the first
 * mount whose root is the hierarchy root ({@code /}) wins; for cgroup2, a mount at {@code /sys/fs/cgroup} or
 * {@code /sys/fs/cgroup/unified} is preferred. Mounts whose root is not {@code /} (a sub-tree bind-mounted, as
 * inside a container) are used only if no mount of the whole hierarchy exists.
 */
public record CgroupLayout(Mode mode, Path unifiedMount, List<V1Hierarchy> v1) {

    public enum Mode { V2, HYBRID, LEGACY }

    /**
     * One v1 hierarchy.
     *
     * @param mountPoint  where it is mounted
     * @param controllers the controllers bound to it, in mount-option order, e.g. {@code [cpu, cpuacct]}, or
     *                    {@code [name=systemd]} for a named hierarchy without controllers
     */
    public record V1Hierarchy(Path mountPoint, List<String> controllers) {
        public V1Hierarchy {
            Objects.requireNonNull(mountPoint, "mountPoint");
            controllers = List.copyOf(controllers);
        }

        /** Whether the given controller (e.g. "cpuset", or "name=systemd") is bound to this hierarchy. */
        public boolean has(String controller) {
            return controllers.contains(controller);
        }
    }

    public CgroupLayout {
        Objects.requireNonNull(mode, "mode");
        v1 = List.copyOf(v1);
        if (mode != Mode.LEGACY && unifiedMount == null) {
            throw new IllegalArgumentException("mode " + mode + " needs a cgroup2 mount");
        }
        if (mode == Mode.V2 && !v1.isEmpty()) {
            throw new IllegalArgumentException("mode V2 cannot have v1 hierarchies");
        }
        if (mode != Mode.V2 && v1.isEmpty()) {
            throw new IllegalArgumentException("mode " + mode + " needs v1 hierarchies");
        }
    }

    /** The v1 hierarchy carrying the given controller (or "name=..." option), if any. */
    public java.util.Optional<V1Hierarchy> v1Hierarchy(String controller) {
        return v1.stream().filter(h -> h.has(controller)).findFirst();
    }

    /** Reads {@code /proc/self/mountinfo}. */
    public static CgroupLayout detect() throws IOException {
        String text = Files.readString(Path.of("/proc/self/mountinfo"));
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("cannot determine the cgroup layout from /proc/self/mountinfo: " + e.getMessage(), e);
        }
    }

    /** Mount options of a v1 cgroup mount that are not controllers. */
    private static final Set<String> NON_CONTROLLER_OPTIONS = Set.of(
            "rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods", "none", "all");

    /**
     * Parses the text of a mountinfo file (proc(5)). Pure.
     *
     * @throws IllegalArgumentException when no cgroup filesystem is mounted at all
     */
    public static CgroupLayout parse(String mountinfo) {
        record Mount(Path point, String root, List<String> controllers) {}
        List<Mount> v1Mounts = new ArrayList<>();
        List<Mount> v2Mounts = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
            int sep = line.indexOf(" - ");
            if (sep < 0) {
                continue;
            }
            String[] pre = line.substring(0, sep).split(" ");
            String[] post = line.substring(sep + 3).split(" ");
            if (pre.length < 5 || post.length < 1) {
                continue;
            }
            String fsType = post[0];
            if (!fsType.equals("cgroup") && !fsType.equals("cgroup2")) {
                continue;
            }
            String root = unescape(pre[3]);
            Path point = Path.of(unescape(pre[4]));
            if (fsType.equals("cgroup2")) {
                v2Mounts.add(new Mount(point, root, List.of()));
                continue;
            }
            String superOptions = post.length >= 3 ? post[2] : "";
            List<String> controllers = new ArrayList<>();
            for (String opt : superOptions.split(",")) {
                if (opt.isEmpty() || NON_CONTROLLER_OPTIONS.contains(opt) || opt.startsWith("release_agent=")) {
                    continue;
                }
                controllers.add(opt);
            }
            if (!controllers.isEmpty()) {
                v1Mounts.add(new Mount(point, root, controllers));
            }
        }

        // cgroup2: prefer the conventional places, then mounts of the whole hierarchy, then anything.
        Path unified = null;
        for (Mount m : v2Mounts) {
            if (m.root.equals("/") && (m.point.equals(Path.of("/sys/fs/cgroup"))
                    || m.point.equals(Path.of("/sys/fs/cgroup/unified")))) {
                unified = m.point;
                break;
            }
        }
        if (unified == null) {
            unified = v2Mounts.stream().filter(m -> m.root.equals("/")).map(Mount::point).findFirst()
                    .orElse(v2Mounts.isEmpty() ? null : v2Mounts.getFirst().point);
        }

        // v1: one entry per hierarchy (same controller set), whole-hierarchy mounts preferred.
        List<V1Hierarchy> hierarchies = new ArrayList<>();
        Set<Set<String>> seen = new LinkedHashSet<>();
        for (boolean wantRoot : new boolean[] {true, false}) {
            for (Mount m : v1Mounts) {
                if (m.root.equals("/") != wantRoot) {
                    continue;
                }
                if (seen.add(Set.copyOf(m.controllers))) {
                    hierarchies.add(new V1Hierarchy(m.point, m.controllers));
                }
            }
        }
        // Keep mountinfo order regardless of the two passes above.
        List<Path> order = v1Mounts.stream().map(Mount::point).toList();
        hierarchies.sort(java.util.Comparator.comparingInt(h -> order.indexOf(h.mountPoint())));

        if (hierarchies.isEmpty() && unified == null) {
            throw new IllegalArgumentException("no cgroup or cgroup2 filesystem is mounted");
        }
        Mode mode = hierarchies.isEmpty() ? Mode.V2 : unified == null ? Mode.LEGACY : Mode.HYBRID;
        return new CgroupLayout(mode, unified, hierarchies);
    }

    /** Decodes the octal escapes (\040 for space etc.) used in mountinfo fields. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1) && isOctal(s, i + 2) && isOctal(s, i + 3)) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean isOctal(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
    }
}
