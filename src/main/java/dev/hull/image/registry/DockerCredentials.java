package dev.hull.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.Fsync;
import dev.hull.image.Reference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Credentials in a docker {@code config.json} (also podman's auth.json):
 * {@code {"auths": {"host:port": {"auth": base64("user:pass")}}}}, or
 * {@code username}/{@code password}, or {@code identitytoken}. Keys may be
 * "host", "host:port" or a URL such as "https://index.docker.io/v1/".
 * Other content of the file (credHelpers, HttpHeaders …) is kept on login/logout.
 */
public final class DockerCredentials implements CredentialsSource {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** The key docker uses for Docker Hub. */
    public static final String DOCKER_HUB_KEY = "https://index.docker.io/v1/";

    private final Path file;

    public DockerCredentials(Path file) {
        this.file = file;
    }

    /** The auth file: --authfile if given, else $REGISTRY_AUTH_FILE, else $HOME/.docker/config.json. */
    public static Path resolvePath(String authfile) {
        return resolvePath(authfile, dev.hull.runtime.Caller.environment());
    }

    public static Path resolvePath(String authfile, Map<String, String> env) {
        if (authfile != null && !authfile.isEmpty()) {
            return dev.hull.runtime.Caller.resolve(Path.of(authfile));
        }
        String fromEnv = env.get("REGISTRY_AUTH_FILE");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return dev.hull.runtime.Caller.resolve(Path.of(fromEnv));
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(home, ".docker", "config.json");
    }

    public Path file() {
        return file;
    }

    @Override
    public Optional<Credential> lookup(String registry) throws IOException {
        ObjectNode root = read();
        JsonNode auths = root.path("auths");
        if (!auths.isObject()) {
            return Optional.empty();
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!normalizeKey(e.getKey()).equals(normalizeKey(registry))) {
                continue;
            }
            JsonNode entry = e.getValue();
            String user = text(entry, "username");
            String pass = text(entry, "password");
            String auth = text(entry, "auth");
            if (auth != null && !auth.isEmpty()) {
                String decoded;
                try {
                    decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException ex) {
                    throw new IOException(file + ": the auth entry for " + e.getKey() + " is not valid base64");
                }
                int colon = decoded.indexOf(':');
                if (colon < 0) {
                    throw new IOException(file + ": the auth entry for " + e.getKey() + " is not user:password");
                }
                user = decoded.substring(0, colon);
                pass = decoded.substring(colon + 1);
            }
            String identity = text(entry, "identitytoken");
            if ((user == null || user.isEmpty()) && (identity == null || identity.isEmpty())) {
                continue;
            }
            return Optional.of(new Credential(user, pass, identity == null || identity.isEmpty() ? null : identity));
        }
        return Optional.empty();
    }

    /**
     * Checks user/password against the registry's /v2/ (through client) and, if accepted,
     * stores them (file mode 0600, written atomically).
     */
    public void login(RegistryClient client, String registry, String user, String password) throws IOException {
        String host = normalizeKey(registry);
        client.checkLogin(host, new Credential(user, password));
        ObjectNode root = read();
        ObjectNode auths = root.path("auths").isObject() ? (ObjectNode) root.get("auths") : root.putObject("auths");
        removeKeys(auths, host);
        ObjectNode entry = auths.putObject(host.equals(Reference.DOCKER_HUB) ? DOCKER_HUB_KEY : host);
        entry.put("auth", Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        write(root);
    }

    /** Removes the registry's credentials; false if there were none. */
    public boolean logout(String registry) throws IOException {
        ObjectNode root = read();
        if (!root.path("auths").isObject()) {
            return false;
        }
        boolean removed = removeKeys((ObjectNode) root.get("auths"), normalizeKey(registry));
        if (removed) {
            write(root);
        }
        return removed;
    }

    private static boolean removeKeys(ObjectNode auths, String host) {
        List<String> keys = new ArrayList<>();
        auths.fieldNames().forEachRemaining(k -> {
            if (normalizeKey(k).equals(host)) {
                keys.add(k);
            }
        });
        keys.forEach(auths::remove);
        return !keys.isEmpty();
    }

    /** "https://index.docker.io/v1/" → "docker.io"; "http://host:5000/v2" → "host:5000". */
    public static String normalizeKey(String key) {
        String k = key.trim();
        int scheme = k.indexOf("://");
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
        }
        int slash = k.indexOf('/');
        if (slash >= 0) {
            k = k.substring(0, slash);
        }
        k = k.toLowerCase(java.util.Locale.ROOT);
        return switch (k) {
            case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" -> Reference.DOCKER_HUB;
            default -> k;
        };
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private ObjectNode read() throws IOException {
        try {
            JsonNode n = JSON.readTree(Files.readAllBytes(file));
            if (n == null || n.isMissingNode()) {
                return JSON.createObjectNode();
            }
            if (!n.isObject()) {
                throw new IOException(file + " is not a JSON object");
            }
            return (ObjectNode) n;
        } catch (NoSuchFileException e) {
            return JSON.createObjectNode();
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private void write(ObjectNode root) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        // Fsync.writeAtomically creates its temporary file with mode 0600 (Files.createTempFile), then renames.
        Fsync.writeAtomically(file, JSON.writeValueAsBytes(root));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
}
