package dev.hull.image;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps garbage collection away from work in flight: a pull, load or build
 * holds a shared lease while it writes blobs it has not recorded yet; a
 * collection takes the lock exclusively. Shared across processes (a file lock)
 * and threads (a read-write lock; the JVM allows one file lock per file).
 */
final class GcLock {
    private static final ConcurrentHashMap<Path, GcLock> LOCKS = new ConcurrentHashMap<>();
    private final Path file;
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    private int shared;
    private FileChannel sharedChannel;
    private FileLock sharedLock;

    private GcLock(Path file) {
        this.file = file;
    }

    static GcLock of(Path file) {
        return LOCKS.computeIfAbsent(file.toAbsolutePath(), GcLock::new);
    }

    /** A shared lease: blobs written under it survive any concurrent collection. Closing it twice is harmless. */
    Closeable lease() throws IOException {
        rw.readLock().lock();
        try {
            synchronized (this) {
                if (shared == 0) {
                    Files.createDirectories(file.getParent());
                    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.READ);
                    try {
                        sharedLock = ch.lock(0, Long.MAX_VALUE, true);
                    } catch (IOException | RuntimeException e) {
                        ch.close();
                        throw e;
                    }
                    sharedChannel = ch;
                }
                shared++;
            }
        } catch (IOException | RuntimeException e) {
            rw.readLock().unlock();
            throw e;
        }
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (closed.getAndSet(true)) {
                return; // closing twice releases once
            }
            try {
                synchronized (this) {
                    if (--shared == 0) {
                        sharedLock.release();
                        sharedChannel.close();
                    }
                }
            } finally {
                rw.readLock().unlock();
            }
        };
    }

    /** The exclusive lock a collection holds. */
    Closeable exclusive() throws IOException {
        rw.writeLock().lock();
        try {
            Files.createDirectories(file.getParent());
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.lock();
            return () -> {
                try {
                    lock.release();
                    ch.close();
                } finally {
                    rw.writeLock().unlock();
                }
            };
        } catch (IOException | RuntimeException e) {
            rw.writeLock().unlock();
            throw e;
        }
    }
}
