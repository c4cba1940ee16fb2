package dev.hull.disk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What this host offers for sized disks, as {@code hull info} says it. */
public final class DiskHost {
    private DiskHost() {}

    /**
     * The mechanism sized disks use here and whether they can be encrypted; project quotas (ext4
     * prjquota, XFS pquota: no loop device per disk) are not implemented yet, and the line says so
     * with the store's filesystem type.
     */
    public static String describe(Path store) {
        String fs;
        try {
            Path p = store;
            while (!Files.exists(p) && p.getParent() != null) {
                p = p.getParent();
            }
            fs = Files.getFileStore(p).type();
        } catch (IOException e) {
            fs = "unknown";
        }
        String quotas = "project quotas: not used yet (store on " + fs + ")";
        if (!Files.exists(Path.of("/dev/loop-control"))) {
            return "unavailable (no /dev/loop-control: no loop devices); " + quotas;
        }
        if (Mkfs.find() == null) {
            return "unavailable (no mkfs.ext4: apt-get install e2fsprogs); " + quotas;
        }
        boolean fscrypt = Files.exists(Path.of("/sys/fs/ext4/features/encryption"));
        return "loop (a sparse ext4 image on a loop device per disk); encryption: "
                + (fscrypt ? "fscrypt (AES-256-XTS contents, AES-256-CTS names)" : "unavailable (ext4 without fscrypt)")
                + "; " + quotas;
    }
}
