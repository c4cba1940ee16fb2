package dev.hull.image;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Blobs by digest: {@code blobs/<algorithm>/<hex>}. A blob is written to
 * {@code ingest/} first and renamed into place only once its size and digest
 * are verified and it is on disk, so a blob that is visible is whole. A partial
 * download stays in {@code ingest/} and the next writer of the same digest
 * resumes from it. Writers of one digest exclude each other across processes
 * (a file lock) and threads (a lock per digest).
 */
public final class ContentStore {
    private final Path root;

    public ContentStore(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path path(Digest d) {
        return root.resolve("blobs").resolve(d.algorithm()).resolve(d.hex());
    }

    public boolean has(Digest d) {
        return Files.isRegularFile(path(d));
    }

    public long size(Digest d) throws IOException {
        return Files.size(existing(d));
    }

    public InputStream open(Digest d) throws IOException {
        return Files.newInputStream(existing(d));
    }

    public byte[] read(Digest d) throws IOException {
        return Files.readAllBytes(existing(d));
    }

    private Path existing(Digest d) throws IOException {
        Path p = path(d);
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, "blob " + d + " is not in the content store");
        }
        return p;
    }

    /** Stores data under its sha256 digest; returns the digest. */
    public Digest write(byte[] data) throws IOException {
        Digest d = Digest.sha256(data);
        write(d, data);
        return d;
    }

    /** Stores data, which must have digest d. */
    public void write(Digest d, byte[] data) throws IOException {
        try (Writer w = writer(d, data.length)) {
            if (w.complete()) {
                return;
            }
            w.truncate();
            w.stream().write(data);
            w.commit();
        }
    }

    /**
     * A writer for blob d of the given size (-1: unknown). If the blob is already
     * stored, {@link Writer#complete()} is true and nothing needs writing. Else
     * {@link Writer#offset()} bytes are already there from an earlier, interrupted
     * writer: append the rest and {@link Writer#commit()}. Closing without commit
     * keeps the partial bytes for the next writer.
     */
    public Writer writer(Digest d, long expectedSize) throws IOException {
        Path ingest = Files.createDirectories(root.resolve("ingest"));
        Files.createDirectories(path(d).getParent());
        Path partial = ingest.resolve(d.algorithm() + "-" + d.hex());
        java.io.Closeable lock = FileLocks.exclusive(ingest.resolve(d.algorithm() + "-" + d.hex() + ".lock"));
        try {
            return new Writer(d, expectedSize, partial, lock);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Digests of every stored blob. */
    public List<Digest> list() throws IOException {
        List<Digest> out = new ArrayList<>();
        Path blobs = root.resolve("blobs");
        if (!Files.isDirectory(blobs)) {
            return out;
        }
        try (DirectoryStream<Path> algs = Files.newDirectoryStream(blobs)) {
            for (Path alg : algs) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(alg)) {
                    for (Path f : files) {
                        try {
                            out.add(new Digest(alg.getFileName().toString(), f.getFileName().toString()));
                        } catch (IllegalArgumentException e) {
                            // not a blob (a stray file); a content check reports it
                        }
                    }
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** Re-reads blob d and says whether its content still has digest d. */
    public boolean verify(Digest d) throws IOException {
        MessageDigest md = d.newHasher();
        try (InputStream in = open(d)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return Digest.of(d.algorithm(), md).equals(d);
    }

    public void delete(Digest d) throws IOException {
        Files.deleteIfExists(path(d));
    }

    /** Partial downloads, for a content check or a prune. */
    public List<Path> partials() throws IOException {
        Path ingest = root.resolve("ingest");
        if (!Files.isDirectory(ingest)) {
            return List.of();
        }
        try (var s = Files.list(ingest)) {
            return s.filter(p -> !p.getFileName().toString().endsWith(".lock")).sorted().toList();
        }
    }

    /**
     * Receives a blob's bytes as they are written (to unpack a layer while it downloads). Only
     * {@link #finish finish(true)} says the bytes were the whole blob and its digest checked out;
     * whatever the receiver made of them before that must be discarded on finish(false).
     */
    public interface Tee {
        /** The next bytes of the blob; must not block long. */
        void write(byte[] b, int off, int len);

        /** The end: ok when every byte was written and the blob is verified and stored. Idempotent. */
        void finish(boolean ok);
    }

    /** Writes one blob; see {@link ContentStore#writer}. */
    public final class Writer implements Closeable {
        private final Digest digest;
        private final long expectedSize;
        private final Path partial;
        private final java.io.Closeable lock;
        private final boolean complete;
        private FileChannel channel;
        private MessageDigest hasher;
        private long written;
        private boolean closed;
        private Tee tee;

        Writer(Digest digest, long expectedSize, Path partial, java.io.Closeable lock) throws IOException {
            this.digest = digest;
            this.expectedSize = expectedSize;
            this.partial = partial;
            this.lock = lock;
            this.complete = has(digest);
            if (complete) {
                return;
            }
            channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            hasher = digest.newHasher();
            long have = channel.size();
            if (expectedSize >= 0 && have > expectedSize) {
                have = 0;
            }
            // Resume: hash what an earlier writer left, then append after it.
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            long pos = 0;
            while (pos < have) {
                buf.clear();
                if (have - pos < buf.capacity()) {
                    buf.limit((int) (have - pos));
                }
                int n = channel.read(buf, pos);
                if (n <= 0) {
                    break;
                }
                hasher.update(buf.array(), 0, n);
                pos += n;
            }
            channel.truncate(pos);
            channel.position(pos);
            written = pos;
        }

        /** True when the blob is already stored: nothing to write. */
        public boolean complete() {
            return complete;
        }

        public Digest digest() {
            return digest;
        }

        /** Bytes already present from an earlier writer. */
        public long offset() {
            return written;
        }

        /**
         * Also hands every byte written from now on to tee, if the blob is to be written from its
         * first byte; else (stored already, or resuming a partial one) finishes tee as failed.
         */
        public void tee(Tee t) {
            if (complete || written != 0 || tee != null) {
                t.finish(false);
                return;
            }
            tee = t;
        }

        private void endTee(boolean ok) {
            if (tee != null) {
                tee.finish(ok);
                tee = null;
            }
        }

        /** Drops the partial bytes: start again from zero. */
        public void truncate() throws IOException {
            endTee(false);
            channel.truncate(0);
            channel.position(0);
            hasher.reset();
            written = 0;
        }

        /** Appends to the blob, hashing as it goes. Not thread-safe. */
        public OutputStream stream() {
            OutputStream raw = Channels.newOutputStream(channel);
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (expectedSize >= 0 && written + len > expectedSize) {
                        throw new IOException("blob " + digest + " is larger than its descriptor's size "
                                + expectedSize);
                    }
                    raw.write(b, off, len);
                    hasher.update(b, off, len);
                    written += len;
                    if (tee != null) {
                        tee.write(b, off, len);
                    }
                }
            };
        }

        /** Verifies size and digest, syncs, and renames the blob into place. */
        public void commit() throws IOException {
            if (complete) {
                return;
            }
            if (expectedSize >= 0 && written != expectedSize) {
                throw new IOException("blob " + digest + ": got " + written + " bytes, descriptor says "
                        + expectedSize);
            }
            Digest got = Digest.of(digest.algorithm(), hasher);
            if (!got.equals(digest)) {
                endTee(false);
                channel.truncate(0);
                throw new IOException("blob " + digest + ": content has digest " + got + " (corrupt or tampered"
                        + " download; discarded)");
            }
            channel.force(true);
            channel.close();
            Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("r--r--r--"));
            Files.move(partial, path(digest), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Fsync.directory(path(digest).getParent());
            endTee(true);
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            endTee(false); // not committed: whatever the tee made is discarded
            try {
                if (channel != null && channel.isOpen()) {
                    channel.close();
                }
            } finally {
                lock.close();
            }
        }
    }
}
