package dev.hull.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code --userns=auto} where the image's layers cannot be idmapped: the copy snapshotter
 * (HULL_SNAPSHOTTER=copy, no overlayfs) gives the container a copy of its image, and that copy is shifted
 * into the container's range once, at create (LXC's way before idmapped mounts): owner k becomes the
 * range's k, so the container's root owns what the image's root owned, and no idmapped mount is needed.
 */
final class UsernsCopied {
    private UsernsCopied() {}

    /** Leases the range, maps the spec onto it and shifts the copied rootfs into it. */
    static SubIds.Range apply(CreateOptions o, ObjectNode spec, Path dir, Path rootfs, boolean rootless)
            throws IOException, RuntimeError {
        UsernsAuto.check(o, rootless, "copy"); // rootless and --privileged refused; no overlay needed here
        SubIds.Range r = UsernsAuto.apply(o, spec, dir, rootfs);
        ((ObjectNode) spec.get("annotations")).remove(Annotations.ROOTFS_IDMAP); // a copy of its own: shifted
        IdShift.shift(rootfs, IdShift.HOST, new IdShift.Ids(r.uid(), r.gid(), r.size()));
        return r;
    }
}
