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
     * "true": the process is exec'd with every signal blocked (the mask survives execve); they are
     * blocked from before create reports ready on. For an init that blocks them itself (hull run
     * --init): a signal sent while it waits for start, or before its first instruction, is then
     * queued, not dropped (PID 1 of a pid namespace drops signals it has no
     * handler for, unless they are blocked).
     */
    public static final String EXEC_SIGNALS_BLOCKED = "run.hull.exec.signals-blocked";

    private Annotations() {}
}
