package dev.hull.linux.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A container's cgroup in a cgroup2 (unified) hierarchy.
 *
 * <p>On {@link #create()}, controllers are enabled top-down in {@code cgroup.subtree_control} of every ancestor of
 * the leaf (from the hierarchy root to the leaf's parent), as far as possible: a controller is enabled only if it
 * is listed in that directory's {@code cgroup.controllers}, each controller is written separately, and failures
 * are ignored (e.g. a controller bound to v1 on a hybrid host is never available). Because of the "no internal
 * processes" rule, {@code subtree_control} is only written on the hierarchy root (which the kernel exempts from
 * the rule), on directories created by this call, and on existing directories that contain no processes. The
 * leaf's own {@code subtree_control} is never written, so processes can join it.
 */
public final class CgroupV2Manager implements CgroupManager {

    private static final System.Logger LOG = System.getLogger(CgroupV2Manager.class.getName());

    private final Path root;
    private final String cgroupPath;
    private final Path leaf;
    private final List<String> notEnabled = new ArrayList<>();
    /** Tests turn this off to exercise the per-pid kill path that kernels before 5.14 need. */
    boolean useCgroupKill = true;

    public CgroupV2Manager(Path unifiedRoot, String cgroupPath) {
        this.root = Objects.requireNonNull(unifiedRoot, "unifiedRoot");
        this.cgroupPath = CgroupManagers.normalize(Objects.requireNonNull(cgroupPath, "cgroupPath"));
        this.leaf = CgroupFs.chain(root, this.cgroupPath).getLast();
    }

    /** The leaf directory. */
    public Path path() {
        return leaf;
    }

    /** Controllers that could not be enabled during the last {@link #create()} ("dir: +ctrl: reason"). */
    public List<String> controllersNotEnabled() {
        return List.copyOf(notEnabled);
    }

    @Override
    public void create() throws IOException {
        List<Integer> present = CgroupFs.procsRecursive(leaf);
        if (!present.isEmpty()) {
            throw new IOException("cgroup " + leaf + " already contains processes " + present);
        }
        List<Path> chain = CgroupFs.chain(root, cgroupPath);
        List<Path> created = CgroupFs.mkdirs(chain);
        try {
            enableControllers(chain, created);
        } catch (IOException | RuntimeException e) {
            CgroupFs.rollback(created);
            throw e;
        }
    }

    private void enableControllers(List<Path> chain, List<Path> created) throws IOException {
        notEnabled.clear();
        Set<Path> createdSet = new HashSet<>(created);
        List<Path> parents = new ArrayList<>();
        parents.add(root);
        parents.addAll(chain.subList(0, chain.size() - 1));
        for (Path dir : parents) {
            boolean allowed = dir.equals(root) || createdSet.contains(dir) || CgroupFs.procs(dir).isEmpty();
            if (!allowed) {
                notEnabled.add(dir + ": skipped, it contains processes");
                continue;
            }
            Set<String> available = words(CgroupFs.readOrNull(dir.resolve("cgroup.controllers")));
            Set<String> enabled = words(CgroupFs.readOrNull(dir.resolve("cgroup.subtree_control")));
            for (String c : available) {
                if (enabled.contains(c)) {
                    continue;
                }
                try {
                    CgroupFs.write(dir.resolve("cgroup.subtree_control"), "+" + c);
                } catch (IOException e) {
                    notEnabled.add(dir + ": +" + c + ": " + e.getMessage());
                    LOG.log(System.Logger.Level.DEBUG, "cannot enable controller {0} in {1}: {2}", c, dir,
                            e.getMessage());
                }
            }
        }
    }

    private static Set<String> words(String s) {
        if (s == null || s.isBlank()) {
            return new java.util.LinkedHashSet<>();
        }
        return new java.util.LinkedHashSet<>(Arrays.asList(s.split("\\s+")));
    }

    @Override
    public void addProcess(int pid) throws IOException {
        if (!Files.isDirectory(leaf)) {
            throw new IOException("cgroup " + leaf + " does not exist (create() first)");
        }
        CgroupFs.write(leaf.resolve("cgroup.procs"), Integer.toString(pid));
    }

    @Override
    public List<Integer> pids() throws IOException {
        return CgroupFs.procsRecursive(leaf);
    }

    @Override
    public void destroy() throws IOException {
        long deadline = System.nanoTime() + CgroupFs.DESTROY_TIMEOUT_NANOS;
        killAll(leaf.toString(), List.of(leaf), useCgroupKill ? leaf : null, deadline, null);
        CgroupFs.removeTree(leaf, deadline);
    }

    /**
     * Kills every process in the subtrees of dirs until they are all empty. If killFile's directory has
     * cgroup.kill it is used (atomic, catches forks); otherwise (or additionally) each pid is SIGKILLed, with the
     * v1 freezer (freezerDir, may be null) frozen around the kills so nothing can fork in between.
     */
    static void killAll(String label, List<Path> dirs, Path unifiedLeaf, long deadline, Path freezerDir) throws IOException {
        Path killFile = unifiedLeaf == null ? null : unifiedLeaf.resolve("cgroup.kill");
        boolean useKillFile = killFile != null && Files.exists(killFile);
        while (true) {
            List<Integer> pids = new ArrayList<>();
            for (Path d : dirs) {
                for (int p : CgroupFs.procsRecursive(d)) {
                    if (!pids.contains(p)) {
                        pids.add(p);
                    }
                }
            }
            if (pids.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("cgroup " + label + ": processes still present after "
                        + CgroupFs.DESTROY_TIMEOUT_NANOS / 1_000_000_000L + " s: " + pids);
            }
            if (pids.contains((int) ProcessHandle.current().pid())) {
                throw new IOException("cgroup " + label + " contains the calling process (pid "
                        + ProcessHandle.current().pid() + "); refusing to kill it");
            }
            if (useKillFile) {
                try {
                    CgroupFs.write(killFile, "1");
                } catch (java.nio.file.NoSuchFileException e) {
                    useKillFile = false; // leaf removed concurrently; fall back
                } catch (IOException e) {
                    useKillFile = false;
                    LOG.log(System.Logger.Level.DEBUG, "cgroup.kill failed, killing pids: {0}", e.getMessage());
                }
            }
            // Also kill individually: covers processes outside the unified leaf (v1) and kernels without cgroup.kill.
            boolean frozen = CgroupV1Manager.freeze(freezerDir);
            try {
                CgroupFs.kill(pids);
            } finally {
                if (frozen) {
                    CgroupV1Manager.thaw(freezerDir);
                }
            }
            CgroupFs.sleep(20);
        }
    }

    @Override
    public List<Path> paths() {
        return List.of(leaf);
    }

    @Override
    public boolean exists() {
        return Files.isDirectory(leaf);
    }

    @Override
    public String cgroupPath() {
        return cgroupPath;
    }

    @Override
    public String toString() {
        return "CgroupV2Manager[" + leaf + "]";
    }
}
