package dev.hull.image.unpack;

/**
 * What one layer may cost when unpacked: at most maxBytes of uncompressed tar, at most maxEntries tar
 * entries, and never leaving less than minFreeBytes free on the filesystem holding the target.
 */
public record UnpackLimits(long maxBytes, long maxEntries, long minFreeBytes) {
    private static final long GIB = 1L << 30, MIB = 1L << 20;

    public UnpackLimits {
        if (maxBytes < 0 || maxEntries < 0 || minFreeBytes < 0) {
            throw new IllegalArgumentException("negative limit: " + maxBytes + ", " + maxEntries + ", " + minFreeBytes);
        }
    }

    /** max(1 GiB, 200 × compressedSize) uncompressed bytes, 1,000,000 entries, 512 MiB left free. */
    public static UnpackLimits forCompressedSize(long compressedSize) {
        long ratio = compressedSize > Long.MAX_VALUE / 200 ? Long.MAX_VALUE : compressedSize * 200;
        return new UnpackLimits(Math.max(GIB, ratio), 1_000_000, 512 * MIB);
    }
}
