package dev.hull.engine;

import dev.hull.image.ImageRecord;
import dev.hull.image.ImageStore;
import dev.hull.image.SnapshotRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code hull system df}: what images, containers and volumes take on disk, and what removing the
 * unused ones would give back. Images: the unpacked layers (each counted once however many images
 * share it; an image not unpacked yet counts its compressed size); containers: their writable
 * layer (the overlay's upper directory, or the copy snapshotter's whole rootfs); volumes: their
 * files. Reclaimable: what image prune -a, container prune and volume prune would free.
 */
public record DiskUsage(List<ImageUsage> images, List<ContainerUsage> containers, List<VolumeUsage> volumes,
        long imagesSize, long imagesReclaimable) {

    /** sharedSize: of layers other images use too; containers: how many use the image. */
    public record ImageUsage(ImageRecord image, long size, long sharedSize, int containers) {
        public long uniqueSize() {
            return size - sharedSize;
        }
    }

    public record ContainerUsage(ContainerInfo info, String status, long size, List<String> volumes) {
        public boolean active() {
            return status.equals("running") || status.equals("paused") || status.equals("restarting");
        }
    }

    /** links: how many containers use the volume. */
    public record VolumeUsage(VolumeStore.Volume volume, long size, int links) {}

    /** One line of the summary. */
    public record Summary(String type, int total, int active, long size, long reclaimable) {}

    public static DiskUsage of(Engine engine) throws IOException {
        ImageStore.Metadata m = engine.images().store().read();
        Map<String, List<String>> imageUsers = engine.imagesInUse();
        Map<String, Integer> layerUsers = new HashMap<>();
        for (ImageRecord r : m.images.values()) {
            for (String chain : new HashSet<>(r.chainIds())) {
                layerUsers.merge(chain, 1, Integer::sum);
            }
        }
        List<ImageUsage> images = new ArrayList<>();
        for (ImageRecord r : m.images.values()) {
            long size = 0;
            long shared = 0;
            boolean unpacked = true;
            for (String chain : r.chainIds()) {
                SnapshotRecord s = m.snapshots.get(chain);
                if (s == null) {
                    unpacked = false;
                    break;
                }
                size += s.size();
                if (layerUsers.getOrDefault(chain, 0) > 1) {
                    shared += s.size();
                }
            }
            if (!unpacked) {
                size = r.size();
                shared = 0;
            }
            images.add(new ImageUsage(r, size, shared, imageUsers.getOrDefault(r.id(), List.of()).size()));
        }
        Map<String, List<String>> volumeUsers = engine.volumesInUse();
        Map<String, List<String>> volumesOf = new HashMap<>();
        volumeUsers.forEach((v, ids) -> ids.forEach(id -> volumesOf.computeIfAbsent(id, k -> new ArrayList<>()).add(v)));
        List<ContainerUsage> containers = new ArrayList<>();
        for (ContainerInfo c : engine.containers().list()) {
            containers.add(new ContainerUsage(c, engine.state(c).status(), writableSize(engine, c),
                    volumesOf.getOrDefault(c.id(), List.of())));
        }
        List<VolumeUsage> volumes = new ArrayList<>();
        for (VolumeStore.Volume v : engine.volumes().list()) {
            volumes.add(new VolumeUsage(v, VolumeStore.size(v.mountpoint()),
                    volumeUsers.getOrDefault(v.name(), List.of()).size()));
        }
        // Image totals by layer, each counted once: all of them, and those only unused images hold.
        long total = 0;
        long reclaimable = 0;
        Set<String> counted = new HashSet<>();
        Set<String> active = new HashSet<>();
        for (ImageUsage i : images) {
            if (i.containers() > 0) {
                active.addAll(i.image().chainIds());
            }
        }
        for (ImageUsage i : images) {
            boolean unpacked = i.image().chainIds().stream().allMatch(m.snapshots::containsKey);
            if (!unpacked) {
                total += i.size();
                reclaimable += i.containers() > 0 ? 0 : i.size();
                continue;
            }
            for (String chain : i.image().chainIds()) {
                if (counted.add(chain)) {
                    long size = m.snapshots.get(chain).size();
                    total += size;
                    if (!active.contains(chain)) {
                        reclaimable += size;
                    }
                }
            }
        }
        return new DiskUsage(images, containers, volumes, total, reclaimable);
    }

    /** Bytes a container wrote: its overlay's upper directory (a copied root: all of it). */
    public static long writableSize(Engine engine, ContainerInfo c) {
        Path dir = engine.containers().dir(c.id());
        return VolumeStore.size("overlay".equals(c.snapshotter())
                ? ContainerDisks.writableParent(dir).resolve("upper") : dir.resolve("rootfs"));
    }

    /** The summary lines: Images, Containers, Local Volumes. */
    public List<Summary> summary() {
        int activeImages = (int) images.stream().filter(i -> i.containers() > 0).count();
        long cSize = containers.stream().mapToLong(ContainerUsage::size).sum();
        long cFree = containers.stream().filter(c -> !c.active()).mapToLong(ContainerUsage::size).sum();
        long vSize = volumes.stream().mapToLong(VolumeUsage::size).sum();
        long vFree = volumes.stream().filter(v -> v.links() == 0).mapToLong(VolumeUsage::size).sum();
        return List.of(new Summary("Images", images.size(), activeImages, imagesSize, imagesReclaimable),
                new Summary("Containers", containers.size(), (int) containers.stream().filter(ContainerUsage::active)
                        .count(), cSize, cFree),
                new Summary("Local Volumes", volumes.size(), (int) volumes.stream().filter(v -> v.links() > 0).count(),
                        vSize, vFree));
    }
}
