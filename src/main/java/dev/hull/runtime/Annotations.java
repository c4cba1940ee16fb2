package dev.hull.runtime;

/** Annotations Hull's runtime understands in config.json. */
public final class Annotations {
    /**
     * Mount the rootfs as an overlay inside the container's own mount namespace:
     * the value is the overlay's mount data ("lowerdir=...,upperdir=...,workdir=...").
     * No host mount is ever made, so nothing can leak if Hull is killed.
     */
    public static final String ROOTFS_OVERLAY = "run.hull.rootfs.overlay";

    private Annotations() {}
}
