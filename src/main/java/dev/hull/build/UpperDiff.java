package dev.hull.build;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.engine.ContainerIds;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A RUN step's layer: the overlay's upper directory as it is after the step, in layer form. A 0:0
 * character device (overlayfs's whiteout) becomes a {@code .wh.NAME} entry; a directory marked
 * opaque ({@code trusted.overlay.opaque=y}) gets {@code .wh..wh..opq}; overlayfs's own xattrs are
 * not part of the layer. What the container's mounts needed and the image did not have — an empty
 * file or directory made as a mount point (/etc/hosts, /etc/resolv.conf, ...) — is left out, as
 * docker leaves it out; so is a directory that holds only such mount points and that the step did not
 * make or change (a copy-up overlayfs made to hold one). A container with a user namespace of its own
 * (configJson's mappings): owners as seen inside it.
 */
final class UpperDiff {
    private UpperDiff() {}

    static LayerTar read(Path upper, Path configJson, List<Path> lower) throws IOException {
        Set<String> mountPoints = new HashSet<>();
        JsonNode spec = Stage.JSON.readTree(configJson.toFile());
        for (JsonNode m : spec.path("mounts")) {
            String d = DockerIgnore.clean(m.path("destination").asText(""));
            if (!d.isEmpty()) {
                mountPoints.add(d);
            }
        }
        CopyLayer lowerView = new CopyLayer(lower, null);
        LayerTar tar = new LayerTar(rel -> new LayerTar.Entry(LayerTar.Type.DIR, 0755, 0, 0, 0));
        walk(upper, "", tar, mountPoints, lowerView, ContainerIds.of(spec));
        return tar;
    }

    /**
     * The layer of a container on the copy snapshotter: its copy's entries at the paths it added or
     * modified (changes, parents first, as {@link dev.hull.engine.ContainerChanges} lists them), a
     * whiteout at each it deleted; owners as seen inside its user namespace (configJson's mappings).
     */
    static LayerTar fromChanges(Path rootfs, Path configJson, List<dev.hull.engine.ContainerChanges.Change> changes)
            throws IOException {
        ContainerIds ids = ContainerIds.of(Stage.JSON.readTree(configJson.toFile()));
        LayerTar tar = new LayerTar(rel -> owners(LayerTar.of(rootfs.resolve(rel)), ids));
        for (var c : changes) {
            String rel = c.path().substring(1);
            if (c.kind() == dev.hull.engine.ContainerChanges.Kind.DELETED) {
                tar.put(rel, new LayerTar.Entry(LayerTar.Type.WHITEOUT, 0, 0, 0, 0));
                continue;
            }
            LayerTar.Entry e = LayerTar.of(rootfs.resolve(rel));
            if (e != null) {
                tar.put(rel, owners(e, ids));
            }
        }
        return tar;
    }

    private static LayerTar.Entry owners(LayerTar.Entry e, ContainerIds ids) {
        e.uid = ids.uidOut(e.uid);
        e.gid = ids.gidOut(e.gid);
        return e;
    }

    /** ids: the container's user namespace; its files are put in the layer with the ids as seen inside. */
    private static void walk(Path dir, String prefix, LayerTar tar, Set<String> mountPoints, CopyLayer lower,
            ContainerIds ids) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(c -> names.add(c.getFileName().toString()));
        }
        for (String n : names) {
            Path p = dir.resolve(n);
            String rel = prefix.isEmpty() ? n : prefix + "/" + n;
            LayerTar.Entry e = LayerTar.of(p);
            if (e == null) {
                continue;
            }
            e.uid = ids.uidOut(e.uid);
            e.gid = ids.gidOut(e.gid);
            if (mountPoints.contains(rel) && lower.lower(rel) == null && isEmpty(p, e)) {
                continue; // a mount point the runtime made, not the step's work
            }
            if (e.type == LayerTar.Type.DIR) {
                byte[] opaque = Syscalls.lgetxattr(p.toString(), "trusted.overlay.opaque");
                e.opaque = opaque != null && new String(opaque, StandardCharsets.US_ASCII).equals("y");
                tar.put(rel, e);
                walk(p, rel, tar, mountPoints, lower, ids);
                if (e.children.isEmpty() && !e.opaque && isMountParent(rel, mountPoints) && unchanged(lower, rel, e)) {
                    removeEmpty(tar, rel); // made (or copied up) only to hold a mount point
                }
            } else {
                tar.put(rel, e);
            }
        }
    }

    private static boolean isEmpty(Path p, LayerTar.Entry e) throws IOException {
        if (e.type == LayerTar.Type.FILE) {
            return e.size == 0;
        }
        if (e.type == LayerTar.Type.DIR) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                return !ds.iterator().hasNext();
            }
        }
        return false;
    }

    /** Whether the layers below lack rel, or have it as a directory of e's mode and owner. */
    private static boolean unchanged(CopyLayer lower, String rel, LayerTar.Entry e) throws IOException {
        Path p = lower.lower(rel);
        if (p == null) {
            return true;
        }
        LayerTar.Entry below = LayerTar.of(p);
        return below != null && below.type == LayerTar.Type.DIR && below.mode == e.mode && below.uid == e.uid
                && below.gid == e.gid;
    }

    private static boolean isMountParent(String rel, Set<String> mountPoints) {
        for (String m : mountPoints) {
            if (m.startsWith(rel + "/")) {
                return true;
            }
        }
        return false;
    }

    private static void removeEmpty(LayerTar tar, String rel) {
        int slash = rel.lastIndexOf('/');
        LayerTar.Entry parent = slash < 0 ? tar.get("") : tar.get(rel.substring(0, slash));
        if (parent != null) {
            parent.children.remove(rel.substring(slash + 1));
        }
    }

    static boolean isWhiteout(Path p) throws IOException {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS) && LayerTar.of(p) != null
                && LayerTar.of(p).type == LayerTar.Type.WHITEOUT;
    }
}
