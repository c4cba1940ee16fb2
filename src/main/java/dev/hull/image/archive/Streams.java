package dev.hull.image.archive;

import io.airlift.compress.v3.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.zip.GZIPInputStream;

/**
 * Decompression by magic bytes, and hashing copies. A stand-in for
 * {@code dev.hull.image.unpack.Compression}, which replaces the sniffing here
 * once both are on one branch.
 */
final class Streams {
    enum Kind { NONE, GZIP, ZSTD }

    private Streams() {}

    /** What the first bytes of a stream say it is compressed with. */
    static Kind sniff(byte[] head, int n) {
        if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return Kind.GZIP;
        }
        if (n >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f
                && (head[3] & 0xff) == 0xfd) {
            return Kind.ZSTD;
        }
        return Kind.NONE;
    }

    /** The kind of a (buffered, mark-supporting) stream, which is left where it was. */
    static Kind sniff(BufferedInputStream in) throws IOException {
        in.mark(8);
        byte[] head = new byte[4];
        int n = in.readNBytes(head, 0, 4);
        in.reset();
        return sniff(head, n);
    }

    /** The stream, decompressed if it is gzip or zstd. */
    static InputStream decompressed(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        return switch (sniff(in)) {
            case GZIP -> new GZIPInputStream(in, 1 << 16);
            case ZSTD -> new ZstdInputStream(in);
            case NONE -> in;
        };
    }

    /** Copies in to out, hashing with md; returns the number of bytes. */
    static long copy(InputStream in, OutputStream out, MessageDigest md) throws IOException {
        byte[] buf = new byte[1 << 16];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            if (out != null) {
                out.write(buf, 0, n);
            }
            if (md != null) {
                md.update(buf, 0, n);
            }
            total += n;
        }
        return total;
    }
}
