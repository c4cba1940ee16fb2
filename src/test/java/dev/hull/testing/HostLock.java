package dev.hull.testing;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A host-wide lock for tests that use fixed host-wide names (a bridge, a network namespace, a
 * subnet, host ports, nftables tables named hulltest*): another run of the same test on this host
 * (another engineer's suite, another worktree) would take or remove them under it. Holding the lock
 * for its whole class makes those names the test's own while it runs; the other run waits. The
 * kernel drops the lock when the JVM ends, however it ends. Waiting has no time limit: a wait says
 * nothing about this test.
 */
public final class HostLock implements AutoCloseable {
    static final Path DIR = Path.of("/run/hull-tests");

    private final FileChannel channel;
    private final FileLock lock;

    private HostLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock of this name, waiting (saying so on stderr) while another run holds it. */
    public static HostLock exclusive(String name) throws IOException {
        Files.createDirectories(DIR);
        Path file = DIR.resolve(name + ".lock");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock l = ch.tryLock();
            if (l == null) {
                System.err.println("waiting for " + file + ": another run of " + name + " on this host holds it");
                l = ch.lock();
            }
            return new HostLock(ch, l);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
