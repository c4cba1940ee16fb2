package dev.hull.disk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What this host offers for sized disks, as {@code hull info} says it. */
public final class DiskHost {
    private DiskHost() {}

    /**
     * The mechanism sized disks use here and whether they can be encrypted, then what the store's
     * filesystem offers for project quotas (ext4 prjquota, XFS pquota: no loop device per disk), which
     * Hull does not use yet: the line says whether this kernel and the store's mount could.
     */
    public static String describe(Path store) {
        String quotas = "project quotas: " + projectQuotas(store);
        if (dev.hull.linux.UserNamespaces.nested()) {
            return "unavailable (" + Disk.NESTED + "); " + quotas;
        }
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

    /**
     * Whether the store's filesystem could give project quotas: the kernel's quota support for its type
     * (XFS: CONFIG_XFS_QUOTA, seen as /proc/fs/xfs/xqmstat; ext4: CONFIG_QUOTA with the v2 quota format,
     * from /proc/config.gz) and its mount option (prjquota/pquota).
     */
    static String projectQuotas(Path store) {
        Mounts.Mount m;
        try {
            m = mountOf(store);
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        if (m == null) {
            return "unknown (no mount holds " + store + ")";
        }
        String on = "the store is on " + m.type() + " (" + m.target() + ")";
        String kernel = switch (m.type()) {
            case "xfs" -> Files.exists(Path.of("/proc/fs/xfs/xqmstat")) ? null : "this kernel's XFS has no quotas"
                    + " (CONFIG_XFS_QUOTA)";
            case "ext4" -> {
                String cfg = kernelConfig();
                yield cfg == null || cfg.contains("\nCONFIG_QFMT_V2=") ? null : "this kernel has no quota format"
                        + " for ext4 (CONFIG_QFMT_V2)";
            }
            default -> m.type() + " has none (ext4 prjquota or XFS pquota have)";
        };
        if (kernel != null) {
            return "unavailable: " + on + ", and " + kernel;
        }
        boolean mounted = java.util.Arrays.asList(m.options().split(",")).stream()
                .anyMatch(o -> o.equals("prjquota") || o.equals("pquota") || o.equals("pqnoenforce"));
        return (mounted ? "possible" : "unavailable") + ": " + on + (mounted ? " with project quotas;"
                : " without prjquota/pquota;") + " not used by Hull yet";
    }

    /** The mount holding path (the longest mount point that is a prefix of it; the topmost of those). */
    static Mounts.Mount mountOf(Path path) throws IOException {
        Path p = path.toAbsolutePath().normalize();
        while (!Files.exists(p) && p.getParent() != null) {
            p = p.getParent();
        }
        p = p.toRealPath();
        Mounts.Mount best = null;
        for (Mounts.Mount m : Mounts.list()) {
            if (p.startsWith(Path.of(m.target())) && (best == null || m.target().length() >= best.target().length())) {
                best = m;
            }
        }
        return best;
    }

    private static String kernelConfig() {
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(Path.of("/proc/config.gz")))) {
            return "\n" + new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return null; // not built in: unknown, the mount option decides
        }
    }
}
