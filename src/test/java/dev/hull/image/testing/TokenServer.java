package dev.hull.image.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A docker distribution token server for tests (JDK HttpServer on 127.0.0.1):
 * {@code GET /token?service=…&scope=repository:NAME:pull,push} with basic auth
 * for the one configured user answers a JWT (RS256, x5c = its self-signed
 * certificate, which {@link RegistryServer.Builder#tokenAuth} makes the
 * registry's rootcertbundle) granting the requested actions. Wrong credentials
 * get 401. Anonymous requests get pull-only access to repositories under
 * {@code public/} and nothing else. {@link #requests()} records what was asked.
 */
public final class TokenServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One token request: the scope asked for (null if none), the user (null: anonymous), the answer. */
    public record Request(String scope, String user, int status) {}

    private final HttpServer server;
    private final String user;
    private final String password;
    private final PrivateKey key;
    private final X509Certificate cert;
    private final Path certificate;
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    private TokenServer(Path dir, String user, String password) throws Exception {
        this.user = user;
        this.password = password;
        Files.createDirectories(dir);
        RegistryServer.selfSignedCertificate(dir, "token", "hull-test-token-signer");
        certificate = dir.resolve("token.crt");
        try (InputStream in = Files.newInputStream(certificate)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        String pem = Files.readString(dir.resolve("token.key")).replaceAll("-----[A-Z ]+-----", "")
                .replaceAll("\\s", "");
        key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/token", this::handle);
        server.start();
    }

    /** Starts a token server; its certificate and key go in dir. */
    public static TokenServer start(Path dir, String user, String password) {
        try {
            return new TokenServer(dir, user, password);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    public String service() {
        return "hull-test-registry";
    }

    public String issuer() {
        return "hull-test-issuer";
    }

    /** The signing certificate (PEM): the registry's rootcertbundle. */
    public Path certificate() {
        return certificate;
    }

    /** Every token request so far. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Map<String, List<String>> query = query(ex.getRequestURI().getRawQuery());
            if ("POST".equals(ex.getRequestMethod())) {
                query.putAll(query(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            }
            String scope = query.containsKey("scope") ? String.join(" ", query.get("scope")) : null;
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            String who = null;
            if (auth != null && auth.startsWith("Basic ")) {
                String[] up = new String(Base64.getDecoder().decode(auth.substring(6)), StandardCharsets.UTF_8)
                        .split(":", 2);
                if (!up[0].equals(user) || up.length < 2 || !up[1].equals(password)) {
                    requests.add(new Request(scope, up[0], 401));
                    byte[] body = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}"
                            .getBytes(StandardCharsets.UTF_8);
                    ex.getResponseHeaders().add("Content-Type", "application/json");
                    ex.sendResponseHeaders(401, body.length);
                    ex.getResponseBody().write(body);
                    return;
                }
                who = up[0];
            }
            List<Map<String, Object>> access = new ArrayList<>();
            for (String s : query.getOrDefault("scope", List.of()).stream()
                    .flatMap(v -> java.util.Arrays.stream(v.split(" "))).toList()) {
                String[] parts = s.split(":");
                if (parts.length != 3 || !parts[0].equals("repository")) {
                    continue;
                }
                List<String> actions = new ArrayList<>(List.of(parts[2].split(",")));
                if (who == null) {
                    actions.retainAll(List.of("pull"));
                    if (!parts[1].startsWith("public/")) {
                        actions.clear();
                    }
                }
                access.add(Map.of("type", "repository", "name", parts[1], "actions", actions));
            }
            requests.add(new Request(scope, who, 200));
            String jwt = jwt(who == null ? "" : who, access);
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("token", jwt);
            answer.put("access_token", jwt);
            answer.put("expires_in", 300);
            answer.put("issued_at", java.time.Instant.now().toString());
            byte[] body = JSON.writeValueAsBytes(answer);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private String jwt(String subject, List<Map<String, Object>> access) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("alg", "RS256");
        header.put("typ", "JWT");
        header.put("x5c", List.of(Base64.getEncoder().encodeToString(cert.getEncoded())));
        long now = System.currentTimeMillis() / 1000;
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", issuer());
        claims.put("sub", subject);
        claims.put("aud", service());
        claims.put("exp", now + 300);
        claims.put("nbf", now - 10);
        claims.put("iat", now);
        claims.put("jti", UUID.randomUUID().toString());
        claims.put("access", access);
        String signingInput = b64.encodeToString(JSON.writeValueAsBytes(header)) + "."
                + b64.encodeToString(JSON.writeValueAsBytes(claims));
        Signature sig = Signature.getInstance("SHA256withRSA");
        sig.initSign(key);
        sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + b64.encodeToString(sig.sign());
    }

    private static Map<String, List<String>> query(String raw) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return out;
    }
}
