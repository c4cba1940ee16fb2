package dev.hull.image;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Exclusive locks on a lock file that hold across processes (fcntl locks)
 * and across threads of this JVM (which may hold only one file lock per file).
 */
public final class FileLocks {
    private static final ConcurrentHashMap<Path, ReentrantLock> THREADS = new ConcurrentHashMap<>();

    private FileLocks() {}

    /**
     * Blocks until this thread holds the lock on lockFile (created if missing); close releases it.
     * Re-entrant: a thread that holds it gets it again at once (released with the outermost close).
     */
    public static Closeable exclusive(Path lockFile) throws IOException {
        return acquire(lockFile, true);
    }

    /**
     * The lock if it is free now, else null (held by another process, another thread, or this
     * thread: a second lock of the same file by one JVM is never granted).
     */
    public static Closeable tryExclusive(Path lockFile) throws IOException {
        return acquire(lockFile, false);
    }

    private static Closeable acquire(Path lockFile, boolean wait) throws IOException {
        ReentrantLock thread = THREADS.computeIfAbsent(lockFile.toAbsolutePath(), k -> new ReentrantLock());
        if (wait) {
            thread.lock();
            if (thread.getHoldCount() > 1) { // this thread holds it already: the outer hold keeps the file lock
                return thread::unlock;
            }
        } else if (thread.isHeldByCurrentThread() || !thread.tryLock()) {
            return null;
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = wait ? ch.lock() : ch.tryLock();
            if (lock == null) {
                ch.close();
                thread.unlock();
                return null;
            }
            FileChannel channel = ch;
            return () -> {
                try {
                    lock.release();
                    channel.close();
                } finally {
                    thread.unlock();
                }
            };
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            thread.unlock();
            throw e;
        }
    }
}
