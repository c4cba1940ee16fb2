package dev.hull.machine;

import dev.hull.disk.Disk;
import dev.hull.disk.DiskSpec;
import dev.hull.engine.ContainerDisks;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.DiskUsage;
import dev.hull.engine.Engine;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code machine create --disk SIZE [--encrypt --key-file F]}: a machine's writable part (its overlay's
 * upper layer: everything it writes over the template) on a sized disk of its own, the engine's
 * {@code --storage-opt size=} disk for containers ({@link ContainerDisks}); {@code machine set --disk}
 * grows it as {@code hull update --storage-opt size=} does.
 */
final class MachineDisk {
    private MachineDisk() {}

    /** What ls and inspect show: bytes used (df's Used inside for a sized disk) and its size (0: none). */
    record Usage(long used, long size, boolean encrypted, boolean locked, long allocated, String image) {}

    /** The --storage-opt list the machine's container is made with, or an empty one for no disk of its own. */
    static List<String> storageOpts(String disk, boolean encrypt, Path keyFile) throws RuntimeError {
        List<String> out = new ArrayList<>();
        if (disk == null) {
            if (encrypt || keyFile != null) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, (encrypt ? "--encrypt" : "--key-file")
                        + " needs a disk of the machine's own: add --disk SIZE (e.g. --disk 5g)");
            }
            return out;
        }
        out.add("size=" + size(disk));
        if (encrypt != (keyFile != null)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, encrypt ? "--encrypt needs --key-file FILE (32 or"
                    + " more random bytes, e.g. head -c 32 /dev/urandom > FILE; keep it off Hull's store)"
                    : "--key-file is for --encrypt");
        }
        if (encrypt) {
            Path f = dev.hull.disk.KeySources.absolute(keyFile);
            dev.hull.disk.KeySources.check(f, "--key-file");
            out.add("encrypt=true");
            out.add("key-file=" + f);
        }
        return out;
    }

    /** --disk SIZE in bytes (docker's sizes: 5g, 512m). */
    static long size(String v) throws RuntimeError {
        try {
            return DiskSpec.parseSize(v, "--disk");
        } catch (RuntimeError e) {
            throw new RuntimeError(e.kind(), e.getMessage().replace("--disk size=", "--disk "));
        }
    }

    /** Before a start: its disk mounted, and an encrypted one unlocked (else a clear refusal naming the fix). */
    static void ready(Engine engine, ContainerInfo c) throws IOException, RuntimeError {
        Path dir = engine.containers().dir(c.id());
        if (!Disk.exists(dir)) {
            return;
        }
        Disk.mount(dir);
        if (Disk.status(dir).locked()) {
            throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "machine " + c.name() + "'s disk is encrypted and"
                    + " locked (its key goes when it is unmounted, e.g. by a reboot): unlock it with hull machine set "
                    + c.name() + " --key-file FILE");
        }
    }

    /**
     * {@code machine set --disk SIZE [--key-file F]}: grows the disk (online where the kernel lets Hull;
     * else only while the machine is stopped); a key file alone unlocks an encrypted disk.
     */
    static void set(Engine engine, ContainerInfo c, String disk, Path keyFile) throws IOException, RuntimeError {
        Long size = disk == null ? null : size(disk);
        Path dir = engine.containers().dir(c.id());
        if (!Disk.exists(dir)) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "machine " + c.name() + " was made without --disk:"
                    + " what it writes is on Hull's store, with no size to change");
        }
        Path key = dev.hull.disk.KeySources.absolute(keyFile);
        try {
            if (size == null) {
                ContainerDisks.unlock(engine, c.id(), key);
            } else {
                ContainerDisks.grow(engine, c.id(), size, key);
            }
        } catch (RuntimeError e) {
            if (e.kind() == RuntimeError.Kind.WRONG_STATE && engine.state(c).running()) {
                throw new RuntimeError(e.kind(), "machine " + c.name() + " is running and this host cannot grow a"
                        + " mounted ext4 (no CAP_SYS_RESOURCE): stop it (hull machine stop " + c.name() + "), then set"
                        + " --disk again");
            }
            throw new RuntimeError(e.kind(), e.getMessage().replace("container " + c.name(), "machine " + c.name()));
        }
    }

    static Usage usage(Engine engine, ContainerInfo c) throws IOException {
        Path dir = engine.containers().dir(c.id());
        if (!Disk.exists(dir)) {
            return new Usage(DiskUsage.writableSize(engine, c), 0, false, false, 0, null);
        }
        Disk.Status s = Disk.status(dir);
        long used = s.allocated(); // unmounted (after a reboot): what the image holds, an upper bound
        if (s.mounted()) {
            java.nio.file.FileStore fs = Files.getFileStore(Disk.mountPoint(dir));
            used = fs.getTotalSpace() - fs.getUnallocatedSpace(); // df's Used, as the machine sees it
        }
        return new Usage(used, Disk.meta(dir).Size(), s.encrypted(), s.locked(), s.allocated(), s.image().toString());
    }
}
