package dev.hull.machine;

import dev.hull.disk.Disk;
import dev.hull.engine.ContainerDisks;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerStore;
import dev.hull.engine.CreateOptions;
import dev.hull.engine.Engine;
import dev.hull.engine.IdShift;
import dev.hull.engine.TreeClones;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code hull machine clone SRC NEW}: a new machine with SRC's limits, distribution and disk, and a copy
 * of what SRC wrote (a stopped SRC's, a running one's under a freeze of its cgroup, or one of its
 * snapshots'), reflinked where the store can. The clone is a new container, so it gets its own id
 * (systemd's container_uuid: its machine id), MAC and address (or --ip), and its name as hostname. What
 * made SRC's identity is removed from the copy, for the distribution to make anew at the clone's first
 * boot: /etc/machine-id (back to the template's empty one: systemd takes container_uuid), D-Bus's
 * machine id, systemd's random seed and credential secret, and the ssh host keys (the template's
 * hull-ssh-keygen.service runs {@code ssh-keygen -A} when they are missing). /etc/hostname, if SRC
 * wrote one, is removed too (the hostname is the container's). An encrypted disk is copied as
 * ciphertext with its wrapped key: the clone has the same disk key, so the same key file unlocks it.
 */
final class MachineClones {
    /** What a clone drops from the copy (paths below the root). */
    static final java.util.List<String> IDENTITY = java.util.List.of("etc/machine-id", "var/lib/dbus/machine-id",
            "var/lib/systemd/random-seed", "var/lib/systemd/credential.secret", "etc/hostname");

    private final Machines machines;
    private final MachineSnapshots snapshots;
    private final Engine engine;

    MachineClones(Machines machines, MachineSnapshots snapshots) {
        this.machines = machines;
        this.snapshots = snapshots;
        this.engine = machines.engine();
    }

    ContainerInfo clone(String srcRef, String name, String snap, String ip, String hostname, Path keyFile)
            throws IOException, RuntimeError {
        ContainerInfo src = machines.resolve(srcRef);
        Path srcDir = engine.containers().dir(src.id());
        Path fromSnap = snap == null ? null : snapshots.find(src, snap);
        boolean disk = Disk.exists(srcDir);
        if (disk && Disk.meta(srcDir).Encrypted() && keyFile == null) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "machine " + src.name() + "'s disk is encrypted: the"
                    + " clone needs its key file (--key-file FILE) to make its identity new");
        }
        CreateOptions o = src.options();
        String distro = Machines.distroOf(src);
        Machines.Request r = new Machines.Request(name, distro, distro == null ? src.image() : null,
                o.memory, o.cpus, o.pidsLimit, hostname, o.network, ip, false, null, null,
                disk ? String.valueOf(Disk.meta(srcDir).Size()) : null, false, null,
                !Machines.unprivileged(engine, src), o.volumes);
        ContainerInfo c = machines.create(r, System.err);
        boolean done = false;
        try {
            Path dir = engine.containers().dir(c.id());
            if (fromSnap != null) {
                fill(c, dir, fromSnap, disk, keyFile, false);
            } else {
                Path tmp = Files.createTempDirectory(dir, ".clone-");
                try (ContainerStore.Locked locked = engine.containers().lock(src)) {
                    try (MachineSnapshots.Frozen f = snapshots.freeze(src)) {
                        snapshots.copyOut(src, tmp);
                    }
                    fill(c, dir, tmp, disk, keyFile, true);
                } finally {
                    SnapshotStore.deleteTree(tmp);
                }
            }
            Path upper = ContainerDisks.upper(dir);
            IdShift.shift(upper, IdShift.of(srcDir), IdShift.of(dir)); // SRC's range's owners into the clone's
            for (String p : IDENTITY) {
                TreeClones.removeBeneath(upper, p);
            }
            for (String n : TreeClones.listBeneath(upper, "etc/ssh")) {
                if (n.startsWith("ssh_host_")) {
                    TreeClones.removeBeneath(upper, "etc/ssh/" + n);
                }
            }
            done = true;
            return c;
        } finally {
            if (!done) {
                engine.remove(c.id(), true);
            }
        }
    }

    /** The new machine's writable layer (or disk) replaced by the copy in from. */
    private void fill(ContainerInfo c, Path dir, Path from, boolean disk, Path keyFile, boolean move)
            throws IOException, RuntimeError {
        if (disk) {
            if (snapshots.replaceDisk(c, from, keyFile, move)) {
                throw new RuntimeError(RuntimeError.Kind.WRONG_STATE, "machine " + c.name() + "'s disk stays locked"
                        + " after the copy: its key file did not unlock it");
            }
        } else {
            MachineSnapshots.replaceUpper(ContainerDisks.upper(dir), from.resolve("upper"), move);
        }
    }
}
