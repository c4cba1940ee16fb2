package dev.hull.linux;

import java.io.IOException;
import java.io.InputStream;

/** An InputStream from a raw descriptor this process holds (one received over a socket, say). */
public final class FdInputStream extends InputStream {
    private static final int MAX_READ = 1 << 16;
    private final int fd;

    public FdInputStream(int fd) {
        this.fd = fd;
    }

    @Override
    public int read() throws IOException {
        byte[] b = new byte[1];
        return read(b, 0, 1) <= 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        int n = Syscalls.read(fd, b, off, Math.min(len, MAX_READ));
        return n == 0 ? -1 : n;
    }
}
