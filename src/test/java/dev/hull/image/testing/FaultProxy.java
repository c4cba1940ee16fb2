package dev.hull.image.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP proxy in front of a plain-HTTP registry (start that one with
 * {@link RegistryServer.Builder#relativeUrls()} so upload locations come back
 * through the proxy) that records requests and injects faults: answer a status
 * instead of forwarding, or cut a response's connection after some bytes.
 */
public final class FaultProxy implements AutoCloseable {
    /** One request as the proxy saw it. */
    public record Seen(String method, String path, String range, int status) {}

    private static final Set<String> HOP = Set.of("connection", "content-length", "transfer-encoding", "host",
            "upgrade", "expect", "keep-alive", "te", "trailer", "proxy-connection", "date");

    private final HttpServer server;
    private final URI upstream;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final AtomicInteger failCount = new AtomicInteger();
    private volatile int failStatus;
    private volatile String failPathPart = "";
    private final AtomicLong cutAfter = new AtomicLong(-1);
    private volatile String cutPathPart = "";

    private FaultProxy(URI upstream) throws IOException {
        this.upstream = upstream;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", this::handle);
        server.start();
    }

    /** A proxy forwarding to upstream (e.g. {@code registry.url()}). */
    public static FaultProxy start(URI upstream) {
        try {
            return new FaultProxy(upstream);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "127.0.0.1:PORT" of the proxy. */
    public String host() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** The next count requests whose path contains pathPart are answered status (not forwarded). */
    public void failNext(int count, int status, String pathPart) {
        failStatus = status;
        failPathPart = pathPart;
        failCount.set(count);
    }

    /** The next response whose path contains pathPart is cut (connection closed) after bytes body bytes. */
    public void cutNext(long bytes, String pathPart) {
        cutPathPart = pathPart;
        cutAfter.set(bytes);
    }

    /** Requests so far, in order. */
    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    public void clear() {
        seen.clear();
    }

    @Override
    public void close() {
        server.stop(0);
        client.close();
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath()
                + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
        String range = ex.getRequestHeaders().getFirst("Range");
        if (path.contains(failPathPart) && failCount.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
            ex.getRequestBody().readAllBytes();
            seen.add(new Seen(ex.getRequestMethod(), path, range, failStatus));
            ex.sendResponseHeaders(failStatus, -1);
            ex.close();
            return;
        }
        byte[] body = ex.getRequestBody().readAllBytes();
        HttpRequest.Builder b = HttpRequest.newBuilder(upstream.resolve(path))
                .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        ex.getRequestHeaders().forEach((k, vs) -> {
            if (!HOP.contains(k.toLowerCase(Locale.ROOT))) {
                vs.forEach(v -> b.header(k, v));
            }
        });
        HttpResponse<InputStream> r;
        try {
            r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        seen.add(new Seen(ex.getRequestMethod(), path, range, r.statusCode()));
        r.headers().map().forEach((k, vs) -> {
            if (!HOP.contains(k.toLowerCase(Locale.ROOT)) && !k.startsWith(":")) {
                vs.forEach(v -> ex.getResponseHeaders().add(k, v));
            }
        });
        long length = r.headers().firstValueAsLong("Content-Length").orElse(0);
        boolean head = ex.getRequestMethod().equals("HEAD");
        if (head) {
            ex.getResponseHeaders().set("Content-Length", Long.toString(length));
        }
        ex.sendResponseHeaders(r.statusCode(), head || length == 0 ? -1 : length);
        long cut = path.contains(cutPathPart) && !head && length > 0 ? cutAfter.getAndSet(-1) : -1;
        if (cut >= 0 && !path.contains(cutPathPart)) {
            cut = -1;
        }
        try (InputStream in = r.body()) {
            OutputStream out = ex.getResponseBody();
            byte[] buf = new byte[8192];
            long sent = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                if (cut >= 0 && sent + n > cut) {
                    out.write(buf, 0, (int) (cut - sent));
                    out.flush();
                    // an exception out of the handler makes HttpServer close the connection mid-body
                    throw new IllegalStateException("FaultProxy: cutting the connection after " + cut + " bytes");
                }
                out.write(buf, 0, n);
                sent += n;
            }
        }
        ex.close();
    }
}
