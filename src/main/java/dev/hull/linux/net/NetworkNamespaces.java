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
        dev.hull.linux.Threads.joinUninterruptibly(t);
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

    /** Work done inside a network namespace; what it throws reaches the caller of {@link #callIn}. */
    @FunctionalInterface
    public interface InNamespace<T> {
        T call() throws Exception;
    }

    /**
     * Runs work in the network namespace of netnsFile (/run/netns/NAME, /proc/PID/ns/net ...):
     * setns(CLONE_NEWNET) moves only the calling thread, so a fresh platform thread joins it, runs
     * work, goes back and ends; no other JVM thread ever runs there. Waits for that thread whatever
     * happens (an abandoned one could still make what nobody closes). undo gets work's result when
     * it must be dropped (the way back failed the call): e.g. to close a socket it made.
     */
    public static <T> T callIn(Path netnsFile, String threadName, InNamespace<T> work,
            java.util.function.Consumer<T> undo) throws Exception {
        int nsFd = Syscalls.open(netnsFile.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            AtomicReference<T> result = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name(threadName).start(() -> {
                try {
                    int self = Syscalls.open("/proc/thread-self/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
                    try {
                        Syscalls.setns(nsFd, CLONE_NEWNET);
                        result.set(work.call());
                        try {
                            Syscalls.setns(self, CLONE_NEWNET);
                        } catch (LinuxException back) {
                            // refused to root of a user namespace (rootless Hull: the host's namespace is not
                            // its own to join); harmless: this thread ends right after, running nothing else
                        }
                    } finally {
                        Syscalls.close(self);
                    }
                } catch (Throwable e) {
                    if (result.get() != null && undo != null) {
                        undo.accept(result.getAndSet(null));
                    }
                    failure.set(e);
                }
            });
            dev.hull.linux.Threads.joinUninterruptibly(t);
            Throwable e = failure.get();
            if (e instanceof Exception x) {
                throw x;
            }
            if (e instanceof Error x) {
                throw x;
            }
            return result.get();
        } finally {
            Syscalls.close(nsFd);
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
