package dev.hull.linux;

import static dev.hull.linux.Native.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Unix stream sockets through FFM, with what java.nio lacks: receiving file
 * descriptors (SCM_RIGHTS) along with data.
 */
public final class UnixSocket {
    private static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 02000000, SOL_SOCKET = 1,
            SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int SUN_PATH_MAX = 108;

    private static final MemorySegment SOCKET = symbol("socket");
    private static final MemorySegment BIND = symbol("bind");
    private static final MemorySegment LISTEN = symbol("listen");
    private static final MemorySegment ACCEPT4 = symbol("accept4");
    private static final MemorySegment RECVMSG = symbol("recvmsg");
    private static final MemorySegment SHUTDOWN = symbol("shutdown");
    private static final MemorySegment GETSOCKOPT = symbol("getsockopt");
    private static final int SO_TYPE = 3, SO_PEERCRED = 17, SO_ACCEPTCONN = 30, SO_DOMAIN = 39, SO_PEERGROUPS = 59,
            ERANGE = 34;

    private UnixSocket() {}

    /** A new close-on-exec AF_UNIX stream socket and the sockaddr_un for path (allocated in arena). */
    record Endpoint(int fd, MemorySegment address, int length) {}

    /** Opens the socket for {@code call} ("bind", "connect") on path; the path must fit sun_path. */
    static Endpoint open(Arena arena, MemorySegment st, String call, String path) throws Throwable {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH_MAX) {
            throw new LinuxException(call + "(\"" + path + "\"): path longer than " + (SUN_PATH_MAX - 1) + " bytes",
                    Errno.EINVAL);
        }
        int fd = (int) call(st, SOCKET, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new LinuxException("socket(AF_UNIX)", errno(st));
        }
        MemorySegment addr = arena.allocate(2 + SUN_PATH_MAX);
        addr.set(ValueLayoutShort.SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(p, 0, addr, JAVA_BYTE, 2, p.length);
        return new Endpoint(fd, addr, 2 + p.length + 1);
    }

    /** A listening socket bound to path (which must not exist). */
    public static int listen(String path, int backlog) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            Endpoint ep = open(arena, st, "bind", path);
            int fd = ep.fd();
            if ((int) call(st, BIND, fd, ep.address().address(), ep.length()) != 0) {
                int e = errno(st);
                Syscalls.close(fd);
                throw new LinuxException("bind(\"" + path + "\")", e);
            }
            if ((int) call(st, LISTEN, fd, backlog) != 0) {
                int e = errno(st);
                Syscalls.close(fd);
                throw new LinuxException("listen(\"" + path + "\")", e);
            }
            return fd;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int accept(int listenFd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            for (;;) {
                int fd = (int) call(st, ACCEPT4, listenFd, 0, 0, SOCK_CLOEXEC);
                if (fd >= 0) {
                    return fd;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("accept4(" + listenFd + ")", e);
                }
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Stops a blocked accept (SHUT_RDWR). */
    public static void shutdown(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            int ignored = (int) call(st, SHUTDOWN, fd, 2);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Who connected, as the kernel recorded it at connect(): pid, effective uid and gid
     * (SO_PEERCRED) and supplementary groups (SO_PEERGROUPS), in this process's user namespace.
     */
    public record Peer(int pid, int uid, int gid, int[] groups) {
        public boolean inGroup(int g) {
            if (gid == g) {
                return true;
            }
            for (int x : groups) {
                if (x == g) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * The peers of this process's accepted connections on the unix socket bound as boundPath (as
     * given to bind): for a server whose connections are opened by a library that does not show
     * their descriptors (Jetty, the JDK's channels). Found by inode: /proc/net/unix names the
     * sockets bound at the path that are not listening, /proc/self/fd which descriptors hold them.
     * A descriptor closed (or reused) meanwhile may add a stranger's peer or drop one; callers that
     * decide access should require every candidate to pass.
     */
    public static java.util.List<Peer> peersOn(String boundPath) throws java.io.IOException {
        java.util.Set<String> inodes = new java.util.HashSet<>();
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/unix"))) {
            // Num RefCount Protocol Flags Type St Inode Path
            String[] f = line.trim().split("\\s+", 8);
            if (f.length == 8 && f[7].equals(boundPath) && (Long.parseLong(f[3], 16) & 0x10000) == 0) {
                inodes.add("socket:[" + f[6] + "]");
            }
        }
        java.util.List<Peer> peers = new java.util.ArrayList<>();
        if (inodes.isEmpty()) {
            return peers;
        }
        try (var fds = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("/proc/self/fd"))) {
            for (java.nio.file.Path fd : fds) {
                String target;
                try {
                    target = java.nio.file.Files.readSymbolicLink(fd).toString();
                } catch (java.io.IOException gone) {
                    continue;
                }
                if (inodes.contains(target)) {
                    try {
                        peers.add(peer(Integer.parseInt(fd.getFileName().toString())));
                    } catch (LinuxException closedMeanwhile) {
                        // not a connected socket any more
                    }
                }
            }
        }
        return peers;
    }

    /** Whether fd is a listening AF_UNIX stream socket (what systemd's socket activation passes). */
    public static boolean isListening(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment v = arena.allocate(JAVA_INT);
            MemorySegment len = arena.allocate(JAVA_INT);
            int[] want = {SO_DOMAIN, AF_UNIX, SO_TYPE, SOCK_STREAM, SO_ACCEPTCONN, 1};
            for (int i = 0; i < want.length; i += 2) {
                len.set(JAVA_INT, 0, 4);
                if ((int) call(st, GETSOCKOPT, fd, SOL_SOCKET, want[i], v.address(), len.address()) != 0
                        || v.get(JAVA_INT, 0) != want[i + 1]) {
                    return false;
                }
            }
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The credentials of a connected socket's peer. */
    public static Peer peer(int fd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment cred = arena.allocate(12, 4); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 12);
            if ((int) call(st, GETSOCKOPT, fd, SOL_SOCKET, SO_PEERCRED, cred.address(), len.address()) != 0) {
                throw new LinuxException("getsockopt(" + fd + ", SO_PEERCRED)", errno(st));
            }
            int n = 64;
            for (;;) {
                MemorySegment groups = arena.allocate(4L * n, 4);
                len.set(JAVA_INT, 0, 4 * n);
                if ((int) call(st, GETSOCKOPT, fd, SOL_SOCKET, SO_PEERGROUPS, groups.address(), len.address()) == 0) {
                    int[] g = new int[len.get(JAVA_INT, 0) / 4];
                    for (int i = 0; i < g.length; i++) {
                        g[i] = groups.get(JAVA_INT, 4L * i);
                    }
                    return new Peer(cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4), cred.get(JAVA_INT, 8), g);
                }
                int e = errno(st);
                if (e != ERANGE || len.get(JAVA_INT, 0) <= 4 * n) {
                    throw new LinuxException("getsockopt(" + fd + ", SO_PEERGROUPS)", e);
                }
                n = len.get(JAVA_INT, 0) / 4; // the kernel said how much it needs
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Data and the descriptors that came with it. */
    public record Message(byte[] data, int[] fds) {}

    /** One recvmsg: up to maxBytes of data and up to maxFds descriptors (close-on-exec). */
    public static Message receive(int fd, int maxBytes, int maxFds) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CALL_STATE);
            MemorySegment data = arena.allocate(maxBytes);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, maxBytes);
            long cmsgSpace = 16 + ((4L * maxFds + 7) & ~7L);
            MemorySegment control = arena.allocate(cmsgSpace, 8);
            // struct msghdr on x86_64: name, namelen(+pad), iov, iovlen, control, controllen, flags
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, cmsgSpace);
            long n;
            for (;;) {
                n = (long) call(st, RECVMSG, fd, msg.address(), MSG_CMSG_CLOEXEC);
                if (n >= 0) {
                    break;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new LinuxException("recvmsg(" + fd + ")", e);
                }
            }
            int[] fds = new int[0];
            long controlLen = msg.get(JAVA_LONG, 40);
            if (controlLen >= 16) {
                long len = control.get(JAVA_LONG, 0);
                int level = control.get(JAVA_INT, 8);
                int type = control.get(JAVA_INT, 12);
                if (level == SOL_SOCKET && type == SCM_RIGHTS && len > 16) {
                    int count = (int) ((len - 16) / 4);
                    fds = new int[count];
                    for (int i = 0; i < count; i++) {
                        fds[i] = control.get(JAVA_INT, 16 + 4L * i);
                    }
                }
            }
            byte[] out = data.asSlice(0, n).toArray(JAVA_BYTE);
            return new Message(out, fds);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class ValueLayoutShort {
        static final java.lang.foreign.ValueLayout.OfShort SHORT = java.lang.foreign.ValueLayout.JAVA_SHORT;
    }
}
