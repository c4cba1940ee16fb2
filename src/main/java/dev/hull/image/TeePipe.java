package dev.hull.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded pipe from a blob download ({@link ContentStore.Tee}) to a layer unpacker on another
 * thread (the {@link #input()}). The writer waits while the pipe is full (so a slow unpack slows
 * the download instead of filling the heap) but never once the reader has {@link #abandon}ed it.
 * The input ends normally only after {@code finish(true)}: every byte arrived and the blob's
 * digest checked out; after {@code finish(false)} it throws, so nothing unpacked from an
 * unverified stream is ever kept.
 */
final class TeePipe implements ContentStore.Tee {
    private static final byte[] END = new byte[0];
    private final ArrayBlockingQueue<byte[]> chunks;
    private volatile Boolean result; // null: still writing
    private volatile boolean abandoned;

    /** capacity: chunks buffered (each one write of the download, up to 64 KiB). */
    TeePipe(int capacity) {
        chunks = new ArrayBlockingQueue<>(capacity);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (abandoned || result != null || len == 0) {
            return;
        }
        byte[] copy = java.util.Arrays.copyOfRange(b, off, off + len);
        try {
            while (!abandoned && !chunks.offer(copy, 50, TimeUnit.MILLISECONDS)) {
                // the reader is behind: wait for it (or for it to give up)
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon(); // the download is being cancelled; the unpack is void
        }
    }

    @Override
    public void finish(boolean ok) {
        if (result != null) {
            return;
        }
        result = ok;
        chunks.offer(END); // wakes the reader; if full, it finds result once it drains
    }

    /** The reader gives up: later writes are dropped and never wait. */
    void abandon() {
        abandoned = true;
        chunks.clear();
    }

    /** Reads all that is left, to the end; true when the blob was whole and verified. */
    boolean drainVerified() {
        try (InputStream in = input()) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The reading end; one reader only. */
    InputStream input() {
        return new InputStream() {
            private byte[] chunk;
            private int pos;
            private boolean eof;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                while (chunk == null || pos == chunk.length) {
                    if (eof) {
                        return -1;
                    }
                    if (Boolean.FALSE.equals(result)) {
                        throw new IOException("the layer's download failed or its digest did not match");
                    }
                    byte[] next;
                    try {
                        next = chunks.poll(50, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted");
                    }
                    if (next == END || (next == null && result != null && chunks.isEmpty())) {
                        if (!Boolean.TRUE.equals(result)) {
                            throw new IOException("the layer's download failed or its digest did not match");
                        }
                        eof = true;
                        return -1;
                    }
                    if (next != null) {
                        chunk = next;
                        pos = 0;
                    }
                }
                int n = Math.min(len, chunk.length - pos);
                System.arraycopy(chunk, pos, b, off, n);
                pos += n;
                return n;
            }
        };
    }
}
