package dev.hull.runtime;

/** Annotations Hull's runtime understands in config.json. */
public final class Annotations {
    /**
     * Mount the rootfs as an overlay inside the container's own mount namespace:
     * the value is the overlay's mount data ("lowerdir=...,upperdir=...,workdir=...").
     * No host mount is ever made, so nothing can leak if Hull is killed.
     */
    public static final String ROOTFS_OVERLAY = "run.hull.rootfs.overlay";

    /**
     * "true": the {@link #ROOTFS_OVERLAY} overlay is made on idmapped lower layers, mapped as the
     * container's user namespace (linux.uidMappings/gidMappings), so image files owned by root are the
     * container's root's; its upper layer is not idmapped (what the container writes there has the host
     * ids of its range). See {@link IdmappedMounts}.
     */
    public static final String ROOTFS_IDMAP = "run.hull.rootfs.idmap";

    /**
     * "true": the process is exec'd with every signal blocked (the mask survives execve); they are
     * blocked from before create reports ready on. For an init that blocks them itself (hull run
     * --init): a signal sent while it waits for start, or before its first instruction, is then
     * queued, not dropped (PID 1 of a pid namespace drops signals it has no
     * handler for, unless they are blocked).
     */
    public static final String EXEC_SIGNALS_BLOCKED = "run.hull.exec.signals-blocked";

    /**
     * "true": PID 1 is Hull's tiny init (hull run --init), which runs process.args as its child. The
     * init is the executor's own program, exec'd from the sealed executable the executor runs from:
     * no host file of Hull's is bound into the container (a privileged container could remount a
     * bind of it read-write and change what the host runs).
     */
    public static final String INIT = "run.hull.init";

    /**
     * "true": a missing process.cwd is made (mkdir -p, mode 0755, owned by root) inside the root, right
     * after pivot_root, each component resolved inside it — docker's rule for WorkingDir and -w.
     */
    public static final String MKDIR_CWD = "run.hull.cwd.mkdir";

    /**
     * A comma list of cgroup hierarchies a read-only {@code cgroup} mount leaves writable, by their
     * name under the mount ({@code systemd}, {@code unified}; on a cgroup v2 host {@code unified} is
     * the whole mount). For systemd as PID 1 in a cgroup namespace: it manages its own subtree there
     * (v1's named systemd hierarchy and the cgroup2 one), while the controllers' hierarchies, whose
     * namespace root holds the container's limits, stay read-only. (On v2 the kernel's nsdelegate
     * forbids writing the namespace root's limits anyway.)
     */
    public static final String CGROUP_WRITABLE = "run.hull.cgroup.writable";

    /**
     * "true": the container gets no cgroup of its own and stays in its creator's (rootless Hull where
     * no cgroup is delegated to the user); it must ask for no limits (linux.resources beyond devices,
     * which a user namespace's missing mknod already covers).
     */
    public static final String NO_CGROUP = "run.hull.cgroup.none";

    private Annotations() {}
}
