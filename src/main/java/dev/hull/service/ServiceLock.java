package dev.hull.service;

import dev.hull.linux.LinuxException;
import dev.hull.linux.SecureDirs;
import dev.hull.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lock that makes one service per socket: an flock on SOCKET.lock. A service holds it from
 * before it binds until its socket is gone; a command that would start a service takes it first
 * and hands its descriptor to the service it spawns (the lock belongs to the open file, so it
 * passes on with no gap), so twenty racing first commands start one service. A crash releases it.
 */
public final class ServiceLock {
    private ServiceLock() {}

    public static Path file(Path socket) {
        return socket.resolveSibling(socket.getFileName() + ".lock");
    }

    /** The locked descriptor (close-on-exec), or -1 when another open file holds the lock. */
    public static int tryAcquire(Path socket) throws IOException {
        ensureDirectory(socket, WarmServer.groupId(WarmServer.DEFAULT_GROUP) >= 0);
        int fd = Syscalls.open(file(socket).toString(), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_CLOEXEC
                | Syscalls.O_NOFOLLOW, 0600);
        try {
            if (Syscalls.tryLock(fd)) {
                return fd;
            }
        } catch (LinuxException e) {
            Syscalls.close(fd);
            throw e;
        }
        Syscalls.close(fd);
        return -1;
    }

    /**
     * The socket's directory, made when missing: root only, or searchable (not listable) when a
     * group may use the service (the socket's own mode decides). An existing one is left as it is.
     */
    static void ensureDirectory(Path socket, boolean forGroup) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            SecureDirs.ensure(dir, forGroup ? SecureDirs.TRAVERSABLE : SecureDirs.PRIVATE);
        }
    }
}
