package dev.hull.linux.cgroup;

import java.nio.file.Path;
import java.util.List;

/**
 * A container without a cgroup of its own: it stays in its creator's cgroup. For rootless Hull on a
 * host that delegates no cgroup to the user (cgroup v1, or v2 without systemd's delegation): nothing
 * is made, joined or removed, and the container holds no limits (the engine refuses -m, --cpus...
 * there). Its processes end with its pid namespace: the init's death kills them all.
 */
final class NoCgroupManager implements CgroupManager {
    @Override
    public void create() {}

    @Override
    public void addProcess(int pid) {}

    @Override
    public List<Integer> pids() {
        return List.of();
    }

    @Override
    public void destroy() {}

    @Override
    public List<Path> paths() {
        return List.of();
    }

    @Override
    public boolean exists() {
        return false;
    }

    @Override
    public String cgroupPath() {
        return CgroupManagers.NONE;
    }
}
