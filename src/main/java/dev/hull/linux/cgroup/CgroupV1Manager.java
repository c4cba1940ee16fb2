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
 * A container's cgroups on a v1 (LEGACY) or HYBRID host: one directory per v1 hierarchy (including named ones
 * such as name=systemd), plus, on a hybrid host, the directory in the cgroup2 mount (managed by an inner
 * {@link CgroupV2Manager}, so the unified "0::" line of /proc/PID/cgroup shows the container too).
 *
 * <p>In the cpuset hierarchy, cpuset.cpus and cpuset.mems are copied from the parent into each directory on
 * the path whose values are empty (a new cpuset cgroup starts empty and refuses tasks until they are set).
 *
 * <p>{@link #destroy()} uses cgroup.kill of the unified directory when present (hybrid, kernel >= 5.14),
 * and in any case freezes the freezer cgroup (if there is a freezer hierarchy), SIGKILLs every pid found in any
 * of the container's directories, thaws, and repeats until all are empty.
 */
public final class CgroupV1Manager implements CgroupManager {

    private final CgroupLayout layout;
    private final String cgroupPath;
    private final List<Path> v1Dirs;
    private final Path pidsDir;
    private final Path freezerDir;
    private final Path cpusetDir;
    private final CgroupV2Manager unified;

    public CgroupV1Manager(CgroupLayout layout, String cgroupPath) {
        this.layout = Objects.requireNonNull(layout, "layout");
        this.cgroupPath = CgroupManagers.normalize(Objects.requireNonNull(cgroupPath, "cgroupPath"));
        if (layout.v1().isEmpty()) {
            throw new IllegalArgumentException("CgroupV1Manager needs v1 hierarchies; layout is " + layout.mode());
        }
        List<Path> dirs = new ArrayList<>();
        for (CgroupLayout.V1Hierarchy h : layout.v1()) {
            dirs.add(CgroupFs.chain(h.mountPoint(), this.cgroupPath).getLast());
        }
        this.v1Dirs = List.copyOf(dirs);
        this.pidsDir = dirFor("pids");
        this.freezerDir = dirFor("freezer");
        this.cpusetDir = dirFor("cpuset");
        this.unified = layout.unifiedMount() == null ? null : new CgroupV2Manager(layout.unifiedMount(), this.cgroupPath);
    }

    private Path dirFor(String controller) {
        return layout.v1Hierarchy(controller)
                .map(h -> CgroupFs.chain(h.mountPoint(), cgroupPath).getLast())
                .orElse(null);
    }

    /** The directory in the hierarchy carrying the given controller, or null. */
    public Path path(String controller) {
        return dirFor(controller);
    }

    @Override
    public void create() throws IOException {
        Set<Integer> present = new LinkedHashSet<>();
        for (Path d : paths()) {
            present.addAll(CgroupFs.procsRecursive(d));
        }
        if (!present.isEmpty()) {
            throw new IOException("cgroup " + cgroupPath + " already contains processes " + present);
        }
        List<Path> created = new ArrayList<>();
        try {
            for (CgroupLayout.V1Hierarchy h : layout.v1()) {
                List<Path> chain = CgroupFs.chain(h.mountPoint(), cgroupPath);
                created.addAll(CgroupFs.mkdirs(chain));
                if (h.has("cpuset")) {
                    initCpuset(h.mountPoint(), chain);
                }
            }
            if (unified != null) {
                unified.create();
            }
        } catch (IOException | RuntimeException e) {
            CgroupFs.rollback(created);
            throw e;
        }
    }

    /** Copies cpus/mems from the parent into every directory on the chain where they are empty. */
    private static void initCpuset(Path mount, List<Path> chain) throws IOException {
        // With the "noprefix" mount option the files are called "cpus" and "mems".
        String prefix = Files.exists(mount.resolve("cpuset.cpus")) ? "cpuset." : "";
        Path parent = mount;
        for (Path dir : chain) {
            for (String f : new String[] {prefix + "cpus", prefix + "mems"}) {
                String mine = CgroupFs.readOrNull(dir.resolve(f));
                if (mine != null && mine.isEmpty()) {
                    String theirs = CgroupFs.readOrNull(parent.resolve(f));
                    if (theirs == null || theirs.isEmpty()) {
                        throw new IOException("cpuset: " + parent.resolve(f) + " is empty; cannot initialize " + dir);
                    }
                    CgroupFs.write(dir.resolve(f), theirs);
                }
            }
            parent = dir;
        }
    }

    @Override
    public void addProcess(int pid) throws IOException {
        for (Path d : v1Dirs) {
            if (!Files.isDirectory(d)) {
                throw new IOException("cgroup " + d + " does not exist (create() first)");
            }
        }
        for (Path d : v1Dirs) {
            CgroupFs.write(d.resolve("cgroup.procs"), Integer.toString(pid));
        }
        if (unified != null) {
            unified.addProcess(pid);
        }
    }

    @Override
    public List<Integer> pids() throws IOException {
        return CgroupFs.procsRecursive(pidsDir != null ? pidsDir : v1Dirs.getFirst());
    }

    @Override
    public void destroy() throws IOException {
        long deadline = System.nanoTime() + CgroupFs.DESTROY_TIMEOUT_NANOS;
        Path frz = freezerDir != null && Files.exists(freezerDir.resolve("freezer.state")) ? freezerDir : null;
        try {
            CgroupV2Manager.killAll(cgroupPath + " (" + paths() + ")", paths(), unified == null ? null : unified.path(), deadline, frz);
        } finally {
            if (frz != null && Files.exists(frz)) {
                thaw(frz); // never leave a frozen cgroup behind, even on timeout
            }
        }
        for (Path d : v1Dirs) {
            CgroupFs.removeTree(d, deadline);
        }
        if (unified != null) {
            CgroupFs.removeTree(unified.path(), deadline);
        }
    }

    /** Freezes a v1 freezer cgroup (bounded wait for FROZEN); false if there is nothing to freeze. */
    static boolean freeze(Path freezerDir) throws IOException {
        if (freezerDir == null) {
            return false;
        }
        Path state = freezerDir.resolve("freezer.state");
        try {
            CgroupFs.write(state, "FROZEN");
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
        long until = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() - until < 0) {
            String s = CgroupFs.readOrNull(state);
            if (s == null || s.equals("FROZEN")) {
                break;
            }
            CgroupFs.sleep(5);
        }
        return true;
    }

    /**
     * Thaws the freezer cgroup and every cgroup below it: in v1 a child that was frozen by itself (e.g. by the
     * container) stays frozen when only its parent is thawed, and its processes could then never die.
     */
    static void thaw(Path freezerDir) throws IOException {
        for (Path d : CgroupFs.subtree(freezerDir)) {
            try {
                CgroupFs.write(d.resolve("freezer.state"), "THAWED");
            } catch (java.nio.file.NoSuchFileException e) {
                // gone
            }
        }
    }

    @Override
    public List<Path> paths() {
        List<Path> out = new ArrayList<>(v1Dirs);
        if (unified != null) {
            out.add(unified.path());
        }
        return List.copyOf(out);
    }

    @Override
    public boolean exists() {
        return paths().stream().anyMatch(Files::isDirectory);
    }

    @Override
    public String cgroupPath() {
        return cgroupPath;
    }

    @Override
    public String toString() {
        return "CgroupV1Manager[" + layout.mode() + " " + cgroupPath + "]";
    }
}
