package dev.hull.linux.cgroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Places a container's processes into its cgroup(s) and tears them down again. */
public interface CgroupManager {

    /**
     * Creates the container's cgroup directories (mkdir -p semantics). Fails if the leaf already exists and
     * contains processes.
     */
    void create() throws IOException;

    /** Moves pid into the container's cgroup in every hierarchy (writes cgroup.procs). */
    void addProcess(int pid) throws IOException;

    /**
     * Pids currently in the container's cgroup, including those in child cgroups (v2: the unified leaf; v1: the
     * pids hierarchy, or the first hierarchy if there is no pids controller). Empty if the cgroup does not exist.
     */
    List<Integer> pids() throws IOException;

    /**
     * SIGKILLs every process in the cgroup and its child cgroups, waits (bounded, 10 s) until it is empty, then
     * removes the leaf directories (child cgroups first, deepest first). Only the leaf path and its children are
     * removed, never its parents. Idempotent: a missing directory is not an error.
     *
     * @throws IOException if processes are still present after the timeout (the message names them), or a
     *                     directory cannot be removed
     */
    void destroy() throws IOException;

    /** Every directory this manager manages (one per v1 hierarchy, plus the v2 one). */
    List<Path> paths();

    /** Whether any of {@link #paths()} exists. */
    boolean exists();

    /** The normalized absolute cgroup path, e.g. "/hull/abc" (relative to each hierarchy's root). */
    String cgroupPath();
}
