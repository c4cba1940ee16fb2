package dev.hull.service.docker;

import dev.hull.linux.SecureDirs;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The Docker Engine API on a unix socket, served by Hull's service ({@code hull system service}):
 * the docker CLI, docker-compose and other Docker clients drive the same {@link dev.hull.engine.Engine}
 * the {@code hull} command line drives. HTTP is Jetty 12's (pure NIO on unix domain sockets); each
 * request runs on a pool thread; attach and exec take the connection over ({@link Hijack}).
 *
 * <p>Like the warm socket, the API is root's power: the socket is 0600 root's, or 0660 root:GROUP
 * when GROUP exists, and every request's peer is checked (SO_PEERCRED): root, or a member of the
 * group.
 */
public final class DockerApiServer implements AutoCloseable {
    public static final Path DEFAULT_SOCKET = Path.of("/run/hull/docker.sock");
    /** The newest API version served (docker 28's client sends 1.51) and the oldest. */
    static final String MAX_VERSION = "1.51";
    static final String MIN_VERSION = "1.24";

    private final Path path;
    private final Server server;
    /** Root only until the socket's group is set. */
    private volatile Access access = new Access(null, -1, null);
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Runnable> activity = new ArrayList<>();
    /** The socket file this server bound (its inode): only that one is removed at close. */
    private volatile Object fileKey;

    private DockerApiServer(Path path, Server server) {
        this.path = path;
        this.server = server;
    }

    /**
     * Who may use the socket: {@link dev.hull.service.WarmServer#admits} (the warm server's rule: uid
     * 0, or a member of gid by SO_PEERCRED/SO_PEERGROUPS; -1: root only). bound: the path Jetty's
     * socket was bound as (null: nobody yet).
     */
    record Access(String group, int gid, String bound) {
        /**
         * Jetty's channel does not show its descriptor, so the peer is found among this process's
         * connections on the socket ({@link dev.hull.linux.UnixSocket#peersOn}) that have the uid and
         * gid the JDK reports for the channel; every one of them must be admitted. Anything unexpected
         * refuses.
         */
        boolean allows(SocketChannel ch) {
            try {
                var p = ch.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
                if (p == null || bound == null) {
                    return false;
                }
                // the JDK's principals hash to their numeric id (UnixUserPrincipals); were that to change,
                // no connection would match and all would be refused, never admitted
                int uid = p.user().hashCode();
                int primary = p.group().hashCode();
                if (uid == 0) {
                    return true; // root is admitted whatever its groups: no need to find its connection's groups
                }
                boolean any = false;
                for (dev.hull.linux.UnixSocket.Peer peer : dev.hull.linux.UnixSocket.peersOn(bound)) {
                    if (peer.uid() == uid && peer.gid() == primary) {
                        if (!dev.hull.service.WarmServer.admits(peer, gid)) {
                            return false;
                        }
                        any = true;
                    }
                }
                return any;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }
    }

    /**
     * Binds path (a stale socket is replaced; one that answers is an error) and starts serving.
     * group: whose members may use the API besides root, when it exists (null: root only).
     */
    public static DockerApiServer start(Path path, String group) throws IOException {
        path = path.toAbsolutePath();
        // Jetty logs through SLF4J: no provider on our class path, and none wanted (no warning either).
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        GroupPrincipal principal = null;
        if (group != null) {
            try {
                principal = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
            } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
                principal = null;
            }
        }
        Path dir = path.getParent();
        if (!Files.isDirectory(dir)) {
            SecureDirs.ensure(dir, principal != null ? SecureDirs.TRAVERSABLE : SecureDirs.PRIVATE);
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .isOther()) { // a file, a directory, a link: not ours to replace
                throw new IOException(path + " exists and is not a socket: Hull leaves it alone");
            }
            refuseIfServed(path);
            Files.deleteIfExists(path); // stale: nobody listens (a dockerd that was killed, an old service)
        }
        // Bound under a temporary name, given its mode and group, then renamed into place.
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        QueuedThreadPool pool = new QueuedThreadPool(256, 4, 60_000);
        pool.setName("hull-api");
        pool.setDaemon(true);
        Server server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, new BlankHostHttp(http));
        connector.setUnixDomainPath(tmp);
        connector.setAcceptQueueSize(128);
        connector.setIdleTimeout(0); // streams (logs -f, attach, wait) may be quiet for hours
        server.addConnector(connector);
        DockerApiServer api = new DockerApiServer(path, server);
        connector.addEventListener(new Connection.Listener() {
            @Override
            public void onOpened(Connection connection) {
                if (!(connection instanceof Hijack.Raw)) {
                    api.connections.incrementAndGet();
                    api.touched();
                }
            }

            @Override
            public void onClosed(Connection connection) {
                if (!(connection instanceof Hijack.Raw)) {
                    api.connections.decrementAndGet();
                    api.touched();
                }
            }
        });
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                api.handle(request, response, callback);
                return true;
            }
        });
        int gid = -1;
        try {
            server.start();
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            if (principal != null) {
                Files.getFileAttributeView(tmp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setGroup(principal);
                gid = (Integer) Files.getAttribute(tmp, "unix:gid", LinkOption.NOFOLLOW_LINKS);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-rw----"));
            }
            refuseIfServed(path); // one that started meanwhile keeps its socket
            Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            api.fileKey = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception ignored) {
                // failing anyway
            }
            Files.deleteIfExists(tmp);
            throw e instanceof IOException io ? io : new IOException("cannot serve the Docker API on " + path
                    + ": " + e, e);
        }
        api.access = new Access(principal != null ? group : null, gid, tmp.toString());
        return api;
    }

    /**
     * An error if a server answers on path (a live dockerd, a socket-activating systemd, another
     * Hull service): its socket is never removed or replaced.
     */
    private static void refuseIfServed(Path path) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            // connected: someone listens
        } catch (IOException | RuntimeException nobody) {
            return;
        }
        throw new IOException("something already serves on " + path + " (a live dockerd answers there?): Hull"
                + " leaves it alone; stop that server first");
    }

    /** hull system service --debug: each request a line in the log, as dockerd -D's "Calling ...". */
    private static volatile boolean debug;

    public static void debug(boolean on) {
        debug = on;
    }

    static void traceRequest(String method, String target) {
        if (debug) {
            log("calling " + method + " " + target);
        }
    }

    /** A line in the service's log (its stderr, which is not a client's). */
    static void log(String message) {
        System.err.println(java.time.Instant.now() + " hull: docker api: " + message);
    }

    public Path path() {
        return path;
    }

    /** Clients connected now (a hijacked stream counts as the connection it was). */
    public int connections() {
        return connections.get();
    }

    /** r runs whenever a client connects or leaves (the service's idle clock). */
    public synchronized void onActivity(Runnable r) {
        activity.add(r);
    }

    private synchronized void touched() {
        activity.forEach(Runnable::run);
    }

    private final Router router = new Router(this);

    /** A hijacked stream opened or ended (it replaced, or was, a counted connection). */
    void rawOpened() {
        connections.incrementAndGet();
        touched();
    }

    void rawClosed() {
        connections.decrementAndGet();
        touched();
    }

    private static final String ALLOWED = "dev.hull.docker.peerAllowed";

    private void handle(Request request, Response response, Callback callback) {
        EndPoint ep = request.getConnectionMetaData().getConnection().getEndPoint();
        Object transport = ep.getTransport();
        var meta = request.getConnectionMetaData();
        Object checked = meta.getAttribute(ALLOWED); // once a connection: its peer does not change
        if (checked == null) {
            checked = transport instanceof SocketChannel ch && access.allows(ch); // another transport: refused
            meta.setAttribute(ALLOWED, checked);
        }
        if (!(Boolean) checked) {
            Exchange x = new Exchange(request, response, callback, MAX_VERSION, List.of(), this);
            x.error(403, dev.hull.service.RootlessService.active()
                    ? "permission denied: Hull's rootless Docker API on " + path + " serves only its own user"
                    : "permission denied: Hull's Docker API on " + path + " is for root"
                    + (access.group() != null ? " and members of group " + access.group() : " only"));
            return;
        }
        router.handle(request, response, callback);
    }

    @Override
    public void close() throws IOException {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IOException("stopping the Docker API: " + e, e);
        } finally {
            try {
                Object now = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS).fileKey();
                if (fileKey != null && fileKey.equals(now)) { // another server's socket there now stays
                    Files.deleteIfExists(path);
                }
            } catch (java.nio.file.NoSuchFileException gone) {
                // removed already
            }
        }
    }
}
