package dev.hull.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.disk.Disk;
import dev.hull.disk.DiskSpec;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code --storage-opt size=}: a container whose writable layer lives on a {@link Disk} of its own
 * (the overlay's upper and work directories in CONTAINER_DIR/disk/data), a hard limit on what it
 * writes to its root. The disk is mounted on the host while the container exists (again before a
 * start after a reboot), and detached before its directory is removed.
 */
public final class ContainerDisks {
    private ContainerDisks() {}

    /** The disk --storage-opt asks for, or null. */
    static DiskSpec spec(CreateOptions o) throws RuntimeError {
        return o.storageOpts == null ? null : DiskSpec.parse(o.storageOpts, "--storage-opt", false);
    }

    /** Makes the container's disk; returns the directory its upper and work directories go in. */
    static Path create(Path dir, DiskSpec spec, String snapshotter) throws IOException, RuntimeError {
        if (!snapshotter.equals("overlay")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--storage-opt size needs the overlay snapshotter"
                    + " (this host has " + snapshotter + ")");
        }
        Disk.create(dir, spec);
        return Disk.content(dir);
    }

    /** Where the overlay's upper and work directories are: on the container's disk, or in its directory. */
    static Path writableParent(Path dir) {
        return Disk.exists(dir) ? Disk.content(dir) : dir;
    }

    /** The container's overlay upper directory, its disk mounted first if it has one (commit, export). */
    public static Path upper(Path dir) throws IOException {
        if (Disk.exists(dir)) {
            Disk.mount(dir);
        }
        return writableParent(dir).resolve("upper");
    }

    /**
     * {@code hull update --storage-opt size=}: grows the container's disk (online where the kernel lets
     * Hull, else while it is stopped) and keeps the new size in its options.
     */
    public static void grow(Engine engine, String ref, long size, Path keyFile) throws IOException, RuntimeError {
        ContainerInfo info = engine.containers().resolve(ref);
        try (ContainerStore.Locked locked = engine.containers().lock(info)) {
            info = locked.info();
            Path dir = engine.containers().dir(info.id());
            if (!Disk.exists(dir)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "container " + info.name() + " has no disk of"
                        + " its own (made without --storage-opt size=): its size cannot change");
            }
            Disk.grow(dir, size, "container " + info.name(), keyFile);
            CreateOptions o = info.options();
            o.storageOpts = new java.util.ArrayList<>(o.storageOpts.stream().filter(s -> !s.startsWith("size="))
                    .toList());
            o.storageOpts.add("size=" + size);
            engine.containers().write(new ContainerInfo(info.id(), info.name(), info.image(), info.imageId(),
                    info.created(), info.exposedPorts(), info.volumes(), info.snapshotter(), info.args(), o,
                    info.stopSignal()));
        }
    }

    /** {@code hull update --storage-opt key-file=FILE}: adds an encrypted container disk's key back. */
    public static void unlock(Engine engine, String ref, Path keyFile) throws IOException, RuntimeError {
        ContainerInfo info = engine.containers().resolve(ref);
        try (ContainerStore.Locked locked = engine.containers().lock(info)) {
            Disk.unlock(engine.containers().dir(locked.info().id()), keyFile,
                    "container " + info.name());
        }
    }

    /** Before a start: the container's own disk and the sized volumes it mounts, mounted (after a reboot they are not). */
    static void mountAll(Path dir, String name, JsonNode spec, Path volumesRoot) throws IOException, RuntimeError {
        if (Disk.exists(dir)) {
            Disk.mount(dir);
            if (Disk.status(dir).locked()) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "container " + name + "'s disk is encrypted and"
                        + " locked (its key goes when it is unmounted, e.g. by a reboot): unlock it with hull update"
                        + " --storage-opt key-file=FILE " + name);
            }
        }
        for (JsonNode m : spec.path("mounts")) {
            Path src = Path.of(m.path("source").asText("/")).normalize();
            // exactly VOLUMES/NAME/disk/data: deeper, the path is inside a volume's content, whose files
            // (a disk.json, a disk.img) a container wrote; mounting that image would hand the host's
            // kernel a filesystem a container crafted
            Path volume = src.getParent() == null ? null : src.getParent().getParent();
            if (src.endsWith("disk/data") && volume != null && volumesRoot.equals(volume.getParent())
                    && Disk.exists(volume)) {
                Disk.mount(volume);
            }
        }
    }
}
