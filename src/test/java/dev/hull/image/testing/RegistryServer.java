package dev.hull.image.testing;

import dev.hull.image.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Assumptions;

/**
 * A real registry for tests: Debian's {@code /usr/bin/docker-registry} (distribution 2.8)
 * serving on a free 127.0.0.1 port with its own config and storage in a directory of
 * the test's. Tests are skipped (not failed) where docker-registry is not installed.
 *
 * <pre>{@code
 * try (RegistryServer r = RegistryServer.builder(tempDir).start()) {          // plain HTTP
 *     Reference ref = Reference.parse(r.host() + "/demo:1");
 * }
 * RegistryServer.builder(dir).htpasswd("alice", "secret").start();             // basic auth
 * RegistryServer.builder(dir).tls().start();   // HTTPS, self-signed cert for IP 127.0.0.1: caCertificate()
 * RegistryServer.builder(dir).tokenAuth(tokenServer).start();                  // bearer tokens
 * }</pre>
 * close() kills the registry and waits for it.
 */
public final class RegistryServer implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/docker-registry");

    private final Process process;
    private final int port;
    private final Path dir;
    private final Path storage;
    private final Path caCertificate;
    private final boolean tls;

    private RegistryServer(Process process, int port, Path dir, Path storage, Path caCertificate, boolean tls) {
        this.process = process;
        this.port = port;
        this.dir = dir;
        this.storage = storage;
        this.caCertificate = caCertificate;
        this.tls = tls;
    }

    /** A registry whose config, storage and log go under dir (created if needed). */
    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /** "127.0.0.1:PORT": the registry part of image references. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** http://127.0.0.1:PORT or https://… */
    public URI url() {
        return URI.create((tls ? "https" : "http") + "://" + host());
    }

    /** The storage root (…/docker/registry/v2/… below it). */
    public Path storage() {
        return storage;
    }

    /** Where the registry keeps blob d's bytes (overwrite it to simulate a corrupt registry). */
    public Path blobData(Digest d) {
        return storage.resolve("docker/registry/v2/blobs").resolve(d.algorithm()).resolve(d.hex().substring(0, 2))
                .resolve(d.hex()).resolve("data");
    }

    /** The TLS certificate (PEM, self-signed, for IP 127.0.0.1) when started with tls(); else null. */
    public Path caCertificate() {
        return caCertificate;
    }

    /** The registry's log so far. */
    public String log() {
        try {
            return Files.readString(dir.resolve("registry.log"));
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** A free TCP port on 127.0.0.1 (free when asked). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a command, failing with its output if it fails. */
    public static String run(Path cwd, String... command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            if (cwd != null) {
                pb.directory(cwd.toFile());
            }
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (" + p.exitValue() + "):\n" + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Makes a self-signed RSA certificate for IP 127.0.0.1: writes dir/name.crt and dir/name.key (PKCS#8 PEM). */
    public static void selfSignedCertificate(Path dir, String name, String cn) {
        run(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.resolve(name + ".key").toString(),
                "-out", dir.resolve(name + ".crt").toString());
    }

    public static final class Builder {
        private final Path dir;
        private String htpasswdUser;
        private String htpasswdPassword;
        private TokenServer token;
        private boolean tls;
        private boolean relativeUrls;

        private Builder(Path dir) {
            this.dir = dir;
        }

        /** Basic auth: one user, bcrypt htpasswd file (made with htpasswd -Bbn). */
        public Builder htpasswd(String user, String password) {
            htpasswdUser = user;
            htpasswdPassword = password;
            return this;
        }

        /** Bearer token auth with tokens from server (its certificate is the root cert bundle). */
        public Builder tokenAuth(TokenServer server) {
            token = server;
            return this;
        }

        /** HTTPS with a self-signed certificate for 127.0.0.1 (see caCertificate()). */
        public Builder tls() {
            tls = true;
            return this;
        }

        /** Relative Location headers (http.relativeurls), as needed behind a proxy. */
        public Builder relativeUrls() {
            relativeUrls = true;
            return this;
        }

        public RegistryServer start() {
            Assumptions.assumeTrue(Files.isExecutable(BINARY),
                    "docker-registry is not installed (" + BINARY + "; Debian package docker-registry)");
            try {
                Files.createDirectories(dir);
                Path storage = Files.createDirectories(dir.resolve("storage"));
                int port = freePort();
                StringBuilder cfg = new StringBuilder();
                cfg.append("version: 0.1\n");
                cfg.append("log:\n  level: info\n  accesslog:\n    disabled: false\n");
                cfg.append("storage:\n  filesystem:\n    rootdirectory: ").append(storage).append('\n');
                cfg.append("  delete:\n    enabled: true\n");
                cfg.append("  maintenance:\n    uploadpurging:\n      enabled: false\n");
                cfg.append("http:\n  addr: 127.0.0.1:").append(port).append('\n');
                cfg.append("  secret: hull-test-secret\n");
                if (relativeUrls) {
                    cfg.append("  relativeurls: true\n");
                }
                Path cert = null;
                if (tls) {
                    selfSignedCertificate(dir, "registry", "127.0.0.1");
                    cert = dir.resolve("registry.crt");
                    cfg.append("  tls:\n    certificate: ").append(cert).append("\n    key: ")
                            .append(dir.resolve("registry.key")).append('\n');
                }
                if (htpasswdUser != null) {
                    String line = run(dir, "htpasswd", "-Bbn", htpasswdUser, htpasswdPassword).trim();
                    Path file = dir.resolve("htpasswd");
                    Files.writeString(file, line + "\n");
                    cfg.append("auth:\n  htpasswd:\n    realm: hull-test\n    path: ").append(file).append('\n');
                } else if (token != null) {
                    cfg.append("auth:\n  token:\n    realm: ").append(token.realm()).append("\n    service: ")
                            .append(token.service()).append("\n    issuer: ").append(token.issuer())
                            .append("\n    rootcertbundle: ").append(token.certificate()).append('\n');
                }
                Path config = dir.resolve("config.yml");
                Files.writeString(config, cfg);
                Path log = dir.resolve("registry.log");
                Process p = new ProcessBuilder(BINARY.toString(), "serve", config.toString()).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                RegistryServer server = new RegistryServer(p, port, dir, storage, cert, tls);
                server.awaitReady();
                return server;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> errors = new ArrayList<>();
        try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(trustAll())
                .connectTimeout(Duration.ofSeconds(2)).build()) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("docker-registry exited (" + process.exitValue() + "):\n" + log());
                }
                try {
                    HttpResponse<Void> r = c.send(HttpRequest.newBuilder(url().resolve("/v2/"))
                            .timeout(Duration.ofSeconds(2)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() == 200 || r.statusCode() == 401) {
                        return;
                    }
                    errors.add("status " + r.statusCode());
                } catch (IOException e) {
                    errors.add(e.toString());
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
        throw new IllegalStateException("docker-registry did not answer on " + url() + " (last: "
                + (errors.isEmpty() ? "-" : errors.getLast()) + "):\n" + log());
    }

    static SSLContext trustAll() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509ExtendedTrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] c, String a, java.net.Socket s) {}

                @Override
                public void checkServerTrusted(X509Certificate[] c, String a, java.net.Socket s) {}

                @Override
                public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}

                @Override
                public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}

                @Override
                public void checkClientTrusted(X509Certificate[] c, String a) {}

                @Override
                public void checkServerTrusted(X509Certificate[] c, String a) {}

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, new SecureRandom());
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
