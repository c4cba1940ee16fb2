package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.RuntimeError;
import dev.hull.linux.AtFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --userns=auto[:size=N]} (podman's): the container gets a user namespace of its own mapping its ids
 * 0..N-1 to a range of host ids leased for it ({@link SubIds}). Its rootfs is the overlay of the image's
 * layers made on idmapped lower layers (annotation run.hull.rootfs.idmap: image files owned by root are
 * the container root's, no copy or chown of a layer), with an upper layer owned by the range's first id;
 * what the container writes lands with host ids of its range. As podman: a named volume the container
 * fills (docker's copy-up) gets the range's ids, a host directory bound with -v is left as it is (writes
 * land as the range's ids) unless -v ...:idmap asks for an idmapped bind (the container's root then
 * writes as the host's root, and sees the host's files with their owners).
 */
final class UsernsAuto {
    private UsernsAuto() {}

    /** What the caller must refuse before anything is made. */
    static void check(CreateOptions o, boolean rootless, String overlay) throws RuntimeError {
        String flag = "--userns " + o.userns;
        if (rootless) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + ": rootless Hull runs every container in the"
                    + " user's own namespace already; a range per container needs root Hull");
        }
        if (o.privileged) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + " and --privileged conflict: a privileged"
                    + " container gets the host's devices and ids (use --userns host)");
        }
        // the copy snapshotter (overlay null): the copy is shifted into the range at create (ContainerCreator)
    }

    /** Leases the range and maps the spec onto it; the upper layer gets the container root's ids. */
    static SubIds.Range apply(CreateOptions o, ObjectNode spec, Path dir, Path upper) throws IOException, RuntimeError {
        SubIds.Range r = SubIds.allocate(dir, SubIds.autoSize(o.userns));
        ObjectNode linux = (ObjectNode) spec.get("linux");
        ((ArrayNode) linux.get("namespaces")).addObject().put("type", "user");
        for (String f : List.of("uidMappings", "gidMappings")) {
            linux.putArray(f).addObject().put("containerID", 0).put("hostID", f.startsWith("uid") ? r.uid() : r.gid())
                    .put("size", r.size());
        }
        ((ObjectNode) spec.get("annotations")).put(Annotations.ROOTFS_IDMAP, "true");
        if (!"none".equals(o.network)) { // a joined network namespace: the host's (see sysfsBound)
            sysfsBound(spec);
        }
        Files.setAttribute(upper, "unix:uid", (int) r.uid());
        Files.setAttribute(upper, "unix:gid", (int) r.gid());
        return r;
    }

    /**
     * A sysfs mount takes a network namespace owned by the container's user namespace: one it joins (a
     * bridge network's, the host's) is the host's, so /sys is the host's bound read-only instead, as
     * runc and podman do for a user namespace without a network namespace of its own.
     */
    static void sysfsBound(ObjectNode spec) {
        for (JsonNode m : spec.path("mounts")) {
            if (m.path("type").asText().equals("sysfs")) {
                ObjectNode sys = (ObjectNode) m;
                sys.put("type", "bind");
                sys.put("source", "/sys");
                ArrayNode opts = sys.putArray("options");
                for (String x : List.of("rbind", "nosuid", "noexec", "nodev", "ro")) {
                    opts.add(x);
                }
            }
        }
    }

    /**
     * Whether dir is a directory with no entries, looked at through a descriptor opened without
     * following a symlink at dir (a volume's data directory swapped for a link is not empty, so it is
     * never shifted) and listed with getdents on that descriptor.
     */
    static boolean isEmptyDir(Path dir) throws IOException {
        int fd;
        try {
            fd = dev.hull.linux.Syscalls.open(dir.toString(), AtFiles.O_RDONLY | AtFiles.O_DIRECTORY
                    | AtFiles.O_NOFOLLOW | AtFiles.O_CLOEXEC, 0);
        } catch (dev.hull.linux.LinuxException e) {
            if (e.errno() == dev.hull.linux.Errno.ENOENT || e.errno() == dev.hull.linux.Errno.ENOTDIR
                    || e.errno() == dev.hull.linux.Errno.ELOOP) {
                return false;
            }
            throw e;
        }
        try {
            return AtFiles.list(fd).isEmpty();
        } finally {
            dev.hull.linux.Syscalls.close(fd);
        }
    }

    /** The data directories of named volumes still empty: after the copy-up, {@link #shift} gives them the range. */
    static List<Path> emptyVolumes(ObjectNode spec, VolumeStore volumes) throws IOException {
        List<Path> out = new ArrayList<>();
        String prefix = volumes.root() + "/";
        for (JsonNode m : spec.path("mounts")) {
            String src = m.path("source").asText();
            if (m.path("type").asText().equals("bind") && src.startsWith(prefix) && isEmptyDir(Path.of(src))) {
                out.add(Path.of(src));
            }
        }
        return out;
    }

    /**
     * Every file under dir (dir too) moved into the range: owner id k becomes the range's k. Walked
     * through directory descriptors (openat2 beneath, no symlinks) and changed with *at calls that
     * follow nothing, so a container sharing the volume that swaps a directory for a link meanwhile
     * cannot make the host's root chown anything outside it.
     */
    static void shift(Path dir, SubIds.Range r) throws IOException {
        IdShift.shift(dir, IdShift.HOST, new IdShift.Ids(r.uid(), r.gid(), r.size())); // file capabilities kept too
    }

    /** An idmapped -v without a user namespace of the container's is refused. */
    static void refuseIdmapWithoutUserns(ObjectNode spec) throws RuntimeError {
        for (JsonNode m : spec.path("mounts")) {
            for (JsonNode opt : m.path("options")) {
                if (idmapOption(opt.asText())) {
                    throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "-v " + m.path("source").asText() + ":"
                            + m.path("destination").asText() + ":idmap: an idmapped volume needs --userns=auto (the"
                            + " container's own user namespace)");
                }
            }
        }
    }

    /** -v SRC:DST:idmap: the bind takes the container's mappings (the OCI "idmap" mount option). */
    static boolean idmapOption(String x) {
        return x.equals("idmap");
    }
}
