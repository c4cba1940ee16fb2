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

    /** Writes b[start, end) at the chunk's offset + start. */
    @FunctionalInterface
    private interface Run {
        void write(int start, int end) throws IOException;
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
        try (FileChannel ch = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            long[] at = {0};
            long dataEnd = copy(in, progress, (s, e) -> writeFully(ch, ByteBuffer.wrap(buf, s, e - s), at[0] + s), at);
            if (at[0] > dataEnd) {
                writeFully(ch, ByteBuffer.wrap(ZEROS, 0, 1), at[0] - 1);
            }
            return at[0];
        }
    }

    /**
     * As {@link #write(InputStream, Path, Progress)}, into a file just made ({@link NewFile#create}):
     * all-zero blocks skipped, the length set with ftruncate when the file ends in a hole.
     */
    long write(InputStream in, NewFile f, Progress progress) throws IOException {
        long[] at = {0};
        long dataEnd = copy(in, progress, (s, e) -> f.pwrite(buf, s, e - s, at[0] + s), at);
        if (at[0] > dataEnd) {
            f.truncate(at[0]);
        }
        return at[0];
    }

    /**
     * Reads in by chunks into buf, handing each chunk's data runs to run (at[0]: the chunk's offset in
     * the file, the file's size at the end); returns where the last data ends.
     */
    private long copy(InputStream in, Progress progress, Run run, long[] at) throws IOException {
        long dataEnd = 0;
        for (;;) {
            int n = in.readNBytes(buf, 0, CHUNK);
            if (n == 0) {
                return dataEnd;
            }
            long[] written = {0};
            int last = dataRuns(buf, n, (s, e) -> {
                run.write(s, e);
                written[0] += e - s;
            });
            if (written[0] > 0) {
                dataEnd = at[0] + last;
                progress.wrote(written[0]);
            }
            at[0] += n;
        }
    }

    /** As {@link #writeAll(byte[], Path)}, into a file just made; thread-safe (nothing shared). */
    static void writeAll(byte[] data, NewFile f) throws IOException {
        int dataEnd = dataRuns(data, data.length, (s, e) -> f.pwrite(data, s, e - s, s));
        if (data.length > dataEnd) {
            f.truncate(data.length);
        }
    }

    /** Creates dst (which must not exist; never followed) holding data, sparse as {@link #write} does. Thread-safe. */
    static void writeAll(byte[] data, Path dst) throws IOException {
        try (FileChannel ch = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            int dataEnd = dataRuns(data, data.length, (s, e) -> writeFully(ch, ByteBuffer.wrap(data, s, e - s), s));
            if (data.length > dataEnd) {
                writeFully(ch, ByteBuffer.wrap(ZEROS, 0, 1), data.length - 1);
            }
        }
    }

    /**
     * Hands run each longest stretch of b[0, n) made of blocks that are not all zero (a block: BLOCK
     * bytes from a multiple of BLOCK, the last one shorter); returns the end of the last (0: none).
     */
    private static int dataRuns(byte[] b, int n, Run run) throws IOException {
        int last = 0;
        for (int start = 0; start < n; ) {
            int len = Math.min(BLOCK, n - start);
            if (isZero(b, start, len)) {
                start += len;
                continue;
            }
            int end = start + len; // extend the run over the following non-zero blocks
            while (end < n && !isZero(b, end, Math.min(BLOCK, n - end))) {
                end += Math.min(BLOCK, n - end);
            }
            run.write(start, end);
            last = end;
            start = end;
        }
        return last;
    }

    private static boolean isZero(byte[] b, int off, int len) {
        return Arrays.mismatch(b, off, off + len, ZEROS, 0, len) < 0;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            position += ch.write(b, position);
        }
    }
}
