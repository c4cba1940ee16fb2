package dev.hull.linux;

import static dev.hull.linux.Native.*;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Writes a regular file's content through its descriptor, leaving a hole where a whole block of
 * zeros would go (an archive carries a sparse file's holes as zeros: written back as holes, it
 * costs on disk what it did before). {@link #finish} sets the length, so trailing zeros count.
 * The descriptor is not closed.
 */
public final class SparseFdOutput extends OutputStream {
    private static final int BLOCK = 4096, SEEK_CUR = 1;
    private final OutputStream out;
    private final int fd;
    private final byte[] block = new byte[BLOCK];
    private int filled;
    private long length;
    private boolean holes;

    private static final class LSEEK {
        static final MemorySegment F = symbol("lseek");
    }
    private static final class FTRUNCATE {
        static final MemorySegment F = symbol("ftruncate");
    }

    public SparseFdOutput(int fd) {
        this.fd = fd;
        this.out = AtFiles.outputStream(fd);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, BLOCK - filled);
            System.arraycopy(b, off, block, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == BLOCK) {
                emit();
            }
        }
    }

    private void emit() throws IOException {
        boolean zero = true;
        for (int i = 0; i < filled && zero; i++) {
            zero = block[i] == 0;
        }
        if (zero && filled == BLOCK) {
            out.flush();
            call("lseek", LSEEK.F, BLOCK);
            holes = true;
        } else {
            out.write(block, 0, filled);
        }
        length += filled;
        filled = 0;
    }

    /** Writes what is buffered and gives the file its full length (a hole at the end included); the bytes written. */
    public long finish() throws IOException {
        if (filled > 0) {
            emit();
        }
        out.flush();
        if (holes) {
            call("ftruncate", FTRUNCATE.F, length);
        }
        return length;
    }

    private void call(String what, MemorySegment fn, long arg) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            long r = what.equals("lseek") ? Native.call(st, fn, fd, arg, SEEK_CUR) : (int) Native.call(st, fn, fd, arg);
            if (r < 0) {
                throw new LinuxException(what + "(" + fd + ", " + arg + ")", errno(st));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
