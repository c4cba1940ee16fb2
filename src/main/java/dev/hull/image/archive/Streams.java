package dev.hull.image.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;

/** Hashing copies. */
final class Streams {
    private Streams() {}

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
