package dev.hull.service.docker;

import java.io.IOException;
import java.io.OutputStream;

/**
 * docker's multiplexed stdout/stderr stream as an OutputStream: each write one frame — an 8-byte
 * header [stream, 0, 0, 0, size as u32 big-endian] then the bytes — or, for stream 0 (a
 * terminal's), the bytes alone. Frames go to a {@link Sink}: a hijacked connection (attach) or a
 * streamed body (logs). Once the sink fails, every write fails (the client went away).
 */
final class Frames extends OutputStream {
    /** Where whole frames go; false (or IOException) when the client is gone. */
    @FunctionalInterface
    interface Sink {
        boolean write(byte[] b, int off, int len) throws IOException;
    }

    private final Sink sink;
    private final int stream;
    volatile boolean failed;

    Frames(Sink sink, int stream) {
        this.sink = sink;
        this.stream = stream;
    }

    /** Frames on a streamed body, each flushed at once (writers of both streams share the body). */
    static Frames onBody(OutputStream body, int stream) {
        return new Frames((b, off, len) -> {
            synchronized (body) {
                body.write(b, off, len);
                body.flush();
            }
            return true;
        }, stream);
    }

    /** One frame: the header and data in one array. */
    static byte[] frame(int stream, byte[] data, int off, int len) {
        byte[] b = new byte[8 + len];
        b[0] = (byte) stream;
        b[4] = (byte) (len >>> 24);
        b[5] = (byte) (len >>> 16);
        b[6] = (byte) (len >>> 8);
        b[7] = (byte) len;
        System.arraycopy(data, off, b, 8, len);
        return b;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return;
        }
        boolean ok;
        try {
            if (failed) {
                ok = false;
            } else if (stream == 0) {
                ok = sink.write(b, off, len);
            } else {
                byte[] f = frame(stream, b, off, len);
                ok = sink.write(f, 0, f.length);
            }
        } catch (IOException | RuntimeException e) {
            ok = false;
        }
        if (!ok) {
            failed = true;
            throw new IOException("the client went away");
        }
    }
}
