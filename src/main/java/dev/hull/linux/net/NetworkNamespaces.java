package dev.hull.linux.net;

import dev.hull.linux.Errno;
import dev.hull.linux.LinuxException;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Network namespaces that outlive their processes: a new namespace bind-mounted on a file (as
 * {@code ip netns add} does), so a container's restarts join the same one and its links stay
 * configured. unshare(CLONE_NEWNET) moves only the calling thread, so a fresh platform thread makes
 * it, binds /proc/thread-self/ns/net and ends; no other JVM thread ever runs in it.
 */
public final class NetworkNamespaces {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final long MS_BIND = 4096;

    private NetworkNamespaces() {}

    /** A new network namespace (loopback up) held by a bind mount on file, which must not exist yet. */
    public static void create(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.createFile(file);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("netns-create").start(() -> {
            try {
                Syscalls.unshare(CLONE_NEWNET);
                Syscalls.mount("/proc/thread-self/ns/net", file.toString(), null, MS_BIND, null);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        Netlink.joinUninterruptibly(t);
        try {
            if (failure.get() != null) {
                throw new IOException("network namespace " + file + ": " + failure.get().getMessage(), failure.get());
            }
            try (Netlink nl = Netlink.openIn(file)) {
                nl.setUp("lo", true);
            }
        } catch (IOException | RuntimeException e) {
            remove(file);
            throw e;
        }
    }

    /** Unmounts and deletes file; the namespace ends with its last process. Nothing there is not an error. */
    public static void remove(Path file) throws IOException {
        try {
            Syscalls.umount2(file.toString(), Syscalls.MNT_DETACH | Syscalls.UMOUNT_NOFOLLOW);
        } catch (LinuxException e) {
            if (e.errno() != Errno.EINVAL && e.errno() != Errno.ENOENT) {
                throw new IOException("unmounting network namespace " + file + ": " + e.getMessage(), e);
            }
        }
        Files.deleteIfExists(file);
    }
}
