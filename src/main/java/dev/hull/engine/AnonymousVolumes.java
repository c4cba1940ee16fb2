package dev.hull.engine;

import dev.hull.image.ImageConfig;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * docker's anonymous volumes: {@code -v /path} (the Docker API's Config.Volumes, a {@code --mount}
 * volume without a source) and every {@code VOLUME} of the image that no other mount covers get a
 * volume of their own, named by 64 random hex digits and labelled {@value #LABEL} (as dockerd labels
 * them since API 1.42, so that {@code volume prune} without {@code all} takes only these). At create,
 * each becomes a {@code NAME:/path} spec in the container's -v list: it is mounted, filled from the
 * image by the copy-up of named volumes, counted in use, carried by --volumes-from as any named
 * volume. {@code rm -v} and {@code run --rm} remove the anonymous ones the container mounts (one
 * another container still uses stays, as dockerd lets it); a plain {@code rm} keeps them.
 */
public final class AnonymousVolumes {
    /** dockerd's label on the volumes it makes for a container. */
    public static final String LABEL = "com.docker.volume.anonymous";

    private AnonymousVolumes() {}

    /** Whether a -v spec asks for an anonymous volume: {@code /path}, or {@code :/path[:MODES]} (a --mount without source). */
    static boolean anonymous(String spec) {
        return spec.startsWith("/") && spec.indexOf(':') < 0 || spec.startsWith(":/");
    }

    /**
     * Makes o's anonymous volumes and the image's uncovered VOLUMEs, and rewrites o.volumes to name
     * them. Returns the volumes' lock, held (when there are volumes at all) until the caller has
     * recorded the container, and the names made, for {@link #discard} if the creation fails.
     */
    static Closeable expand(CreateOptions o, ImageConfig.Config image, VolumeStore volumes, List<String> made)
            throws RuntimeError, IOException {
        Set<String> covered = new HashSet<>();
        for (String v : o.volumes) {
            if (!anonymous(v)) {
                String[] p = v.split(":");
                if (p.length >= 2) {
                    covered.add(clean(p[1]));
                }
            }
        }
        for (String t : o.tmpfs) {
            covered.add(clean(t.split(":", 2)[0]));
        }
        List<String> specs = new ArrayList<>();
        List<String> wanted = new ArrayList<>(); // destination, modes
        for (String v : o.volumes) {
            if (!anonymous(v)) {
                specs.add(v);
                continue;
            }
            String[] p = (v.startsWith(":") ? v.substring(1) : v).split(":", 2);
            String dst = clean(p[0]);
            if (covered.add(dst)) {
                wanted.add(dst);
                wanted.add(p.length > 1 ? p[1] : "rw");
            }
        }
        if (image.volumes() != null && !o.noImageVolumes) {
            for (String path : image.volumes().keySet()) {
                String dst = clean(path);
                if (dst.startsWith("/") && covered.add(dst)) {
                    wanted.add(dst);
                    wanted.add("rw");
                }
            }
        }
        if (wanted.isEmpty()) {
            return volumes.lease(o.volumes);
        }
        Closeable lock = volumes.lock(); // no prune between making them and the container's record
        try {
            for (int i = 0; i < wanted.size(); i += 2) {
                String name = volumes.create(null, Map.of(LABEL, "")).name();
                made.add(name);
                specs.add(name + ":" + wanted.get(i) + ":" + wanted.get(i + 1));
            }
        } catch (IOException | RuntimeError | RuntimeException e) {
            lock.close();
            discard(volumes, made);
            throw e;
        }
        // parents before what is mounted beneath them, as dockerd sorts a container's mounts
        specs.sort(java.util.Comparator.comparingInt(AnonymousVolumes::depth));
        o.volumes = specs;
        return lock;
    }

    /** Removes volumes a failed creation made (nothing uses them yet). */
    static void discard(VolumeStore volumes, List<String> made) {
        for (String name : made) {
            try {
                volumes.remove(name, true, java.util.HashMap::new);
            } catch (IOException | RuntimeError e) {
                // left for volume prune, which takes unused anonymous volumes
            }
        }
    }

    /**
     * {@code rm -v}: the anonymous volumes among the removed container's (its options' -v names),
     * except those another container still uses.
     */
    static void removeOf(ContainerInfo removed, VolumeStore volumes, VolumeStore.InUse users) throws IOException {
        if (removed.options() == null) {
            return;
        }
        for (String v : removed.options().volumes) {
            int colon = v.indexOf(':');
            if (colon <= 0 || v.startsWith("/") || v.startsWith(".")) {
                continue;
            }
            String name = v.substring(0, colon);
            try {
                if (volumes.get(name).labels().containsKey(LABEL)) {
                    volumes.remove(name, true, users);
                }
            } catch (RuntimeError e) {
                // gone already, or in use by another container: it stays, as dockerd leaves it
            }
        }
    }

    private static int depth(String spec) {
        String[] p = spec.split(":");
        return p.length < 2 ? 0 : clean(p[1]).split("/").length;
    }

    private static String clean(String path) {
        String p = java.nio.file.Path.of(path).normalize().toString();
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }
}
