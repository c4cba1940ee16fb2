package dev.hull.runtime;

import dev.hull.runtime.executor.Plan;
import dev.hull.runtime.spec.ConfigException;
import dev.hull.runtime.spec.IdMapping;
import dev.hull.runtime.spec.Linux;
import dev.hull.runtime.spec.Mount;
import dev.hull.runtime.spec.MountOptions;
import dev.hull.runtime.spec.Spec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * OCI idmapped mounts (runc 1.2 / crun semantics): a bind mount with {@code uidMappings}/{@code gidMappings}
 * or the {@code idmap}/{@code ridmap} option shows its files with their on-disk ids mapped — on-disk
 * {@code containerID + i} appears as host {@code hostID + i}, so with the container's own mappings a file
 * owned by on-disk uid 0 is the container's root. Without mappings of its own the mount takes the
 * container's (linux.uidMappings). {@code ridmap} maps the submounts of an {@code rbind} too.
 *
 * <p>Idmapping takes CAP_SYS_ADMIN in the user namespace owning the filesystem (the host's), so the
 * executor makes each idmapped tree before the clone, in a helper user namespace with the mount's maps
 * (the same ids as the container's own namespace when the maps are equal), and the init moves it onto its
 * target. The rootfs overlay of {@link Annotations#ROOTFS_IDMAP} is made the same way, on idmapped lower
 * layers: image files owned by root are the container's root's, while what the container writes lands
 * in its upper layer with the host ids of its range.
 */
final class IdmappedMounts {
    private IdmappedMounts() {}

    /** Whether mounts[i] is idmapped. */
    static boolean idmapped(Mount m, MountOptions.Parsed o) {
        return o.idmap() || !m.uidMappings().isEmpty() || !m.gidMappings().isEmpty();
    }

    /**
     * Validates the idmapped mounts and the idmapped rootfs, and plans their trees (parent ops, before the
     * clone). Returns the tree number of each idmapped mount's index, and of the rootfs under key -1.
     */
    static Map<Integer, Integer> plan(Plan plan, Spec spec, PlanBuilder.Context ctx, boolean rootless,
            boolean newUserNs) throws ConfigException {
        Map<Integer, Integer> trees = new HashMap<>();
        Linux linux = spec.linux();
        boolean rootfsIdmap = "true".equals(spec.annotations().get(Annotations.ROOTFS_IDMAP));
        for (int i = 0; i < spec.mounts().size(); i++) {
            Mount m = spec.mounts().get(i);
            MountOptions.Parsed o = MountOptions.parse(m.options());
            String at = "config.json: mounts[" + i + "]";
            boolean bind = o.bind() || o.recursiveBind() || "bind".equals(m.type());
            if (!idmapped(m, o)) {
                if (bind && newUserNs && !rootless && m.source() != null
                        && java.nio.file.Files.exists(ctx.bundle().resolve(m.source()))) {
                    // A plain copy the executor opens as the host's root: the init, root of its user namespace
                    // only, may not be able to walk to the source (a volume in the engine's private store).
                    trees.put(i, plan.idmapTree("mounts[" + i + "] (" + m.destination() + ")",
                            ctx.bundle().resolve(m.source()).toString(), "", "", o.recursiveBind(), false));
                }
                continue;
            }
            if (!bind) {
                throw new ConfigException(at + ": idmapped mounts are only supported for bind mounts (type "
                        + (m.type() == null ? "none" : "\"" + m.type() + "\"") + ", destination " + m.destination() + ")");
            }
            if (m.uidMappings().isEmpty() != m.gidMappings().isEmpty()) {
                throw new ConfigException(at + "." + (m.uidMappings().isEmpty() ? "uidMappings" : "gidMappings")
                        + ": required with " + (m.uidMappings().isEmpty() ? "gidMappings" : "uidMappings")
                        + " (an idmapped mount maps both)");
            }
            String userNs = newUserNamespace(linux, at + (m.uidMappings().isEmpty() ? " (option idmap)" : ".uidMappings"));
            if (userNs != null) {
                throw new ConfigException(userNs);
            }
            refuseRootless(rootless, at);
            List<IdMapping> uids = m.uidMappings().isEmpty() ? linux.uidMappings() : m.uidMappings();
            List<IdMapping> gids = m.gidMappings().isEmpty() ? linux.gidMappings() : m.gidMappings();
            if (m.source() == null) {
                throw new ConfigException(at + ".source: a bind mount needs a source");
            }
            String src = ctx.bundle().resolve(m.source()).toString();
            trees.put(i, plan.idmapTree("mounts[" + i + "] (" + m.destination() + ")", src, mapText(uids),
                    mapText(gids), o.recursiveBind(), o.recursiveIdmap()));
        }
        if (rootfsIdmap) {
            String at = "config.json: annotations." + Annotations.ROOTFS_IDMAP;
            String overlay = spec.annotations().get(Annotations.ROOTFS_OVERLAY);
            if (overlay == null) {
                throw new ConfigException(at + ": needs annotations." + Annotations.ROOTFS_OVERLAY);
            }
            String userNs = newUserNamespace(linux, at);
            if (userNs != null) {
                throw new ConfigException(userNs);
            }
            refuseRootless(rootless, at);
            List<String> lowers = new ArrayList<>();
            List<String[]> options = new ArrayList<>();
            for (String opt : overlay.split(",")) {
                int eq = opt.indexOf('=');
                String key = eq < 0 ? opt : opt.substring(0, eq), value = eq < 0 ? "" : opt.substring(eq + 1);
                if (key.equals("lowerdir")) {
                    lowers.addAll(List.of(value.split(":")));
                } else if (!key.isEmpty()) {
                    options.add(new String[] {key, value});
                }
            }
            if (lowers.isEmpty()) {
                throw new ConfigException(at + ": the overlay has no lowerdir");
            }
            trees.put(-1, plan.overlayTree("the idmapped rootfs", mapText(linux.uidMappings()),
                    mapText(linux.gidMappings()), lowers, options));
        } else if (newUserNs && !rootless && spec.annotations().get(Annotations.ROOTFS_OVERLAY) == null
                && java.nio.file.Files.isDirectory(ctx.rootfs())) {
            // A plain rootfs (a copy shifted into the container's ids) in a new user namespace: opened by the
            // host's root as the plain binds above are; the init, root of its user namespace only, may not
            // be able to walk to it (the engine's private store).
            trees.put(-1, plan.idmapTree("the rootfs", ctx.rootfs().toString(), "", "", true, false));
        }
        return trees;
    }

    /** null if the spec makes a new user namespace with mappings, else the error for what. */
    private static String newUserNamespace(Linux linux, String what) {
        boolean ok = linux != null && linux.namespaces().stream().anyMatch(n -> n.type().equals("user") && n.path() == null)
                && !linux.uidMappings().isEmpty() && !linux.gidMappings().isEmpty();
        return ok ? null : what + ": an idmapped mount needs a new user namespace of the container's (a \"user\""
                + " entry without a path in linux.namespaces, with linux.uidMappings and linux.gidMappings)";
    }

    private static void refuseRootless(boolean rootless, String at) throws ConfigException {
        if (rootless) {
            throw new ConfigException(at + ": idmapped mounts need root (CAP_SYS_ADMIN of the host's user namespace)"
                    + "; hull-runtime --rootless cannot make them");
        }
    }

    /** The text of a uid_map/gid_map file: "containerID hostID size" lines. */
    static String mapText(List<IdMapping> maps) {
        StringBuilder sb = new StringBuilder();
        for (IdMapping m : maps) {
            sb.append(m.containerID()).append(' ').append(m.hostID()).append(' ').append(m.size()).append('\n');
        }
        return sb.toString();
    }
}
