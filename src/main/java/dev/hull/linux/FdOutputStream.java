package dev.hull.linux;

import java.io.IOException;
import java.io.OutputStream;

/** An OutputStream onto a raw descriptor this process holds (one received over a socket, say). */
public final class FdOutputStream extends OutputStream {
    private final int fd;

    public FdOutputStream(int fd) {
        this.fd = fd;
    }

    @Override
    public void write(int b) throws IOException {
        Syscalls.writeFully(fd, new byte[] {(byte) b});
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Syscalls.writeFully(fd, java.util.Arrays.copyOfRange(b, off, off + len));
    }
}
