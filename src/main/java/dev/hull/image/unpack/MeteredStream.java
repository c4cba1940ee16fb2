package dev.hull.image.unpack;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The uncompressed tar stream as it is read: counts its bytes, hashes them (the layer's diff_id), and
 * fails once more than a limit has been read, so a decompression bomb stops at the limit.
 */
final class MeteredStream extends FilterInputStream {
    /** What to throw when the limit is passed. */
    interface OverLimit {
        IOException exceeded(long limit);
    }

    private final MessageDigest sha256;
    private final long limit;
    private final OverLimit overLimit;
    private long count;

    MeteredStream(InputStream in, long limit, OverLimit overLimit) {
        super(in);
        this.limit = limit;
        this.overLimit = overLimit;
        sha256 = dev.hull.linux.Sha256.newDigest();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            count += n;
            if (count > limit) {
                throw overLimit.exceeded(limit);
            }
            sha256.update(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 64 * 1024)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {}

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    /** Reads what is left (tar end-of-archive blocks and padding), so the count and digest cover all of it. */
    void drain() throws IOException {
        byte[] buf = new byte[64 * 1024];
        while (read(buf, 0, buf.length) >= 0) {
            // counted and hashed by read
        }
    }

    long count() {
        return count;
    }

    /** "sha256:" and the hex digest of what was read; call once, at the end. */
    String digest() {
        return "sha256:" + HexFormat.of().formatHex(sha256.digest());
    }
}
