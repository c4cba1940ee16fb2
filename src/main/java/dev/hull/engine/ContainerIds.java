package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A container's user namespace as its files cross it (hull cp, export, commit, the Docker API's archive
 * endpoints): its config.json's linux.uidMappings/gidMappings (--userns=auto, --uidmap). The host sees
 * what such a container owns with host ids (its copy shifted at create, its upper layer, its idmapped
 * layers through /proc/PID/root); the container and whoever copies its files see the ids inside. Out
 * (host to container): an id in a mapping's host range becomes its container id, others stay (a
 * stopped overlay's image layers, read without their idmapping, are at the container's own ids
 * already). In (container to host): an id the container maps becomes its host id; one it does not
 * map is refused, as podman and dockerd's userns-remap refuse it. A container without mappings
 * (the host's ids, rootless Hull's shared namespace): {@link #HOST}, ids as they are.
 */
public final class ContainerIds {
    /** One mapping line: container ids container..container+size-1 are host ids host..host+size-1. */
    record Line(long container, long host, long size) {}

    public static final ContainerIds HOST = new ContainerIds(List.of(), List.of());

    private final List<Line> uids;
    private final List<Line> gids;

    private ContainerIds(List<Line> uids, List<Line> gids) {
        this.uids = uids;
        this.gids = gids;
    }

    /** The mappings of a container's spec (config.json). */
    public static ContainerIds of(JsonNode spec) {
        List<Line> u = lines(spec.path("linux").path("uidMappings"));
        List<Line> g = lines(spec.path("linux").path("gidMappings"));
        return u.isEmpty() && g.isEmpty() ? HOST : new ContainerIds(u, g);
    }

    /** The mappings of the container whose directory is dir (its config.json; none: {@link #HOST}). */
    public static ContainerIds of(Path containerDir) throws IOException {
        try {
            return of(ContainerStore.JSON.readTree(Files.readAllBytes(containerDir.resolve("config.json"))));
        } catch (NoSuchFileException e) {
            return HOST;
        }
    }

    private static List<Line> lines(JsonNode maps) {
        List<Line> out = new ArrayList<>();
        for (JsonNode m : maps) {
            out.add(new Line(m.path("containerID").asLong(), m.path("hostID").asLong(), m.path("size").asLong()));
        }
        return List.copyOf(out);
    }

    public boolean host() {
        return this == HOST;
    }

    /** A host uid as the container sees it (kept when no mapping holds it). */
    public long uidOut(long hostId) {
        return out(uids, hostId);
    }

    public long gidOut(long hostId) {
        return out(gids, hostId);
    }

    /** The host uid of a container uid, or -1 when the container does not map it. */
    public long uidIn(long containerId) {
        return in(uids, containerId);
    }

    public long gidIn(long containerId) {
        return in(gids, containerId);
    }

    private static long out(List<Line> lines, long id) {
        for (Line l : lines) {
            if (id >= l.host() && id - l.host() < l.size()) {
                return l.container() + id - l.host();
            }
        }
        return id;
    }

    private long in(List<Line> lines, long id) {
        if (host()) {
            return id;
        }
        for (Line l : lines) {
            if (id >= l.container() && id - l.container() < l.size()) {
                return l.host() + id - l.container();
            }
        }
        return -1;
    }

    /**
     * After a copy into a stopped overlay container (its layers mounted without their idmapping): the
     * directories overlayfs copied up to hold what was written carry the image's own ids, which the
     * container would see unmapped (nobody); they get the host ids those ids map to, as the idmapped
     * layers present them. Only directories are copied up by a copy (files are replaced, not written
     * through); a directory already in a mapping's host range is the container's and stays.
     */
    void fixCopyUps(Path upper) throws IOException {
        if (host()) {
            return;
        }
        Files.walkFileTree(upper, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult preVisitDirectory(Path d,
                    java.nio.file.attribute.BasicFileAttributes a) throws IOException {
                long uid = Integer.toUnsignedLong((Integer) Files.getAttribute(d, "unix:uid",
                        java.nio.file.LinkOption.NOFOLLOW_LINKS));
                long gid = Integer.toUnsignedLong((Integer) Files.getAttribute(d, "unix:gid",
                        java.nio.file.LinkOption.NOFOLLOW_LINKS));
                long u = unmapped(uids, uid) ? uidIn(uid) : -1, g = unmapped(gids, gid) ? gidIn(gid) : -1;
                if (u >= 0 || g >= 0) {
                    dev.hull.linux.AtFiles.fchownat(dev.hull.linux.AtFiles.AT_FDCWD, d.toString(),
                            (int) (u >= 0 ? u : uid), (int) (g >= 0 ? g : gid),
                            dev.hull.linux.AtFiles.AT_SYMLINK_NOFOLLOW);
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
    }

    /** Whether no mapping's host range holds the host id. */
    private static boolean unmapped(List<Line> lines, long id) {
        return lines.stream().noneMatch(l -> id >= l.host() && id - l.host() < l.size());
    }

    /** What reads the container's files writes to sink with the ids as seen inside. */
    TreeCopy.Sink out(TreeCopy.Sink sink) {
        return host() ? sink : new Mapped(sink, m -> new TreeCopy.Meta(m.mode(), (int) uidOut(m.uid() & 0xffffffffL),
                (int) gidOut(m.gid() & 0xffffffffL), m.size(), m.mtimeSec(), m.mtimeNsec(), m.rdev(), m.xattrs()));
    }

    /** What writes into the container's files gets the host ids of the ids given (label: the container's name). */
    TreeCopy.Sink in(TreeCopy.Sink sink, String label) {
        return host() ? sink : new Mapped(sink, m -> {
            long uid = uidIn(m.uid() & 0xffffffffL), gid = gidIn(m.gid() & 0xffffffffL);
            if (uid < 0 || gid < 0) {
                throw new IOException((uid < 0 ? "uid " + (m.uid() & 0xffffffffL) : "gid " + (m.gid() & 0xffffffffL))
                        + " is not mapped in the user namespace of container " + label + " (copy without -a"
                        + " to give the files to its root)");
            }
            return new TreeCopy.Meta(m.mode(), (int) uid, (int) gid, m.size(), m.mtimeSec(), m.mtimeNsec(), m.rdev(),
                    m.xattrs());
        });
    }

    @FunctionalInterface
    private interface MetaMap {
        TreeCopy.Meta apply(TreeCopy.Meta m) throws IOException;
    }

    /** A sink whose entries' owners go through map first. */
    private record Mapped(TreeCopy.Sink sink, MetaMap map) implements TreeCopy.Sink {
        @Override
        public void directory(String path, TreeCopy.Meta m) throws IOException {
            sink.directory(path, map.apply(m));
        }

        @Override
        public void directoryDone(String path, TreeCopy.Meta m) throws IOException {
            sink.directoryDone(path, map.apply(m));
        }

        @Override
        public void file(String path, TreeCopy.Meta m, TreeCopy.Content c) throws IOException {
            sink.file(path, map.apply(m), c);
        }

        @Override
        public void symlink(String path, TreeCopy.Meta m, String target) throws IOException {
            sink.symlink(path, map.apply(m), target);
        }

        @Override
        public void hardlink(String path, String target) throws IOException {
            sink.hardlink(path, target);
        }

        @Override
        public void special(String path, TreeCopy.Meta m) throws IOException {
            sink.special(path, map.apply(m));
        }

        @Override
        public long bytes() {
            return sink.bytes();
        }
    }
}
