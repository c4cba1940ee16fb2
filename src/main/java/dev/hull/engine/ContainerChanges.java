package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.image.ImageRecord;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a container changed in its filesystem (docker diff, GET /containers/{id}/changes), read
 * from its overlay's upper directory against its image's layers: a path the image has is
 * modified (C), one it lacks is added (A), an overlayfs whiteout (a 0:0 character device) is a
 * deletion (D). What the runtime made for its own mounts (an empty /etc/hosts, /etc/resolv.conf
 * the image lacked, and the directories copied up only to hold them) is not the container's
 * change, as dockerd keeps those in a layer of their own. On the copy snapshotter the container's
 * copy is compared with its image's layers instead ({@link CopyChanges}).
 */
public final class ContainerChanges {
    private ContainerChanges() {}

    public enum Kind { MODIFIED, ADDED, DELETED }

    public record Change(String path, Kind kind) {}

    public static List<Change> of(Engine engine, ContainerInfo c) throws IOException {
        Path dir = engine.containers().dir(c.id());
        List<Change> out = new ArrayList<>();
        List<Path> lower;
        try {
            ImageRecord image = engine.images().get(c.imageId());
            lower = engine.images().unpack(image);
        } catch (dev.hull.image.ImageNotFoundException e) {
            lower = List.of();
        }
        Set<String> mountPoints = new HashSet<>();
        try {
            JsonNode spec = ContainerStore.JSON.readTree(dir.resolve("config.json").toFile());
            for (JsonNode m : spec.path("mounts")) {
                String d = m.path("destination").asText("").replaceAll("/+", "/").replaceAll("^/|/$", "");
                if (!d.isEmpty()) {
                    mountPoints.add(d);
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // no bundle: no mounts of the runtime's
        }
        if ("overlay".equals(c.snapshotter())) {
            walk(ContainerDisks.upper(dir), "", lower, mountPoints, out);
        } else { // the copy snapshotter keeps no record of what changed: its copy is compared with the image
            CopyChanges.walk(dir.resolve("rootfs"), lower, ContainerIds.of(dir), mountPoints, out);
        }
        return out;
    }

    /** Adds the changes under dir; true if any were added. */
    private static boolean walk(Path dir, String prefix, List<Path> lower, Set<String> mountPoints, List<Change> out)
            throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(p -> names.add(p.getFileName().toString()));
        }
        boolean any = false;
        for (String n : names) {
            Path p = dir.resolve(n);
            String rel = prefix.isEmpty() ? n : prefix + "/" + n;
            var a = Files.readAttributes(p, "unix:mode,rdev,size", LinkOption.NOFOLLOW_LINKS);
            int fmt = (int) a.get("mode") & Syscalls.S_IFMT;
            if (fmt == Syscalls.S_IFCHR && (long) a.get("rdev") == 0) {
                out.add(new Change("/" + rel, Kind.DELETED));
                any = true;
                continue;
            }
            boolean inImage = inLower(lower, rel);
            if (mountPoints.contains(rel) && !inImage && empty(p, fmt, (long) a.get("size"))) {
                continue; // made by the runtime as a mount point
            }
            int at = out.size();
            out.add(new Change("/" + rel, inImage ? Kind.MODIFIED : Kind.ADDED));
            if (fmt == Syscalls.S_IFDIR) {
                boolean below = walk(p, rel, lower, mountPoints, out);
                if (!below && inImage && !opaque(p) && holdsMountPoint(rel, mountPoints)) {
                    out.remove(at); // copied up only to hold a mount point
                    continue;
                }
            }
            any = true;
        }
        return any;
    }

    private static boolean inLower(List<Path> lower, String rel) {
        for (int i = lower.size() - 1; i >= 0; i--) {
            Path p = lower.get(i).resolve(rel);
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return true;
            }
        }
        return false;
    }

    private static boolean empty(Path p, int fmt, long size) throws IOException {
        if (fmt == Syscalls.S_IFDIR) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                return !ds.iterator().hasNext();
            }
        }
        return fmt == Syscalls.S_IFREG && size == 0;
    }

    private static boolean opaque(Path dir) throws IOException {
        byte[] v = Syscalls.lgetxattr(dir.toString(), "trusted.overlay.opaque");
        return v != null && new String(v, StandardCharsets.US_ASCII).equals("y");
    }

    private static boolean holdsMountPoint(String rel, Set<String> mountPoints) {
        for (String m : mountPoints) {
            if (m.startsWith(rel + "/")) {
                return true;
            }
        }
        return false;
    }
}
