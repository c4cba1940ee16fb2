package dev.hull.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.MediaTypes;
import dev.hull.image.Reference;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * A client of the OCI distribution API (registry API v2): manifests and blobs,
 * pulled and pushed, with token and basic authentication, TLS per registry
 * (extra CAs from certs.d, insecure registries over HTTP or unverified TLS),
 * pull mirrors, retries with backoff, and resumable blob downloads.
 * Thread-safe: one client serves parallel layer transfers.
 */
public final class RegistryClient implements AutoCloseable {
    /** Manifests larger than this are refused (as containerd does). */
    public static final int MAX_MANIFEST_BYTES = 4 << 20;
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final Duration HTTPS_PROBE = Duration.ofSeconds(2);
    private static final Pattern LINK_NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");

    private final RegistryOptions options;
    private final Map<String, HttpClient> clients = new ConcurrentHashMap<>();
    private final Map<String, HostState> hosts = new ConcurrentHashMap<>();
    private final Map<String, Token> tokens = new ConcurrentHashMap<>();

    /** What is known of one registry host: the scheme that works and its auth challenges. */
    private static final class HostState {
        String scheme;
        volatile List<WwwAuthenticate.Challenge> challenges = List.of();
    }

    private record Token(String value, Instant expires) {}

    /**
     * Where a request goes: host (host:port as dialed), registry (for credentials and messages),
     * repository and the actions the token needs, how many retries.
     */
    private record Target(String host, String registry, String repository, String actions, int retries,
            boolean mirror) {
        String scope() {
            return repository == null ? null : "repository:" + repository + ":" + actions;
        }
    }

    public RegistryClient(RegistryOptions options) {
        this.options = options;
    }

    public RegistryOptions options() {
        return options;
    }

    // ---------------------------------------------------------------- public API

    /**
     * Fetches the manifest or index ref names (tag or digest), trying mirrors first. The bytes are
     * verified against the reference's digest and against Docker-Content-Digest when the registry sends it.
     */
    public FetchedManifest fetchManifest(Reference ref) throws IOException {
        List<Target> targets = pullTargets(ref);
        IOException mirrorFailure = null;
        for (Target t : targets) {
            try {
                return fetchManifest(t, ref);
            } catch (IOException e) {
                if (!t.mirror()) {
                    if (mirrorFailure != null) {
                        e.addSuppressed(mirrorFailure);
                    }
                    throw e;
                }
                mirrorFailure = e;
            }
        }
        throw new IllegalStateException("no registry to pull from");
    }

    /**
     * Downloads blob d of repo into store, resuming a partial download left in the store
     * (HTTP Range), verifying size and digest before it becomes visible. Tries mirrors first.
     */
    public void fetchBlob(Reference repo, Descriptor d, ContentStore store, ProgressListener p) throws IOException {
        fetchBlob(repo, d, store, p, null);
    }

    /**
     * As above, handing the bytes also to tee (null: none) when the blob downloads from its first
     * byte; tee is finished with ok only once the blob is verified and stored, else with failure.
     */
    public void fetchBlob(Reference repo, Descriptor d, ContentStore store, ProgressListener p, ContentStore.Tee tee)
            throws IOException {
        try {
            fetchBlobFrom(repo, d, store, p, tee);
        } finally {
            if (tee != null) {
                tee.finish(false); // no-op when the commit finished it with ok
            }
        }
    }

    private void fetchBlobFrom(Reference repo, Descriptor d, ContentStore store, ProgressListener p,
            ContentStore.Tee tee) throws IOException {
        IOException mirrorFailure = null;
        for (Target t : pullTargets(repo)) {
            try {
                fetchBlob(t, d, store, p == null ? ProgressListener.NONE : p, tee);
                return;
            } catch (IOException e) {
                if (!t.mirror()) {
                    if (mirrorFailure != null) {
                        e.addSuppressed(mirrorFailure);
                    }
                    throw e;
                }
                mirrorFailure = e;
            }
        }
    }

    /** Whether the registry has blob d in repo (HEAD; needs only pull access). */
    public boolean blobExists(Reference repo, Descriptor d) throws IOException {
        return blobExists(target(repo, "pull"), d);
    }

    /**
     * Uploads blob d (from store) to repo unless the registry already has it: POST an upload,
     * then PUT the content monolithically. Returns true if uploaded, false if it was already there.
     */
    public boolean pushBlob(Reference repo, Descriptor d, ContentStore store, ProgressListener p) throws IOException {
        Target t = target(repo, "pull,push");
        if (blobExists(t, d)) {
            return false;
        }
        Digest digest = d.parsedDigest();
        long size = store.size(digest);
        if (d.size() >= 0 && size != d.size()) {
            throw new IOException("blob " + digest + " is " + size + " bytes in the content store, its descriptor says "
                    + d.size());
        }
        String uploads = "/v2/" + t.repository() + "/blobs/uploads/";
        HttpResponse<InputStream> started = send(t, uploads, b -> b.POST(HttpRequest.BodyPublishers.noBody()));
        URI location;
        try (InputStream ignored = started.body()) {
            if (started.statusCode() != 202) {
                throw failure(t, started, "start an upload of blob " + digest);
            }
            location = location(started);
        }
        URI put = URI.create(location + (location.getRawQuery() == null ? "?" : "&") + "digest="
                + URLEncoder.encode(digest.toString(), StandardCharsets.UTF_8));
        ProgressListener listener = p == null ? ProgressListener.NONE : p;
        HttpResponse<InputStream> done = send(t, put.toString(), b -> b.header("Content-Type",
                "application/octet-stream").PUT(HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofInputStream(() -> counting(store, digest, size, listener)), size)));
        try (InputStream ignored = done.body()) {
            if (done.statusCode() != 201) {
                throw failure(t, done, "upload blob " + digest);
            }
            String header = done.headers().firstValue("Docker-Content-Digest").orElse(null);
            if (header != null && !header.equals(digest.toString())) {
                throw new RegistryException(t.registry() + " stored blob " + digest + " as " + header);
            }
        }
        return true;
    }

    /** Uploads a manifest (or index) under ref's tag or digest; returns its digest. */
    public Digest putManifest(Reference ref, byte[] body, String mediaType) throws IOException {
        Digest digest = ref.digest() != null ? Digest.of(ref.digest().algorithm(), hash(ref.digest(), body))
                : Digest.sha256(body);
        if (ref.digest() != null && !digest.equals(ref.digest())) {
            throw new IllegalArgumentException("manifest has digest " + digest + ", not " + ref.digest());
        }
        Target t = target(ref, "pull,push");
        HttpResponse<InputStream> r = send(t, "/v2/" + t.repository() + "/manifests/" + ref.manifestReference(),
                b -> b.header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
        try (InputStream ignored = r.body()) {
            if (r.statusCode() != 201 && r.statusCode() != 200) {
                throw failure(t, r, "put manifest " + ref);
            }
            String header = r.headers().firstValue("Docker-Content-Digest").orElse(null);
            if (header != null && !header.equals(digest.toString())) {
                throw new RegistryException(t.registry() + " stored manifest " + digest + " as " + header);
            }
        }
        return digest;
    }

    /** The repository's tags, following pagination. */
    public List<String> tags(Reference repo) throws IOException {
        Target t = target(repo, "pull");
        List<String> out = new ArrayList<>();
        String next = "/v2/" + t.repository() + "/tags/list";
        while (next != null) {
            HttpResponse<InputStream> r = send(t, next, UnaryOperator.identity());
            String current = next;
            next = null;
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw failure(t, r, "list tags of " + repo.name());
                }
                JsonNode tagsNode = JSON.readTree(in).path("tags");
                tagsNode.forEach(n -> out.add(n.asText()));
                Optional<String> link = r.headers().firstValue("Link");
                if (link.isPresent()) {
                    Matcher m = LINK_NEXT.matcher(link.get());
                    if (m.find() && !m.group(1).equals(current)) {
                        next = m.group(1);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Checks credentials against registry's /v2/ (basic auth, or a token for them);
     * RegistryException "login to X failed: bad username or password" if they are refused.
     */
    public void checkLogin(String registry, Credential credential) throws IOException {
        Target t = new Target(apiHost(registry), registry, null, null, options.retries(), false);
        HostState hs = hostState(t);
        List<WwwAuthenticate.Challenge> challenges = hs.challenges;
        WwwAuthenticate.Challenge bearer = find(challenges, "bearer");
        String header = null;
        if (bearer != null) {
            try {
                header = "Bearer " + fetchToken(t, bearer, Optional.of(credential));
            } catch (RegistryException e) {
                if (e.status() == 401 || e.status() == 403) {
                    throw new RegistryException("login to " + registry + " failed: bad username or password",
                            e.status(), e);
                }
                throw e;
            }
        } else if (find(challenges, "basic") != null) {
            header = basic(credential);
        } else {
            return; // the registry asks for no authentication
        }
        String auth = header;
        HttpResponse<InputStream> r = exchange(t, () -> request(base(t, hs).resolve("/v2/"))
                .header("Authorization", auth).GET().build());
        try (InputStream ignored = r.body()) {
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                throw new RegistryException("login to " + registry + " failed: bad username or password",
                        r.statusCode(), null);
            }
            if (r.statusCode() != 200) {
                throw failure(t, r, "log in");
            }
        }
    }

    @Override
    public void close() {
        for (HttpClient c : clients.values()) {
            c.shutdownNow(); // abort what is still in flight (a failed pull's cancelled layers), then wait
            try {
                c.awaitTermination(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        clients.clear();
    }

    // ---------------------------------------------------------------- manifests

    private FetchedManifest fetchManifest(Target t, Reference ref) throws IOException {
        String what = "manifest " + ref;
        for (int attempt = 0; ; attempt++) {
            HttpResponse<InputStream> r = send(t, "/v2/" + t.repository() + "/manifests/" + ref.manifestReference(),
                    b -> b.header("Accept", MediaTypes.MANIFEST_ACCEPT));
            byte[] bytes;
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw failure(t, r, "fetch " + what);
                }
                long length = r.headers().firstValueAsLong("Content-Length").orElse(-1);
                if (length > MAX_MANIFEST_BYTES) {
                    throw new RegistryException(what + " from " + t.host() + " is " + length
                            + " bytes, more than the " + MAX_MANIFEST_BYTES + " bytes a manifest may have");
                }
                try {
                    bytes = readLimited(in, MAX_MANIFEST_BYTES);
                } catch (RegistryException e) {
                    throw new RegistryException(what + " from " + t.host() + " " + e.getMessage());
                } catch (IOException e) {
                    if (attempt < t.retries()) {
                        backoff(attempt, null);
                        continue; // a truncated body: fetch again
                    }
                    throw new RegistryException("fetching " + what + " from " + t.host() + " failed: " + e, 0, e);
                }
                if (length >= 0 && bytes.length != length) {
                    if (attempt < t.retries()) {
                        backoff(attempt, null);
                        continue;
                    }
                    throw new RegistryException(what + " from " + t.host() + ": got " + bytes.length
                            + " bytes, Content-Length said " + length);
                }
            }
            Digest digest = ref.digest();
            if (digest != null) {
                Digest got = Digest.of(digest.algorithm(), hash(digest, bytes));
                if (!got.equals(digest)) {
                    throw new RegistryException(what + " from " + t.host() + ": content has digest " + got
                            + ", not the requested " + digest + " (corrupt registry or tampered response; rejected)");
                }
            }
            String header = r.headers().firstValue("Docker-Content-Digest").orElse(null);
            if (header != null) {
                Digest claimed;
                try {
                    claimed = Digest.parse(header);
                } catch (IllegalArgumentException e) {
                    throw new RegistryException(what + " from " + t.host() + ": bad Docker-Content-Digest: "
                            + e.getMessage());
                }
                Digest got = Digest.of(claimed.algorithm(), hash(claimed, bytes));
                if (!got.equals(claimed)) {
                    throw new RegistryException(what + " from " + t.host() + ": content has digest " + got
                            + " but the registry says " + claimed + " (corrupt registry or tampered response; rejected)");
                }
                if (digest == null) {
                    digest = claimed;
                }
            }
            if (digest == null) {
                digest = Digest.sha256(bytes);
            }
            return new FetchedManifest(bytes, mediaType(r, bytes), digest);
        }
    }

    private static String mediaType(HttpResponse<?> r, byte[] bytes) {
        String ct = r.headers().firstValue("Content-Type").orElse("");
        int semi = ct.indexOf(';');
        ct = (semi >= 0 ? ct.substring(0, semi) : ct).trim().toLowerCase(Locale.ROOT);
        if (MediaTypes.isIndex(ct) || MediaTypes.isManifest(ct)) {
            return ct;
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            String mt = n.path("mediaType").asText("");
            if (!mt.isEmpty()) {
                return mt;
            }
            if (n.has("manifests")) {
                return MediaTypes.OCI_INDEX;
            }
            if (n.has("config") && n.has("layers")) {
                return MediaTypes.OCI_MANIFEST;
            }
        } catch (IOException e) {
            // not JSON: the caller's parse will say so
        }
        return ct;
    }

    private static byte[] readLimited(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[16384];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
            if (out.size() > max) {
                throw new RegistryException("is larger than the " + max + " bytes a manifest may have");
            }
        }
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- blobs

    /** A local failure while storing a blob (verification, disk): never retried. */
    private static final class StoreFailure extends IOException {
        StoreFailure(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    private void fetchBlob(Target t, Descriptor d, ContentStore store, ProgressListener p, ContentStore.Tee tee)
            throws IOException {
        Digest digest = d.parsedDigest();
        try (ContentStore.Writer w = store.writer(digest, d.size())) {
            if (tee != null) {
                w.tee(tee);
            }
            if (w.complete()) {
                return;
            }
            int failures = 0;
            while (true) {
                long offset = w.offset();
                if (d.size() >= 0 && offset == d.size()) {
                    commit(w);
                    return;
                }
                HttpResponse<InputStream> r = send(t, "/v2/" + t.repository() + "/blobs/" + digest,
                        b -> offset > 0 ? b.header("Range", "bytes=" + offset + "-") : b);
                r = followRedirects(t, r, offset);
                IOException interrupted = null;
                try (InputStream in = r.body()) {
                    int status = r.statusCode();
                    if (status == 416) {
                        w.truncate(); // our partial is not a prefix the server knows: start over
                        if (++failures > t.retries()) {
                            throw failure(t, r, "fetch blob " + digest);
                        }
                        continue;
                    }
                    if (status == 206) {
                        Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
                        if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
                            w.truncate();
                            if (++failures > t.retries()) {
                                throw new RegistryException(t.host() + " answered a ranged request for blob "
                                        + digest + " with a wrong Content-Range");
                            }
                            continue;
                        }
                    } else if (status == 200) {
                        if (offset > 0) {
                            w.truncate(); // the server ignored Range: start over
                        }
                    } else {
                        throw failure(t, r, "fetch blob " + digest);
                    }
                    interrupted = copy(in, w, d.size(), p);
                }
                if (interrupted == null && d.size() >= 0 && w.offset() < d.size()) {
                    interrupted = new IOException("body ended after " + w.offset() + " of " + d.size() + " bytes");
                }
                if (interrupted != null) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new InterruptedIOException("download of blob " + digest + " interrupted");
                    }
                    if (++failures > t.retries()) {
                        throw new RegistryException("download of blob " + digest + " from " + t.host()
                                + " failed after " + failures + " attempts: " + interrupted.getMessage(), 0,
                                interrupted);
                    }
                    backoff(failures - 1, null);
                    continue; // resume from w.offset()
                }
                commit(w);
                return;
            }
        } catch (StoreFailure e) {
            throw (IOException) e.getCause();
        }
    }

    private static void commit(ContentStore.Writer w) throws IOException {
        w.commit(); // verifies size and digest; a mismatch discards the bytes
    }

    /** Copies a body into the writer; returns the network failure that cut it short, if one did. */
    private static IOException copy(InputStream in, ContentStore.Writer w, long total, ProgressListener p)
            throws StoreFailure {
        OutputStream out = w.stream();
        byte[] buf = new byte[1 << 16];
        while (true) {
            int n;
            try {
                n = in.read(buf);
            } catch (IOException e) {
                return e;
            }
            if (n < 0) {
                return null;
            }
            try {
                out.write(buf, 0, n);
            } catch (IOException e) {
                throw new StoreFailure(e);
            }
            p.progress(w.offset(), total);
        }
    }

    private HttpResponse<InputStream> followRedirects(Target t, HttpResponse<InputStream> r, long offset)
            throws IOException {
        for (int hops = 0; isRedirect(r.statusCode()); hops++) {
            URI next = location(r);
            r.body().close();
            if (hops >= 5) {
                throw new RegistryException(t.host() + ": too many redirects (last to " + next + ")");
            }
            String host = next.getPort() < 0 ? next.getHost() : next.getHost() + ":" + next.getPort();
            boolean sameHost = host.equals(t.host());
            HttpRequest.Builder b = request(next).GET();
            if (offset > 0) {
                b.header("Range", "bytes=" + offset + "-");
            }
            if (sameHost) {
                String auth = authorization(t, hostState(t));
                if (auth != null) {
                    b.header("Authorization", auth);
                }
            }
            HttpRequest req = b.build();
            Target redirected = new Target(host, t.registry(), t.repository(), t.actions(), t.retries(), t.mirror());
            r = exchange(redirected, () -> req);
        }
        return r;
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private boolean blobExists(Target t, Descriptor d) throws IOException {
        HttpResponse<InputStream> r = send(t, "/v2/" + t.repository() + "/blobs/" + d.parsedDigest(),
                b -> b.method("HEAD", HttpRequest.BodyPublishers.noBody()));
        try (InputStream ignored = r.body()) {
            if (r.statusCode() == 200 || isRedirect(r.statusCode())) {
                return true;
            }
            if (r.statusCode() == 404) {
                return false;
            }
            throw failure(t, r, "check for blob " + d.digest());
        }
    }

    private static InputStream counting(ContentStore store, Digest digest, long size, ProgressListener p) {
        try {
            return new FilterInputStream(store.open(digest)) {
                long done;

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) {
                        done += n;
                        p.progress(done, size);
                    }
                    return n;
                }
            };
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static URI location(HttpResponse<?> r) throws RegistryException {
        String loc = r.headers().firstValue("Location").orElseThrow(() -> new RegistryException(
                r.uri().getAuthority() + " answered " + r.statusCode() + " without a Location header"));
        return r.uri().resolve(loc);
    }

    // ---------------------------------------------------------------- targets

    private static String apiHost(String registry) {
        return registry.equals(Reference.DOCKER_HUB) ? "registry-1.docker.io" : registry;
    }

    private Target target(Reference ref, String actions) {
        return new Target(apiHost(ref.registry()), ref.registry(), ref.repository(), actions, options.retries(),
                false);
    }

    private List<Target> pullTargets(Reference ref) {
        List<Target> out = new ArrayList<>();
        for (String mirror : options.mirrorsOf(ref.registry())) {
            out.add(new Target(mirror, mirror, ref.repository(), "pull", 0, true));
        }
        out.add(target(ref, "pull"));
        return out;
    }

    // ---------------------------------------------------------------- HTTP, auth, retries

    private HttpRequest.Builder request(URI uri) {
        return HttpRequest.newBuilder(uri).header("User-Agent", options.userAgent());
    }

    private URI base(Target t, HostState hs) {
        return URI.create(hs.scheme + "://" + t.host());
    }

    /**
     * Sends a request to the target's registry with authorization, retries (connect errors, 429, 5xx)
     * and one re-authentication on 401. pathOrUrl is a path ("/v2/…") or an absolute URL.
     */
    private HttpResponse<InputStream> send(Target t, String pathOrUrl, UnaryOperator<HttpRequest.Builder> customize)
            throws IOException {
        HostState hs = hostState(t);
        boolean reauthenticated = false;
        while (true) {
            URI uri = base(t, hs).resolve(pathOrUrl);
            String auth = authorization(t, hs);
            HttpResponse<InputStream> r = exchange(t, () -> {
                HttpRequest.Builder b = customize.apply(request(uri));
                if (auth != null) {
                    b.header("Authorization", auth);
                }
                return b.build();
            });
            if (r.statusCode() == 401 && !reauthenticated && t.repository() != null) {
                reauthenticated = true;
                List<WwwAuthenticate.Challenge> fresh = WwwAuthenticate.parse(r.headers().allValues("WWW-Authenticate"));
                r.body().close();
                if (!fresh.isEmpty()) {
                    hs.challenges = fresh;
                }
                tokens.remove(t.host() + " " + t.scope());
                continue;
            }
            return r;
        }
    }

    /** One request with retries on connect errors, 429 and 5xx; TLS failures are explained, never retried. */
    private HttpResponse<InputStream> exchange(Target t, java.util.function.Supplier<HttpRequest> request)
            throws IOException {
        for (int attempt = 0; ; attempt++) {
            HttpRequest req = request.get();
            HttpResponse<InputStream> r;
            try {
                r = clientFor(req.uri()).send(req, HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted talking to " + t.host());
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted talking to " + t.host());
                }
                if (isTls(e)) {
                    throw tlsFailure(req.uri(), e);
                }
                if (attempt < t.retries()) {
                    backoff(attempt, null);
                    continue;
                }
                throw new RegistryException("cannot reach " + describe(t) + " (" + req.method() + " " + req.uri()
                        + "): " + message(e), 0, e);
            }
            int status = r.statusCode();
            if ((status == 429 || status >= 500) && attempt < t.retries()) {
                r.body().close();
                backoff(attempt, r.headers().firstValue("Retry-After").orElse(null));
                continue;
            }
            return r;
        }
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }

    private static String describe(Target t) {
        return t.mirror() ? "mirror " + t.host() : t.host().equals(t.registry()) ? t.registry()
                : t.registry() + " (" + t.host() + ")";
    }

    private void backoff(int attempt, String retryAfter) throws InterruptedIOException {
        long base = options.retryDelay().toMillis() << Math.min(attempt, 10);
        long delay = base + ThreadLocalRandom.current().nextLong(base / 2 + 1);
        if (retryAfter != null && retryAfter.matches("\\d{1,2}")) {
            delay = Math.max(delay, Long.parseLong(retryAfter) * 1000);
        }
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry");
        }
    }

    private static boolean isTls(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof SSLException || c instanceof CertificateException) {
                return true;
            }
        }
        return false;
    }

    private RegistryException tlsFailure(URI uri, IOException e) {
        String host = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return new RegistryException("TLS connection to " + host + " failed: " + message(root) + ". If the registry's"
                + " certificate is signed by a private CA, put that CA certificate in /etc/containers/certs.d/" + host
                + "/ca.crt (or /etc/docker/certs.d/" + host + "/ca.crt); if the registry speaks plain HTTP or you"
                + " accept an unverified certificate, mark it insecure (--tls-verify=false)", 0, e);
    }

    /** Pings /v2/ once per host: finds the scheme (HTTPS; HTTP only for insecure registries) and the challenges. */
    private HostState hostState(Target t) throws IOException {
        HostState hs = hosts.computeIfAbsent(t.host(), k -> new HostState());
        synchronized (hs) {
            if (hs.scheme != null) {
                return hs;
            }
            HttpResponse<InputStream> r;
            String scheme = "https";
            try {
                boolean insecure = options.isInsecure(t.host());
                // An insecure registry may speak plain HTTP: a server that never answers a TLS hello
                // must not stall the fallback for long.
                Duration probe = insecure && options.connectTimeout().compareTo(HTTPS_PROBE) > 0 ? HTTPS_PROBE
                        : null;
                r = exchange(insecure ? noRetries(t) : t, () -> {
                    HttpRequest.Builder b = request(URI.create("https://" + t.host() + "/v2/")).GET();
                    return (probe != null ? b.timeout(probe) : b).build();
                });
            } catch (IOException e) {
                if (!options.isInsecure(t.host())) {
                    throw e;
                }
                scheme = "http";
                r = exchange(t, () -> request(URI.create("http://" + t.host() + "/v2/")).GET().build());
            }
            try (InputStream ignored = r.body()) {
                int status = r.statusCode();
                if (status == 401) {
                    hs.challenges = WwwAuthenticate.parse(r.headers().allValues("WWW-Authenticate"));
                } else if (status == 404) {
                    throw new RegistryException(describe(t) + " is not a registry: " + r.uri() + " answered 404",
                            404, null);
                } else if (status != 200) {
                    throw failure(t, r, "reach the registry API");
                }
            }
            hs.scheme = scheme;
            return hs;
        }
    }

    private static Target noRetries(Target t) {
        return new Target(t.host(), t.registry(), t.repository(), t.actions(), 0, t.mirror());
    }

    private static WwwAuthenticate.Challenge find(List<WwwAuthenticate.Challenge> cs, String scheme) {
        return cs.stream().filter(c -> c.scheme().equals(scheme)).findFirst().orElse(null);
    }

    private Optional<Credential> credentials(Target t) throws IOException {
        return options.credentials().lookup(t.registry());
    }

    /** The Authorization header for a request to t, fetching a token if the registry wants one. */
    private String authorization(Target t, HostState hs) throws IOException {
        List<WwwAuthenticate.Challenge> cs = hs.challenges;
        if (cs.isEmpty()) {
            return null;
        }
        WwwAuthenticate.Challenge bearer = find(cs, "bearer");
        if (bearer != null) {
            String key = t.host() + " " + t.scope();
            Token cached = tokens.get(key);
            if (cached != null && Instant.now().isBefore(cached.expires())) {
                return "Bearer " + cached.value();
            }
            return "Bearer " + fetchToken(t, bearer, credentials(t));
        }
        if (find(cs, "basic") != null) {
            Optional<Credential> c = credentials(t);
            return c.isPresent() && c.get().username() != null ? basic(c.get()) : null;
        }
        return null;
    }

    private static String basic(Credential c) {
        return "Basic " + Base64.getEncoder().encodeToString((c.username() + ":" + (c.password() == null ? ""
                : c.password())).getBytes(StandardCharsets.UTF_8));
    }

    /** Gets a bearer token from the challenge's realm for t's scope (anonymous if there are no credentials). */
    private String fetchToken(Target t, WwwAuthenticate.Challenge bearer, Optional<Credential> cred)
            throws IOException {
        String realm = bearer.param("realm");
        if (realm == null || realm.isEmpty()) {
            throw new RegistryException(describe(t) + " asked for a bearer token but named no realm");
        }
        String service = bearer.param("service");
        String scope = t.scope();
        StringBuilder query = new StringBuilder();
        if (service != null) {
            query.append("service=").append(URLEncoder.encode(service, StandardCharsets.UTF_8));
        }
        if (scope != null) {
            query.append(query.isEmpty() ? "" : "&").append("scope=").append(URLEncoder.encode(scope,
                    StandardCharsets.UTF_8));
        }
        URI realmUri = URI.create(realm);
        HttpRequest req;
        if (cred.isPresent() && cred.get().identityToken() != null) {
            String form = query + (query.isEmpty() ? "" : "&") + "grant_type=refresh_token&client_id=hull&refresh_token="
                    + URLEncoder.encode(cred.get().identityToken(), StandardCharsets.UTF_8);
            req = request(realmUri).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        } else {
            HttpRequest.Builder b = request(URI.create(realm + (query.isEmpty() ? "" : (realm.contains("?") ? "&" : "?")
                    + query))).GET();
            if (cred.isPresent() && cred.get().username() != null) {
                b.header("Authorization", basic(cred.get()));
            }
            req = b.build();
        }
        String realmHost = realmUri.getPort() < 0 ? realmUri.getHost() : realmUri.getHost() + ":" + realmUri.getPort();
        HttpResponse<InputStream> r = exchange(new Target(realmHost, t.registry(), null, null, t.retries(), t.mirror()),
                () -> req);
        try (InputStream in = r.body()) {
            int status = r.statusCode();
            if (status == 401 || status == 403) {
                String msg = cred.isPresent()
                        ? "authentication to " + t.registry() + " failed: bad username or password (the token server "
                                + realmHost + " answered " + status + ")"
                        : t.registry() + " requires authentication for " + (scope == null ? "access" : scope)
                                + ": log in first (hull login " + t.registry() + ")";
                throw new RegistryException(msg, status, null);
            }
            if (status != 200) {
                throw new RegistryException("token server " + realmHost + " for " + t.registry() + " answered " + status
                        + errorDetail(new String(in.readNBytes(4096), StandardCharsets.UTF_8)), status, null);
            }
            JsonNode n = JSON.readTree(in);
            String token = n.path("token").asText("");
            if (token.isEmpty()) {
                token = n.path("access_token").asText("");
            }
            if (token.isEmpty()) {
                throw new RegistryException("token server " + realmHost + " for " + t.registry() + " sent no token");
            }
            long expiresIn = n.path("expires_in").asLong(60);
            if (expiresIn < 60) {
                expiresIn = 60; // the spec's minimum
            }
            Instant issued = Instant.now();
            tokens.put(t.host() + " " + scope, new Token(token, issued.plusSeconds(expiresIn - 10)));
            return token;
        }
    }

    /** The exception for an unexpected answer; reads the registry's error document from the body. */
    private RegistryException failure(Target t, HttpResponse<InputStream> r, String what) throws IOException {
        String body;
        try (InputStream in = r.body()) {
            body = new String(in.readNBytes(8192), StandardCharsets.UTF_8);
        } catch (IOException e) {
            body = "";
        }
        int status = r.statusCode();
        String detail = errorDetail(body);
        String msg = switch (status) {
            case 401 -> {
                boolean haveCredentials = credentials(t).isPresent();
                yield describe(t) + " refused to " + what + ": authentication required (401)" + detail
                        + (haveCredentials ? "; the credentials for " + t.registry() + " were not accepted"
                                : "; no credentials for " + t.registry() + ": log in first (hull login " + t.registry()
                                        + ")");
            }
            case 403 -> describe(t) + " refused to " + what + ": access denied (403)" + detail;
            case 404 -> "cannot " + what + ": not found on " + describe(t) + " (404)" + detail;
            default -> "cannot " + what + ": " + describe(t) + " answered " + status + detail;
        };
        return new RegistryException(msg, status, null);
    }

    private static String errorDetail(String body) {
        try {
            JsonNode errors = JSON.readTree(body).path("errors");
            if (errors.isArray() && !errors.isEmpty()) {
                List<String> parts = new ArrayList<>();
                for (JsonNode e : errors) {
                    parts.add(e.path("code").asText("") + (e.path("message").asText("").isEmpty() ? ""
                            : " " + e.path("message").asText()));
                }
                return ": " + String.join("; ", parts);
            }
        } catch (IOException | RuntimeException e) {
            // not an error document
        }
        return "";
    }

    private static MessageDigest hash(Digest algorithmOf, byte[] bytes) {
        MessageDigest md = algorithmOf.newHasher();
        md.update(bytes);
        return md;
    }

    // ---------------------------------------------------------------- TLS

    private HttpClient clientFor(URI uri) throws IOException {
        String host = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
        HttpClient c = clients.get(host);
        if (c != null) {
            return c;
        }
        HttpClient built = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(options.connectTimeout())
                .sslContext(RegistryTls.context(options, host)).build();
        HttpClient raced = clients.putIfAbsent(host, built);
        if (raced != null) {
            built.close();
            return raced;
        }
        return built;
    }
}
