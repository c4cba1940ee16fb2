package dev.hull.image.unpack;

import dev.hull.linux.NewFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Writes a stream into a new regular file, sparse: all-zero 4 KiB blocks are skipped by seeking, so
 * holes in the input (GNU/PAX sparse tar entries, zero-filled images) stay holes on disk.
 */
final class SparseWriter {
    /** Told how many bytes really went to disk, after each chunk; may throw to stop the write. */
    interface Progress {
        void wrote(long bytes) throws IOException;
    }

    private static final int BLOCK = 4096, CHUNK = 64 * 1024;
    private static final byte[] ZEROS = new byte[BLOCK];
    private final byte[] buf = new byte[CHUNK];

    /**
     * Creates dst (which must not exist; a symlink there fails, it is never followed) and copies in
     * into it. Returns the file's size. A file that ends in a hole gets its last byte written (Java's
     * FileChannel cannot extend a file without writing), which costs one block.
     */
    long write(InputStream in, Path dst, Progress progress) throws IOException {
        long pos = 0, dataEnd = 0;
        try (FileChannel ch = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            for (;;) {
                int n = in.readNBytes(buf, 0, CHUNK);
                if (n == 0) {
                    break;
                }
                long written = 0;
                for (int start = 0; start < n; ) {
                    int len = Math.min(BLOCK, n - start);
                    if (isZero(start, len)) {
                        start += len;
                        continue;
                    }
                    int end = start + len; // extend the run over the following non-zero blocks
                    while (end < n && !isZero(end, Math.min(BLOCK, n - end))) {
                        end += Math.min(BLOCK, n - end);
                    }
                    writeFully(ch, ByteBuffer.wrap(buf, start, end - start), pos + start);
                    written += end - start;
                    dataEnd = pos + end;
                    start = end;
                }
                pos += n;
                if (written > 0) {
                    progress.wrote(written);
                }
            }
            if (pos > dataEnd) {
                writeFully(ch, ByteBuffer.wrap(ZEROS, 0, 1), pos - 1);
            }
        }
        return pos;
    }

    /**
     * As {@link #write(InputStream, Path, Progress)}, into a file just made ({@link NewFile#create}):
     * all-zero blocks skipped, the length set with ftruncate when the file ends in a hole.
     */
    long write(InputStream in, NewFile f, Progress progress) throws IOException {
        long pos = 0, dataEnd = 0;
        for (;;) {
            int n = in.readNBytes(buf, 0, CHUNK);
            if (n == 0) {
                break;
            }
            long written = writeRuns(buf, n, f, pos);
            if (written > 0) {
                dataEnd = pos + lastDataEnd;
                progress.wrote(written);
            }
            pos += n;
        }
        if (pos > dataEnd) {
            f.truncate(pos);
        }
        return pos;
    }

    private int lastDataEnd; // set by writeRuns: the end of the last run written within its chunk

    /** As {@link #writeAll(byte[], Path)}, into a file just made; thread-safe (nothing shared). */
    static void writeAll(byte[] data, NewFile f) throws IOException {
        int n = data.length, dataEnd = 0;
        for (int start = 0; start < n; ) {
            int len = Math.min(BLOCK, n - start);
            if (isZero(data, start, len)) {
                start += len;
                continue;
            }
            int end = start + len;
            while (end < n && !isZero(data, end, Math.min(BLOCK, n - end))) {
                end += Math.min(BLOCK, n - end);
            }
            f.pwrite(data, start, end - start, start);
            dataEnd = end;
            start = end;
        }
        if (n > dataEnd) {
            f.truncate(n);
        }
    }

    /** Writes the non-zero block runs of b[0, n) at pos + their offset; returns the bytes written. */
    private long writeRuns(byte[] b, int n, NewFile f, long pos) throws IOException {
        long written = 0;
        for (int start = 0; start < n; ) {
            int len = Math.min(BLOCK, n - start);
            if (isZero(b, start, len)) {
                start += len;
                continue;
            }
            int end = start + len;
            while (end < n && !isZero(b, end, Math.min(BLOCK, n - end))) {
                end += Math.min(BLOCK, n - end);
            }
            f.pwrite(b, start, end - start, pos + start);
            written += end - start;
            lastDataEnd = end;
            start = end;
        }
        return written;
    }

    private boolean isZero(int off, int len) {
        return isZero(buf, off, len);
    }

    private static boolean isZero(byte[] b, int off, int len) {
        return Arrays.mismatch(b, off, off + len, ZEROS, 0, len) < 0;
    }

    /** Creates dst (which must not exist; never followed) holding data, sparse as {@link #write} does. Thread-safe. */
    static void writeAll(byte[] data, Path dst) throws IOException {
        try (FileChannel ch = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            int n = data.length;
            long dataEnd = 0;
            for (int start = 0; start < n; ) {
                int len = Math.min(BLOCK, n - start);
                if (isZero(data, start, len)) {
                    start += len;
                    continue;
                }
                int end = start + len;
                while (end < n && !isZero(data, end, Math.min(BLOCK, n - end))) {
                    end += Math.min(BLOCK, n - end);
                }
                writeFully(ch, ByteBuffer.wrap(data, start, end - start), start);
                dataEnd = end;
                start = end;
            }
            if (n > dataEnd) {
                writeFully(ch, ByteBuffer.wrap(ZEROS, 0, 1), n - 1);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            position += ch.write(b, position);
        }
    }
}
