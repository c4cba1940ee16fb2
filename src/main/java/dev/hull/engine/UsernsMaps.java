package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --uidmap} / {@code --gidmap CONTAINER_ID:HOST_ID:AMOUNT} (podman's, repeatable): the container
 * gets a user namespace of its own with exactly these mappings. As podman's, the one not given is the
 * other's, and root Hull takes the host ids as given (no lease: the caller chooses them, so two
 * containers may share ids on purpose). The rootfs is presented as {@code --userns=auto}'s is
 * ({@link UsernsAuto}): the image's layers idmapped with the container's mappings, the upper layer owned
 * by the host ids of the container's root, so what the container writes lands with its mapped host ids;
 * with the copy snapshotter, the copy is shifted into the mapping once (one range from 0 only).
 */
final class UsernsMaps {
    /** The kernel's limit of lines in uid_map/gid_map (since 4.15). */
    static final int MAX_LINES = 340;
    private static final long ID_END = 1L << 32; // ids are below 2^32; (uid_t) -1 is never mapped
    private static final long SHIFTABLE = 1L << 31; // UsernsAuto.shift reads ids as signed ints

    /** One line: container ids container..container+size-1 are host ids host..host+size-1. */
    record IdMap(long container, long host, long size) {
        boolean holdsContainer(long id) {
            return id >= container && id < container + size;
        }
    }

    private UsernsMaps() {}

    /** Whether --uidmap or --gidmap was given. */
    static boolean given(CreateOptions o) {
        return !o.uidMaps.isEmpty() || !o.gidMaps.isEmpty();
    }

    /** The uid mappings as given (the gid ones when only --gidmap was). */
    static List<String> uids(CreateOptions o) {
        return o.uidMaps.isEmpty() ? o.gidMaps : o.uidMaps;
    }

    /** The gid mappings as given (the uid ones when only --uidmap was). */
    static List<String> gids(CreateOptions o) {
        return o.gidMaps.isEmpty() ? o.uidMaps : o.gidMaps;
    }

    /** Parses and checks one flag's mappings: well formed, within the id space, no overlap either side. */
    static List<IdMap> parse(String flag, List<String> given) throws RuntimeError {
        if (given.size() > MAX_LINES) {
            throw bad(flag + ": at most " + MAX_LINES + " mappings (the kernel's limit), " + given.size() + " given");
        }
        List<IdMap> out = new ArrayList<>();
        for (String g : given) {
            String[] p = g.split(":", -1);
            long[] v = new long[3];
            boolean ok = p.length == 3;
            for (int i = 0; ok && i < 3; i++) {
                ok = p[i].matches("[0-9]{1,10}");
                v[i] = ok ? Long.parseLong(p[i]) : 0;
            }
            if (!ok) {
                throw bad(flag + " " + g + ": use CONTAINER_ID:HOST_ID:AMOUNT (three numbers)");
            }
            IdMap m = new IdMap(v[0], v[1], v[2]);
            if (m.size() < 1) {
                throw bad(flag + " " + g + ": the amount must be at least 1");
            }
            if (m.container() + m.size() >= ID_END || m.host() + m.size() >= ID_END) {
                throw bad(flag + " " + g + ": ids must stay below 4294967295");
            }
            for (IdMap o : out) {
                if (overlap(o.container(), o.size(), m.container(), m.size())) {
                    throw bad(flag + " " + g + ": its container ids overlap those of " + text(o));
                }
                if (overlap(o.host(), o.size(), m.host(), m.size())) {
                    throw bad(flag + " " + g + ": its host ids overlap those of " + text(o));
                }
            }
            out.add(m);
        }
        return out;
    }

    /** What the caller must refuse before anything is made. */
    static void check(CreateOptions o, boolean rootless, String overlay) throws RuntimeError {
        if (o.userns != null && !o.userns.isEmpty() && !o.userns.equals("host")) {
            throw bad("--uidmap/--gidmap and --userns " + o.userns + " conflict: the maps are the user namespace");
        }
        if (rootless) {
            throw bad("--uidmap/--gidmap: rootless Hull runs every container in the user's own namespace already;"
                    + " mappings of a container's own need root Hull");
        }
        if (o.privileged) {
            throw bad("--uidmap/--gidmap and --privileged conflict: a privileged container gets the host's devices"
                    + " and ids");
        }
        List<IdMap> u = parse("--uidmap", uids(o)), g = parse("--gidmap", gids(o));
        if (overlay == null && single(u, g) == null) {
            throw bad("--uidmap/--gidmap: this store copies layers (HULL_SNAPSHOTTER=copy or no overlayfs), whose"
                    + " copy is shifted into one range: give one mapping from 0, the same size for uids and gids,"
                    + " to host ids from that size up and below 2147483648 (others need the overlay snapshotter's"
                    + " idmapped layers)");
        }
    }

    /**
     * The mappings as one {@link SubIds.Range} when they are one range from 0 of one size each, its host ids
     * above its container ids and below 2^31 (a shift tells a file done from one to do by its id, read as a
     * signed int: a hard link met twice must not be shifted twice), else null.
     */
    private static SubIds.Range single(List<IdMap> u, List<IdMap> g) {
        if (u.size() == 1 && g.size() == 1 && u.get(0).container() == 0 && g.get(0).container() == 0
                && u.get(0).size() == g.get(0).size() && u.get(0).host() >= u.get(0).size()
                && g.get(0).host() >= g.get(0).size() && u.get(0).host() + u.get(0).size() <= SHIFTABLE
                && g.get(0).host() + g.get(0).size() <= SHIFTABLE) {
            return new SubIds.Range(u.get(0).host(), g.get(0).host(), u.get(0).size());
        }
        return null;
    }

    /**
     * Puts the user namespace and its mappings in the spec and gives the upper layer the host ids of the
     * container's root. Returns the mapping as a {@link SubIds.Range} when it is one range from 0 the same
     * size for uids and gids (fresh named volumes are then shifted into it, as --userns=auto's), else null.
     */
    static SubIds.Range apply(CreateOptions o, ObjectNode spec, Path upper) throws IOException, RuntimeError {
        List<IdMap> u = parse("--uidmap", uids(o));
        List<IdMap> g = parse("--gidmap", gids(o));
        ObjectNode linux = (ObjectNode) spec.get("linux");
        ObjectNode user = (ObjectNode) spec.path("process").path("user");
        long uid = user.path("uid").asLong(0), gid = user.path("gid").asLong(0);
        if (u.stream().noneMatch(m -> m.holdsContainer(uid))) {
            throw bad("--uidmap: the container's user " + uid + " is not mapped (map it, or choose another with -u)");
        }
        if (g.stream().noneMatch(m -> m.holdsContainer(gid))) {
            throw bad("--gidmap: the container's group " + gid + " is not mapped (map it, or choose another with -u)");
        }
        for (JsonNode extra : user.path("additionalGids")) {
            if (g.stream().noneMatch(m -> m.holdsContainer(extra.asLong()))) {
                throw bad("--gidmap: the container's additional group " + extra.asLong() + " is not mapped");
            }
        }
        ((ArrayNode) linux.get("namespaces")).addObject().put("type", "user");
        put(linux.putArray("uidMappings"), u);
        put(linux.putArray("gidMappings"), g);
        ((ObjectNode) spec.get("annotations")).put(Annotations.ROOTFS_IDMAP, "true");
        if (!"none".equals(o.network)) {
            UsernsAuto.sysfsBound(spec);
        }
        Long rootUid = hostOf(u, 0), rootGid = hostOf(g, 0);
        if (rootUid != null) {
            Files.setAttribute(upper, "unix:uid", rootUid.intValue());
        }
        if (rootGid != null) {
            Files.setAttribute(upper, "unix:gid", rootGid.intValue());
        }
        return single(u, g);
    }

    /** The host id a container id maps to, or null. */
    static Long hostOf(List<IdMap> maps, long id) {
        for (IdMap m : maps) {
            if (m.holdsContainer(id)) {
                return m.host() + (id - m.container());
            }
        }
        return null;
    }

    private static void put(ArrayNode into, List<IdMap> maps) {
        for (IdMap m : maps) {
            into.addObject().put("containerID", m.container()).put("hostID", m.host()).put("size", m.size());
        }
    }

    private static boolean overlap(long a, long an, long b, long bn) {
        return a < b + bn && b < a + an;
    }

    private static String text(IdMap m) {
        return m.container() + ":" + m.host() + ":" + m.size();
    }

    private static RuntimeError bad(String msg) {
        return new RuntimeError(RuntimeError.Kind.BAD_INPUT, msg);
    }
}
